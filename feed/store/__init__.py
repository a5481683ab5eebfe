"""The tick store: every accepted tick and every completed 1-minute bar, in DuckDB on disk.

Why: the feed keeps a day's paths in memory only, so a restart lost them and a quant had
nothing to backtest on. One thread (``feed-store``, :class:`feed.store.sink.TickStore`)
owns the database connection; the processor hands it each accepted batch the way it
hands every tick sink (bounded buffer, drops counted, never waiting on disk); readers
(``history()``, ``bars()``, the export) send it typed requests and wait on a reply.

Modules: ``files`` (the directory: database, writer lock, read requests), ``failures``
(what an error means: disk full, corrupt, locked), ``schema`` (tables), ``db`` (the
connection's statements), ``writer`` (open, commit, move aside, pause, lend), ``aggregate``
(minute bars from ticks), ``sink`` (the thread), ``queries``/``reading`` (reads from any
process), ``seeding`` (a restart's paths), ``export`` (CSV and Parquet).

This package module imports nothing heavy: DuckDB loads with the first store opened.
Thread ownership: no state here.
"""

from __future__ import annotations

__all__: list[str] = []
