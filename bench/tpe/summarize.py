#!/usr/bin/python3
"""Summarises the CSV rows of main.go and optuna_ref.py (see run.sh).

For every test function and sampler: the median and quartiles of the best
value found per seed, the median simple regret (best - known minimum), the
ratio of pcamflow's median regret to Optuna's for the same sampler (< 1:
pcamflow better), the probability that a pcamflow study ends better than an
Optuna one (pairs of seeds, ties count half), and the median overhead per
trial. Standard library only.
"""
import csv
import random
import statistics
import sys
from collections import defaultdict

MINIMA = {"branin": 0.397887, "hartmann6": -3.32237, "mixed4": 0.0}


def quartiles(xs):
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def duration(us):
    if us != us:
        return "n/a"
    return "%.0f µs" % us if us < 1000 else "%.1f ms" % (us / 1000)


def p_better(a, b):
    """P(a random study of a ends lower than one of b), ties count half."""
    wins = sum((x < y) + 0.5 * (x == y) for x in a for y in b)
    return wins / (len(a) * len(b))


def ratio_ci(a, b, rounds=2000):
    """Bootstrap 90% interval of median(a)/median(b) (fixed seed)."""
    rng = random.Random(1)
    rs = []
    for _ in range(rounds):
        ma = statistics.median(rng.choices(a, k=len(a)))
        mb = statistics.median(rng.choices(b, k=len(b)))
        rs.append(ma / mb if mb > 0 else float("inf"))
    rs.sort()
    return rs[int(0.05 * rounds)], rs[int(0.95 * rounds)]


def main(paths):
    best = defaultdict(list)
    over = defaultdict(list)
    cpu = defaultdict(list)
    for path in paths:
        with open(path) as f:
            for r in csv.DictReader(f):
                impl = "pcamflow" if r["impl"] == "pcamflow" else "optuna"
                k = (r["function"], r["sampler"], impl)
                best[k].append(float(r["best"]))
                over[k].append(float(r["overhead_us_per_trial"]))
                cpu[k].append(float(r.get("cpu_us_per_trial") or "nan"))
    funcs = [f for f in MINIMA if any(k[0] == f for k in best)]
    samplers = []
    for k in best:
        if k[1] not in samplers:
            samplers.append(k[1])
    print("| function | sampler | impl | seeds | best: q1 / median / q3 | median regret | regret ratio pcamflow/optuna (90% CI) | P(pcamflow better) | overhead per trial: wall / CPU |")
    print("|---|---|---|---:|---|---:|---|---:|---:|")
    for fn in funcs:
        for s in samplers:
            for impl in ("pcamflow", "optuna"):
                k = (fn, s, impl)
                if k not in best:
                    continue
                xs = best[k]
                q1, med, q3 = quartiles(xs)
                reg = [x - MINIMA[fn] for x in xs]
                ratio = pval = ""
                other = (fn, s, "optuna")
                if impl == "pcamflow" and other in best:
                    oreg = [x - MINIMA[fn] for x in best[other]]
                    r = statistics.median(reg) / statistics.median(oreg)
                    lo, hi = ratio_ci(reg, oreg)
                    ratio = "**%.2f** (%.2f–%.2f)" % (r, lo, hi)
                    pval = "%.2f" % p_better(xs, best[other])
                ovs = "%s / %s" % (duration(statistics.median(over[k])),
                                   duration(statistics.median(cpu[k])))
                print("| %s | %s | %s | %d | %.4g / %.4g / %.4g | %.3g | %s | %s | %s |" % (
                    fn, s, impl, len(xs), q1, med, q3, statistics.median(reg), ratio, pval, ovs))
    # TPE against random, same implementation.
    print()
    print("| function | impl | median regret TPE / random | P(TPE better than random) |")
    print("|---|---|---:|---:|")
    for fn in funcs:
        for impl in ("pcamflow", "optuna"):
            t, r = (fn, "tpe", impl), (fn, "random", impl)
            if t in best and r in best:
                rt = statistics.median([x - MINIMA[fn] for x in best[t]])
                rr = statistics.median([x - MINIMA[fn] for x in best[r]])
                print("| %s | %s | %.2f | %.2f |" % (fn, impl, rt / rr, p_better(best[t], best[r])))


if __name__ == "__main__":
    main(sys.argv[1:])
