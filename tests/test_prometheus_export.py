"""dosim export --format openmetrics|csv, checked with the real Prometheus (Debian's
prometheus, installed by tools/install-deps.sh): a bundled run is exported, backfilled with
`promtool tsdb create-blocks-from openmetrics`, the real Prometheus is started on 127.0.0.1
over those blocks, and its HTTP API (/api/v1/query_range, /api/v1/query) gives back the
trace's values as h5py reads them; histogram_quantile over the rebuilt latency histogram
lands in the bucket that holds the trace's p95. The CSV's values equal the trace's too."""
import csv
import json
import math
import shutil
import subprocess
import time

import h5py
import numpy as np
import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim
from prometheus_test_util import PROMTOOL, prometheus_over, query
START = int(time.time()) - 3 * 3600  # inside any retention; whole seconds
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]


@pytest.fixture(scope="module")
def run():
    trace = TMP / "payments-mad.h5"
    result = dosim("run", "-q", SOURCE_DIR / "scenarios" / "payments-mad.yaml", "-o", trace)
    assert result.returncode == 0, result.stderr
    with h5py.File(trace, "r") as f:
        data = {
            "time_ns": f["time_ns"][()],
            "services": f["services/name"].asstr()[()].tolist(),
            "p95": f["metrics/service/latency_p95_s"][()],
            "rps": f["metrics/service/rps"][()],
            "edge_rps": f["metrics/edge/rps"][()],
            "edges": f["edges/name"].asstr()[()].tolist(),
            "incidents": f["truth/incidents/name"].asstr()[()].tolist(),
            "impact": (f["truth/incidents/impact_start_ns"][()], f["truth/incidents/impact_end_ns"][()]),
            "record_ns": int(f.attrs["record_interval_ns"]),
        }
    return trace, data


@pytest.fixture(scope="module")
def prometheus(run):
    trace, _ = run
    text = TMP / "payments-mad.om"
    result = dosim("export", trace, "--format", "openmetrics", "--start", START, "-o", text)
    assert result.returncode == 0, result.stderr
    assert text.read_text().endswith("# EOF\n")
    with prometheus_over(text, TMP) as port:
        yield port


def test_prometheus_gives_back_the_trace_values(run, prometheus):
    _, data = run
    times = START + data["time_ns"] / 1e9
    step = data["record_ns"] / 1e9
    s = data["services"].index("payments")
    result = query(prometheus, "/api/v1/query_range",
                   query='dosim_service_latency_p95_seconds{service="payments"}',
                   start=times[0], end=times[-1], step=step)["result"]
    assert len(result) == 1 and result[0]["metric"]["service"] == "payments"
    values = result[0]["values"]
    assert len(values) == len(times)
    for (t, value), expected_t, expected in zip(values, times, data["p95"][:, s]):
        assert t == pytest.approx(expected_t, abs=1e-3)
        assert float(value) == pytest.approx(float(expected), rel=1e-6)
    # Every edge's rps, one instant: the series of each edge, with caller and callee labels.
    r = len(times) // 2
    edges = query(prometheus, "/api/v1/query", query="dosim_edge_rps", time=times[r])["result"]
    got = {f'{e["metric"]["caller"]}->{e["metric"]["callee"]}': float(e["value"][1]) for e in edges}
    assert got == {name: pytest.approx(float(v), rel=1e-6) for name, v in zip(data["edges"], data["edge_rps"][r])}


def test_the_ground_truth_is_a_series(run, prometheus):
    _, data = run
    times = START + data["time_ns"] / 1e9
    step = data["record_ns"] / 1e9
    name = data["incidents"][0]
    result = query(prometheus, "/api/v1/query_range",
                   query=f'dosim_incident_impacting{{name="{name}"}}',
                   start=times[0], end=times[-1], step=step)["result"]
    assert len(result) == 1
    on = [float(v) for _, v in result[0]["values"]]
    start_ns, end_ns = data["impact"][0][0], data["impact"][1][0]
    expected = [1.0 if (start_ns < t and end_ns > t - data["record_ns"]) else 0.0 for t in data["time_ns"]]
    assert on == expected and sum(on) > 0
    info = query(prometheus, "/api/v1/query", query="dosim_incident_info", time=times[0])["result"]
    assert sorted(i["metric"]["name"] for i in info) == sorted(data["incidents"])


