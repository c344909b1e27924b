"""The README tells the truth about the code, and the code is ruff- and mypy-clean."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest

from pytest_orchphase.metrics.registry import REGISTRY
from tests.helpers import REPO

README = (REPO / "README.md").read_text()


def test_readme_documents_every_metric_with_its_formula() -> None:
    rows = set(
        re.findall(r"^\| `(\w+)` \| (phase|ticket) \| \w+ \| [^|]+ \| (.+) \|$", README, re.M)
    )
    registered = {(name, scope, m.formula) for (scope, name), m in REGISTRY.metrics.items()}
    assert registered == rows


def test_readme_documents_every_option() -> None:
    plugin = "\n".join(p.read_text() for p in (REPO / "pytest_orchphase" / "plugin").glob("*.py"))
    options = set(re.findall(r'"(--[a-z-]+)"', plugin))
    inis = set(re.findall(r'parser\.addini\(\s*"(\w+)"', plugin))
    assert options and inis
    missing = sorted(o for o in options | inis if f"`{o}" not in README)
    assert missing == []


def _tool(name: str) -> list[str]:
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return [sys.executable, "-m", name]


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [*_tool("ruff"), "check", "."], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    """Over the package and the tests alike: `mypy` alone, as pyproject.toml configures it."""
    result = subprocess.run(_tool("mypy"), cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    checked = re.search(r"no issues found in (\d+) source files", result.stdout)
    assert checked, result.stdout
    modules = [*(REPO / "pytest_orchphase").rglob("*.py"), *(REPO / "tests").rglob("*.py")]
    assert int(checked.group(1)) >= len(modules)


DOCS = {
    path.relative_to(REPO).as_posix(): path.read_text() for path in (REPO / "docs").glob("*.md")
}
DOCS["README.md"] = README


@pytest.mark.parametrize("name", sorted(DOCS))
def test_documentation_names_no_folder_outside_the_repository(name: str) -> None:
    """Users have the repository, not the folders beside it where it was developed."""
    assert re.findall(r"\.\./shared\b|\bshared/transcripts\b", DOCS[name]) == []


EXAMPLE = re.compile(
    r"^```console\n\$ (orchphase extract tests/fixtures/[^\n]*)\n(.*?)^```", re.M | re.S
)


@pytest.mark.parametrize(
    ("name", "command", "shown"),
    [(name, *m.groups()) for name, text in sorted(DOCS.items()) for m in EXAMPLE.finditer(text)],
)
def test_extract_examples_on_the_fixtures_print_what_the_docs_show(
    name: str,
    command: str,
    shown: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pytest_orchphase.cli import main

    monkeypatch.chdir(REPO)
    assert main(command.split()[1:]) == 0
    assert capsys.readouterr().out == shown


def test_the_docs_show_extract_on_the_fixtures() -> None:
    assert {name for name, text in DOCS.items() if EXAMPLE.search(text)} == {
        "README.md",
        "docs/measured-usage.md",
    }


def test_performance_figures_trace_to_committed_benchmark_results() -> None:
    """Every ratio the README quotes is the one a committed benchmark result holds (issue 16),
    and none comes from timing ccusage through npx (issue 9, point 16)."""
    import json

    section = README.split("## Performance", 1)[1].split("\n## ", 1)[0]
    files = re.findall(r"`(benchmarks/results/[\w.-]+\.json)`", section)
    assert files, "the performance section names the results its figures come from"
    # per (shape or variant, mode), the ratios of every file named (a table per run)
    rows: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for name in files:
        doc = json.loads((REPO / name).read_text())
        assert "npx" not in json.dumps(doc.get("peer"))
        mode = str(doc.get("mode", "cold"))
        for row in doc.get("shapes", []) + doc.get("variants", []):
            key = (row.get("shape") or row["variant"], mode)
            ratios = (f"{row['ratio_wall']:.2f}", f"{row['ratio_cpu']:.2f}")
            rows.setdefault(key, set()).add(ratios)
    modes = "cold|first|warm|entries|appended"
    quoted = re.findall(rf"^\| `(\w+)` \| ({modes}) \|.*\| ([\d.]+) \| ([\d.]+) \|$", section, re.M)
    assert quoted, "the performance section has its table"
    for key, mode, wall, cpu in quoted:
        assert (key, mode) in rows, (key, mode)
        assert (wall, cpu) in rows[(key, mode)], (key, mode, wall, cpu, rows[(key, mode)])


def test_readme_exit_code_table_lists_the_log_contradictions() -> None:
    """README's Exit codes table, row 2 (collection error), lists every log contradiction that
    is one: beside `result: PASS` beside a `FAIL` checklist item and `fix_loops: 0` beside a fix
    stage or a `requires_fix` made later, also `result: PASS` beside the review's own
    `status: failed`/`requires_fix`/`verification: failed`, review attempts past 1 + fix_loops,
    and `fix_loops: 0` beside a `verification: failed` a later stage fixed."""
    from tests.helpers import REPO

    row = next(
        line
        for line in (REPO / "README.md").read_text().splitlines()
        if line.startswith("| 2 (collection error)")
    )
    assert "attempts" in row and "verification" in row, row
