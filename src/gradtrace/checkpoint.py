"""The gradtrace model file: an uncompressed ``.npz`` without pickle, and its full validation.

Notation: L layers, sizes [n_0, ..., n_L]; W_k (n_k, n_{k-1}) and b_k (n_k,) are layer k's weights.

Members: ``meta`` (one JSON string: format, version, spec, architecture, history, metadata and,
for a training checkpoint, the training settings with the random generator's state), ``W1``,
``b1`` ... ``WL``, ``bL``, and for a training checkpoint ``opt.*`` (the optimiser's state, e.g.
``opt.m.W1``). ``read`` checks everything before a network is built: the size of each array
(``io.load_npz``), the meta against declarative models (so a list, a string or a missing key is
named by its path), the format version, each array's shape, real floating dtype and finiteness,
and the metadata against the architecture (feature names, standardisation, class names).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gradtrace.core.activations import ACTIVATIONS, get_activation
from gradtrace.core.network import MLP
from gradtrace.core.optimizers import OPTIMIZERS
from gradtrace.errors import CheckpointError, SpecError
from gradtrace.io import atomic_save_npz, load_npz
from gradtrace.spec import Spec, describe_validation_error, parse_spec

__all__ = ["FORMAT", "FORMAT_VERSION", "Checkpoint", "Meta", "encode", "read", "write"]

FORMAT = "gradtrace-model"
FORMAT_VERSION = 1
HINT = "save one with Network.save or gradtrace train -o"

Array = NDArray[np.floating]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True, frozen=True)


class Architecture(_Strict):
    """Layer sizes [n_0, ..., n_L] and, per layer k = 1..L, its activation, slope and trainability."""

    sizes: list[Annotated[int, Field(ge=1)]] = Field(min_length=2)
    activations: list[str]
    slopes: list[FiniteFloat | None]
    trainable: list[bool]
    # each layer's activation parameters (elu's alpha, ...); absent in files written before them
    params: list[dict[str, FiniteFloat]] | None = None

    @model_validator(mode="after")
    def _one_entry_per_layer(self) -> Architecture:
        layers = len(self.sizes) - 1
        for name in ("activations", "slopes", "trainable", "params"):
            if getattr(self, name) is not None and len(getattr(self, name)) != layers:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries; the sizes "
                                 f"{self.sizes} give {layers} layers")
        for k, (name, params) in enumerate(zip(self.activations, self.params or [], strict=False)):
            known = ACTIVATIONS[name].params if name in ACTIVATIONS else {}
            if set(params) - set(known):
                raise ValueError(f"params[{k}] sets {sorted(set(params) - set(known))}; activation "
                                 f"{name} takes {sorted(known) or 'none'}")
        return self


class HistoryMeta(_Strict):
    loss: list[FiniteFloat] = []
    accuracy: list[FiniteFloat] = []
    val_loss: list[FiniteFloat] = []
    val_accuracy: list[FiniteFloat] = []
    samples_per_second: list[FiniteFloat] = []


class Metadata(BaseModel):
    """Facts about the training data; the keys gradtrace uses are checked, others kept as they are."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False, strict=True, frozen=True)

    dataset: str | None = None
    feature_names: list[str] | None = None
    class_names: list[str] | None = Field(default=None, min_length=2)
    target_name: str | None = None
    mean: list[FiniteFloat] | None = None
    std: list[Annotated[float, Field(gt=0.0, allow_inf_nan=False)]] | None = None

    @model_validator(mode="after")
    def _mean_with_std(self) -> Metadata:
        if (self.mean is None) != (self.std is None):
            raise ValueError("mean and std come together (the standardisation x' = (x - mean)/std)")
        return self


