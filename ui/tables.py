"""Quote tables as plain DataFrames: what the Quotes and Compare pages show.

``quotes_table`` turns a feed snapshot (``feed.model.SNAPSHOT_COLUMNS``) into display
columns, numeric and rounded as shown; ``grid_frame`` writes the prices as text in each
row's precision for the grid, which Streamlit then draws with ``st.column_config``
alone (no Styler, whose per-rerun cost was most of a viewer's). Nothing here imports
Streamlit.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from feed.model import SNAPSHOT_COLUMNS, FeedStatus, Freshness
from feed.symbols import Market
from ui.format import (
    MISSING,
    format_prices,
    local_times,
    price_decimals,
    prices_decimals,
    round_values,
)
from ui.i18n import EN, LANGS, N_, Translator, translator
from ui.vocab import PAUSED, freshness_map, market_label, market_short, metal_name
from ui.watchlist import market_of

__all__ = [
    "COLUMN_LABELS",
    "QUOTE_COLUMNS",
    "SUMMARY_COLUMNS",
    "complete_snapshot",
    "display_names",
    "freeze",
    "grid_frame",
    "mark_auth_failed",
    "market_summary",
    "quotes_table",
    "snapshot_csv",
    "sparkline",
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
# The grid's column labels (msgids); the DataFrame keeps the English keys above.
COLUMN_LABELS: dict[str, str] = {
    "Symbol": N_("Symbol"),
    "Name": N_("Name"),
    "Market": N_("Mkt"),
    "Last": N_("Last"),
    "Prev close": N_("Prev close"),
    "Change": N_("Change"),
    "% Chg": N_("% Chg"),
    "Time": N_("Last trade"),
    "Status": N_("Status"),
    "Today": N_("Today"),
}
# Points per sparkline: enough for the shape in a 90 px cell; the grid's accessible
# table reads every one of them, so fewer is kinder.
SPARK_POINTS = 24
# Freshness values a paused view no longer vouches for.
_CURRENT = frozenset({Freshness.LIVE.value, Freshness.QUIET.value, Freshness.RECOVERING.value})


def sparkline(history: pd.DataFrame | None, points: int = SPARK_POINTS) -> list[float]:
    """Evenly thinned prices of today's path, always ending on the newest one."""
    if history is None or history.empty or "price" not in history:
        return []
    prices = history["price"]
    gaps = prices.isna().to_numpy()
    if gaps.any():  # the grid's line cannot break: it draws the path since the last gap
        prices = prices.iloc[len(gaps) - int(gaps[::-1].argmax()) :] if not gaps[-1] else prices.iloc[0:0]
    n = len(prices)
    if n <= points:
        return [float(p) for p in prices]
    step = (n - 1) / (points - 1)
    picks = [round(i * step) for i in range(points)]
    values = prices.to_numpy()
    return [float(values[i]) for i in picks]


def display_names(snapshot: pd.DataFrame, tr: Translator = EN) -> pd.Series:
    """Instrument names in the viewer's language: AllTick's Chinese name where it has one."""
    names = snapshot["name"].fillna("").astype(str)
    if not tr.is_zh:
        return names.reset_index(drop=True)
    zh = snapshot["name_zh"].fillna("").astype(str) if "name_zh" in snapshot else names.map(lambda _: "")
    english = names.map(lambda n: metal_name(tr, n))
    return zh.where(zh != "", english).reset_index(drop=True)


def _spark_values(values: list[float], prev: float, decimals: int) -> list[float]:
    """A sparkline as today's % path since the previous close, rounded: the same shape
    as the prices (a positive affine map), and short numbers for the accessible table.
    The grid's line cannot break, so a path with a gap (NaN) is drawn from after it."""
    cut = max((i for i, v in enumerate(values) if v != v), default=-1)
    thinned = _thin(values[cut + 1 :], SPARK_POINTS)
    if prev > 0 and not math.isnan(prev):
        return [round((v / prev - 1.0) * 100.0, 2) for v in thinned]
    return [round(v, decimals) for v in thinned]


def _thin(values: list[float], points: int) -> list[float]:
    n = len(values)
    if n <= points:
        return list(values)
    step = (n - 1) / (points - 1)
    return [values[round(i * step)] for i in range(points)]


def quotes_table(
    snapshot: pd.DataFrame,
    history_map: Mapping[str, pd.DataFrame | list[float]] | None = None,
    now: dt.datetime | None = None,
    tr: Translator = EN,
) -> pd.DataFrame:
    """The quotes grid: one row per snapshot row, numbers numeric and rounded as shown.

    ``Time`` is the exchange-local time of the last price with its zone named;
    ``Status`` and ``Market`` are in the viewer's language; ``Today`` holds the
    sparkline values when ``history_map`` is given.
    """
    now = now or dt.datetime.now(dt.UTC)
    rows = snapshot.reset_index(drop=True)
    last = pd.to_numeric(rows["last"], errors="coerce").astype(float).to_numpy()
    prev = pd.to_numeric(rows["prev_close"], errors="coerce").astype(float).to_numpy()
    decimals = prices_decimals(rows["market"].tolist(), np.where(np.isnan(last), prev, last))
    statuses = freshness_map(tr)
    shorts = {m: market_short(tr, m) for m in set(rows["market"].astype(str).tolist())}
    symbols = rows["symbol"].astype(str).tolist()
    table = pd.DataFrame(
        {
            "Symbol": symbols,
            "Name": display_names(rows, tr),
            "Market": [shorts[m] for m in rows["market"].astype(str).tolist()],
            "Last": round_values(last, decimals),
            "Prev close": round_values(prev, decimals),
            "Change": round_values(pd.to_numeric(rows["change"], errors="coerce").astype(float), decimals),
            "% Chg": round_values(pd.to_numeric(rows["pct_change"], errors="coerce").astype(float), 2),
            "Time": local_times(rows["ts"], rows["market"], now, tr),
            "Status": [statuses.get(f, f) for f in rows["freshness"].astype(str).tolist()],
        }
    )
    if history_map is not None:
        spark = []
        for i, code in enumerate(symbols):
            hist = history_map.get(code)
            values = list(hist) if isinstance(hist, list) else sparkline(hist, points=10_000)
            spark.append(_spark_values([float(v) for v in values], float(prev[i]), int(decimals[i])))
        table["Today"] = spark
    return table


