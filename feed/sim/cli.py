"""The simulator's command line: ``python -m feed.sim --port 8765`` (or ``feed.simulator``).

Why it exists: to point a client, the dashboard or a notebook at a simulator running in
its own terminal. State: none; the :class:`~feed.sim.server.Simulator` it starts runs in
the foreground until Ctrl-C.

Thread ownership: runs on the main thread until Ctrl-C; the simulator owns its threads.
"""

from __future__ import annotations

import argparse
import logging
import time

from feed.protocol.plans import PLANS
from feed.sim.server import Simulator
from feed.sim.sessions import SessionMode

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the simulator in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m feed.sim", description="A real AllTick-protocol server on loopback."
    )
    parser.add_argument("--port", type=int, default=8765, help="WebSocket port (0 = any free port)")
    parser.add_argument("--http-port", type=int, default=None, help="HTTP port (default: --port + 1)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plan", choices=sorted(PLANS), default="professional")
    parser.add_argument("--token", default=None, help="required token (default: accept any)")
    parser.add_argument("--sessions", choices=[m.value for m in SessionMode], default="always")
    parser.add_argument("--tick-interval", type=float, default=0.5)
    args = parser.parse_args(argv)
    http_port = args.http_port if args.http_port is not None else (args.port + 1 if args.port else 0)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sim = Simulator(
        seed=args.seed,
        token=args.token,
        plan=args.plan,
        host=args.host,
        ws_port=args.port,
        http_port=http_port,
        sessions=args.sessions,
        tick_interval=args.tick_interval,
    )
    with sim:
        print(f"WebSocket base: {sim.ws_base}", flush=True)
        print(f"HTTP base:      {sim.http_base}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping", flush=True)
    return 0
