"""A phase run reads its transcripts through the scan cache in pytest's cache folder: the second
run parses no line and writes the same reports, byte for byte; a transcript that changed is read
again, so a phase that now fails fails; ``--orchphase-no-cache``, ``-p no:cacheprovider``,
``--cache-clear``, ``--co`` and ``-n 2`` behave as a pytest user expects."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    HAIKU,
    SESSION,
    ClaudeHome,
    Phase,
    agent_result,
    assistant,
    count_parsed_lines,
    rewrite_keeping_size_and_time,
    spawn_block,
    usage,
)
from tests.helpers import (
    ParsedLines as Lines,
)

KEPT = Path(".pytest_cache") / "d" / "orchphase"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Lines:
    return count_parsed_lines(monkeypatch)


def _calls(count: int, out: int = 1000) -> list[dict[str, Any]]:
    return [
        assistant(
            f"msg_{n}", f"req_{n}", u=usage(inp=100, out=out), ts=f"2026-02-12T14:{n:02d}:00Z"
        )
        for n in range(count)
    ]


@pytest.fixture
def phase(pytester: pytest.Pytester) -> ClaudeHome:
    """Phase c1, measured from its transcripts/ folder: a lead session of 10 Opus calls of 100
    input and 1,000 output tokens ($0.2550), the first spawning R03's sub-agent (one Haiku call
    corrected by the parent's record, $0.00036), under a cap of $0.30."""
    c1 = Phase.of(
        "c1",
        [{"id": "cost", "metric": "tokens", "measure": "usd", "max": 0.30}],
        {"R03": {"implementation": {"model": "haiku", "estimated_tokens": 1000}}},
        planning={"model": "opus", "estimated_tokens": 1000},
    )
    c1.write(pytester.path)
    home = c1.transcripts(pytester.path)
    calls = _calls(10)
    calls[0]["message"]["content"] = [spawn_block("toolu_1", description="R03: implement")]
    agent = assistant("msg_a1", "req_a1", model=HAIKU, agent_id="a1", u=usage(inp=10, out=1))
    home.subagent("a1", [agent])
    home.session([*calls, agent_result("toolu_1", "a1", usage(inp=10, out=70))])
    return home


def _run(pytester: pytest.Pytester, *extra: str) -> tuple[pytest.RunResult, bytes]:
    report = pytester.path / "out" / "r.json"
    report.unlink(missing_ok=True)
    result = pytester.runpytest("--phase", "c1", "--orchphase-json", str(report), *extra)
    return result, report.read_bytes() if report.exists() else b""


def _session(home: ClaudeHome) -> Path:
    return home.project / f"{SESSION}.jsonl"


def test_the_second_run_reads_the_cache_and_writes_the_same_report(
    pytester: pytest.Pytester, phase: ClaudeHome, parsed: Lines
) -> None:
    first, report = _run(pytester)
    first.assert_outcomes(passed=1)
    assert parsed.take() == 12
    assert any((pytester.path / KEPT).rglob("entries/*.jsonl"))
    second, again = _run(pytester)
    second.assert_outcomes(passed=1)
    assert parsed.take() == 0
    assert again == report and b"0.255" in report
    uncached, without = _run(pytester, "--orchphase-no-cache")
    uncached.assert_outcomes(passed=1)
    assert parsed.take() == 12 and without == report


def test_a_session_that_grew_past_the_cap_fails_the_next_run(
    pytester: pytest.Pytester, phase: ClaudeHome, parsed: Lines
) -> None:
    _run(pytester)[0].assert_outcomes(passed=1)
    with _session(phase).open("ab") as fh:  # two more calls: $0.306 > $0.30
        for call in _calls(12)[10:]:
            fh.write(json.dumps(call).encode() + b"\n")
    parsed.take()
    result, _ = _run(pytester)
    result.assert_outcomes(failed=1)
    assert parsed.take() == 2  # read on from the kept lines, not from the start
    result.stdout.fnmatch_lines(["*cost*> max $0.3000*"])


def test_a_session_rewritten_to_its_size_and_time_fails_the_next_run(
    pytester: pytest.Pytester, phase: ClaudeHome
) -> None:
    """Same size, same modification time, other figures: read again, never the kept result."""
    _run(pytester)[0].assert_outcomes(passed=1)
    rewrite_keeping_size_and_time(_session(phase), b'"output_tokens":1000', b'"output_tokens":9000')
    _run(pytester)[0].assert_outcomes(failed=1)


def test_without_the_cache_provider_nothing_is_kept(
    pytester: pytest.Pytester, phase: ClaudeHome, parsed: Lines
) -> None:
    first, report = _run(pytester, "-p", "no:cacheprovider")
    first.assert_outcomes(passed=1)
    _, again = _run(pytester, "-p", "no:cacheprovider")
    assert parsed.take() == 24 and again == report
    assert not (pytester.path / ".pytest_cache").exists()


