"""The docs site in a real browser: build it (tools/build_docs.py), serve it on 127.0.0.1, open every page in
headless Chromium (playwright-core), and check what a reader sees.

By default every notebook is executed, as `make docs` does (a few minutes: the embeddings and the study are
cached by the notebook tests that run before); a fresh cached execution from an earlier `make docs` is reused.
`FEATVAE_DOCS_TEST_EXECUTE='09_*'` executes only the matching notebooks (the others show unexecuted).
Screenshots go to artifacts/screenshots/ (git-ignored): the index, explore's plots, and every figure and
results table of the tutorial, for a reviewer to look at.

Without a browser, what needs none still runs: the link crawl of the built site, the stale-output checks, and
the build's skipping of `#| eval: false` / `#| slow` cells on a small notebook.
"""
from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from helpers import ARTIFACTS, ROOT, free_port, require_browser, run_node, stop, tail, wait_http  # noqa: E402
import build_docs  # noqa: E402

SHOTS = ARTIFACTS / "screenshots"
EXECUTE = os.environ.get("FEATVAE_DOCS_TEST_EXECUTE", "*")
SKIP = os.environ.get("FEATVAE_DOCS_TEST_SKIP", "")  # debugging only: notebooks left out of the site (build_docs --skip)


def site_notebooks(nbs: Path = ROOT / "nbs") -> list[str]:
    "The notebooks of the site; pass the build's copy of nbs/ to ignore notebooks added while the build ran."
    skip = [g for g in SKIP.split(",") if g]
    return sorted(p.stem for p in nbs.glob("*.ipynb")
                  if not p.name.startswith(("_", ".")) and not any(fnmatch.fnmatch(p.name, g) for g in skip))


def plotly_traces(nb: Path) -> list[int]:
    "Number of traces of every plotly figure a processed notebook shows, in page order."
    out = []
    for c in json.loads(nb.read_text())["cells"]:
        for o in c.get("outputs", []):
            fig = (o.get("data") or {}).get("application/vnd.plotly.v1+json")
            if fig is not None and "text/html" in o["data"]: out.append(len(fig.get("data", [])))
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    "The site as `make docs` builds it (no browser needed), with the build root kept for its notebooks."
    tmp = tmp_path_factory.mktemp("docs")
    out, build, log = tmp / "site", tmp / "build", tmp / "build_docs.log"
    cmd = [sys.executable, str(ROOT / "tools" / "build_docs.py"), "--out", str(out), "--build-dir", str(build),
           "--execute", EXECUTE] + (["--skip", SKIP] if SKIP else [])
    with open(log, "w") as f:
        r = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, timeout=1500)
    if r.returncode != 0: pytest.fail(f"build_docs failed (exit {r.returncode})\n{tail(log, 8000)}")
    return dict(out=out, proc=build / "_proc", nbs=build / "nbs", log=log)


@pytest.fixture(scope="module")
def site(built):
    require_browser()
    out, slog = built["out"], built["out"].parent / "http.log"
    port = free_port()
    with open(slog, "w") as f:
        server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(out)],
                                  stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/index.html", 30, server, slog)
        yield dict(built, base=f"http://127.0.0.1:{port}/")
    finally:
        stop(server)


@pytest.fixture(scope="module")
def report(site):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("docs_*.png"): old.unlink()   # a screenshot left from an earlier run proves nothing
    pages = [f"{nb}.html" for nb in site_notebooks(site["nbs"])]
    missing = [p for p in pages if not (site["out"] / p).exists()]
    assert not missing, f"pages missing from the built site: {missing}; built: {sorted(x.name for x in site['out'].glob('*.html'))}"
    return run_node("check_docs.js", "--base", site["base"], "--pages", ",".join(pages), "--shots", str(SHOTS),
                    timeout=900)["pages"]


