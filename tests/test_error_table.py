"""Errors told apart before anything expires: every row of each plugin's error table,
forced through its emulator's control API, then a real crawl, and the stream's outcome.

Facebook's table is ``plugins.facebook.graph_errors.GRAPH_ERRORS``, X's is
``plugins.twitter.client.X_ERRORS``; docs/plugins.md shows both (checked here too).
"""
from __future__ import annotations

import datetime
import html as htmllib
import logging
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from consent import press
from test_streams import BUTTON, add, connect, runtime

from emulators.facebook.errors import forced
from plugins.facebook import graph_errors, usage
from plugins.twitter import client as x_client
from streamdesk_contract.hookspecs import hookimpl
from streamdesk_contract.values import Credentials, Service
from webapp.crawl import crawl
from webapp.models import ConnectedProfile, Stream, Topic, utcnow
from factories import new_stream

FB_PAGE = "104729384756102"  # Bluebird Coffee, administered by the emulator's first person
DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


@pytest.fixture(autouse=True)
def forget_limits():
    """Rate-limit readings live in the process: no test may inherit another's."""
    usage.forget()
    x_client.RATES.clear()
    yield
    usage.forget()
    x_client.RATES.clear()


# --- what each behaviour looks like after a crawl ------------------------------------------
def expired(outcome, stream, smtp_server, admin, says):
    assert outcome == "expired" and stream.status == "expired"
    assert says in stream.status_message
    assert [m.recipients for m in smtp_server.messages] == [[admin.email]]  # one e-mail, to the admin


def not_expired(outcome, stream, smtp_server):
    assert outcome != "expired" and stream.status != "expired"
    assert stream.next_crawl_at is not None and stream.next_crawl_at > utcnow()  # rescheduled
    assert smtp_server.messages == []


def transient(outcome, stream, smtp_server, says):
    not_expired(outcome, stream, smtp_server)
    assert outcome == "error" and says in stream.status_message


def rate_limited(outcome, stream, smtp_server, at_least):
    not_expired(outcome, stream, smtp_server)
    assert outcome == "rate limited" and stream.status in ("queued", "active")
    assert "rate limit until" in stream.status_message and "Waiting for" in stream.status_message
    assert stream.next_crawl_at >= utcnow() + datetime.timedelta(seconds=at_least - 5)


def permission(outcome, stream, smtp_server, client, topic, name, label, grantable=True):
    not_expired(outcome, stream, smtp_server)
    assert outcome == "permission" and stream.status == "permission" and stream.missing_permission == name
    page = client.get(f"/account/topics/{topic.id}").get_data(as_text=True)
    assert f"Permission missing: {htmllib.escape(label)}" in page
    link = (f'href="/personal/connected-profiles/{stream.service}/connect?grant={name}'
            f'&amp;next=/account/topics/{topic.id}"')
    assert (link in page) == grantable, page
    assert ("Grant it" in page) == grantable


# --- Facebook ------------------------------------------------------------------------------
@pytest.fixture
def fb_stream(admin_client, emulator, topic):
    connect(admin_client, "facebook")
    add(admin_client, topic, "facebook", "owned", FB_PAGE)
    return Stream.get()


def fb_crawl(environ, smtp_server, emulator, **fault):
    emulator("facebook", "POST", "/faults", kind="error", count=fault.pop("count", 3), **fault)
    rt = runtime(environ, SMTP_URL=smtp_server.url)
    outcome = crawl(rt, Stream.get())
    return outcome, Stream.get()


