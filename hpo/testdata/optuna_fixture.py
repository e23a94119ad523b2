#!/usr/bin/python3
"""Writes optuna31_mixed.json, the fixture of TestTPEMatchesOptuna.

A fixed history over a space with one dimension of every kind (24 trials:
two complete, the others pruned at steps 1 to 3, so the below set holds
both kinds) is given to Debian's
python3-optuna 3.1 TPESampler (default settings) with seeds 0..N-1, and the
proposal of the next trial is recorded for each seed. The Go test proposes
with its own seeds and compares the two samples per dimension with a
two-sample Kolmogorov-Smirnov test.

Run: /usr/bin/python3 optuna_fixture.py > optuna31_mixed.json
"""
import json
import math
import sys

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

optuna.logging.set_verbosity(optuna.logging.WARNING)

N = 500
DISTS = {
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
    "wd": FloatDistribution(0, 1),
    "layers": IntDistribution(1, 8),
    "act": CategoricalDistribution([0, 1, 2, 3]),
}
OFFSET = [0.5, 0, 0.8, 0.3]


def f(p):
    return ((math.log10(p["lr"]) + 3) ** 2 + 2 * (p["wd"] - 0.7) ** 2
            + 0.1 * (p["layers"] - 5) ** 2 + OFFSET[p["act"]])


rng = np.random.RandomState(123)
history = []
for i in range(24):
    p = {
        "lr": float(10 ** rng.uniform(-5, -1)),
        "wd": float(rng.uniform()),
        "layers": int(rng.randint(1, 9)),
        "act": int(rng.randint(0, 4)),
    }
    v = f(p)
    if i in (4, 16):
        history.append({"point": p, "value": v, "state": "complete", "step": 0})
    else:  # pruned at step 1, 2 or 3; the below set (3 of 24) takes in the best pruned at step 3
        step = 1 + i % 3
        history.append({"point": p, "value": v / (step + 1), "state": "pruned", "step": step})

proposals = []
for seed in range(N):
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    for h in history:
        if h["state"] == "complete":
            t = create_trial(params=h["point"], distributions=DISTS, value=h["value"])
        else:
            t = create_trial(params=h["point"], distributions=DISTS, state=TrialState.PRUNED,
                             intermediate_values={h["step"]: h["value"]})
        study.add_trial(t)
    t = study.ask()
    proposals.append([
        t.suggest_float("lr", 1e-5, 1e-1, log=True),
        t.suggest_float("wd", 0, 1),
        t.suggest_int("layers", 1, 8),
        t.suggest_categorical("act", [0, 1, 2, 3]),
    ])

json.dump({
    "optuna": optuna.__version__,
    "space": ["lr log_uniform(1e-5, 1e-1)", "wd uniform(0, 1)", "layers int_uniform(1, 8)", "act choice(4)"],
    "history": history,
    "proposals": proposals,
}, sys.stdout, indent=None)
sys.stdout.write("\n")
