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
