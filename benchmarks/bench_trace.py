"""A trace's cost as the network grows: seconds and bytes of each output format, and of `check`.

Not a test: run it by hand (see benchmarks/RESULTS.md for the command and the figures).

    PYTHONPATH=src python benchmarks/bench_trace.py             # 100, 1k and 5k parameters
    PYTHONPATH=src python benchmarks/bench_trace.py --sizes 5k  # only the 5,000-parameter cap

Each cell runs the real CLI end to end in a fresh process (`gradtrace step SPEC --format F -o
FILE`, interpreter start-up and imports included, as a user waits for it) and keeps the best of
``--repeats`` runs, the least disturbed by other work on the machine; CPU seconds (user + system
of the child) are printed too, as they hardly depend on that other work. Networks have four layers
of tanh units and one sigmoid output (half squared error, one sample), like the issue's
40-40-40-40-1 at the 5,000-parameter cap.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# name -> layer sizes; parameters = Σ (n_in + 1) n_out
NETWORKS: dict[str, list[int]] = {
    "100": [4, 6, 6, 4, 1],  # 105 parameters
    "1k": [18, 18, 18, 18, 1],  # 1,045 parameters
    "5k": [40, 40, 40, 40, 1],  # 4,961 parameters (the trace cap is 5,000)
}
# (label, CLI arguments after the spec, output suffix); "check" writes its table to stdout
RUNS: list[tuple[str, list[str], str]] = [
    ("json", ["--format", "json"], ".json"),
    ("json /1", ["--format", "json", "--schema", "1"], ".json"),
    ("text", ["--format", "text"], ".txt"),
    ("markdown", ["--format", "markdown"], ".md"),
    ("latex", ["--format", "latex"], ".tex"),
    ("html", ["--format", "html"], ".html"),
    ("ipynb", ["--format", "ipynb"], ".ipynb"),
    ("text --view neuron", ["--format", "text", "--view", "neuron"], ".txt"),
    ("html --view neuron", ["--format", "html", "--view", "neuron"], ".html"),
]


def parameters(sizes: list[int]) -> int:
    return sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes))


def write_spec(sizes: list[int], path: Path) -> None:
    """A spec of ``sizes`` with tanh hidden layers, a sigmoid output and one seeded sample."""
    inputs = ", ".join(f"{0.1 * ((i % 7) - 3):.1f}" for i in range(sizes[0]))
    activations = ", ".join(['"tanh"'] * (len(sizes) - 2) + ['"sigmoid"'])
    path.write_text(
        f'name = "bench"\nloss = "half_sse"\nlearning_rate = 0.5\nsizes = {sizes}\n'
        f"activations = [{activations}]\ninit = \"xavier\"\nseed = 1\n\n"
        f"[data]\ninput = [[{inputs}]]\ntarget = [[{', '.join(['1'] * sizes[-1])}]]\n",
        encoding="utf-8",
    )


def timed(command: list[str], repeats: int) -> tuple[float, float]:
    """Best wall-clock and best CPU (user + system) seconds of ``repeats`` runs.

    CPU seconds are what the run itself costs; on a shared machine its wall time also holds the
    time other processes had the cores.
    """
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best_wall = min(best_wall, time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_cpu = min(best_cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best_wall, best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(NETWORKS), default=list(NETWORKS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="+", help="labels of the runs to time (default: all)")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "gradtrace"]
    print(f"python {sys.version.split()[0]}, cores {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}, best of {args.repeats}")
    print(f"{'parameters':>10}  {'run':<20} {'wall s':>8} {'cpu s':>8} {'bytes':>12}")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.sizes:
            sizes = NETWORKS[name]
            spec = Path(folder) / f"net{name}.toml"
            write_spec(sizes, spec)
            count = f"{parameters(sizes):,}"
            for label, options, suffix in RUNS:
                if args.only and label not in args.only:
                    continue
                out = Path(folder) / f"out{suffix}"
                wall, cpu = timed([*cli, "step", str(spec), *options, "-o", str(out)], args.repeats)
                print(f"{count:>10}  {label:<20} {wall:8.2f} {cpu:8.2f} {out.stat().st_size:12,}",
                      flush=True)
            if not args.only or "check" in args.only:
                wall, cpu = timed([*cli, "check", str(spec)], args.repeats)
                print(f"{count:>10}  {'check':<20} {wall:8.2f} {cpu:8.2f} {'':>12}", flush=True)


if __name__ == "__main__":
    main()
