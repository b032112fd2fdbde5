"""The diagram's matplotlib back end: a ``diagram.Scene`` painted on a Figure, saved as PNG/PDF/SVG.

Used for image files (``gradtrace draw``, the PDF export); HTML and notebooks use render/svg.py.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gradtrace.render import scene as style
from gradtrace.render.scene import Label, Scene

LABEL_BOX = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9}
# Fixed salt and no dates: the same trace always gives the same bytes (diffable, testable).
RC: dict[Any, Any] = {"svg.hashsalt": "gradtrace", "svg.fonttype": "none", "font.family": "DejaVu Sans"}
METADATA: dict[str, dict[str, str | None]] = {
    "svg": {"Date": None, "Creator": "gradtrace"},
    "pdf": {"CreationDate": None, "Creator": "gradtrace", "Producer": "gradtrace"},
    "png": {"Software": "gradtrace"},
}


def paint(scene: Scene) -> Figure:
    """The scene as a matplotlib Figure (no pyplot state involved)."""
    fig = Figure(figsize=(scene.width, scene.height), dpi=style.DPI)
    ax = fig.add_axes(style.AXES)
    ax.set_axis_off()
    ax.set_xlim(*scene.xlim)
    ax.set_ylim(*scene.ylim)
    # All edges are one collection: one artist, not one per edge
    ax.add_collection(LineCollection(
        [((e.x0, e.y0), (e.x1, e.y1)) for e in scene.lines],
        colors=[e.colour for e in scene.lines], linewidths=[e.width for e in scene.lines],
        alpha=style.EDGE_ALPHA, capstyle="round", zorder=1), autolim=False)
    if scene.discs:
        ax.scatter([d.x for d in scene.discs], [d.y for d in scene.discs],
                   s=(2 * style.NEURON_RADIUS) ** 2, c=[d.fill for d in scene.discs], edgecolors=style.INK,
                   linewidths=1.2, zorder=4)
    for label in scene.labels:
        _text(ax, label)
    fig.suptitle(scene.title, fontsize=10, y=0.97)
    handles = [Line2D([], [], color=colour, lw=2, label=name) for colour, name in style.LEGEND]
    fig.legend(handles=handles, loc="lower left", fontsize=7, frameon=False, ncols=2,
               title=style.LEGEND_TITLE, title_fontsize=7)
    return fig


def _text(ax: Any, label: Label) -> None:
    style: dict[str, Any] = {"ha": label.ha, "va": label.va, "fontsize": label.size,
                             "color": label.colour, "zorder": 5}
    if label.halo:
        style["bbox"] = LABEL_BOX
    text = label.math or label.text
    if label.along is not None:  # turned along its edge, in data space
        angle = float(np.degrees(np.arctan2(label.along[1] - label.y, label.along[0] - label.x)))
        ax.text(label.x, label.y, text, rotation=angle, rotation_mode="anchor",
                transform_rotates_text=True, **style)
    elif label.dx or label.dy:
        ax.annotate(text, (label.x, label.y), xytext=(label.dx, label.dy),
                    textcoords="offset points", **style)
    else:
        ax.text(label.x, label.y, text, **style)


def encode(scene: Scene, fmt_name: str) -> bytes:
    """The scene painted and saved as ``fmt_name`` (svg, png or pdf), same bytes every time."""
    with rc_context(RC):
        fig = paint(scene)
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt_name, dpi=style.DPI, metadata=METADATA[fmt_name])
    return buffer.getvalue()
