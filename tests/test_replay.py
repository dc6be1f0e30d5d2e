"""`replay:` end to end: a scenario replaying a CSV file (as a user would, with exported
metrics) runs dosim's detectors on it. A threshold detector alerts at exactly the rows whose
value exceeds its limit (read back from --events and from the trace with h5py), the trace
holds the recorded values and the labelled anomaly as an incident, and a bad CSV file stops
`dosim validate` and `dosim run` with exit 2 and FILE:LINE:COL of the CSV."""
import datetime
import json
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import TMP, dosim

VALUES = [3.0, 3.5, 2.5, 8.0, 9.5, 4.0, 3.0, 12.0, 3.0, 3.2, 7.5, 7.6, 2.0, 3.0]
ABOVE = 7.0


def write_case(csv_text):
    folder = TMP / "replay"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.csv").write_text(csv_text)
    scenario = folder / "replay.yaml"
    scenario.write_text(
        "name: exported\n"
        "services: [{name: api}]\n"
        "replay:\n"
        "  - {name: p95, file: metrics.csv, service: api, metric: latency_p95_s,\n"
        "     anomalies: [['2024-03-01 10:15', '2024-03-01 10:20']]}\n"
        "detectors:\n"
        f"  - {{name: slow, kind: threshold, metrics: [latency_p95_s], params: {{above: {ABOVE}}}}}\n")
    return scenario


def good_csv():
    start = datetime.datetime(2024, 3, 1, 10, 0, 0)
    rows = "".join(f"{start + datetime.timedelta(minutes=5 * i)},{v}\n" for i, v in enumerate(VALUES))
    return "timestamp,value\n" + rows


