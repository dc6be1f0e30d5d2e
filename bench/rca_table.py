#!/usr/bin/python3
"""Root-cause ranking over the bundled scenarios and seeds (issue 19, bench/RESULTS.md): each
scenario that injects something, run at seeds 1..N with its own detectors; every detected
incident ranked by every ranker at each delay (dosim run's defaults: 0 s, 1 min, 5 min);
AC@1, AC@3, AC@5 and Avg@5 pooled over all cases (docs/rca.md).

  bench/rca_table.py [BUILD_DIR] [SEEDS]      # prints a Markdown table
"""
import json
import pathlib
import subprocess
import sys
import tempfile

build = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "build")
seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
dosim = str(build / "cli" / "dosim")
root = pathlib.Path(__file__).resolve().parents[1]
pooled = {}  # (ranker, delay) -> [cases, ac1*cases, ac3*cases, ac5*cases, avg5*cases]
per_scenario = {}
with tempfile.TemporaryDirectory() as tmp:
    for scenario in sorted((root / "scenarios").glob("*.yaml")):
        if scenario.stem == "noop":
            continue
        for seed in range(1, seeds + 1):
            trace = pathlib.Path(tmp) / f"{scenario.stem}-{seed}.h5"
            subprocess.run([dosim, "run", str(scenario), "-q", "--seed", str(seed), "-o", str(trace)],
                           check=True, stdout=subprocess.DEVNULL)
            scores = json.loads(subprocess.run([dosim, "score", str(trace), "--json"], check=True,
                                               capture_output=True, text=True).stdout)["rca"]
            for row in scores:
                key = (row["ranker"], row["delay_s"])
                acc = pooled.setdefault(key, [0, 0.0, 0.0, 0.0, 0.0])
                n = row["cases"]
                acc[0] += n
                for i, name in enumerate(["ac1", "ac3", "ac5", "avg5"]):
                    acc[i + 1] += row[name] * n
                if row["delay_s"] == 0:
                    s = per_scenario.setdefault((scenario.stem, row["ranker"]), [0, 0.0])
                    s[0] += n
                    s[1] += row["ac1"] * n
print(f"| ranker | delay | cases | AC@1 | AC@3 | AC@5 | Avg@5 |\n| --- | --- | --- | --- | --- | --- | --- |")
for (ranker, delay), acc in pooled.items():
    n = acc[0]
    print(f"| {ranker} | {delay:g} s | {n} | " + " | ".join(f"{v / n:.2f}" for v in acc[1:]) + " |")
rankers = sorted({r for _, r in per_scenario}, key=["change", "pagerank", "deepest", "random"].index)
print("\n| scenario (AC@1 at detection) | cases | " + " | ".join(rankers) + " |")
print("| --- | --- | " + " | ".join("---" for _ in rankers) + " |")
for scenario in sorted({s for s, _ in per_scenario}):
    cells = [per_scenario.get((scenario, r)) for r in rankers]
    n = cells[0][0] if cells[0] else 0
    print(f"| {scenario} | {n} | " + " | ".join(f"{c[1] / c[0]:.2f}" if c and c[0] else "-" for c in cells) + " |")
