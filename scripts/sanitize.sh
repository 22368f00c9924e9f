#!/usr/bin/env bash
# The sanitizer stage of CI (run at the end of scripts/test.sh): builds fuzz/ with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer (build/fuzz), runs the sanitized Catch2
# tests and the replays of fuzz/regressions (ctest), then fuzzes every reader briefly:
# $SPORTSMED_FUZZ_SECONDS seconds per target (default 20). Extra arguments go to
# scripts/fuzz.sh (e.g. target names).
exec "$(dirname "${BASH_SOURCE[0]}")/fuzz.sh" --tests --seconds "${SPORTSMED_FUZZ_SECONDS:-20}" "$@"
