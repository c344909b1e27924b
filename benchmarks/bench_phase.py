#!/usr/bin/env python3
"""Time `pytest --phase` on a generated 50-ticket phase against ccusage on the same transcripts.

    python benchmarks/bench_phase.py [--size-mb 200] [--tickets 50] [--repeat 3]
        [--mode cold|first|warm]

Writes (once, under --corpora) a project with criteria/ and docs/orchestration-data/ for a
phase of 50 tickets whose transcripts are generated in Claude Code's real format (one worker
session per ticket, its first prompt naming the ticket, with sub-agents; a lead session), then
times, alternating run by run with ccusage's installed binary on the same files:

* folder: the sessions in the phase's transcripts/ folder;
* named: the sessions named by id in metadata.yaml (with their tickets), found through
  CLAUDE_CONFIG_DIR;
* second: "named", with a second measured phase (the "folder" phase) in criteria/, which the
  run's comparison table measures too;
* floor: pytest itself, without the plugin, running one test that does nothing (in the same
  environment, with the same cache option): no phase run can take less, so its ratio to
  ccusage is the lowest a phase run's ratio can be.

"cold": pytest's cache provider off (`-p no:cacheprovider`: no scan cache); "first": the cache
provider on, pytest's cache folder removed before each run (a first run, or a CI job whose cache
is not restored: the run makes the scan cache); "warm": the scan cache in pytest's cache folder,
made by one run before the timed ones.

ccusage reads the phase's own transcripts once in every case (`claude session --json --offline
-z UTC`); orchphase in "second" reads twice as many bytes, since the table needs both phases.
Each variant's raw figures go to benchmarks/results/phase-<time>.json with the machine's CPU
count and load average; the run also says how many times each phase was scanned (counted
through ORCHPHASE_BENCH_SCANS, a conftest the benchmark writes, never a timing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_extract as bx

REPO = bx.REPO
CRITERIA = """\
phase: {name}
data: {data}
requires: []
criteria:
  - id: tokens-per-ticket
    for_each: ticket
    metric: tokens
    measure: total
    max: 100000000000
  - id: cost
    metric: tokens
    measure: usd
    max: 1000000
"""
COUNTER = """\
import os
import pytest_orchphase.usage.scan as transcripts

_scan = transcripts.scan_files


def counted(files, **kwargs):
    with open(os.environ["ORCHPHASE_BENCH_SCANS"], "a") as fh:
        fh.write(f"{len(files)}\\n")
    return _scan(files, **kwargs)


