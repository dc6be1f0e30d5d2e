#!/usr/bin/env bash
# The hold model, side by side: dosim's EventQueue and CalendarQueue (Google Benchmark), SimPy
# and SimGrid, at the same numbers of pending events. Prints a Markdown table of holds/s and
# the ratios dosim/peer (dosim = the queue the engine uses), ready for bench/RESULTS.md.
#
# Usage: bench/run_event_queue_comparison.sh [BUILD_DIR]      (default: build)
#   DOSIM_HOLD_SIZES="1000 100000 1000000"   pending-event counts to run
#   DOSIM_SKIP_PEERS=1                       dosim only
#   DOSIM_BENCH_EVENT_QUEUE=PATH             an already built bench_event_queue to use
#
# The peers are benchmark-only: SimPy is Debian's python3-simpy (run with /usr/bin/python3),
# SimGrid is Debian's libsimgrid-dev, compiled here with g++ and pkg-config into
# BUILD_DIR/bench/peers. Neither is a dependency of dosim; a missing one is skipped.
# Each peer starts its clock once every process or actor has held once, then times a fixed
# number of holds. Takes about three minutes; run it on a quiet machine (the load average is
# printed before and after).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath -m "${1:-$repo/build}")"
sizes="${DOSIM_HOLD_SIZES:-1000 100000 1000000}"
out="$build/bench/event_queue_comparison"
python=/usr/bin/python3
mkdir -p "$out"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), one core per program"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- dosim --------------------------------------------------------------------------------
bench_event_queue="${DOSIM_BENCH_EVENT_QUEUE:-}"
if [[ -z "$bench_event_queue" ]]; then
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build" --target bench_event_queue -j2 >/dev/null
  bench_event_queue="$build/bench/bench_event_queue"
fi
# shellcheck disable=SC2086  # $sizes is split into words on purpose
filter="$(printf "%s|" $sizes)"
"$bench_event_queue" --benchmark_filter="/(${filter%|})(/|\$)" \
  --benchmark_min_time=0.5 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$out/dosim.json" \
  --benchmark_out_format=json >/dev/null

# --- peers --------------------------------------------------------------------------------
# Measured holds per run: enough for a stable rate, few enough to stay within minutes (at a
# million pending, building the processes or actors and the warm-up take most of the time).
measured_holds() { if (($1 >= 1000000)); then echo 200000; else echo 500000; fi; }
: >"$out/peers.txt"

if [[ -z "${DOSIM_SKIP_PEERS:-}" ]] && "$python" -c 'import SimPy.Simulation' 2>/dev/null; then
  for n in $sizes; do
    "$python" "$repo/bench/peers/simpy_hold.py" "$n" "$(measured_holds "$n")" >>"$out/peers.txt"
  done
else
  echo "SimPy: skipped (DOSIM_SKIP_PEERS set, or Debian's python3-simpy missing)"
fi

if [[ -z "${DOSIM_SKIP_PEERS:-}" ]] && pkg-config --exists simgrid; then
  mkdir -p "$build/bench/peers"
  # shellcheck disable=SC2046  # pkg-config output is a list of flags
  g++ -std=c++17 -O2 -o "$build/bench/peers/simgrid_hold" "$repo/bench/peers/simgrid_hold.cc" \
    $(pkg-config --cflags --libs simgrid)
  # Raw contexts (SimGrid's default and fastest factory); 8 KiB stacks without guard pages,
  # because a guard page per actor exhausts vm.max_map_count long before a million actors.
  for n in $sizes; do
    "$build/bench/peers/simgrid_hold" "$n" "$(measured_holds "$n")" \
      --cfg=contexts/factory:raw --cfg=contexts/stack-size:8 --cfg=contexts/guard-size:0 \
      --log=root.thres:critical >>"$out/peers.txt"
  done
  # One thread per actor, for scale: only the smallest size is feasible.
  "$build/bench/peers/simgrid_hold" 1000 50000 --cfg=contexts/factory:thread \
    --log=root.thres:critical | sed 's/^simgrid /simgrid-thread /' >>"$out/peers.txt"
else
  echo "SimGrid: skipped (DOSIM_SKIP_PEERS set, or Debian's libsimgrid-dev missing)"
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- table --------------------------------------------------------------------------------
"$python" - "$out/dosim.json" "$out/peers.txt" "$sizes" <<'EOF'
import json, re, sys

dosim_json, peers_txt, sizes = sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3].split()]
rates = {}  # (program, n) -> holds/s
for bench in json.load(open(dosim_json))["benchmarks"]:
    if bench.get("aggregate_name") != "median":
        continue
    name, n = bench["run_name"].split("/")[:2]
    rates[(name, int(n))] = bench["items_per_second"]
for line in open(peers_txt):
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    rates[(line.split()[0], int(fields["pending"]))] = float(fields["holds_per_s"])

def rate(program, n):
    value = rates.get((program, n))
    return f"{value / 1e6:.3g} M" if value else "-"

# The queue the engine uses (engine/simulation.cc), the one the ratios and targets judge.
ENGINE = "BM_CalendarHold"

def ratio(n, peer, program=ENGINE):
    if (peer, n) not in rates or (program, n) not in rates:
        return "-"
    return f"{rates[(program, n)] / rates[(peer, n)]:.0f}x"

print()
print(f"holds/s (M = million; dosim: median of 3 runs); ratios are dosim ({ENGINE}) / peer")
print()
print("| pending | dosim EventQueue | + timeouts | dosim CalendarQueue | + timeouts "
      "| bare 4-ary heap | SimPy 2.3.1 | SimGrid 3.32 (raw) | dosim/SimPy | dosim/SimGrid |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in sizes:
    print(f"| {n:,} | {rate('BM_Hold', n)} | {rate('BM_HoldWithTimeouts', n)} "
          f"| {rate('BM_CalendarHold', n)} | {rate('BM_CalendarHoldWithTimeouts', n)} "
          f"| {rate('BM_HoldReferenceHeap', n)} | {rate('simpy', n)} | {rate('simgrid', n)} "
          f"| {ratio(n, 'simpy')} | {ratio(n, 'simgrid')} |")
if ("simgrid-thread", 1000) in rates:
    print()
    print(f"SimGrid with thread contexts, 1,000 pending: {rate('simgrid-thread', 1000)} holds/s "
          f"(dosim/SimGrid-thread {ratio(1000, 'simgrid-thread')})")
targets = [(1000, 40e6), (1000000, 8e6)]
print()
for n, target in targets:
    for program in ("BM_Hold", "BM_CalendarHold"):
        if (program, n) in rates:
            got = rates[(program, n)]
            verdict = "met" if got >= target else "NOT met"
            print(f"target >= {target / 1e6:.0f} M holds/s at {n:,} pending, {program}: "
                  f"{got / 1e6:.1f} M, {verdict}")
EOF
