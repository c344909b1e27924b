from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.errors import InvalidFile
from pytest_orchphase.load import validation, yamlio
from pytest_orchphase.load.models import CriteriaFile, ExecutionLog, Metadata
from pytest_orchphase.load.quantity import parse_minutes, parse_percent, parse_tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [(40000, 40000), ("40k", 40000), ("40,000", 40000), ("1.5M", 1_500_000), ("1.5k", 1500)],
)
def test_token_forms(text: object, tokens: int) -> None:
    assert parse_tokens(text) == tokens


@pytest.mark.parametrize(
    "bad", [-1, 1.5, 12000.0, 43.0, "12.000", "12x", "56000 (28k per ticket)", True, "4,00"]
)
def test_token_forms_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="token"):
        parse_tokens(bad)


def test_percent() -> None:
    assert parse_percent("60%") == 60.0
    assert parse_percent(64) == 64.0
    with pytest.raises(ValueError):
        parse_percent("sixty")


@pytest.mark.parametrize(
    ("bare", "shown"),
    [(0.6, "'60%' (or '0.6%'"), (1.0, "'100%' (or '1.0%'"), (1, "'100%' (or '1%'")],
)
def test_a_bare_fraction_where_a_percentage_belongs_is_refused(bare: float, shown: str) -> None:
    """1 and 1.0 are as ambiguous as 0.6 (100 % or 1 %?): refused alike, naming both readings."""
    with pytest.raises(ValueError, match="looks like a fraction") as err:
        parse_percent(bare)
    assert shown in str(err.value)
    assert parse_percent("1%") == 1.0 and parse_percent("100%") == 100.0
    assert parse_percent(0) == 0.0 and parse_percent(1.5) == 1.5 and parse_percent(2) == 2.0


def _validate(text: str, model: type) -> object:
    return validation.validate(yamlio.parse(text, Path("f.yaml")), model)


def test_plans_metadata_with_notes_in_numbers_is_rejected_with_a_hint() -> None:
    with pytest.raises(InvalidFile) as err:
        _validate("phase: A1\ntickets: [R03]\nexpected_tokens: 56000 (28k per ticket)\n", Metadata)
    assert err.value.problems[0].field == "expected_tokens"
    assert "put notes in a YAML comment" in err.value.problems[0].message


def test_duplicate_ticket_ids_in_metadata() -> None:
    with pytest.raises(InvalidFile, match="listed twice"):
        _validate("phase: A1\ntickets: [R03, R03]\n", Metadata)


def test_plan_template_alternatives_are_not_values() -> None:
    text = "tickets:\n  R03:\n    implementation:\n      status: [completed | requires_fix]\n"
    with pytest.raises(InvalidFile) as err:
        _validate(text, ExecutionLog)
    assert err.value.problems[0].field == "tickets.R03.implementation.status"
    assert err.value.problems[0].line == 4


def test_naive_timestamps_need_a_timezone() -> None:
    with pytest.raises(InvalidFile, match="timezone"):
        _validate("shared_planning:\n  start_time: '2026-02-07T10:00:00'\n", ExecutionLog)


@pytest.mark.parametrize("stamp", ["1000", "1000.5", "'1230'", "' 1700000000 '", "-5", "1e9"])
def test_a_bare_number_is_no_stamp(stamp: str) -> None:
    """pydantic reads a number (or text that is one) as Unix seconds: 1000 would be
    1970-01-01 00:16:40 UTC, a wall time of a few minutes from a team's 10:00 to 12:30."""
    with pytest.raises(InvalidFile, match="a number is no time") as err:
        _validate(f"shared_planning:\n  start_time: {stamp}\n", ExecutionLog)
    assert err.value.problems[0].field == "shared_planning.start_time"
    assert err.value.problems[0].line == 2


def test_a_stamp_with_its_time_zone_is_a_time() -> None:
    log = _validate("shared_planning:\n  end_time: '2026-02-07T10:00:00+01:00'\n", ExecutionLog)
    assert isinstance(log, ExecutionLog) and log.shared_planning is not None
    assert log.shared_planning.end_time is not None
    assert log.shared_planning.end_time.hour == 10


def test_a_condition_needs_exactly_one_operator_and_groups_take_none() -> None:
    base = "phase: a1\ndata: d\ncriteria:\n  - id: x\n"
    with pytest.raises(InvalidFile, match="exactly one operator"):
        _validate(base + "    metric: tokens\n    max: 1\n    min: 0\n", CriteriaFile)
    with pytest.raises(InvalidFile, match="belong to each condition"):
        _validate(
            base + "    max: 1\n    all:\n      - {metric: fix_loops, max: 1}\n", CriteriaFile
        )
    with pytest.raises(InvalidFile, match="needs `for_each: ticket`"):
        _validate(
            base + "    where: {execution_model: haiku}\n    metric: fix_loops\n    max: 1\n",
            CriteriaFile,
        )


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        (90, 90.0),
        (27.5, 27.5),
        ("90min", 90.0),
        ("2h", 120.0),
        ("1h30m", 90.0),
        ("1h 15min", 75.0),
        ("1.5 hours", 90.0),
        ("30 minutes", 30.0),
    ],
)
def test_duration_forms(text: object, minutes: float) -> None:
    assert parse_minutes(text) == minutes


@pytest.mark.parametrize("text", ["", "h", "90", "half an hour", "1:30", True, "2d"])
def test_duration_forms_refused(text: object) -> None:
    with pytest.raises(
        ValueError, match="expected a number of minutes like 90, '90min', '2h' or '1h30m'"
    ):
        parse_minutes(text)
