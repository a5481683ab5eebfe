"""HTTP records of the AllTick API (alltick-protocol.md §4): their shapes, both ways.

The client parses ``/kline``, ``/batch-kline``, ``/trade-tick`` and ``/static_info``
answers with the ``*_from`` functions; the simulator and the benchmark firehose build
the same answers with the ``*_record`` functions. Keeping both directions here is what
makes the simulator a faithful double: a field renamed on one side breaks a round-trip
test, not a user.

Thread ownership: none; pure functions called on whichever thread parses or builds a reply.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from feed.protocol.codec import RET_EXPLANATIONS, Ret

__all__ = [
    "KLINE_DAILY",
    "KLINE_SECONDS",
    "KLINE_TYPES",
    "KLINE_WEEKLY",
    "RATE_LIMITED_BODY",
    "Bar",
    "StaticInfo",
    "bar_record",
    "bars_from",
    "envelope",
    "static_info_from",
    "static_record",
    "trade_record",
]

log = logging.getLogger("feed.protocol.records")

# kline_type numbers (§4.2): 1=1m, 2=5m, 3=15m, 4=30m, 5=1h, 6=2h, 7=4h, 8=day, 9=week, 10=month.
KLINE_TYPES: dict[str, int] = {"1m": 1, "5m": 2, "15m": 3, "30m": 4, "1h": 5, "1d": 8, "1w": 9}
KLINE_1M = 1
KLINE_DAILY = 8
KLINE_WEEKLY = 9
# Seconds per bar of the intraday types (stocks do not support 6 and 7).
KLINE_SECONDS: dict[int, int] = {1: 60, 2: 300, 3: 900, 4: 1800, 5: 3600, 6: 7200, 7: 14400}

# What a rate-limited call was seen to return in the wild: no ``ret`` at all.
RATE_LIMITED_BODY = b'{"error_msg":"Too many requests"}'


class Bar(NamedTuple):
    """One K-line bar; ``time_s`` is epoch seconds (bars use seconds, ticks milliseconds)."""

    time_s: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    turnover: float = 0.0


class StaticInfo(NamedTuple):
    code: str
    name: str
    currency: str
    exchange: str
    name_zh: str = ""  # AllTick's Chinese name (name_cn, else name_hk)


# --- client side: parse ----------------------------------------------------------


def bars_from(raw: object) -> list[Bar]:
    """Bars of a ``kline_list``/``kline_data`` array, oldest first; malformed bars dropped."""
    bars: list[Bar] = []
    for b in raw if isinstance(raw, list) else []:
        try:
            bars.append(
                Bar(
                    int(b["timestamp"]),
                    float(b["open_price"]),
                    float(b["high_price"]),
                    float(b["low_price"]),
                    float(b["close_price"]),
                    float(b.get("volume") or 0),
                    float(b.get("turnover") or 0),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("dropped a malformed K-line bar")
    bars.sort(key=lambda b: b.time_s)
    return bars


def static_info_from(item: object) -> StaticInfo | None:
    """One ``static_info_list`` entry, or None when it names no symbol."""
    if not isinstance(item, dict) or not isinstance(item.get("symbol"), str):
        return None
    return StaticInfo(
        item["symbol"],
        str(item.get("name_en") or item.get("name_hk") or item.get("name_cn") or ""),
        str(item.get("currency") or ""),
        str(item.get("exchange") or ""),
        str(item.get("name_cn") or item.get("name_hk") or ""),
    )


# --- server side: build ------------------------------------------------------------


def envelope(ret: int, trace: str, data: dict[str, Any]) -> dict[str, Any]:
    """The HTTP answer envelope: ``ret``, ``msg``, ``trace``, ``data`` (no cmd_id)."""
    try:
        msg = RET_EXPLANATIONS[Ret(ret)]
    except ValueError:
        msg = "error"
    return {"ret": int(ret), "msg": msg, "trace": trace, "data": data}


def bar_record(
    time_s: int, open_: str, high: str, low: str, close: str, volume: str, turnover: str
) -> dict[str, str]:
    """One K-line bar as the API sends it: every field a string, ``timestamp`` in seconds."""
    return {
        "timestamp": str(time_s),
        "open_price": open_,
        "close_price": close,
        "high_price": high,
        "low_price": low,
        "volume": volume,
        "turnover": turnover,
    }


def trade_record(
    code: str, seq: int, time_ms: int, price: str, volume: str, turnover: str, direction: int = 0
) -> dict[str, Any]:
    """One ``/trade-tick`` entry: strings for seq and tick_time, as every capture shows."""
    return {
        "code": code,
        "seq": str(seq),
        "tick_time": str(time_ms),
        "price": price,
        "volume": volume,
        "turnover": turnover,
        "trade_direction": direction,
    }


def static_record(
    code: str, name_en: str, name_cn: str, currency: str, exchange: str, board: str, lot_size: int
) -> dict[str, str]:
    """One ``/static_info`` entry (the fields a quotes table uses; all strings)."""
    return {
        "symbol": code,
        "name_en": name_en,
        "name_cn": name_cn,
        "name_hk": name_cn,
        "currency": currency,
        "exchange": exchange,
        "board": board,
        "lot_size": str(lot_size),
    }
