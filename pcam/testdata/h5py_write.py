"""Write a small PCAM split with h5py, as third-party tools do (used by h5py_test.go).

usage: h5py_write.py DIR SPLIT N MODE   (MODE: gzip | gzip-auto | contiguous | lzf)
Pixel byte j of patch i is (i*7 + j) % 251; labels are i % 2 stored as int64 (N,1,1,1).
"""
import sys

import h5py
import numpy as np

out, split, n, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
base = f"{out}/camelyonpatch_level_2_split_{split}"
j = np.arange(96 * 96 * 3, dtype=np.int64)
x = np.stack([((i * 7 + j) % 251).astype(np.uint8).reshape(96, 96, 3) for i in range(n)])
y = (np.arange(n, dtype=np.int64) % 2).reshape(n, 1, 1, 1)
kw = {
    "gzip": {"compression": "gzip", "chunks": (4, 96, 96, 3)},
    "gzip-auto": {"compression": "gzip"},  # h5py picks chunks that split patches
    "contiguous": {},
    "lzf": {"compression": "lzf", "chunks": (1, 96, 96, 3)},  # HDF5 filter 32000, built into h5py only
}[mode]
with h5py.File(base + "_x.h5", "w") as f:
    f.create_dataset("x", data=x, **kw)
with h5py.File(base + "_y.h5", "w") as f:
    f.create_dataset("y", data=y, **({} if mode == "contiguous" else {"compression": "gzip"}))
with open(base + "_meta.csv", "w") as f:
    f.write(",coord_y,coord_x,tumor_patch,center_tumor_patch,wsi\n")
    for i in range(n):
        f.write(f"{i},{i * 96},{i * 2},{bool(i % 2)},{bool(i % 2)},camelyon16_train_normal_{i % 3:03d}\n")
