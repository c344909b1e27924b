#!/usr/bin/env python3
"""Time `orchphase extract --json` against ccusage's installed binary, on several corpus shapes.

    python benchmarks/bench_extract.py [--shapes gen50,gen200,dense200,wild200] [--repeat 5]
        [--mode cold|first|warm|entries|appended]

Shapes: the project's generator (Claude Code's real JSONL format: streaming duplicates of each
response, sub-agents in <session>/subagents/ with agent_progress copies in the parent and a
toolUseResult, compaction agents, large tool results, file-history snapshots, hook progress
lines, a few truncated last lines) at 50 MB, 200 MB and 1 GB (gen50, gen200, gen1000; about
17 API calls per MB); a dense variant at the real transcripts' density (about 50 calls per MB:
dense200, dense1000); and the real transcripts of ../shared/transcripts/wild copied to 200 MB
with their ids made distinct per copy (wild200; skipped when they are absent). Each corpus is
written once under --corpora and reused.

ccusage 20.0.24 is installed with `npm install --prefix` (never run through npx, whose start-up
would be timed as its own) and run as `ccusage claude session --json --offline -z UTC` with HOME
and CLAUDE_CONFIG_DIR pointed at the corpus. "Cold": no scan cache (`--no-cache`), the files
read once before (the page cache warm for both tools). "First": the scan cache on but empty,
removed before each orchphase run (a first run, or a CI job whose cache is not restored: every
file parsed, and its result kept). "Warm": orchphase's scan cache made by
one run before the timed ones, the files unchanged (the run prints the answer kept by the one
before). "Entries": as warm, but the kept answers removed before each orchphase run (another
question of unchanged files: each file's result read back from its entry, merged, priced and
printed). "Appended": as warm, but before every round
of the two tools one more response is appended to the corpus's largest session file (a live
session; the file is cut back to its size at the end). The two tools alternate run by run
(who goes first alternates too); for each it prints the median with min-max of wall and CPU
seconds (user + system over the whole process tree), the peak resident memory of the whole
process tree (sampled every 10 ms), the wall, CPU and memory ratios orchphase/ccusage, the
corpus's calls per MB, and whether the input and cache totals agree (and, on generated shapes,
agree with the generator's own count). Raw figures go to
benchmarks/results/<label>-<time>.json with the machine's CPU count and load average. Run it
under `nice` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WILD = REPO.parent / "shared" / "transcripts" / "wild"
CCUSAGE_VERSION = "20.0.24"
CCUSAGE_ARGS = ["claude", "session", "--json", "--offline", "-z", "UTC"]
MODELS_MAIN = ["claude-opus-4-6", "claude-sonnet-4-5-20250929"]
MODEL_SUB = "claude-sonnet-4-5-20250929"
WORDS = [
    *(
        [
            "the",
            "config",
            "module",
            "reads",
            "phase",
            "criteria",
            "from",
            "yaml",
            "and",
            "checks",
            "each",
            "stage",
        ]
    ),
    *(
        [
            "against",
            "measured",
            "tokens",
            "while",
            "the",
            "orchestrator",
            "spawns",
            "agents",
            "for",
            "tickets",
        ]
    ),
]


# -- corpus ---------------------------------------------------------------------------------


@dataclass
class Totals:
    input: int = 0
    cache_write: int = 0
    cache_read: int = 0
    calls: int = 0


@dataclass
class Writer:
    rng: random.Random
    totals: Totals = field(default_factory=Totals)
    counter: int = 0
    #: Size factor of the bulk (tool outputs, thinking, snapshots): 1.0 makes about 17 calls
    #: per MB; real transcripts hold about 50 (the "dense" shape).
    bulk: float = 1.0

    def size(self, low: int, high: int) -> int:
        return max(1, int(self.rng.randint(low, high) * self.bulk))

    def uid(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:012d}{self.rng.randrange(16**8):08x}"

    def text(self, size: int) -> str:
        words = self.rng.choices(WORDS, k=max(1, size // 6))
        return " ".join(words)[:size]


def _envelope(kind: str, session: str, ts: str, agent: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "parentUuid": "f6de5789-16f3-4174-b0d1-b830811aa252",
        "isSidechain": agent is not None,
        "userType": "external",
        "cwd": "/home/USER/projects/bench",
        "sessionId": session,
        "version": "2.1.39",
        "gitBranch": "main",
        "slug": "lexical-painting-whisper",
    }
    if agent is not None:
        line["agentId"] = agent
    line["type"] = kind
    line["uuid"] = "e2e4fca4-3b5b-4b7a-837b-4656eb80e676"
    line["timestamp"] = ts
    return line


def _usage(inp: int, cw: int, cr: int, out: int) -> dict[str, Any]:
    return {
        "input_tokens": inp,
        "cache_creation_input_tokens": cw,
        "cache_read_input_tokens": cr,
        "cache_creation": {"ephemeral_5m_input_tokens": cw, "ephemeral_1h_input_tokens": 0},
        "output_tokens": out,
        "service_tier": "standard",
        "inference_geo": "global",
    }


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":")) + "\n"


def _response(
    w: Writer, session: str, ts: str, agent: str | None, model: str, content: list[Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The lines of one streamed API response (placeholder output until the last line)."""
    msg_id, req_id = w.uid("msg_"), w.uid("req_")
    inp, cw, cr = w.rng.randint(1, 3000), w.rng.randint(0, 20000), w.rng.randint(0, 150000)
    final = w.rng.randint(20, 2000)
    w.totals.input += inp
    w.totals.cache_write += cw
    w.totals.cache_read += cr
    w.totals.calls += 1
    copies = w.rng.randint(2, 6)
    lines = []
    for i in range(copies):
        line = _envelope("assistant", session, ts, agent)
        out = final if i == copies - 1 else w.rng.randint(1, 3)
        line["message"] = {
            "model": model,
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "content": [content[i % len(content)]],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": _usage(inp, cw, cr, out),
        }
        line["requestId"] = req_id
        lines.append(line)
    return lines, _usage(inp, cw, cr, final)


