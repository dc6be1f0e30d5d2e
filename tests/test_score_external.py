"""`dosim score TRACE --alerts FILE` and `--scores FILE`: another tool's alerts, or the alerts
its anomaly scores make, scored against the trace's ground truth exactly as the trace's own.

A bundled scenario's own alerts, exported from the trace to CSV (nanoseconds, seconds, ISO
8601) and to JSON lines, score per detector exactly as `dosim score` scores them. Bad files
exit 2 with every problem at FILE:LINE:COL (CSV) or FILE:LINE (JSON lines). A scores file at
or above the threshold exactly in the incidents' impact window detects them with precision 1;
below it everywhere it makes no alerts."""
import datetime
import json

import h5py
import pytest

from dosim_test_util import SOURCE_DIR, TMP, Checks, dosim

SCENARIOS = ["retry-storm", "payments-mad"]
SUMMARY_ROWS = ["all detectors", "random baseline", "null baseline"]


def run_scenario(name):
    trace = TMP / f"score-external-{name}.h5"
    run = dosim("run", SOURCE_DIR / "scenarios" / f"{name}.yaml", "--out", trace, "--quiet")
    assert run.returncode == 0, run.stderr
    return trace


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def trace_alerts(trace):
    """The trace's /alerts as dicts, in the trace's order."""
    with h5py.File(trace, "r") as f:
        group = f["alerts"]
        columns = {key: list(group[key][:]) for key in group.keys()}
        services = [text(s) for s in f["services/name"][:]]
    alerts = []
    for i in range(len(columns["t_ns"])):
        service = columns["service"][i]
        # Older layouts held the service's index; this one holds its name.
        service = services[int(service)] if not isinstance(service, bytes) else text(service)
        alerts.append({"t_ns": int(columns["t_ns"][i]), "detector": text(columns["detector"][i]),
                       "service": service, "metric": text(columns["metric"][i]),
                       "severity": text(columns["severity"][i]),
                       "resolved_ns": int(columns["resolved_ns"][i]),
                       "target": text(columns["target"][i])})
    return alerts


def iso(t_ns):
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=t_ns // 1000)
    return moment.isoformat(timespec="microseconds") + "Z"


def export(alerts, path, form):
    """Writes the alerts to `path`: csv-ns, csv-seconds, csv-iso (service only) or jsonl."""
    if form == "jsonl":
        with open(path, "w") as out:
            for a in alerts:
                row = {"time": a["t_ns"] / 1e9, "target": a["target"], "detector": a["detector"],
                       "metric": a["metric"], "severity": a["severity"]}
                if a["resolved_ns"] >= 0:
                    row["resolved"] = a["resolved_ns"] / 1e9
                out.write(json.dumps(row) + "\n")
        return
    if form == "csv-ns":
        lines = ["time_ns,detector,service,metric,severity,resolved_ns,target"]
        lines += [f"{a['t_ns']},{a['detector']},{a['service']},{a['metric']},{a['severity']},"
                  f"{a['resolved_ns']},{a['target']}" for a in alerts]
    elif form == "csv-seconds":
        lines = ["detector,time,target,resolved"]
        lines += [f"{a['detector']},{a['t_ns'] / 1e9!r},\"{a['target']}\","
                  + (repr(a['resolved_ns'] / 1e9) if a["resolved_ns"] >= 0 else "")
                  for a in alerts]
    else:  # csv-iso
        lines = ["time,service,detector,resolved"]
        lines += [f"{iso(a['t_ns'])},{a['service']},{a['detector']},"
                  + (iso(a["resolved_ns"]) if a["resolved_ns"] >= 0 else "") for a in alerts]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_own_alerts_exported_score_as_dosim_score_scores_them(scenario):
    check = Checks()
    trace = run_scenario(scenario)
    own = json.loads(dosim("score", trace, "--json").stdout)
    alerts = trace_alerts(trace)
    assert alerts, "the scenario raises alerts"
    detectors = list(dict.fromkeys(a["detector"] for a in alerts))
    for form, suffix in (("csv-ns", ".csv"), ("csv-seconds", ".csv"), ("csv-iso", ".txt"),
                         ("jsonl", ".jsonl")):
        path = TMP / f"score-external-{scenario}-{form}{suffix}"
        export(alerts, path, form)
        result = dosim("score", trace, "--alerts", path, "--json")
        check(result.returncode == 0, f"{form}: exit {result.returncode}: {result.stderr}")
        if result.returncode != 0:
            continue
        scored = json.loads(result.stdout)
        check(scored["alerts"] == len(alerts), f"{form}: {scored['alerts']} alerts read")
        check(scored["incidents"] == own["incidents"], f"{form}: incidents")
        check(scored["source"] == {"alerts": str(path)}, f"{form}: source {scored['source']}")
        expected_rows = [row for d in detectors for row in (d, f"random ({d})")] + SUMMARY_ROWS
        check(list(scored["scores"]) == expected_rows,
              f"{form}: rows {list(scored['scores'])}, expected {expected_rows}")
        # Same alerts in the same order: the summary rows are the same too.
        for row in detectors + SUMMARY_ROWS:
            check(scored["scores"].get(row) == own["scores"][row],
                  f"{form}: row {row}: {scored['scores'].get(row)} != {own['scores'][row]}")
        check("incident_rules" not in scored, f"{form}: no incident rule rows")
    check.assert_passed()


