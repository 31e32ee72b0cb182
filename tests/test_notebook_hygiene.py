"""Notebook rules that the docs build depends on (nbdev_proc_nbs executes every cell holding an import)."""
import ast
import json
from pathlib import Path

import pytest

NBS = sorted((Path(__file__).resolve().parents[1] / "nbs").glob("*.ipynb"))


def code_cells(path):
    for i, c in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        if c["cell_type"] == "code": yield i, "".join(c["source"])


def directives(src):
    return {l[2:].strip().split()[0].rstrip(":") for l in src.splitlines() if l.startswith("#|") and l[2:].strip()}


@pytest.mark.parametrize("nb", NBS, ids=lambda p: p.name)
def test_imports_stand_in_their_own_cells(nb):
    bad = []
    for i, src in code_cells(nb):
        if directives(src) & {"export", "exports", "exporti"}: continue   # definitions: executed anyway
        assert "nbdev_export()" not in src, f"{nb.name} cell {i} calls nbdev_export(): parallel notebook tests would rewrite featvae/ mid-run"
        try: tree = ast.parse("\n".join(l for l in src.splitlines() if not l.lstrip().startswith(("%", "!"))))
        except SyntaxError: continue
        has_import = any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree))
        imports = (ast.Import, ast.ImportFrom)
        harmless = imports + (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)   # definitions run fine alone
        only_imports = all(isinstance(n, harmless) or (isinstance(n, ast.Try) and all(isinstance(b, imports) for b in n.body))
                           for n in tree.body)
        if has_import and not only_imports: bad.append((i, src.splitlines()[0][:60]))
    assert not bad, f"{nb.name}: cells that mix imports with other code (nbdev_proc_nbs runs them alone): {bad}"


WITH_OUTPUTS = {"index.ipynb", "11_tutorial.ipynb"}   # committed with the outputs a reader needs (`make outputs`)
READER_MIMES = {"text/plain", "text/html", "text/markdown", "image/png"}


@pytest.mark.parametrize("nb", NBS, ids=lambda p: p.name)
def test_committed_clean(nb):
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    for i, c in enumerate(cells):
        if c["cell_type"] != "code": continue
        assert c.get("execution_count") is None, f"{nb.name} cell {i} has an execution count: run nbdev_clean"
        if nb.name not in WITH_OUTPUTS:
            assert not c.get("outputs"), f"{nb.name} cell {i} has outputs: run nbdev_clean (only {sorted(WITH_OUTPUTS)} keep theirs)"
        for o in c.get("outputs", []):
            assert o["output_type"] != "error", f"{nb.name} cell {i} is committed with an error output"
            assert not (o["output_type"] == "stream" and o.get("name") == "stderr"), f"{nb.name} cell {i} keeps stderr"
            extra = set(o.get("data", {})) - READER_MIMES
            assert not extra, f"{nb.name} cell {i} keeps {extra}: run `make outputs` (tables, text and images only)"
        if "eval: false" in "".join(c["source"]):
            assert not c.get("outputs"), f"{nb.name} cell {i} is skipped by the docs and tests but shows an old output"


@pytest.mark.parametrize("nb", NBS, ids=lambda p: p.name)
def test_notebooks_stay_small(nb):
    assert nb.stat().st_size < 1_500_000, f"{nb.name} is {nb.stat().st_size / 1e6:.1f} MB; keep only the outputs a reader needs"


def test_outputs_were_refreshed():
    for name in sorted(WITH_OUTPUTS):
        cells = json.loads((NBS[0].parent / name).read_text(encoding="utf-8"))["cells"]
        assert any(c.get("outputs") for c in cells if c["cell_type"] == "code"), f"{name} has no outputs: run `make outputs`"


@pytest.mark.parametrize("nb", NBS, ids=lambda p: p.name)
def test_kernelspec(nb):
    ks = json.loads(nb.read_text(encoding="utf-8"))["metadata"].get("kernelspec", {})
    assert ks.get("name") == "python3" and ks.get("language") == "python", f"{nb.name} has no python3 kernelspec: JupyterLab would ask 'Select Kernel'"
