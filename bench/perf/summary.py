#!/usr/bin/python3
"""Summarise the JSON lines of bench/perf/run.sh as Markdown: medians over rounds per side, their
ratio (how many times faster pcamflow is), per-round ratios, the load of every round, the machine
(CPU model, OpenBLAS kernel, threads) and the CNN's achieved GFLOP/s against the CPU's peak.

Usage: summary.py RESULTS.jsonl THREADS [TORCH_ENV]
"""
import datetime
import json
import os
import statistics
import sys

# Floating-point operations of one training image (forward + backward) and of one prediction
# (forward) of the benchmark CNN: conv3→16 and conv16→32 (3×3, same padding) on 96×96 and 48×48,
# dense 18432→1; 2 FLOP per multiply-add. The first convolution needs no input gradient.
CONV1 = 2 * 96 * 96 * 27 * 16
CONV2 = 2 * 48 * 48 * 144 * 32
DENSE = 2 * 24 * 24 * 32
CNN_TRAIN_FLOP = 2 * CONV1 + 3 * CONV2 + 3 * DENSE
CNN_INFER_FLOP = CONV1 + CONV2 + DENSE
MLP_TRAIN_FLOP = 2 * (2 * 27648 * 128) + 3 * 2 * 128  # forward and weight gradient of fc1 dominate

TARGETS = {"train": 1.5, "pipeline": 1.5, "infer1": 2.0, "infer256": 1.5}


def cpuinfo():
    model, flags, mhz, cores = "unknown", set(), 0.0, 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            k, v = k.strip(), v.strip()
            if k == "model name" and model == "unknown":
                model = v
            elif k == "flags" and not flags:
                flags = set(v.split())
            elif k == "cpu MHz" and not mhz:
                mhz = float(v)
            elif k == "processor":
                cores += 1
    return model, flags, mhz, cores


