"""``python -m feed``: exit codes and one-line reasons for each kind of problem."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from feed.simulator import Simulator
from tests.support import TOKEN

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALLTICK_", "QUOTES_")) or k == "QUOTES_DATA_DIR"  # the test's own store
    }
    return subprocess.run(
        [sys.executable, "-m", "feed", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def against(sim: Simulator, **extra: str) -> dict[str, str]:
    return {
        "ALLTICK_TOKEN": TOKEN,
        "ALLTICK_PLAN": "professional",
        "ALLTICK_WS_BASE": sim.ws_base,
        "ALLTICK_HTTP_BASE": sim.http_base,
        **extra,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_complete_data_exits_0(sim):
    out = cli("snapshot", "--symbols", "AAPL.US,700.HK", "--wait", "10", "--format", "csv", **against(sim))
    assert out.returncode == 0, out.stderr
    assert "AAPL.US" in out.stdout and out.stderr == ""
    assert TOKEN not in out.stdout + out.stderr


def test_an_unreachable_server_exits_1_naming_the_cause():
    port = free_port()
    env = {
        "ALLTICK_TOKEN": TOKEN,
        "ALLTICK_WS_BASE": f"ws://127.0.0.1:{port}",
        "ALLTICK_HTTP_BASE": f"http://127.0.0.1:{port}",
    }
    out = cli("snapshot", "--symbols", "AAPL.US,700.HK", "--wait", "3", **env)
    assert out.returncode == 1
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("incomplete: unreachable:") and "connection refused" in line
    assert "AAPL.US, 700.HK" in line and "Traceback" not in out.stderr


def test_a_wrong_token_exits_1_with_auth_failed(sim):
    out = cli("snapshot", "--symbols", "AAPL.US", "--wait", "3", **against(sim, ALLTICK_TOKEN="wrong-token"))
    assert out.returncode == 1
    assert "incomplete: auth failed" in out.stderr and "wrong-token" not in out.stderr + out.stdout


def test_all_codes_invalid_exits_1_naming_each(sim):
    out = cli("snapshot", "--symbols", "ZZZQ.US,QQQZ.US", "--wait", "8", **against(sim))
    assert out.returncode == 1
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("incomplete: invalid:") and "ZZZQ.US" in line and "QQQZ.US" in line


def test_one_invalid_code_exits_1_and_the_rest_are_printed(sim):
    out = cli("snapshot", "--symbols", "AAPL.US,ZZZQ.US", "--wait", "8", "--format", "csv", **against(sim))
    assert out.returncode == 1
    assert out.stderr.strip() == "incomplete: invalid: the server does not know this code (ret 600): ZZZQ.US"
    assert "AAPL.US" in out.stdout


def test_codes_over_the_plans_cap_exit_1_naming_them():
    with Simulator(seed=3, token=TOKEN, plan="free", min_request_interval=0.2) as sim:
        codes = "AAPL.US,MSFT.US,NVDA.US,AMZN.US,TSLA.US,META.US"
        out = cli("snapshot", "--symbols", codes, "--wait", "2", **against(sim, ALLTICK_PLAN="free"))
    assert out.returncode == 1
    assert "not streamed: over the free plan's 5-code cap: META.US" in out.stderr


def test_a_bad_plan_is_bad_usage():
    out = cli("snapshot", "--symbols", "AAPL.US", ALLTICK_TOKEN=TOKEN, ALLTICK_PLAN="gold")
    assert out.returncode == 2 and "ALLTICK_PLAN" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("symbols", ["", " , ", "AAPL.US,BAD!"], ids=["empty", "separators", "malformed"])
def test_empty_or_malformed_symbols_are_bad_usage(symbols):
    out = cli("snapshot", "--symbols", symbols)
    assert out.returncode == 2 and out.stderr.startswith("error:")


def test_ctrl_c_during_warm_up_exits_130_without_a_traceback():
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALLTICK_", "QUOTES_")) or k == "QUOTES_DATA_DIR"  # the test's own store
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "feed", "snapshot", "--symbols", "AAPL.US", "--wait", "30"],
        cwd=ROOT,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60  # a loaded machine takes its time over the imports
    line = ""
    while "demo mode" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
    assert "demo mode" in line, "the CLI never said it was warming up in demo mode"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130 and "Traceback" not in err


def test_ctrl_c_while_the_command_line_is_still_importing_exits_130_without_a_traceback():
    # -X importtime writes a line to stderr as each module finishes loading: the signal
    # goes in the moment feed.cli has loaded, with pandas, DuckDB and Arrow still to come.
    proc = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "feed", "snapshot", "--symbols", "AAPL.US"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if not line or line.rstrip().endswith("| feed.cli"):
            break
    assert seen[-1].rstrip().endswith("| feed.cli"), "feed.cli never finished importing"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    loaded = "".join(seen) + err
    assert not any(line.rstrip().endswith("| pandas") for line in loaded.splitlines()), (
        "pandas finished loading: the signal landed after the imports, not during them"
    )
    assert proc.returncode == 130 and "Traceback" not in err, err[-2000:]


def test_watch_keeps_the_demo_mode_line_on_screen():
    out = cli("watch", "--symbols", "AAPL.US,9988.HK", "--interval", "0.2", "--count", "3")
    assert out.returncode == 0
    assert out.stdout.count("demo mode") == 3 and out.stdout.count("9988.HK") == 3
