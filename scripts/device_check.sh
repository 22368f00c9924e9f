#!/usr/bin/env bash
# GPU check of the seg pillar, run on a lent CUDA machine (see README, "GPU"):
# builds tools/device_check against the LibTorch inside the pip `torch` wheel (CUDA),
# trains the default model's configuration for a few minutes per precision, segments a
# 384×384×160 volume, and writes the times as JSON to $OUT (or build/device).
#
#   scripts/device_headers.sh            # here: copies Eigen/fmt/nlohmann headers to build/device-headers
#   scripts/device_check.sh [driver options, e.g. --minutes 1.5 --precisions float32,bfloat16,float16]
#
# It also builds and runs against Debian's LibTorch 1.13 (CPU) on the development machine.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PY="${PYTHON:-python3}"
BUILD="${DEVICE_BUILD:-$REPO/build/device}"
OUTDIR="${OUT:-$BUILD}"
HEADERS="${SPORTSMED_HEADERS:-$REPO/build/device-headers}"
JOBS="$(nproc)"

args=(-DCMAKE_BUILD_TYPE=Release)
if [[ -d "$HEADERS" ]]; then args+=("-DSPORTSMED_HEADERS=$HEADERS"); fi
if TORCH_DIR="$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)"; then
    PREFIX="$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
    ABI="$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
    "$PY" -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
    args+=("-DCMAKE_PREFIX_PATH=$PREFIX" "-DTORCH_ROOT=$TORCH_DIR" "-DTORCH_CXX11_ABI=$ABI")
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true

# TorchConfig.cmake of a CUDA wheel looks for a CUDA toolkit; without one, link by hand.
if ! cmake -S tools/device_check -B "$BUILD" "${args[@]}"; then
    echo "TorchConfig.cmake failed: linking LibTorch by hand"
    rm -rf "$BUILD"
    cmake -S tools/device_check -B "$BUILD" "${args[@]}" -DDEVICE_CHECK_TORCH_MANUAL=ON
fi
start=$(date +%s)
cmake --build "$BUILD" -j"$JOBS"
echo "build: $(( $(date +%s) - start )) s"
mkdir -p "$OUTDIR"
"$BUILD/sportsmed_device_check" --out "$OUTDIR/device_check.json" "$@"