def test_text_output_names_the_file_and_prints_the_score_table():
    trace = run_scenario("payments-mad")
    path = TMP / "score-external-text.csv"
    alerts = trace_alerts(trace)
    assert len(alerts) > 0
    export(alerts, path, "csv-ns")
    result = dosim("score", trace, "--alerts", path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"dosim score: {path}: {len(alerts)} alerts read"
    assert lines[1].startswith(f"  against {trace} (seed ")
    own = dosim("score", trace).stdout.splitlines()
    for detector in ("mad-services", "mad-endpoints", "all detectors", "random baseline",
                     "null baseline"):
        row = next(line for line in own if line.startswith(f"    {detector} "))
        assert row in lines, (row, result.stdout)
    assert any(line.startswith("    random (mad-services)") for line in lines), result.stdout


def test_csv_problems_are_all_reported_at_their_fields():
    trace = run_scenario("payments-mad")
    path = TMP / "score-external-bad.csv"
    path.write_text("time,service,detector,resolved\n"
                    "2711,paymnts,x,\n"           # line 2: unknown service at column 6
                    "2711,gateway,x,\n"           # fine
                    "soon,gateway,x,\n"           # line 4: bad time at column 1
                    "2711000000000,gateway,x,\n"  # line 5: nanoseconds under `time`
                    "9000,gateway,x,\n"           # line 6: past the run's end (7200 s)
                    "2711,gateway,x,2700\n"       # line 7: resolved before it fired, col 16
                    "2711\n"                      # line 8: no service
                    "2711,gateway,x,,extra\n")     # line 9: a field beyond the header
    result = dosim("score", trace, "--alerts", path)
    assert result.returncode == 2, result.stdout
    errors = result.stderr.splitlines()
    expected = [
        f"{path}:2:6: unknown service `paymnts` (not a service of the trace); did you mean "
        "'payments'?",
        f"{path}:4:1: bad time `soon` in `time` (expected seconds since the run's start, or an "
        "ISO 8601 date-time counted from 1970-01-01T00:00:00Z)",
        f"{path}:5:1: time `2711000000000` in `time` is outside the run (0 to 7200 s); "
        "nanoseconds? use `time_ns`",
        f"{path}:6:1: time `9000` in `time` is outside the run (0 to 7200 s)",
        f"{path}:7:16: `resolved` is before the alert's time",
        f"{path}:8:1: no `service` or `target` in this row",
        f"{path}:9:17: 5 fields, the header has 4",
        "7 problems",
    ]
    assert errors == expected, result.stderr

    missing = TMP / "score-external-missing.csv"
    missing.write_text("detector,target\nx,payments\n")
    result = dosim("score", trace, "--alerts", missing)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{missing}:1:1: missing column `time` or `time_ns`", "1 problem"], result.stderr

    both = TMP / "score-external-both.csv"
    both.write_text("time,time_ns,service\n1,1000000000,gateway\n1,1000000000,nowhere\n")
    result = dosim("score", trace, "--alerts", both)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{both}:1:6: both `time` and `time_ns`: give one column",
        f"{both}:3:14: unknown service `nowhere` (not a service of the trace)",
        "2 problems"], result.stderr


