"""Files in and out: checked output paths, atomic writes, and bounded ``.npz`` reading.

Every command that writes a file first calls ``check_output`` (before any work, so a bad ``-o``
fails at once) and then writes through ``atomic_write_bytes``: a temporary file in the destination's
folder (so the rename stays on one file system) is flushed to disk and ``os.replace``\\ d over the
destination, atomic on POSIX and Windows. A reader sees the old file or the new one, never half of
either; a failed write leaves the destination untouched and removes the temporary file. Only
regular files (or new paths) are ever replaced: never a directory, FIFO, device or symbolic link.

``load_npz`` reads each member's ``.npy`` header before its data and refuses anything over
``MAX_NPZ_BYTES`` (declared array size or zip entry size), so a forged 10¹² shape or a zip bomb is
a clear CheckpointError, never a MemoryError.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import stat
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from gradtrace.errors import CheckpointError, GradtraceError

__all__ = [
    "KINDS", "MAX_NPZ_BYTES", "OutputError", "atomic_save_npz", "atomic_write_bytes",
    "atomic_write_text", "check_output", "load_npz", "write_stdout",
]

# Files are created readable by others, as open() would under the usual umask 022.
DEFAULT_MODE = 0o644
# The most an .npz may hold, all arrays together (documented in the README): a model of
# 100 million float64 weights with Adam's two moments fits, a forged header does not.
MAX_NPZ_BYTES = 4 << 30
MAX_NPZ_MEMBERS = 10_000
# Bytes read from an existing file to tell what kind it is.
SNIFF_BYTES = 4096


class OutputError(GradtraceError):
    """An output path that cannot or must not be written (exit code 2)."""


# ---- what kind of file is there already ------------------------------------------------------

def _is_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3  # a multi-byte character cut off by the sniff
    return True


def _is_torch_file(path: Path) -> bool:
    """A file torch.save wrote: a zip with a ``data.pkl`` member in its one folder."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("/data.pkl") for name in archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _is_qti(path: Path) -> bool:
    """A content package ``gradtrace exercise --format qti`` wrote: a zip with imsmanifest.xml."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "imsmanifest.xml" in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _is_checkpoint(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "meta.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


@dataclass(frozen=True)
class Kind:
    """A kind of output file and how to recognise an existing one (so it may be replaced)."""

    name: str
    recognise: Callable[[Path, bytes], bool]


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("gradtrace model (.npz)",
         lambda path, head: head.startswith(b"PK") and _is_checkpoint(path)),
    Kind("PNG image", lambda path, head: head.startswith(b"\x89PNG")),
    Kind("PDF document", lambda path, head: head.startswith(b"%PDF")),
    Kind("SVG image", lambda path, head: _is_text(head) and b"<svg" in head),
    Kind("text", lambda path, head: _is_text(head)),
    Kind("PyTorch state_dict (.pt)", lambda path, head: head.startswith(b"PK") and _is_torch_file(path)),
    Kind("QTI package (.zip)", lambda path, head: head.startswith(b"PK") and _is_qti(path)),
)}
CHECKPOINT, PNG, PDF, SVG, TEXT, TORCH, QTI = KINDS


def check_output(
    path: str | os.PathLike[str], *, kind: str, inputs: Iterable[str | os.PathLike[str]] = (),
    force: bool = False, option: str = "-o",
) -> Path:
    """The checked destination of an output file, before any work is done.

    Refuses (OutputError, one line): an empty path; a directory, FIFO, device, socket or symbolic
    link; a missing or unwritable folder; a read-only file; any of ``inputs`` (a command never
    overwrites what it reads); and, unless ``force``, an existing file that is not of ``kind``
    (one of KINDS). Replacing an earlier output of the same kind is normal and allowed.
    """
    text = os.fspath(path)
    if not text.strip():
        raise OutputError(f"{option} '': an empty file name; give the path of the file to write")
    target = Path(text)
    where = f"{option} {text}"
    if text.endswith(os.sep) or (target.is_dir() and not target.is_symlink()):
        raise OutputError(f"{where}: is a folder; give a file name inside it")
    _check_not_special(target, where)
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"{where}: the folder {folder} does not exist; create it first "
                          f"(mkdir -p {folder})")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{where}: cannot write in the folder {folder} (permission denied); "
                          "choose another place")
    for source in inputs:
        if _same_file(target, Path(source)):
            raise OutputError(f"{where}: is also an input of this command; write the output to "
                              "another file")
    if target.exists():
        if not os.access(target, os.W_OK):
            raise OutputError(f"{where}: the file is read-only; choose another name or make it "
                              "writable")
        if not force and not _looks_like(target, kind):
            raise OutputError(f"{where}: exists and is not a {kind}; pass --force to replace it, "
                              "or choose another name")
    return target


def _check_not_special(target: Path, where: str) -> None:
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise OutputError(f"{where}: cannot inspect the path: {error.strerror}") from None
    if stat.S_ISLNK(mode):
        raise OutputError(f"{where}: is a symbolic link; gradtrace writes only regular files, so "
                          "give the file it points to or a new name")
    if stat.S_ISDIR(mode):
        raise OutputError(f"{where}: is a folder; give a file name inside it")
    if not stat.S_ISREG(mode):
        what = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device" if
                stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise OutputError(f"{where}: is {what}; gradtrace writes only regular files (use - for "
                          "standard output where a command offers it)")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _looks_like(target: Path, kind: str) -> bool:
    try:
        with target.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    return not head or KINDS[kind].recognise(target, head)  # an empty file holds nothing to lose


# ---- atomic writes ---------------------------------------------------------------------------

def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + ``os.replace``).

    Raises OutputError (never a bare OSError) when the path is not a regular file or a new name,
    or the folder cannot be written.
    """
    target = Path(path)
    where = os.fspath(path)
    _check_not_special(target, where)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise OutputError(f"{where}: cannot write in the folder {folder}: "
                          f"{error.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mode = target.stat().st_mode & 0o777 if target.exists() else DEFAULT_MODE
        os.chmod(tmp_name, mode)  # mkstemp makes 0600 files; keep the old or usual permissions
        _check_not_special(target, where)  # it may have changed while we wrote
        os.replace(tmp_name, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(error, OSError):
            raise OutputError(f"{where}: cannot write the file: {error.strerror}") from None
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


def write_stdout(text: str) -> bool:
    """Write ``text`` to standard output and flush; False once the reader has gone.

    When the pipe closes (``gradtrace train | head -1``), standard output is pointed at the null
    device so that later writes and Python's final flush cannot fail either.
    """
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return False
    return True


# ---- bounded .npz reading --------------------------------------------------------------------

def load_npz(path: str | os.PathLike[str],
             max_bytes: int | None = None) -> dict[str, npt.NDArray[Any]]:
    """Every array of an ``.npz`` file, read without pickle; CheckpointError if unreadable.

    Each member's zip entry size and its ``.npy`` header (shape × item size) are checked against
    ``max_bytes`` (default MAX_NPZ_BYTES, all members together) before any data is read.
    """
    limit = MAX_NPZ_BYTES if max_bytes is None else max_bytes
    hint = "was it written by gradtrace?"
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_NPZ_MEMBERS:
                raise CheckpointError(f"{path}: {len(entries):,} arrays; at most "
                                      f"{MAX_NPZ_MEMBERS:,} are read ({hint})")
            total = 0
            arrays: dict[str, npt.NDArray[Any]] = {}
            for entry in entries:
                total += entry.file_size
                if total > limit:
                    raise CheckpointError(_too_big(path, entry.filename, total, limit))
                with archive.open(entry) as member:
                    name = entry.filename.removesuffix(".npy")
                    arrays[name] = _read_member(path, name, member, limit)
            return arrays
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a folder, not a .npz file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, NotImplementedError) as error:
        raise CheckpointError(
            f"{path}: not a readable gradtrace .npz file ({error}); {hint}"
        ) from None


def _read_member(path: str | os.PathLike[str], name: str, member: Any,
                 limit: int) -> npt.NDArray[Any]:
    version = np.lib.format.read_magic(member)
    reader = {(1, 0): np.lib.format.read_array_header_1_0,
              (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if reader is None:
        raise ValueError(f"array {name!r} has .npy version {version}")
    shape, fortran_order, dtype = reader(member)
    if dtype.hasobject:
        raise CheckpointError(f"{path}: array {name!r} holds Python objects (pickle), which "
                              "gradtrace never reads; save numbers or text instead")
    size = math.prod(shape) * dtype.itemsize
    if size > limit:
        raise CheckpointError(_too_big(path, name, size, limit, f" (shape {shape})"))
    raw = bytearray(size)  # read straight into one buffer, then view it: no second copy
    view, filled = memoryview(raw), 0
    while filled < size:
        got = member.readinto(view[filled:])
        if not got:
            raise ValueError(f"array {name!r} is cut short")
        filled += got
    array = np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
    return array


def _too_big(path: str | os.PathLike[str], name: str, size: int, limit: int,
             detail: str = "") -> str:
    return (f"{path}: array {name!r} needs {size:,} bytes{detail}, over the limit of "
            f"{limit:,} bytes for a model file; it is damaged or not a gradtrace model")
