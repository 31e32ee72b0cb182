"""The notebooks in a real JupyterLab, driven by headless Chromium (playwright-core, tests/browser/check_lab.js).

09_explore: run all cells; the k-anonymity figure has its traces on their intended axes, a legend clear of the
axis titles, readable hover labels, and follows the k slider; the UMAP explorer has a marker legend, a class
list without scrolling, one re-sample for three quick arrow-key presses on the temperature slider, and a note
when the sample size cannot take effect; after a page reload both widgets come back as they were, and re-running
their cells draws complete, styled figures that match the controls. 11_tutorial: Run All ends without an error
output. 08a_release: Run All ends without an error output; the audit gallery widget shows its rows with real images
decoded, and its slider adds rows.

JupyterLab runs on 127.0.0.1 with a random token, in a temporary root holding copies of the notebooks; the test
stops the server and every process below it (the kernels) by PID. Screenshots go to artifacts/screenshots/
(git-ignored). `FEATVAE_LAB_TIMEOUT` (seconds, default 900) bounds each run-all step on a slow machine.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
from helpers import BIN, ROOT, SCREENSHOTS, free_port, require_browser, run_node, stop, tail, wait_http  # noqa: E402

EXPLORE, TUTORIAL, RELEASE = "09_explore.ipynb", "11_tutorial.ipynb", "08a_release.ipynb"
RUN_TIMEOUT = float(os.environ.get("FEATVAE_LAB_TIMEOUT", "900"))
LAB_SETTINGS = {
    # render every cell (no virtual scrolling) so prompts and outputs of all cells are in the DOM
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no news / update pop-ups over the notebook
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _copy_notebook(name: str, root: Path):
    "Copy `nbs/name` into the lab's root without outputs (the tutorial is committed with them): the run makes them."
    nb = json.loads((ROOT / "nbs" / name).read_text())
    for c in nb["cells"]:
        if c["cell_type"] == "code": c["outputs"], c["execution_count"] = [], None
    # a notebook without a kernelspec makes JupyterLab ask which kernel to start
    nb.setdefault("metadata", {}).setdefault("kernelspec", KERNELSPEC)
    (root / name).write_text(json.dumps(nb, indent=1))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_browser()
    tmp = tmp_path_factory.mktemp("lab")
    root, settings, log = tmp / "root", tmp / "settings", tmp / "jupyterlab.log"
    root.mkdir()
    for name in (EXPLORE, TUTORIAL, RELEASE): _copy_notebook(name, root)
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
        # one workspace per notebook, so each page opens only its own notebook
        url = lambda nb: f"http://127.0.0.1:{port}/lab/workspaces/{Path(nb).stem}/tree/{nb}?reset&token={token}"
        yield dict(url=url, root=root, log=log, server=server)
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


def _drive(lab, nb: str, mode: str) -> dict:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    r = run_node("check_lab.js", "--url", lab["url"](nb), "--shots", str(SCREENSHOTS), "--mode", mode,
                 "--timeout", str(int(RUN_TIMEOUT * 1000)), timeout=RUN_TIMEOUT + 900)
    r["_log"] = tail(lab["log"], 3000)
    return r


@pytest.fixture(scope="module")
def result(lab):
    return _drive(lab, EXPLORE, "explore")


@pytest.fixture(scope="module")
def tutorial(lab):
    return _drive(lab, TUTORIAL, "runall")


def _diag(r) -> str:
    keep = {k: v for k, v in r.items() if k not in ("console", "_log")}
    return json.dumps(keep, indent=1, default=str)[:8000] + "\nbrowser console (last 10):\n" + \
        "\n".join(r.get("console", [])[-10:]) + "\n" + r.get("_log", "")


def _saved_errors(lab, nb: str) -> list:
    saved = json.loads((lab["root"] / nb).read_text())
    return [(o["ename"], o["evalue"]) for c in saved["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]


# --- 09_explore ----------------------------------------------------------------------------------------------------

def test_run_all_cells_without_errors(result, lab):
    assert "exception" not in result, _diag(result)
    cells = result["cells"]
    assert cells["busy"] == 0 and cells["done"] == len(cells["prompts"]) > 10, _diag(result)
    assert not result["error_outputs"] and not result["error_outputs_end"], _diag(result)
    assert not _saved_errors(lab, EXPLORE), f"error outputs in the saved notebook: {_saved_errors(lab, EXPLORE)}"


def test_kanon_traces_on_their_axes(result):
    k = result.get("kanon") or {}
    axes, names, lay = k.get("axes") or [], k.get("names") or [], k.get("layout") or {}
    assert axes[:3] == ["xy"] * 3, _diag(result)                         # the class panel
    attack = [n for n, a in zip(names, axes) if a == "x2y2"]
    distance = [n for n, a in zip(names, axes) if a == "x3y3"]
    assert attack and attack == distance and len(axes) == 3 + 2 * len(attack), _diag(result)
    assert {"k-Same agnostic", "k-Same per-class", "Real (identity)"} <= set(attack), _diag(result)
    # what the SVG draws per subplot is what the data say
    assert lay["drawn"] == lay["per_subplot"] == {"xy": 3, "x2y2": len(attack), "x3y3": len(attack)}, _diag(result)


def test_kanon_legend_clear_of_axis_titles(result):
    lay = (result.get("kanon") or {}).get("layout") or {}
    assert lay.get("legend_box") and lay["overlaps"] == [], _diag(result)
    titles = lay["axis_titles"]
    assert "more private" in titles["x2"] and "more private" in titles["x3"] and "more useful" in titles["y2"], _diag(result)


def test_kanon_says_why_class_agnostic_shows_many_means(result):
    sub = (result.get("kanon") or {}).get("subtitle", "")
    assert re.search(r"Class-agnostic groups mix classes, so class \w+'s \d+ records join \d+ groups", sub), _diag(result)


def test_kanon_hover_text_reads_cleanly(result):
    lines = ((result.get("kanon") or {}).get("hover") or {}).get("lines")
    assert lines and len(lines) == 3, _diag(result)
    assert re.fullmatch(r"k-Same (agnostic|per-class) k=\d+", lines[0]), _diag(result)
    assert re.fullmatch(r"MIA AUC 0\.\d{3}", lines[1]) and re.fullmatch(r"probe AUC \d+\.\d", lines[2]), _diag(result)


def test_k_slider_changes_the_tradeoff_figure(result):
    k = result.get("kanon") or {}
    assert k.get("changed"), _diag(result)
    assert k["readout_before"] != k["readout_after"], _diag(result)
    assert k["before_title"] != k["after_title"] and f"k={k['readout_after']} " in k["after_title"], _diag(result)
    assert k["bg"] == "white", _diag(result)                             # plotly_white, not the grey default


def test_explorer_marker_legend_and_class_list(result):
    e = result.get("explorer") or {}
    legend = e.get("legend", [])
    assert "real" in legend and any(t.startswith("released: ") for t in legend), _diag(result)
    sel = e.get("select") or {}
    assert sel.get("options", 0) >= 2 and sel["size"] == sel["options"] and not sel["scrolls"], _diag(result)


def test_temperature_presses_resample_once(result):
    e = result.get("explorer") or {}
    assert e.get("changed"), _diag(result)
    assert e["readout_before"] != e["readout_after"] and e["presses"] == 3, _diag(result)
    assert f"temperature {float(e['readout_after']):g})" in e["after_title"], _diag(result)
    assert e["redraws"] == 1, f"three quick presses should re-sample once, drew {e['redraws']} times\n" + _diag(result)


def test_sample_size_note(result):
    e = result.get("explorer") or {}
    assert "has no effect" in (e.get("one_class_note") or ""), _diag(result)


def test_widgets_survive_a_reload(result):
    r = result.get("reload") or {}
    assert r.get("came_back") and not r["problems"], _diag(result)
    assert r["kanon_same"] and r["umap_same"], _diag(result)            # title, theme, traces and data as before
    assert (r["kanon_bg"], r["umap_bg"]) == ("white", "white"), _diag(result)
    assert (r["k"], r["temperature"]) == (r["want_k"], r["want_temperature"]), _diag(result)
    assert f"k={r['k']} " in r["kanon_title"] and f"temperature {float(r['temperature']):g})" in r["umap_title"], _diag(result)


def test_rerun_after_reload_draws_styled_figures_matching_the_controls(result):
    r = result.get("rerun") or {}
    assert r.get("ok") and not r["problems"], _diag(result)
    assert not any(v.get("timed_out") for v in r["runs"].values()), _diag(result)
    assert (r["kanon"]["bg"], r["umap"]["bg"]) == ("white", "white"), _diag(result)
    assert r["kanon"]["n_traces"] == r["want_n_traces"]["kanon"] and r["umap"]["n_traces"] == r["want_n_traces"]["umap"], _diag(result)
    assert f"k={r['k']} " in r["kanon"]["title"], _diag(result)
    assert f"temperature {float(r['temperature']):g})" in r["umap"]["title"], _diag(result)


def test_widget_screenshots_saved(result):
    for name in ("jupyterlab_explorer.png", "jupyterlab_kanon.png", "jupyterlab_reloaded.png"):
        p = SCREENSHOTS / name
        assert p.exists() and p.stat().st_size > 10_000, f"{p} missing or empty\n" + _diag(result)


# --- 11_tutorial -----------------------------------------------------------------------------------------------------

def test_tutorial_run_all_ends_clean(tutorial, lab):
    assert "exception" not in tutorial, _diag(tutorial)
    cells = tutorial["cells"]
    assert not tutorial["error_outputs"], _diag(tutorial)
    assert cells["busy"] == 0 and cells["done"] == len(cells["prompts"]) > 5, _diag(tutorial)
    assert not _saved_errors(lab, TUTORIAL), f"error outputs in the saved tutorial: {_saved_errors(lab, TUTORIAL)}"
    assert len(tutorial["plots"]) >= 3, _diag(tutorial)                 # its figures drew
    assert (SCREENSHOTS / "jupyterlab_tutorial_fig1.png").exists(), _diag(tutorial)


# --- 08a_release ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def release_nb(lab):
    return _drive(lab, RELEASE, "gallery")


def test_release_notebook_and_audit_gallery_in_lab(release_nb, lab):
    r = release_nb
    assert "exception" not in r and not r["error_outputs"], _diag(r)
    assert not _saved_errors(lab, RELEASE), f"error outputs in the saved notebook: {_saved_errors(lab, RELEASE)}"
    before, after = r.get("gallery_before") or {}, r.get("gallery_after") or {}
    assert before.get("rows") == 6 and before["images"] == 3 * 6 == before["decoded"], _diag(r)   # 3 real images a row
    assert after.get("rows") == 9 and after["decoded"] == 27, _diag(r)                            # the slider moved 3 steps
    p = SCREENSHOTS / "jupyterlab_audit_gallery.png"
    assert p.exists() and p.stat().st_size > 10_000, _diag(r)
