"""Spec files: the one place user input about a network, its data and its training is checked.

A spec is TOML, JSON or YAML with the same fields (see README "Spec format"). ``load_spec`` reads a
file or a built-in example name; ``parse_spec`` validates a mapping (the web API uses it too);
``Spec.build_mlp`` and ``Spec.arrays`` turn a valid spec into engine objects.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
import sys
import tomllib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gradtrace.core.activations import ACTIVATIONS, get_activation
from gradtrace.core.init import INITIALISERS, init_weights
from gradtrace.core.losses import LOSSES, PROBABILITY_ACTIVATIONS, get_loss
from gradtrace.core.network import MLP, Layer
from gradtrace.core.optimizers import OPTIMIZERS, Optimizer, make_optimizer
from gradtrace.errors import ECHO_LIMIT, SpecError, UnknownNameError, shorten, unknown_name

# Caps that keep a spec from asking for more memory than a laptop has (documented in the README).
MAX_UNITS = 100_000
MAX_LAYERS = 100
MAX_PARAMETERS = 50_000_000
MAX_SEED = 2**64 - 1  # numpy's generators take any non-negative integer; 64 bits is plenty
MAX_SAMPLES = 1_000_000  # points of a generated dataset (2 floats each: 16 MB)
MAX_NOISE = 100.0
FLOAT32_MAX = float(np.finfo(np.float32).max)
MAX_ROUND_DECIMALS = 15  # float64 holds about 15-17 significant digits: more would be noise

Number = float
Vector = list[Number]
Matrix = list[list[Number]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


def _check_name(kind: str, name: str, table: Mapping[str, object]) -> str:
    if name not in table:
        raise ValueError(unknown_name(kind, name, table))
    return name


class LayerSpec(_Strict):
    """One dense layer: explicit weights ((n_out, n_in), or (n_in, n_out) with
    ``weights_layout = "in_out"``), optional bias, activation, trainable.

    A field named after a parameter the activation's registry entry declares sets it (``slope =
    0.1`` for leaky_relu, ``alpha = 0.5`` for elu), within the entry's ranges; they are gathered
    in ``params``, which may also be given as a table (``params = {alpha = 0.5}``).
    """

    weights: Matrix
    bias: Vector | None = None
    activation: str = "sigmoid"
    slope: float | None = Field(default=None, description="leaky_relu's negative slope")
    # strict: true is no number here (pydantic would read it as 1.0)
    params: dict[str, StrictInt | StrictFloat] = Field(default_factory=dict,
                                                       description="the activation's parameters")
    trainable: bool = True

    @model_validator(mode="before")
    @classmethod
    def _gather_params(cls, data: Any) -> Any:
        """Move the fields the activation declares as parameters into ``params``; any other
        unknown field stays, for the usual "unknown field" error with its closest name."""
        name = data.get("activation", "sigmoid") if isinstance(data, dict) else None
        entry = ACTIVATIONS.get(name) if isinstance(name, str) else None  # else: the field's error
        if entry is None:
            return data
        declared = [key for key in data if key in entry.params and key not in cls.model_fields]
        if not declared:
            return data
        given = data.get("params")
        params = {**given} if isinstance(given, dict) else {}
        rest = {key: value for key, value in data.items() if key not in declared}
        return {**rest, "params": {**params, **{key: data[key] for key in declared}}}

    def activation_params(self) -> dict[str, float]:
        """The activation's parameters this layer sets (the others keep the entry's defaults)."""
        params = {key: float(value) for key, value in self.params.items()}
        return params | ({"slope": self.slope} if self.slope is not None else {})

    @model_validator(mode="after")
    def _activation_params(self) -> LayerSpec:
        entry = ACTIVATIONS[self.activation]
        takes = f"activation {self.activation} takes {', '.join(entry.params) or 'no parameters'}"
        for key, value in self.activation_params().items():
            if key not in entry.params:
                raise ValueError(f"{key} is not a parameter here: {takes}")
            low, high = entry.param_ranges.get(key, (-math.inf, math.inf))
            if not low <= value <= high:
                raise ValueError(f"{key} = {value:g} is outside {self.activation}'s range "
                                 f"[{low:g}, {high:g}]")
        return self

    @field_validator("activation")
    @classmethod
    def _known_activation(cls, value: str) -> str:
        return _check_name("activation", value, ACTIVATIONS)

    @field_validator("weights")
    @classmethod
    def _rectangular(cls, value: Matrix) -> Matrix:
        if not value or not value[0]:
            raise ValueError("weights must be a non-empty matrix [[...], ...]: one row per output "
                             "(or per input with weights_layout = \"in_out\")")
        widths = {len(row) for row in value}
        if len(widths) != 1:
            raise ValueError(
                f"weights rows have different lengths {sorted(widths)}; every row needs the same "
                "number of entries"
            )
        return value


class DataSpec(_Strict):
    """Inputs and targets. One sample is a flat list; a batch is a list of rows."""

    input: Any
    target: Any

    @field_validator("input", "target")
    @classmethod
    def _numeric_table(cls, value: Any, info: ValidationInfo) -> Number | Vector | Matrix:
        return check_table(value, f"data.{info.field_name}")


def check_table(value: Any, field: str) -> Number | Vector | Matrix:
    """A number, a list of numbers or a list of rows of numbers, every one finite."""

    def check_number(item: Any, where: str) -> float:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise ValueError(f"{where} is {shorten(item)}; expected a number")
        if not math.isfinite(item):
            raise ValueError(f"{where} is {item}; every value must be a finite number")
        return float(item)

    if not isinstance(value, list):
        return check_number(value, field)
    if not value:
        raise ValueError(f"{field} is empty; give one sample [x1, x2, ...] or rows [[...], ...]")
    if not any(isinstance(item, list) for item in value):
        return [check_number(item, f"{field}[{i}]") for i, item in enumerate(value)]
    rows: Matrix = []
    for i, row in enumerate(value):
        if not isinstance(row, list):
            raise ValueError(f"{field}[{i}] is {shorten(row)}; in a batch every sample is a list [...]")
        rows.append([check_number(item, f"{field}[{i}][{j}]") for j, item in enumerate(row)])
    return rows


class OptimizerSpec(_Strict):
    """The optimiser and its hyperparameters (learning_rate lives at the top level)."""

    name: str = "sgd"
    momentum: float = Field(default=0.9, ge=0.0, lt=1.0)
    beta1: float = Field(default=0.9, ge=0.0, lt=1.0)
    beta2: float = Field(default=0.999, ge=0.0, lt=1.0)
    epsilon: float = Field(default=1e-8, gt=0.0)
    weight_decay: float = Field(default=0.0, ge=0.0)

    @field_validator("name")
    @classmethod
    def _known_optimizer(cls, value: str) -> str:
        return _check_name("optimizer", value, OPTIMIZERS)


class TrainingSpec(_Strict):
    """Settings for ``gradtrace train``."""

    epochs: int = Field(default=10, ge=1, le=1_000_000)
    batch_size: int = Field(default=32, ge=1)
    shuffle: bool = True
    dataset: str | None = None
    validation_split: float = Field(default=0.0, ge=0.0, lt=1.0)
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="shuffling and generated data")
    samples: int = Field(default=400, ge=1, le=MAX_SAMPLES, description="generated data points")
    noise: float | None = Field(default=None, ge=0.0, le=MAX_NOISE,
                                description="noise of generated data (None: the dataset's own)")


class Spec(_Strict):
    """A network, its data and its hyperparameters."""

    name: str | None = None
    description: str | None = None
    loss: str = "half_sse"
    batch_reduction: Literal["mean", "sum"] = "mean"
    weights_layout: Literal["out_in", "in_out"] = "out_in"
    delta_convention: Literal["gradient", "error"] = "gradient"
    learning_rate: float = Field(default=0.1, gt=0.0)
    train_biases: bool = True
    dtype: Literal["float64", "float32"] = "float64"
    layers: list[LayerSpec] | None = None
    sizes: list[int] | None = None
    activations: str | list[str] | None = None
    init: str = "xavier"
    seed: int | None = Field(default=0, ge=0, le=MAX_SEED)
    data: DataSpec | None = None
    steps: int = Field(default=1, ge=1)
    round: int | None = Field(
        default=None, ge=0, le=MAX_ROUND_DECIMALS,
        description="hand arithmetic: round every quantity to this many decimals before its next use",
    )
    optimizer: OptimizerSpec = OptimizerSpec()
    training: TrainingSpec = TrainingSpec()
    _source: str = PrivateAttr(default="spec")

    @property
    def source(self) -> str:
        """Where the spec came from (a file path or "example NAME"), for error messages."""
        return self._source

    def __eq__(self, other: object) -> bool:
        """Specs with the same fields are equal, wherever they were read from."""
        return isinstance(other, Spec) and self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # equal specs need not hash alike: unhashable

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, value: str) -> str:
        return _check_name("loss", value, LOSSES)

    @field_validator("init")
    @classmethod
    def _known_init(cls, value: str) -> str:
        return _check_name("init", value, INITIALISERS)

    @field_validator("activations")
    @classmethod
    def _known_activations(cls, value: str | list[str] | None) -> str | list[str] | None:
        for name in [value] if isinstance(value, str) else value or []:
            _check_name("activation", name, ACTIVATIONS)
        return value

    @model_validator(mode="before")
    @classmethod
    def _plain_data(cls, data: Any) -> Any:
        check_plain_data(data)  # the web API validates request JSON here, without parse_text
        return data

    @field_validator("layers")
    @classmethod
    def _some_layers(cls, value: list[LayerSpec] | None) -> list[LayerSpec] | None:
        if value is not None and not value:
            raise ValueError("layers is empty; give at least one [[layers]] table with weights")
        if value is not None and len(value) > MAX_LAYERS:
            raise ValueError(f"{len(value)} layers is over the cap of {MAX_LAYERS}")
        return value

    @field_validator("sizes")
    @classmethod
    def _positive_sizes(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return value
        if len(value) < 2:
            raise ValueError(f"sizes needs at least an input and an output size, found {value}")
        if len(value) - 1 > MAX_LAYERS:
            raise ValueError(f"{len(value) - 1} layers is over the cap of {MAX_LAYERS}")
        for i, n in enumerate(value):
            if n <= 0:
                raise ValueError(f"sizes[{i}] is {n}; every layer size must be a positive integer")
            if n > MAX_UNITS:
                raise ValueError(f"sizes[{i}] is {n}, over the cap of {MAX_UNITS} units a layer")
        parameters = sum(a * b + b for a, b in itertools.pairwise(value))
        if parameters > MAX_PARAMETERS:
            raise ValueError(
                f"sizes {value} need {parameters:,} parameters, over the cap of {MAX_PARAMETERS:,}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Spec:
        if (self.layers is None) == (self.sizes is None):
            raise ValueError("give either 'layers' (explicit weights) or 'sizes' (with init, seed)")
        if self.layers is not None:
            self._check_chain(self.layers, self.weights_layout)
        activations = self.activation_names()
        if len(activations) != len(self.layer_sizes()) - 1:
            raise ValueError(
                f"activations lists {len(activations)} names for {len(self.layer_sizes()) - 1} layers"
            )
        self._check_loss_fits(activations[-1])
        # an activation that is not elementwise (softmax) has no σ'(z) to multiply a hidden δ by
        mixing = [k for k, name in enumerate(activations[:-1]) if not ACTIVATIONS[name].elementwise]
        if mixing:
            layer, name = mixing[0], activations[mixing[0]]
            where = f"layers[{layer}].activation" if self.layers is not None else "activations"
            raise ValueError(
                f"{where}: {name} is only supported on the output layer (layer {len(activations)}), "
                f"found on layer {layer + 1}; use relu, tanh or sigmoid there"
            )
        if self.data is not None:
            self._check_data(self.data)
            self._check_targets_fit(self.data)
        if self.dtype == "float32":
            self._check_float32_range()
        return self

    def _check_float32_range(self) -> None:
        """Every given number must fit float32 (|x| ≤ 3.4e38), or it would silently become inf."""
        tables: list[tuple[str, Any]] = []
        for l, layer in enumerate(self.layers or []):
            tables += [(f"layers[{l}].weights", layer.weights), (f"layers[{l}].bias", layer.bias)]
        if self.data is not None:
            tables += [("data.input", self.data.input), ("data.target", self.data.target)]
        for where, table in tables:
            if table is None:
                continue
            values = np.abs(np.asarray(table, dtype=np.float64))
            if values.size and values.max() > FLOAT32_MAX:
                index = np.unravel_index(int(np.argmax(values)), values.shape)
                position = "".join(f"[{i}]" for i in index)
                raise ValueError(
                    f"{where}{position} is {np.asarray(table, dtype=np.float64)[index]:.6g}, beyond "
                    f"float32's range (±{FLOAT32_MAX:.3g}); use dtype = \"float64\" or scale it down"
                )

    @staticmethod
    def _check_chain(layers: list[LayerSpec], layout: str) -> None:
        problem = _chain_problem(layers, layout)
        if problem is None:
            return
        other = "in_out" if layout == "out_in" else "out_in"
        if _chain_problem(layers, other) is None:
            problem += f"; did you mean weights_layout = \"{other}\"?"
        raise ValueError(problem)

    def _check_loss_fits(self, output_activation: str) -> None:
        if get_loss(self.loss).needs_probabilities and not ACTIVATIONS[output_activation].probabilities:
            raise ValueError(
                f"loss {self.loss!r} needs probabilities from the output layer, but its activation "
                f"is {output_activation!r}; use {' or '.join(PROBABILITY_ACTIVATIONS)}"
            )

    def _check_targets_fit(self, data: DataSpec) -> None:
        """The loss's own rule for targets (cross-entropy rows sum to 1, BCE in [0, 1])."""
        problem = get_loss(self.loss).target_problem(np.asarray(data.target, np.float64), "data.target")
        if problem is not None:
            raise ValueError(problem)

    def _check_data(self, data: DataSpec) -> None:
        sizes = self.layer_sizes()
        X, Y = as_rows(data.input, "data.input"), as_rows(data.target, "data.target")
        if X.shape[1] != sizes[0]:
            raise ValueError(
                f"data.input has {X.shape[1]} values a sample; the network takes {sizes[0]} inputs"
            )
        if Y.shape[1] != sizes[-1]:
            raise ValueError(
                f"data.target has {Y.shape[1]} values a sample; the network has {sizes[-1]} outputs"
            )
        if X.shape[0] != Y.shape[0]:
            raise ValueError(f"data.input has {X.shape[0]} samples but data.target has {Y.shape[0]}")

    def layer_sizes(self) -> list[int]:
        """[n_0, n_1, ..., n_L]."""
        if self.sizes is not None:
            return list(self.sizes)
        assert self.layers is not None
        shapes = [_shape(layer.weights, self.weights_layout) for layer in self.layers]
        return [shapes[0][1]] + [n_out for n_out, _ in shapes]

    def activation_names(self) -> list[str]:
        """One activation name per layer."""
        if self.layers is not None:
            return [layer.activation for layer in self.layers]
        n_layers = len(self.layer_sizes()) - 1
        if self.activations is None:
            return ["sigmoid"] * n_layers
        if isinstance(self.activations, str):
            return [self.activations] * n_layers
        return list(self.activations)

    def build_mlp(self) -> MLP:
        """The engine's network for this spec, in the spec's dtype."""
        dtype = np.dtype(self.dtype)
        if self.layers is not None:
            layers = []
            for ls in self.layers:
                W = np.array(ls.weights, dtype=dtype)
                W = np.ascontiguousarray(W.T) if self.weights_layout == "in_out" else W  # (n_out, n_in)
                bias = ls.bias if ls.bias is not None else [0.0] * W.shape[0]
                layers.append(Layer(W, np.array(bias, dtype=dtype),
                                    get_activation(ls.activation, **ls.activation_params()),
                                    ls.trainable))
        else:
            params = init_weights(self.layer_sizes(), self.init, self.seed, dtype)
            layers = [
                Layer(W, b, get_activation(name))
                for (W, b), name in zip(params, self.activation_names(), strict=True)
            ]
        return MLP(layers, get_loss(self.loss), self.train_biases, self.batch_reduction)

    def with_options(self, options: Mapping[str, tuple[str, object]]) -> Spec:
        """This spec with command-line options set on its fields, validated by the same model.

        ``options`` maps a field path ("training.epochs") to (option name, value); a value of
        None means the option was not given. A refused value raises a SpecError that names the
        option and the field it sets: "--lr: Input should be greater than 0 (sets learning_rate)".
        """
        given = {path: pair for path, pair in options.items() if pair[1] is not None}
        data = self.model_dump(exclude_unset=True)
        for path, (_, value) in given.items():
            *tables, last = path.split(".")
            table = data
            for name in tables:
                table = table.setdefault(name, {})
            table[last] = value
        try:
            spec = Spec.model_validate(data)
        except ValidationError as error:
            field = field_path(error.errors()[0]["loc"])
            message = describe_validation_error(error)
            if field in given:
                option = given[field][0]
                raise SpecError(f"{message.removeprefix(f'{field}: ')} (sets {field})",
                                field=option) from None
            raise SpecError(message, source=self.source) from None
        spec._source = self.source
        return spec

    def build_optimizer(self) -> Optimizer:
        """The spec's optimiser with its learning rate and hyperparameters."""
        settings = self.optimizer.model_dump(exclude={"name"})
        return make_optimizer(self.optimizer.name, self.learning_rate, **settings)

    def arrays(self) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
        """(X, Y) as rows of samples; raises SpecError when the spec has no data."""
        if self.data is None:
            raise SpecError("this spec has no [data] table; add data.input and data.target",
                            source=self.source)
        dtype = np.dtype(self.dtype)
        return (
            as_rows(self.data.input, "data.input").astype(dtype),
            as_rows(self.data.target, "data.target").astype(dtype),
        )


