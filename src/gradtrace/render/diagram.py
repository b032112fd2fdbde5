"""The network drawn with its numbers on it: WHAT is drawn, for two back ends.

Columns are layers 0..L; each neuron shows a (or δ), each edge W_jk (or ∂C/∂W_jk, or old → new),
each neuron's bias is written under it. Edge colour gives the sign, width the magnitude.
``show="givens"`` draws only what an exercise sheet gives: the inputs a⁽⁰⁾, every weight and bias,
the target y, and "?" in each neuron the learner computes (its value is NaN, which ``fmt`` writes
as "?": a finished trace never holds NaN, so nothing computed can be hidden by it).
Layers wider than ``MAX_SHOWN`` units show their first and last ``EDGE_UNITS`` units around a ⋮.

``scene()`` decides every line, disc and label (render/scene.py's primitives, in data units:
x = layer, y = slot); ``render/svg.py`` writes it as SVG text (HTML and notebooks, no matplotlib)
and ``render/raster.py`` paints it with matplotlib (``gradtrace draw``'s PNG, PDF and SVG files).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from gradtrace.errors import GradtraceError
from gradtrace.io import atomic_write_bytes
from gradtrace.render.math import number
from gradtrace.render.scene import (
    DPI,
    HIDDEN_FILL,
    INK,
    INPUT_FILL,
    MUTED,
    NEGATIVE,
    OUTPUT_FILL,
    POSITIVE,
    ZERO,
    Disc,
    Label,
    Line,
    Scene,
)
from gradtrace.trace.model import Array, Step, Trace

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Show = Literal["values", "gradients", "updates", "givens"]
SHOWS: tuple[Show, ...] = ("values", "gradients", "updates", "givens")
UNKNOWN = "?"  # written for a quantity the reader is asked to compute
FORMATS = ("svg", "png", "pdf")
MAX_SHOWN = 10
EDGE_UNITS = 4  # shown at each end of an elided layer
MAX_EDGE_LABELS = 36  # per pair of layers; beyond this only colour and width speak


class DiagramError(GradtraceError):
    """A diagram that cannot be drawn as asked (unknown format, show or step)."""


@dataclass(frozen=True)
class Slots:
    """Which units of a layer are drawn, and whether a ⋮ stands for the rest."""

    units: tuple[int, ...]  # 0-based unit indices drawn, top to bottom
    elided: bool

    @property
    def count(self) -> int:
        return len(self.units) + (1 if self.elided else 0)

    def position(self, k: int) -> int:
        """The slot of the k-th drawn unit (the ⋮ takes slot EDGE_UNITS)."""
        return k + 1 if self.elided and k >= EDGE_UNITS else k


def slots(n: int) -> Slots:
    if n <= MAX_SHOWN:
        return Slots(tuple(range(n)), False)
    return Slots(tuple(range(EDGE_UNITS)) + tuple(range(n - EDGE_UNITS, n)), True)


def figure_inches(trace: Trace) -> tuple[float, float]:
    """The figure size: about 2.6 in a layer across and 0.9 in a unit down."""
    sizes = trace.network.sizes
    tallest = max(slots(n).count for n in sizes)
    return max(7.0, 2.6 * (len(sizes) - 1) + 2.6), max(4.5, 0.9 * tallest + 2.0)


def pixel_size(trace: Trace) -> tuple[int, int]:
    """(width, height) of the PNG in pixels."""
    width, height = figure_inches(trace)
    return round(width * DPI), round(height * DPI)


def fmt(value: float, precision: int) -> str:
    """The value to ``precision`` significant digits; NaN (a value not given) as ``UNKNOWN``."""
    if np.isnan(value):
        return UNKNOWN
    return number(float(value), precision)


def _edge_values(step: Step, l: int, show: Show) -> tuple[Array, Array]:
    """(values deciding colour and width, the same or the new ones) for the edges into layer l."""
    update = step.update_of(l)
    if show == "gradients":
        grad = step.backward_of(l).grad_W
        return grad, grad
    if show == "updates":
        return update.W_new, update.W_old
    return update.W_old, update.W_old


def _edge_label(step: Step, l: int, j: int, i: int, show: Show, precision: int) -> str:
    update = step.update_of(l)
    if show == "gradients":
        return fmt(step.backward_of(l).grad_W[j, i], precision)
    if show == "updates":
        return f"{fmt(update.W_old[j, i], precision)} → {fmt(update.W_new[j, i], precision)}"
    return fmt(update.W_old[j, i], precision)


def _bias_label(step: Step, l: int, j: int, show: Show, precision: int) -> str:
    update = step.update_of(l)
    if show == "gradients":
        return f"∂C/∂b = {fmt(step.backward_of(l).grad_b[j, 0], precision)}"
    if show == "updates":
        return f"b: {fmt(update.b_old[j, 0], precision)} → {fmt(update.b_new[j, 0], precision)}"
    return f"b = {fmt(update.b_old[j, 0], precision)}"


SUPERSCRIPT = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _neuron_value(step: Step, l: int, j: int, show: Show, plain: bool = False) -> tuple[str, float]:
    """(symbol, value) written in a neuron: δ in the gradient view, else a (first sample);
    in the givens view NaN for every neuron past the input (the learner computes it).

    ``plain`` writes the symbol in Unicode (a₃⁽¹⁾) rather than mathtext: matplotlib parses each
    mathtext label with pyparsing, tens of milliseconds apiece; a diagram of wide layers skips it.
    """
    delta = show == "gradients" and l > 0
    value = float(step.backward_of(l).delta[j, 0] if delta else step.activation(l)[j, 0])
    if show == "givens" and l > 0:
        value = float("nan")  # asked, not given: fmt writes UNKNOWN
    if plain:
        letter = "δ" if delta else "a"
        return f"{letter}{str(j + 1).translate(SUBSCRIPT)}{f'({l})'.translate(SUPERSCRIPT)}", value
    letter = "\\delta" if delta else "a"
    return f"${letter}^{{({l})}}_{{{j + 1}}}$", value


def _title(trace: Trace, step: Step, show: Show, precision: int) -> str:
    name = f"{trace.name} — " if trace.name else ""
    what = {"values": "weights W and activations a",
            "gradients": "gradients ∂C/∂W and errors δ",
            "updates": "weights before → after the update",
            "givens": "given inputs, weights W, biases b and target y"}[show]
    sample = f" (sample 1 of {step.batch_size})" if step.batch_size > 1 else ""
    if show == "givens":  # the cost is asked on a sheet, never given
        return f"{name}{what}{sample}   ({UNKNOWN} = to compute)"
    return f"{name}step {step.index + 1}: {what}{sample}   C = {fmt(step.cost, precision)}"


def _description(trace: Trace, show: Show) -> str:
    """The diagram in words, for a screen reader (the SVG's desc)."""
    sizes = "-".join(str(n) for n in trace.network.sizes)
    elided = any(slots(n).elided for n in trace.network.sizes)
    wide = (f" Layers wider than {MAX_SHOWN} units show their first and last {EDGE_UNITS}."
            if elided else "")
    edge = {"values": "its weight", "gradients": "∂C/∂W", "updates": "its weight before → after",
            "givens": "its weight"}
    unit = {"gradients": "δ", "givens": f"a given input, or {UNKNOWN} to compute"}.get(show, "a")
    return (f"A {sizes} network. Each neuron shows {unit}, its bias under it; each edge is "
            f"labelled with {edge[show]} when few enough, coloured by sign (blue positive, red "
            f"negative) and as wide as its size.{wide}")


def scene(trace: Trace, show: Show = "values", step: int = 0, precision: int = 3) -> Scene:
    """Every line, disc and label of the diagram of step ``step``, showing ``show``."""
    if show not in SHOWS:
        raise DiagramError(f"unknown --show {show!r}; expected one of: {', '.join(SHOWS)}")
    if not -len(trace.steps) <= step < len(trace.steps):
        raise DiagramError(f"step {step} asked; the trace has {len(trace.steps)} step(s)")
    current = trace.steps[step]
    sizes = trace.network.sizes
    layout = [slots(n) for n in sizes]
    tallest = max(s.count for s in layout)
    half = (tallest + 0.3) / 2
    ylim = (-half, half)
    scale = max((float(np.max(np.abs(_edge_values(current, l, show)[0])))
                 for l in range(1, len(sizes))), default=1.0) or 1.0
    lines: list[Line] = []
    labels: list[Label] = []
    for l in range(1, len(sizes)):
        _edges(current, l, layout, show, precision, scale, lines, labels)
    plain = any(layer_slots.elided for layer_slots in layout)  # a big network: no mathtext
    discs: list[Disc] = []
    for l in range(len(layout)):
        _neurons(current, l, layout, show, precision, plain, ylim[0], discs, labels)
    width, height = figure_inches(trace)
    return Scene(width, height, (-0.45, len(sizes) - 0.55), ylim,
                 _title(trace, current, show, precision), _description(trace, show),
                 tuple(lines), tuple(discs), tuple(labels))


def _y(layout: list[Slots], l: int, k: int) -> float:
    """The height of the k-th drawn unit of layer l (layers are centred on y = 0)."""
    return (layout[l].count - 1) / 2 - layout[l].position(k)


def _colour(value: float) -> str:
    return POSITIVE if value > 0 else NEGATIVE if value < 0 else ZERO


def _edges(step: Step, l: int, layout: list[Slots], show: Show, precision: int, scale: float,
           lines: list[Line], labels: list[Label]) -> None:
    values, _ = _edge_values(step, l, show)
    sources, targets = layout[l - 1].units, layout[l].units
    labelled = len(sources) * len(targets) <= MAX_EDGE_LABELS
    for jk, j in enumerate(targets):
        t = 0.25 + 0.5 * (jk / max(len(targets) - 1, 1))  # labels of one target share a t
        for ik, i in enumerate(sources):
            value = float(values[j, i])
            x0, y0, x1, y1 = l - 1, _y(layout, l - 1, ik), l, _y(layout, l, jk)
            colour = _colour(value)
            lines.append(Line(x0, y0, x1, y1, colour, 0.6 + 3.4 * abs(value) / scale))
            if labelled:
                labels.append(Label(x0 + t * (x1 - x0), y0 + t * (y1 - y0),
                                    _edge_label(step, l, j, i, show, precision), 7,
                                    colour=colour, halo=True, along=(x1, y1)))


def _neurons(step: Step, l: int, layout: list[Slots], show: Show, precision: int, plain: bool,
             bottom: float, discs: list[Disc], labels: list[Label]) -> None:
    last = len(step.network.layers)
    fill = INPUT_FILL if l == 0 else OUTPUT_FILL if l == last else HIDDEN_FILL
    layer_slots = layout[l]
    for k, j in enumerate(layer_slots.units):
        x, y = l, _y(layout, l, k)
        name, value = _neuron_value(step, l, j, show, plain=True)
        math = None if plain else _neuron_value(step, l, j, show)[0]
        discs.append(Disc(x, y, fill))
        labels.append(Label(x, y, fmt(value, precision), 8))
        labels.append(Label(x, y, name, 9, va="bottom", dy=24, math=math))
        if l > 0:
            labels.append(Label(x, y, _bias_label(step, l, j, show, precision), 7, va="top",
                                dy=-24, colour=MUTED, halo=True))
        if l == last:
            labels.append(Label(x, y, f"y = {fmt(step.target[j, 0], precision)}", 8, ha="left",
                                dx=30))
    if layer_slots.elided:
        labels.append(Label(l, _y(layout, l, EDGE_UNITS - 1) - 1, "⋮", 16))
        n = step.network.sizes[l]
        labels.append(Label(l, _y(layout, l, len(layer_slots.units) - 1),
                            f"units 1–{EDGE_UNITS}, {n - EDGE_UNITS + 1}–{n} of {n}", 7,
                            va="top", dy=-40))
    caption = "input" if l == 0 else f"layer {l}: {step.network.layers[l - 1].activation}"
    labels.append(Label(l, bottom, caption, 8, va="bottom", dy=2, colour=INK))


def inline_svg(trace: Trace, show: Show = "values", step: int = 0, precision: int = 3) -> str:
    """The diagram as an ``<svg>`` element ready to paste into HTML (no matplotlib involved)."""
    from gradtrace.render.svg import svg_element

    return svg_element(scene(trace, show, step, precision))


def figure(trace: Trace, show: Show = "values", step: int = 0, precision: int = 3) -> Figure:
    """The diagram as a matplotlib Figure (no pyplot state involved)."""
    from gradtrace.render.raster import paint  # matplotlib: loaded only for image files

    return paint(scene(trace, show, step, precision))


def render_bytes(trace: Trace, fmt_name: str, show: Show = "values", step: int = 0,
                 precision: int = 3) -> bytes:
    """The diagram encoded as ``fmt_name`` (svg, png or pdf) by matplotlib."""
    if fmt_name not in FORMATS:
        raise DiagramError(f"cannot draw a {fmt_name!r} file; expected one of: "
                           f"{', '.join('.' + f for f in FORMATS)}")
    from gradtrace.render.raster import encode

    return encode(scene(trace, show, step, precision), fmt_name)


def format_of(path: str | os.PathLike[str]) -> str:
    """svg, png or pdf from a file name; DiagramError for anything else."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        found = f"'.{suffix}'" if suffix else "no extension"
        raise DiagramError(f"{os.fspath(path)}: cannot tell the image format from {found}; "
                           f"name the file .svg, .png or .pdf")
    return suffix


def draw(trace: Trace, path_or_format: str | os.PathLike[str] = "svg",
         show: Show = "values", step: int = 0, precision: int = 3) -> str | bytes:
    """Draw step ``step`` of the trace.

    ``path_or_format`` is "svg", "png" or "pdf" (just return the image) or a file path whose
    extension names the format (written atomically, and returned too). SVG comes back as text.
    """
    is_format = isinstance(path_or_format, str) and path_or_format.lower() in FORMATS
    fmt_name = str(path_or_format).lower() if is_format else format_of(path_or_format)
    data = render_bytes(trace, fmt_name, show, step, precision)
    if not is_format:
        atomic_write_bytes(path_or_format, data)
    return data.decode("utf-8") if fmt_name == "svg" else data
