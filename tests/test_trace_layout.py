"""`dosim run` writes the trace layout that docs/trace-format.md documents.

Runs a 10-minute, 3-service scenario with one latency fault and checks, with h5py alone,
every documented group, dataset, dtype, shape and root attribute, the record-interval
time axis, the value ranges, byte-identical reruns, and that dosim.load_trace (python/dosim/trace.py) reads
the file into pandas. CTest runs it with DOSIM_BIN, DOSIM_SOURCE_DIR and DOSIM_TEST_TMP.
"""

import filecmp
import os
import subprocess
import sys

import dosim_test_util
import h5py
import numpy as np
import pytest

from dosim_test_util import DOSIM, SOURCE_DIR, Checks

TMP = str(dosim_test_util.TMP)
SECOND = 10**9
MINUTE = 60 * SECOND

SCENARIO = """\
# test_trace_layout.py: three services, two dependencies, one endpoint, one fault.
name: layout-check
duration: 10m
record: 1m
seed: 42
services:
  - {name: frontend, replicas: 2, capacity_rps: 200, base_latency: 5ms}
  - name: cart
    capacity_rps: 150
    base_latency: 10ms
    endpoints:
      - {name: /add}
  - {name: redis, capacity_rps: 1000, base_latency: 1ms}
dependencies:
  - {caller: frontend, callee: cart, timeout: 2s}
  - {caller: cart, callee: redis}
traffic:
  - {name: users, entry: frontend, base_rps: 50}
faults:
  - name: cart-delay
    kind: latency
    target: {caller: frontend, callee: cart}
    fixedDelay: 200ms
    start: 3m
    duration: 3m
"""

SERVICES = ["frontend", "cart", "redis"]
EDGES = ["frontend->cart", "cart->redis"]
RATIO_METRICS = {"error_ratio", "cpu_ratio", "memory_ratio", "utilization"}
REQUIRED = {
    "service": ["rps", "error_ratio", "latency_p50_s", "latency_p95_s", "latency_p99_s",
                "cpu_ratio", "memory_ratio", "ready_replicas"],
    "edge": ["rps", "error_ratio", "latency_p50_s", "latency_p95_s", "latency_p99_s"],
    "endpoint": ["rps", "error_ratio", "latency_p50_s", "latency_p95_s", "latency_p99_s"],
}
INCIDENT_COLUMNS = {"id": "<i8", "name": "S", "cause": "S", "root_cause": "S",
                    "root_service": "<i4", "start_ns": "<i8", "end_ns": "<i8",
                    "impact_start_ns": "<i8", "impact_end_ns": "<i8", "silent": "|u1",
                    "ongoing": "|u1"}
ALERT_COLUMNS = {"t_ns": "<i8", "detector": "S", "service": "S", "metric": "S",
                 "severity": "S", "incident_id": "<i8", "resolved_ns": "<i8", "target": "S",
                 "notified_ns": "<i8"}


def is_fixed_string(dataset):
    info = h5py.check_string_dtype(dataset.dtype)
    return info is not None and info.length is not None and info.encoding == "utf-8"


def strings(dataset):
    return [s for s in dataset.asstr()[()]]


def check_dtype(check, dataset, expected, where):
    if expected == "S":
        check(is_fixed_string(dataset), f"{where}: fixed-length UTF-8 string, got {dataset.dtype}")
    else:
        check(dataset.dtype == np.dtype(expected),
              f"{where}: dtype {expected}, got {dataset.dtype}")


def run_dosim(yaml_path, out_path):
    return subprocess.run([DOSIM, "run", yaml_path, "--out", out_path, "--quiet"],
                          capture_output=True, text=True, timeout=120)


