"""Cross-listed premium: US ADRs and A-shares priced against their Hong Kong lines.

Why: a premium is only worth showing with the ratio, the FX and the timing behind it. Ratios
change (BABA went from 1 to 8 HK shares per ADS on 2019-07-30), US and HK sessions never
overlap, and a leg without a price must leave the premium empty, never zero. This is the one
place that knows those rules; the feed manager, the CLI and the page call it.

Threads: none. No state; every function is pure, called by whichever thread builds a view.
The only I/O is ``load_pairs`` reading the packaged ``feed/data/cross_listings.csv`` and the
user's pair file, whose path the caller passes in (the caller reads ``QUOTES_PAIRS_FILE``).

Formulas, on prices as traded (not split-adjusted), evaluated in exactly this order::

    ADR premium %        = (US × USDHKD / (ratio × HK) − 1) × 100
    A/H premium %        = (A × USDHKD / (H × USDCNH) − 1) × 100
    ADR-implied HK price = US × USDHKD / ratio
    A-implied H price    = A × USDHKD / USDCNH          (same column, A/H rows)

US is USD per ADS (or per share of fungible common stock), HK and H are HKD, A is CNY per
share; USDHKD is HKD per USD, USDCNH is CNH per USD (offshore yuan stands in for CNY).
``ratio`` is HK shares per ADS in force on the US leg's New York trade date (``ratio_on``),
1 for A/H and for fungible common stock. A missing or non-positive price or rate gives NaN,
never 0. The ``fx`` column is USDHKD on ADR rows and USDHKD / USDCNH on A/H rows.

Timing: each leg's last trade is placed on its exchange-local trade date (America/New_York,
Asia/Shanghai, Asia/Hong_Kong). Two legs come from the same session only if those dates are
equal and the trades are at most ``max_gap`` (30 min by default) apart; otherwise
``different_sessions`` is True. US and HK regular sessions never overlap, so ADR rows are
marked except when US pre-market meets the HK close; A/H rows are marked once one market has
closed (or broken for lunch) for longer than ``max_gap`` while the other trades on. A row
with a leg that has not traded is not marked (its premium is NaN). ``stale_fx`` is True when
a rate the row uses is missing, has no time, or is older than ``fx_max_age`` (15 min).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from feed.symbols import Market, parse_symbol

log = logging.getLogger(__name__)

FX_CODES = ("USDHKD", "USDCNH")
FX_MAX_AGE = dt.timedelta(minutes=15)
SESSION_GAP = dt.timedelta(minutes=30)
_FILE = "cross_listings.csv"
REQUIRED_COLUMNS = ("symbol", "peer", "kind", "ratio", "valid_from", "source")
TABLE_COLUMNS = (
    "symbol", "peer", "kind", "ratio", "fx", "usdhkd", "usdcnh", "symbol_price", "symbol_time",
    "symbol_local_time", "peer_price", "peer_time", "peer_local_time", "implied_peer_price", "premium_pct",
    "gap_s", "different_sessions", "fx_time", "stale_fx", "as_of")  # fmt: skip
PATH_COLUMNS = ("ts", "symbol_price", "peer_price", "usdhkd", "usdcnh", "ratio", "premium_pct")
PATH_COLUMNS += ("different_sessions",)
_HK_TZ = Market.HK.tz


class Kind(StrEnum):
    """What the HK line is paired with."""

    ADR = "ADR"  # a US listing (ADS, or fungible common stock such as YUMC)
    AH = "AH"  # an A share in Shanghai/Shenzhen (the HK leg is an H share or a red chip's share)


_SYMBOL_MARKET = {Kind.ADR: Market.US, Kind.AH: Market.CN}


@dataclass(frozen=True, slots=True)
class RatioPeriod:
    """HK shares per ADS from ``valid_from`` (None: since before the HK line listed) on."""

    ratio: float
    valid_from: dt.date | None
    note: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Pair:
    """A cross-listing: ``symbol`` (US or A leg) against ``peer`` (its HK line)."""

    symbol: str
    peer: str
    kind: Kind
    periods: tuple[RatioPeriod, ...]  # oldest first; only the first may lack valid_from

    @property
    def ratio(self) -> float:  # the latest ratio: what a live premium uses
        return self.periods[-1].ratio


class PairFileError(ValueError):
    """A row of a pair file that cannot be used; the message names file and line."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file, self.line, self.reason = str(file), line, reason
        super().__init__(f"{file}:{line}: {reason}" if line else f"{file}: {reason}")


