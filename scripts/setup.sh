#!/usr/bin/env bash
# Installs what pcamflow needs on a Debian machine, idempotently.
#   scripts/setup.sh build   packages to build and run pcamflow (cgo: HDF5, OpenBLAS, SQLite), and Graphviz
#                            for the README's `pcamflow graph | dot -Tsvg`
#   scripts/setup.sh test    + what the tests use (h5py/sklearn references, HDF5 tools, Slurm + munge,
#                            Chromium to render the report)
#   scripts/setup.sh bench   + what the benchmarks compare against (PyTorch, Snakemake, hyperfine)
# Only missing packages are installed; a machine that has them all is not touched. When another apt
# or dpkg process holds the package lock (unattended upgrades, another setup), apt waits for it
# (up to 10 minutes) instead of failing.
set -euo pipefail

profile="${1:-build}"
pkgs=(gcc libc6-dev pkg-config libhdf5-dev libopenblas-dev libsqlite3-dev graphviz)
case "$profile" in
  build) ;;
  test) pkgs+=(hdf5-tools python3-h5py python3-sklearn python3-numpy slurm-wlm munge procps chromium) ;;
  bench) pkgs+=(hdf5-tools python3-h5py python3-sklearn python3-numpy slurm-wlm munge procps python3-torch snakemake hyperfine) ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  apt=(apt-get -o DPkg::Lock::Timeout=600)
  $sudo env DEBIAN_FRONTEND=noninteractive "${apt[@]}" update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "setup: Go is not installed. Install Go 1.26 from https://go.dev/dl/ (Debian's golang package is too old)." >&2
  exit 1
fi
echo "setup: $profile dependencies present ($(go version | cut -d' ' -f3))"
