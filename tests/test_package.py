"""The exported package as a user gets it: every module imports in a fresh interpreter, and no exported code
uses a name that only the notebook's namespace defined (a missing import hides there, because notebooks
import more than the module)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT / "featvae").glob("*.py") if not p.stem.startswith("_"))


@pytest.mark.parametrize("mod", MODULES)
def test_module_imports_alone(mod):
    r = subprocess.run([sys.executable, "-c", f"import featvae.{mod}"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


def test_no_undefined_names():
    from pyflakes.api import checkPath
    from pyflakes.reporter import Reporter
    import io
    out, err = io.StringIO(), io.StringIO()
    for p in sorted((ROOT / "featvae").glob("*.py")): checkPath(str(p), Reporter(out, err))
    undefined = [l for l in out.getvalue().splitlines() if "undefined name" in l]
    assert not undefined, "\n".join(undefined)
