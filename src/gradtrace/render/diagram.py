"""The network drawn with its numbers on it (matplotlib, no display needed).

Columns are layers 0..L; each neuron shows a (or δ), each edge W_jk (or ∂C/∂W_jk, or old → new),
each neuron's bias is written under it. Edge colour gives the sign, width the magnitude.
``show="givens"`` draws only what an exercise sheet gives: the inputs a⁽⁰⁾, every weight and bias,
the target y, and "?" in each neuron the learner computes (its value is NaN, which ``fmt`` writes
as "?": a finished trace never holds NaN, so nothing computed can be hidden by it).
Layers wider than ``MAX_SHOWN`` units show their first and last ``EDGE_UNITS`` units around a ⋮.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gradtrace.errors import GradtraceError
from gradtrace.io import atomic_write_bytes
from gradtrace.render.math import number
from gradtrace.trace.model import Array, Step, Trace

Show = Literal["values", "gradients", "updates", "givens"]
SHOWS: tuple[Show, ...] = ("values", "gradients", "updates", "givens")
UNKNOWN = "?"  # written for a quantity the reader is asked to compute
FORMATS = ("svg", "png", "pdf")
DPI = 150
MAX_SHOWN = 10
EDGE_UNITS = 4  # shown at each end of an elided layer
MAX_EDGE_LABELS = 36  # per pair of layers; beyond this only colour and width speak
POSITIVE, NEGATIVE, ZERO = "#2166ac", "#b2182b", "#9e9e9e"
LABEL_BOX = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9}
# Fixed salt and no dates: the same trace always gives the same bytes (diffable, testable).
RC: dict[Any, Any] = {"svg.hashsalt": "gradtrace", "svg.fonttype": "none", "font.family": "DejaVu Sans"}
METADATA: dict[str, dict[str, str | None]] = {
    "svg": {"Date": None, "Creator": "gradtrace"},
    "pdf": {"CreationDate": None, "Creator": "gradtrace", "Producer": "gradtrace"},
    "png": {"Software": "gradtrace"},
}


Position = Callable[[int, int], float]  # (layer, k-th drawn unit) -> y


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


def figure(trace: Trace, show: Show = "values", step: int = 0, precision: int = 3) -> Figure:
    """The diagram as a matplotlib Figure (no pyplot state involved)."""
    if show not in SHOWS:
        raise DiagramError(f"unknown --show {show!r}; expected one of: {', '.join(SHOWS)}")
    if not -len(trace.steps) <= step < len(trace.steps):
        raise DiagramError(f"step {step} asked; the trace has {len(trace.steps)} step(s)")
    current = trace.steps[step]
    sizes = trace.network.sizes
    layout = [slots(n) for n in sizes]
    tallest = max(s.count for s in layout)
    fig = Figure(figsize=figure_inches(trace), dpi=DPI)
    ax = fig.add_axes((0.02, 0.1, 0.96, 0.8))
    ax.set_axis_off()
    ax.set_xlim(-0.45, len(sizes) - 0.55)
    ax.set_ylim(-(tallest + 0.3) / 2, (tallest + 0.3) / 2)

    def y_of(l: int, k: int) -> float:
        return (layout[l].count - 1) / 2 - layout[l].position(k)

    scale = max((float(np.max(np.abs(_edge_values(current, l, show)[0])))
                 for l in range(1, len(sizes))), default=1.0) or 1.0
    for l in range(1, len(sizes)):
        _draw_edges(ax, current, l, layout, y_of, show, precision, scale)
    plain = any(layer_slots.elided for layer_slots in layout)  # a big network: no mathtext
    for l, layer_slots in enumerate(layout):
        _draw_neurons(ax, current, l, layer_slots, y_of, show, precision, plain)
    fig.suptitle(_title(trace, current, show, precision), fontsize=10, y=0.97)
    handles = [Line2D([], [], color=POSITIVE, lw=2, label="positive"),
               Line2D([], [], color=NEGATIVE, lw=2, label="negative")]
    fig.legend(handles=handles, loc="lower left", fontsize=7, frameon=False, ncols=2,
               title="edge colour = sign, width = size", title_fontsize=7)
    return fig


def _draw_edges(ax: Axes, step: Step, l: int, layout: list[Slots], y_of: Position, show: Show,
                precision: int, scale: float) -> None:
    values, _ = _edge_values(step, l, show)
    sources, targets = layout[l - 1].units, layout[l].units
    labelled = len(sources) * len(targets) <= MAX_EDGE_LABELS
    # Unlabelled (big) layers draw their edges as one collection: one artist, not one per edge
    segments: list[tuple[tuple[float, float], tuple[float, float]]] = []
    colours: list[str] = []
    widths: list[float] = []
    for jk, j in enumerate(targets):
        t = 0.25 + 0.5 * (jk / max(len(targets) - 1, 1))  # labels of one target share a t
        for ik, i in enumerate(sources):
            value = float(values[j, i])
            x0, y0, x1, y1 = l - 1, y_of(l - 1, ik), l, y_of(l, jk)
            colour = POSITIVE if value > 0 else NEGATIVE if value < 0 else ZERO
            width = 0.6 + 3.4 * abs(value) / scale
            if not labelled:
                segments.append(((x0, y0), (x1, y1)))
                colours.append(colour)
                widths.append(width)
                continue
            ax.plot([x0, x1], [y0, y1], color=colour, lw=width, alpha=0.75,
                    solid_capstyle="round", zorder=1)
            angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
            ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0),
                    _edge_label(step, l, j, i, show, precision), fontsize=7, ha="center",
                    va="center", rotation=angle, rotation_mode="anchor",
                    transform_rotates_text=True, color=colour, zorder=3, bbox=LABEL_BOX)
    if segments:
        ax.add_collection(LineCollection(segments, colors=colours, linewidths=widths, alpha=0.75,
                                         capstyle="round", zorder=1), autolim=False)


def _draw_neurons(ax: Axes, step: Step, l: int, layer_slots: Slots, y_of: Position,
                  show: Show, precision: int, plain: bool = False) -> None:
    last = len(step.network.layers)
    fill = "#eef3f8" if l == 0 else "#fdf1e6" if l == last else "#f4f4f4"
    for k, j in enumerate(layer_slots.units):
        x, y = l, y_of(l, k)
        name, value = _neuron_value(step, l, j, show, plain=plain)
        ax.scatter([x], [y], s=1500, c=fill, edgecolors="#333333", linewidths=1.2, zorder=4)
        ax.text(x, y, fmt(value, precision), ha="center", va="center", fontsize=8, zorder=5)
        ax.annotate(name, (x, y), xytext=(0, 24), textcoords="offset points", ha="center",
                    va="bottom", fontsize=9, zorder=5)
        if l > 0:
            ax.annotate(_bias_label(step, l, j, show, precision), (x, y), xytext=(0, -24),
                        textcoords="offset points", ha="center", va="top", fontsize=7,
                        color="#555555", zorder=5, bbox=LABEL_BOX)
        if l == last:
            ax.annotate(f"y = {fmt(step.target[j, 0], precision)}", (x, y), xytext=(30, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=8, zorder=5)
    if layer_slots.elided:
        ax.text(l, y_of(l, EDGE_UNITS - 1) - 1, "⋮", ha="center", va="center", fontsize=16)
        n = step.network.sizes[l]
        ax.annotate(f"units 1–{EDGE_UNITS}, {n - EDGE_UNITS + 1}–{n} of {n}",
                    (l, y_of(l, len(layer_slots.units) - 1)), xytext=(0, -40),
                    textcoords="offset points", ha="center", va="top", fontsize=7)
    caption = "input" if l == 0 else f"layer {l}: {step.network.layers[l - 1].activation}"
    ax.annotate(caption, (l, ax.get_ylim()[0]), xytext=(0, 2), textcoords="offset points",
                ha="center", va="bottom", fontsize=8, color="#333333")


def render_bytes(trace: Trace, fmt_name: str, show: Show = "values", step: int = 0,
                 precision: int = 3) -> bytes:
    """The diagram encoded as ``fmt_name`` (svg, png or pdf)."""
    if fmt_name not in FORMATS:
        raise DiagramError(f"cannot draw a {fmt_name!r} file; expected one of: "
                           f"{', '.join('.' + f for f in FORMATS)}")
    with rc_context(RC):
        fig = figure(trace, show, step, precision)
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt_name, dpi=DPI, metadata=METADATA[fmt_name])
    return buffer.getvalue()


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


def inline_svg(trace: Trace, show: Show = "values", step: int = 0, precision: int = 3) -> str:
    """The SVG ready to paste into HTML: no XML declaration, DOCTYPE or metadata block."""
    svg = render_bytes(trace, "svg", show, step, precision).decode("utf-8")
    svg = svg[svg.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
