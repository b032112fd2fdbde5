"""The LaTeX document compiles with pdflatex and the PDF holds the derivation's numbers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gradtrace.render import latex, pdf
from gradtrace.render.options import RenderOptions
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec

needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")


@pytest.mark.latex
@needs_tex
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_seed_pdf_has_pages_and_new_weights(tmp_path: Path) -> None:
    data = pdf.render(trace_spec(load_spec("seed")), RenderOptions(view="both"))
    assert data.startswith(b"%PDF")
    path = tmp_path / "seed.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = int(next(line.split()[-1] for line in info.stdout.splitlines()
                     if line.startswith("Pages:")))
    assert 3 <= pages <= 12
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    for expected in ("Forward pass", "Backpropagation", "Update", "0.199045", "0.878743",
                     "0.665074", "0.0367703"):
        assert expected in text
    assert "0.2 − 1 · 0.000954656 = 0.199045" in text  # numbers plugged in, then the result


@pytest.mark.latex
@needs_tex
def test_tex_compiles_standalone_without_diagrams(tmp_path: Path) -> None:
    """The .tex written by --format latex compiles as it is (figures skipped when absent)."""
    trace = trace_spec(load_spec("softmax"))  # a batch, relu and softmax: wider matrices
    source = latex.render(trace, RenderOptions(view="neuron", notation="net-out"))
    (tmp_path / "softmax.tex").write_text(source, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "softmax.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "softmax.pdf").exists()


def test_missing_tex_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pdf.TexNotFoundError, match="apt-get install texlive-latex-recommended"):
        pdf.render(trace_spec(load_spec("seed")), RenderOptions())


def test_text_is_escaped_for_pdflatex() -> None:
    assert latex.escape("train_biases & 50% — η = 1") == (
        "train\\_biases \\& 50\\% --- $\\eta$ = 1")
