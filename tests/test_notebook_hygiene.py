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


@pytest.mark.parametrize("nb", NBS, ids=lambda p: p.name)
def test_committed_clean(nb):
    for i, c in enumerate(json.loads(nb.read_text(encoding="utf-8"))["cells"]):
        if c["cell_type"] == "code":
            assert not c.get("outputs") and c.get("execution_count") is None, f"{nb.name} cell {i} has outputs: run nbdev_clean"
