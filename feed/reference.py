"""Reference data as the processor holds it: daily bars, previous closes, names, bad codes.

Owned by the processor thread (its only writer); no I/O, no clock of its own, so the
previous-close and rollover rules are tested directly (``tests/test_reference.py``).
What it needs from HTTP it returns as jobs for the caller to send to the
reference-data worker; what readers need is copied into each published Snapshot.

Previous close (:mod:`feed.prevclose`): the close of the latest daily bar dated
strictly before the trade date of the latest price. It is recomputed only when the
bars change or a price falls outside the trade date the last answer was for (a
millisecond window per code), so the per-tick cost is two comparisons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from feed import calendars
from feed.messages import DailyFetched, FetchDaily, FetchNames, FetchPrices, Job
from feed.model import PrevClose
from feed.prevclose import prev_close
from feed.protocol.records import Bar, StaticInfo
from feed.symbols import Endpoint, Market

__all__ = ["INVALID_TTL", "ReferenceData", "invalid_reason"]

INVALID_TTL = 3600.0  # seconds a refused code stays known as refused after nobody watches it


def invalid_reason(ret: int) -> str:
    if ret == 604:
        return "the plan does not include this code (ret 604)"
    return "the server does not know this code (ret 600)"


class ReferenceData:
    def __init__(self) -> None:
        self.daily: dict[str, tuple[Bar, ...]] = {}
        self.daily_for: dict[str, dt.date] = {}
        self._requested: dict[str, dt.date] = {}
        self.prev: dict[str, PrevClose] = {}
        self._window: dict[str, tuple[int, int]] = {}
        self.names: dict[str, StaticInfo] = {}
        self.invalid: dict[str, str] = {}
        self._invalid_at: dict[str, float] = {}  # monotonic time of each refusal

    # --- previous closes ---------------------------------------------------------------

    def on_daily(self, msg: DailyFetched, markets: Mapping[str, Market], now: dt.datetime) -> set[str]:
        """Store fetched bars; returns the codes whose bars changed."""
        changed = set()
        for code, bars in msg.bars.items():
            market = markets.get(code)
            if market is None:
                continue
            self.daily[code] = bars
            self.daily_for[code] = msg.for_date.get(code) or calendars.trading_date(market, now)
            self._window.pop(code, None)
            changed.add(code)
        return changed

    def refresh_prev(self, code: str, market: Market, time_ms: int) -> tuple[bool, FetchDaily | None]:
        """Recompute ``code``'s previous close for a price at ``time_ms`` if needed.

        Returns whether the previous close changed, and a refetch job when the price
        belongs to a session newer than the one the bars were fetched for.
        """
        window = self._window.get(code)
        if window is not None and window[0] <= time_ms < window[1]:
            return False, None
        trade_date = calendars.trade_date_of(market, time_ms)
        start = dt.datetime.combine(trade_date, dt.time(), market.tz)
        bars = self.daily.get(code)
        job = None
        fetched_for = self.daily_for.get(code)
        if bars is not None and fetched_for is not None and trade_date > fetched_for:
            job = self._request(code, trade_date)
        if bars is None:
            return False, None
        result = prev_close(bars, market, time_ms)
        lo = int(start.timestamp() * 1000)
        self._window[code] = (lo, int((start + dt.timedelta(days=1)).timestamp() * 1000))
        before = self.prev.get(code)
        if result is None:
            self.prev.pop(code, None)
        else:
            self.prev[code] = result
        return before != result, job

    def due_rollover(
        self, codes: Iterable[str], markets: Mapping[str, Market], now: dt.datetime
    ) -> FetchDaily | None:
        """Daily bars to refetch because a market's calendar moved past their date.

        Hong Kong rolls to a new trading date hours before New York: each code follows
        its own market's calendar, not a global timer.
        """
        today: dict[Market, dt.date] = {}
        due: dict[str, dt.date] = {}
        for code in codes:
            fetched = self.daily_for.get(code)
            market = markets.get(code)
            if fetched is None or market is None:
                continue
            if market not in today:
                today[market] = calendars.trading_date(market, now)
            if today[market] > fetched and self._requested.get(code) != today[market]:
                self._requested[code] = today[market]
                due[code] = today[market]
        return FetchDaily(tuple(due), due) if due else None

    def _request(self, code: str, day: dt.date) -> FetchDaily | None:
        if self._requested.get(code) == day:
            return None
        self._requested[code] = day
        return FetchDaily((code,), {code: day})

    def seed_jobs(self, codes: list[str], markets: Mapping[str, Market], now: dt.datetime) -> list[Job]:
        """What new rows need, in priority order: last trade, previous close, name (their
        path comes from the store first, then the K-line: :class:`feed.continuity.Continuity`)."""
        jobs: list[Job] = [FetchPrices(tuple(codes))]
        daily = [c for c in codes if c not in self.daily]
        if daily:
            jobs.append(FetchDaily(tuple(daily), {c: calendars.trading_date(markets[c], now) for c in daily}))
        names = [c for c in codes if markets[c].endpoint is Endpoint.STOCK and c not in self.names]
        if names:
            jobs.append(FetchNames(tuple(names)))
        return jobs

    # --- names and bad codes -----------------------------------------------------------

    def on_names(self, infos: Mapping[str, StaticInfo]) -> bool:
        fresh = {c: i for c, i in infos.items() if self.names.get(c) != i}
        self.names.update(fresh)
        return bool(fresh)

    def reject(self, rets: Mapping[str, int], watched: Iterable[str], now: float) -> dict[str, str]:
        """Mark refused codes (of those watched); returns the newly invalid ones with reasons."""
        keep = set(watched)
        fresh = {c: invalid_reason(r) for c, r in rets.items() if c in keep and c not in self.invalid}
        self.invalid.update(fresh)
        self._invalid_at.update(dict.fromkeys(fresh, now))
        return fresh

    def forget(self, codes: Iterable[str], now: float) -> bool:
        """Codes nobody watches any more. A refusal is remembered for an hour (a re-add is
        named at once, without asking the server again); an older one is forgotten, so a
        re-add after a plan change probes afresh. Returns whether the invalid set changed."""
        codes = list(codes)
        gone = [c for c in codes if c in self.invalid and now - self._invalid_at.get(c, now) > INVALID_TTL]
        for c in gone:
            del self.invalid[c]
            self._invalid_at.pop(c, None)
        for c in codes:
            self._window.pop(c, None)
            self.prev.pop(c, None)
        return bool(gone)
