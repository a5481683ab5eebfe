"""``python -m feed.sim``: run the simulator in the foreground (see :mod:`feed.sim.cli`).

Thread ownership: the main thread runs the CLI; the simulator's threads are its own.
"""

from feed.sim.cli import main

raise SystemExit(main())
