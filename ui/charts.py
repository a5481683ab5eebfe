"""Altair chart builders: the % change heatmap and its scale (the comparison is ``ui.compare_chart``).

Pure functions from DataFrames to ``alt.Chart``; tests read them through
``chart.to_dict()``. Specs keep their structure from one refresh to the next (fixed
colour domain, fixed grid width, stable tile order), so the 1 s fragment updates the
data in place instead of redrawing the view.
"""

from __future__ import annotations

import functools
import json
import math
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
    "DIMMED_OPACITY",
    "heatmap",
    "heatmap_frame",
    "heatmap_parts",
    "heatmap_spec",
    "scale_legend",
]

# Tiles whose price is not current (closed market, feed down, waiting) are drawn this faint.
DIMMED_OPACITY = 0.35
CURRENT = ("live", "quiet")
TILE_HEIGHT = 80


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
