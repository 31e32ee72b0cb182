"""Distributed extraction in 2 CPU processes (torchrun, gloo) against one process, and resumed after a rank is killed.

Also: the GPU benchmark and the GPU check start in their CPU modes.

Data: scikit-learn's bundled digits, 101 records per split (not divisible by the 2 ranks), at 56 px with the
offline backbone, 1 thread per process. Every run has its own FEATVAE_CACHE in a temporary folder; the
converted backbone weights are linked in, not converted again.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import torch
from fastcore.xtras import modified_env

import featvae.extract as fx
from featvae.backbones import IMGFOCUS_WEIGHTS
from featvae.core import cache_dir, limit_threads
from featvae.distributed import launch, torchrun_command
from featvae.extract import embed_dataset

SPLITS, LIMIT, SIZE, SHARD = ("train", "val", "test"), 101, 56, 16
ARGS = dict(image_size=SIZE, limit=LIMIT, device="cpu")
PIECES = 3 * 8          # per split: rank 0 [0, 50) → 4 pieces of ≤ 16, rank 1 [50, 101) → 4
REAL_WEIGHTS = cache_dir("weights", create=False) / IMGFOCUS_WEIGHTS


def new_cache(root: Path, weights: Path | None = None) -> Path:
    "An empty featvae cache at `root`, with the converted backbone weights linked in when they exist."
    (root / "weights").mkdir(parents=True)
    if weights is not None and weights.exists(): (root / "weights" / IMGFOCUS_WEIGHTS).symlink_to(weights.resolve())
    return root


def env_for(cache: Path) -> dict:
    return dict(os.environ, FEATVAE_CACHE=str(cache), OMP_NUM_THREADS="1", FEATVAE_PROGRESS="0")


def read_from_cache(cache: Path) -> dict:
    "embed_dataset's result in `cache`, asserting it is a pure cache read (no data, no backbone loaded)."
    def refuse(*a, **k): raise AssertionError("embed_dataset extracted instead of reading the cache")
    saved = fx.load_dataset, fx.load_backbone
    fx.load_dataset = fx.load_backbone = refuse
    try:
        with modified_env(FEATVAE_CACHE=str(cache)): return embed_dataset("digits", **ARGS)
    finally: fx.load_dataset, fx.load_backbone = saved


def assert_same(got: dict, ref: dict, cache: Path, ref_cache: Path):
    for s in SPLITS:
        g, r = got[s], ref[s]
        np.testing.assert_allclose(g.x, r.x, rtol=0, atol=1e-4)
        np.testing.assert_array_equal(g.y, r.y)
        assert g.classes == r.classes
        assert {k: v for k, v in g.meta.items() if k != "created"} == {k: v for k, v in r.meta.items() if k != "created"}
    names = lambda c: sorted(p.relative_to(c).as_posix() for p in (c / "embeddings").rglob("*"))
    assert names(cache) == names(ref_cache), "not the same cache files as one process writes"
    leftovers = [p for p in (cache / "embeddings").rglob("*") if p.name.startswith(".") or p.name == "shards"]
    assert not leftovers, f"temporary files or pieces left behind: {leftovers}"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    "The single-process `embed_dataset` result (1 thread) and its cache."
    cache = new_cache(tmp_path_factory.mktemp("single"), REAL_WEIGHTS)
    with modified_env(FEATVAE_CACHE=str(cache), FEATVAE_PROGRESS="0"), limit_threads(1):
        ref = embed_dataset("digits", **ARGS)
    assert [len(ref[s]) for s in SPLITS] == [LIMIT] * 3
    return ref, cache


def test_two_ranks_write_what_one_process_writes(reference, tmp_path):
    ref, ref_cache = reference
    cache = new_cache(tmp_path / "dist", ref_cache / "weights" / IMGFOCUS_WEIGHTS)
    with modified_env(FEATVAE_CACHE=str(cache), OMP_NUM_THREADS="1", FEATVAE_PROGRESS="0"):
        out = launch(2, "digits", **ARGS, threads=1, capture=True)
    assert_same(read_from_cache(cache), ref, cache, ref_cache)
    assert "train" in out and "101" in out, out


def rank_process(torchrun: subprocess.Popen, rank: int, wait_s: float = 120) -> psutil.Process:
    "The worker process of `rank` below `torchrun` (found by the RANK torchrun gives it)."
    t0 = time.time()
    while time.time() - t0 < wait_s:
        for p in psutil.Process(torchrun.pid).children(recursive=True):
            try:
                if p.environ().get("RANK") == str(rank): return p
            except (psutil.NoSuchProcess, psutil.AccessDenied): pass
        assert torchrun.poll() is None, "torchrun ended before its ranks started"
        time.sleep(0.05)
    raise AssertionError(f"no rank {rank} below torchrun after {wait_s} s")


def pieces(cache: Path, lo: int = 0) -> list:
    "Finished piece files (not temporary ones) whose first record is ≥ `lo`."
    return [p for p in (cache / "embeddings" / "shards").glob("*/*.npz")
            if not p.name.startswith(".") and int(p.name.split("-")[0]) >= lo]


def test_killed_rank_resumes_and_matches(reference, tmp_path):
    ref, ref_cache = reference
    cache = new_cache(tmp_path / "dist", ref_cache / "weights" / IMGFOCUS_WEIGHTS)
    argv = ["--dataset", "digits", "--image-size", str(SIZE), "--limit", str(LIMIT), "--device", "cpu",
            "--threads", "1", "--shard-size", str(SHARD)]
    run = subprocess.Popen(torchrun_command(2, argv), env=env_for(cache), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        victim = rank_process(run, 1)
        t0 = time.time()
        while len(pieces(cache, lo=50)) < 2:           # rank 1 embeds records 50…100 of each split
            assert run.poll() is None and time.time() - t0 < 240, "rank 1 wrote no pieces"
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        rc = run.wait(timeout=120)
    finally:
        if run.poll() is None: run.kill(); run.wait()
    assert rc != 0, run.stdout.read()
    done = len(pieces(cache))
    assert 2 <= done < PIECES, done
    assert not any((cache / "embeddings").glob("*.npz")), "a split was merged although rank 1 was killed"

    with modified_env(FEATVAE_CACHE=str(cache), OMP_NUM_THREADS="1", FEATVAE_PROGRESS="0"):
        out = launch(2, "digits", **ARGS, threads=1, shard_size=SHARD, capture=True)
    rows = {l.split()[0]: l.split()[1:5] for l in out.splitlines() if l.split()[:1] in [[s] for s in SPLITS]}
    assert sorted(rows) == sorted(SPLITS), out
    assert all(r[:2] == [str(LIMIT), "8"] for r in rows.values()), rows
    reused, computed = sum(int(r[2]) for r in rows.values()), sum(int(r[3]) for r in rows.values())
    assert (reused, computed) == (done, PIECES - done), (rows, done)   # finished pieces were not embedded again
    assert_same(read_from_cache(cache), ref, cache, ref_cache)


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script, args, expect", [
    ("extract.py", ["--device", "cpu", "--n", "64", "--threads", "1"], "images_per_s"),
    ("gpu_check.py", ["--device", "cpu", "--threads", "1"], "all checks agree"),
    ("gpu_check.py", [], None),
])
def test_gpu_scripts_start_on_cpu(script, args, expect):
    "The GPU benchmark and the GPU check run in their tiny CPU modes (and the check exits cleanly without CUDA)."
    if not args and torch.cuda.is_available(): pytest.skip("CUDA is present: the no-CUDA message does not apply")
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1", FEATVAE_PROGRESS="0"))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (expect or "no CUDA device here") in r.stdout, r.stdout[-2000:]