def _shape(weights: Matrix, layout: str) -> tuple[int, int]:
    """(n_out, n_in) of weights written in ``layout``: rows are outputs ("out_in") or inputs."""
    rows, columns = len(weights), len(weights[0])
    return (rows, columns) if layout == "out_in" else (columns, rows)


def _chain_problem(layers: list[LayerSpec], layout: str) -> str | None:
    """Why the layers' weights (and biases) do not chain when read in ``layout``, or None."""
    written = "(n_out, n_in)" if layout == "out_in" else "(n_in, n_out)"
    for l, layer in enumerate(layers, start=1):
        n_out, n_in = _shape(layer.weights, layout)
        shape = (n_out, n_in) if layout == "out_in" else (n_in, n_out)
        if l > 1:
            expected = _shape(layers[l - 2].weights, layout)[0]
            if n_in != expected:
                want = (n_out, expected) if layout == "out_in" else (expected, n_out)
                return (f"layers[{l - 1}].weights has shape {shape} but layer {l - 1} has {expected} "
                        f"outputs; expected shape {want}, written {written}")
        if layer.bias is not None and len(layer.bias) != n_out:
            return (f"layers[{l - 1}].bias has {len(layer.bias)} entries; layer {l} has {n_out} "
                    f"outputs, so expected {n_out}")
    return None


