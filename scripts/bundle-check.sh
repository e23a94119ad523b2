#!/usr/bin/env bash
# bundle-check.sh: must-show 2 of issue 11. It proves that an offline bundle runs on a bare Debian:
#
#   1. builds pcamflow, trains a small model on synthetic PCAM in a fresh project, chooses its
#      threshold, and writes the bundle (pcamflow bundle train.mlp --threshold threshold.f2);
#   2. builds a minimal Debian root with `debootstrap --variant=minbase` (cached as a tarball under
#      $PCAMFLOW_CACHE_DIR, default ~/.cache/pcamflow, so reruns skip the download) and checks that
#      it has no HDF5 and no OpenBLAS (neither packages nor files);
#   3. copies the bundle and the inputs in, and runs the bundle's launcher inside `chroot` in a new
#      network namespace (`unshare -n`: only a loopback device that is down — no network) on the
#      official-layout HDF5 test split (camelyonpatch_level_2_split_test_x.h5 + _y.h5, written by
#      the synthetic generator) and on the Kaggle TIFF sample (/work/shared/fixtures/kaggle-pcam-sample);
#   4. runs `pcamflow infer` in the workspace on the same inputs with the same threshold and compares
#      the columns input,index,id,probability,label byte for byte (the bundle adds a drift column);
#   5. checks that `bundle verify` passes, and fails naming the file after one flipped byte.
#
# It needs root (debootstrap, chroot, unshare, mount) and, on the first run, the Debian mirror.
# It is opt-in: `make bundle-check`, or `PCAMFLOW_BUNDLE_CHECK=1 go test ./cli -run TestBundleCheck`.
# The last line is "bundle-check: PASS ..." or the script exits non-zero naming the failed step.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${PCAMFLOW_CACHE_DIR:-${HOME:-/root}/.cache/pcamflow}/debootstrap
suite=${BUNDLE_CHECK_SUITE:-bookworm}
mirror=${BUNDLE_CHECK_MIRROR:-http://deb.debian.org/debian}
kaggle=${BUNDLE_CHECK_KAGGLE:-/work/shared/fixtures/kaggle-pcam-sample/train}
tarball=$cache/$suite-minbase-$(dpkg --print-architecture).tar

fail() { echo "bundle-check: FAIL: $*" >&2; exit 1; }
step() { echo "bundle-check: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, unshare -n, mount)"
for tool in unshare chroot mount tar sha256sum cmp; do
	command -v "$tool" >/dev/null || fail "needs $tool"
done
[ -d "$kaggle" ] || fail "no Kaggle TIFF sample at $kaggle (set BUNDLE_CHECK_KAGGLE)"

work=$(mktemp -d /tmp/pcamflow-bundle-check.XXXXXX)
root=$work/root
cleanup() {
	# The proc mount lives in the unshared mount namespace and is gone with it; only files remain.
	rm -rf "$work"
}
if [ -z "${BUNDLE_CHECK_KEEP:-}" ]; then trap cleanup EXIT; else step "keeping $work"; fi

# 1. Build pcamflow and make a bundle in a fresh project.
step "building pcamflow"
source "$here/scripts/env.sh"
(cd "$here" && go build -o "$work/pcamflow" ./cmd/pcamflow)
pcamflow=$work/pcamflow
mkdir -p "$work/project"
cd "$work/project"
cat > p.hcl <<'EOF'
pipeline "bundle_check" {
  seed = 11
}
dataset "d" {
  synthetic = { train = 256, valid = 128, test = 64, seed = 5 }
}
data_audit "a" {
  dataset = dataset.d
}
train "mlp" {
  dataset    = data_audit.a.clean
  model      = { arch = "mlp", hidden_units = [16] }
  epochs     = 2
  batch_size = 32
}
threshold "f2" {
  model   = train.mlp
  dataset = data_audit.a.clean
}
evaluate "test" {
  model     = train.mlp
  dataset   = data_audit.a.clean
  threshold = threshold.f2
}
EOF
step "training a model in $work/project"
"$pcamflow" run p.hcl >run.log 2>&1 || { tail -20 run.log; fail "pcamflow run"; }
"$pcamflow" data synth -o "$work/inputs" --train 64 --valid 64 --test 300 --seed 23 >/dev/null
mkdir -p "$work/inputs/kaggle"
cp "$kaggle"/*.tif "$work/inputs/kaggle/"
for s in train valid; do rm -f "$work/inputs"/camelyonpatch_level_2_split_${s}_*; done
"$pcamflow" bundle p.hcl train.mlp --threshold threshold.f2 -o "$work/bundle" 2>bundle.log || { cat bundle.log; fail "pcamflow bundle"; }
bundle_bytes=$(du -sb "$work/bundle" | cut -f1)
libs=$(ls "$work/bundle/lib" | tr '\n' ' ')
step "bundle: $(du -sh "$work/bundle" | cut -f1) ($bundle_bytes bytes), $(ls "$work/bundle/lib" | wc -l) libraries: $libs"
"$pcamflow" bundle verify "$work/bundle" >/dev/null || fail "bundle verify of the fresh bundle"

# 2. A minimal Debian root, cached as a tarball.
if [ ! -s "$tarball" ]; then
	command -v debootstrap >/dev/null || apt-get install -y debootstrap >/dev/null
	step "debootstrap --variant=minbase $suite (first run; cached as $tarball)"
	mkdir -p "$cache"
	tmproot=$(mktemp -d "$cache/rootfs.XXXXXX")
	debootstrap --variant=minbase "$suite" "$tmproot" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
		tail -20 "$cache/debootstrap.log"; rm -rf "$tmproot"; fail "debootstrap"; }
	tar -C "$tmproot" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	rm -rf "$tmproot"
fi
step "unpacking $tarball"
mkdir -p "$root"
tar -C "$root" -xf "$tarball"
if chroot "$root" dpkg-query -W -f '${Package}\n' | grep -E '^lib(hdf5|openblas|blas|lapack|gfortran|sz|aec|curl)' ; then
	fail "the minimal root has HDF5/BLAS packages: it is not bare"
fi
if find "$root" \( -name 'libhdf5*' -o -name 'libopenblas*' -o -name 'libgfortran*' \) | grep . ; then
	fail "the minimal root has HDF5/OpenBLAS files"
fi
step "the minimal root has $(chroot "$root" dpkg-query -W -f '${Package}\n' | wc -l) packages, no libhdf5, no libopenblas"
# The unbundled binary cannot start there: proof that the root lacks what the bundle carries.
cp "$pcamflow" "$root/pcamflow-bare"
if chroot "$root" /pcamflow-bare version >"$work/bare.log" 2>&1; then
	fail "the bare binary ran in the minimal root: the check would prove nothing"
fi
step "without the bundle: $(head -1 "$work/bare.log")"
rm "$root/pcamflow-bare"

# 3. The bundle inside chroot, without network.
cp -a "$work/bundle" "$root/opt/bundle"
cp -a "$work/inputs" "$root/data"
netdevs=$(unshare -n sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " "')
[ "$netdevs" = "lo " ] || fail "unshare -n left network devices: $netdevs"
step "running the bundle in chroot with unshare -n (network devices: $netdevs)"
unshare -n -m --fork sh -c "mount -t proc proc '$root/proc' && exec chroot '$root' sh -c 'cd /data && /opt/bundle/pcamflow infer camelyonpatch_level_2_split_test_x.h5 kaggle'" \
	>"$work/bundle.csv" 2>"$work/bundle.err" || { cat "$work/bundle.err"; fail "infer in the minimal root"; }
sed 's/^/  chroot stderr: /' "$work/bundle.err"
unshare -n -m --fork sh -c "mount -t proc proc '$root/proc' && exec chroot '$root' /opt/bundle/pcamflow bundle verify /opt/bundle" >"$work/verify.out" 2>&1 ||
	{ cat "$work/verify.out"; fail "bundle verify in the minimal root"; }

# 4. The workspace's infer on the same inputs with the same threshold.
thr=$(sed -n 's/^  "value": *\([-0-9.eE+]*\),*$/\1/p' "$work/bundle/threshold.json" | head -1)
[ -n "$thr" ] || fail "no threshold value in the bundle's threshold.json"
ckpt=$(ls .pcamflow/out/train.mlp/best.ckpt)
(cd "$work/inputs" && "$pcamflow" infer --model "$work/project/$ckpt" --threshold "$thr" camelyonpatch_level_2_split_test_x.h5 kaggle) \
	>"$work/workspace.csv" 2>"$work/workspace.err" || { cat "$work/workspace.err"; fail "infer in the workspace"; }
cut -d, -f1-5 "$work/bundle.csv" >"$work/bundle5.csv"
rows=$(($(wc -l <"$work/workspace.csv") - 1))
h5rows=$(grep -c '^camelyonpatch_level_2_split_test_x.h5,' "$work/workspace.csv" || true)
tifrows=$(grep -c '^kaggle/' "$work/workspace.csv" || true)
[ "$h5rows" = 300 ] && [ "$tifrows" -gt 0 ] || fail "expected 300 HDF5 rows and some TIFF rows, got $h5rows and $tifrows"
if cmp -s "$work/bundle5.csv" "$work/workspace.csv"; then
	identical=yes
else
	diff "$work/bundle5.csv" "$work/workspace.csv" | head -5
	fail "the bundle's predictions in the minimal root differ from the workspace's"
fi
step "$rows patches ($h5rows from the official-layout HDF5, $tifrows Kaggle TIFFs): input,index,id,probability,label bit-identical: $identical (sha256 $(sha256sum <"$work/workspace.csv" | cut -c1-16))"
step "drift flags in the minimal root: $(cut -d, -f6 "$work/bundle.csv" | tail -n +2 | sort | uniq -c | tr -s ' ' | tr '\n' ';')"

# 5. A flipped byte is caught.
printf '\x01' | dd of="$work/bundle/model/model.ckpt" bs=1 seek=100 conv=notrunc status=none
if "$pcamflow" bundle verify "$work/bundle" >"$work/verify-bad.out"; then
	fail "bundle verify passed after a flipped byte"
fi
grep -q '^changed: model/model.ckpt' "$work/verify-bad.out" || { cat "$work/verify-bad.out"; fail "bundle verify did not name model/model.ckpt"; }
step "a flipped byte: $(head -1 "$work/verify-bad.out")"
echo "bundle-check: PASS: bundle of $bundle_bytes bytes with $(ls "$work/bundle/lib" | wc -l) libraries ran in a debootstrap minbase $suite root without HDF5/OpenBLAS or network; $rows probabilities bit-identical: $identical"
