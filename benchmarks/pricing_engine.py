"""Benchmark the pricing engine in process: the time of one price calculation over 1,000 rules.

Builds 1,000 active pricing rules over the 25 demo carriers with a fixed random seed (base rules per carrier
and service with tiers, validity windows, surcharges and discounts; carrier-wide and carrier-agnostic
adjustment rules; some in another currency), compiles them into a `RuleSet`, then times
`RuleSet.price(request, today)` on a few thousand varied shipments, one call at a time, and reports the
median and p99 in microseconds against the targets. `RuleSet.quote` over all 25 carriers is timed too, for
reference. No database, no HTTP: only the engine (modules/pricing/internal/engine.py).

Run on demand, not in CI:

    uv run python benchmarks/pricing_engine.py [--iterations 200000] [--requests 5000] [--seed 20261201]

Results go to stdout and to `benchmarks/results/pricing_engine.{md,json}`; exit code 0 when both targets
pass, 2 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import msgspec

from modules.pricing.internal.engine import (
    Adjustment,
    Conditions,
    NoBaseRule,
    Pricing,
    Range,
    Request,
    Rule,
    RuleSet,
)

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
MEDIAN_TARGET_US = 200.0
P99_TARGET_US = 1000.0
TODAY = date(2026, 12, 1)

EU = ["DE", "FR", "NL", "IT", "ES", "BE", "PL"]
APAC = ["JP", "AU", "SG", "CN", "KR", "IN"]
WORLD = ["US", "CA", "MX", "GB", "BR", *EU, *APAC]
# The demo carriers of docs/reference-data.md: id → (service types, currency, countries covered).
CARRIERS: dict[int, tuple[list[str], str, list[str]]] = {
    1: (["Express", "Ground", "Freight", "Home Delivery"], "USD", ["US", "CA", "MX", *EU, *APAC]),
    2: (["Next Day Air", "2nd Day Air", "Ground", "Freight"], "USD", ["US", "CA", *EU]),
    3: (["Priority Mail", "First-Class", "Parcel Select"], "USD", ["US"]),
    4: (["Express", "Economy Select"], "USD", WORLD),
    5: (["Parcel", "Parcel Plus"], "USD", ["US", *EU, *APAC]),
    6: (["Express", "Economy Express"], "EUR", [*EU, *APAC]),
    7: (["Same Day", "Next Day", "Standard"], "USD", ["US", *EU]),
    8: (["Ground", "Sunrise"], "USD", ["US"]),
    9: (["Ground", "Same Day"], "USD", ["US"]),
    10: (["Priority", "Xpresspost", "Expedited Parcel"], "CAD", ["CA"]),
    11: (["Express", "Ground"], "CAD", ["CA", "US"]),
    12: (["Special Delivery", "Tracked 24", "Tracked 48"], "GBP", ["GB"]),
    13: (["Standard", "Next Day"], "GBP", ["GB"]),
    14: (["Classic", "Predict", "Express"], "EUR", [*EU, "GB"]),
    15: (["Business Parcel", "Express Parcel"], "EUR", EU),
    16: (["Standard Express", "Economy Express"], "CNY", ["CN", *APAC]),
    17: (["TA-Q-BIN", "Compact"], "JPY", ["JP"]),
    18: (["EMS", "Yu-Pack"], "JPY", ["JP", *WORLD]),
    19: (["EMS", "K-Packet"], "KRW", ["KR", *WORLD]),
    20: (["Express Post", "Parcel Post"], "AUD", ["AU"]),
    21: (["SEDEX", "PAC"], "BRL", ["BR"]),
    22: (["LTL", "Freight"], "USD", ["US", "CA", "MX"]),
    23: (["LTL", "Expedited"], "USD", ["US"]),
    24: (["Standard", "Expedited"], "USD", ["US"]),
    25: (["Ground", "Home Delivery"], "USD", ["US", "CA"]),
}
CUSTOMER_TYPES = ["standard", "premium", "business", "enterprise"]
WEIGHT_TIERS = [(0, 5), (5, 20), (20, 70), (70, 1000)]
DISTANCE_BANDS = [(0, 500), (500, 1500), (1500, 10_000)]


class BenchmarkError(RuntimeError):
    """The benchmark could not run as configured."""


@dataclass(frozen=True)
class Options:
    rules: int
    requests: int
    iterations: int
    warmup: int
    quote_iterations: int
    seed: int
    results_dir: Path


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=1000, help="Active rules in the set")
    parser.add_argument("--requests", type=int, default=5000, help="Distinct shipments, priced in turn")
    parser.add_argument("--iterations", type=int, default=200_000, help="Timed price calculations")
    parser.add_argument("--warmup", type=int, default=10_000, help="Untimed calculations first")
    parser.add_argument("--quote-iterations", type=int, default=2_000, help="Timed quotes over all carriers")
    parser.add_argument("--seed", type=int, default=20261201, help="Random seed for rules and shipments")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="Where the .md and .json go")
    args = parser.parse_args(argv)
    if min(args.rules, args.requests, args.iterations, args.quote_iterations) < 1 or args.warmup < 0:
        parser.error("--rules, --requests, --iterations and --quote-iterations must be at least 1")
    return Options(
        rules=args.rules,
        requests=args.requests,
        iterations=args.iterations,
        warmup=args.warmup,
        quote_iterations=args.quote_iterations,
        seed=args.seed,
        results_dir=args.results_dir,
    )


# --------------------------------------------------------------------------------------------- data


def _money(rng: random.Random, low: float, high: float, places: int = 2) -> Decimal:
    """A decimal in [low, high] with `places` decimals, drawn as an integer number of units (no float math)."""
    scale = 10**places
    return Decimal(rng.randint(round(low * scale), round(high * scale))).scaleb(-places)


def _window(rng: random.Random) -> tuple[date | None, date | None]:
    """Mostly open-ended; some current windows, some expired or not yet started."""
    roll = rng.random()
    if roll < 0.70:
        return None, None
    if roll < 0.85:
        return TODAY - timedelta(days=rng.randint(1, 300)), TODAY + timedelta(days=rng.randint(1, 300))
    if roll < 0.90:
        return TODAY - timedelta(days=rng.randint(1, 365)), None
    if roll < 0.95:
        start = TODAY - timedelta(days=rng.randint(60, 400))
        return start, start + timedelta(days=rng.randint(1, 59))  # expired
    return TODAY + timedelta(days=rng.randint(1, 90)), None  # not yet valid


def _adjustments(rng: random.Random, kinds: Sequence[str], count: int) -> tuple[Adjustment, ...]:
    picked = rng.sample(list(kinds), k=min(count, len(kinds)))
    return tuple(
        Adjustment(type=kind, percentage=_money(rng, 1, 15, 1))
        if rng.random() < 0.5
        else Adjustment(type=kind, amount=_money(rng, 0.5, 25))
        for kind in picked
    )


SURCHARGES = ["Fuel Surcharge", "Residential Delivery", "Weekend Delivery", "Peak Season", "Remote Area"]
DISCOUNTS = ["Volume Discount", "Loyalty Discount", "Online Booking"]


def _range(bounds: tuple[int, int]) -> Range:
    return Range(min=Decimal(bounds[0]), max=Decimal(bounds[1]))


def base_rule(rng: random.Random, rule_id: int) -> Rule:
    """A carrier's rate for one service and origin, mostly one destination, often a weight tier or distance
    band, sometimes a customer type."""
    carrier_id = rng.randint(1, 25)
    services, currency, countries = CARRIERS[carrier_id]
    origin = rng.choice(countries)
    destination = origin if rng.random() < 0.6 else (rng.choice(countries) if rng.random() < 0.8 else None)
    service = rng.choice(services)
    valid_from, valid_to = _window(rng)
    return Rule(
        id=rule_id,
        name=f"Carrier {carrier_id} {service} {origin}->{destination or 'any'} #{rule_id}",
        priority=rng.randint(50, 150),
        valid_from=valid_from,
        valid_to=valid_to,
        conditions=Conditions(
            carrier_id=carrier_id,
            service_type=service if rng.random() < 0.95 else None,
            origin_country=origin,
            destination_country=destination,
            customer_type=rng.choice(CUSTOMER_TYPES) if rng.random() < 0.15 else None,
            weight_range=_range(rng.choice(WEIGHT_TIERS)) if rng.random() < 0.6 else None,
            distance_range=_range(rng.choice(DISTANCE_BANDS)) if rng.random() < 0.15 else None,
        ),
        pricing=Pricing(
            base_rate=_money(rng, 3, 120, 2),
            currency=currency,
            per_kg_rate=_money(rng, 0.2, 8, 4),
            per_km_rate=_money(rng, 0.001, 0.05, 4) if rng.random() < 0.3 else None,
            minimum_charge=_money(rng, 2, 20) if rng.random() < 0.8 else None,
            maximum_charge=_money(rng, 200, 5000) if rng.random() < 0.7 else None,
            surcharges=_adjustments(rng, SURCHARGES, rng.choice([0, 1, 1, 2, 2, 3])),
            discounts=_adjustments(rng, DISCOUNTS, 1) if rng.random() < 0.2 else (),
        ),
    )


def carrier_adjustment_rule(rng: random.Random, rule_id: int) -> Rule:
    """No base rate: a carrier's surcharge or discount (fuel index, peak season, promotion), carrier-wide or
    for one service or one origin."""
    carrier_id = rng.randint(1, 25)
    services, currency, countries = CARRIERS[carrier_id]
    surcharge = rng.random() < 0.7
    scope = rng.random()
    valid_from, valid_to = _window(rng)
    return Rule(
        id=rule_id,
        name=f"Carrier {carrier_id} {'surcharge' if surcharge else 'discount'} #{rule_id}",
        priority=rng.randint(0, 200),
        valid_from=valid_from,
        valid_to=valid_to,
        conditions=Conditions(
            carrier_id=carrier_id,
            service_type=rng.choice(services) if 0.3 <= scope < 0.7 else None,
            origin_country=rng.choice(countries) if scope >= 0.7 else None,
        ),
        pricing=Pricing(
            base_rate=Decimal(0),
            currency=currency,
            surcharges=_adjustments(rng, SURCHARGES, 1) if surcharge else (),
            discounts=() if surcharge else _adjustments(rng, DISCOUNTS, 1),
        ),
    )


def global_rule(rng: random.Random, rule_id: int) -> Rule:
    """No carrier, no base rate: heavy packages, customer types, remote destinations, long distances, a
    service type, most of them for one origin or destination country; some in another currency than most
    carriers price in."""
    kind = rng.choice(["heavy", "customer", "destination", "distance", "service"])
    currency = "USD" if rng.random() < 0.8 else rng.choice(["EUR", "GBP", "CAD"])
    conditions = {
        "heavy": lambda: Conditions(weight_range=_range(rng.choice(WEIGHT_TIERS[2:]))),
        "customer": lambda: Conditions(customer_type=rng.choice(CUSTOMER_TYPES).upper()),
        "destination": lambda: Conditions(destination_country=rng.choice(WORLD).lower()),
        "distance": lambda: Conditions(distance_range=_range(rng.choice(DISTANCE_BANDS[1:]))),
        "service": lambda: Conditions(service_type=rng.choice(CARRIERS[rng.randint(1, 25)][0])),
    }[kind]()
    if rng.random() < 0.7:  # most are for one lane end: a destination or an origin country
        end = "destination_country" if rng.random() < 0.6 else "origin_country"
        conditions = msgspec.structs.replace(conditions, **{end: rng.choice(WORLD)})
    discount = kind == "customer"
    valid_from, valid_to = _window(rng)
    return Rule(
        id=rule_id,
        name=f"Any carrier {kind} #{rule_id}",
        priority=rng.randint(0, 250),
        valid_from=valid_from,
        valid_to=valid_to,
        conditions=conditions,
        pricing=Pricing(
            base_rate=Decimal(0),
            currency=currency,
            surcharges=() if discount else _adjustments(rng, [f"{kind.title()} surcharge"], 1),
            discounts=_adjustments(rng, [f"{kind.title()} discount"], 1) if discount else (),
        ),
    )


RULE_MIX: list[tuple[Callable[[random.Random, int], Rule], int]] = [
    (base_rule, 78),
    (carrier_adjustment_rule, 17),
    (global_rule, 5),
]


def build_rules(rng: random.Random, count: int) -> list[Rule]:
    """About 78 % base rules, 17 % carrier adjustments, 5 % carrier-agnostic adjustments (RULE_MIX); all
    active, in shuffled order."""
    makers, weights = zip(*RULE_MIX, strict=True)
    rules = [rng.choices(makers, weights)[0](rng, rule_id) for rule_id in range(1, count + 1)]
    rng.shuffle(rules)
    return rules


def _within(rng: random.Random, bounds: Range | None, low: float, high: float, places: int) -> Decimal:
    """A value inside `bounds` when the rule states them (and above 0), else in [low, high]."""
    if bounds is None:
        return _money(rng, low, high, places)
    return _money(rng, max(float(bounds.min), 0.1), float(bounds.max), places)


def build_requests(rng: random.Random, count: int, rules: Sequence[Rule]) -> list[Request]:
    """Shipments over every carrier: three in four on a lane some base rule prices (its carrier, service,
    countries, tier), the rest a random service the carrier offers between countries it covers, so some
    find no base rule. Country codes come in mixed case."""
    lanes = [rule.conditions for rule in rules if rule.pricing.base_rate > 0]
    requests = []
    for _ in range(count):
        lane = rng.choice(lanes) if rng.random() < 0.75 else None
        carrier_id = rng.randint(1, 25) if lane is None or lane.carrier_id is None else lane.carrier_id
        services, _currency, countries = CARRIERS[carrier_id]
        if lane is None:
            lane = Conditions(service_type=rng.choice(services) if rng.random() < 0.95 else "Freight")
        origin = lane.origin_country or rng.choice(countries)
        destination = lane.destination_country or (origin if rng.random() < 0.65 else rng.choice(countries))
        weight = _within(rng, lane.weight_range, 0.1, 30, 3) * (1 if lane.weight_range else rng.choice([1, 1, 2, 5]))
        has_distance = lane.distance_range is not None or rng.random() < 0.6
        requests.append(
            Request(
                carrier_id=carrier_id,
                service_type=lane.service_type or rng.choice(services),
                weight=weight,
                distance=_within(rng, lane.distance_range, 1, 3000, 1) if has_distance else None,
                origin_country=origin if rng.random() < 0.5 else origin.lower(),
                destination_country=destination,
                customer_type=lane.customer_type or (rng.choice(CUSTOMER_TYPES) if rng.random() < 0.4 else None),
            )
        )
    return requests


# --------------------------------------------------------------------------------------------- measure


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def summary_us(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {
        "median_us": round(statistics.median(ordered) / 1000, 1),
        "p90_us": round(percentile(ordered, 0.90) / 1000, 1),
        "p99_us": round(percentile(ordered, 0.99) / 1000, 1),
        "p999_us": round(percentile(ordered, 0.999) / 1000, 1),
        "max_us": round(ordered[-1] / 1000, 1),
        "mean_us": round(statistics.fmean(ordered) / 1000, 1),
    }


def time_prices(ruleset: RuleSet, requests: Sequence[Request], iterations: int, warmup: int) -> tuple[list[int], int]:
    """Per-call wall time (ns) of `ruleset.price`, cycling through `requests`; also how many found no base rule."""
    clock, price, n = time.perf_counter_ns, ruleset.price, len(requests)
    for i in range(warmup):
        with suppress(NoBaseRule):
            price(requests[i % n], TODAY)
    samples = [0] * iterations
    unpriced = 0
    for i in range(iterations):
        request = requests[i % n]
        start = clock()
        try:
            price(request, TODAY)
        except NoBaseRule:
            unpriced += 1
        samples[i] = clock() - start
    return samples, unpriced


def time_quotes(ruleset: RuleSet, requests: Sequence[Request], iterations: int) -> tuple[list[int], float]:
    clock, carriers, n = time.perf_counter_ns, list(CARRIERS), len(requests)
    samples = [0] * iterations
    offered = 0
    for i in range(iterations):
        request = requests[i % n]
        start = clock()
        quotes = ruleset.quote(request, carriers, TODAY)
        samples[i] = clock() - start
        offered += len(quotes)
    return samples, offered / iterations


def timer_overhead_ns() -> float:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(10_000):
        start = clock()
        samples.append(clock() - start)
    return statistics.median(samples)


def rules_examined(rules: Sequence[Rule], requests: Sequence[Request]) -> tuple[float, int]:
    """How many rules the index hands to the matcher per request (mean, max): those in its four buckets."""
    buckets = Counter(
        (r.conditions.carrier_id, None if r.conditions.service_type is None else r.conditions.service_type.casefold())
        for r in rules
        if r.is_active
    )
    counts = []
    for request in requests:
        service = request.service_type.casefold()
        keys = {(request.carrier_id, service), (request.carrier_id, None), (None, service), (None, None)}
        counts.append(sum(buckets[key] for key in keys))
    return statistics.fmean(counts), max(counts)


# --------------------------------------------------------------------------------------------- report


@dataclass
class Report:
    date: str
    git: str
    machine: dict[str, str]
    settings: dict[str, int | str]
    rule_set: dict[str, float | int]
    price: dict[str, float]
    priced_share: float
    calculations_per_second: float
    timer_overhead_ns: float
    quote: dict[str, float]
    quote_carriers_offered_mean: float
    targets: dict[str, float]
    median_pass: bool
    p99_pass: bool
    verdict: str
    notes: list[str]


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def git_describe() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    return done.stdout.strip() or "unknown"


def run(options: Options) -> Report:
    machine = machine_info()
    rng = random.Random(options.seed)
    rules = build_rules(rng, options.rules)
    requests = build_requests(rng, options.requests, rules)
    start = time.perf_counter()
    ruleset = RuleSet.compile(rules)
    compile_ms = (time.perf_counter() - start) * 1000
    if len(ruleset) != options.rules:
        raise BenchmarkError(f"expected {options.rules} active rules, the set holds {len(ruleset)}")
    examined_mean, examined_max = rules_examined(rules, requests)
    candidates = [len(ruleset.candidates(r, TODAY)) for r in requests]

    log(f"{len(ruleset)} rules compiled in {compile_ms:.1f} ms; timing {options.iterations} calculations")
    price_ns, unpriced = time_prices(ruleset, requests, options.iterations, options.warmup)
    log(f"timing {options.quote_iterations} quotes over {len(CARRIERS)} carriers")
    quote_ns, offered = time_quotes(ruleset, requests, options.quote_iterations)

    price = summary_us(price_ns)
    median_pass = price["median_us"] <= MEDIAN_TARGET_US
    p99_pass = price["p99_us"] <= P99_TARGET_US
    notes = []
    git = git_describe()
    if git.endswith("-dirty"):
        notes.append("The working tree had uncommitted changes when this ran.")
    priced_share = 1 - unpriced / options.iterations
    if priced_share < 0.5:
        notes.append("Fewer than half the shipments found a base rule: the workload is not realistic.")
    return Report(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        git=git,
        machine=machine,
        settings={
            "rules": options.rules,
            "carriers": len(CARRIERS),
            "requests": options.requests,
            "iterations": options.iterations,
            "warmup": options.warmup,
            "quote_iterations": options.quote_iterations,
            "seed": options.seed,
            "today": TODAY.isoformat(),
        },
        rule_set={
            "active_rules": len(ruleset),
            "compile_ms": round(compile_ms, 1),
            "rules_examined_mean": round(examined_mean, 1),
            "rules_examined_max": examined_max,
            "candidates_mean": round(statistics.fmean(candidates), 2),
            "candidates_max": max(candidates),
        },
        price=price,
        priced_share=round(priced_share, 4),
        calculations_per_second=round(options.iterations / (sum(price_ns) / 1e9)),
        timer_overhead_ns=timer_overhead_ns(),
        quote=summary_us(quote_ns),
        quote_carriers_offered_mean=round(offered, 2),
        targets={"median_us": MEDIAN_TARGET_US, "p99_us": P99_TARGET_US},
        median_pass=median_pass,
        p99_pass=p99_pass,
        verdict="pass" if median_pass and p99_pass else "fail",
        notes=notes,
    )


def markdown(report: Report) -> str:
    m, s, rs, p, q = report.machine, report.settings, report.rule_set, report.price, report.quote

    def verdict(passed: bool) -> str:
        return "pass" if passed else "**fail**"

    lines = [
        "# Pricing engine benchmark",
        "",
        f"- Date: {report.date}",
        f"- Revision: `{report.git}`",
        f"- Machine: {m['nproc']} CPU(s), {m['cpu']}, Linux {m['kernel']}",
        f"- {m['python']}; load average before the run {m['loadavg']} (1/5/15 min; the machine may be shared)",
        f"- Rules: {rs['active_rules']} active over {s['carriers']} carriers (seed {s['seed']}), compiled in "
        f"{rs['compile_ms']} ms; the index hands {rs['rules_examined_mean']} rules per shipment to the matcher on "
        f"average (at most {rs['rules_examined_max']}), of which {rs['candidates_mean']} are candidates "
        f"(at most {rs['candidates_max']})",
        f"- Workload: {s['requests']} distinct shipments priced in turn on {s['today']}, {s['warmup']} untimed "
        f"calculations, then {s['iterations']} timed one by one (`time.perf_counter_ns` around each "
        f"`RuleSet.price` call, in process, garbage collector on); {report.priced_share:.1%} found a base rule, "
        "the others end in `NoBaseRule` (timed too)",
        "",
        "## Result",
        "",
        "| measure | value | target | verdict |",
        "| --- | ---: | ---: | --- |",
        f"| price, median | {p['median_us']} µs | <= {report.targets['median_us']:g} µs | "
        f"{verdict(report.median_pass)} |",
        f"| price, p99 | {p['p99_us']} µs | <= {report.targets['p99_us']:g} µs | {verdict(report.p99_pass)} |",
        f"| price, p90 / p99.9 / max | {p['p90_us']} / {p['p999_us']} / {p['max_us']} µs | | |",
        f"| price, mean | {p['mean_us']} µs ({report.calculations_per_second} calculations/s on one core) | | |",
        f"| quote over {s['carriers']} carriers, median / p99 | {q['median_us']} / {q['p99_us']} µs "
        f"({report.quote_carriers_offered_mean} carriers priced on average) | | for reference |",
        f"| timer overhead per sample | {report.timer_overhead_ns:g} ns | | included above |",
        "",
        f"Verdict: **{report.verdict}**.",
        "",
    ]
    if report.notes:
        lines += [*(f"Note: {note}" for note in report.notes), ""]
    lines.append("Rerun: `uv run python benchmarks/pricing_engine.py` (see benchmarks/README.md).")
    return "\n".join(lines) + "\n"


def log(message: str) -> None:
    print(f"[pricing_engine] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        report = run(options)
    except BenchmarkError as exc:
        log(f"error: {exc}")
        return 1
    text = markdown(report)
    options.results_dir.mkdir(parents=True, exist_ok=True)
    (options.results_dir / "pricing_engine.md").write_text(text)
    (options.results_dir / "pricing_engine.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    print(text)
    return 0 if report.verdict == "pass" else 2


if __name__ == "__main__":
    sys.exit(main())