# Which commands read a field. A field a spec sets that its command does not read gets one warning
# line on stderr (``unread_fields``): no spec field is ever silently ignored. Fields not listed
# here (the network, its loss and data) are read by every command that takes a spec.
FIELD_READERS: dict[str, tuple[str, ...]] = {
    "steps": ("step", "draw"),
    "learning_rate": ("step", "draw", "train"),
    "optimizer": ("step", "draw", "train"),
    "batch_reduction": ("step", "check", "draw"),  # train's fast trainer takes the batch mean
    "delta_convention": ("step", "draw"),
    "training.batch_size": ("step", "draw", "train"),
    "training.shuffle": ("train",),  # step takes its batches in order: shuffle = false
    "training.epochs": ("train",),
    "training.dataset": ("train",),
    "training.validation_split": ("train",),
    "training.seed": ("train",),
    "training.samples": ("train",),
    "training.noise": ("train",),
}


def unread_fields(spec: Spec, command: str) -> str | None:
    """One warning line naming the fields the spec sets that ``command`` does not read
    (FIELD_READERS), or None. One line, so a spec written for several commands (a built-in
    example with a [training] table for train) says it once."""
    given = set(spec.model_fields_set) | {f"training.{name}" for name in spec.training.model_fields_set}
    unread: list[str] = []
    readers: set[str] = set()
    for field, read_by in FIELD_READERS.items():
        if field not in given or command in read_by:
            continue
        if field == "training.shuffle" and command == "step" and not spec.training.shuffle:
            continue  # shuffle = false is what step does
        if field == "batch_reduction" and spec.batch_reduction == "mean":
            continue  # the mean is what every command does
        unread.append(field)
        readers.update(read_by)
    if not unread:
        return None
    shuffle = ("; step takes each batch in order (shuffle = false)"
               if "training.shuffle" in unread and command == "step" else "")
    commands = ", ".join(f"`gradtrace {name}`" for name in sorted(readers))
    return (f"warning: {spec.source}: `gradtrace {command}` does not use {', '.join(unread)}"
            f"{shuffle} (they are for {commands})")


