#!/usr/bin/env python3
"""What an installed plugin costs a project that runs no phase: `pytest --co -q` with the plugin
against `pytest --co -q -p no:orchphase`, alternating run by run.

    python benchmarks/bench_idle.py [--repeat 21] [--tests 200]

The project is a temporary folder of ``--tests`` plain test functions. Prints the median wall
and CPU seconds of each and their ratios; writes the raw figures to
benchmarks/results/idle-<time>.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_extract as bx

REPO = bx.REPO


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--tests", type=int, default=200)
    ap.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        body = "".join(f"def test_{n}():\n    assert {n} == {n}\n\n" for n in range(args.tests))
        (root / "test_plain.py").write_text(body)
        (root / "pytest.ini").write_text("[pytest]\n")
        env = bx.child_env(dict(os.environ))
        env.pop("ORCHPHASE_PHASE", None)
        base = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]
        cmds = {"with plugin": base, "without": [*base, "-p", "no:orchphase"]}
        runs: list[bx.Run] = []
        for i in range(args.repeat):
            for tool in list(cmds) if i % 2 == 0 else list(reversed(cmds)):
                run = bx.measure(tool, cmds[tool], env, root)
                if f"{args.tests} tests collected" not in run.stdout:
                    print(run.stdout[-1000:], run.error[-1000:])
                    return 1
                runs.append(run)
    med = {
        tool: {
            k: statistics.median(getattr(r, k) for r in runs if r.tool == tool)
            for k in ("wall", "cpu")
        }
        for tool in cmds
    }
    ratio_wall = med["with plugin"]["wall"] / med["without"]["wall"]
    ratio_cpu = med["with plugin"]["cpu"] / med["without"]["cpu"]
    print(
        f"pytest --co, {args.tests} tests, {args.repeat} alternating runs each: with the plugin "
        f"wall {med['with plugin']['wall']:.3f} s, cpu {med['with plugin']['cpu']:.3f} s; "
        f"without wall {med['without']['wall']:.3f} s, cpu {med['without']['cpu']:.3f} s; "
        f"ratio wall {ratio_wall:.2f}, cpu {ratio_cpu:.2f}"
    )
    doc = {
        "tool": "pytest --co -q (plugin installed, no phase)",
        "peer": "pytest --co -q -p no:orchphase",
        "commit": bx._commit(),
        "machine": bx.machine(),
        "repeat": args.repeat,
        "medians": med,
        "ratio_wall": round(ratio_wall, 3),
        "ratio_cpu": round(ratio_cpu, 3),
        "runs": [r.as_json() for r in runs],
    }
    bx.write_results(args.results, "idle", doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
