"""The premium side of ``FeedManager``: ``premiums()``, ``premium_path()``, the pair list.

Runs on the caller's thread. The formulas and timing rules live in :mod:`feed.premium`
(pure); this module chooses the pairs, keeps their legs and the two FX rates (USDHKD,
USDCNH) subscribed through a watch of its own — so they stream while premiums are
shown, appear on Feed health, and never enter a user's watchlist — and feeds the
formulas the snapshot's prices. The pair list is the packaged ``cross_listings.csv``
plus the operator's ``QUOTES_PAIRS_FILE``, read once per manager.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from typing import Any

import pandas as pd

from feed.premium import FX_CODES, Pair, PairFileError, load_pairs, premium_path, premium_table
from feed.symbols import code_of
from feed.watches import Watch

__all__ = ["PremiumApi", "select_pairs"]


def select_pairs(pairs: tuple[Pair, ...], wanted: Iterable[str | Pair] | str | None) -> tuple[Pair, ...]:
    """``None``: all. Else ``Pair`` values, ``"US:HK"``/``"A:H"`` strings, or one leg's code
    (any accepted form); a string that names no known pair is a ``ValueError`` naming it."""
    if wanted is None:
        return pairs
    items = [w.strip() for w in wanted.split(",") if w.strip()] if isinstance(wanted, str) else list(wanted)
    out: list[Pair] = []
    for item in items:
        if isinstance(item, Pair):
            found = [item]
        else:
            legs = [code_of(part) for part in item.split(":")]
            found = [p for p in pairs if all(leg in (p.symbol, p.peer) for leg in legs)]
            if len(legs) == 2:
                found = [p for p in found if (p.symbol, p.peer) == (legs[0], legs[1])]
            if not found:
                raise ValueError(f"no cross-listed pair for {item!r} (see feed/data/cross_listings.csv)")
        out += [p for p in found if p not in out]
    return tuple(out)


class PremiumApi:
    """Mixed into ``FeedManager``, which provides ``config``, ``watch()``, ``snapshot()``, ``history()``."""

    config: Any
    _premium_state: dict[str, Any]

    def _premium(self) -> dict[str, Any]:
        state = self.__dict__.setdefault("_premium_state", {})
        if "pairs" not in state:
            extra = getattr(self.config, "pairs_file", None)
            state["pairs"], state["errors"] = load_pairs(extra=extra)
        return state

    def premium_pairs(self) -> tuple[tuple[Pair, ...], list[PairFileError]]:
        """The known pairs, and the problems of the operator's pair file (if any)."""
        state = self._premium()
        return state["pairs"], state["errors"]

    def premium_codes(self, pairs: Iterable[str | Pair] | str | None = None) -> tuple[str, ...]:
        chosen = select_pairs(self.premium_pairs()[0], pairs)
        return tuple(dict.fromkeys([c for p in chosen for c in (p.symbol, p.peer)] + list(FX_CODES)))

    def show_premiums(
        self, pairs: Iterable[str | Pair] | str | None = None, watch: Watch | None = None
    ) -> None:
        """Keep these pairs' legs and the FX rates streaming (on ``watch``, or the manager's own)."""
        state = self._premium()
        if watch is None:
            watch = state.get("watch") or state.setdefault("watch", self.watch())  # type: ignore[attr-defined]
        watch.set(self.premium_codes(pairs))

    def hide_premiums(self) -> None:
        """Release what ``premiums()`` keeps streaming (after the usual grace period)."""
        watch = self._premium().pop("watch", None)
        if watch is not None:
            watch.close()

    def premiums(self, pairs: Iterable[str | Pair] | str | None = None, *, wait: float = 0.0) -> pd.DataFrame:
        """The premium table (see :func:`feed.premium.premium_table`), highest first.

        Subscribes the legs and USDHKD/USDCNH first (they stay until :meth:`hide_premiums`);
        ``wait`` seconds are spent, at most, for every leg and rate to have a price.
        """
        chosen = select_pairs(self.premium_pairs()[0], pairs)
        self.show_premiums(chosen)
        codes = self.premium_codes(chosen)
        deadline = time.monotonic() + wait
        snap = self.snapshot(codes)  # type: ignore[attr-defined]
        while wait and snap["last"].isna().any() and time.monotonic() < deadline:
            time.sleep(0.1)
            snap = self.snapshot(codes)  # type: ignore[attr-defined]
        return premium_table(chosen, snap, snap, dt.datetime.now(dt.UTC))

    def premium_path(self, pair: str | Pair, *, cross_session: bool | None = None) -> pd.DataFrame:
        """Today's premium minute by minute from both legs' paths and the FX paths.

        ADR legs never trade at the same time, so their path compares each leg's latest
        session (``cross_session``, marked ``different_sessions``); A/H legs are compared
        live only. A gap in a leg stays a gap.
        """
        (chosen,) = select_pairs(self.premium_pairs()[0], [pair])
        history = self.history  # type: ignore[attr-defined]
        fx = {code: history(code) for code in FX_CODES}
        adr = chosen.kind.value == "ADR"
        return premium_path(
            chosen,
            history(chosen.symbol),
            history(chosen.peer),
            fx,
            cross_session=adr if cross_session is None else cross_session,
        )
