"""Reading a CSV file of samples: one row per sample, one column per feature plus a target column.

Every problem is a DataError that names the file, the line (from 1, counting the header) and the
column (from 1, with its header name), and says how to fix it.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from gradtrace.data.dataset import Dataset
from gradtrace.errors import DataError, unknown_name

Targets = NDArray[np.int64] | NDArray[np.float64]

# A cap that keeps a typo'd path to a huge file from exhausting memory (documented in the README).
MAX_CELLS = 200_000_000


class CSVError(DataError):
    """A CSV file that cannot be read as samples: names the file, line and column."""

    def __init__(self, path: str | Path, message: str, line: int | None = None,
                 column: int | None = None, column_name: str | None = None) -> None:
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
            if column_name:
                where += f" ({column_name!r})"
        self.path, self.line, self.column = str(path), line, column
        super().__init__(f"{where}: {message}")


def _first_row(
    path: Path, delimiter: str
) -> tuple[Iterator[tuple[int, list[str]]], tuple[int, list[str]]]:
    """The rows of a CSV file and its first row (line number, fields); an empty file is an error."""
    rows = _rows(path, delimiter)
    first = next(rows, None)
    if first is None:
        raise CSVError(path, "the file is empty; expected a header line and one row per sample")
    return rows, first


def _header(path: Path, line: int, fields: list[str]) -> list[str]:
    """The column names of a header line; a line of numbers is data, so that is an error."""
    if all(_number(field) is not None for field in fields):
        shown = ",".join(field.strip() for field in fields[:6]) + (",..." if len(fields) > 6 else "")
        raise CSVError(path, f"the first line ({shown}) is all numbers: it looks like data, not "
                             "column names; add a header line, or pass --no-header "
                             "(header=False) to read it as data", line)
    return [name.strip() or f"column_{i + 1}" for i, name in enumerate(fields)]


def _rows(path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for each non-blank record."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            try:
                for fields in reader:
                    if fields and any(field.strip() for field in fields):
                        yield reader.line_num, fields
            except csv.Error as error:
                raise CSVError(path, f"malformed CSV: {error}", reader.line_num) from None
    except FileNotFoundError:
        hint = "give the path of a .csv file or a dataset name"
        raise CSVError(path, f"no such file; {hint}") from None
    except UnicodeDecodeError as error:
        raise CSVError(path, f"not UTF-8 text ({error.reason}); save the file as UTF-8") from None
    except OSError as error:
        raise CSVError(path, f"cannot read the file: {error.strerror}") from None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _target_index(path: Path, target: str | int | None, names: list[str]) -> int:
    if target is None:
        return len(names) - 1
    if isinstance(target, int) or (isinstance(target, str) and target.lstrip("-").isdigit()
                                   and target not in names):
        index = int(target)
        if not -len(names) <= index < len(names):
            raise CSVError(path, f"target column index {index} is out of range; the file has "
                                 f"{len(names)} columns (0..{len(names) - 1}, or -1 for the last)")
        return index % len(names)
    if target not in names:
        raise CSVError(path, unknown_name("target column", target, names), 1)
    return names.index(target)


def load_csv(
    path: str | Path,
    target: str | int | None = None,
    *,
    header: bool = True,
    classes: bool | None = None,
    standardize: bool = False,
    delimiter: str = ",",
) -> Dataset:
    """Samples from a CSV file.

    ``target`` names the target column (header name, or 0-based index; default: the last column).
    ``classes``: True treats the target as class labels (one-hot when training), False as
    numbers, None decides: text or whole numbers are classes, other numbers are a regression
    target. ``standardize`` scales each feature to mean 0, std 1.
    """
    path = Path(path)
    rows, first = _first_row(path, delimiter)
    header_line, header_fields = first
    if header:
        names = _header(path, header_line, header_fields)
        body: Iterator[tuple[int, list[str]]] = rows
    else:
        names = [f"column_{i + 1}" for i in range(len(header_fields))]
        body = _chain(first, rows)
    if len(names) < 2:
        raise CSVError(path, f"found {len(names)} column; expected features and a target "
                             "column (is the delimiter right?)", header_line)
    t = _target_index(path, target, names)
    features: list[list[float]] = []
    raw_targets: list[str] = []
    target_lines: list[int] = []
    line = header_line
    for line, fields in body:
        if len(fields) != len(names):
            raise CSVError(path, f"this row has {len(fields)} fields but the header has "
                                 f"{len(names)}; every row needs one value per column", line)
        row: list[float] = []
        for c, text in enumerate(fields):
            if c == t:
                raw_targets.append(text.strip())
                target_lines.append(line)
                continue
            value = _number(text)
            if value is None:
                what = "an empty value" if not text.strip() else f"{text.strip()!r}"
                raise CSVError(path, f"{what} is not a finite number; features must be numbers",
                               line, c + 1, names[c])
            row.append(value)
        features.append(row)
        if len(features) * len(names) > MAX_CELLS:
            raise CSVError(path, f"more than {MAX_CELLS:,} values; the loader caps file size", line)
    if not features:
        raise CSVError(path, "no data rows after the header; add one row per sample", line)
    feature_names = [name for c, name in enumerate(names) if c != t]
    y, class_names = _targets(path, raw_targets, target_lines, classes, t, names[t])
    dataset = Dataset(path.stem, np.array(features, dtype=np.float64), y, feature_names,
                      class_names, names[t])
    return dataset.standardized() if standardize else dataset


def _chain(first: tuple[int, list[str]],
           rest: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    yield first
    yield from rest


def _targets(path: Path, raw: Sequence[str], lines: Sequence[int], classes: bool | None,
             column: int, name: str) -> tuple[Targets, list[str] | None]:
    """Class labels 0..k-1 with their names, or numbers for a regression target."""
    for text, line in zip(raw, lines, strict=True):
        if not text:
            raise CSVError(path, "an empty target; every row needs a target value", line,
                           column + 1, name)
    numbers = [_number(text) for text in raw]
    numeric = all(value is not None for value in numbers)
    if classes is None:
        classes = not numeric or all(float(v).is_integer() for v in numbers if v is not None)
    if not classes:
        for text, value, line in zip(raw, numbers, lines, strict=True):
            if value is None:
                raise CSVError(path, f"{text!r} is not a finite number; a regression target must "
                                     "be numeric (or treat it as class labels)", line,
                               column + 1, name)
        return np.array(numbers, dtype=np.float64), None
    if numeric:
        values = sorted({float(v) for v in numbers if v is not None})
        lookup = {v: k for k, v in enumerate(values)}
        labels = [lookup[float(v)] for v in numbers if v is not None]
        return np.array(labels, dtype=np.int64), [_format(v) for v in values]
    class_names = sorted(set(raw))
    index = {label: k for k, label in enumerate(class_names)}
    return np.array([index[text] for text in raw], dtype=np.int64), class_names


def _format(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def load_features(
    path: str | Path, feature_names: Sequence[str] | None, *, n_features: int | None = None,
    header: bool = True, delimiter: str = ",",
) -> tuple[NDArray[np.float64], list[str]]:
    """The feature columns a model was trained on, for prediction: (X (n, n_features), names).

    With a header, columns are picked by the training ``feature_names`` (any other column, such
    as the target, is ignored); a header that lacks one of them is an error, never a guess. A
    model without saved names (``None``) takes a header of exactly ``n_features`` columns in
    order. Without a header the file must hold exactly the features, in order.
    """
    path = Path(path)
    wanted = list(feature_names) if feature_names is not None else None
    n = len(wanted) if wanted is not None else n_features
    if n is None:
        raise ValueError("give feature_names or n_features")
    rows, first = _first_row(path, delimiter)
    line, fields = first
    body: Iterator[tuple[int, list[str]]] = rows
    if not header:
        if len(fields) != n:
            raise CSVError(path, f"{len(fields)} columns; without a header the file must hold "
                                 f"exactly the model's {n} features, in order", line)
        columns, body = list(range(n)), _chain(first, rows)
        names = wanted or [f"column_{c + 1}" for c in range(n)]
    else:
        names = _header(path, line, fields)
        if wanted is not None and all(name in names for name in wanted):
            columns = [names.index(name) for name in wanted]
        elif wanted is not None:
            missing = [name for name in wanted if name not in names]
            raise CSVError(path, f"the model takes {n} features ({_listed(wanted)}); the header "
                                 f"({_listed(names)}) lacks {_listed(missing)}; name the columns "
                                 "as in training, or pass --no-header for a file of just the "
                                 "features in order", line)
        elif len(names) == n:
            columns = list(range(n))  # the model saved no names: the columns in order
        else:
            raise CSVError(path, f"{len(names)} columns; the model (saved without feature "
                                 f"names) takes exactly {n} features, in order", line)
    X: list[list[float]] = []
    for line, fields in body:
        if len(fields) != len(names):
            raise CSVError(path, f"this row has {len(fields)} fields but the header has "
                                 f"{len(names)}; every row needs one value per column", line)
        row = []
        for c in columns:
            value = _number(fields[c])
            if value is None:
                what = "an empty value" if not fields[c].strip() else repr(fields[c].strip())
                raise CSVError(path, f"{what} is not a finite number; features must be numbers",
                               line, c + 1, names[c])
            row.append(value)
        X.append(row)
        if len(X) * len(names) > MAX_CELLS:
            raise CSVError(path, f"more than {MAX_CELLS:,} values; the loader caps file size", line)
    if not X:
        raise CSVError(path, "no data rows; add one row per sample", line)
    return np.array(X, dtype=np.float64), [names[c] for c in columns]


def _listed(names: Sequence[str], most: int = 8) -> str:
    return ", ".join(names[:most]) + (", ..." if len(names) > most else "")
