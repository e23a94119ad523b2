#!/usr/bin/python3
"""PyTorch reference for the pipeline half of bench/perf/run.sh: train the benchmark models on the
synthetic PCAM HDF5 files the way a careful PyTorch script would, and print the training images/s
of every epoch, as pcamflow's train stage logs them.

Run with Debian's interpreter:
    /usr/bin/python3 torch_pipeline.py --data DIR --arch mlp --batch 128 --epochs 2 --threads 2

Like pipeline.hcl: shuffled order each epoch, uint8 HWC patches read from HDF5 (h5py, one patch at
a time in sorted order: the fastest h5py access pattern, see docs/bench-data.md) by a DataLoader
worker process so that reading overlaps training, normalised to float NCHW, forward, backward, Adam;
then a validation pass (not timed) and a checkpoint, as the train stage does every epoch.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import h5py
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from torch_bench import build  # noqa: E402  (the same models as the training benchmark)

MEAN = torch.tensor([0.70, 0.54, 0.69]).view(1, 3, 1, 1)  # pcamflow's default normalisation
STD = torch.tensor([0.24, 0.28, 0.21]).view(1, 3, 1, 1)


class Patches(Dataset):
    """Whole batches of one PCAM split: __getitem__ takes a list of indices."""

    def __init__(self, folder, split, limit):
        prefix = os.path.join(folder, f"camelyonpatch_level_2_split_{split}_")
        self.xpath = prefix + "x.h5"
        with h5py.File(prefix + "y.h5", "r") as f:
            self.y = f["y"][:].reshape(-1).astype(np.float32)
        self.n = len(self.y) if limit <= 0 else min(limit, len(self.y))
        self.x = None  # opened lazily in each worker process

    def __len__(self):
        return self.n

    def __getitem__(self, idx):
        if self.x is None:
            self.x = h5py.File(self.xpath, "r")["x"]
        idx = sorted(idx)
        buf = np.empty((len(idx), 96, 96, 3), dtype=np.uint8)
        for k, i in enumerate(idx):
            buf[k] = self.x[i]
        return torch.from_numpy(buf), torch.from_numpy(self.y[idx]).view(-1, 1)


def to_input(raw):
    x = raw.permute(0, 3, 1, 2).float().div_(255.0)
    return ((x - MEAN) / STD).contiguous()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--arch", default="mlp")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="training patches per epoch (0: all)")
    ap.add_argument("--val-limit", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1, help="DataLoader worker processes")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    batch = a.batch or (128 if a.arch == "mlp" else 64)
    net = build(a.arch)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    train = Patches(a.data, "train", a.limit)
    valid = Patches(a.data, "valid", a.val_limit)
    gen = torch.Generator().manual_seed(1)
    train_dl = DataLoader(train, sampler=BatchSampler(RandomSampler(train, generator=gen), batch, False),
                          batch_size=None, num_workers=a.workers, persistent_workers=a.workers > 0)
    valid_dl = DataLoader(valid, sampler=BatchSampler(SequentialSampler(valid), 256, False), batch_size=None)
    ckpt = tempfile.NamedTemporaryFile(suffix=".pt", delete=False).name
    for epoch in range(1, a.epochs + 1):
        net.train()
        t0 = time.perf_counter()
        images = 0
        for raw, y in train_dl:
            opt.zero_grad()
            loss = loss_fn(net(to_input(raw)), y)
            loss.backward()
            opt.step()
            images += len(y)
        seconds = time.perf_counter() - t0
        net.eval()
        with torch.inference_mode():
            val_loss = sum(loss_fn(net(to_input(raw)), y).item() * len(y) for raw, y in valid_dl) / len(valid)
        torch.save({"model": net.state_dict(), "opt": opt.state_dict()}, ckpt)
        print(json.dumps({"impl": "pytorch " + torch.__version__, "arch": a.arch, "batch": batch, "epoch": epoch,
                          "images": images, "seconds": seconds, "images_per_s": images / seconds,
                          "val_loss": val_loss, "threads": torch.get_num_threads()}), flush=True)
    os.unlink(ckpt)


if __name__ == "__main__":
    main()
