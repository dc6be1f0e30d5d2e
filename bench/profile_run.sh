#!/usr/bin/env bash
# Where the time of `dosim run` goes (issue 20's profile summary in bench/RESULTS.md): perf with
# call graphs over an hour of the 1,000-service synthetic system (bench/synthetic_system.py,
# MAD on p95 and error ratio), the share of samples under each part of a run.
# Usage: bash bench/profile_run.sh DOSIM [THREADS]   (needs perf; run on an idle machine)
set -euo pipefail
dosim=$1
threads=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 bench/synthetic_system.py 1000 --duration 1h > "$work/s.yaml"
perf record -q -F 499 --call-graph dwarf,16384 -o "$work/perf.data" \
  "$dosim" run "$work/s.yaml" --quiet --threads "$threads" --out "$work/s.h5" >/dev/null 2>&1 || \
  perf record -q -F 499 --call-graph dwarf,16384 -o "$work/perf.data" \
    "$dosim" run "$work/s.yaml" --quiet --out "$work/s.h5" >/dev/null 2>&1  # a build without --threads
perf report -i "$work/perf.data" --children --stdio --sort sym 2>/dev/null | /usr/bin/python3 -c '
import re, sys
# Shares of all samples. With 2 threads the parts below `main` are those of the calling thread; the
# work of the other thread is under TickPool::worker_main.
parts = [("the calling thread (main)", r"\bmain$"),
         ("  scenario load and checks", r"RunPlan::load"),
         ("  world: load and latency (World::compute)", r"World::compute\b"),
         ("  world: measurement and frame (World::write_frame)", r"World::write_frame"),
         ("    of which sample_scores", r"dosim::sample_scores$"),
         ("    of which Poisson counts", r"dosim::sample_poisson$"),
         ("  detectors (DetectorRunner::on_frame)", r"DetectorRunner::on_frame"),
         ("    of which the MAD kernel", r"step_impl$"),
         ("  trace (TraceWriter::on_frame)", r"TraceWriter::on_frame"),
         ("  waiting for the other thread (TickPool::start)", r"TickPool::start$"),
         ("the other thread (TickPool::worker_main)", r"TickPool::worker_main$"),
         ("  waiting for work (its own time)", r"TickPool::worker_main$")]
found = {}
for line in sys.stdin:
    m = re.match(r"\s+([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(.*)$", line)
    if not m: continue
    children, self_, sym = float(m.group(1)), float(m.group(2)), m.group(3).strip()
    for label, pattern in parts:
        if re.search(pattern, sym):
            # the spin itself is self time; everything else by its callees (children)
            value = self_ if "waiting" in label else children
            found[label] = max(found.get(label, 0.0), value)
for label, _ in parts:
    print(f"{label:55s} {found.get(label, 0.0):5.1f} %")
'
