"""Options every renderer shares, and the table of output formats."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Protocol, cast

from gradtrace.notation import Naming
from gradtrace.trace.model import Trace

View = Literal["matrix", "neuron", "both"]
Layout = Literal["out_in", "in_out"]


@dataclass(frozen=True)
class RenderOptions:
    """precision: significant digits (decimals: fixed decimal places instead, 0.1900);
    view: which equations; notation: z/a or net/out names."""

    precision: int = 6
    view: View = "matrix"
    notation: Naming = "textbook"
    width: int = 100  # terminal columns for the text renderer
    title: str | None = None
    schema: int = 2  # json only: gradtrace.trace/2 (numbers by reference) or /1 (values inline)
    decimals: int | None = None
    layout: Layout | None = None  # None: the trace's weights_layout (column or row view)

    def for_trace(self, trace: Trace) -> RenderOptions:
        """These options with the layout resolved: the trace's own unless one was chosen."""
        if self.layout is not None:
            return self
        return replace(self, layout=cast(Layout, trace.network.weights_layout))

    @property
    def shown_layout(self) -> Layout:
        return self.layout or "out_in"


class Renderer(Protocol):
    def __call__(self, trace: Trace, options: RenderOptions) -> str | bytes: ...


# Each format lives in its own module exposing ``render(trace, options) -> str | bytes``;
# adding a format touches that module and this table only.
FORMATS: dict[str, str] = {
    "text": "gradtrace.render.text",
    "json": "gradtrace.render.json_format",
    "markdown": "gradtrace.render.markdown",
    "latex": "gradtrace.render.latex",
    "pdf": "gradtrace.render.pdf",
    "html": "gradtrace.render.html",
    "ipynb": "gradtrace.render.ipynb",
}


def renderer(name: str) -> Renderer:
    """The ``render`` function of format ``name``."""
    import importlib

    module = importlib.import_module(FORMATS[name])
    result: Renderer = module.render
    return result
