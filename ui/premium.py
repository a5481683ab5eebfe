"""The Premium page's pieces: the table as users read it, the bar chart, the intraday line.

Pure builders (no Streamlit): they take :func:`feed.premium.premium_table`'s frame, the
premium path and the viewer's convention and language, and return a DataFrame or an
Altair chart; the page only lays them out. Numbers stay raw floats (the grid formats
them), so what the page shows is exactly what the library and the CLI compute.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from feed.premium import Kind
from ui.colors import Convention
from ui.i18n import EN, N_, Translator

__all__ = ["COLUMNS", "WIDTHS", "averages_lines", "premium_bars", "premium_line", "premium_rows"]

# Display column -> msgid; the frame keeps these keys, the page labels them per language.
COLUMNS: dict[str, str] = {
    "Pair": N_("Pair"),
    "Kind": N_("Kind"),
    "Price": N_("US / A price"),
    "Traded": N_("Traded (local)"),
    "HK price": N_("HK price"),
    "HK traded": N_("HK traded (HKT)"),
    "FX": N_("FX"),
    "Ratio": N_("Ratio"),
    "Implied HK": N_("Implied HK price"),
    "Premium %": N_("Premium %"),
    "Sessions": N_("Sessions"),
}
# Pixel widths that keep every column in view beside the sidebar at 1280 px and up.
WIDTHS: dict[str, int] = {
    "Pair": 150, "Kind": 55, "Price": 78, "Traded": 108, "HK price": 74, "HK traded": 112,
    "FX": 112, "Ratio": 48, "Implied HK": 86, "Premium %": 82, "Sessions": 110,
}  # fmt: skip
_KIND_LABEL = {Kind.ADR.value: N_("ADR"), Kind.AH.value: N_("A/H")}
_ZONE = {Kind.ADR.value: "ET", Kind.AH.value: "CST"}


def _clock(ts: object, zone: str) -> str:
    if ts is None or pd.isna(ts):
        return "—"
    return f"{pd.Timestamp(ts).strftime('%m-%d %H:%M')} {zone}"


def premium_rows(table: pd.DataFrame, tr: Translator = EN) -> pd.DataFrame:
    """One display row per pair, in the table's order (highest premium first)."""
    rows = []
    for r in table.itertuples(index=False):
        fx = f"{r.usdhkd:.4f}" if r.kind == Kind.ADR.value else f"{r.usdhkd:.4f}/{r.usdcnh:.4f}"
        if math.isnan(r.usdhkd):
            fx = "—"
        if math.isnan(r.premium_pct):
            sessions = ""
        elif r.different_sessions:
            sessions = tr._("different sessions")
        else:
            sessions = tr._("same session")
        if r.stale_fx and not math.isnan(r.premium_pct):
            sessions = (sessions + " · " if sessions else "") + tr._("FX stale")
        rows.append(
            {
                "Pair": f"{r.symbol} / {r.peer}",
                "Kind": tr._(_KIND_LABEL[r.kind]),
                "Price": r.symbol_price,
                "Traded": _clock(r.symbol_local_time, _ZONE[r.kind]),
                "HK price": r.peer_price,
                "HK traded": _clock(r.peer_local_time, "HKT"),
                "FX": fx,
                "Ratio": r.ratio,
                "Implied HK": r.implied_peer_price,
                "Premium %": r.premium_pct,
                "Sessions": sessions,
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def averages_lines(averages: pd.DataFrame, tr: Translator = EN) -> list[tuple[str, float, str]]:
    """``(label, mean %, help)`` per kind: an equal-weighted mean, said to be one."""
    out = []
    for r in averages.itertuples(index=False):
        kind = tr._(_KIND_LABEL[r.kind])
        label = tr._("{kind}: equal-weighted mean premium", kind=kind)
        if r.kind == Kind.AH.value:
            note = tr._("Mean of {used} of {total} pairs. Not the Hang Seng AH Premium Index.")
        else:
            note = tr._("Mean of {used} of {total} pairs. Not an index.")
        out.append((label, r.mean_premium_pct, note.format(used=r.pairs_used, total=r.pairs_total)))
    return out


def premium_bars(table: pd.DataFrame, convention: Convention, tr: Translator = EN) -> alt.Chart:
    """Premium per pair as horizontal bars, coloured by sign with the viewer's convention."""
    data = table.dropna(subset=["premium_pct"]).assign(pair=lambda d: d["symbol"] + " / " + d["peer"])
    data = data.assign(sign=data["premium_pct"].map(lambda v: "up" if v > 0 else "down" if v < 0 else "flat"))
    palette = convention.palette
    colour = alt.Color("sign:N").scale(
        domain=["up", "down", "flat"], range=[palette.up, palette.down, palette.neutral]
    )
    order = list(data["pair"])
    return (
        alt.Chart(data[["pair", "premium_pct", "sign", "kind"]])
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            x=alt.X("premium_pct:Q").title(tr._("Premium %")),
            y=alt.Y("pair:N").sort(order).title(None).axis(labelLimit=200),
            color=colour.legend(None),
            tooltip=[
                alt.Tooltip("pair:N", title=tr._("Pair")),
                alt.Tooltip("kind:N", title=tr._("Kind")),
                alt.Tooltip("premium_pct:Q", title=tr._("Premium %"), format="+.2f"),
            ],
        )
        .properties(height=alt.Step(18))
    )


def premium_line(path: pd.DataFrame, tz: str, tr: Translator = EN) -> alt.Chart:
    """The pair's premium through the day; a gap in either leg breaks the line."""
    data = path[["ts", "premium_pct", "different_sessions"]].copy()
    data["ts"] = data["ts"].dt.tz_convert(tz).dt.tz_localize(None)
    data["premium_pct"] = data["premium_pct"].astype(float).where(data["premium_pct"].notna(), None)
    return (
        alt.Chart(data)
        .mark_line(interpolate="step-after", invalid=None, strokeWidth=2)
        .encode(
            x=alt.X("ts:T").title(tr._("Time ({tz})", tz=tz)),
            y=alt.Y("premium_pct:Q").scale(zero=False).title(tr._("Premium %")),
            tooltip=[
                alt.Tooltip("ts:T", title=tr._("Time"), format="%H:%M"),
                alt.Tooltip("premium_pct:Q", title=tr._("Premium %"), format="+.2f"),
            ],
        )
        .properties(height=260)
    )
