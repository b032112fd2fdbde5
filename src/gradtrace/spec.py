"""Spec files: the one place user input about a network, its data and its training is checked.

A spec is TOML, JSON or YAML with the same fields (see README "Spec format"). ``load_spec`` reads a
file or a built-in example name; ``parse_spec`` validates a mapping (the web API uses it too);
``Spec.build_mlp`` and ``Spec.arrays`` turn a valid spec into engine objects.
"""

from __future__ import annotations

import itertools
import json
import math
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gradtrace.core.activations import ACTIVATIONS, get_activation
from gradtrace.core.init import INITIALISERS, init_weights
from gradtrace.core.losses import LOSSES, PROBABILITY_ACTIVATIONS, get_loss
from gradtrace.core.network import MLP, Layer
from gradtrace.core.optimizers import Optimizer, make_optimizer
from gradtrace.errors import SpecError, UnknownNameError, unknown_name

# Caps that keep a spec from asking for more memory than a laptop has (documented in the README).
MAX_UNITS = 100_000
MAX_LAYERS = 100
MAX_PARAMETERS = 50_000_000

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
    """One dense layer: explicit weights (n_out, n_in), optional bias, activation, trainable."""

    weights: Matrix
    bias: Vector | None = None
    activation: str = "sigmoid"
    slope: float | None = Field(default=None, description="leaky_relu's negative slope")
    trainable: bool = True

    @field_validator("activation")
    @classmethod
    def _known_activation(cls, value: str) -> str:
        return _check_name("activation", value, ACTIVATIONS)

    @field_validator("weights")
    @classmethod
    def _rectangular(cls, value: Matrix) -> Matrix:
        if not value or not value[0]:
            raise ValueError("weights must be a non-empty matrix [[...], ...] of shape (n_out, n_in)")
        widths = {len(row) for row in value}
        if len(widths) != 1:
            raise ValueError(
                f"weights rows have different lengths {sorted(widths)}; every row needs n_in entries"
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
            raise ValueError(f"{where} is {item!r}; expected a number")
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
            raise ValueError(f"{field}[{i}] is {row!r}; in a batch every sample is a list [...]")
        rows.append([check_number(item, f"{field}[{i}][{j}]") for j, item in enumerate(row)])
    return rows


class OptimizerSpec(_Strict):
    """The optimiser and its hyperparameters (learning_rate lives at the top level)."""

    name: Literal["sgd", "momentum", "adam"] = "sgd"
    momentum: float = Field(default=0.9, ge=0.0, lt=1.0)
    beta1: float = Field(default=0.9, ge=0.0, lt=1.0)
    beta2: float = Field(default=0.999, ge=0.0, lt=1.0)
    epsilon: float = Field(default=1e-8, gt=0.0)
    weight_decay: float = Field(default=0.0, ge=0.0)


class TrainingSpec(_Strict):
    """Settings for ``gradtrace train``."""

    epochs: int = Field(default=10, ge=1, le=1_000_000)
    batch_size: int = Field(default=32, ge=1)
    shuffle: bool = True
    dataset: str | None = None
    validation_split: float = Field(default=0.0, ge=0.0, lt=1.0)


class Spec(_Strict):
    """A network, its data and its hyperparameters."""

    name: str | None = None
    description: str | None = None
    loss: str = "half_sse"
    learning_rate: float = Field(default=0.1, gt=0.0)
    train_biases: bool = True
    dtype: Literal["float64", "float32"] = "float64"
    layers: list[LayerSpec] | None = None
    sizes: list[int] | None = None
    activations: str | list[str] | None = None
    init: str = "xavier"
    seed: int | None = 0
    data: DataSpec | None = None
    steps: int = Field(default=1, ge=1)
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
            self._check_chain(self.layers)
        activations = self.activation_names()
        if len(activations) != len(self.layer_sizes()) - 1:
            raise ValueError(
                f"activations lists {len(activations)} names for {len(self.layer_sizes()) - 1} layers"
            )
        self._check_loss_fits(activations[-1])
        if "softmax" in activations[:-1]:
            layer = activations.index("softmax")
            where = f"layers[{layer}].activation" if self.layers is not None else "activations"
            raise ValueError(
                f"{where}: softmax is only supported on the output layer (layer {len(activations)}), "
                f"found on layer {layer + 1}; use relu, tanh or sigmoid there"
            )
        if self.data is not None:
            self._check_data(self.data)
            self._check_targets_fit(self.data)
        return self

    @staticmethod
    def _check_chain(layers: list[LayerSpec]) -> None:
        for l, layer in enumerate(layers, start=1):
            n_out, n_in = len(layer.weights), len(layer.weights[0])
            if l > 1:
                expected = len(layers[l - 2].weights)
                if n_in != expected:
                    raise ValueError(
                        f"layers[{l - 1}].weights has shape ({n_out}, {n_in}) but layer {l - 1} "
                        f"has {expected} outputs; expected shape ({n_out}, {expected})"
                    )
            if layer.bias is not None and len(layer.bias) != n_out:
                raise ValueError(
                    f"layers[{l - 1}].bias has {len(layer.bias)} entries; layer {l} has "
                    f"{n_out} outputs, so expected {n_out}"
                )

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
        return [len(self.layers[0].weights[0])] + [len(layer.weights) for layer in self.layers]

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
            layers = [
                Layer(
                    np.array(ls.weights, dtype=dtype),
                    np.array(ls.bias if ls.bias is not None else [0.0] * len(ls.weights), dtype=dtype),
                    _activation(ls.activation, ls.slope),
                    ls.trainable,
                )
                for ls in self.layers
            ]
        else:
            params = init_weights(self.layer_sizes(), self.init, self.seed, dtype)
            layers = [
                Layer(W, b, _activation(name, None))
                for (W, b), name in zip(params, self.activation_names(), strict=True)
            ]
        return MLP(layers, get_loss(self.loss), self.train_biases)

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


def _activation(name: str, slope: float | None) -> Any:
    return get_activation(name, slope=slope) if name == "leaky_relu" and slope is not None else (
        get_activation(name)
    )


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


def parse_text(text: str, fmt: str, source: str) -> dict[str, Any]:
    """Parse TOML, JSON or YAML text into a mapping, with the line of a syntax error."""
    try:
        if fmt == "toml":
            data: object = tomllib.loads(text)
        elif fmt == "json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"malformed TOML: {error}; check the syntax there", source=source) from None
    except json.JSONDecodeError as error:
        raise SpecError(
            f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}", source=source
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise SpecError(f"malformed YAML{where}: {problem}", source=source) from None
    if not isinstance(data, dict):
        raise SpecError(f"expected a table of fields at the top, found {type(data).__name__}",
                        source=source)
    return data


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
                f"unknown spec file type {path.suffix!r}; use .toml, .json, .yaml or .yml",
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
        f" (found {_short(found)})"
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
    return f"{field_path(loc)}: " + unknown_name("field", str(loc[-1]), model.model_fields)


def _is_model(candidate: object) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {"float", "list[float]", "list[list[float]]", "int", "str", "list[str]"}:
            continue  # pydantic's union branch names are noise to a reader
        else:
            path += f".{part}" if path else str(part)
    return path


def _short(value: object) -> str:
    text = repr(value)
    if isinstance(value, float) and not math.isfinite(value):
        return text
    return text if len(text) <= 60 else text[:57] + "..."
