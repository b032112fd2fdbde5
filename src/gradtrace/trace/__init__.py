"""The trace: immutable records of a training step, explained, with a versioned JSON form."""

from gradtrace.trace.model import Equation, NetworkInfo, Quantity, Step, Trace
from gradtrace.trace.record import trace_steps

__all__ = ["Equation", "NetworkInfo", "Quantity", "Step", "Trace", "trace_steps"]
