"""Calling provider plugins from the core: configuration per service, errors to messages.

Views and jobs never call a plugin directly: they go through :func:`call`, which builds
the service's :class:`~streamdesk_contract.values.ServiceConfig` from the settings and turns a plugin
that breaks its contract into a readable error.
"""
from __future__ import annotations

import logging

from streamdesk_contract.errors import ProviderError, ProviderUnavailable
from streamdesk_contract.values import ServiceConfig

from .config import Settings, is_sandbox
from .plugins import Plugins

log = logging.getLogger(__name__)


def service_config(settings: Settings, plugins: Plugins, service: str) -> ServiceConfig:
    """Credentials and base URLs of ``service``: the environment first, then the
    plugin's production defaults (the sandbox runner points them at the emulators)."""
    loaded = plugins.get(service)
    if loaded is None:
        raise LookupError(f"no plugin serves {service!r}")
    value = settings.provider_value
    return ServiceConfig(
        client_id=value(service, "CLIENT_ID"),
        client_secret=value(service, "CLIENT_SECRET"),
        api_url=value(service, "API_URL") or loaded.service.default_api_url,
        auth_url=value(service, "AUTH_URL") or loaded.service.default_auth_url,
        sandbox=is_sandbox(settings, plugins.services),
        app_token=value(service, "APP_TOKEN"),
        webhook_url=webhook_url(settings, service),
    )


def webhook_url(settings: Settings, service: str) -> str:
    """Where this installation receives ``service``'s webhooks (the receiver's route
    under PUBLIC_URL): what the provider is told, and what the Status page shows."""
    return f"{settings.public_url.rstrip('/')}/webhooks/{service}"


def call(settings: Settings, plugins: Plugins, hook: str, service: str, **kwargs):
    """Call ``hook`` of the plugin serving ``service``.

    Raises the plugin's typed ProviderError as is; any other exception is a plugin bug,
    logged with its traceback and reported as ProviderUnavailable so the person sees a
    message instead of a 500.
    """
    config = service_config(settings, plugins, service)
    try:
        return plugins.call(hook, service, config, **kwargs)
    except ProviderError:
        raise
    except LookupError:
        raise
    except Exception:  # a plugin bug must not become a stack trace in the page
        log.exception("plugin for %s failed in %s", service, hook)
        label = plugins.get(service).service.label
        raise ProviderUnavailable(f"{label} could not be reached or answered unexpectedly. "
                                  "Please try again later.") from None