#: One case per row of GRAPH_ERRORS (and its fallback): (id, forced error, expectation).
FB_CASES = [
    ("190-458", dict(code=190, subcode=458), ("expired", "Business integrations")),
    ("190-459", dict(code=190, subcode=459), ("expired", "log in on facebook.com")),
    ("190-460", dict(code=190, subcode=460), ("expired", "password was changed")),
    ("190-463", dict(code=190, subcode=463), ("expired", "access token has expired")),
    ("190-464", dict(code=190, subcode=464), ("expired", "not confirmed")),
    ("190-467", dict(code=190, subcode=467), ("expired", "logged out or invalidated")),
    ("190-492", dict(code=190, subcode=492), ("expired", "no longer has a role")),
    ("190-unparsable", dict(code=190, message="Invalid OAuth access token - Cannot parse access token"),
     ("expired", "no longer valid. Reconnect")),
    ("190-page-token-required", dict(code=190, message="(#190) This method must be called with a Page Access Token"),
     ("bug", "wrong kind of token")),
    ("368-1390008", dict(code=368, subcode=1390008, message="(#368) The action attempted has been deemed abusive "
                                                           "or is otherwise disallowed"), ("rate", 3600)),
    ("4", dict(code=4), ("rate", 600)),
    ("17", dict(code=17), ("rate", 600)),
    ("32", dict(code=32), ("rate", 900)),
    ("613", dict(code=613), ("rate", 60)),
    ("80001", dict(code=80001, message="(#80001) There have been too many calls to this Page account."),
     ("rate", 600)),
    ("http-429", dict(code=9999, status=429, message="Too many requests"), ("rate", 600)),
    ("341", dict(code=341), ("transient", "temporary problem")),
    ("10-2018278", dict(code=10, subcode=2018278, message="(#10) This message is sent outside of allowed window."),
     ("transient", "within 24 hours")),
    ("10", dict(code=10, message="(#10) This endpoint requires the 'pages_read_user_content' permission or the "
                                 "'Page Public Content Access' feature."),
     ("permission", "pages_read_user_content", "Read user content on your Page")),
    ("200", dict(code=200, message="(#200) Requires pages_manage_metadata permission to manage the object"),
     ("permission", "pages_manage_metadata", "Manage accounts, settings and webhooks for a Page")),
    ("299", dict(code=299, message="(#299) Requires read_insights permission"),
     ("permission", "read_insights", "Read Page insights")),
    ("100-33", dict(code=100, subcode=33, message="Unsupported get request. Object with ID '1' does not exist"),
     ("transient", "no longer exists")),
    ("803", dict(code=803, message="(#803) Some of the aliases you requested do not exist: nobody"),
     ("transient", "no longer exists")),
    ("http-404", dict(code=9999, status=404, message="Unknown path"), ("transient", "no longer exists")),
    ("506", dict(code=506, message="(#506) Duplicate status message"), ("transient", "identical to a recent one")),
    ("368", dict(code=368, message="(#368) The action attempted has been deemed abusive"),
     ("transient", "community standards")),
    ("1-reduce-data", dict(code=1, count=1, status=500,
                           message="Please reduce the amount of data you're asking for, then retry your request"),
     ("active",)),
    ("1", dict(code=1), ("transient", "temporary problem")),
    ("2", dict(code=2), ("transient", "temporary problem")),
    ("http-503", dict(code=9999, status=503, message="Service temporarily unavailable"),
     ("transient", "temporary problem")),
    ("fallback-100", dict(code=100, message="(#100) Tried accessing nonexisting field (x) on node type (Page)"),
     ("transient", "refused the request")),
]


def fb_envelope(case: dict) -> tuple[int, dict]:
    """The envelope the emulator answers for a case (the same function serves it)."""
    error = forced(case["code"], case.get("subcode"), case.get("message"), case.get("status"))
    return error.status, error.body()["error"]


def test_every_graph_row_has_a_case():
    hit = [graph_errors.row_for(*fb_envelope(case))[0] for _id, case, _expect in FB_CASES]
    # Every row at least once; rows of several codes (17/32/613…, 1/2) once per code.
    assert set(hit) == {*graph_errors.GRAPH_ERRORS, graph_errors.FALLBACK}


@pytest.mark.parametrize("case, expect", [pytest.param(c, e, id=i) for i, c, e in FB_CASES])
def test_graph_error_row(admin_client, admin, emulator, topic, fb_stream, environ, smtp_server, caplog,
                         case, expect):
    caplog.set_level(logging.ERROR, logger="plugins.facebook.graph_errors")
    outcome, stream = fb_crawl(environ, smtp_server, emulator, **dict(case))
    kind = expect[0]
    if kind == "expired":
        expired(outcome, stream, smtp_server, admin, expect[1])
    elif kind == "permission":
        permission(outcome, stream, smtp_server, admin_client, topic, expect[1], expect[2])
    elif kind == "rate":
        rate_limited(outcome, stream, smtp_server, expect[1])
    elif kind == "transient":
        transient(outcome, stream, smtp_server, expect[1])
    elif kind == "bug":
        transient(outcome, stream, smtp_server, expect[1])
        assert "plugin bug" in caplog.text  # logged as a bug, never an expiry
    else:  # retried at once with smaller pages: the crawl completes
        assert outcome == "active" and stream.status == "active" and smtp_server.messages == []
    if kind != "bug":
        assert "plugin bug" not in caplog.text


