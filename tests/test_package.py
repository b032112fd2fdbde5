"""The package's public face: Network, Trace in Jupyter, python -m gradtrace, the version."""

from __future__ import annotations

import subprocess
import sys

import gradtrace
from gradtrace.spec import load_spec
from gradtrace.workflow import trace_spec


def test_network_is_exported() -> None:
    from gradtrace import Network

    assert Network is gradtrace.Network
    assert "Network" in gradtrace.__all__


def test_trace_displays_itself_in_jupyter() -> None:
    trace = trace_spec(load_spec("seed"))
    html = trace._repr_html_()  # type: ignore[attr-defined]
    assert "<math" in html and "0.665074" in html
    assert "0.878743" in trace._repr_markdown_()  # type: ignore[attr-defined]
    assert "\\sigma" in trace._repr_latex_()  # type: ignore[attr-defined]


def test_python_dash_m_and_version() -> None:
    result = subprocess.run([sys.executable, "-m", "gradtrace", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "gradtrace step" in result.stdout
    assert gradtrace.__version__ == "0.1.0"


def test_bare_command_shows_help_and_succeeds() -> None:
    result = subprocess.run([sys.executable, "-m", "gradtrace"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "Usage" in result.stdout


def test_usage_errors_are_one_line_with_exit_2() -> None:
    result = subprocess.run([sys.executable, "-m", "gradtrace", "step", "--precision", "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--precision" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_color_is_respected() -> None:
    import os
    import re

    def run(**extra: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
        result = subprocess.run([sys.executable, "-m", "gradtrace", "step"], capture_output=True,
                                text=True, timeout=60, env={**env, **extra})
        return result.stdout

    colour = re.compile(r"\x1b\[(3\d|9\d)(;\d+)*m")  # foreground colour codes
    assert colour.search(run(FORCE_COLOR="1"))
    assert not colour.search(run(FORCE_COLOR="1", NO_COLOR="1"))
    assert "\x1b[" not in run()  # a pipe gets plain text
