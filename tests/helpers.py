"""What the tests share: the repository's paths, phases written as YAML, and transcript lines
shaped exactly like Claude Code's (2.1.x) JSONL in a fake Claude config folder."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import pytest

    from pytest_orchphase.usage.records import Scan

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
A1_LOG = "docs/orchestration-data/phase-a1-r03-r06/execution-log.yaml"
A2_LOG = "docs/orchestration-data/phase-a2-r03-r06-r07/execution-log.yaml"
A3_LOG = "docs/orchestration-data/phase-a3-r03-r06-r07/execution-log.yaml"
CRITERIA = "criteria"
DATA = "docs/orchestration-data"
BASELINES = "criteria/baselines.yaml"

YamlData = dict[str, Any]

Edit = Callable[[str, str, str], None]


def edit_in(project: Path) -> Edit:
    """Replace one exact snippet in a file of ``project`` (fails loudly if it is absent): for tests
    about the text itself (its lines, its syntax). A phase's content is changed as data: `Phase`."""

    def replace(relpath: str, old: str, new: str) -> None:
        path = project / relpath
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relpath}"
        path.write_text(text.replace(old, new))

    return replace


def nox_constant(name: str) -> object:
    """A constant of noxfile.py (the test matrix: PYTHONS, PYTEST_FLOOR), read without nox."""
    tree = ast.parse((REPO / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"noxfile.py defines no {name}")


def read_yaml(path: Path) -> YamlData:
    """A YAML file that holds a mapping, as Python data."""
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path} holds no mapping"
    return data


def write_yaml(path: Path, data: YamlData) -> Path:
    """Write ``data`` as YAML (keys in their order), making the folders it needs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
    return path


def rename(mapping: YamlData, old: str, new: str) -> None:
    """Call the key ``old`` of ``mapping`` ``new``, in the same place."""
    assert old in mapping and new not in mapping, (old, new, list(mapping))
    items = list(mapping.items())
    mapping.clear()
    mapping.update((new if key == old else key, value) for key, value in items)


def insert(mapping: YamlData, before: str, key: str, value: Any) -> None:
    """Add ``key: value`` to ``mapping`` just before its key ``before``."""
    assert before in mapping and key not in mapping, (before, key, list(mapping))
    items = list(mapping.items())
    mapping.clear()
    for name, old in items:
        if name == before:
            mapping[key] = value
        mapping[name] = old


@dataclass
class Phase:
    """A phase as Python data, written as YAML where the plugin reads it: its criteria file
    (``criteria/<phase>.yaml``) and its data folder (``metadata.yaml``, ``execution-log.yaml``).

    ``Phase.example("a1")`` is a shipped example phase, to change in code before writing it over
    the copy in a project; ``Phase.of(...)`` builds a new one."""

    criteria: YamlData
    metadata: YamlData
    log: YamlData = field(default_factory=dict)  # no execution-log.yaml when empty

    @classmethod
    def example(cls, name: str) -> Phase:
        criteria = read_yaml(REPO / CRITERIA / f"{name}.yaml")
        folder = REPO / DATA / str(criteria["data"])
        return cls(
            criteria, read_yaml(folder / "metadata.yaml"), read_yaml(folder / "execution-log.yaml")
        )

    @classmethod
    def of(
        cls,
        name: str,
        criteria: list[YamlData],
        tickets: dict[str, YamlData],
        *,
        requires: list[str] | None = None,
        decisions: YamlData | None = None,
        planning: YamlData | None = None,
        metadata: YamlData | None = None,
    ) -> Phase:
        """Phase ``name`` (data folder ``phase-<name>``) with these criteria and the execution log's
        ``tickets`` (after ``shared_planning: planning``); its metadata lists the tickets."""
        head: YamlData = {"phase": name, "data": f"phase-{name}"}
        if requires is not None:
            head["requires"] = requires
        if decisions is not None:
            head["decisions"] = decisions
        log: YamlData = {} if planning is None else {"shared_planning": planning}
        log["tickets"] = tickets
        meta = {"phase": name, "tickets": list(tickets)} if metadata is None else metadata
        return cls({**head, "criteria": criteria}, meta, log)

    @property
    def name(self) -> str:
        return str(self.criteria["phase"])

    def folder(self, root: Path) -> Path:
        """The phase's data folder in the project at ``root``."""
        return root / DATA / str(self.criteria["data"])

    def criterion(self, name: str) -> YamlData:
        found = [c for c in self.criteria["criteria"] if c.get("id") == name]
        assert len(found) == 1, f"phase {self.name} has {len(found)} criteria {name!r}"
        criterion: YamlData = found[0]
        return criterion

    def add(self, *criteria: YamlData) -> Phase:
        """The phase with these criteria after its own."""
        self.criteria["criteria"] += criteria
        return self

    def ticket(self, name: str) -> YamlData:
        ticket: YamlData = self.log["tickets"][name]
        return ticket

    def stage(self, ticket: str, name: str) -> YamlData:
        stage: YamlData = self.ticket(ticket)[name]
        return stage

    def write(self, root: Path) -> Path:
        """Write the phase into the project at ``root`` (over what is there); its data folder."""
        write_yaml(root / CRITERIA / f"{self.name}.yaml", self.criteria)
        folder = self.folder(root)
        write_yaml(folder / "metadata.yaml", self.metadata)
        if self.log:
            write_yaml(folder / "execution-log.yaml", self.log)
        return folder

    def transcripts(self, root: Path) -> ClaudeHome:
        """A Claude config folder in the phase's ``transcripts/`` folder (where it is found)."""
        return ClaudeHome(self.folder(root) / "transcripts")