class _Page(HTMLParser):
    "The anchors (`id`, `<a name>`) and the references (`href`, `src`) of one HTML page."
    def __init__(self):
        super().__init__(); self.ids, self.refs = set(), []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"): self.ids.add(a["id"])
        if tag == "a" and a.get("name"): self.ids.add(a["name"])
        self.refs += [v for k, v in attrs if k in ("href", "src") and v is not None]


def parse_site(out: Path) -> dict[Path, _Page]:
    pages = {}
    for f in sorted(out.rglob("*.html")):
        p = _Page(); p.feed(f.read_text(encoding="utf-8")); pages[f.resolve()] = p
    return pages


def broken_link(out: Path, pages: dict, page: Path, url: str, own: str) -> str | None:
    """Why `url`, found on `page` of the site in `out`, does not resolve inside the site (None: it does).
    Links to other sites are not followed; a link to the site's own public address (`own`) is broken, since it
    leaves a local or preview copy of the site for the published one (nbdev's API links did)."""
    if url.startswith(own): return "points at the published site instead of this one"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("data:", "javascript:")): return None
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
    if target.is_dir(): target = target / "index.html"
    if not target.is_relative_to(out.resolve()): return "leaves the site's folder"
    if not target.exists(): return f"no such file {target.relative_to(out.resolve())}"
    frag = unquote(parts.fragment)
    if frag and target.suffix == ".html" and frag not in pages[target].ids:
        return f"{target.name} has no anchor #{frag}"
    return None


def test_every_internal_link_resolves(built):
    "Crawl every page of the site: each href/src inside it names a file that exists and an anchor on that page."
    out, own = built["out"], build_docs.doc_url()
    pages = parse_site(out)
    assert len(pages) >= len(site_notebooks(built["nbs"]))
    bad, n = [], 0
    for page, p in pages.items():
        for url in p.refs:
            n += 1
            if (why := broken_link(out, pages, page, url, own)): bad.append(f"{page.name}: {url} ({why})")
    assert n > 500, f"only {n} links crawled: is the site empty?"
    assert not bad, f"{len(bad)} broken link(s) in the site:\n" + "\n".join(bad[:60])


def test_api_links_land_on_the_documented_name(built):
    "nbdev's API links (`KSame`, `run_study`) go to the page and anchor where the name is documented."
    pages = parse_site(built["out"])
    ksame = pages[(built["out"] / "05_ksame.html").resolve()]
    assert "05_ksame.html#ksame" in ksame.refs or "#ksame" in ksame.refs, [r for r in ksame.refs if "ksame" in r][:10]
    index = pages[(built["out"] / "index.html").resolve()]
    assert "08_experiment.html#run_study" in index.refs, [r for r in index.refs if "experiment" in r]
    # nbdev's page names (the doc links of featvae/_modidx.py) forward to the real pages
    fwd = (built["out"] / "ksame.html").read_text(encoding="utf-8")
    assert '"05_ksame.html" + location.hash' in fwd and 'url=05_ksame.html' in fwd


def test_skipped_cells_show_no_saved_output(built):
    "No page shows an output the build did not compute: cells it skips have none, and no page shows an error."
    flags = build_docs.skip_flags(run_slow=False)
    stale = []
    for nb in sorted(built["nbs"].glob("*.ipynb")):
        for i, c in enumerate(json.loads(nb.read_text(encoding="utf-8"))["cells"]):
            if c["cell_type"] == "code" and build_docs.is_skipped("".join(c["source"]), flags) and c.get("outputs"):
                stale.append(f"{nb.name} cell {i}")
    assert not stale, f"skipped cells that still carry a saved output: {stale}"
    errors = [p.name for p in built["out"].glob("*.html") if "cell-output-error" in p.read_text(encoding="utf-8")]
    assert not errors, f"pages showing an error output (a traceback): {errors}"
    tutorial = (built["nbs"] / "11_tutorial.ipynb").read_text(encoding="utf-8")
    assert "breastmnist" in tutorial, "the tutorial's paper-setting cell (eval: false) is expected in the check above"


