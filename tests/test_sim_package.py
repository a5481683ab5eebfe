"""The ``feed.sim`` package: its exports, the ``feed.simulator`` shim, the command line,
and the shape the team guide asks of it (short modules, each saying who owns its state)."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import websocket

import feed.sim
import feed.simulator
from feed.protocol.codec import decode, encode_heartbeat

SIM_DIR = Path(feed.sim.__file__).parent


def test_the_shim_and_the_package_export_the_same_simulator() -> None:
    assert feed.sim.__all__ == ["Simulator", "main"]
    assert feed.simulator.Simulator is feed.sim.Simulator
    assert feed.simulator.main is feed.sim.main


def test_the_simulators_own_protocol_copies_are_gone() -> None:
    for name in ("PlanLimits", "PLANS", "WS_PATHS", "HTTP_BASES", "_envelope", "_bar", "_trade_record"):
        assert not hasattr(feed.simulator, name), name


@pytest.mark.parametrize("module", ["feed.simulator", "feed.sim"])
def test_the_command_line_serves_until_interrupted(module: str) -> None:
    env = os.environ | {"PYTHONPATH": str(SIM_DIR.parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", "--seed", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        ws_line = proc.stdout.readline()
        http_line = proc.stdout.readline()
        assert ws_line.startswith("WebSocket base: ws://127.0.0.1:"), ws_line
        assert http_line.startswith("HTTP base:      http://127.0.0.1:"), http_line
        ws = websocket.create_connection(f"{ws_line.split()[-1]}/quote-stock-b-ws-api?token=t", timeout=5)
        ws.send(encode_heartbeat(1, "cli"))
        assert decode(ws.recv()).ok  # type: ignore[union-attr]
        ws.close(timeout=0.2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert "stopping" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _modules() -> list[Path]:
    return sorted(SIM_DIR.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_each_module_is_short_and_says_why_and_who_owns_its_state(path: Path) -> None:
    text = path.read_text()
    tree = ast.parse(text)
    assert len(text.splitlines()) <= 400
    doc = ast.get_docstring(tree)
    assert doc, "module docstring missing"
    if path.name not in ("__init__.py", "__main__.py"):
        assert "Why it exists" in doc and "State:" in doc
    long = [
        (n.name, n.end_lineno - n.lineno + 1)  # type: ignore[operator]
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.end_lineno - n.lineno + 1 > 60  # type: ignore[operator]
    ]
    assert long == []
