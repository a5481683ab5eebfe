"""Symbols: turn what people type into AllTick's canonical codes.

AllTick codes are case-sensitive (``Silver``, ``ABRpD.US``) and HK codes carry no
leading zeros (``00700.HK`` is rejected by the server with ret 600). People type
``aapl``, ``0700.HK``, ``hk00700`` or ``600519``; this module is the one place that
maps those onto ``AAPL.US``, ``700.HK`` and ``600519.SH`` and says which market,
exchange time zone and endpoint each belongs to.

Thread ownership: no state; pure functions and immutable values any thread may use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "Endpoint",
    "InvalidSymbol",
    "Market",
    "Symbol",
    "parse_symbol",
    "parse_watchlist",
]

MAX_INPUT_LEN = 32


class Endpoint(StrEnum):
    """The two AllTick endpoint groups; a code sent to the wrong one gets ret 600."""

    STOCK = "stock"
    FOREX = "forex"


class Market(StrEnum):
    """A market is a set of codes that share a session calendar and a time zone."""

    US = "US"
    HK = "HK"
    CN = "CN"
    FX = "FX"
    CRYPTO = "CRYPTO"

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint.FOREX if self in (Market.FX, Market.CRYPTO) else Endpoint.STOCK

    @property
    def tz(self) -> ZoneInfo:
        return _TZ[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


_TZ = {
    Market.US: ZoneInfo("America/New_York"),
    Market.HK: ZoneInfo("Asia/Hong_Kong"),
    Market.CN: ZoneInfo("Asia/Shanghai"),
    # Forex and crypto have no exchange; their daily bars are cut at UTC midnight.
    Market.FX: ZoneInfo("UTC"),
    Market.CRYPTO: ZoneInfo("UTC"),
}

_LABELS = {
    Market.US: "US stocks",
    Market.HK: "Hong Kong stocks",
    Market.CN: "China A-shares",
    Market.FX: "Forex & metals",
    Market.CRYPTO: "Crypto",
}


class InvalidSymbol(ValueError):
    """Raised for input that cannot be an AllTick code; the message repeats the input."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        shown = text if len(text) <= MAX_INPUT_LEN else text[:MAX_INPUT_LEN] + "…"
        super().__init__(f"{shown!r} is not a valid symbol: {reason}")


@dataclass(frozen=True, slots=True)
class Symbol:
    """A canonical AllTick code and the market it trades in.

    ``code`` is exactly what goes on the wire and what pushes are keyed by.
    """

    code: str
    market: Market

    def __str__(self) -> str:
        return self.code


# Forex, metals, energy and CFD names whose case AllTick fixes; keyed by upper case so
# "silver" and "SILVER" both find "Silver".
_FX_NAMED = {
    name.upper(): name
    for name in (
        "GOLD",
        "Silver",
        "Platinum",
        "Palladium",
        "COPPER",
        "Aluminum",
        "Nickel",
        "Lead",
        "Zinc",
        "USOIL",
        "UKOIL",
        "NGAS",
        "US500",
        "US30",
        "NAS100",
        "GER30",
        "UK100",
        "FRA40",
        "JPN225",
        "HK50",
        "CHA50",
        "AUS200",
        "EUSTX50",
    )
}
# Common aliases people type for metals; AllTick's code is the vendor name.
_FX_ALIASES = {"XAUUSD": "GOLD", "XAGUSD": "Silver"}
_CURRENCIES = frozenset(
    [
        "USD",
        "HKD",
        "CNH",
        "CNY",
        "EUR",
        "GBP",
        "JPY",
        "CHF",
        "AUD",
        "NZD",
        "CAD",
        "SGD",
        "KRW",
        "TWD",
        "INR",
        "XAU",
        "XAG",
    ]
)
_CRYPTO_QUOTES = ("USDT", "USD")

_US_TICKER = re.compile(r"^\.?[A-Za-z][A-Za-z0-9]{0,5}(?:[.][A-Za-z]{1,2}|p[A-Z])?$")
_HK_PREFIX = re.compile(r"^(?:HK)?(\d{1,5})(?:\.HK)?$", re.IGNORECASE)
_CN_CODE = re.compile(r"^(?:(SH|SZ))?(\d{6})(?:\.(SH|SZ))?$", re.IGNORECASE)
_HK_INDEX = frozenset({"HSI", "HSCEI", "HSTECH"})


def parse_symbol(text: str) -> Symbol:
    """Parse one user-typed symbol into its canonical code and market.

    Rules (alltick-protocol.md §6):
    - the market suffix is split on the *last* dot (``BRK.B.US``);
    - HK numbers lose leading zeros (``00700`` -> ``700.HK``); bare numbers of up to
      five digits are HK, six digits are A-shares (``6xxxxx`` Shanghai, ``0/3xxxxx``
      Shenzhen);
    - US tickers are upper-cased except a preferred-share ``p`` (``ABRpD.US``);
    - forex pairs are six currency letters, crypto is ``<BASE>USDT``;
    - metals keep AllTick's own case (``Silver``), whatever the user typed.

    Raises:
        InvalidSymbol: naming the input and why it was refused.
    """
    if not isinstance(text, str):
        raise InvalidSymbol(repr(text), "not text")
    raw = text.strip()
    if not raw:
        raise InvalidSymbol(text, "empty")
    if len(raw) > MAX_INPUT_LEN:
        raise InvalidSymbol(raw, f"longer than {MAX_INPUT_LEN} characters")
    if not raw.isascii() or not re.fullmatch(r"[A-Za-z0-9.]+", raw):
        raise InvalidSymbol(raw, "only letters, digits and dots are allowed")

    head, dot, suffix = raw.rpartition(".")
    suffix_u = suffix.upper() if dot else ""
    if suffix_u == "US":
        return _parse_us(raw, head)
    if suffix_u == "HK":
        return _parse_hk(raw, head)
    if suffix_u in ("SH", "SZ"):
        return _parse_cn(raw, head, suffix_u)
    if dot:
        raise InvalidSymbol(raw, f"unknown market suffix '.{suffix}' (use .US, .HK, .SH or .SZ)")
    return _parse_bare(raw)


