"""Images per second and achieved TFLOP/s of featvae's extraction: `Backbone.embed` and the GPU fast path.

Two paths are timed per image size, in this one run (after a warm-up), on the same images:

* `embed`: `Backbone.embed`, what `featvae.extract.extract` runs (on CUDA it already uses bf16 autocast,
  a channels-last model and pinned batches);
* `fast`: a `torch.utils.data.DataLoader` whose workers decode the images (`--source png`: PNG bytes decoded
  with PIL, as from an archive; `--source array`: uint8 arrays), pinned memory and non-blocking copies, the
  resize and normalisation once per image on the device (`Backbone.preprocess`), bf16 autocast (`--amp`),
  channels-last input and model (`--channels-last`), optionally `torch.compile` (`--compile`), and a batch
  size per device (`--batch-size N`, or `auto`: the largest power of two up to 1024 that fits on the GPU).

FLOPs per image are counted, not guessed: `torch.utils.flop_counter.FlopCounterMode` around one forward pass of
one image at that size, with attention through PyTorch's math kernel so its matrix products are counted too
(DINOv2 ViT-B/14: 46.3 GFLOP at 224 px, 303 GFLOP at 518 px; ViT-S/14 at 56 px: 0.73 GFLOP). A
multiply-add counts as 2 FLOPs. Achieved TFLOP/s = images/s × FLOPs per image, and `--peak-tflops` gives the
device's peak to compare with: NVIDIA H200 (and H100 SXM) bf16 dense ≈ 989 TFLOP/s (the data sheet's 1,979
is with 2:4 sparsity); A100 bf16 dense 312. The `cos_min` column is the smallest cosine similarity between the
fast path's vectors and fp32 `embed` vectors of the first batch (bf16 costs a little precision).

    python benchmarks/extract.py --device cpu --n 64                           # tiny CPU run (ViT-S/14, 56 px)
    python benchmarks/extract.py --device cuda --n 8192 --sizes 224 518 --batch-size auto \\
        --workers 8 --source png --compile --peak-tflops 989                   # DINOv2 ViT-B/14, random weights

On CUDA the default backbone is `dinov2_vitb14` with random weights (`--random-weights`; speed does not depend
on the weights, and they need no download). `--threads` sets torch's CPU threads for the whole run.
"""
import argparse
import io
import os
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from featvae.backbones import DEFAULT_BACKBONE, load_backbone