def test_build_skips_and_strips_but_reexecutes_the_rest(tmp_path):
    "On a small notebook with stale saved outputs: skipped cells lose theirs, every other cell is recomputed."
    stale = lambda text: [{"output_type": "stream", "name": "stdout", "text": [text]}]
    cells = [("x = 6 * 7\nprint(x)", stale("stale 1\n")),
             ("#| eval: false\nraise RuntimeError('needs the network')",
              [{"output_type": "error", "ename": "RuntimeError", "evalue": "old", "traceback": ["old traceback"]}]),
             ("#| slow\nprint('slow')", stale("stale slow\n")),
             ("#| notest\nprint('notest', x)", stale("stale notest\n"))]
    nb = tmp_path / "t.ipynb"
    nb.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": 7, "source": s, "outputs": o}
                  for i, (s, o) in enumerate(cells)]}))
    assert build_docs.mark_unexecuted(nb, build_docs.skip_flags(run_slow=False)) == 2
    _, _, err = build_docs.execute(nb, {**os.environ}, timeout=120)
    assert err is None, err
    got = [["".join(o.get("text", "")) or o.get("ename", "") for o in c["outputs"]] for c in json.loads(nb.read_text())["cells"]]
    assert got == [["42\n"], [], [], ["notest 42\n"]], got


