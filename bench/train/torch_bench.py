#!/usr/bin/python3
"""PyTorch reference for bench/train: the same models, batch and optimiser as main.go.

Run with Debian's interpreter: /usr/bin/python3 torch_bench.py --arch mlp --threads 2
Prints one JSON line with images/s.
"""
import argparse
import json
import time

import torch
import torch.nn as nn


def build(arch):
    if arch == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(96 * 96 * 3, 128), nn.ReLU(), nn.Linear(128, 1))
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(24 * 24 * 32, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="mlp")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    batch = a.batch or (128 if a.arch == "mlp" else 64)
    net = build(a.arch)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    # uint8 HWC bytes -> normalised float NCHW, as a data loader would hand them over
    raw = torch.randint(0, 256, (batch, 96, 96, 3), dtype=torch.uint8)
    y = torch.randint(0, 2, (batch, 1)).float()

    def step():
        x = (raw.float() / 255.0 - 0.5) / 0.25
        x = x.permute(0, 3, 1, 2).contiguous()
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    el = time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch " + torch.__version__, "arch": a.arch, "batch": batch, "steps": a.steps,
                      "images_per_s": a.steps * batch / el, "ms_per_step": 1000 * el / a.steps,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
