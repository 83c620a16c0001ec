"""Benchmark how the list, search, count and history routes and a calculation cost as the data grows.

Generates two businesses on MariaDB with `growth_data.py` (`small`: 1,000 customers, carriers, rules and
calculations; `full`: 100,000 customers, 10,000 carriers, 10,000 rules, 1,000,000 calculations), starts a real
`freightdesk run` (one uvicorn worker) on each, both running side by side, and measures every operation of
`OPERATIONS` on both in interleaved rounds: per run one keep-alive connection sending requests back to back
(wrk `-c1`, or the built-in client), so the latency is the cost of one request, not a queue. Reports per
operation and scale the median over the rounds of the p50 latency and of the server's CPU time per request
(`/proc/<pid>/stat`), and the ratio full / small against the target of at most 2. It also records, for the
statements each operation's reads run (captured by running the modules' read code on the same databases),
MariaDB's `ANALYZE` (the plan with the rows actually read). Results go to stdout and to
`benchmarks/results/growth.{md,json}`.

    uv run python benchmarks/growth.py                                   # ~15 min: generation, 3 rounds
    uv run python benchmarks/growth.py --duration 2 --rounds 1           # a quick look
    uv run python benchmarks/growth_data.py --scale both --keep --prefix fdbench_growth_mine
    uv run python benchmarks/growth.py --reuse --prefix fdbench_growth_mine   # on data kept before

`run_growth(...)` does the whole run and returns the report as a dict, for a benchmark that runs several.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from growth_data import SCALES, Dataset, datasets
from harness import (
    DEFAULT_MYSQL_URL,
    RESULTS_DIR,
    WRK_DONE,
    WRK_SEEDED,
    BenchmarkError,
    LoadResult,
    LoadSettings,
    MySqlServer,
    Route,
    Server,
    access_token,
    git_describe,
    http_request,
    load_average,
    log,
    lua_string,
    machine_info,
    resolve_load_generator,
    rss_mb,
    run_load,
    running_server,
    shown_path,
    wait_ready,
    write_text_atomically,
)

TARGET_RATIO = 2.0
UNCACHED_REPEATS = 7
PERMISSIONS = ("customers.list", "carriers.list", "pricing.view", "pricing.calculate")
DEEP_PAGE = 5_000
LIMIT = 10
CALCULATIONS = "/api/v1/pricing/calculations"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Operation:
    key: str
    shown: str
    what: str
    calls: Callable[[Dataset, Server], list[Call]]
    """The requests it sends, one picked at random per request (built once per scale)."""


def _get(path: str, **query: Any) -> Call:
    return Call("GET", f"{path}?{urlencode(query)}" if query else path)


def _week_windows(dataset: Dataset) -> list[Call]:
    """Random 7-day windows (dateFrom..dateTo, whole UTC days) within the data's two years."""
    first, last = (datetime.fromisoformat(moment).date() for moment in dataset.span)
    rng = random.Random(5)
    days = (last - first).days - 7
    calls = []
    for _ in range(100):
        start = first + timedelta(days=rng.randint(1, days))
        calls.append(_get(CALCULATIONS, dateFrom=start.isoformat(), dateTo=(start + timedelta(days=6)).isoformat()))
    return calls


