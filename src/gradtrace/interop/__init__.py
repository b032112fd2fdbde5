"""Bridges to other libraries. ``interop.torch``: a trace of a PyTorch model's step, and back.

Nothing here imports PyTorch at import time; each function that needs it imports it when called.
"""
