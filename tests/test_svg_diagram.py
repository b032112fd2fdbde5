"""The diagram's SVG writer (render/svg.py): valid, accessible, escaped, deterministic, and showing
every label of the scene that matplotlib shows, with no matplotlib loaded on the way."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from gradtrace.core import MLP, Layer, get_activation, get_loss
from gradtrace.render import diagram
from gradtrace.render import scene as style
from gradtrace.render.math import number
from gradtrace.spec import load_spec
from gradtrace.trace.model import Trace
from gradtrace.trace.record import trace_steps
from gradtrace.workflow import trace_spec

SVG = "{http://www.w3.org/2000/svg}"
SRC = Path(__file__).resolve().parents[1] / "src"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def wide_trace(sizes: list[int]) -> Trace:
    rng = np.random.default_rng(0)
    layers = [Layer(rng.normal(size=(n_out, n_in)), rng.normal(size=n_out), get_activation("tanh"))
              for n_in, n_out in pairwise(sizes)]
    trace, _ = trace_steps(MLP(layers, get_loss("mse")), rng.normal(size=(1, sizes[0])),
                           rng.normal(size=(1, sizes[-1])))
    return trace


@pytest.mark.parametrize("show", diagram.SHOWS)
def test_every_label_of_the_scene_is_in_the_svg_and_in_matplotlibs_figure(show: diagram.Show) -> None:
    trace = trace_spec(load_spec("seed"))
    scene = diagram.scene(trace, show)
    root = parse(diagram.inline_svg(trace, show))
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 561.6 324"  # 7.8 x 4.5 in
    assert root.findtext(f"{SVG}title") == scene.title and root.findtext(f"{SVG}desc")
    drawn = texts(root)
    assert sorted(drawn) == sorted([label.text for label in scene.labels] + [scene.title]
                                   + [style.LEGEND_TITLE] + [name for _, name in style.LEGEND])
    # matplotlib draws the same labels (mathtext names where the SVG writes Unicode ones)
    painted = [t.get_text() for t in diagram.figure(trace, show).axes[0].texts]
    assert sorted(painted) == sorted(label.math or label.text for label in scene.labels)
    assert len(root.findall(f".//{SVG}line")) == len(scene.lines) + len(style.LEGEND) == 6 + 2
    assert len(root.findall(f".//{SVG}circle")) == 5


@pytest.mark.parametrize("show", diagram.SHOWS)
def test_the_trace_numbers_are_on_the_diagram(show: diagram.Show) -> None:
    """Each edge label, bias and neuron value the trace implies, written independently here."""
    trace = trace_spec(load_spec("seed"))
    step = trace.steps[0]
    drawn = set(texts(parse(diagram.inline_svg(trace, show, precision=4))))
    for l in (1, 2):
        update, backward = step.update_of(l), step.backward_of(l)
        for (j, i), old in np.ndenumerate(update.W_old):
            edge = {"values": number(old, 4), "gradients": number(backward.grad_W[j, i], 4),
                    "updates": f"{number(old, 4)} → {number(update.W_new[j, i], 4)}",
                    "givens": number(old, 4)}[show]
            assert edge in drawn
        for j, bias in enumerate(update.b_old[:, 0]):
            under = {"values": f"b = {number(bias, 4)}",
                     "gradients": f"∂C/∂b = {number(backward.grad_b[j, 0], 4)}",
                     "updates": f"b: {number(bias, 4)} → {number(update.b_new[j, 0], 4)}",
                     "givens": f"b = {number(bias, 4)}"}[show]
            assert under in drawn
        inside = backward.delta if show == "gradients" else step.activation(l)
        if show == "givens":  # computed values are asked, not drawn
            assert not {number(v, 4) for v in inside[:, 0]} & drawn
        else:
            assert {number(v, 4) for v in inside[:, 0]} <= drawn


def test_sign_gives_the_colour_and_size_the_width() -> None:
    trace = wide_trace([3, 4, 2])
    root = parse(diagram.inline_svg(trace))
    edges = root.find(f"{SVG}g[@class='edges']")
    assert edges is not None
    lines = edges.findall(f"{SVG}line")
    weights = np.concatenate([trace.steps[0].update_of(l).W_old.ravel() for l in (1, 2)])
    colours = [line.get("stroke") for line in lines]
    assert colours.count(style.NEGATIVE) == int(np.sum(weights < 0)) > 0
    assert colours.count(style.POSITIVE) == int(np.sum(weights > 0)) > 0
    widths = [float(line.get("stroke-width", "nan")) for line in lines]
    # width = 0.6 + 3.4 |w| / max |w|; edges are drawn target j by target j, as W is stored
    assert widths == pytest.approx(list(0.6 + 3.4 * np.abs(weights) / np.max(np.abs(weights))),
                                   abs=0.006)


def test_wide_layers_are_elided_with_a_vertical_ellipsis() -> None:
    root = parse(diagram.inline_svg(wide_trace([3, 16, 2])))
    drawn = texts(root)
    assert drawn.count("⋮") == 1 and "units 1–4, 13–16 of 16" in drawn
    assert sum(t.startswith("b = ") for t in drawn) == 8 + 2  # 4 + 4 shown in layer 1, 2 in layer 2
    assert len(root.findall(f".//{SVG}circle")) == 3 + 8 + 2
    assert "a₁₆⁽¹⁾" in drawn and "a₅⁽¹⁾" not in drawn  # unit 5..12 stand behind the ⋮


def test_same_trace_same_bytes_and_text_is_escaped() -> None:
    trace = trace_spec(load_spec("seed"))
    named = replace(trace, name='<b>"Tom" & Jerry</b>')
    svg = diagram.inline_svg(named)
    assert svg == diagram.inline_svg(named)
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    root = parse(svg)
    assert root.findtext(f"{SVG}title", "").startswith('<b>"Tom" & Jerry</b> — step 1')


def test_html_and_notebook_draw_without_matplotlib(tmp_path: Path) -> None:
    code = ("import sys\n"
            "from gradtrace.render import html, ipynb\n"
            "from gradtrace.render.options import RenderOptions\n"
            "from gradtrace.spec import load_spec\n"
            "from gradtrace.workflow import trace_spec\n"
            "trace = trace_spec(load_spec('seed'))\n"
            "assert html.render(trace, RenderOptions()).count('<svg') == 2\n"
            "assert 'image/svg+xml' in ipynb.render(trace, RenderOptions())\n"
            "assert not [m for m in sys.modules if m.startswith('matplotlib')], 'matplotlib loaded'\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
