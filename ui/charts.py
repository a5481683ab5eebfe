"""Altair chart builders: the % change heatmap and the cross-market comparison.

Pure functions from DataFrames to ``alt.Chart``; tests read them through
``chart.to_dict()``. Specs keep their structure from one refresh to the next (fixed
colour domain, fixed grid width, stable tile order), so the 1 s fragment updates the
data in place instead of redrawing the view.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ui.colors import TILE_NEUTRAL, Convention
from ui.format import MISSING, format_pct, format_pcts, format_prices, prices_decimals
from ui.i18n import EN, Translator, translator
from ui.tables import display_names
from ui.vocab import freshness_map

__all__ = [
    "COMPARE_COLORS",
    "DIMMED_OPACITY",
    "compare_chart",
    "compare_frame",
    "compare_spec",
    "heatmap",
    "heatmap_frame",
    "heatmap_parts",
    "heatmap_spec",
    "pct_since",
    "scale_legend",
]

# Tiles whose price is not current (closed market, feed down, waiting) are drawn this faint.
DIMMED_OPACITY = 0.35
CURRENT = ("live", "quiet")
TILE_HEIGHT = 80

# Series colours for the comparison: eight hues far apart (CIE76 distance >= 29 for
# every pair), none of them the red or green that mean direction here.
COMPARE_COLORS = ("#4e8fe8", "#f28e2b", "#a57ad8", "#2ec4d6", "#ff8fc7", "#e0c13a", "#8d99ae", "#a0703c")
COMPARE_HEIGHT = 420
# Vertical room an end label needs, and the part of the chart height the plot gets.
LABEL_GAP_PX = 16
_PLOT_PX = COMPARE_HEIGHT - 110


def heatmap_frame(snapshot: pd.DataFrame, columns: int, tr: Translator = EN) -> pd.DataFrame:
    """Tile data: grid position in watchlist order plus preformatted labels."""
    d = snapshot.reset_index(drop=True)
    statuses = freshness_map(tr)
    pct = pd.to_numeric(d["pct_change"], errors="coerce").astype(float)
    last = pd.to_numeric(d["last"], errors="coerce").astype(float).to_numpy()
    prev = pd.to_numeric(d["prev_close"], errors="coerce").astype(float).to_numpy()
    decimals = prices_decimals(d["market"].tolist(), np.where(np.isnan(last), prev, last))
    status = d["freshness"].astype(str)
    index = np.arange(len(d))
    return pd.DataFrame(
        {
            "symbol": d["symbol"].astype(str),
            "name": display_names(d, tr).replace("", MISSING),
            "col": index % columns,
            "row": index // columns,
            "pct": pct,
            # Colour wants a number for every tile; a row without a move sits at the midpoint.
            "pct_color": pct.fillna(0.0),
            "pct_label": format_pcts(pct.to_numpy()),
            "last_label": format_prices(last, decimals),
            "prev_label": format_prices(prev, decimals),
            "status": status.map(lambda f: statuses.get(f, f)),
            "dimmed": ~status.isin(CURRENT),
        }
    )


def heatmap(
    snapshot: pd.DataFrame,
    convention: Convention,
    domain: float = 5.0,
    columns: int = 8,
    neutral: str = TILE_NEUTRAL,
    legend: bool = False,
    tr: Translator = EN,
) -> alt.LayerChart:
    """% change tiles on a fixed diverging scale: ``-domain`` .. 0 .. ``+domain``, clamped.

    The domain never follows the data, so a tile's colour means the same move on every
    refresh and in every market. Red-up swaps the ends of the range, not the data.
    """
    data = heatmap_frame(snapshot, columns, tr)
    rows = max(1, math.ceil(len(data) / columns))
    chart = _heatmap_template(convention, float(domain), columns, rows, neutral, legend, tr.lang).copy(
        deep=False
    )
    chart.data = data
    return chart


def heatmap_spec(
    convention: Convention,
    domain: float = 5.0,
    columns: int = 8,
    rows: int = 1,
    neutral: str = TILE_NEUTRAL,
    legend: bool = False,
    lang: str = "en",
) -> dict[str, Any]:
    """The heatmap's Vega-Lite spec without data, for ``st.vega_lite_chart(data, spec)``.

    Built and schema-validated once per layout (validation is most of the cost of
    ``st.altair_chart``); each call returns a fresh copy, since Streamlit edits the
    spec it is given. Same marks, scales and tooltips as :func:`heatmap`.
    """
    return json.loads(
        _heatmap_spec_json(
            convention, float(domain), int(columns), max(1, int(rows)), neutral, bool(legend), lang
        )
    )


def heatmap_parts(
    snapshot: pd.DataFrame,
    convention: Convention,
    domain: float = 5.0,
    columns: int = 8,
    neutral: str = TILE_NEUTRAL,
    legend: bool = False,
    tr: Translator = EN,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Tile data and its (cached) spec: what a page hands to ``st.vega_lite_chart``."""
    data = heatmap_frame(snapshot, columns, tr)
    rows = max(1, math.ceil(len(data) / columns))
    return data, heatmap_spec(convention, domain, columns, rows, neutral, legend, tr.lang)


@functools.lru_cache(maxsize=64)
def _heatmap_spec_json(
    convention: Convention, domain: float, columns: int, rows: int, neutral: str, legend: bool, lang: str
) -> str:
    return _spec_json(_heatmap_template(convention, domain, columns, rows, neutral, legend, lang))