def _deep_page(dataset: Dataset) -> int:
    """Page 5,000 of 10 where there is one (full), else the last page (small: page 100 of 1,000 rows)."""
    return min(DEEP_PAGE, dataset.counts["price_calculations"] // LIMIT)


def _deep_cursor(dataset: Dataset, server: Server) -> list[Call]:
    """The keyset equivalent of the deep page: the cursor the page before it hands out."""
    before = expect(server, "GET", f"{CALCULATIONS}?{urlencode({'page': _deep_page(dataset) - 1, 'limit': LIMIT})}")
    cursor = before["nextCursor"]
    if not cursor:
        raise BenchmarkError("the page before the deep page handed out no cursor")
    return [_get(CALCULATIONS, cursor=cursor, limit=LIMIT)]


def _calculate(dataset: Dataset) -> list[Call]:
    rng = random.Random(7)
    return [
        Call("POST", "/api/v1/pricing/calculate", {**lane, "customerId": rng.choice(dataset.customer_ids)})
        for lane in dataset.lanes
    ]


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "customers_list",
        "GET /customers?page=1&limit=10",
        "first page, default order",
        lambda d, s: [_get("/api/v1/customers", page=1, limit=LIMIT)],
    ),
    Operation(
        "customers_search",
        "GET /customers?search=<name>",
        "a random 5-letter start of a common last name (about 1 in 150 customers)",
        lambda d, s: [_get("/api/v1/customers", search=t, limit=LIMIT) for t in d.customer_search_terms],
    ),
    Operation(
        "customers_count",
        "GET /customers/count",
        "all customers",
        lambda d, s: [_get("/api/v1/customers/count")],
    ),
    Operation(
        "carriers_list",
        "GET /carriers?page=1&limit=10",
        "first page, default order",
        lambda d, s: [_get("/api/v1/carriers", page=1, limit=LIMIT)],
    ),
    Operation(
        "carriers_search",
        "GET /carriers?search=<word>",
        "a random word of carrier names (about 1 in 30 carriers)",
        lambda d, s: [_get("/api/v1/carriers", search=t, limit=LIMIT) for t in d.carrier_search_terms],
    ),
    Operation("carriers_count", "GET /carriers/count", "all carriers", lambda d, s: [_get("/api/v1/carriers/count")]),
    Operation(
        "rules_list",
        "GET /pricing/rules?page=1&limit=10",
        "first page, default order",
        lambda d, s: [_get("/api/v1/pricing/rules", page=1, limit=LIMIT)],
    ),
    Operation(
        "rules_count", "GET /pricing/rules/count", "all rules", lambda d, s: [_get("/api/v1/pricing/rules/count")]
    ),
    Operation(
        "history_first",
        "GET /pricing/calculations?page=1&limit=10",
        "first page, newest first, with the total",
        lambda d, s: [_get(CALCULATIONS, page=1, limit=LIMIT)],
    ),
    Operation(
        "history_deep_page",
        "GET /pricing/calculations?page=5000&limit=10",
        "by page number: rows 49,991-50,000 (small: the last page, 991-1,000)",
        lambda d, s: [_get(CALCULATIONS, page=_deep_page(d), limit=LIMIT)],
    ),
    Operation(
        "history_deep_cursor",
        "GET /pricing/calculations?cursor=<page 4999's nextCursor>",
        "the same rows by cursor (keyset)",
        _deep_cursor,
    ),
    Operation(
        "history_by_carrier",
        "GET /pricing/calculations?carrierId=<id>",
        "a random carrier with calculations (200 of them)",
        lambda d, s: [_get(CALCULATIONS, carrierId=c, limit=LIMIT) for c in d.carrier_ids],
    ),
    Operation(
        "history_by_customer",
        "GET /pricing/calculations?customerId=<id>",
        "a random customer with calculations (200 of them)",
        lambda d, s: [
            _get(CALCULATIONS, customerId=c, limit=LIMIT) for c in d.customers_with_calculations or d.customer_ids
        ],
    ),
    Operation(
        "history_by_week",
        "GET /pricing/calculations?dateFrom=<day>&dateTo=<day+6>",
        "a random week of the two years",
        lambda d, s: _week_windows(d),
    ),
    Operation(
        "history_count",
        "GET /pricing/calculations/count",
        "all calculations",
        lambda d, s: [_get(f"{CALCULATIONS}/count")],
    ),
)
CALCULATE = Operation(
    "calculate",
    "POST /pricing/calculate",
    "a random priced lane (one of 300) with a random customer: carrier and customer checked, 10,000 rules "
    "compiled once, one calculation stored",
    lambda d, s: _calculate(d),
)
ALL_OPERATIONS = (*OPERATIONS, CALCULATE)