def check_layout(check, f, yaml_text):
    attrs = f.attrs
    check(attrs.get("format") == b"dosim-trace", f"format attribute: {attrs.get('format')!r}")
    for name, dtype, value in [("format_version", "<i4", 1), ("seed", "<u8", 42),
                               ("tick_ns", "<i8", SECOND), ("record_interval_ns", "<i8", MINUTE),
                               ("complete", "<i4", 1)]:
        check(name in attrs, f"root attribute {name} exists")
        if name in attrs:
            check(attrs[name] == value, f"{name} == {value}, got {attrs[name]}")
            check(np.asarray(attrs[name]).dtype == np.dtype(dtype),
                  f"{name} dtype {dtype}, got {np.asarray(attrs[name]).dtype}")
    check(attrs.get("scenario_name") == b"layout-check", "scenario_name attribute")

    yaml_ds = f["meta/scenario_yaml"]
    check(yaml_ds.shape == () and is_fixed_string(yaml_ds), "scenario_yaml is a scalar string")
    check(yaml_ds.asstr()[()] == yaml_text, "scenario_yaml is the exact scenario text")

    time_ns = f["time_ns"]
    check(time_ns.dtype == np.dtype("<i8"), f"time_ns dtype {time_ns.dtype}")
    check(time_ns.shape == (10,), f"10 rows for 10m at 1m, got {time_ns.shape}")
    check(time_ns.maxshape == (None,), "time_ns grows by rows")
    times = time_ns[()]
    check(np.array_equal(times, MINUTE * np.arange(1, 11)), f"time_ns every minute: {times}")
    check(bool(np.all(np.diff(times) == MINUTE)), "time_ns strictly increasing by the interval")
    rows = len(times)

    for name in ["name", "region", "zone"]:
        ds = f[f"services/{name}"]
        check(ds.shape == (3,) and is_fixed_string(ds), f"services/{name}: [3] strings")
    check(strings(f["services/name"]) == SERVICES, "service names in scenario order")
    check(strings(f["services/region"]) == ["", "", ""], "no regions declared: empty strings")
    check_dtype(check, f["edges/src"], "<i4", "edges/src")
    check_dtype(check, f["edges/dst"], "<i4", "edges/dst")
    check(f["edges/src"][()].tolist() == [0, 1], "edges/src")
    check(f["edges/dst"][()].tolist() == [1, 2], "edges/dst")
    check(strings(f["edges/name"]) == EDGES, "edges/name")
    check_dtype(check, f["endpoints/service"], "<i4", "endpoints/service")
    check(f["endpoints/service"][()].tolist() == [1], "endpoints/service")
    check(strings(f["endpoints/name"]) == ["/add"], "endpoints/name")

    columns = {"service": 3, "edge": 2, "endpoint": 1}
    for family, names in REQUIRED.items():
        group = f[f"metrics/{family}"]
        for name in names:
            check(name in group, f"metrics/{family}/{name} exists")
        for name, ds in group.items():
            where = f"metrics/{family}/{name}"
            check(ds.dtype == np.dtype("<f4"), f"{where}: float32, got {ds.dtype}")
            check(ds.shape == (rows, columns[family]), f"{where}: shape {ds.shape}")
            check(ds.maxshape[0] is None and ds.chunks is not None, f"{where}: chunked, growable")
            check(ds.compression == "gzip" and ds.compression_opts == 4 and ds.shuffle,
                  f"{where}: shuffle + deflate 4")
            values = ds[()]
            check(bool(np.all(np.isfinite(values))), f"{where}: finite")
            check(bool(np.all(values >= 0)), f"{where}: non-negative")
            if name in RATIO_METRICS:
                check(bool(np.all(values <= 1)), f"{where}: ratio in [0, 1]")
    rps = f["metrics/service/rps"][()]
    check(bool(np.all(rps[:, 0] > 40)), f"frontend receives ~50 rps: {rps[:, 0]}")
    ready = f["metrics/service/ready_replicas"][()]
    check(bool(np.all(ready[:, 0] == 2)), f"frontend has 2 ready replicas: {ready[:, 0]}")

    # The 200 ms delay on frontend->cart shows in that edge's latency, and only there.
    p95 = f["metrics/edge/latency_p95_s"][()]
    before, during = p95[0:3, 0], p95[3:6, 0]
    check(during.min() > before.max() + 0.15, f"edge delay visible: {before} vs {during}")

    incidents = f["truth/incidents"]
    check(sorted(incidents) == sorted(INCIDENT_COLUMNS), f"incident columns: {list(incidents)}")
    for name, dtype in INCIDENT_COLUMNS.items():
        if name in incidents:
            check_dtype(check, incidents[name], dtype, f"truth/incidents/{name}")
            check(incidents[name].shape == (1,), f"truth/incidents/{name}: one incident")
    if sorted(incidents) == sorted(INCIDENT_COLUMNS):
        check(strings(incidents["name"]) == ["cart-delay"], "incident name")
        check(strings(incidents["cause"]) == ["latency"], "incident cause")
        check(strings(incidents["root_cause"]) == ["frontend->cart"], "incident root cause")
        check(incidents["start_ns"][0] == 3 * MINUTE, "incident start")
        check(incidents["end_ns"][0] == 6 * MINUTE, "incident end")
        check(incidents["silent"][0] == 0, "the delay had an impact")

    # frontend->cart delayed: frontend is affected, through that edge (edge 0: cart -> frontend).
    affected = f["truth/affected"]
    check(list(affected["incident_id"][()]) == [0], f"affected incident ids {affected['incident_id'][()]}")
    check(list(affected["service"][()]) == [0], f"affected services {affected['service'][()]}")
    propagation = f["truth/propagation"]
    check(sorted(propagation) == ["dst", "edge", "incident_id", "src"], f"propagation columns {list(propagation)}")
    check([list(propagation[c][()]) for c in ("incident_id", "edge", "src", "dst")] == [[0], [0], [1], [0]],
          "propagation: edge 0 from cart (1) to frontend (0)")

    changes = f["events/changes"]
    check(sorted(changes) == ["cause", "from", "kind", "t_ns", "target", "to"], f"change columns {list(changes)}")
    check(all(changes[c].shape == (0,) for c in changes), "no operations, no change events")

    alerts = f["alerts"]
    check(sorted(alerts) == sorted(ALERT_COLUMNS), f"alert columns: {list(alerts)}")
    lengths = {alerts[name].shape for name in alerts}
    check(len(lengths) == 1, f"alert columns have one length: {lengths}")
    for name, dtype in ALERT_COLUMNS.items():
        if name in alerts:
            check_dtype(check, alerts[name], dtype, f"alerts/{name}")


