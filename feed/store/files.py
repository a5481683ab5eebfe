"""The store's directory: where the database lives, who writes it, who waits to read it.

DuckDB lets one process open a database file for writing and no other process open it
at all meanwhile (not even read-only). So the writing process holds ``writer.lock``
(an ``flock``, released by the kernel if the process dies) for as long as its store
runs, and a second process on the same directory knows at once it is the reader. A
reader that needs the file drops a request in ``readers/``; the writer, which looks
there between batches, closes its connection for a moment so the reader can open the
file read-only, and carries on once the reader is done (see :mod:`feed.store.writer`).

Thread ownership: the :class:`WriterLock` belongs to the store thread that took it; the
other functions keep no state (the file system is the shared medium, by design).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import itertools
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import NamedTuple

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; one process per directory is assumed
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "STALE_REQUEST",
    "Layout",
    "WriterLock",
    "ask_to_read",
    "free_bytes",
    "move_aside",
    "read_requests",
    "space_needed",
]

log = logging.getLogger("feed.store")

DB_NAME = "ticks.duckdb"
STALE_REQUEST = 30.0  # seconds after which a read request is a crashed reader's leftover
_requests = itertools.count(1)


class Layout(NamedTuple):
    directory: Path

    @property
    def db(self) -> Path:
        return self.directory / DB_NAME

    @property
    def wal(self) -> Path:
        return self.directory / (DB_NAME + ".wal")

    @property
    def lock(self) -> Path:
        return self.directory / "writer.lock"

    @property
    def readers(self) -> Path:
        return self.directory / "readers"

    def size_bytes(self) -> int:
        total = 0
        for p in (self.db, self.wal):
            with contextlib.suppress(OSError):
                total += p.stat().st_size
        return total


def owner_pid() -> int:
    """The feed's process: this one, or for a store in its own process, the feed that
    started it (``QUOTES_STORE_OWNER_PID``): the pid a user would look for."""
    raw = os.environ.get("QUOTES_STORE_OWNER_PID", "")
    return int(raw) if raw.isdigit() else os.getpid()


class WriterLock:
    """``writer.lock``: held by the one process that writes the directory's database."""

    def __init__(self, layout: Layout) -> None:
        self._path = layout.lock
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process (or store) holds it."""
        if self._fd is not None:
            return True
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{owner_pid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> int | None:
        """The pid written by the process holding the lock (None when unknown)."""
        try:
            text = self._path.read_text(encoding="ascii").strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def move_aside(layout: Layout, now: dt.datetime) -> Path:
    """Rename an unreadable database (and its WAL) out of the way; returns the new name."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    target = layout.directory / f"{DB_NAME}.corrupt-{stamp}"
    n = 1
    while target.exists():
        n += 1
        target = layout.directory / f"{DB_NAME}.corrupt-{stamp}-{n}"
    layout.db.rename(target)
    if layout.wal.exists():
        layout.wal.rename(Path(str(target) + ".wal"))
    return target


def free_bytes(directory: Path) -> int:
    """Free space where the store writes (the writer's seam for a full disk)."""
    return shutil.disk_usage(directory).free


def space_needed(directory: Path, wanted: int) -> int:
    """Free space below which writing waits: ``wanted``, or a tenth of a small filesystem."""
    return min(wanted, shutil.disk_usage(directory).total // 10)


def ask_to_read(layout: Layout) -> Path:
    """Leave a read request for the writer; the caller removes it when done."""
    layout.readers.mkdir(parents=True, exist_ok=True)
    path = layout.readers / f"{os.getpid()}-{threading.get_ident()}-{next(_requests)}"
    path.touch()
    return path


def read_requests(layout: Layout) -> int:
    """Read requests waiting now; leftovers of crashed readers are removed."""
    try:
        entries = list(os.scandir(layout.readers))
    except OSError:
        return 0
    now, waiting = time.time(), 0
    for entry in entries:
        try:
            if now - entry.stat().st_mtime > STALE_REQUEST:
                os.unlink(entry.path)
            else:
                waiting += 1
        except OSError:
            continue
    return waiting
