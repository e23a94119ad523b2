#!/usr/bin/env python3
"""Inference benchmark of the course's MLP and CNN in PyTorch, for pcamflow's benchmark stage.

Use it as the external engine of a benchmark block:

    benchmark "torch_cnn" {
      command     = ["python3", "examples/bench_torch.py", "--arch", "cnn"]
      batch_sizes = [1, 8, 32, 128]
      threads     = 2
    }

It prints one JSON line per timed call on standard output, the format the stage reads:

    {"batch": 8, "images": 8, "seconds": 0.0123, "read": 0.0001, "preprocess": 0.0004, "compute": 0.0118, ...}

batch, images and seconds are required; read/preprocess/compute split seconds; warm-up calls carry
"warmup": true and are not counted; engine, model, device and threads describe the measurement.
Settings come from the flags, else from the stage (PCAMFLOW_BATCH_SIZES, PCAMFLOW_IMAGES,
PCAMFLOW_WARMUP, PCAMFLOW_THREADS, PCAMFLOW_SEED). Use --device cuda to measure a GPU.

The networks mirror pcamflow's model package (and bench/train/torch_bench.py): the MLP is
27648 -> hidden_units (ReLU) -> 1, the CNN is conv3x3(pad 1) -> ReLU -> 2x2 max pool per entry of
channels, then dense layers of head_units -> 1. Weights are random (timing does not depend on them);
inputs are uint8 HWC patches normalised per channel with PCAM's means and stds, as pcamflow does.
"""
import argparse
import json
import os
import re
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit("bench_torch.py needs PyTorch: on Debian, apt-get install python3-torch and run it with /usr/bin/python3")

MEAN = (0.70, 0.54, 0.69)
STD = (0.24, 0.28, 0.21)
POOL = 256  # random patches kept in memory; batches cycle through them


def ints(text):
    return [int(x) for x in text.split(",") if x.strip()]


def build(arch, hidden, channels, head):
    if arch == "mlp":
        layers, width = [nn.Flatten()], 96 * 96 * 3
        for u in hidden:
            layers += [nn.Linear(width, u), nn.ReLU()]
            width = u
        return nn.Sequential(*layers, nn.Linear(width, 1))
    layers, c, side = [], 3, 96
    for o in channels:
        layers += [nn.Conv2d(c, o, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c, side = o, side // 2
    layers.append(nn.Flatten())
    width = c * side * side
    for u in head:
        layers += [nn.Linear(width, u), nn.ReLU()]
        width = u
    return nn.Sequential(*layers, nn.Linear(width, 1))


def backend():
    """PyTorch's BLAS and CPU kernels as its build configuration says, e.g. "BLAS_INFO=generic, AVX2"."""
    cfg = torch.__config__.show()
    parts = re.findall(r"BLAS_INFO=[^,\s]+", cfg)[:1]
    parts += [line.split(":", 1)[1].strip() for line in cfg.splitlines() if "CPU capability usage" in line]
    parts += [line.strip(" -") for line in cfg.splitlines() if "MKL-DNN" in line or "oneDNN" in line]
    return ", ".join(parts) or "unknown"


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=["mlp", "cnn"], default="mlp")
    ap.add_argument("--hidden-units", type=ints, default=[128], help="MLP widths, e.g. 128 or 256,64")
    ap.add_argument("--channels", type=ints, default=[16, 32], help="CNN channels, e.g. 16,32")
    ap.add_argument("--head-units", type=ints, default=[], help="CNN dense widths")
    ap.add_argument("--batch-sizes", type=ints, default=ints(env("PCAMFLOW_BATCH_SIZES", "1,8,32,128")))
    ap.add_argument("--images", type=int, default=int(env("PCAMFLOW_IMAGES", "2048")))
    ap.add_argument("--warmup", type=int, default=int(env("PCAMFLOW_WARMUP", "64")))
    ap.add_argument("--threads", type=int, default=int(env("PCAMFLOW_THREADS", "0")), help="0: PyTorch's default")
    ap.add_argument("--seed", type=int, default=int(env("PCAMFLOW_SEED", "1")))
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    net = build(a.arch, a.hidden_units, a.channels, a.head_units).eval().to(dev)
    g = torch.Generator().manual_seed(a.seed)
    pool = torch.randint(0, 256, (POOL, 96, 96, 3), dtype=torch.uint8, generator=g)
    mean = torch.tensor(MEAN, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=dev).view(1, 3, 1, 1)
    model = a.arch + (str(a.hidden_units) if a.arch == "mlp" else str(a.channels) + (str(a.head_units) if a.head_units else ""))
    info = {"engine": "torch " + torch.__version__, "model": model, "device": str(dev), "threads": torch.get_num_threads(),
            "blas": backend()}
    pos = 0
    for batch in a.batch_sizes:
        warm = -(-a.warmup // batch)
        timed = -(-a.images // batch)
        for i in range(warm + timed):
            t0 = time.perf_counter()
            idx = torch.arange(pos, pos + batch) % POOL  # reading: the next patches of the pool
            pos = (pos + batch) % POOL
            raw = pool[idx]
            t1 = time.perf_counter()
            with torch.inference_mode():
                x = raw.to(dev).permute(0, 3, 1, 2).float().div_(255.0).sub_(mean).div_(std).contiguous()
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                t2 = time.perf_counter()
                probs = torch.sigmoid(net(x)).flatten().tolist()  # tolist waits for a GPU
            t3 = time.perf_counter()
            assert len(probs) == batch
            line = {"batch": batch, "images": batch, "seconds": t3 - t0, "read": t1 - t0,
                    "preprocess": t2 - t1, "compute": t3 - t2}
            if i < warm:
                line["warmup"] = True
            line.update(info)
            print(json.dumps(line))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
