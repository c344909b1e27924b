"""The usage-source seam: a new source is one folder plus one registration line, and a phase is
measured from it like from transcripts (passing and failing on its figures)."""

from __future__ import annotations

import pytest

from pytest_orchphase.usage.sources import registry

#: A third source: one package (a folder) that exposes SOURCE. Its format, ``*.fake``: one call
#: a line, ``message_id request_id model input output``.
FAKE_SOURCE = """
from pathlib import Path

from pytest_orchphase.usage.records import ApiCall
from pytest_orchphase.usage.sources.base import FileResult


class FakeSource:
    name = "fake"
    suffixes = (".fake",)

    def claims(self, path: Path) -> bool:
        return path.name.endswith(self.suffixes)

    def companions(self, path: Path) -> list[Path]:
        return [path]

    def read(self, path: Path, *, prompts: bool = True) -> FileResult:
        res = FileResult(path=path)
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            try:
                message_id, request_id, model, inp, out = line.split()
                call = ApiCall(message_id, request_id, model, int(inp), int(out))
            except ValueError:
                res.malformed += 1
                res.warnings.append(f"{path}:{lineno}: expected 5 fields")
                continue
            call.session_id, call.path = "fake-session", path
            res.calls[(message_id, request_id)] = call
            res.intact += 1
        return res


SOURCE = FakeSource()
"""
CRITERIA = """\
phase: f1
data: phase-f1
criteria:
  - id: output
    for_each: ticket
    metric: tokens
    measure: output
    max: 1000
"""
HAIKU = "claude-haiku-4-5-20251001"


@pytest.fixture
def fake_phase(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    (pytester.path / "fakesource").mkdir()
    (pytester.path / "fakesource" / "__init__.py").write_text(FAKE_SOURCE)
    pytester.syspathinsert()
    # The one registration line (BUILTIN in usage/sources/registry.py), for this test only.
    monkeypatch.setattr(registry, "BUILTIN", ("fakesource", *registry.BUILTIN))
    monkeypatch.setattr(registry, "_loaded", {})
    pytester.makefile(".yaml", **{"criteria/f1": CRITERIA})
    data = pytester.path / "docs" / "orchestration-data" / "phase-f1"
    data.mkdir(parents=True)
    (data / "metadata.yaml").write_text(
        "phase: F1\ntickets: [R01]\nsessions: [{path: run.fake, ticket: R01}]\n"
    )
    (data / "execution-log.yaml").write_text(
        "shared_planning:\n  estimated_tokens: 100\n"
        "tickets:\n  R01:\n    implementation:\n      estimated_tokens: 50\n"
    )
    return pytester


def _calls(pytester: pytest.Pytester, *lines: str) -> None:
    run = pytester.path / "docs" / "orchestration-data" / "phase-f1" / "run.fake"
    run.write_text("".join(line + "\n" for line in lines))


def test_a_registered_source_measures_a_phase(fake_phase: pytest.Pytester) -> None:
    # The same response twice (from two lines) is counted once: the merge keys every source.
    _calls(fake_phase, f"m1 r1 {HAIKU} 10 400", f"m1 r1 {HAIKU} 10 400", f"m2 r2 {HAIKU} 5 500")
    result = fake_phase.runpytest("--phase", "f1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["output*R01*tokens (output)*900*max*1,000*PASS"])


def test_a_registered_source_fails_a_phase_over_its_limit(fake_phase: pytest.Pytester) -> None:
    _calls(fake_phase, f"m1 r1 {HAIKU} 10 400", f"m2 r2 {HAIKU} 5 700")
    result = fake_phase.runpytest("--phase", "f1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["output[[]R01[]]: tokens (output) 1,100 > max 1,000*"])


def test_a_source_file_with_no_intact_line_is_an_error_not_an_estimate(
    fake_phase: pytest.Pytester,
) -> None:
    _calls(fake_phase, "garbage", "more garbage")
    result = fake_phase.runpytest("--phase", "f1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*metadata.yaml:3:*: sessions[[]0[]]: *run.fake: not one intact line (first: *"]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_without_its_registration_line_the_source_is_not_read(
    fake_phase: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _calls(fake_phase, f"m1 r1 {HAIKU} 10 400")
    monkeypatch.setattr(registry, "BUILTIN", registry.BUILTIN[1:])
    result = fake_phase.runpytest("--phase", "f1")
    # Read as a transcript, its lines are not JSON: an error, never a pass on the estimates.
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*run.fake: not one intact line*not a whole JSON object*"])
