#!/usr/bin/env bash
# Issue 20's scale figures for bench/RESULTS.md, through `dosim run` on bench/synthetic_system.py's
# system (MAD on every service's p95 latency and error ratio):
#  1. the target run, 1,000 services at 1 s ticks recorded every minute, over DAYS simulated
#     days (default 1; the target is stated for 7) on 1 and 2 threads, byte-identical traces,
#     and the same without detectors (the detectors' share, per series-tick);
#  2. time per tick and peak memory at 1,000, 10,000 and 100,000 services (10 simulated
#     minutes at 1 s ticks; the load, timed by `dosim validate`, taken out);
#  3. a simulated day of 100,000 services at 1 min ticks recorded every minute, opened with h5py.
# Usage: bash bench/run_scale.sh [BUILD_DIR] [DAYS] [PREVIOUS_BUILD_DIR]
# With PREVIOUS_BUILD_DIR (a worktree build of the previous commit), step 1 also runs its
# dosim on one thread, side by side.
set -euo pipefail
build=${1:-build}
days=${2:-1}
previous=${3:-}
dosim=$build/cli/dosim
gen=bench/synthetic_system.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timed() {  # LABEL COMMAND...: prints LABEL, wall seconds and peak RSS in MiB
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  read -r wall rss < "$work/time"
  printf '%-44s %9.2f s %8.1f MiB\n' "$label" "$wall" "$(echo "$rss / 1024" | bc -l)"
}

echo "== 1. 1,000 services, $days day(s) at 1 s ticks, recorded every minute"
/usr/bin/python3 $gen 1000 --duration "${days}d" > "$work/target.yaml"
/usr/bin/python3 $gen 1000 --duration "${days}d" --no-detectors > "$work/bare.yaml"
if [ -n "$previous" ]; then
  timed "previous commit, 1 thread" taskset -c 0 "$previous/cli/dosim" run "$work/target.yaml" --quiet --out "$work/prev.h5"
fi
timed "MAD on p95 + error ratio, 1 thread" taskset -c 0 "$dosim" run "$work/target.yaml" --quiet --out "$work/t1.h5"
timed "MAD on p95 + error ratio, --threads 2" "$dosim" run "$work/target.yaml" --quiet --threads 2 --out "$work/t2.h5"
timed "no detectors, 1 thread" taskset -c 0 "$dosim" run "$work/bare.yaml" --quiet --out "$work/bare.h5"
cmp "$work/t1.h5" "$work/t2.h5" && echo "traces of 1 and 2 threads: byte-identical"
[ -z "$previous" ] || { cmp "$work/prev.h5" "$work/t1.h5" && echo "trace of the previous commit: byte-identical"; }

echo "== 2. scaling: 10 simulated minutes (600 ticks) at 1 s ticks"
for n in 1000 10000 100000; do
  /usr/bin/python3 $gen $n --duration 10m --record 1m > "$work/s$n.yaml"
  timed "$n services: validate (load)" taskset -c 0 "$dosim" validate "$work/s$n.yaml"
  timed "$n services: run, 1 thread" taskset -c 0 "$dosim" run "$work/s$n.yaml" --quiet --out "$work/s$n.h5"
  timed "$n services: run, --threads 2" "$dosim" run "$work/s$n.yaml" --quiet --threads 2 --out "$work/s$n-2.h5"
  rm -f "$work/s$n.h5" "$work/s$n-2.h5"
done

echo "== 3. a day of 100,000 services at 1 min ticks, recorded every minute"
/usr/bin/python3 $gen 100000 --duration 1d --tick 1m --record 1m > "$work/day.yaml"
timed "100,000 services, 1 day, --threads 2" "$dosim" run "$work/day.yaml" --quiet --threads 2 --out "$work/day.h5"
/usr/bin/python3 - "$work/day.h5" <<'PY'
import os, sys, h5py
path = sys.argv[1]
with h5py.File(path) as f:
    p95 = f["metrics/service/latency_p95_s"]
    print(f"trace {os.path.getsize(path) / 2**20:.0f} MiB opens in h5py: p95 {p95.shape[0]} rows x "
          f"{p95.shape[1]} services, complete={bool(f.attrs.get('complete', True))}, "
          f"mean p95 of the last row {p95[-1].mean() * 1000:.1f} ms")
PY
