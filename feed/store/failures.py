"""What a store error means, from the exception alone: pure, no state.

DuckDB reports everything as an exception whose type is not specific enough (an
``IOException`` is a lock held by another process, a full disk or a file that is not
a database), so the cause is read from the type, the errno and the words. Each cause
leads somewhere different: a full disk pauses and waits for space, a corrupt file is
moved aside, a held lock makes this process a reader, anything else is retried.
"""

from __future__ import annotations

import errno
from enum import StrEnum

__all__ = ["Cause", "StoreError", "classify", "needs_reopen"]


class Cause(StrEnum):
    LOCKED = "locked by another process"
    DISK_FULL = "disk full"
    CORRUPT = "corrupt or unreadable"
    DENIED = "permission denied"
    OTHER = "error"


class StoreError(RuntimeError):
    """A store request that could not be answered, named by its cause."""

    def __init__(self, message: str, cause: Cause = Cause.OTHER) -> None:
        super().__init__(message)
        self.cause = cause


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
_WORDS = (
    (Cause.LOCKED, ("could not set lock", "conflicting lock")),
    (Cause.DISK_FULL, ("no space left", "disk quota exceeded", "file too large", "out of disk")),
    (Cause.DENIED, ("permission denied", "read-only file system")),
    (
        Cause.CORRUPT,
        (
            "not a valid duckdb database",
            "corrupt",
            "checksum",
            "could not read enough bytes",
            "is a directory",
            "serialization error",
            "version number",
            "created with an",
            "incompatible",
        ),
    ),
)


def classify(exc: BaseException) -> Cause:
    if isinstance(exc, StoreError):
        return exc.cause
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in _FULL:
            return Cause.DISK_FULL
        if exc.errno in _DENIED:
            return Cause.DENIED
    text = str(exc).lower()
    for cause, words in _WORDS:
        if any(w in text for w in words):
            return cause
    return Cause.OTHER


def needs_reopen(exc: BaseException) -> bool:
    """DuckDB invalidates a database after a fatal error: only a new connection works again."""
    text = str(exc).lower()
    return type(exc).__name__ == "FatalException" or "invalidated" in text or "fatal error" in text