def as_rows(value: Number | Vector | Matrix, field: str) -> NDArray[np.float64]:
    """A number -> (1, 1); a flat list -> one sample (1, n); a list of rows -> (m, n)."""
    if isinstance(value, int | float):
        return np.array([[value]], dtype=np.float64)
    if not value:
        raise ValueError(f"{field} is empty")
    if all(isinstance(v, int | float) for v in value):
        return np.array([value], dtype=np.float64)
    rows = [list(v) if isinstance(v, list) else [v] for v in value]
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise ValueError(f"{field} rows have different lengths {sorted(widths)}; make them equal")
    return np.array(rows, dtype=np.float64)


# ---- reading files ---------------------------------------------------------------------------

EXAMPLES_PACKAGE = "gradtrace.examples"


def example_names() -> list[str]:
    """Names of the built-in examples (``gradtrace examples``)."""
    root = resources.files(EXAMPLES_PACKAGE)
    return sorted(p.name.removesuffix(".toml") for p in root.iterdir() if p.name.endswith(".toml"))


def example_text(name: str) -> str:
    """The TOML source of a built-in example."""
    if name not in example_names():
        raise UnknownNameError(unknown_name("example", name, example_names()))
    return resources.files(EXAMPLES_PACKAGE).joinpath(f"{name}.toml").read_text(encoding="utf-8")


