#!/usr/bin/env bash
# Installs every Debian package sportsmed needs to build, test and run.
# Idempotent: safe to run again; must run as root (or through sudo).
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    exec sudo -E "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive

packages=(
    # toolchain
    build-essential cmake ccache pkg-config git
    # sanitizers and libFuzzer (fuzz/, scripts/fuzz.sh, scripts/sanitize.sh)
    clang libclang-rt-dev
    # C++ dependencies
    libtorch-dev libeigen3-dev libfmt-dev pybind11-dev catch2 zlib1g-dev
    libnifti2-dev libgdcm-dev libxgboost-dev nlohmann-json3-dev
    # Python (Debian's /usr/bin/python3 and its packages; no PyPI here)
    python3 python3-dev python3-venv python3-pip python3-setuptools python3-wheel
    python3-pybind11 python3-numpy python3-pytest python3-pandas python3-matplotlib
    python3-scipy python3-sklearn python3-tqdm python3-statsmodels python3-nibabel
    python3-torch
    # cohorts on Dask (sportsmed.cohort)
    python3-dask python3-distributed python3-h5py   # h5py: columnar result tables (HDF5)
    # de-identification tests read and write DICOM with a peer library (tests/python/test_deid.py)
    python3-pydicom
    # report tests in a real browser (tests/python/browser.py: headless Chromium, DevTools protocol)
    chromium python3-websocket
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "setup: all ${#packages[@]} packages already installed"
    exit 0
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
