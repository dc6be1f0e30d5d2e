"""Playbooks close the loop (docs/remediation.md), checked on hand-worked timelines with
h5py: the error alert of scenarios/auto-rollback.yaml fires, automation rolls the release
back exactly `after` later, the incident's impact ends at that tick (against the end of the
run without the playbook), verification reads the recovered metric `within` later, and the
change log and /remediation say so. An on-call scale-out that fails verification is undone
step by step and escalated; its acknowledgement delay is drawn from the seed (the same
twice, another with another seed) and the actions land in the trace and the story."""
import re

import h5py

from dosim_test_util import SOURCE_DIR, TMP, dosim

SECOND = 1_000_000_000
MINUTE = 60 * SECOND

ONCALL = """name: oncall-scale
duration: 2h
tick: 1s
record: 10s
seed: 4
services:
  - {name: api, replicas: 2, capacity_rps: 100, base_latency: 10ms}
traffic:
  - {name: users, entry: api, base_rps: 150}
faults:
  - {name: hot-cpu, kind: cpu-stress, target: {service: api}, load: 60, start: 20m, duration: 1h}
detectors:
  - {name: slow, kind: threshold, metrics: [latency_p95_s], params: {above: 0.1}, for: 30s, severity: page}
remediation:
  playbooks:
    - name: scale-out
      match: {detector: slow}
      responder: oncall
      ack: {median: 4m, p90: 10m}
      investigate: 5m
      steps: [{action: scale, by: 1}, {action: scale, by: 3}, {action: rollback}]
      verify: {metric: latency_p95_s, below: 0.05, within: 3m}
"""


HOURS = """name: hours
duration: 11h
tick: 1s
record: 1m
seed: 4
services:
  - {name: api, replicas: 2, capacity_rps: 100, base_latency: 10ms}
  - {name: db, replicas: 2, capacity_rps: 400, base_latency: 5ms}
traffic:
  - {name: users, entry: api, base_rps: 150}
dependencies:
  - {caller: api, callee: db}
faults:
  - {name: night, kind: error, target: {service: api}, percent: 50, start: 20m, duration: 2h}
  - {name: day, kind: error, target: {service: api}, percent: 50, start: 10h, duration: 20m}
  - {name: db-day, kind: error, target: {service: db}, percent: 50, start: 10h, duration: 20m}
detectors:
  - {name: errors, kind: threshold, metrics: [error_ratio], params: {above: 0.1}, for: 10s}
remediation:
  max_actions_per_hour: 1
  playbooks:
    - name: page
      match: {detector: errors}
      responder: oncall
      ack: {median: 1m, p90: 1m, off_hours: {median: 30m, p90: 30m}}
      investigate: 2m
      steps: [{action: scale, by: 1, approval: 3m}]
      cooldown: 1h
"""


def text(values):
    return [v.decode() for v in values]


def run(scenario, name, *args):
    TMP.mkdir(parents=True, exist_ok=True)
    trace = TMP / f"{name}.h5"
    result = dosim("run", scenario, "-o", trace, *args)
    assert result.returncode == 0, result.stderr
    return trace, result.stdout


def run_text(name, scenario_text):
    """Writes the scenario to TMP as NAME.yaml and runs it: (trace, stdout)."""
    path = TMP / f"{name}.yaml"
    TMP.mkdir(parents=True, exist_ok=True)
    path.write_text(scenario_text)
    return run(path, name)


def incident_timeline(f, name):
    """The named incident's impact start and end and its /truth/timeline rows (t_ns, event,
    detail)."""
    truth = f["truth/incidents"]
    row = text(truth["name"][()]).index(name)
    timeline = f["truth/timeline"]
    mine = timeline["incident_id"][()] == truth["id"][row]
    return (truth["impact_start_ns"][row], truth["impact_end_ns"][row],
            list(zip(timeline["t_ns"][mine], text(timeline["event"][mine]),
                     text(timeline["detail"][mine]))))


def remediation(f):
    r = f["remediation"]
    return list(zip(r["t_ns"][()], text(r["playbook"][()]), r["service"][()], r["alert_ns"][()],
                    text(r["action"][()]), text(r["outcome"][()])))


