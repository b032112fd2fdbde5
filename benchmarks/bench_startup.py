"""Start-up time of the command line against ``python -c "import numpy"``, side by side in one run.

Each command runs as a fresh process; the three commands take turns, and each one's time is the
best of ``--repeats`` (7) runs, so a busy machine inflates all three alike. Two clocks: wall time
(what a user waits) and the child's CPU time (user + system, from ``wait4``), which other
processes on a shared machine disturb less. The ratio is ``best(command) / best(python -c
"import numpy")`` on each clock; the target is at most 2x. Output goes to a pipe, as in
``gradtrace step | less``.

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
    for command in COMMANDS.values():  # warm-up: caches bytecode and the OS's file cache
        run_once(command, env)
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(repeats):
        for name, command in COMMANDS.items():
            wall, cpu = run_once(command, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.2f}; "
          f"best of {repeats}")
    numpy = 'python -c "import numpy"'
    wall_base, cpu_base = min(walls[numpy]), min(cpus[numpy])
    print(f"  {'':<26} {'wall':>8} {'ratio':>6}   {'CPU':>8} {'ratio':>6}")
    for name in COMMANDS:
        wall, cpu = min(walls[name]), min(cpus[name])
        print(f"  {name:<26} {wall * 1000:5.0f} ms {wall / wall_base:5.2f}x   "
              f"{cpu * 1000:5.0f} ms {cpu / cpu_base:5.2f}x")
    worst_wall = max(min(samples) for samples in walls.values()) / wall_base
    worst_cpu = max(min(samples) for samples in cpus.values()) / cpu_base
    print(f"largest ratio {worst_wall:.2f}x wall, {worst_cpu:.2f}x CPU (target <= {TARGET_RATIO:g}x)")


if __name__ == "__main__":
    main()
