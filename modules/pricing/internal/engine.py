"""The pricing engine: pricing rules and a shipment in, a price out (docs/api.md §6.2-§6.5).

Pure Python: no database, no HTTP, no clock. The caller passes `today` (the UTC date) and the rules it
loaded; the module maps `NoBaseRule` to 422 through its error family. `RuleSet.compile(rules)` indexes
the active rules once (by carrier and service type, strings folded, amounts rounded) so that
`RuleSet.price` looks only at the rules that can match a request, and `RuleSet.quote` prices one request
for several carriers.

The steps, in the order of docs/api.md §6.3:

1. A rule is a candidate when it is active, `valid_from <= today <= valid_to` (each bound optional), and
   every condition it states is satisfied by the request; a condition it does not state matches anything.
2. The base rule is the candidate with the highest priority whose base rate is above 0 (ties: lowest id).
   None → `NoBaseRule`.
3. subtotal = base rate + per-kg rate * weight + per-km rate * distance, each line rounded half-up to
   cents before the sum (absent rates and distance count as 0).
4. Every candidate, highest priority first (ties: lowest id), the base rule included, adds its surcharges
   and discounts: a percentage of the subtotal or an amount as it is, each line rounded half-up to cents.
   Candidates in another currency than the base rule's add nothing and are listed in `skipped_rules`.
5. total = subtotal + surcharges - discounts, floored at 0, raised to the base rule's minimum charge,
   then capped at its maximum charge.
6. Every amount is a `Decimal` with exactly 2 decimals (§6.4); no float is involved anywhere.

Decisions where §6.2-§6.3 leave room (the tests in tests/pricing/ pin each one):

- A stated condition needs the request to carry a value: a rule stating `distanceRange` does not match a
  request without a distance (as a stated `customerType` needs one), even though the subtotal counts a
  missing distance as 0; likewise a rule stating `carrierId` does not match a request without a carrier.
- Strings (service type, countries, customer type) compare after `str.casefold()`, without trimming
  (the HTTP layer trims what it accepts). Currencies compare ignoring case and come out in upper case.
- Validity bounds are dates compared with `today`, both inclusive; a caller holding datetimes passes
  their UTC dates.
- The base rule is chosen among all candidates whatever their currency; its currency is the result's.
  Every candidate in another currency is listed in `skipped_rules`, with or without surcharges.
- Of the candidates other than the base rule only the surcharges and discounts count: their base,
  per-kg and per-km rates and their minimum and maximum charges are ignored, even when they could have
  been a base rule themselves.
- Percentages are of the subtotal (before any surcharge or discount), never compounded.
- A candidate "contributes" (and appears in `applied_rules`) when it states at least one surcharge or
  discount in the base currency, even if its lines round to 0.00; those lines are listed too.
  `applied_rules` is in the order the rules were applied (highest priority first, ties lowest id), so
  the base rule is not necessarily first.
- Minimum and maximum charges are rounded half-up to cents; 0, negative or absent means no bound. When
  a rule's minimum exceeds its maximum the maximum wins (the cap comes last).
- Line descriptions are generated: `8.5% of subtotal 29.74 (FedEx Express Domestic)` for a percentage,
  `Flat 5.00 (FedEx Express Domestic)` for an amount (rule pricing has no description of its own).
- Inactive rules are dropped when the set is compiled. Two rules with the same id in one set are an error
  (`ValueError`): the tie-break by id needs ids to be unique.
- A surcharge or discount states exactly one of `amount` and `percentage` (`ValueError` otherwise), as
  the rule validation of §6.2 requires.
- Quotes: each carrier is priced once (duplicates in the list are ignored), carriers without a base rule
  are left out, and the rest are ordered by total, then carrier id. Totals in different currencies are
  compared as plain numbers: there is no currency conversion in Freightdesk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Final

import msgspec

from kernel.contracts.errors import Unprocessable
from kernel.contracts.money import round_money

ZERO: Final = Decimal("0.00")
_HUNDRED: Final = Decimal(100)


class NoBaseRule(Unprocessable):
    """No candidate rule has a base rate above 0 for the shipment (docs/api.md §6.3, step 2)."""

    default_message = "No pricing rule matches this shipment"


# --------------------------------------------------------------------------------------------- rules


class Range(msgspec.Struct, frozen=True, kw_only=True):
    """An inclusive range of weights (kg) or distances (km)."""

    min: Decimal
    max: Decimal


class Conditions(msgspec.Struct, frozen=True, kw_only=True):
    """What a shipment must be for a rule to apply; None means the rule does not state the condition."""

    carrier_id: int | None = None
    service_type: str | None = None
    origin_country: str | None = None
    destination_country: str | None = None
    customer_type: str | None = None
    weight_range: Range | None = None
    distance_range: Range | None = None


class Adjustment(msgspec.Struct, frozen=True, kw_only=True):
    """A surcharge or a discount: exactly one of an amount and a percentage (0-100) of the subtotal."""

    type: str
    amount: Decimal | None = None
    percentage: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.percentage is None):
            raise ValueError(f"surcharge or discount {self.type!r} needs exactly one of amount and percentage")


class Pricing(msgspec.Struct, frozen=True, kw_only=True):
    base_rate: Decimal
    currency: str
    per_kg_rate: Decimal | None = None
    per_km_rate: Decimal | None = None
    minimum_charge: Decimal | None = None
    maximum_charge: Decimal | None = None
    surcharges: tuple[Adjustment, ...] = ()
    discounts: tuple[Adjustment, ...] = ()


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    priority: int
    pricing: Pricing
    is_active: bool = True
    valid_from: date | None = None
    valid_to: date | None = None
    conditions: Conditions = msgspec.field(default_factory=Conditions)


class Request(msgspec.Struct, frozen=True, kw_only=True):
    """A shipment to price: weight in kg (> 0), distance in km (>= 0, optional)."""

    service_type: str
    weight: Decimal
    origin_country: str
    destination_country: str
    carrier_id: int | None = None
    distance: Decimal | None = None
    customer_type: str | None = None

    def __post_init__(self) -> None:
        if not (self.weight.is_finite() and self.weight > 0):
            raise ValueError("weight must be a finite number above 0")
        if self.distance is not None and not (self.distance.is_finite() and self.distance >= 0):
            raise ValueError("distance must be a finite number of at least 0")


# --------------------------------------------------------------------------------------------- results


class Line(msgspec.Struct, frozen=True, kw_only=True):
    """One surcharge or discount of a result, rounded to cents."""

    type: str
    amount: Decimal
    description: str


class AppliedRule(msgspec.Struct, frozen=True, kw_only=True):
    rule_id: int
    rule_name: str
    priority: int


class SkippedRule(msgspec.Struct, frozen=True, kw_only=True):
    rule_id: int
    rule_name: str
    priority: int
    reason: str


class Result(msgspec.Struct, frozen=True, kw_only=True):
    """A priced shipment; every amount has exactly 2 decimals, in `currency`."""

    base_rate: Decimal
    weight_rate: Decimal
    distance_rate: Decimal
    surcharges: tuple[Line, ...]
    discounts: tuple[Line, ...]
    subtotal: Decimal
    total: Decimal
    currency: str
    applied_rules: tuple[AppliedRule, ...]
    skipped_rules: tuple[SkippedRule, ...]


class CarrierQuote(msgspec.Struct, frozen=True, kw_only=True):
    carrier_id: int
    result: Result


# --------------------------------------------------------------------------------------------- compiled


def _fold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def _bound(charge: Decimal | None) -> Decimal | None:
    """A minimum or maximum charge in cents; 0, negative or absent is no bound."""
    return round_money(charge) if charge is not None and charge > 0 else None


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}"


class _Adjustment:
    """A surcharge or discount ready to apply: a flat line built once, or a fraction of the subtotal."""

    __slots__ = ("fixed", "fraction", "label", "suffix", "type")

    def __init__(self, adjustment: Adjustment, rule_name: str) -> None:
        self.type = adjustment.type
        self.suffix = f" ({rule_name})"
        self.fixed: Line | None = None
        self.fraction: Decimal | None = None
        self.label = ""
        if adjustment.amount is not None:
            amount = round_money(adjustment.amount)
            self.fixed = Line(type=self.type, amount=amount, description=f"Flat {amount}{self.suffix}")
        else:
            assert adjustment.percentage is not None  # Adjustment.__post_init__ guarantees one of the two
            self.fraction = adjustment.percentage / _HUNDRED
            self.label = f"{_percent(adjustment.percentage)}% of subtotal "

    def line(self, subtotal: Decimal) -> Line:
        if self.fixed is not None:
            return self.fixed
        assert self.fraction is not None
        return Line(
            type=self.type,
            amount=round_money(subtotal * self.fraction),
            description=f"{self.label}{subtotal}{self.suffix}",
        )


class _CompiledRule:
    """A rule with its conditions folded and its amounts prepared; carrier and service live in the index."""

    __slots__ = (
        "base_line",
        "base_rate",
        "contributes",
        "currency",
        "customer_type",
        "destination",
        "discounts",
        "distance_range",
        "maximum",
        "minimum",
        "order",
        "origin",
        "per_kg_rate",
        "per_km_rate",
        "ref",
        "rule",
        "surcharges",
        "valid_from",
        "valid_to",
        "weight_range",
    )

    def __init__(self, rule: Rule) -> None:
        conditions, pricing = rule.conditions, rule.pricing
        self.rule = rule
        self.order = (-rule.priority, rule.id)
        self.ref = AppliedRule(rule_id=rule.id, rule_name=rule.name, priority=rule.priority)
        self.valid_from = rule.valid_from
        self.valid_to = rule.valid_to
        self.origin = _fold(conditions.origin_country)
        self.destination = _fold(conditions.destination_country)
        self.customer_type = _fold(conditions.customer_type)
        weight, distance = conditions.weight_range, conditions.distance_range
        self.weight_range = None if weight is None else (weight.min, weight.max)
        self.distance_range = None if distance is None else (distance.min, distance.max)
        self.currency = pricing.currency.upper()
        self.base_rate = pricing.base_rate
        self.base_line = round_money(pricing.base_rate)
        self.per_kg_rate = pricing.per_kg_rate
        self.per_km_rate = pricing.per_km_rate
        self.minimum = _bound(pricing.minimum_charge)
        self.maximum = _bound(pricing.maximum_charge)
        self.surcharges = tuple(_Adjustment(a, rule.name) for a in pricing.surcharges)
        self.discounts = tuple(_Adjustment(a, rule.name) for a in pricing.discounts)
        self.contributes = bool(self.surcharges or self.discounts)

    def admits(
        self,
        today: date,
        origin: str,
        destination: str,
        customer_type: str | None,
        weight: Decimal,
        distance: Decimal | None,
    ) -> bool:
        """The conditions other than carrier and service type (which the index has already matched)."""
        if self.valid_from is not None and today < self.valid_from:
            return False
        if self.valid_to is not None and today > self.valid_to:
            return False
        if self.origin is not None and self.origin != origin:
            return False
        if self.destination is not None and self.destination != destination:
            return False
        if self.customer_type is not None and self.customer_type != customer_type:
            return False
        if self.weight_range is not None and not self.weight_range[0] <= weight <= self.weight_range[1]:
            return False
        return self.distance_range is None or (
            distance is not None and self.distance_range[0] <= distance <= self.distance_range[1]
        )


_ORDER = attrgetter("order")


def _calculate(candidates: Sequence[_CompiledRule], weight: Decimal, distance: Decimal | None) -> Result | None:
    """Steps 2-6 over the candidates, in application order; None when none of them is a base rule."""
    base = next((c for c in candidates if c.base_rate > 0), None)
    if base is None:
        return None
    weight_line = ZERO if base.per_kg_rate is None else round_money(base.per_kg_rate * weight)
    distance_line = ZERO if base.per_km_rate is None or distance is None else round_money(base.per_km_rate * distance)
    subtotal = base.base_line + weight_line + distance_line

    surcharges: list[Line] = []
    discounts: list[Line] = []
    applied: list[AppliedRule] = []
    skipped: list[SkippedRule] = []
    currency = base.currency
    for candidate in candidates:
        if candidate.currency != currency:
            rule = candidate.rule
            skipped.append(
                SkippedRule(
                    rule_id=rule.id,
                    rule_name=rule.name,
                    priority=rule.priority,
                    reason=f"currency {candidate.currency} differs from the base rule's {currency}",
                )
            )
            continue
        if candidate.contributes:
            surcharges.extend(a.line(subtotal) for a in candidate.surcharges)
            discounts.extend(a.line(subtotal) for a in candidate.discounts)
            applied.append(candidate.ref)
        elif candidate is base:
            applied.append(candidate.ref)

    total = subtotal + sum((s.amount for s in surcharges), ZERO) - sum((d.amount for d in discounts), ZERO)
    if total < 0:
        total = ZERO
    if base.minimum is not None and total < base.minimum:
        total = base.minimum
    if base.maximum is not None and total > base.maximum:
        total = base.maximum
    return Result(
        base_rate=base.base_line,
        weight_rate=weight_line,
        distance_rate=distance_line,
        surcharges=tuple(surcharges),
        discounts=tuple(discounts),
        subtotal=subtotal,
        total=total,
        currency=currency,
        applied_rules=tuple(applied),
        skipped_rules=tuple(skipped),
    )


_Key = tuple[int | None, str | None]


class RuleSet:
    """The active rules of a rule list, indexed by (carrier id, folded service type).

    A rule that states no carrier (or no service type) sits under None for it, so a request looks in at
    most four buckets: its carrier and service, its carrier and any service, any carrier and its service,
    any carrier and any service. Built once per rule list; immutable and safe to share between threads.
    """

    __slots__ = ("_buckets", "_size")

    def __init__(self, buckets: dict[_Key, tuple[_CompiledRule, ...]], size: int) -> None:
        self._buckets = buckets
        self._size = size

    @classmethod
    def compile(cls, rules: Iterable[Rule]) -> RuleSet:
        seen: set[int] = set()
        grouped: dict[_Key, list[_CompiledRule]] = {}
        size = 0
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"pricing rule id {rule.id} appears twice")
            seen.add(rule.id)
            if not rule.is_active:
                continue
            key = (rule.conditions.carrier_id, _fold(rule.conditions.service_type))
            grouped.setdefault(key, []).append(_CompiledRule(rule))
            size += 1
        return cls({key: tuple(sorted(bucket, key=_ORDER)) for key, bucket in grouped.items()}, size)

    def __len__(self) -> int:
        """How many active rules the set holds."""
        return self._size

    def candidates(self, request: Request, today: date) -> list[Rule]:
        """The candidate rules for `request` (step 1), in application order: highest priority, then lowest id."""
        return [c.rule for c in self._candidates(request, request.carrier_id, today)]

    def price(self, request: Request, today: date) -> Result:
        """The price of `request` on `today` (UTC); `NoBaseRule` when no candidate has a base rate."""
        result = _calculate(self._candidates(request, request.carrier_id, today), request.weight, request.distance)
        if result is None:
            raise NoBaseRule()
        return result

    def quote(self, request: Request, carriers: Iterable[int], today: date) -> list[CarrierQuote]:
        """`request` priced for each carrier (its own `carrier_id` is ignored), cheapest first, ties by carrier
        id; carriers without a base rule are left out."""
        quotes = []
        for carrier_id in set(carriers):
            result = _calculate(self._candidates(request, carrier_id, today), request.weight, request.distance)
            if result is not None:
                quotes.append(CarrierQuote(carrier_id=carrier_id, result=result))
        quotes.sort(key=lambda q: (q.result.total, q.carrier_id))
        return quotes

    def _candidates(self, request: Request, carrier_id: int | None, today: date) -> list[_CompiledRule]:
        service = request.service_type.casefold()
        keys: tuple[_Key, ...] = ((None, service), (None, None))
        if carrier_id is not None:
            keys = ((carrier_id, service), (carrier_id, None), *keys)
        origin = request.origin_country.casefold()
        destination = request.destination_country.casefold()
        customer_type = _fold(request.customer_type)
        weight, distance = request.weight, request.distance
        found: list[_CompiledRule] = []
        buckets = self._buckets
        for key in keys:
            bucket = buckets.get(key)
            if bucket is not None:
                found.extend(c for c in bucket if c.admits(today, origin, destination, customer_type, weight, distance))
        found.sort(key=_ORDER)
        return found
