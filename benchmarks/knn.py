"""Benchmark featvae.neighbors.knn: exactness and speed vs scikit-learn brute force, and the 60k × 60k × 768 case.

Run by hand:  .venv/bin/python benchmarks/knn.py [--skip-large] [--large-n 60000] [--dim 768] [--block 4096]

Prints one table. Peak memory is the process's peak RSS growth during each call (psutil sampling thread),
so it includes the inputs' device copies and the per-block temporaries; the inputs themselves are listed.
The machine is shared and noisy: compare ratios measured in the same run; CPU seconds (user+sys of this
process, all threads) are steadier than wall seconds when other jobs compete for the cores.
"""
import argparse
import threading
import time

import numpy as np
import psutil
import torch

from featvae.neighbors import knn


class PeakRSS:
    "Sample this process's RSS every 20 ms; `.peak_mb` is the growth over the starting RSS."
    def __enter__(self):
        self.p, self.stop = psutil.Process(), False
        self.start = self.peak = self.p.memory_info().rss
        def run():
            while not self.stop:
                self.peak = max(self.peak, self.p.memory_info().rss); time.sleep(0.02)
        self.t = threading.Thread(target=run, daemon=True); self.t.start()
        return self
    def __exit__(self, *a):
        self.stop = True; self.t.join()
        self.peak = max(self.peak, self.p.memory_info().rss)
        self.peak_mb = (self.peak - self.start) / 2**20


def brute64(Qs, R):
    "Float64 distance matrix of a few queries to all of R (expansion in float64: ample precision)."
    Qs, R = Qs.astype(np.float64), R.astype(np.float64)
    d2 = (Qs**2).sum(1)[:, None] + (R**2).sum(1)[None] - 2 * Qs @ R.T
    return np.sqrt(np.clip(d2, 0, None))


def timed(f):
    with PeakRSS() as m:
        t, c = time.perf_counter(), time.process_time(); out = f()
        dt, dc = time.perf_counter() - t, time.process_time() - c
    return out, (dt, dc), m.peak_mb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--large-n", type=int, default=60000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--mid-n", type=int, default=20000)
    ap.add_argument("--mid-dim", type=int, default=384)
    ap.add_argument("--block", type=int, default=4096)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--skip-self", action="store_true", help="skip the large exclude_self run")
    a = ap.parse_args()
    from sklearn.neighbors import NearestNeighbors
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device cpu")
    rows = []
    rng = np.random.default_rng(0)

    # 1) exactness and speed vs scikit-learn brute force (float64 internally for float32 input? it upcasts in chunks)
    n, d = a.mid_n, a.mid_dim
    Q = rng.normal(size=(n, d)).astype(np.float32); R = rng.normal(size=(n, d)).astype(np.float32)
    (dk, ik), t_ours, m_ours = timed(lambda: knn(Q, R, k=a.k, block=a.block, device="cpu"))
    nn = NearestNeighbors(n_neighbors=a.k, algorithm="brute").fit(R)
    (ds, is_), t_sk, m_sk = timed(lambda: nn.kneighbors(Q))
    same_idx = float((ik == is_).mean())
    max_dd = float(np.abs(dk - ds).max())
    # float64 ground truth on a subset of queries, to judge any index disagreements
    sub = slice(0, 500)
    full = brute64(Q[sub], R)
    exact_ours = float(np.abs(np.sort(full, 1)[:, :a.k] - dk[sub]).max())
    idx64 = float((np.argsort(full, 1)[:, :a.k] == ik[sub]).mean())
    rows.append((f"{n}x{n}x{d} k={a.k}", "featvae knn", t_ours, m_ours, f"idx = sklearn {same_idx:.5f}, max |Δd| {max_dd:.1e}; vs float64 (500 q): idx {idx64:.4f}, |Δd| {exact_ours:.1e}"))
    rows.append((f"{n}x{n}x{d} k={a.k}", "sklearn brute", t_sk, m_sk, f"wall ratio sklearn/featvae {t_sk[0] / t_ours[0]:.2f}, CPU ratio {t_sk[1] / t_ours[1]:.2f}"))
    del Q, R, full

    # 2) the large case
    if not a.skip_large:
        n, d = a.large_n, a.dim
        Q = rng.normal(size=(n, d)).astype(np.float32)
        R = rng.normal(size=(n, d)).astype(np.float32)
        inputs_mb = (Q.nbytes + R.nbytes) / 2**20
        (dk, ik), t_big, m_big = timed(lambda: knn(Q, R, k=1, block=a.block, device="cpu", show_progress=True))
        # spot check 200 queries against float64 brute force
        idx = rng.choice(n, 200, replace=False)
        bf = brute64(Q[idx], R)
        ok = float((bf.argmin(1) == ik[idx, 0]).mean())
        rows.append((f"{n}x{n}x{d} k=1", "featvae knn", t_big, m_big,
                     f"inputs {inputs_mb:.0f} MB; spot-check idx agree {ok:.3f}, max |Δd| {np.abs(bf.min(1) - dk[idx, 0]).max():.1e}"))
        if a.skip_self: return print_table(rows)
        (dk, ik), t_self, m_self = timed(lambda: knn(Q, Q, k=2, block=a.block, device="cpu", exclude_self=True))
        rows.append((f"{n}x{n}x{d} k=2 self", "featvae knn exclude_self", t_self, m_self, ""))

    print_table(rows)


def print_table(rows):
    w = max(len(r[0]) for r in rows)
    print(f"{'case':<{w}}  {'method':<26} {'wall s':>7} {'CPU s':>7} {'peak ΔRSS MB':>13}  notes")
    for case, meth, (t, c), m, note in rows:
        print(f"{case:<{w}}  {meth:<26} {t:7.1f} {c:7.1f} {m:13.0f}  {note}")


if __name__ == "__main__":
    main()
