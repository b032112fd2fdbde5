"""GET /api/exercise: a generated hand-friendly exercise, tested as ``gradtrace exercise`` tests it.

The query (seed, sizes, activations, loss, decimals) is checked by a pydantic model; the exercise
is ``exercise.make_variants(seed, 1, ...)``'s one variant, the CLI's own code path: the generator,
then the check that the step gradient-checks and every catalogued mistake gives its own value at
``decimals`` decimals. The same query always gives the same exercise, so a link holding the query
is shareable; the reply also names the variant's frozen seed, as the CLI's key does.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gradtrace.errors import GradtraceError, SpecError
from gradtrace.exercise import make_variants
from gradtrace.exercise.generate import MAX_UNITS
from gradtrace.web.responses import RequestError

# A page worked by hand. A network that has a fair variant gives one in under 0.3 s; one that has
# none would be refused only after make_variants' 500 candidates (2 to 6.5 s within these caps on
# a busy 2-core machine, 12 s at 8-8-8-8-8), so the search has a budget, as /api/train has.
SEARCH_BUDGET = 2.0  # seconds
MAX_EXERCISE_LAYERS = 3  # weight layers
MAX_EXERCISE_WEIGHTS = 32  # weights in all (the CLI's cap of 8 units a layer applies too)
MAX_SEED = 2**32


class ExerciseQuery(BaseModel):
    """GET /api/exercise's query: which generated network, and the decimals answers are kept to."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(0, ge=0, lt=MAX_SEED, description="the same seed gives the same exercise")
    sizes: list[int] = Field([2, 2, 1], description=f"layer sizes, input first: 2 to "
                             f"{MAX_EXERCISE_LAYERS + 1} of them, each 1..{MAX_UNITS}")
    activations: list[str] = Field(["sigmoid"], description="one for every layer, or one a layer")
    loss: str = Field("half_sse", description="the loss")
    decimals: int = Field(4, ge=1, le=8, description="decimals the answers are written to")

    @field_validator("sizes", "activations", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        """"2,2,1" -> ["2", "2", "1"] (pydantic then reads each item); a list as it is."""
        return [part.strip() for part in value.split(",")] if isinstance(value, str) else value

    @field_validator("sizes")
    @classmethod
    def _sizes_in_range(cls, value: list[int]) -> list[int]:
        if not 2 <= len(value) <= MAX_EXERCISE_LAYERS + 1:
            raise ValueError(f"{len(value)} sizes; give 2 to {MAX_EXERCISE_LAYERS + 1} (input "
                             "first), e.g. 2,2,1")
        if any(not 1 <= n <= MAX_UNITS for n in value):
            raise ValueError(f"each layer has 1 to {MAX_UNITS} units (found {value}), e.g. 2,2,1")
        weights = sum(n_in * n_out for n_in, n_out in pairwise(value))
        if weights > MAX_EXERCISE_WEIGHTS:
            raise ValueError(f"{weights} weights; a practice exercise has at most "
                             f"{MAX_EXERCISE_WEIGHTS}, e.g. 2,2,1 or 3,4,2")
        return value



def read_query(query: Mapping[str, str]) -> ExerciseQuery:
    """The query as an ExerciseQuery, or a 422 RequestError naming the query field."""
    try:
        return ExerciseQuery.model_validate(dict(query))
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""  # the parameter, not an item's index
        message = str(first["msg"]).removeprefix("Value error, ")
        raise RequestError(422, field, message, str(first["type"]), ["query", field]) from None


def exercise_reply(query: ExerciseQuery) -> dict[str, Any]:
    """The exercise as JSON: the query as read, the frozen seed, and the spec mapping."""
    activations: str | list[str] = (query.activations[0] if len(query.activations) == 1
                                    else query.activations)
    try:
        variant = make_variants(query.seed, 1, query.decimals, sizes=query.sizes,
                                activations=activations, loss=query.loss,
                                budget=SEARCH_BUDGET)[0]
    except SpecError as error:  # the generator checks sizes and names, naming a CLI option (--loss)
        field = (error.field or "").removeprefix("--")
        message = str(error).removeprefix(f"{error.field}: ") if error.field else str(error)
        raise RequestError(422, field, message, "value_error", ["query", field]) from None
    except GradtraceError as error:  # no fair variant for this seed and network
        message = str(error).replace("--", "")  # the CLI's option names are query fields here
        raise RequestError(422, "seed", message, "value_error", ["query", "seed"]) from None
    return {"seed": query.seed, "frozen_seed": variant.seed, "sizes": query.sizes,
            "activations": query.activations, "loss": query.loss, "decimals": query.decimals,
            "spec": variant.data}
