"""Properties of the pricing engine over generated rule sets and shipments (hypothesis).

Small vocabularies (3 carriers, 2 service types, 3 countries, priorities 0-5) make rules match, tie and
stack often. `naive_price` below is a reference written straight from docs/api.md §6.3 that scans every
rule; the compiled RuleSet must agree with it on every generated case.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modules.pricing.internal.engine import (
    Adjustment,
    AppliedRule,
    Conditions,
    Line,
    NoBaseRule,
    Pricing,
    Range,
    Request,
    Result,
    Rule,
    RuleSet,
    SkippedRule,
)
from tests.pricing.test_engine import TODAY

# No deadline: drawing a rule list costs more than pricing it, and the first example imports.
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

T = TypeVar("T")
CENT = Decimal("0.01")
CARRIERS = [1, 2, 3]
SERVICES = ["Express", "Ground"]
COUNTRIES = ["US", "CA", "DE"]
CUSTOMER_TYPES = ["premium", "business"]
CURRENCIES = ["USD", "USD", "USD", "EUR"]


def recased(text: str, seed: int) -> str:
    """`text` with each letter's case flipped at random (deterministically for a seed)."""
    rng = random.Random(seed)
    return "".join(ch.swapcase() if rng.random() < 0.5 else ch for ch in text)


# --------------------------------------------------------------------------------------------- strategies


def money(high: int, places: int = 2) -> st.SearchStrategy[Decimal]:
    """Decimals 0..high with `places` decimals (integers scaled down: cheaper to draw than st.decimals)."""
    return st.integers(0, high * 10**places).map(lambda n: Decimal(n).scaleb(-places))


@st.composite
def ranges(draw: st.DrawFn, high: int) -> Range:
    low, up = sorted(draw(st.lists(money(high, 1), min_size=2, max_size=2)))
    return Range(min=low, max=up)


