"""Which modules exist, which this process hosts, and in what order they start."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Sequence

import modules
from kernel.modules import ModuleDescriptor
from kernel.settings import Settings, SettingsError


def available_modules() -> list[str]:
    """Every package under `modules/` that has a `module.py` descriptor."""
    found = []
    for info in pkgutil.iter_modules(modules.__path__):
        if info.ispkg and importlib.util.find_spec(f"modules.{info.name}.module") is not None:
            found.append(info.name)
    return sorted(found)


def load_descriptor(name: str) -> ModuleDescriptor:
    descriptor = importlib.import_module(f"modules.{name}.module").descriptor
    if not isinstance(descriptor, ModuleDescriptor) or descriptor.name != name:
        raise TypeError(f"modules/{name}/module.py must define `descriptor = ModuleDescriptor(name={name!r}, ...)`")
    return descriptor


def dependency_order(descriptors: Iterable[ModuleDescriptor]) -> list[ModuleDescriptor]:
    """Providers before their consumers; a cycle is a startup error."""
    by_name = {d.name: d for d in descriptors}
    ordered: list[ModuleDescriptor] = []
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise SettingsError(f"module dependency cycle: {' -> '.join((*path, name))}")
        state[name] = "visiting"
        for dependency in sorted(by_name[name].depends_on):
            if dependency in by_name:
                visit(dependency, (*path, name))
        state[name] = "done"
        ordered.append(by_name[name])

    for name in sorted(by_name):
        visit(name, ())
    return ordered


def select_modules(settings: Settings, requested: Sequence[str] | None = None) -> list[ModuleDescriptor]:
    """The hosted modules: `requested`, else FREIGHTDESK_MODULES, else all that exist; dependency-ordered."""
    existing = available_modules()
    names = list(requested) if requested is not None else list(settings.modules or existing)
    unknown = sorted(set(names) - set(existing))
    if unknown:
        raise SettingsError(
            f"FREIGHTDESK_MODULES: unknown module(s) {', '.join(unknown)}; available: {', '.join(existing)}"
        )
    if not names:
        raise SettingsError("FREIGHTDESK_MODULES: names no module")
    # A dependency that is not hosted here must be satisfied from outside: `bootstrap.runtime.Bindings` checks.
    return dependency_order(load_descriptor(name) for name in dict.fromkeys(names))
