"""Files in and out: checked outputs, bounded and fully validated model files, honest CSVs.

Commands run in-process through ``gradtrace.cli.main`` (the same code as the console script) so
that many cases stay fast; the pipe test runs a real subprocess.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gradtrace import checkpoint
from gradtrace.cli import main
from gradtrace.errors import CheckpointError, DataError, DivergenceError
from gradtrace.io import CHECKPOINT, PNG, TEXT, OutputError, atomic_write_bytes, check_output, load_npz
from gradtrace.network import EpochLog, Network

SRC = str(Path(__file__).resolve().parents[1] / "src")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("gradtrace: error: "), err
    for needle in needles:
        assert needle in err


# ---- io.check_output and the atomic writers ---------------------------------------------------

@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: "", "an empty file name"),
    (lambda tmp: str(tmp), "is a folder"),
    (lambda tmp: str(tmp / "sub") + os.sep, "is a folder"),
    (lambda tmp: str(tmp / "missing" / "m.npz"), "does not exist; create it first"),
    (lambda tmp: os.devnull, "is a device"),
])
def test_check_output_refuses_paths_that_are_not_files(tmp_path: Path, make: Any,
                                                       message: str) -> None:
    with pytest.raises(OutputError, match=message):
        check_output(make(tmp_path), kind=TEXT)


def test_fifos_and_symlinks_are_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="named pipe"):
        check_output(fifo, kind=TEXT)
    with pytest.raises(OutputError, match="named pipe"):
        atomic_write_bytes(fifo, b"x")
    real = tmp_path / "real.txt"
    real.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with pytest.raises(OutputError, match="symbolic link"):
        check_output(link, kind=TEXT)
    with pytest.raises(OutputError, match="symbolic link"):
        atomic_write_bytes(link, b"new")
    assert link.is_symlink() and real.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "pipe", "real.txt"]


def test_inputs_and_other_kinds_need_force(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n")
    with pytest.raises(OutputError, match="is also an input"):
        check_output(data, kind=TEXT, inputs=[data], force=True)
    with pytest.raises(OutputError, match=r"is not a gradtrace model.*--force"):
        check_output(data, kind=CHECKPOINT)
    assert check_output(data, kind=CHECKPOINT, force=True) == data
    png = tmp_path / "p.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n....")
    assert check_output(png, kind=PNG) == png  # a plot replaces a plot
    with pytest.raises(OutputError, match="is not a text"):
        check_output(png, kind=TEXT)
    model = Network.from_sizes([2, 3, 1]).save(tmp_path / "m.npz")
    assert check_output(model, kind=CHECKPOINT) == model


def test_write_errors_are_one_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write in the folder"):
        atomic_write_bytes(tmp_path / "missing" / "f.txt", b"x")


# ---- bounded .npz reading -----------------------------------------------------------------------

def _npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def test_a_forged_huge_shape_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("W1.npy", _npy_header((10**6, 10**6)))  # 8 TB declared, no data
    with pytest.raises(CheckpointError, match=r"'W1' needs 8,000,000,000,000 bytes.*limit"):
        load_npz(path)
    with pytest.raises(CheckpointError, match="over the limit"):
        Network.load(path)


def test_a_zip_bomb_is_refused_by_its_entry_size(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("W1.npy", _npy_header((4_000_000,)) + bytes(32_000_000))
    assert path.stat().st_size < 100_000  # 32 MB of zeros, deflated
    with pytest.raises(CheckpointError, match="over the limit of 1,000,000 bytes"):
        load_npz(path, max_bytes=1_000_000)
    assert load_npz(path)["W1"].shape == (4_000_000,)  # under the default cap it is read


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.npz"
    np.savez(path, meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="Python objects"):
        load_npz(path)


# ---- model files are validated in full ----------------------------------------------------------

def _saved(tmp_path: Path, training: bool = False) -> dict[str, Any]:
    net = Network.from_sizes([2, 3, 2], ["tanh", "softmax"], "cross_entropy")
    net.metadata = {"feature_names": ["x1", "x2"], "class_names": ["a", "b"], "mean": [0.0, 1.0],
                    "std": [1.0, 2.0]}
    path = tmp_path / "good.npz"
    if training:
        X, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2
        net.fit(X, y, epochs=2, optimizer="adam", checkpoint=path)
    else:
        net.save(path)
    Network.load(path)  # the untouched file loads
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def _meta(arrays: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(str(arrays["meta"]))
    return result


def _corrupt(tmp_path: Path, change: Any, training: bool = False) -> Path:
    arrays = _saved(tmp_path, training)
    change(arrays)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


def _set_meta(key_path: str, value: Any) -> Any:
    def change(arrays: dict[str, Any]) -> None:
        meta = _meta(arrays)
        *parents, last = key_path.split(".")
        node = meta
        for key in parents:
            node = node[key]
        node[last] = value
        arrays["meta"] = np.array(json.dumps(meta))
    return change


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: a.update(meta=np.array("[1, 2]")), "meta is a JSON list"),
    (lambda a: a.update(meta=np.array('"model"')), "meta is a JSON str"),
    (lambda a: a.update(meta=np.array(_deep(100_000))), "meta is not valid JSON"),
    (lambda a: a.update(meta=np.array(3.0)), "no meta text"),
    (_set_meta("version", 99), "format version 99, but this gradtrace reads version 1"),
    (_set_meta("architecture.trainable", []), "trainable has 0 entries"),
    (_set_meta("architecture.sizes", "2,3,2"), "meta.architecture.sizes"),
    (_set_meta("metadata.class_names", ["a"]), "meta.metadata.class_names"),
    (_set_meta("metadata.class_names", ["a", "b", "c"]), "class_names has 3 names"),
    (_set_meta("metadata.mean", [0.0]), "mean has 1 entries; the network takes 2"),
    (_set_meta("metadata.feature_names", ["x1", "x2", "x3"]), "feature_names has 3 entries"),
    (_set_meta("metadata.std", [1.0, 0.0]), "meta.metadata.std"),
    (_set_meta("spec.loss", "hinge"), "meta.spec: loss"),
    (lambda a: a.update(W1=np.full((3, 2), np.nan)), "W1 holds 6 NaN or infinite"),
    (lambda a: a.update(W1=a["W1"].astype(np.complex128)), "W1 is complex128"),
    (lambda a: a.update(b1=np.zeros(4)), r"b1 has shape \(4,\)"),
    (lambda a: a.pop("W2"), "'W2' is missing"),
    (lambda a: a.update(W9=np.zeros(2)), "unexpected array 'W9'"),
])
def test_a_damaged_model_file_is_one_checkpoint_error(tmp_path: Path, change: Any,
                                                      message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        Network.load(_corrupt(tmp_path, change))


@pytest.mark.parametrize(("change", "message"), [
    (_set_meta("training.rng_state", "seed"), "meta.training.rng_state"),
    (_set_meta("training.rng_state.state", {"state": -1, "inc": "x"}), "rng_state"),
    (_set_meta("training.rng_state.bit_generator", "MT19937"), "rng_state.bit_generator"),
    (_set_meta("training.optimizer", {"name": "adamw", "learning_rate": 0.1}), "optimizer.name"),
    (lambda a: a.update({"opt.m.W1": np.zeros((5, 5))}), "opt.m.W1"),
    (lambda a: a.update({"opt.m.W1": np.full((3, 2), np.inf)}), "opt.m.W1 holds 6 NaN"),
])
def test_a_damaged_training_checkpoint_is_one_checkpoint_error(tmp_path: Path, change: Any,
                                                               message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        Network.load(_corrupt(tmp_path, change, training=True))


def test_checkpoint_module_owns_the_format() -> None:
    assert checkpoint.FORMAT == "gradtrace-model" and checkpoint.FORMAT_VERSION == 1
    assert Network.__module__ == "gradtrace.network"


def test_a_diverging_run_never_replaces_an_existing_model(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    X, y = np.random.default_rng(0).normal(size=(40, 2)), np.random.default_rng(1).normal(size=40)
    good = Network.from_sizes([2, 4, 1], ["relu", "linear"], "half_sse")
    good.fit(X, y, epochs=2, learning_rate=0.01, checkpoint=path)
    before = path.read_bytes()
    net = Network.from_sizes([2, 4, 1], ["relu", "linear"], "half_sse", seed=3)

    def explode(log: EpochLog) -> None:
        for layer in net.mlp.layers:
            layer.W *= 1e150

    with pytest.raises(DivergenceError, match=r"model\.diverged\.npz \(.*model\.npz is untouched"):
        net.fit(X, y, epochs=5, learning_rate=0.01, checkpoint=path, progress=explode)
    assert path.read_bytes() == before
    assert Network.load(tmp_path / "model.diverged.npz").history.epochs == 1


# ---- the commands -------------------------------------------------------------------------------

@pytest.fixture
def csv_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    rows = ["x1,x2,kind"] + [f"{a:.3f},{b:.3f},{'up' if a + b > 0 else 'down'}" for a, b in X]
    Path("train.csv").write_text("\n".join(rows) + "\n")
    Path("notes.txt").write_text("my notes\n")
    return tmp_path


@pytest.mark.parametrize("output", ["", "nowhere/x", ".", "/dev/null"])
@pytest.mark.parametrize("command", [
    ("step", "seed", "-f", "markdown"), ("draw", "seed"), ("train", "xor", "--data", "xor", "-q"),
    ("predict", "m.npz", "--data", "train.csv"),
])
def test_bad_outputs_fail_fast_for_every_command(csv_dir: Path, capsys: pytest.CaptureFixture[str],
                                                 command: tuple[str, ...], output: str) -> None:
    if output and not output.startswith(("/", ".")) and command[0] == "draw":
        output += ".svg"
    code, _, err = cli(capsys, *command, "-o", output)
    # draw names a path without an image extension before it looks at the path itself
    one_line_error(code, err, "-o" if command[0] != "draw" or output == "nowhere/x.svg" else "")
    assert sorted(p.name for p in csv_dir.iterdir()) == ["notes.txt", "train.csv"]


def test_predict_refuses_its_own_input_and_train_another_kind(
        csv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "train", "xor", "--data", "train.csv", "-o", "notes.txt", "-q")
    one_line_error(code, err, "notes.txt: exists and is not a gradtrace model", "--force")
    code, _, err = cli(capsys, "train", "xor", "--data", "train.csv", "-o", "train.csv", "-q")
    one_line_error(code, err, "is also an input")
    code, _, err = cli(capsys, "train", "xor", "--data", "train.csv", "--epochs", "2", "-q",
                       "-o", "m.npz")
    assert code == 0, err
    code, _, err = cli(capsys, "predict", "m.npz", "--data", "train.csv", "-o", "train.csv")
    one_line_error(code, err, "is also an input")
    code, _, err = cli(capsys, "predict", "m.npz", "--data", "train.csv", "-o", "m.npz")
    one_line_error(code, err, "is also an input")
    Path("other.npz").write_bytes(Path("m.npz").read_bytes())
    code, _, err = cli(capsys, "predict", "m.npz", "--data", "train.csv", "-o", "other.npz")
    one_line_error(code, err, "is not a text", "--force")
    code, out, err = cli(capsys, "predict", "m.npz", "--data", "train.csv", "-o", "-")
    assert code == 0 and out.startswith("prediction,p_up\n"), err
    code, _, err = cli(capsys, "train", "xor", "--data", "train.csv", "--epochs", "1", "-q",
                       "-o", "notes.txt", "--force")
    assert code == 0, err
    assert Network.load("notes.txt").history.epochs == 1
    assert Path("train.csv").read_text().startswith("x1,x2,kind\n")


def test_csv_headers_are_never_guessed(csv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("numbers.csv").write_text("0.5,1.5,0\n1.0,2.0,1\n-1,0.3,0\n")
    code, _, err = cli(capsys, "train", "xor", "--data", "numbers.csv", "-q")
    one_line_error(code, err, "numbers.csv, line 1", "all numbers", "--no-header")
    code, _, err = cli(capsys, "train", "xor", "--data", "numbers.csv", "--no-header", "-q",
                       "--epochs", "1", "-o", "n.npz")
    assert code == 0, err
    assert Network.load("n.npz").metadata["feature_names"] == ["column_1", "column_2"]
    assert cli(capsys, "train", "xor", "--data", "train.csv", "--epochs", "1", "-q",
               "-o", "m.npz")[0] == 0
    Path("renamed.csv").write_text("x1,label\n0.1,1\n")
    code, _, err = cli(capsys, "predict", "m.npz", "--data", "renamed.csv")
    one_line_error(code, err, "lacks x2")
    code, out, err = cli(capsys, "predict", "m.npz", "--data", "renamed.csv", "--no-header")
    one_line_error(code, err, "line 1, column 1 ('x1'): 'x1' is not a finite number")
    code, out, err = cli(capsys, "predict", "m.npz", "--data", "train.csv", "--no-header")
    one_line_error(code, err, "3 columns; without a header")
    Path("bare.csv").write_text("0.1,0.2\n0.3,-0.4\n")
    code, out, err = cli(capsys, "predict", "m.npz", "--data", "bare.csv", "--no-header")
    assert code == 0 and len(out.splitlines()) == 3, err


def test_labels_that_the_network_cannot_encode_are_refused(
        csv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("one.csv").write_text("a,b,y\n1,2,cat\n3,4,cat\n")
    code, _, err = cli(capsys, "train", "xor", "--data", "one.csv", "-q")
    one_line_error(code, err, "has one class ('cat')")
    Path("numbers.csv").write_text("a,b,y\n1,2,2.5\n3,4,5\n0,1,3.25\n")
    code, _, err = cli(capsys, "train", "xor", "--data", "numbers.csv", "-q")
    one_line_error(code, err, "from 2.5 to 5", "binary_cross_entropy needs class labels")


def test_dataset_targets_encode_for_the_outputs() -> None:
    from gradtrace.data import load_dataset

    spirals = load_dataset("spirals", n=30)
    assert spirals.targets(1).shape == (30, 1) and spirals.targets().shape == (30, 2)
    three = load_dataset("gaussians", n=30)
    from dataclasses import replace

    three = replace(three, y=np.arange(30) % 3, class_names=["a", "b", "c"])
    with pytest.raises(DataError, match=r"3 classes .* one output"):
        three.targets(1)


def test_resume_past_the_asked_epochs_says_nothing_was_trained(
        csv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ("train", "xor", "--data", "xor", "-q", "-o", "run.npz")
    assert cli(capsys, *common, "--epochs", "5")[0] == 0
    before = Path("run.npz").read_bytes()
    code, out, err = cli(capsys, *common, "--epochs", "3", "--resume")
    assert code == 0 and err == ""
    assert out.startswith("nothing trained: run.npz already holds 5 epochs")
    assert "--epochs 8" in out and Path("run.npz").read_bytes() == before
    code, out, err = cli(capsys, *common, "--epochs", "7", "--resume")
    assert code == 0 and "trained 2 epochs (now 7 in all)" in out


def test_a_malformed_checkpoint_fails_resume_before_training(
        csv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ("train", "xor", "--data", "xor", "-q", "-o", "run.npz")
    assert cli(capsys, *common, "--epochs", "2")[0] == 0
    with np.load("run.npz") as data:
        arrays = {name: data[name] for name in data.files}
    _set_meta("training.rng_state.state", {"state": "x", "inc": 1})(arrays)
    np.savez("run.npz", **arrays)
    code, out, err = cli(capsys, *common, "--epochs", "4", "--resume")
    one_line_error(code, err, "run.npz: meta.training.rng_state.state.state")
    assert out == ""  # refused before any epoch ran


def test_training_survives_a_reader_that_closes_the_pipe(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "gradtrace", "train", "xor", "--data", "xor",
               "--epochs", "1000", "-o", "m.npz"]
    with subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()  # like `| head -1`
        err = process.stderr.read().decode()
        code = process.wait(timeout=120)
    assert first.startswith(b"epoch 1/1000")
    assert code == 0, err
    assert "standard output was closed" in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert Network.load(tmp_path / "m.npz").history.epochs == 1000
