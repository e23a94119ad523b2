#!/usr/bin/env python3
"""Branin-Hoo, a standard test function for hyperparameter search, as a sweep's command base.

The sweep passes the sampled values as environment variables (X1 in [-5, 10], X2 in [0, 15]) and
the path of the metrics file to write in PCAMFLOW_METRICS. The file follows pcamflow's metrics.json
format (docs/language.md, "sweep"): per-epoch metrics and final ones. The global minimum is
0.397887, at (-pi, 12.275), (pi, 2.275) and (9.42478, 2.475).
"""
import json
import math
import os


def branin(x1, x2):
    a, b, c = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def main():
    x1 = float(os.environ.get("X1", "0"))
    x2 = float(os.environ.get("X2", "0"))
    value = branin(x1, x2)
    path = os.environ.get("PCAMFLOW_METRICS", "results/branin/metrics.json")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump({"epochs": [{"epoch": 1, "value": value}], "final": {"value": value}}, f)
    os.replace(path + ".tmp", path)
    print(f"branin({x1:.4f}, {x2:.4f}) = {value:.6f}")


if __name__ == "__main__":
    main()
