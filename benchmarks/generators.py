"""Fit time and sampling rate of featvae's generators (run by hand: `python benchmarks/generators.py`; prints a table).

Each generator of the method table is fitted on N real embeddings (Fashion-MNIST through the offline
DINOv2 ViT-S/14 at `--image-size`, 384-d, 10 classes; the val split drives early stopping and model
selection), then asked for `--n-sample` fresh vectors. With `--threads 1` the numbers are one CPU
thread's. All generators run in one process, one after the other, so their ratios are meaningful even on
a busy machine; absolute numbers are not.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("FEATVAE_PROGRESS", "0")

import numpy as np
import pandas as pd

from featvae.core import limit_threads
from featvae.extract import embed_dataset
from featvae.methods import parse_spec

SPECS = ("class_gaussian", "mfa", "sigma_cvae", "cvae", "diffusion")


def bench(spec: str, train, val, n_sample: int, seed: int = 0) -> dict:
    sp = parse_spec(spec)
    model = sp.make(seed=seed, device="cpu")
    t0 = time.perf_counter(); model.fit(*train, *val); t_fit = time.perf_counter() - t0
    counts = {int(c): n_sample // len(model.classes_) for c in model.classes_}
    model.sample({c: 10 for c in counts}, seed=1)   # warm-up
    t0 = time.perf_counter(); X, _ = model.sample(counts, seed=2); t_s = time.perf_counter() - t0
    return dict(method=spec, n_train=len(train[1]), fit_s=round(t_fit, 2), sampled=len(X),
                sample_s=round(t_s, 3), vectors_per_s=int(len(X) / t_s))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-train", type=int, default=5000, help="training records (stratified subset of the train split)")
    ap.add_argument("--image-size", type=int, default=56)
    ap.add_argument("--n-sample", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--methods", nargs="+", default=list(SPECS))
    a = ap.parse_args(argv)
    e = embed_dataset("fashionmnist", "dinov2_vits14_imgfocus", splits=("train", "val"), limit=a.n_train,
                      image_size=a.image_size, seed=0)
    train = (e["train"].x, e["train"].y)
    val = (e["val"].x[: a.n_train // 5], e["val"].y[: a.n_train // 5])
    rows = []
    with limit_threads(a.threads):
        for spec in a.methods:
            rows.append(bench(spec, train, val, a.n_sample)); print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
