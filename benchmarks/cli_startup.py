"""How long the ``pyworkflow`` command takes to start, against bare Python.

Shell scripts call the command in loops, so start-up is paid many times. The
goal is ``pyworkflow --help`` under 150 ms. Prints the median and minimum of
N runs of each command as a table.

    python benchmarks/cli_startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_MS = 150.0


def commands(config: str) -> list[tuple[str, list[str]]]:
    python = sys.executable
    found = [
        ("python -c pass", [python, "-c", "pass"]),
        ("python -m pyworkflow_cli --help", [python, "-m", "pyworkflow_cli", "--help"]),
        (
            "... process start --help",
            [python, "-m", "pyworkflow_cli", "process", "start", "--help"],
        ),
        (
            "... config check (memory)",
            [python, "-m", "pyworkflow_cli", "config", "check", "-c", config],
        ),
    ]
    script = shutil.which("pyworkflow", path=os.path.dirname(python)) or shutil.which("pyworkflow")
    if script:
        found.insert(1, ("pyworkflow --help", [script, "--help"]))
    return found


def measure(argv: list[str], runs: int, env: dict[str, str]) -> list[float]:
    subprocess.run(argv, env=env, capture_output=True, check=True)  # warm the file cache
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as directory:
        config = Path(directory) / "memory.yaml"
        config.write_text(
            "backend: {type: memory}\nworkflows: [pyworkflow.examples.multiplication]\n"
        )
        rows = [(name, measure(argv, args.runs, env)) for name, argv in commands(str(config))]
    baseline = statistics.median(rows[0][1])
    print(f"{'command':<34} {'median ms':>10} {'min ms':>8} {'x python':>9}")
    for name, timings in rows:
        median = statistics.median(timings)
        print(f"{name:<34} {median:>10.1f} {min(timings):>8.1f} {median / baseline:>9.1f}")
    helps = [
        statistics.median(t) for name, t in rows if name.endswith(" --help") and "start" not in name
    ]
    verdict = "meets" if max(helps) < GOAL_MS else "MISSES"
    print(
        f"\n--help {verdict} the {GOAL_MS:.0f} ms goal "
        f"({args.runs} runs each, {os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
