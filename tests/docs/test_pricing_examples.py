"""Every worked example of docs/pricing.md gives, on the real pricing engine, the numbers the document shows.

The document marks its examples with HTML comments a reader does not see, each just before the block it names:

    <!-- pricing-example NAME rules -->                    a ```json list of rules (with their ids)
    <!-- pricing-example NAME request [today=YYYY-MM-DD]-->  a ```json body of POST /pricing/calculate
    <!-- pricing-example NAME lines -->                    a table: | line | worked out | amount |
    <!-- pricing-example NAME response -->                 a ```json part of the response (or the 422)

An example has one `rules` block and one or more cases; a case starts at a `request` and owns the `lines` and
`response` blocks that follow it. Rules and requests are read as the API reads them (`RuleCreate` and
`CalculateIn`: camelCase, unknown fields refused), so an example cannot show a field the API would refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest

from kernel.contracts.errors import Unprocessable
from kernel.contracts.money import is_currency, rate_problem
from modules.pricing.internal.calculations import engine_request, trimmed_shipment
from modules.pricing.internal.engine import Adjustment, NoBaseRule, Pricing, Request, Result, Rule, RuleSet
from modules.pricing.internal.schemas import (
    CalculateIn,
    RuleCreate,
    amounts_out,
    applied_out,
    conditions_of,
    pricing_of,
    shipment_of,
    skipped_out,
)
from modules.pricing.internal.seed import demo_rules
from modules.pricing.internal.service import AdjustmentDraft, PricingDraft

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "pricing.md"
MARKER = re.compile(
    r"^<!-- pricing-example (?P<name>[a-z0-9-]+) (?P<part>rules|request|lines|response)"
    r"(?: today=(?P<today>\d{4}-\d{2}-\d{2}))? -->$"
)
FENCE = "```"
ANY_DAY = date(2026, 6, 15)
"""The date a case is priced on when its request states none (its rules have no validity window then)."""

FEATURES = {
    "base-and-per-kg",
    "per-km",
    "percentage-surcharge",
    "fixed-surcharge",
    "discounts",
    "minimum-charge",
    "maximum-charge",
    "floor-at-zero",
    "priority",
    "condition-not-stated",
    "range-boundary",
    "validity-window",
    "case-insensitive",
    "currency-skipped",
    "no-base-rule",
    "demo",
}
"""One example per feature the document explains; `demo` holds the two worked examples of docs/api.md §6.5."""


@dataclass
class Case:
    example: str
    number: int
    request: dict[str, Any]
    today: date
    lines: list[tuple[str, str]] = field(default_factory=list)
    response: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return f"{self.example}-{self.number}"


@dataclass
class Example:
    name: str
    rules: list[dict[str, Any]] | None = None
    cases: list[Case] = field(default_factory=list)


def _block(lines: list[str], start: int) -> tuple[str, list[str]]:
    """The element after a marker: ("json", its lines) for a fenced block, ("table", its rows) for a table."""
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index < len(lines) and lines[index].startswith(f"{FENCE}json"):
        end = lines.index(FENCE, index + 1)
        return "json", lines[index + 1 : end]
    rows: list[str] = []
    while index < len(lines) and lines[index].startswith("|"):
        rows.append(lines[index])
        index += 1
    if not rows:
        raise AssertionError(f"docs/pricing.md line {start}: a marker without a json block or a table after it")
    return "table", rows


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def parse(text: str) -> dict[str, Example]:
    lines = text.splitlines()
    examples: dict[str, Example] = {}
    for number, line in enumerate(lines):
        marker = MARKER.match(line.strip())
        if marker is None:
            if line.lstrip().startswith("<!-- pricing-example"):
                raise AssertionError(f"docs/pricing.md line {number + 1}: malformed marker {line!r}")
            continue
        name, part = marker["name"], marker["part"]
        example = examples.setdefault(name, Example(name))
        kind, body = _block(lines, number + 1)
        where = f"docs/pricing.md line {number + 1} ({name} {part})"
        if part == "lines":
            assert kind == "table", f"{where}: expected a table"
            assert example.cases, f"{where}: lines before any request"
            header, separator, *rows = body
            assert _cells(header) == ["line", "worked out", "amount"], where
            assert set(separator) <= set("|-: "), where
            example.cases[-1].lines.extend((cells[0], cells[2]) for cells in map(_cells, rows))
            continue
        assert kind == "json", f"{where}: expected a ```json block"
        value = msgspec.json.decode("\n".join(body))
        if part == "rules":
            assert example.rules is None, f"{where}: a second rules block"
            assert isinstance(value, list), where
            example.rules = value
        elif part == "request":
            today = date.fromisoformat(marker["today"]) if marker["today"] else ANY_DAY
            example.cases.append(Case(name, len(example.cases) + 1, value, today))
        else:
            assert example.cases, f"{where}: a response before any request"
            assert example.cases[-1].response is None, f"{where}: a second response for one request"
            example.cases[-1].response = value
    return examples


EXAMPLES = parse(DOCUMENT.read_text(encoding="utf-8"))
CASES = [case for example in EXAMPLES.values() for case in example.cases]


def engine_pricing(draft: PricingDraft) -> Pricing:
    def adjustments(items: tuple[AdjustmentDraft, ...]) -> tuple[Adjustment, ...]:
        return tuple(Adjustment(type=a.type, amount=a.amount, percentage=a.percentage) for a in items)

    return Pricing(
        base_rate=draft.base_rate,
        currency=draft.currency,
        per_kg_rate=draft.per_kg_rate,
        per_km_rate=draft.per_km_rate,
        minimum_charge=draft.minimum_charge,
        maximum_charge=draft.maximum_charge,
        surcharges=adjustments(draft.surcharges),
        discounts=adjustments(draft.discounts),
    )


def rule_of(document: dict[str, Any]) -> Rule:
    """A rule as the API would accept it in a POST /pricing/rules body, with the id it was given."""
    fields = dict(document)
    rule_id = fields.pop("id")
    body = msgspec.json.decode(msgspec.json.encode(fields), type=RuleCreate)
    draft = pricing_of(body.pricing)
    assert is_currency(draft.currency), f"rule {body.name!r}: currency {draft.currency}"
    amounts = {
        "baseRate": draft.base_rate,
        "perKgRate": draft.per_kg_rate,
        "perKmRate": draft.per_km_rate,
        "minimumCharge": draft.minimum_charge,
        "maximumCharge": draft.maximum_charge,
    }
    for adjustment in (*draft.surcharges, *draft.discounts):
        amounts[adjustment.type] = adjustment.amount if adjustment.amount is not None else adjustment.percentage
        assert adjustment.percentage is None or adjustment.percentage <= 100, f"rule {body.name!r}: a percentage"
    for key, value in amounts.items():
        assert value is None or rate_problem(value) is None, f"rule {body.name!r}: {key} {value}"
    if body.valid_from is not None and body.valid_to is not None:
        assert body.valid_from < body.valid_to, f"rule {body.name!r}: validTo must be after validFrom"
    return Rule(
        id=rule_id,
        name=body.name,
        priority=body.priority,
        is_active=body.is_active,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        conditions=conditions_of(body.conditions),
        pricing=engine_pricing(draft),
    )


def request_of(document: dict[str, Any]) -> Request:
    """A POST /pricing/calculate body read and checked as the API reads it."""
    body = msgspec.json.decode(msgspec.json.encode(document), type=CalculateIn)
    shipment = trimmed_shipment(shipment_of(body))
    return engine_request(shipment, shipment.carrier_id)


def rules_of(case: Case) -> RuleSet:
    rules = EXAMPLES[case.example].rules
    assert rules is not None, f"example {case.example} has no rules block"
    return RuleSet.compile(rule_of(rule) for rule in rules)


def response_of(result: Result) -> dict[str, Any]:
    """The parts of the 201 body that come from the engine, as JSON."""
    body = {
        "calculation": amounts_out(result),
        "appliedRules": applied_out(result),
        "skippedRules": skipped_out(result),
    }
    document: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(body))
    return document


def line_amounts(result: Result) -> dict[str, str]:
    """What the `amount` column of a lines table should say for each line of the result."""
    amounts = {
        "base rate": f"{result.base_rate}",
        "weight rate": f"{result.weight_rate}",
        "distance rate": f"{result.distance_rate}",
        "subtotal": f"{result.subtotal}",
        "total": f"{result.total} {result.currency}",
    }
    for kind, lines in (("surcharge", result.surcharges), ("discount", result.discounts)):
        for line in lines:
            amounts[f"{kind} {line.type}"] = f"{line.amount}"
    amounts["applied rules"] = ", ".join(str(r.rule_id) for r in result.applied_rules) or "none"
    amounts["skipped rules"] = ", ".join(str(r.rule_id) for r in result.skipped_rules) or "none"
    return amounts


def test_the_document_has_an_example_of_every_feature() -> None:
    assert not FEATURES - set(EXAMPLES), f"missing: {sorted(FEATURES - set(EXAMPLES))}"
    for example in EXAMPLES.values():
        assert example.rules is not None, f"example {example.name} has no rules"
        assert example.cases, f"example {example.name} has no request"
        for case in example.cases:
            assert case.lines or case.response, f"{case.label} shows no result"


def test_the_document_names_the_demo_rules_as_they_are_seeded() -> None:
    """The `demo` example's rules are the demo pricing rules, ids 1-6 in seed order (docs/reference-data.md)."""
    documented = [rule_of(rule) for rule in EXAMPLES["demo"].rules or []]
    seeded = [
        Rule(
            id=number,
            name=values["name"],
            priority=values["priority"],
            conditions=values["conditions"],
            pricing=engine_pricing(values["pricing"]),
        )
        for number, values in enumerate(demo_rules(), start=1)
    ]
    assert documented == seeded


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_the_example_gives_the_numbers_the_document_shows(case: Case) -> None:
    rules = rules_of(case)
    request = request_of(case.request)
    if case.response is not None and case.response.get("statusCode") == 422:
        with pytest.raises(NoBaseRule) as refused:
            rules.price(request, case.today)
        assert isinstance(refused.value, Unprocessable)  # the family the HTTP layer answers with 422
        assert case.response["message"] == refused.value.message
        assert not case.lines, f"{case.label}: a refused request has no lines"
        return

    result = rules.price(request, case.today)
    if case.response is not None:
        shown = response_of(result)
        assert {key: shown[key] for key in case.response} == case.response
    expected = line_amounts(result)
    for label, amount in case.lines:
        assert label in expected, f"{case.label}: no line {label!r} in the result (lines: {sorted(expected)})"
        assert amount.replace("*", "") == expected[label], f"{case.label}: {label} is {expected[label]}"
    shown_lines = {label for label, _ in case.lines}
    for kind, lines in (("surcharge", result.surcharges), ("discount", result.discounts)):
        for line in lines:
            assert not case.lines or f"{kind} {line.type}" in shown_lines, f"{case.label}: {kind} {line.type} not shown"