def test_graph_html_5xx_is_transient(admin_client, emulator, fb_stream, environ, smtp_server):
    emulator("facebook", "POST", "/faults", kind="server", status=502, count=3)
    outcome = crawl(runtime(environ, SMTP_URL=smtp_server.url), Stream.get())
    transient(outcome, Stream.get(), smtp_server, "HTTP 502")


def test_grant_link_asks_facebook_for_the_missing_permission_only(admin_client, emulator, topic, fb_stream,
                                                                   environ, smtp_server):
    person = emulator("facebook", "GET", "/seed")["people"][0]["id"]
    emulator("facebook", "POST", "/permissions/revoke", user_id=person, permission="pages_read_user_content")
    outcome = crawl(runtime(environ, SMTP_URL=smtp_server.url), Stream.get())
    permission(outcome, Stream.get(), smtp_server, admin_client, topic, "pages_read_user_content",
               "Read user content on your Page")
    response = admin_client.get(f"/personal/connected-profiles/facebook/connect?grant=pages_read_user_content"
                                f"&next=/account/topics/{topic.id}")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["scope"] == ["pages_read_user_content"] and query["auth_type"] == ["rerequest"]
    import requests

    consent = requests.get(response.headers["Location"], timeout=10).text
    boxes = re.findall(r'name="permissions" value="([a-z_]+)"', consent)
    assert boxes == ["public_profile", "pages_read_user_content"]  # only the re-asked one (and the profile)
    callback = urlsplit(press(response.headers["Location"], BUTTON["facebook"]))
    response = admin_client.get(f"{callback.path}?{callback.query}")
    assert response.headers["Location"] == f"/account/topics/{topic.id}"
    assert Stream.get().status == "queued"  # queued again at once, without waiting for its retry
    assert crawl(runtime(environ), Stream.get()) == "active"
    assert "pages_read_user_content" in ConnectedProfile.get().granted


def test_facebook_dialog_asks_again_for_a_declined_permission_only_with_rerequest(emulator, emulator_urls):
    import requests

    from conftest import TEST_PUBLIC_URL
    from emulators.facebook import sandbox_config
    from webapp.sandbox import callback_url

    config = sandbox_config(emulator_urls["facebook"])
    redirect_uri = callback_url(TEST_PUBLIC_URL, "facebook")

    def granted_after(untick=(), **extra) -> dict:
        query = {"client_id": config.client_id, "redirect_uri": redirect_uri, "state": "s",
                 "scope": "pages_messaging", **extra}
        back = press(f"{config.auth_url}/dialog/oauth?{urlencode(query)}", "Continue", untick=untick)
        code = parse_qs(urlsplit(back).query)["code"][0]
        token = requests.get(f"{config.api_url}/oauth/access_token", timeout=10, params={
            "client_id": config.client_id, "client_secret": config.client_secret, "redirect_uri": redirect_uri,
            "code": code}).json()["access_token"]
        rows = requests.get(f"{config.api_url}/me/permissions", params={"access_token": token}, timeout=10).json()
        return {row["permission"]: row["status"] for row in rows["data"]}

    assert granted_after(untick=("pages_messaging",))["pages_messaging"] == "declined"
    assert granted_after()["pages_messaging"] == "declined"  # not asked again without rerequest
    assert granted_after(auth_type="rerequest")["pages_messaging"] == "granted"


def test_grant_link_for_an_unknown_permission_is_a_message(admin_client, emulator):
    response = admin_client.get("/personal/connected-profiles/facebook/connect?grant=<script>x")
    assert response.status_code == 400
    assert "no permission called “&lt;script&gt;x”" in response.get_data(as_text=True)


# --- X -------------------------------------------------------------------------------------
TIMELINE = "GET /2/users/:id/tweets"


@pytest.fixture
def x_owner(admin_client, emulator, topic):
    connect(admin_client, "twitter")
    owner = emulator("twitter", "GET", "")["owner"]
    add(admin_client, topic, "twitter", "owned", owner["id"])
    return owner


