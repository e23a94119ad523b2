#!/usr/bin/env bash
# Training throughput of pcamflow's model package vs Debian's PyTorch on the same models and
# batches, interleaved so that both see the same machine load. Prints the median images/s of
# each side over ROUNDS rounds and the ratio.
#
# Usage: bench/train/run.sh [ROUNDS]            (from the repository root)
# Environment: THREADS (default 2), MLP_STEPS (20), CNN_STEPS (8), and OPENBLAS_CORETYPE, which
# both sides inherit (OpenBLAS 0.3.21 does not know recent Xeons and falls back to its slow
# Prescott kernels: OPENBLAS_CORETYPE=SkylakeX fixes that for both).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
THREADS=${THREADS:-2}
MLP_STEPS=${MLP_STEPS:-20}
CNN_STEPS=${CNN_STEPS:-8}
PY=/usr/bin/python3
source scripts/env.sh
bin=$(mktemp -d)/pcf-bench
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./bench/train/
out=$(mktemp)
for r in $(seq "$ROUNDS"); do
  for arch in mlp cnn; do
    steps=$MLP_STEPS; [ "$arch" = cnn ] && steps=$CNN_STEPS
    "$bin" -arch "$arch" -steps "$steps" -threads "$THREADS" >>"$out"
    "$PY" bench/train/torch_bench.py --arch "$arch" --steps "$steps" --threads "$THREADS" >>"$out"
  done
done
"$PY" - "$out" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
info = next(r["blas"] for r in rows if "blas" in r)
print(f"pcamflow BLAS: {info['backend']}, kernel threads {info['threads']}, CPU {info['cpu']}")
print(f"{'model':<5} {'batch':>5} {'pcamflow img/s':>15} {'pytorch img/s':>14} {'ratio':>6}  per-round ratios")
for arch in ("mlp", "cnn"):
    go = [r["images_per_s"] for r in rows if r["arch"] == arch and r["impl"] == "pcamflow"]
    pt = [r["images_per_s"] for r in rows if r["arch"] == arch and r["impl"] != "pcamflow"]
    batch = next(r["batch"] for r in rows if r["arch"] == arch)
    ratios = " ".join(f"{g / p:.2f}" for g, p in zip(go, pt))
    print(f"{arch:<5} {batch:>5} {statistics.median(go):>15.1f} {statistics.median(pt):>14.1f} "
          f"{statistics.median(go) / statistics.median(pt):>6.2f}  {ratios}")
torch = next(r["impl"] for r in rows if r["impl"] != "pcamflow")
print(f"reference: {torch}, torch.set_num_threads({rows[1].get('threads')})")
PYEOF
rm -f "$out"
