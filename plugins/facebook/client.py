"""A small Graph API client: one per hook call.

Every URL is built from ``config.api_url`` (``https://graph.facebook.com`` in
production, the emulator in sandbox mode) with the pinned version (:mod:`.versions`). Each call sends the token in the
``Authorization`` header — never in the URL, where proxies and request logs would keep
it — with its ``appsecret_proof`` (required when the app enables "Require App Secret"),
reads the usage headers, and turns failures into :mod:`streamdesk_contract.errors` types. Paging
links are followed only on the API's own origin, so a token is never sent elsewhere.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import time
from email.utils import parsedate_to_datetime
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import requests

from streamdesk_contract.errors import ProviderUnavailable
from streamdesk_contract.values import ServiceConfig

from . import usage
from .convert import items, next_link
from .graph_errors import PostingTooFast, from_envelope
from .guard import MALFORMED_MESSAGE
from .versions import PINNED, versioned

log = logging.getLogger(__name__)

#: (connect, read) seconds: Graph answers big feed pages in a few seconds.
TIMEOUT = (5, 40)
STRIPPED = {"access_token", "appsecret_proof"}


def app_token(config: ServiceConfig) -> str:
    """The app access token: the configured one, else ``{app-id}|{app-secret}``, which
    Graph accepts as an app token without a request."""
    return config.app_token or f"{config.client_id}|{config.client_secret}"


def answered_at(headers) -> float | None:
    """The unix time of an answer's ``Date`` header (None when absent or unreadable)."""
    try:
        return parsedate_to_datetime(headers.get("Date") or "").timestamp()
    except (TypeError, ValueError, IndexError):
        return None


class GraphClient:
    """Calls the Graph API with one token; ``bucket`` names whose quota the calls use
    ("app" for app and user tokens, the page id for page tokens)."""

    def __init__(self, config: ServiceConfig, token: str | None = None, *, bucket: str = "app",
                 session: requests.Session | None = None):
        self.config = config
        self.base = versioned(config.api_url)
        self.token = token or app_token(config)
        self.bucket = bucket
        self.session = session or requests.Session()
        self.calls = 0
        self.provider_time: float | None = None  # the Date of Graph's last answer

    def now(self) -> int:
        """The time on Facebook's clock (unix seconds): the ``Date`` of its last answer,
        else ours. Posts' times are on that clock, so ages measured with it do not
        depend on this machine's."""
        return int(self.provider_time if self.provider_time is not None else time.time())

    # --- public API --------------------------------------------------------------------
    def get(self, path: str, params: dict | None = None, *, needs: tuple[str, ...] = ()) -> dict:
        """``GET {api_url}/{path}``; ``needs`` names the permissions the call relies on
        (used to name the missing one when Graph refuses)."""
        return self._call("GET", self._url(path), params or {}, needs)

    def post(self, path: str, data: dict | None = None, *, needs: tuple[str, ...] = ()) -> dict:
        """``POST {api_url}/{path}`` with form ``data``."""
        return self._call("POST", self._url(path), data or {}, needs)

    def delete(self, path: str, *, needs: tuple[str, ...] = ()) -> dict:
        """``DELETE {api_url}/{path}``."""
        return self._call("DELETE", self._url(path), {}, needs)

    def follow(self, link: str, overrides: dict | None = None, *, needs: tuple[str, ...] = ()) -> dict:
        """Follow a paging link Graph returned, with our own token (and ``overrides``)."""
        parts = urlsplit(link)
        base = urlsplit(self.base)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            raise ProviderUnavailable("Facebook returned a paging link to another host; refusing to follow it.")
        params = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in STRIPPED}
        params.update(overrides or {})
        return self._call("GET", f"{parts.scheme}://{parts.netloc}{parts.path}", params, needs)

    def pages(self, path: str, params: dict, *, needs: tuple[str, ...] = ()) -> Iterator[dict]:
        """Every page of a list edge, fetched one by one as they are consumed."""
        body = self.get(path, params, needs=needs)
        while True:
            yield body
            link = next_link(body)
            if not link or not items(body):
                return
            body = self.follow(link, needs=needs)

    # --- internals ---------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def _proof(self) -> str:
        return hmac.new(self.config.client_secret.encode(), self.token.encode(), hashlib.sha256).hexdigest()

    def _call(self, method: str, url: str, params: dict, needs: tuple[str, ...]) -> dict:
        usage.before_call(self.base, self.bucket)
        payload = {**params, "appsecret_proof": self._proof()}
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            if method == "GET":
                response = self.session.get(url, params=payload, headers=headers, timeout=TIMEOUT)
            else:
                response = self.session.request(method, url, data=payload, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"Could not reach Facebook: {exc.__class__.__name__}.") from None
        finally:
            self.calls += 1
        readings = usage.record(self.base, response.headers)
        self.provider_time = answered_at(response.headers) or self.provider_time
        served = response.headers.get("facebook-api-version")
        if served and served != PINNED:
            # Graph serves an expired version's calls with the oldest live one, silently.
            log.warning("Graph API %s was asked but %s answered: the pinned version has expired", PINNED, served)
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            regain = max((r.regain_seconds for r in readings.values()), default=0.0)
            error = from_envelope(response.status_code, body["error"], needs, regain)
            retry_after = getattr(error, "retry_after", None)
            # A posting block stops posting only: reads on the same quota go on.
            if retry_after and not isinstance(error, PostingTooFast):
                usage.block(self.base, self.bucket, retry_after)
            raise error
        if response.status_code >= 400:
            raise ProviderUnavailable(f"Facebook answered HTTP {response.status_code} without a usable body; "
                                      "retrying later.")
        if not isinstance(body, (dict, list)):
            raise ProviderUnavailable(MALFORMED_MESSAGE)
        return body
