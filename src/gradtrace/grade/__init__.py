"""Grade a learner's hand work: every answer at its own precision, the first wrong step, and why.

``grade(spec, answers) -> GradeReport``; ``read_answers(path)`` reads an answers file; the CLI's
``--template`` writes a blank one. A batch of files or a web endpoint reuses the same calls.
``gradtrace.grade`` is this package and also callable as the function: ``gradtrace.grade(spec,
answers)`` (the package name and the public function share one name).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from gradtrace.grade.answers import Answer, AnswerSheet, parse_answers, read_answers
from gradtrace.grade.judge import grade
from gradtrace.grade.report import SCHEMA, Entry, GradeReport, Mistake

__all__ = ["SCHEMA", "Answer", "AnswerSheet", "Entry", "GradeReport", "Mistake", "grade",
           "parse_answers", "read_answers"]


class _CallablePackage(ModuleType):
    """``gradtrace.grade(...)`` works whether it names this package or the function."""

    def __call__(self, *args: Any, **kwargs: Any) -> GradeReport:
        return grade(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
