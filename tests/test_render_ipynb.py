"""The generated notebook runs (nbclient, python3 kernel) and recomputes the trace's numbers."""

from __future__ import annotations

import base64
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import numpy as np
import pytest

from gradtrace.render.ipynb import render
from gradtrace.render.options import RenderOptions
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.mark.parametrize("example", ["seed", "softmax"])
def test_notebook_recomputes_every_quantity(example: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    nbclient = pytest.importorskip("nbclient")
    trace = trace_spec(load_spec(example))
    notebook = nbformat.reads(render(trace, RenderOptions(view="both")), as_version=4)
    nbformat.validate(notebook)
    quantities = trace.steps[0].quantities()
    keys = [q.key for q in quantities]
    # one more cell: every variable the notebook computed, at full precision
    notebook.cells.append(nbformat.v4.new_code_cell(
        f"import json\nprint(json.dumps({{k: np.asarray(globals()[k]).tolist() for k in {keys!r}}}))"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    computed = json.loads(notebook.cells[-1].outputs[0]["text"])
    for quantity in quantities:
        expected = np.ravel(np.asarray(quantity.matrix.value))
        assert np.allclose(np.ravel(computed[quantity.key]), expected, rtol=1e-12, atol=1e-15), (
            quantity.key)
    printed = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for out in cell.outputs)
    if example == "seed":
        assert "0.878743" in printed and "train_step agrees" in printed


@pytest.mark.parametrize("example", ["seed", "mattmazur", "postnetwork", "xor"])
def test_notebook_is_what_nbformat_writes_and_valid(example: str) -> None:
    """render() writes the JSON itself (importing nbformat costs half a second): the same bytes
    nbformat writes for the same notebook, and a notebook nbformat's schema accepts."""
    written = render(trace_spec(load_spec(example)), RenderOptions(view="both"))
    notebook = nbformat.reads(written, as_version=4)
    nbformat.validate(notebook)
    assert written == nbformat.v4.writes(notebook) + "\n"


def test_notebook_has_derivation_and_diagram() -> None:
    notebook = nbformat.reads(render(trace_spec(load_spec("seed")), RenderOptions()), as_version=4)
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "## Backpropagation" in markdown and "W'^{(2)} &= W^{(2)} - \\eta" in markdown
    # the network as SVG in an <img> data URL (JupyterLab shows neither SVG attachments nor <svg>)
    found = re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="[^"]+">', markdown)
    assert len(found) == 1
    svg = ET.fromstring(base64.b64decode(found[0]))
    texts = {"".join(node.itertext()) for node in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert {"0.35", "0.7", "0.5523", "0.5781", "0.6651", "y = 0.5"} <= texts  # a0..a2 to 4 digits
    assert [c.id for c in notebook.cells][:2] == ["gradtrace-0", "gradtrace-1"]  # stable ids
