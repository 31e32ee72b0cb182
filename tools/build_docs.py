"""Build featvae's docs site offline (what `nbdev_docs` does, without Quarto), as `make docs` runs it.

Steps, in a private build root (so that two builds never share nbdev's `_proc` cache):

1. copy `settings.ini` and `nbs/` into the build root;
2. execute every notebook there (`jupyter nbconvert --execute --inplace`) with
   `PLOTLY_RENDERER=plotly_mimetype+notebook` (plotly.js embedded, so plots draw without a kernel) and
   `FEATVAE_DOCS=1` (widgets show their static figures: see `featvae.explore.show`). Cells `#| eval: false`
   and, unless `--run-slow`, cells flagged `#| slow` are not executed, as under nbdev_test, and their saved
   outputs are removed: a page never shows an output that this build did not compute (index.ipynb and
   11_tutorial.ipynb are committed with outputs). `#| notest` cells are executed: nbdev_test leaves the
   index's study table to the tutorial, but the site shows it. The index runs after the other notebooks,
   so that its study table reads the study the tutorial has just cached;
3. `nbdev_proc_nbs` (nbdev's filters: `#| hide`, `show_doc`, exports ...) into `<root>/_proc`;
4. `smalldocs render <root>/_proc` → `<root>/_proc/_docs`, copied to `--out` (default `_docs/`);
   Live-widget outputs (tqdm bars, ipywidgets) are dropped before: a static page can show only their repr.
5. API links stay on the site: nbdev links every backticked featvae name to
   `{doc_host}{doc_baseurl}/<page>.html#<name>` with nbdev's page name (`ksame.html`, from `05_ksame.ipynb`),
   while smalldocs names the pages after the notebooks (`05_ksame.html`). Such links are rewritten to the
   page smalldocs wrote, relative to the linking page; a link to a name the page does not document (a
   private helper) keeps its text and loses the link. nbdev's page names are also written, as small pages
   that forward to the real one, so that nbdev doc links from elsewhere (`featvae/_modidx.py`) land;
6. make the site self-contained, so that it works (and the browser test passes) offline: the theme's
   Google-Fonts `@import` is dropped (system fonts instead), and mermaid, which smalldocs loads from a CDN,
   is served from `site_libs/mermaid/` (`mermaid.min.js` from `npm pack mermaid@<version>`, cached in
   `_build/vendor/`; without npm the CDN link stays and a warning says so), so is KaTeX (`site_libs/katex-*`),
   and plotly's MathJax `<script>` (a CDN link, for LaTeX in figures, which featvae's figures do not use) is dropped.

Executed notebooks are cached in `_build/executed/` by a hash of the notebook and of every
`featvae/*.py`, so a rebuild only executes what changed (`--force` executes everything).

    python tools/build_docs.py                       # full site → _docs/
    python tools/build_docs.py --execute '09_*'      # execute only matching notebooks (others: cache or unexecuted)
    python tools/build_docs.py --no-execute          # site mechanics only: cached executions where fresh, else unexecuted
    python tools/build_docs.py --out /tmp/site --jobs 2 --build-dir /tmp/b   # keep the build root (_proc notebooks)
"""
from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CACHE_VERSION = "2"   # 2: skipped cells lose their outputs, `notest` cells run


def tool(name: str) -> str:
    "A console script of the running Python's environment (the venv), else whatever is on PATH."
    p = BIN / name
    return str(p) if p.exists() else (shutil.which(name) or name)


def notebooks(nbs: Path) -> list[Path]:
    "The notebooks of the site: every `*.ipynb` not starting with `_` or `.` (as nbdev_proc_nbs skips them)."
    return sorted(p for p in nbs.rglob("*.ipynb")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(nbs).parts))


def code_hash() -> str:
    "Hash of the library code: a change to any featvae module invalidates every cached execution."
    h = hashlib.sha256(CACHE_VERSION.encode())
    for p in sorted((ROOT / "featvae").glob("*.py")):
        h.update(p.name.encode()); h.update(p.read_bytes())
    return h.hexdigest()


