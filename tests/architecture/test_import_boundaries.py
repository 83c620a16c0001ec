"""Import boundaries (docs/architecture.md §2): the contracts hold on the tree, and each kind of planted violation
in a copy of the tree is caught — by the import-linter contracts in pyproject.toml and by `checks.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from checks import build_import_graph, declared_dependencies, dependency_violations, graph_violations

REPO = Path(__file__).resolve().parents[2]
CHECKS_SCRIPT = Path(__file__).resolve().with_name("checks.py")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACT_COUNT = len(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"])
API_CONTRACT = "A module's api.py and events.py are pure: stdlib, msgspec and kernel.contracts only"


@dataclass
class CheckRun:
    returncode: int
    output: str


def _environment(root: Path) -> dict[str, str]:
    """The copy's packages first on the path (`kernel` in src/, `modules` and `bootstrap` at the root)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}


def _start(command: list[str], root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own checkers, fixed arguments
        command,
        cwd=root,
        env=_environment(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> CheckRun:
    output, _ = process.communicate(timeout=120)
    return CheckRun(process.returncode, output)


def start_lint_imports(root: Path) -> subprocess.Popen[str]:
    """import-linter with the contracts of `root/pyproject.toml` (it reads the config in its cwd)."""
    return _start([str(LINT_IMPORTS), "--no-cache"], root)


def start_graph_checks(root: Path) -> subprocess.Popen[str]:
    return _start([sys.executable, str(CHECKS_SCRIPT)], root)


def run_both(root: Path) -> tuple[CheckRun, CheckRun]:
    """(import-linter, checks.py) on the tree at `root`, side by side."""
    lint, graph = start_lint_imports(root), start_graph_checks(root)
    return _finish(lint), _finish(graph)


def copy_tree(destination: Path) -> Path:
    """The three root packages and the contracts config, as they are in the checkout."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "src" / "kernel", destination / "src" / "kernel", ignore=ignore)
    shutil.copytree(REPO / "modules", destination / "modules", ignore=ignore)
    shutil.copytree(REPO / "bootstrap", destination / "bootstrap", ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", destination / "pyproject.toml")
    return destination


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def append(root: Path, relative: str, text: str) -> None:
    path = root / relative
    assert path.is_file(), f"{relative} is gone from the tree; the planted violation needs a new home"
    path.write_text(path.read_text() + "\n" + text + "\n")


def plant_fake_module(root: Path, depends_on: tuple[str, ...], internal_imports: str = "") -> None:
    """A second, well-formed module `fakemod`; `internal_imports` lands in its internal/service.py."""
    write(root, "modules/fakemod/__init__.py", '"""A module planted by the architecture tests."""\n')
    write(
        root,
        "modules/fakemod/api.py",
        "from typing import Protocol\n\nimport msgspec\n\n\n"
        "class FakeSummary(msgspec.Struct, frozen=True):\n    id: int\n\n\n"
        "class FakeDirectory(Protocol):\n"
        "    async def get_fake(self, fake_id: int) -> FakeSummary | None: ...\n",
    )
    write(root, "modules/fakemod/events.py", "from kernel.contracts.events import IntegrationEvent\n")
    write(
        root,
        "modules/fakemod/module.py",
        "from sqlalchemy import MetaData\n\n"
        "from kernel.modules import AssembledModule, DatabaseSpec, ModuleContext, ModuleDescriptor\n\n\n"
        "def assemble(context: ModuleContext) -> AssembledModule:\n"
        "    return AssembledModule(routes=[])\n\n\n"
        "descriptor = ModuleDescriptor(\n"
        '    name="fakemod",\n'
        '    summary="planted",\n'
        "    assemble=assemble,\n"
        '    database=DatabaseSpec(metadata=MetaData(), default_file="fakemod.sqlite"),\n'
        '    route_prefixes=("/fakes",),\n'
        f"    depends_on={depends_on!r},\n"
        ")\n",
    )
    write(root, "modules/fakemod/internal/__init__.py", "")
    write(root, "modules/fakemod/internal/service.py", f"import msgspec\n{internal_imports}\n")


def declare_carrier_dependency(root: Path, dependency: str) -> None:
    append(
        root,
        "modules/carrier/module.py",
        f"import dataclasses as _planted\n\ndescriptor = _planted.replace(descriptor, depends_on=({dependency!r},))",
    )


# --- the real tree --------------------------------------------------------------------------------


def test_import_linter_contracts_are_kept_on_the_tree() -> None:
    run = _finish(start_lint_imports(REPO))

    assert run.returncode == 0, run.output
    assert f"Contracts: {CONTRACT_COUNT} kept, 0 broken." in run.output, run.output


def test_graph_checks_find_nothing_on_the_tree() -> None:
    depends_on = declared_dependencies()

    assert "carrier" in depends_on
    assert graph_violations(build_import_graph(), depends_on) == []


def test_declared_dependencies_name_modules_and_form_no_cycle() -> None:
    assert dependency_violations(declared_dependencies(), {}) == []


@pytest.mark.parametrize(
    ("depends_on", "imported", "expected"),
    [
        pytest.param(
            {"alpha": ("beta",), "beta": ("alpha",)},
            {},
            "cycle between modules, declared (depends_on): alpha -> beta -> alpha",
            id="declared-cycle",
        ),
        pytest.param(
            {"alpha": ("beta",), "beta": ("gamma",), "gamma": ()},
            {"alpha": {"beta"}, "beta": {"gamma"}, "gamma": {"alpha"}},
            "cycle between modules, imported: alpha -> beta -> gamma -> alpha",
            id="imported-cycle",
        ),
        pytest.param(
            {"alpha": ("omega",)},
            {},
            "module 'alpha' declares depends_on 'omega', which is not a module",
            id="unknown",
        ),
        pytest.param(
            {"alpha": ("alpha",)},
            {},
            "module 'alpha' declares depends_on 'alpha', itself",
            id="itself",
        ),
    ],
)
def test_broken_declared_dependencies_are_reported(
    depends_on: dict[str, tuple[str, ...]], imported: dict[str, set[str]], expected: str
) -> None:
    assert expected in dependency_violations(depends_on, imported)


def test_unplanted_copy_passes_both_checkers(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)

    lint, graph = run_both(root)

    assert lint.returncode == 0, lint.output
    assert graph.returncode == 0, graph.output


def test_fake_module_using_a_declared_dependency_through_its_api_passes(tmp_path: Path) -> None:
    """The control for the planted cases below: a second module on its own, correctly wired, is clean."""
    root = copy_tree(tmp_path)
    plant_fake_module(
        root,
        depends_on=("carrier",),
        internal_imports=(
            "from modules.carrier.api import CarrierDirectory\nfrom modules.carrier.events import CarrierCreated"
        ),
    )

    lint, graph = run_both(root)

    assert lint.returncode == 0, lint.output
    assert graph.returncode == 0, graph.output


# --- planted violations ---------------------------------------------------------------------------


@dataclass
class Plant:
    """One forbidden import, where it goes, and what each checker must say about it."""

    id: str
    files: dict[str, str] = field(default_factory=dict)
    """New files (relative path → text)."""
    appended: dict[str, str] = field(default_factory=dict)
    """Lines added to the end of existing files."""
    fake_module: tuple[tuple[str, ...], str] | None = None
    """(depends_on, imports in its internal/service.py) of a second module `fakemod`."""
    carrier_depends_on: str | None = None
    broken_contract: str | None = None
    """Full name of the import-linter contract that must break; None where only checks.py can see it."""
    graph_report: str = ""
    """Text the graph check must print; empty where the rule is import-linter's alone (one enforcer per rule,
    so the graph check must then pass)."""


PLANTS = [
    Plant(
        id="kernel-imports-a-module",
        files={"src/kernel/leak.py": "from modules.carrier.api import CarrierSummary\n"},
        broken_contract="The kernel knows no module and not bootstrap",
    ),
    Plant(
        id="kernel-imports-bootstrap",
        appended={"src/kernel/health.py": "import bootstrap.catalog"},
        broken_contract="The kernel knows no module and not bootstrap",
    ),
    Plant(
        id="api-imports-sqlalchemy",
        appended={"modules/carrier/api.py": "import sqlalchemy"},
        broken_contract=API_CONTRACT,
    ),
    Plant(
        id="events-imports-the-impure-kernel",
        appended={"modules/carrier/events.py": "from kernel.settings import Settings"},
        broken_contract=API_CONTRACT,
    ),
    Plant(
        id="kernel-contracts-imports-litestar",
        files={"src/kernel/contracts/leak.py": "import litestar\n"},
        broken_contract="kernel.contracts is pure: stdlib and msgspec only",
    ),
    Plant(
        id="module-imports-bootstrap",
        files={"modules/carrier/internal/leak.py": "from bootstrap.catalog import available_modules\n"},
        broken_contract="Modules never import bootstrap",
    ),
    Plant(
        id="module-imports-another-modules-internal",
        fake_module=(("carrier",), "from modules.carrier.internal.models import Carrier"),
        broken_contract="A module reaches another module only through its api and events",
    ),
    Plant(
        id="module-imports-another-modules-descriptor",
        fake_module=(("carrier",), "from modules.carrier.module import descriptor"),
        broken_contract="Only bootstrap imports a module's descriptor (module.py)",
    ),
    Plant(
        id="module-imports-its-own-descriptor",
        files={"modules/carrier/internal/leak.py": "from modules.carrier.module import descriptor\n"},
        broken_contract="Only bootstrap imports a module's descriptor (module.py)",
    ),
    Plant(
        id="dependency-not-declared-in-depends-on",
        fake_module=((), "from modules.carrier.api import CarrierDirectory"),
        graph_report="module 'fakemod' imports module 'carrier', which its descriptor does not declare",
    ),
    Plant(
        id="cycle-between-declared-dependencies",
        fake_module=(("carrier",), "from modules.carrier.api import CarrierDirectory"),
        files={"modules/carrier/internal/leak.py": "from modules.fakemod.api import FakeDirectory\n"},
        carrier_depends_on="fakemod",
        broken_contract="No cycles between modules",
        graph_report="cycle between modules, imported: carrier -> fakemod -> carrier",
    ),
]


@pytest.mark.parametrize("plant", PLANTS, ids=[p.id for p in PLANTS])
def test_planted_violation_is_caught(plant: Plant, tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    for relative, text in plant.files.items():
        write(root, relative, text)
    for relative, text in plant.appended.items():
        append(root, relative, text)
    if plant.fake_module is not None:
        plant_fake_module(root, *plant.fake_module)
    if plant.carrier_depends_on is not None:
        declare_carrier_dependency(root, plant.carrier_depends_on)

    lint, graph = run_both(root)

    if plant.graph_report:
        assert graph.returncode == 1, graph.output
        assert plant.graph_report in graph.output, graph.output
    else:
        assert graph.returncode == 0, "import-linter owns this rule; checks.py must not repeat it\n" + graph.output
    if plant.broken_contract is None:
        assert lint.returncode == 0, "import-linter has no contract for this; only checks.py sees it\n" + lint.output
    else:
        assert lint.returncode != 0, lint.output
        assert f"{plant.broken_contract} BROKEN" in " ".join(lint.output.split()), lint.output