def x_crawl(environ, smtp_server):
    outcome = crawl(runtime(environ, SMTP_URL=smtp_server.url), Stream.get())
    return outcome, Stream.get()


def x_public(admin_client, emulator, topic):
    rival = next(u["id"] for u in emulator("twitter", "GET", "")["users"] if u["username"] == "rivalroasters")
    add(admin_client, topic, "twitter", "public", rival, q="@rivalroasters")


#: One case per row of X_ERRORS that a crawl can meet: (id, how it is forced, expectation).
X_CASES = [
    ("401-person", "owned", ("/fail", dict(status=401, endpoint=TIMELINE, count=2)), ("expired", "no longer accepts")),
    ("401-app-token", "public", ("/fail", dict(status=401, endpoint=TIMELINE, count=2)),
     ("transient", "TWITTER_APP_TOKEN")),
    ("429", "owned", ("/fail", dict(status=429, endpoint=TIMELINE, daily=False)), ("rate", 1)),
    ("403-client-forbidden", "owned", ("/access", dict(endpoint=TIMELINE, refused="client-forbidden")),
     ("permission", "app access level", "app access level", False)),
    ("403-unsupported-authentication", "owned",
     ("/access", dict(endpoint=TIMELINE, refused="unsupported-authentication")),
     ("permission", "user context", "user context", False)),
    ("403-missing-scope", "owned", ("/fail", dict(status=403, endpoint=TIMELINE)),
     ("permission", "tweet.read", "Read posts", True)),
    ("500", "owned", ("/fail", dict(status=500, endpoint=TIMELINE)), ("transient", "HTTP 500")),
    ("502", "owned", ("/fail", dict(status=502, endpoint=TIMELINE)), ("transient", "HTTP 502")),
    ("503", "owned", ("/fail", dict(status=503, endpoint=TIMELINE)), ("transient", "HTTP 503")),
    ("504", "owned", ("/fail", dict(status=504, endpoint=TIMELINE)), ("transient", "HTTP 504")),
]


@pytest.mark.parametrize("kind, force, expect", [pytest.param(k, f, e, id=i) for i, k, f, e in X_CASES])
def test_x_error_row(admin_client, admin, emulator, topic, environ, smtp_server, kind, force, expect):
    if kind == "owned":
        connect(admin_client, "twitter")
        add(admin_client, topic, "twitter", "owned", emulator("twitter", "GET", "")["owner"]["id"])
    else:
        x_public(admin_client, emulator, topic)
    path, body = force
    emulator("twitter", "POST", path, **body)
    outcome, stream = x_crawl(environ, smtp_server)
    if expect[0] == "expired":
        expired(outcome, stream, smtp_server, admin, expect[1])
    elif expect[0] == "transient":
        transient(outcome, stream, smtp_server, expect[1])
    elif expect[0] == "rate":
        rate_limited(outcome, stream, smtp_server, expect[1])
    else:
        permission(outcome, stream, smtp_server, admin_client, topic, expect[1], expect[2], grantable=expect[3])


def test_x_rows_a_crawl_cannot_meet_are_classified_as_documented():
    """403 duplicate / deleted, 404 and 400 come from writes and lookups, which a crawl
    does not make; the table still decides them (checked through the same code path)."""
    import requests

    def answer(status, body):
        response = requests.Response()
        response.status_code = status
        response._content = __import__("json").dumps(body).encode()
        return response

    client = x_client.XClient(x_client.ServiceConfig(api_url="http://x.invalid"), "token")
    cases = {
        "403, “duplicate content”": answer(403, {"detail": "You are not allowed to create a Tweet with duplicate content."}),
        "403, “deleted or not visible”": answer(403, {"detail": "You attempted to reply to a Tweet that is deleted or not visible to you."}),
        "404": answer(404, {"detail": "Not Found"}),
        "400": answer(400, {"errors": [{"message": "bad max_results"}]}),
    }
    for match, response in cases.items():
        failure = x_client.XFailure(response.status_code, response.json(), response.json().get("detail", ""), "",
                                    None, True, False, {})
        assert x_client.row_for(failure).match == match
        assert client.error(response, None).message