def test_no_cache_writes_no_entry(pytester: pytest.Pytester, phase: ClaudeHome) -> None:
    _run(pytester, "--orchphase-no-cache")[0].assert_outcomes(passed=1)
    assert not (pytester.path / KEPT).exists()


def test_cache_clear_reads_every_transcript_again(
    pytester: pytest.Pytester, phase: ClaudeHome, parsed: Lines
) -> None:
    _run(pytester)
    parsed.take()
    result, _ = _run(pytester, "--cache-clear")
    result.assert_outcomes(passed=1)
    assert parsed.take() == 12


def test_collecting_only_keeps_nothing(pytester: pytest.Pytester, phase: ClaudeHome) -> None:
    result = pytester.runpytest("--phase", "c1", "--co")
    assert result.ret == pytest.ExitCode.OK
    assert not (pytester.path / KEPT).exists()


def test_the_same_report_under_xdist_cold_and_warm(
    pytester: pytest.Pytester, phase: ClaudeHome
) -> None:
    pytest.importorskip("xdist")
    serial = _run(pytester, "--orchphase-no-cache")[1]
    for _ in ("cold", "warm"):
        result, report = _run(pytester, "-n", "2")
        result.assert_outcomes(passed=1)
        assert report == serial
    assert any((pytester.path / KEPT).rglob("entries/*.jsonl"))


def test_a_read_only_cache_folder_changes_nothing(
    pytester: pytest.Pytester, phase: ClaudeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the cache cannot be written (here: a file where its folder would be)."""
    (pytester.path / ".pytest_cache" / "d").mkdir(parents=True)
    (pytester.path / KEPT).write_text("not a folder")
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    assert b"0.255" in report
    assert (pytester.path / KEPT).read_text() == "not a folder"


def test_the_example_transcripts_in_a_phase_report_the_same_warm(
    pytester: pytest.Pytester, phase: ClaudeHome
) -> None:
    """The real sample transcripts (the example's sub-agents, corrections, prompts), when
    present, as the phase's sessions: the same report cold and warm."""
    from tests.helpers import REAL_TRANSCRIPTS

    sample = REAL_TRANSCRIPTS / "projects"
    if not sample.is_dir():
        pytest.skip("the real transcripts are absent")
    import shutil

    shutil.copytree(sample, phase.root / "projects", dirs_exist_ok=True)
    cold = _run(pytester)[1]
    assert _run(pytester)[1] == cold and cold


def test_the_measured_example_reports_the_same_bytes_every_way(pytester: pytest.Pytester) -> None:
    """Phase m1 of the measured-phase tests (sub-agents corrected by the parent's records,
    agent_progress copies, a response over two lines, failing items): its JSON and markdown
    reports without the cache, with it cold and warm, and under -n 2 warm are the same bytes."""
    from tests.plugin.test_measured_phase import write_phase

    write_phase(pytester)
    out = pytester.path / "out"

    def reports(*extra: str) -> tuple[bytes, bytes]:
        for name in ("r.json", "r.md"):
            (out / name).unlink(missing_ok=True)
        args = ["--phase", "m1", "--orchphase-json", "out/r.json", "--orchphase-md", "out/r.md"]
        pytester.runpytest(*args, *extra).assert_outcomes(passed=1, failed=3)
        return (out / "r.json").read_bytes(), (out / "r.md").read_bytes()

    without = reports("--orchphase-no-cache")
    assert reports() == without  # cold: kept
    assert reports() == without  # warm: read back
    if importlib.util.find_spec("xdist") is not None:
        assert reports("-n", "2") == without


def test_a_run_from_the_bundle_writes_the_same_report(
    pytester: pytest.Pytester, phase: ClaudeHome, parsed: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run after the one that kept the phase's files takes each from the cache's bundle (no
    index record or entry looked up, no line parsed) and writes the report a run without the
    cache writes, byte for byte; a session that grew past the cap since is not taken from it:
    the next run fails. (The transcripts are a moment old: the time grain is set to 0 for their
    items to be kept.)"""
    from pytest_orchphase.usage import cache_lookup

    monkeypatch.setattr(cache_lookup, "RACY_NS", 0)
    looked: list[Path] = []
    real = cache_lookup._Lookup.by_path

    def by_path(self: Any) -> Any:
        looked.append(self.path)
        return real(self)

    monkeypatch.setattr(cache_lookup._Lookup, "by_path", by_path)
    without = _run(pytester, "--orchphase-no-cache")[1]
    _run(pytester)[0].assert_outcomes(passed=1)
    assert len(looked) == 2 and any((pytester.path / KEPT).rglob("bundle"))
    looked.clear()
    parsed.take()
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    assert report == without and b"0.255" in report
    assert looked == [] and parsed.take() == 0
    with _session(phase).open("ab") as fh:  # two more calls: $0.306 > $0.30
        for call in _calls(12)[10:]:
            fh.write(json.dumps(call).encode() + b"\n")
    _run(pytester)[0].assert_outcomes(failed=1)
    assert looked == [_session(phase)]
