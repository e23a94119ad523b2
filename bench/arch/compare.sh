#!/usr/bin/env bash
# Before/after benchmark of the runner architecture change (issue 8), in ONE session so that both
# sides see the same machine load: the runner's in-process plan and no-op benchmarks
# (runner/bench_test.go, which compiles against both), the CLI no-op run and plan of the 10,000-node
# fan-out of bench/noop (fast path, full plan, and a full no-op walk), the quickstart no-op run, and
# pipelines' load benchmark. Rounds alternate old/new.
# Usage: bench/arch/compare.sh [OLD_REF]   (default: the merge base with main). Needs hyperfine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
old_ref="${1:-$(git -C "$root" merge-base HEAD main)}"
work="${BENCH_DIR:-/tmp/pcamflow-bench-arch}"
n=10000
export PATH=/usr/local/go/bin:$PATH CGO_ENABLED=1
source "$root/scripts/env.sh"

rm -rf "$work" && mkdir -p "$work"
git -C "$root" worktree remove --force "$work/old-src" >/dev/null 2>&1 || true
git -C "$root" worktree add --detach "$work/old-src" "$old_ref" >/dev/null
trap 'git -C "$root" worktree remove --force "$work/old-src" >/dev/null 2>&1 || true' EXIT
cp "$root/runner/bench_test.go" "$work/old-src/runner/bench_test.go"
(cd "$work/old-src" && go build -o "$work/pcamflow-old" ./cmd/pcamflow)
(cd "$root" && go build -o "$work/pcamflow-new" ./cmd/pcamflow)

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F); old $(git -C "$root" rev-parse --short "$old_ref"), new $(git -C "$root" rev-parse --short HEAD)"
echo "== load at start: $(uptime)"

echo "== runner benchmarks (in process; ns/op), rounds alternate old/new"
for round in 1 2; do
  for side in old new; do
    src="$root"; [ "$side" = old ] && src="$work/old-src"
    (cd "$src" && go test -run '^$' -bench 'Plan10k|PlanChanged10k|NoopRun10k' -benchtime 5x -count 1 ./runner/) \
      | awk -v s="$side" -v r="$round" '/^Benchmark/ {printf "round %s %-4s %-28s %8.0f ms/op\n", r, s, $1, $3/1e6}'
    echo "   load: $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done

echo "== pipelines load benchmark"
for side in old new; do
  src="$root"; [ "$side" = old ] && src="$work/old-src"
  (cd "$src" && go test -run '^$' -bench 'Load10k' -benchtime 5x -count 1 ./pipelines/) \
    | awk -v s="$side" '/^Benchmark/ {printf "%-4s %-28s %8.0f ms/op\n", s, $1, $3/1e6}'
done

echo "== CLI: $n-node fan-out (bench/noop/gen.py); first executing runs"
for side in old new; do
  mkdir -p "$work/fan-$side"
  python3 "$root/bench/noop/gen.py" "$work/fan-$side" "$n"
  (cd "$work/fan-$side" && "$work/pcamflow-$side" run -j 2 fanout.hcl | tail -1)
done
for order in "old new" "new old"; do
  args=()
  for side in $order; do
    args+=(-n "$side run (no-op, fingerprint)" "cd $work/fan-$side && $work/pcamflow-$side run fanout.hcl")
    args+=(-n "$side plan (fingerprint)" "cd $work/fan-$side && $work/pcamflow-$side plan fanout.hcl")
    args+=(-n "$side plan --stats (full plan)" "cd $work/fan-$side && $work/pcamflow-$side plan --stats fanout.hcl")
    args+=(-n "$side run --target join (full no-op walk)" "cd $work/fan-$side && $work/pcamflow-$side run --target command.join fanout.hcl")
  done
  hyperfine -w 1 -r 5 -S bash --export-markdown "$work/fan-$(echo $order | tr ' ' -).md" "${args[@]}" >/dev/null
  cat "$work/fan-$(echo $order | tr ' ' -).md"
  echo "   load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
for side in old new; do
  (cd "$work/fan-$side" && /usr/bin/time -f "$side plan --stats: %e s, max RSS %M KiB" "$work/pcamflow-$side" plan --stats fanout.hcl >/dev/null 2>/dev/null) 2>&1 | tail -1
done

echo "== CLI: quickstart no-op"
for side in old new; do
  mkdir -p "$work/qs-$side/pipelines" && cp "$root/pipelines/quickstart.hcl" "$work/qs-$side/pipelines/"
  (cd "$work/qs-$side" && "$work/pcamflow-$side" run | tail -1)
done
hyperfine -w 2 -r 20 -S bash --export-markdown "$work/qs.md" \
  -n "old run (no-op)" "cd $work/qs-old && $work/pcamflow-old run" \
  -n "new run (no-op)" "cd $work/qs-new && $work/pcamflow-new run" >/dev/null
cat "$work/qs.md"
echo "== load at end: $(uptime)"
