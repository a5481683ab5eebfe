"""``python -m feed.sim``: run the simulator in the foreground (see :mod:`feed.sim.cli`)."""

from feed.sim.cli import main

raise SystemExit(main())
