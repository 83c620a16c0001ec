"""The pricing engine on hand-picked cases: the worked examples of docs/api.md §6.5 and each step of §6.3.

The builders here (`rule`, `request`, `DEMO_RULES`) are shared with test_engine_properties.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from kernel.contracts.errors import Unprocessable
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
)

TODAY = date(2026, 6, 15)
D = Decimal


def pct(type_: str, percentage: str | int) -> Adjustment:
    return Adjustment(type=type_, percentage=D(percentage))


def flat(type_: str, amount: str | int) -> Adjustment:
    return Adjustment(type=type_, amount=D(amount))


def rule(
    id_: int,
    *,
    name: str | None = None,
    priority: int = 50,
    base: str | int = 0,
    currency: str = "USD",
    per_kg: str | None = None,
    per_km: str | None = None,
    minimum: str | None = None,
    maximum: str | None = None,
    surcharges: tuple[Adjustment, ...] = (),
    discounts: tuple[Adjustment, ...] = (),
    is_active: bool = True,
    valid_from: date | None = None,
    valid_to: date | None = None,
    **conditions: Any,
) -> Rule:
    """A rule; `conditions` are Conditions fields, with `weight_range`/`distance_range` as (min, max) pairs."""
    for key in ("weight_range", "distance_range"):
        if key in conditions:
            low, high = conditions[key]
            conditions[key] = Range(min=D(low), max=D(high))
    return Rule(
        id=id_,
        name=name or f"Rule {id_}",
        priority=priority,
        is_active=is_active,
        valid_from=valid_from,
        valid_to=valid_to,
        conditions=Conditions(**conditions),
        pricing=Pricing(
            base_rate=D(base),
            currency=currency,
            per_kg_rate=None if per_kg is None else D(per_kg),
            per_km_rate=None if per_km is None else D(per_km),
            minimum_charge=None if minimum is None else D(minimum),
            maximum_charge=None if maximum is None else D(maximum),
            surcharges=surcharges,
            discounts=discounts,
        ),
    )


def request(**overrides: Any) -> Request:
    """Carrier 1, Express, 5.5 kg, US → US unless overridden; numbers given as text become Decimals."""
    fields: dict[str, Any] = {
        "carrier_id": 1,
        "service_type": "Express",
        "weight": "5.5",
        "origin_country": "US",
        "destination_country": "US",
    }
    fields.update(overrides)
    for key in ("weight", "distance"):
        if isinstance(fields.get(key), str | int):
            fields[key] = D(fields[key])
    return Request(**fields)


US_US = {"origin_country": "US", "destination_country": "US"}

# docs/reference-data.md, "Demo pricing rules".
DEMO_RULES = [
    rule(
        1,
        name="FedEx Express Domestic",
        priority=100,
        base="15.99",
        per_kg="2.50",
        minimum="12.99",
        maximum="500",
        surcharges=(pct("Fuel Surcharge", "8.5"), flat("Weekend Delivery", "5.00")),
        carrier_id=1,
        service_type="Express",
        **US_US,
    ),
    rule(
        2,
        name="UPS Ground Domestic",
        priority=90,
        base="12.99",
        per_kg="2.25",
        minimum="8.99",
        maximum="400",
        discounts=(pct("Volume Discount", 5),),
        carrier_id=2,
        service_type="Ground",
        **US_US,
    ),
    rule(
        3,
        name="DHL International Express",
        priority=95,
        base="18.99",
        per_kg="3.00",
        minimum="15.99",
        maximum="1000",
        surcharges=(flat("International Surcharge", "10.00"), flat("Customs Handling", "5.00")),
        carrier_id=4,
        service_type="Express",
        origin_country="US",
    ),
    rule(
        4,
        name="USPS Priority Mail",
        priority=80,
        base="8.99",
        per_kg="1.50",
        minimum="6.99",
        maximum="200",
        carrier_id=3,
        service_type="Priority Mail",
        **US_US,
    ),
    rule(
        5,
        name="Heavy Package Surcharge",
        priority=50,
        surcharges=(flat("Heavy Package", "15.00"),),
        weight_range=(20, 999),
    ),
    rule(
        6,
        name="Premium Customer Discount",
        priority=200,
        discounts=(pct("Premium Customer", 10),),
        customer_type="premium",
    ),
]
DEMO = RuleSet.compile(DEMO_RULES)


def applied_ids(result: Result) -> list[int]:
    return [applied.rule_id for applied in result.applied_rules]


def candidate_ids(rules: list[Rule], req: Request, today: date = TODAY) -> list[int]:
    return [r.id for r in RuleSet.compile(rules).candidates(req, today)]


# --------------------------------------------------------------------------------------------- §6.5


def test_worked_example_fedex_express_domestic() -> None:
    result = DEMO.price(request(), TODAY)

    assert result == Result(
        base_rate=D("15.99"),
        weight_rate=D("13.75"),
        distance_rate=D("0.00"),
        surcharges=(
            Line(
                type="Fuel Surcharge",
                amount=D("2.53"),
                description="8.5% of subtotal 29.74 (FedEx Express Domestic)",
            ),
            Line(type="Weekend Delivery", amount=D("5.00"), description="Flat 5.00 (FedEx Express Domestic)"),
        ),
        discounts=(),
        subtotal=D("29.74"),
        total=D("37.27"),
        currency="USD",
        applied_rules=(AppliedRule(rule_id=1, rule_name="FedEx Express Domestic", priority=100),),
        skipped_rules=(),
    )
    assert str(result.total) == "37.27"


def test_worked_example_ups_ground_domestic() -> None:
    result = DEMO.price(request(carrier_id=2, service_type="Ground", weight="10", distance="250"), TODAY)

    assert (result.base_rate, result.weight_rate, result.distance_rate) == (D("12.99"), D("22.50"), D("0.00"))
    assert result.subtotal == D("35.49")
    assert result.surcharges == ()
    assert result.discounts == (
        Line(type="Volume Discount", amount=D("1.77"), description="5% of subtotal 35.49 (UPS Ground Domestic)"),
    )
    assert str(result.total) == "33.72"
    assert result.currency == "USD"
    assert result.applied_rules == (AppliedRule(rule_id=2, rule_name="UPS Ground Domestic", priority=90),)


def test_demo_rules_stack_on_the_base_rule_in_priority_order() -> None:
    # Premium (200) and Heavy Package (50) have no base rate: they add to FedEx's (100) price.
    result = DEMO.price(request(weight="25", customer_type="Premium"), TODAY)

    assert result.subtotal == D("78.49")  # 15.99 + 2.50 x 25
    assert [(s.type, s.amount) for s in result.surcharges] == [
        ("Fuel Surcharge", D("6.67")),  # 8.5 % of 78.49 = 6.67165
        ("Weekend Delivery", D("5.00")),
        ("Heavy Package", D("15.00")),
    ]
    assert [(d.type, d.amount) for d in result.discounts] == [("Premium Customer", D("7.85"))]  # 7.849
    assert result.total == D("97.31")
    assert applied_ids(result) == [6, 1, 5]


# --------------------------------------------------------------------------------------------- step 1: candidates


def test_inactive_rule_is_never_a_candidate() -> None:
    rules = [rule(1, base=10, carrier_id=1), rule(2, base=20, priority=99, is_active=False, carrier_id=1)]

    assert candidate_ids(rules, request()) == [1]
    assert len(RuleSet.compile(rules)) == 1


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "is_candidate"),
    [
        (TODAY, None, True),
        (None, TODAY, True),
        (TODAY, TODAY + timedelta(days=1), True),
        (TODAY - timedelta(days=1), TODAY, True),
        (TODAY + timedelta(days=1), None, False),
        (None, TODAY - timedelta(days=1), False),
        (TODAY - timedelta(days=30), TODAY - timedelta(days=1), False),
        (None, None, True),
    ],
)
def test_validity_window_is_inclusive_and_each_bound_optional(
    valid_from: date | None, valid_to: date | None, is_candidate: bool
) -> None:
    rules = [rule(1, base=10, valid_from=valid_from, valid_to=valid_to)]

    assert candidate_ids(rules, request()) == ([1] if is_candidate else [])


@pytest.mark.parametrize(
    ("condition", "request_overrides"),
    [
        ({"carrier_id": 2}, {}),
        ({"service_type": "Ground"}, {}),
        ({"origin_country": "CA"}, {}),
        ({"destination_country": "MX"}, {}),
        ({"customer_type": "premium"}, {"customer_type": "business"}),
        ({"weight_range": ("6", "10")}, {}),
        ({"distance_range": ("0", "100")}, {"distance": "250"}),
    ],
)
def test_every_stated_condition_must_be_satisfied(condition: dict[str, Any], request_overrides: dict[str, Any]) -> None:
    matching = rule(1, base=10, carrier_id=1, service_type="Express", **US_US)
    failing = rule(2, base=10, **{**{"carrier_id": 1, "service_type": "Express", **US_US}, **condition})

    assert candidate_ids([matching, failing], request(**request_overrides)) == [1]


def test_unstated_conditions_match_any_request() -> None:
    rules = [rule(1, base=10)]

    for req in (request(), request(carrier_id=None, service_type="Freight", origin_country="JP", customer_type="x")):
        assert candidate_ids(rules, req) == [1]


def test_string_conditions_ignore_case() -> None:
    rules = [
        rule(
            1,
            base=10,
            service_type="Next Day Air",
            origin_country="us",
            destination_country="Ca",
            customer_type="PREMIUM",
        ),
        rule(2, base=10, service_type="Straße"),
    ]

    req = request(service_type="NEXT DAY air", origin_country="US", destination_country="cA", customer_type="Premium")
    assert candidate_ids(rules, req) == [1]
    assert candidate_ids(rules, request(service_type="STRASSE")) == [2]  # casefold, not lower()


def test_strings_are_not_trimmed() -> None:
    assert candidate_ids([rule(1, base=10, origin_country="US")], request(origin_country="US ")) == []


def test_a_stated_customer_type_needs_one_in_the_request() -> None:
    rules = [rule(1, base=10), rule(2, priority=99, discounts=(pct("Premium", 10),), customer_type="premium")]

    assert candidate_ids(rules, request()) == [1]
    assert candidate_ids(rules, request(customer_type="premium")) == [2, 1]


@pytest.mark.parametrize(
    ("weight", "is_candidate"), [("20", True), ("999", True), ("500", True), ("19.99", False), ("999.01", False)]
)
def test_weight_range_is_inclusive(weight: str, is_candidate: bool) -> None:
    assert candidate_ids([rule(1, base=10, weight_range=(20, 999))], request(weight=weight)) == (
        [1] if is_candidate else []
    )


@pytest.mark.parametrize(("distance", "is_candidate"), [("0", True), ("100", True), ("100.5", False), (None, False)])
def test_distance_range_is_inclusive_and_needs_a_distance(distance: str | None, is_candidate: bool) -> None:
    # A distanceRange is a stated condition: a request without a distance does not satisfy it.
    assert candidate_ids([rule(1, base=10, distance_range=(0, 100))], request(distance=distance)) == (
        [1] if is_candidate else []
    )


def test_a_stated_carrier_needs_one_in_the_request() -> None:
    rules = [rule(1, base=10, carrier_id=1), rule(2, base=10)]

    assert candidate_ids(rules, request(carrier_id=None)) == [2]


def test_rules_for_any_carrier_join_the_carriers_own() -> None:
    rules = [
        rule(1, base=10, carrier_id=1, service_type="Express"),
        rule(2, priority=60, carrier_id=1),
        rule(3, priority=70, service_type="express"),
        rule(4, priority=40),
        rule(5, base=10, carrier_id=2),
        rule(6, base=10, service_type="Ground"),
    ]

    assert candidate_ids(rules, request()) == [3, 2, 1, 4]


# --------------------------------------------------------------------------------------------- step 2: base rule


def test_base_rule_is_the_highest_priority_with_a_base_rate() -> None:
    rules = [
        rule(1, base="10.00", priority=10, name="low"),
        rule(2, base="20.00", priority=30, name="high"),
        rule(3, base=0, priority=99, name="no base rate"),
    ]

    result = RuleSet.compile(rules).price(request(), TODAY)

    assert result.base_rate == D("20.00")
    assert applied_ids(result) == [2]


def test_base_rule_ties_go_to_the_lowest_id() -> None:
    rules = [rule(7, base="70.00", priority=5), rule(3, base="30.00", priority=5), rule(9, base="90.00", priority=5)]

    assert RuleSet.compile(rules).price(request(), TODAY).base_rate == D("30.00")


def test_no_base_rule_raises_a_422_error_family() -> None:
    only_adjustments = RuleSet.compile([DEMO_RULES[4], DEMO_RULES[5]])

    with pytest.raises(NoBaseRule) as raised:
        only_adjustments.price(request(weight="25", customer_type="premium"), TODAY)

    assert isinstance(raised.value, Unprocessable)
    assert raised.value.message == "No pricing rule matches this shipment"
    with pytest.raises(NoBaseRule):
        DEMO.price(request(carrier_id=7), TODAY)


# --------------------------------------------------------------------------------------------- step 3: subtotal


def test_each_subtotal_line_is_rounded_half_up_before_the_sum() -> None:
    rules = [rule(1, base="10.005", per_kg="0.333", per_km="0.0125")]

    result = RuleSet.compile(rules).price(request(weight="3", distance="10"), TODAY)

    # Unrounded: 10.005 + 0.999 + 0.125 = 11.129 → 11.13; line by line: 10.01 + 1.00 + 0.13.
    assert (result.base_rate, result.weight_rate, result.distance_rate) == (D("10.01"), D("1.00"), D("0.13"))
    assert result.subtotal == D("11.14")


def test_absent_rates_and_distance_count_as_zero() -> None:
    ruleset = RuleSet.compile([rule(1, base="10", per_km="1.50")])

    without_distance = ruleset.price(request(), TODAY)
    assert (without_distance.weight_rate, without_distance.distance_rate) == (D("0.00"), D("0.00"))
    assert without_distance.subtotal == D("10.00")
    assert ruleset.price(request(distance="4"), TODAY).distance_rate == D("6.00")


# --------------------------------------------------------------------------------------------- step 4: adjustments


def test_percentages_are_of_the_subtotal_and_round_half_up() -> None:
    rules = [rule(1, base="12.25", surcharges=(pct("Fuel", 10), pct("Peak", 10)), discounts=(pct("Loyal", 10),))]

    result = RuleSet.compile(rules).price(request(), TODAY)

    # 10 % of 12.25 = 1.225 → 1.23 (half-even would give 1.22); not compounded on each other.
    assert [s.amount for s in result.surcharges] == [D("1.23"), D("1.23")]
    assert [d.amount for d in result.discounts] == [D("1.23")]
    assert result.total == D("13.48")


def test_amounts_are_rounded_to_cents_too() -> None:
    rules = [rule(1, base="10", surcharges=(flat("Handling", "2.345"),), discounts=(flat("Promo", "1"),))]

    result = RuleSet.compile(rules).price(request(), TODAY)

    assert result.surcharges[0].amount == D("2.35")
    assert result.discounts[0] == Line(type="Promo", amount=D("1.00"), description="Flat 1.00 (Rule 1)")
    assert result.total == D("11.35")


def test_every_candidate_contributes_highest_priority_first_ties_lowest_id() -> None:
    rules = [
        rule(4, priority=10, surcharges=(flat("d", "4"),)),
        rule(2, priority=20, surcharges=(flat("b", "2"),)),
        rule(3, priority=20, surcharges=(flat("c", "3"),)),
        rule(1, base="10", priority=15, surcharges=(flat("base", "1"),)),
        rule(5, priority=30, discounts=(flat("a", "5"),)),
    ]

    result = RuleSet.compile(rules).price(request(), TODAY)

    assert [s.type for s in result.surcharges] == ["b", "c", "base", "d"]
    assert applied_ids(result) == [5, 2, 3, 1, 4]
    assert result.total == D("15.00")  # 10 + 2 + 3 + 1 + 4 - 5


def test_only_the_base_rules_rates_count() -> None:
    # Rule 2 could be a base rule but is not the highest: its rates and bounds are ignored, its surcharge is not.
    rules = [
        rule(1, base="10", priority=90),
        rule(2, base="99", per_kg="9", minimum="500", priority=10, surcharges=(flat("Extra", "1"),)),
    ]

    result = RuleSet.compile(rules).price(request(), TODAY)

    assert (result.subtotal, result.total) == (D("10.00"), D("11.00"))
    assert applied_ids(result) == [1, 2]


def test_candidates_without_adjustments_are_not_applied() -> None:
    rules = [rule(1, base="10", priority=90), rule(2, base="20", priority=10), rule(3, priority=50)]

    assert applied_ids(RuleSet.compile(rules).price(request(), TODAY)) == [1]


def test_a_rule_with_a_zero_line_still_counts_as_applied() -> None:
    rules = [rule(1, base="0.01"), rule(2, priority=1, discounts=(pct("Tiny", "1"),))]

    result = RuleSet.compile(rules).price(request(), TODAY)

    assert result.discounts[0].amount == D("0.00")
    assert applied_ids(result) == [1, 2]


def test_candidates_in_another_currency_are_skipped_and_listed() -> None:
    rules = [
        rule(1, base="10", priority=50),
        rule(2, priority=90, currency="EUR", discounts=(pct("Euro promo", 50),), name="Euro promo"),
        rule(3, priority=10, currency="eur"),
        rule(4, priority=5, currency="usd", surcharges=(flat("Same currency", "1"),)),
    ]

    result = RuleSet.compile(rules).price(request(), TODAY)

    assert result.total == D("11.00")
    assert result.currency == "USD"
    assert applied_ids(result) == [1, 4]
    assert [(s.rule_id, s.rule_name, s.priority) for s in result.skipped_rules] == [
        (2, "Euro promo", 90),
        (3, "Rule 3", 10),
    ]
    assert result.skipped_rules[0].reason == "currency EUR differs from the base rule's USD"


def test_the_base_rule_sets_the_currency_whatever_the_others_use() -> None:
    rules = [rule(1, base="10", priority=10), rule(2, base="30", priority=20, currency="EUR")]

    result = RuleSet.compile(rules).price(request(), TODAY)

    assert (result.currency, result.total) == ("EUR", D("30.00"))
    assert [s.rule_id for s in result.skipped_rules] == [1]


# --------------------------------------------------------------------------------------------- step 5: total


def test_total_is_floored_at_zero() -> None:
    rules = [rule(1, base="10", discounts=(pct("All", 100), flat("More", "5")))]

    assert RuleSet.compile(rules).price(request(), TODAY).total == D("0.00")


def test_total_is_raised_to_the_minimum_after_the_floor() -> None:
    rules = [rule(1, base="10", minimum="12.99", discounts=(pct("All", 100), flat("More", "5")))]

    assert RuleSet.compile(rules).price(request(), TODAY).total == D("12.99")


def test_total_is_capped_at_the_maximum() -> None:
    assert DEMO.price(request(weight="500"), TODAY).total == D("500.00")  # 15.99 + 1250 + ... > 500


@pytest.mark.parametrize(("minimum", "maximum"), [("0", "0"), (None, None), ("-1", "-1")])
def test_zero_or_absent_bounds_do_not_bound(minimum: str | None, maximum: str | None) -> None:
    ruleset = RuleSet.compile([rule(1, base="10", per_kg="100", minimum=minimum, maximum=maximum)])

    assert ruleset.price(request(weight="0.01"), TODAY).total == D("11.00")
    assert ruleset.price(request(weight="1000"), TODAY).total == D("100010.00")


def test_only_the_base_rules_bounds_apply_and_max_wins_over_min() -> None:
    rules = [
        rule(1, base="50", minimum="80", maximum="60"),
        rule(2, priority=1, minimum="1000", surcharges=(flat("x", 1),)),
    ]

    assert RuleSet.compile(rules).price(request(), TODAY).total == D("60.00")


def test_bounds_are_rounded_to_cents() -> None:
    rules = [rule(1, base="1", minimum="12.345")]

    assert RuleSet.compile(rules).price(request(), TODAY).total == D("12.35")


# --------------------------------------------------------------------------------------------- step 6: money


def test_every_amount_is_a_decimal_with_two_places() -> None:
    result = DEMO.price(request(weight="25.125", customer_type="premium", distance="12.5"), TODAY)
    amounts = [result.base_rate, result.weight_rate, result.distance_rate, result.subtotal, result.total]
    amounts += [line.amount for line in (*result.surcharges, *result.discounts)]

    for amount in amounts:
        assert type(amount) is Decimal
        assert amount.as_tuple().exponent == -2


# --------------------------------------------------------------------------------------------- inputs


def test_adjustment_states_exactly_one_of_amount_and_percentage() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Adjustment(type="both", amount=D(1), percentage=D(1))
    with pytest.raises(ValueError, match="exactly one"):
        Adjustment(type="neither")


@pytest.mark.parametrize(
    ("weight", "distance"), [("0", None), ("-1", None), ("NaN", None), ("1", "-0.1"), ("1", "Infinity")]
)
def test_request_needs_a_positive_weight_and_a_nonnegative_distance(weight: str, distance: str | None) -> None:
    with pytest.raises(ValueError, match=r"^(weight|distance) must be"):
        request(weight=weight, distance=distance)


def test_rule_ids_are_unique_in_a_set() -> None:
    with pytest.raises(ValueError, match="id 1 appears twice"):
        RuleSet.compile([rule(1, base=1), rule(1, base=2, is_active=False)])


# --------------------------------------------------------------------------------------------- quotes


def test_quote_prices_each_carrier_with_a_base_rule_cheapest_first() -> None:
    quotes = DEMO.quote(request(carrier_id=None), [4, 2, 1, 3, 1, 99], TODAY)

    # FedEx 37.27; DHL 18.99 + 16.50 + 10 + 5 = 50.49; UPS (Ground), USPS (Priority Mail) and 99 have no base.
    assert [(q.carrier_id, q.result.total) for q in quotes] == [(1, D("37.27")), (4, D("50.49"))]
    assert quotes[0].result == DEMO.price(request(), TODAY)


def test_quote_ignores_the_requests_carrier_and_breaks_ties_by_carrier_id() -> None:
    rules = [rule(1, base="10", carrier_id=3), rule(2, base="10", carrier_id=2), rule(3, base="9", carrier_id=5)]

    quotes = RuleSet.compile(rules).quote(request(carrier_id=3), [3, 5, 2], TODAY)

    assert [q.carrier_id for q in quotes] == [5, 2, 3]
    assert RuleSet.compile(rules).quote(request(), [], TODAY) == []
