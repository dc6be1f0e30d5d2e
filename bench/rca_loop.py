#!/usr/bin/python3
"""RCA quality in time to mitigate (docs/remediation.md, "Root causes").

scenarios/rca-rollback.yaml rolls back, at each playbook step, the change a root-cause ranker
blames. This runs its closed loop once per ranker (the scenario with every step's `ranker:`
replaced) over N seeds, its own detector `errors` (on every service) driving the playbook, and prints
per ranker: incidents mitigated, time to mitigate (p50 and p90 over incidents), the judged
rollbacks that were correct, and the mean SLO error budget burned per run.

    /usr/bin/python3 bench/rca_loop.py build/cli/dosim [--seeds 20] [--threads 2]
"""
import argparse
import json
import pathlib
import re
import statistics
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "rca-rollback.yaml"
RANKERS = ["change", "pagerank", "deepest", "random"]


def quantile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def duration(seconds):
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dosim")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    text = SCENARIO.read_text()
    print(f"| ranker | mitigated | TTM p50 | TTM p90 | correct rollbacks | budget burned |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for ranker in RANKERS:
            variant = pathlib.Path(tmp) / f"rca-{ranker}.yaml"
            variant.write_text(re.sub(r"ranker: \w+}", f"ranker: {ranker}}}", text))
            out = pathlib.Path(tmp) / f"{ranker}.json"
            subprocess.run([args.dosim, "bench", "--closed-loop", "--detectors", "errors",
                            "--scenarios", str(variant), "--seeds", str(args.seeds),
                            "--threads", str(args.threads), "--out", str(out)],
                           check=True, capture_output=True)
            runs = [r["rows"]["errors"] for r in json.loads(out.read_text())["runs"]]
            ttm = [t for r in runs for t in r["ttm_s"]]
            scored = sum(r["scored"] for r in runs)
            mitigated = sum(r["mitigated"] for r in runs)
            correct = sum(r["correct_actions"] for r in runs)
            judged = sum(r["judged_actions"] for r in runs)
            budget = statistics.mean(r["error_budget_burned"] for r in runs)
            print(f"| {ranker} | {mitigated}/{scored} | {duration(quantile(ttm, 0.5))} | "
                  f"{duration(quantile(ttm, 0.9))} | {correct}/{judged} | {budget:.0%} |")


if __name__ == "__main__":
    main()
