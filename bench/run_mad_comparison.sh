#!/usr/bin/env bash
# The MAD kernel, side by side: dosim's MadKernel (Google Benchmark, bench_mad: the
# dispatched path, AVX2 and scalar forced) and numpy, bottleneck and pandas computing the
# same rolling median, MAD and modified z-score (bench/peers/mad_peers.py), at windows
# 32/64/128 and 1,000 / 100,000 series. Prints a Markdown table of ns per series-tick with
# the ratio peer / dosim dispatched, ready for bench/RESULTS.md, and the issue's targets.
#
# Usage: bench/run_mad_comparison.sh [BUILD_DIR]      (default: build)
#   DOSIM_MAD_WINDOWS="32 64 128"         windows
#   DOSIM_MAD_SERIES="1000 100000"        series counts for dosim
#   DOSIM_MAD_PEERS_1000="numpy bottleneck bottleneck-median pandas pandas-median"
#   DOSIM_MAD_PEERS_100000="numpy bottleneck bottleneck-median"
#                                         peers per series count (DOSIM_MAD_PEERS_<N>)
#   DOSIM_MAD_PEER_BUDGET=4               seconds per peer and case (about)
#   DOSIM_SKIP_PEERS=1                    dosim only
#   DOSIM_BENCH_MAD=PATH                  an already built bench_mad to use
#
# The peers are benchmark-only, run with /usr/bin/python3 on Debian's python3-numpy,
# python3-pandas and python3-bottleneck (tools/install-deps.sh); a missing one is skipped.
# pandas' full MAD (one Python call per series-tick, ~40 us) and its rolling median (one
# column at a time) are too slow for 100,000 series and run at 1,000 only by default.
# Takes about five minutes; run it on a quiet machine, on one core (taskset -c 1 ...): the
# load average is printed before and after.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath -m "${1:-$repo/build}")"
windows="${DOSIM_MAD_WINDOWS:-32 64 128}"
series_counts="${DOSIM_MAD_SERIES:-1000 100000}"
budget="${DOSIM_MAD_PEER_BUDGET:-4}"
out="$build/bench/mad_comparison"
python=/usr/bin/python3
mkdir -p "$out"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
  "$(lscpu | sed -n 's/^CPU(s): *//p') cores," \
  "this script on CPUs $(taskset -pc $$ | sed 's/.*: //')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- dosim --------------------------------------------------------------------------------
bench_mad="${DOSIM_BENCH_MAD:-}"
if [[ -z "$bench_mad" ]]; then
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build" --target bench_mad -j2 >/dev/null
  bench_mad="$build/bench/bench_mad"
fi
# shellcheck disable=SC2086  # word lists are split on purpose
series_re="$(printf "%s|" $series_counts)" window_re="$(printf "%s|" $windows)"
"$bench_mad" --benchmark_filter="series:(${series_re%|})/window:(${window_re%|})\$" \
  --benchmark_min_time=0.5 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$out/dosim.json" \
  --benchmark_out_format=json >/dev/null