def test_api_link_rewriting(tmp_path):
    "nbdev's links become links to this site's pages; a name its page does not document keeps its text, unlinked."
    site, proc, own = tmp_path / "site", tmp_path / "proc", "https://example.org/pkg/"
    site.mkdir(); proc.mkdir()
    (proc / "05_ksame.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "raw", "metadata": {}, "source": ["---\n", "output-file: ksame.html\n", "title: k-Same\n", "---\n"]}]}))
    (site / "05_ksame.html").write_text('<h2 id="ksame">KSame</h2>'
                                        f'<p><a href="{own}ksame.html#ksame"><code>KSame</code></a> and '
                                        f'<a href="{own}ksame.html#_private"><code>_private</code></a>, '
                                        f'<a href="{own}">home</a></p>')
    (site / "index.html").write_text(f'<a href="{own}ksame.html#ksame">k</a>')
    stats = build_docs.fix_doc_links(site, proc, own)
    assert (site / "05_ksame.html").read_text() == ('<h2 id="ksame">KSame</h2><p><a href="05_ksame.html#ksame"><code>KSame</code></a>'
                                                    ' and <code>_private</code>, <a href="index.html">home</a></p>')
    assert (site / "index.html").read_text() == '<a href="05_ksame.html#ksame">k</a>'
    assert stats["rewritten"] == 3 and stats["unlinked"] == ["05_ksame.html#_private"] and stats["forwarding"] == 1
    assert "url=05_ksame.html" in (site / "ksame.html").read_text()


def test_pages_load_without_console_errors(report):
    bad = {p: r.get("exception") or r["errors"] for p, r in report.items() if r.get("exception") or r["errors"] or r.get("status") != 200}
    assert not bad, "pages with errors:\n" + json.dumps(bad, indent=1)[:6000]


def test_sidebar_lists_every_notebook(site, report):
    want = set(site_notebooks(site["nbs"]))
    for page, r in report.items():
        hrefs = {Path(l["href"].split("#")[0].split("?")[0]).stem for l in r["sidebar"]}
        assert want <= hrefs, f"{page}: the sidebar lacks {sorted(want - hrefs)}; it links {sorted(hrefs)}"


def test_plots_render_with_expected_traces(site, report):
    checked = 0
    for nb in site_notebooks(site["nbs"]):
        want = plotly_traces(site["proc"] / f"{nb}.ipynb")
        got = report[f"{nb}.html"]["plots"]
        assert [p["n_traces"] for p in got] == want, f"{nb}.html: traces per plot {[p['n_traces'] for p in got]}, notebook outputs {want}"
        for i, p in enumerate(got):
            assert p["svg"] and p["drawn_traces"] >= 1 and p["height"] > 100, f"{nb}.html plot {i} ({p['title']!r}) did not draw: {p}"
        checked += len(want)
    explore = report["09_explore.html"]["plots"]
    assert len(explore) >= 2, f"09_explore should show the static UMAP and trade-off figures, has {explore}"
    assert any("UMAP" in p["title"] for p in explore) and any("k-Same" in p["title"] for p in explore)
    assert checked >= 2


def test_no_widget_reprs_or_empty_plot_boxes(report):
    bad = {p: (r["reprs"], r["empty_plot_boxes"]) for p, r in report.items() if r["reprs"] or r["empty_plot_boxes"]}
    assert not bad, f"pages showing raw widget reprs / empty plot boxes: {bad}"


def test_screenshots_saved(report):
    "Screenshots for a reviewer: the index and its study table, explore's plots, every tutorial figure and table."
    tutorial = report["11_tutorial.html"]
    n_figs = len(tutorial["plots"]) + tutorial["images"]
    want = ["docs_index.png", "docs_index_table1.png", "docs_explore_plot.png", "docs_tutorial.png",
            "docs_tutorial_table1.png"] + [f"docs_tutorial_fig{i + 1}.png" for i in range(n_figs)]
    for name in want:
        p = SHOTS / name
        assert p.exists() and p.stat().st_size > 10_000, f"{p} missing or empty"
    assert n_figs >= 1 or EXECUTE != "*", "the executed tutorial should show its figures"
    shots = [s for r in report.values() for s in r["shots"]]
    assert sorted(shots) == sorted(p.name for p in SHOTS.glob("docs_*.png")), "the report and the folder disagree"


def test_links_resolve_in_the_browser(site, report):
    "Every same-origin link a page has once its scripts ran lands on a page that exists, at an anchor it has."
    ids = {p: set(r["ids"]) for p, r in report.items()}
    statics = parse_site(site["out"])
    bad = []
    for page, r in report.items():
        for url in r["links"]:
            parts = urlsplit(url)
            path = unquote(parts.path).lstrip("/") or "index.html"
            f = site["out"] / path
            if f.is_dir(): f = f / "index.html"
            if not f.exists(): bad.append(f"{page}: {url} (no such page)"); continue
            if parts.fragment and f.suffix == ".html":
                have = ids.get(f.name, set()) | statics[f.resolve()].ids
                if unquote(parts.fragment) not in have: bad.append(f"{page}: {url} (no anchor)")
    assert sum(len(r["links"]) for r in report.values()) > 200
    assert not bad, f"{len(bad)} broken link(s):\n" + "\n".join(bad[:60])


def test_wide_tables_and_code_scroll_instead_of_being_cut(report):
    "Nothing is cut at the column's edge, numbers in tables stay on one line, columns do not run together."
    issues = {}
    for page, r in report.items():
        lay = r["layout"]
        found = {k: lay[k] for k in ("cut", "unscrollable_pre", "wrapped_numbers", "wide_tables_unscrollable") if lay[k]}
        if lay["n_tight"]: found["tight_cells"] = lay["tight_cells"]
        if found: issues[page] = found
    assert not issues, "content that does not fit the text column:\n" + json.dumps(issues, indent=1, ensure_ascii=False)[:6000]
    index = report["index.html"]["layout"]
    assert index["numeric_cells"] >= 50, f"the index's study table should be on the page: {index}"


def test_self_contained_and_diagrams_render(report):
    ext = {p: r["external"] for p, r in report.items() if r["external"]}
    assert not ext, f"pages request other origins (the site must work offline): {ext}"
    bad = {p: r["mermaid"] for p, r in report.items() if r["mermaid"]["blocks"] and
           (r["mermaid"]["errors"] or r["mermaid"]["rendered"] < r["mermaid"]["blocks"])}
    assert not bad, f"mermaid diagrams that did not render (syntax error or mermaid missing): {bad}"
