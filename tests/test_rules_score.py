"""dosim rules score: a team's Prometheus alerting rules, evaluated by the real Prometheus
(promtool and prometheus from Debian) over a bundled run's series, scored against the
ground truth. Hand-checked on payments-mad (/pay 600 ms slower and 20 % errors from 45m to
53m, one row a minute):
- PaymentsSlow (payments p95 > 0.3 s for 2m): true at the evaluations of 46m, 47m, 48m, ...
  so it fires at 48m, 3 minutes into the incident, and resolves once p95 is back;
- ErrorsEverywhere (error ratio > 0.5): the error fault is 20 % of one endpoint: never;
- a recording rule backfilled by promtool, then an alert on the recorded series: fires at
  the first evaluation that sees the recorded series (1m or 2m) and never resolves.
"""
import json
import shutil

from dosim_test_util import SOURCE_DIR, TMP, dosim

RULES = """groups:
  - name: payments
    rules:
      - alert: PaymentsSlow
        expr: dosim_service_latency_p95_seconds{service="payments"} > 0.3
        for: 2m
        labels: {severity: critical}
      - alert: ErrorsEverywhere
        expr: dosim_service_error_ratio > 0.5
        for: 1m
      - record: service:rps:sum
        expr: sum by (service) (dosim_service_rps)
      - alert: PaymentsServes
        expr: service:rps:sum{service="payments"} > 0
"""


def payments_trace():
    """payments-mad's trace, run once for the tests that read it."""
    trace = TMP / "payments-mad.h5"
    if not trace.exists():
        assert dosim("run", "-q", SOURCE_DIR / "scenarios" / "payments-mad.yaml", "-o", trace).returncode == 0
    return trace


