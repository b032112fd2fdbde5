"""The diagram's SVG back end: a ``diagram.Scene`` written as SVG text, no matplotlib.

Coordinates are points (1/72 in) in a viewBox the figure's size; data (x, y) map into the
scene's ``AXES`` box exactly as matplotlib maps them, so both back ends put things in the same
place. The text is escaped, the numbers rounded to 0.01 pt: the same scene gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from html import escape

from gradtrace.render.scene import (
    AXES,
    EDGE_ALPHA,
    INK,
    LEGEND,
    LEGEND_TITLE,
    NEURON_RADIUS,
    Label,
    Scene,
)

POINTS_PER_INCH = 72
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
ANCHOR = {"left": "start", "center": "middle", "right": "end"}
# Baseline below the anchor, in ems: text centred on it, hanging under it, or standing on it
BASELINE = {"center": 0.35, "top": 0.78, "bottom": -0.22}
HALO = 'stroke="#ffffff" stroke-opacity="0.9" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'

ToPoints = Callable[[float, float], tuple[float, float]]


def num(value: float) -> str:
    """A coordinate to 0.01, without trailing zeros: ``12.5``, ``-3``, ``0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def svg_element(scene: Scene) -> str:
    """The scene as one ``<svg>`` element (UTF-8 text, no XML declaration), with title and desc."""
    width, height = scene.width * POINTS_PER_INCH, scene.height * POINTS_PER_INCH
    left, bottom, box_width, box_height = AXES
    (x_min, x_max), (y_min, y_max) = scene.xlim, scene.ylim

    def to_points(x: float, y: float) -> tuple[float, float]:  # y grows downwards in SVG
        fx = left + box_width * (x - x_min) / (x_max - x_min)
        fy = bottom + box_height * (y - y_min) / (y_max - y_min)
        return fx * width, (1 - fy) * height

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {num(width)} {num(height)}" '
        f'width="{num(width)}pt" height="{num(height)}pt" role="img" font-family="{FONT}">',
        f"<title>{escape(scene.title)}</title>",
        f"<desc>{escape(scene.description)}</desc>",
        f'<rect width="{num(width)}" height="{num(height)}" fill="#ffffff"/>',
        f'<g class="edges" stroke-linecap="round" stroke-opacity="{EDGE_ALPHA}">',
        *_lines(scene, to_points),
        "</g>",
        f'<g class="neurons" stroke="{INK}" stroke-width="1.2">',
        *_discs(scene, to_points),
        "</g>",
        f'<g class="labels halo" {HALO}>',  # presentation attributes: every child inherits them
        *(_label(label, to_points) for label in scene.labels if label.halo),
        "</g>",
        '<g class="labels">',
        *(_label(label, to_points) for label in scene.labels if not label.halo),
        "</g>",
        _text(width / 2, 0.03 * height, scene.title, 10, "middle", "top", "#000000",
              ' style="white-space:pre"'),  # the title's spaced-out "   C = ..." kept
        *_legend(height),
        "</svg>",
    ]
    return "\n".join(parts)


def _lines(scene: Scene, to_points: ToPoints) -> Iterator[str]:
    for line in scene.lines:
        (x0, y0), (x1, y1) = to_points(line.x0, line.y0), to_points(line.x1, line.y1)
        yield (f'<line x1="{num(x0)}" y1="{num(y0)}" x2="{num(x1)}" y2="{num(y1)}" '
               f'stroke="{line.colour}" stroke-width="{num(line.width)}"/>')


def _discs(scene: Scene, to_points: ToPoints) -> Iterator[str]:
    for disc in scene.discs:
        x, y = to_points(disc.x, disc.y)
        yield f'<circle cx="{num(x)}" cy="{num(y)}" r="{NEURON_RADIUS}" fill="{disc.fill}"/>'


def _label(label: Label, to_points: ToPoints) -> str:
    x, y = to_points(label.x, label.y)
    x, y = x + label.dx, y - label.dy
    rotation = ""
    if label.along is not None:  # turned to run along its edge as drawn on the page
        x1, y1 = to_points(*label.along)
        angle = num(math.degrees(math.atan2(y1 - y, x1 - x)))
        rotation = "" if angle == "0" else f' transform="rotate({angle} {num(x)} {num(y)})"'
    return _text(x, y, label.text, label.size, ANCHOR[label.ha], label.va, label.colour, rotation)


def _text(x: float, y: float, text: str, size: float, anchor: str, va: str, colour: str,
          extra: str = "") -> str:
    baseline = y + BASELINE[va] * size
    return (f'<text x="{num(x)}" y="{num(baseline)}" font-size="{num(size)}" '
            f'text-anchor="{anchor}" fill="{colour}"{extra}>{escape(text)}</text>')


def _legend(height: float) -> Iterator[str]:
    """What colour and width mean, in the lower left corner as matplotlib puts its legend."""
    yield _text(12, height - 20, LEGEND_TITLE, 7, "start", "center", "#000000")
    for k, (colour, name) in enumerate(LEGEND):
        x = 12 + 70 * k
        yield (f'<line x1="{num(x)}" y1="{num(height - 9)}" x2="{num(x + 20)}" '
               f'y2="{num(height - 9)}" stroke="{colour}" stroke-width="2"/>')
        yield _text(x + 26, height - 9, name, 7, "start", "center", "#000000")