def _tool_result(w: Writer, session: str, ts: str, agent: str | None, size: int) -> str:
    line = _envelope("user", session, ts, agent)
    body = w.text(size)
    tool_id = w.uid("toolu_")
    line["message"] = {
        "role": "user",
        "content": [{"tool_use_id": tool_id, "type": "tool_result", "content": body}],
    }
    line["toolUseResult"] = {"type": "text", "file": {"filePath": "/x.py", "content": body}}
    return _dump(line)


def _snapshot(w: Writer, size: int) -> str:
    backups = {f"/src/f{i}.py": {"backupFileName": w.text(40), "version": i} for i in range(20)}
    return _dump(
        {
            "type": "file-history-snapshot",
            "messageId": w.uid("m"),
            "snapshot": {"trackedFileBackups": backups, "note": w.text(size)},
            "isSnapshotUpdate": False,
        }
    )


def _hook(session: str, ts: str) -> str:
    line = _envelope("progress", session, ts, None)
    line["data"] = {"type": "hook_progress", "hookEvent": "PostToolUse", "command": "callback"}
    return _dump(line)


def write_session(w: Writer, project: Path, target_bytes: int, index: int) -> int:
    session = f"{w.rng.randrange(16**8):08x}-{index:04d}-4bc1-888f-c94edc91af04"
    main = project / f"{session}.jsonl"
    written = 0
    day = 1 + index % 27
    with main.open("w", encoding="utf-8") as fh:
        turn = 0
        while written < target_bytes:
            turn += 1
            hour, minute, second = 10 + turn // 3600 % 12, turn // 60 % 60, turn % 60
            ts = f"2026-02-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.000Z"
            model = MODELS_MAIN[index % 2]
            chunk: list[str] = []
            if turn % 25 == 1:
                chunk.append(_snapshot(w, w.size(2000, 40000)))
            roll = w.rng.random()
            if roll < 0.08:
                chunk.extend(_subagent(w, project, session, ts))
            else:
                thinking = {"type": "thinking", "thinking": w.text(w.size(100, 3000))}
                tool = {"type": "tool_use", "id": w.uid("toolu_"), "name": "Read", "input": {}}
                lines, _ = _response(w, session, ts, None, model, [thinking, tool])
                chunk.extend(_dump(line) for line in lines)
                chunk.append(_hook(session, ts))
                chunk.append(_tool_result(w, session, ts, None, w.size(500, 60000)))
            if turn % 200 == 0:
                chunk.extend(_compaction(w, project, session, ts, model))
            data = "".join(chunk)
            fh.write(data)
            written += len(data)
        if index % 7 == 3:  # a session still being written: its last line is cut
            fh.write('{"type":"user","message":{"role":"user","content":"half a li')
    return written