def test_rules_fire_as_prometheus_fires_them_and_are_scored():
    trace = TMP / "payments-mad.h5"
    assert dosim("run", "-q", SOURCE_DIR / "scenarios" / "payments-mad.yaml", "-o", trace).returncode == 0
    rules = TMP / "rules.yml"
    rules.write_text(RULES)
    result = dosim("rules", "score", trace, rules, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    per_rule = out["source"]["alerts_per_rule"]
    assert per_rule == {"PaymentsSlow": 1, "ErrorsEverywhere": 0, "PaymentsServes": 1}
    slow = [a for a in out["alerts"] if a["rule"] == "PaymentsSlow"][0]
    assert slow["time_s"] == 48 * 60 and slow["service"] == "payments" and slow["severity"] == "critical"
    assert 53 * 60 <= slow["resolved_s"] <= 56 * 60
    serves = [a for a in out["alerts"] if a["rule"] == "PaymentsServes"][0]
    # promtool evaluates the recording group at its own offset inside the minute, so the
    # recorded series starts between the first two rows: the alert fires at 1m or 2m.
    assert serves["time_s"] in (60, 120) and serves["resolved_s"] == -1
    text = dosim("rules", "score", trace, rules)
    assert text.returncode == 0, text.stderr
    line = next(l for l in text.stdout.splitlines() if l.strip().startswith("PaymentsSlow "))
    # alerts 1, no false alarm, precision 1, recall 1 (both incidents: one service), TTD 3m
    assert line.split()[1:6] == ["1", "0.00", "1.00", "1.00", "1.00"], line
    assert "3m" in line.split()[6]
    assert "rule ErrorsEverywhere             0 alerts" in text.stdout
    # A rule that never fired has its row in the table too (0 alerts, recall 0).
    quiet = next(l for l in text.stdout.splitlines() if l.strip().startswith("ErrorsEverywhere "))
    assert quiet.split()[1:6] == ["0", "0.00", "1.00", "0.00", "0.00"], quiet
    assert list(out["scores"])[:6] == ["PaymentsSlow", "random (PaymentsSlow)", "ErrorsEverywhere",
                                       "random (ErrorsEverywhere)", "PaymentsServes",
                                       "random (PaymentsServes)"], list(out["scores"])


def test_a_rule_file_promtool_rejects_is_bad_input():
    trace = payments_trace()
    rules = TMP / "bad-rules.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: rate(\n")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 2
    assert "bad-rules.yml" in result.stderr and "expr" in result.stderr.lower()
    # promtool's problems as dosim's: at FILE:LINE:COL, each once, counted.
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: rate(\n"
                     "      - alert: Y\n        expr: up ==\n")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 2
    assert f"{rules}:5:15: group" in result.stderr and f"{rules}:7:15: group" in result.stderr, result.stderr
    assert "2 problems" in result.stderr and "FAILED" not in result.stderr, result.stderr
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: X\n      expr: rate(\n")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 2 and result.stderr.count("did not find expected") == 1, result.stderr
    # Problems promtool places by line only, or not at all, are placed in the file: its YAML
    # decoder's "line N:" entries at the field, a refused value where it is written.
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up\n"
                     "        fore: 1m\n        labels: [a]\n")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 2, result.stderr
    assert f"{rules}:6:9: field fore not found" in result.stderr, result.stderr
    assert f"{rules}:7:9: cannot unmarshal" in result.stderr and "2 problems" in result.stderr, result.stderr
    assert "unmarshal errors:" not in result.stderr, result.stderr
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up\n"
                     "        for: \"5 min\"\n")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 2, result.stderr
    assert f'{rules}:6:14: not a valid duration string: "5 min"' in result.stderr, result.stderr
    # A rule's own problems (promtool: 'group "g", rule 1, "X": ...', "0:0:" or no position)
    # at the rule, or at what in it they name; flow style too; yaml syntax errors where the
    # text goes wrong; a position promtool says twice, once.
    head = "groups:\n  - name: g\n    rules:\n"
    for body, expected in [
            ("      - {alert: X}\n", "4:9: group \"g\", rule 1, \"X\": field 'expr' must be set"),
            ("      - {alert: Y, expr: up, for: 1x}\n", '4:35: not a valid duration string: "1x"'),
            ("      - {alert: Z, expr: up, labels: {\"0bad\": x}}\n",
             "4:39: group \"g\", rule 1, \"Z\": invalid label name: 0bad"),
            ("      - alert: W\n        expr: up\n        labels:\n"
             "          x: \"{{ $labels.service \"\n",
             "7:14: group \"g\", rule 1, \"W\": label \"x\": template:"),
            ("      - {alert: V, record: v, expr: up}\n",
             "4:28: group \"g\", rule 1, \"V\": only one of")]:
        rules.write_text(head + body)
        result = dosim("rules", "score", trace, rules)
        assert result.returncode == 2 and f"{rules}:{expected}" in result.stderr, (expected, result.stderr)
        assert "1 problem" in result.stderr, result.stderr
    # Two groups of one name, a rule of the second wrong: at that rule (it looked in the
    # first group, whose rule has no labels, and crashed: "internal error", exit 70).
    rules.write_text("groups:\n  - name: a\n    rules: [{alert: V, expr: dosim_service_rps > 1}]\n"
                     "  - name: a\n    rules:\n      - alert: W\n        expr: dosim_service_rps > 1\n"
                     "        labels: {\"0bad\": x}\n")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 2, result.stderr
    assert f'{rules}:8:18: group "a", rule 1, "W": invalid label name: 0bad' in result.stderr, \
        result.stderr
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up\n"
                     "        for: [5m\n        labels: {a: b}\n")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 2 and f"{rules}:7:15: did not find expected ',' or ']'" in result.stderr, result.stderr
    # An empty rule file is valid (promtool: 0 rules found): nothing fires.
    rules.write_text("")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 0 and "0 alerting rules" in result.stdout, result.stderr
    # A scenario where the rule file belongs is said to be one (promtool listed 13 unknown
    # fields of it).
    scenario = SOURCE_DIR / "scenarios" / "payments-mad.yaml"
    result = dosim("rules", "score", trace, scenario)
    assert result.returncode == 2 and "this is a scenario, not a Prometheus rule file" \
        in result.stderr and "not found in type" not in result.stderr, result.stderr
    # Without promtool on PATH the tool is named (it named the rule file, as if that failed).
    import os
    result = dosim("rules", "score", trace, rules, env=dict(os.environ, PATH="/nonexistent"))
    assert result.returncode == 2
    assert "promtool check rules could not be started (Debian: apt-get install prometheus)" \
        in result.stderr, result.stderr


