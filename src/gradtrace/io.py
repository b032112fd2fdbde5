"""Writing files atomically: a reader sees the old file or the new one, never half of either.

Each write goes to a temporary file in the destination's folder (so the rename stays on one file
system), is flushed to disk, and then ``os.replace``\\ d over the destination, which is atomic on
POSIX and Windows. A failed write leaves the destination untouched and removes the temporary file.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from gradtrace.errors import CheckpointError

__all__ = ["atomic_save_npz", "atomic_write_bytes", "atomic_write_text", "load_npz"]

# Files are created readable by others, as open() would under the usual umask 022.
DEFAULT_MODE = 0o644


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + ``os.replace``)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mode = target.stat().st_mode & 0o777 if target.exists() else DEFAULT_MODE
        os.chmod(tmp_name, mode)  # mkstemp makes 0600 files; keep the old or usual permissions
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically, encoded as ``encoding`` (UTF-8 by default)."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_save_npz(path: str | os.PathLike[str], arrays: Mapping[str, npt.ArrayLike]) -> Path:
    """Save ``arrays`` as an uncompressed ``.npz`` atomically; object arrays are refused."""
    buffer = io.BytesIO()
    checked = {name: np.asarray(value) for name, value in arrays.items()}
    for name, value in checked.items():
        if value.dtype.hasobject:
            raise TypeError(f"{name}: object arrays need pickle; store text or numbers instead")
    np.savez(buffer, allow_pickle=False, **checked)
    return atomic_write_bytes(path, buffer.getvalue())


def load_npz(path: str | os.PathLike[str]) -> dict[str, npt.NDArray[Any]]:
    """Every array of an ``.npz`` file, read without pickle; CheckpointError if unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise CheckpointError(
            f"{path}: not a readable gradtrace .npz file ({error}); was it written by gradtrace?"
        ) from None
