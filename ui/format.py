"""Number and time formatting, per market, exact to the displayed digit.

Prices are rounded half-up from their shortest decimal form (``repr``), not from the
binary float: ``101.505`` shows as ``101.51`` the way an exchange prints it, where
``f"{101.505:.2f}"`` would give ``101.50``. Each market gets the precision its
quotes are made in (HK penny stocks in thousandths, FX in pipettes).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np
import pandas as pd

from feed.symbols import Market
from ui.i18n import EN, Translator
from ui.vocab import zone

__all__ = [
    "MISSING",
    "format_change",
    "format_duration",
    "format_pct",
    "format_pcts",
    "format_price",
    "format_prices",
    "local_time",
    "local_times",
    "price_decimals",
    "prices_decimals",
    "round_half_up",
    "round_values",
]

MISSING = "—"


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(value)  # type: ignore[arg-type]
    except TypeError:
        return False


def _market(market: Market | str) -> Market | None:
    try:
        return Market(market)
    except ValueError:
        return None


def price_decimals(market: Market | str, price: float | None) -> int:
    """Decimals a market quotes this price level in.

    US: cents, sub-dollar stocks in hundredths of a cent. HK: thousandths under HK$10
    (spreads there are 0.001 to 0.01). A-shares: fen. FX: pipettes (5 decimals), 3
    for JPY-sized rates, 2 for metals in the thousands. Crypto: by magnitude.
    """
    m = _market(market)
    p = abs(price) if price is not None and not _is_missing(price) else None
    if m is Market.US:
        return 4 if p is not None and p < 1 else 2
    if m is Market.HK:
        return 3 if p is not None and p < 10 else 2
    if m is Market.CN:
        return 2
    if m is Market.FX:
        if p is None or p < 50:
            return 5
        return 3 if p < 1000 else 2
    if m is Market.CRYPTO:
        if p is None or p >= 1000:
            return 2
        return 4 if p >= 1 else 6
    return 2


def round_half_up(value: float, decimals: int) -> Decimal:
    """Round the way a quote board does: half away from zero, from the shortest repr.

    ``round(x, 10)`` first removes subtraction noise (``101.5 - 100.495`` is
    ``1.0049999999999955``, really ``1.005``) before the decimal rounding.
    """
    try:
        exact = Decimal(repr(round(float(value), 10)))
    except (InvalidOperation, ValueError, OverflowError):
        return Decimal("NaN")
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def prices_decimals(markets: Sequence[object], prices: Sequence[float] | np.ndarray) -> np.ndarray:
    """:func:`price_decimals` for whole columns at once (same rules, one int per row)."""
    m = np.asarray([str(x) for x in markets], dtype=object)
    p = np.abs(np.asarray(prices, dtype=float))
    nan = np.isnan(p)
    with np.errstate(invalid="ignore"):
        conditions = [
            m == Market.US.value,
            m == Market.HK.value,
            m == Market.CN.value,
            m == Market.FX.value,
            m == Market.CRYPTO.value,
        ]
        choices = [
            np.where(p < 1, 4, 2),
            np.where(p < 10, 3, 2),
            np.full(len(p), 2),
            np.where(nan | (p < 50), 5, np.where(p < 1000, 3, 2)),
            np.where(nan | (p >= 1000), 2, np.where(p >= 1, 4, 6)),
        ]
    return np.select(conditions, choices, default=2).astype(int)


def _rounded(values: np.ndarray, decimals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Half-up rounding in floats where it cannot differ from :func:`round_half_up`.

    Returns the rounded values and a mask of those that are safe: finite, not huge,
    and not within 1e-3 of a unit of a half (where the repr-based rule, the 1e-10
    pre-rounding or float noise could tip the result). The rest take the exact path.
    """
    scale = np.power(10.0, decimals)
    with np.errstate(invalid="ignore", over="ignore"):
        y = np.abs(values) * scale
        frac = y - np.floor(y)
        safe = np.isfinite(y) & (y < 1e11) & (np.abs(frac - 0.5) > 1e-3)
        rounded = np.copysign(np.floor(y + 0.5), values) / scale
    return rounded, safe


def round_values(
    values: Sequence[float] | np.ndarray, decimals: Sequence[int] | np.ndarray | int
) -> np.ndarray:
    """Values rounded half-up to their displayed digits, as floats (NaN stays NaN).

    The grid keeps numbers numeric so it sorts by value, and its accessible table
    reads those numbers: rounded, it reads ``231.51`` as shown, not ``231.50499999``.
    """
    v = np.asarray(values, dtype=float)
    d = np.broadcast_to(np.asarray(decimals, dtype=int), v.shape)
    rounded, safe = _rounded(v, d)
    out = np.where(safe, rounded, v)
    for i in np.flatnonzero(~safe & ~np.isnan(v)):
        out[i] = float(round_half_up(float(v[i]), int(d[i])))
    return out


def format_prices(values: Sequence[float] | np.ndarray, decimals: Sequence[int] | np.ndarray) -> list[str]:
    """:func:`format_price` for a column, with one precision per row; identical output."""
    v = np.asarray(values, dtype=float)
    d = np.broadcast_to(np.asarray(decimals, dtype=int), v.shape)
    rounded, safe = _rounded(v, d)
    missing = np.isnan(v)
    return [
        MISSING if miss else f"{r:,.{n}f}" if ok else format_price(x, n)
        for x, r, n, ok, miss in zip(
            v.tolist(), rounded.tolist(), d.tolist(), safe.tolist(), missing.tolist(), strict=True
        )
    ]


