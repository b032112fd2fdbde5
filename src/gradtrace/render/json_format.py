"""The JSON renderer: the trace in schema gradtrace.trace/2 (``options.schema = 1``: /1)."""

from __future__ import annotations

from gradtrace.render.options import RenderOptions
from gradtrace.trace import json as trace_json
from gradtrace.trace.model import Trace


def render(trace: Trace, options: RenderOptions) -> str:
    return trace_json.dumps(trace, version=options.schema) + "\n"
