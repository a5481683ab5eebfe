"""``python -m feed serve``: run the feed alone and publish it to Redis (the quote service).

    QUOTES_REDIS_URL=redis://127.0.0.1:6379/0 ALLTICK_TOKEN=… python -m feed serve
    python -m feed serve --redis redis://127.0.0.1:6379/0 --symbols AAPL.US,700.HK

It streams the union of what live readers watch (their watch keys), plus ``--symbols``
if given, within the plan's caps; without ALLTICK_TOKEN it serves the simulator (demo).
Runs until Ctrl-C (exit 130) or SIGTERM (exit 0); Redis going away is waited out.

Thread ownership: runs on the main thread; the feed's threads are the manager's, the
publishing threads the publisher's.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from typing import Any

import redis

from feed.config import FeedConfig
from feed.manager import FeedManager
from feed.service import client, redacted_url
from feed.service.publisher import Publisher

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> list[str]:
    serve = sub.add_parser("serve", help="publish the feed to Redis for readers (the quote service)")
    serve.add_argument("--redis", help="Redis URL (default QUOTES_REDIS_URL)")
    serve.add_argument("--prefix", help="key prefix (default QUOTES_REDIS_PREFIX or 'quotes')")
    serve.add_argument("--symbols", help="comma-separated symbols streamed even when no reader watches them")
    return ["serve"]


def run(args: argparse.Namespace, config: FeedConfig) -> int:
    from feed.cli import EXIT_OK, EXIT_USAGE
    from feed.cli.quotes import symbols_arg

    url = args.redis or config.redis_url
    if not url:
        print("error: serve needs a Redis URL: set QUOTES_REDIS_URL or pass --redis", file=sys.stderr)
        return EXIT_USAGE
    symbols = symbols_arg(args.symbols, config) if args.symbols is not None else []
    if symbols is None:
        return EXIT_USAGE
    prefix = args.prefix or config.redis_prefix
    local = dataclasses.replace(config, redis_url=None, default_symbols=())
    stopped = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    manager = FeedManager(local)
    publisher: Publisher | None = None
    try:
        manager.start()
        if symbols:
            manager.subscribe(symbols)
        publisher = Publisher(manager, url, prefix=prefix, ttl=config.service_ttl).start()
        _announce(url, prefix, local)
        while not stopped.wait(1.0):
            if publisher.errors:
                print("error: a publishing thread died; see the log (-v)", file=sys.stderr)
                return 1
        return EXIT_OK
    finally:
        if publisher is not None:
            publisher.stop()
        manager.stop()
        signal.signal(signal.SIGTERM, previous)


def _announce(url: str, prefix: str, config: FeedConfig) -> None:
    where = redacted_url(url)
    mode = "demo mode: simulated quotes" if config.demo else f"AllTick, {config.plan} plan"
    print(f"serving the feed ({mode}) to {where} under '{prefix}:' (Ctrl-C to stop)", file=sys.stderr)
    try:
        client(url, timeout=1.0).ping()
    except redis.RedisError as exc:
        print(f"warning: Redis at {where} is unreachable ({_short(exc)}); retrying", file=sys.stderr)
    sys.stderr.flush()


def _short(exc: Any) -> str:
    return str(exc).splitlines()[0][:200]