def check_detector_scores(check, f):
    """The default detector set's scores: one group per detector, [rows, series]."""
    rows = f["time_ns"].shape[0]
    names = strings(f["detectors/name"])
    check(names == ["mad", "errors-above-10pct", "cpu-above-80pct"], f"default detectors {names}")
    series = {"mad": 6, "errors-above-10pct": 3, "cpu-above-80pct": 3}
    for name, count in series.items():
        group = f[f"detectors/{name}"]
        check(group["score"].shape == (rows, count) and group["score"].dtype == np.dtype("<f4"),
              f"detectors/{name}/score: float32 [{rows}, {count}], got {group['score'].shape}")
        check(group["score"].compression == "gzip", f"detectors/{name}/score compressed")
        for column, dtype in (("service", "<i4"), ("metric", "S"), ("label", "S")):
            check_dtype(check, group[column], dtype, f"detectors/{name}/{column}")
            check(group[column].shape == (count,), f"detectors/{name}/{column}: [{count}]")
        check(group.attrs["limit"].dtype == np.dtype("<f8"), f"detectors/{name} limit attribute")
    mad = f["detectors/mad"]
    check(strings(mad["metric"]) == ["latency_p95_s"] * 3 + ["error_ratio"] * 3, "mad metrics")
    check(strings(mad["label"]) == SERVICES * 2, "mad labels")
    check(mad["service"][()].tolist() == [0, 1, 2] * 2, "mad services")
    check(mad.attrs["limit"] == 3.5, "mad limit")
    notifications = f["notifications"]
    check(sorted(notifications) == ["alerts", "group", "receiver", "resolution", "t_ns"],
          f"notifications {list(notifications)}")
    check(notifications["resolution"].dtype == np.dtype("u1") and
          not notifications["resolution"][()].any(),
          "a receiver without integrations is sent no resolutions")
    check(set(strings(notifications["receiver"])) <= {"default"}, "one receiver by default")
    notified = f["alerts/notified_ns"][()]
    check(all(n == -1 or n >= t for n, t in zip(notified, f["alerts/t_ns"][()])),
          "an alert is notified after it fired, or never")
    check(len(notifications["t_ns"]) == 0 or min(n for n in notified if n >= 0) ==
          notifications["t_ns"][0], "the first notification carries the first notified alert")
    check(notifications.attrs["raw_alerts"] == f["alerts/t_ns"].shape[0],
          "raw_alerts counts the alerts")
    check(notifications["alerts"][()].sum() >= notifications["t_ns"].shape[0],
          "each notification carries at least one alert")


