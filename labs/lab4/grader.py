"""Lab 4, "Build a detector": the grader (HANDOUT.md says what is asked).

The student's detector (detector.py, class Detector; detector.yaml: metrics, params, for)
runs inside the shop beside dosim's MAD on hidden runs whose incidents start at other
times, then over NAB's realKnownCause files beside the random baseline."""

import json
import os
import subprocess
from pathlib import Path

import yaml

from dosim.labs import Failed, Lab

lab = Lab("lab4", "Build a detector", runs=3)

SCENARIO, CODE, SETTINGS = "shop.yaml", "detector.py", "detector.yaml"
NAME = "yours"
KEYS = {"metrics", "params", "for", "direction", "rest", "severity", "family"}


def settings(g):
    try:
        entry = yaml.safe_load(g.submitted(SETTINGS).read_text()) or {}
    except yaml.YAMLError as error:
        raise Failed(f"{SETTINGS} is not valid YAML: {error}") from None
    if not isinstance(entry, dict):
        raise Failed(f"{SETTINGS} must be a mapping (metrics, params, for)")
    unknown = set(entry) - KEYS
    if unknown:
        raise Failed(f"{SETTINGS} has keys a detector entry does not take here: "
                     f"{', '.join(sorted(unknown))} (allowed: {', '.join(sorted(KEYS))})")
    return entry


def shop_run(g, run):
    """The shop on a hidden run, its incidents moved by up to 10 minutes, with the
    student's detector beside MAD: the report."""
    data = yaml.safe_load(g.lab_file(SCENARIO).read_text())
    for i, fault in enumerate(data["faults"]):
        minutes = int(str(fault["start"]).rstrip("m")) + (run.seed >> (3 * i)) % 21 - 10
        fault["start"] = f"{minutes}m"
    detector = {"name": NAME, "kind": "python", "module": str(g.submitted(CODE)),
                "class": "Detector", **settings(g)}
    return g.run(SCENARIO, seed=run.seed, overrides={
        "faults": data["faults"], "detectors": data["detectors"] + [detector]})


def row(report, name):
    return report.scores()[name]


@lab.task("runs", "The detector runs inside the simulation", needs=[CODE, SETTINGS])
def runs(g):
    for run in g.hidden_runs():
        report = shop_run(g, run)
        g.expect(NAME in report.detectors, run, "the detector did not run")


@lab.task("detects", "It detects at least two of the three incidents", needs=[CODE, SETTINGS])
def detects(g):
    for run in g.hidden_runs():
        scores = row(shop_run(g, run), NAME)
        g.expect(scores["detected_incidents"] >= 2, run,
                 f"it detected {scores['detected_incidents']} of the 3 incidents (an alert "
                 "on an affected service inside the impact window). Which metrics does it "
                 "watch? Is its threshold reachable?")


@lab.task("beats-baselines", "It beats the random baseline, with at most 2 false alarms an hour",
          needs=[CODE, SETTINGS])
def beats_baselines(g):
    for run in g.hidden_runs():
        report = shop_run(g, run)
        yours, random = row(report, NAME), row(report, "random baseline")
        # A tie is not a win: with both at 0 (it alerted on no incident) it says so, not
        # "0.00 does not beat 0.00".
        g.expect(yours["f1"] > random["f1"], run,
                 f"its F1 {yours['f1']:.2f} does not beat the random baseline's "
                 f"{random['f1']:.2f}" +
                 (" (neither alerted on an incident: a tie is not a win)"
                  if yours["f1"] == 0 and random["f1"] == 0 else
                  " (a tie is not a win)" if yours["f1"] == random["f1"] else ""))
        g.expect(yours["false_alarms_per_hour"] <= 2, run,
                 f"{yours['false_alarms_per_hour']:.1f} false alarms an hour: would you keep "
                 "a pager that rings that often? (`for`, the threshold, rises only?)")


def nab_root():
    if os.environ.get("DOSIM_NAB"):
        return Path(os.environ["DOSIM_NAB"])
    data = Path(os.environ.get("DOSIM_DATA_DIR", "."))
    return data / ".." / "shared" / "nab"


@lab.task("nab", "On NAB's real data (realKnownCause) it beats the random baseline",
          needs=[CODE, SETTINGS])
def nab(g):
    root = nab_root()
    if not (root / "data").is_dir():
        # The absolute path: a relative one says nothing of where it was looked for.
        if os.environ.get("DOSIM_NAB"):  # set, but to no copy: say that, not "set it"
            raise Failed(f"DOSIM_NAB is {os.path.abspath(root)}, which holds no copy of the "
                         "Numenta Anomaly Benchmark (no data/ folder there): point it at one "
                         "(github.com/numenta/NAB)")
        raise Failed(f"the Numenta Anomaly Benchmark is not at {os.path.abspath(root)}: set "
                     "DOSIM_NAB to a "
                     "copy of it (github.com/numenta/NAB)")
    params = settings(g).get("params") or {}
    token = ":".join([f"python:{g.submitted(CODE)}", "Detector"] +
                     [f"{k}={v}" for k, v in params.items()])
    out = g.workdir / "nab.json"
    done = subprocess.run([os.environ.get("DOSIM_BIN", "dosim"), "nab", "run", "--nab",
                           str(root), "--detectors", f"{token},random", "--files",
                           "realKnownCause/*", "--out", str(out)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise Failed("dosim nab run failed with your detector:\n" +
                     "\n".join(done.stdout.strip().splitlines()[-6:]))
    results = json.loads(out.read_text())["results"]
    yours = results[token]["profiles"]["standard"]["score"]
    random = results["random"]["profiles"]["standard"]["score"]
    g.expect(yours > random, None,
             f"its NAB standard score {yours:.1f} does not beat the random baseline's "
             f"{random:.1f} on the same files")
