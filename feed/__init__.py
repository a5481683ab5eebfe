"""Cross-market live quotes from AllTick: one feed, one normalized snapshot.

    from feed import FeedConfig, FeedManager
    with FeedManager(FeedConfig.from_env()) as feed:
        feed.subscribe(["AAPL.US", "700.HK"])
        feed.wait_ready()
        print(feed.snapshot())

No ``ALLTICK_TOKEN`` means demo mode: a built-in AllTick simulator on loopback.

Thread ownership: the package only re-exports; see each module for its owner.
"""

from feed.config import FeedConfig
from feed.dispatch import TradeTick
from feed.manager import FeedManager, Watch
from feed.model import FeedStatus, Freshness, NotReady, Readiness
from feed.shared import shared
from feed.symbols import InvalidSymbol, Market, Symbol, parse_symbol, parse_watchlist

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
