"""A canary audit of the DP statistics generators on the default study's data (run by hand:
`python benchmarks/canary.py`; prints a table).

The worst case for a release is an outlier: one record far from every other one. The canary is the mean
of the training split moved 100 units along its feature of least variance, joined to class 0.
`featvae.dp.canary_audit` fits each model `--trials` times with the canary and `--trials` times without it
(fresh noise each time), scores each release by a statistic of its class-0 vectors along that feature (their
mean, or their spread: the canary inflates that feature's variance, which these models store per feature),
and reports the AUC of telling the two worlds apart beside the largest AUC any attack can reach at the
model's (ε, δ). ε = ∞ (no noise) shows how visible the canary is when nothing hides it. One thread; each
row costs 2 × trials fits.
"""
from __future__ import annotations

import argparse
import itertools
import math
import os
import time

os.environ.setdefault("FEATVAE_PROGRESS", "0")

import numpy as np
import pandas as pd

from featvae.core import limit_threads
from featvae.dp import canary_audit
from featvae.experiment import DEFAULT_STUDY
from featvae.extract import embed_dataset
from featvae.methods import parse_spec


def canary_of(X: np.ndarray, distance: float = 100.0) -> np.ndarray:
    "The mean of `X` moved `distance` along its feature of least variance."
    c = X.mean(0).astype(np.float64)
    c[int(np.argmin(X.var(0)))] += distance
    return c.astype(np.float32)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", nargs="+", default=["dp_gaussian", "dp_mfa"])
    ap.add_argument("--epsilons", nargs="+", type=float, default=[1.0, 3.0, 10.0, math.inf])
    ap.add_argument("--statistics", nargs="+", default=["mean", "spread"])
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    e = embed_dataset(DEFAULT_STUDY["dataset"], DEFAULT_STUDY["backbone"], splits=("train",), limit=DEFAULT_STUDY["limit"],
                      image_size=DEFAULT_STUDY["image_size"], seed=0)["train"]
    X, y = e.x, e.y
    canary = canary_of(X)
    rows = []
    with limit_threads(a.threads):
        for method, eps, stat in itertools.product(a.methods, a.epsilons, a.statistics):
            spec = parse_spec(f"{method}:epsilon={eps:g}")
            t0 = time.perf_counter()
            r = canary_audit(lambda s: spec.make(seed=s), X, y, canary, 0, n_trials=a.trials, statistic=stat)
            rows.append(dict(method=method, epsilon=eps, statistic=stat, canary_auc=round(r["canary_auc"], 3),
                             bound=round(r["bound"], 3), epsilon_spent=round(r["epsilon_spent"], 3), trials=a.trials,
                             seconds=round(time.perf_counter() - t0, 1)))
            print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