def test_x_grant_link_asks_for_the_full_set(admin_client, emulator, topic, x_owner, environ, smtp_server):
    emulator("twitter", "POST", "/fail", status=403, endpoint=TIMELINE)
    assert x_crawl(environ, smtp_server)[0] == "permission"
    response = admin_client.get(f"/personal/connected-profiles/twitter/connect?grant=tweet.read"
                                f"&next=/account/topics/{topic.id}")
    assert response.status_code == 302
    scopes = parse_qs(urlsplit(response.headers["Location"]).query)["scope"][0].split()
    from plugins.twitter.link import SCOPES

    assert scopes == list(SCOPES)  # X cannot add one scope to a grant: all of them again
    callback = urlsplit(press(response.headers["Location"], BUTTON["twitter"]))
    admin_client.get(f"{callback.path}?{callback.query}")
    assert Stream.get().status == "queued"
    assert crawl(runtime(environ), Stream.get()) == "active"


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one(admin_client, emulator, topic, x_owner, environ,
                                                                 smtp_server):
    emulator("twitter", "POST", "/tokens/rotation", rotate=False)
    emulator("twitter", "POST", "/tokens/expire", user=x_owner["id"])
    before = ConnectedProfile.get()
    assert crawl(runtime(environ), Stream.get()) == "active"  # refreshed, then crawled
    after = ConnectedProfile.get()
    assert after.access_token != before.access_token
    assert after.refresh_token == before.refresh_token  # none came back: the old one is kept
    # …and it still works: the next refresh uses it.
    emulator("twitter", "POST", "/tokens/expire", user=x_owner["id"])
    assert crawl(runtime(environ), Stream.get()) == "active"
    assert ConnectedProfile.get().access_token != after.access_token


# --- the tables as documented --------------------------------------------------------------
@pytest.mark.parametrize("table", [graph_errors.table_markdown, x_client.table_markdown], ids=["facebook", "x"])
def test_docs_show_the_table_the_code_reads(table):
    assert table() in DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("service, path, body, says", [
    ("facebook", "/faults", {"kind": "error"}, "an error fault needs a code"),
    ("facebook", "/faults", {"kind": "error", "code": 190, "subcode": "x"}, "are numbers"),
    ("facebook", "/faults", {"kind": "error", "code": 10, "message": 5}, "message is a string"),
    ("twitter", "/fail", {"status": 418}, "status must be 401, 403, 429 or 5xx"),
    ("twitter", "/fail", {"status": "x"}, "are numbers"),
    ("twitter", "/tokens/rotation", {"rotate": "no"}, "rotate must be true or false"),
], ids=["fb-no-code", "fb-bad-subcode", "fb-bad-message", "x-bad-status", "x-status-not-number", "x-bad-rotate"])
def test_control_calls_refuse_bad_input_readably(emulator, emulator_urls, service, path, body, says):
    import requests

    response = requests.post(f"{emulator_urls[service]}/_control{path}", json=body, timeout=10)
    assert response.status_code == 400 and says in response.json()["error"]


class NoRotation:
    """A provider whose refresh answers carry no refresh token (the plugin passes that on)."""

    @hookimpl
    def streamdesk_services(self):
        return Service(name="norotation", label="No rotation")

    @hookimpl
    def streamdesk_refresh(self, service, config, credentials):
        if service != "norotation":
            return None
        return Credentials("new-access", None, utcnow() + datetime.timedelta(hours=2), ())

    @hookimpl
    def streamdesk_crawl(self, service, config, stream, credentials, cursor):
        if service != "norotation":
            return None
        assert credentials.access_token == "new-access"
        return []


def test_the_core_keeps_the_refresh_token_when_the_plugin_returns_none(account, environ):
    """The core's own guard, apart from authlib's (which already keeps it for X)."""
    from webapp.config import load_settings
    from webapp.plugins import Plugins
    from webapp.streams import Runtime

    stream = new_stream(Topic.create(account=account, name="T"), service="norotation", page_id="p",
                           name="P", access_token="old-access", refresh_token="keep-me",
                           expires_at=utcnow() - datetime.timedelta(minutes=1))
    rt = Runtime(load_settings(environ), Plugins(extra=[NoRotation()]))
    assert crawl(rt, Stream.get_by_id(stream.id)) == "active"
    stored = Stream.get_by_id(stream.id)
    assert stored.access_token == "new-access" and stored.refresh_token == "keep-me"