def _parse_us(raw: str, ticker: str) -> Symbol:
    if not ticker or not _US_TICKER.match(ticker):
        raise InvalidSymbol(raw, "not a US ticker")
    # A lowercase 'p' followed by a class letter marks a preferred share; keep it.
    if len(ticker) >= 3 and ticker[-2] == "p" and ticker[-1].isupper():
        canon = ticker[:-2].upper() + "p" + ticker[-1]
    else:
        canon = ticker.upper()
    return Symbol(f"{canon}.US", Market.US)


def _parse_hk(raw: str, number: str) -> Symbol:
    if number.upper() in _HK_INDEX:
        return Symbol(f"{number.upper()}.HK", Market.HK)
    m = _HK_PREFIX.match(number)
    if not m:
        raise InvalidSymbol(raw, "HK codes are numbers of up to five digits")
    return _hk_from_digits(raw, m.group(1))


def _hk_from_digits(raw: str, digits: str) -> Symbol:
    value = int(digits)
    if value == 0:
        raise InvalidSymbol(raw, "HK code 0 does not exist")
    return Symbol(f"{value}.HK", Market.HK)


def _parse_cn(raw: str, digits: str, exchange: str) -> Symbol:
    if not re.fullmatch(r"\d{6}", digits):
        raise InvalidSymbol(raw, "A-share codes are six digits")
    return Symbol(f"{digits}.{exchange}", Market.CN)


def _parse_bare(raw: str) -> Symbol:
    upper = raw.upper()
    if raw.isdigit():
        if len(raw) <= 5:
            return _hk_from_digits(raw, raw)
        if len(raw) == 6:
            return Symbol(f"{raw}.{_cn_exchange(raw)}", Market.CN)
        raise InvalidSymbol(raw, "too many digits for an HK or A-share code")
    m = _HK_PREFIX.match(raw)
    if m and upper.startswith("HK"):
        return _hk_from_digits(raw, m.group(1))
    m = _CN_CODE.match(raw)
    if m and m.group(1):
        return Symbol(f"{m.group(2)}.{m.group(1).upper()}", Market.CN)
    if upper in _FX_ALIASES:
        return Symbol(_FX_ALIASES[upper], Market.FX)
    if upper in _FX_NAMED:
        return Symbol(_FX_NAMED[upper], Market.FX)
    if len(upper) == 6 and upper[:3] in _CURRENCIES and upper[3:] in _CURRENCIES:
        return Symbol(upper, Market.FX)
    for quote in _CRYPTO_QUOTES:
        base = upper[: -len(quote)]
        if upper.endswith(quote) and 2 <= len(base) <= 10 and base.isalnum():
            return Symbol(f"{base}USDT", Market.CRYPTO)
    if _US_TICKER.match(raw) and "." not in raw and len(raw) <= 5:
        return _parse_us(raw, raw)
    raise InvalidSymbol(raw, "not a known US, HK, A-share, forex or crypto code")


def _cn_exchange(digits: str) -> str:
    if digits[0] in "69":
        return "SH"
    if digits[0] in "03":
        return "SZ"
    raise InvalidSymbol(digits, "A-share codes start with 6 (Shanghai) or 0/3 (Shenzhen)")


_SEPARATORS = re.compile(r"[,\s;]+")


def parse_watchlist(text: str | list[str]) -> tuple[list[Symbol], list[InvalidSymbol]]:
    """Parse a comma/space separated list, keeping order, dropping duplicates.

    Bad entries never cost the good ones: they come back as errors beside the
    parsed symbols so the caller can name each one.
    """
    parts = text if isinstance(text, list) else _SEPARATORS.split(text or "")
    symbols: list[Symbol] = []
    errors: list[InvalidSymbol] = []
    seen: set[str] = set()
    for part in parts:
        if not part or not part.strip():
            continue
        try:
            sym = parse_symbol(part)
        except InvalidSymbol as exc:
            errors.append(exc)
            continue
        if sym.code not in seen:
            seen.add(sym.code)
            symbols.append(sym)
    return symbols, errors


def symbol_list(symbols: Iterable[str] | str) -> list[str]:
    """The symbols argument of a public call: one string (comma/space separated) or strings.

    Anything that is not a string is a ``TypeError`` naming it (``subscribe([123])``).
    """
    if isinstance(symbols, str):
        return [p for p in _SEPARATORS.split(symbols) if p]
    items = list(symbols)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"symbols must be strings, got {item!r} ({type(item).__name__})")
    return items


def code_of(symbol: str) -> str:
    """The canonical code of one symbol in any accepted form (``aapl``, ``00700``)."""
    if not isinstance(symbol, str):
        raise TypeError(f"a symbol must be a string, got {symbol!r} ({type(symbol).__name__})")
    return parse_symbol(symbol).code