# Limits on spec text, applied while reading it (README "Limits"): a spec is a page of numbers,
# so these only stop input built to exhaust memory or the stack.
MAX_SPEC_CHARACTERS = 20_000_000
MAX_NESTING = 64
MAX_VALUES = 2_000_000


@functools.cache
def _no_alias_loader() -> type[Any]:
    """The YAML loader class, built on first use: only YAML specs pay for importing PyYAML
    (``gradtrace step`` starts faster without it; README "Start-up")."""
    import yaml

    class _NoAliasLoader(yaml.SafeLoader):
        """PyYAML's safe loader without anchors and aliases, with a nesting and node cap.

        An alias re-uses a node, so nine nested levels of ``[*a, *a, ...]`` expand 328 bytes into
        billions of values ("billion laughs"); specs never need them, so they are refused outright.
        """

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0
            self._nodes = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML ships no hints here
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                symbol = "*" if isinstance(event, yaml.AliasEvent) else "&"
                raise _YAMLRefusedError(
                    f"YAML anchors and aliases ({symbol}{shorten(event.anchor)[1:-1]}) are not "
                    "supported in a spec; write the values out", event.start_mark,
                )
            self._nodes += 1
            if self._nodes > MAX_VALUES:
                raise _YAMLRefusedError(f"more than {MAX_VALUES:,} values; a spec is capped there",
                                        event.start_mark)
            self._depth += 1
            if self._depth > MAX_NESTING:
                raise _YAMLRefusedError(f"nested more than {MAX_NESTING} levels deep; a spec "
                                        "needs at most a few", event.start_mark)
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return _NoAliasLoader


