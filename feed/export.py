"""Export files: the frames of :func:`feed.history.export_frame` as CSV or Parquet bytes.

One writer for the CLI (``python -m feed export``) and the Quotes page's download
buttons, so both hand out the same bytes for the same rows. Columns keep their English
names whatever the page language; times are ISO-8601 UTC with milliseconds in CSV and
UTC timestamps in Parquet; prices are written exactly (shortest round-trip form).

Thread ownership: none; pure functions of a frame.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd

__all__ = ["FORMATS", "MIME", "to_bytes", "write_file"]

FORMATS = ("csv", "parquet")
MIME = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "csv":
        out = frame.copy()
        out["ts"] = out["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
        return out.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False, engine="pyarrow")
        return buf.getvalue()
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def write_file(frame: pd.DataFrame, fmt: str, path: str | Path) -> Path:
    """Write whole or not at all: a temporary file renamed into place."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(to_bytes(frame, fmt))
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
