"""Per scenario and detector, medians over seeds: false alarms per hour and time to detect,
fluid model and request level side by side, as a Markdown table for bench/RESULTS.md.

Usage: /usr/bin/python3 bench/mode_detector_table.py FLUID.json REQUESTS.json
(the --out of `dosim bench` over the same scenarios, each copied with `mode:` set)."""
import json
import statistics
import sys

runs = {m: json.load(open(path))["runs"] for m, path in zip(("fluid", "requests"), sys.argv[1:3])}
def cell(mode, scenario, detector):
    fa, ttd = [], []
    for r in runs[mode]:
        if r["scenario"].split("/")[-1] != scenario: continue
        s = r["scores"][detector]
        fa.append(s["false_alarms_per_hour"])
        if s["time_to_detect_ns"]: ttd.append(statistics.median(s["time_to_detect_ns"]) / 1e9)
    return statistics.median(fa), (statistics.median(ttd) if ttd else None), len(ttd)
scenarios = sorted({r["scenario"].split("/")[-1] for r in runs["fluid"]})
print("| scenario | detector | false/h fluid / req | TTD s fluid / req (runs detecting) |")
print("|---|---|---:|---:|")
for sc in scenarios:
    for det in ("mad", "ewma", "threshold"):
        f = cell("fluid", sc, det); q = cell("requests", sc, det)
        t = lambda v: "-" if v[1] is None else f"{v[1]:.0f} ({v[2]})"
        print(f"| {sc[:-5]} | {det} | {f[0]:.2f} / {q[0]:.2f} | {t(f)} / {t(q)} |")
