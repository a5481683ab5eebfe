"""Processes the browser benchmarks run: Streamlit servers, redis-server, the publisher, Chromium.

Everything binds to loopback on free ports and is stopped on exit. Chromium is Debian's
(``/usr/bin/chromium``) driven by Playwright through ``executable_path``; no browser is
ever downloaded. CPU is read with psutil from the server process (all its threads).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

__all__ = [
    "CHROMIUM",
    "ROOT",
    "SYMBOLS",
    "Server",
    "browser",
    "cpu_seconds",
    "free_port",
    "open_tabs",
    "publisher",
    "redis_server",
    "streamlit_server",
]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# 30 US and 30 HK codes of the simulator's universe: the "60 US/HK symbols".
SYMBOLS = (
    "AAPL.US,MSFT.US,NVDA.US,AMZN.US,GOOGL.US,META.US,TSLA.US,BRK.B.US,JPM.US,V.US,MA.US,UNH.US,XOM.US,"
    "JNJ.US,WMT.US,PG.US,HD.US,COST.US,AVGO.US,ORCL.US,NFLX.US,AMD.US,INTC.US,KO.US,PEP.US,DIS.US,BAC.US,"
    "CSCO.US,CRM.US,ADBE.US,700.HK,9988.HK,3690.HK,1810.HK,9618.HK,1211.HK,5.HK,1299.HK,941.HK,388.HK,"
    "2318.HK,9999.HK,9888.HK,1024.HK,2020.HK,9961.HK,2015.HK,9866.HK,9868.HK,9626.HK,1398.HK,939.HK,"
    "3988.HK,883.HK,857.HK,2628.HK,11.HK,16.HK,1.HK,27.HK"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    proc: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.proc.pid


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALLTICK_", "QUOTES_"))}
    env.update(extra)
    return env


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextlib.contextmanager
def streamlit_server(script: str, **env: str) -> Iterator[Server]:
    """``streamlit run script`` on a free loopback port, healthy before it is yielded."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.headless=true"]
    cmd += ["--server.address=127.0.0.1", f"--server.port={port}", "--server.fileWatcherType=none"]
    cmd += ["--browser.gatherUsageStats=false"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=_env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as resp:
                    if resp.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit run {script} did not come up")
            time.sleep(0.2)
        yield Server(url, proc)
    finally:
        _stop(proc)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    port = free_port()
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


@contextlib.contextmanager
def publisher(url: str) -> Iterator[Server]:
    """``python -m feed serve`` in demo mode (its own simulator), publishing to ``url``."""
    cmd = [sys.executable, "-m", "feed", "serve", "--redis", url]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2.0)
        if proc.poll() is not None:
            raise RuntimeError("python -m feed serve exited")
        yield Server(url, proc)
    finally:
        _stop(proc)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads)."""
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


@contextlib.contextmanager
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
    # Every tab counts as visible: no timer throttling of "background" tabs.
    args += ["--disable-background-timer-throttling", "--disable-renderer-backgrounding"]
    args += ["--disable-backgrounding-occluded-windows"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield b
        finally:
            b.close()


@contextlib.contextmanager
def open_tabs(b: object, url: str, n: int, ready: str = "[data-testid=stDataFrame]") -> Iterator[list]:
    """``n`` tabs (each its own browser context, so its own Streamlit session) on ``url``."""
    contexts = []
    try:
        for _ in range(n):
            ctx = b.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
            contexts.append(ctx)
            page = ctx.new_page()
            page.goto(url, wait_until="commit", timeout=90_000)
            page.wait_for_selector(ready, timeout=90_000)
        yield [c.pages[0] for c in contexts]
    finally:
        for ctx in contexts:
            ctx.close()