def test_threshold_alerts_at_the_rows_above_its_limit():
    scenario = write_case(good_csv())
    trace = TMP / "replay" / "replay.h5"
    events = TMP / "replay" / "events.jsonl"
    result = dosim("run", scenario, "--out", trace, "--events", events, "--quiet")
    assert result.returncode == 0, result.stderr
    # Episodes start where the value first exceeds the limit: rows 3, 7 and 10.
    expected = [i for i, v in enumerate(VALUES) if v > ABOVE and not (i > 0 and VALUES[i - 1] > ABOVE)]
    assert expected == [3, 7, 10]
    tick_ns = 5 * 60 * 10**9
    alerts = [json.loads(line) for line in events.read_text().splitlines()]
    alerts = [a for a in alerts if a["kind"] == "alert"]
    assert [a["t_ns"] // tick_ns - 1 for a in alerts] == expected, alerts
    assert all(a["detector"] == "slow" and a["service"] == "api" for a in alerts)
    with h5py.File(trace, "r") as f:
        assert f.attrs["tick_ns"] == tick_ns
        p95 = f["metrics/service/latency_p95_s"][:, 0]
        assert (p95 == np.array(VALUES, dtype=np.float32)).all(), p95
        assert [t // tick_ns - 1 for t in f["alerts/t_ns"][:]] == expected
        truth = f["truth/incidents"]
        assert [c.decode() if isinstance(c, bytes) else c for c in truth["cause"][:]] == ["labelled"]
        assert truth["impact_start_ns"][0] == 3 * tick_ns      # row 10:15
        assert truth["impact_end_ns"][0] == 5 * tick_ns        # through row 10:20
        assert list(f["alerts/incident_id"][:]) == [0, -1, -1]  # row 3 detects it


@pytest.mark.parametrize("record", ["1s", "2s"])
def test_a_replayed_error_ratio_without_traffic_reaches_the_trace(record):
    # An error ratio is weighted by rps over a row; a replayed one on a service with no
    # traffic has no rps, and kept 0 in the trace while its detector saw the values.
    folder = TMP / "replay-errors"
    folder.mkdir(parents=True, exist_ok=True)
    values = [0.01, 0.02, 0.5, 0.5, 0.01, 0.03]
    (folder / "er.csv").write_text("timestamp,value\n" + "".join(
        f"{i + 1},{v}\n" for i, v in enumerate(values)))
    scenario = folder / f"er-{record}.yaml"
    scenario.write_text(f"""\
name: er-replay
record: {record}
services: [{{name: svc}}]
replay:
  - {{file: er.csv, service: svc, metric: error_ratio}}
detectors:
  - {{name: t, kind: threshold, metrics: [error_ratio], params: {{above: 0.1}}}}
""")
    trace = folder / f"er-{record}.h5"
    result = dosim("run", scenario, "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    per_row = 1 if record == "1s" else 2
    expected = np.array(values, dtype=np.float32).astype(np.float64).reshape(-1, per_row).mean(axis=1)
    with h5py.File(trace, "r") as f:
        stored = f["metrics/service/error_ratio"][:, 0]
        assert np.allclose(stored, expected.astype(np.float32), rtol=1e-6), (stored, expected)


def test_bad_csv_is_reported_at_its_line_and_column():
    # A field too many holding text is a value split by a comma (4,0 read 4 before): refused at
    # it, with the other bad rows; a trailing comma (an empty field) is fine.
    csv_text = good_csv().replace("10:25:00,4.0", "10:25:00,4,0")
    csv_text = csv_text.replace("10:30:00,3.0", "10:30:00,3.0,")
    csv_text = csv_text.replace("10:35:00,12.0", "10:35:00,twelve")
    scenario = write_case(csv_text)
    csv_path = str(TMP / "replay" / "metrics.csv")
    for command in (["validate", scenario], ["run", scenario, "--out", TMP / "replay" / "bad.h5"]):
        result = dosim(*command)
        assert result.returncode == 2, (command, result.returncode, result.stderr)
        assert f"{csv_path}:9:21: bad value `twelve` in column `value`" in result.stderr, result.stderr
        assert f"{csv_path}:7:23: 3 fields, the header names 2" in result.stderr, result.stderr
        assert ":8:" not in result.stderr, result.stderr
    assert not (TMP / "replay" / "bad.h5").exists()


def test_missing_csv_and_unknown_metric():
    scenario = write_case(good_csv())
    (TMP / "replay" / "metrics.csv").unlink()
    result = dosim("validate", scenario)
    assert result.returncode == 2
    # said at the scenario's file: value
    assert f"{scenario}:" in result.stderr and "metrics.csv': no such file" in result.stderr, result.stderr
    scenario.write_text(scenario.read_text().replace("latency_p95_s,\n", "latncy_p95_s,\n"))
    (TMP / "replay" / "metrics.csv").write_text(good_csv())
    result = dosim("validate", scenario)
    assert result.returncode == 2
    assert f"{scenario}:4:" in result.stderr and "did you mean 'latency_p95_s'" in result.stderr, \
        result.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


def test_a_replay_or_anomaly_after_the_runs_end_is_a_warning():
    """Rows or a labelled anomaly that all land at or after the run's end are never replayed
    or scored: said as warnings (errors with --strict), as a fault after the end is; so is a
    traffic source's recording that starts after it."""
    folder = TMP / "replay-late"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.csv").write_text(good_csv())  # 14 rows of 5 minutes: 70 minutes
    scenario = folder / "late.yaml"
    scenario.write_text(
        "name: late\n"
        "duration: 30m\n"
        "tick: 5m\n"
        "services: [{name: api}, {name: db}]\n"
        "traffic:\n"
        "  - {name: u, entry: api, base_rps: 5, replay: {file: metrics.csv, start: 1h}}\n"
        "replay:\n"
        "  - {name: p95, file: metrics.csv, service: api, metric: latency_p95_s,\n"
        "     anomalies: [['2024-03-01 10:15', '2024-03-01 10:20'], ['2024-03-01 10:40', '2024-03-01 10:50']]}\n"
        "  - {name: late, file: metrics.csv, service: db, metric: latency_p95_s, start: 30m}\n")
    result = dosim("validate", scenario)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert f"{scenario}:9:60: warning: this anomaly of replay 'p95' starts at 40m in simulated time, at or after the run's end (30m): it is no incident of the ground truth" in lines, result.stderr
    assert f"{scenario}:10:80: warning: replay 'late' starts at 30m, at or after the run's end (30m): none of its rows is replayed and its anomalies are not scored" in lines, result.stderr
    assert f"{scenario}:6:75: warning: the recording starts at 1h, at or after the run's end (30m): it is never replayed (the source sends its base_rps)" in lines, result.stderr
    assert sum(": warning: " in line for line in lines) == 3, result.stderr
    strict = dosim("validate", scenario, "--strict")
    assert strict.returncode == 2, strict.stderr
    # The anomaly within the run is the one incident of the ground truth.
    trace = folder / "late.h5"
    assert dosim("run", scenario, "-q", "-o", trace).returncode == 0
    with h5py.File(trace) as f:
        assert len(f["truth/incidents/id"]) == 1