transcripts.scan_files = counted
"""


def write_phase_data(data: Path, tickets: list[str], sessions: list[dict[str, Any]]) -> None:
    data.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"phase": data.name, "tickets": tickets}
    if sessions:
        meta["sessions"] = sessions
    (data / "metadata.yaml").write_text(json.dumps(meta, indent=1) + "\n")
    # Each ticket's model is its worker session's (make_sessions: the n-th session runs
    # bx.MODELS_MAIN[n % 2]; its sub-agents, which are its helpers, run on Sonnet).
    log = {
        "shared_planning": {"model": "opus", "estimated_tokens": 10000},
        "tickets": {
            t: {"implementation": {"model": _family(n), "estimated_tokens": 20000}}
            for n, t in enumerate(tickets, 1)
        },
    }
    (data / "execution-log.yaml").write_text(json.dumps(log, indent=1) + "\n")


def _family(n: int) -> str:
    """The model family the n-th session of :func:`make_sessions` runs on."""
    return "opus" if "opus" in bx.MODELS_MAIN[n % 2] else "sonnet"


def make_sessions(project: Path, tickets: list[str], size_mb: float, seed: int) -> list[str]:
    """A lead session and one worker session per ticket (its first prompt names the ticket);
    returns the lead's session id, then the workers' in ticket order."""
    w = bx.Writer(random.Random(seed))
    project.mkdir(parents=True, exist_ok=True)
    per = int(size_mb * 1e6 / (len(tickets) + 1))
    bx.write_session(w, project, per, 0)
    ids = [p.stem for p in project.glob("*.jsonl")]
    for n, ticket in enumerate(tickets, 1):
        before = set(project.glob("*.jsonl"))
        bx.write_session(w, project, per, n)
        (path,) = set(project.glob("*.jsonl")) - before
        prompt = bx._envelope("user", path.stem, "2026-02-01T09:00:00.000Z", None)
        prompt["message"] = {"role": "user", "content": f"Implement {ticket} as planned"}
        path.write_text(bx._dump(prompt) + path.read_text())
        ids.append(path.stem)
    return ids


def make_project(base: Path, size_mb: float, count: int) -> Path:
    """The project (written once; reused while its marker matches)."""
    root = base / f"phase-{size_mb:g}mb-{count}"
    marker = root / "project.json"
    spec = {"size_mb": size_mb, "tickets": count, "version": 4}
    if marker.exists() and json.loads(marker.read_text()) == spec:
        return root
    shutil.rmtree(root, ignore_errors=True)
    tickets = [f"T{n:02d}" for n in range(1, count + 1)]
    data_root = root / "docs" / "orchestration-data"
    # "folder": the phase's transcripts/ folder holds its sessions (in projects/<project>/,
    # where ccusage finds them too).
    make_sessions(data_root / "phase-f" / "transcripts" / "projects" / "p", tickets, size_mb, 1)
    write_phase_data(data_root / "phase-f", tickets, [])
    # "named": sessions in a Claude config folder, named by id in metadata.yaml.
    ids = make_sessions(root / "claude" / "projects" / "-home-USER-work", tickets, size_mb, 2)
    named: list[dict[str, Any]] = [{"session": ids[0], "lead": True}]
    named += [{"session": s, "ticket": t} for s, t in zip(ids[1:], tickets, strict=True)]
    write_phase_data(data_root / "phase-n", tickets, named)
    marker.write_text(json.dumps(spec))
    return root


def criteria_dir(root: Path, variant: str) -> Path:
    folder = root / f"criteria-{variant}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    names = {"folder": ["f"], "named": ["n"], "second": ["n", "f"]}.get(variant, [])
    for name in names:
        (folder / f"{name}.yaml").write_text(CRITERIA.format(name=name, data=f"phase-{name}"))
    return folder


def _timed(
    cmds: dict[str, list[str]],
    envs: dict[str, dict[str, str]],
    root: Path,
    scans: Path,
    repeat: int,
    fresh: bool,
) -> tuple[list[bx.Run], list[int]] | None:
    """The tools' runs, alternating (who goes first alternates too), with the scans counted in
    each orchphase run; ``fresh``: pytest's cache folder removed before each orchphase run.
    None (the failure printed) when a run failed to run."""
    runs: list[bx.Run] = []
    counts: list[int] = []
    for i in range(repeat):
        for tool in list(cmds) if i % 2 == 0 else list(reversed(cmds)):
            scans.unlink(missing_ok=True)
            if fresh and tool == "orchphase":
                shutil.rmtree(root / ".pytest_cache", ignore_errors=True)
            run = bx.measure(tool, cmds[tool], envs[tool], root)
            if tool == "orchphase":
                counts.append(len(scans.read_text().splitlines()) if scans.exists() else 0)
                if " passed" not in run.stdout and " failed" not in run.stdout:
                    print(run.stdout[-2000:], run.error[-2000:])
                    return None
            elif not run.ok:
                print(f"ccusage failed: {run.error[-500:]}")
                return None
            runs.append(run)
    return runs, counts


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=200.0)
    ap.add_argument("--tickets", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--variants", default="folder,named,second,floor")
    ap.add_argument("--corpora", type=Path, default=Path(tempfile.gettempdir()) / "orchphase-bench")
    ap.add_argument("--ccusage-prefix", type=Path)
    ap.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results")
    ap.add_argument("--mode", choices=("cold", "first", "warm"), default="cold")
    args = ap.parse_args()

    args.corpora.mkdir(parents=True, exist_ok=True)
    root = make_project(args.corpora, args.size_mb, args.tickets)
    ccusage = bx.install_ccusage(args.ccusage_prefix or args.corpora / "ccusage")
    start = bx.machine()
    print(
        f"machine: {start['cpus']} CPUs ({start['cpus_usable']} usable), load average "
        f"{start['loadavg']}; {args.repeat} alternating runs per tool; medians (min-max)"
    )
    home = args.corpora / "home"
    home.mkdir(exist_ok=True)
    env = bx.child_env(dict(os.environ))
    # The plugin alone, as in a project that installs only it: the test extra's plugins
    # (hypothesis imports itself at the end of every run) are not this product's time.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    scans = root / "scans.txt"
    env["ORCHPHASE_BENCH_SCANS"] = str(scans)
    (root / "conftest.py").write_text(COUNTER)
    (root / "pytest.ini").write_text("[pytest]\n")
    peers = {
        "folder": root / "docs" / "orchestration-data" / "phase-f" / "transcripts",
        "named": root / "claude",
        "second": root / "claude",
        "floor": root / "claude",
    }
    # Beside the phase's project, not in it: its conftest (the scan counter) is not pytest's.
    floor = args.corpora / "pytest-floor"
    floor.mkdir(exist_ok=True)
    (floor / "pytest.ini").write_text("[pytest]\n")
    (floor / "test_floor.py").write_text("def test_nothing():\n    pass\n")
    variants: list[dict[str, Any]] = []
    for variant in args.variants.split(","):
        crit = criteria_dir(root, variant)
        phase = "f" if variant == "folder" else "n"
        venv = dict(env)
        venv["CLAUDE_CONFIG_DIR"] = str(root / "claude")
        cache = ["-p", "no:cacheprovider"] if args.mode == "cold" else []
        ours = [
            sys.executable,
            "-m",
            "pytest",
            *cache,
            "-p",
            "pytest_orchphase.plugin",
            "-q",
            "--phase",
            phase,
            f"--orchphase-criteria={crit}",
            f"--orchphase-data={root / 'docs' / 'orchestration-data'}",
        ]
        if variant == "floor":
            ours = [sys.executable, "-m", "pytest", *cache, "-q", str(floor)]
        cmds = {"orchphase": ours}
        peer_env = dict(venv)
        peer = peers[variant]
        if peer.name == "transcripts":  # laid out as <dir>/projects/<project>/ for ccusage
            peer_env["CLAUDE_CONFIG_DIR"] = str(peer)
        if ccusage is not None:
            cmds["ccusage"] = [str(ccusage), *bx.CCUSAGE_ARGS]
        if args.mode == "warm":
            shutil.rmtree(root / ".pytest_cache", ignore_errors=True)
            bx.measure("orchphase", ours, venv, root)  # makes the scan cache, untimed
        envs = {"orchphase": venv, "ccusage": peer_env}
        timed = _timed(cmds, envs, root, scans, args.repeat, fresh=args.mode == "first")
        if timed is None:
            return 1
        runs, counts = timed
        med = {
            tool: {
                k: statistics.median(getattr(r, k) for r in runs if r.tool == tool)
                for k in ("wall", "cpu", "tree_peak_mb")
            }
            for tool in cmds
        }
        row: dict[str, Any] = {
            "variant": variant,
            "scans_per_run": counts,
            "runs": [r.as_json() for r in runs],
            "medians": med,
        }
        label = "pytest alone" if variant == "floor" else "orchphase"
        line = (
            f"{variant:7} {label} wall {med['orchphase']['wall']:.2f} s, cpu "
            f"{med['orchphase']['cpu']:.2f} s, peak {med['orchphase']['tree_peak_mb']:.0f} MB; "
            f"scans per run {counts}"
        )
        if "ccusage" in med:
            row["ratio_wall"] = round(med["orchphase"]["wall"] / med["ccusage"]["wall"], 2)
            row["ratio_cpu"] = round(med["orchphase"]["cpu"] / med["ccusage"]["cpu"], 2)
            line += (
                f"; ccusage wall {med['ccusage']['wall']:.2f} s, cpu {med['ccusage']['cpu']:.2f} s"
                f", peak {med['ccusage']['tree_peak_mb']:.0f} MB; ratio wall {row['ratio_wall']}"
                f", cpu {row['ratio_cpu']}"
            )
        print(line)
        variants.append(row)
    end = bx.machine()
    print(f"load average at the end: {end['loadavg']}")
    doc = {
        "tool": "pytest --phase",
        "mode": args.mode,
        "peer": f"ccusage {bx.CCUSAGE_VERSION} {' '.join(bx.CCUSAGE_ARGS)}" if ccusage else None,
        "commit": bx._commit(),
        "size_mb": args.size_mb,
        "tickets": args.tickets,
        "machine_start": start,
        "machine_end": end,
        "variants": variants,
    }
    bx.write_results(args.results, f"phase-{args.mode}", doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
