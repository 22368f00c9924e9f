#!/usr/bin/env bash
# Every test: C++ (Catch2 through CTest, including the install + find_package example)
# and Python (pytest against the package installed into .venv). Exits non-zero on any
# failure. CI (.ci/run) calls exactly this.
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

step "all tests passed in $((SECONDS - start)) s"