def test_an_unknown_dependency_or_endpoint_of_a_known_service_is_reported():
    # A target names a service, a dependency `caller->callee` or an endpoint `service /name`
    # as /alerts/target does: a typo after a known service is as wrong as one before.
    trace = run_scenario("payments-mad")
    path = TMP / "score-external-targets.csv"
    path.write_text("time,target\n"
                    "2711,gateway->paymnts\n"     # not a dependency
                    "2711,payments /pya\n"        # not an endpoint of payments
                    "2711,users->gateway\n"       # users calls no gateway
                    "2711,gateway -> payments\n"  # spaces around the arrow: fine
                    "2711,payments /pay\n")
    result = dosim("score", trace, "--alerts", path)
    assert result.returncode == 2, result.stdout
    errors = result.stderr.splitlines()
    assert errors[0] == (f"{path}:2:6: unknown dependency `gateway->paymnts` in `target` (not a "
                         "dependency of the trace); did you mean 'gateway->payments'?"), errors
    assert errors[1].startswith(f"{path}:3:6: unknown endpoint `payments /pya` in `target` "
                                "(not an endpoint of the trace); did you mean 'payments /pay'?"), errors
    assert errors[2].startswith(f"{path}:4:6: unknown dependency `users->gateway`"), errors
    assert errors[3] == "3 problems", errors


def test_json_lines_problems_are_all_reported_at_their_lines():
    trace = run_scenario("payments-mad")
    path = TMP / "score-external-bad.jsonl"
    path.write_text('{"time": 2711, "target": "gatewy->payments"}\n'
                    "\n"
                    '{"time": "1970-01-01T00:45:11Z", "target": "payments /pay"}\n'
                    '{"time": 3, "time_ns": 3000000000, "service": "gateway"}\n'
                    "not json\n"
                    '{"service": "gateway"}\n'
                    '{"time": "2024-01-01T00:00:00Z", "service": "users", "severity": true}\n'
                    '{"time": 12}\n')
    result = dosim("score", trace, "--alerts", path)
    assert result.returncode == 2, result.stdout
    errors = result.stderr.splitlines()
    assert errors[0] == (f"{path}:1: unknown service `gatewy` in `target` `gatewy->payments` "
                         "(not a service of the trace); did you mean 'gateway'?")
    assert errors[1] == f"{path}:4: both `time` and `time_ns`: give one key"
    assert errors[2].startswith(f"{path}:5: not valid JSON: parse error at column 2")
    assert errors[3] == f"{path}:6: missing key `time` or `time_ns`"
    assert errors[4] == f"{path}:7: `severity`: expected a string or a number"
    assert errors[5] == (f"{path}:7: time `2024-01-01T00:00:00Z` in `time` is outside the run "
                         "(0 to 7200 s); a date-time counts from 1970-01-01T00:00:00Z, the "
                         "run's start")
    assert errors[6] == f"{path}:8: missing key `service` or `target`"
    assert errors[7:] == ["7 problems"]


def write_scores(path, rows):
    path.write_text("time,series,score,detector\n"
                    + "".join(f"{t},{series},{score},{detector}\n"
                              for t, series, score, detector in rows))


