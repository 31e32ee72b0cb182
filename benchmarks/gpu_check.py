"""featvae's device code run once on CUDA and once on CPU, on the same data, and checked to agree.

Checks (synthetic class-mixture features, float32, seed 0):

| check          | what is compared                                          | agreement required                  |
|----------------|-----------------------------------------------------------|-------------------------------------|
| knn            | `featvae.neighbors.knn`, exact 10-NN of a query set       | distances within 1e-4 × the largest; ≥ 99.9 % of rows the same indices (the rest: ties) |
| ksame          | `featvae.ksame.KSame(k=5)` groups                         | the same partition into groups      |
| privacy_report | `featvae.privacy.privacy_report` of the k-Same release    | every metric within 1e-4 (+1e-4 relative) |
| prdc           | `featvae.fidelity.prdc` of a noisy copy against the real  | every metric within 1e-4            |
| cvae           | `featvae.cvae.CVAEAnonymizer` fit + `sample`              | best validation loss within 5 % and precision / recall / density / coverage of the samples within 0.05 (the random streams of CUDA and CPU differ, so only the statistics can agree) |

Then, on CUDA, k-Same on `--ksame-large` records (default 50,000 × 768, the paper's setting) is timed on the
GPU alone. The table gives each check's seconds on both devices and whether they agree; the exit status is 1
if any check disagrees.

    python benchmarks/gpu_check.py                    # CUDA vs CPU (prints a message and exits 0 without CUDA)
    python benchmarks/gpu_check.py --device cpu       # CPU vs CPU, small: checks the script itself runs
    python benchmarks/gpu_check.py --n 20000 --dim 768 --ksame-large 50000 --threads 16
"""
import argparse
import sys
import time

import numpy as np
import pandas as pd
import torch

from featvae.core import limit_threads
from featvae.cvae import CVAEAnonymizer
from featvae.fidelity import prdc
from featvae.ksame import KSame
from featvae.neighbors import knn
from featvae.privacy import privacy_report

FIDELITY = ("precision", "recall", "density", "coverage")


