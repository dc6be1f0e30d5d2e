#!/usr/bin/env bash
# World model benchmarks for bench/RESULTS.md: tick throughput at 10 / 1,000 / 10,000
# services, then a day and a week of 1,000 services end to end, each horizon in its own
# process so that peak memory can be compared. Usage: bash bench/run_world_e2e.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
cmake --build "$build" --target bench_world bench_end_to_end -j2 >/dev/null
taskset -c 0 "$build/bench/bench_world" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
for days in 1 7; do
  taskset -c 0 "$build/bench/bench_end_to_end" --benchmark_filter="BM_EndToEnd/1000/$days/"
done
