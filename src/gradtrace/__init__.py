"""gradtrace: backpropagation, fully worked out."""

__version__ = "0.1.0"