class _YAMLRefusedError(Exception):
    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.mark = mark


@functools.cache
def _decimal_loader() -> type[Any]:
    """The same loader, reading floats as Decimal with their digits as written (0.5780 stays 4
    places); built on first use, as _no_alias_loader is."""
    base = _no_alias_loader()

    class _DecimalLoader(base):  # type: ignore[valid-type,misc]  # a class made at run time
        def construct_yaml_float(self, node: Any) -> Any:
            text = str(self.construct_scalar(node)).replace("_", "")
            special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
            try:
                return Decimal(special.get(text.lower(), text))
            except InvalidOperation:  # YAML 1.1's base-60 floats (1:30.5): PyYAML's own reading
                return super().construct_yaml_float(node)

    _DecimalLoader.add_constructor("tag:yaml.org,2002:float", _DecimalLoader.construct_yaml_float)
    return _DecimalLoader


def _load_yaml(text: str, source: str, decimal: bool = False) -> object:
    """YAML text as Python values through ``_no_alias_loader`` (a SafeLoader: no arbitrary objects)."""
    import yaml

    try:
        return yaml.load(text, Loader=_decimal_loader() if decimal else _no_alias_loader())
    except _YAMLRefusedError as error:
        where = f"line {error.mark.line + 1}, column {error.mark.column + 1}"
        raise SpecError(f"YAML at {where}: {error}", source=source) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise SpecError(f"malformed YAML{where}: {shorten(problem, 120)[1:-1]}",
                        source=source) from None


