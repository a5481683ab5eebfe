"""A daemon thread with an inbox: the shape every long-lived part of the feed shares.

The subclass's own thread is the only one that reads the inbox and owns the
subclass's state; other threads only :meth:`submit` frozen messages, :meth:`stop`
(a :class:`~feed.messages.Stop` message, handled in order behind the rest) and
:meth:`join`. ``_run`` is the subclass's loop.
"""

from __future__ import annotations

import queue
import threading

from feed.messages import Stop

__all__ = ["Worker"]


class Worker:
    def __init__(self, name: str) -> None:
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def submit(self, message: object) -> None:
        self._inbox.put(message)

    def stop(self) -> None:
        self.submit(Stop())

    def join(self, timeout: float) -> bool:
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()
