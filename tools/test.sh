#!/usr/bin/env bash
# Builds everything (Release) and runs every test: Catch2 suites and the Python checks
# (h5py, jsonschema) through CTest. Installs missing dependencies first. Where nvcc is, the
# LSTM's CUDA kernel is built with it as well, and checked where a GPU is.
# Then the same code under AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer
# (clang, the sanitize preset, build-san/; docs/reliability.md): the Catch2 suite, every
# bundled scenario and script through the sanitized `dosim run` and `dosim score`, and each
# libFuzzer harness for $DOSIM_FUZZ_SECONDS (default 10) seconds after replaying its saved
# regressions. Any sanitizer report or fuzzer finding fails the command.
set -euo pipefail
cd "$(dirname "$0")/.."
phase_start=$SECONDS
phase() {  # NAME: the time the phase that just ended took, so that CI's cost is visible
  echo "[test.sh] $1: $((SECONDS - phase_start)) s (total $SECONDS s)"
  phase_start=$SECONDS
}
bash tools/install-deps.sh
phase "dependencies"
cmake --preset release -DDOSIM_BUILD_TESTS=ON -DDOSIM_BUILD_BENCH=ON >/dev/null
cmake --build --preset release
phase "release build"
ctest --preset release -j2 --timeout 600
phase "release tests"

# Where nvcc is (these machines: /usr/local/cuda/bin/nvcc, off PATH; not CI's), it builds the
# CUDA variant too, so the CUDA code cannot stop compiling: the kernels, the GPU check and
# bench_lstm alone in build-cuda/ (bench/gpu_check.sh --build, about half a minute), and the
# check runs (it reports itself skipped without a GPU). Without nvcc the release suite's
# lstm_cuda_syntax has clang check the CUDA code.
if command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  bash bench/gpu_check.sh --build
  ctest --preset cuda
  phase "CUDA build and check"
fi

cmake --preset sanitize -DDOSIM_FUZZ=ON >/dev/null
cmake --build --preset sanitize
phase "sanitized build"
ctest --preset sanitize  # the Catch2 suite and the browser tests (sanitized report and serve); no pytest, golden or install tests
export ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
runs=build-san/tmp/runs
mkdir -p "$runs"
sanitized_run() {  # SCENARIO [--script SCRIPT]: dosim run, then dosim score of its trace
  local trace
  trace="$runs/$(basename "$1" .yaml)${3:+-$(basename "$3" .lua)}.h5"
  if ! build-san/cli/dosim run -q "$@" -o "$trace" >/dev/null ||
     ! build-san/cli/dosim score "$trace" >/dev/null; then
    echo "sanitized dosim run $* failed"
    exit 1
  fi
}
for scenario in scenarios/*.yaml; do
  sanitized_run "$scenario"
done
for script in scripts/*.lua; do
  sanitized_run "$(sed -n 's/^-- scenario: //p' "$script" | head -1)" --script "$script"
done
echo "sanitized runs: every bundled scenario and script, no report"
phase "sanitized tests and runs"
# A fixed libFuzzer seed and a fixed number of inputs, so that a CI run is repeatable: the
# same mutations every time (a slower machine stopped by the time cap runs a prefix of them).
# The trace and model harnesses only replay their seeds and regressions here: each of their
# inputs costs a fork (untrusted HDF5 is read in a child first, docs/reliability.md), so a
# minute would try too little; fuzz them by hand, in fork mode.
seconds=${DOSIM_FUZZ_SECONDS:-60}
FUZZ_FLAGS="-seed=1 -runs=15000" bash fuzz/run_fuzzers.sh build-san "$seconds" scenario
FUZZ_FLAGS="-seed=1 -runs=20000" bash fuzz/run_fuzzers.sh build-san "$seconds" csv
FUZZ_FLAGS="-seed=1 -runs=3000" bash fuzz/run_fuzzers.sh build-san "$seconds" lua
bash fuzz/run_fuzzers.sh build-san 0 trace model
phase "fuzzers"