def test_the_bundled_rule_file_passes_promtool_and_scores():
    import subprocess
    rules = SOURCE_DIR / "scenarios" / "payments-rules.yml"
    check = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    trace = payments_trace()
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 0, result.stderr
    assert "rule PaymentsSlow                 1 alert, first at 48m" in result.stdout


def test_alerting_rules_that_cannot_see_the_rows_are_warned_of():
    """An alerting rule evaluated every 30 s with rate(x[1m]) over rows a minute apart holds
    one sample between rows: 119 alerts flapped in silence (recording rules were warned of).
    A rule evaluated less often than once a run made no evaluation in silence."""
    trace = payments_trace()
    rules = TMP / "rules-short-range.yml"
    rules.write_text("""groups:
  - name: g30
    interval: 30s
    rules:
      - alert: Rate30
        expr: rate(dosim_service_latency_seconds_count{service="payments"}[1m]) > 0
  - name: g60
    rules:
      - alert: Rate60
        expr: rate(dosim_service_latency_seconds_count{service="payments"}[2m]) > 0
  - name: slow
    interval: 3h
    rules:
      - alert: Never
        expr: dosim_service_rps > 0
""")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 0, result.stderr
    assert (f"{rules}:5:16: warning: rule 'Rate30' takes a range of 1m and is evaluated every "
            "30s, between the trace's rows") in result.stderr, result.stderr
    assert "'Rate60'" not in result.stderr, result.stderr
    assert (f"{rules}:14:16: warning: rule 'Never' is evaluated every 3h, longer than the run "
            "(2h): it is never evaluated") in result.stderr, result.stderr


def test_a_run_longer_than_one_prometheus_query_is_evaluated_whole():
    """Prometheus answers at most 11,000 points per series and query: a run of 12,600
    evaluations (3.5 h at 1 s) is asked in pieces, and an incident near its end (a 100 %
    error fault from 3h20m for 5m) still fires, once."""
    scenario = TMP / "long-rules.yaml"
    scenario.write_text("""name: long
duration: 3h30m
services: [{name: api, capacity_rps: 200}]
traffic: [{name: u, entry: api, base_rps: 20}]
faults:
  - {name: broken, kind: error, target: {service: api}, percent: 100, start: 3h20m, duration: 5m}
""")
    trace = TMP / "long-rules.h5"
    assert dosim("run", "-q", scenario, "-o", trace).returncode == 0
    rules = TMP / "long-rules.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: Broken\n"
                     "        expr: dosim_service_error_ratio > 0.5\n        for: 10s\n")
    result = dosim("rules", "score", trace, rules, "--json", "--eval-interval", "1s")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["source"]["alerts_per_rule"] == {"Broken": 1}
    alert = out["alerts"][0]
    assert 200 * 60 + 10 <= alert["time_s"] <= 200 * 60 + 12, alert


