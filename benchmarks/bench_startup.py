"""Start-up time of the command line against ``python -c "import numpy"``, side by side in one run.

Each command runs as a fresh process; the three commands take turns, and each one's time is the
best of ``--repeats`` (7) runs, so a busy machine inflates all three alike. Two clocks: wall time
(what a user waits) and the child's CPU time (user + system, from ``wait4``), which other
processes on a shared machine disturb less. The ratio is ``best(command) / best(python -c
"import numpy")`` on each clock; the target is at most 2x. Output goes to a pipe, as in
``gradtrace step | less``.

    PYTHONPATH=src python benchmarks/bench_startup.py

A fourth row, ``libraries alone``, is the floor under ``gradtrace step``: a ``python -c`` that
imports what ``step`` cannot run without (numpy; typer, whose option handling builds pydantic
adapters; pydantic) and validates one pydantic model, which runs pydantic's plugin discovery as the
spec's first validation does. None of gradtrace's code runs in it. It is a reference, not a target.

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
# What `gradtrace step` imports before any of gradtrace's own code: typer loads `typer._adapters`
# (pydantic TypeAdapters for its options) when it parses a command line, and the first model
# validated runs pydantic's plugin discovery (kept on: users' plugins must see the spec).
LIBRARIES = "libraries alone"
REFERENCES: dict[str, list[str]] = {
    LIBRARIES: [sys.executable, "-c", "import numpy, typer.main, typer._adapters\n"
                "from pydantic import BaseModel\n"
                "class Probe(BaseModel):\n    x: int\n"
                "Probe(x=1)\n"
                "import gc; gc.freeze()"],  # as gradtrace's entry point does before exiting
}
TARGET_RATIO = 2.0


def child_environment() -> dict[str, str]:
    """This checkout first on the path; bytecode cached as in an installed package."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "100"
    return env


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds from spawning the process until it exits (it must exit 0)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.read()  # a pipe, drained as a pager would
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per command (best is kept)")
    repeats = parser.parse_args().repeats
    env = child_environment()
    runs = COMMANDS | REFERENCES
    for command in runs.values():  # warm-up: caches bytecode and the OS's file cache
        run_once(command, env)
    walls: dict[str, list[float]] = {name: [] for name in runs}
    cpus: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, command in runs.items():
            wall, cpu = run_once(command, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.2f}; "
          f"best of {repeats}")
    numpy = 'python -c "import numpy"'
    wall_base, cpu_base = min(walls[numpy]), min(cpus[numpy])
    print(f"  {'':<26} {'wall':>8} {'ratio':>6}   {'CPU':>8} {'ratio':>6}")
    for name in runs:
        wall, cpu = min(walls[name]), min(cpus[name])
        print(f"  {name:<26} {wall * 1000:5.0f} ms {wall / wall_base:5.2f}x   "
              f"{cpu * 1000:5.0f} ms {cpu / cpu_base:5.2f}x")
    worst_wall = max(min(walls[name]) for name in COMMANDS) / wall_base
    worst_cpu = max(min(cpus[name]) for name in COMMANDS) / cpu_base
    print(f"largest ratio {worst_wall:.2f}x wall, {worst_cpu:.2f}x CPU (target <= {TARGET_RATIO:g}x)")
    print(f"{LIBRARIES}: numpy, typer and a pydantic model, no gradtrace code (the floor under step)")


if __name__ == "__main__":
    main()