def maybe(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


def sometimes(strategy: st.SearchStrategy[T], one_in: int = 4) -> st.SearchStrategy[T | None]:
    """A value one time in `one_in`, else None: rules state few conditions each, so they match often."""
    return st.integers(1, one_in).flatmap(lambda n: strategy if n == 1 else st.none())


def cased(words: list[str]) -> st.SearchStrategy[str]:
    return st.builds(recased, st.sampled_from(words), st.integers(0, 1000))


adjustments = st.one_of(
    st.builds(Adjustment, type=st.sampled_from(["Fuel", "Peak", "Promo"]), amount=money(50, 4)),
    st.builds(Adjustment, type=st.sampled_from(["Fuel", "Peak", "Promo"]), percentage=money(100, 2)),
)
conditions = st.builds(
    Conditions,
    carrier_id=maybe(st.sampled_from(CARRIERS)),
    service_type=sometimes(cased(SERVICES), 3),
    origin_country=sometimes(cased(COUNTRIES)),
    destination_country=sometimes(cased(COUNTRIES)),
    customer_type=sometimes(cased(CUSTOMER_TYPES)),
    weight_range=sometimes(ranges(60)),
    distance_range=sometimes(ranges(500)),
)
pricings = st.builds(
    Pricing,
    base_rate=st.integers(0, 2).flatmap(lambda n: money(100, 4) if n else st.just(Decimal(0))),
    currency=st.sampled_from(CURRENCIES),
    per_kg_rate=maybe(money(10, 4)),
    per_km_rate=maybe(money(2, 4)),
    minimum_charge=maybe(money(80)),
    maximum_charge=maybe(money(300)),
    surcharges=st.lists(adjustments, max_size=3).map(tuple),
    discounts=st.lists(adjustments, max_size=2).map(tuple),
)
days = st.integers(-10, 10).map(lambda n: TODAY + timedelta(days=n))


@st.composite
def rule_lists(draw: st.DrawFn, max_size: int = 12) -> list[Rule]:
    """Rules with unique ids 1..n (drawn in a shuffled order)."""
    size = draw(st.integers(0, max_size))
    ids = draw(st.permutations(range(1, size + 1)))
    rules = []
    for rule_id in ids:
        valid_from, valid_to = draw(sometimes(days)), draw(sometimes(days))
        if valid_from is not None and valid_to is not None and valid_from > valid_to:
            valid_from, valid_to = valid_to, valid_from
        rules.append(
            Rule(
                id=rule_id,
                name=f"Rule {rule_id}",
                priority=draw(st.integers(0, 5)),
                is_active=draw(st.integers(0, 7)) > 0,
                valid_from=valid_from,
                valid_to=valid_to,
                conditions=draw(conditions),
                pricing=draw(pricings),
            )
        )
    return rules


requests = st.builds(
    Request,
    carrier_id=st.sampled_from([*CARRIERS, None]),
    service_type=cased(SERVICES),
    weight=money(70, 3).filter(lambda w: w > 0),
    distance=maybe(money(600, 1)),
    origin_country=cased(COUNTRIES),
    destination_country=cased(COUNTRIES),
    customer_type=maybe(cased(CUSTOMER_TYPES)),
)


def price_or_none(rules: list[Rule], request: Request, today: date = TODAY) -> Result | None:
    try:
        return RuleSet.compile(rules).price(request, today)
    except NoBaseRule:
        return None


# --------------------------------------------------------------------------------------------- reference


def naive_candidates(rules: list[Rule], request: Request, today: date) -> list[Rule]:
    """Step 1 by scanning every rule."""

    def same(stated: str | None, given: str | None) -> bool:
        return stated is None or (given is not None and stated.casefold() == given.casefold())

    def within(stated: Range | None, given: Decimal | None) -> bool:
        return stated is None or (given is not None and stated.min <= given <= stated.max)

    found = []
    for rule in rules:
        c = rule.conditions
        if (
            rule.is_active
            and (rule.valid_from is None or rule.valid_from <= today)
            and (rule.valid_to is None or today <= rule.valid_to)
            and (c.carrier_id is None or c.carrier_id == request.carrier_id)
            and same(c.service_type, request.service_type)
            and same(c.origin_country, request.origin_country)
            and same(c.destination_country, request.destination_country)
            and same(c.customer_type, request.customer_type)
            and within(c.weight_range, request.weight)
            and within(c.distance_range, request.distance)
        ):
            found.append(rule)
    return sorted(found, key=lambda r: (-r.priority, r.id))


def naive_price(rules: list[Rule], request: Request, today: date) -> Result | None:
    """Steps 2-6 as §6.3 words them, on `naive_candidates`."""

    def cents(amount: Decimal) -> Decimal:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)

    candidates = naive_candidates(rules, request, today)
    bases = [r for r in candidates if r.pricing.base_rate > 0]
    if not bases:
        return None
    base = bases[0]
    bp = base.pricing
    base_rate = cents(bp.base_rate)
    nothing = Decimal(0)
    weight_rate = cents((bp.per_kg_rate or nothing) * request.weight)
    distance_rate = cents((bp.per_km_rate or nothing) * (request.distance or nothing))
    subtotal = base_rate + weight_rate + distance_rate

    def line(adjustment: Adjustment, rule: Rule) -> Line:
        if adjustment.amount is not None:
            amount = cents(adjustment.amount)
            return Line(type=adjustment.type, amount=amount, description=f"Flat {amount} ({rule.name})")
        assert adjustment.percentage is not None
        return Line(
            type=adjustment.type,
            amount=cents(subtotal * adjustment.percentage / 100),
            description=f"{adjustment.percentage.normalize():f}% of subtotal {subtotal} ({rule.name})",
        )

    surcharges, discounts, applied, skipped = [], [], [], []
    for rule in candidates:
        currency = rule.pricing.currency.upper()
        if currency != bp.currency.upper():
            reason = f"currency {currency} differs from the base rule's {bp.currency.upper()}"
            skipped.append(SkippedRule(rule_id=rule.id, rule_name=rule.name, priority=rule.priority, reason=reason))
            continue
        surcharges += [line(a, rule) for a in rule.pricing.surcharges]
        discounts += [line(a, rule) for a in rule.pricing.discounts]
        if rule is base or rule.pricing.surcharges or rule.pricing.discounts:
            applied.append(AppliedRule(rule_id=rule.id, rule_name=rule.name, priority=rule.priority))

    total = max(subtotal + sum(s.amount for s in surcharges) - sum(d.amount for d in discounts), Decimal(0))
    if bp.minimum_charge is not None and bp.minimum_charge > 0:
        total = max(total, cents(bp.minimum_charge))
    if bp.maximum_charge is not None and bp.maximum_charge > 0:
        total = min(total, cents(bp.maximum_charge))
    return Result(
        base_rate=base_rate,
        weight_rate=weight_rate,
        distance_rate=distance_rate,
        surcharges=tuple(surcharges),
        discounts=tuple(discounts),
        subtotal=subtotal,
        total=cents(total),
        currency=bp.currency.upper(),
        applied_rules=tuple(applied),
        skipped_rules=tuple(skipped),
    )


