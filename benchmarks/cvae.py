"""Benchmarks of `featvae.cvae` (run by hand: `python benchmarks/cvae.py`; prints a table).

1. Online generation: samples/s of `CVAEAnonymizer.stream` (one decoder call per batch) against a
   per-sample loop (one decoder call per sample, as the paper's code generates), same fitted network.
2. Training: seconds per epoch of `CVAEAnonymizer.fit` (whole tensors on the device, index-permutation
   batches) against a plain `torch.utils.data.DataLoader` over a `TensorDataset` with the same model,
   loss, optimiser, batch size and validation pass, at N = 10,000 and D = 768.

Both comparisons run in one process, one after the other, so their ratio is meaningful even on a busy
machine; absolute numbers are not.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

os.environ.setdefault("FEATVAE_PROGRESS", "0")

import featvae.core as core
from featvae.cvae import CVAEAnonymizer, CVAEDecoder, CVAEEncoder, cvae_loss
from featvae.neighbors import Standardizer


def mixture(n, d, c, seed=0):
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 1, (c, d))
    y = rng.integers(0, c, n)
    return (means[y] + 0.5 * rng.standard_normal((n, d))).astype(np.float32), y


def bench_stream(model, n_stream, n_loop, batch_size):
    dev = model.device_
    # batched: one decoder call per batch
    it = model.stream(batch_size, seed=0)
    next(it)                                                # warm-up
    if dev.type == "cuda": torch.cuda.synchronize()
    t = time.perf_counter(); got = 0
    while got < n_stream:
        x, y = next(it); got += len(x)
    if dev.type == "cuda": torch.cuda.synchronize()
    t_stream = time.perf_counter() - t
    # per-sample: the paper code's way (draw a label, a z, decode one vector, map back)
    rng = np.random.default_rng(0)
    C, L = len(model.classes_), model.latent_dim
    shift, scale = (torch.as_tensor(a, device=dev) for a in (model.scaler_.shift_, model.scaler_.scale_))
    out = []
    if dev.type == "cuda": torch.cuda.synchronize()
    t = time.perf_counter()
    with torch.no_grad():
        for _ in range(n_loop):
            c = rng.choice(C, p=model.class_freq_)
            z = torch.randn(1, L, device=dev)
            onehot = F.one_hot(torch.tensor([c], device=dev), C).float()
            out.append((model.decoder_(z, onehot) * scale + shift).cpu().numpy())
    if dev.type == "cuda": torch.cuda.synchronize()
    t_loop = time.perf_counter() - t
    return n_stream / t_stream, n_loop / t_loop


def fit_dataloader(X, y, Xv, yv, *, epochs, batch_size=512, hidden_dim=256, latent_dim=50, lr=1e-3, beta=0.1, device="cpu", seed=0):
    "The textbook loop: DataLoader(TensorDataset) batches, same model / loss / optimiser, validation each epoch."
    from torch.utils.data import DataLoader, TensorDataset
    dev = torch.device(device)
    C = int(max(y.max(), yv.max()) + 1)
    sc = Standardizer("minmax").fit(X)
    torch.manual_seed(seed)
    enc, dec = CVAEEncoder(X.shape[1], C, hidden_dim, latent_dim).to(dev), CVAEDecoder(X.shape[1], C, hidden_dim, latent_dim).to(dev)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=lr)
    tr = DataLoader(TensorDataset(torch.as_tensor(sc.transform(X)), F.one_hot(torch.as_tensor(y), C).float()), batch_size=batch_size, shuffle=True)
    va = DataLoader(TensorDataset(torch.as_tensor(sc.transform(Xv)), F.one_hot(torch.as_tensor(yv), C).float()), batch_size=batch_size)
    t = time.perf_counter()
    for _ in range(epochs):
        enc.train(); dec.train()
        for xb, cb in tr:
            xb, cb = xb.to(dev), cb.to(dev)
            mu, ls = enc(xb, cb)
            loss = cvae_loss(xb, dec(mu + ls.exp() * torch.randn_like(mu), cb), mu, ls, beta)[0]
            opt.zero_grad(); loss.backward(); opt.step()
        enc.eval(); dec.eval()
        with torch.no_grad():
            for xb, cb in va:
                xb, cb = xb.to(dev), cb.to(dev)
                mu, ls = enc(xb, cb)
                cvae_loss(xb, dec(mu + ls.exp() * torch.randn_like(mu), cb), mu, ls, beta)[0].item()
    if dev.type == "cuda": torch.cuda.synchronize()
    return (time.perf_counter() - t) / epochs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch and BLAS CPU threads for the whole run (default: leave torch's setting; 1 is fastest for this network)")
    ap.add_argument("--n-stream", type=int, default=200_000)
    ap.add_argument("--n-loop", type=int, default=5_000)
    ap.add_argument("--stream-batch", type=int, default=1024)
    ap.add_argument("--n-fit", type=int, default=10_000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--epochs", type=int, default=5)
    a = ap.parse_args()
    with core.limit_threads(a.threads):   # set once at start-up, for the whole run
        run(a)


def run(a):
    dev = core.get_device(a.device)
    print(f"device {dev}, torch {torch.__version__}, threads {torch.get_num_threads()}")

    X, y = mixture(a.n_fit, a.dim, 10)
    rows = []
    # training: featvae's fit (early stopping off: patience = epochs) vs DataLoader loop, same 90/10 split size
    CVAEAnonymizer(max_epochs=1, device=dev).fit(X[:2000], y[:2000])       # warm-up (first-call allocations)
    fit_dataloader(X[:1800], y[:1800], X[1800:2000], y[1800:2000], epochs=1, device=dev)
    m = CVAEAnonymizer(max_epochs=a.epochs, patience=a.epochs, device=dev, seed=0)
    t = time.perf_counter(); m.fit(X, y); t_fit = (time.perf_counter() - t) / a.epochs
    n_va = a.n_fit // 10
    t_dl = fit_dataloader(X[n_va:], y[n_va:], X[:n_va], y[:n_va], epochs=a.epochs, device=dev)
    rows.append(dict(benchmark=f"fit, s/epoch (N={a.n_fit}, D={a.dim}, batch 512)", featvae=t_fit, baseline=t_dl,
                     baseline_is="DataLoader(TensorDataset)", speedup=t_dl / t_fit))
    # generation with the fitted network
    s_stream, s_loop = bench_stream(m, a.n_stream, a.n_loop, a.stream_batch)
    rows.append(dict(benchmark=f"online generation, samples/s (D={a.dim}, stream batch {a.stream_batch})", featvae=s_stream,
                     baseline=s_loop, baseline_is="one decoder call per sample", speedup=s_stream / s_loop))
    with pd.option_context("display.width", 200, "display.max_colwidth", 60, "display.float_format", "{:,.4g}".format):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
