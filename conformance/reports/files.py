"""Writing report files safely: atomically, with a plain file's mode, checked before a run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to a temporary file, then rename it: readers never see half a report.

    The file gets the mode a plain ``open`` would give (0666 less the umask), not the 0600
    of a temporary file, so CI artifact uploaders and colleagues can read it.
    """
    target = Path(path)
    fd, tmp = _temporary(target)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _temporary(target: Path) -> tuple[int, str]:
    """A new temporary file beside ``target`` (the same directory, so the rename is atomic)."""
    return tempfile.mkstemp(prefix=f".{target.name[:64]}.", dir=target.parent)


def _umask() -> int:
    """This process's umask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def unwritable(path: str | os.PathLike[str]) -> str | None:
    """Why :func:`write_atomic` could not write ``path``, or None when it can: tried by
    creating (and removing) its temporary file, so a read-only place, ``/proc`` or a name
    too long for the file system is found before a run rather than after it."""
    target = Path(path)
    try:
        if not target.parent.is_dir():
            return f"directory {target.parent} does not exist"
        try:
            limit = os.pathconf(target.parent, "PC_NAME_MAX")
        except (OSError, ValueError):
            limit = 255
        if len(os.fsencode(target.name)) > limit:
            return f"the file name is longer than {limit} bytes; give a shorter one"
        if target.is_dir():
            return "is a directory; give a file path"
    except OSError as exc:  # a folder name too long, a loop of links ...
        return f"cannot be used ({exc.strerror or exc})"
    try:
        fd, tmp = _temporary(target)
    except OSError as exc:
        return f"cannot create a file in {target.parent} ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(tmp)
    if target.exists() and not os.access(target, os.W_OK):
        return "not writable"
    return None