def example_baselines() -> YamlData:
    """The shipped ``criteria/baselines.yaml`` as data; write it back with `write_yaml`."""
    return read_yaml(REPO / BASELINES)


def fail_a2(root: Path) -> None:
    """Make phase a2 of the example in ``root`` fail: Haiku needed three fix loops on R03."""
    a2 = Phase.example("a2")
    a2.stage("R03", "implementation")["fix_loops"] = 3
    a2.write(root)


def rate_phase(
    successes: int,
    n: int,
    *,
    criterion: YamlData | None = None,
    decisions: YamlData | None = None,
    phase: str = "p1",
    requires: list[str] | None = None,
    model: str = "haiku",
    tokens: list[int] | None = None,
) -> Phase:
    """A phase of ``n`` mechanical tickets on ``model`` (flat log shape), the first ``successes``
    with 0 fix loops and the rest with 3, and a criterion ``success_rate >= 70 %`` (``rule:
    interval`` unless ``criterion`` gives its own keys) and the adoption decision (plus
    ``decisions``)."""
    tickets: dict[str, YamlData] = {
        f"T{i:02d}": {
            "complexity": "mechanical",
            "execution_model": model,
            "actual_tokens": tokens[i - 1] if tokens else 20000,
            "fix_loops": 0 if i <= successes else 3,
            "review": {"result": "PASS", "attempts": 1},
        }
        for i in range(1, n + 1)
    }
    adopt: YamlData = {"model": "haiku", "min_success_rate": "70%", "min_sample_size": 3}
    rate: YamlData = {"id": "rate", "metric": "success_rate", "model": "haiku", "min": "70%"}
    return Phase.of(
        phase,
        [{**rate, **(criterion if criterion is not None else {"rule": "interval"})}],
        tickets,
        requires=requires if requires is not None else [],
        decisions={"adopt_model": {**adopt, **(decisions or {})}},
        metadata={"phase": phase, "tickets": list(tickets)},
    )


def staged_ticket(implementation: YamlData | None) -> YamlData:
    """A Sonnet ticket logged stage by stage, no fix loop: its branch (1,000 tokens), this
    ``implementation`` (None: no implementation stage) and a review that passed (1,000)."""
    out: YamlData = {
        "execution_model": "sonnet",
        "fix_loops": 0,
        "branch_creation": {"model": "sonnet", "actual_tokens": 1_000, "status": "completed"},
    }
    if implementation is not None:
        out["implementation"] = {"model": "sonnet", **implementation}
    out["review"] = {
        "model": "sonnet",
        "actual_tokens": 1_000,
        "result": "PASS",
        "attempts": 1,
        "status": "completed",
    }
    return out