# --- peers --------------------------------------------------------------------------------
: >"$out/peers.txt"
if [[ -z "${DOSIM_SKIP_PEERS:-}" ]] && "$python" -c 'import numpy' 2>/dev/null; then
  "$python" "$repo/bench/peers/mad_peers.py" --check >"$out/peers_check.txt" ||
    { cat "$out/peers_check.txt"; echo "mad_peers.py --check failed" >&2; exit 1; }
  for n in $series_counts; do
    var="DOSIM_MAD_PEERS_$n"
    case "$n" in
      1000) default="numpy bottleneck bottleneck-median pandas pandas-median" ;;
      *) default="numpy bottleneck bottleneck-median" ;;
    esac
    peers=()
    for peer in ${!var:-$default}; do
      module="${peer%%-*}"
      if "$python" -c "import $module" 2>/dev/null; then
        peers+=("$peer")
      else
        echo "$peer: skipped (Debian's python3-$module missing)"
      fi
    done
    ((${#peers[@]})) || continue
    for w in $windows; do
      "$python" "$repo/bench/peers/mad_peers.py" "$n" "$w" "${peers[@]}" --budget "$budget" \
        >>"$out/peers.txt"
    done
  done
else
  echo "peers: skipped (DOSIM_SKIP_PEERS set, or Debian's python3-numpy missing)"
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- table --------------------------------------------------------------------------------
"$python" - "$out/dosim.json" "$out/peers.txt" "$windows" "$series_counts" <<'EOF'
import json, re, sys

dosim_json, peers_txt = sys.argv[1], sys.argv[2]
windows = [int(w) for w in sys.argv[3].split()]
series_counts = [int(n) for n in sys.argv[4].split()]
ns = {}  # (program, series, window) -> ns per series-tick
ticks = {}  # (peer, series, window) -> ticks the peer ran
dispatched_isa = set()
for bench in json.load(open(dosim_json))["benchmarks"]:
    if bench.get("aggregate_name") != "median":
        continue
    match = re.match(r"BM_MadStep/(\w+)/series:(\d+)/window:(\d+)", bench["run_name"])
    if match and "items_per_second" in bench:
        path, n, w = match.group(1), int(match.group(2)), int(match.group(3))
        ns[(path, n, w)] = 1e9 / bench["items_per_second"]
        if path == "dispatched" and bench.get("label"):
            dispatched_isa.add(bench["label"])
for line in open(peers_txt):
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    key = (fields["peer"], int(fields["series"]), int(fields["window"]))
    ns[key] = float(fields["ns_per_series_tick"])
    ticks[key] = int(fields["ticks"])

def fmt(value):
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"

def cell(program, n, w):
    if (program, n, w) not in ns:
        return "-"
    value = ns[(program, n, w)]
    if program == "dispatched" or ("dispatched", n, w) not in ns:
        return fmt(value)
    ratio = value / ns[("dispatched", n, w)]
    return f"{fmt(value)} ({ratio:.2g}x)" if ratio < 10 else f"{fmt(value)} ({ratio:,.0f}x)"

try:
    import bottleneck, numpy, pandas
    versions = (f"numpy {numpy.__version__}, pandas {pandas.__version__}, "
                f"bottleneck {bottleneck.__version__}")
except ImportError:
    versions = "peer versions unknown"
isa = "/".join(sorted(dispatched_isa)) or "?"
columns = [("dispatched", f"dosim dispatched ({isa})"), ("avx2", "dosim AVX2"),
           ("scalar", "dosim scalar"), ("numpy", "numpy median+MAD"),
           ("bottleneck", "bottleneck median+MAD"), ("bottleneck-median", "bottleneck median only"),
           ("pandas", "pandas median+MAD"), ("pandas-median", "pandas median only")]
print()
print(f"ns per series-tick (dosim: median of 3 Google Benchmark runs; peers: median of up to "
      f"3, {versions}); in brackets, how many times dosim's dispatched path")
print()
print("| window | series | " + " | ".join(title for _, title in columns) + " |")
print("|---:|---:|" + "---:|" * len(columns))
for n in series_counts:
    for w in windows:
        print(f"| {w} | {n:,} | " + " | ".join(cell(p, n, w) for p, _ in columns) + " |")
print()
print("peers' T (ticks of the long run; the slope against a 1-tick run is reported): " +
      "; ".join(f"{peer} {n:,}/{w}: {t}" for (peer, n, w), t in sorted(ticks.items())))
print()
for path, name, target in (("avx512", "AVX-512", 25.0), ("avx2", "AVX2", 45.0)):
    for n in series_counts:
        if (path, n, 64) in ns:
            got = ns[(path, n, 64)]
            verdict = "met" if got <= target else "NOT met"
            print(f"target <= {target:.0f} ns per series-tick with {name} at window 64, "
                  f"{n:,} series: {got:.1f} ns, {verdict}")
EOF
