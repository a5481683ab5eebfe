"""The per-session watchlist as plain data: adding, removing, presets and the URL form.

The sidebar widgets only call these functions; keeping the rules here lets tests pin
them without Streamlit. Input is untrusted (typed, pasted, or from a shared link), so
every message that repeats it goes through :func:`escape_markdown` and is shortened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from feed.symbols import InvalidSymbol, Market, Symbol, parse_symbol, parse_watchlist

__all__ = [
    "MAX_INPUT_CHARS",
    "MAX_WATCHLIST",
    "PRESETS",
    "WatchlistChange",
    "add_symbols",
    "escape_markdown",
    "from_query",
    "market_of",
    "remove_symbols",
    "shorten",
    "to_query",
]

# A browser session watching more than this is a mistake or a bot; the plan caps what
# actually streams far lower anyway (free: 5 codes).
MAX_WATCHLIST = 200
# Longest text the add box or the ?symbols= parameter is read from.
MAX_INPUT_CHARS = 2_000
# How many bad entries one message names before summarising the rest.
MAX_ERRORS_SHOWN = 8

PRESETS: dict[str, tuple[str, ...]] = {
    "Article's four": ("AAPL.US", "TSLA.US", "700.HK", "9988.HK"),
    "US mega caps": ("AAPL.US", "MSFT.US", "NVDA.US", "AMZN.US", "GOOGL.US", "META.US", "TSLA.US", "AVGO.US"),
    "HK tech": ("700.HK", "9988.HK", "3690.HK", "1810.HK", "9618.HK", "1024.HK", "9999.HK", "981.HK"),
    "Dual-listed pairs": (
        "BABA.US",
        "9988.HK",
        "JD.US",
        "9618.HK",
        "BIDU.US",
        "9888.HK",
        "NTES.US",
        "9999.HK",
    ),
    "A-shares, FX & crypto": ("600519.SH", "000001.SZ", "USDHKD", "USDCNH", "GOLD", "BTCUSDT"),
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&\"'=])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def shorten(text: str, limit: int = 32) -> str:
    """Cut untrusted text for display and drop control and bidi characters."""
    clean = _CONTROL.sub("", str(text))
    return clean if len(clean) <= limit else clean[:limit] + "…"


def escape_markdown(text: str) -> str:
    """Make untrusted text literal in Streamlit markdown (links, emphasis, :icons:, $math$)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


@dataclass(slots=True)
class WatchlistChange:
    """What an add did: the new list, and every reason something was not added."""

    watchlist: list[str]
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    invalid: list[InvalidSymbol] = field(default_factory=list)
    over_cap: list[str] = field(default_factory=list)
    too_long: int = 0  # length of input refused as a whole, 0 if none

    @property
    def messages(self) -> list[str]:
        """Markdown-safe error lines naming each refused entry."""
        lines: list[str] = []
        if self.too_long:
            lines.append(
                f"That input is {self.too_long:,} characters long; paste at most {MAX_INPUT_CHARS:,} "
                "characters at a time."
            )
        for exc in self.invalid[:MAX_ERRORS_SHOWN]:
            bad, why = escape_markdown(shorten(exc.text)), escape_markdown(shorten(exc.reason, 120))
            lines.append(f"**{bad}** is not a valid symbol: {why}.")
        if len(self.invalid) > MAX_ERRORS_SHOWN:
            lines.append(f"…and {len(self.invalid) - MAX_ERRORS_SHOWN} more invalid entries.")
        if self.over_cap:
            shown = ", ".join(self.over_cap[:MAX_ERRORS_SHOWN])
            more = (
                f" and {len(self.over_cap) - MAX_ERRORS_SHOWN} more"
                if len(self.over_cap) > MAX_ERRORS_SHOWN
                else ""
            )
            lines.append(
                f"The watchlist holds at most {MAX_WATCHLIST} symbols; not added: {shown}{more}. "
                "Remove some symbols first."
            )
        return lines


def market_of(code: str) -> Market | None:
    """The market of a canonical code (canonical codes parse to themselves)."""
    try:
        return parse_symbol(code).market
    except InvalidSymbol:
        return None


def add_symbols(current: list[str], text: str | list[str], cap: int = MAX_WATCHLIST) -> WatchlistChange:
    """Append the valid symbols in ``text`` to ``current``, in order, without duplicates.

    Bad entries never cost the good ones; entries past ``cap`` are refused by name.
    """
    change = WatchlistChange(watchlist=list(current))
    if isinstance(text, str) and len(text) > MAX_INPUT_CHARS:
        change.too_long = len(text)
        return change
    symbols, errors = parse_watchlist(text)
    change.invalid = errors
    present = set(change.watchlist)
    for sym in symbols:
        if sym.code in present:
            change.already.append(sym.code)
        elif len(change.watchlist) >= cap:
            change.over_cap.append(sym.code)
        else:
            change.watchlist.append(sym.code)
            change.added.append(sym.code)
            present.add(sym.code)
    return change


def remove_symbols(current: list[str], codes: list[str]) -> list[str]:
    """``current`` without ``codes``, order kept."""
    drop = set(codes)
    return [c for c in current if c not in drop]


def from_query(value: str | list[str] | None, cap: int = MAX_WATCHLIST) -> WatchlistChange:
    """Read a shared link's ``?symbols=AAPL.US,700.HK`` (repeated keys allowed)."""
    if value is None:
        return WatchlistChange(watchlist=[])
    text = ",".join(value) if isinstance(value, list) else value
    return add_symbols([], text, cap=cap)


def to_query(codes: list[str]) -> str:
    """The ``symbols`` query value for a watchlist: canonical codes, comma separated."""
    return ",".join(codes)


def symbols_of(codes: list[str]) -> list[Symbol]:
    """Canonical codes back to :class:`Symbol` values, skipping any that no longer parse."""
    out: list[Symbol] = []
    for code in codes:
        try:
            out.append(parse_symbol(code))
        except InvalidSymbol:
            continue
    return out
