"""Quote tables as plain DataFrames and Stylers: what the Quotes and Compare pages show.

``quotes_table`` turns a feed snapshot (``feed.model.SNAPSHOT_COLUMNS``) into display
columns that stay numeric, so the grid still sorts by value; ``style_quotes`` adds the
per-row precision and the direction colours. Nothing here imports Streamlit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial

import pandas as pd
from pandas.io.formats.style import Styler

from feed.model import SNAPSHOT_COLUMNS, Freshness
from feed.symbols import Market
from ui.colors import FRESHNESS_COLORS, Convention, direction_color
from ui.format import MISSING, format_change, format_pct, format_price, local_times, price_decimals
from ui.watchlist import market_of

__all__ = [
    "QUOTE_COLUMNS",
    "SUMMARY_COLUMNS",
    "complete_snapshot",
    "market_summary",
    "quotes_table",
    "snapshot_csv",
    "sparkline",
    "style_quotes",
]

# Display columns of the quotes grid, in order.
QUOTE_COLUMNS = (
    "Symbol",
    "Name",
    "Market",
    "Last",
    "Prev close",
    "Change",
    "% Chg",
    "Time",
    "Status",
    "Today",
)
SUMMARY_COLUMNS = (
    "market",
    "label",
    "symbols",
    "priced",
    "gainers",
    "losers",
    "unchanged",
    "avg_pct",
    "best",
    "best_pct",
    "worst",
    "worst_pct",
)
SPARK_POINTS = 60


def sparkline(history: pd.DataFrame | None, points: int = SPARK_POINTS) -> list[float]:
    """Evenly thinned prices of today's path, always ending on the newest one.

    The grid draws each cell's list as a small line; 60 points are plenty for a
    column 120 px wide and keep the per-second payload small.
    """
    if history is None or history.empty or "price" not in history:
        return []
    prices = history["price"].dropna()
    n = len(prices)
    if n <= points:
        return [float(p) for p in prices]
    step = (n - 1) / (points - 1)
    picks = [round(i * step) for i in range(points)]
    values = prices.to_numpy()
    return [float(values[i]) for i in picks]


def quotes_table(
    snapshot: pd.DataFrame,
    history_map: Mapping[str, pd.DataFrame | list[float]] | None = None,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """The quotes grid: one row per snapshot row, numbers kept numeric.

    ``Time`` is the exchange-local time of the last price with its zone named;
    ``Today`` holds the sparkline values when ``history_map`` is given.
    """
    now = now or dt.datetime.now(dt.UTC)
    rows = snapshot.reset_index(drop=True)
    table = pd.DataFrame(
        {
            "Symbol": rows["symbol"].astype(str),
            "Name": rows["name"].fillna("").astype(str),
            "Market": rows["market"].astype(str),
            "Last": pd.to_numeric(rows["last"], errors="coerce").astype(float),
            "Prev close": pd.to_numeric(rows["prev_close"], errors="coerce").astype(float),
            "Change": pd.to_numeric(rows["change"], errors="coerce").astype(float),
            "% Chg": pd.to_numeric(rows["pct_change"], errors="coerce").astype(float),
            "Time": local_times(rows["ts"], rows["market"], now),
            "Status": rows["freshness"].astype(str),
        }
    )
    if history_map is not None:
        spark = []
        for code in table["Symbol"]:
            hist = history_map.get(code)
            spark.append(list(hist) if isinstance(hist, list) else sparkline(hist))
        table["Today"] = spark
    return table


def _row_decimals(table: pd.DataFrame) -> pd.Series:
    """Each row's price precision, from its market and price level (prev close if no last)."""
    level = table["Last"].where(table["Last"].notna(), table["Prev close"])
    return pd.Series(
        [price_decimals(m, p) for m, p in zip(table["Market"], level, strict=True)],
        index=table.index,
    )


def style_quotes(table: pd.DataFrame, convention: Convention) -> Styler:
    """Per-row price precision, signed moves, and text colour by direction and status."""
    styler = table.style
    decimals = _row_decimals(table)
    price_cols = [c for c in ("Last", "Prev close") if c in table]
    for d in sorted(decimals.unique()):
        rows = decimals.index[decimals == d]
        if price_cols:
            styler = styler.format(
                partial(format_price, decimals=int(d)), subset=pd.IndexSlice[rows, price_cols]
            )
        if "Change" in table:
            styler = styler.format(
                partial(format_change, decimals=int(d)), subset=pd.IndexSlice[rows, ["Change"]]
            )
    if "% Chg" in table:
        styler = styler.format(format_pct, subset=["% Chg"])
    move_cols = [c for c in ("Change", "% Chg") if c in table]
    if move_cols:
        color = _direction_css(convention)
        styler = styler.map(color, subset=move_cols)
    if "Status" in table:
        styler = styler.map(_status_css, subset=["Status"])
    if "Today" in table:
        # The grid draws the sparkline from the data; rendering 60 floats per cell as
        # display text would only cost time (it was a third of the marshalling).
        styler = styler.format(lambda _: "", subset=["Today"])
    return styler


