"""The boundary rules import-linter cannot express (docs/architecture.md §2), as pure functions: imports follow
the declared `depends_on`, tables and foreign keys per module, routes, event and API contracts. Each returns the
violations it finds, [] if none.

The tests run them on the real tree (expecting []) and on planted violations (expecting a report), so a
check that stopped looking would fail its own test.

Run as a script (`python checks.py`), it checks the import graph of whatever `kernel`, `modules` and
`bootstrap` are first on the path, against the descriptors found there, and exits 1 on a violation: the
planted-violation tests run it that way on a copy of the tree.
"""

from __future__ import annotations

import re
import sys
import typing
from collections.abc import Collection, Iterable, Mapping, Sequence
from enum import Enum
from types import ModuleType
from typing import Any

import grimp
import msgspec
from sqlalchemy import MetaData
from sqlalchemy.exc import NoReferencedTableError

from kernel.contracts.events import IntegrationEvent

ROOT_PACKAGES = ("kernel", "modules", "bootstrap")
API_PREFIX = "/api/v1"
PROCESS_ROUTES = (
    re.compile(r"^/api/v1/health(/.*)?$"),
    re.compile(r"^/metrics$"),
    re.compile(r"^/api/docs(/.*)?$"),
)
"""Routes of the process itself (kernel/bootstrap), not of any module."""


# --- the import graph -----------------------------------------------------------------------------


def build_import_graph() -> grimp.ImportGraph:
    """The import graph of the three root packages, with outside packages as leaf nodes; no cache on disk."""
    return grimp.build_graph(*ROOT_PACKAGES, include_external_packages=True, cache_dir=None)


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _module_of(name: str) -> str | None:
    """`carrier` for `modules.carrier.internal.models`; None outside the modules package."""
    parts = name.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "modules" else None