def nb_key(nb: Path, lib: str) -> str:
    "Cache key of one notebook: its cells' sources (outputs ignored) and the library hash."
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    src = json.dumps([[c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"]] for c in cells])
    return hashlib.sha256((src + lib).encode()).hexdigest()[:32]


def execute(nb: Path, env: dict, timeout: int) -> tuple[Path, float, str | None]:
    "Execute one notebook in place; returns (path, seconds, error text or None)."
    t = time.time()
    cmd = [tool("jupyter"), "nbconvert", "--to", "notebook", "--execute", "--inplace",
           f"--ExecutePreprocessor.timeout={timeout}", "--ExecutePreprocessor.kernel_name=python3", nb.name]
    r = subprocess.run(cmd, cwd=nb.parent, env=env, capture_output=True, text=True)
    err = None if r.returncode == 0 else (r.stderr[-4000:] or r.stdout[-4000:])
    return nb, time.time() - t, err


MERMAID_CDN = re.compile(r"import mermaid from '(https://cdn\.jsdelivr\.net/npm/mermaid@([0-9.]+)/dist/[^']+)';")
REMOTE_IMPORT = re.compile(r"@import url\(https?://[^)]*\);?")


def vendor_mermaid(version: str) -> Path | None:
    "`mermaid.min.js` of `version` (self-contained build), fetched once with `npm pack` into `_build/vendor/`."
    dest = ROOT / "_build" / "vendor" / f"mermaid-{version}.min.js"
    if dest.exists(): return dest
    npm = shutil.which("npm")
    if npm is None: return None
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([npm, "pack", f"mermaid@{version}", "--silent"], cwd=d, capture_output=True, text=True, timeout=300)
        tgz = next(Path(d).glob("mermaid-*.tgz"), None)
        if r.returncode != 0 or tgz is None: return None
        with tarfile.open(tgz) as t:
            m = t.extractfile("package/dist/mermaid.min.js")
            if m is None: return None
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(".tmp"); tmp.write_bytes(m.read()); os.replace(tmp, dest)
    return dest


KATEX_CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/katex@([0-9.]+)/dist/")
# plotly's notebook renderer adds MathJax from a CDN for LaTeX in figures; featvae's figures have none
MATHJAX_TAG = re.compile(r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/[^"]*"></script>')


def vendor_dist(pkg: str, version: str) -> Path | None:
    "The `dist/` folder of npm package `pkg@version`, fetched once with `npm pack` into `_build/vendor/`."
    dest = ROOT / "_build" / "vendor" / f"{pkg}-{version}"
    if (dest / "dist").is_dir(): return dest / "dist"
    npm = shutil.which("npm")
    if npm is None: return None
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([npm, "pack", f"{pkg}@{version}", "--silent"], cwd=d, capture_output=True, text=True, timeout=300)
        tgz = next(Path(d).glob(f"{pkg}-*.tgz"), None)
        if r.returncode != 0 or tgz is None: return None
        tmp = Path(d) / "x"
        with tarfile.open(tgz) as t:
            members = [m for m in t.getmembers() if m.name.startswith("package/dist/") and m.isfile()]
            t.extractall(tmp, members=members, filter="data")
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(tmp / "package" / "dist", dest / "dist.tmp", dirs_exist_ok=True)
        os.replace(dest / "dist.tmp", dest / "dist")
    return dest / "dist"


def make_offline(site: Path) -> list[str]:
    "Drop remote CSS imports and serve mermaid locally; returns warnings for what stays remote."
    warnings = []
    for css in site.rglob("*.css"):
        t = css.read_text(encoding="utf-8")
        if REMOTE_IMPORT.search(t): css.write_text(REMOTE_IMPORT.sub("", t), encoding="utf-8")
    js, katex = None, {}
    for page in site.rglob("*.html"):
        t = page.read_text(encoding="utf-8")
        t2 = MATHJAX_TAG.sub("", t)
        for ver in set(KATEX_CDN.findall(t2)):
            if ver not in katex:
                src = vendor_dist("katex", ver)
                if src is None: warnings.append(f"katex {ver} could not be fetched with npm: math needs the CDN"); continue
                katex[ver] = site / "site_libs" / f"katex-{ver}"
                shutil.copytree(src, katex[ver], dirs_exist_ok=True)
            rel = os.path.relpath(katex[ver], page.parent).replace(os.sep, "/")
            t2 = t2.replace(f"https://cdn.jsdelivr.net/npm/katex@{ver}/dist/", rel + "/")
        if t2 != t: page.write_text(t2, encoding="utf-8"); t = t2
        m = MERMAID_CDN.search(t)
        if not m: continue
        if js is None:
            src = vendor_mermaid(m.group(2))
            if src is None:
                warnings.append(f"mermaid {m.group(2)} could not be fetched with npm: diagrams need the CDN"); return warnings
            js = site / "site_libs" / "mermaid" / "mermaid.min.js"
            js.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(src, js)
        rel = os.path.relpath(js, page.parent).replace(os.sep, "/")
        t = t.replace(m.group(0), "const mermaid = window.mermaid;")
        t = t.replace('<script type="module">const mermaid', f'<script src="{rel}"></script><script type="module">const mermaid', 1)
        page.write_text(t, encoding="utf-8")
    return warnings


def doc_url() -> str:
    "The site's public address from settings.ini (`doc_host` + `doc_baseurl`), with a trailing `/`."
    import configparser
    cfg = configparser.ConfigParser(delimiters=["="]); cfg.read(ROOT / "settings.ini", encoding="utf-8")
    s = cfg["DEFAULT"]
    return s["doc_host"].rstrip("/") + "/" + s.get("doc_baseurl", "").strip("/") + "/"


FRONT_OUTPUT_FILE = re.compile(r"^output-file:\s*(\S+)\s*$", re.M)


def nbdev_page_names(proc: Path) -> dict[str, str]:
    """nbdev's page name of every processed notebook → the page smalldocs writes for it, both relative to the
    site root: `ksame.html` → `05_ksame.html` (nbdev_proc_nbs records its name as the `output-file` of the
    notebook's front matter; doc links in `_modidx.py` use the same name)."""
    names = {}
    for nb in notebooks(proc):
        page = nb.relative_to(proc).with_suffix(".html").as_posix()
        for c in json.loads(nb.read_text(encoding="utf-8"))["cells"][:2]:
            src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            m = FRONT_OUTPUT_FILE.search(src) if c["cell_type"] == "raw" else None
            if m: names[(Path(page).parent / m.group(1)).as_posix().removeprefix("./")] = page; break
    return names


ID_ATTR = re.compile(r"""\sid=["']([^"']+)["']""")


def page_ids(page: Path) -> set[str]:
    "Every `id` of an HTML page: the anchors a link `page#id` can land on."
    return {unescape(i) for i in ID_ATTR.findall(page.read_text(encoding="utf-8"))}


FORWARD_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{target}"><meta name="robots" content="noindex">
<script>location.replace("{target}" + location.hash);</script>
<meta http-equiv="refresh" content="0; url={target}">
</head><body><p>This page is now <a href="{target}">{target}</a>.</p></body></html>
"""


def fix_doc_links(site: Path, proc: Path, base: str) -> dict:
    """Rewrite nbdev's API links (`{base}ksame.html#ksame`) to the pages of this site (`05_ksame.html#ksame`,
    relative to the linking page); unlink those whose anchor the target page lacks; write nbdev's page names
    as forwarding pages. Returns counts and the unlinked names, for the build log."""
    names = nbdev_page_names(proc)
    ids: dict[Path, set[str]] = {}
    link = re.compile(r'<a href="' + re.escape(base) + r'([^"#]*)(#[^"]*)?"([^>]*)>(.*?)</a>', re.S)
    stats = {"rewritten": 0, "unlinked": [], "unknown": []}
    for page in sorted(site.rglob("*.html")):
        def repl(m):
            path, frag = unescape(m.group(1)), unescape(m.group(2) or "")
            target = names.get(path or "index.html", path or "index.html")
            dest = site / target
            if not dest.is_file():
                stats["unknown"].append(f"{page.name}: {m.group(0)[:120]}"); return m.group(0)
            if frag[1:] and frag[1:] not in ids.setdefault(dest, page_ids(dest)):
                stats["unlinked"].append(f"{target}{frag}"); return m.group(4)
            stats["rewritten"] += 1
            rel = os.path.relpath(dest, page.parent).replace(os.sep, "/")
            return f'<a href="{rel}{m.group(2) or ""}"{m.group(3)}>{m.group(4)}</a>'
        t = page.read_text(encoding="utf-8")
        t2 = link.sub(repl, t)
        if t2 != t: page.write_text(t2, encoding="utf-8")
    stats["forwarding"] = 0
    for name, target in names.items():
        stub = site / name
        if stub.exists(): continue   # the index, or a notebook whose name has no number
        stub.parent.mkdir(parents=True, exist_ok=True)
        rel = os.path.relpath(site / target, stub.parent).replace(os.sep, "/")
        stub.write_text(FORWARD_PAGE.format(title=Path(target).stem, target=rel), encoding="utf-8")
        stats["forwarding"] += 1
    return stats


SKIP_TAG = "skip-execution"   # nbclient leaves cells with this tag unexecuted
RUN_ANYWAY = {"notest"}        # test flags whose cells the site still executes (the index's study table)
RUN_LAST = ("index.ipynb",)    # executed after the others: its study table reads the study the tutorial caches


def directives(src: str) -> list[str]:
    "A cell's `#|` directives, lower-cased and without spaces: `#| eval: false` → `eval:false`."
    return [l[2:].strip().lower().replace(" ", "") for l in src.splitlines() if l.startswith("#|")]


def is_skipped(src: str, flags: set[str]) -> bool:
    "Whether the build leaves a code cell unexecuted: `#| eval: false`, or a directive in `flags` (e.g. `slow`)."
    dirs = directives(src)
    return "eval:false" in dirs or any(d in flags for d in dirs)


def mark_unexecuted(nb: Path, flags: set[str]) -> int:
    """Tag the cells the build skips (`is_skipped`) for nbclient and remove their saved outputs, so that no
    page shows an output this build did not compute; returns the number of skipped cells."""
    d = json.loads(nb.read_text(encoding="utf-8"))
    n, changed = 0, False
    for c in d.get("cells", []):
        if c.get("cell_type") != "code": continue
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        if not is_skipped(src, flags): continue
        n += 1
        tags = c.setdefault("metadata", {}).setdefault("tags", [])
        if SKIP_TAG not in tags: tags.append(SKIP_TAG); changed = True
        if c.get("outputs") or c.get("execution_count") is not None:
            c["outputs"], c["execution_count"] = [], None; changed = True
    if changed: nb.write_text(json.dumps(d, indent=1, ensure_ascii=False), encoding="utf-8")
    return n


def test_flags() -> set[str]:
    "The `tst_flags` of settings.ini (`notest slow`): cells nbdev_test skips unless asked."
    import configparser
    cfg = configparser.ConfigParser(delimiters=["="]); cfg.read(ROOT / "settings.ini", encoding="utf-8")
    return set(cfg["DEFAULT"].get("tst_flags", "").split())


def skip_flags(run_slow: bool) -> set[str]:
    "The flags whose cells the site leaves unexecuted: the test flags but `notest`; none with `--run-slow`."
    return set() if run_slow else test_flags() - RUN_ANYWAY


def drop_widget_outputs(nb: Path) -> int:
    "Remove live-widget outputs (tqdm bars, ipywidgets): a static page can only show their text repr."
    d = json.loads(nb.read_text(encoding="utf-8"))
    n = 0
    for c in d.get("cells", []):
        outs = c.get("outputs")
        if not outs: continue
        keep = [o for o in outs if "application/vnd.jupyter.widget-view+json" not in (o.get("data") or {})]
        n += len(outs) - len(keep); c["outputs"] = keep
    if n: nb.write_text(json.dumps(d, indent=1, ensure_ascii=False), encoding="utf-8")
    return n


def run(cmd: list[str], cwd: Path, env: dict | None = None, what: str = ""):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(f"{what or cmd[0]} failed (exit {r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}\n")
        raise SystemExit(1)
    return r


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "_docs"), help="where the site goes (default: _docs/)")
    ap.add_argument("--build-dir", default=None, help="build root (default: a fresh temporary directory under _build/)")
    ap.add_argument("--execute", default="*", metavar="GLOB",
                    help="execute only notebooks whose name matches (default: all); the others use a fresh cached execution if there is one")
    ap.add_argument("--no-execute", action="store_true", help="execute nothing (cached executions where fresh, else unexecuted)")
    ap.add_argument("--force", action="store_true", help="ignore the execution cache")
    ap.add_argument("--skip", default="", metavar="GLOBS", help="comma-separated notebook globs left out of the site (debugging only)")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("FEATVAE_DOCS_JOBS", "2")), help="notebooks executed in parallel")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    ap.add_argument("--run-slow", action="store_true",
                    help="also execute cells flagged `#| slow` (by default they are skipped, as nbdev_test skips them, and shown without output)")
    ap.add_argument("--keep-going", action="store_true", help="render the site even when a notebook fails (the failure is still the exit code)")
    args = ap.parse_args(argv)

    t0 = time.time()
    nbs_src = ROOT / "nbs"
    cache = ROOT / "_build" / "executed"; cache.mkdir(parents=True, exist_ok=True)
    (ROOT / "_build").mkdir(exist_ok=True)
    broot = Path(args.build_dir) if args.build_dir else Path(tempfile.mkdtemp(prefix="docs-", dir=ROOT / "_build"))
    if broot.exists(): shutil.rmtree(broot)
    broot.mkdir(parents=True)
    shutil.copy2(ROOT / "settings.ini", broot / "settings.ini")
    shutil.copytree(nbs_src, broot / "nbs", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_proc", "_docs", "sidebar.yml"))
    nbs = broot / "nbs"
    for pat in filter(None, args.skip.split(",")):
        for nb in nbs.glob(pat): nb.unlink(); print(f"docs: skipping {nb.name}", flush=True)

    env = {**os.environ, "PLOTLY_RENDERER": "plotly_mimetype+notebook", "FEATVAE_DOCS": "1", "FEATVAE_PROGRESS": "0",
           "PYTHONPATH": os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    lib = code_hash()
    todo, reused, failed = [], [], []
    flags, stale = skip_flags(args.run_slow), []
    for nb in notebooks(nbs):
        key = nb_key(nb, lib + ("+slow" if args.run_slow else ""))
        hit = cache / f"{nb.stem}-{key}.ipynb"
        if hit.exists() and not args.force:
            shutil.copy2(hit, nb); reused.append(nb.name); continue
        mark_unexecuted(nb, flags)   # executed or not, a skipped cell shows no saved output
        if not args.no_execute and fnmatch.fnmatch(nb.name, args.execute): todo.append((nb, hit))
        else: stale.append(nb.name)
    print(f"docs: {len(todo)} notebook(s) to execute, {len(reused)} from the cache ({', '.join(reused) or '-'})", flush=True)
    if stale: print(f"docs: not executed, saved outputs shown: {', '.join(stale)}", flush=True)
    last = [a for a in todo if a[0].name in RUN_LAST]
    for batch in ([a for a in todo if a not in last], last):
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            for nb, secs, err in pool.map(lambda a: execute(a[0], env, args.timeout), batch):
                if err:
                    failed.append(nb.name)
                    print(f"docs: FAILED {nb.name} after {secs:.0f} s\n{err}", file=sys.stderr, flush=True)
                else:
                    print(f"docs: executed {nb.name} in {secs:.0f} s", flush=True)
                    hit = dict(todo)[nb]
                    for old in cache.glob(f"{nb.stem}-*.ipynb"): old.unlink()
                    shutil.copy2(nb, hit)
    if failed and not args.keep_going:
        print(f"docs: {len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1

    for nb in notebooks(nbs):
        n = drop_widget_outputs(nb)
        if n: print(f"docs: {nb.name}: dropped {n} live-widget output(s) (progress bars / widgets)", flush=True)
    run([tool("nbdev_proc_nbs"), "--path", "nbs", "--file_re", r"\.ipynb$", "--force", "--n_workers", "1"],
        cwd=broot, env=env, what="nbdev_proc_nbs")
    proc = broot / "_proc"
    for extra in ("nbdev.yml", "styles.css"):  # smalldocs reads them beside _quarto.yml
        if (nbs / extra).exists() and not (proc / extra).exists(): shutil.copy2(nbs / extra, proc / extra)
    r = run([tool("smalldocs"), "render", str(proc)], cwd=broot, env=env, what="smalldocs render")
    warn = [l for l in r.stderr.splitlines() if l.strip()]
    if warn: print("smalldocs:\n  " + "\n  ".join(warn[:30]), file=sys.stderr)
    site = proc / "_docs"
    if not (site / "index.html").exists():
        print(f"docs: smalldocs produced no index.html in {site}", file=sys.stderr); return 1
    links = fix_doc_links(site, proc, doc_url())
    print(f"docs: {links['rewritten']} API link(s) pointed at this site's pages, {links['forwarding']} forwarding "
          f"page(s) for nbdev's page names", flush=True)
    if links["unlinked"]:
        print(f"docs: {len(links['unlinked'])} API link(s) to names their page does not document, left as text: "
              + ", ".join(sorted(set(links["unlinked"]))), flush=True)
    for u in links["unknown"]: print(f"docs: warning: link to a page this site lacks: {u}", file=sys.stderr)
    for w in make_offline(site): print(f"docs: warning: {w}", file=sys.stderr)
    out = Path(args.out).resolve()
    if out.exists(): shutil.rmtree(out)
    shutil.copytree(site, out)
    if not args.build_dir: shutil.rmtree(broot, ignore_errors=True)
    pages = len(list(out.rglob("*.html")))
    print(f"docs: {pages} pages in {out} ({time.time() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