def base_rule_of(rules: list[Rule], result: Result) -> Rule:
    """The base rule of a result: its applied rule with a base rate and the highest priority (the first)."""
    by_id = {r.id: r for r in rules}
    return next(by_id[a.rule_id] for a in result.applied_rules if by_id[a.rule_id].pricing.base_rate > 0)


# --------------------------------------------------------------------------------------------- properties


@PROPERTY
@given(rule_lists(), requests, days)
def test_compiled_rule_set_agrees_with_a_scan_of_every_rule(rules: list[Rule], request: Request, today: date) -> None:
    ruleset = RuleSet.compile(rules)

    assert [r.id for r in ruleset.candidates(request, today)] == [r.id for r in naive_candidates(rules, request, today)]
    try:
        result: Result | None = ruleset.price(request, today)
    except NoBaseRule:
        result = None
    assert result == naive_price(rules, request, today)


@PROPERTY
@given(rule_lists(), requests)
def test_total_is_never_negative(rules: list[Rule], request: Request) -> None:
    result = price_or_none(rules, request)
    if result is not None:
        assert result.total >= 0


@PROPERTY
@given(rule_lists(), requests)
def test_total_stays_within_the_base_rules_bounds(rules: list[Rule], request: Request) -> None:
    result = price_or_none(rules, request)
    if result is None:
        return
    pricing = base_rule_of(rules, result).pricing
    low, high = (
        None if charge is None or charge <= 0 else charge.quantize(CENT, rounding=ROUND_HALF_UP)
        for charge in (pricing.minimum_charge, pricing.maximum_charge)
    )
    if low is not None and high is not None and low > high:
        assert result.total == high  # the cap comes last
        return
    if low is not None:
        assert result.total >= low
    if high is not None:
        assert result.total <= high


@PROPERTY
@given(rule_lists(), requests)
def test_every_amount_has_two_decimals(rules: list[Rule], request: Request) -> None:
    result = price_or_none(rules, request)
    if result is None:
        return
    amounts = [result.base_rate, result.weight_rate, result.distance_rate, result.subtotal, result.total]
    amounts += [line.amount for line in (*result.surcharges, *result.discounts)]
    for amount in amounts:
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2


@PROPERTY
@given(rule_lists(), requests, st.randoms(use_true_random=False))
def test_result_does_not_depend_on_rule_order(rules: list[Rule], request: Request, rng: random.Random) -> None:
    shuffled = list(rules)
    rng.shuffle(shuffled)

    assert price_or_none(shuffled, request) == price_or_none(rules, request)


@st.composite
def out_of_reach(draw: st.DrawFn, request: Request) -> Rule:
    """A rule that would dominate any price (top priority, a base rate, a surcharge, no other condition) but
    lies outside its validity window, its weight range or its distance range for `request`."""
    rule = Rule(
        id=1000,
        name="Out of reach",
        priority=1000,
        pricing=Pricing(base_rate=Decimal(999), currency="USD", surcharges=(Adjustment(type="x", amount=Decimal(1)),)),
    )
    gap = draw(money(10, 3).filter(lambda g: g > 0))
    days_off = timedelta(days=draw(st.integers(1, 400)))
    weight, distance = request.weight, request.distance
    match draw(st.sampled_from(["expired", "not yet valid", "weight", "distance"])):
        case "expired":
            return msgspec.structs.replace(rule, valid_from=TODAY - 2 * days_off, valid_to=TODAY - days_off)
        case "not yet valid":
            return msgspec.structs.replace(rule, valid_from=TODAY + days_off)
        case "weight":
            low_side = weight > gap and draw(st.booleans())
            window = Range(min=Decimal(0), max=weight - gap) if low_side else Range(min=weight + gap, max=weight + 9)
            return msgspec.structs.replace(rule, conditions=Conditions(weight_range=window))
        case _:
            if distance is None:  # no distance in the request: any stated range misses
                window = Range(min=Decimal(0), max=Decimal(10_000))
            elif distance >= gap and draw(st.booleans()):
                window = Range(min=Decimal(0), max=distance - gap)
            else:
                window = Range(min=distance + gap, max=distance + 9)
            return msgspec.structs.replace(rule, conditions=Conditions(distance_range=window))


