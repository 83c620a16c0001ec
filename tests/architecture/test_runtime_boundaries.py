"""Boundaries visible only at run time (docs/architecture.md §2): tables, foreign keys, registries, routes,
events and public interfaces — checked on the real descriptors, and shown to catch planted fakes.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import ClassVar, Protocol, TypeVar

import msgspec
import pytest
from checks import (
    api_violations,
    event_violations,
    foreign_key_violations,
    mapped_classes,
    registry_violations,
    route_violations,
    table_violations,
)
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bootstrap.app import create_app
from bootstrap.catalog import available_modules, load_descriptor
from kernel.contracts.errors import NotFound
from kernel.contracts.events import IntegrationEvent
from kernel.db.base import module_base
from kernel.modules import ModuleDescriptor
from kernel.settings import Settings


@pytest.fixture(scope="module")
def descriptors() -> dict[str, ModuleDescriptor]:
    found = {name: load_descriptor(name) for name in available_modules()}
    assert "carrier" in found
    return found


def metadata_of(descriptors: dict[str, ModuleDescriptor]) -> dict[str, MetaData]:
    return {name: descriptor.database.metadata for name, descriptor in descriptors.items()}


def public_module(module: str, part: str) -> ModuleType | None:
    name = f"modules.{module}.{part}"
    return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None


# --- tables ---------------------------------------------------------------------------------------


def test_each_module_owns_its_tables(descriptors: dict[str, ModuleDescriptor]) -> None:
    metadata = metadata_of(descriptors)

    assert {"carriers", "carrier_event_outbox"} <= set(metadata["carrier"].tables)
    assert table_violations(metadata) == []


def test_a_table_name_in_two_modules_is_reported() -> None:
    first, second = MetaData(), MetaData()
    Table("shipments", first, Column("id", Integer, primary_key=True))
    Table("shipments", second, Column("id", Integer, primary_key=True))

    assert table_violations({"alpha": first, "beta": second}) == [
        "table 'shipments' is in the metadata of several modules: alpha, beta"
    ]


def test_an_event_table_without_its_modules_prefix_is_reported() -> None:
    metadata = MetaData()
    Table("beta_event_outbox", metadata, Column("id", Integer, primary_key=True))

    assert table_violations({"alpha": metadata}) == [
        "table 'beta_event_outbox' of module 'alpha': event tables are named alpha_event_*"
    ]


def test_two_modules_sharing_one_metadata_are_reported() -> None:
    shared = MetaData()

    assert table_violations({"alpha": shared, "beta": shared}) == ["modules 'alpha' and 'beta' share one MetaData"]


def test_a_module_on_another_modules_base_is_reported() -> None:
    assert table_violations({"beta": module_base("alpha").metadata}) == [
        "module 'beta' uses the MetaData of module 'alpha'"
    ]


# --- foreign keys ---------------------------------------------------------------------------------


def test_no_foreign_key_leaves_a_module(descriptors: dict[str, ModuleDescriptor]) -> None:
    assert foreign_key_violations(metadata_of(descriptors)) == []


def test_foreign_keys_inside_one_module_are_fine() -> None:
    metadata = MetaData()
    Table("alpha_lanes", metadata, Column("id", Integer, primary_key=True))
    Table(
        "alpha_stops",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("lane_id", ForeignKey("alpha_lanes.id")),
    )

    assert foreign_key_violations({"alpha": metadata}) == []


def test_a_foreign_key_by_name_to_another_modules_table_is_reported() -> None:
    alpha, beta = MetaData(), MetaData()
    Table("alpha_lanes", alpha, Column("id", Integer, primary_key=True))
    Table(
        "beta_quotes",
        beta,
        Column("id", Integer, primary_key=True),
        Column("lane_id", ForeignKey("alpha_lanes.id")),
    )

    assert foreign_key_violations({"alpha": alpha, "beta": beta}) == [
        "module 'beta': foreign key beta_quotes.lane_id -> alpha_lanes.id points outside its metadata"
    ]


def test_a_foreign_key_to_another_modules_column_object_is_reported() -> None:
    alpha, beta = MetaData(), MetaData()
    lanes = Table("alpha_lanes", alpha, Column("id", Integer, primary_key=True))
    Table(
        "beta_quotes",
        beta,
        Column("id", Integer, primary_key=True),
        Column("lane_id", ForeignKey(lanes.c.id)),
    )

    assert foreign_key_violations({"alpha": alpha, "beta": beta}) == [
        "module 'beta': foreign key beta_quotes.lane_id -> alpha_lanes.id points outside its metadata"
    ]


# --- registries -----------------------------------------------------------------------------------


def test_each_module_maps_its_classes_on_its_own_registry(descriptors: dict[str, ModuleDescriptor]) -> None:
    metadata = metadata_of(descriptors)
    classes = mapped_classes(DeclarativeBase)
    carrier_tables = {cls.__table__.name for cls in classes if cls.__table__.metadata is metadata["carrier"]}  # type: ignore[attr-defined]

    assert {"carriers", "carrier_event_outbox"} <= carrier_tables
    assert registry_violations(metadata, classes) == []


def mapped_rate(base: type[DeclarativeBase], table: str) -> type[DeclarativeBase]:
    class Rate(base):  # type: ignore[valid-type,misc]
        __tablename__ = table
        id: Mapped[int] = mapped_column(primary_key=True)

    return Rate


def test_same_class_name_in_two_modules_is_fine_on_separate_registries() -> None:
    alpha, beta = module_base("regalpha"), module_base("regbeta")
    classes = [mapped_rate(alpha, "regalpha_rates"), mapped_rate(beta, "regbeta_rates")]

    assert [cls.__name__ for cls in classes] == ["Rate", "Rate"]
    assert registry_violations({"regalpha": alpha.metadata, "regbeta": beta.metadata}, classes) == []


def test_a_class_on_another_modules_registry_is_reported() -> None:
    alpha, beta = module_base("regalpha"), module_base("regbeta")
    quotes = Table("regbeta_quotes", beta.metadata, Column("id", Integer, primary_key=True))

    class Quote(alpha):  # type: ignore[valid-type,misc]
        __table__ = quotes

    violations = registry_violations({"regalpha": alpha.metadata, "regbeta": beta.metadata}, [Quote])

    assert len(violations) == 1
    assert "table 'regbeta_quotes' belongs to module 'regbeta'" in violations[0]
    assert "mapped on the registry of 'regalpha'" in violations[0]


# --- routes ---------------------------------------------------------------------------------------


def routes_by_module(data_dir: Path) -> dict[str, list[str]]:
    """Route paths of the app hosting every module, grouped by the module whose code handles them."""
    values = {"FREIGHTDESK_DATA_DIR": str(data_dir), "FREIGHTDESK_LOG_LEVEL": "WARNING"}
    app = create_app(Settings.from_mapping(values))
    paths: dict[str, list[str]] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            package, _, rest = getattr(handler.fn, "__module__", "").partition(".")
            if package == "modules":
                paths.setdefault(rest.split(".")[0], []).append(route.path)
    return paths


def test_each_module_serves_only_under_its_own_prefixes(
    descriptors: dict[str, ModuleDescriptor], tmp_path: Path
) -> None:
    paths = routes_by_module(tmp_path)
    assert sorted(paths) == sorted(descriptors)
    prefixes = {name: descriptor.route_prefixes for name, descriptor in descriptors.items()}

    assert "/api/v1/carriers" in paths["carrier"]
    assert route_violations(prefixes, paths) == []


def test_a_route_prefix_claimed_by_two_modules_is_reported() -> None:
    violations = route_violations({"alpha": ("/carriers",), "beta": ("/carriers",)}, {})

    assert violations == ["route prefix '/carriers' of module 'beta' overlaps '/carriers' of module 'alpha'"]


def test_a_route_prefix_inside_another_modules_prefix_is_reported() -> None:
    violations = route_violations({"alpha": ("/carriers",), "beta": ("/carriers/rates",)}, {})

    assert violations == ["route prefix '/carriers/rates' of module 'beta' overlaps '/carriers' of module 'alpha'"]


def test_prefixes_sharing_only_a_stem_do_not_overlap() -> None:
    assert route_violations({"alpha": ("/carriers",), "beta": ("/carriers-archive",)}, {}) == []


def test_a_route_outside_the_modules_prefixes_is_reported() -> None:
    paths = {"alpha": ["/api/v1/health", "/metrics", "/api/v1/lanes", "/api/v1/lanes/{id:int}", "/api/v1/quotes"]}

    assert route_violations({"alpha": ("/lanes",)}, paths) == [
        "module 'alpha' serves '/api/v1/quotes', outside its route prefixes ['/api/v1/lanes']"
    ]


def test_a_malformed_prefix_is_reported() -> None:
    assert route_violations({"alpha": ("lanes/",)}, {}) == [
        "module 'alpha': route prefix 'lanes/' is not like '/carriers'"
    ]


# --- events ---------------------------------------------------------------------------------------


def test_published_events_are_frozen_typed_versioned_and_listed(
    descriptors: dict[str, ModuleDescriptor],
) -> None:
    publishes = {name: descriptor.publishes for name, descriptor in descriptors.items()}
    events_modules = {name: public_module(name, "events") for name in descriptors}

    assert publishes["carrier"]
    assert event_violations(publishes, events_modules) == []


FAKE_EVENTS = "modules.fake.events"
C = TypeVar("C", bound=type)


def defined_in(module: str) -> Callable[[C], C]:
    """Make a fake class look defined in `module` (set after creation: its annotations resolve here)."""

    def place(cls: C) -> C:
        cls.__module__ = module
        return cls

    return place


@defined_in(FAKE_EVENTS)
class FakeCreated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "fake.created"
    event_version: ClassVar[int] = 1
    fake_id: int


@defined_in(FAKE_EVENTS)
class FakeThawed(IntegrationEvent, frozen=False, kw_only=True):
    event_type: ClassVar[str] = "fake.thawed"
    event_version: ClassVar[int] = 1


@defined_in(FAKE_EVENTS)
class FakeMislabelled(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "carrier.created"
    event_version: ClassVar[int] = 1


@defined_in(FAKE_EVENTS)
class FakeUnlisted(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "fake.forgotten"
    event_version: ClassVar[int] = 1


@defined_in(FAKE_EVENTS)
class FakePlainStruct(msgspec.Struct, frozen=True):
    event_type: ClassVar[str] = "fake.plain"
    event_version: ClassVar[int] = 1


class FakeElsewhere(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "fake.elsewhere"
    event_version: ClassVar[int] = 1


def fake_module(name: str, *classes: type) -> ModuleType:
    module = ModuleType(name)
    for cls in classes:
        setattr(module, cls.__name__, cls)
    return module


def test_a_clean_fake_producer_passes() -> None:
    events = fake_module(FAKE_EVENTS, FakeCreated)

    assert event_violations({"fake": [FakeCreated]}, {"fake": events}) == []


@pytest.mark.parametrize(
    ("publishes", "defined", "expected"),
    [
        pytest.param(
            [FakeCreated, FakeThawed],
            [FakeCreated, FakeThawed],
            f"{FAKE_EVENTS}.FakeThawed, which is not a frozen msgspec Struct",
            id="not-frozen",
        ),
        pytest.param(
            [FakeMislabelled],
            [FakeMislabelled],
            f"{FAKE_EVENTS}.FakeMislabelled.event_type 'carrier.created' does not start with 'fake.'",
            id="type-of-another-module",
        ),
        pytest.param(
            [FakeCreated],
            [FakeCreated, FakeUnlisted],
            f"{FAKE_EVENTS}.FakeUnlisted is defined in events.py but not listed in publishes",
            id="defined-but-not-published",
        ),
        pytest.param(
            [FakePlainStruct],
            [FakePlainStruct],
            f"module 'fake' publishes {FAKE_EVENTS}.FakePlainStruct, which is not an IntegrationEvent",
            id="not-an-integration-event",
        ),
        pytest.param(
            [FakeCreated, FakeElsewhere],
            [FakeCreated],
            "FakeElsewhere, which is not defined in its events.py",
            id="published-from-outside-events-py",
        ),
        pytest.param(
            [FakeCreated, FakeCreated],
            [FakeCreated],
            "module 'fake' publishes fake.created v1 twice",
            id="same-type-and-version-twice",
        ),
    ],
)
def test_a_malformed_event_is_reported(publishes: list[type], defined: list[type], expected: str) -> None:
    violations = event_violations({"fake": publishes}, {"fake": fake_module(FAKE_EVENTS, *defined)})

    assert any(expected in violation for violation in violations), violations


def test_an_event_type_published_by_two_modules_is_reported() -> None:
    @defined_in("modules.fake.events")
    class Impostor(IntegrationEvent, frozen=True, kw_only=True):
        event_type: ClassVar[str] = "fake.created"
        event_version: ClassVar[int] = 2

    violations = event_violations({"fake": [FakeCreated, Impostor]}, {})
    assert violations == []  # a new version of its own event is fine

    violations = event_violations({"fake": [FakeCreated], "carrier": [Impostor]}, {})
    assert "event type 'fake.created' is published by several modules: carrier, fake" in violations


def test_an_event_version_below_one_is_reported() -> None:
    @defined_in(FAKE_EVENTS)
    class Unversioned(msgspec.Struct, frozen=True):
        event_type: ClassVar[str] = "fake.unversioned"
        event_version: ClassVar[int] = 0

    violations = event_violations({"fake": [Unversioned]}, {})

    assert f"{FAKE_EVENTS}.Unversioned.event_version 0 is not an int >= 1" in violations


# --- public interfaces ----------------------------------------------------------------------------


def test_each_api_offers_a_protocol_and_frozen_dtos(descriptors: dict[str, ModuleDescriptor]) -> None:
    apis = {name: public_module(name, "api") for name in descriptors}
    missing = sorted(name for name, api in apis.items() if api is None)

    assert missing == [], f"modules without api.py: {missing}"
    assert api_violations({name: api for name, api in apis.items() if api is not None}) == []


FAKE_API = "modules.fake.api"


@defined_in(FAKE_API)
class FakeDirectory(Protocol):
    async def get_fake(self, fake_id: int) -> FakeSummary | None: ...


@defined_in(FAKE_API)
class FakeSummary(msgspec.Struct, frozen=True):
    id: int


@defined_in(FAKE_API)
class FakeStatus(StrEnum):
    ACTIVE = "active"


@defined_in(FAKE_API)
class FakeNotFound(NotFound):
    default_message = "Fake not found"


@defined_in(FAKE_API)
class FakeMutableSummary(msgspec.Struct):
    id: int


@defined_in(FAKE_API)
@dataclass(frozen=True)
class FakeDataclassSummary:
    id: int


def test_a_clean_fake_api_passes() -> None:
    api = fake_module(FAKE_API, FakeDirectory, FakeSummary, FakeStatus, FakeNotFound, msgspec.Struct, Protocol)

    assert api_violations({"fake": api}) == []


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        pytest.param(
            [FakeDirectory, FakeMutableSummary],
            f"{FAKE_API}.FakeMutableSummary is a DTO of module 'fake' but not a frozen msgspec Struct",
            id="mutable-struct",
        ),
        pytest.param(
            [FakeDirectory, FakeDataclassSummary],
            f"{FAKE_API}.FakeDataclassSummary: api.py DTOs must be frozen msgspec Structs",
            id="dataclass-dto",
        ),
        pytest.param([FakeSummary], f"{FAKE_API} defines no typing.Protocol", id="no-protocol"),
    ],
)
def test_a_malformed_api_is_reported(classes: list[type], expected: str) -> None:
    assert api_violations({"fake": fake_module(FAKE_API, *classes)}) == [expected]
