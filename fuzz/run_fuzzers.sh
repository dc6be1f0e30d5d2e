#!/usr/bin/env bash
# Runs dosim's libFuzzer harnesses (docs/reliability.md), built by the sanitize preset.
#
#   fuzz/run_fuzzers.sh [BUILD_DIR [SECONDS_EACH [HARNESS...]]]
#
# For each harness (default: all five): fills BUILD_DIR/fuzz/seeds/<harness> from the bundled
# files, replays every saved crash input of fuzz/regressions/<harness>/ once, then fuzzes it
# SECONDS_EACH seconds (default 10; 0: replay only) over BUILD_DIR/fuzz/corpus/<harness> (kept
# between runs; new inputs land there) and the seeds. A crash, a sanitizer report, a leak, a
# timeout (-timeout=10 s an input) or running out of memory (-rss_limit_mb=2048) fails the
# command; the reproducer is left in BUILD_DIR/fuzz/artifacts/<harness>/. Extra libFuzzer
# flags: $FUZZ_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-san}
seconds=${2:-10}
shift $(( $# > 2 ? 2 : $# ))
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(scenario csv lua trace model)
nab=${DOSIM_NAB:-../shared/nab}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp}

seed_files() {  # the bundled inputs of harness $1, one path a line
  case $1 in
    scenario) ls scenarios/*.yaml tests/loader/*.yaml tests/data/scenarios/*.yaml fuzz/*.yaml ;;
    csv) ls fuzz/seeds/csv/*
         if [ -d "$nab/data" ]; then find "$nab/data" -name '*.csv' | sort | head -4; fi ;;
    lua) ls scripts/*.lua ;;
    trace) ;;  # written below by the sanitized dosim
    model) ls models/*.h5 ;;
  esac
}

status=0
for harness in "${harnesses[@]}"; do
  binary=$build/fuzz/fuzz_$harness
  seeds=$build/fuzz/seeds/$harness corpus=$build/fuzz/corpus/$harness
  artifacts=$build/fuzz/artifacts/$harness/ log=$build/fuzz/fuzz_$harness.log
  rm -rf "$seeds"
  mkdir -p "$seeds" "$corpus" "$artifacts"
  while read -r file; do
    [ -n "$file" ] || continue
    # NAB files are thousands of rows: their first 40 lines say as much to a fuzzer.
    case $file in "$nab"/*) head -40 "$file" > "$seeds/nab-$(basename "$file")" ;;
                  *) cp "$file" "$seeds/$(echo "$file" | tr / -)" ;; esac
  done < <(seed_files "$harness")
  if [ "$harness" = trace ]; then
    "$build/cli/dosim" run -q fuzz/trace-scenario.yaml -o "$seeds/trace-scenario.h5" >/dev/null
  fi

  regressions=(fuzz/regressions/$harness/*)
  if [ -e "${regressions[0]}" ]; then
    if ! "$binary" -rss_limit_mb=2048 -timeout=10 "${regressions[@]}" > "$log.replay" 2>&1; then
      echo "fuzz_$harness: a saved regression input fails again:"; tail -40 "$log.replay"
      status=1
      continue
    fi
    echo "fuzz_$harness: ${#regressions[@]} regression inputs replayed, all pass"
  fi

  if [ "$seconds" -eq 0 ]; then  # replay the seeds once, no mutation
    if "$binary" -runs=0 -rss_limit_mb=2048 -timeout=10 "$seeds" > "$log" 2>&1; then
      echo "fuzz_$harness: $(ls "$seeds" | wc -l) seeds replayed, all pass"
    else
      echo "fuzz_$harness: FAILED on a seed (log $log):"; tail -60 "$log"
      status=1
    fi
    continue
  fi
  dict=()
  [ -f "fuzz/$harness.dict" ] && dict=(-dict="fuzz/$harness.dict")
  # shellcheck disable=SC2086
  if "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$artifacts" "${dict[@]}" ${FUZZ_FLAGS:-} "$corpus" "$seeds" > "$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz_$harness: ${runs:-?} inputs in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l)"
  else
    echo "fuzz_$harness: FAILED (log $log, reproducer in $artifacts):"; tail -60 "$log"
    status=1
  fi
done
exit $status
