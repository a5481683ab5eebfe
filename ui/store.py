"""The tick store on the pages: its banners, its Feed health figures, the export buttons.

The builders are pure (a status in, text or rows out) and unit-tested; the ``render_*``
functions draw them and run in the script thread. The feed names each situation
(:class:`feed.store.status.StoreStatus`); the words here are the viewer's language, with
the feed's own sentence kept only as the detail of an unexpected failure.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from feed.export import MIME, to_bytes
from feed.store.status import FAILED, OFF, PAUSED, READ_ONLY, WRITING, StoreStatus
from ui.i18n import EN, NP_, Translator
from ui.watchlist import escape_markdown, shorten

__all__ = [
    "export_name",
    "render_export",
    "render_store_banner",
    "size_text",
    "store_figures",
    "store_notices",
]

MODES = {
    OFF: NP_("store mode", "off"),
    "starting": NP_("store mode", "starting"),
    WRITING: NP_("store mode", "writing"),
    READ_ONLY: NP_("store mode", "read-only"),
    PAUSED: NP_("store mode", "paused: disk full"),
    FAILED: NP_("store mode", "failed"),
}


def size_text(n: int) -> str:
    """Bytes in the largest unit that keeps the number short (units read the same in Chinese)."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{n} B"


def store_notices(store: StoreStatus, tr: Translator = EN) -> list[tuple[str, str, str]]:
    """``(level, markdown, icon)`` for each situation the viewer should know of, worst first."""
    out: list[tuple[str, str, str]] = []
    if store.mode == PAUSED:
        text = tr._(
            "**The disk is full: the tick store paused writing.** {n} new ticks wait in memory and are "
            "written when space returns; the live feed is unaffected.",
            n=f"{store.buffered:,}",
        )
        if store.dropped:
            text += " " + tr._("{n} ticks did not fit in memory and were not stored.", n=f"{store.dropped:,}")
        out.append(("error", text, ":material/hard_drive:"))
    elif store.mode == FAILED:
        detail = escape_markdown(shorten(store.message, 220))
        text = tr._(
            "**The tick store cannot be used:** {detail}. The live feed is unaffected.", detail=detail
        )
        out.append(("warning", text, ":material/error:"))
    if store.moved_aside:
        name = store.moved_aside.replace("\\", "/").rsplit("/", 1)[-1]
        text = tr._(
            "**The tick store file could not be read,** so it was moved aside to `{name}` and a fresh "
            "store started. The live feed carried on; the old file is kept for inspection.",
            name=name,
        )
        out.append(("warning", text, ":material/report:"))
    if store.mode == READ_ONLY:
        who = tr._("pid {pid}", pid=store.writer_pid) if store.writer_pid else tr._("another process")
        text = tr._(
            "**The tick store is read-only here:** {who} writes it in `{directory}`. This app reads its "
            "history but stores none of its own ticks.",
            who=who,
            directory=store.directory or "",
        )
        out.append(("info", text, ":material/lock:"))
    return out


def render_store_banner(store: StoreStatus, tr: Translator = EN) -> None:
    for level, text, icon in store_notices(store, tr):
        getattr(st, level)(text, icon=icon)


def store_figures(store: StoreStatus, tr: Translator = EN) -> list[tuple[str, str, str]]:
    """``(label, value, help)`` for the Feed health page's tick store cards."""
    lag = store.lag_p99
    oldest = store.oldest.isoformat() if store.oldest else "—"
    return [
        (
            tr._("Tick store"),
            tr.pgettext(*MODES.get(store.mode, MODES[FAILED])),
            tr._("Its DuckDB file lives in `{directory}`", directory=store.directory)
            if store.directory
            else "",
        ),
        (
            tr._("Size on disk"),
            size_text(store.size_bytes),
            tr._("{n} ticks held; kept for {days} days", n=f"{store.ticks:,}", days=store.retention_days),
        ),
        (tr._("Oldest day"), oldest, tr._("The oldest day with stored ticks or bars (UTC)")),
        (
            tr._("Write lag (p99)"),
            "—" if lag is None or math.isnan(lag) else f"{lag:.2f} s",
            tr._("From the feed handing a tick over to it being on disk, over the last minute"),
        ),
        (
            tr._("Waiting / dropped"),
            f"{store.buffered:,} / {store.dropped:,}",
            tr._("Ticks waiting in memory for the disk, and ticks that did not fit"),
        ),
    ]


def export_name(kind: str, day: dt.date, fmt: str) -> str:
    return f"{'ticks' if kind == 'ticks' else 'bars-1m'}-{day.isoformat()}.{fmt}"


def _bytes(make: Callable[[], Any], fmt: str) -> Callable[[], bytes]:
    """The file, made when the button is pressed; a failure becomes a file that says why."""

    def build() -> bytes:
        try:
            return to_bytes(make(), fmt)
        except Exception as exc:  # the store busy or unreadable: say so rather than fail silently
            return f"error\n{str(exc).replace(chr(10), ' ')}\n".encode()

    return build


def render_export(
    manager: Any, codes: Sequence[str], store: StoreStatus, today: dt.date, tr: Translator
) -> None:
    """A day of the watchlist's stored ticks or minute bars, as CSV or Parquet: the CLI's rows."""
    with st.expander(tr._("Export stored ticks"), icon=":material/download:"):
        if store.mode == OFF:
            st.caption(tr._("The tick store is off (`QUOTES_DATA_DIR=off`): there is nothing to export."))
            return
        left, mid = st.columns([1, 1], vertical_alignment="bottom")
        day = left.date_input(
            tr._("Day"),
            value=today,
            max_value=today,
            min_value=today - dt.timedelta(days=max(1, store.retention_days)),
            key="export_day",
            help=tr._("Each symbol's day in its own market's time"),
        )
        kind = mid.segmented_control(
            tr._("Rows"),
            ["ticks", "1m"],
            default="ticks",
            required=True,
            key="export_kind",
            format_func=lambda k: tr._("Ticks") if k == "ticks" else tr._("1-minute bars"),
        )
        kind = kind or "ticks"
        rows = lambda: manager.export(list(codes), first=day, last=day, kind=kind)  # noqa: E731
        csv_col, pq_col = st.columns(2)
        for col, fmt, label in ((csv_col, "csv", "CSV"), (pq_col, "parquet", "Parquet")):
            col.download_button(
                label,
                data=_bytes(rows, fmt),
                file_name=export_name(kind, day, fmt),
                mime=MIME[fmt],
                key=f"export_{fmt}",
                on_click="ignore",
                icon=":material/download:",
                width="stretch",
            )
        st.caption(
            tr._(
                "The watchlist's stored rows for that day, English column names and UTC times: the same "
                "file as `python -m feed export --kind {kind} --from {day} --to {day}`.",
                kind=kind,
                day=day.isoformat(),
            )
        )
