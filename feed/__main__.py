"""``python -m feed``: the command line (see :mod:`feed.cli`).

Thread ownership: runs on the main thread; the feed's own threads are the manager's.
A Ctrl-C while the command line itself is still importing exits 130 like any other.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    try:
        from feed.cli import main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
