"""Setup diagnostics for Account settings → Status: what will break, and why, before it
does — a provider API version near its end of life, an OAuth callback URL the provider
(or, in sandbox mode, its emulator) has not registered."""
from __future__ import annotations

from datetime import date

#: How long before a provider retires the API version a plugin is pinned to admins are warned.
WARN_DAYS = 90


def api_version_warnings(services: dict, today: date) -> list[str]:
    """One sentence per service whose pinned API version ends within :data:`WARN_DAYS`
    (``services``: name → LoadedService, as ``Plugins().services``)."""
    warnings = []
    for loaded in services.values():
        service = loaded.service
        end = service.api_version_end_of_life
        if not service.api_version or end is None:
            continue
        days = (end - today).days
        if days < WARN_DAYS:
            when = "has ended" if days <= 0 else f"ends on {end:%d %B %Y} ({days} days from now)"
            warnings.append(f"{service.label}: the API version Streamdesk uses ({service.api_version}) {when}. "
                            f"Update Streamdesk to a release that uses a newer {service.label} API version "
                            "before then, or its crawls may stop working.")
    return warnings


def callback_problems(settings, plugins, callbacks: dict[str, str]) -> list[str]:
    """In sandbox mode, one sentence per service whose emulator has not registered the
    callback URL Streamdesk would send (``callbacks``: service → URL, as built for the
    current request). Linking a profile would fail there with the provider's "URL
    blocked" page, as it would in production with the wrong callback registered."""
    import emulators

    from .config import is_sandbox
    from .sandbox import EmulatorUnreachable, registered_callbacks
    from .services import service_config

    if not is_sandbox(settings, plugins.services):
        return []
    problems = []
    for service, sent in callbacks.items():
        if service not in emulators.EMULATORS:
            continue
        label = plugins.get(service).service.label
        config = service_config(settings, plugins, service)
        try:
            registered = registered_callbacks(config.api_url)
        except EmulatorUnreachable as exc:
            problems.append(f"{label}: cannot check the sandbox's callback URL ({exc}).")
            continue
        if sent not in registered:
            problems.append(
                f"{label}: connecting a profile will fail with “URL blocked”. Streamdesk sends the callback URL "
                f"{sent}, but the sandbox registered {', '.join(registered) or 'none'} from PUBLIC_URL "
                f"({settings.public_url}). Set PUBLIC_URL to the address you open Streamdesk at, then restart "
                "— in production the same URL must be registered in the provider's app settings.")
    return problems