def format_pcts(values: Sequence[float] | np.ndarray, decimals: int = 2) -> list[str]:
    """:func:`format_pct` for a column; identical output."""
    v = np.asarray(values, dtype=float)
    rounded, safe = _rounded(v, np.full(v.shape, decimals))
    missing = np.isnan(v)
    out = []
    for x, r, ok, miss in zip(v.tolist(), rounded.tolist(), safe.tolist(), missing.tolist(), strict=True):
        if miss:
            out.append(MISSING)
        elif not ok:
            out.append(format_pct(x, decimals))
        elif r == 0:
            out.append(f"{abs(r):.{decimals}f}%")
        else:
            out.append(f"{r:+,.{decimals}f}%")
    return out


def format_price(value: float | None, decimals: int) -> str:
    """``2650.35`` -> ``"2,650.35"``; missing -> an em dash."""
    if _is_missing(value):
        return MISSING
    return f"{round_half_up(value, decimals):,.{decimals}f}"  # type: ignore[arg-type]


def format_change(value: float | None, decimals: int) -> str:
    """A signed price move: ``"+1.23"``, ``"-0.50"``, ``"0.00"``."""
    if _is_missing(value):
        return MISSING
    rounded = round_half_up(value, decimals)  # type: ignore[arg-type]
    if rounded == 0:
        return f"{abs(rounded):,.{decimals}f}"
    return f"{rounded:+,.{decimals}f}"


def format_pct(value: float | None, decimals: int = 2) -> str:
    """A percent move already in percent units: ``1.57`` -> ``"+1.57%"``."""
    if _is_missing(value):
        return MISSING
    rounded = round_half_up(value, decimals)  # type: ignore[arg-type]
    if rounded == 0:
        return f"{abs(rounded):.{decimals}f}%"
    return f"{rounded:+,.{decimals}f}%"


def local_time(
    ts: dt.datetime | None, market: Market | str, now: dt.datetime | None = None, tr: Translator = EN
) -> str:
    """Exchange-local time of a price with the zone named: ``"16:00:00 ET"`` / ``"16:00:00 美东"``.

    A price from an earlier local day gets its date too (``"Nov 21 16:00:00 ET"``), so
    a Friday close seen on Monday morning is not mistaken for a fresh print.
    """
    if ts is None or pd.isna(ts):
        return MISSING
    m = _market(market)
    tz = m.tz if m is not None else dt.UTC
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    local = ts.astimezone(tz)
    now_local = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    abbr = zone(tr, m) if m is not None else "UTC"
    clock = local.strftime("%H:%M:%S")
    if local.date() != now_local.date():
        return f"{tr.month_day(local.date())} {clock} {abbr}"
    return f"{clock} {abbr}"


def local_times(
    ts: pd.Series, markets: pd.Series, now: dt.datetime | None = None, tr: Translator = EN
) -> list[str]:
    """:func:`local_time` for whole columns: the same text, at a few microseconds a row.

    The quotes board builds this for every row of every watchlist on every snapshot
    version; pandas' per-market ``tz_convert``/``strftime`` cost milliseconds each.
    Zones, today's date and date labels are looked up once per market or day.
    """
    now = now or dt.datetime.now(dt.UTC)
    stamps = pd.to_datetime(pd.Series(ts).reset_index(drop=True), utc=True)
    missing = stamps.isna().to_numpy()
    seconds = (stamps.dt.tz_convert(None).to_numpy(dtype="datetime64[s]").astype("int64")).tolist()
    zones: dict[str, tuple[dt.tzinfo, str, dt.date]] = {}
    labels: dict[dt.date, str] = {}
    out: list[str] = []
    for value, sec, miss in zip(
        pd.Series(markets).astype(str).tolist(), seconds, missing.tolist(), strict=True
    ):
        if miss:
            out.append(MISSING)
            continue
        held = zones.get(value)
        if held is None:
            m = _market(value)
            tz = m.tz if m is not None else dt.UTC
            held = zones[value] = (tz, zone(tr, m) if m is not None else "UTC", now.astimezone(tz).date())
        tz, abbr, today = held
        local = dt.datetime.fromtimestamp(sec, tz)
        text = f"{local:%H:%M:%S} {abbr}"
        day = local.date()
        if day != today:
            label = labels.get(day)
            if label is None:
                label = labels[day] = tr.month_day(day)
            text = f"{label} {text}"
        out.append(text)
    return out


def format_duration(seconds: float | None, tr: Translator = EN) -> str:
    """A short countdown: ``"45s"``, ``"12m"``, ``"2h 05m"``, ``"3d 4h"`` (``"2小时05分"``)."""
    if seconds is None or _is_missing(seconds):
        return MISSING
    s = max(0, int(seconds))
    if s < 60:
        return tr._("{s}s", s=s)
    minutes, _ = divmod(s, 60)
    if minutes < 60:
        return tr._("{m}m", m=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return tr._("{h}h {m}m", h=hours, m=f"{minutes:02d}")
    days, hours = divmod(hours, 24)
    return tr._("{d}d {h}h", d=days, h=hours)
