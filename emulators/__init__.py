"""Local, protocol-faithful stand-ins for the provider APIs (tests and sandbox mode).

Each emulator is a small WSGI app (``emulators.<service>.create_app()``) that speaks
the subset of the provider's real API our plugin uses, with the real paths, JSON
shapes, paging, error bodies and rate-limit headers, plus a control API for tests.
"""
from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass

from werkzeug.serving import WSGIRequestHandler, make_server

#: Service name → module providing ``create_app(base_url: str)``.
EMULATORS = {
    "facebook": "emulators.facebook",
    "twitter": "emulators.twitter",
}


def create_app(service: str, base_url: str, redirect_uris=()):
    """The WSGI app emulating ``service``; ``base_url`` is where it is reachable and
    ``redirect_uris`` the OAuth callback URLs registered for its app (the provider
    refuses any other, as the real one does)."""
    if service not in EMULATORS:
        raise LookupError(f"no emulator for {service!r}: choose from {', '.join(EMULATORS)}")
    return importlib.import_module(EMULATORS[service]).create_app(base_url=base_url,
                                                                   redirect_uris=tuple(redirect_uris))


@dataclass
class RunningEmulator:
    """An emulator serving on a local port in a background thread."""

    service: str
    url: str
    server: object
    thread: threading.Thread
    app: object

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


#: The app config key under which an emulator may give its clock (unix seconds): the
#: ``Date`` header of every answer then shows the emulated time, as a provider's shows its own.
CLOCK = "EMULATOR_CLOCK"


class _Handler(WSGIRequestHandler):
    """Werkzeug's handler, with the ``Date`` header taken from the emulator's clock."""

    def date_time_string(self, timestamp=None):
        clock = self.server.app.config.get(CLOCK) if timestamp is None else None
        return super().date_time_string(clock() if clock else timestamp)


def start(service: str, host: str = "127.0.0.1", port: int = 0, redirect_uris=()) -> RunningEmulator:
    """Serve the emulator of ``service`` in a thread (port 0: any free port), with
    ``redirect_uris`` registered as its app's OAuth callback URLs."""
    server = make_server(host, port, None, threaded=True, request_handler=_Handler)
    url = f"http://{host}:{server.server_port}"
    app = create_app(service, url, redirect_uris)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, name=f"emulator-{service}", daemon=True)
    thread.start()
    return RunningEmulator(service, url, server, thread, app)