@PROPERTY
@given(rule_lists(), requests, st.data())
def test_a_rule_outside_its_window_or_ranges_never_applies(
    rules: list[Rule], request: Request, data: st.DataObject
) -> None:
    extra = data.draw(out_of_reach(request))

    result = price_or_none([*rules, extra], request)

    assert result == price_or_none(rules, request)
    assert extra.id not in [r.id for r in RuleSet.compile([*rules, extra]).candidates(request, TODAY)]


def recased_rule(rule: Rule, seed: int) -> Rule:
    c = rule.conditions
    flip = [
        None if text is None else recased(text, seed + i)
        for i, text in enumerate((c.service_type, c.origin_country, c.destination_country, c.customer_type))
    ]
    return msgspec.structs.replace(
        rule,
        conditions=msgspec.structs.replace(
            c, service_type=flip[0], origin_country=flip[1], destination_country=flip[2], customer_type=flip[3]
        ),
    )


@PROPERTY
@given(rule_lists(), requests, st.integers(0, 10_000))
def test_string_conditions_ignore_case(rules: list[Rule], request: Request, seed: int) -> None:
    expected = price_or_none(rules, request)
    recased_request = msgspec.structs.replace(
        request,
        service_type=recased(request.service_type, seed),
        origin_country=recased(request.origin_country, seed + 1).swapcase(),
        destination_country=recased(request.destination_country, seed + 2),
        customer_type=None if request.customer_type is None else recased(request.customer_type, seed + 3).upper(),
    )

    assert price_or_none([recased_rule(r, seed) for r in rules], request) == expected
    assert price_or_none(rules, recased_request) == expected


@PROPERTY
@given(rule_lists(), requests, st.data())
def test_a_rule_in_another_currency_never_changes_the_total(
    rules: list[Rule], request: Request, data: st.DataObject
) -> None:
    before = price_or_none(rules, request)
    if before is None:
        return
    base = base_rule_of(rules, before)
    # A foreign rule that matches everything but cannot become the base rule: no base rate, or a lower priority.
    can_outrank = base.priority > 0
    foreign = Rule(
        id=1000,
        name="Foreign",
        priority=data.draw(st.integers(0, base.priority - 1)) if can_outrank else data.draw(st.integers(0, 1000)),
        pricing=Pricing(
            base_rate=data.draw(money(100)) if can_outrank else Decimal(0),
            currency="GBP" if before.currency != "GBP" else "JPY",
            per_kg_rate=Decimal(5),
            minimum_charge=Decimal(1000),
            surcharges=data.draw(st.lists(adjustments, min_size=1, max_size=3).map(tuple)),
            discounts=data.draw(st.lists(adjustments, max_size=3).map(tuple)),
        ),
    )

    after = price_or_none([*rules, foreign], request)

    assert after is not None
    assert (after.total, after.currency, after.applied_rules) == (before.total, before.currency, before.applied_rules)
    assert foreign.id in [s.rule_id for s in after.skipped_rules]


@PROPERTY
@given(rule_lists(), requests, st.lists(st.sampled_from([*CARRIERS, 4]), max_size=6))
def test_quote_is_each_carriers_price_cheapest_first(rules: list[Rule], request: Request, carriers: list[int]) -> None:
    ruleset = RuleSet.compile(rules)

    quotes = ruleset.quote(request, carriers, TODAY)

    expected = []
    for carrier_id in sorted(set(carriers)):
        result = naive_price(rules, msgspec.structs.replace(request, carrier_id=carrier_id), TODAY)
        if result is not None:
            expected.append((result.total, carrier_id, result))
    assert [(q.result.total, q.carrier_id, q.result) for q in quotes] == sorted(expected, key=lambda e: e[:2])