def test_a_rollback_triggered_by_the_alert_ends_the_incident_at_that_tick():
    trace, out = run(SOURCE_DIR / "scenarios" / "auto-rollback.yaml", "auto-rollback")
    without = TMP / "without.yaml"
    without.write_text((SOURCE_DIR / "scenarios" / "auto-rollback.yaml").read_text().split("\nremediation:")[0] + "\n")
    plain, _ = run(without, "without")
    with h5py.File(trace) as f, h5py.File(plain) as g:
        alert = int(f["alerts/t_ns"][0])
        actions = remediation(f)
        # after: 1m, then verify within: 5m.
        assert [(a[4], a[5]) for a in actions] == [("rollback", "rolled back deployment 'checkout-v2'"),
                                                     ("verify", "recovered: error_ratio 0 < 0.02")]
        assert actions[0][0] == alert + MINUTE and actions[0][3] == alert
        assert actions[1][0] == alert + MINUTE + 5 * MINUTE
        assert text(f["services/name"][()])[actions[0][2]] == "checkout"
        # The change log has the rollback at that instant, and the impact ends there.
        changes = list(zip(f["events/changes/t_ns"][()], text(f["events/changes/kind"][()])))
        assert (alert + MINUTE, "rollback") in changes
        assert int(f["truth/incidents/impact_end_ns"][0]) == alert + MINUTE
        # Without the playbook the defect stays to the end of the run.
        assert int(g["truth/incidents/impact_end_ns"][0]) == int(g["time_ns"][-1])
        assert "remediation" not in g
        ttm = (alert + MINUTE - int(f["truth/incidents/impact_start_ns"][0])) // SECOND
        # The incident's timeline, in time order.
        t = f["truth/timeline"]
        timeline = [(int(x) - int(f["truth/incidents/impact_start_ns"][0]), e)
                    for x, e in zip(t["t_ns"][()], text(t["event"][()]))]
        start = int(f["truth/incidents/impact_start_ns"][0])
        assert timeline[:6] == [(0, "impact-start"), (alert - start, "first-alert"),
                                (timeline[2][0], "first-notification"),
                                (alert + MINUTE - start, "rollback"),
                                (alert + MINUTE - start, "mitigation"),
                                (alert + MINUTE - start, "impact-end")]
        assert alert - start <= timeline[2][0] <= alert + MINUTE - start
    assert "REMEDY rollback checkout: rolled back deployment 'checkout-v2' (roll-back-bad-release)" in out
    assert "loop: first-alert +1m30s, first-notification" in out
    minutes, seconds = divmod(ttm, 60)
    assert ("remediation 1 actions, 0 escalated; mitigated 1 of 1 incidents (1 by automation: "
            "100%); 1 of 1 action judgements a remedy") in out, out
    assert f"mitigate {minutes}m{seconds}s/{minutes}m{seconds}s" in out, out


def test_an_oncall_scale_out_that_fails_verification_is_undone_and_escalated():
    scenario = TMP / "oncall.yaml"
    TMP.mkdir(parents=True, exist_ok=True)
    scenario.write_text(ONCALL)
    trace, out = run(scenario, "oncall")
    with h5py.File(trace) as f:
        actions = remediation(f)
        alert = int(f["alerts/t_ns"][0])
        changes = list(zip(f["events/changes/t_ns"][()], text(f["events/changes/kind"][()]),
                           text(f["events/changes/to"][()])))
    steps = [(a[4], a[5].split(":")[0]) for a in actions]
    assert steps == [("acknowledge", "after " + steps[0][1].split("after ")[1]),
                     ("scale", "2 -> 3 replicas"), ("verify", "not recovered"), ("undo", "3 -> 2 replicas"),
                     ("scale", "2 -> 5 replicas"), ("verify", "not recovered"), ("undo", "5 -> 2 replicas"),
                     ("rollback", "nothing to roll back"), ("escalate", "no step left")]
    ack = actions[0][0]
    assert ack > alert
    # investigate: 5m after the acknowledgement; each verify 3m after its step.
    assert actions[1][0] == ack + 5 * MINUTE
    assert actions[2][0] == actions[1][0] + 3 * MINUTE == actions[3][0] == actions[4][0]
    assert actions[5][0] == actions[4][0] + 3 * MINUTE
    # The replica counts went 2 -> 3 -> 2 -> 5 -> 2 in the change log.
    assert [to for _, kind, to in changes if kind == "scale"] == ["3", "2", "5", "2"]
    assert "remediation 2 actions, 1 escalated; mitigated 0 of 1 incidents" in out
    # The acknowledgement is drawn from the seed: again the same, another seed another.
    again, _ = run(scenario, "oncall-again")
    other, _ = run(scenario, "oncall-other", "--seed", "5")
    with h5py.File(again) as f, h5py.File(other) as g:
        assert int(f["remediation/t_ns"][0]) == ack
        assert int(g["remediation/t_ns"][0]) - int(g["alerts/t_ns"][0]) != ack - alert


