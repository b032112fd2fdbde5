"""``gradtrace draw`` as a subprocess: files written, exit codes 0 and 2, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def gradtrace(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "gradtrace", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_draw_writes_svg_png_pdf(tmp_path: Path) -> None:
    svg = gradtrace("draw", "seed", "-o", "net.svg", cwd=tmp_path)
    assert svg.returncode == 0, svg.stderr
    assert (tmp_path / "net.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    png = gradtrace("draw", "xor", "-o", "grads.png", "--show", "gradients", cwd=tmp_path)
    assert png.returncode == 0, png.stderr
    assert (tmp_path / "grads.png").read_bytes().startswith(b"\x89PNG")
    pdf = gradtrace("draw", "seed", "-o", "up.pdf", "--show", "updates", "--precision", "6",
                    cwd=tmp_path)
    assert pdf.returncode == 0, pdf.stderr
    assert (tmp_path / "up.pdf").read_bytes().startswith(b"%PDF")


def test_draw_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    for args, expected in [
        (("-o", "net.gif"), "name the file .svg, .png or .pdf"),
        (("-o", "net.svg", "--show", "weights"), "expected one of: values, gradients, updates"),
        (("-o", "net.svg", "--step", "0"), "--step"),
    ]:
        result = gradtrace("draw", "seed", *args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr
    unknown = gradtrace("draw", "sede", "-o", "net.svg", cwd=tmp_path)
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())  # nothing half-written