def implementation_only_ticket(start: object, end: object) -> YamlData:
    """A Sonnet ticket whose implementation (5,000 tokens) ran from ``start`` to ``end`` (its
    stamps), its branch creation and review skipped: its wall time is its implementation's."""
    ticket = staged_ticket(
        {"actual_tokens": 5_000, "status": "completed", "start_time": start, "end_time": end}
    )
    ticket["branch_creation"]["status"] = "skipped"
    ticket["review"] = {"model": "sonnet", "status": "skipped"}
    return ticket


def second_ticket_phase(root: Path, criteria: list[YamlData], implementation: YamlData) -> None:
    """Phase p1 under ``criteria`` (shared planning 12,000; baseline single_agent 30,000 per
    ticket), two tickets of :func:`staged_ticket`: T01's implementation done for 20,000, T02's
    this ``implementation``."""

    write_yaml(
        root / "criteria/baselines.yaml",
        {"baselines": {"single_agent": {"tokens_per_ticket": 30_000}}},
    )
    done: YamlData = {"actual_tokens": 20_000, "status": "completed"}
    tickets = {"T01": staged_ticket(done), "T02": staged_ticket(implementation)}
    planning = {"model": "sonnet", "actual_tokens": 12_000}
    Phase.of("p1", criteria, tickets, planning=planning).write(root)


#: Haiku's success rate at 100 % on the point estimate: every Haiku ticket must have succeeded.
ALL_HAIKU_SUCCEED: YamlData = {
    "id": "haiku-success",
    "metric": "success_rate",
    "model": "haiku",
    "min": "100%",
    "rule": "point",
}


def haiku_ticket(implementation: YamlData, review: YamlData) -> YamlData:
    """A mechanical ticket executed on Haiku, with these implementation and review stages."""
    return {
        "execution_model": "haiku",
        "complexity": "mechanical",
        "branch_creation": {"model": "sonnet", "actual_tokens": 2_000, "status": "completed"},
        "implementation": {"model": "haiku", "fix_loops": 0, **implementation},
        "review": review,
    }


def rate_on(wanted: str) -> YamlData:
    """Every ticket executed on ``wanted`` must have succeeded (point rule)."""
    return {
        "id": "rate",
        "metric": "success_rate",
        "model": wanted,
        "min": "100%",
        "rule": "point",
    }