def flops_per_image(model, size, device):
    "FLOPs of one forward pass of `model` on one `size`×`size` image, counted by FlopCounterMode (math attention)."
    x = torch.zeros(1, 3, size, size, device=device)
    with torch.inference_mode(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:
        model(x)
    return fc.get_total_flops()


def make_images(n, size, channels, seed=0):
    "Random uint8 source images N×H×W×C (structured enough that PNG does not store raw noise)."
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, size // 4 + 1, size // 4 + 1, channels), dtype=np.uint8)
    img = np.repeat(np.repeat(base, 4, 1), 4, 2)[:, :size, :size]
    return np.ascontiguousarray(img + rng.integers(0, 8, img.shape, dtype=np.uint8))


def encode_png(images):
    "Every image as PNG bytes (what an archive of files holds)."
    from PIL import Image
    out = []
    for im in images:
        buf = io.BytesIO()
        Image.fromarray(im[..., 0] if im.shape[-1] == 1 else im).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


class Batches(Dataset):
    "Batch `i` of the source as a uint8 tensor B×H×W×C; PNG bytes are decoded here, in the loader's workers."
    def __init__(self, source, batch_size):
        self.source, self.batch_size = source, batch_size
    def __len__(self): return (len(self.source) + self.batch_size - 1) // self.batch_size
    def __getitem__(self, i):
        part = self.source[i * self.batch_size:(i + 1) * self.batch_size]
        if isinstance(part, np.ndarray): return torch.from_numpy(part)
        from PIL import Image
        arrs = [np.asarray(Image.open(io.BytesIO(b))) for b in part]
        return torch.from_numpy(np.stack([a[..., None] if a.ndim == 2 else a for a in arrs]))


def loader(source, batch_size, workers, pin):
    "A DataLoader over whole batches (no per-image collate), decoding in `workers` processes."
    return DataLoader(Batches(source, batch_size), batch_size=None, shuffle=False, num_workers=workers,
                      pin_memory=pin, persistent_workers=False, prefetch_factor=4 if workers else None)


def sync(device):
    if device.type == "cuda": torch.cuda.synchronize(device)


def fast_forward(bb, model, batch, amp, channels_last):
    "One batch through the fast path: copy (non-blocking), resize + normalise on the device, forward."
    x = bb.preprocess(batch)       # moves with non_blocking=True; resizes once, on the device
    if channels_last: x = x.contiguous(memory_format=torch.channels_last)
    with torch.autocast(bb.device.type, dtype=torch.bfloat16, enabled=amp):
        return model(x)


def run_fast(bb, model, source, args, batch_size):
    "Seconds and float32 features of the fast path over `source` (one warm-up batch first)."
    pin = bb.device.type == "cuda" and args.pin_memory
    with torch.inference_mode():
        for b in loader(source[:batch_size], batch_size, 0, pin):
            fast_forward(bb, model, b, args.amp, args.channels_last)
        sync(bb.device)
        t, out = time.perf_counter(), []
        for b in loader(source, batch_size, args.workers, pin):
            out.append(fast_forward(bb, model, b, args.amp, args.channels_last).float())
        sync(bb.device)
        dt = time.perf_counter() - t
    return dt, torch.cat(out).cpu()


def run_embed(bb, images, batch_size):
    "Seconds of `Backbone.embed` over `images` (one warm-up batch first)."
    bb.embed(images[:batch_size], batch_size=batch_size, progress=False)
    sync(bb.device)
    t = time.perf_counter()
    bb.embed(images, batch_size=batch_size, progress=False)
    sync(bb.device)
    return time.perf_counter() - t


def auto_batch_size(bb, model, args):
    "The largest power of two ≤ 1024 whose forward pass fits on the GPU (32 on CPU)."
    if bb.device.type != "cuda": return 32
    best, bs = None, 16
    while bs <= 1024:
        try:
            with torch.inference_mode():
                fast_forward(bb, model, torch.zeros(bs, args.source_size, args.source_size, args.channels, dtype=torch.uint8), args.amp, args.channels_last)
            sync(bb.device); best, bs = bs, bs * 2
        except torch.cuda.OutOfMemoryError:
            break
        finally: torch.cuda.empty_cache()
    if best is None: raise SystemExit("not even a batch of 16 fits on this GPU")
    return best


def cos_min(a, b):
    return float(F.cosine_similarity(torch.as_tensor(a).float(), torch.as_tensor(b).float(), dim=1).min())


def measure(size, images, source, args, device):
    "The table rows of one image size: the `embed` path and the fast path."
    bb = load_backbone(args.backbone, image_size=size, device=device, pretrained=not args.random_weights)
    if args.channels_last: bb.model.to(memory_format=torch.channels_last)
    bb.amp = args.amp
    flops = flops_per_image(bb.model, size, device)
    model = torch.compile(bb.model, mode=args.compile_mode) if args.compile else bb.model
    bs = auto_batch_size(bb, model, args) if args.batch_size == "auto" else int(args.batch_size)
    n = max(bs, len(images) // bs * bs)            # whole batches: torch.compile sees one shape
    images, source = images[:n], source[:n]
    common = dict(device=str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
                  backbone=bb.name + (" (random)" if args.random_weights else ""), size=size, batch=bs, n=n,
                  gflop_per_img=round(flops / 1e9, 2))
    rows = []
    if not args.no_embed:
        dt = run_embed(bb, images, bs)
        rows.append(dict(path="embed", amp=bb.amp and device.type == "cuda", channels_last=device.type == "cuda",
                         compile=False, workers=0, source="array", seconds=dt, **common))
    dt, feats = run_fast(bb, model, source, args, bs)
    bb.amp = False
    ref = bb.embed(images[:bs], batch_size=bs, progress=False)          # fp32 reference of the first batch
    rows.append(dict(path="fast", amp=args.amp, channels_last=args.channels_last, compile=args.compile,
                     workers=args.workers, source=args.source, seconds=dt, cos_min=round(cos_min(feats[:bs], ref), 5), **common))
    for r in rows:
        r["images_per_s"] = r["n"] / r["seconds"]
        r["tflops"] = r["images_per_s"] * flops / 1e12
        if args.peak_tflops: r["pct_of_peak"] = 100 * r["tflops"] / args.peak_tflops
    return rows


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--backbone", default=None, help="default: dinov2_vitb14 on CUDA, the offline ViT-S/14 on CPU")
    ap.add_argument("--random-weights", action=argparse.BooleanOptionalAction, default=None,
                    help="random weights (default: yes for dinov2_vitb14 on CUDA, no otherwise)")
    ap.add_argument("--sizes", type=int, nargs="+", default=None, help="image sizes (default: 224 518 on CUDA, 56 on CPU)")
    ap.add_argument("--n", type=int, default=None, help="images per measurement (default: 4096 on CUDA, 64 on CPU)")
    ap.add_argument("--batch-size", default=None, help="images per forward pass per device, or auto (default: auto on CUDA, 32 on CPU)")
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers decoding images (default: 8 on CUDA, 0 on CPU)")
    ap.add_argument("--source", choices=["array", "png"], default="array", help="uint8 arrays, or PNG bytes decoded by the workers")
    ap.add_argument("--source-size", type=int, default=64, help="side of the source images in px (resized on the device)")
    ap.add_argument("--channels", type=int, choices=[1, 3], default=3)
    ap.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None, help="bf16 autocast (default: on CUDA)")
    ap.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None, help="default: on CUDA")
    ap.add_argument("--pin-memory", action=argparse.BooleanOptionalAction, default=True, help="pinned batches on CUDA")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (needs a C++ compiler on CPU)")
    ap.add_argument("--compile-mode", default="max-autotune-no-cudagraphs")
    ap.add_argument("--no-embed", action="store_true", help="time only the fast path")
    ap.add_argument("--peak-tflops", type=float, default=None, help="the device's peak, e.g. 989 (H200 bf16 dense)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads for the whole run (default: torch's)")
    a = ap.parse_args()
    cuda = a.device.startswith("cuda")
    if cuda and not torch.cuda.is_available(): raise SystemExit("--device cuda was asked for but CUDA is not available; use --device cpu")
    a.backbone = a.backbone or ("dinov2_vitb14" if cuda else DEFAULT_BACKBONE)
    a.random_weights = (a.backbone == "dinov2_vitb14" and cuda) if a.random_weights is None else a.random_weights
    a.sizes, a.n = a.sizes or ([224, 518] if cuda else [56]), a.n or (4096 if cuda else 64)
    a.batch_size = a.batch_size or ("auto" if cuda else "32")
    if a.batch_size != "auto" and not (a.batch_size.isdigit() and int(a.batch_size) >= 1):
        raise SystemExit(f"--batch-size must be a positive integer or auto, got {a.batch_size}")
    a.workers = (8 if cuda else 0) if a.workers is None else a.workers
    a.amp = cuda if a.amp is None else a.amp
    a.channels_last = cuda if a.channels_last is None else a.channels_last
    if a.n < 1 or a.workers < 0 or (a.threads is not None and a.threads < 1): raise SystemExit("--n, --threads must be ≥ 1 and --workers ≥ 0")
    return a


def main():
    args = parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and device.index is None: device = torch.device("cuda", 0)
    images = make_images(args.n, args.source_size, args.channels)
    source = encode_png(images) if args.source == "png" else images
    rows = []
    for size in args.sizes:
        rows += measure(size, images, source, args, device)
        print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in rows[-1].items()}, flush=True)
    df = pd.DataFrame(rows)
    cols = ["path", "device", "backbone", "size", "batch", "n", "amp", "channels_last", "compile", "workers", "source",
            "seconds", "images_per_s", "gflop_per_img", "tflops"] + [c for c in ("pct_of_peak", "cos_min") if c in df]
    print()
    print(df[cols].round({c: 3 for c in cols if c != "cos_min"}).to_string(index=False))
    print(f"\ntorch threads {torch.get_num_threads()}; 1-min load average {os.getloadavg()[0]:.1f}; "
          + ("" if args.peak_tflops else "pass --peak-tflops (e.g. 989 for H200 bf16 dense) for the fraction of peak"))


if __name__ == "__main__":
    main()