class LegQuote(NamedTuple):
    """A last price and the exchange time it traded at (tz-aware; None if unknown)."""

    price: float
    ts: dt.datetime | None


_NO_QUOTE = LegQuote(math.nan, None)
Loaded = tuple[tuple[Pair, ...], list[PairFileError]]  # what load_pairs returns


def load_pairs(path: str | Path | None = None, extra: str | Path | None = None) -> Loaded:
    """Read the packaged pair file (or ``path``) and the user's file ``extra``.

    A bad packaged file raises ``PairFileError``. The user's file never costs the packaged
    pairs: each bad row comes back as an error naming file and line, beside the pairs that
    loaded. A user row for a shipped pair adds a ratio period (one with the same
    ``valid_from`` replaces ours); one that re-pairs a code already paired is refused.
    """
    if path is None:
        name, text = f"feed/data/{_FILE}", resources.files("feed.data").joinpath(_FILE).read_text("utf-8")
    else:
        name, text = str(path), Path(path).read_text(encoding="utf-8")
    state: dict[tuple[str, str], dict[str, Any]] = {}
    errors = _read(text, name, state, shipped=True)
    if errors:
        raise PairFileError(name, errors[0].line, "; ".join(str(e) for e in errors))
    user_errors: list[PairFileError] = []
    if extra is not None:
        try:
            user_errors = _read(Path(extra).read_text(encoding="utf-8-sig"), str(extra), state, shipped=False)
        except (OSError, UnicodeDecodeError) as exc:
            user_errors = [PairFileError(str(extra), 0, f"cannot read the pair file ({exc})")]
    for err in user_errors:
        log.warning("pair file: %s", err)
    # Periods are keyed by ISO date ("" for the first), so sorting the keys orders them.
    pairs = [
        Pair(*key, e["kind"], tuple(e["periods"][k][0] for k in sorted(e["periods"])))
        for key, e in state.items()
    ]
    return tuple(pairs), user_errors


def _read(text: str, file: str, state: dict, *, shipped: bool) -> list[PairFileError]:
    errors = []
    reader = csv.DictReader(io.StringIO(text))
    try:
        if missing := [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]:
            return [PairFileError(file, 1, f"missing column(s) {', '.join(missing)} in the header")]
        for record in reader:
            try:
                _add(state, _parse_row(record, reader.line_num, file, shipped), file)
            except PairFileError as err:
                errors.append(err)
    except csv.Error as exc:
        errors.append(PairFileError(file, reader.line_num, f"not readable as CSV ({exc})"))
    return errors


def _parse_row(record: dict, line: int, file: str, shipped: bool) -> tuple:
    def fail(reason: str) -> PairFileError:
        return PairFileError(file, line, reason)

    def conv(fn: Any, text: str, reason: str = "") -> Any:
        try:
            return fn(text)
        except ValueError as exc:  # InvalidSymbol is a ValueError too
            raise fail(reason or str(exc)) from None

    if None in record:
        raise fail("more fields than the header (quote fields that contain commas)")
    cell = {k: (v or "").strip() for k, v in record.items()}
    kind = conv(
        lambda t: Kind(t.upper().replace("/", "")), cell["kind"], f"kind {cell['kind']!r} is not ADR or AH"
    )
    symbol, peer = conv(parse_symbol, cell["symbol"]), conv(parse_symbol, cell["peer"])
    if symbol.market is not _SYMBOL_MARKET[kind]:
        raise fail(f"{kind} symbol must be a {_SYMBOL_MARKET[kind].label} code, not {symbol.code}")
    if peer.market is not Market.HK:
        raise fail(f"peer must be a Hong Kong code, not {peer.code}")
    ratio = conv(float, cell["ratio"], f"ratio {cell['ratio']!r} is not a number")
    if not (math.isfinite(ratio) and ratio > 0):
        raise fail(f"ratio must be a positive number, not {cell['ratio']}")
    if kind is Kind.AH and ratio != 1:
        raise fail("an A/H pair trades one share for one share: ratio must be 1")
    day = cell["valid_from"]
    valid_from = (
        conv(dt.date.fromisoformat, day, f"valid_from {day!r} is not a YYYY-MM-DD date") if day else None
    )
    source = cell["source"] or ("" if shipped else f"user file {file}:{line}")
    if not source:
        raise fail("source is empty: every shipped row cites a filing or exchange page")
    return line, symbol.code, peer.code, kind, RatioPeriod(ratio, valid_from, cell.get("note", ""), source)


