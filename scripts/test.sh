#!/usr/bin/env bash
# Every test: C++ (Catch2 through CTest, including the install + find_package example),
# Python (pytest against the package installed into .venv), then the sanitizer stage
# (scripts/sanitize.sh: ASan + UBSan tests and a short fuzz pass of every reader; skip it
# with SPORTSMED_SKIP_SANITIZERS=1). Exits non-zero on any failure. CI (.ci/run) calls
# exactly this.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start=$SECONDS

ensure_packages
ensure_venv

step "configure ($SPORTSMED_BUILD_DIR)"
cmake -S "$REPO" -B "$SPORTSMED_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    -DSPORTSMED_BUILD_TESTS=ON -DSPORTSMED_BUILD_PYTHON=ON \
    -DPython_EXECUTABLE="$VENV/bin/python"

step "build"
cmake --build "$SPORTSMED_BUILD_DIR" -j "$CMAKE_BUILD_PARALLEL_LEVEL"

step "C++ tests (ctest)"
ctest --test-dir "$SPORTSMED_BUILD_DIR" --output-on-failure -j "$CMAKE_BUILD_PARALLEL_LEVEL"

install_package

step "Python tests (pytest, installed package)"
cd "$REPO"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/python "$@"

# Sanitizers: the readers and the non-LibTorch C++ tests under ASan + UBSan, plus a short
# libFuzzer pass per reader (scripts/sanitize.sh; ~11 min measured from a clean build/fuzz).
# SPORTSMED_SKIP_SANITIZERS=1 skips it; SPORTSMED_FUZZ_SECONDS sets the time per reader.
if [[ "${SPORTSMED_SKIP_SANITIZERS:-0}" == 1 ]]; then
    step "sanitizers skipped (SPORTSMED_SKIP_SANITIZERS=1)"
else
    "$REPO/scripts/sanitize.sh"
fi

step "all tests passed in $((SECONDS - start)) s"
