#!/usr/bin/env bash
# No-op benchmark of issue 2: pcamflow vs Snakemake on the same DAGs, in one run.
#  - a fan-out of 10,000 trivial command nodes into one join (fanout.hcl / Snakefile.fanout)
#  - the quickstart pipeline (pipelines/quickstart.hcl / Snakefile.quickstart)
#  - plan of the 10,000-node pipeline: time and peak RSS
#  - a new 2 GB input: first plan hashes it, the second plan answers from the stat cache
# Usage: bench/noop/run.sh [N]   (N defaults to 10000). Needs snakemake and hyperfine (make bench installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/bin/pcamflow"
n="${1:-10000}"
work="${BENCH_DIR:-/tmp/pcamflow-bench-noop}"
rm -rf "$work" && mkdir -p "$work/fan" "$work/qs"

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F)"
echo "== pcamflow $("$bin" version | cut -d' ' -f2); $(snakemake --version | sed 's/^/snakemake /')"

python3 "$here/gen.py" "$work/fan" "$n"
cp "$here/Snakefile.quickstart" "$work/qs/Snakefile"
mkdir -p "$work/qs/pipelines" && cp "$root/pipelines/quickstart.hcl" "$work/qs/pipelines/"

echo "== first (executing) runs, to fill the caches"
(cd "$work/fan" && "$bin" run -j 2 fanout.hcl | tail -1)
(cd "$work/fan" && snakemake -s Snakefile.fanout --cores 2 -q >/dev/null 2>&1 && echo "snakemake fan-out done")
(cd "$work/qs" && "$bin" run | tail -1)
(cd "$work/qs" && snakemake --cores 1 -q >/dev/null 2>&1 && echo "snakemake quickstart done")

echo "== no-op: $n-node fan-out"
(cd "$work/fan" && hyperfine -N -w 1 -r 5 --export-markdown "$work/fan.md" \
  -n "pcamflow run (no-op)" "$bin run fanout.hcl" \
  -n "pcamflow plan" "$bin plan fanout.hcl" \
  -n "snakemake -n (no-op dry run)" "snakemake -s Snakefile.fanout -n --cores 2 -q" \
  -n "snakemake (no-op)" "snakemake -s Snakefile.fanout --cores 2 -q")
echo "== no-op: quickstart"
(cd "$work/qs" && hyperfine -N -w 2 -r 20 --export-markdown "$work/qs.md" \
  -n "pcamflow run (no-op)" "$bin run" \
  -n "snakemake -n (no-op dry run)" "snakemake -n --cores 1 -q" \
  -n "snakemake (no-op)" "snakemake --cores 1 -q")
echo "== peak RSS of plan on the $n-node pipeline"
(cd "$work/fan" && /usr/bin/time -f "plan: %e s, max RSS %M KiB" "$bin" plan fanout.hcl >/dev/null)

echo "== hashing a new 2 GB input"
mkdir -p "$work/big" && cd "$work/big"
head -c 2147483648 /dev/urandom > big.bin
sleep 3   # a file modified within 2 s of being hashed is not trusted by the stat cache (racy-clean guard)
cat > big.hcl <<'HCL'
command "use" {
  run    = ["true"]
  inputs = ["big.bin"]
}
HCL
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
/usr/bin/time -f "first plan (hashes 2 GiB, cold page cache when root): %e s" "$bin" plan --stats big.hcl >/dev/null
/usr/bin/time -f "second plan (file unchanged, stat cache warm): %e s" "$bin" plan --stats big.hcl >/dev/null
rm -f big.bin
cat "$work/fan.md" "$work/qs.md"
