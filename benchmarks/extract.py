"""Images per second of featvae's backbones.

CPU: the default backbone (dinov2_vits14_imgfocus, pretrained weights) at 56/112/224 px.
CUDA (when present): dinov2_vitb14 with random weights (speed does not depend on them) in fp32 vs bf16 autocast
at 224 and 518 px.

Run by hand: `python benchmarks/extract.py [--threads 4] [--n 256] [--batch-size 64] [--sizes 56 112 224]`.
`--threads` sets torch's CPU thread count once, at start-up (default: every core of this machine).
Every configuration is timed in this one run (one warm-up batch first), so the ratios between rows are
comparable even on a noisy machine; absolute numbers are not.
"""
import argparse
import os
import time

import numpy as np
import pandas as pd
import torch

from featvae.backbones import DEFAULT_BACKBONE, load_backbone


def images_per_s(bb, images, batch_size, repeats=1):
    "Best-of-`repeats` images/s of `bb.embed` on `images` after one warm-up batch."
    bb.embed(images[:batch_size], batch_size=batch_size, progress=False)
    if bb.device.type == "cuda": torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        bb.embed(images, batch_size=batch_size, progress=False)
        if bb.device.type == "cuda": torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return len(images) / best, best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=256, help="images per CPU measurement")
    ap.add_argument("--n-gpu", type=int, default=2048, help="images per GPU measurement")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--sizes", type=int, nargs="+", default=[56, 112, 224])
    ap.add_argument("--gpu-sizes", type=int, nargs="+", default=[224, 518])
    ap.add_argument("--no-cpu", action="store_true", help="skip the CPU measurements")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="torch CPU threads for the whole run (default: every core, %(default)s here)")
    args = ap.parse_args()
    if args.threads < 1: ap.error(f"--threads must be at least 1, got {args.threads}")
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    rows = []
    if not args.no_cpu:
        threads = torch.get_num_threads()
        imgs = rng.integers(0, 256, (args.n, 28, 28, 1), dtype=np.uint8)   # Fashion-MNIST-shaped input
        for size in args.sizes:
            bb = load_backbone(DEFAULT_BACKBONE, image_size=size, device="cpu")
            ips, sec = images_per_s(bb, imgs, args.batch_size)
            rows.append(dict(device=f"cpu ({threads} threads)", backbone=DEFAULT_BACKBONE, image_size=size,
                             precision="fp32", n=len(imgs), seconds=round(sec, 2), images_per_s=round(ips, 1),
                             s_per_64=round(64 / ips, 2)))
            print(rows[-1], flush=True)
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name()
        imgs = torch.from_numpy(rng.integers(0, 256, (args.n_gpu, 28, 28, 1), dtype=np.uint8))
        for size in args.gpu_sizes:
            bb = load_backbone("dinov2_vitb14", image_size=size, device="cuda", pretrained=False)
            for amp in (False, True):
                bb.amp = amp
                ips, sec = images_per_s(bb, imgs, args.batch_size, repeats=2)
                rows.append(dict(device=name, backbone="dinov2_vitb14 (random weights)", image_size=size,
                                 precision="bf16" if amp else "fp32", n=len(imgs), seconds=round(sec, 2),
                                 images_per_s=round(ips, 1), s_per_64=round(64 / ips, 3)))
                print(rows[-1], flush=True)
    else:
        print("no CUDA device: GPU rows skipped")
    df = pd.DataFrame(rows)
    print()
    print(df.to_string(index=False))
    if len(df):
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"\n1-min load average at the end: {load:.1f} (numbers are only comparable within one run)")


if __name__ == "__main__":
    main()