def lanes_of(kernel, flags):
    """float32 lanes per FMA of the OpenBLAS kernel in use, and of the best ISA of the CPU."""
    cpu = 16 if "avx512f" in flags else 8 if "fma" in flags and "avx2" in flags else 4
    k = kernel.lower()
    if "skylakex" in k or "cooperlake" in k or "sapphirerapids" in k:
        kern = 16
    elif any(s in k for s in ("haswell", "zen", "skylake", "broadwell")):
        kern = 8
    else:
        kern = 4
    return kern, cpu


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    threads = int(sys.argv[2])
    torch_env = sys.argv[3] if len(sys.argv) > 3 else ""
    blas = next((r["blas"] for r in rows if "blas" in r), None)
    torch = next((r["impl"] for r in rows if r.get("impl", "").startswith("pytorch")), "pytorch")
    rounds = sorted({r["round"] for r in rows})
    loads = {}
    for r in rows:
        if r["case"] == "load":
            loads.setdefault(r["round"], {})[r["when"]] = r["load"]

    def value(case, arch, impl, rnd):
        """The round's figure of merit: images/s (train, pipeline) or µs per patch (infer)."""
        sel = [r for r in rows if r["case"] == case and r.get("arch") == arch and r["round"] == rnd
               and (r["impl"] == "pcamflow") == (impl == "pcamflow")]
        if not sel:
            return None
        if case == "pipeline":  # steady state: the epochs after the first
            steady = [r["images_per_s"] for r in sel if r["epoch"] > 1] or [r["images_per_s"] for r in sel]
            return statistics.mean(steady)
        key = "us_per_patch" if case.startswith("infer") else "images_per_s"
        return sel[0][key]

    model, flags, mhz, cores = cpuinfo()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kernel = blas["backend"] if blas else "unknown"
    print(f"Measured {date} by `bench/perf/run.sh {len(rounds)}`: CPU **{model}** ({cores} logical CPUs, "
          f"{mhz:.0f} MHz as /proc/cpuinfo reports it), BLAS **{kernel}**, {threads} threads on both sides "
          f"(pcamflow kernel threads, OpenBLAS single-threaded; reference {torch} with torch.set_num_threads"
          f"({threads}){', environment ' + torch_env if torch_env else ''}). Load average (1 min) per round, start→end: "
          + ", ".join(f"{loads.get(r, {}).get('start', '?')}→{loads.get(r, {}).get('end', '?')}" for r in rounds)
          + ".\n")
    version = blas["config"].split()[1] if blas and len(blas.get("config", "").split()) > 1 else ""
    machine = f"{model} · OpenBLAS {version} ({kernel.removeprefix('OpenBLAS (').rstrip(')')}) · {threads} threads"
    print("| case | model | pcamflow | PyTorch | pcamflow vs PyTorch | per-round ratios | target | CPU · BLAS (kernel) · threads |")
    print("|---|---|---:|---:|---:|---|---|---|")
    medians = {}
    for case, label, unit in (("train", "training steps, in memory", "img/s"),
                              ("pipeline", "training run on HDF5 (pipeline)", "img/s"),
                              ("infer1", "inference, batch 1", "µs/patch"),
                              ("infer256", "inference, batch 256", "µs/patch")):
        for arch in ("mlp", "cnn"):
            per = []
            for rnd in rounds:
                a, b = value(case, arch, "pcamflow", rnd), value(case, arch, "torch", rnd)
                if a is not None and b is not None:
                    per.append((a, b))
            if not per:
                continue
            a = statistics.median(p[0] for p in per)
            b = statistics.median(p[1] for p in per)
            lower_better = unit == "µs/patch"
            ratio = b / a if lower_better else a / b
            ratios = " ".join(f"{(q / p if lower_better else p / q):.2f}" for p, q in per)
            target = TARGETS[case]
            mark = "✓" if ratio >= target else "✗"
            medians[(case, arch)] = a
            print(f"| {label} | {arch.upper()} | {a:,.0f} {unit} | {b:,.0f} {unit} | **{ratio:.2f}×** | {ratios} "
                  f"| ≥ {target}× {mark} | {machine} |")
    kern_lanes, cpu_lanes = lanes_of(kernel, flags)
    ghz = mhz / 1000
    peak_kernel = cores * 2 * kern_lanes * 2 * ghz
    peak_cpu = cores * 2 * cpu_lanes * 2 * ghz
    print()
    print(f"Peak float32 rate, assuming 2 FMA units per core at the reported {ghz:.2f} GHz: "
          f"{cores} cores × 2 FMA × {cpu_lanes} lanes × 2 FLOP × {ghz:.2f} GHz = **{peak_cpu:.0f} GFLOP/s** for the "
          f"CPU's widest vectors; {peak_kernel:.0f} GFLOP/s for the {kern_lanes}-lane kernel OpenBLAS picked.")
    for case, flop, what in (("train", CNN_TRAIN_FLOP, "CNN training step"),
                             ("pipeline", CNN_TRAIN_FLOP, "CNN training in the pipeline")):
        if (case, "cnn") in medians:
            g = medians[(case, "cnn")] * flop / 1e9
            print(f"- {what}: {flop / 1e6:.1f} MFLOP per image × {medians[(case, 'cnn')]:,.0f} img/s = "
                  f"**{g:.1f} GFLOP/s**, {100 * g / peak_cpu:.0f}% of the CPU peak "
                  f"({100 * g / peak_kernel:.0f}% of the kernel's).")
    if ("infer256", "cnn") in medians:
        g = CNN_INFER_FLOP / (medians[("infer256", "cnn")] * 1e-6) / 1e9
        print(f"- CNN inference, batch 256: {CNN_INFER_FLOP / 1e6:.1f} MFLOP per image → **{g:.1f} GFLOP/s**, "
              f"{100 * g / peak_cpu:.0f}% of the CPU peak.")
    if ("train", "mlp") in medians:
        g = medians[("train", "mlp")] * MLP_TRAIN_FLOP / 1e9
        print(f"- MLP training step: {MLP_TRAIN_FLOP / 1e6:.0f} MFLOP per image → **{g:.1f} GFLOP/s**.")


if __name__ == "__main__":
    main()
