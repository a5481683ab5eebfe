"""Cross-market live quotes from AllTick: one feed, one normalized snapshot.

    from feed import FeedConfig, FeedManager
    with FeedManager(FeedConfig.from_env()) as feed:
        feed.subscribe(["AAPL.US", "700.HK"])
        feed.wait_ready()
        print(feed.snapshot())

No ``ALLTICK_TOKEN`` means demo mode: a built-in AllTick simulator on loopback.

Thread ownership: the package only re-exports; see each module for its owner.
The names load on first use (PEP 562), so ``import feed`` is instant and ``python -m
feed`` can catch a Ctrl-C that lands while pandas, DuckDB and Arrow are still loading.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from feed.config import FeedConfig
    from feed.dispatch import TradeTick
    from feed.manager import FeedManager, Watch
    from feed.model import FeedStatus, Freshness, NotReady, Readiness
    from feed.shared import shared
    from feed.symbols import InvalidSymbol, Market, Symbol, parse_symbol, parse_watchlist

_HOMES = {
    "FeedConfig": "feed.config",
    "TradeTick": "feed.dispatch",
    "FeedManager": "feed.manager",
    "Watch": "feed.manager",
    "FeedStatus": "feed.model",
    "Freshness": "feed.model",
    "NotReady": "feed.model",
    "Readiness": "feed.model",
    "shared": "feed.shared",
    "InvalidSymbol": "feed.symbols",
    "Market": "feed.symbols",
    "Symbol": "feed.symbols",
    "parse_symbol": "feed.symbols",
    "parse_watchlist": "feed.symbols",
}

__all__ = [
    "FeedConfig",
    "FeedManager",
    "FeedStatus",
    "Freshness",
    "InvalidSymbol",
    "Market",
    "NotReady",
    "Readiness",
    "Symbol",
    "TradeTick",
    "Watch",
    "parse_symbol",
    "parse_watchlist",
    "shared",
]
assert sorted(_HOMES) == __all__


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'feed' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    # Bound after the import: loading feed.shared binds the submodule under this name
    # first, and the function, not the module, is what ``feed.shared`` means.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
