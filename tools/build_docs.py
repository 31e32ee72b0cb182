"""Build featvae's docs site offline (what `nbdev_docs` does, without Quarto), as `make docs` runs it.

Steps, in a private build root (so that two builds never share nbdev's `_proc` cache):

1. copy `settings.ini` and `nbs/` into the build root;
2. execute every notebook there (`jupyter nbconvert --execute --inplace`; cells `#| eval: false` and, unless
   `--run-slow`, cells flagged `#| slow` stay unexecuted, as under nbdev_test) with
   `PLOTLY_RENDERER=plotly_mimetype+notebook` (plotly.js embedded, so plots draw without a kernel) and
   `FEATVAE_DOCS=1` (widgets show their static figures: see `featvae.explore.show`);
3. `nbdev_proc_nbs` (nbdev's filters: `#| hide`, `show_doc`, exports ...) into `<root>/_proc`;
4. `smalldocs render <root>/_proc` → `<root>/_proc/_docs`, copied to `--out` (default `_docs/`);
   Live-widget outputs (tqdm bars, ipywidgets) are dropped before: a static page can show only their repr.
5. make the site self-contained, so that it works (and the browser test passes) offline: the theme's
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CACHE_VERSION = "1"


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


SKIP_TAG = "skip-execution"   # nbclient leaves cells with this tag unexecuted


def mark_unexecuted(nb: Path, flags: set[str]) -> int:
    "Tag the cells nbdev_test would skip (`#| eval: false`, and cells with a flag in `flags`, e.g. `#| slow`)."
    d = json.loads(nb.read_text(encoding="utf-8"))
    n = 0
    for c in d.get("cells", []):
        if c.get("cell_type") != "code": continue
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        dirs = [l[2:].strip().lower().replace(" ", "") for l in src.splitlines() if l.startswith("#|")]
        if "eval:false" in dirs or any(dd in flags for dd in dirs):
            tags = c.setdefault("metadata", {}).setdefault("tags", [])
            if SKIP_TAG not in tags: tags.append(SKIP_TAG); n += 1
    if n: nb.write_text(json.dumps(d, indent=1, ensure_ascii=False), encoding="utf-8")
    return n


def test_flags() -> set[str]:
    "The `tst_flags` of settings.ini (`notest slow`): cells nbdev_test skips unless asked."
    import configparser
    cfg = configparser.ConfigParser(delimiters=["="]); cfg.read(ROOT / "settings.ini", encoding="utf-8")
    return set(cfg["DEFAULT"].get("tst_flags", "").split())


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
                    help="also execute cells flagged like `#| slow` (by default they are shown unexecuted, as nbdev_test skips them)")
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
    for nb in notebooks(nbs):
        key = nb_key(nb, lib + ("+slow" if args.run_slow else ""))
        hit = cache / f"{nb.stem}-{key}.ipynb"
        if hit.exists() and not args.force:
            shutil.copy2(hit, nb); reused.append(nb.name)
        elif not args.no_execute and fnmatch.fnmatch(nb.name, args.execute):
            todo.append((nb, hit))
            mark_unexecuted(nb, set() if args.run_slow else test_flags())
    print(f"docs: {len(todo)} notebook(s) to execute, {len(reused)} from the cache ({', '.join(reused) or '-'})", flush=True)
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for nb, secs, err in pool.map(lambda a: execute(a[0], env, args.timeout), todo):
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
