"""Lab 2, "MAD on request logs": the grader (HANDOUT.md says what is asked).

The student's mad_logs.py runs on the request logs of hidden runs in which the /pay
incident starts at a different minute each time; its incidents CSV is compared with the
ground truth the simulation knows."""

import os
import subprocess
import sys

import pandas as pd
import yaml

from dosim.labs import Failed, Lab

lab = Lab("lab2", "MAD on request logs", runs=3)

SCENARIO, PROGRAM = "payments.yaml", "mad_logs.py"
COLUMNS = ["service", "endpoint", "start_minute", "end_minute", "severity"]


def incident_start_minute(seed):
    return 20 + seed % 80  # the 8 minutes fit in the two hours


def incidents_found(g, run):
    return g.memo(("incidents", run.index), lambda: find_incidents(g, run))


def find_incidents(g, run):
    """Runs the hidden run, exports its logs and runs the student's program on them; the
    incidents it wrote, and the minute the /pay incident really started."""
    start = incident_start_minute(run.seed)
    faults = yaml.safe_load(g.lab_file(SCENARIO).read_text())["faults"]
    for fault in faults:
        fault["start"] = f"{start}m"
    trace = g.workdir / f"run{run.index}.h5"
    logs, out = g.workdir / f"logs{run.index}.jsonl", g.workdir / f"incidents{run.index}.csv"
    g.run(SCENARIO, seed=run.seed, overrides={"faults": faults}, out=str(trace))
    dosim_bin = os.environ.get("DOSIM_BIN", "dosim")
    subprocess.run([dosim_bin, "export", "logs", str(trace), "-o", str(logs)], check=True,
                   capture_output=True)
    # The logs are all the program gets: the hidden run's trace (its ground truth) is gone
    # before it runs (a program that read it beside the logs got 3/3 without any MAD).
    trace.unlink()
    try:
        done = subprocess.run([sys.executable, str(g.submitted(PROGRAM)), str(logs), str(out)],
                              capture_output=True, text=True, timeout=120, cwd=g.workdir)
    except subprocess.TimeoutExpired:
        raise Failed(f"{run}: {PROGRAM} ran for more than 2 minutes") from None
    if done.returncode != 0:
        raise Failed(f"{run}: {PROGRAM} exited with {done.returncode}:\n"
                     + "\n".join(done.stderr.strip().splitlines()[-6:]))
    if not out.is_file():
        raise Failed(f"{run}: {PROGRAM} wrote no {out.name} (its second argument)")
    try:
        found = pd.read_csv(out)
    except Exception as error:  # noqa: BLE001 - any unreadable CSV is the student's
        raise Failed(f"{run}: cannot read the incidents CSV: {error}") from None
    missing = [c for c in COLUMNS if c not in found.columns]
    if missing:
        raise Failed(f"{run}: the incidents CSV lacks the columns {', '.join(missing)}")
    return found, start


def pay_incidents(found):
    return found[(found["service"] == "payments") & (found["endpoint"] == "/pay")]


@lab.task("runs", "The program reads the logs and writes incidents", needs=[PROGRAM])
def runs(g):
    for run in g.hidden_runs():
        found, _ = incidents_found(g, run)
        bad = set(found["severity"]) - {"Warning", "Critical"}
        g.expect(not bad, run, f"severities must be Warning or Critical, got {sorted(bad)}")


@lab.task("finds-pay", "It finds the /pay incident, when it starts and ends",
          needs=[PROGRAM])
def finds_pay(g):
    for run in g.hidden_runs():
        found, start = incidents_found(g, run)
        pay = pay_incidents(found)
        overlapping = pay[(pay["end_minute"] > start) & (pay["start_minute"] < start + 8)]
        g.expect(len(overlapping) > 0, run,
                 "no incident on payments /pay overlaps the real one. Are the minutes "
                 "grouped per (service, endpoint)? Is the p95 per minute, not per request?")
        first, last = overlapping["start_minute"].min(), overlapping["end_minute"].max()
        g.expect(abs(first - start) <= 1, run,
                 f"the /pay incident you report starts {'early' if first < start else 'late'}"
                 " by more than a minute")
        g.expect(abs(last - (start + 8)) <= 2, run,
                 f"the /pay incident you report ends {'early' if last < start + 8 else 'late'}"
                 " by more than two minutes (end_minute: the first minute after it)")


@lab.task("severity", "The /pay incident is Critical and nothing else is", needs=[PROGRAM])
def severity(g):
    for run in g.hidden_runs():
        found, start = incidents_found(g, run)
        pay = pay_incidents(found)
        real = pay[(pay["end_minute"] > start) & (pay["start_minute"] < start + 8)]
        g.expect(len(real) > 0, run,
                 "no /pay incident was found (task finds-pay), so none can be Critical")
        g.expect((real["severity"] == "Critical").any(), run,
                 "the /pay incident is not Critical: Critical is a Warning whose minute's "
                 "error rate is at least 5 % (status 5xx)")
        critical = found[found["severity"] == "Critical"]
        false = critical.drop(real.index, errors="ignore")
        g.expect(len(false) <= 1, run,
                 f"{len(false)} Critical incidents where nothing failed: is the error rate "
                 "a share of the minute's requests?")
