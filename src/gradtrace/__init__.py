"""gradtrace: backpropagation, fully worked out.

``gradtrace.Network`` trains (fit/predict/evaluate/save/load); ``gradtrace.workflow.trace_spec``
works out steps as a ``Trace``; ``gradtrace.classic.NeuralNet`` is the seed notebook's API.

The public names load on first use (PEP 562): ``import gradtrace`` (and so every ``gradtrace``
command) starts without numpy, pydantic or rich; each command imports what it needs.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gradtrace.grade.judge import grade
    from gradtrace.interop.plan import to_torch
    from gradtrace.interop.torch import from_torch
    from gradtrace.network import Network
    from gradtrace.trace.model import Trace

__version__ = "0.1.0"
__all__ = ["Network", "Trace", "__version__", "from_torch", "grade", "to_torch"]

# gradtrace.grade is also a sub-package: once imported it is the attribute, and it is callable
# as the function too (gradtrace/grade/__init__.py)
_PUBLIC = {"Network": "gradtrace.network", "Trace": "gradtrace.trace.model",
           "grade": "gradtrace.grade",
           # PyTorch itself is imported only when one of these is called
           "from_torch": "gradtrace.interop.torch", "to_torch": "gradtrace.interop.plan"}
_TRACE_MODULE = "gradtrace.trace.model"


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'gradtrace' has no attribute {name!r}")


# Jupyter displays a Trace as its worked derivation. The renderers are imported on first display,
# so that the trace package itself never depends on them (CONTRIBUTING.md: core -> trace -> render).
def _repr_html_(trace: Trace) -> str:
    from gradtrace.render.jupyter import repr_html

    return repr_html(trace)


def _repr_markdown_(trace: Trace) -> str:
    from gradtrace.render.jupyter import repr_markdown

    return repr_markdown(trace)


def _repr_latex_(trace: Trace) -> str:
    from gradtrace.render.jupyter import repr_latex

    return repr_latex(trace)


def _attach_reprs(module: ModuleType) -> None:
    trace_class = module.Trace
    trace_class._repr_html_ = _repr_html_
    trace_class._repr_markdown_ = _repr_markdown_
    trace_class._repr_latex_ = _repr_latex_


class _ReprsOnLoad(importlib.abc.Loader):
    """Runs the trace module's own loader, then gives its ``Trace`` the Jupyter reprs."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _attach_reprs(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... for tracebacks
        return getattr(self.loader, name)


class _TraceWatcher(importlib.abc.MetaPathFinder):
    """Attaches the reprs when ``gradtrace.trace.model`` is first imported, whoever imports it.

    Importing the trace here would load numpy for every ``gradtrace --help``, and the trace may not
    import the renderers; so the package root watches for the module instead (PEP 451 finder).
    """

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TRACE_MODULE:
            return None
        sys.meta_path.remove(self)  # once, and never again for the finders below
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _ReprsOnLoad(spec.loader)
        return spec


if _TRACE_MODULE in sys.modules:  # a reload of the package: the trace is already there
    _attach_reprs(sys.modules[_TRACE_MODULE])
else:
    sys.meta_path.insert(0, _TraceWatcher())