def make_data(n, dim, classes, seed=0):
    "Train / holdout / query features of a Gaussian class mixture, with labels."
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 2, (classes, dim))
    def part(m):
        y = rng.integers(0, classes, m)
        return (means[y] + rng.normal(size=(m, dim))).astype(np.float32), y.astype(np.int64)
    (X, y), (H, yh), (Q, _) = part(n), part(max(n // 4, 20)), part(max(n // 4, 20))
    return dict(X=X, y=y, H=H, yh=yh, Q=Q)


def groups(cl):
    "The partition a k-Same labelling makes: a set of frozensets of record indices (-1: dropped)."
    return {frozenset(np.flatnonzero(cl == g).tolist()) for g in np.unique(cl)}


def run_knn(d, dev):
    return knn(d["Q"], d["X"], k=10, device=dev)


def cmp_knn(a, b):
    (da, ia), (db, ib) = a, b
    same = float((ia == ib).all(1).mean())
    err = float(np.abs(da - db).max()) / float(np.abs(db).max())
    return err <= 1e-4 and same >= 0.999, f"{100 * same:.2f} % rows same indices, max rel. distance error {err:.1e}"


def run_ksame(d, dev):
    return KSame(k=5, device=dev).fit(d["X"]).clusters_


def cmp_ksame(a, b):
    ga, gb = groups(a), groups(b)
    same = sum(len(g) for g in ga & gb) / sum(len(g) for g in gb)
    return ga == gb, f"{len(gb)} groups, {100 * same:.2f} % of records in identical groups"


def run_privacy(d, dev):
    ks = KSame(k=5, device=dev)
    released, _ = ks.fit_resample(d["X"], d["y"])
    return privacy_report(d["X"], released, d["H"], k_anonymity=5, n_boot=50, device=dev)


def cmp_metrics(a, b, atol=1e-4, rtol=1e-4):
    keys = [k for k in b if isinstance(b[k], (int, float, bool, np.floating, np.integer))]
    diff = {k: abs(float(a[k]) - float(b[k])) for k in keys}
    worst = max(diff, key=diff.get)
    ok = all(diff[k] <= atol + rtol * abs(float(b[k])) for k in keys)
    return ok, f"{len(keys)} metrics, largest difference {diff[worst]:.1e} ({worst})"


def run_prdc(d, dev):
    fake = d["X"] + np.random.default_rng(1).normal(0, 0.5, d["X"].shape).astype(np.float32)
    return prdc(d["X"], fake, k=5, device=dev)


def run_cvae(d, dev, epochs):
    m = CVAEAnonymizer(max_epochs=epochs, patience=5, device=dev, seed=0).fit(d["X"], d["y"], d["H"], d["yh"])
    Xs, _ = m.sample(d["yh"], seed=0)
    return dict(val_loss=float(m.history_["val_loss"].min()), **prdc(d["H"], Xs, k=5, device=dev))


def cmp_cvae(a, b):
    rel = abs(a["val_loss"] - b["val_loss"]) / abs(b["val_loss"])
    fid = max(abs(a[k] - b[k]) for k in FIDELITY)
    return rel <= 0.05 and fid <= 0.05, f"best val loss {a['val_loss']:.4g} vs {b['val_loss']:.4g}, fidelity max |Δ| {fid:.3f}"


def timed(fn, *a):
    if torch.cuda.is_available(): torch.cuda.synchronize()
    t = time.perf_counter()
    out = fn(*a)
    if torch.cuda.is_available(): torch.cuda.synchronize()
    return out, time.perf_counter() - t


def check_all(d, dev, args):
    "One table row per check: seconds on `dev` and on the CPU, and whether the results agree."
    cases = [("knn", run_knn, cmp_knn), ("ksame", run_ksame, cmp_ksame), ("privacy_report", run_privacy, cmp_metrics),
             ("prdc", run_prdc, lambda a, b: cmp_metrics(a, b, rtol=0)),
             ("cvae", lambda d, v: run_cvae(d, v, args.cvae_epochs), cmp_cvae)]
    rows = []
    for name, run, cmp in cases:
        a, ta = timed(run, d, dev)
        with limit_threads(args.threads): b, tb = timed(run, d, "cpu")
        ok, detail = cmp(a, b)
        rows.append(dict(check=name, device_s=round(ta, 2), cpu_s=round(tb, 2), agree=ok, detail=detail))
        print(rows[-1], flush=True)
    return rows


def ksame_large(n, dim, dev):
    "Seconds of k-Same (k = 5, the paper's drop_remainder) on `n` × `dim` standard normal vectors on `dev`."
    X = np.random.default_rng(0).normal(size=(n, dim)).astype(np.float32)
    cl, dt = timed(lambda: KSame(k=5, drop_remainder=True, device=dev).fit(X).clusters_)
    sizes = np.bincount(cl[cl >= 0])
    ok = sizes.min() >= 5 and (cl >= 0).sum() == n - n % 5
    return dict(check=f"ksame N={n:,} d={dim}", device_s=round(dt, 1), cpu_s=float("nan"), agree=bool(ok),
                detail=f"{len(sizes)} groups, smallest {sizes.min()} (device only)")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", help="the device to check against the CPU (cpu: a quick self-test)")
    ap.add_argument("--n", type=int, default=None, help="training records (default: 8000 on CUDA, 600 on CPU)")
    ap.add_argument("--dim", type=int, default=None, help="feature dimension (default: 384 on CUDA, 32 on CPU)")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--cvae-epochs", type=int, default=None, help="CVAE epoch limit (default: 40 on CUDA, 5 on CPU)")
    ap.add_argument("--ksame-large", type=int, default=None, help="k-Same records timed on the device (default: 50000 on CUDA, none on CPU)")
    ap.add_argument("--ksame-large-dim", type=int, default=768)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads of the CPU runs (default: torch's)")
    a = ap.parse_args()
    cuda = a.device.startswith("cuda")
    a.n, a.dim = a.n or (8000 if cuda else 600), a.dim or (384 if cuda else 32)
    a.cvae_epochs = a.cvae_epochs or (40 if cuda else 5)
    a.ksame_large = (50000 if cuda else 0) if a.ksame_large is None else a.ksame_large
    return a


def main():
    args = parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: nothing to check against the CPU "
              "(run with --device cpu to check that this script itself runs)")
        return 0
    dev = args.device if args.device != "cuda" else "cuda:0"
    name = torch.cuda.get_device_name(dev) if dev.startswith("cuda") else "cpu"
    print(f"{name} vs cpu: N={args.n}, d={args.dim}, {args.classes} classes", flush=True)
    rows = check_all(make_data(args.n, args.dim, args.classes), dev, args)
    if args.ksame_large: rows.append(ksame_large(args.ksame_large, args.ksame_large_dim, dev)); print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    print()
    with pd.option_context("display.max_colwidth", 90): print(df.to_string(index=False))
    bad = df.loc[~df["agree"], "check"].tolist()
    print("\nall checks agree" if not bad else f"\nDISAGREE: {', '.join(bad)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
