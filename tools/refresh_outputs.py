"""Re-execute the notebooks whose outputs are committed (the index and the tutorial) and keep only what a
reader needs: tables, text and static images. Widget state, plotly JSON, progress bars and stderr are
dropped; an error output fails the refresh. The README is rewritten from the index afterwards.

    python tools/refresh_outputs.py            # refresh nbs/index.ipynb and nbs/11_tutorial.ipynb
    python tools/refresh_outputs.py nbs/X.ipynb
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
WITH_OUTPUTS = ("index.ipynb", "11_tutorial.ipynb")   # the only notebooks committed with outputs
KEEP = ("text/plain", "text/html", "text/markdown", "image/png")
MAX_BYTES = 1_500_000


def skipped(cell) -> bool:
    "Cells the docs and tests skip (`eval: false`) are not run here either, and carry no output."
    return any(l.replace(" ", "") == "#|eval:false" for l in cell.source.splitlines())


def keep(output) -> dict|None:
    if output.output_type == "error":
        raise RuntimeError(f"{output.ename}: {output.evalue}")
    if output.output_type == "stream": return output if output.name == "stdout" else None
    data = {k: v for k, v in output.get("data", {}).items() if k in KEEP}
    if not data or set(data) == {"text/plain"} and "Widget" in "".join(data["text/plain"]): return None
    output["data"] = data
    output["metadata"] = {k: v for k, v in output.get("metadata", {}).items() if k in ("image/png",)}
    return output


def refresh(path: Path):
    nb = nbformat.read(path, as_version=4)
    held = {i: c.source for i, c in enumerate(nb.cells) if c.cell_type == "code" and skipped(c)}
    for i in held: nb.cells[i].source = "pass"          # `eval: false` cells (internet, GPU) are not run
    os.environ["FEATVAE_PROGRESS"] = "0"                # the kernel inherits it: no progress widgets
    NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code": continue
        if i in held: c.source, c.outputs = held[i], []
        c.outputs = [o for o in map(keep, c.outputs) if o is not None]
        c.execution_count = None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f: nbformat.write(nb, f)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    subprocess.run([str(Path(sys.executable).parent / "nbdev_clean"), "--fname", str(path)], check=True, capture_output=True)
    size = path.stat().st_size
    if size > MAX_BYTES: raise RuntimeError(f"{path.name} is {size / 1e6:.1f} MB with its outputs (limit 1.5 MB)")
    print(f"refreshed {path.relative_to(ROOT)} ({size / 1e3:.0f} kB)")


def main(argv=sys.argv[1:]):
    paths = [Path(a).resolve() for a in argv] or [ROOT / "nbs" / n for n in WITH_OUTPUTS]
    for p in paths: refresh(p)
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_readme.py")], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
