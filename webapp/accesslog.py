"""The access log: one line per request, in werkzeug's format, OAuth codes masked.

Waitress writes no access log of its own. A 20-line WSGI wrapper keeps the lines people
(and tests/stack.py) already read — ``127.0.0.1 - - [date] "GET /path HTTP/1.1" 200 512``
— without a second dependency, and sends each through MaskOAuthCodes.
"""
from __future__ import annotations

import logging
import re
import sys
import time

log = logging.getLogger("streamdesk.access")


class MaskOAuthCodes(logging.Filter):
    """Replace the values of OAuth ``code`` and ``state`` in the access log with ``***``.

    The callback URL carries a code that is worth a token until it is used or expires;
    the log is read by more people, and kept longer, than the code lives.
    """

    PARAMETER = re.compile(r"([?&;](?:code|state)=)[^&;\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.PARAMETER.sub(r"\1***", message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def enable(stream=sys.stderr) -> None:
    """Print the access log on ``stream`` (once, however often called), codes masked."""
    if not log.handlers:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.addFilter(MaskOAuthCodes())
    log.setLevel(logging.INFO)
    log.propagate = False


class AccessLog:
    """WSGI middleware: logs each request when its status is known.

    It logs from ``start_response`` rather than after the body so that the response
    iterable (and the server's file wrapper for static files) passes through untouched.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        def logging_start_response(status, headers, exc_info=None):
            size = next((v for k, v in headers if k.lower() == "content-length"), "-")
            _line(environ, status.split(" ", 1)[0], size)
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, logging_start_response)
        except Exception:
            _line(environ, "500", "-")  # the server answers 500 for an app that raised
            raise


def _line(environ, code: str, size: str) -> None:
    # Read after the app ran: a trusted ProxyFix has put the client's address in place.
    uri = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    request = f"{environ.get('REQUEST_METHOD', '-')} {uri} {environ.get('SERVER_PROTOCOL', '-')}"
    log.info('%s - - [%s] "%s" %s %s', environ.get("REMOTE_ADDR", "-"),
             time.strftime("%d/%b/%Y %H:%M:%S"), request, code, size)
