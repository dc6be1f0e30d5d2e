#!/usr/bin/env bash
# The request level side by side with SimPy, for bench/RESULTS.md: request-hops per second on
# the 10-service chain at 60 % utilisation (bench/bench_requests.cc) and the same model in
# SimPy (bench/peers/simpy_chain.py, Debian's python3-simpy 2.3.1, not a dosim dependency:
# skipped when missing), each on one core, then the ratio; and the wall time of the Lab 7
# scenario (scenarios/online-boutique.yaml) at request level. Run it on a quiet machine.
# Usage: bash bench/run_request_comparison.sh [BUILD_DIR]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath -m "${1:-$repo/build}")"
cmake --build "$build" --target bench_requests dosim -j2 >/dev/null
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), one core per program"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
dosim_rate=$(taskset -c 0 "$build/bench/bench_requests" --benchmark_filter=BM_RequestChain \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true 2>/dev/null |
  awk '/BM_RequestChain.*_median/ { for (i = 1; i <= NF; ++i) if ($i ~ /^hops=/) print $i }' |
  sed 's/hops=//')
echo "dosim: $dosim_rate hops (median of 3)"
taskset -c 0 "$build/bench/bench_requests" --benchmark_filter=BM_RequestHorizon 2>/dev/null |
  grep BM_RequestHorizon
if /usr/bin/python3 -c "import SimPy" 2>/dev/null; then
  # Two SimPy formulations: a process per hop whose caller waits for the answer (dosim's
  # semantics, which timeouts and retries need), and one process walking the chain (the
  # same timing here, where nothing times out; SimPy's cheapest form of this chain).
  for model in chain tandem; do
    flag=""
    [ "$model" = tandem ] && flag="--tandem"
    simpy=$(taskset -c 0 /usr/bin/python3 "$repo/bench/peers/simpy_chain.py" 60 $flag)
    echo "$simpy"
    simpy_rate=$(sed 's/.*hops_per_s=//' <<<"$simpy")
    /usr/bin/python3 - "$dosim_rate" "$simpy_rate" "$model" <<'PY'
import sys
def number(text):
    text = text.removesuffix("/s")
    scale = {"k": 1e3, "M": 1e6, "G": 1e9}.get(text[-1], 1)
    return float(text.rstrip("kMG")) * scale
dosim, simpy = number(sys.argv[1]), float(sys.argv[2])
print(f"dosim/SimPy ({sys.argv[3]}): {dosim / simpy:.1f}x")
PY
  done
else
  echo "SimPy: python3-simpy not installed (apt-get install python3-simpy): skipped"
fi
start=$(date +%s.%N)
taskset -c 0 "$build/cli/dosim" run "$repo/scenarios/online-boutique.yaml" --mode requests \
  --quiet --out "$build/boutique-requests.h5" >/dev/null
end=$(date +%s.%N)
echo "online-boutique.yaml at request level: $(echo "$end - $start" | bc) s wall"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