def check_pandas(check, trace_path):
    from dosim.trace import load_trace, summary
    with load_trace(trace_path) as trace:
        check(trace.complete and trace.meta["seed"] == 42, "load_trace meta")
        check(trace.services == SERVICES, "load_trace services")
        check(list(trace.edges.columns[:3]) == ["src", "dst", "name"], "edges DataFrame")
        p95 = trace.service_metric("latency_p95_s")
        check(p95.shape == (10, 3) and list(p95.columns) == SERVICES, "service_metric frame")
        check(p95.index.name == "time_s" and p95.index[0] == 60.0, "indexed by seconds")
        check(list(trace.edge_metric("rps").columns) == EDGES, "edge_metric columns")
        check(list(trace.endpoint_metric("rps").columns) == ["cart /add"], "endpoint columns")
        check(len(trace.incidents) == 1 and trace.incidents["name"][0] == "cart-delay",
              "incidents DataFrame")
        check(list(trace.alerts.columns) == list(ALERT_COLUMNS), "alerts DataFrame")
        check(trace.detectors() == ["mad", "errors-above-10pct", "cpu-above-80pct"],
              "load_trace detectors")
        scores = trace.detector_scores("mad")
        check(scores.shape == (10, 6) and scores.columns[0] == "frontend latency_p95_s",
              f"detector_scores frame {scores.shape} {list(scores.columns)[:1]}")
        check(trace.detector_gauges("mad").shape == (10, 0), "no gauges for mad")
        tidy = trace.long_frame("service", ["rps", "error_ratio"])
        check(list(tidy.columns) == ["time_s", "service", "metric", "value"], "long_frame columns")
        check(len(tidy) == 2 * 10 * 3, f"long_frame rows: {len(tidy)}")
        check("layout-check" in summary(trace), "summary text")
    script = subprocess.run([sys.executable, "-m", "dosim.trace",
                             trace_path], capture_output=True, text=True, timeout=60)
    check(script.returncode == 0 and "complete" in script.stdout,
          f"python -m dosim.trace: {script.returncode} {script.stderr}")


@pytest.fixture(scope="module")
def trace():
    """The scenario run once; the path of its trace."""
    os.makedirs(TMP, exist_ok=True)
    yaml_path = os.path.join(TMP, "layout.yaml")
    with open(yaml_path, "w") as out:
        out.write(SCENARIO)
    first = os.path.join(TMP, "layout.h5")
    result = run_dosim(yaml_path, first)
    assert result.returncode == 0, f"dosim run exits 0: {result.returncode} {result.stderr}"
    return first


def test_the_trace_has_the_documented_layout(trace):
    check = Checks()
    with h5py.File(trace, "r") as f:
        check_layout(check, f, SCENARIO)
    check.assert_passed()


def test_the_default_detectors_write_their_scores(trace):
    check = Checks()
    with h5py.File(trace, "r") as f:
        check_detector_scores(check, f)
    check.assert_passed()


def test_load_trace_reads_the_trace_into_pandas(trace):
    check = Checks()
    check_pandas(check, trace)
    check.assert_passed()


def test_the_same_scenario_and_seed_give_a_byte_identical_trace(trace):
    second = os.path.join(TMP, "layout-again.h5")
    again = run_dosim(os.path.join(TMP, "layout.yaml"), second)
    assert again.returncode == 0, f"dosim run exits 0: {again.returncode} {again.stderr}"
    assert filecmp.cmp(trace, second, shallow=False), \
        "the same scenario and seed give a byte-identical trace"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
