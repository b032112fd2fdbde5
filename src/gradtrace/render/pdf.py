"""PDF: the LaTeX document compiled with pdflatex in a temporary folder, diagrams included."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from gradtrace.errors import GradtraceError
from gradtrace.render import diagram, latex
from gradtrace.render.options import RenderOptions
from gradtrace.trace.model import Trace

TIMEOUT_S = 180
INSTALL_HINT = (
    "install a TeX engine: Debian/Ubuntu `sudo apt-get install texlive-latex-recommended`, "
    "macOS MacTeX (https://tug.org/mactex/), Windows MiKTeX (https://miktex.org/); "
    "or write the .tex with --format latex and compile it elsewhere"
)


class TexNotFoundError(GradtraceError):
    """No pdflatex on the PATH."""


class TexCompileError(GradtraceError):
    """pdflatex ran but did not produce a PDF."""


def render(trace: Trace, options: RenderOptions) -> bytes:
    """The LaTeX document compiled to PDF bytes."""
    engine = shutil.which("pdflatex")
    if engine is None:
        raise TexNotFoundError(f"--format pdf needs pdflatex, which was not found; {INSTALL_HINT}")
    source = latex.render(trace, options)
    with tempfile.TemporaryDirectory(prefix="gradtrace-tex-") as folder:
        work = Path(folder)
        for index, show, name in latex.figure_files(trace):
            (work / name).write_bytes(diagram.render_bytes(trace, "pdf", show, index,  # type: ignore[arg-type]
                                                           min(options.precision, 4)))
        (work / "derivation.tex").write_text(source, encoding="utf-8")
        command = [engine, "-interaction=nonstopmode", "-halt-on-error", "derivation.tex"]
        try:
            subprocess.run(command, cwd=work, capture_output=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as error:
            raise TexCompileError(f"pdflatex took over {TIMEOUT_S} s and was stopped") from error
        pdf = work / "derivation.pdf"
        if not pdf.exists():
            raise TexCompileError(f"pdflatex failed: {_first_error(work / 'derivation.log')}; "
                                  "write the source with --format latex to inspect it")
        return pdf.read_bytes()


def _first_error(log: Path) -> str:
    """The first ``! ...`` line of a TeX log (TeX's own one-line reason)."""
    if not log.exists():
        return "no log was written"
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("!"):
            return line.lstrip("! ").strip()
    return "see the log"
