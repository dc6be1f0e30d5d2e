#!/usr/bin/env bash
# Validation and simulation cost against the size of a scenario (issue 13): for each of
# dependencies, faults and replicas, scenarios of growing size (bench/scaled_scenario.py),
# timed through `dosim validate` and `dosim run` (best of 3, one core), with the cost per
# item. Near-linear means the last column stays flat. Usage:
#   bash bench/run_input_scaling.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
dosim=$build/cli/dosim
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

best_of_3() {  # seconds of the fastest of three runs of "$@"
  local best=
  for _ in 1 2 3; do
    local start end
    start=$(date +%s.%N)
    taskset -c 0 "$@" >/dev/null
    end=$(date +%s.%N)
    best=$(awk -v s="$start" -v e="$end" -v b="$best" 'BEGIN { t = e - s; print (b == "" || t < b) ? t : b }')
  done
  printf '%.3f' "$best"
}

printf '| input | N | validate (s) | validate us per item | run (s) | run us per item | peak memory of the run (MiB) |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for spec in "dependencies 1000 10000 50000" "faults 1000 5000 20000" "replicas 1000 100000 1000000"; do
  read -r kind sizes <<< "$spec"
  for n in $sizes; do
    /usr/bin/python3 bench/scaled_scenario.py "$kind" "$n" > "$work/s.yaml"
    validate=$(best_of_3 "$dosim" validate "$work/s.yaml")
    run=$(best_of_3 "$dosim" run -q "$work/s.yaml" -o "$work/t.h5")
    memory=$(/usr/bin/time -f '%M' taskset -c 0 "$dosim" run -q "$work/s.yaml" -o "$work/t.h5" 2>&1 >/dev/null | tail -1)
    awk -v k="$kind" -v n="$n" -v v="$validate" -v r="$run" -v m="$memory" 'BEGIN {
      printf "| %s | %d | %.3f | %.1f | %.3f | %.1f | %.0f |\n", k, n, v, v * 1e6 / n, r, r * 1e6 / n, m / 1024 }'
  done
done
