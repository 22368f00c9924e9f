# Sourced by the scripts in this folder: paths and the steps they share.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3                         # Debian's interpreter, with Debian's numpy
VENV="${SPORTSMED_VENV:-$REPO/.venv}"
export SPORTSMED_BUILD_DIR="${SPORTSMED_BUILD_DIR:-$REPO/build/ci}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
export CCACHE_BASEDIR="$REPO"

step() { printf '\n==> %s\n' "$*"; }

ensure_packages() {
    step "Debian packages (scripts/setup.sh)"
    "$REPO/scripts/setup.sh"
}

ensure_venv() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        step "virtual environment $VENV (system site packages)"
        "$PY" -m venv --system-site-packages "$VENV"
    fi
}

# Installs the package into the venv with pip; the CMake build in $SPORTSMED_BUILD_DIR
# is reused, so objects already built by the C++ test build are not compiled twice.
install_package() {
    ensure_venv
    step "pip install --no-build-isolation (build dir $SPORTSMED_BUILD_DIR)"
    # setuptools stages the package in build/lib.* and never removes files deleted from
    # the source tree since: start from a clean stage.
    rm -rf "$REPO"/build/lib.* "$REPO"/build/bdist.*
    "$VENV/bin/python" -m pip install --no-build-isolation --no-index --no-deps \
        --disable-pip-version-check -q "$REPO"
}
