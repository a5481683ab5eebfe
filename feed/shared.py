"""``feed.shared()``: the process's one running manager, for notebooks and REPLs.

Re-running a notebook cell that calls ``FeedManager(...).start()`` starts a second
set of threads and takes a second plan connection; ``feed.shared()`` returns the one
already running instead (creating it on first use). Owned by whichever thread calls
it: a lock guards the one reference for the moment of the check, never across a start
or a stop.
"""

from __future__ import annotations

import atexit
import logging
import threading

from feed.config import FeedConfig
from feed.manager import FeedManager

__all__ = ["shared"]

log = logging.getLogger("feed.shared")

_lock = threading.Lock()
_current: FeedManager | None = None


def shared(config: FeedConfig | None = None) -> FeedManager:
    """The running process-wide manager; ``config`` (default: from the environment)
    must match the running one's, or the old one is stopped and a new one started."""
    global _current
    wanted = config or FeedConfig.from_env()
    with _lock:
        held = _current
        if held is not None and held.running and held.config == wanted:
            return held
        _current = fresh = FeedManager(wanted)
    if held is not None:
        log.info("feed.shared(): the configuration changed; replacing the running feed")
        held.stop()
    return fresh.start()


@atexit.register
def _stop_at_exit() -> None:
    if _current is not None:
        _current.stop()