def test_scores_at_the_threshold_in_the_impact_window_detect_the_incidents():
    check = Checks()
    trace = run_scenario("payments-mad")
    with h5py.File(trace, "r") as f:
        starts = set(f["truth/incidents/impact_start_ns"][:] // 10**9)
        ends = set(f["truth/incidents/impact_end_ns"][:] // 10**9)
    assert starts == {2700} and ends == {3180}, (starts, ends)  # both incidents, one window
    rows = []
    for t in range(0, 7201, 10):
        rows.append((t, "payments /pay", 0.8 if 2700 <= t <= 3180 else 0.2, "model"))
        rows.append((t, "gateway->payments", 0.4, "quiet"))
    path = TMP / "score-external-scores.csv"
    write_scores(path, rows)

    # NAB's rule: a score equal to the threshold is a detection.
    for threshold in ("0.5", "0.8"):
        result = dosim("score", trace, "--scores", path, "--threshold", threshold, "--json")
        check(result.returncode == 0, f"threshold {threshold}: {result.stderr}")
        if result.returncode != 0:
            continue
        scored = json.loads(result.stdout)
        model = scored["scores"].get("model", {})
        check(scored["alerts"] == 1, f"threshold {threshold}: {scored['alerts']} alerts")
        check(model.get("precision") == 1 and model.get("recall") == 1,
              f"threshold {threshold}: {model}")
        check(model.get("time_to_detect_ns") == [0, 0], f"threshold {threshold}: TTD {model}")
        # A detector whose scores never reach the threshold has its row: no alert, recall 0
        # (it was left out of the table, so a script reading scores["quiet"] failed).
        quiet = scored["scores"].get("quiet", {})
        check(quiet.get("alerts") == 0 and quiet.get("recall") == 0,
              f"threshold {threshold}: quiet {quiet}")
        check(list(scored["scores"])[:4] == ["model", "random (model)", "quiet", "random (quiet)"],
              f"threshold {threshold}: rows {list(scored['scores'])}")
        check(scored["source"] == {"scores": str(path), "threshold": float(threshold)},
              f"threshold {threshold}: source {scored['source']}")
        # The alert fired at 2700 s and resolved at 3190 s: its rows cover the window.
        check(model.get("range_recall") == 1.0, f"threshold {threshold}: range {model}")

    above = dosim("score", trace, "--scores", path, "--threshold", "0.81")
    check(above.returncode == 0, above.stderr)
    check(above.stdout.startswith(f"dosim score: {path}: 0 alerts from the scores at threshold "
                                  "0.81 (score >= it)\n"), above.stdout)
    default = json.loads(dosim("score", trace, "--scores", path, "--json").stdout)
    check(default["source"]["threshold"] == 0.5, f"default threshold {default['source']}")
    check.assert_passed()


def test_scores_file_problems_and_option_errors_exit_2():
    check = Checks()
    trace = run_scenario("payments-mad")
    bad = TMP / "score-external-bad-scores.csv"
    bad.write_text("time,series,score\n10,payments,nan\n20,payment,0.5\n30,payments\n"
                   "40,payments:latency_p95_s,0.5\n")
    result = dosim("score", trace, "--scores", bad)
    check(result.returncode == 2, f"bad scores: exit {result.returncode}")
    check(result.stderr.splitlines() == [
        f"{bad}:2:13: bad score `nan` (expected a finite number)",
        f"{bad}:3:4: unknown service `payment` (not a service of the trace); did you mean "
        "'payments'?",
        f"{bad}:4:1: missing field `score` (the row is shorter than the header)",
        # A detector's series name where the target is wanted: said so.
        f"{bad}:5:4: unknown service `payments:latency_p95_s` (not a service of the trace; "
        "`series` is the target the row is about, `payments`, not a detector's series name)",
        "4 problems"], result.stderr)

    good = TMP / "score-external-good-scores.csv"
    write_scores(good, [(10, "payments", 0.1, "m")])
    alerts = TMP / "score-external-alerts.csv"
    alerts.write_text("time,service\n10,payments\n")
    for args, what in ((["--alerts", alerts, "--scores", good], "--alerts excludes --scores"),
                       (["--scores", good, "--threshold", "nan"], "must be a finite number"),
                       (["--scores", good, "--threshold", "inf"], "must be a finite number"),
                       (["--threshold", "0.3"], "--threshold requires --scores"),
                       (["--alerts", TMP / "no-such-alerts.csv"], "no-such-alerts.csv: no such "
                                                                   "file")):
        result = dosim("score", trace, *args)
        check(result.returncode == 2, f"{args}: exit {result.returncode}")
        check(what in result.stderr, f"{args}: {result.stderr!r}")
    check.assert_passed()


def test_export_fields_and_names_of_the_tables_own_rows():
    # From a new-user audit. An Alertmanager-style export's `labels` and `annotations`
    # objects (keys the scores do not read) failed the whole file; they are ignored, as
    # documented. A detector named as one of the table's own rows was shown twice and the
    # JSON kept one: refused at its cell. Past 100 problems the count is of them all, and a
    # nanosecond column's range is said in nanoseconds.
    trace = run_scenario("payments-mad")
    exported = TMP / "score-external-export.jsonl"
    exported.write_text('{"time": 2711, "service": "payments", "labels": {"a": "b"}, '
                        '"annotations": {"summary": "x"}, "silenced": false, "ids": [1, 2]}\n')
    result = dosim("score", trace, "--alerts", exported, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["scores"]["external"]["alerts"] == 1
    reserved = TMP / "score-external-reserved.csv"
    reserved.write_text("time,service,detector\n2711,payments,null baseline\n"
                        "2712,payments,random (mine)\n2713,payments,mine\n")
    result = dosim("score", trace, "--alerts", reserved)
    assert result.returncode == 2
    assert (f"{reserved}:2:15: detector `null baseline` is a row the score table adds itself"
            in result.stderr), result.stderr
    assert f"{reserved}:3:15: detector `random (mine)` is a row" in result.stderr
    many = TMP / "score-external-many.csv"
    many.write_text("time,service\n" + "".join(f"{i},nope\n" for i in range(150)))
    result = dosim("score", trace, "--alerts", many)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-2:] == [f"{many}: 50 more problems not listed",
                                               "150 problems"], result.stderr[-300:]
    nanos = TMP / "score-external-ns.csv"
    nanos.write_text("time_ns,service,resolved_ns\n8000000000000,payments,-2\n")
    result = dosim("score", trace, "--alerts", nanos)
    assert result.returncode == 2
    assert f"{nanos}:2:1: time `8000000000000` in `time_ns` is outside the run (0 to " \
        "7200000000000 ns)" in result.stderr, result.stderr
    assert "-1 is the only negative value: never resolved" in result.stderr
    # A key given twice in a JSON line kept its last value without a word.
    repeated = TMP / "score-external-repeated.jsonl"
    repeated.write_text('{"time": 2711, "service": "payments", "time": 2800}\n')
    result = dosim("score", trace, "--alerts", repeated)
    assert result.returncode == 2
    assert f"{repeated}:1: key `time` is given twice" in result.stderr, result.stderr


def test_an_interrupted_trace_counts_the_incidents_that_began():
    """A trace stopped before its second fault began: `score --alerts` said "against 2
    incidents" where `dosim score` says 1 (the second is kept, silent, not begun)."""
    dosim_package = pytest.importorskip("dosim")
    scenario = TMP / "score-external-stopped.yaml"
    scenario.write_text("""\
name: stopped
duration: 1h
services:
  - {name: web, replicas: 2, capacity_rps: 200, base_latency: 10ms}
traffic: [{entry: web, base_rps: 50}]
faults:
  - {name: early, kind: error, target: {service: web}, percent: 50, start: 2m, duration: 2m}
  - {name: late, kind: error, target: {service: web}, percent: 50, start: 40m, duration: 2m}
""")
    trace = TMP / "score-external-stopped.h5"
    # Ctrl-C at 10 minutes, from a Python detector: the run stops as a signal stops it, its
    # trace incomplete with the ground truth so far (docs/python.md, Interrupting a run).
    stopper = TMP / "score_external_stopper.py"
    stopper.write_text("import os, signal\n"
                       "class Stop:\n"
                       "    def __init__(self, series):\n"
                       "        self.sent = False\n"
                       "    def step(self, t_ns, values):\n"
                       "        if t_ns >= 600e9 and not self.sent:\n"
                       "            self.sent = True\n"
                       "            os.kill(os.getpid(), signal.SIGINT)\n"
                       "        return [0.0] * len(values)\n")
    with pytest.raises(KeyboardInterrupt):
        dosim_package.run(scenario, out=trace, detectors=[f"python:{stopper}:Stop"])
    alerts = TMP / "score-external-stopped.csv"
    alerts.write_text("t_ns,detector,service\n130000000000,mine,web\n")
    own = dosim("score", trace)
    external = dosim("score", trace, "--alerts", alerts)
    assert own.returncode == 0 and external.returncode == 0, own.stderr + external.stderr
    assert "[INCOMPLETE]" in own.stdout and "[INCOMPLETE]" in external.stdout
    assert "against 1 incident " in own.stdout, own.stdout
    assert "against 1 incident " in external.stdout, external.stdout
