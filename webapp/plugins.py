"""The plugin manager: loads provider plugins from entry points and routes calls.

Built-in plugins (facebook, twitter) are registered through the same ``streamdesk``
entry-point group as third-party ones, so installing a distribution is all it takes to
add a service. One :class:`Plugins` is built per app and per worker process.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata

import pluggy

from streamdesk_contract import hookspecs
from streamdesk_contract.values import INTERACTIONS, Service, ServiceConfig

SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")

#: Hooks that the core calls for one service at a time (everything but the declaration).
SERVICE_HOOKS = tuple(
    name for name in dir(hookspecs)
    if name.startswith("streamdesk_") and name != "streamdesk_services"
)


class PluginError(Exception):
    """A plugin is installed but broken: misspelled hook, bad declaration, clash."""


@dataclass(frozen=True)
class LoadedService:
    """A declared service with the plugin that serves it and the hooks it implements."""

    service: Service
    plugin_name: str
    distribution: str | None
    hooks: frozenset[str]

    @property
    def unauthorized_note(self) -> str | None:
        """What an unauthorized stream of this service tracks, in the plugin's own words;
        without a note, the bare limit (no service's particular wording is assumed)."""
        if self.service.unauthorized_note:
            return self.service.unauthorized_note
        if self.service.unauthorized_post_limit:
            return f"Only the {self.service.unauthorized_post_limit} most recent posts can be tracked."
        return None

    @property
    def capabilities(self) -> list[str]:
        """Human-readable capabilities, as listed by ``streamdesk plugins``."""
        caps = []
        if "streamdesk_link_details" in self.hooks:
            caps.append("link")
        if "streamdesk_managed_pages" in self.hooks:
            caps.append("authorized streams")
        if "streamdesk_search" in self.hooks:
            caps.append("search")
        if "streamdesk_crawl" in self.hooks:
            caps.append("crawl")
        if "streamdesk_metrics" in self.hooks:
            caps.append("metrics")
        if "streamdesk_interact" in self.hooks and self.service.interactions:
            caps.append("interactions: " + ", ".join(sorted(self.service.interactions)))
        if self.service.private_messages:
            caps.append("private messages")
        if self.service.unauthorized_note:
            caps.append(f"public pages: {self.service.unauthorized_note}")
        elif self.service.unauthorized_post_limit:
            caps.append(f"public pages: {self.service.unauthorized_post_limit} most recent posts")
        return caps


class Plugins:
    """Provider plugins loaded from entry points, validated, addressed by service name."""

    def __init__(self, load_entrypoints: bool = True, extra=()):
        self.pm = pluggy.PluginManager("streamdesk")
        self.pm.add_hookspecs(hookspecs)
        self._dists: dict[str, str] = {}
        if load_entrypoints:
            self._load_entrypoints()
        for plugin in extra:
            self.pm.register(plugin)
        self.services: dict[str, LoadedService] = self._validate()

    def _load_entrypoints(self) -> None:
        for ep in metadata.entry_points(group="streamdesk"):
            if self.pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party plugin must name itself
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
            self.pm.register(plugin, name=ep.name)
            if ep.dist is not None:
                self._dists[ep.name] = f"{ep.dist.name} {ep.dist.version}"

    def _validate(self) -> dict[str, LoadedService]:
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"unknown hook implemented: {exc}") from exc
        services: dict[str, LoadedService] = {}
        for impl in self.pm.hook.streamdesk_services.get_hookimpls():
            name = self.pm.get_name(impl.plugin)
            declared = impl.function()
            declared = declared if isinstance(declared, (list, tuple)) else [declared]
            hooks = frozenset(
                caller.name for caller in (self.pm.get_hookcallers(impl.plugin) or [])
                if caller.name in SERVICE_HOOKS
            )
            for service in declared:
                self._check_service(name, service, hooks)
                if service.name in services:
                    raise PluginError(
                        f"service {service.name!r} is declared by both "
                        f"{services[service.name].plugin_name!r} and {name!r}"
                    )
                services[service.name] = LoadedService(service, name, self._dists.get(name), hooks)
        for plugin in self.pm.get_plugins():
            if not any(ls.plugin_name == self.pm.get_name(plugin) for ls in services.values()):
                raise PluginError(
                    f"plugin {self.pm.get_name(plugin)!r} implements no streamdesk_services hook"
                )
        return dict(sorted(services.items()))

    @staticmethod
    def _check_service(plugin: str, service, hooks: frozenset[str]) -> None:
        if not isinstance(service, Service):
            raise PluginError(f"plugin {plugin!r}: streamdesk_services must return Service values")
        if not SERVICE_NAME.match(service.name):
            raise PluginError(f"plugin {plugin!r}: invalid service name {service.name!r}")
        unknown = set(service.interactions) - set(INTERACTIONS)
        if unknown:
            raise PluginError(f"plugin {plugin!r}: unknown interactions {sorted(unknown)}")
        if service.interactions and "streamdesk_interact" not in hooks:
            raise PluginError(
                f"plugin {plugin!r}: {service.name!r} declares interactions "
                "but does not implement streamdesk_interact"
            )
        if "streamdesk_link_details" in hooks and "streamdesk_link_profile" not in hooks:
            raise PluginError(
                f"plugin {plugin!r}: streamdesk_link_details needs streamdesk_link_profile"
            )

    def get(self, service: str) -> LoadedService | None:
        """The loaded service called ``service``, or None when no plugin serves it."""
        return self.services.get(service)

    def supports(self, service: str, hook: str) -> bool:
        """Whether the plugin serving ``service`` implements ``hook``."""
        loaded = self.services.get(service)
        return bool(loaded and hook in loaded.hooks)

    def call(self, hook: str, service: str, config: ServiceConfig, **kwargs):
        """Call ``hook`` for one service; raises LookupError when it is not implemented."""
        if not self.supports(service, hook):
            raise LookupError(f"service {service!r} does not implement {hook}")
        return getattr(self.pm.hook, hook)(service=service, config=config, **kwargs)
