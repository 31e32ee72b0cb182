"""Fit time of the differentially private generators against their non-private twins (run by hand:
`python benchmarks/dp.py`; prints a table).

Every pair is fitted on the default study's training split (Fashion-MNIST through the offline DINOv2
ViT-S/14, `DEFAULT_STUDY`'s limit and image size, 384-d, 10 classes), one after the other in one process
with `--threads` torch/BLAS threads, so the ratios are meaningful on a busy machine and the absolute
numbers are not. The non-private models get the val split (early stopping, model selection); the DP
models never read it (fixed training length). `calibrate_s` is the time the accountant takes to find
the noise multiplier (part of `fit_s`).
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("FEATVAE_PROGRESS", "0")

import pandas as pd

from featvae.core import limit_threads
from featvae.dp import noise_for_budget
from featvae.experiment import DEFAULT_STUDY
from featvae.extract import embed_dataset
from featvae.methods import parse_spec

PAIRS = (("class_gaussian", "dp_gaussian"), ("cvae", "dp_cvae"), ("sigma_cvae", "dp_sigma_cvae"))


def fit_time(spec: str, train, val, seed: int = 0) -> tuple:
    model = parse_spec(spec).make(seed=seed, device="cpu")
    t0 = time.perf_counter()
    model.fit(*train, *val)
    return model, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epsilon", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=DEFAULT_STUDY["limit"])
    ap.add_argument("--image-size", type=int, default=DEFAULT_STUDY["image_size"])
    a = ap.parse_args(argv)
    e = embed_dataset(DEFAULT_STUDY["dataset"], DEFAULT_STUDY["backbone"], splits=("train", "val"), limit=a.limit,
                      image_size=a.image_size, seed=0)
    train, val = (e["train"].x, e["train"].y), (e["val"].x, e["val"].y)
    rows = []
    with limit_threads(a.threads):
        for plain, dp in PAIRS:
            _, t_plain = fit_time(plain, train, val)
            m, t_dp = fit_time(f"{dp}:epsilon={a.epsilon:g}", train, val)
            rep = m.privacy_
            q, steps = (m._planned_steps(len(train[1])) if hasattr(m, "_planned_steps") else (1.0, 1))
            t0 = time.perf_counter()
            noise_for_budget(a.epsilon, rep["delta"], q, steps, fixed=m.ledger_.history[:-1] if steps > 1 else (),
                             accountant=rep["accountant"])
            rows.append(dict(method=plain, dp_method=dp, n_train=len(train[1]), fit_s=round(t_plain, 2),
                             dp_fit_s=round(t_dp, 2), ratio=round(t_dp / t_plain, 2), dp_steps=getattr(m, "steps_", None),
                             calibrate_s=round(time.perf_counter() - t0, 2), epsilon_spent=round(rep["epsilon_spent"], 4)))
            print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
