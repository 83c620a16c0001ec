"""Reference docs generated from the module descriptors: the module map and the event catalogue.

    uv run freightdesk docs            # rewrite docs/modules.md and docs/events.md
    uv run freightdesk docs --check    # exit 1 when they are stale

What a module declares in `modules/<name>/module.py` (dependencies, database, routes and their access rules,
interfaces, events, subscriptions) is the only source; `tests/docs` fails when the committed files differ from
what this renders, so adding a module or an event without regenerating is caught.
"""

from __future__ import annotations

import tempfile
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
from litestar import Router
from litestar.handlers import HTTPRouteHandler

from bootstrap.app import API_PREFIX
from bootstrap.catalog import available_modules, dependency_order, load_descriptor
from bootstrap.runtime import assemble_modules, module_database
from kernel.contracts.events import IntegrationEvent
from kernel.events.envelope import EventEnvelope
from kernel.http.access import access_of
from kernel.modules import AssembledModule, ModuleDescriptor, protocol_owner
from kernel.security.context import Security
from kernel.settings import Settings
from kernel.store import MemoryStore

GENERATED_NOTICE = "Generated from the module descriptors by `freightdesk docs`; do not edit by hand."
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
MODULE_MAP_FILE = "modules.md"
EVENT_CATALOGUE_FILE = "events.md"


# --- reading the descriptors ----------------------------------------------------------------------------


def all_descriptors() -> list[ModuleDescriptor]:
    """Every module under `modules/` that has a descriptor, providers before their consumers."""
    return dependency_order(load_descriptor(name) for name in available_modules())


def _ordered(descriptors: Sequence[ModuleDescriptor] | None) -> list[ModuleDescriptor]:
    return all_descriptors() if descriptors is None else dependency_order(descriptors)


def assembled(descriptors: Sequence[ModuleDescriptor]) -> dict[str, AssembledModule]:
    """Each module as its assembly builds it (routes, handlers, seed), on throwaway settings: the engines it
    creates never connect. A dependency outside `descriptors` is stood in for by a placeholder."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": data_dir})
        security = Security.build(settings, MemoryStore())
        ordered = dependency_order(descriptors)
        names = {d.name for d in ordered}
        outside = {
            protocol: _Placeholder()
            for d in ordered
            for protocol in d.requirements().values()
            if protocol_owner(protocol) not in names
        }
        return {hosted.name: hosted.assembled for hosted in assemble_modules(settings, ordered, security, outside)}


class _Placeholder:
    """Stands in for a Protocol of a module not being documented; never called."""


def producer_of(event: type[IntegrationEvent]) -> str:
    """The producing module, as the event type names it (`carrier.created` → `carrier`)."""
    return event.event_type.split(".", 1)[0]


def event_label(event: type[IntegrationEvent]) -> str:
    return f"{event.event_type} v{event.event_version}"


@dataclass(frozen=True, order=True)
class RouteDoc:
    path: str
    method: str
    access: str
    summary: str


def routes_of(module: AssembledModule) -> list[RouteDoc]:
    """The module's routes as the app mounts them (under /api/v1), each with its access declaration."""
    router = Router(path=API_PREFIX, route_handlers=list(module.routes))
    found: list[RouteDoc] = []
    for route in router.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            access = access_of(handler)
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append(
                    RouteDoc(
                        path=route.path,
                        method=method,
                        access=access or "none: refused at start",
                        summary=handler.summary or "",
                    )
                )
    return sorted(found)


# --- Markdown helpers -----------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """A table cell: pipes escaped (GitHub tables split on them even inside code), no line breaks."""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`"


def _codes(items: Iterable[str]) -> str:
    listed = [_code(item) for item in items]
    return ", ".join(listed) if listed else "-"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines.extend("| " + " | ".join(_cell(value) for value in row) + " |" for row in rows)
    return lines


