#!/usr/bin/python3
"""Optuna reference for bench/tpe: the same test functions, spaces, seeds and
budget as main.go, run with Debian's python3-optuna (3.1) TPESampler (default
settings, seed per run) and RandomSampler, in-memory storage.

Prints the same CSV rows as main.go: the best value per study and the
per-trial overhead, i.e. study.optimize's wall time (and the process's CPU
time) minus the time spent evaluating the test function itself (sampling
inside suggest_*, trial bookkeeping and storage are all overhead).
"""
import argparse
import csv
import math
import sys
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def branin(x1, x2):
    b = 5.1 / (4 * math.pi * math.pi)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    u = x2 - b * x1 * x1 + c * x1 - 6
    return u * u + 10 * (1 - t) * math.cos(x1) + 10


HART_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
HART_P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]
HART_ALPHA = [1, 1.2, 3, 3.2]


def hartmann6(x):
    s = 0.0
    for i in range(4):
        inner = 0.0
        for j in range(6):
            d = x[j] - HART_P[i][j] * 1e-4
            inner += HART_A[i][j] * d * d
        s += HART_ALPHA[i] * math.exp(-inner)
    return -s


MIXED4_OFFSET = [0.5, 0, 0.8, 0.3]


def mixed4(lr, wd, layers, act):
    a = math.log10(lr) + 3
    b = wd - 0.7
    c = layers - 5
    return a * a + 2 * b * b + 0.1 * c * c + MIXED4_OFFSET[act]


class Timed:
    """Wraps the objectives: suggests are overhead, the function is timed."""

    def __init__(self):
        self.in_f = 0.0

    def call(self, f, *args):
        t0 = time.perf_counter()
        v = f(*args)
        self.in_f += time.perf_counter() - t0
        return v

    def branin(self, trial):
        x1 = trial.suggest_float("x1", -5, 10)
        x2 = trial.suggest_float("x2", 0, 15)
        return self.call(branin, x1, x2)

    def hartmann6(self, trial):
        x = [trial.suggest_float("x%d" % j, 0, 1) for j in range(6)]
        return self.call(hartmann6, x)

    def mixed4(self, trial):
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        wd = trial.suggest_float("wd", 0, 1)
        layers = trial.suggest_int("layers", 1, 8)
        act = trial.suggest_categorical("act", [0, 1, 2, 3])
        return self.call(mixed4, lr, wd, layers, act)


SAMPLERS = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe-mv": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--samplers", default="tpe,random")
    ap.add_argument("--functions", default="branin,hartmann6,mixed4")
    args = ap.parse_args()
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["impl", "function", "sampler", "seed", "best", "overhead_us_per_trial",
                "cpu_us_per_trial"])
    for fn in args.functions.split(","):
        for name in args.samplers.split(","):
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                timed = Timed()
                study = optuna.create_study(sampler=SAMPLERS[name](seed))
                t0, c0 = time.perf_counter(), time.process_time()
                study.optimize(getattr(timed, fn), n_trials=args.trials)
                total, cpu = time.perf_counter() - t0, time.process_time() - c0
                over = (total - timed.in_f) / args.trials
                cpu_over = (cpu - timed.in_f) / args.trials
                w.writerow(["optuna-" + optuna.__version__, fn, name, seed,
                            "%.9g" % study.best_value, "%.1f" % (over * 1e6),
                            "%.1f" % (cpu_over * 1e6)])
            sys.stdout.flush()


if __name__ == "__main__":
    main()
