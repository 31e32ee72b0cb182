"""Faults a user meets, with the real `featvae` console script in separate processes: a run killed outright
(SIGKILL) and started again, two runs sharing one cache, damaged cache files. Every run works on scikit-learn's
bundled digits at 28 px with 60 records per split, in its own cache folder (`FEATVAE_CACHE`)."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from featvae.backbones import IMGFOCUS_WEIGHTS, imgfocus_onnx_path
from featvae.core import DataNotFoundError, cache_dir
from featvae.extract import Embeddings

try: imgfocus_onnx_path(verify=False)
except DataNotFoundError as e: pytest.skip(f"the offline backbone is not installed ({e})", allow_module_level=True)

FEATVAE = str(Path(sys.executable).with_name("featvae"))
SPLITS = ("train", "val", "test")
DATA = ["--dataset", "digits", "--image-size", "28", "--limit", "60", "--device", "cpu"]
EXTRACT = ["extract", *DATA]
STUDY = ["run", *DATA, "--methods", "identity", "ksame:k=2", "--seeds", "0", "--sigmas", "0",
         "--probe-max-epochs", "2", "--n-boot", "5"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    "One folder of backbone weights for every test's cache (linked to the user's converted file if there is one)."
    d = tmp_path_factory.mktemp("weights")
    real = cache_dir("weights", create=False) / IMGFOCUS_WEIGHTS
    if real.is_file(): (d / IMGFOCUS_WEIGHTS).symlink_to(real)
    return d


def new_cache(folder: Path, weights: Path, copy_from: Path|None=None) -> Path:
    "An empty featvae cache in `folder` sharing `weights` (with the embeddings and studies of `copy_from`)."
    cache = folder / "cache"
    cache.mkdir()
    (cache / "weights").symlink_to(weights)
    for sub in ("embeddings", "studies"):
        if copy_from is not None and (copy_from / sub).is_dir(): shutil.copytree(copy_from / sub, cache / sub)
    return cache


def env(cache: Path) -> dict:
    return dict(os.environ, FEATVAE_CACHE=str(cache), FEATVAE_PROGRESS="0", OMP_NUM_THREADS="1",
                OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def featvae(*args, cache: Path) -> subprocess.CompletedProcess:
    "Run `featvae *args` to the end; it must succeed."
    r = subprocess.run([FEATVAE, *map(str, args)], env=env(cache), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r


def start(*args, cache: Path) -> subprocess.Popen:
    return subprocess.Popen([FEATVAE, *map(str, args)], env=env(cache), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def kill_when(proc: subprocess.Popen, ready, timeout: float=180):
    "SIGKILL `proc` as soon as `ready()` holds; it must still be running then."
    t0 = time.monotonic()
    while not ready():
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before it could be killed: {proc.stderr.read()}"
        assert time.monotonic() - t0 < timeout, "the run never got there"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.returncode


def leftovers(*folders: Path) -> list:
    "Temporary files (`.<name>.*.tmp*`) anywhere under `folders`."
    return sorted(str(p) for f in folders for p in f.rglob(".*.tmp*"))


def assert_same_embeddings(a: Path, b: Path):
    "The files hold the same arrays, classes and provenance (all but the creation time)."
    ea, eb = Embeddings.load(a), Embeddings.load(b)
    assert np.array_equal(ea.x, eb.x) and np.array_equal(ea.y, eb.y) and ea.classes == eb.classes
    drop = lambda m: {k: v for k, v in m.items() if k != "created"}
    assert drop(ea.meta) == drop(eb.meta)


def assert_same_results(a: Path, b: Path):
    "The same rows and, timings (`*_seconds`) aside, exactly the same values."
    da, db = pd.read_csv(a), pd.read_csv(b)
    pd.testing.assert_frame_equal(da.drop(columns="value"), db.drop(columns="value"))
    timing = da["metric"].str.endswith("_seconds")
    assert timing.any() and not timing.all()
    pd.testing.assert_series_equal(da["value"][~timing], db["value"][~timing], check_exact=True)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, weights):
    "Uninterrupted runs: `featvae extract`, then the tiny study on the same cache."
    d = tmp_path_factory.mktemp("baseline")
    cache = new_cache(d, weights)
    featvae(*EXTRACT, "--out", d / "out", cache=cache)
    r = featvae(*STUDY, "--out", d / "run", cache=cache)
    assert "2 unit(s) computed, 0 from the cache" in r.stdout, r.stdout
    files = sorted(p.name for p in (cache / "embeddings").glob("*.npz"))
    assert len(files) == 3 and all(f.startswith(("digits_train_", "digits_val_", "digits_test_")) for f in files)
    return SimpleNamespace(cache=cache, out=d / "out", run=d / "run", files=files)


def test_killed_extract_resumes_to_the_same_files(baseline, weights, tmp_path):
    cache, out = new_cache(tmp_path, weights), tmp_path / "out"
    emb = cache / "embeddings"
    train = next(f for f in baseline.files if f.startswith("digits_train_"))
    val = next(f for f in baseline.files if f.startswith("digits_val_"))
    p = start(*EXTRACT, "--out", out, cache=cache)
    kill_when(p, lambda: (emb / train).exists())        # train is cached: it is embedding val now
    assert not (emb / val).exists() and not (out / "digits_train.npz").exists()
    train_written = (emb / train).stat().st_mtime_ns
    # what writers killed while writing leave: temporary files whose lock nobody holds (30 s old)
    out.mkdir(exist_ok=True)
    planted = [emb / f".{val}.killed.tmp.npz", out / ".digits_train.npz.killed.tmp.npz"]
    for f in planted:
        f.write_bytes(b"PK\x03\x04 half an npz")
        os.utime(f, (time.time() - 30,) * 2)
    featvae(*EXTRACT, "--out", out, cache=cache)
    assert (emb / train).stat().st_mtime_ns == train_written   # the finished split was kept, not redone
    assert sorted(p.name for p in emb.glob("*.npz")) == baseline.files
    for f in baseline.files: assert_same_embeddings(emb / f, baseline.cache / "embeddings" / f)
    for s in SPLITS: assert_same_embeddings(out / f"digits_{s}.npz", baseline.out / f"digits_{s}.npz")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"digits_{s}.npz" for s in SPLITS)
    assert leftovers(cache, out) == []


def test_killed_run_resumes_to_the_same_results(baseline, weights, tmp_path):
    cache, run = new_cache(tmp_path, weights), tmp_path / "run"
    p = start(*STUDY, "--out", run, cache=cache)
    kill_when(p, lambda: any((cache / "studies").rglob("identity-*.json")))   # one of its two units is done
    assert not (run / "results.csv").exists()
    r = featvae(*STUDY, "--out", run, cache=cache)
    assert "1 unit(s) computed, 1 from the cache" in r.stdout, r.stdout
    assert_same_results(run / "results.csv", baseline.run / "results.csv")
    for f in baseline.files: assert_same_embeddings(cache / "embeddings" / f, baseline.cache / "embeddings" / f)
    assert leftovers(cache, run) == []


def test_two_runs_on_one_cache(baseline, weights, tmp_path):
    cache = new_cache(tmp_path, weights)          # empty: both embed the data and compute every unit at once
    procs = [start(*STUDY, "--out", tmp_path / f"run{i}", cache=cache) for i in (0, 1)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    for i in (0, 1): assert_same_results(tmp_path / f"run{i}" / "results.csv", baseline.run / "results.csv")
    for f in baseline.files: assert_same_embeddings(cache / "embeddings" / f, baseline.cache / "embeddings" / f)
    assert leftovers(cache, tmp_path) == []


def test_truncated_cache_files_are_computed_again(baseline, weights, tmp_path):
    cache, run = new_cache(tmp_path, weights, copy_from=baseline.cache), tmp_path / "run"
    unit = next((cache / "studies").rglob("ksame*.json"))
    train = next((cache / "embeddings").glob("digits_train_*.npz"))
    for f in (unit, train): f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    r = featvae(*STUDY, "--out", run, cache=cache)
    assert "1 unit(s) computed, 1 from the cache" in r.stdout, r.stdout
    warned = [l for l in r.stderr.splitlines() if "cached embeddings" in l]
    assert len(warned) == 1 and train.name in warned[0] and "extracting them again" in warned[0], r.stderr
    assert_same_results(run / "results.csv", baseline.run / "results.csv")
    assert_same_embeddings(train, baseline.cache / "embeddings" / train.name)
    assert unit.read_text().endswith("}")            # the unit was written again, whole
    assert leftovers(cache, run) == []
