"""Which tickets a model filter judges (a rate's `model:`, a `where: {execution_model: …}`,
pass^k's runs), through real runs: a snapshot id is of the version its name gives
(`claude-haiku-4-5-20251001` is Haiku 4.5, whichever spelling names that version: `Haiku 4.5`,
`haiku-4-5`, a dotted `haiku-4.5`, a Bedrock id), and never a may-be of another model's alias;
a name of no known family (`hiaku`) may be any model, so it is never silently another; a name of
another family or version is known to be another. A name no number parser holds is no
traceback. The plugin side of tests/unit/test_model_names.py."""

from __future__ import annotations

import pytest

from tests.helpers import (
    ALL_HAIKU_SUCCEED,
    Phase,
    YamlData,
    assert_not_yes,
    decision,
    flat_ticket,
    rate_on,
    run_phase,
)


def _two_models(
    pytester: pytest.Pytester, succeeded: str, struggled: str, criterion: YamlData
) -> pytest.RunResult:
    """Phase p1 judged by ``criterion``: T01 executed on ``succeeded`` (a success) and T02 on
    ``struggled``, which needed three fix loops (no success); its run."""
    three_loops = {"fix_loops": 3, "review": {"result": "PASS", "attempts": 1}}
    tickets = {
        "T01": flat_ticket(execution_model=succeeded),
        "T02": flat_ticket(execution_model=struggled, **three_loops),
    }
    Phase.of("p1", [criterion], tickets).write(pytester.path)
    return run_phase(pytester, "p1")


@pytest.mark.parametrize("wanted", ["Haiku 4.5", "haiku-4-5"])
def test_a_snapshot_id_is_of_the_model_its_version_name_gives(
    pytester: pytest.Pytester, wanted: str
) -> None:
    rate = {**ALL_HAIKU_SUCCEED, "model": wanted}
    result = _two_models(pytester, wanted, "claude-haiku-4-5-20251001", rate)
    assert_not_yes(pytester, result)


#: At most one fix loop for each ticket executed on Haiku.
HAIKU_LOOPS: YamlData = {
    "id": "haiku-loops",
    "for_each": "ticket",
    "where": {"execution_model": "haiku"},
    "metric": "fix_loops",
    "max": 1,
}


@pytest.mark.parametrize("criterion", ["rate", "where"])
def test_a_model_of_no_family_is_not_silently_another_model(
    pytester: pytest.Pytester, criterion: str
) -> None:
    judged = ALL_HAIKU_SUCCEED if criterion == "rate" else HAIKU_LOOPS
    result = _two_models(pytester, "haiku", "hiaku", judged)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*T02*'hiaku'*no known model family (opus, sonnet, haiku)*"])


def test_repeated_runs_count_no_model_of_no_family_as_another(pytester: pytest.Pytester) -> None:
    """pass_hat_k over Haiku's runs: T02's failed run on 'hiaku' may be Haiku's."""
    every: YamlData = {
        "id": "every",
        "metric": "pass_hat_k",
        "model": "haiku",
        "k": 1,
        "min": "100%",
    }
    result = _two_models(pytester, "haiku", "hiaku", every)
    assert_not_yes(pytester, result)


@pytest.mark.parametrize(
    "other",
    [
        "sonnet[1m]",
        "claude-opus-4-1",
        "claude-sonnet-4-5-20250929",
        "claude-sonnet-4-5-20250929[1m]",
        "anthropic.claude-opus-4-1-20250805-v1:0",
    ],
)
@pytest.mark.parametrize("criterion", ["rate", "where"])
def test_a_model_of_another_family_is_known_to_be_another(
    pytester: pytest.Pytester, criterion: str, other: str
) -> None:
    """The honest side: names Claude Code and the providers record for Sonnet and Opus are of a
    known family, so their failures are none of Haiku's criteria's business."""
    judged = ALL_HAIKU_SUCCEED if criterion == "rate" else HAIKU_LOOPS
    result = _two_models(pytester, "haiku", other, judged)
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0


