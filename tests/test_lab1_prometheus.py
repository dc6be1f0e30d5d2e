"""Lab 1's monitors in the real Prometheus, as its handout has students look at them: the
run of labs/lab1/boutique.yaml exported as OpenMetrics, backfilled with promtool, served by
Prometheus on 127.0.0.1. Every Lab 7 gauge is there under the lab's own name, equal to the
trace's value (h5py), `max_over_time` gives task 5's answer, and every query of the Grafana
dashboard's Lab 7 panels answers."""
import json
import time

import h5py
import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim
from prometheus_test_util import prometheus_over, query

START = int(time.time()) - 3 * 3600  # inside any retention; whole seconds
KINDS = ["y", "y_min", "y_max", "mae", "mape", "anomaly_count"]
PAIRS = ["frontend_to_cartservice", "checkoutservice_to_paymentservice",
         "frontend_to_shippingservice"]


@pytest.fixture(scope="module")
def lab1():
    folder = TMP / "lab1-prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    trace, text = folder / "surges.h5", folder / "surges.om"
    run = dosim("run", SOURCE_DIR / "labs" / "lab1" / "boutique.yaml", "--out", trace, "--quiet")
    assert run.returncode == 0, run.stderr
    export = dosim("export", trace, "--format", "openmetrics", "--start", START, "-o", text)
    assert export.returncode == 0, export.stderr
    with h5py.File(trace, "r") as f:
        gauges = {}
        for detector in ["lab7-streams", "shipping-monitor"]:
            for name, values in f[f"detectors/{detector}/gauges"].items():
                gauges[name] = values[()]
        times = START + f["time_ns"][()] / 1e9
    with prometheus_over(text, folder) as port:
        yield trace, gauges, times, port


def test_every_lab7_gauge_is_in_prometheus_with_the_trace_values(lab1):
    _, gauges, times, port = lab1
    assert sorted(gauges) == sorted(f"{p}_{k}" for p in PAIRS for k in KINDS)
    for name, values in gauges.items():
        result = query(port, "/api/v1/query_range", query=f"lab7_{name}", start=times[0],
                       end=times[-1], step=1)["result"]
        assert len(result) == 1, name
        got = [float(v) for _, v in result[0]["values"]]
        assert got == pytest.approx(values.astype(float).tolist(), rel=1e-6, abs=1e-9), name


def test_max_over_time_gives_task_5s_answer(lab1):
    _, gauges, times, port = lab1
    answer = query(port, "/api/v1/query",
                   query="max_over_time(lab7_checkoutservice_to_paymentservice_mae[2h])",
                   time=times[-1])["result"]
    assert float(answer[0]["value"][1]) == pytest.approx(
        float(gauges["checkoutservice_to_paymentservice_mae"].max()), rel=1e-6)


def test_the_dashboards_lab7_panels_query_the_gauges(lab1):
    trace, _, times, port = lab1
    out = TMP / "lab1-prometheus" / "dashboard.json"
    result = dosim("export", trace, "--format", "grafana-dashboard", "--start", START, "-o", out)
    assert result.returncode == 0, result.stderr
    panels = json.loads(out.read_text())["panels"]
    rows = [p["title"] for p in panels if p["type"] == "row"]
    assert [r for r in rows if r.startswith("Lab 7 monitor: ")] == [
        f"Lab 7 monitor: {p}" for p in sorted(PAIRS)]
    lab7 = [p for p in panels if p["type"] == "timeseries" and
            p["targets"][0]["expr"].startswith("lab7_")]
    assert len(lab7) == 3 * len(PAIRS)
    exprs = {t["expr"] for p in lab7 for t in p["targets"]}
    assert exprs == {f"lab7_{p}_{k}" for p in PAIRS for k in KINDS}
    for expr in exprs:
        answer = query(port, "/api/v1/query", query=expr, time=times[len(times) // 2])["result"]
        assert len(answer) == 1, expr
