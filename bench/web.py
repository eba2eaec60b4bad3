"""Web: requests/s of a bare route (``/``, a redirect to the login page) through waitress.

Three servers in the same run, one after the other, each asked the same N requests over
one keep-alive connection: a raw WSGI app that only answers (the limit), our app with
its pooled connections, and our app with a new connection per request (as before the
pool). ``BENCH_DATABASE_URL`` (postgresql://…) measures against PostgreSQL.
"""
from __future__ import annotations

import http.client
import os
import threading
import time
from pathlib import Path

N = 1000


def _raw(environ, start_response):
    start_response("302 FOUND", [("Location", "/login"), ("Content-Length", "0")])
    return [b""]


def _rate(app) -> float:
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
        for _ in range(50):  # warm up (templates, the first connection)
            _get(conn)
        start = time.perf_counter()
        for _ in range(N):
            _get(conn)
        rate = N / (time.perf_counter() - start)
        conn.close()
        time.sleep(0.2)  # let the server see the client go before it closes itself
        return rate
    finally:
        server.close()
        thread.join(timeout=5)


def _get(conn) -> None:
    conn.request("GET", "/")
    response = conn.getresponse()
    response.read()
    assert response.status == 302, response.status


def run(tmp: Path) -> str:
    from playhouse.db_url import connect as connect_url

    from webapp import create_app
    from webapp.config import load_settings
    from webapp.db import SQLITE_PRAGMAS, database, migrate

    environ = {"STREAMDESK_INSTANCE": str(tmp / "web"), "SANDBOX": "1"}
    if os.environ.get("BENCH_DATABASE_URL"):
        environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    settings = load_settings(environ)
    app = create_app(settings)
    pooled = app.extensions["streamdesk.db"]
    with pooled.connection_context():
        migrate(pooled)

    raw = _rate(_raw)
    ours = _rate(app)
    # The same app on a connection opened and closed by every request.
    url = settings.database_url
    if url.startswith("sqlite:"):
        database.initialize(connect_url(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE"))
    else:
        database.initialize(connect_url(url))
    unpooled = _rate(app)
    database.initialize(pooled)
    pooled.close_all()
    engine = "sqlite" if url.startswith("sqlite:") else "postgresql"
    return (f"web ({engine}): ours {ours:,.0f} req/s — ratio {ours / raw:.2f} of raw waitress {raw:,.0f} req/s "
            f"(a connection per request, as before the pool: {unpooled:,.0f} req/s, ratio {unpooled / raw:.2f})")
