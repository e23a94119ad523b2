#!/usr/bin/env bash
# Evaluate on the official test-split size: wall time and peak memory of the evaluate node with
# 2,000 bootstrap resamples, against the same node with no resampling (bootstrap = 0), interleaved
# so that both see the same machine load; and the node's own phase timings (prediction, baselines,
# bootstrap, slices, outputs) from its log.
#
# Usage: bench/evaluate/run.sh [ROUNDS]        (from the repository root; ROUNDS defaults to 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
source scripts/env.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/pcamflow" ./cmd/pcamflow
cp bench/evaluate/bench.hcl "$work/"
cd "$work"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; $(uptime | sed 's/.*load/load/')"
echo "preparing: synthetic dataset (32,768 test patches) and the MLP ..."
./pcamflow run bench.hcl -var bootstrap=0 >/dev/null
grep -ho 'BLAS .*' .pcamflow/logs/*/train.mlp.log | head -1 | sed 's/^/model: /'
for r in $(seq "$ROUNDS"); do
  for b in 2000 0; do
    /usr/bin/time -f "%e %M" -o time.txt ./pcamflow run bench.hcl -var "bootstrap=$b" --force evaluate.bench >run.txt
    read -r secs kib <time.txt
    log=$(ls -t .pcamflow/logs/*/evaluate.bench.log | head -1)
    echo "round $r bootstrap $b: run ${secs}s, peak RSS $((kib / 1024)) MiB"
    grep '^timing:' "$log" | sed 's/^/    /'
    echo "$b $secs $kib" >>results.txt
  done
done
echo "load after: $(uptime | sed 's/.*load/load/')"
/usr/bin/python3 - results.txt <<'PYEOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for b in ("2000", "0"):
    secs = [float(r[1]) for r in rows if r[0] == b]
    mib = [int(r[2]) / 1024 for r in rows if r[0] == b]
    print(f"bootstrap {b:>4}: median {statistics.median(secs):.2f} s, peak RSS {max(mib):.0f} MiB ({len(secs)} runs)")
with_b = statistics.median(float(r[1]) for r in rows if r[0] == "2000")
without = statistics.median(float(r[1]) for r in rows if r[0] == "0")
print(f"2,000 resamples add {with_b - without:.2f} s ({with_b / without:.2f}x the run without resampling)")
PYEOF
