#!/usr/bin/env python3
"""Time `orchphase extract --json` against ccusage on the same generated transcripts.

    python benchmarks/bench_extract.py [--size-mb 200] [--out DIR] [--keep] [--no-ccusage]

Writes a deterministic corpus in Claude Code's real JSONL format into DIR/projects (streaming
duplicates of each response, sub-agents in <session>/subagents/ with agent_progress copies in
the parent and a toolUseResult, compaction agents, large tool results, file-history snapshots,
hook progress lines, a few truncated last lines), then runs

    orchphase extract DIR --json
    npx --yes ccusage@20.0.24 claude session --json --offline   (HOME, CLAUDE_CONFIG_DIR = DIR)

and prints wall seconds, MB/s, peak memory (largest single process, from wait4's rusage, and the
sampled sum over the whole process tree), the ratio orchphase/ccusage, and whether the input and
cache totals agree. If npx or ccusage is unavailable it says so and times orchphase alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CCUSAGE = ["npx", "--yes", "ccusage@20.0.24", "claude", "session", "--json", "--offline"]
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
                chunk.append(_snapshot(w, w.rng.randint(2000, 40000)))
            roll = w.rng.random()
            if roll < 0.08:
                chunk.extend(_subagent(w, project, session, ts))
            else:
                thinking = {"type": "thinking", "thinking": w.text(w.rng.randint(100, 3000))}
                tool = {"type": "tool_use", "id": w.uid("toolu_"), "name": "Read", "input": {}}
                lines, _ = _response(w, session, ts, None, model, [thinking, tool])
                chunk.extend(_dump(line) for line in lines)
                chunk.append(_hook(session, ts))
                chunk.append(_tool_result(w, session, ts, None, w.rng.randint(500, 60000)))
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
        sub.append(_tool_result(w, session, ts, agent, w.rng.randint(500, 30000)))
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


def make_corpus(root: Path, size_mb: float, seed: int = 7) -> Totals:
    w = Writer(random.Random(seed))
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


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Run:
    ok: bool
    seconds: float
    max_rss_mb: float
    tree_rss_mb: float
    stdout: str
    error: str = ""


def _tree_rss(root_pid: int) -> int:
    """Sum of VmRSS (kB) over ``root_pid`` and its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                ppid = kb = 0
                for line in fh:
                    if line.startswith("PPid:"):
                        ppid = int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        kb = int(line.split()[1])
        except (OSError, ValueError):
            continue
        parents[int(entry)] = ppid
        rss[int(entry)] = kb
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    return total


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> Run:
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    except OSError as exc:
        return Run(False, 0.0, 0.0, 0.0, "", str(exc))
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    return Run(proc.returncode == 0, seconds, 0.0, peak / 1024, out, err[-2000:])


def measure_rusage(cmd: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run through /usr/bin/time for the largest process's peak RSS, sampling the tree too."""
    timed = ["/usr/bin/time", "-f", "MAXRSS_KB=%M", *cmd] if Path("/usr/bin/time").exists() else cmd
    run = measure(timed, env, cwd)
    for line in reversed(run.error.splitlines()):
        if line.startswith("MAXRSS_KB="):
            run.max_rss_mb = int(line.split("=")[1]) / 1024
            break
    return run


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=200.0)
    ap.add_argument("--out", type=Path, help="corpus folder (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus afterwards")
    ap.add_argument("--no-ccusage", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each tool; the best is kept")
    args = ap.parse_args()

    base = args.out or Path(tempfile.mkdtemp(prefix="orchphase-bench-"))
    corpus = base / "claude"
    home = base / "home"
    if corpus.exists():
        shutil.rmtree(corpus)
    home.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    expected = make_corpus(corpus, args.size_mb)
    size = corpus_bytes(corpus)
    files = sum(1 for _ in corpus.rglob("*.jsonl"))
    print(
        f"corpus: {size / 1e6:,.1f} MB in {files} files at {corpus} "
        f"(written in {time.perf_counter() - t0:.1f} s; {expected.calls:,} API calls)"
    )

    env = dict(os.environ)
    env["HOME"] = str(home)
    env["CLAUDE_CONFIG_DIR"] = str(corpus)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    ours_cmd = [sys.executable, "-m", "pytest_orchphase.cli", "extract", str(corpus), "--json"]

    def best(cmd: list[str], cmd_env: dict[str, str]) -> Run:
        runs = [measure_rusage(cmd, cmd_env, REPO) for _ in range(max(1, args.repeat))]
        return min(runs, key=lambda r: (not r.ok, r.seconds))

    ours = best(ours_cmd, env)
    if not ours.ok:
        print(f"orchphase failed: {ours.error}")
        return 1
    ours_doc = json.loads(ours.stdout)
    mb = size / 1e6
    print(
        f"orchphase: {ours.seconds:.2f} s, {mb / ours.seconds:,.1f} MB/s, "
        f"peak RSS {ours.max_rss_mb:,.0f} MB (largest process), "
        f"{ours.tree_rss_mb:,.0f} MB (process tree, sampled)"
    )
    got = orchphase_totals(ours_doc)
    truth = (expected.input, expected.cache_write, expected.cache_read)
    print(
        f"orchphase totals: input {got[0]:,}, cache write {got[1]:,}, cache read {got[2]:,}, "
        f"output {got[3]:,}; generator truth for input/cache: "
        f"{'agree' if got[:3] == truth else f'DIFFER {truth}'}"
    )

    if args.no_ccusage or shutil.which("npx") is None:
        print("ccusage: unavailable (npx not found or --no-ccusage): orchphase timed alone")
        return 0
    # Fetch (or find in the npx cache) before timing, so the download is not timed.
    warm = measure(["npx", "--yes", "ccusage@20.0.24", "--version"], env, base)
    if not warm.ok:
        print(f"ccusage: unavailable (npx failed: {warm.error.strip()[-300:]})")
        return 0
    print(f"ccusage startup (npx … --version): {warm.seconds:.2f} s")
    theirs = best(CCUSAGE, env)
    if not theirs.ok:
        print(f"ccusage: unavailable (run failed: {theirs.error.strip()[-300:]})")
        return 0
    their = ccusage_totals(json.loads(theirs.stdout))
    print(
        f"ccusage:   {theirs.seconds:.2f} s, {mb / theirs.seconds:,.1f} MB/s, "
        f"peak RSS {theirs.max_rss_mb:,.0f} MB (largest process), "
        f"{theirs.tree_rss_mb:,.0f} MB (process tree, sampled)"
    )
    print(
        f"ratio orchphase/ccusage (wall): {ours.seconds / theirs.seconds:.2f} — ccusage run "
        "through npx, whose start-up is included: not a comparison with its installed binary"
    )
    agree = got[:3] == their[:3]
    print(
        f"input and cache totals agree: {'yes' if agree else 'NO'} "
        f"(orchphase {got[:3]}, ccusage {their[:3]}); output: orchphase {got[3]:,} vs "
        f"ccusage {their[3]:,} (orchphase counts the sub-agents' true final output)"
    )
    if not args.keep and args.out is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
