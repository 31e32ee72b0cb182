"Shared helpers of the browser tests: prerequisites, free ports, processes stopped by PID, the node drivers."
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "artifacts"               # git-ignored (/artifacts/ in .gitignore)
SCREENSHOTS = ARTIFACTS / "screenshots"     # what the browser tests saw, for a reviewer
CHROMIUM = os.environ.get("FEATVAE_CHROMIUM", "/usr/bin/chromium")
BIN = Path(sys.executable).parent


def require_browser():
    "Skip (locally) or fail (under CI, `$CI` set) when Chromium, node or playwright-core is missing."
    missing = [what for what, ok in (("chromium at " + CHROMIUM, Path(CHROMIUM).exists()),
                                     ("node", shutil.which("node") is not None),
                                     ("tests/browser/node_modules/playwright-core", (HERE / "node_modules" / "playwright-core").is_dir()))
               if not ok]
    if missing:
        msg = f"browser test prerequisites missing: {', '.join(missing)} — run `make browser-deps` (as root: apt chromium + npm install)"
        if os.environ.get("CI"): pytest.fail(msg)
        pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None):
    "Wait until `url` answers 200; fail with the server's log if it does not (or if it exits)."
    t0, last = time.time(), None
    while time.time() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode} before answering {url}\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200: return
        except Exception as e: last = e
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s (last error: {last})\n{tail(log)}")


def tail(path: Path | None, n: int = 4000) -> str:
    if path is None or not Path(path).exists(): return ""
    return "--- log tail ---\n" + Path(path).read_text(errors="replace")[-n:]


def descendants(pid: int) -> list[int]:
    "PIDs of every process below `pid` (kernels of a Jupyter server, ...)."
    try:
        import psutil
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except Exception:
        return []


def stop(proc: subprocess.Popen, grace: float = 10.0) -> list[int]:
    "Stop `proc` and everything it started, each by its PID: SIGTERM, wait, then SIGKILL what is left."
    if proc is None: return []
    pids = descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try: proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill(); proc.wait(5)
    left = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except OSError: continue
        left.append(pid)
        try: os.kill(pid, signal.SIGTERM)
        except OSError: pass
    if left:
        time.sleep(1)
        for pid in left:
            try: os.kill(pid, signal.SIGKILL)
            except OSError: pass
    return pids


def run_node(script: str, *args: str, timeout: float) -> dict:
    "Run a node driver in tests/browser; return its JSON (stdout), failing with its stderr on trouble."
    cmd = ["node", str(HERE / script), *args]
    try:
        r = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{script} timed out after {timeout:.0f} s\nstderr:\n{(e.stderr or b'')[-4000:]}")
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"{script} exited {r.returncode} without JSON\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-5000:]}")
