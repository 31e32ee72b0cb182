"""Build featvae's docs site offline (what `nbdev_docs` does, without Quarto), as `make docs` runs it.

Steps, in a private build root (so that two builds never share nbdev's `_proc` cache):

1. copy `settings.ini` and `nbs/` into the build root;
2. execute every notebook there (`jupyter nbconvert --execute --inplace`) with
   `PLOTLY_RENDERER=plotly_mimetype+notebook` (plotly.js embedded, so plots draw without a kernel) and
   `FEATVAE_DOCS=1` (widgets show their static figures: see `featvae.explore.show`);
3. `nbdev_proc_nbs` (nbdev's filters: `#| hide`, `show_doc`, exports ...) into `<root>/_proc`;
4. `smalldocs render <root>/_proc` → `<root>/_proc/_docs`, copied to `--out` (default `_docs/`).

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
import shutil
import subprocess
import sys
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
        key = nb_key(nb, lib)
        hit = cache / f"{nb.stem}-{key}.ipynb"
        if hit.exists() and not args.force:
            shutil.copy2(hit, nb); reused.append(nb.name)
        elif not args.no_execute and fnmatch.fnmatch(nb.name, args.execute):
            todo.append((nb, hit))
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
    out = Path(args.out).resolve()
    if out.exists(): shutil.rmtree(out)
    shutil.copytree(site, out)
    if not args.build_dir: shutil.rmtree(broot, ignore_errors=True)
    pages = len(list(out.rglob("*.html")))
    print(f"docs: {pages} pages in {out} ({time.time() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