def test_recording_rules_are_backfilled_in_pieces_prometheus_answers():
    """promtool backfills a recording rule a 2 h block at a time in one query, which
    Prometheus refuses past 11,000 points: at 500 ms evaluations a 2 h block holds 14,400.
    dosim backfills the run in pieces of 10,000 evaluations, so the recorded series covers
    the whole run (25,200 evaluations): an alert on it fires for the incident near the
    end, as the alert on its source does, one evaluation behind at most."""
    trace = TMP / "long-rules.h5"
    if not trace.exists():
        test_a_run_longer_than_one_prometheus_query_is_evaluated_whole()
    rules = TMP / "long-recorded.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n"
                     "      - record: r:errors\n        expr: dosim_service_error_ratio\n"
                     "      - alert: Direct\n        expr: dosim_service_error_ratio > 0.5\n"
                     "      - alert: ViaRecord\n        expr: r:errors > 0.5\n")
    result = dosim("rules", "score", trace, rules, "--json", "--eval-interval", "500ms")
    assert result.returncode == 0, result.stderr
    alerts = {a["rule"]: a for a in json.loads(result.stdout)["alerts"]}
    direct, via = alerts["Direct"], alerts["ViaRecord"]
    assert 200 * 60 <= direct["time_s"] <= 200 * 60 + 2, direct
    assert direct["time_s"] <= via["time_s"] <= direct["time_s"] + 0.5, (direct, via)
    # The same at the group's own `interval: 500ms`: the pieces were sized by the record
    # interval (1 s), and promtool's query of 14,400 points was refused (exit 2).
    rules.write_text(rules.read_text().replace("  - name: g\n", "  - name: g\n    interval: 500ms\n"))
    result = dosim("rules", "score", trace, rules, "--json")
    assert result.returncode == 0, result.stderr
    alerts = {a["rule"]: a for a in json.loads(result.stdout)["alerts"]}
    assert alerts["Direct"]["time_s"] <= alerts["ViaRecord"]["time_s"] <= \
        alerts["Direct"]["time_s"] + 0.5, alerts
    # --eval-interval sets every rule's, a group's `interval:` included: promtool recorded
    # the series at the group's 2 s while the alerts ran at 500 ms.
    rules.write_text(rules.read_text().replace("interval: 500ms", "interval: 2s"))
    result = dosim("rules", "score", trace, rules, "--json", "--eval-interval", "500ms")
    assert result.returncode == 0, result.stderr
    alerts = {a["rule"]: a for a in json.loads(result.stdout)["alerts"]}
    assert alerts["Direct"]["time_s"] <= alerts["ViaRecord"]["time_s"] <= \
        alerts["Direct"]["time_s"] + 0.5, alerts


def test_keep_takes_a_new_or_its_own_folder_only():
    """--keep naming a file ended in an internal error (exit 70); a folder of other files had
    its tsdb/ replaced without a word."""
    trace = payments_trace()
    rules = SOURCE_DIR / "scenarios" / "payments-rules.yml"
    result = dosim("rules", "score", trace, rules, "--keep", trace)
    assert result.returncode == 2 and "--keep names a file" in result.stderr, result.stderr
    other = TMP / "keep-other"
    (other / "tsdb").mkdir(parents=True, exist_ok=True)
    (other / "tsdb" / "mine.txt").write_text("mine")
    result = dosim("rules", "score", trace, rules, "--keep", other)
    assert result.returncode == 2 and "holds other files" in result.stderr, result.stderr
    assert (other / "tsdb" / "mine.txt").read_text() == "mine"
    kept = TMP / "keep-new"
    shutil.rmtree(kept, ignore_errors=True)
    for _ in range(2):  # a new folder, then the one it wrote
        result = dosim("rules", "score", trace, rules, "--keep", kept)
        assert result.returncode == 0, result.stderr
        assert (kept / "series.om").exists()


TEMPLATES = SOURCE_DIR / "tests" / "data" / "label_templates.yml"


