"""featvae's import graph: plain top-level imports of its own modules, pointing one way (see CONTRIBUTING.md)."""
import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "featvae"

# module → the featvae modules it may import (the documented graph; "__init__" is the package root)
ALLOWED = {
    "core": set(),
    "data": {"core"},
    "backbones": {"core"},
    "extract": {"core", "data", "backbones"},
    "distributed": {"core", "data", "backbones", "extract"},
    "neighbors": {"core"},
    "probe": {"core", "neighbors"},
    "privacy": {"core", "neighbors"},
    "fidelity": {"core", "neighbors"},
    "anonymize": {"core"},
    "ksame": {"core", "anonymize"},
    "cvae": {"core", "anonymize", "neighbors"},
    "sigma_cvae": {"core", "anonymize", "neighbors", "cvae"},
    "mfa": {"core", "anonymize"},
    "diffusion": {"core", "anonymize", "neighbors"},
    "dp": {"core", "anonymize", "neighbors", "cvae", "sigma_cvae"},
    "methods": {"core", "anonymize", "ksame", "cvae", "sigma_cvae", "mfa", "diffusion", "dp"},
    "experiment": {"core", "dp", "extract", "methods", "neighbors", "privacy", "fidelity", "probe"},
    "explore": {"core", "experiment", "methods", "neighbors"},
    "release": {"core", "data", "experiment", "extract", "methods", "neighbors"},
    "cli": {"core", "data", "backbones", "extract", "distributed", "experiment", "methods", "release"},
}
MODULES = sorted(p.stem for p in PKG.glob("*.py") if not p.stem.startswith("_"))


def featvae_imports(path: Path):
    "[(target module, line, at top level?)] for every import of a featvae module in `path`."
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level == 1: targets = [mod] if mod else [a.name if a.name in ALLOWED else "__init__" for a in node.names]
            elif mod == "featvae": targets = [a.name if a.name in ALLOWED else "__init__" for a in node.names]
            elif mod.startswith("featvae."): targets = [mod.split(".")[1]]
        elif isinstance(node, ast.Import):
            targets = ["__init__" if a.name == "featvae" else a.name.split(".")[1]
                       for a in node.names if a.name == "featvae" or a.name.startswith("featvae.")]
        out += [(t, node.lineno, id(node) in top) for t in targets]
    return out


def test_every_module_is_in_the_graph():
    assert sorted(ALLOWED) == MODULES, "a module was added or removed: document its place in ALLOWED and CONTRIBUTING.md"


@pytest.mark.parametrize("mod", MODULES)
def test_imports_follow_the_graph(mod):
    bad = [(t, ln) for t, ln, _ in featvae_imports(PKG / f"{mod}.py") if t != "__init__" and t not in ALLOWED[mod]]
    assert not bad, f"featvae.{mod} imports {bad}, which the graph does not allow (allowed: {sorted(ALLOWED[mod])})"


@pytest.mark.parametrize("mod", MODULES)
def test_imports_are_plain_and_top_level(mod):
    src = (PKG / f"{mod}.py").read_text(encoding="utf-8")
    inner = [(t, ln) for t, ln, top in featvae_imports(PKG / f"{mod}.py") if not top]
    assert not inner, f"featvae.{mod} imports featvae modules inside functions or try blocks: {inner}"
    assert not re.search(r"import_module\(|__import__\(", src), f"featvae.{mod} imports modules dynamically; import featvae modules plainly"


def test_the_graph_is_acyclic():
    seen, done = set(), set()
    def visit(m, path):
        assert m not in seen or m in done, f"import cycle: {' → '.join(path + [m])}"
        if m in done: return
        seen.add(m)
        for t in ALLOWED[m]: visit(t, path + [m])
        done.add(m)
    for m in ALLOWED: visit(m, [])


def test_the_checker_catches_a_bad_import(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("from .core import a\nfrom featvae.cli import main\ndef g():\n    from .experiment import run_study\n")
    assert featvae_imports(f) == [("core", 1, True), ("cli", 2, True), ("experiment", 4, False)]
