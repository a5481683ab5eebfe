"""docs/quote-service.md is a contract: its Python consumer runs against a real publisher."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from feed.config import FeedConfig
from tests.redis_support import RedisServer, unique_prefix
from tests.test_quote_service import publishing

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "quote-service.md"


def _consumer() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- consumer -->\n```python\n(.*?)```", text, re.S)
    assert match, "the consumer block is missing from docs/quote-service.md"
    return match.group(1)


def test_the_documented_consumer_is_at_most_20_lines() -> None:
    lines = [line for line in _consumer().splitlines() if line.strip()]
    assert len(lines) <= 20


def test_the_documented_consumer_prints_trades_and_prices(redis_server: RedisServer, tmp_path: Path) -> None:
    prefix = unique_prefix()
    script = tmp_path / "consumer.py"
    script.write_text(_consumer(), encoding="utf-8")
    env = {**os.environ, "QUOTES_REDIS_URL": redis_server.url, "QUOTES_REDIS_PREFIX": prefix}
    env.update({"SYMBOLS": "AAPL.US,700.HK", "SECONDS": "6"})
    with publishing(FeedConfig(default_symbols=()), redis_server.url, prefix) as pub:
        out = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
        )
        watched = pub.manager.watched()
    assert out.returncode == 0, out.stderr
    assert {"AAPL.US", "700.HK"} <= set(watched)  # its watch key made the feed stream them
    trades = [line.split() for line in out.stdout.splitlines() if line.startswith("trade ")]
    assert trades and {t[1] for t in trades} <= {"AAPL.US", "700.HK"}
    assert all(float(t[2]) > 0 and int(t[3]) > 0 for t in trades)
    last = json.loads(out.stdout.splitlines()[-1].removeprefix("last "))
    assert set(last) == {"AAPL.US", "700.HK"} and all(p > 0 for p in last.values())