def files_under(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (by its path relative to it) with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


#: The path options, each given a path outside the project by ``outside_path``.
PATH_OPTIONS = (
    "--orchphase-criteria",
    "--orchphase-data",
    "--orchphase-prices",
    "--orchphase-json",
    "--orchphase-md",
)


def outside_path(option: str, outside: Path, criteria: Path, data: Path) -> Path:
    """The path in ``outside`` given to a path option: a copy of the project's ``criteria`` or
    ``data`` folder, a price file, or where a report goes."""
    import shutil

    if option == "--orchphase-criteria":
        return Path(shutil.copytree(criteria, outside / "criteria"))
    if option == "--orchphase-data":
        return Path(shutil.copytree(data, outside / "data"))
    if option == "--orchphase-prices":
        (outside / "prices.yaml").write_text('taken: "2026-11"\nmodels: {}\n')
        return outside / "prices.yaml"
    return outside / ("report.json" if option == "--orchphase-json" else "report.md")


def read_report(folder: Path, name: str = "r.json") -> dict[str, Any]:
    """The JSON report a phase run wrote into ``folder``."""
    data: dict[str, Any] = json.loads((folder / name).read_text())
    return data


def run_phase(pytester: pytest.Pytester, phase: str, *args: str) -> pytest.RunResult:
    """``pytest --phase PHASE`` in the pytester project, its JSON report written as r.json."""
    return pytester.runpytest(
        "--phase", phase, "--orchphase-json", "r.json", "-p", "no:randomly", *args
    )


def run_phase_process(
    folder: Path, *args: str, stdout: Any = subprocess.PIPE, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``pytest --phase p1`` in a process of its own (cache provider off), its standard error
    into its standard output: for what an inline run cannot show, a report written to the
    process's own descriptors (``/dev/stdout`` on a pipe, or redirected to ``stdout``, a file)."""
    command = [sys.executable, "-m", "pytest", "--phase", "p1", "-p", "no:randomly"]
    return subprocess.run(
        [*command, "-p", "no:cacheprovider", *args],
        cwd=folder,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )


def decision(pytester: pytest.Pytester) -> str:
    """The "Proceed" answer of the run's JSON report (YES, NO or UNDECIDED)."""
    return str(read_report(pytester.path)["decisions"]["proceed"]["answer"])


def assert_not_yes(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    """The phase did not proceed: its decision is not YES and the run did not exit 0."""
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret != 0, result.stdout.str()


def flat_ticket(**changes: object) -> YamlData:
    """A finished Sonnet ticket in the flat shape: 20,000 tokens, no fix loop, review passed;
    with ``changes``."""
    ticket: YamlData = {
        "execution_model": "sonnet",
        "actual_tokens": 20_000,
        "fix_loops": 0,
        "review": {"result": "PASS", "attempts": 1},
    }
    ticket.update(changes)
    return ticket


# Transcripts: lines shaped exactly like Claude Code's (2.1.x) JSONL, and a fake Claude config
# folder to put them in.

SESSION = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
PROJECT = "-home-USER-projects-demo"
CWD = "/home/USER/projects/demo"
HAIKU = "claude-haiku-4-5-20251001"

Line = dict[str, Any] | str | bytes


def usage(
    *,
    inp: int = 1,
    out: int = 1,
    cw: int = 0,
    cr: int = 0,
    cw_1h: int = 0,
    web: int | None = None,
    speed: str | None = None,
    geo: str = "global",
) -> dict[str, Any]:
    u: dict[str, Any] = {
        "input_tokens": inp,
        "cache_creation_input_tokens": cw,
        "cache_read_input_tokens": cr,
        "cache_creation": {
            "ephemeral_5m_input_tokens": cw - cw_1h,
            "ephemeral_1h_input_tokens": cw_1h,
        },
        "output_tokens": out,
        "service_tier": "standard",
        "inference_geo": geo,
    }
    if web is not None:
        u["server_tool_use"] = {"web_search_requests": web, "web_fetch_requests": 0}
    if speed is not None:
        u["speed"] = speed
    return u


def _envelope(kind: str, *, session: str, agent_id: str | None, ts: str) -> dict[str, Any]:
    line: dict[str, Any] = {
        "parentUuid": "f6de5789-16f3-4174-b0d1-b830811aa252",
        "isSidechain": agent_id is not None,
        "userType": "external",
        "cwd": CWD,
        "sessionId": session,
        "version": "2.1.39",
        "gitBranch": "main",
        "slug": "lexical-painting-whisper",
    }
    if agent_id is not None:
        line["agentId"] = agent_id
    line["type"] = kind
    line["uuid"] = "e2e4fca4-3b5b-4b7a-837b-4656eb80e676"
    line["timestamp"] = ts
    return line


def assistant(
    msg_id: str,
    req_id: str,
    *,
    model: str = "claude-opus-4-6",
    u: dict[str, Any] | None = None,
    content: list[dict[str, Any]] | None = None,
    session: str = SESSION,
    agent_id: str | None = None,
    ts: str = "2026-02-12T14:12:23.585Z",
    final: bool | None = None,
) -> dict[str, Any]:
    """An assistant line. ``final``: the response's final line, with its ``stop_reason`` and
    true output count (by default a main session's line is, a sub-agent's is not: its own
    file holds placeholder counts); ``final=False`` for a line written before the last."""
    line = _envelope("assistant", session=session, agent_id=agent_id, ts=ts)
    blocks = content if content is not None else [{"type": "text", "text": "Done."}]
    ends = any(b.get("type") == "tool_use" for b in blocks)
    line["message"] = {
        "model": model,
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "content": blocks,
        "stop_reason": ("tool_use" if ends else "end_turn")
        if (agent_id is None if final is None else final)
        else None,
        "stop_sequence": None,
        "usage": u if u is not None else usage(),
    }
    line["requestId"] = req_id
    return line


def spawn_block(
    tool_use_id: str,
    *,
    name: str = "Task",
    description: str = "Check versions",
    prompt: str = "Search for the latest versions",
    subagent_type: str = "general-purpose",
    model: str | None = "sonnet",
) -> dict[str, Any]:
    args: dict[str, Any] = {
        "description": description,
        "prompt": prompt,
        "subagent_type": subagent_type,
    }
    if model is not None:
        args["model"] = model
    return {
        "type": "tool_use",
        "id": tool_use_id,
        "name": name,
        "input": args,
        "caller": {"type": "direct"},
    }


def agent_progress(
    copy_of: dict[str, Any], *, agent_id: str, parent_tool_use_id: str, session: str = SESSION
) -> dict[str, Any]:
    """The parent's ``progress`` mirror of a sub-agent's assistant line."""
    line = _envelope("progress", session=session, agent_id=None, ts=copy_of["timestamp"])
    line["data"] = {
        "message": {
            "type": "assistant",
            "timestamp": copy_of["timestamp"],
            "message": copy_of["message"],
            "requestId": copy_of["requestId"],
            "uuid": "dd6c101a-bf75-4351-a3dc-4face6315c3f",
        },
        "normalizedMessages": [],
        "type": "agent_progress",
        "prompt": "Search for the latest versions",
        "agentId": agent_id,
    }
    line["toolUseID"] = "agent_msg_0184sjfFV1sinxvhH3bAStsb"
    line["parentToolUseID"] = parent_tool_use_id
    return line


def agent_result(
    tool_use_id: str,
    agent_id: str,
    u: dict[str, Any],
    *,
    total_tokens: int | None = None,
    session: str = SESSION,
    ts: str = "2026-02-12T14:13:05.070Z",
    tool_uses: int = 12,
) -> dict[str, Any]:
    """The parent's user line carrying a Task/Agent tool result and its ``toolUseResult``
    (``tool_uses``: its ``totalToolUseCount``; an agent of none made one call, so one none of
    whose calls a file holds is then counted exactly from this record)."""
    line = _envelope("user", session=session, agent_id=None, ts=ts)
    size = u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"]
    line["message"] = {
        "role": "user",
        "content": [
            {
                "tool_use_id": tool_use_id,
                "type": "tool_result",
                "content": [{"type": "text", "text": "Perfect! Here are the versions."}],
            }
        ],
    }
    line["toolUseResult"] = {
        "status": "completed",
        "prompt": "Search for the latest versions",
        "agentId": agent_id,
        "content": [{"type": "text", "text": "Perfect! Here are the versions."}],
        "totalDurationMs": 32548,
        "totalTokens": total_tokens if total_tokens is not None else size + u["output_tokens"],
        "totalToolUseCount": tool_uses,
        "usage": u,
    }
    return line


def user(text: str, *, session: str = SESSION, agent_id: str | None = None) -> dict[str, Any]:
    line = _envelope("user", session=session, agent_id=agent_id, ts="2026-02-12T14:12:20.000Z")
    line["message"] = {"role": "user", "content": text}
    return line


def snapshot() -> dict[str, Any]:
    return {
        "type": "file-history-snapshot",
        "messageId": "0f69d45e-40b3-447f-b1fd-0ac68b855de8",
        "snapshot": {"messageId": "0f69d45e", "trackedFileBackups": {}, "timestamp": "x"},
        "isSnapshotUpdate": False,
    }


def jsonl_line(obj: dict[str, Any]) -> bytes:
    """One transcript line as Claude Code writes it: compact JSON and a newline."""
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def write_jsonl(path: Path, lines: Iterable[Line]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for line in lines:
            if isinstance(line, bytes):
                fh.write(line)
            elif isinstance(line, str):
                fh.write(line.encode())
            else:
                fh.write(jsonl_line(line))
    return path


def rewrite_keeping_size_and_time(path: Path, old: bytes, new: bytes) -> None:
    """Replace ``old`` by ``new`` (of the same length) in ``path``, then set its modification
    time back (``rsync -t``, ``touch -d``): only the change time still tells."""
    before = path.stat()
    path.write_bytes(path.read_bytes().replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size


def scan_text(scan: Scan) -> str:
    """Everything a scan holds, in its order, as text: two scans are the same when these are
    equal (the scan cache's promise: the scan a whole read gives)."""
    calls = [dataclasses.asdict(c) for c in scan.calls]
    held = (calls, scan.agents, scan.warnings, scan.first_prompts, scan.headless, scan.run_starts)
    return repr(held) + repr((scan.files, scan.malformed_lines, scan.unreadable))


@dataclass
class ClaudeHome:
    """A Claude config folder: ``<root>/projects/<project>/…``."""

    root: Path

    @property
    def project(self) -> Path:
        return self.root / "projects" / PROJECT

    def session(self, lines: Iterable[Line], session: str = SESSION) -> Path:
        return write_jsonl(self.project / f"{session}.jsonl", lines)

    def subagent(self, agent_id: str, lines: Iterable[Line], session: str = SESSION) -> Path:
        return write_jsonl(self.project / session / "subagents" / f"agent-{agent_id}.jsonl", lines)

    def flat_agent(self, agent_id: str, lines: Iterable[Line]) -> Path:
        return write_jsonl(self.project / f"agent-{agent_id}.jsonl", lines)

    def meta(self, agent_id: str, data: dict[str, Any], session: str = SESSION) -> Path:
        path = self.project / session / "subagents" / f"agent-{agent_id}.meta.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
        return path

    def spawns(
        self, session: str, parent: str, agents: Iterable[tuple[str, str, str, str]]
    ) -> list[dict[str, Any]]:
        """The lines of a parent on model ``parent`` spawning ``agents`` (id, Task
        description, model, sub-agent type) one after the other, each 5,010 tokens in a file of
        its own (written)."""
        lines: list[dict[str, Any]] = []
        for agent, description, model, kind in agents:
            used = usage(inp=10, out=0, cw=5_000)
            call = assistant(
                f"m_{agent}", f"q_{agent}", agent_id=agent, session=session, u=used, model=model
            )
            self.subagent(agent, [call], session=session)
            spawn = spawn_block(f"t_{agent}", description=description, subagent_type=kind)
            lines += [
                assistant(
                    f"m_l{agent}",
                    f"q_l{agent}",
                    session=session,
                    u=usage(inp=0, out=0, cw=1_000),
                    content=[spawn],
                    model=parent,
                ),
                agent_result(f"t_{agent}", agent, used, session=session),
            ]
        return lines


#: The real transcripts beside the repository (absent outside the development machine: skip).
REAL_TRANSCRIPTS = REPO.parent / "shared" / "transcripts"


def result_object(**overrides: Any) -> dict[str, Any]:
    """The object `claude -p --output-format json` prints (pricing.md's example), one Haiku run."""
    obj: dict[str, Any] = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": 41230,
        "duration_api_ms": 40000,
        "num_turns": 6,
        "session_id": "e382184a-1111-2222-3333-444455556666",
        "total_cost_usd": 0.03163195,
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 9097,
            "cache_read_input_tokens": 63057,
            "output_tokens": 2789,
            "cache_creation": {"ephemeral_1h_input_tokens": 9097, "ephemeral_5m_input_tokens": 0},
        },
        "modelUsage": {
            HAIKU: {
                "inputTokens": 10,
                "outputTokens": 2789,
                "cacheReadInputTokens": 63057,
                "cacheCreationInputTokens": 9097,
                "webSearchRequests": 0,
                "costUSD": 0.03163195,
                "contextWindow": 200000,
                "maxOutputTokens": 32000,
            }
        },
    }
    obj.update(overrides)
    return obj


class ParsedLines:
    """Counts the transcript lines the reader parses in this process (a last line without its
    newline twice: held back from what the scan cache keeps, then read): a test of the cache
    that counts none parsed cannot pass on a cache that is never read."""

    def __init__(self) -> None:
        self.count = 0

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


def count_parsed_lines(monkeypatch: Any) -> ParsedLines:
    """A :class:`ParsedLines` fed by the reader's line loop for the rest of the test."""
    from pytest_orchphase.usage.sources.claude_code import reader

    lines = ParsedLines()
    real = reader._read_lines

    def counting(state: Any, given: Iterable[bytes], *args: Any, **kwargs: Any) -> Any:
        def each() -> Iterator[bytes]:
            for line in given:
                lines.count += 1
                yield line

        return real(state, each(), *args, **kwargs)

    monkeypatch.setattr(reader, "_read_lines", counting)
    return lines
