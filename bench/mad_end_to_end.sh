#!/usr/bin/env bash
# The end-to-end cost of MAD per series-tick in `dosim run` (issue 20's target: <= 20 ns), two
# ways, for one or more builds side by side in one session: an hour of the 1,000-service
# synthetic system (bench/synthetic_system.py: MAD on every service's p95 and error ratio,
# 2,000 series, 3,600 ticks), one core.
#  - by profile: perf's share of the samples in the detectors' own code (the kernel, the
#    runner's copies and alert logic, the score recording) times the run's time;
#  - by subtraction: the median wall time of the run minus that of the same run without
#    detectors (`detectors: []`), over ROUNDS alternating runs; it adds what the detectors'
#    state costs the world by taking its place in the cache, and the host's noise.
# Usage: bash bench/mad_end_to_end.sh DOSIM [DOSIM ...]   (ROUNDS=8 by default; needs perf)
set -euo pipefail
rounds=${ROUNDS:-8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 bench/synthetic_system.py 1000 --duration 1h > "$work/mad.yaml"
/usr/bin/python3 bench/synthetic_system.py 1000 --duration 1h --no-detectors > "$work/none.yaml"
series_ticks=$((2000 * 3600))
for dosim in "$@"; do
  perf record -q -o "$work/perf.data" taskset -c 0 "$dosim" run "$work/mad.yaml" --quiet \
    --out "$work/p.h5" >/dev/null 2>&1
  perf report -i "$work/perf.data" --no-children --stdio 2>/dev/null |
    /usr/bin/python3 -c '
import re, sys
total, share = None, 0.0
for line in sys.stdin:
    m = re.search(r"Event count \(approx\.\): (\d+)", line)
    if m: total = int(m.group(1)) * 1e-9  # cpu-clock: ns
    m = re.match(r"\s+([\d.]+)%\s+\S+\s+\S+\s+\[\.\]\s+(.*)$", line)
    if m and re.search(r"step_impl|MadDetector::|MadKernel::|DetectorRunner::on_frame|"
                       r"record_detector|on_detector_tick", m.group(2)):
        share += float(m.group(1))
print(f"{sys.argv[1]}: by profile {share:.2f} % of {total:.2f} s = "
      f"{share / 100 * total / int(sys.argv[2]) * 1e9:.1f} ns per series-tick")
' "$dosim" "$series_ticks"
done
for round in $(seq "$rounds"); do
  for dosim in "$@"; do
    for kind in mad none; do
      TIMEFORMAT="$dosim $kind %R"
      { time taskset -c 0 "$dosim" run "$work/$kind.yaml" --quiet --out "$work/t.h5" \
          >/dev/null; } 2>> "$work/times"
    done
  done
done
/usr/bin/python3 - "$work/times" "$series_ticks" <<'EOF'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    dosim, kind, seconds = line.split()
    times.setdefault(dosim, {}).setdefault(kind, []).append(float(seconds))
for dosim, kinds in times.items():
    mad, none = statistics.median(kinds["mad"]), statistics.median(kinds["none"])
    print(f"{dosim}: by subtraction {mad:.2f} s - {none:.2f} s (medians of {len(kinds['mad'])}) = "
          f"{(mad - none) / int(sys.argv[2]) * 1e9:.1f} ns per series-tick")
EOF
