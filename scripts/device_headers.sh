#!/usr/bin/env bash
# Copies the header-only dependencies of tools/device_check (Eigen, fmt, nlohmann/json)
# from Debian's /usr/include into build/device-headers, to carry to a GPU machine that
# has pip torch but not these packages.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$REPO/build/device-headers"
rm -rf "$DEST" && mkdir -p "$DEST"
cp -r /usr/include/eigen3 /usr/include/fmt /usr/include/nlohmann "$DEST/"
du -sh "$DEST"
