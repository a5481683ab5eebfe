"""Watchlists: which codes each reader wants, and the union the feed streams.

Owned by the supervisor thread while the feed runs (by the manager's caller before
``start()`` and after ``stop()``, when no feed thread exists). Pure: no clock of its
own, no I/O, so the release grace and the cap are tested directly.

A closed watchlist keeps its codes for ``grace`` seconds: a browser reload ends one
session and starts the next, and the reloaded tab should find its symbols streaming.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

from feed.symbols import InvalidSymbol, Market, parse_symbol

__all__ = ["Watch", "WatchRegistry"]


class Watch:
    """One reader's watchlist handle (a browser session, a script). Close it to release codes."""

    _ids = itertools.count(1)

    def __init__(self, setter: Callable[[int, tuple[str, ...] | None], None]) -> None:
        self.id = next(self._ids)
        self._setter = setter

    def set(self, codes: Iterable[str]) -> None:
        self._setter(self.id, tuple(codes))

    def close(self) -> None:
        self._setter(self.id, None)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WatchRegistry:
    def __init__(self, max_watch: int = 500) -> None:
        self.max_watch = max_watch
        self._watches: dict[int, tuple[str, ...]] = {}
        self._releasing: dict[int, tuple[float, tuple[str, ...]]] = {}
        self.markets: dict[str, Market] = {}
        self.union: tuple[str, ...] = ()
        self.version = 0

    def set(self, watch_id: int, codes: Iterable[str]) -> bool:
        """Replace one watchlist (canonical codes; anything unparsable is skipped)."""
        valid: list[str] = []
        for c in codes:
            try:
                sym = parse_symbol(c)
            except InvalidSymbol:
                continue
            self.markets[sym.code] = sym.market
            if sym.code not in valid:
                valid.append(sym.code)
        self._releasing.pop(watch_id, None)
        if self._watches.get(watch_id) == tuple(valid):
            return False
        self._watches[watch_id] = tuple(valid)
        return self._recompute()

    def close(self, watch_id: int, now: float, grace: float) -> bool:
        codes = self._watches.pop(watch_id, None)
        if codes and grace > 0:
            self._releasing[watch_id] = (now + grace, codes)
        return self._recompute()

    def expire(self, now: float) -> bool:
        gone = [w for w, (until, _) in self._releasing.items() if until <= now]
        for w in gone:
            del self._releasing[w]
        return self._recompute() if gone else False

    def codes_of(self, watch_id: int) -> tuple[str, ...]:
        return self._watches.get(watch_id, ())

    def _recompute(self) -> bool:
        lists = [*self._watches.values(), *(codes for _, codes in self._releasing.values())]
        union = tuple(dict.fromkeys(c for w in lists for c in w))[: self.max_watch]
        if union == self.union:
            return False
        self.union = union
        self.version += 1
        return True
