"""Building a step's explanation in bulk: many small objects, none of them in a reference cycle."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a block allocates many acyclic objects.

    An explanation at the 5,000-parameter cap is ~100,000 frozen equations, symbols and JSON
    dicts; every 700 allocations the collector walks the young ones (and now and then all of
    them), a third of the time spent. Reference counting still frees everything; the collector
    is turned back on only if it was on, so nested and concurrent uses leave it as found.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
