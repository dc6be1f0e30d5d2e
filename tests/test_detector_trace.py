"""The trace keeps every detector's scores and the regression monitor's Lab 7 gauges
(/detectors/<name>/, docs/trace-format.md), checked with h5py and numpy alone.

- a threshold detector's score is the watched value, so with one row per tick its score
  equals the metric, and with a longer record interval it is the maximum over the row's
  ticks (never below the row's mean, which /metrics holds);
- the regression monitor's gauges follow from a least-squares line that numpy fits on the
  training span: y is the edge latency, (y_min + y_max) / 2 is the prediction a + b x and
  y_max - y_min = 2 x threshold x residual sd; MAE, MAPE and the anomaly count follow
  from those over the window.
"""
import os
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import TMP, dosim

SCENARIO = """\
name: detector-trace
duration: 20m
record: {record}
seed: 7
services:
  - {{name: frontend, replicas: 2, capacity_rps: 400, base_latency: 5ms}}
  - {{name: cart, replicas: 2, capacity_rps: 300, base_latency: 10ms}}
dependencies:
  - {{caller: frontend, callee: cart, timeout: 2s}}
traffic:
  - name: users
    entry: frontend
    locust: {{users: 120, spawn_rate: 2, surges: [{{from: 1m, to: 3m, users: 100}}]}}
faults:
  - {{name: delay, kind: latency, target: {{caller: frontend, callee: cart}}, fixedDelay: 200ms,
     start: 12m, duration: 3m}}
detectors:
  - {{name: edge-latency, kind: threshold, family: edge, metrics: [latency_p95_s],
     params: {{above: 0.1}}}}
  - {{name: monitor, kind: regression, family: edge, metrics: [rps, latency_p95_s],
     params: {{training: 300, threshold: 3, window: 10}}}}
"""


def run(record):
    path = os.path.join(TMP, f"detector-trace-{record}.yaml")
    with open(path, "w") as out:
        out.write(SCENARIO.format(record=record))
    trace = os.path.join(TMP, f"detector-trace-{record}.h5")
    result = dosim("run", path, "--quiet", "--out", trace, timeout=120)
    assert result.returncode == 0, result.stderr
    return h5py.File(trace, "r")


def test_threshold_scores_are_the_metric_per_tick():
    with run("1s") as f:
        group = f["detectors/edge-latency"]
        score = group["score"][()]
        assert score.shape == (1200, 1), score.shape
        assert group.attrs["limit"] == 0.1
        assert list(group["label"].asstr()[()]) == ["frontend->cart"]
        assert list(group["metric"].asstr()[()]) == ["latency_p95_s"]
        assert list(group["service"][()]) == [0]  # the caller
        assert np.array_equal(score, f["metrics/edge/latency_p95_s"][()])
        assert "gauges" not in group
        assert list(f["detectors/name"].asstr()[()]) == ["edge-latency", "monitor"]


def test_scores_keep_the_row_maximum():
    with run("1s") as fine, run("1m") as coarse:
        per_tick = fine["detectors/edge-latency/score"][()][:, 0]
        per_row = coarse["detectors/edge-latency/score"][()][:, 0]
        assert per_row.shape == (20,)
        assert np.array_equal(per_row, per_tick.reshape(20, 60).max(axis=1))
        mean = coarse["metrics/edge/latency_p95_s"][()][:, 0]
        assert np.all(per_row >= mean - 1e-7)


