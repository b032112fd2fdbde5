"""``gradtrace train`` / ``predict`` as a user runs them: a subprocess, no TTY, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradtrace.network import Network

SRC = str(Path(__file__).resolve().parents[1] / "src")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "gradtrace", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_train_through_a_pipe_prints_plain_lines_and_writes_files(tmp_path: Path) -> None:
    result = run("train", "xor", "--data", "xor", "--epochs", "40", "-o", "model.npz",
                 "--plot", "loss.png", "--boundary", "boundary.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("epoch 1/40  loss ")
    assert "samples/s" in lines[0] and "accuracy" in lines[0]
    assert any(line.startswith("epoch 40/40") for line in lines)
    assert "\x1b[" not in result.stdout  # no escape codes when not a terminal
    assert "trained 40 epochs" in result.stdout and result.stderr == ""
    for name in ("model.npz", "loss.png", "boundary.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert Network.load(tmp_path / "model.npz").history.epochs == 40


def test_resume_continues_to_the_same_model(tmp_path: Path) -> None:
    common = ("train", "xor", "--data", "circles", "--optimizer", "momentum", "-q")
    assert run(*common, "--epochs", "6", "-o", "straight.npz", cwd=tmp_path).returncode == 0
    assert run(*common, "--epochs", "3", "-o", "split.npz", cwd=tmp_path).returncode == 0
    result = run(*common, "--epochs", "6", "-o", "split.npz", "--resume", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    a, b = Network.load(tmp_path / "straight.npz"), Network.load(tmp_path / "split.npz")
    for x, y in zip(a.mlp.layers, b.mlp.layers, strict=True):
        np.testing.assert_array_equal(x.W, y.W)
    assert a.history.loss == b.history.loss


def test_csv_train_then_predict(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    rows = ["x1,x2,kind"] + [f"{a:.4f},{b:.4f},{'up' if a + b > 0 else 'down'}" for a, b in X]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    result = run("train", "xor", "--data", "train.csv", "--target", "kind", "--standardize",
                 "--epochs", "30", "-o", "m.npz", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    result = run("predict", "m.npz", "--data", "train.csv", "-o", "p.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "prediction,p_up" and len(lines) == 61
    truth = [row.rsplit(",", 1)[1] for row in rows[1:]]
    predicted = [line.split(",")[0] for line in lines[1:]]
    assert np.mean([p == t for p, t in zip(predicted, truth, strict=True)]) > 0.9


@pytest.mark.parametrize(("args", "message"), [
    (("train", "xor", "--data", "nope"), "unknown dataset (or .csv file) 'nope'"),
    (("train", "xro"), "did you mean 'xor'"),
    (("train", "xor", "--optimizer", "adma"), "did you mean 'adam'"),
    (("train", "xor", "--data", "bad.csv"), "bad.csv, line 3, column 2 ('b')"),
    (("train", "xor", "--data", "ragged.csv"), "ragged.csv, line 2: this row has 2 fields"),
    (("train", "xor", "--data", "iris"), "set sizes = [4, 3, 3]"),
    (("train", "xor", "--resume"), "need -o"),
    (("predict", "missing.npz", "--data", "bad.csv"), "missing.npz: no such file"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_code_2(tmp_path: Path, args: tuple[str, ...],
                                                         message: str) -> None:
    (tmp_path / "bad.csv").write_text("a,b,y\n0,1,0\n0,x,1\n")
    (tmp_path / "ragged.csv").write_text("a,b,y\n0,1\n")
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("gradtrace: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_divergence_exits_1_with_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "blowup.toml"
    spec.write_text('sizes = [2, 8, 1]\nactivations = ["relu", "linear"]\nloss = "half_sse"\n'
                    "learning_rate = 50.0\n[training]\nepochs = 30\nbatch_size = 8\n")
    result = run("train", str(spec), "--data", "gaussians", "-o", "m.npz", "-q", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "diverged at epoch" in result.stderr
    assert "smaller learning rate" in result.stderr
