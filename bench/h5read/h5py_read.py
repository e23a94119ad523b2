"""Read random-order batches from a PCAM x file with h5py, the way a PyTorch user does.

MODE fancy: one fancy-indexing read per batch, x[sorted indices] (h5py requires increasing indices).
MODE loop:  one read per index, x[i] for i in the sorted batch, stacked (what a torch Dataset's
            __getitem__ does under a DataLoader).

usage: h5py_read.py X_FILE BATCH BATCHES SEED MODE
"""
import sys
import time

import h5py
import numpy as np

path, batch, batches, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mode = sys.argv[5] if len(sys.argv) > 5 else "fancy"
M64 = (1 << 64) - 1


def permutation(n, seed):
    """The same xorshift Fisher-Yates permutation as main.go, so both readers read the same indices."""
    p = list(range(n))
    s = (seed * 0x9E3779B97F4A7C15 | 1) & M64
    for i in range(n - 1, 0, -1):
        s ^= (s << 13) & M64
        s ^= s >> 7
        s ^= (s << 17) & M64
        j = s % (i + 1)
        p[i], p[j] = p[j], p[i]
    return np.array(p)


with h5py.File(path, "r") as f:
    x = f["x"]
    perm = permutation(x.shape[0], seed)
    checksum = 0
    n = 0
    start = time.perf_counter()
    for b in range(batches):
        off = (b * batch) % (len(perm) - batch)
        idx = np.sort(perm[off:off + batch])
        arr = x[idx] if mode == "fancy" else np.stack([x[i] for i in idx])
        checksum += int(arr[-1, -1, -1, -1])
        n += len(idx)
    el = time.perf_counter() - start
    layout = f"chunks={x.chunks} compression={x.compression}"
print(f"h5py-{mode} layout=\"{layout}\" images={n} seconds={el:.3f} images_per_s={n / el:.0f} checksum={checksum}")