def _spec_json(chart: alt.TopLevelMixin) -> str:
    """A data-free chart as validated Vega-Lite JSON, as ``st.altair_chart`` would send it.

    ``top_level=False`` leaves out Altair's theme (Streamlit disables it too) and the
    datasets; the schema URL is added back by hand. Altair points data-free layers at an
    ``empty`` dataset; those references go, so the layers use the data given at draw time.
    A layer's own fixed data is inlined.
    """
    datasets: dict[str, Any] = {}
    spec = chart.to_dict(validate=True, context={"top_level": False, "datasets": datasets})
    for layer in spec.get("layer", []):
        name = layer.get("data", {}).get("name")
        if name == "empty":
            del layer["data"]
        elif name in datasets:  # small fixed data (the zero rule) stays inline in the spec
            layer["data"] = {"values": datasets[name]}
    spec["$schema"] = alt.SCHEMA_URL
    return json.dumps(spec)


@functools.lru_cache(maxsize=64)
def _heatmap_template(
    convention: Convention, domain: float, columns: int, rows: int, neutral: str, legend: bool, lang: str
) -> alt.LayerChart:
    """The data-free spec, built once per layout: Altair spends ~60 ms deep-copying encodings,
    which a 1 s refresh should not pay each time. Callers shallow-copy it and set ``data``.
    """
    tr = translator(lang)
    color = alt.Color(
        "pct_color:Q",
        title=tr._("% change"),
        scale=pct_scale(convention, domain, neutral),
        legend=alt.Legend(orient="bottom", format="+.0f", gradientLength=240) if legend else None,
    )
    base = alt.Chart().encode(
        x=alt.X("col:O", axis=None, scale=alt.Scale(domain=list(range(columns)), paddingInner=0.06)),
        y=alt.Y("row:O", axis=None, scale=alt.Scale(domain=list(range(rows)), paddingInner=0.08)),
        tooltip=[
            alt.Tooltip("symbol:N", title=tr._("Symbol")),
            alt.Tooltip("name:N", title=tr._("Name")),
            alt.Tooltip("last_label:N", title=tr._("Last")),
            alt.Tooltip("prev_label:N", title=tr._("Prev close")),
            alt.Tooltip("pct_label:N", title=tr._("% change")),
            alt.Tooltip("status:N", title=tr._("Status")),
        ],
        opacity=alt.when(alt.datum.dimmed).then(alt.value(DIMMED_OPACITY)).otherwise(alt.value(1.0)),
    )
    tiles = base.mark_rect(cornerRadius=4).encode(color=color)
    # Smaller type when the chart is phone-narrow: "9988.HK" must fit a 55 px tile.
    small = f"width < {columns * 80}"
    symbols = base.mark_text(
        dy=-9, fontSize=alt.ExprRef(f"{small} ? 11 : 14"), fontWeight="bold", color="white"
    ).encode(text="symbol:N")
    moves = base.mark_text(dy=11, fontSize=alt.ExprRef(f"{small} ? 11 : 13"), color="white").encode(
        text="pct_label:N"
    )
    return alt.layer(tiles, symbols, moves).properties(height=rows * TILE_HEIGHT, width="container")


def pct_scale(convention: Convention, domain: float, neutral: str = TILE_NEUTRAL) -> alt.Scale:
    """The one % change colour scale, shared by the tiles and their legend strip: fixed,
    symmetric and centred on 0, so a colour means the same move everywhere."""
    palette = convention.palette
    return alt.Scale(
        type="linear",
        domain=[-domain, domain],
        domainMid=0,
        range=[palette.down, neutral, palette.up],
        # Straight RGB blends: the default HCL path turns red-to-slate into purple.
        interpolate="rgb",
        clamp=True,
    )


def scale_legend(convention: Convention, domain: float = 5.0, neutral: str = TILE_NEUTRAL) -> alt.Chart:
    """The heatmap's fixed scale as a strip of swatches, labelled from ``-domain`` to ``+domain``."""
    steps = [domain * k / 5 for k in range(-5, 6)]
    data = pd.DataFrame({"pct": steps, "label": [format_pct(v, 0 if domain >= 5 else 1) for v in steps]})
    return (
        alt.Chart(data)
        .mark_rect(cornerRadius=2)
        .encode(
            x=alt.X(
                "label:O",
                sort=None,
                title=None,
                scale=alt.Scale(paddingInner=0.08),
                axis=alt.Axis(labelAngle=0, ticks=False, domain=False, labelFontSize=11, labelPadding=4),
            ),
            color=alt.Color(
                "pct:Q",
                legend=None,
                scale=pct_scale(convention, domain, neutral),
            ),
            tooltip=alt.value(None),
        )
        # The container's width: a fixed 440 px strip was cut off on a 400 px phone.
        .properties(height=52, width="container")
    )


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
    only: where its end label goes, moved apart from the others (:func:`dodge`).
    """
    parts = []
    for symbol, hist in histories.items():
        base = prev_closes.get(symbol)
        if hist is None or hist.empty or base is None or not base > 0:
            continue
        h = hist.dropna(subset=["price"])
        if h.empty:
            continue
        if len(h) > max_points:
            step = (len(h) - 1) / (max_points - 1)
            h = h.iloc[[round(i * step) for i in range(max_points)]]
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
        .mark_line(strokeWidth=2, interpolate="linear")
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