def _imports(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Every direct import (importer, imported) whose importer is ours, sorted for stable reports."""
    found = []
    for importer in graph.modules:
        if importer.split(".")[0] not in ROOT_PACKAGES:
            continue
        found.extend((importer, imported) for imported in graph.find_modules_directly_imported_by(importer))
    return sorted(found)


def _where(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    lines = ", ".join(str(d["line_number"]) for d in details)
    return f"{importer} imports {imported}" + (f" (line {lines})" if lines else "")


def import_violations(graph: grimp.ImportGraph, depends_on: Mapping[str, Collection[str]]) -> list[str]:
    """Imports between modules follow the declared `depends_on` edges (import-linter's contracts, which cannot
    read the descriptors, keep every other import rule).

    `depends_on` maps each module to the modules its descriptor declares; a module without a descriptor
    may depend on nothing.
    """
    violations: list[str] = []
    for importer, imported in _imports(graph):
        source, target = _module_of(importer), _module_of(imported)
        if source is not None and target is not None and source != target and target not in depends_on.get(source, ()):
            violations.append(
                f"{_where(graph, importer, imported)}: module {source!r} imports module {target!r}, "
                f"which its descriptor does not declare in depends_on"
            )
    return violations


def module_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Module → the other modules its code imports (directly)."""
    edges: dict[str, set[str]] = {}
    for importer, imported in _imports(graph):
        source, target = _module_of(importer), _module_of(imported)
        if source is not None and target is not None and source != target:
            edges.setdefault(source, set()).add(target)
    return edges


def find_cycle(edges: Mapping[str, Collection[str]]) -> list[str] | None:
    """One cycle as a path whose last node equals its first (`a -> b -> a`), or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "visiting"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "visiting":
                return [*path[path.index(nxt) :], nxt]  # `path` is the DFS stack, so `nxt` is on it
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def dependency_violations(
    depends_on: Mapping[str, Collection[str]], imported_modules: Mapping[str, Collection[str]]
) -> list[str]:
    """Declared dependencies name existing modules; neither the declared nor the real graph has a cycle."""
    violations = [
        f"module {module!r} declares depends_on {dependency!r}, "
        + ("itself" if dependency == module else "which is not a module")
        for module, dependencies in sorted(depends_on.items())
        for dependency in sorted(dependencies)
        if dependency not in depends_on or dependency == module
    ]
    for label, edges in (("declared (depends_on)", depends_on), ("imported", imported_modules)):
        cycle = find_cycle(edges)
        if cycle is not None:
            violations.append(f"cycle between modules, {label}: {' -> '.join(cycle)}")
    return violations


def graph_violations(graph: grimp.ImportGraph, depends_on: Mapping[str, Collection[str]]) -> list[str]:
    return import_violations(graph, depends_on) + dependency_violations(depends_on, module_edges(graph))


# --- tables, foreign keys, registries -------------------------------------------------------------


def table_violations(metadata_by_module: Mapping[str, MetaData]) -> list[str]:
    """Own MetaData per module; a table name lives in one module only; event tables carry the prefix."""
    violations: list[str] = []
    owner_of_metadata: dict[int, str] = {}
    owners_of_table: dict[str, list[str]] = {}
    for module, metadata in sorted(metadata_by_module.items()):
        if id(metadata) in owner_of_metadata:
            violations.append(f"modules {owner_of_metadata[id(metadata)]!r} and {module!r} share one MetaData")
        owner_of_metadata.setdefault(id(metadata), module)
        declared = metadata.info.get("module")
        if declared is not None and declared != module:
            violations.append(f"module {module!r} uses the MetaData of module {declared!r}")
        for table in metadata.tables.values():
            owners_of_table.setdefault(table.name, []).append(module)
            if "_event_" in table.name and not table.name.startswith(f"{module}_event_"):
                violations.append(f"table {table.name!r} of module {module!r}: event tables are named {module}_event_*")
    violations.extend(
        f"table {name!r} is in the metadata of several modules: {', '.join(owners)}"
        for name, owners in sorted(owners_of_table.items())
        if len(owners) > 1
    )
    return violations


def foreign_key_violations(metadata_by_module: Mapping[str, MetaData]) -> list[str]:
    """No foreign key leaves its module's metadata."""
    violations: list[str] = []
    for module, metadata in sorted(metadata_by_module.items()):
        for _, table in sorted(metadata.tables.items()):  # not sorted_tables: that resolves the keys first
            for foreign_key in sorted(table.foreign_keys, key=lambda fk: fk.target_fullname):
                label = f"{table.name}.{foreign_key.parent.name} -> {foreign_key.target_fullname}"
                try:
                    target = foreign_key.column.table
                except NoReferencedTableError:
                    violations.append(f"module {module!r}: foreign key {label} points outside its metadata")
                    continue
                if target.metadata is not metadata or metadata.tables.get(target.key) is not target:
                    violations.append(f"module {module!r}: foreign key {label} points outside its metadata")
    return violations


def mapped_classes(base: type) -> list[type]:
    """Every mapped class below `base` (e.g. sqlalchemy's DeclarativeBase)."""
    found: list[type] = []
    pending = list(base.__subclasses__())
    while pending:
        cls = pending.pop()
        if "__mapper__" in cls.__dict__ or "__table__" in cls.__dict__:
            found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def registry_violations(metadata_by_module: Mapping[str, MetaData], classes: Iterable[type]) -> list[str]:
    """A module's mapped classes sit on its own registry (with the module's MetaData), shared with no one."""
    module_of_metadata = {id(metadata): module for module, metadata in metadata_by_module.items()}
    registries: dict[int, set[str]] = {}
    violations: list[str] = []
    for cls in sorted(classes, key=lambda c: f"{c.__module__}.{c.__name__}"):
        table = getattr(cls, "__table__", None)
        table_module = module_of_metadata.get(id(getattr(table, "metadata", None)))
        if table_module is None:
            continue  # not a table of a hosted module
        registry = getattr(cls, "registry", None) or cls.__mapper__.registry  # type: ignore[attr-defined]
        registry_module = module_of_metadata.get(id(registry.metadata))
        name = f"{cls.__module__}.{cls.__name__}"
        if registry_module != table_module:
            violations.append(
                f"{name}: table {table.name!r} belongs to module {table_module!r} "  # type: ignore[union-attr]
                f"but the class is mapped on the registry of {registry_module or 'no module'!r}"
            )
        registries.setdefault(id(registry), set()).add(table_module)
    violations.extend(
        f"modules {', '.join(sorted(modules))} share one registry"
        for modules in registries.values()
        if len(modules) > 1
    )
    return violations


# --- routes ---------------------------------------------------------------------------------------


def is_process_route(path: str) -> bool:
    return any(pattern.match(path) for pattern in PROCESS_ROUTES)


def route_violations(
    prefixes_by_module: Mapping[str, Sequence[str]], paths_by_module: Mapping[str, Iterable[str]]
) -> list[str]:
    """Prefixes are well-formed and owned by one module; each module serves only under its own prefixes.

    `paths_by_module`: the route paths of an app hosting only that module (process routes are skipped).
    """
    violations: list[str] = []
    owned: list[tuple[str, str]] = []
    for module, prefixes in sorted(prefixes_by_module.items()):
        if not prefixes:
            violations.append(f"module {module!r} declares no route prefix")
        for prefix in prefixes:
            if not re.fullmatch(r"(/[a-z0-9][a-z0-9-]*)+", prefix):
                violations.append(f"module {module!r}: route prefix {prefix!r} is not like '/carriers'")
            for other_module, other in owned:
                if _in_path(prefix, other) or _in_path(other, prefix):
                    violations.append(
                        f"route prefix {prefix!r} of module {module!r} overlaps {other!r} of module {other_module!r}"
                    )
            owned.append((module, prefix))
    for module, paths in sorted(paths_by_module.items()):
        own = [API_PREFIX + prefix for prefix in prefixes_by_module.get(module, ())]
        violations.extend(
            f"module {module!r} serves {path!r}, outside its route prefixes {list(own)}"
            for path in sorted(set(paths))
            if not is_process_route(path) and not any(_in_path(path, prefix) for prefix in own)
        )
    return violations


def _in_path(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


# --- events and public interfaces -----------------------------------------------------------------


def _defined_in(module: ModuleType) -> list[type]:
    return [value for value in vars(module).values() if isinstance(value, type) and value.__module__ == module.__name__]


def event_violations(
    publishes_by_module: Mapping[str, Sequence[type[Any]]], events_modules: Mapping[str, ModuleType | None]
) -> list[str]:
    """Published events: frozen, typed `<module>.*`, versioned, from events.py; no type collides."""
    violations: list[str] = []
    producers_of_type: dict[str, set[str]] = {}
    for module, published in sorted(publishes_by_module.items()):
        seen: set[tuple[str, int]] = set()
        for event in published:
            name = f"{event.__module__}.{event.__name__}"
            if not (isinstance(event, type) and issubclass(event, IntegrationEvent)):
                violations.append(f"module {module!r} publishes {name}, which is not an IntegrationEvent")
            if not (isinstance(event, type) and issubclass(event, msgspec.Struct) and event.__struct_config__.frozen):
                violations.append(f"module {module!r} publishes {name}, which is not a frozen msgspec Struct")
            if event.__module__ != f"modules.{module}.events":
                violations.append(f"module {module!r} publishes {name}, which is not defined in its events.py")
            event_type, version = getattr(event, "event_type", None), getattr(event, "event_version", None)
            if not isinstance(event_type, str) or not event_type.startswith(f"{module}."):
                violations.append(f"{name}.event_type {event_type!r} does not start with {module + '.'!r}")
            if isinstance(event_type, str):
                producers_of_type.setdefault(event_type, set()).add(module)
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                violations.append(f"{name}.event_version {version!r} is not an int >= 1")
            if isinstance(event_type, str) and isinstance(version, int):
                if (event_type, version) in seen:
                    violations.append(f"module {module!r} publishes {event_type} v{version} twice")
                seen.add((event_type, version))
        events_module = events_modules.get(module)
        if events_module is not None:
            violations.extend(
                f"{cls.__module__}.{cls.__name__} is defined in events.py but not listed in publishes"
                for cls in _defined_in(events_module)
                if issubclass(cls, IntegrationEvent) and cls not in published
            )
    violations.extend(
        f"event type {event_type!r} is published by several modules: {', '.join(sorted(modules))}"
        for event_type, modules in sorted(producers_of_type.items())
        if len(modules) > 1
    )
    return violations


def _is_protocol(cls: type) -> bool:
    return cls is not typing.Protocol and getattr(cls, "_is_protocol", False) is True  # type: ignore[comparison-overlap]


def api_violations(api_modules: Mapping[str, ModuleType]) -> list[str]:
    """api.py holds Protocols, frozen msgspec DTOs, domain errors (and enums); at least one Protocol."""
    violations: list[str] = []
    for module, api in sorted(api_modules.items()):
        classes = _defined_in(api)
        if not any(_is_protocol(cls) for cls in classes):
            violations.append(f"{api.__name__} defines no typing.Protocol")
        for cls in classes:
            name = f"{api.__name__}.{cls.__name__}"
            if issubclass(cls, msgspec.Struct):
                if not cls.__struct_config__.frozen:
                    violations.append(f"{name} is a DTO of module {module!r} but not a frozen msgspec Struct")
            elif not (_is_protocol(cls) or issubclass(cls, (Exception, Enum))):
                violations.append(f"{name}: api.py DTOs must be frozen msgspec Structs")
    return violations


# --- script entry: the graph checks for the tree on the path --------------------------------------


def declared_dependencies() -> dict[str, tuple[str, ...]]:
    from bootstrap.catalog import available_modules, load_descriptor  # the tree under check, not this file's

    return {name: tuple(load_descriptor(name).depends_on) for name in available_modules()}


def main() -> int:
    graph = build_import_graph()
    # The descriptors only matter for imports between modules; loading them imports the whole web stack,
    # so a tree without such imports is judged without them (the in-process tests check them always).
    depends_on = declared_dependencies() if module_edges(graph) else {}
    violations = graph_violations(graph, depends_on)
    for violation in violations:
        print(violation)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
