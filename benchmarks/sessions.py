"""Headless Streamlit sessions: what a browser tab asks of the server, without rendering it.

A :class:`Session` speaks Streamlit's own protocol over ``/_stcore/stream`` (the
``BackMsg``/``ForwardMsg`` protobufs the frontend uses): it opens the page with a query
string, learns each fragment's ``run_every`` from the server's ``auto_rerun`` message,
and asks for a fragment rerun at that interval, as the frontend's timer does, whether
or not the last one has finished. Like the frontend it reports the hashes of the
cacheable messages it holds, so the server sends references for unchanged deltas.

Each session has one thread (``bench-session-<n>``) owning its socket and counters;
``stats()`` reads a frozen copy. Used by ``benchmarks/replicas.py``, where dozens of
Chromium tabs would take the machine's cores from the servers being measured.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from dataclasses import dataclass

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

__all__ = ["Session", "SessionStats"]

_ids = itertools.count(1)
FRAGMENT_DONE = ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


@dataclass(frozen=True, slots=True)
class SessionStats:
    requested: int  # fragment reruns asked for in the window
    finished: int  # fragment runs the server finished in the window
    latency_p50: float  # seconds from a request to its run finishing
    latency_max: float


class Session:
    """One tab's worth of server load on ``url`` (``http://host:port``) with ``query``."""

    def __init__(self, url: str, query: str, fragment_key: str | None = None) -> None:
        self._ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self._origin = url
        self._query = query
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()  # guards the counters between the two loops of this session
        self._page_hash = ""
        self._last_fragment = ""  # the fragment whose deltas arrived last
        self._cached: list[str] = []  # hashes of cacheable messages received (the frontend's cache)
        self._fragments: dict[str, float] = {}
        self._sent: list[float] = []  # request times of the fastest fragment, not yet answered
        self._latencies: list[float] = []
        self._requested = self._finished = 0
        self._thread = threading.Thread(target=self._run, name=f"bench-session-{next(_ids)}", daemon=True)

    def start(self) -> Session:
        self._thread.start()
        return self

    def wait_ready(self, timeout: float = 60.0) -> bool:
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def reset(self) -> None:
        """Start a measuring window."""
        with self._lock:
            self._latencies.clear()
            self._requested = self._finished = 0

    def stats(self) -> SessionStats:
        with self._lock:
            lat = sorted(self._latencies)
            return SessionStats(
                self._requested,
                self._finished,
                statistics.median(lat) if lat else float("inf"),
                lat[-1] if lat else float("inf"),
            )

    def _run(self) -> None:
        with connect(self._ws_url, subprotocols=["streamlit"], origin=self._origin, max_size=None) as ws:
            self._send(ws, None)
            timer = threading.Thread(target=self._tick, args=(ws,), daemon=True)
            timer.start()
            while not self._stop.is_set():
                try:
                    data = ws.recv(timeout=0.5)
                except TimeoutError:
                    continue
                self._receive(ForwardMsg.FromString(data))  # type: ignore[arg-type]
            timer.join(2)

    def _receive(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if msg.metadata.cacheable and msg.hash:
            self._cached.append(msg.hash)
        if kind == "new_session":
            self._page_hash = msg.new_session.page_script_hash
        elif kind == "auto_rerun":
            self._fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "delta":
            self._last_fragment = msg.delta.fragment_id
        elif kind == "script_finished":
            fastest = min(self._fragments, key=self._fragments.__getitem__) if self._fragments else None
            if msg.script_finished == FRAGMENT_DONE and self._last_fragment == fastest:
                with self._lock:
                    if self._sent:  # requests the server merged into this run count as answered
                        self._latencies.append(time.monotonic() - self._sent[0])
                        self._sent.clear()
                    self._finished += 1
            self._ready.set()

    def _tick(self, ws: object) -> None:
        """The frontend's ``setInterval``: one rerun request per fragment per interval."""
        due: dict[str, float] = {}
        while not self._stop.wait(0.02):
            now = time.monotonic()
            for fragment, interval in list(self._fragments.items()):
                when = due.setdefault(fragment, now + interval)
                if now >= when:
                    due[fragment] = when + interval
                    self._send(ws, fragment)

    def _send(self, ws: object, fragment: str | None) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self._query
        state.page_script_hash = self._page_hash
        state.cached_message_hashes.extend(dict.fromkeys(self._cached[-500:]))
        state.context_info.timezone = "UTC"
        state.context_info.locale = "en-US"
        if fragment is not None:
            state.fragment_id = fragment
            state.is_auto_rerun = True
            if self._fragments.get(fragment) == min(self._fragments.values()):  # the live body, not clocks
                with self._lock:
                    self._sent.append(time.monotonic())
                    self._requested += 1
        try:
            ws.send(msg.SerializeToString())  # type: ignore[attr-defined]
        except Exception:
            self._stop.set()