def test_the_events_file_has_each_remediation_row_with_its_target():
    """--events writes a "remediation" line per row of /remediation, with what the row says:
    the step's target, whether it acted, the restart's fault and the trigger."""
    import json
    scenario = TMP / "oncall-events.yaml"
    TMP.mkdir(parents=True, exist_ok=True)
    scenario.write_text(ONCALL)
    events = TMP / "oncall-events.jsonl"
    trace, _ = run(scenario, "oncall-events", "--events", events)
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    remedies = [e for e in lines if e["kind"] == "remediation"]
    with h5py.File(trace) as f:
        r = f["remediation"]
        rows = list(zip(r["t_ns"][()], text(r["action"][()]), r["acted"][()], text(r["target"][()]),
                        text(r["fault"][()])))
    assert [(e["t_ns"], e["action"], int(e["acted"]), e["target"], e["fault"]) for e in remedies] == \
        [(int(t), a, int(acted), target, fault) for t, a, acted, target, fault in rows]
    assert [e["target"] for e in remedies if e["action"] == "scale"] == ["service:api"] * 2
    assert [e["acted"] for e in remedies if e["action"] == "rollback"] == [False]
    assert all(e["trigger"] == "alert slow on api" for e in remedies), remedies


def test_business_hours_approval_and_the_rate_limit():
    """Monday 00:20 is out of business hours: the acknowledgement takes exactly the off-hours
    30 m (p90 = median: no spread); at 10:00 it takes 1 m. Each step waits its 3 m approval
    after the 2 m investigation; at 10:00 two services alert at once and the rate limit (one
    action an hour) escalates the second."""
    scenario = TMP / "hours.yaml"
    TMP.mkdir(parents=True, exist_ok=True)
    scenario.write_text(HOURS)
    trace, out = run(scenario, "hours")
    with h5py.File(trace) as f:
        names = text(f["services/name"][()])
        rows = [(t, names[s], alert, action, outcome) for t, _, s, alert, action, outcome in remediation(f)]
    night = [r for r in rows if r[2] < 5 * 3600 * SECOND]
    alert = night[0][2]
    assert [(r[0] - alert, r[3]) for r in night] == [
        (30 * MINUTE, "acknowledge"), (32 * MINUTE, "approval"), (35 * MINUTE, "scale")]
    day = [r for r in rows if r[2] >= 5 * 3600 * SECOND]
    alert = day[0][2]
    assert sorted((r[0] - alert, r[1], r[3]) for r in day) == sorted([
        (1 * MINUTE, "api", "acknowledge"), (1 * MINUTE, "db", "acknowledge"),
        (3 * MINUTE, "api", "approval"), (3 * MINUTE, "db", "approval"),
        (6 * MINUTE, "api", "scale"), (6 * MINUTE, "db", "escalate")])
    assert [r[4] for r in day if r[3] == "escalate"] == ["rate limit: 1 actions in the last hour"]
    assert "remediation 2 actions, 1 escalated" in out


