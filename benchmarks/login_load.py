"""Benchmark: do password hashes stall other requests? 16 concurrent logins vs. a carrier reader.

Starts the real server (one uvicorn worker; carrier on a throwaway MariaDB database, identity on the
embedded default), then measures `GET /api/v1/carriers/{id}` latency alone, and again while 16 connections
log in back to back (`POST /api/v1/auth/login` as the seeded admin: argon2id verification each time).
Reports login throughput and the carrier read's p50/p99 with and without the login load. Target (issue):
p99 under login load at most 3 times p99 without. Results go to stdout and `benchmarks/results/login_load.{md,json}`.

    uv run python benchmarks/login_load.py [--duration 20] [--readers 4] [--logins 16]

Needs wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import carrier_read
import harness as base

P99_RATIO_TARGET = 3.0
ADMIN = {"email": "admin@example.com", "password": "admin123"}
WRK_LOGIN = f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{json.dumps(ADMIN)}'
request = function() return wrk.format("POST", "/api/v1/auth/login") end
{base.WRK_DONE}"""


@dataclass(frozen=True)
class Phase:
    name: str
    reads: base.LoadResult
    logins: base.LoadResult | None


def wrk(
    server: base.Server, script: str, connections: int, duration: float, workdir: Path, name: str
) -> base.LoadResult:
    settings = base.LoadSettings("wrk", connections, threads=1, timeout_s=10.0)
    return base.run_wrk(server, name, script, settings, duration, workdir)


def measure(server: base.Server, duration: float, readers: int, logins: int, workdir: Path) -> list[Phase]:
    wrk(server, carrier_read.WRK_CARRIER, readers, 3, workdir, "warmup")
    alone = Phase("reads alone", wrk(server, carrier_read.WRK_CARRIER, readers, duration, workdir, "reads"), None)
    with ThreadPoolExecutor(max_workers=2) as pool:
        login_load = pool.submit(wrk, server, WRK_LOGIN, logins, duration + 2, workdir, "logins")
        reads = pool.submit(wrk, server, carrier_read.WRK_CARRIER, readers, duration, workdir, "reads-under-load")
        loaded = Phase("reads during 16 concurrent logins", reads.result(), login_load.result())
    return [alone, loaded]


def render(phases: list[Phase], machine: dict[str, str], logins: int) -> tuple[str, dict[str, object]]:
    alone, loaded = phases
    assert loaded.logins is not None
    ratio = (loaded.reads.p99_ms or 0) / (alone.reads.p99_ms or 1)
    verdict = "pass" if ratio <= P99_RATIO_TARGET else "FAIL"
    errors = alone.reads.errors + loaded.reads.errors + loaded.logins.errors
    rows = [
        f"| carrier read p50 / p99, alone | {alone.reads.p50_ms:.1f} / {alone.reads.p99_ms:.1f} ms | | |",
        f"| carrier read p50 / p99, during logins | {loaded.reads.p50_ms:.1f} / {loaded.reads.p99_ms:.1f} ms | | |",
        f"| p99 during / p99 alone | {ratio:.2f} | <= {P99_RATIO_TARGET} | {verdict} |",
        f"| carrier reads/s, alone / during logins | {alone.reads.rps:.0f} / {loaded.reads.rps:.0f} | | |",
        f"| login throughput ({logins} concurrent) | {loaded.logins.rps:.1f} logins/s | | |",
        f"| login p50 / p99 | {loaded.logins.p50_ms:.0f} / {loaded.logins.p99_ms:.0f} ms | | |",
        f"| errors (reads alone, reads loaded, logins) | {alone.reads.errors}, {loaded.reads.errors}, "
        f"{loaded.logins.errors} | 0 | {'FAIL' if errors else 'pass'} |",
    ]
    info = "\n".join(f"- {key}: {value}" for key, value in machine.items())
    markdown = "\n".join(
        [
            "# Login load vs. carrier reads",
            "",
            f"Measured {datetime.now(UTC).isoformat(timespec='seconds')} with `benchmarks/login_load.py`.",
            "",
            "| measure | value | target | |",
            "| --- | --- | --- | --- |",
            *rows,
            "",
            info,
            "",
        ]
    )
    data: dict[str, object] = {
        "p99_ratio": ratio,
        "pass": verdict == "pass",
        "phases": [
            {"name": p.name, "reads": asdict(p.reads), "logins": asdict(p.logins) if p.logins else None} for p in phases
        ],
        "machine": machine,
    }
    return markdown, data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql-url", default=os.environ.get("FREIGHTDESK_BENCH_MYSQL_URL", base.DEFAULT_MYSQL_URL))
    parser.add_argument("--database", default="fdbench_login")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--logins", type=int, default=16)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        base.log("wrk is not on PATH (apt-get install wrk)")
        return 1
    server_info = base.MySqlServer.from_url(args.mysql_url)
    database = base.BenchDatabase(server_info, args.database)
    workdir = Path(tempfile.mkdtemp(prefix="fdbench-login-"))
    try:
        database.create()
        machine = base.machine_info(database.version(), "wrk")
        carrier_url = server_info.database_url(args.database)
        with base.running_server(workdir, {"CARRIER_DATABASE_URL": carrier_url}) as server:
            base.wait_ready(server, 60)
            server.token = base.access_token(server.env, 3600, carrier_read.PERMISSIONS)
            carrier_read.check_routes(server)
            phases = measure(server, args.duration, args.readers, args.logins, workdir)
    except (base.BenchmarkError, subprocess.SubprocessError, OSError) as exc:
        base.log(f"failed: {exc}")
        return 1
    finally:
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    markdown, data = render(phases, machine, args.logins)
    print(markdown)
    base.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (base.RESULTS_DIR / "login_load.md").write_text(markdown)
    (base.RESULTS_DIR / "login_load.json").write_text(json.dumps(data, indent=2) + "\n")
    return 0 if data["pass"] else 2


if __name__ == "__main__":
    sys.exit(main())
