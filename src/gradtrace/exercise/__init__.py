"""Exercise sheets: hand-friendly networks (generate.py) kept only when every diagnosis on them
is unambiguous (variants.py)."""

from gradtrace.exercise.generate import LEARNING_RATES, generate, with_conventions
from gradtrace.exercise.variants import Variant, ambiguity, excluded, given_variant, make_variants

__all__ = ["LEARNING_RATES", "Variant", "ambiguity", "excluded", "generate", "given_variant",
           "make_variants", "with_conventions"]
