#!/usr/bin/python3
"""Writes numpy_argsort.json, the fixture of TestNumpyArgsort: float arrays
full of ties and numpy's np.argsort of each (default kind, numpy as
installed next to python3-optuna).

Run: /usr/bin/python3 numpy_argsort.py > numpy_argsort.json
"""
import json
import sys

import numpy as np

rng = np.random.RandomState(7)
cases = []
for n in list(range(1, 40)) + [50, 64, 100, 101, 127, 200, 257, 500]:
    for levels in (2, 5, n):
        v = rng.randint(0, max(levels, 1), size=n).astype(float)
        v[rng.rand(n) < 0.1] += 0.5
        cases.append({"v": v.tolist(), "argsort": np.argsort(v).tolist()})
json.dump({"numpy": np.__version__, "cases": cases}, sys.stdout)
sys.stdout.write("\n")