def _add(state: dict, row: tuple, file: str) -> None:
    line, symbol, peer, kind, period = row
    for (s, p), entry in state.items():
        if s == symbol and p != peer:
            raise PairFileError(file, line, f"{symbol} is already paired with {p}")
        if p == peer and s != symbol and entry["kind"] is kind:
            raise PairFileError(
                file, line, f"{peer} is already the {'A/H' if kind is Kind.AH else 'ADR'} peer of {s}"
            )
    entry = state.setdefault((symbol, peer), {"kind": kind, "periods": {}})
    key = period.valid_from.isoformat() if period.valid_from else ""
    if entry["periods"].get(key, (None, None))[1] == file:
        raise PairFileError(file, line, f"{symbol}/{peer} has two rows valid from {key or 'the start'}")
    entry["periods"][key] = (period, file)


def ratio_on(pair: Pair, when: dt.date | dt.datetime) -> float:
    """HK shares per ADS in force on ``when`` (a day before a change gets the old ratio), NaN
    before the first period. A tz-aware datetime counts on the US/A leg's exchange-local date."""
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            raise ValueError("ratio_on needs a tz-aware datetime or a date")
        when = when.astimezone(_SYMBOL_MARKET[pair.kind].tz).date()
    ratio = math.nan
    for period in pair.periods:
        if period.valid_from is not None and period.valid_from > when:
            break
        ratio = period.ratio
    return ratio


def premium_table(
    pairs: Iterable[Pair],
    quotes: pd.DataFrame | Mapping[str, LegQuote | tuple],
    fx: pd.DataFrame | Mapping[str, LegQuote | tuple],
    now: dt.datetime,
    *,
    fx_max_age: dt.timedelta = FX_MAX_AGE,
    max_gap: dt.timedelta = SESSION_GAP,
) -> pd.DataFrame:
    """One row per pair: legs, FX, ratio, implied price and premium (``TABLE_COLUMNS``).

    ``quotes`` and ``fx`` are a snapshot DataFrame (``symbol``, ``last``, ``ts``; one frame
    may serve as both) or a mapping code -> ``LegQuote``. Sorted by premium, highest first,
    NaN last. Times are UTC, ``*_local_time`` in each exchange's zone; ``as_of`` is ``now``.
    """
    if (now_ts := _utc(now, "now")) is None:
        raise ValueError("premium_table needs a tz-aware now")
    legs, rates = _quotes(quotes), _quotes(fx)
    hkd, cnh = rates.get("USDHKD", _NO_QUOTE), rates.get("USDCNH", _NO_QUOTE)
    rows = []
    for pair in pairs:
        sym, peer = legs.get(pair.symbol, _NO_QUOTE), legs.get(pair.peer, _NO_QUOTE)
        ratio = ratio_on(pair, sym.ts if sym.ts is not None else now_ts)
        s, p, h, c, adr = sym.price, peer.price, hkd.price, cnh.price, pair.kind is Kind.ADR
        used = (hkd,) if adr else (hkd, cnh)
        implied = s * h / ratio if adr else s * h / c
        premium = (s * h / (ratio * p) - 1) * 100 if adr else (s * h / (p * c) - 1) * 100
        s_local = sym.ts.tz_convert(_SYMBOL_MARKET[pair.kind].tz) if sym.ts is not None else pd.NaT
        p_local = peer.ts.tz_convert(_HK_TZ) if peer.ts is not None else pd.NaT
        both = sym.ts is not None and peer.ts is not None
        gap = abs((sym.ts - peer.ts).total_seconds()) if both else math.nan
        different = both and (s_local.date() != p_local.date() or gap > max_gap.total_seconds())
        fx_times = [q.ts for q in used]
        stale = any(math.isnan(q.price) or q.ts is None or now_ts - q.ts > fx_max_age for q in used)
        rows.append((
            pair.symbol, pair.peer, pair.kind.value, ratio, h if adr else h / c, h, math.nan if adr else c,
            s, pd.Timestamp(sym.ts), s_local, p, pd.Timestamp(peer.ts), p_local, implied, premium, gap,
            different, min(fx_times) if None not in fx_times else pd.NaT, stale, now_ts,
        ))  # fmt: skip
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    order = {"ascending": [False, True, True], "na_position": "last", "kind": "stable"}
    return table.sort_values(["premium_pct", "kind", "symbol"], **order).reset_index(drop=True)


