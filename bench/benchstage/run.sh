#!/usr/bin/env bash
# Must-show 3 of issue 11: pcamflow's inference engine against Debian's PyTorch 1.13 on the same MLP
# and CNN, through the benchmark stage itself — pipelines/benchmark.hcl's native_mlp, torch_mlp,
# native_cnn and torch_cnn nodes (PyTorch via examples/bench_torch.py, the command form), combined
# by benchmark.engines into one table — 2 threads each, one after the other in every round. Each
# round re-measures (run --force) and records the load average before and after; the summary gives
# batch-1 latency (p50) and batch-128 throughput per round, their medians and the ratios.
#
# Usage: bench/benchstage/run.sh [ROUNDS] (default 3). Environment: IMAGES (512) and WARMUP (32)
# per batch size, THREADS (2), OUT (folder that keeps each round's results.json and batches.md),
# TORCH_ENV (e.g. "OMP_WAIT_POLICY=PASSIVE": environment for the PyTorch side only; default none).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
IMAGES=${IMAGES:-512}
WARMUP=${WARMUP:-32}
THREADS=${THREADS:-2}
PY=/usr/bin/python3
"$PY" -c 'import torch' 2>/dev/null || { echo "needs Debian's python3-torch: scripts/setup.sh bench" >&2; exit 2; }
source scripts/env.sh
export PATH=/usr/local/go/bin:$PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${OUT:-$tmp/out}
mkdir -p "$out" "$tmp/proj/pipelines" "$tmp/proj/examples"
go build -o "$tmp/pcamflow" ./cmd/pcamflow
cp pipelines/benchmark.hcl "$tmp/proj/pipelines/"
cp examples/bench_torch.py "$tmp/proj/examples/"
cd "$tmp/proj"
vars=(-var "python=$PY" -var "images=$IMAGES" -var "warmup=$WARMUP" -var "threads=$THREADS")
if [ -n "${TORCH_ENV:-}" ]; then
  vars+=(-var "torch_env=[\"env\", \"$TORCH_ENV\"]")
fi
force=()
for s in native_mlp torch_mlp native_cnn torch_cnn; do force+=(--force "benchmark.$s"); done
for r in $(seq 1 "$ROUNDS"); do
  before=$(cut -d' ' -f1 /proc/loadavg)
  "$tmp/pcamflow" run pipelines/benchmark.hcl --threads "$THREADS" -target benchmark.engines "${vars[@]}" "${force[@]}" >"$out/run$r.log" 2>&1 ||
    { cat "$out/run$r.log" >&2; exit 1; }
  after=$(cut -d' ' -f1 /proc/loadavg)
  cp .pcamflow/out/benchmark.engines/results.json "$out/results$r.json"
  cp .pcamflow/out/benchmark.engines/batches.md "$out/batches$r.md"
  echo "$r $before $after" >>"$out/load.txt"
  echo "round $r done (load $before -> $after)" >&2
done
cat .pcamflow/out/benchmark.engines/batches.md
"$PY" - "$out" "$ROUNDS" <<'PYEOF'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
loads = [l.split() for l in open(out + "/load.txt")]
rows = {}  # (model, engine) -> {"lat1": [...], "ips128": [...]}
machine = None
for r in range(1, rounds + 1):
    res = json.load(open(f"{out}/results{r}.json"))
    for n in res["nodes"]:
        eng = "pcamflow" if n["engine"] == "pcamflow" else "pytorch"
        model = "mlp" if n["model"].startswith("mlp") else "cnn"
        d = rows.setdefault((model, eng), {"lat1": [], "ips128": [], "ips1": []})
        for b in n["batches"]:
            if b["batch"] == 1:
                d["lat1"].append(b["latency_ms"]["p50"]); d["ips1"].append(b["images_per_second"])
            if b["batch"] == 128:
                d["ips128"].append(b["images_per_second"])
        if eng == "pcamflow":
            machine = n["machine"]
print(f"\nCPU {machine['cpu']} ({machine['cores']} logical CPUs), BLAS {machine['blas']}, {machine['threads']} threads; "
      f"load (1 min) per round before->after: " + ", ".join(f"{a}->{b}" for _, a, b in loads) + f"; {machine['date']}")
print("\n| model | measure | pcamflow | PyTorch | pcamflow vs PyTorch | per-round ratios |")
print("|---|---|---:|---:|---:|---|")
for model in ("mlp", "cnn"):
    p, t = rows[(model, "pcamflow")], rows[(model, "pytorch")]
    lat = [b / a for a, b in zip(p["lat1"], t["lat1"])]
    thr = [a / b for a, b in zip(p["ips128"], t["ips128"])]
    print(f"| {model.upper()} | batch-1 latency p50 | {statistics.median(p['lat1']):.3f} ms | {statistics.median(t['lat1']):.3f} ms | "
          f"**{statistics.median(t['lat1']) / statistics.median(p['lat1']):.2f}×** | {' '.join(f'{x:.2f}' for x in lat)} |")
    print(f"| {model.upper()} | batch-128 throughput | {statistics.median(p['ips128']):,.0f} img/s | {statistics.median(t['ips128']):,.0f} img/s | "
          f"**{statistics.median(p['ips128']) / statistics.median(t['ips128']):.2f}×** | {' '.join(f'{x:.2f}' for x in thr)} |")
PYEOF
