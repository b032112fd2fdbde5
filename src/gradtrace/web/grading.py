"""POST /api/grade: a learner's answers graded on a spec, as ``gradtrace.grade/1``.

The request is an answers file as JSON (README "Check your hand work"): ``spec`` (a spec's fields,
or a built-in example's name; never a path on the server), ``answers`` ({"z1": ["0.21", "0.315"],
"step2": {...}}), the learner's conventions, and the CLI's ``forgive_last_digit`` / ``tolerance``.
Numbers keep their written digits: the body's JSON numbers are read as Decimals
(web/responses.py ``exact_json_body``), and the page sends what the learner typed as a string
("0.5780"), because JavaScript's JSON.stringify writes the number 0.5780 as 0.578.

An answer that is not a number or has the wrong shape is graded ``invalid`` in the reply (200),
as the CLI reports it; a request the grader cannot start on (no answers, an unknown key, a bad
convention) is a 422 with the field path.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gradtrace.errors import SpecError, closest
from gradtrace.grade import grade, parse_answers
from gradtrace.grade.answers import CONVENTIONS, TOP_LEVEL, AnswerSheet
from gradtrace.grade.report import GradeReport
from gradtrace.spec import Spec
from gradtrace.web.responses import RequestError, invalid

SOURCE = "request"
_WHERE = re.compile(r"^(?P<field>answers(?:\.[^:\s]+)?): (?P<message>.*)$", re.DOTALL)


class GradeOptions(BaseModel):
    """The request's fields besides the answers file's own (checked by grade/answers.py)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    forgive_last_digit: bool = Field(False, description="accept one unit of the last decimal")
    tolerance: float | None = Field(None, ge=0.0, description="a fixed absolute tolerance")


def as_floats(value: Any) -> Any:
    """The body's Decimals back as floats, for the parts that are not answers (the spec)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: as_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_floats(item) for item in value]
    return value


def read_request(body: Any) -> tuple[Any, AnswerSheet, GradeOptions]:
    """The spec part (floats), the answers sheet (Decimals kept) and the options, or a 422."""
    if not isinstance(body, dict):
        raise RequestError(422, "", "request body: expected a JSON object: {\"spec\": ..., "
                           "\"answers\": {...}}", "dict_type")
    options_data = {k: as_floats(body[k]) for k in ("forgive_last_digit", "tolerance") if k in body}
    try:
        options = GradeOptions.model_validate(options_data)
    except ValidationError as error:
        raise invalid(error.errors()) from None
    known = (*TOP_LEVEL, *GradeOptions.model_fields)
    for name in body:
        if name not in known:
            hint = closest(str(name), known)
            raise RequestError(422, str(name), "unknown field" + (f"; did you mean {hint!r}?"
                               if hint else "") + f" expected one of: {', '.join(known)}",
                               "extra_forbidden", ["body", str(name)[:80]])
    for name in ("spec", "answers"):
        if body.get(name) is None:
            raise RequestError(422, name, "missing; an answers request has spec (fields or an "
                               "example name) and answers ({\"z1\": [\"0.21\", \"0.315\"]})",
                               "missing")
    sheet_data = {k: (v if k == "answers" else as_floats(v)) for k, v in body.items()
                  if k not in GradeOptions.model_fields}
    try:
        sheet = parse_answers(sheet_data, SOURCE)
    except SpecError as error:
        raise _request_error(error) from None
    return as_floats(body.get("spec")), sheet, options


def grade_reply(spec: Spec, sheet: AnswerSheet, options: GradeOptions) -> GradeReport:
    """``grade`` on the validated spec; its SpecErrors (unknown key, bad convention) as 422s."""
    try:
        return grade(spec, sheet, forgive_last_digit=options.forgive_last_digit,
                     tolerance=options.tolerance)
    except SpecError as error:
        raise _request_error(error) from None


def _request_error(error: SpecError) -> RequestError:
    message = str(error).removeprefix(f"{SOURCE}: ")
    if error.field and error.field in CONVENTIONS:  # a convention the spec refused
        return RequestError(422, error.field, message.removeprefix(f"{error.field}: "))
    for field in ("spec", "answers"):  # parse_answers' own messages about the two fields
        if message.startswith((f"{field} ", f"no {field}")):
            return RequestError(422, field, message)
    found = _WHERE.match(message)
    if found is not None:
        return RequestError(422, found["field"], found["message"])
    return RequestError(422, "", message)