def test_python_adds_a_playbook_and_acts_itself():
    """dosim.Simulation: a playbook added from Python answers the alert as a declared one does
    (a flag turned off `after` later), and shed / set_timeout / revert act at the simulated time
    they are called, in the change log."""
    import dosim
    scenario = TMP / "python-loop.yaml"
    scenario.write_text("""name: python-loop
duration: 1h
tick: 1s
record: 10s
measurement_noise: false
services:
  - {name: web, replicas: 4, capacity_rps: 250, base_latency: 8ms}
  - {name: api, replicas: 4, capacity_rps: 200, base_latency: 20ms}
dependencies:
  - {caller: web, callee: api, timeout: 2s}
traffic:
  - {name: users, entry: web, base_rps: 300, noise: 0}
changes:
  - {name: new-search, kind: feature-flag, flag: new-search, services: [api],
     steps: [{at: 10m, percent: 50}], defect: {errorPercent: 20}}
  - {name: cfg, kind: config, services: [web], version: c2, at: 5m}
detectors:
  - {name: errors, kind: threshold, metrics: [error_ratio], params: {above: 0.05}, for: 20s}
""")
    trace = TMP / "python-loop.h5"
    sim = dosim.Simulation(str(scenario), out=str(trace))
    sim.playbook(name="flag-off", match={"detector": "errors", "services": ["api"]}, after="1m",
                 steps=[{"action": "flag-off"}])
    sim.step(30 * 60)
    sim.shed("web", 10)
    sim.set_timeout("web", "api", "3s")
    assert sim.revert("cfg") is True and sim.revert("cfg") is False
    report = sim.finish()
    with h5py.File(trace) as f:
        changes = list(zip((int(t) // SECOND for t in f["events/changes/t_ns"][()]),
                           text(f["events/changes/kind"][()]), text(f["events/changes/from"][()]),
                           text(f["events/changes/to"][()])))
        actions = remediation(f)
        alert = int(f["alerts/t_ns"][0]) // SECOND
    assert (alert + 60, "feature-flag", "50%", "0%") in changes
    assert [(a[4], a[5]) for a in actions] == [("flag-off", "turned off feature-flag 'new-search'")]
    assert (1800, "shed", "0%", "10%") in changes
    assert (1800, "timeout", "2s", "3s") in changes
    assert (1800, "config", "c2", "initial") in changes
    assert report is not None


LEAK = """name: leak
duration: 3h
tick: 1s
record: 10s
seed: 5
services:
  - {name: frontend, replicas: 4, capacity_rps: 250, base_latency: 8ms}
  - {name: checkout, replicas: 4, capacity_rps: 120, base_latency: 25ms}
  - {name: orders-db, replicas: 2, capacity_rps: 800, base_latency: 2.5ms}
dependencies:
  - {caller: frontend, callee: checkout, calls_per_request: 0.3, timeout: 3s}
  - {caller: checkout, callee: orders-db, calls_per_request: 2, timeout: 1s}
traffic:
  - {name: shoppers, entry: frontend, base_rps: 400, noise: 0.04}
faults:
  - {name: db-leak, kind: memory-leak, target: {service: orders-db}, rate: 5, start: 2h, duration: 50m}
detectors:
  - {name: mem-high, kind: threshold, metrics: [memory_ratio], params: {above: 0.8}, for: 10s}
remediation:
  playbooks:
    - name: restart-db
      match: {detector: mem-high}
      responder: oncall
      ack: {median: 5m, p90: 5m}
      investigate: 5m
      steps: [{action: restart, replicas: 1}]
"""


def test_the_timeline_holds_the_actions_the_summary_counts():
    # The leak's memory alert fires before its impact starts; the on-call acknowledges and
    # restarts inside the impact. The timeline showed only a second acknowledgement after the
    # impact while the summary counted the first.
    trace, out = run_text("leak", LEAK)
    with h5py.File(trace) as f:
        start, end, rows = incident_timeline(f, "db-leak")
        events = [(t, e) for t, e, _ in rows]
        acted = [(t, a, alerted) for t, _, s, alerted, a, _ in remediation(f)]
    acknowledged = [t for t, e in events if e == "acknowledge"]
    first_ack = min(t for t, a, alerted in acted
                    if a == "acknowledge" and t >= start and alerted <= end)
    assert acknowledged == [first_ack], (events, acted)
    assert start < first_ack < end
    restarts = [t for t, e in events if e == "restart"]
    assert any(start <= t <= end for t in restarts), events
    summary = [line for line in out.splitlines() if "time to (p50/p90)" in line][0]
    assert f"acknowledge {(first_ack - start) // SECOND}s/" in summary, summary


RULE_ONLY = """name: rule-only
duration: 20m
tick: 1s
record: 10s
seed: 3
services:
  - {name: frontend, replicas: 4, capacity_rps: 250, base_latency: 8ms}
  - {name: checkout, replicas: 4, capacity_rps: 120, base_latency: 25ms}
dependencies:
  - {caller: frontend, callee: checkout, calls_per_request: 0.3, timeout: 3s}
traffic:
  - {name: shoppers, entry: frontend, base_rps: 400, noise: 0.04}
changes:
  - {name: v2, kind: deployment, service: checkout, version: v2, at: 5m,
     defect: {errorPercent: 20}}
detectors:
  - {name: err, kind: threshold, metrics: [error_ratio], params: {above: 0.05}, for: 10s}
incident_rules:
  - {name: rule1, detector: err, poll: 5s, decay: 2, stream_threshold: 5, threshold: 10}
remediation:
  playbooks:
    - name: on-inc
      match: {source: incidents, detector: rule1}
      after: 20s
      steps: [{action: rollback}]
"""


def test_an_incident_rules_detection_is_the_time_to_detect():
    # Only the incident rule's detection matches the deployment's incident (its detector's
    # alerts feed the rule): the remediation block's time to detect and the timeline's
    # first alert are the rule's, as the rule's detection scores (docs/scoring.md).
    trace, out = run_text("rule-only", RULE_ONLY)
    with h5py.File(trace) as f:
        start, _, events = incident_timeline(f, "v2")
        assert len(f["incidents_detected/start_ns"][()]) >= 1
    first = [(t, d) for t, e, d in events if e == "first-alert"]
    assert len(first) == 1, events
    ttd = (first[0][0] - start) // SECOND
    assert first[0][1].startswith("incident rule rule1 sev"), first
    # At the severity the rule's incident opened with (it read the highest reached).
    with h5py.File(trace) as f:
        timeline = f["incidents_detected/timeline"]
        opened = [int(sev) for event, sev in zip(timeline["event"].asstr()[()],
                                                 timeline["severity"][()]) if event == "opened"]
    assert first[0][1] == f"incident rule rule1 sev{opened[0]}", (first, opened)
    summary = [line for line in out.splitlines() if "time to (p50/p90)" in line][0]
    assert f"detect {ttd}s/{ttd}s" in summary, summary
    assert f"loop: first-alert +{ttd}s" in out, out


def test_a_playbook_that_can_never_act_is_a_warning():
    path = TMP / "never-acts.yaml"
    TMP.mkdir(parents=True, exist_ok=True)
    text = RULE_ONLY.replace("incident_rules:\n  - {name: rule1, detector: err, poll: 5s, decay: 2, "
                             "stream_threshold: 5, threshold: 10}\n", "")
    text = text.replace("metrics: [error_ratio], params: {above: 0.05}, for: 10s}",
                        "metrics: [error_ratio], params: {above: 0.05}, for: 10s,\n"
                        "     labels: {team: payments}}")
    text = text.split("remediation:")[0] + """remediation:
  playbooks:
    - name: labelled
      match: {detector: err, labels: {team: search}}
      steps: [{action: rollback}]
    - name: late
      match: {detector: err, labels: {team: payments}}
      after: 2h
      steps: [{action: rollback}]
"""
    path.write_text(text)
    result = dosim("validate", path)
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    lines = said.splitlines()
    assert any(re.search(r"never-acts\.yaml:\d+:\d+: warning: detector 'err' does not carry all "
                         r"of these labels: the playbook never matches", line) for line in lines), said
    assert sum("labels: the playbook never matches" in line for line in lines) == 1, said
    assert re.search(r":\d+:\d+: warning: 'after' \(2h\) is not shorter than the run \(20m\): "
                     r"the playbook never acts", said), said
