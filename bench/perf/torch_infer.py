#!/usr/bin/python3
"""PyTorch reference for bench/perf: inference latency of the benchmark models of bench/train.

Run with Debian's interpreter: /usr/bin/python3 torch_infer.py --arch cnn --batch 1 --threads 2
Each call converts uint8 HWC bytes to normalised float NCHW and runs the network in eval mode under
torch.inference_mode(), as a deployed model would; prints one JSON line with the time per patch.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from torch_bench import build  # noqa: E402  (the same models as the training benchmark)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="mlp")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget of the timed calls")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = build(a.arch).eval()
    raw = torch.randint(0, 256, (a.batch, 96, 96, 3), dtype=torch.uint8)

    def call():
        with torch.inference_mode():
            x = ((raw.float() / 255.0 - 0.5) / 0.25).permute(0, 3, 1, 2).contiguous()
            return torch.sigmoid(net(x)).tolist()

    for _ in range(5):
        call()
    # calibrate the number of calls to the time budget, then time them
    t0 = time.perf_counter()
    call()
    one = max(time.perf_counter() - t0, 1e-6)
    calls = max(5, int(a.seconds / one))
    t0 = time.perf_counter()
    for _ in range(calls):
        call()
    el = time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch " + torch.__version__, "arch": a.arch, "batch": a.batch, "calls": calls,
                      "us_per_patch": 1e6 * el / (calls * a.batch), "ms_per_call": 1000 * el / calls,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
