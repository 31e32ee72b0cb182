"""09_explore in a real JupyterLab, driven by headless Chromium (playwright-core): open the notebook, run all
cells, move the k slider (k-anonymity trade-off) and the temperature slider (UMAP explorer, CVAE re-sampled
live), and check from the page that both figures' data changed and that no cell shows an error.

JupyterLab runs on 127.0.0.1 with a random token, in a temporary root holding a copy of the notebook; the
test stops the server and every process below it (the kernel) by PID. Screenshots go to artifacts/.
`FEATVAE_LAB_TIMEOUT` (seconds, default 900) bounds the run-all step on a slow machine.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
from helpers import ARTIFACTS, BIN, ROOT, descendants, free_port, require_browser, run_node, stop, tail, wait_http  # noqa: E402

NB = "09_explore.ipynb"
RUN_TIMEOUT = float(os.environ.get("FEATVAE_LAB_TIMEOUT", "900"))
LAB_SETTINGS = {
    # render every cell (no virtual scrolling) so prompts and outputs of all cells are in the DOM
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no news / update pop-ups over the notebook
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_browser()
    tmp = tmp_path_factory.mktemp("lab")
    root, settings, log = tmp / "root", tmp / "settings", tmp / "jupyterlab.log"
    root.mkdir()
    nb = json.loads((ROOT / "nbs" / NB).read_text())
    # nbdev_clean strips the kernelspec; without one JupyterLab asks which kernel to start
    nb.setdefault("metadata", {})["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    (root / NB).write_text(json.dumps(nb, indent=1))
    for rel, value in LAB_SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(value))
    token, port = secrets.token_hex(16), free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           "FEATVAE_PROGRESS": "0", "FEATVAE_DOCS": "0"}
    cmd = [str(BIN / "jupyter"), "lab", "--allow-root", "--no-browser", f"--ServerApp.token={token}", "--ip=127.0.0.1",
           f"--port={port}", f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}", "--ServerApp.open_browser=False"]
    with open(log, "w") as f:
        server = subprocess.Popen(cmd, cwd=root, env=env, stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/status?token={token}", 120, server, log)
        yield dict(url=f"http://127.0.0.1:{port}/lab/tree/{NB}?token={token}", root=root, log=log, server=server)
    finally:
        pids = stop(server)
        left = [p for p in [server.pid, *pids] if _alive(p)]
        assert not left, f"processes still alive after stopping JupyterLab: {left}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie that its parent has not reaped yet is gone for our purposes
        import psutil
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:
        return True


@pytest.fixture(scope="module")
def result(lab):
    ARTIFACTS.mkdir(exist_ok=True)
    r = run_node("check_lab.js", "--url", lab["url"], "--shots", str(ARTIFACTS), "--timeout", str(int(RUN_TIMEOUT * 1000)),
                 timeout=RUN_TIMEOUT + 420)
    r["_log"] = tail(lab["log"], 3000)
    return r


def _diag(r) -> str:
    keep = {k: v for k, v in r.items() if k not in ("console", "_log")}
    return json.dumps(keep, indent=1, default=str)[:6000] + "\nbrowser console (last 10):\n" + \
        "\n".join(r.get("console", [])[-10:]) + "\n" + r.get("_log", "")


def test_run_all_cells_without_errors(result, lab):
    assert "exception" not in result, _diag(result)
    cells = result["cells"]
    assert cells["busy"] == 0 and cells["done"] == len(cells["prompts"]) > 10, _diag(result)
    assert not result["error_outputs"], _diag(result)
    saved = json.loads((lab["root"] / NB).read_text())
    errs = [o for c in saved["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errs, f"error outputs in the saved notebook: {[(o['ename'], o['evalue']) for o in errs]}"


def test_k_slider_changes_the_tradeoff_figure(result):
    k = result.get("k") or {}
    assert k.get("changed"), _diag(result)
    assert k["readout_before"] != k["readout_after"], _diag(result)
    assert k["before_title"] != k["after_title"] and f"k={k['readout_after']}" in k["after_title"], _diag(result)


def test_temperature_slider_resamples_the_cvae(result):
    t = result.get("temperature") or {}
    assert t.get("changed"), _diag(result)
    assert t["readout_before"] != t["readout_after"], _diag(result)
    assert "temperature" in t["after_title"] and t["after_title"] != t["before_title"], _diag(result)


def test_explorer_screenshot_saved(result):
    for name in ("jupyterlab_explorer.png", "jupyterlab_kanon.png"):
        p = ARTIFACTS / name
        assert p.exists() and p.stat().st_size > 10_000, f"{p} missing or empty\n" + _diag(result)
