"""A feed in its own process, for the tick store's restart and second-process tests.

    python -m tests.store_child '{"token": ..., "data_dir": ...}' AAPL.US,700.HK

Prints ``ready <pid> <store mode>`` once every symbol has a price and the store has
opened, then runs until a line ``stop`` arrives on stdin (or stdin closes), stops the
feed and prints ``stopped``.
Thread ownership: the main thread; the feed's threads are the manager's.
"""

from __future__ import annotations

import json
import os
import sys
import time

from feed.config import FeedConfig
from feed.manager import FeedManager


def main() -> int:
    values = json.loads(sys.argv[1])
    config = FeedConfig(**values)
    manager = FeedManager(config).start()
    manager.subscribe(sys.argv[2].split(","))
    manager.wait_ready(15, need_prev_close=False)
    deadline = time.monotonic() + 30  # the store's own process opens the database meanwhile
    while manager.status().store.mode == "starting" and time.monotonic() < deadline:
        time.sleep(0.05)
    print(f"ready {os.getpid()} {manager.status().store.mode}", flush=True)
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    manager.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
