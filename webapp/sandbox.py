"""Sandbox mode: the provider emulators stand in for the real services.

With no provider credentials configured, ``streamdesk run`` serves each built-in
emulator on a free local port and points the plugins at it through the same
environment variables a real installation sets (``FACEBOOK_API_URL``, …), so the web
server and the worker talk to the emulators over HTTP exactly as they would to the
real APIs.

Each emulator registers, as its app's OAuth callback URL, the one Streamdesk receives
the provider's redirect on under ``PUBLIC_URL`` — what an admin registers in the
provider's developer settings for production. An emulator refuses any other, as the
real providers do, so a ``PUBLIC_URL`` that is not the address people use fails in
sandbox mode exactly as it would in production (and the Status page says why).
"""
from __future__ import annotations

import importlib
import logging
import os
import secrets
from urllib.parse import urlsplit

import requests

import emulators

log = logging.getLogger(__name__)


#: Where a provider sends the person back (``personal.callback``); a test pins it to the route.
CALLBACK_PATH = "/personal/connected-profiles/{service}/callback"
#: Services whose emulator delivers webhooks, and where Streamdesk receives them.
WEBHOOK_PATHS = {"facebook": "/webhooks/facebook", "twitter": "/webhooks/twitter"}
#: Those whose verification checks a token of ours (Graph's hub.verify_token); X's CRC
#: needs none: it is signed with the app's secret.
VERIFY_TOKEN_SERVICES = frozenset({"facebook"})


def callback_url(public_url: str, service: str) -> str:
    """The OAuth callback URL of ``service`` under ``public_url``: the one to register
    with the provider (and that sandbox mode registers with the emulator)."""
    return public_url.rstrip("/") + CALLBACK_PATH.format(service=service)


def start_emulators(services, public_url: str) -> list:
    """Start the emulator of every loaded service that has one, each with the callback
    URL under ``public_url`` registered; returns them running."""
    running = []
    for service in services:
        if service not in emulators.EMULATORS:
            continue
        emulator = emulators.start(service, redirect_uris=[callback_url(public_url, service)])
        config = importlib.import_module(emulators.EMULATORS[service]).sandbox_config(emulator.url)
        prefix = service.upper().replace("-", "_")
        os.environ.update({
            f"{prefix}_CLIENT_ID": config.client_id,
            f"{prefix}_CLIENT_SECRET": config.client_secret,
            f"{prefix}_API_URL": config.api_url,
            f"{prefix}_AUTH_URL": config.auth_url,
            f"{prefix}_APP_TOKEN": config.app_token,
        })
        consumer_secret = getattr(importlib.import_module(emulators.EMULATORS[service]), "CONSUMER_SECRET", None)
        if consumer_secret:  # X signs webhooks with the app's consumer secret, not the OAuth 2.0 one
            os.environ[f"{prefix}_CONSUMER_SECRET"] = consumer_secret
        if service in VERIFY_TOKEN_SERVICES and not os.environ.get(f"{prefix}_WEBHOOK_VERIFY_TOKEN"):
            # Each run its own: only this web server can pass the emulator's verification.
            os.environ[f"{prefix}_WEBHOOK_VERIFY_TOKEN"] = secrets.token_urlsafe(24)
        running.append(emulator)
    # The emulators' client ids must not switch sandbox mode off.
    os.environ["SANDBOX"] = "1"
    return running


class EmulatorUnreachable(Exception):
    """The emulator a sandbox service points at did not say what it registered."""


def registered_callbacks(api_url: str) -> list[str]:
    """The callback URLs the emulator serving ``api_url`` has registered for its app,
    read from its control API; raises EmulatorUnreachable."""
    parts = urlsplit(api_url)
    try:
        response = requests.get(f"{parts.scheme}://{parts.netloc}/_control/app", timeout=3)
        uris = response.json()["redirect_uris"]
    except (requests.RequestException, ValueError, KeyError, TypeError):
        raise EmulatorUnreachable(f"no emulator answered at {parts.scheme}://{parts.netloc}") from None
    if not isinstance(uris, list):
        raise EmulatorUnreachable("the emulator's answer lists no callback URLs")
    return [str(u) for u in uris]


def subscribe_webhooks(settings, base_url: str) -> list[str]:
    """Subscribe the web server at ``base_url`` to the webhooks of every sandbox
    emulator that delivers them (each verifies the callback first, so call it once the
    server answers). Returns the services subscribed; a refusal is logged, not raised:
    polling still brings everything, only later."""
    done = []
    for service, path in WEBHOOK_PATHS.items():
        api_url = settings.provider_value(service, "API_URL")
        token = settings.provider_value(service, "WEBHOOK_VERIFY_TOKEN")
        if not api_url or (service in VERIFY_TOKEN_SERVICES and not token):
            continue
        parts = urlsplit(api_url)
        try:
            answer = requests.post(f"{parts.scheme}://{parts.netloc}/_control/webhooks", timeout=30,
                                   json={"callback_url": base_url.rstrip("/") + path, "verify_token": token})
        except requests.RequestException as exc:
            log.warning("sandbox: the %s emulator could not subscribe webhooks: %s", service, exc)
            continue
        if answer.status_code != 200:
            log.warning("sandbox: the %s emulator refused the webhook subscription: %s", service, answer.text[:300])
            continue
        done.append(service)
    return done