def test_histogram_quantile_finds_the_p95_bucket(run, prometheus):
    _, data = run
    times = START + data["time_ns"] / 1e9
    s = data["services"].index("payments")
    window = int(data["record_ns"] / 1e9)
    checked = 0
    for r in range(5, len(times), 7):
        result = query(prometheus, "/api/v1/query", time=times[r], query=(
            f'histogram_quantile(0.95, rate(dosim_service_latency_seconds_bucket'
            f'{{service="payments"}}[{window}s]))'))["result"]
        assert len(result) == 1
        estimate = float(result[0]["value"][1])
        p95 = float(data["p95"][r, s])
        if data["rps"][r, s] * window < 100 or not math.isfinite(estimate):
            continue
        # histogram_quantile interpolates inside the bucket holding the 95th percentile: the
        # trace's p95 lies in the same bucket.
        upper = next(b for b in BUCKETS + [math.inf] if b >= p95)
        lower = max([0.0] + [b for b in BUCKETS if b < p95])
        assert lower <= estimate <= upper, (r, p95, estimate)
        checked += 1
    assert checked >= 5
    count = query(prometheus, "/api/v1/query", time=times[-1],
                  query='dosim_service_latency_seconds_count{service="payments"}')["result"]
    expected = float(np.sum(data["rps"][:, s].astype(np.float64) * window))
    assert float(count[0]["value"][1]) == pytest.approx(expected, abs=1.0)


def test_csv_long_form_holds_the_trace_values(run):
    trace, data = run
    out = TMP / "payments-mad.csv"
    result = dosim("export", trace, "--format", "csv", "-o", out)
    assert result.returncode == 0, result.stderr
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0].keys())[:3] == ["time_s", "metric", "service"]
    p95 = [r for r in rows if r["metric"] == "dosim_service_latency_p95_seconds" and r["service"] == "payments"]
    s = data["services"].index("payments")
    assert [float(r["time_s"]) for r in p95] == pytest.approx((data["time_ns"] / 1e9).tolist())
    assert [float(r["value"]) for r in p95] == pytest.approx(data["p95"][:, s].astype(float).tolist(), rel=1e-6)
    assert {r["metric"] for r in rows} >= {"dosim_edge_rps", "dosim_endpoint_rps", "dosim_detector_score"}


def test_export_mistakes_are_reported(run):
    trace, _ = run
    assert dosim("export", trace).returncode == 2  # no --format
    bad = dosim("export", trace, "--format", "openmetrics", "--start", "yesterday")
    assert bad.returncode == 2 and "--start" in bad.stderr
    missing = dosim("export", TMP / "missing.h5", "--format", "csv")
    assert missing.returncode == 2 and "missing.h5" in missing.stderr
    # Times that do not exist are refused, not moved on (month 13 became next January).
    for start in ("2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-12-01T25:61:99Z",
                  "99999999999999999999", "", "2026-12-01T00:00:00+24:00", "1969-12-31T00:00:00Z",
                  "0x10", "1e9", " 1764547200", "-5"):  # strtod's forms were taken (0x10: 16 s)
        bad = dosim("export", trace, "--format", "csv", "--start", start)
        assert bad.returncode == 2 and "--start must be" in bad.stderr, (start, bad.stderr)
    lower = dosim("export", trace, "--format", "csv", "--start", "2026-12-01t00:00:00z")
    upper = dosim("export", trace, "--format", "csv", "--start", "2026-12-01T00:00:00Z")
    assert lower.returncode == 0 and lower.stdout == upper.stdout  # RFC 3339 allows t and z
    leap = dosim("export", trace, "--format", "csv", "--start", "2028-02-29T00:00:00Z")
    assert leap.returncode == 0, leap.stderr
    # A start late in 9999 whose run ends in the year 10000 (its last sample was there).
    late = dosim("export", trace, "--format", "csv", "--start", "9999-12-31T23:00:00Z")
    assert late.returncode == 2 and "past the year 9999" in late.stderr, late.stderr


def test_a_trace_finer_than_a_millisecond_is_not_exported_as_openmetrics():
    """OpenMetrics timestamps are milliseconds: rows 100 us apart would share them (promtool
    refused the file as duplicate samples); CSV keeps them."""
    scenario = TMP / "fine.yaml"
    scenario.write_text("name: fine\nduration: 10ms\ntick: 100us\nservices: [{name: a}]\n"
                        "traffic: [{name: u, entry: a, base_rps: 100}]\n")
    trace = TMP / "fine.h5"
    assert dosim("run", "-q", scenario, "-o", trace).returncode == 0
    bad = dosim("export", trace, "--format", "openmetrics", "--start", "0")
    assert bad.returncode == 2 and "records every 100us" in bad.stderr, bad.stderr
    # A dashboard reads that export from Prometheus: refused alike (it was written).
    board = dosim("export", trace, "--format", "grafana-dashboard", "--start", "0")
    assert board.returncode == 2 and "records every 100us" in board.stderr, board.stderr
    # CSV keeps every row apart: its timestamp to the nanosecond (three decimals made rows
    # 0.0001 s apart share one), time_s in decimals ("0.0001", not "1e-04").
    csv = dosim("export", trace, "--format", "csv", "--start", "1700000000.25")
    assert csv.returncode == 0, csv.stderr
    rows = [line.split(",") for line in csv.stdout.splitlines()[1:]]
    first = [r for r in rows if r[2] == "dosim_service_rps"]
    assert [r[0] for r in first[:3]] == ["0.0001", "0.0002", "0.0003"], first[:3]
    assert [r[1] for r in first[:3]] == ["1700000000.250100000", "1700000000.250200000",
                                         "1700000000.250300000"], first[:3]
    assert len({r[1] for r in first}) == len(first) == 100