def _document(title: str, intro: Sequence[str], body: Sequence[str]) -> str:
    lines = [GENERATED_NOTICE, "", f"# {title}", "", *intro, "", *body]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def type_name(annotation: Any) -> str:
    """A field's type as a reader writes it: `int`, `list[str]`, `str | None`."""
    if annotation is type(None):
        return "None"
    if annotation is Ellipsis:
        return "..."
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if origin is Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin is not None:
        name = getattr(origin, "__name__", repr(origin))
        return f"{name}[{', '.join(type_name(arg) for arg in args)}]" if args else name
    if isinstance(annotation, type):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def _node(module: str) -> str:
    """A Mermaid node id that cannot collide with a keyword (`end`, `graph`)."""
    return f"m_{module}"


# --- the module map -------------------------------------------------------------------------------------


def render_dependency_graph(descriptors: Sequence[ModuleDescriptor]) -> list[str]:
    hosted = [d.name for d in descriptors]
    dependency_edges = sorted({(d.name, provider) for d in descriptors for provider in d.depends_on})
    flows: dict[tuple[str, str], set[str]] = {}
    for subscriber in descriptors:
        for event in subscriber.subscribes_to:
            flows.setdefault((producer_of(event), subscriber.name), set()).add(event.event_type)
    referenced = {name for edge in dependency_edges for name in edge} | {name for edge in flows for name in edge}
    absent = sorted(referenced - set(hosted))

    lines = ["```mermaid", "flowchart LR"]
    lines.extend(f'    {_node(name)}["{name}"]' for name in hosted)
    lines.extend(f'    {_node(name)}["{name} (not in this tree)"]' for name in absent)
    lines.extend(f"    {_node(consumer)} -->|depends on| {_node(provider)}" for consumer, provider in dependency_edges)
    for (producer, consumer), event_types in sorted(flows.items()):
        label = "<br>".join(sorted(event_types))
        lines.append(f'    {_node(producer)} -.->|"{label}"| {_node(consumer)}')
    lines.append("```")
    return lines


def render_module_section(descriptor: ModuleDescriptor, module: AssembledModule) -> list[str]:
    database = module_database(Settings(), descriptor)
    outbox, inbox = descriptor.database.outbox, descriptor.database.inbox
    subscriptions = sorted(
        f"{event_label(s.event)} (from {producer_of(s.event)}) → {s.handler_name}" for s in module.subscriptions
    )
    rows = [
        ("summary", descriptor.summary or "-"),
        ("depends on", _codes(sorted(descriptor.depends_on))),
        ("database setting", _code(database.setting)),
        ("default database", f"{_code(descriptor.database.default_file)} in the data dir ({_code(database.url)})"),
        (
            "migration history",
            f"{_code(f'migrations/{descriptor.name}/')}, version table {_code(database.version_table)}",
        ),
        ("route prefixes", _codes(f"{API_PREFIX}{prefix}" for prefix in descriptor.route_prefixes)),
        ("tables", _codes(sorted(descriptor.database.metadata.tables))),
        ("interfaces provided", _codes(sorted(protocol.__name__ for protocol in descriptor.provides))),
        ("events published", _codes(sorted(event_label(e) for e in descriptor.publishes))),
        ("subscriptions", "; ".join(subscriptions) if subscriptions else "-"),
        ("outbox", "yes" if outbox is not None else "no"),
        ("inbox", "yes" if inbox is not None else "no"),
        ("seeds data", "yes" if module.seed is not None else "no"),
    ]
    lines = [f"## {descriptor.name}", "", *_table(("property", "value"), rows)]
    routes = routes_of(module)
    if routes:
        lines += ["", "Routes and the access each declares:", ""]
        lines += _table(
            ("method", "path", "access", "summary"),
            ((r.method, _code(r.path), _code(r.access), r.summary) for r in routes),
        )
    return [*lines, ""]


