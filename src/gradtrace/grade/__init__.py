"""Grade a learner's hand work: every answer at its own precision, the first wrong step, and why.

``grade(spec, answers) -> GradeReport``; ``read_answers(path)`` reads an answers file;
``template(spec)`` writes a blank one. A batch of files or a web endpoint reuses the same three.
"""

from __future__ import annotations

from gradtrace.grade.answers import Answer, AnswerSheet, parse_answers, read_answers
from gradtrace.grade.judge import grade
from gradtrace.grade.report import SCHEMA, Entry, GradeReport, Mistake

__all__ = ["SCHEMA", "Answer", "AnswerSheet", "Entry", "GradeReport", "Mistake", "grade",
           "parse_answers", "read_answers"]