def test_grafana_dashboard_queries_the_export(run, prometheus):
    """The dashboard's structure (as Grafana's dashboard model has it), and every query and
    annotation of it run against the real Prometheus over the backfilled run."""
    trace, data = run
    out = TMP / "payments-mad.dashboard.json"
    result = dosim("export", trace, "--format", "grafana-dashboard", "--start", START, "-o", out)
    assert result.returncode == 0, result.stderr
    dashboard = json.loads(out.read_text())
    assert dashboard["schemaVersion"] >= 36 and dashboard["title"] == "dosim: payments-mad"
    assert dashboard["time"]["from"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START))
    variables = dashboard["templating"]["list"]
    assert variables[0] == {**variables[0], "name": "datasource", "type": "datasource", "query": "prometheus"}
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for p in panels:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0
    rows = [p["title"] for p in panels if p["type"] == "row"]
    assert rows == data["services"]
    series = [p for p in panels if p["type"] == "timeseries"]
    assert len(series) == 3 * len(data["services"])
    times = START + data["time_ns"] / 1e9
    middle = times[len(times) // 2]
    s = data["services"].index("payments")
    for p in series:
        assert p["datasource"]["uid"] == "${datasource}"
        for t in p["targets"]:
            answer = query(prometheus, "/api/v1/query", query=t["expr"], time=middle)["result"]
            assert len(answer) == 1, (p["title"], t["expr"], answer)
            if p["title"] == "payments: latency p95" and t["refId"] == "A":
                assert float(answer[0]["value"][1]) == pytest.approx(float(data["p95"][len(times) // 2, s]), rel=1e-6)
    annotations = [a for a in dashboard["annotations"]["list"] if "expr" in a]
    assert {a["name"] for a in annotations} >= {"Faults and defective changes (ground truth)", "Operations"}
    faults = next(a for a in annotations if a["name"].startswith("Faults"))
    # Each annotation at its own step, the record interval (a fixed 60s never landed on an
    # operation of a run recorded more often: it is 1 for one interval only).
    record = int(data["record_ns"] / 1e9)
    assert {a["step"] for a in annotations} == {f"{record}s"}
    hits = query(prometheus, "/api/v1/query_range", query=faults["expr"], start=times[0],
                 end=times[-1], step=faults["step"].rstrip("s"))["result"]
    assert sorted(h["metric"]["name"] for h in hits) == sorted(data["incidents"])
    # The histogram's p95 over the whole run at a step finer than the record interval (as
    # Grafana draws it): a point at every step after the first two intervals (a window of
    # one interval held a single sample half the time, and rate() gave nothing there).
    histogram = next(t["expr"] for p in series for t in p["targets"]
                     if p["title"] == "payments: latency p95" and t["refId"] == "B")
    assert f"[{2 * record}s]" in histogram
    step = record / 4
    points = query(prometheus, "/api/v1/query_range", query=histogram, start=times[0] + 2 * record,
                   end=times[-1], step=step)["result"][0]["values"]
    assert len(points) == int((times[-1] - times[0] - 2 * record) / step) + 1


def test_operations_and_detected_incidents_are_series():
    """A canary rollout's changes: dosim_change is 1 in the interval holding each, 0 in the
    next; promtool backfills the file."""
    trace = TMP / "canary.h5"
    result = dosim("run", "-q", SOURCE_DIR / "scenarios" / "canary-bad-version.yaml", "-o", trace)
    assert result.returncode == 0, result.stderr
    text = TMP / "canary.om"
    assert dosim("export", trace, "--format", "openmetrics", "--start", START, "-o", text).returncode == 0
    with h5py.File(trace, "r") as f:
        change_times = f["events/changes/t_ns"][()]
        kinds = f["events/changes/kind"].asstr()[()].tolist()
        row_times = f["time_ns"][()]
    assert len(change_times) > 0
    lines = [l for l in text.read_text().splitlines() if l.startswith("dosim_change{")]
    ones = {(l.split('kind="')[1].split('"')[0], round(float(l.split()[-1]) - START, 3))
            for l in lines if l.split()[-2] == "1"}
    for t, kind in zip(change_times, kinds):
        row = int(np.searchsorted(row_times, t + 1))
        if row < len(row_times):
            assert (kind, round(row_times[row] / 1e9, 3)) in ones
    data = TMP / "canary-data"
    shutil.rmtree(data, ignore_errors=True)
    backfill = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", text, data],
                              capture_output=True, text=True)
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr


def test_regional_routes_are_exported():
    """/metrics/route/{weight,rps}: a family each in OpenMetrics (labels traffic, region) and
    rows in the CSV, the trace's values exactly."""
    import h5py
    trace = TMP / "regional-failover.h5"
    assert dosim("run", "-q", SOURCE_DIR / "scenarios" / "regional-failover.yaml", "-o", trace).returncode == 0
    with h5py.File(trace) as f:
        traffic = f["traffic/routes/traffic"].asstr()[()].tolist()
        regions = f["traffic/routes/region"].asstr()[()].tolist()
        weight = f["metrics/route/weight"][()]
    om = dosim("export", trace, "--format", "openmetrics", "--start", "0")
    assert om.returncode == 0, om.stderr
    assert "# TYPE dosim_route_weight gauge" in om.stdout and "# TYPE dosim_route_rps gauge" in om.stdout
    first = f'dosim_route_weight{{traffic="{traffic[0]}",region="{regions[0]}"}} '
    values = [float(line.split()[1]) for line in om.stdout.splitlines() if line.startswith(first)]
    assert values == pytest.approx(weight[:, 0].astype(float).tolist())
    out = dosim("export", trace, "--format", "csv")
    rows = [r for r in csv.DictReader(out.stdout.splitlines()) if r["metric"] == "dosim_route_weight"
            and r["traffic"] == traffic[0] and r["region"] == regions[0]]
    assert [float(r["value"]) for r in rows] == pytest.approx(weight[:, 0].astype(float).tolist())


def test_a_shorter_last_row_counts_its_own_span_of_requests():
    """A run of 90 s recorded every minute ends with a row of 30 s: its histogram counts 30 s
    of requests (it counted 60 s, so rate() over the run's end was too high), as a hand
    computation from the trace's rps gives."""
    scenario = TMP / "short-last-row.yaml"
    scenario.write_text("""name: short-last
duration: 90s
tick: 1s
record: 1m
services:
  - {name: web, replicas: 2, capacity_rps: 400, base_latency: 5ms}
traffic:
  - {entry: web, base_rps: 100}
""")
    trace = TMP / "short-last-row.h5"
    assert dosim("run", scenario, "--out", trace, "--quiet").returncode == 0
    with h5py.File(trace, "r") as f:
        times = f["time_ns"][:] / 1e9
        rps = f["metrics/service/rps"][:, 0].astype(float)
    assert times.tolist() == [60.0, 90.0]
    result = dosim("export", trace, "--format", "openmetrics", "--start", "0")
    assert result.returncode == 0, result.stderr
    counts = [float(line.split()[1]) for line in result.stdout.splitlines()
              if line.startswith('dosim_service_latency_seconds_count{service="web"}')]
    assert counts == [round(rps[0] * 60), round(rps[0] * 60 + rps[1] * 30)], (counts, rps)


def test_an_export_to_dash_is_standard_output_and_spans_of_a_stopped_run_warn():
    # `-o -` wrote a file named '-'; spans and logs of an interrupted run said nothing where
    # the other formats warn.
    import os
    import signal
    folder = TMP / "export-dash"
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "-").exists():
        (folder / "-").unlink()
    trace = SOURCE_DIR / "scenarios" / "payments-mad.yaml"
    out = folder / "p.h5"
    assert dosim("run", trace, "--out", out, "--quiet").returncode == 0
    result = subprocess.run([str(__import__("dosim_test_util").DOSIM), "export", str(out),
                             "--format", "csv", "-o", "-"], capture_output=True, text=True,
                            cwd=folder)
    assert result.returncode == 0 and result.stdout.startswith("time_s,"), result.stderr
    assert not (folder / "-").exists()
    stopped = folder / "stopped.h5"
    run = subprocess.Popen([str(__import__("dosim_test_util").DOSIM), "run",
                            str(SOURCE_DIR / "scenarios" / "payments-mad.yaml"), "--mode",
                            "requests", "--out", str(stopped), "--quiet"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    run.send_signal(signal.SIGINT)
    run.wait(timeout=60)
    with h5py.File(stopped, "r") as f:
        assert f.attrs["complete"] == 0
    for words in (["spans", str(stopped)], [str(stopped), "--format", "logs"]):
        result = dosim("export", *words)
        assert result.returncode == 0 and "warning: the trace is incomplete" in result.stderr, \
            (words, result.stderr)