def _direction_css(convention: Convention) -> Callable[[float], str]:
    def css(value: float) -> str:
        return f"color: {direction_color(value, convention)}"

    return css


def _status_css(value: str) -> str:
    return f"color: {FRESHNESS_COLORS.get(str(value), '#8b93a1')}"


def market_summary(snapshot: pd.DataFrame) -> pd.DataFrame:
    """Per market: how many rose, fell and stayed put, the average move, best and worst.

    Markets appear in the order they first occur in the snapshot (the watchlist order).
    Rows without a % change (no price or no previous close yet) count as symbols but
    not as priced, so the average is never dragged towards zero by missing data.
    """
    records = []
    for market, group in snapshot.groupby("market", sort=False):
        pct = pd.to_numeric(group["pct_change"], errors="coerce")
        priced = group[pct.notna()]
        ppct = pct[pct.notna()]
        best = priced.loc[ppct.idxmax()] if not priced.empty else None
        worst = priced.loc[ppct.idxmin()] if not priced.empty else None
        try:
            label = Market(str(market)).label
        except ValueError:
            label = str(market)
        records.append(
            {
                "market": str(market),
                "label": label,
                "symbols": len(group),
                "priced": len(priced),
                "gainers": int((ppct > 0).sum()),
                "losers": int((ppct < 0).sum()),
                "unchanged": int((ppct == 0).sum()),
                "avg_pct": float(ppct.mean()) if not ppct.empty else float("nan"),
                "best": str(best["symbol"]) if best is not None else MISSING,
                "best_pct": float(best["pct_change"]) if best is not None else float("nan"),
                "worst": str(worst["symbol"]) if worst is not None else MISSING,
                "worst_pct": float(worst["pct_change"]) if worst is not None else float("nan"),
            }
        )
    return pd.DataFrame.from_records(records, columns=list(SUMMARY_COLUMNS))


def snapshot_csv(snapshot: pd.DataFrame, now: dt.datetime | None = None) -> bytes:
    """The snapshot as UTF-8 CSV: raw numbers, ISO-8601 UTC times, plus the local time shown."""
    now = now or dt.datetime.now(dt.UTC)
    out = snapshot.copy()
    out.insert(
        out.columns.get_loc("ts") + 1,
        "local_time",
        local_times(snapshot["ts"], snapshot["market"], now),
    )
    out["ts"] = pd.to_datetime(out["ts"], utc=True).map(lambda t: t.isoformat() if not pd.isna(t) else "")
    return out.to_csv(index=False).encode("utf-8")


def complete_snapshot(snapshot: pd.DataFrame, codes: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Rows for exactly ``codes``, in order; codes the feed has no row for yet read "waiting".

    The feed publishes a new watchlist on its next snapshot, so a symbol added a moment
    ago would otherwise be missing from the grid for up to a second.
    """
    have = set(snapshot["symbol"]) if not snapshot.empty else set()
    missing = [c for c in codes if c not in have]
    if not missing:
        if list(snapshot["symbol"]) == list(codes):
            return snapshot
        return snapshot.set_index("symbol", drop=False).loc[list(codes)].reset_index(drop=True)
    filler = pd.DataFrame(
        {
            "symbol": missing,
            "name": "",
            "name_zh": "",
            "market": [(m.value if (m := market_of(c)) is not None else "") for c in missing],
            "currency": "",
            "last": float("nan"),
            "prev_close": float("nan"),
            "change": float("nan"),
            "pct_change": float("nan"),
            "ts": pd.Series([pd.NaT] * len(missing), dtype="datetime64[ns, UTC]"),
            "age_s": float("nan"),
            "freshness": Freshness.WAITING.value,
            "prev_close_date": None,
            "streamed": True,
            "note": "",
        },
        columns=list(SNAPSHOT_COLUMNS),
    )
    parts = [p for p in (snapshot, filler) if not p.empty]
    merged = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return merged.set_index("symbol", drop=False).loc[list(codes)].reset_index(drop=True)
