"""Sandbox mode: the provider emulators stand in for the real services.

With no provider credentials configured, ``streamdesk run`` serves each built-in
emulator on a free local port and points the plugins at it through the same
environment variables a real installation sets (``FACEBOOK_API_URL``, …), so the web
server and the worker talk to the emulators over HTTP exactly as they would to the
real APIs.
"""
from __future__ import annotations

import importlib
import os

import emulators


def start_emulators(services) -> list:
    """Start the emulator of every loaded service that has one; returns them running."""
    running = []
    for service in services:
        if service not in emulators.EMULATORS:
            continue
        emulator = emulators.start(service)
        config = importlib.import_module(emulators.EMULATORS[service]).sandbox_config(emulator.url)
        prefix = service.upper().replace("-", "_")
        os.environ.update({
            f"{prefix}_CLIENT_ID": config.client_id,
            f"{prefix}_CLIENT_SECRET": config.client_secret,
            f"{prefix}_API_URL": config.api_url,
            f"{prefix}_AUTH_URL": config.auth_url,
            f"{prefix}_APP_TOKEN": config.app_token,
        })
        running.append(emulator)
    # The emulators' client ids must not switch sandbox mode off.
    os.environ["SANDBOX"] = "1"
    return running
