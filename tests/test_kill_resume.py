"""kill -9 in the middle of training with --checkpoint-every 1: the checkpoint always loads, and
resuming from it gives bit for bit the model of a run that was never stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gradtrace.network import Network

SRC = str(Path(__file__).resolve().parents[1] / "src")
COMMON = ("train", "xor", "--data", "circles", "--samples", "2000", "--optimizer", "adam",
          "--checkpoint-every", "1", "-q")


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gradtrace", *COMMON, *args]


@pytest.mark.slow
def test_kill_9_leaves_a_loadable_checkpoint_that_resumes_bit_for_bit(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "NO_COLOR": "1"}
    checkpoint = tmp_path / "run.npz"
    process = subprocess.Popen(_command("--epochs", "100000", "-o", "run.npz"), cwd=tmp_path,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        # let a few checkpoints land, then kill without warning, likely mid-write
        while time.monotonic() < deadline and not checkpoint.exists():
            time.sleep(0.02)
        time.sleep(0.3)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
    killed = Network.load(checkpoint)  # never half a file
    done = killed.history.epochs
    assert done >= 1
    total = str(done + 2)
    resumed = subprocess.run(_command("--epochs", total, "-o", "run.npz", "--resume"),
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    straight = subprocess.run(_command("--epochs", total, "-o", "straight.npz"), cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=120)
    assert straight.returncode == 0, straight.stderr
    a, b = Network.load(checkpoint), Network.load(tmp_path / "straight.npz")
    for x, y in zip(a.mlp.layers, b.mlp.layers, strict=True):
        np.testing.assert_array_equal(x.W, y.W)
        np.testing.assert_array_equal(x.b, y.b)
    assert a.history.loss == b.history.loss
