"""``python -m feed``: the command line (see :mod:`feed.cli`).

Thread ownership: runs on the main thread; the feed's own threads are the manager's.
"""

from __future__ import annotations

import sys

from feed.cli import main

if __name__ == "__main__":
    sys.exit(main())
