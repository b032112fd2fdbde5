"""What a diagram is made of: lines, discs and labels in data units, and the style they share.

render/diagram.py decides them from a trace; render/svg.py and render/raster.py draw them.
Data (x, y) map into the ``AXES`` box of the figure; offsets, widths and font sizes are points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DPI = 150
POSITIVE, NEGATIVE, ZERO = "#2166ac", "#b2182b", "#9e9e9e"
INPUT_FILL, HIDDEN_FILL, OUTPUT_FILL, INK, MUTED = "#eef3f8", "#f4f4f4", "#fdf1e6", "#333333", "#555555"
AXES = (0.02, 0.1, 0.96, 0.8)  # the drawing's box in the figure: left, bottom, width, height
NEURON_RADIUS = 19.4  # points: a disc of area 1500 pt²
EDGE_ALPHA = 0.75
LEGEND_TITLE = "edge colour = sign, width = size"
LEGEND = ((POSITIVE, "positive"), (NEGATIVE, "negative"))
HorizontalAlign = Literal["left", "center", "right"]
VerticalAlign = Literal["top", "center", "bottom"]


@dataclass(frozen=True)
class Line:
    """An edge from (x0, y0) to (x1, y1); ``width`` in points."""

    x0: float
    y0: float
    x1: float
    y1: float
    colour: str
    width: float


@dataclass(frozen=True)
class Disc:
    """A neuron: a circle of ``NEURON_RADIUS`` points at (x, y)."""

    x: float
    y: float
    fill: str


@dataclass(frozen=True)
class Label:
    """Text anchored at (x, y) in data units, moved by (dx, dy) points (dy up).

    ``along``: a second point; the text is turned to run along the line to it (edge labels).
    ``math``: the same text as matplotlib mathtext, for the back end that typesets it.
    ``halo``: a white backdrop keeps the text legible over edges.
    """

    x: float
    y: float
    text: str
    size: float
    ha: HorizontalAlign = "center"
    va: VerticalAlign = "center"
    dx: float = 0.0
    dy: float = 0.0
    colour: str = "#000000"
    halo: bool = False
    along: tuple[float, float] | None = None
    math: str | None = None


@dataclass(frozen=True)
class Scene:
    """Everything one diagram draws, in paint order (lines, discs, labels), and its frame.

    Data (x, y) map into the ``AXES`` box of a ``width`` x ``height`` inch figure with the
    limits ``xlim`` and ``ylim``.
    """

    width: float
    height: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    title: str
    description: str
    lines: tuple[Line, ...]
    discs: tuple[Disc, ...]
    labels: tuple[Label, ...]
