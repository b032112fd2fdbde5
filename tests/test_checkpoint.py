"""Saving, loading, checkpoints, resuming bit for bit, divergence, and atomic writes."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradtrace.data import load_dataset
from gradtrace.errors import CheckpointError, DivergenceError
from gradtrace.io import atomic_save_npz, atomic_write_bytes, atomic_write_text, load_npz
from gradtrace.network import EpochLog, Network


def _net(seed: int = 0) -> Network:
    return Network.from_sizes([2, 12, 3], ["relu", "softmax"], "cross_entropy", seed=seed)


DATA = load_dataset("spirals", n=150, seed=0, noise=0.05)
DATA3 = (DATA.X, np.arange(150) % 3)


def test_save_load_round_trip(tmp_path: Path) -> None:
    net = _net()
    net.fit(*DATA3, epochs=3, batch_size=16, validation_split=0.2)
    path = net.save(tmp_path / "model.npz")
    loaded = Network.load(path)
    np.testing.assert_array_equal(loaded.predict(DATA.X), net.predict(DATA.X))
    assert loaded.sizes == net.sizes and loaded.history == net.history
    assert loaded.mlp.loss.name == "cross_entropy" and loaded.dtype == net.dtype
    with np.load(path, allow_pickle=False) as raw:  # no pickle anywhere in the file
        assert all(raw[name].dtype != object for name in raw.files)


def test_round_trip_keeps_float32_leaky_slope_and_frozen_layers(tmp_path: Path) -> None:
    net = Network.from_sizes([2, 5, 1], ["leaky_relu", "sigmoid"], "binary_cross_entropy",
                             dtype="float32")
    from gradtrace.core.activations import get_activation

    net.mlp.layers[0].activation = get_activation("leaky_relu", slope=0.2)
    net.mlp.layers[0].trainable = False
    loaded = Network.load(net.save(tmp_path / "m.npz"))
    assert loaded.dtype == np.float32
    assert loaded.mlp.layers[0].activation.params == {"slope": 0.2}
    assert loaded.mlp.layers[0].trainable is False
    np.testing.assert_array_equal(loaded.predict(DATA.X), net.predict(DATA.X))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_resume_is_bit_for_bit_an_uninterrupted_run(tmp_path: Path, optimizer: str) -> None:
    settings = {"epochs": 6, "batch_size": 16, "optimizer": optimizer, "learning_rate": 0.05,
                "seed": 4, "shuffle": True, "validation_split": 0.1}
    straight = _net()
    straight.fit(*DATA3, **settings)

    checkpoint = tmp_path / "run.npz"

    def interrupt(log: EpochLog) -> None:
        if log.epoch == 3:
            raise KeyboardInterrupt

    first = _net()
    with pytest.raises(KeyboardInterrupt):
        first.fit(*DATA3, **settings, checkpoint=checkpoint, progress=interrupt)
    assert Network.load(checkpoint).history.epochs == 3

    resumed = _net(seed=99)  # different initial weights: the checkpoint replaces them
    history = resumed.fit(*DATA3, **settings, checkpoint=checkpoint, resume=True)
    for a, b in zip(resumed.mlp.layers, straight.mlp.layers, strict=True):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)
    assert history.loss == straight.history.loss
    assert history.val_loss == straight.history.val_loss


def test_resume_from_a_loaded_checkpoint_and_mismatched_settings(tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.npz"
    _net().fit(*DATA3, epochs=2, optimizer="adam", learning_rate=0.01, checkpoint=checkpoint)
    loaded = Network.load(checkpoint)
    loaded.fit(*DATA3, epochs=4, optimizer="adam", learning_rate=0.01, resume=True)
    assert loaded.history.epochs == 4
    with pytest.raises(CheckpointError, match="optimiser"):
        _net().fit(*DATA3, epochs=4, optimizer="sgd", checkpoint=checkpoint, resume=True)


def test_checkpoint_every_k_epochs(tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.npz"
    seen: list[int] = []

    def watch(log: EpochLog) -> None:
        if checkpoint.exists():
            seen.append(Network.load(checkpoint).history.epochs)

    _net().fit(*DATA3, epochs=5, checkpoint=checkpoint, checkpoint_every=2, progress=watch)
    assert seen == [2, 2, 4, 4]  # watched after epochs 2..5 (after 1 there was none yet)
    assert Network.load(checkpoint).history.epochs == 5  # and at the end


def test_divergence_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.npz"
    net = Network.from_sizes([2, 4, 1], ["relu", "linear"], "half_sse", seed=0)
    X, y = DATA.X, DATA.y.astype(float)
    net.fit(X, y, epochs=2, learning_rate=0.01, checkpoint=checkpoint, optimizer="momentum")
    good = checkpoint.read_bytes()
    scale = 1e150  # squares overflow to inf at once

    def explode(log: EpochLog) -> None:
        for layer in net.mlp.layers:
            layer.W *= scale

    with pytest.raises(DivergenceError, match=r"epoch 4.*last good checkpoint \(epoch 3\)"):
        net.fit(X, y, epochs=10, learning_rate=0.01, checkpoint=checkpoint, optimizer="momentum",
                resume=True, progress=explode)
    assert Network.load(checkpoint).history.epochs == 3
    assert checkpoint.read_bytes() != good


def test_loading_bad_files_is_a_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such file"):
        Network.load(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="not a readable"):
        Network.load(junk)
    other = tmp_path / "other.npz"
    np.savez(other, W1=np.zeros(2))
    with pytest.raises(CheckpointError, match="not a gradtrace model"):
        Network.load(other)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError):
        Network.load(pickled)
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        _net().fit(*DATA3, epochs=1, resume=True, checkpoint=_net().save(tmp_path / "plain.npz"))


def test_atomic_writes_replace_whole_files_and_leave_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    atomic_write_text(target, "first")
    os.chmod(target, 0o640)
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["out.txt"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "model.npz"
    atomic_save_npz(target, {"W1": np.ones(3)})
    with pytest.raises(TypeError, match="pickle"):
        atomic_save_npz(target, {"W1": np.array([object()], dtype=object)})
    np.testing.assert_array_equal(load_npz(target)["W1"], np.ones(3))
    assert zipfile.is_zipfile(target) and os.listdir(tmp_path) == ["model.npz"]


def test_fit_checks_optimiser_settings_as_a_spec_does() -> None:
    from gradtrace.errors import SpecError

    with pytest.raises(SpecError, match=r"Network.fit: momentum: .*less than 1 \(found 1.5\)"):
        _net().fit(*DATA3, epochs=1, optimizer="momentum", momentum=1.5)