def grid_frame(table: pd.DataFrame, decimals: np.ndarray | None = None) -> pd.DataFrame:
    """The quotes grid as Streamlit draws it without a Styler: prices as text in each row's
    own precision, moves signed with an arrow, ``% Chg`` numeric (``st.column_config``
    formats it and the grid sorts it).

    A pandas Styler re-rendered every cell's text and CSS on every rerun of every tab;
    this frame is built once per snapshot version (``ui.board``) and sent as it is.
    ``decimals`` is each row's price precision (default: from its market and level).
    """
    out = table.copy()
    d = _row_decimals(table).to_numpy() if decimals is None else np.asarray(decimals, dtype=int)
    for col in ("Last", "Prev close"):
        if col in out:
            out[col] = format_prices(table[col].to_numpy(dtype=float), d)
    if "Change" in out:
        out["Change"] = _moves(table["Change"].to_numpy(dtype=float), d)
    return out


def _moves(values: np.ndarray, decimals: np.ndarray) -> list[str]:
    """``▲ +1.23`` / ``▼ -0.50`` / ``0.00``: the direction readable without colour."""
    text = format_prices(np.abs(values), decimals)
    out = []
    for v, t in zip(values.tolist(), text, strict=True):
        if t == MISSING or float(t.replace(",", "")) == 0:
            out.append(t)
        else:
            out.append(f"▲ +{t}" if v > 0 else f"▼ -{t}")
    return out


def mark_auth_failed(snapshot: pd.DataFrame, status: FeedStatus | None) -> pd.DataFrame:
    """Rows still "waiting" (or "feed down") under a refused token say "auth failed".

    The rebuilt feed says so itself; until every feed does, the page must not
    present a refused token as a slow start.
    """
    if status is None or not status.auth_error or snapshot.empty:
        return snapshot
    stuck = snapshot["freshness"].isin([Freshness.WAITING.value, Freshness.DOWN.value])
    if not stuck.any():
        return snapshot
    out = snapshot.copy()
    out.loc[stuck, "freshness"] = Freshness.AUTH_FAILED.value
    return out


def freeze(snapshot: pd.DataFrame) -> pd.DataFrame:
    """A snapshot held while live updates are off: rows that said "live" now say "paused"."""
    out = snapshot.copy()
    current = out["freshness"].isin(_CURRENT)
    out.loc[current, "freshness"] = PAUSED
    return out


@functools.lru_cache(maxsize=1)
def _short_to_code() -> dict[str, str]:
    """Every language's short market label back to its code (the grid shows labels)."""
    out: dict[str, str] = {}
    for lang in LANGS:
        tr = translator(lang)
        for market in Market:
            out.setdefault(market_short(tr, market), market.value)
    return out


def _market_codes(column: pd.Series) -> list[str]:
    back = _short_to_code()
    return [back.get(str(v), str(v)) for v in column]


def _row_decimals(table: pd.DataFrame) -> pd.Series:
    """Each row's price precision, from its market and price level (prev close if no last)."""
    level = table["Last"].where(table["Last"].notna(), table["Prev close"])
    markets = _market_codes(table["Market"]) if "Market" in table else [None] * len(table)
    return pd.Series(
        [price_decimals(m, p) for m, p in zip(markets, level, strict=True)],
        index=table.index,
    )


def market_summary(snapshot: pd.DataFrame, tr: Translator = EN) -> pd.DataFrame:
    """Per market: how many rose, fell and stayed put, the average move, best and worst.

    Markets appear in the order they first occur in the snapshot (the watchlist order).
    Rows without a % change (no price or no previous close yet) count as symbols but
    not as priced, so the average is never dragged towards zero by missing data. Plain
    Python over the rows: a groupby cost more than the rest of the board together.
    """
    groups: dict[str, list[tuple[str, float]]] = {}
    pcts = pd.to_numeric(snapshot["pct_change"], errors="coerce").astype(float).tolist()
    for code, market, pct in zip(snapshot["symbol"].tolist(), snapshot["market"].tolist(), pcts, strict=True):
        groups.setdefault(str(market), []).append((str(code), pct))
    records = []
    for market, rows in groups.items():
        priced = [(c, p) for c, p in rows if not math.isnan(p)]
        best = max(priced, key=lambda r: r[1]) if priced else None  # first of equals, as idxmax
        worst = min(priced, key=lambda r: r[1]) if priced else None
        moves = [p for _, p in priced]
        records.append(
            {
                "market": market,
                "label": market_label(tr, market),
                "symbols": len(rows),
                "priced": len(priced),
                "gainers": sum(p > 0 for p in moves),
                "losers": sum(p < 0 for p in moves),
                "unchanged": sum(p == 0 for p in moves),
                "avg_pct": sum(moves) / len(moves) if moves else math.nan,
                "best": best[0] if best else MISSING,
                "best_pct": best[1] if best else math.nan,
                "worst": worst[0] if worst else MISSING,
                "worst_pct": worst[1] if worst else math.nan,
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
