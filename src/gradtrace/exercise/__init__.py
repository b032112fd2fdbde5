"""Exercise sheets: hand-friendly networks (generate.py) kept only when every diagnosis on them
is unambiguous (variants.py)."""

from gradtrace.exercise.generate import LEARNING_RATES, generate
from gradtrace.exercise.variants import Variant, ambiguity, make_variants

__all__ = ["LEARNING_RATES", "Variant", "ambiguity", "generate", "make_variants"]