def kind_averages(table: pd.DataFrame) -> pd.DataFrame:
    """Equal-weighted mean premium per kind, over the rows that have one (not an index)."""
    rows = []
    for kind in Kind:
        sub = table.loc[table["kind"] == kind.value, "premium_pct"]
        if sub.empty:
            continue
        used = sub.dropna()
        label = (
            f"Equal-weighted mean of {len(used)} of {len(sub)} {'A/H' if kind is Kind.AH else 'ADR'} premiums"
        )
        label += " (not an index)" if kind is Kind.ADR else " (not the Hang Seng AH Premium Index)"
        rows.append((kind.value, label, float(used.mean()) if len(used) else math.nan, len(used), len(sub)))
    return pd.DataFrame(rows, columns=["kind", "label", "mean_premium_pct", "pairs_used", "pairs_total"])


def _utc(value: object, what: str) -> pd.Timestamp | None:
    ts = pd.Timestamp(value)  # None and NaN become NaT
    if pd.isna(ts):
        return None
    if ts.tzinfo is None:
        raise ValueError(f"{what}: times must be tz-aware (UTC), got {value!r}")
    return ts.tz_convert("UTC")


def _price(value: object) -> float:
    try:
        price = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return price if math.isfinite(price) and price > 0 else math.nan


def _quotes(source: pd.DataFrame | Mapping[str, LegQuote | tuple]) -> dict[str, LegQuote]:
    if isinstance(source, pd.DataFrame):
        if missing := {"symbol", "last", "ts"} - set(source.columns):
            raise ValueError(f"quote frame lacks column(s) {', '.join(sorted(missing))}")
        source = dict(zip(source["symbol"], zip(source["last"], source["ts"], strict=True), strict=True))
    return {str(code): LegQuote(_price(price), _utc(ts, str(code))) for code, (price, ts) in source.items()}


