"""Defence in depth: what the browser is told (CSP, htmx configuration), what the access
log keeps of OAuth codes, and who may read the SQLite file."""
from __future__ import annotations

import html
import json
import re
from factories import new_stream


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_forms_post_only_to_streamdesk_and_no_base_url(client):
    csp = directives(client.get("/login"))
    assert csp["form-action"] == ["'self'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in str(csp) and "'unsafe-inline'" not in str(csp)


def test_htmx_evaluates_nothing_from_pages(client):
    page = client.get("/login").get_data(as_text=True)
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)
    config = json.loads(html.unescape(meta.group(1)))
    assert config["allowEval"] is False and config["allowScriptTags"] is False


def test_containers_of_crawled_content_disable_htmx(admin_client, account):
    import datetime

    from webapp.models import Comment, Topic

    stream = new_stream(Topic.create(account=account, name="Brand"), service="facebook", page_id="1",
                           name="Page", status="active")
    Comment.create(stream=stream, external_id="c", story_external_id="s", created_at=datetime.datetime(2026, 1, 1),
                   text="hello")
    page = admin_client.get("/inbox").get_data(as_text=True)
    assert '<ul class="inbox-list" hx-disable>' in page


def test_oauth_codes_are_masked_in_the_access_log(environ, tmp_path):
    import requests
    from stack import Run

    run = Run(environ, tmp_path)
    try:
        run.wait_for("Streamdesk is running on")
        query = "code=AQDsecret-code_123&state=st4te.Secret&error_description=kept"
        requests.get(f"{run.url}/personal/connected-profiles/facebook/callback?{query}", timeout=10,
                     allow_redirects=False)
        line = run.wait_for(r"GET /personal/connected-profiles/facebook/callback\S*").group(0)
    finally:
        run.interrupt()
    assert line.endswith("?code=***&state=***&error_description=kept"), line
    printed = "".join(run.output)
    assert "AQDsecret" not in printed and "st4te" not in printed


def test_sqlite_file_and_its_journal_are_private(tmp_path):
    import os
    import stat

    from webapp.db import migrate, open_database

    previous = os.umask(0o022)  # the usual default: files readable by everyone
    try:
        db = open_database(f"sqlite:///{tmp_path / 'streamdesk.db'}")
        with db.connection_context():
            migrate(db)  # as the app opens it: migrating puts the file in WAL mode for good
            db.execute_sql("CREATE TABLE t (x)")
            db.execute_sql("INSERT INTO t VALUES (1)")
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
    finally:
        os.umask(previous)
    assert set(modes) >= {"streamdesk.db", "streamdesk.db-wal", "streamdesk.db-shm"}, modes
    assert set(modes.values()) == {0o600}, {name: oct(mode) for name, mode in modes.items()}