def parse_text(text: str, fmt: str, source: str, *, decimal: bool = False) -> dict[str, Any]:
    """Parse TOML, JSON or YAML text into a mapping, with the line of a syntax error.

    Within the limits above: at most MAX_SPEC_CHARACTERS characters, MAX_NESTING levels and
    MAX_VALUES values, no YAML aliases, no integer of more than 4,300 digits (Python's own cap).
    ``decimal``: floats become ``Decimal`` with the digits as written (graded answers need them).
    """
    if len(text) > MAX_SPEC_CHARACTERS:
        raise SpecError(f"the spec has {len(text):,} characters; specs are capped at "
                        f"{MAX_SPEC_CHARACTERS:,}", source=source)
    try:
        parse_float: Any = Decimal if decimal else float
        if fmt == "toml":
            data: object = tomllib.loads(text, parse_float=parse_float)
        elif fmt == "json":
            data = json.loads(text, parse_float=parse_float)
        else:
            data = _load_yaml(text, source, decimal)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"malformed TOML: {error}; check the syntax there", source=source) from None
    except json.JSONDecodeError as error:
        raise SpecError(
            f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}", source=source
        ) from None
    except RecursionError:
        raise SpecError(f"nested too deeply to read; a spec may nest at most {MAX_NESTING} levels",
                        source=source) from None
    except ValueError:  # Python refuses to convert integers of more than 4,300 digits
        raise SpecError("an integer with more than 4,300 digits; no spec value needs that many",
                        source=source) from None
    if not isinstance(data, dict):
        raise SpecError(f"expected a table of fields at the top, found {type(data).__name__}",
                        source=source)
    try:
        check_plain_data(data)
    except ValueError as error:
        raise SpecError(str(error), source=source) from None
    return data


def check_plain_data(data: object) -> None:
    """Refuse what no spec needs and later code cannot handle, walking without recursion.

    Nesting beyond MAX_NESTING, more than MAX_VALUES values, integers beyond the float range
    (|n| > 1.8e308: they cannot become a number) and strings that are not valid Unicode (lone
    surrogates: they cannot be printed or saved as UTF-8). Raises ValueError naming the field.
    """
    pending: list[tuple[object, tuple[int | str, ...]]] = [(data, ())]
    seen = 0
    while pending:
        value, loc = pending.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise ValueError(f"more than {MAX_VALUES:,} values; a spec is capped there")
        if len(loc) > MAX_NESTING:
            raise ValueError(f"{field_path(loc[:3])}…: nested more than {MAX_NESTING} "
                             "levels deep; a spec needs at most a few")
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str):
                    _check_unicode(key, loc, "field name ")
                pending.append((item, (*loc, key if isinstance(key, str | int) else str(key))))
        elif isinstance(value, list | tuple):
            pending.extend((item, (*loc, i)) for i, item in enumerate(value))
        elif isinstance(value, str):
            _check_unicode(value, loc, "")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _FLOAT_MAX:
            raise ValueError(f"{field_path(loc) or 'a value'}: an integer of "
                             f"{len(str(abs(value))):,} digits, beyond the largest number "
                             f"({_FLOAT_MAX:.3g}); give a smaller value")


_FLOAT_MAX = sys.float_info.max