@pytest.mark.parametrize("wanted", ["Haiku 4.5", "haiku-4-5"])
def test_a_snapshot_of_the_version_a_name_gives_counts_in_its_rate(
    pytester: pytest.Pytester, wanted: str
) -> None:
    """The honest side: the snapshot's ticket succeeded too, so Haiku 4.5's rate is 2 of 2 (an
    unknown membership would not say YES)."""
    rate = {**ALL_HAIKU_SUCCEED, "model": wanted}
    tickets = {
        "T01": flat_ticket(execution_model=wanted),
        "T02": flat_ticket(execution_model="claude-haiku-4-5-20251001"),
    }
    Phase.of("p1", [rate], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0


@pytest.mark.parametrize("other", ["claude-3-5-haiku-20241022", "claude-haiku-3-5"])
def test_a_snapshot_of_another_version_is_not_in_the_rate(
    pytester: pytest.Pytester, other: str
) -> None:
    """Haiku 3.5's failing ticket is no Haiku 4.5 ticket, whatever shape names either."""
    rate = {**ALL_HAIKU_SUCCEED, "model": "Haiku 4.5"}
    result = _two_models(pytester, "claude-haiku-4-5-20251001", other, rate)
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0


def test_a_where_naming_a_version_judges_its_snapshots(pytester: pytest.Pytester) -> None:
    """The filter of a for_each criterion, as the rate's: the snapshot's three fix loops fail
    `max: 1` of the tickets on Haiku 4.5."""
    loops: YamlData = {
        "id": "haiku-loops",
        "for_each": "ticket",
        "where": {"execution_model": "Haiku 4.5"},
        "metric": "fix_loops",
        "max": 1,
    }
    result = _two_models(pytester, "Haiku 4.5", "claude-haiku-4-5-20251001", loops)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*haiku-loops*T02*FAIL*"])


def test_a_snapshot_id_is_not_a_may_be_of_another_models_alias(pytester: pytest.Pytester) -> None:
    """R01 records the exact snapshot `claude-haiku-4-5-20251001` (what a transcript records);
    the criterion filters on `claude-3-5-haiku`, an alias of another model
    (`claude-3-5-haiku-20241022`, which R02 records). R01 is certainly not on it, so its fix
    loop is none of the criterion's business and the phase is YES. Never that R01 "records its
    model only as 'claude-haiku-4-5-20251001', not which haiku model id" (it is the most precise
    record there is), failing the criterion: a wrong NO on ordinary measured data."""
    Phase.of(
        "b1",
        [
            {
                "id": "loops",
                "for_each": "ticket",
                "where": {"execution_model": "claude-3-5-haiku"},
                "metric": "fix_loops",
                "max": 0,
            },
        ],
        {
            "R01": flat_ticket(execution_model="claude-haiku-4-5-20251001", fix_loops=1),
            "R02": flat_ticket(execution_model="claude-3-5-haiku-20241022"),
        },
    ).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert "not which haiku model id" not in result.stdout.str()
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0


def test_a_snapshot_of_the_model_a_filter_names_is_that_model(pytester: pytest.Pytester) -> None:
    """The other side: R02 records `claude-3-5-haiku-20241022`, a snapshot of the model the
    filter names undated (`claude-3-5-haiku`): it is that model, so its fix loop counts and
    `max: 0` fails. Left out (a full id matching only exactly), the phase would say YES."""
    Phase.of(
        "b1",
        [
            {
                "id": "loops",
                "for_each": "ticket",
                "where": {"execution_model": "claude-3-5-haiku"},
                "metric": "fix_loops",
                "max": 0,
            },
        ],
        {
            "R01": flat_ticket(execution_model="claude-haiku-4-5-20251001"),
            "R02": flat_ticket(execution_model="claude-3-5-haiku-20241022", fix_loops=1),
        },
    ).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*loops*R02*FAIL*"])


def test_a_bedrock_id_of_the_model_is_not_certainly_another_model(
    pytester: pytest.Pytester,
) -> None:
    ticket = {"complexity": "mechanical", "actual_tokens": 20_000}
    review = {"result": "PASS", "attempts": 1}
    tickets = {
        "T01": {**ticket, "execution_model": "claude-haiku-4-5", "fix_loops": 0, "review": review},
        "T02": {
            **ticket,
            "execution_model": "anthropic.claude-haiku-4-5-20251001-v1:0",
            "fix_loops": 3,
            "review": review,
        },
    }
    rate = {
        "id": "rate",
        "metric": "success_rate",
        "model": "claude-haiku-4-5",
        "min": "100%",
        "rule": "point",
    }
    Phase.of("v1", [rate], tickets).write(pytester.path)
    result = run_phase(pytester, "v1")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret != 0


def test_a_model_name_with_a_huge_number_is_no_traceback(pytester: pytest.Pytester) -> None:
    done = {"actual_tokens": 20_000, "fix_loops": 0, "review": {"result": "PASS", "attempts": 1}}
    tickets = {
        "T01": {**done, "execution_model": "claude-haiku-4-5"},
        "T02": {**done, "execution_model": "haiku-" + "1" * 5000},
    }
    cap = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "50k"}
    adopt = {"model": "claude-haiku-4-5", "min_success_rate": "50%", "min_sample_size": 1}
    Phase.of("h1", [cap], tickets, decisions={"adopt_model": adopt}).write(pytester.path)
    result = run_phase(pytester, "h1")
    out = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in out and "Exceeds the limit" not in out, out[-3000:]


@pytest.mark.parametrize(
    ("succeeded", "struggled", "wanted"),
    [
        ("claude-haiku-4-5-20251001", "claude-haiku-4.5", "claude-haiku-4-5"),
        ("haiku-4.5", "claude-haiku-4-5-20251001", "haiku-4.5"),
        ("claude-opus-4-1-20250805", "claude-opus-4.1", "claude-opus-4-1"),
    ],
)
def test_a_dotted_model_version_is_that_version(
    pytester: pytest.Pytester, succeeded: str, struggled: str, wanted: str
) -> None:
    three_loops = {"fix_loops": 3, "review": {"result": "PASS", "attempts": 1}}
    tickets = {
        "T01": flat_ticket(execution_model=succeeded),
        "T02": flat_ticket(execution_model=struggled, **three_loops),
    }
    Phase.of("p1", [rate_on(wanted)], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
