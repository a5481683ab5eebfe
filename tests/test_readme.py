"""The README's Python examples run as written (demo mode: no token, the simulator)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def test_the_readme_has_strategy_examples():
    text = "\n".join(BLOCKS)
    assert "on_tick" in text and "ticks(" in text and ".bars(" in text and "shared()" in text


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block-{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(block: str):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALLTICK_", "QUOTES_")) or k == "QUOTES_DATA_DIR"  # the test's own store
    }
    out = subprocess.run(
        [sys.executable, "-c", block], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=90
    )
    assert out.returncode == 0, out.stderr[-2000:]
