"""Provider webhooks: the URLs a provider calls, signed instead of logged in.

They are exempt from CSRF (a provider has no session; the signature proves the sender)
and answer fast: a delivery is only checked and recorded here, and a job does the rest
(:mod:`webapp.webhooks`). Every refusal is a short plain-text reason.
"""
from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import webhooks
from ..jobs import record_heartbeat

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

#: The largest delivery accepted (Graph batches up to 1000 updates in far less).
MAX_BODY = 1024 * 1024


def _text(message: str, status: int):
    return current_app.response_class(message + "\n", status=status, mimetype="text/plain")


def _body() -> bytes | None:
    """The raw body of a delivery, or None when it is over MAX_BODY (refused unread
    when the length is announced; chunked bodies are cut by MAX_CONTENT_LENGTH)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge:
        return None


@bp.get("/facebook")
def facebook_verify():
    """Graph's subscription check: echo ``hub.challenge`` when ``hub.verify_token`` is
    the one configured (FACEBOOK_WEBHOOK_VERIFY_TOKEN); anything else is refused."""
    settings = current_app.extensions["streamdesk"]
    expected = settings.provider_value("facebook", "WEBHOOK_VERIFY_TOKEN")
    given = request.args.get("hub.verify_token", "")
    if request.args.get("hub.mode") != "subscribe":
        return _text("hub.mode must be subscribe.", 400)
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("a Facebook webhook verification was refused: wrong verify token")
        record_heartbeat("webhook-refused:facebook")  # real time is off until one passes again
        return _text("The verify token is not this installation's.", 403)
    challenge = request.args.get("hub.challenge", "")
    if not challenge or len(challenge) > 256:
        return _text("hub.challenge is missing or too long.", 400)
    record_heartbeat("webhook-verified:facebook")  # shown by the setup diagnostics
    return current_app.response_class(challenge, status=200, mimetype="text/plain")


@bp.post("/facebook")
def facebook_receive():
    """A Graph delivery, signed ``X-Hub-Signature-256`` (hex HMAC with the app secret):
    one raw event per change or message."""
    return _receive(GRAPH)


def x_secret(settings) -> str:
    """The secret X signs with: the app's consumer secret (TWITTER_CONSUMER_SECRET, the
    "API Key Secret"), else TWITTER_CLIENT_SECRET (one secret for both in sandbox mode)."""
    return settings.provider_value("twitter", "CONSUMER_SECRET") or settings.provider_value("twitter", "CLIENT_SECRET")


@bp.get("/twitter")
def twitter_crc():
    """X's Challenge-Response Check (on registration and hourly after): answer
    ``{"response_token": "sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>"}``."""
    secret = x_secret(current_app.extensions["streamdesk"])
    token = request.args.get("crc_token", "")
    if not token or len(token) > 256:
        return _text("crc_token is missing or too long.", 400)
    if not secret:
        log.warning("an X webhook CRC was refused: no TWITTER_CONSUMER_SECRET is configured")
        return _text("This installation has no X consumer secret configured.", 403)
    record_heartbeat("webhook-verified:twitter")  # shown by the setup diagnostics
    return {"response_token": webhooks.signature(secret, token.encode(), "base64")}


@bp.post("/twitter")
def twitter_receive():
    """An X Activity API delivery, signed ``x-twitter-webhooks-signature`` (base64 HMAC
    with the consumer secret): one raw event, keyed by its event_uuid."""
    return _receive(XAA)


@dataclass(frozen=True)
class Provider:
    """How one service signs and shapes its deliveries: what :func:`_receive` checks."""

    service: str
    secret: Callable  # settings -> the secret it signs with
    header: str  # the signature's header
    encoding: str  # how the digest is written: hex or base64
    split: Callable  # parsed JSON -> RawEvents; raises ValueError
    shape: str  # what a delivery is, for the 400's message


GRAPH = Provider("facebook", lambda settings: settings.provider_value("facebook", "CLIENT_SECRET"),
                 "X-Hub-Signature-256", "hex", webhooks.graph_events, "a Graph webhook payload")
XAA = Provider("twitter", x_secret, "x-twitter-webhooks-signature", "base64", webhooks.x_events,
               "an X Activity API event")


def _receive(provider: Provider):
    """Every delivery, in this order: size (413), signature before anything is read
    (403, nothing stored), JSON (400); then its new events are recorded and a job
    queued (unless one is waiting already, which will take them too)."""
    settings = current_app.extensions["streamdesk"]
    body = _body()
    if body is None:
        return _text("The delivery is over 1 MB.", 413)
    if not webhooks.signature_ok(provider.secret(settings), body, request.headers.get(provider.header),
                                 provider.encoding):
        log.warning("a %s webhook delivery was refused: missing or wrong signature", provider.service)
        return _text(f"The {provider.header} signature is missing or wrong.", 403)
    try:
        events = provider.split(json.loads(body))
    except (ValueError, UnicodeDecodeError) as exc:
        return _text(f"The delivery is not {provider.shape}: {str(exc)[:200]}", 400)
    if webhooks.record(provider.service, events):
        webhooks.enqueue_processing(settings, provider.service)
    return _text("EVENT_RECEIVED", 200)
