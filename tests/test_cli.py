"""The installed `featvae` console script, run as a user would run it (a separate process)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

FEATVAE = shutil.which("featvae") or str(Path(sys.executable).with_name("featvae"))


def run(*args, env=None, timeout=600):
    e = dict(os.environ, FEATVAE_PROGRESS="0", **(env or {}))
    return subprocess.run([FEATVAE, *args], capture_output=True, text=True, timeout=timeout, env=e)


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("featvae "), r
    r = run("--help")
    assert r.returncode == 0
    for sub in ("datasets", "backbones", "extract", "run"):
        assert sub in r.stdout


def test_listings_say_what_runs_offline():
    r = run("datasets")
    assert r.returncode == 0, r.stderr
    assert "fashionmnist" in r.stdout and "medmnist/breastmnist" in r.stdout
    r = run("backbones")
    assert r.returncode == 0, r.stderr
    assert "dinov2_vits14_imgfocus" in r.stdout and "dinov2_vitb14" in r.stdout


def test_extract_writes_one_file_per_split(tmp_path):
    r = run("extract", "--dataset", "digits", "--image-size", "56", "--limit", "300", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["digits_test.npz", "digits_train.npz", "digits_val.npz"], files
    for f in files: assert str(tmp_path / f) in r.stdout
    from featvae.extract import Embeddings
    e = Embeddings.load(tmp_path / "digits_train.npz")
    assert e.x.shape == (300, 384) and e.x.dtype == np.float32 and np.isfinite(e.x).all()
    assert sorted(np.unique(e.y)) == list(range(10))


def test_errors_are_one_line_not_tracebacks(tmp_path):
    r = run("extract", "--dataset", "nope", "--out", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("featvae: error:") and "fashionmnist" in r.stderr
    r = run("extract", "--dataset", "medmnist/breastmnist", "--root", str(tmp_path), "--out", str(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "breastmnist" in r.stderr and "download" in r.stderr


def test_hub_backbone_fails_fast_offline(tmp_path):
    import time
    t0 = time.time()
    r = run("extract", "--dataset", "digits", "--backbone", "dinov2_vitb14", "--limit", "20", "--out", str(tmp_path),
            env={"HF_HUB_OFFLINE": "1"})
    assert r.returncode == 2, r.stderr
    assert "dinov2_vits14_imgfocus" in r.stderr, r.stderr
    assert time.time() - t0 < 45