def _subagent(w: Writer, project: Path, session: str, ts: str) -> list[str]:
    agent = f"a{w.rng.randrange(16**6):06x}"
    tool_id = w.uid("toolu_")
    spawn = {
        "type": "tool_use",
        "id": tool_id,
        "name": "Task" if w.rng.random() < 0.5 else "Agent",
        "input": {
            "description": "Survey the code",
            "prompt": w.text(300),
            "subagent_type": "Explore",
            "model": "sonnet",
        },
    }
    lines, _ = _response(w, session, ts, None, MODELS_MAIN[0], [spawn])
    parent = [_dump(line) for line in lines]
    folder = project / session / "subagents"
    folder.mkdir(parents=True, exist_ok=True)
    sub: list[str] = []
    last_usage: dict[str, Any] = {}
    for _ in range(w.rng.randint(2, 8)):
        text = {"type": "text", "text": w.text(w.rng.randint(100, 1500))}
        copies, last_usage = _response(w, session, ts, agent, MODEL_SUB, [text])
        for line in copies:
            line["message"]["usage"]["output_tokens"] = w.rng.randint(1, 3)  # placeholders
            sub.append(_dump(line))
            progress = _envelope("progress", session, ts, None)
            progress["data"] = {
                "message": {
                    "type": "assistant",
                    "timestamp": ts,
                    "message": line["message"],
                    "requestId": line["requestId"],
                    "uuid": "u",
                },
                "normalizedMessages": [],
                "type": "agent_progress",
                "prompt": "Survey the code",
                "agentId": agent,
            }
            progress["parentToolUseID"] = tool_id
            parent.append(_dump(progress))
        sub.append(_tool_result(w, session, ts, agent, w.size(500, 30000)))
    (folder / f"agent-{agent}.jsonl").write_text("".join(sub), encoding="utf-8")
    result = _envelope("user", session, ts, None)
    result["message"] = {
        "role": "user",
        "content": [{"tool_use_id": tool_id, "type": "tool_result", "content": "done"}],
    }
    size = sum(v for k, v in last_usage.items() if k.endswith("input_tokens"))
    result["toolUseResult"] = {
        "status": "completed",
        "agentId": agent,
        "totalTokens": size + last_usage["output_tokens"],
        "totalToolUseCount": 5,
        "totalDurationMs": 30000,
        "usage": last_usage,
    }
    parent.append(_dump(result))
    return parent


def _compaction(w: Writer, project: Path, session: str, ts: str, model: str) -> list[str]:
    agent = f"acompact-{w.rng.randrange(16**6):06x}"
    text = {"type": "text", "text": w.text(4000)}
    lines, _ = _response(w, session, ts, agent, model, [text])
    folder = project / session / "subagents"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"agent-{agent}.jsonl").write_text("".join(_dump(x) for x in lines))
    return []


def make_corpus(root: Path, size_mb: float, seed: int = 7, bulk: float = 1.0) -> Totals:
    w = Writer(random.Random(seed), bulk=bulk)
    target = int(size_mb * 1e6)
    done = 0
    index = 0
    while done < target:
        project = root / "projects" / f"-home-USER-projects-bench-{index % 5}"
        project.mkdir(parents=True, exist_ok=True)
        done += write_session(
            w, project, min(w.rng.randint(2, 12) * 1_000_000, target - done), index
        )
        index += 1
    return w.totals


def corpus_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def replicate_wild(source: Path, root: Path, size_mb: float) -> int:
    """Copies of the real transcripts (``.jsonl`` only: the formats both tools read) until
    ``size_mb``, each copy in its own project folder with its message, request, tool-use and
    agent ids made distinct, so that no copy is deduplicated against another. Returns the
    number of copies."""
    files = sorted(p for p in source.rglob("*.jsonl") if p.is_file())
    agents = sorted({m.group(1) for p in files if (m := re.match(r"agent-(.+)\.jsonl$", p.name))})
    one = sum(p.stat().st_size for p in files)
    copies = max(1, round(size_mb * 1e6 / one)) if one else 0
    for k in range(copies):
        project = root / "projects" / f"-home-USER-wild-copy-{k:03d}"
        subs = [(f'"{a}"'.encode(), f'"{a}x{k}"'.encode()) for a in agents]
        ids = [(b'"msg_', f'"msg_c{k}_'.encode()), (b'"req_', f'"req_c{k}_'.encode())]
        ids.append((b'"toolu_', f'"toolu_c{k}_'.encode()))
        for path in files:
            data = path.read_bytes()
            for old, new in ids + subs:
                data = data.replace(old, new)
            name = path.name
            if (m := re.match(r"agent-(.+)\.jsonl$", name)) is not None:
                name = f"agent-{m.group(1)}x{k}.jsonl"
            target = project / path.relative_to(source).parent / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return copies


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Run:
    tool: str
    ok: bool
    wall: float
    cpu: float
    #: Largest sum of resident memory over the process and all its descendants (sampled).
    tree_peak_mb: float
    stdout: str = field(repr=False, default="")
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        """The figures kept in benchmarks/results/."""
        return {
            "tool": self.tool,
            "wall": round(self.wall, 3),
            "cpu": round(self.cpu, 3),
            "tree_peak_mb": round(self.tree_peak_mb, 1),
        }


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0


def tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and every descendant, in kB (forked workers' shared pages
    count once per process: an upper bound for a pool, never an under-count)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_kb(pid)
        stack.extend(_children(pid))
    return total


def measure(tool: str, cmd: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Wall time, CPU time (user + system of the process and its waited-for descendants) and
    the process tree's peak resident memory, sampled every 10 ms."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss_kb(proc.pid))
            stop.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(
        tool,
        proc.returncode == 0,
        wall,
        cpu,
        peak / 1024,
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace")[-2000:],
    )


def orchphase_totals(doc: dict[str, Any]) -> tuple[int, int, int, int]:
    t = doc["totals"]
    return (
        t["input_tokens"],
        t["cache_creation_input_tokens"],
        t["cache_read_input_tokens"],
        t["output_tokens"],
    )


def ccusage_totals(doc: dict[str, Any]) -> tuple[int, int, int, int]:
    t = doc["totals"]
    return t["inputTokens"], t["cacheCreationTokens"], t["cacheReadTokens"], t["outputTokens"]


def install_ccusage(prefix: Path) -> Path | None:
    """ccusage's installed binary (``npm install --prefix``, once): never ``npx``, whose own
    start-up (about 0.4 s a run) would be timed as ccusage's."""
    binary = prefix / "node_modules" / ".bin" / "ccusage"
    if binary.exists():
        return binary
    if shutil.which("npm") is None:
        return None
    done = subprocess.run(
        ["npm", "install", "--prefix", str(prefix), f"ccusage@{CCUSAGE_VERSION}"],
        capture_output=True,
        text=True,
    )
    return binary if done.returncode == 0 and binary.exists() else None


# -- shapes ---------------------------------------------------------------------------------

#: name -> (kind, size in MB, bulk factor); "wild" copies the real transcripts.
SHAPES: dict[str, tuple[str, float, float]] = {
    "gen50": ("gen", 50, 1.0),
    "gen200": ("gen", 200, 1.0),
    "dense200": ("gen", 200, 0.25),
    "wild200": ("wild", 200, 1.0),
    "gen1000": ("gen", 1000, 1.0),
    "dense1000": ("gen", 1000, 0.25),
}
DEFAULT_SHAPES = "gen50,gen200,dense200,wild200"


def corpus(name: str, base: Path) -> tuple[Path, Totals | None] | None:
    """The shape's corpus under ``base`` (written once, reused while its marker matches);
    ``None`` for the real transcripts' shape when they are absent."""
    kind, size_mb, bulk = SHAPES[name]
    root = base / name
    marker = root / "corpus.json"
    spec = {"kind": kind, "size_mb": size_mb, "bulk": bulk, "version": 2}
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("spec") == spec:
            kept = Totals(**saved["totals"]) if saved.get("totals") else None
            return root / "claude", kept
    if kind == "wild" and not WILD.is_dir():
        return None
    shutil.rmtree(root, ignore_errors=True)
    target = root / "claude"
    target.mkdir(parents=True)
    totals: Totals | None = None
    if kind == "gen":
        totals = make_corpus(target, size_mb, bulk=bulk)
    else:
        replicate_wild(WILD, target, size_mb)
    doc = {"spec": spec, "totals": vars(totals) if totals else None}
    marker.write_text(json.dumps(doc))
    return target, totals


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _spread(values: list[float]) -> str:
    return f"{_median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def _largest_session(root: Path) -> Path:
    sessions = [p for p in root.rglob("*.jsonl") if not p.name.startswith("agent-")]
    return max(sessions, key=lambda p: p.stat().st_size)


LIVE_USAGE = (10, 100, 1000, 50)  # input, cache write, cache read, output of each appended response


def _appended_line(count: int) -> bytes:
    """One more response of a live session (ids of its own)."""
    line = _envelope("assistant", "bench-live", "2026-02-12T15:00:00.000Z", None)
    line["message"] = {
        "model": MODELS_MAIN[0],
        "id": f"msg_live_{count}",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "Done."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": _usage(*LIVE_USAGE),
    }
    line["requestId"] = f"req_live_{count}"
    return _dump(line).encode()


def _timed_runs(
    cmds: dict[str, list[str]],
    env: dict[str, str],
    cwd: Path,
    repeat: int,
    live: Path | None,
    forget: Path | None = None,
) -> list[Run] | Run:
    """The tools' runs, alternating (who goes first alternates too); with ``live``, a response
    appended to it before each round (so both tools of a round read the same bytes, and each
    orchphase run finds the file grown since its last run; cut back at the end); with
    ``forget``, that folder (orchphase's kept answers, or its whole cache) removed before each
    orchphase run. The first failed run instead."""
    size = live.stat().st_size if live is not None else 0
    runs: list[Run] = []
    try:
        for i in range(repeat):
            order = list(cmds) if i % 2 == 0 else list(reversed(cmds))
            if live is not None:
                with live.open("ab") as fh:
                    fh.write(_appended_line(i))
            for tool in order:
                if forget is not None and tool == "orchphase":
                    shutil.rmtree(forget, ignore_errors=True)
                run = measure(tool, cmds[tool], env, cwd)
                if not run.ok:
                    return run
                runs.append(run)
    finally:
        if live is not None:
            os.truncate(live, size)
    return runs


def bench_shape(
    name: str,
    base: Path,
    ccusage: Path | None,
    repeat: int,
    env_base: dict[str, str],
    mode: str = "cold",
) -> dict[str, Any] | None:
    found = corpus(name, base)
    if found is None:
        print(f"{name}: skipped (the real transcripts are not at {WILD})")
        return None
    root, truth = found
    size = corpus_bytes(root)
    files = sum(1 for _ in root.rglob("*.jsonl"))
    home = base / "home"
    home.mkdir(exist_ok=True)
    env = child_env(env_base)
    env["HOME"] = str(home)
    env["CLAUDE_CONFIG_DIR"] = str(root)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    ours_cmd = [sys.executable, "-m", "pytest_orchphase.cli", "extract", str(root), "--json"]
    xdg = base / "xdg" / name
    if mode == "cold":
        ours_cmd.append("--no-cache")
    else:
        shutil.rmtree(xdg, ignore_errors=True)
        env["XDG_CACHE_HOME"] = str(xdg)
    cmds = {"orchphase": ours_cmd}
    if ccusage is not None:
        cmds["ccusage"] = [str(ccusage), *CCUSAGE_ARGS]
    # The files read once before timing: "cold" is no scan cache, a warm page cache.
    for path in root.rglob("*.jsonl"):
        with path.open("rb") as fh:
            while fh.read(1 << 20):
                pass
    if mode not in ("cold", "first"):
        measure("orchphase", ours_cmd, env, base)  # makes the scan cache, untimed
    live = _largest_session(root) if mode == "appended" else None
    forget = {"entries": xdg / "orchphase" / "answers", "first": xdg}.get(mode)
    runs = _timed_runs(cmds, env, base, repeat, live, forget)
    if isinstance(runs, Run):
        print(f"{name}: {runs.tool} failed: {runs.error.strip()[-500:]}")
        return None
    ours_doc = json.loads(next(r for r in runs if r.tool == "orchphase").stdout)
    ours = orchphase_totals(ours_doc)
    calls = int(ours_doc["totals"]["calls"])
    mb = size / 1e6
    result: dict[str, Any] = {
        "shape": name,
        "mode": mode,
        "mb": round(mb, 1),
        "files": files,
        "calls": calls,
        "calls_per_mb": round(calls / mb, 1),
        "runs": [r.as_json() for r in runs],
        "orchphase_totals": ours,
        "generator_truth": [truth.input, truth.cache_write, truth.cache_read] if truth else None,
    }
    print(f"\n{name}: {mb:,.1f} MB in {files} files, {calls:,} API calls ({calls / mb:.1f}/MB)")
    medians: dict[str, dict[str, float]] = {}
    for tool in cmds:
        mine = [r for r in runs if r.tool == tool]
        walls, cpus = [r.wall for r in mine], [r.cpu for r in mine]
        peaks = [r.tree_peak_mb for r in mine]
        medians[tool] = {"wall": _median(walls), "cpu": _median(cpus), "peak": _median(peaks)}
        print(
            f"  {tool:9} wall {_spread(walls)} s, cpu {_spread(cpus)} s, "
            f"{mb / _median(walls):,.0f} MB/s, tree peak {_median(peaks):,.0f} MB "
            f"({min(peaks):,.0f}-{max(peaks):,.0f})"
        )
    if truth is not None:
        # the run read holds the generator's corpus and, appended, one live response
        live_in = LIVE_USAGE[:3] if mode == "appended" else (0, 0, 0)
        expected = [truth.input, truth.cache_write, truth.cache_read]
        agree = list(ours[:3]) == [a + b for a, b in zip(expected, live_in, strict=True)]
        print(f"  orchphase input/cache vs generator truth: {'agree' if agree else 'DIFFER'}")
    result["medians"] = medians
    if "ccusage" in cmds:
        theirs_doc = json.loads(next(r for r in runs if r.tool == "ccusage").stdout)
        theirs = ccusage_totals(theirs_doc)
        agree = ours[:3] == theirs[:3]
        o, c = medians["orchphase"], medians["ccusage"]
        result["ccusage_totals"] = theirs
        result["input_cache_agree"] = agree
        result["ratio_wall"] = round(o["wall"] / c["wall"], 3)
        result["ratio_cpu"] = round(o["cpu"] / c["cpu"], 3)
        result["ratio_peak"] = round(o["peak"] / c["peak"], 3)
        print(
            f"  ratio orchphase/ccusage: wall {result['ratio_wall']:.2f}, "
            f"cpu {result['ratio_cpu']:.2f}, tree peak memory {result['ratio_peak']:.2f}"
        )
        print(
            f"  input and cache totals agree with ccusage: {'yes' if agree else 'NO'} "
            f"(orchphase {ours[:3]}, ccusage {theirs[:3]}); output {ours[3]:,} vs "
            f"{theirs[3]:,} (orchphase counts the sub-agents' true final output)"
        )
    return result


def child_env(base: dict[str, str]) -> dict[str, str]:
    """The tools' environment: Python's bytecode cache allowed, as on a user's machine (a
    PYTHONDONTWRITEBYTECODE left in the environment would recompile the package every run)."""
    env = dict(base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "platform": sys.platform,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--shapes", default=DEFAULT_SHAPES, help=f"of {', '.join(SHAPES)}")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each tool, alternating")
    ap.add_argument("--corpora", type=Path, default=Path(tempfile.gettempdir()) / "orchphase-bench")
    ap.add_argument("--ccusage-prefix", type=Path, help="npm prefix holding ccusage")
    ap.add_argument("--no-ccusage", action="store_true")
    ap.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results")
    ap.add_argument("--label", default="extract", help="name of the results file")
    ap.add_argument(
        "--mode", choices=("cold", "first", "warm", "entries", "appended"), default="cold"
    )
    args = ap.parse_args()

    args.corpora.mkdir(parents=True, exist_ok=True)
    ccusage: Path | None = None
    if not args.no_ccusage:
        ccusage = install_ccusage(args.ccusage_prefix or args.corpora / "ccusage")
        if ccusage is None:
            print("ccusage: unavailable (npm missing or the install failed): orchphase alone")
    start = machine()
    print(
        f"machine: {start['cpus']} CPUs ({start['cpus_usable']} usable), load average "
        f"{start['loadavg']}; {args.repeat} alternating runs per tool; medians (min-max)"
    )
    shapes = []
    for name in args.shapes.split(","):
        done = bench_shape(
            name.strip(), args.corpora, ccusage, args.repeat, dict(os.environ), args.mode
        )
        if done is not None:
            shapes.append(done)
    end = machine()
    print(f"\nload average at the end: {end['loadavg']}")
    doc = {
        "tool": "orchphase extract --json" + (" --no-cache" if args.mode == "cold" else ""),
        "mode": args.mode,
        "peer": f"ccusage {CCUSAGE_VERSION} {' '.join(CCUSAGE_ARGS)}" if ccusage else None,
        "commit": _commit(),
        "machine_start": start,
        "machine_end": end,
        "repeat": args.repeat,
        "shapes": shapes,
    }
    write_results(args.results, args.label, doc)
    return 0


def write_results(folder: Path, label: str, doc: dict[str, Any]) -> Path:
    """``doc`` as ``<folder>/<label>-<UTC time>.json``, the file every quoted figure traces to."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{label}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"raw results: {out}")
    return out


def _commit() -> str | None:
    done = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or None


if __name__ == "__main__":
    raise SystemExit(main())
