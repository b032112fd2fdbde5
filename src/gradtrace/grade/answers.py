"""A learner's answers file: which spec, which conventions, and every number as written.

Numbers keep their written digits (``Decimal``): 0.5780 is four decimals, and its precision is
what the answer is judged at. Keys are the trace's quantity keys, optionally with a 1-based entry
index as printed ("W1_new[1,2]"); step 1 sits directly under [answers], later steps under
[answers.step2], ... Only the file's shape is checked here; keys and shapes are checked against
the trace (grade/judge.py), where the valid names are known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

from gradtrace.errors import SpecError, closest, shorten, unknown_name
from gradtrace.spec import FORMATS, Spec, load_spec, parse_spec, parse_text

# Conventions an answers file may set for the learner, overriding the spec's (README "Check your
# hand work"); each is a spec field, validated by the spec itself.
CONVENTIONS = ("batch_reduction", "weights_layout", "delta_convention", "round")
TOP_LEVEL = ("spec", "answers", *CONVENTIONS)
LAYOUTS: tuple[str, ...] = get_args(Spec.model_fields["weights_layout"].annotation)
MAX_STEPS = 100  # the trace's own cap on steps

_STEP = re.compile(r"^step(\d+)$")
_INDEXED = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)\[(?P<index>\s*\d+\s*(?:,\s*\d+\s*)*)\]$")


@dataclass(frozen=True)
class Answer:
    """One answer: a whole quantity (``index`` None) or one entry of it (1-based, as printed)."""

    key: str
    step: int  # from 1
    index: tuple[int, ...] | None
    given: Any  # a Decimal, an int, or (nested) lists of them, exactly as read; checked later

    @property
    def label(self) -> str:
        """'delta1', 'W1_new[1,2]', 'step2.z1': how the file names it."""
        entry = "" if self.index is None else "[" + ",".join(map(str, self.index)) + "]"
        return ("" if self.step == 1 else f"step{self.step}.") + self.key + entry


@dataclass(frozen=True)
class AnswerSheet:
    """The parsed file: its spec (reference or inline table), convention overrides, answers."""

    spec: str | Mapping[str, Any]
    conventions: Mapping[str, Any]
    answers: tuple[Answer, ...]
    source: str = "answers"
    folder: Path | None = None  # where a relative spec path is looked up

    @property
    def steps(self) -> int:
        return max((answer.step for answer in self.answers), default=1)

    def load_spec(self) -> Spec:
        """The spec the answers are for, with the learner's conventions merged in."""
        where = f"{self.source}: spec"
        if isinstance(self.spec, Mapping):
            spec = parse_spec(_floats(self.spec), source=where)
        else:
            beside = (self.folder / self.spec) if self.folder is not None else None
            spec = load_spec(beside if beside is not None and beside.is_file() else self.spec)
        return with_conventions(spec, self.conventions)[0]


def with_conventions(spec: Spec, conventions: Mapping[str, Any]) -> tuple[Spec, str]:
    """The spec with the learner's conventions merged in, and the layout the answers are written in.

    ``weights_layout`` here names how the *learner* writes matrices (the answers, as the trace
    prints them in that layout); the spec's own weights stay read in the layout the spec declares,
    so a square W is never silently turned round. The other conventions change what is computed
    (batch_reduction, delta_convention, round) and are merged into the spec, validated there.
    """
    layout = conventions.get("weights_layout", spec.weights_layout)
    others = {name: (name, value) for name, value in conventions.items() if name != "weights_layout"}
    if layout not in LAYOUTS:
        raise SpecError("weights_layout: " + unknown_name("layout", str(layout), LAYOUTS),
                        field="weights_layout")
    return (spec.with_options(others) if others else spec), str(layout)


def _floats(value: Any) -> Any:
    """An inline spec table as the spec reads it: the file is read with Decimal numbers (for the
    answers' written digits), which the spec's float fields refuse."""
    if isinstance(value, Mapping):
        return {key: _floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_floats(item) for item in value]
    return float(value) if isinstance(value, Decimal) else value


def read_answers(path: str | Path) -> AnswerSheet:
    """Read an answers file (.toml, .json, .yaml/.yml); SpecError (one line) for a bad one."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SpecError(f"unknown answers file type {shorten(path.suffix)}; use .toml, .json, "
                        ".yaml or .yml", source=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read the answers file: {error}", source=str(path)) from None
    return parse_answers(parse_text(text, fmt, str(path), decimal=True), str(path), path.parent)


def parse_answers(data: Mapping[str, Any], source: str = "answers",
                  folder: Path | None = None) -> AnswerSheet:
    """An AnswerSheet from a parsed mapping (the web API can pass request JSON here)."""
    for name in data:
        if name not in TOP_LEVEL:
            hint = closest(str(name), TOP_LEVEL)
            raise SpecError(f"unknown field {shorten(name)}"
                            + (f"; did you mean {hint!r}?" if hint else "")
                            + f" expected one of: {', '.join(TOP_LEVEL)}", source=source)
    spec = data.get("spec", None)
    if spec is None:
        raise SpecError('no spec; add spec = "NAME" (a built-in example), a path relative to this '
                        "file, or an inline [spec] table", source=source)
    if not isinstance(spec, str | Mapping) or (isinstance(spec, str) and not spec.strip()):
        raise SpecError(f"spec is {shorten(spec)}; give an example name, a path, or a [spec] table",
                        source=source)
    table = data.get("answers")
    if not isinstance(table, Mapping) or not table:
        raise SpecError("no answers; add an [answers] table of quantity = value lines "
                        "(`gradtrace grade --template SPEC` writes one)", source=source)
    conventions = {name: data[name] for name in CONVENTIONS if name in data}
    return AnswerSheet(spec, conventions, tuple(_answers(table, source)), source, folder)


def _answers(table: Mapping[str, Any], source: str) -> list[Answer]:
    found: list[Answer] = []
    for name, value in table.items():
        step = _STEP.match(str(name))
        if step is None:
            found.append(_answer(str(name), 1, value, source))
            continue
        number = int(step.group(1))
        if not 1 <= number <= MAX_STEPS or not isinstance(value, Mapping):
            raise SpecError(f"answers.{name}: expected a table of step {number}'s answers, for a "
                            f"step from 1 to {MAX_STEPS}", source=source)
        found += [_answer(str(key), number, item, source) for key, item in value.items()]
    return found


def _answer(name: str, step: int, value: Any, source: str) -> Answer:
    match = _INDEXED.match(name)
    if match is None:
        return Answer(name, step, None, value)
    index = tuple(int(part) for part in match["index"].split(","))
    return Answer(match["key"], step, index, value)


def as_decimal(value: Any) -> Decimal | None:
    """A finite number as written, or None: bool, text that is no number, inf and NaN are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float):  # from a caller passing Python floats: their shortest repr
        number = Decimal(repr(value))
    elif isinstance(value, str) and len(value) <= 100:
        try:
            number = Decimal(value.strip().replace("_", ""))
        except ArithmeticError:
            return None
    else:
        return None
    return number if number.is_finite() else None
