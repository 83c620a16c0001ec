"""The committed module map and event catalogue are what the descriptors say now, and the check bites."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from click.testing import CliRunner
from litestar import get
from sqlalchemy import Column, Integer, Table
from sqlalchemy.ext.asyncio import AsyncSession

from bootstrap.cli import main as cli
from bootstrap.docs import (
    DOCS_DIR,
    EVENT_CATALOGUE_FILE,
    GENERATED_NOTICE,
    MODULE_MAP_FILE,
    all_descriptors,
    render_event_catalogue,
    render_module_map,
    stale_files,
)
from kernel.contracts.events import IntegrationEvent
from kernel.db.base import module_metadata
from kernel.events.envelope import EventEnvelope
from kernel.events.transport import Subscription
from kernel.http.access import requires
from kernel.modules import AssembledModule, DatabaseSpec, ModuleContext, ModuleDescriptor
from modules.carrier.api import CarrierDirectory
from modules.carrier.events import CarrierDeactivated

STALE_HINT = "docs are stale: run `uv run freightdesk docs` and commit the result"


def test_committed_module_map_is_fresh() -> None:
    committed = (DOCS_DIR / MODULE_MAP_FILE).read_text(encoding="utf-8")
    assert committed == render_module_map(), STALE_HINT


def test_committed_event_catalogue_is_fresh() -> None:
    committed = (DOCS_DIR / EVENT_CATALOGUE_FILE).read_text(encoding="utf-8")
    assert committed == render_event_catalogue(), STALE_HINT


def test_generated_files_say_they_are_generated() -> None:
    for text in (render_module_map(), render_event_catalogue()):
        assert text.splitlines()[0] == GENERATED_NOTICE
        assert text.endswith("\n")
        assert not text.endswith("\n\n")


def test_rendering_is_deterministic() -> None:
    assert render_module_map() == render_module_map(list(reversed(all_descriptors())))
    assert render_event_catalogue() == render_event_catalogue(list(reversed(all_descriptors())))


def test_every_module_and_published_event_appears() -> None:
    module_map, catalogue = render_module_map(), render_event_catalogue()
    for descriptor in all_descriptors():
        assert f"## {descriptor.name}\n" in module_map
        assert f"`{descriptor.name.upper()}_DATABASE_URL`" in module_map
        for event in descriptor.publishes:
            assert f"### {event.event_type} (v{event.event_version})" in catalogue


# --- the check bites: a module or an event added without regenerating changes the output ---------------


class LaneOpened(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "lane.opened"
    event_version: ClassVar[int] = 2
    lane_id: int
    origin_country: str
    note: str | None = None


async def close_lanes_of_carrier(session: AsyncSession, event: Any, envelope: EventEnvelope) -> None:
    """A fake handler: never run, only named."""


@get("/lanes/{lane_id:int}", opt=requires("lanes.read"), summary="One lane")
async def get_lane(lane_id: int) -> dict[str, int]:
    return {"id": lane_id}


class LaneDirectory:
    """Stands in for a Protocol the fake module would provide."""


def assemble_lanes(context: ModuleContext, *, carriers: CarrierDirectory) -> AssembledModule:
    return AssembledModule(
        routes=[get_lane],
        provides={LaneDirectory: LaneDirectory()},
        subscriptions=[Subscription(CarrierDeactivated, close_lanes_of_carrier)],
    )


def fake_lane_module() -> ModuleDescriptor:
    metadata = module_metadata("lane")
    Table("lanes", metadata, Column("id", Integer, primary_key=True))
    return ModuleDescriptor(
        name="lane",
        summary="Lanes between countries",
        database=DatabaseSpec(metadata=metadata, default_file="lane.sqlite"),
        route_prefixes=("/lanes",),
        depends_on=("carrier",),
        provides=(LaneDirectory,),
        publishes=(LaneOpened,),
        subscribes_to=(CarrierDeactivated,),
        assemble=assemble_lanes,
    )


def test_an_added_module_changes_the_module_map() -> None:
    with_fake = render_module_map([*all_descriptors(), fake_lane_module()])
    assert with_fake != render_module_map()
    assert "## lane\n" in with_fake
    assert "m_lane -->|depends on| m_carrier" in with_fake
    assert 'm_carrier -.->|"carrier.deactivated"| m_lane' in with_fake
    for expected in (
        "`LANE_DATABASE_URL`",
        "`lane.sqlite`",
        "`/api/v1/lanes`",
        "`lanes`",
        "`LaneDirectory`",
        "`lane.opened v2`",
        "carrier.deactivated v1 (from carrier)",
        "| GET | `/api/v1/lanes/{lane_id:int}` | `lanes.read` | One lane |",
    ):
        assert expected in with_fake, expected


def test_an_added_event_changes_the_catalogue() -> None:
    with_fake = render_event_catalogue([*all_descriptors(), fake_lane_module()])
    assert with_fake != render_event_catalogue()
    assert "### lane.opened (v2)" in with_fake
    assert "| `laneId` | `int` | yes |" in with_fake
    assert "| `originCountry` | `str` | yes |" in with_fake
    assert "| `note` | `str \\| None` | no |" in with_fake
    assert "lane (" in with_fake.split("### carrier.deactivated (v1)", 1)[1].split("###", 1)[0]


def test_stale_files_are_reported_and_rewritten(tmp_path: Path) -> None:
    assert stale_files(tmp_path) == [MODULE_MAP_FILE, EVENT_CATALOGUE_FILE]
    runner = CliRunner()
    assert runner.invoke(cli, ["docs", "--out", str(tmp_path), "--check"]).exit_code == 1
    assert runner.invoke(cli, ["docs", "--out", str(tmp_path)]).exit_code == 0
    assert stale_files(tmp_path) == []
    assert runner.invoke(cli, ["docs", "--out", str(tmp_path), "--check"]).exit_code == 0
    assert stale_files(tmp_path, [*all_descriptors(), fake_lane_module()]) == [MODULE_MAP_FILE, EVENT_CATALOGUE_FILE]
