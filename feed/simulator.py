"""Compatibility shim: the simulator now lives in the :mod:`feed.sim` package.

``from feed.simulator import Simulator`` and ``python -m feed.simulator --port 8765``
keep working.

Thread ownership: none (re-exports only).
"""

from feed.sim import Simulator, main

__all__ = ["Simulator", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
