"""Per-request caps of the web API (README "In the browser"): one request never stalls the server.

Each check names the field it is about, so the error reads like a validation error. The size caps
bound what one request can ask for; MAX_TRAIN_SECONDS bounds how long /api/train may compute,
whatever the machine: the caps together (2000 steps of 2000 points through 8 layers of 64 units
and a 200x200 grid) would take tens of seconds.
"""

from __future__ import annotations

from gradtrace.errors import LimitError
from gradtrace.spec import Spec, as_rows

MAX_BODY_BYTES = 1_000_000
MAX_LAYERS = 8
MAX_UNITS = 64  # a layer, inputs included
MAX_BATCH = 64  # samples in a spec's data, traced by /api/step
MAX_STEP_STEPS = 20  # steps traced by one /api/step request
MAX_TRAIN_STEPS = 2_000  # optimiser steps of one /api/train request
MAX_POINTS = 2_000  # dataset points of one /api/train request
MAX_GRID = 200  # decision-boundary grid side
MAX_THUMBNAIL = 32  # side of each unit's heat map
MAX_TRAIN_SECONDS = 2.0  # wall-clock compute budget of one /api/train request


class WebLimitError(LimitError):
    """A request over one of the caps above; ``field`` is its path in the request body."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def check_spec(spec: Spec, prefix: str = "") -> None:
    """Raise WebLimitError when the network or its data is over the caps."""
    sizes = spec.layer_sizes()
    if len(sizes) - 1 > MAX_LAYERS:
        raise WebLimitError(prefix + ("layers" if spec.layers is not None else "sizes"),
                            f"{len(sizes) - 1} layers; the web page is capped at {MAX_LAYERS}")
    for l, n in enumerate(sizes):
        if n > MAX_UNITS:
            where = f"sizes[{l}]" if spec.sizes is not None else f"layers[{max(l - 1, 0)}].weights"
            raise WebLimitError(prefix + where,
                                f"layer {l} has {n} units; the web page is capped at {MAX_UNITS}")
    if spec.data is not None:
        batch = as_rows(spec.data.input, "data.input").shape[0]
        if batch > MAX_BATCH:
            raise WebLimitError(prefix + "data.input",
                                f"{batch} samples; a traced batch is capped at {MAX_BATCH}")


def check_count(field: str, value: int, cap: int, what: str, hint: str = "") -> None:
    """Raise WebLimitError when ``value`` is over ``cap``."""
    if value > cap:
        raise WebLimitError(field, f"{value:,} {what} asked; one request is capped at {cap:,}{hint}")


def check_time(field: str, projected: float, measured: str, budget: float = MAX_TRAIN_SECONDS) -> None:
    """Raise WebLimitError when the projected seconds of a request are over ``budget``.

    ``projected`` = seconds spent + (measured seconds per unit) x (units left); ``measured`` says
    what it was measured over, for the message.
    """
    if projected > budget:
        raise WebLimitError(field, f"training would take about {projected:.1f} s ({measured}); "
                            f"one request is capped at a {budget:g} s budget; ask for fewer steps "
                            "(the page continues where a request stopped), points or grid points")