def _check_unicode(text: str, loc: tuple[int | str, ...], what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        where = field_path(loc) or "the spec"
        raise ValueError(
            f"{where}: {what}{shorten(text)} has a lone surrogate (U+{ord(text[error.start]):04X} "
            f"at position {error.start}), which is not valid Unicode; use plain UTF-8 text"
        ) from None


FORMATS = {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def load_spec(name_or_path: str | Path | None = None) -> Spec:
    """A spec from a file path, a built-in example name, or (None) the seed example."""
    if name_or_path is None:
        name_or_path = "seed"
    path = Path(name_or_path)
    if path.is_file():
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise SpecError(
                f"unknown spec file type {shorten(path.suffix)}; use .toml, .json, .yaml or .yml",
                source=str(path),
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SpecError(f"cannot read the file: {error}", source=str(path)) from None
        return parse_spec(parse_text(text, fmt, str(path)), source=str(path))
    if str(name_or_path) in example_names():
        name = str(name_or_path)
        return parse_spec(parse_text(example_text(name), "toml", name), source=f"example {name}")
    if path.suffix or "/" in str(name_or_path):
        raise SpecError(
            "no such file; give the path of a .toml/.json/.yaml spec or a built-in example name "
            f"({', '.join(example_names())})",
            source=str(path),
        )
    raise UnknownNameError(unknown_name("example or spec file", str(name_or_path), example_names()))


def parse_spec(data: Mapping[str, Any], source: str = "spec") -> Spec:
    """Validate a mapping; the first problem becomes one SpecError naming the field."""
    try:
        spec = Spec.model_validate(data)
    except ValidationError as error:
        raise SpecError(describe_validation_error(error), source=source) from None
    spec._source = source
    return spec


def describe_validation_error(error: ValidationError) -> str:
    """One line: the field path, what was wrong, and what was found."""
    first = error.errors()[0]
    field = field_path(first["loc"])
    if first["type"] == "extra_forbidden":
        return _unknown_field(first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if field and message.startswith(field):  # our own messages already name the field
        field = ""
    found = first.get("input")
    shown = "" if first["type"] == "value_error" or isinstance(found, dict) else (
        f" (found {shorten(found)})"
    )
    more = f" [+{error.error_count() - 1} more]" if error.error_count() > 1 else ""
    return f"{field}: {message}{shown}{more}" if field else f"{message}{shown}{more}"


def _unknown_field(loc: tuple[int | str, ...]) -> str:
    """An unknown field, with the closest valid name of the table it is in."""
    model: type[BaseModel] = Spec
    for part in loc[:-1]:
        annotation = model.model_fields[str(part)].annotation if isinstance(part, str) else None
        nested = [t for t in (annotation, *getattr(annotation, "__args__", ())) if _is_model(t)]
        if isinstance(part, str) and nested:
            model = nested[0]
        elif isinstance(part, str):
            inner = getattr(annotation, "__args__", ())
            lists = [a for t in inner for a in getattr(t, "__args__", ()) if _is_model(a)]
            model = lists[0] if lists else model
    # a long unknown name is echoed once, in unknown_name's message, not also in the path
    where = field_path(loc if len(str(loc[-1])) <= ECHO_LIMIT else loc[:-1])
    if len(str(loc[-1])) > 2 * ECHO_LIMIT and len(model.model_fields) > _LISTED_FIELDS:
        # no field name is that long, so it is no typo: the line stays short, the README lists them
        message = (f"unknown field {shorten(loc[-1])}; no field is that long, see README "
                   f"\"Spec format\" for the {len(model.model_fields)} fields")
    else:
        message = unknown_name("field", str(loc[-1]), model.model_fields)
    return f"{where}: {message}" if where else message


_LISTED_FIELDS = 12  # more than this and a line listing them all is too long beside a long name


def _is_model(candidate: object) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


# A field path at the start of one of our own messages: "data.input[0] is ...", "layers[1].bias: ..."
_LEADING_FIELD = re.compile(r"^([a-z_]+(?:\.[a-z_]+|\[\d+\])*)(?=[ :])")


def error_field(error: ValidationError) -> str:
    """The field path of a validation error's first entry.

    Checks that span several fields run on the whole model (pydantic gives them no location); their
    messages name the field first, by the convention every check here keeps, so it is read from there.
    """
    first = error.errors()[0]
    field = field_path(first["loc"])
    if field or first["type"] != "value_error":
        return field
    match = _LEADING_FIELD.match(str(first["msg"]).removeprefix("Value error, "))
    return match.group(1) if match and match.group(1).split(".")[0].split("[")[0] in Spec.model_fields \
        else ""


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {"float", "list[float]", "list[list[float]]", "int", "str", "list[str]"}:
            continue  # pydantic's union branch names are noise to a reader
        else:
            name = part if len(part) <= ECHO_LIMIT else shorten(part)  # a 200 KB key stays short
            path += f".{name}" if path else name
    return path


