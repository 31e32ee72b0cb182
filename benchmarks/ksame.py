"""k-Same benchmark: seconds and peak memory of `featvae.ksame.KSame` vs a full-matrix oracle.

Each case runs in a fresh subprocess, so its peak RSS (`ru_maxrss`) is its own; it includes the ~600 MB
that importing torch takes. Data: 768-d standard normal vectors (seed 0), k = 5, the paper's setting in
both (`drop_remainder=True`: the last N mod k records are dropped before clustering). The oracle is the
straightforward algorithm on a full float64 distance matrix, with the distance sums updated incrementally
(one column-block subtraction per group): O(N^2) memory, and already much faster than the paper's code,
which recomputes the sums every step (O(N^3/k)). The table says whether both produced the same groups.
Each case runs inside `featvae.core.limit_threads(--threads)`.

    python benchmarks/ksame.py                       # N = 4000, 16000, 50000; oracle up to 16000
    python benchmarks/ksame.py --sizes 4000 8000 --oracle-max 8000 --threads 2
    python benchmarks/ksame.py --sizes 50000 --oracle-max 0 --device cuda
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time

import numpy as np


def _data(n, d, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def oracle_clusters(X, k):
    "Full-matrix greedy k-Same (float64) on the first N - (N mod k) records; groups in formation order, dropped -1."
    n = len(X) - len(X) % k                      # the paper: the last N mod k records are dropped first
    A = X[:n].astype(np.float64)
    sq = (A * A).sum(1)
    D = A @ A.T; D *= -2; D += sq[:, None]; D += sq[None, :]
    np.maximum(D, 0, out=D); np.sqrt(D, out=D); np.fill_diagonal(D, 0)
    s = D.sum(1)
    free = np.ones(n, bool)
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


def _case(kind, n, d, k, threads, device, out_dir):
    from featvae.core import limit_threads
    from featvae.ksame import KSame
    X = _data(n, d)
    with limit_threads(threads):
        t = time.perf_counter()
        if kind == "fast":
            ks = KSame(k=k, drop_remainder=True, device=device).fit(X)
            cl, stats = ks.clusters_, ks.stats_[0]
        else:
            cl, stats = oracle_clusters(X, k), {}
        sec = time.perf_counter() - t
    out = dict(kind=kind, n=n, seconds=sec, peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               stats={a: b for a, b in stats.items() if isinstance(b, (int, float))})
    np.save(os.path.join(out_dir, f"{kind}_{n}.npy"), cl)
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description="Time featvae's k-Same against a full-matrix oracle (each case in a fresh process).")
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000, 50000], help="numbers of records N")
    ap.add_argument("--oracle-max", type=int, default=16000, help="largest N for the full-matrix oracle (0: never)")
    ap.add_argument("--d", type=int, default=768, help="dimensions")
    ap.add_argument("--k", type=int, default=5, help="group size")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)), help="CPU threads (torch and BLAS)")
    ap.add_argument("--device", default="cpu", help="torch device of KSame: cpu, cuda, ...")
    ap.add_argument("--case", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        return _case(a.case[0], int(a.case[1]), a.d, a.k, a.threads, a.device, a.case[2])
    rows = []
    env = {**os.environ, "FEATVAE_PROGRESS": "0"}
    with tempfile.TemporaryDirectory(prefix="ksame_bench_") as tmp:
        for n in a.sizes:
            for kind in (["oracle"] if n <= a.oracle_max else []) + ["fast"]:
                r = subprocess.run([sys.executable, __file__, "--case", kind, str(n), tmp, "--d", str(a.d), "--k", str(a.k),
                                    "--threads", str(a.threads), "--device", a.device], capture_output=True, text=True, env=env)
                if r.returncode != 0:
                    print(f"{kind} N={n} failed:\n{r.stderr[-2000:]}"); continue
                rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
                print(json.dumps(rows[-1]), flush=True)
        print(f"\nk-Same, {a.d}-d random normal, k={a.k}, device {a.device}, {a.threads} CPU threads, "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"{'N':>7} {'method':>7} {'seconds':>9} {'peak RSS MB':>12}  same groups as oracle")
        for r in rows:
            same, f_or = "", os.path.join(tmp, f"oracle_{r['n']}.npy")
            if r["kind"] == "fast" and os.path.exists(f_or):
                same = str(bool((np.load(f_or) == np.load(os.path.join(tmp, f"fast_{r['n']}.npy"))).all()))
            print(f"{r['n']:>7} {r['kind']:>7} {r['seconds']:>9.1f} {r['peak_rss_mb']:>12.0f}  {same}")


if __name__ == "__main__":
    main()
