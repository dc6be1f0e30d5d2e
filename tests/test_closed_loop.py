"""dosim bench --closed-loop: each detector drives scenarios/auto-rollback.yaml's playbook in
its own run. Checked from the JSON: the null detector is the customers' report, 30 minutes
(remediation: customer_report) after the impact starts, and when customers would report it
only after the impact ended it detects and mitigates nothing and the incident lasts to the end
of the run; the oracle detects each incident at its first tick and
mitigates every one, one automation latency (1 m) after; a detector's time to recover is its
time to mitigate when the rollback ends the impact; the results are identical for 1 and 2
threads; a scenario without playbooks is refused."""
import json

import h5py

from dosim_test_util import SOURCE_DIR, TMP, dosim

SCENARIO = str(SOURCE_DIR / "scenarios" / "auto-rollback.yaml")


def bench(threads, out):
    result = dosim("bench", "--closed-loop", "--detectors", "threshold,mad", "--scenarios", SCENARIO,
                   "--seeds", "2", "--threads", threads, "--out", out)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text()), result.stdout


def test_detection_now_decides_recovery():
    TMP.mkdir(parents=True, exist_ok=True)
    one, table = bench("1", TMP / "loop1.json")
    two, _ = bench("2", TMP / "loop2.json")
    assert (TMP / "loop1.json").read_bytes() == (TMP / "loop2.json").read_bytes()
    assert [r["seed"] for r in one["runs"]] == [3, 4]
    # The defect's natural end: the end of the run, from a plain run of the same scenario.
    plain = TMP / "plain.h5"
    assert dosim("run", SCENARIO, "-q", "-o", plain).returncode == 0
    for run in one["runs"]:
        rows = run["rows"]
        # Customers report it 30 m after it starts; the playbook answers 1 m later.
        assert rows["null"]["detected"] == rows["null"]["mitigated"] == 1
        assert rows["null"]["ttd_s"] == [1801.0] and rows["null"]["ttm_s"] == [1861.0]
        assert rows["null"]["error_budget_burned"] > rows["oracle"]["error_budget_burned"] > 0
        assert rows["oracle"]["detected"] == rows["oracle"]["mitigated"] == rows["oracle"]["scored"] == 1
        assert rows["oracle"]["ttd_s"] == [1.0]  # the first tick of the impact (1 s ticks)
        assert rows["oracle"]["ttm_s"] == [61.0]  # + the playbook's after: 1m
        for name in ("threshold", "mad", "oracle"):
            assert rows[name]["ttr_s"] == rows[name]["ttm_s"], name  # the rollback ends it
            assert rows[name]["ttm_s"][0] >= rows[name]["ttd_s"][0] + 60
    # Customers who would report only after 3 h: nothing detects it, the defect runs to the end.
    late = TMP / "late-customers.yaml"
    late.write_text(open(SCENARIO).read().replace("remediation:\n", "remediation:\n  customer_report: 3h\n"))
    result = dosim("bench", "--closed-loop", "--detectors", "threshold", "--scenarios", late,
                   "--out", TMP / "late.json")
    assert result.returncode == 0, result.stderr
    rows = json.loads((TMP / "late.json").read_text())["runs"][0]["rows"]
    assert rows["null"]["detected"] == rows["null"]["mitigated"] == 0
    with h5py.File(plain) as f:
        start = int(f["truth/incidents/impact_start_ns"][0])
        natural = (int(f["time_ns"][-1]) - start) / 1e9
    assert rows["null"]["ttr_s"] == [natural]
    assert "oracle" in table and "TTM p50" in table and "budget" in table


def test_a_scenario_without_playbooks_is_refused():
    result = dosim("bench", "--closed-loop", "--detectors", "mad", "--scenarios",
                   str(SOURCE_DIR / "scenarios" / "payments-mad.yaml"))
    assert result.returncode == 2
    assert "--closed-loop needs the scenario's remediation: playbooks" in result.stderr


