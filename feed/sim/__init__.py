"""A real AllTick-protocol server on loopback: the demo feed and the test double.

The app falls back to it in demo mode (no token), and the tests point the real client
at it to inject faults a live server only produces on bad days: dropped and half-open
sockets, garbage frames, duplicate and out-of-order pushes, refused upgrades, rate
limits. It speaks through the client's own protocol modules (``feed.protocol``: codec,
HTTP records, endpoint paths, plan table), so client and simulator cannot drift apart.

Modules, one idea each (each docstring names the thread that owns its state):

* ``server``: :class:`Simulator`, lifecycle, control API and fault knobs;
* ``market``: the price model (quotes, random walk, day roll, trade tape, records);
* ``bars``: K-line bars from the trade tape and a seeded bridge;
* ``sessions``: market hours ("always" or the exchanges' own);
* ``hub``: the open connections, their subscriptions and outboxes;
* ``ws``: WebSocket serving (handshake, handler loop, pacing, heartbeat timeout);
* ``gate``: the token rule and the upgrade's answer (injected statuses, attempts);
* ``httpd``: HTTP serving over any record source (also the benchmark firehose's);
* ``ratelimit``: the plan's HTTP rate limits; ``faults``: fault values and garbage frames;
* ``cli``: ``python -m feed.sim --port 8765``.
"""

from feed.sim.cli import main
from feed.sim.server import Simulator

__all__ = ["Simulator", "main"]
