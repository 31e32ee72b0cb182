"""k-Same benchmark: seconds and peak memory of `featvae.ksame` vs a full-matrix oracle.

Each case runs in a fresh subprocess, so its peak RSS (`ru_maxrss`) is its own; it includes the ~600 MB
that importing torch takes. Data: 768-d standard normal vectors (seed 0), k = 5, leftovers dropped in both.
The oracle is the straightforward algorithm on a full float64 distance matrix, with the distance sums
updated incrementally (one column-block subtraction per group): O(N^2) memory, and already much faster
than the paper's code, which recomputes the sums every step (O(N^3/k)). The table says whether both
produced the same groups.

    python benchmarks/ksame.py                       # N = 4000, 16000, 50000; oracle up to 16000
    python benchmarks/ksame.py --sizes 4000 8000 --oracle-max 8000 --threads 2
"""
import argparse, json, os, resource, subprocess, sys, time

import numpy as np


def _data(n, d, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def oracle_clusters(X, k):
    "Full-matrix greedy k-Same (float64), sums kept incrementally; groups in formation order, leftovers -1."
    X = X.astype(np.float64)
    sq = (X * X).sum(1)
    D = X @ X.T; D *= -2; D += sq[:, None]; D += sq[None, :]
    np.maximum(D, 0, out=D); np.sqrt(D, out=D); np.fill_diagonal(D, 0)
    s = D.sum(1)
    free = np.ones(len(X), bool)
    cl = np.full(len(X), -1, np.int64)
    g_id = 0
    while free.sum() >= k:
        i = int(np.argmax(np.where(free, s, -np.inf)))
        fi = np.flatnonzero(free); fi = fi[fi != i]
        nn = fi[np.argsort(D[i, fi], kind="stable")[:k - 1]]
        g = np.r_[i, nn]
        free[g] = False; cl[g] = g_id; g_id += 1
        s -= D[:, g].sum(1)
    return cl


def _case(kind, n, d, k, threads):
    import torch
    torch.set_num_threads(threads)
    os.environ["FEATVAE_PROGRESS"] = "0"
    X = _data(n, d)
    t = time.perf_counter()
    if kind == "fast":
        from featvae.ksame import _ksame_run
        cl, stats = _ksame_run(X, k, True, "cpu", False)
    else:
        cl, stats = oracle_clusters(X, k), {}
    sec = time.perf_counter() - t
    out = dict(kind=kind, n=n, seconds=sec, peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               stats={a: b for a, b in stats.items() if isinstance(b, (int, float))})
    np.save(f"/tmp/ksame_bench_{kind}_{n}.npy", cl)
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000, 50000])
    ap.add_argument("--oracle-max", type=int, default=16000, help="largest N for the full-matrix oracle")
    ap.add_argument("--d", type=int, default=768)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--case", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        return _case(a.case[0], int(a.case[1]), a.d, a.k, a.threads)
    rows = []
    for n in a.sizes:
        for kind in (["oracle"] if n <= a.oracle_max else []) + ["fast"]:
            r = subprocess.run([sys.executable, __file__, "--case", kind, str(n), "--d", str(a.d), "--k", str(a.k),
                                "--threads", str(a.threads)], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{kind} N={n} failed:\n{r.stderr[-2000:]}"); continue
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    print(f"\nk-Same, {a.d}-d random normal, k={a.k}, {a.threads} threads, load average {os.getloadavg()[0]:.1f}")
    print(f"{'N':>7} {'method':>7} {'seconds':>9} {'peak RSS MB':>12}  same groups as oracle")
    for r in rows:
        same = ""
        if r["kind"] == "fast" and os.path.exists(f"/tmp/ksame_bench_oracle_{r['n']}.npy"):
            same = str(bool((np.load(f"/tmp/ksame_bench_oracle_{r['n']}.npy") ==
                             np.load(f"/tmp/ksame_bench_fast_{r['n']}.npy")).all()))
        print(f"{r['n']:>7} {r['kind']:>7} {r['seconds']:>9.1f} {r['peak_rss_mb']:>12.0f}  {same}")


if __name__ == "__main__":
    main()
