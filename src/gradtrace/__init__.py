"""gradtrace: backpropagation, fully worked out.

``gradtrace.Network`` trains (fit/predict/evaluate/save/load); ``gradtrace.workflow.trace_spec``
works out steps as a ``Trace``; ``gradtrace.classic.NeuralNet`` is the seed notebook's API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gradtrace.trace.model import Trace

if TYPE_CHECKING:
    from gradtrace.network import Network

__version__ = "0.1.0"
__all__ = ["Network", "Trace", "__version__"]


def __getattr__(name: str) -> Any:
    # Network pulls in the training stack; import it on first use so the CLI starts fast.
    if name == "Network":
        from gradtrace.network import Network

        return Network
    raise AttributeError(f"module 'gradtrace' has no attribute {name!r}")


# Jupyter displays a Trace as its worked derivation. The renderers are imported on first display,
# so that the trace package itself never depends on them (STYLE.md: core -> trace -> render).
def _repr_html_(trace: Trace) -> str:
    from gradtrace.render.jupyter import repr_html

    return repr_html(trace)


def _repr_markdown_(trace: Trace) -> str:
    from gradtrace.render.jupyter import repr_markdown

    return repr_markdown(trace)


def _repr_latex_(trace: Trace) -> str:
    from gradtrace.render.jupyter import repr_latex

    return repr_latex(trace)


Trace._repr_html_ = _repr_html_  # type: ignore[attr-defined]
Trace._repr_markdown_ = _repr_markdown_  # type: ignore[attr-defined]
Trace._repr_latex_ = _repr_latex_  # type: ignore[attr-defined]