class RngState(BaseModel):
    """numpy's ``bit_generator.state`` dictionary, checked by loading it into a generator."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    bit_generator: Literal["PCG64"]
    state: dict[str, int]

    @model_validator(mode="after")
    def _loads(self) -> RngState:
        try:
            np.random.PCG64().state = self.model_dump()  # type: ignore[assignment]  # checked here
        except (TypeError, ValueError, KeyError, OverflowError) as error:
            raise ValueError(f"not a PCG64 state ({error})") from None
        return self


class TrainingMeta(_Strict):
    optimizer: dict[str, str | FiniteFloat]
    batch_size: int = Field(ge=1)
    shuffle: bool
    seed: int | None
    rng_state: RngState | None

    @model_validator(mode="after")
    def _known_optimizer(self) -> TrainingMeta:
        if self.optimizer.get("name") not in OPTIMIZERS:
            raise ValueError(f"optimizer.name must be one of {', '.join(OPTIMIZERS)}")
        return self


class Meta(_Strict):
    """The ``meta`` member. ``version`` is checked separately so that its message says so."""

    format: Literal["gradtrace-model"]
    version: int
    spec: dict[str, Any]
    architecture: Architecture
    history: HistoryMeta = HistoryMeta()
    metadata: Metadata = Metadata()
    training: TrainingMeta | None = None


@dataclass(frozen=True)
class Checkpoint:
    """A validated model file: its spec, weights [(W_k, b_k)], meta and optimiser state."""

    spec: Spec
    meta: Meta
    params: list[tuple[Array, Array]]
    optimizer_state: dict[str, Array]

    def build_mlp(self) -> MLP:
        """The network with the saved weights, slopes and frozen layers."""
        mlp = self.spec.build_mlp()
        architecture = self.meta.architecture
        for k, (layer, (W, b)) in enumerate(zip(mlp.layers, self.params, strict=True)):
            layer.W[...], layer.b[...] = W, b
            layer.trainable = architecture.trainable[k]
            slope = architecture.slopes[k]
            params = architecture.params[k] if architecture.params is not None else (
                {"slope": slope} if slope is not None else {})
            if params:
                layer.activation = get_activation(layer.activation.name, **params)
        return mlp


def encode(mlp: MLP, spec: Spec | None, history: dict[str, list[float]],
           metadata: dict[str, Any], params: list[tuple[Array, Array]] | None = None,
           training: dict[str, Any] | None = None,
           optimizer_state: dict[str, Array] | None = None) -> dict[str, Any]:
    """The arrays of a model file; ``training`` and ``optimizer_state`` make it a checkpoint."""
    layers = mlp.layers
    architecture = {
        "sizes": mlp.sizes,
        "activations": [ly.activation.name for ly in layers],
        "slopes": [ly.activation.params.get("slope") for ly in layers],
        "params": [dict(ly.activation.params) for ly in layers],
        "trainable": [ly.trainable for ly in layers],
    }
    spec_fields = spec.model_dump(exclude={"layers", "sizes", "activations", "data"},
                                  exclude_none=True) if spec else {}
    spec_fields.update({"loss": mlp.loss.name, "train_biases": mlp.train_biases,
                        "dtype": str(mlp.dtype)})
    meta: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION, "spec": spec_fields,
                            "architecture": architecture, "history": history,
                            "metadata": metadata}
    arrays: dict[str, Any] = {}
    for k, (W, b) in enumerate(params or [(ly.W, ly.b) for ly in layers], start=1):
        arrays[f"W{k}"], arrays[f"b{k}"] = W, b
    if training is not None:
        meta["training"] = training
        arrays.update({f"opt.{key}": value for key, value in (optimizer_state or {}).items()})
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def write(path: str | Path, arrays: dict[str, Any]) -> Path:
    """Write encoded arrays atomically."""
    return atomic_save_npz(path, arrays)


def read(path: str | Path) -> Checkpoint:
    """A fully validated model file, or one CheckpointError naming the file and the problem."""
    arrays = load_npz(path)
    meta = _meta(path, arrays.pop("meta", None))
    try:
        spec = parse_spec({**meta.spec, "sizes": meta.architecture.sizes,
                           "activations": meta.architecture.activations},
                          source="meta.spec")
    except SpecError as error:
        raise CheckpointError(f"{path}: {error}; {HINT}") from None
    sizes, dtype = meta.architecture.sizes, np.dtype(spec.dtype)
    params: list[tuple[Array, Array]] = []
    shapes: dict[str, tuple[int, ...]] = {}
    for k in range(1, len(sizes)):
        shapes[f"W{k}"], shapes[f"b{k}"] = (sizes[k], sizes[k - 1]), (sizes[k],)
        W = _weights(path, arrays.pop(f"W{k}", None), f"W{k}", shapes[f"W{k}"], dtype)
        b = _weights(path, arrays.pop(f"b{k}", None), f"b{k}", shapes[f"b{k}"], dtype)
        params.append((W, b))
    state = {name.removeprefix("opt."): value for name, value in arrays.items()
             if name.startswith("opt.")}
    unexpected = sorted(set(arrays) - {f"opt.{key}" for key in state})
    if unexpected:
        raise CheckpointError(f"{path}: unexpected array {unexpected[0]!r} for sizes {sizes}; "
                              f"the file is damaged or not a gradtrace model; {HINT}")
    if state and meta.training is None:
        raise CheckpointError(f"{path}: optimiser state without training settings; {HINT}")
    for key, value in state.items():
        _optimizer_array(path, key, value, shapes)
    _check_metadata(path, meta)
    return Checkpoint(spec, meta, params, state)


def _meta(path: str | Path, raw: NDArray[Any] | None) -> Meta:
    if raw is None or raw.shape != () or raw.dtype.kind != "U":
        raise CheckpointError(f"{path}: not a gradtrace model file (no meta text); {HINT}")
    try:
        data = json.loads(str(raw))
    except (ValueError, RecursionError):
        raise CheckpointError(f"{path}: meta is not valid JSON; {HINT}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: meta is a JSON {type(data).__name__}, expected an "
                              f"object; {HINT}")
    if data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a gradtrace model file (format "
                              f"{data.get('format')!r}); {HINT}")
    if data.get("version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: model format version {data.get('version')!r}, but this gradtrace reads "
            f"version {FORMAT_VERSION}; use the gradtrace that wrote it, or retrain")
    try:
        return Meta.model_validate(data)
    except ValidationError as error:
        raise CheckpointError(f"{path}: meta.{describe_validation_error(error)}; the file is "
                              f"damaged or not written by gradtrace") from None


def _weights(path: str | Path, array: NDArray[Any] | None, name: str, shape: tuple[int, ...],
             dtype: np.dtype[Any]) -> Array:
    if array is None:
        raise CheckpointError(f"{path}: array {name!r} is missing; {HINT}")
    if array.shape != shape:
        raise CheckpointError(f"{path}: {name} has shape {array.shape}; the architecture needs "
                              f"{shape}; the file is damaged")
    if array.dtype != dtype:
        raise CheckpointError(f"{path}: {name} is {array.dtype}, the model is {dtype}; only real "
                              "floating weights of the model's dtype are read")
    _finite(path, name, array)
    return array


def _optimizer_array(path: str | Path, key: str, value: NDArray[Any],
                     shapes: dict[str, tuple[int, ...]]) -> None:
    """opt.<state>.<parameter>: the parameter's shape (moments), or a scalar (a step count)."""
    parameter = key.rsplit(".", 1)[-1]
    if parameter not in shapes or value.dtype.kind not in "fiu" or (
            value.shape not in (shapes[parameter], ())):
        raise CheckpointError(f"{path}: optimiser state opt.{key} ({value.dtype}, shape "
                              f"{value.shape}) does not fit the network; the file is damaged")
    _finite(path, f"opt.{key}", value)


def _finite(path: str | Path, name: str, array: NDArray[Any]) -> None:
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise CheckpointError(f"{path}: {name} holds {bad} NaN or infinite value(s); the run "
                              "that wrote it diverged; retrain, or resume an earlier checkpoint")


def _check_metadata(path: str | Path, meta: Meta) -> None:
    """Feature names, standardisation and class names must fit the network's inputs/outputs."""
    n_in, n_out = meta.architecture.sizes[0], meta.architecture.sizes[-1]
    data = meta.metadata
    for name in ("feature_names", "mean", "std"):
        value = getattr(data, name)
        if value is not None and len(value) != n_in:
            raise CheckpointError(f"{path}: meta.metadata.{name} has {len(value)} entries; the "
                                  f"network takes {n_in} inputs; the file is damaged")
    classes = data.class_names
    if classes is not None and len(classes) != n_out and not (n_out == 1 and len(classes) == 2):
        raise CheckpointError(f"{path}: meta.metadata.class_names has {len(classes)} names; the "
                              f"network has {n_out} output(s); the file is damaged")
