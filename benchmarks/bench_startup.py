"""Start-up time of the command line against ``python -c "import numpy"``, side by side in one run.

Each command runs as a fresh process; the three commands take turns, and each one's time is the
best of ``--repeats`` (7) wall times, so a busy machine inflates all three alike. The ratio is
``best(command) / best(python -c "import numpy")``; the target is at most 2x.

    PYTHONPATH=src python benchmarks/bench_startup.py

The checkout's ``src`` goes first on the children's ``PYTHONPATH``, and bytecode writing is enabled
for them (a warm-up run caches it), since an installed package always has its ``.pyc`` files.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src"
COMMANDS: dict[str, list[str]] = {
    'python -c "import numpy"': [sys.executable, "-c", "import numpy"],
    "gradtrace --help": [sys.executable, "-m", "gradtrace", "--help"],
    "gradtrace step": [sys.executable, "-m", "gradtrace", "step"],
}
TARGET_RATIO = 2.0


def child_environment() -> dict[str, str]:
    """This checkout first on the path; bytecode cached as in an installed package."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "100"
    return env


def wall_time(command: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning the process until it exits (it must exit 0)."""
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per command (best is kept)")
    repeats = parser.parse_args().repeats
    env = child_environment()
    for command in COMMANDS.values():  # warm-up: caches bytecode and the OS's file cache
        wall_time(command, env)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(repeats):
        for name, command in COMMANDS.items():
            times[name].append(wall_time(command, env))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.2f}; "
          f"best of {repeats}")
    baseline = min(times['python -c "import numpy"'])
    for name, samples in times.items():
        best = min(samples)
        print(f"  {name:<26} {best * 1000:7.0f} ms   {best / baseline:5.2f}x numpy")
    worst = max(min(samples) for samples in times.values()) / baseline
    print(f"largest ratio {worst:.2f}x (target <= {TARGET_RATIO:g}x)")


if __name__ == "__main__":
    main()
