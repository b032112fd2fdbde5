"""Network diagrams: SVG is valid XML with the seed's numbers, PNG has the promised size."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from itertools import pairwise

import numpy as np
import pytest

from gradtrace.core import MLP, Layer, get_activation, get_loss
from gradtrace.render import diagram
from gradtrace.spec import load_spec
from gradtrace.trace.record import trace_steps
from gradtrace.workflow import trace_spec

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))
    return ["".join(node.itertext()).strip() for node in root.iter(f"{SVG}text")]


def test_seed_svg_parses_and_shows_weights_activations_biases() -> None:
    svg = diagram.draw(trace_spec(load_spec("seed")), "svg")
    assert isinstance(svg, str)
    texts = svg_texts(svg)
    for weight in ("0.2", "0.3", "0.9"):  # W1 = [[0.2 0.2] [0.3 0.3]], W2 = [[0.3 0.9]]
        assert weight in texts
    assert {"0.35", "0.7", "0.552", "0.578", "0.665"} <= set(texts)  # a0, a1, a2
    assert "b = 0" in texts and "y = 0.5" in texts


def test_updates_and_gradients_views() -> None:
    trace = trace_spec(load_spec("seed"))
    updates = svg_texts(diagram.draw(trace, "svg", show="updates", precision=6))  # type: ignore[arg-type]
    assert "0.9 → 0.878743" in updates and "0.2 → 0.199045" in updates
    gradients = svg_texts(diagram.draw(trace, "svg", show="gradients"))  # type: ignore[arg-type]
    assert "0.0203" in gradients  # ∂C/∂W2[1,1]


def test_svg_is_deterministic() -> None:
    trace = trace_spec(load_spec("seed"))
    assert diagram.draw(trace, "svg") == diagram.draw(trace, "svg")


def test_png_has_expected_size(tmp_path) -> None:  # type: ignore[no-untyped-def]
    trace = trace_spec(load_spec("seed"))
    path = tmp_path / "net.png"
    data = diagram.draw(trace, path)
    assert isinstance(data, bytes) and path.read_bytes() == data
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == diagram.pixel_size(trace) == (1170, 675)  # 7.8 x 4.5 in at 150 dpi


def test_pdf_output(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = diagram.draw(trace_spec(load_spec("seed")), tmp_path / "net.pdf")
    assert isinstance(data, bytes) and data.startswith(b"%PDF")


def test_wide_layers_are_elided() -> None:
    rng = np.random.default_rng(0)
    sizes = [3, 16, 2]
    layers = [Layer(rng.normal(size=(n_out, n_in)), np.zeros(n_out), get_activation("tanh"))
              for n_in, n_out in pairwise(sizes)]
    mlp = MLP(layers, get_loss("mse"))
    trace, _ = trace_steps(mlp, rng.normal(size=(1, 3)), rng.normal(size=(1, 2)))
    texts = svg_texts(diagram.draw(trace, "svg"))  # type: ignore[arg-type]
    assert "⋮" in texts
    assert "units 1–4, 13–16 of 16" in texts
    assert sum(t.startswith("b = ") for t in texts) == 8 + 2  # 4 + 4 shown in layer 1, 2 in layer 2


def test_unknown_extension_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(diagram.DiagramError, match=r"name the file \.svg, \.png or \.pdf"):
        diagram.draw(trace_spec(load_spec("seed")), tmp_path / "net.gif")
    assert not (tmp_path / "net.gif").exists()
