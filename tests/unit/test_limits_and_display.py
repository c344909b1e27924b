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


def _counting_percent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the rates the adoption decision computes (steps, never time)."""
    from pytest_orchphase.decide import adoption
    from pytest_orchphase.metrics.stats import percent as real

    calls = [0]

    def counted(part: float, whole: float) -> float:
        calls[0] += 1
        if calls[0] > 100_001:
            raise RuntimeError("more steps than further_needed's cap")
        return real(part, whole)

    monkeypatch.setattr(adoption, "percent", counted)
    return calls


@pytest.mark.parametrize("threshold", [99.9999, 99.9999999])
def test_the_point_rules_further_successes_are_bounded_like_the_intervals(
    monkeypatch: pytest.MonkeyPatch, threshold: float
) -> None:
    """2 of 3 and `min_success_rate: 99.9999%` took a million steps, 99.9999999 % a billion: the
    answer now takes a few dozen, and is still the first number of successes that reaches it."""
    from pytest_orchphase.decide import adoption
    from pytest_orchphase.metrics.stats import percent

    calls = _counting_percent(monkeypatch)
    more = adoption._point_needed(2, 3, threshold)
    assert more is not None
    assert calls[0] <= 100, calls
    assert holds(percent(2 + more, 3 + more), "min", threshold)
    assert not holds(percent(2 + more - 1, 3 + more - 1), "min", threshold)


def _counted_up(successes: int, n: int, threshold: float) -> int:
    """The point rule's further successes as first written: one success at a time."""
    from pytest_orchphase.metrics.stats import percent

    more = 0
    while n + more and not holds(percent(successes + more, n + more), "min", threshold):
        more += 1
    return more


@pytest.mark.parametrize("threshold", [0.0, 10.0, 50.0, 60.0, 66.67, 70.0, 80.0, 90.0, 95.5, 99.0])
def test_the_point_rules_further_successes_are_those_counted_one_by_one(threshold: float) -> None:
    """The bisection answers what counting up answered, a threshold met exactly included (3 of
    5 at 60 % needs none; 2 of 3 at 66.67 % needs one more)."""
    from pytest_orchphase.decide import adoption

    for n in range(0, 21):
        for successes in range(n + 1):
            expected = _counted_up(successes, n, threshold)
            assert adoption._point_needed(successes, n, threshold) == expected, (successes, n)
    assert adoption._point_needed(3, 5, 60.0) == 0
    assert adoption._point_needed(2, 3, 66.67) == 1


def test_a_delta_at_the_limit_but_for_float_error_is_a_tie_in_the_sign_test() -> None:
    """Sibling of the zero floor: the sign test's agreement counted d − limit > 0, so a delta at
    a limit of 0 but for float error ($0.3 − ($0.1 + $0.2) read the other way round: 5.6e-17)
    agreed. Three real savings and three such ties: the bootstrap's lower bound is above 0, and
    the sign test read 6 of 6 (p = 0.016, significant) where it is 3 of 3 (p = 0.125): YES
    instead of INCONCLUSIVE."""
    from pytest_orchphase.metrics.stats import Paired, three_way

    noise = 0.1 + 0.2 - 0.3
    assert noise > 0
    sample = Paired((0.5, 0.5, 0.5, noise, noise, noise))
    assert three_way(*sample.interval(95.0), "above", 0.0) == "YES"  # the sign test decides
    agrees, p = sample.sign_agrees("above", 0.0, 95.0)
    assert (agrees, p) == (False, 0.125)
    assert sample.further_agreeing("above", 0.0, 95.0) == 3  # 6 of 6 real savings: p = 0.016
    assert "3 cheaper, 0 dearer" in sample.describe()


def test_real_deltas_beside_the_ties_still_agree() -> None:
    """No over-correction: six real savings of a millionth agree (p = 0.016)."""
    from pytest_orchphase.metrics.stats import Paired

    sample = Paired((1e-6,) * 6)
    assert sample.sign_agrees("above", 0.0, 95.0) == (True, 0.015625)
    assert "6 cheaper, 0 dearer" in sample.describe()