def test_detectors_joined_with_plus_run_together_as_one_row():
    """`a+b` runs both detectors in one run, as one row: it detects as soon as the faster of
    the two. Each row lists its scored incidents (name, cause, times) in the JSON, and the
    table has the automatic remediation rate and the means (MTTD, MTTR)."""
    TMP.mkdir(parents=True, exist_ok=True)
    out = TMP / "plus.json"
    result = dosim("bench", "--closed-loop", "--detectors", "threshold,mad,threshold+mad",
                   "--scenarios", SCENARIO, "--out", out)
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["runs"][0]["rows"]
    both = rows["threshold+mad"]
    assert both["detected"] == both["mitigated"] == both["automatic"] == 1
    assert both["ttd_s"] == [min(rows["threshold"]["ttd_s"][0], rows["mad"]["ttd_s"][0])]
    [incident] = both["incidents"]
    assert incident["name"] == "checkout-v2" and incident["cause"] == "deployment"
    assert incident["ttd_s"] == both["ttd_s"][0] and incident["ttm_s"] == both["ttm_s"][0]
    assert incident["ttr_s"] == both["ttr_s"][0]
    header = next(line for line in result.stdout.splitlines() if "TTD p50" in line)
    assert "auto" in header and "MTTD" in header and "MTTR" in header
    line = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["threshold+mad"])
    assert "100%" in line.split()[3]  # detected, mitigated, auto: 1 of 1 by automation
    bad = dosim("bench", "--closed-loop", "--detectors", "threshold+nosuch", "--scenarios", SCENARIO)
    assert bad.returncode == 2 and "nosuch" in bad.stderr


MOVING = """name: moving-impacts
duration: 3h
tick: 1s
record: 10s
seed: 5
services:
  - {name: frontend, replicas: 4, capacity_rps: 250, base_latency: 8ms}
  - {name: checkout, replicas: 4, capacity_rps: 120, base_latency: 25ms}
  - {name: search, replicas: 3, capacity_rps: 300, base_latency: 10ms}
  - {name: orders-db, replicas: 2, capacity_rps: 800, base_latency: 2.5ms}
dependencies:
  - {caller: frontend, callee: checkout, calls_per_request: 0.3, timeout: 3s}
  - {caller: frontend, callee: search, calls_per_request: 0.5, timeout: 3s}
  - {caller: checkout, callee: orders-db, calls_per_request: 2, timeout: 1s}
traffic:
  - {name: shoppers, entry: frontend, base_rps: 400, noise: 0.04}
changes:
  - {name: cfg-bad, kind: config, services: [checkout], version: cfg-2, at: 20m,
     defect: {errorPercent: 20}}
  - {name: ranking, kind: feature-flag, flag: new-ranking, services: [search],
     steps: [{at: 1h, percent: 50}, {at: 1h5m, percent: 100}], defect: {latency: 400ms}}
faults:
  - {name: db-leak, kind: memory-leak, target: {service: orders-db}, rate: 5, start: 2h, duration: 50m}
detectors:
  - {name: errors-high, kind: threshold, metrics: [error_ratio], params: {above: 0.05}, for: 30s, severity: critical}
  - {name: slow, kind: threshold, metrics: [latency_p95_s], params: {above: 0.2}, for: 30s}
  - {name: mem-high, kind: threshold, metrics: [memory_ratio], params: {above: 0.8}, for: 10s}
remediation:
  slo: 0.995
  playbooks:
    - name: fix-config
      match: {detector: errors-high, services: [checkout]}
      after: 30s
      steps: [{action: scale, by: 2}, {action: revert-config}]
      verify: {metric: error_ratio, below: 0.02, within: 2m}
    - name: flag-off-slow
      match: {detector: slow, services: [search]}
      after: 1m
      steps: [{action: flag-off}]
    - name: restart-db
      match: {detector: mem-high}
      responder: oncall
      ack: {median: 5m, p90: 5m}
      investigate: 5m
      steps: [{action: restart, replicas: 1}]
"""


def test_the_baselines_follow_the_impacts_their_own_responses_move():
    # The config defect fixed at 20m makes checkout's extra replicas shift what the leak at 2h
    # does; the baselines' alerts come from their own runs, not from a run without
    # responders: the customers never report before customer_report, the oracle detects
    # every incident at its first tick.
    scenario = TMP / "moving-impacts.yaml"
    TMP.mkdir(parents=True, exist_ok=True)
    scenario.write_text(MOVING)
    out = TMP / "moving.json"
    result = dosim("bench", "--closed-loop", "--detectors", "threshold", "--scenarios", scenario,
                   "--seeds", "1", "--out", out)
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["runs"][0]["rows"]
    for incident in rows["null"]["incidents"]:
        assert incident["ttd_s"] is None or incident["ttd_s"] >= 1800, incident
    oracle = rows["oracle"]
    assert oracle["detected"] == oracle["scored"] == 3, oracle
    assert all(i["ttd_s"] <= 1.0 for i in oracle["incidents"]), oracle
