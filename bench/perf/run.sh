#!/usr/bin/env bash
# pcamflow vs PyTorch 1.13 (Debian's /usr/bin/python3), interleaved, on the benchmark models of
# bench/train (MLP 27648→128→1, batch 128; CNN conv3→16, maxpool, conv16→32, maxpool, dense→1,
# batch 64), same thread count on both sides:
#   train     training steps in memory (bench/train vs bench/train/torch_bench.py)
#   infer     prediction latency per patch at batch 1 and 256 (bench/perf/infer vs torch_infer.py)
#   pipeline  a real training run on synthetic PCAM HDF5 files, data reading included
#             (pcamflow run bench/perf/pipeline.hcl vs torch_pipeline.py), images/s of the
#             epochs after the first
# Every round runs every case on both sides back to back, alternating which side goes first; the
# summary gives medians over rounds, their ratio, the per-round ratios and the load average
# (/proc/loadavg) at the start and end of every round, with the CPU model, the OpenBLAS kernel and
# the thread count. Use the ratios: on a shared machine absolute times mean little.
#
# Usage: bench/perf/run.sh [ROUNDS]        (ROUNDS >= 3, default 3; from anywhere in the repository)
# Environment: THREADS (2), PARTS ("train infer pipeline"), EPOCHS (3), OUT (file that receives every
# measurement as JSON lines; default: a temporary file, removed), OPENBLAS_CORETYPE (both sides),
# TORCH_ENV (extra environment for the PyTorch side only, e.g. "OMP_WAIT_POLICY=PASSIVE", which
# keeps PyTorch's threads from spin-waiting on a loaded machine; default: none, PyTorch as it comes).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
THREADS=${THREADS:-2}
PARTS=${PARTS:-train infer pipeline}
EPOCHS=${EPOCHS:-3}
TORCH_ENV=${TORCH_ENV:-}
PY=/usr/bin/python3
# torch runs the PyTorch side with TORCH_ENV added to its environment
torch() { env $TORCH_ENV "$PY" "$@"; }
if [ "$ROUNDS" -lt 3 ]; then
  echo "bench/perf/run.sh: use at least 3 rounds (medians)" >&2
  exit 2
fi
source scripts/env.sh
export PATH=/usr/local/go/bin:$PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${OUT:-$tmp/results.jsonl}
: >"$out"
echo "building ..." >&2
go build -o "$tmp/pcamflow" ./cmd/pcamflow
go build -o "$tmp/train" ./bench/train
go build -o "$tmp/infer" ./bench/perf/infer

if [[ " $PARTS " == *" pipeline "* ]]; then
  echo "writing synthetic PCAM (8192 train, 1024 valid patches) ..." >&2
  "$tmp/pcamflow" data synth -o "$tmp/data" --train 8192 --valid 1024 --test 256 -no-defects >/dev/null
  mkdir -p "$tmp/proj"
  cp bench/perf/pipeline.hcl "$tmp/proj/"
fi

# record TAG JSON: append one measurement with its round and tag
record() { "$PY" -c 'import json,sys; d=json.loads(sys.argv[3]); d.update(round=int(sys.argv[1]), case=sys.argv[2]); print(json.dumps(d))' "$1" "$2" "$3" >>"$out"; }
load() { cut -d' ' -f1 /proc/loadavg; }

# pcf_pipeline ROUND ARCH: one forced run of train.ARCH, one record per epoch
pcf_pipeline() {
  local log
  log=$(cd "$tmp/proj" && "$tmp/pcamflow" run pipeline.hcl -var "data=$tmp/data" -var "epochs=$EPOCHS" \
    -var "threads=$THREADS" -target "train.$2" --force "train.$2" 2>&1) || { echo "$log" >&2; return 1; }
  echo "$log" | "$PY" -c '
import json, re, sys
for line in sys.stdin:
    m = re.search(r"train\.(\w+) epoch (\d+)/\d+: .* (\d+(?:\.\d+)?)s (\d+) img/s", line)
    if m:
        print(json.dumps({"impl": "pcamflow", "arch": m.group(1), "epoch": int(m.group(2)),
                          "seconds": float(m.group(3)), "images_per_s": float(m.group(4))}))
' | while read -r j; do record "$1" pipeline "$j"; done
}

torch_pipeline() {
  local limit=0
  [ "$2" = cnn ] && limit=1536
  torch bench/perf/torch_pipeline.py --data "$tmp/data" --arch "$2" --epochs "$EPOCHS" --limit "$limit" \
    --threads "$THREADS" | while read -r j; do record "$1" pipeline "$j"; done
}

for r in $(seq "$ROUNDS"); do
  record "$r" load "{\"when\": \"start\", \"load\": $(load)}"
  echo "round $r/$ROUNDS (load $(load)) ..." >&2
  # alternate which side goes first, so that neither always meets the other's after-effects
  sides=(pcf torch)
  [ $((r % 2)) -eq 0 ] && sides=(torch pcf)
  for part in $PARTS; do
    for arch in mlp cnn; do
      case $part in
      train)
        steps=20
        [ "$arch" = cnn ] && steps=8
        for s in "${sides[@]}"; do
          if [ "$s" = pcf ]; then
            record "$r" train "$("$tmp/train" -arch "$arch" -steps "$steps" -threads "$THREADS")"
          else
            record "$r" train "$(torch bench/train/torch_bench.py --arch "$arch" --steps "$steps" --threads "$THREADS")"
          fi
        done
        ;;
      infer)
        for batch in 1 256; do
          for s in "${sides[@]}"; do
            if [ "$s" = pcf ]; then
              record "$r" "infer$batch" "$("$tmp/infer" -arch "$arch" -batch "$batch" -threads "$THREADS")"
            else
              record "$r" "infer$batch" "$(torch bench/perf/torch_infer.py --arch "$arch" --batch "$batch" --threads "$THREADS")"
            fi
          done
        done
        ;;
      pipeline)
        for s in "${sides[@]}"; do
          if [ "$s" = pcf ]; then pcf_pipeline "$r" "$arch"; else torch_pipeline "$r" "$arch"; fi
        done
        ;;
      esac
    done
  done
  record "$r" load "{\"when\": \"end\", \"load\": $(load)}"
done

"$PY" bench/perf/summary.py "$out" "$THREADS" "$TORCH_ENV"