def premium_path(
    pair: Pair,
    symbol_path: pd.DataFrame,
    peer_path: pd.DataFrame,
    fx_path_or_value: float | pd.DataFrame | Mapping[str, float | pd.DataFrame],
    *,
    max_gap: dt.timedelta = SESSION_GAP,
    cross_session: bool = False,
) -> pd.DataFrame:
    """An intraday premium series (``PATH_COLUMNS``) from both legs' minute paths (``ts``, ``price``).

    Rows are the minutes on which either leg traded. A leg's last price is carried forward
    only within its session (same exchange-local date, at most ``max_gap`` old), else NaN;
    a NaN row is inserted wherever consecutive minutes are more than ``max_gap`` apart, so
    no line is drawn across a gap. US and HK never trade together, so an ADR path is all NaN
    unless ``cross_session``: the idle leg then keeps its latest session's last price and the
    row is marked ``different_sessions``. FX (a value, a path, or a mapping by code; A/H
    needs both ``FX_CODES``) is carried forward without that limit.
    """
    sym, peer = _path(symbol_path, pair.symbol), _path(peer_path, pair.peer)
    grid = pd.DataFrame({"ts": sorted(set(sym["ts"]) | set(peer["ts"]))}, dtype="datetime64[ns, UTC]")
    if grid.empty:
        return pd.DataFrame(columns=list(PATH_COLUMNS))
    fx = fx_path_or_value if isinstance(fx_path_or_value, Mapping) else {"USDHKD": fx_path_or_value}
    if absent := [c for c in (FX_CODES if pair.kind is Kind.AH else FX_CODES[:1]) if c not in fx]:
        raise ValueError(f"{pair.symbol}/{pair.peer} needs FX {', '.join(absent)}")
    s_price, s_live = _carry(grid, sym, _SYMBOL_MARKET[pair.kind].tz, max_gap)
    p_price, p_live = _carry(grid, peer, _HK_TZ, max_gap)
    if not cross_session:
        s_price, p_price = np.where(s_live, s_price, np.nan), np.where(p_live, p_price, np.nan)
    hkd, cnh = (_fx_series(grid, fx.get(code, math.nan), code) for code in FX_CODES)
    days = grid["ts"].dt.tz_convert(_SYMBOL_MARKET[pair.kind].tz).dt.date
    ratio = days.map({d: ratio_on(pair, d) for d in set(days)}).to_numpy(dtype=float)
    if pair.kind is Kind.ADR:
        cnh, premium = np.full(len(grid), np.nan), (s_price * hkd / (ratio * p_price) - 1) * 100
    else:
        premium = (s_price * hkd / (p_price * cnh) - 1) * 100
    out = grid.assign(
        symbol_price=s_price, peer_price=p_price, usdhkd=hkd, usdcnh=cnh, ratio=ratio, premium_pct=premium,
        different_sessions=~np.isnan(premium) & ~(s_live & p_live),
    )  # fmt: skip
    breaks = out.loc[out["ts"].diff() > pd.Timedelta(max_gap), ["ts"]] - pd.Timedelta(minutes=1)
    if not breaks.empty:  # an all-NaN row just before each gap's far side: the line stops there
        out = pd.concat([out, breaks.assign(different_sessions=False)]).sort_values("ts", kind="stable")
    return out.reset_index(drop=True)[list(PATH_COLUMNS)]


def _path(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    if missing := {"ts", "price"} - set(frame.columns):
        raise ValueError(f"{code}: minute path lacks column(s) {', '.join(sorted(missing))}")
    ts = pd.to_datetime(frame["ts"])
    if len(ts) and ts.dt.tz is None:
        raise ValueError(f"{code}: minute path times must be tz-aware (UTC)")
    ts = pd.to_datetime(ts, utc=True).dt.floor("min").astype("datetime64[ns, UTC]")
    out = pd.DataFrame({"ts": ts.reset_index(drop=True), "price": [_price(v) for v in frame["price"]]})
    return (
        out.dropna()
        .sort_values("ts", kind="stable")
        .drop_duplicates("ts", keep="last")
        .reset_index(drop=True)
    )


def _carry(grid: pd.DataFrame, leg: pd.DataFrame, tz: ZoneInfo, max_gap: dt.timedelta) -> tuple:
    # Each grid minute's last leg price, and whether that price is still in the leg's session.
    seen = pd.merge_asof(grid, leg.assign(seen=leg["ts"]), on="ts", direction="backward")
    # Midnight of each local day (not .dt.date: objects, which pandas 4 stops inferring).
    same_day = seen["ts"].dt.tz_convert(tz).dt.normalize() == seen["seen"].dt.tz_convert(tz).dt.normalize()
    live = seen["seen"].notna() & same_day & (seen["ts"] - seen["seen"] <= pd.Timedelta(max_gap))
    return seen["price"].to_numpy(dtype=float), live.to_numpy(dtype=bool)


def _fx_series(grid: pd.DataFrame, fx: float | pd.DataFrame, code: str) -> np.ndarray:
    if not isinstance(fx, pd.DataFrame):
        return np.full(len(grid), _price(fx))
    return pd.merge_asof(grid, _path(fx, code), on="ts", direction="backward")["price"].to_numpy(dtype=float)
