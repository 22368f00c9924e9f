#!/usr/bin/env bash
# The main job on the embedded default: installs what is needed, builds and installs
# sportsmed into .venv, then runs it. Usage: ./scripts/demo.sh [report.html]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages
install_package

step "sportsmed info"
"$VENV/bin/sportsmed" info

step "sportsmed demo"
"$VENV/bin/sportsmed" demo -o "${1:-$REPO/sportsmed_demo_report.html}"
