"""YAML loading and validation of bad files: where the error points and what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.errors import InvalidFile, OrchphaseError, PhaseUsageError
from pytest_orchphase.load import validation, yamlio
from pytest_orchphase.load.models import Metadata
from pytest_orchphase.load.phase import known_phases, load_phase, require_phase
from pytest_orchphase.load.requires import check_graph
from pytest_orchphase.usage.price_file import read_price_file

P = Path("x.yaml")


@pytest.mark.parametrize(
    "text",
    [
        'requires: !!python/object/apply:os.system ["touch pwned"]\n',
        "a: !!python/name:os.system\n",
        "a: !!set {x, y}\n",
        "a: !custom 3\n",
    ],
)
def test_a_tag_is_an_error_never_dropped_or_built(text: str) -> None:
    with pytest.raises(OrchphaseError) as err:
        yamlio.parse(text, P)
    assert err.value.line == 1
    assert "unsupported tag" in err.value.message
    assert "expected plain YAML data" in err.value.message


def test_an_empty_document_points_at_line_one() -> None:
    doc = yamlio.parse("# only a comment\n", P)
    with pytest.raises(OrchphaseError) as err:
        validation.validate(doc, Metadata)
    assert (err.value.line, err.value.message) == (1, "is empty; expected a mapping (Metadata)")


def test_a_nul_byte_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"phase: a1\ntickets: [R03]\n\x00\x01")
    with pytest.raises(OrchphaseError) as err:
        yamlio.load(path)
    assert err.value.line == 3
    assert "expected a YAML text file" in err.value.message


def test_a_missing_file_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(OrchphaseError, match="file not found; expected a YAML file"):
        yamlio.load(tmp_path / "none.yaml")


def test_a_union_error_names_the_field_and_the_telling_complaint() -> None:
    doc = yamlio.parse("phase: A1\ntickets: [R03]\nsessions:\n  - {session: a, path: b}\n", P)
    with pytest.raises(InvalidFile) as err:
        validation.validate(doc, Metadata)
    assert [str(p) for p in err.value.problems] == [
        "x.yaml:4:5: sessions[0]: give exactly one of `session` (an id) or `path`"
    ]


def _phase_dir(tmp_path: Path, data: str, requires: str = "[]") -> Path:
    criteria = tmp_path / "criteria"
    criteria.mkdir(exist_ok=True)
    (criteria / "a1.yaml").write_text(
        f"phase: a1\ndata: {data}\nrequires: {requires}\ncriteria:\n"
        "  - {id: n, metric: tickets, equals: 1}\n"
    )
    return criteria


@pytest.mark.parametrize(
    ("data", "reason"),
    [('"phase\\0a1"', "embedded null"), ("x" * 5000, "File name too long")],
)
def test_a_data_folder_no_file_system_allows_is_an_error_at_its_line(
    tmp_path: Path, data: str, reason: str
) -> None:
    criteria = _phase_dir(tmp_path, data)
    with pytest.raises(OrchphaseError) as err:
        load_phase(criteria, tmp_path, "a1")
    assert (err.value.line, err.value.field) == (2, "data")
    assert reason in err.value.message and "expected a folder holding" in err.value.message


def test_a_folder_in_place_of_a_criteria_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "a1.yaml").mkdir()
    with pytest.raises(PhaseUsageError, match=r"is a directory.*expected the phase's YAML"):
        require_phase(tmp_path, "a1")
    assert known_phases(tmp_path) == []


def test_a_cycle_is_reported_at_the_requires_entry_that_closes_it(tmp_path: Path) -> None:
    criteria = _phase_dir(tmp_path, "d", requires="[a1]")
    with pytest.raises(PhaseUsageError) as err:
        check_graph(criteria, "a1")
    assert str(err.value).startswith(
        f"{criteria / 'a1.yaml'}:3:12: requires[0]: phases require each other in a cycle: a1 -> a1"
    )


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("family_defaults:\n  sonnet: a\n  sonnet: b\n", 3, "duplicate key 'sonnet'"),
        ("models:\n  claude-x: {input: -1}\n", 2, "greater than or equal to 0"),
        (
            "a: &a [1,1,1,1,1,1,1,1,1]\n"
            + "".join(
                f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            None,
            "alias bomb",
        ),
    ],
    ids=["duplicate family", "negative rate", "alias bomb"],
)
def test_a_price_file_is_loaded_like_every_data_file(
    tmp_path: Path, text: str, line: int | None, says: str
) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(OrchphaseError) as err:
        read_price_file(path)
    assert err.value.path == path
    assert says in str(err.value)
    if line is not None:
        assert err.value.line == line


@pytest.mark.parametrize("nested", ["[" * 2000 + "]" * 2000, "\n  " + "- " * 2000 + "x"])
def test_deep_nesting_is_refused_before_the_c_parser_sees_it(nested: str) -> None:
    # 2,000 levels: past the limit, yet safe for libyaml if the guard were gone (the crash is
    # past 20,000; the corpus runs 100,000 in a subprocess).
    with pytest.raises(OrchphaseError) as err:
        yamlio.parse(f"phase: a1\ntitle: {nested}\n", P)
    assert "nesting is too deep (over 1,000 levels); expected" in err.value.message
    assert err.value.line == (2 if nested.startswith("[") else 3)
