#!/usr/bin/env bash
# Benchmarks pcamflow's TPE and random samplers (package hpo) against Debian's
# python3-optuna 3.1 on the same test functions, seeds and budget, in one
# session, and writes bench/tpe/results/{pcamflow.csv,optuna.csv,summary.md}.
#
#   bench/tpe/run.sh                       # 30 seeds x 50 trials, tpe,random,tpe-mv
#   SEEDS=10 SAMPLERS=tpe bench/tpe/run.sh  # a quicker look
#
# Needs python3-optuna (apt-get install -y python3-optuna). Both runs are
# niced; the machine's load is recorded before and after, because the
# overhead columns are wall-clock times.
set -euo pipefail
cd "$(dirname "$0")/../.."
SEEDS=${SEEDS:-30}
TRIALS=${TRIALS:-50}
SAMPLERS=${SAMPLERS:-tpe,random,tpe-mv}
FUNCTIONS=${FUNCTIONS:-branin,hartmann6,mixed4}
PYTHON=${PYTHON:-/usr/bin/python3}
out=bench/tpe/results
mkdir -p "$out"
bin=$(mktemp -d)/tpe
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./bench/tpe

{
  echo "# bench/tpe results"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs"
  echo "- go: $(go version | cut -d' ' -f3), optuna: $("$PYTHON" -c 'import optuna; print(optuna.__version__)'), numpy: $("$PYTHON" -c 'import numpy; print(numpy.__version__)')"
  echo "- budget: $SEEDS seeds x $TRIALS trials; samplers $SAMPLERS; functions $FUNCTIONS"
  echo "- load before: $(uptime | sed 's/.*load average: //')"
} > "$out/summary.md.tmp"

t0=$(date +%s)
nice -n 10 "$bin" -seeds "$SEEDS" -trials "$TRIALS" -samplers "$SAMPLERS" -functions "$FUNCTIONS" > "$out/pcamflow.csv.tmp"
t1=$(date +%s)
nice -n 10 "$PYTHON" bench/tpe/optuna_ref.py --seeds "$SEEDS" --trials "$TRIALS" --samplers "$SAMPLERS" --functions "$FUNCTIONS" > "$out/optuna.csv.tmp"
t2=$(date +%s)
mv "$out/pcamflow.csv.tmp" "$out/pcamflow.csv"
mv "$out/optuna.csv.tmp" "$out/optuna.csv"

{
  echo "- load after: $(uptime | sed 's/.*load average: //')"
  echo "- wall time: pcamflow $((t1 - t0)) s, optuna $((t2 - t1)) s"
  echo
  "$PYTHON" bench/tpe/summarize.py "$out/pcamflow.csv" "$out/optuna.csv"
} >> "$out/summary.md.tmp"
mv "$out/summary.md.tmp" "$out/summary.md"
cat "$out/summary.md"