def test_the_template_cases_expand_in_prometheus_as_written():
    """tests/data/label_templates.yml says what Prometheus makes of each template in the
    subset dosim expands (tests/test_label_template.cc holds dosim to it): each checked here
    by promtool test rules, one rule and one series per case."""
    import math
    import subprocess
    import yaml
    cases = yaml.safe_load(TEMPLATES.read_text())["expanded"]
    rules, series, tests = [], [], []

    def sample(value):
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        if isinstance(value, float) and math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return repr(value)
    for i, case in enumerate(cases):
        rules.append({"alert": f"C{i}", "expr": f'm{{case="{i}"}}', "labels": {"l": case["template"]}})
        series.append({"series": f'm{{case="{i}",callee="b",job="api"}}', "values": sample(case["value"])})
        labels = {"case": str(i), "callee": "b", "job": "api"}
        if case["expect"] != "":
            labels["l"] = case["expect"]
        tests.append({"eval_time": "0m", "alertname": f"C{i}", "exp_alerts": [{"exp_labels": labels}]})
    folder = TMP / "template-cases"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "t", "rules": rules}]}))
    (folder / "test.yml").write_text(yaml.safe_dump({
        "rule_files": ["rules.yml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": tests}]}))
    result = subprocess.run(["promtool", "test", "rules", "test.yml"], cwd=folder,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_templates_outside_the_subset_are_refused_at_their_place():
    """Templates Prometheus runs but dosim does not expand (humanize, pipelines, range, a
    float compared with an integer, ...) are bad input at FILE:LINE:COL, never a label kept
    literal."""
    import subprocess
    import yaml
    trace = payments_trace()
    cases = yaml.safe_load(TEMPLATES.read_text())["refused"]
    rules = TMP / "refused-template.yml"
    for case in cases:
        # A single-quoted YAML scalar from column 21: the construct sits at 22 + its offset.
        value = case["template"].replace("'", "''")
        rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: A\n"
                         "        expr: dosim_service_error_ratio > 0.5\n        labels:\n"
                         f"          severity: '{value}'\n")
        check = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True)
        assert check.returncode == 0, (case, check.stdout)
        result = dosim("rules", "score", trace, rules)
        assert result.returncode == 2, (case, result.stdout)
        column = 22 + case["template"][:case["offset"]].count("'") + case["offset"]
        assert f"{rules}:7:{column}: label 'severity': " in result.stderr, (case, result.stderr)
        assert case["message"] in result.stderr, (case, result.stderr)


def test_labels_are_expanded_per_alert_at_each_evaluation():
    """The repro of the audit: a severity chosen by $value and a service named by the edge's
    callee. Prometheus expands the labels at every evaluation and an alert is its label set:
    payments' p95 over the incident's minutes (read from the trace with h5py; 0.679, 0.672,
    0.673, 0.673, 0.665, 0.674, 0.674, 0.67 s when written) is critical above its median, so
    one episode is as many alerts as runs of minutes above and below it, each resolving as
    the next fires."""
    import h5py
    trace = payments_trace()
    with h5py.File(trace) as f:
        column = [n.decode() for n in f["services/name"][:]].index("payments")
        values = [float(v) for v in f["metrics/service/latency_p95_s"][:, column] if v > 0.3]
    distinct = sorted(set(values))
    middle = len(distinct) // 2
    threshold = 0.5 * (distinct[middle - 1] + distinct[middle])  # between two values
    runs = []  # [severity, minutes]
    for value in values:
        severity = "critical" if value > threshold else "warning"
        if runs and runs[-1][0] == severity:
            runs[-1][1] += 1
        else:
            runs.append([severity, 1])
    assert len(runs) >= 3, (values, threshold)
    rules = TMP / "templated-rules.yml"
    rules.write_text("""groups:
  - name: payments
    rules:
      - alert: PaymentsSlow
        expr: dosim_service_latency_p95_seconds{service="payments"} > 0.3
        labels:
          severity: '{{ if gt $value THRESHOLD }}critical{{ else }}warning{{ end }}'
      - alert: SlowCallsToPayments
        expr: dosim_edge_latency_p95_seconds{callee="payments"} > 0.3
        for: 2m
        labels:
          service: '{{ $labels.callee }}'
          summary: '{{- if eq .Labels.caller "gateway" -}} from the gateway {{- end -}}'
""".replace("THRESHOLD", repr(threshold)))
    result = dosim("rules", "score", trace, rules, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    slow = [a for a in out["alerts"] if a["rule"] == "PaymentsSlow"]
    assert [a["severity"] for a in slow] == [r[0] for r in runs], (slow, values, threshold)
    for alert, following, run in zip(slow, slow[1:], runs):
        assert alert["resolved_s"] == following["time_s"], slow
        assert alert["resolved_s"] - alert["time_s"] == 60 * run[1], (slow, runs)
    assert all(a["labels"]["service"] == "payments" for a in slow)
    edge = [a for a in out["alerts"] if a["rule"] == "SlowCallsToPayments"]
    assert len(edge) == 1 and edge[0]["service"] == "payments", edge
    assert edge[0]["labels"] == {"callee": "payments", "caller": "gateway", "service": "payments",
                                 "summary": "from the gateway"}, edge


def test_two_series_one_alert_is_refused_as_prometheus_fails_it():
    """Labels that make two series one alert fail Prometheus's evaluation ("vector contains
    metrics with the same labelset after applying alert labels"): bad input, not an alert
    made of either."""
    trace = payments_trace()
    rules = TMP / "collapsed-rules.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: Callers\n"
                     "        expr: dosim_edge_rps{callee=\"ledger-db\"} > 0\n"
                     "        labels:\n          caller: '{{ $labels.callee }}'\n")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 2, result.stdout
    assert f"{rules}:4:16: rule 'Callers': at 1m two series have the same labels" in result.stderr, result.stderr


