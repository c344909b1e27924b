"""Round-20 review findings on figures: a limit of 0 with float error, a negative fraction where a
percentage belongs, the point rule's bounded search, and figures shown as they were decided."""

from __future__ import annotations

import pytest

from pytest_orchphase.metrics.stats import holds, same_figure


def test_a_figure_at_zero_but_for_float_error_is_at_zero() -> None:
    """A usd delta of $0.1 + $0.2 − $0.3 is 5.6e-17 in floats and 0 in truth: at a limit of 0
    there is no relative tolerance, so an absolute floor decides it is at 0."""
    zero = 0.1 + 0.2 - 0.3
    assert zero != 0
    assert not holds(zero, "above", 0.0)
    assert holds(zero, "max", 0.0)
    assert not holds(-zero, "below", 0.0)
    assert holds(-zero, "min", 0.0)
    assert holds(zero, "equals", 0.0)


@pytest.mark.parametrize("real", [1e-6, -1e-6])
def test_a_real_millionth_away_from_zero_still_counts(real: float) -> None:
    """The floor is no over-correction: a millionth of a dollar, percent or minute is a real
    difference at a limit of 0, both ways."""
    above = real > 0
    assert holds(real, "above", 0.0) is above
    assert holds(real, "max", 0.0) is not above
    assert holds(real, "below", 0.0) is not above
    assert holds(real, "min", 0.0) is above
    assert not holds(real, "equals", 0.0)


def test_whole_numbers_stay_exact_at_zero_and_far_from_it() -> None:
    """Token counts and counts keep no tolerance: 1 token is above 0, one over a billion is over."""
    assert holds(1, "above", 0)
    assert not holds(1, "max", 0)
    assert not holds(1_000_000_001, "max", 1_000_000_000)
    assert not same_figure(1, 0)


@pytest.mark.parametrize("bare", [-0.5, -1, -1.0, -0.01])
def test_a_negative_fraction_where_a_percentage_belongs_is_refused(bare: float) -> None:
    """`savings max: -0.5` means "at least 50 % dearer" if a fraction and would pass at 1 %
    dearer if read as -0.5 %: refused like 0.6, with the same message."""
    from pytest_orchphase.load.quantity import parse_percent

    with pytest.raises(ValueError, match="looks like a fraction; write the percentage"):
        parse_percent(bare)


@pytest.mark.parametrize(("value", "read"), [(-2, -2.0), (-1.5, -1.5), ("-0.5%", -0.5), (0, 0.0)])
def test_a_negative_percentage_beyond_a_fraction_or_written_with_its_sign_is_read(
    value: float | str, read: float
) -> None:
    from pytest_orchphase.load.quantity import parse_percent

    assert parse_percent(value) == read