def render_module_map(descriptors: Sequence[ModuleDescriptor] | None = None) -> str:
    """`docs/modules.md`: who depends on whom, which events flow where, and what each module owns."""
    ordered = _ordered(descriptors)
    intro = [
        "Solid arrows: a module depends on another (consumer → provider, `depends_on`); it may import that "
        "module's `api` and `events` and is handed its interfaces. Dotted arrows: events flow from the producer "
        "to a subscriber. Modules are listed providers first (the order they start in).",
    ]
    overview = _table(
        ("module", "depends on", "summary"),
        ((_code(d.name), _codes(sorted(d.depends_on)), d.summary or "-") for d in ordered),
    )
    body = [*render_dependency_graph(ordered), "", *overview, ""]
    modules = assembled(ordered)
    for descriptor in ordered:
        body += render_module_section(descriptor, modules[descriptor.name])
    return _document("Module map", intro, body)


# --- the event catalogue --------------------------------------------------------------------------------


def render_fields(struct: type[msgspec.Struct]) -> list[str]:
    fields = msgspec.structs.fields(struct)
    if not fields:
        return ["No payload fields."]
    return _table(
        ("field", "type", "required"),
        ((_code(f.encode_name), _code(type_name(f.type)), "yes" if f.required else "no") for f in fields),
    )


def render_event_catalogue(descriptors: Sequence[ModuleDescriptor] | None = None) -> str:
    """`docs/events.md`: every published event with its version, producer, subscribers and payload."""
    ordered = _ordered(descriptors)
    subscribers: dict[str, list[str]] = {}
    modules = assembled(ordered)
    for consumer in ordered:
        for subscription in modules[consumer.name].subscriptions:
            subscribers.setdefault(subscription.event.event_type, []).append(
                f"{consumer.name} ({subscription.handler_name})"
            )
    published = sorted(
        ((producer.name, event) for producer in ordered for event in producer.publishes),
        key=lambda pair: (pair[1].event_type, pair[1].event_version),
    )
    intro = [
        "Events travel in an envelope (docs/api.md §8); the event's own fields are its `payload`, camelCase on the "
        "wire. A producer writes the envelope to its outbox in the transaction that makes the change; the relay "
        "delivers it at least once, and each subscribed handler takes effect once (inbox per event and handler).",
    ]
    body = ["## Envelope", "", *render_fields(EventEnvelope), "", "## Events", ""]
    body += _table(
        ("event", "version", "producer", "subscribers"),
        (
            (
                _code(event.event_type),
                str(event.event_version),
                producer,
                ", ".join(subscribers.get(event.event_type, [])) or "-",
            )
            for producer, event in published
        ),
    )
    body.append("")
    for producer, event in published:
        doc = event.__dict__.get("__doc__")
        body += [f"### {event.event_type} (v{event.event_version})", ""]
        body.append(f"Producer: `{producer}` (`{event.__module__}.{event.__qualname__}`).")
        if isinstance(doc, str) and doc.strip():
            body += ["", doc.strip().splitlines()[0]]
        listeners = subscribers.get(event.event_type, [])
        body += ["", f"Subscribers: {', '.join(listeners) if listeners else 'none yet'}.", ""]
        body += [*render_fields(event), ""]
    if not published:
        body += ["No module publishes events yet.", ""]
    return _document("Event catalogue", intro, body)


# --- writing --------------------------------------------------------------------------------------------


def rendered(descriptors: Sequence[ModuleDescriptor] | None = None) -> dict[str, str]:
    """File name → content, for every generated file."""
    ordered = _ordered(descriptors)
    return {MODULE_MAP_FILE: render_module_map(ordered), EVENT_CATALOGUE_FILE: render_event_catalogue(ordered)}


def stale_files(docs_dir: Path, descriptors: Sequence[ModuleDescriptor] | None = None) -> list[str]:
    """Generated files that are missing or differ from what the descriptors say now."""
    stale = []
    for name, content in rendered(descriptors).items():
        path = docs_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            stale.append(name)
    return stale


def write_docs(docs_dir: Path = DOCS_DIR, descriptors: Sequence[ModuleDescriptor] | None = None) -> list[Path]:
    docs_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in rendered(descriptors).items():
        path = docs_dir / name
        path.write_text(content, encoding="utf-8", newline="\n")
        written.append(path)
    return written
