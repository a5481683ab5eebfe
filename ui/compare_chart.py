"""The cross-market comparison chart: each symbol's path as % since its previous close.

Pure functions from DataFrames to Vega-Lite; the spec is built and validated once
per layout (``ui.charts._spec_json``) and each refresh sends only the data. Lines
end in a dot of their colour and a label naming the symbol and its move; labels
are moved apart (:func:`dodge`) so eight close lines stay readable.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import _spec_json
from ui.colors import Convention
from ui.i18n import EN, Translator, translator

__all__ = [
    "COMPARE_COLORS",
    "LABEL_GAP_PX",
    "compare_chart",
    "compare_frame",
    "compare_spec",
    "dodge",
    "pct_since",
]

# Series colours for the comparison: eight hues far apart (CIE76 distance >= 29 for
# every pair), none of them the red or green that mean direction here.
COMPARE_COLORS = ("#4e8fe8", "#f28e2b", "#a57ad8", "#2ec4d6", "#ff8fc7", "#e0c13a", "#8d99ae", "#a0703c")
COMPARE_HEIGHT = 420
# Vertical room an end label needs, and the part of the chart height the plot gets.
LABEL_GAP_PX = 16
_PLOT_PX = COMPARE_HEIGHT - 110


def pct_since(price: pd.Series | float, prev_close: float) -> pd.Series | float:
    """% move since the previous close: ``(price / prev_close - 1) * 100``."""
    return (price / prev_close - 1.0) * 100.0


def compare_frame(
    histories: Mapping[str, pd.DataFrame],
    prev_closes: Mapping[str, float],
    tz: str = "UTC",
    max_points: int = 400,
) -> pd.DataFrame:
    """Long format ``symbol, time, clock, price, pct, label_pct`` for the comparison lines.

    ``time`` is wall-clock time in ``tz`` (naive), so the chart shows the viewer's
    clock whatever zone the browser is in. Symbols without a usable previous close are
    left out: a % move needs a base. ``label_pct`` is set on each line's last point
    only: where its end label goes, moved apart from the others (:func:`dodge`). A NaN
    price inside a path (a gap) is kept as a NaN row, where the chart breaks the line.
    """
    parts = []
    for symbol, hist in histories.items():
        base = prev_closes.get(symbol)
        if hist is None or hist.empty or base is None or not base > 0:
            continue
        h = _trimmed(hist)
        if h.empty:
            continue
        if len(h) > max_points:
            h = h.iloc[_thin_keeping_gaps(h["price"].isna().to_numpy(), max_points)]
        ts = pd.to_datetime(h["ts"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
        parts.append(
            pd.DataFrame(
                {
                    "symbol": symbol,
                    "time": ts.to_numpy(),
                    "clock": ts.dt.strftime("%H:%M:%S").to_numpy(),
                    "price": h["price"].astype(float).to_numpy(),
                    "pct": pct_since(h["price"].astype(float), float(base)).to_numpy(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                "symbol": pd.Series(dtype=str),
                "time": pd.Series(dtype="datetime64[ns]"),
                "clock": pd.Series(dtype=str),
                "price": pd.Series(dtype=float),
                "pct": pd.Series(dtype=float),
                "label_pct": pd.Series(dtype=float),
            }
        )
    frame = pd.concat(parts, ignore_index=True)
    last = frame.groupby("symbol", sort=False)["time"].idxmax()
    lo = min(0.0, float(frame["pct"].min()))
    hi = max(0.0, float(frame["pct"].max()))
    placed = dodge(frame.loc[last, "pct"].to_numpy(), lo, hi)
    frame["label_pct"] = np.nan
    frame.loc[last.to_numpy(), "label_pct"] = placed
    return frame


def _trimmed(hist: pd.DataFrame) -> pd.DataFrame:
    """The path without NaN rows at its ends; a NaN inside (a gap the feed could not fill) stays."""
    valid = hist["price"].notna().to_numpy()
    if not valid.any():
        return hist.iloc[0:0]
    first, last = int(valid.argmax()), len(valid) - int(valid[::-1].argmax())
    return hist.iloc[first:last]


def _thin_keeping_gaps(gap: np.ndarray, points: int) -> list[int]:
    """About ``points`` evenly spaced rows, and every gap row: thinning never bridges a break."""
    n = len(gap)
    step = (n - 1) / (points - 1)
    picks = {round(i * step) for i in range(points)}
    picks.update(int(i) for i in np.flatnonzero(gap))
    return sorted(picks)


def dodge(
    values: Sequence[float] | np.ndarray, lo: float, hi: float, gap_px: float = LABEL_GAP_PX
) -> np.ndarray:
    """End-label positions at least ``gap_px`` apart on a plot of ``_PLOT_PX`` pixels.

    Labels keep their order; each sits as close to its own line end as the others
    allow, and the group stays inside ``[lo, hi]`` when it fits.
    """
    y = np.asarray(values, dtype=float)
    if len(y) < 2:
        return y.copy()
    span = max(hi - lo, 1e-9)
    gap = span * gap_px / _PLOT_PX
    order = np.argsort(y, kind="stable")
    pos = y[order].copy()
    for i in range(1, len(pos)):
        pos[i] = max(pos[i], pos[i - 1] + gap)
    overflow = pos[-1] - max(hi, y.max())
    if overflow > 0:
        pos -= overflow
        for i in range(len(pos) - 2, -1, -1):
            pos[i] = min(pos[i], pos[i + 1] - gap)
    out = np.empty_like(pos)
    out[order] = pos
    return out


def compare_chart(
    frame: pd.DataFrame,
    convention: Convention,
    symbols: Sequence[str] | None = None,
    tz_label: str = "UTC",
    tr: Translator = EN,
    theme: str = "dark",
) -> alt.LayerChart:
    """Lines of % since previous close, one per symbol, with the latest move labelled.

    Series colours avoid red and green; the end labels carry the direction colour of
    the viewer's convention. The Altair form of :func:`compare_spec`, with ``frame`` as data.
    """
    order = tuple(symbols) if symbols is not None else tuple(dict.fromkeys(frame["symbol"]))
    template = _compare_template(convention, order, tz_label, _time_format(frame), tr.lang, theme)
    chart = template.copy(deep=False)
    chart.data = frame
    return chart


def compare_spec(
    frame: pd.DataFrame,
    convention: Convention,
    symbols: Sequence[str] | None = None,
    tz_label: str = "UTC",
    tr: Translator = EN,
    theme: str = "dark",
) -> dict[str, Any]:
    """The comparison's Vega-Lite spec without data, for ``st.vega_lite_chart(frame, spec)``.

    Built and validated once per (convention, symbols, zone, time format, language,
    theme); a fresh copy each call, since Streamlit edits the spec it is given.
    """
    order = tuple(symbols) if symbols is not None else tuple(dict.fromkeys(frame["symbol"]))
    return json.loads(_compare_spec_json(convention, order, tz_label, _time_format(frame), tr.lang, theme))


def _time_format(frame: pd.DataFrame) -> str:
    span = frame["time"].max() - frame["time"].min() if not frame.empty else pd.Timedelta(0)
    # Seconds matter only while a path is minutes long (right after a symbol is added).
    return "%H:%M:%S" if span < pd.Timedelta(minutes=10) else "%H:%M"


@functools.lru_cache(maxsize=64)
def _compare_spec_json(
    convention: Convention, order: tuple[str, ...], tz_label: str, time_format: str, lang: str, theme: str
) -> str:
    return _spec_json(_compare_template(convention, order, tz_label, time_format, lang, theme))


@functools.lru_cache(maxsize=64)
def _compare_template(
    convention: Convention, order: tuple[str, ...], tz_label: str, time_format: str, lang: str, theme: str
) -> alt.LayerChart:
    """The data-free comparison: every layer but the zero rule reads the top-level data."""
    tr = translator(lang)
    palette = convention.text_palette(theme)
    series_scale = alt.Scale(domain=list(order), range=list(COMPARE_COLORS[: max(1, len(order))]))
    series = alt.Color(
        "symbol:N",
        title=None,
        scale=series_scale,
        # No legend: each line ends in a dot of its colour and a label naming it (a
        # legend of eight ran off a phone's width).
        legend=None,
    )
    time_title = tr._("Time ({zone})", zone=tz_label)
    x = alt.X(
        "time:T",
        title=time_title,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format=time_format, tickCount=6, labelOverlap=True),
    )
    y = alt.Y(
        "pct:Q",
        title=tr._("% since previous close"),
        scale=alt.Scale(zero=False),
        axis=alt.Axis(format="+.1f"),
    )
    tooltip = [
        alt.Tooltip("symbol:N", title=tr._("Symbol")),
        alt.Tooltip("clock:N", title=time_title),
        alt.Tooltip("price:Q", title=tr._("Price"), format=",.4~f"),
        alt.Tooltip("pct:Q", title=tr._("% since previous close"), format="+.2f"),
    ]
    lines = (
        alt.Chart()
        # A NaN price (minutes nobody saw) breaks the line there: never a straight line across it.
        .mark_line(strokeWidth=2, interpolate="linear", invalid="break-paths-show-domains")
        .encode(x=x, y=y, color=series, tooltip=tooltip)
    )
    zero = (
        alt.Chart(alt.InlineData(values=[{"pct": 0.0}]))
        .mark_rule(color="#8b93a1", strokeDash=[4, 4])
        .encode(y="pct:Q")
    )
    last = (
        alt.Chart()
        .transform_filter("isValid(datum.label_pct)")
        .transform_calculate(
            label="datum.symbol + '  ' + (datum.pct > 0 ? '+' : '') + format(datum.pct, '.2f') + '%'",
            direction="datum.pct > 0 ? 'up' : datum.pct < 0 ? 'down' : 'flat'",
        )
    )
    dot_color = alt.Color("symbol:N", scale=series_scale, legend=None)
    dots = last.mark_circle(size=50, opacity=1).encode(x=x, y=y, color=dot_color, tooltip=tooltip)
    labels = last.mark_text(align="left", dx=8, fontSize=12, fontWeight="bold").encode(
        x=x,
        y=alt.Y("label_pct:Q"),
        text="label:N",
        color=alt.Color(
            "direction:N",
            scale=alt.Scale(domain=["up", "down", "flat"], range=[palette.up, palette.down, palette.neutral]),
            legend=None,
        ),
    )
    return (
        alt.layer(zero, lines, dots, labels)
        .resolve_scale(color="independent")
        .properties(height=COMPARE_HEIGHT, width="container")
    )