def test_a_group_limit_fails_the_evaluations_with_more_alerts():
    """A group's `limit:` (the audit's repro): Prometheus fails an alerting rule's evaluation
    that returns more alerts than the limit ("exceeded limit of 1 with 2 alerts", checked
    with promtool test rules) and drops the rule's alerts, so a rule true for every service
    of a run under `limit: 1` never fires; one within its limit fires as without it."""
    import subprocess
    folder = TMP / "limit-promtool"
    folder.mkdir(parents=True, exist_ok=True)
    for limit, verdict in ((1, "exceeded limit of 1 with 2 alerts"), (2, None)):
        (folder / "rules.yml").write_text(
            f"groups:\n  - name: g\n    limit: {limit}\n    rules:\n"
            "      - alert: AnyTraffic\n        expr: rps > 0\n")
        (folder / "test.yml").write_text(
            "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n"
            "    input_series:\n      - {series: 'rps{service=\"a\"}', values: '1 1'}\n"
            "      - {series: 'rps{service=\"b\"}', values: '1 1'}\n"
            "    alert_rule_test:\n      - eval_time: 1m\n        alertname: AnyTraffic\n"
            "        exp_alerts: [{exp_labels: {service: a}}, {exp_labels: {service: b}}]\n")
        result = subprocess.run(["promtool", "test", "rules", "test.yml"], cwd=folder,
                                capture_output=True, text=True)
        if verdict:
            assert result.returncode != 0 and verdict in result.stdout + result.stderr, result.stderr
        else:
            assert result.returncode == 0, result.stdout + result.stderr
    trace = payments_trace()
    rules = TMP / "limit-rules.yml"
    rules.write_text("""groups:
  - name: traffic
    limit: 1
    rules:
      - alert: AnyTraffic
        expr: dosim_service_rps > 0
  - name: payments
    limit: 1
    rules:
      - alert: PaymentsSlow
        expr: dosim_service_latency_p95_seconds{service="payments"} > 0.3
        for: 2m
""")
    result = dosim("rules", "score", trace, rules, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["source"]["alerts_per_rule"] == {"AnyTraffic": 0, "PaymentsSlow": 1}, out["source"]
    # Every evaluation of the run (2 hours, one a minute) failed: every service serves traffic.
    assert out["source"]["evaluations_over_limit"]["AnyTraffic"] >= 100, out["source"]
    assert "PaymentsSlow" not in out["source"]["evaluations_over_limit"]
    slow = [a for a in out["alerts"] if a["rule"] == "PaymentsSlow"]
    assert slow[0]["time_s"] == 48 * 60, slow
    text = dosim("rules", "score", trace, rules)
    assert "evaluations failed: more alerts than the group's limit" in text.stdout, text.stdout


def test_a_limit_is_refused_where_dosim_cannot_apply_it():
    """promtool tsdb create-blocks-from rules, which records a recording rule's series for
    dosim, ignores a group's limit (it writes every series): a limit on a group with
    recording rules is bad input at its place, as is a limit that is no count."""
    trace = payments_trace()
    rules = TMP / "limit-refused.yml"
    cases = {
        "1": "'limit' on a group with recording rules is not simulated",
        "-1": "'limit' is not a non-negative integer",
        "1.5": "'limit' is not a non-negative integer",
    }
    for limit, message in cases.items():
        rules.write_text(f"groups:\n  - name: g\n    limit: {limit}\n    rules:\n"
                         "      - record: r:rps\n        expr: dosim_service_rps\n"
                         "      - alert: A\n        expr: r:rps > 0\n")
        result = dosim("rules", "score", trace, rules)
        assert result.returncode == 2, (limit, result.stdout)
        assert f"{rules}:3:12: {message}" in result.stderr, (limit, result.stderr)
    # limit: 0 is no limit: accepted with recording rules.
    rules.write_text("groups:\n  - name: g\n    limit: 0\n    rules:\n"
                     "      - record: r:rps\n        expr: dosim_service_rps\n")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 0, result.stderr


def test_an_alert_on_a_recorded_series_is_one_evaluation_behind_throughout():
    """promtool's backfill stamps a recorded sample at its group's offset inside the
    interval, with the row before's value (docs/prometheus.md, step 4): an alert on the
    recorded series fires and resolves the same evaluation later than the alert on its
    source (one, unless the offset is 0); one on a recorded series that stops returning
    (a filter in the recording rule) resolves within the 5-minute lookback after."""
    trace = payments_trace()
    rules = TMP / "recorded-delay.yml"
    rules.write_text("""groups:
  - name: record
    rules:
      - record: r:p95
        expr: dosim_service_latency_p95_seconds
      - record: r:slow
        expr: dosim_service_latency_p95_seconds > 0.3
  - name: alerts
    rules:
      - alert: Direct
        expr: dosim_service_latency_p95_seconds{service="payments"} > 0.3
      - alert: ViaRecord
        expr: r:p95{service="payments"} > 0.3
      - alert: ViaFilter
        expr: r:slow{service="payments"}
""")
    result = dosim("rules", "score", trace, rules, "--json")
    assert result.returncode == 0, result.stderr
    alerts = {a["rule"]: a for a in json.loads(result.stdout)["alerts"]}
    direct, via, filtered = alerts["Direct"], alerts["ViaRecord"], alerts["ViaFilter"]
    assert (direct["time_s"], direct["resolved_s"]) == (46 * 60, 54 * 60), direct
    delay = via["time_s"] - direct["time_s"]
    assert delay in (0, 60) and via["resolved_s"] - direct["resolved_s"] == delay, (direct, via)
    assert filtered["time_s"] == via["time_s"]
    assert via["resolved_s"] < filtered["resolved_s"] <= via["resolved_s"] + 5 * 60, filtered


def test_rules_see_the_simulated_calendar_and_any_piece_count():
    """time(), hour() and day_of_week() read the run's simulated calendar (Monday 1 January
    2024 at t = 0, as schedules do), not the day the command runs: a rule true from 2 h on
    Mondays fires at 2 h, whatever the day the test runs. A run of exactly
    10,000 evaluations (3.5 h at 1.26 s) with a recording rule backfills (its last piece
    was one evaluation, which promtool refused). A group's `interval: 0s` is the default one,
    as promtool takes it."""
    trace = TMP / "long-rules.h5"
    if not trace.exists():
        test_a_run_longer_than_one_prometheus_query_is_evaluated_whole()
    rules = TMP / "calendar-rules.yml"
    rules.write_text("""groups:
  - name: g
    interval: 0s
    rules:
      - record: r:rps
        expr: dosim_service_rps
      - alert: MondayTwoAm
        expr: (r:rps > 0) and on() (day_of_week() == 1 and hour() >= 2)
""")
    result = dosim("rules", "score", trace, rules, "--json", "--eval-interval", "1260ms")
    assert result.returncode == 0, result.stderr
    alerts = json.loads(result.stdout)["alerts"]
    assert len(alerts) == 1, alerts
    assert 7200 <= alerts[0]["time_s"] <= 7200 + 1.26 * 2, alerts


def test_rules_that_read_no_series_or_lose_the_service_label_are_warned_of():
    """Two silent traps (found by a new-user audit): a misspelt dosim_ name answers nothing
    (the rule showed '0 alerts'), and an aggregation without `by (service)` fires alerts
    that match no incident (scored as false alarms, precision 0). Both are said at the rule,
    as warnings; the run still scores. A name inside a label's value, a function and a
    recorded series are no metric names of the export."""
    trace = payments_trace()
    rules = TMP / "traps.yml"
    rules.write_text("""groups:
  - name: g
    rules:
      - alert: NoService
        expr: sum(dosim_service_error_ratio) > 0.1
      - alert: Unknown
        expr: dosim_servce_error_ratio > 0.1
      - record: dosim_my:rps
        expr: sum by (service) (dosim_service_rps)
      - alert: Fine
        expr: dosim_service_error_ratio{service="dosim_not_a_metric"} > 0.1 or dosim_my:rps > 1e9 or histogram_quantile(0.95, rate(dosim_service_latency_seconds_bucket[1m])) > 5
      - record: misspelt:rps
        expr: sum by (service) (dosim_servce_rps)
      - record: short:p95
        expr: histogram_quantile(0.95, sum by (service, le) (rate(dosim_service_latency_seconds_bucket[1m])))
      - record: long:p95
        expr: histogram_quantile(0.95, sum by (service, le) (rate(dosim_service_latency_seconds_bucket[2m])))
      - alert: ByName
        expr: '{__name__="dosim_servce_rps", service="payments"} > 1 or {__name__=~"dosim_x.*"} > 1'
""")
    result = dosim("rules", "score", trace, rules)
    assert result.returncode == 0, result.stderr
    warnings = [l for l in result.stderr.splitlines() if ": warning: " in l]
    # Recording rules too (found by a second audit): a misspelt name recorded nothing, and a
    # range no longer than the rows' minute holds one sample where promtool evaluates it,
    # between two rows, so rate() recorded nothing; both left every alert on them at 0.
    assert warnings == [
        f"{rules}:6:16: warning: rule 'Unknown' reads 'dosim_servce_error_ratio', which the "
        "trace's export does not have (it answers nothing); did you mean "
        "'dosim_service_error_ratio'?",
        # An exact __name__ matcher reads that name too (a regex one is left alone).
        f"{rules}:18:16: warning: rule 'ByName' reads 'dosim_servce_rps', which the trace's "
        "export does not have (it answers nothing); did you mean 'dosim_service_rps'?",
        f"{rules}:12:17: warning: recording rule 'misspelt:rps' reads 'dosim_servce_rps', which "
        "the trace's export does not have (it answers nothing); did you mean "
        "'dosim_service_rps'?",
        f"{rules}:14:17: warning: recording rule 'short:p95' takes a range of 1m, no longer than "
        "the trace's row interval (1m): evaluated between two rows it holds one sample, and "
        "rate(), increase() and the like record nothing; give at least twice the interval",
        f"{rules}:4:16: warning: rule 'NoService': 2 of its 2 alerts name no service of the trace "
        "(no 'service' or 'caller' label, or another value): they match no incident and score "
        "as false alarms; keep the label (`by (service)`)"], result.stderr


def test_the_trace_and_the_rule_file_given_the_other_way_round_are_said_as_such():
    """`dosim rules score RULES TRACE` said `TRACE: yaml: invalid leading UTF-8 octet`."""
    trace = payments_trace()
    swapped = dosim("rules", "score", SOURCE_DIR / "scenarios" / "payments-rules.yml", trace)
    assert swapped.returncode == 2, swapped
    assert (f"{trace}: this is an HDF5 file, not a rule file: the trace comes first (dosim rules "
            "score TRACE RULES.yml)") in swapped.stderr, swapped.stderr
