"""The typed, frozen messages the feed's threads send each other through queues.

Nothing here is owned by anyone: a message is built by its sender, handed over whole
and never changed. The routes (feed-architecture.md §2)::

    readers ──SetWatch──► supervisor ──WatchChanged, LinksChanged, Recovering──► processor
    pumps ──LinkNotice──► supervisor ──jobs (ProbeCodes, FetchPrices gap fill)──► refdata
    processor ──jobs (seed, daily, names, paths)──► refdata ──results──► processor
    processor ──CodesInvalid──► supervisor           anyone ──FeedNote──► processor (events)

A :class:`Reply` is the one mutable piece: a one-shot slot the receiver fills so a
caller (``subscribe()``) can wait for the change to land without sharing any state.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from feed.model import ConnectionState, EventKind
from feed.protocol.codec import Tick
from feed.protocol.records import Bar, StaticInfo
from feed.session import Notice
from feed.symbols import Market

__all__ = [
    "AddSink",
    "CodesInvalid",
    "CodesRejected",
    "DailyFetched",
    "FeedNote",
    "FetchBars",
    "FetchDaily",
    "FetchNames",
    "FetchPath",
    "FetchPrices",
    "Job",
    "LinkNotice",
    "LinkView",
    "LinksChanged",
    "LiveBars",
    "NamesFetched",
    "PathFetched",
    "PricesFetched",
    "ProbeCodes",
    "Recovering",
    "RemoveSink",
    "Reply",
    "SetWatch",
    "Stop",
    "WatchChanged",
]


class Reply:
    """A one-shot answer slot: the receiver calls :meth:`put`, the sender :meth:`wait`s."""

    __slots__ = ("_done", "value")

    def __init__(self) -> None:
        self._done = threading.Event()
        self.value: Any = None

    def put(self, value: Any) -> None:
        self.value = value
        self._done.set()

    def wait(self, timeout: float) -> Any:
        self._done.wait(timeout)
        return self.value


@dataclass(frozen=True, slots=True)
class Stop:
    """Ends the receiving loop."""


# --- to the supervisor ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetWatch:
    """One reader's watchlist; ``codes=None`` closes it (released after a grace period)."""

    watch_id: int
    codes: tuple[str, ...] | None
    reply: Reply | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class LinkNotice:
    link: str
    notice: Notice


@dataclass(frozen=True, slots=True)
class CodesInvalid:
    """Codes the server refused for good (600/604), with the reason shown to users."""

    reasons: Mapping[str, str]


# --- to the processor ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WatchChanged:
    version: int
    watched: tuple[str, ...]
    markets: Mapping[str, Market]
    not_streamed: Mapping[str, str]  # over the plan's code cap: code -> reason


@dataclass(frozen=True, slots=True)
class LinkView:
    """What a row needs to know about the link that carries its market."""

    name: str
    state: ConnectionState
    detail: str = ""  # the cause in words when the link is not streaming


@dataclass(frozen=True, slots=True)
class LinksChanged:
    by_market: Mapping[str, LinkView]


@dataclass(frozen=True, slots=True)
class Recovering:
    """A link resubscribed after an outage; its codes are gap-filled over HTTP."""

    link: str
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FeedNote:
    """An event for the event log (the processor owns it and logs each entry once)."""

    kind: EventKind
    connection: str
    message: str
    codes: tuple[str, ...] = ()
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass(frozen=True, slots=True)
class AddSink:
    sink: Any  # feed.sinks.TickSink


@dataclass(frozen=True, slots=True)
class RemoveSink:
    sink: Any


# --- reference-data jobs (to refdata) and their results (to the processor) ------------


@dataclass(frozen=True, slots=True)
class FetchPrices:
    """Latest trades over HTTP: a new code's seed, or a link's gap fill (``link`` set)."""

    codes: tuple[str, ...]
    link: str | None = None


@dataclass(frozen=True, slots=True)
class FetchDaily:
    """Daily bars for previous closes, for the trading date each code is on now."""

    codes: tuple[str, ...]
    for_date: Mapping[str, dt.date]


@dataclass(frozen=True, slots=True)
class FetchNames:
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FetchPath:
    """Today's 1-minute K-line of one code (the sparkline and the compare chart)."""

    code: str


@dataclass(frozen=True, slots=True)
class ProbeCodes:
    """A subscription was answered 600/604: find which of these codes are bad."""

    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FetchBars:
    """K-line bars a reader asked for (``bars()``); answered on ``reply``, never retried."""

    code: str
    kline_type: int
    count: int
    reply: Reply = field(compare=False)


@dataclass(frozen=True, slots=True)
class LiveBars:
    """A reader asks the processor for a code's minute bars since an epoch minute."""

    code: str
    since: int
    reply: Reply = field(compare=False)


Job = FetchPrices | FetchDaily | FetchNames | FetchPath | ProbeCodes | FetchBars


@dataclass(frozen=True, slots=True)
class PricesFetched:
    ticks: tuple[Tick, ...]
    codes: tuple[str, ...]
    link: str | None = None


@dataclass(frozen=True, slots=True)
class DailyFetched:
    bars: Mapping[str, tuple[Bar, ...]]
    for_date: Mapping[str, dt.date]
    asked_ms: int = 0  # wall clock when the request left: today's bar counts trades up to then


@dataclass(frozen=True, slots=True)
class NamesFetched:
    infos: Mapping[str, StaticInfo]


@dataclass(frozen=True, slots=True)
class PathFetched:
    code: str
    points: tuple[tuple[int, float, float, float, float, float], ...]  # (minute, o, h, l, c, v)


@dataclass(frozen=True, slots=True)
class CodesRejected:
    """Codes the HTTP API answered 600/604 for, each alone: ``code -> ret``."""

    rets: Mapping[str, int]