def _json(body: Mapping[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def expect(server: Server, method: str, path: str, body: Mapping[str, Any] | None = None, status: int = 200) -> Any:
    data = None if body is None else _json(body).encode()
    answered, raw = http_request(server.url(path), server.headers, method=method, body=data, timeout=60.0)
    try:
        document = json.loads(raw) if raw else None
    except ValueError:
        document = None
    if answered != status or not isinstance(document, dict):
        raise BenchmarkError(f"{method} {path} answered {answered}, expected {status}: {raw[:300]!r}")
    return document.get("data")


def route_of(key: str, calls: Sequence[Call]) -> Route:
    """wrk picks one of `calls` at random per request (a Lua table), as does the built-in client."""
    entries = []
    for call in calls:
        body = "nil" if call.body is None else lua_string(_json(call.body))
        entries.append(f"{{{lua_string(call.method)}, {lua_string(call.path)}, {body}}}")
    script = (
        WRK_SEEDED
        + 'wrk.headers["Content-Type"] = "application/json"\n'
        + "local calls = {\n  "
        + ",\n  ".join(entries)
        + "\n}\n"
        + "request = function()\n  local c = calls[math.random(#calls)]\n"
        + "  return wrk.format(c[1], c[2], nil, c[3])\nend\n"
        + WRK_DONE
    )
    encoded = [(c.method, c.path, None if c.body is None else _json(c.body).encode()) for c in calls]
    return Route(key, script, lambda: random.choice(encoded))


# ------------------------------------------------------------------------------------------------- plans


async def _explain(dataset: Dataset, deep_page: int) -> tuple[dict[str, list[dict[str, Any]]], dict[str, float]]:
    """MariaDB's ANALYZE of every statement each operation's reads run, captured from the modules' own read
    code on the dataset's databases (as the routes call it), and the median time of those reads in process with
    the modules' read caches dropped before each (what a read costs after a write)."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

    from kernel.db.keyset import CursorCodec
    from kernel.paging import ListParams
    from modules.carrier.internal.reads import CarrierReads
    from modules.customer.internal.reads import CustomerReads
    from modules.pricing.internal.reads import CalculationFilters, CalculationReads, PricingReads

    captured: list[tuple[str, Any]] = []
    engines: dict[str, AsyncEngine] = {}

    def engine(module: str) -> AsyncEngine:
        if module not in engines:
            made = create_async_engine(dataset.urls[f"{module.upper()}_DATABASE_URL"])

            @event.listens_for(made.sync_engine, "before_cursor_execute")
            def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
                if statement.lstrip().upper().startswith("SELECT"):
                    captured.append((statement, parameters))

            engines[module] = made
        return engines[module]

    customers, carriers = CustomerReads(engine("customer")), CarrierReads(engine("carrier"))
    rules = PricingReads(engine("pricing"))
    history = CalculationReads(engine("pricing"), CursorCodec("explain", "pricing.calculations"))
    before_deep = await history.page(ListParams(page=deep_page - 1), CalculationFilters())
    assert before_deep.next_cursor is not None
    cursor = history.open_cursor(before_deep.next_cursor)
    first_day = datetime.fromisoformat(dataset.span[0]) + timedelta(days=300)
    week = CalculationFilters(since=first_day, until=first_day + timedelta(days=7))
    reads: dict[str, Callable[[], Any]] = {
        "customers_list": lambda: customers.page(ListParams(), None),
        "customers_search": lambda: customers.page(ListParams(search=dataset.customer_search_terms[0]), None),
        "customers_count": lambda: customers.count(None),
        "carriers_list": lambda: carriers.page(ListParams(), None),
        "carriers_search": lambda: carriers.page(ListParams(search=dataset.carrier_search_terms[0]), None),
        "carriers_count": lambda: carriers.count(None),
        "rules_list": lambda: rules.rule_page(ListParams(), None, None),
        "rules_count": lambda: rules.rule_count(None, None),
        "history_first": lambda: history.page(ListParams(), CalculationFilters()),
        "history_deep_page": lambda: history.page(ListParams(page=deep_page), CalculationFilters()),
        "history_deep_cursor": lambda: history.page(ListParams(), CalculationFilters(), cursor),
        "history_by_carrier": lambda: history.page(ListParams(), CalculationFilters(carrier_id=dataset.carrier_ids[0])),
        "history_by_customer": lambda: history.page(
            ListParams(), CalculationFilters(customer_id=dataset.customer_ids[0])
        ),
        "history_by_week": lambda: history.page(ListParams(), week),
        "history_count": lambda: history.count(CalculationFilters()),
        "calculate (rule set load, once per change)": lambda: rules.active_rules(),
    }
    plans: dict[str, list[dict[str, Any]]] = {}
    uncached: dict[str, float] = {}
    try:
        for key, read in reads.items():
            took = []
            for _ in range(UNCACHED_REPEATS):
                for cached in (customers, carriers):
                    cached.cache.drop()  # the modules keep these reads until a write: time what a miss costs
                captured.clear()
                started = time.perf_counter()
                await read()
                took.append(time.perf_counter() - started)
            uncached[key] = round(statistics.median(took) * 1000, 2)
            statements = list(captured)
            module = (
                "customer" if key.startswith("customers") else "carrier" if key.startswith("carriers") else "pricing"
            )
            rows: list[dict[str, Any]] = []
            async with engine(module).connect() as connection:
                for number, (statement, parameters) in enumerate(statements, start=1):
                    result = await connection.exec_driver_sql("ANALYZE " + statement, parameters)
                    names = list(result.keys())
                    for row in result:
                        plan = dict(zip(names, row, strict=True))
                        rows.append(
                            {
                                "statement": number,
                                "sql": " ".join(statement.split())[:160],
                                "select_type": plan.get("select_type"),
                                "table": plan.get("table"),
                                "type": plan.get("type"),
                                "key": plan.get("key"),
                                "rows": _number(plan.get("rows")),
                                "r_rows": _number(plan.get("r_rows")),
                                "extra": plan.get("Extra") or "",
                            }
                        )
            plans[key] = rows
    finally:
        for made in engines.values():
            await made.dispose()
    return plans, uncached


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


BIG_READ = 5_000
"""Rows one step of a plan may read before the verdict names it (a page reads tens)."""


def plan_verdict(rows: Sequence[dict[str, Any]], big: int = BIG_READ) -> str:
    """What the plan reads, in a few words: the worst step of any statement."""
    worst = "index ranges and lookups only"
    for row in rows:
        read = row["r_rows"] or 0
        if row["type"] == "ALL" and read >= big:
            return f"full table scan of {row['table']} ({read:,.0f} rows)"
        if "filesort" in row["extra"] and read >= big:
            return f"sorts {read:,.0f} rows of {row['table']}"
        if row["type"] == "index" and read >= big:
            worst = f"reads {read:,.0f} entries of index {row['key']} of {row['table']}"
    return worst


# -------------------------------------------------------------------------------------------------- run


@dataclass
class Settings:
    mysql_url: str
    duration: float
    rounds: int
    warmup: float
    startup_timeout: float
    load_generator: str
    prefix: str | None
    reuse: bool
    keep: bool
    seed: int


def run_growth(
    *,
    mysql_url: str = DEFAULT_MYSQL_URL,
    duration: float = 5.0,
    rounds: int = 3,
    warmup: float = 2.0,
    startup_timeout: float = 180.0,
    load_generator: str = "auto",
    prefix: str | None = None,
    reuse: bool = False,
    keep: bool = False,
    seed: int = 11,
    results_dir: Path | None = RESULTS_DIR,
) -> dict[str, Any]:
    """The whole growth scenario; returns the report (and writes growth.md/json to `results_dir` unless None)."""
    settings = Settings(
        mysql_url=mysql_url,
        duration=duration,
        rounds=rounds,
        warmup=warmup,
        startup_timeout=startup_timeout,
        load_generator=resolve_load_generator(load_generator),
        prefix=prefix,
        reuse=reuse,
        keep=keep,
        seed=seed,
    )
    server = MySqlServer.from_url(mysql_url)
    started_at = datetime.now(UTC)
    load_before = load_average()
    scales = list(SCALES)
    with (
        datasets(server, scales, prefix=prefix, reuse=reuse, keep=keep, seed=seed) as made,
        tempfile.TemporaryDirectory(prefix="fdbench-growth-") as temp,
        ExitStack() as stack,
    ):
        servers: dict[str, Server] = {}
        for dataset in made:
            workdir = Path(temp) / dataset.scale
            workdir.mkdir()
            running = stack.enter_context(running_server(workdir, dataset.urls, name=dataset.scale))
            wait_ready(running, startup_timeout)
            running.token = access_token(running.env, 6 * 3600, PERMISSIONS)
            servers[dataset.scale] = running
        by_scale = {d.scale: d for d in made}
        report = measure(settings, by_scale, servers)
        report["plans"] = {}
        for dataset in made:
            log(f"{dataset.scale}: ANALYZE of the reads' statements")
            plans, uncached = asyncio.run(_explain(dataset, _deep_page(dataset)))
            report["plans"][dataset.scale] = {
                key: {"verdict": plan_verdict(rows), "uncached_read_ms": uncached[key], "rows": rows}
                for key, rows in plans.items()
            }
        for scale, running in servers.items():
            report["rss_mb"][scale] = round(rss_mb(running.process.pid)[0], 1)
    report.update(
        {
            "date": started_at.isoformat(timespec="seconds"),
            "revision": git_describe(),
            "machine": machine_info(server.query("SELECT VERSION()")[0][0], settings.load_generator),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "settings": {k: v for k, v in asdict(settings).items() if k != "mysql_url"},
            "generation": {
                d.scale: {"counts": d.counts, "seconds": d.seconds, "rows_per_second": d.rows_per_second} for d in made
            },
        }
    )
    errors = sum(op[scale]["errors"] for op in report["operations"] for scale in ("small", "full"))
    report["passed"] = errors == 0 and all(op["within_target"] for op in report["operations"])
    if results_dir is not None:
        write_text_atomically(results_dir / "growth.json", json.dumps(report, indent=2, default=str) + "\n")
        write_text_atomically(results_dir / "growth.md", markdown(report))
        log(f"wrote {shown_path(results_dir / 'growth.md')} and growth.json")
    return report


def _timed(server: Server, call: Call) -> float:
    started = time.perf_counter()
    expect(server, call.method, call.path, call.body, 201 if call.method == "POST" else 200)
    return round((time.perf_counter() - started) * 1000, 1)


def measure(settings: Settings, by_scale: Mapping[str, Dataset], servers: Mapping[str, Server]) -> dict[str, Any]:
    load = LoadSettings(settings.load_generator, connections=1, threads=1, timeout_s=30.0)
    routes: dict[tuple[str, str], Route] = {}
    first_calls: dict[str, dict[str, float]] = {}
    items: dict[str, dict[str, float]] = {}
    """operation → scale → rows a page held, on average over up to 20 of its requests"""
    for scale, server in servers.items():
        dataset = by_scale[scale]
        # What the first request after a start pays once: the history's day counts on a fresh database, the
        # compiled rule set on the first calculation.
        first_calls[scale] = {
            "history_count_ms": _timed(server, _get(f"{CALCULATIONS}/count")),
            "calculate_ms": _timed(server, _calculate(dataset)[0]),
        }
        for operation in ALL_OPERATIONS:
            calls = operation.calls(dataset, server)
            answers = [
                expect(server, call.method, call.path, call.body, 201 if call.method == "POST" else 200)
                for call in calls[:20]
            ]
            listed = [len(items) for answer in answers for items in answer.values() if isinstance(items, list)]
            if listed and operation.key != CALCULATE.key:
                items.setdefault(operation.key, {})[scale] = round(statistics.mean(listed), 1)
            routes[operation.key, scale] = route_of(f"{operation.key}-{scale}", calls)
    with tempfile.TemporaryDirectory(prefix="fdbench-growth-wrk-") as temp:
        workdir = Path(temp)
        log("warming up")
        for (key, scale), route in routes.items():
            if key != CALCULATE.key:
                run_load(servers[scale], route, load, settings.warmup, workdir)
        runs: list[dict[str, Any]] = []

        def run(operation: Operation, round_number: int, order: Sequence[str]) -> None:
            for scale in order:
                result = run_load(servers[scale], routes[operation.key, scale], load, settings.duration, workdir)
                runs.append({"round": round_number, "operation": operation.key, "scale": scale, **_result(result)})
                log(
                    f"round {round_number} {operation.key:20} {scale:5} p50 {result.p50_ms or 0:7.2f} ms, "
                    f"CPU {result.cpu_ms_per_request:6.2f} ms/req, {result.requests} req, {result.errors} errors"
                )

        for round_number in range(1, settings.rounds + 1):
            shift = (round_number - 1) % len(OPERATIONS)
            order = ("small", "full") if round_number % 2 else ("full", "small")
            for operation in OPERATIONS[shift:] + OPERATIONS[:shift]:
                run(operation, round_number, order)
        # Calculations store rows: they run last, so the history the reads met is the generated one.
        for round_number in range(1, settings.rounds + 1):
            run(CALCULATE, round_number, ("small", "full") if round_number % 2 else ("full", "small"))
    return {
        "operations": summarize(runs, settings.rounds, items),
        "runs": runs,
        "first_calls_ms": first_calls,
        "rss_mb": {},
        "target_ratio": TARGET_RATIO,
    }


def _result(result: LoadResult) -> dict[str, Any]:
    return {
        "requests": result.requests,
        "errors": result.errors,
        "seconds": round(result.seconds, 2),
        "rps": round(result.rps, 1),
        "p50_ms": None if result.p50_ms is None else round(result.p50_ms, 3),
        "p99_ms": None if result.p99_ms is None else round(result.p99_ms, 3),
        "cpu_ms": round(result.cpu_ms_per_request, 3),
    }


def summarize(
    runs: Sequence[dict[str, Any]], rounds: int, items: Mapping[str, Mapping[str, float]]
) -> list[dict[str, Any]]:
    summary = []
    for operation in ALL_OPERATIONS:
        mine = [r for r in runs if r["operation"] == operation.key]
        per_scale: dict[str, dict[str, Any]] = {}
        for scale in ("small", "full"):
            of_scale = [r for r in mine if r["scale"] == scale]
            per_scale[scale] = {
                "p50_ms": round(statistics.median(r["p50_ms"] or 0 for r in of_scale), 3),
                "p99_ms": round(statistics.median(r["p99_ms"] or 0 for r in of_scale), 3),
                "cpu_ms": round(statistics.median(r["cpu_ms"] for r in of_scale), 3),
                "requests": sum(r["requests"] for r in of_scale),
                "errors": sum(r["errors"] for r in of_scale),
            }
        ratios, cpu_ratios = [], []
        for number in range(1, rounds + 1):
            pair = {r["scale"]: r for r in mine if r["round"] == number}
            if {"small", "full"} <= pair.keys() and pair["small"]["p50_ms"] and pair["small"]["cpu_ms"]:
                ratios.append(pair["full"]["p50_ms"] / pair["small"]["p50_ms"])
                cpu_ratios.append(pair["full"]["cpu_ms"] / pair["small"]["cpu_ms"])
        ratio = round(statistics.median(ratios), 2) if ratios else None
        summary.append(
            {
                "operation": operation.key,
                "request": operation.shown,
                "what": operation.what,
                **{scale: values for scale, values in per_scale.items()},
                "ratio_p50": ratio,
                "ratio_p50_range": [round(min(ratios), 2), round(max(ratios), 2)] if ratios else None,
                "ratio_cpu": round(statistics.median(cpu_ratios), 2) if cpu_ratios else None,
                "within_target": ratio is not None and ratio <= TARGET_RATIO,
                "rows_per_page": dict(items.get(operation.key, {})),
            }
        )
    return summary


# ---------------------------------------------------------------------------------------------- report


def markdown(report: Mapping[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        "# Growth: costs at 1,000 rows and at full size",
        "",
        f"{report['date']}, revision `{report['revision']}`; {machine['nproc']} CPUs ({machine['cpu']}), "
        f"Python {machine['python']}, MariaDB {machine['mariadb']}, {machine['load_generator']}; load average "
        f"{report['load_average_before']} before, {report['load_average_after']} after (a shared machine).",
        "",
        "One `freightdesk run` (one worker) per scale, side by side; one connection sending requests back to back "
        f"for {report['settings']['duration']:g} s per operation and scale, {report['settings']['rounds']} "
        "interleaved rounds; medians over the rounds. Ratio: full / small of the p50 latency in the same round "
        f"(median, range), target <= {report['target_ratio']:g}.",
        "",
        "## Data",
        "",
        "| table | small | full | full: generated in | rows/s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    generation = report["generation"]
    for table in generation["full"]["counts"]:
        small, full = generation["small"], generation["full"]
        lines.append(
            f"| {table} | {small['counts'].get(table, 0):,} | {full['counts'][table]:,} "
            f"| {full['seconds'].get(table, 0):.1f} s | {full['rows_per_second'].get(table, 0):,} |"
        )
    full_seconds = generation["full"]["seconds"]
    lines += [
        "",
        f"Full scale: databases created in {full_seconds.get('create', 0):.1f} s, migrated in "
        f"{full_seconds.get('migrate', 0):.1f} s, filled in {full_seconds.get('fill', 0):.1f} s "
        "(multi-row INSERTs of 2,000 rows, one transaction each, straight into the module tables).",
        "",
        "## Operations",
        "",
        "| operation | request | rows per page, small / full | small p50 ms | full p50 ms | ratio (range) | "
        "small CPU ms/req | full CPU ms/req | CPU ratio | within 2x |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for op in report["operations"]:
        spread = op["ratio_p50_range"] or [None, None]
        rows = op.get("rows_per_page") or {}
        shown_rows = f"{rows['small']:g} / {rows['full']:g}" if {"small", "full"} <= rows.keys() else "-"
        lines.append(
            f"| {op['operation']} | `{op['request']}` | {shown_rows} | {op['small']['p50_ms']:.2f} | "
            f"{op['full']['p50_ms']:.2f} | "
            f"**{op['ratio_p50']}** ({spread[0]}-{spread[1]}) | {op['small']['cpu_ms']:.2f} | "
            f"{op['full']['cpu_ms']:.2f} | {op['ratio_cpu']} | {'yes' if op['within_target'] else '**no**'} |"
        )
    errors = sum(op[scale]["errors"] for op in report["operations"] for scale in ("small", "full"))
    first = report["first_calls_ms"]
    lines += [
        "",
        f"Errors during the load: {errors}. Resident memory after the load: small {report['rss_mb'].get('small')} MB, "
        f"full {report['rss_mb'].get('full')} MB.",
        "",
        "Once per process or database (before the measured runs): the first `GET /pricing/calculations/count` "
        f"took {first['small']['history_count_ms']} ms (small) and {first['full']['history_count_ms']} ms (full), "
        "counting the days that are over into `price_calculation_days` on a fresh database; the first "
        f"calculation {first['small']['calculate_ms']} ms and {first['full']['calculate_ms']} ms (loading and "
        "compiling the active rules, again after every rule change).",
        "",
        "## Plans (MariaDB ANALYZE of the statements the reads run)",
        "",
        "`r_rows` is what a step read. *Uncached read*: the module's read code in process, with the modules' read "
        "caches dropped before each call (what the first request after a write pays; the carrier and customer "
        "reads are otherwise served from memory until a write), median of "
        f"{UNCACHED_REPEATS}, small / full. Full-scale plans:",
        "",
        "| operation | uncached read ms, small / full (ratio) | verdict | statement: table, access, key, r_rows, extra "
        "|",
        "| --- | ---: | --- | --- |",
    ]
    for key, plan in report["plans"]["full"].items():
        small_ms = report["plans"]["small"][key]["uncached_read_ms"]
        full_ms = plan["uncached_read_ms"]
        ratio = f"{full_ms / small_ms:.1f}" if small_ms else "-"
        steps = "; ".join(_step(r) for r in plan["rows"])
        lines.append(f"| {key} | {small_ms:.2f} / {full_ms:.2f} ({ratio}) | {plan['verdict']} | {steps} |")
    lines += [
        "",
        "Small scale verdicts: " + "; ".join(f"{k}: {p['verdict']}" for k, p in report["plans"]["small"].items()),
        "",
    ]
    return "\n".join(lines) + "\n"


def _step(row: Mapping[str, Any]) -> str:
    read = "-" if row["r_rows"] is None else f"{row['r_rows']:,.0f}"
    extra = f" ({row['extra']})" if row["extra"] else ""
    return f"{row['statement']}: {row['table']} {row['type']} {row['key'] or '-'} {read}{extra}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql-url", default=os.environ.get("FREIGHTDESK_BENCH_MYSQL_URL", DEFAULT_MYSQL_URL))
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per operation, scale and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load per operation and scale first")
    parser.add_argument("--startup-timeout", type=float, default=180.0)
    parser.add_argument("--load-generator", choices=("auto", "wrk", "builtin"), default="auto")
    parser.add_argument("--prefix", default=None, help="database prefix (with --reuse: of a growth_data --keep run)")
    parser.add_argument("--reuse", action="store_true", help="use the databases a growth_data.py --keep run left")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases (and a manifest)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.rounds < 1:
        parser.error("--duration must be above 0 and --rounds at least 1")
    try:
        report = run_growth(
            mysql_url=args.mysql_url,
            duration=args.duration,
            rounds=args.rounds,
            warmup=args.warmup,
            startup_timeout=args.startup_timeout,
            load_generator=args.load_generator,
            prefix=args.prefix,
            reuse=args.reuse,
            keep=args.keep,
            seed=args.seed,
            results_dir=args.results_dir,
        )
    except BenchmarkError as exc:
        log(str(exc))
        return 1
    print(markdown(report))
    return 0 if report["passed"] else 2


if __name__ == "__main__":
    sys.exit(main())
