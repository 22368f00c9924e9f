#!/usr/bin/env bash
# The sanitizer stage of CI (run at the end of scripts/test.sh): builds fuzz/ with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer (build/fuzz), runs the sanitized Catch2
# tests and the replays of fuzz/regressions (ctest), then fuzzes every reader briefly:
# $SPORTSMED_FUZZ_RUNS executions per target from seed 1 (default 20000). Extra arguments go to
# scripts/fuzz.sh (e.g. target names).
#
# fuzz_dicom is left out of this short pass for now (its regressions still replay in
# ctest): GDCM asserts on yet more malformed headers every minute or two of fuzzing
# (fuzz/open/fuzz_dicom/), which would fail CI at random until the structural walk covers
# them; `scripts/fuzz.sh dicom` runs it. SPORTSMED_FUZZ_SKIP overrides the list.
export SPORTSMED_FUZZ_SKIP="${SPORTSMED_FUZZ_SKIP-fuzz_dicom}"
# The pass is reproducible (a fixed number of executions from a fixed seed, from the corpus
# make_corpus.py generates): a gate must not fail at random. Exploration is
# `scripts/fuzz.sh --minutes N`; what it finds is fixed and committed to fuzz/regressions/.
# SPORTSMED_FUZZ_SECONDS=N switches back to a time budget.
if [[ -n "${SPORTSMED_FUZZ_SECONDS:-}" ]]; then
    exec "$(dirname "${BASH_SOURCE[0]}")/fuzz.sh" --tests --seconds "$SPORTSMED_FUZZ_SECONDS" "$@"
fi
exec "$(dirname "${BASH_SOURCE[0]}")/fuzz.sh" --tests --runs "${SPORTSMED_FUZZ_RUNS:-20000}" "$@"
