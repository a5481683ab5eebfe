"""The command line: ``python -m feed snapshot|watch|…``, one module per command.

Exit codes, the same for every command: 0 when the data is complete, 1 with one line
per problem (unreachable, auth failed, invalid codes, over the plan's cap, waiting),
2 on bad usage (an unknown option, a malformed symbol, an empty ``--symbols``, a bad
``ALLTICK_PLAN``), 130 on Ctrl-C at any moment, without a traceback.

Thread ownership: runs on the main thread; the feed's own threads are the manager's.
A command module exposes ``add_parser(subparsers)`` and ``run(args, config) -> int``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import ModuleType

from feed.config import FeedConfig

__all__ = ["EXIT_INCOMPLETE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _commands() -> list[ModuleType]:
    from feed.cli import export, premium, quotes, serve

    return [quotes, premium, export, serve]


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while threads end
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m feed", description="Cross-market live quotes from AllTick."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log feed activity to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    runners = {}
    for module in _commands():
        for name in module.add_parser(sub):
            runners[name] = module.run
    args = parser.parse_args(argv)
    # Problems are reported by the command itself, one line each; -v shows the feed's log.
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, stream=sys.stderr)
    try:
        config = FeedConfig.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return runners[args.command](args, config)