def test_regression_gauges_follow_the_fitted_line():
    with run("1s") as f:
        group = f["detectors/monitor"]
        gauges = {name: group["gauges"][name][()] for name in group["gauges"]}
        kinds = ["anomaly_count", "mae", "mape", "y", "y_max", "y_min"]
        assert sorted(gauges) == [f"frontend_to_cart_{k}" for k in kinds], sorted(gauges)
        g = {k: gauges[f"frontend_to_cart_{k}"].astype(np.float64) for k in kinds}
        x = f["metrics/edge/rps"][()][:, 0].astype(np.float64)
        y = f["metrics/edge/latency_p95_s"][()][:, 0].astype(np.float64)
        assert np.array_equal(g["y"], y.astype(np.float32))
        training = 300
        b, a = np.polyfit(x[:training], y[:training], 1)
        residuals = y[:training] - (a + b * x[:training])
        sd = max(0.001, np.sqrt((residuals ** 2).sum() / (training - 2)))
        scored = slice(training, None)
        predicted = a + b * x[scored]
        assert np.allclose((g["y_min"][scored] + g["y_max"][scored]) / 2, predicted,
                           rtol=1e-4, atol=1e-6)
        assert np.allclose(g["y_max"][scored] - g["y_min"][scored], 6 * sd, rtol=1e-3)
        assert np.all(g["y_min"][:training] == 0) and np.all(g["anomaly_count"][:training] == 0)
        # Window gauges over the last 10 scored ticks, recomputed here.
        error = np.abs(y[scored] - predicted)
        outside = (error / sd > 3).astype(np.float64)
        ape = 100 * error / y[scored]
        kernel = np.ones(10)
        count = np.convolve(outside, kernel)[: len(error)]
        filled = np.minimum(np.arange(1, len(error) + 1), 10)
        mae = np.convolve(error, kernel)[: len(error)] / filled
        mape = np.convolve(ape, kernel)[: len(error)] / filled
        # A tick right at the band's edge may fall either way in float32: allow a few.
        assert np.sum(g["anomaly_count"][scored] != count) <= 5
        assert np.allclose(g["mae"][scored], mae, rtol=1e-3, atol=1e-6)
        assert np.allclose(g["mape"][scored], mape, rtol=1e-3, atol=1e-3)
        # The 200 ms delay (12m..15m) fills the window with anomalies; before it, quiet.
        assert g["anomaly_count"][int(13.5 * 60)] == 10
        assert g["anomaly_count"][int(10 * 60)] == 0
        score = group["score"][()]
        assert score.shape == (1200, 2)  # the rate series and the latency series
        assert np.array_equal(score[:, 0], score[:, 1])


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


def test_edges_whose_gauge_names_read_the_same_take_numbers():
    """`a-b->c` and `a.b->c` both read a_b_to_c: the run simulated to its end, then failed to
    write the second gauge ("name already exists"), and validate had said ok."""
    path = TMP / "gauge-clash.yaml"
    path.write_text("""\
name: gauge-clash
duration: 3m
services:
  - {name: a-b, replicas: 2, capacity_rps: 200, base_latency: 10ms}
  - {name: a.b, replicas: 2, capacity_rps: 200, base_latency: 10ms}
  - {name: c, replicas: 2, capacity_rps: 400, base_latency: 5ms}
dependencies:
  - {caller: a-b, callee: c}
  - {caller: a.b, callee: c}
traffic:
  - {name: t1, entry: a-b, base_rps: 50}
  - {name: t2, entry: a.b, base_rps: 50}
detectors:
  - {name: lab, kind: regression, family: edge, metrics: [rps, latency_p95_s], params: {training: 60}}
""")
    trace = TMP / "gauge-clash.h5"
    result = dosim("run", path, "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        names = set(f["detectors/lab/gauges"])
    assert {"a_b_to_c_y", "a_b_to_c_2_y", "a_b_to_c_anomaly_count",
            "a_b_to_c_2_anomaly_count"} <= names, names


def test_an_incident_rule_that_declares_nothing_has_its_row():
    """docs/scoring.md: one row per rule. A rule that declared no incident had none, so its
    recall of 0 and its very name were not shown."""
    path = TMP / "quiet-rule.yaml"
    path.write_text("""\
name: quiet-rule
duration: 10m
services:
  - {name: web, replicas: 2, capacity_rps: 200, base_latency: 10ms}
traffic: [{entry: web, base_rps: 50}]
faults:
  - {name: slow, kind: latency, target: {service: web}, fixedDelay: 1ms, start: 2m, duration: 2m}
detectors:
  - {name: hi, kind: threshold, metrics: [error_ratio], params: {above: 0.5}}
incident_rules:
  - {name: never, detector: hi, threshold: 5}
""")
    result = dosim("run", path, "--out", TMP / "quiet-rule.h5")
    assert result.returncode == 0, result.stderr
    assert "incident rules, scored" in result.stdout, result.stdout
    assert any(line.split()[:2] == ["never", "0"] for line in result.stdout.splitlines()), \
        result.stdout
