#!/usr/bin/env bash
# dosim's LSTM kernel beside oneDNN's LSTM, same shapes, one core each: input 8, T = 60,
# batch 1024, hidden 32 / 64 / 128 (series-steps per second), plus dosim's streaming tick of
# 10,000 series at hidden 64. Prints a Markdown table with the ratios dosim / oneDNN, ready
# for bench/RESULTS.md.
#
# Usage: bench/run_lstm_comparison.sh [BUILD_DIR]      (default: build)
# oneDNN is Debian's libdnnl-dev, benchmark-only: installed here with apt-get when missing
# and we are root, else skipped; the peer is compiled with g++ into BUILD_DIR/bench/peers and
# run with OMP_NUM_THREADS=1. Both run pinned to one core (taskset); run on a quiet machine.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath -m "${1:-$repo/build}")"
out="$build/bench/lstm_comparison"
mkdir -p "$out" "$build/bench/peers"
core="${DOSIM_BENCH_CORE:-0}"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), one core per program"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target bench_lstm -j2 >/dev/null
taskset -c "$core" "$build/bench/bench_lstm" --benchmark_filter='dispatched' \
  --benchmark_min_time=1 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$out/dosim.json" --benchmark_out_format=json >/dev/null

peer="$build/bench/peers/onednn_lstm"
if [[ ! -f /usr/include/dnnl.hpp && $(id -u) -eq 0 ]]; then
  apt-get install -y -qq libdnnl-dev >/dev/null 2>&1 || true
fi
: >"$out/onednn.txt"
if [[ -f /usr/include/dnnl.hpp ]]; then
  g++ -O2 -std=c++17 "$repo/bench/peers/onednn_lstm.cc" -o "$peer" -ldnnl
  for hidden in 32 64 128; do
    best=0
    for _ in 1 2 3; do
      rate=$(OMP_NUM_THREADS=1 taskset -c "$core" "$peer" "$hidden" 2 | awk '{print $4}')
      best=$(awk -v a="$best" -v b="$rate" 'BEGIN { print (b > a) ? b : a }')
    done
    echo "$hidden $best" >>"$out/onednn.txt"
  done
else
  echo "oneDNN (libdnnl-dev) not installed: its column is left empty"
fi

/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
runs = json.load(open(f"{out}/dosim.json"))["benchmarks"]
def rate(name):
    for b in runs:
        if b["name"] == name + "_median":
            return b["items_per_second"]
    return None
peer = {}
for line in open(f"{out}/onednn.txt"):
    hidden, value = line.split()
    peer[int(hidden)] = float(value)
print("| hidden | dosim (M series-steps/s) | oneDNN (M series-steps/s) | dosim / oneDNN |")
print("| ---: | ---: | ---: | ---: |")
for hidden in (32, 64, 128):
    ours = rate(f"BM_LstmSequence/dispatched/{hidden}")
    theirs = peer.get(hidden)
    ratio = f"{ours / theirs:.2f}" if theirs else "-"
    print(f"| {hidden} | {ours / 1e6:.2f} | {theirs / 1e6 if theirs else float('nan'):.2f} | {ratio} |")
tick = rate("BM_LstmStreaming/dispatched/10000")
print(f"\nstreaming: one tick of 10,000 series at hidden 64 (I = 4): {10000 / tick * 1e3:.2f} ms")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
