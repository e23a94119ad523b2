#!/usr/bin/env bash
# Planning benchmark of issue 13 item 5: `pcamflow plan` of a for_each fan-out of N command nodes
# plus one join that reads them all (N = 10,000, 30,000, 100,000; nothing ran: every key is
# computed), and of a *changed* 10,000-node fan-out (it ran once with seed 1; the plan is of seed 2,
# so every key is recomputed and every node says why, reading the last run's key components from
# the ref index that run left). Wall time, CPU time (user + system) and
# peak RSS from /usr/bin/time -v; each the minimum of REPS runs (default 3), binaries interleaved.
#
# Usage: bench/plan/run.sh AFTER_BINARY [BEFORE_BINARY]
#   e.g. go build -o /tmp/pcamflow-after ./cmd/pcamflow
#        git worktree add /tmp/before 65d5f2f && (cd /tmp/before && source scripts/env.sh && go build -o /tmp/pcamflow-before ./cmd/pcamflow)
#        bench/plan/run.sh /tmp/pcamflow-after /tmp/pcamflow-before
# The first call runs the 10,000 command nodes once (minutes on a loaded machine); the workspace
# is kept in BENCH_DIR (default /tmp/pcamflow-bench-plan) and reused by later calls.
set -euo pipefail
after="$(realpath "$1")"
before="${2:+$(realpath "$2")}"
reps="${REPS:-3}"
work="${BENCH_DIR:-/tmp/pcamflow-bench-plan}"
sizes="${SIZES:-10000 30000 100000}"
mkdir -p "$work"

# gen DIR N SEED writes DIR/fan.hcl.
gen() {
  mkdir -p "$1"
  cat > "$1/fan.hcl" <<HCL
pipeline "fan" {
  seed = $3
}

command "shard" {
  for_each = range($2)
  run      = ["sh", "-c", "echo \${each.key} > out/\${each.key}.txt"]
  outputs  = ["out/\${each.key}.txt"]
}

command "join" {
  run     = ["sh", "-c", "cat out/*.txt | wc -l > all.txt"]
  inputs  = [for s in command.shard : s.outputs[0]]
  outputs = ["all.txt"]
}
HCL
}

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB; $(date -u '+%F %H:%M UTC')"
echo "== load before: $(uptime | sed 's/.*load average/load average/')"
echo "== GOGC: ${GOGC:-pcamflow default}"

# measure LABEL BINARY DIR FILE prints "wall_s cpu_s rss_mib" of one plan (its output discarded).
measure() {
  local out
  out="$( (cd "$3" && rm -rf .pcamflow/fastpath && /usr/bin/time -v "$2" plan "$4" >/dev/null) 2>&1 )"
  echo "$out" | awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
    /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { m = $2 }
    END { printf "%.2f %.2f %.0f\n", w, u + s, m / 1024 }'
}

# row NAME DIR FILE measures each binary REPS times, interleaved, and prints the minima.
row() {
  local name="$1" dir="$2" file="$3"
  declare -A wall cpu rss
  for ((i = 0; i < reps; i++)); do
    for b in after before; do
      local bin="${!b:-}"
      [ -n "$bin" ] || continue
      read -r w c m < <(measure "$name" "$bin" "$dir" "$file")
      echo "   $name $b run $((i + 1)): ${w} s wall, ${c} s CPU, ${m} MiB" >&2
      if [ -z "${wall[$b]:-}" ] || awk "BEGIN{exit !($w < ${wall[$b]})}"; then wall[$b]=$w; fi
      if [ -z "${cpu[$b]:-}" ] || awk "BEGIN{exit !($c < ${cpu[$b]})}"; then cpu[$b]=$c; fi
      if [ -z "${rss[$b]:-}" ] || [ "$m" -lt "${rss[$b]}" ]; then rss[$b]=$m; fi
    done
  done
  if [ -n "$before" ]; then
    printf "| %s | %s s | %s s | %s MiB | %s s | %s s | %s MiB |\n" "$name" "${wall[before]}" "${cpu[before]}" "${rss[before]}" "${wall[after]}" "${cpu[after]}" "${rss[after]}"
  else
    printf "| %s | %s s | %s s | %s MiB |\n" "$name" "${wall[after]}" "${cpu[after]}" "${rss[after]}"
  fi
}

if [ -n "$before" ]; then
  table="| pipeline | before wall | before CPU | before RSS | after wall | after CPU | after RSS |
|---|---:|---:|---:|---:|---:|---:|"
else
  table="| pipeline | wall | CPU | RSS |
|---|---:|---:|---:|"
fi
for n in $sizes; do
  gen "$work/f$n" "$n" 1
  table+=$'\n'"$(row "fan-out $n + join (nothing ran)" "$work/f$n" fan.hcl)"
done

# The changed 10,000-node pipeline: run once (seed 1), then plan seed 2.
c="$work/changed10k"
if [ ! -f "$c/.ran" ]; then
  echo "== running the 10,000-node fan-out once (fills the cache for the changed plan)"
  rm -rf "$c" && gen "$c" 10000 1
  (cd "$c" && "$after" run -j 2 fan.hcl | tail -1) && touch "$c/.ran"
fi
# A run leaves the ref index plan reads (a workspace last run by a pcamflow without it has none):
# run the unchanged pipeline once more with the binary measured (every node cached; not the no-op
# fast path, which writes nothing).
(cd "$c" && rm -rf .pcamflow/fastpath && "$after" run fan.hcl | tail -1)
sed 's/seed = 1/seed = 2/' "$c/fan.hcl" > "$c/changed.hcl"
table+=$'\n'"$(row "changed 10,000 + join (every key recomputed)" "$c" changed.hcl)"

echo "== load after: $(uptime | sed 's/.*load average/load average/')"
echo
echo "$table"
