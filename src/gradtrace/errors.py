"""The error hierarchy: every error a user can cause is a GradtraceError.

The CLI prints ``str(error)`` as one line on stderr and exits with ``error.exit_code``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GradtraceError(Exception):
    """Base of every error gradtrace raises for a user's input or a failed check."""

    exit_code = 2


class SpecError(GradtraceError):
    """A spec file or spec dictionary is malformed: wrong type, shape, value or name."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        where = ": ".join(part for part in (source, field) if part)
        super().__init__(f"{where}: {message}" if where else message)


class UnknownNameError(SpecError):
    """An activation, loss, initialiser, optimiser or example name that does not exist."""


class ShapeError(GradtraceError):
    """Arrays whose shapes do not fit the network."""


class LimitError(GradtraceError):
    """A request beyond a documented size cap (too large to trace, serve or train)."""


class DataError(GradtraceError):
    """A data file (e.g. CSV) that cannot be read: says the line and column."""


class CheckpointError(GradtraceError):
    """A model or checkpoint file that cannot be loaded."""


class DivergenceError(GradtraceError):
    """Training produced a NaN or infinite loss."""

    exit_code = 1


class NumericalError(GradtraceError):
    """A computed quantity overflowed to inf or became NaN: the input's scale is the cause.

    Exit code 2 (bad input): the fix is in the spec (smaller inputs or weights, a lower η).
    """


class GradientCheckError(GradtraceError):
    """Analytic and numerical gradients disagree beyond the tolerance."""

    exit_code = 1


# Characters of user input an error message echoes: enough to recognise it, never a flood.
ECHO_LIMIT = 60


def shorten(value: object, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters with "…" and the full length when longer.

    Every message that echoes user input goes through here, so a 200 KB field name or a
    13 MB value gives a line a reader can read. Unencodable characters (lone surrogates) are
    escaped, so the line can always be printed.
    """
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # a pathological object: name its type only
        return f"<{type(value).__name__}>"
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str) else len(text)  # a string's own length
    return f"{text[:limit - 1]}… ({size:,} characters)"


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The valid name closest to ``name``, for "did you mean ...?" hints."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


def unknown_name(kind: str, name: object, choices: Iterable[str]) -> str:
    """One-line message for an unknown name, suggesting the closest valid one."""
    choices = sorted(choices)
    # difflib is quadratic in the name's length: a long name is no typo of a short one
    hint = closest(str(name), choices) if len(str(name)) <= 2 * ECHO_LIMIT else None
    suggestion = f"did you mean {hint!r}? " if hint else ""
    return f"unknown {kind} {shorten(name)}; {suggestion}expected one of: {', '.join(choices)}"
