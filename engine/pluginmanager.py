"""The plugin manager: registers built-in and third-party checker families, collects checks.

Built-in families are found the same way as external ones: through the ``golive`` entry-point
group (pyproject.toml), so removing one from the metadata removes it from golive. A plugin that
fails to import does not stop golive: it is reported in ``PluginHost.load_errors`` and shown by
``golive plugins``; requirements that use its checks then fail validation with a clear message.
"""
from __future__ import annotations

import importlib.metadata
import logging
from dataclasses import dataclass, field
from typing import Any, Iterable

import pluggy

from golive import hookspecs
from golive.model import CheckSpec

log = logging.getLogger("golive.plugins")

ENTRY_POINT_GROUP = "golive"


@dataclass
class PluginInfo:
    name: str
    origin: str  # "entry point <dist> <version>" or "registered in code"
    module: str
    checks: list[CheckSpec] = field(default_factory=list)


@dataclass
class PluginHost:
    """A pluggy manager plus what golive knows about the plugins in it."""

    pm: pluggy.PluginManager
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    load_errors: dict[str, str] = field(default_factory=dict)
    _checks: dict[str, CheckSpec] | None = None

    @property
    def hook(self):
        return self.pm.hook

    def register(self, plugin: Any, name: str, origin: str = "registered in code") -> None:
        self.pm.register(plugin, name=name)
        module = getattr(plugin, "__name__", type(plugin).__module__)
        self.plugins[name] = PluginInfo(name=name, origin=origin, module=module)
        self._checks = None

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.plugins.pop(name, None)
        self._checks = None

    def checks(self) -> dict[str, CheckSpec]:
        """All checks by ``plugin.name``. A duplicate key is a plugin bug: the first wins and the
        clash is logged, so one bad plugin cannot silently replace a built-in check."""
        if self._checks is None:
            found: dict[str, CheckSpec] = {}
            for info in self.plugins.values():
                info.checks = []
            for impl in self.pm.hook.golive_checks.get_hookimpls():
                name = self.pm.get_name(impl.plugin)
                try:
                    specs = impl.function() or []
                except Exception as exc:  # a plugin crashing at collection must not stop golive
                    self.load_errors[name] = f"golive_checks() raised {type(exc).__name__}: {exc}"
                    continue
                for spec in specs:
                    if spec.key in found:
                        log.warning("check %s from plugin %s ignored: already provided", spec.key, name)
                        continue
                    found[spec.key] = spec
                    if name in self.plugins:
                        self.plugins[name].checks.append(spec)
            for info in self.plugins.values():
                info.checks.sort(key=lambda c: c.name)
            self._checks = dict(sorted(found.items()))
        return self._checks


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def create_host(load_entry_points: bool = True, extra: Iterable[tuple[str, Any]] = ()) -> PluginHost:
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm=pm)
    if load_entry_points:
        seen: set[str] = set()
        for ep in sorted(_entry_points(), key=lambda e: e.name):
            if ep.name in seen:  # the same distribution can be visible twice (editable + site)
                continue
            seen.add(ep.name)
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "unknown distribution"
            try:
                plugin = ep.load()
            except Exception as exc:
                host.load_errors[ep.name] = (
                    f"cannot import {ep.value} ({type(exc).__name__}: {exc}); "
                    f"reinstall or uninstall the package that provides it ({dist})"
                )
                continue
            try:
                host.register(plugin, ep.name, origin=f"entry point from {dist}")
            except Exception as exc:  # e.g. a hookimpl with a misspelt hook name
                host.load_errors[ep.name] = f"cannot register {ep.value}: {exc}"
    for name, plugin in extra:
        host.register(plugin, name)
    return host
