"""dosim serve: the run paced against the wall clock, its metrics scraped by the real
Prometheus (a scrape config pointed at it, 1 s interval) and read back through Prometheus's
API; its alerts pushed to the real Alertmanager (prometheus-alertmanager) on 127.0.0.1 and
found there with dosim's labels. Both servers started here on free ports and stopped."""
import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from dosim_test_util import DOSIM, TMP

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"

# Two services for 20 minutes; the db slows from minute 5 to past the end, so its alert is
# still firing when the run ends.
SCENARIO = """name: serve-test
duration: 20m
tick: 1s
record: 10s
seed: 5
services:
  - {name: web, replicas: 2, capacity_rps: 200, base_latency: 10ms}
  - {name: db, replicas: 2, capacity_rps: 400, base_latency: 5ms}
dependencies:
  - {caller: web, callee: db, timeout: 2s}
traffic:
  - {name: users, entry: web, base_rps: 100}
faults:
  - {name: db-slow, kind: latency, target: {service: db}, fixedDelay: 400ms, start: 5m, duration: 1h}
detectors:
  - {name: p95-high, kind: threshold, metrics: [latency_p95_s], params: {above: 0.3}, for: 10s,
     severity: critical, labels: {team: storage}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, **params):
    url = f"http://127.0.0.1:{port}{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def wait_ready(port, process, path="/-/ready", seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            get(port, path)
            return
        except OSError:
            assert process.poll() is None, f"exited with {process.returncode}"
            time.sleep(0.2)
    raise AssertionError(f"port {port} not ready")


def scraped_value(text, name, labels):
    for line in text.splitlines():
        if line.startswith(name + labels + " "):
            return float(line.split()[-1])
    raise KeyError(name + labels)


@pytest.fixture()
def scenario():
    path = TMP / "serve-test.yaml"
    path.write_text(SCENARIO)
    return path


def test_prometheus_scrapes_the_live_run(scenario):
    port = free_port()
    serve = prometheus = None
    try:
        # Prometheus first, scraping the port dosim will listen on every second.
        config = TMP / "scrape.yml"
        config.write_text(f"""global: {{scrape_interval: 1s}}
scrape_configs:
  - job_name: dosim
    static_configs: [{{targets: ['127.0.0.1:{port}']}}]
""")
        data = TMP / "scrape-data"
        shutil.rmtree(data, ignore_errors=True)
        prom_port = free_port()
        prometheus = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={data}",
                                       f"--web.listen-address=127.0.0.1:{prom_port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(prom_port, prometheus)
        # 20 simulated minutes in about 12 s of wall clock; then the last tick stays served.
        serve = subprocess.Popen([DOSIM, "serve", str(scenario), "--listen", f"127.0.0.1:{port}",
                                  "--speed", "100"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_ready(port, serve, "/metrics")
        # Let it scrape the run and, once it ended, its last tick.
        deadline = time.time() + 90
        while True:
            answer = json.loads(get(prom_port, "/api/v1/query", query="dosim_simulated_seconds"))
            values = answer["data"]["result"]
            if values and float(values[0]["value"][1]) >= 1200:
                break
            assert time.time() < deadline, f"the run did not reach its end in Prometheus: {values}"
            time.sleep(1)
        time.sleep(2.5)  # a couple of scrapes of the final tick
        history = json.loads(get(prom_port, "/api/v1/query", query="dosim_simulated_seconds[5m]"))
        clock = [float(v) for _, v in history["data"]["result"][0]["values"]]
        # scraped while it ran: the simulated clock moved forward, to the end
        assert clock == sorted(clock) and clock[0] < clock[-1] == 1200.0, clock
        direct = get(port, "/metrics")
        result = json.loads(get(prom_port, "/api/v1/query", query="dosim_service_latency_p95_seconds"))["data"]["result"]
        got = {r["metric"]["service"]: float(r["value"][1]) for r in result}
        assert set(got) == {"web", "db"}
        for service in ("web", "db"):
            assert got[service] == pytest.approx(
                scraped_value(direct, "dosim_service_latency_p95_seconds", f'{{service="{service}"}}'), rel=1e-6)
        assert got["db"] > 0.3  # the db is slow at the end
        edges = json.loads(get(prom_port, "/api/v1/query", query="dosim_edge_rps"))["data"]["result"]
        assert [(e["metric"]["caller"], e["metric"]["callee"]) for e in edges] == [("web", "db")]
        quantile = json.loads(get(prom_port, "/api/v1/query", query=(
            'histogram_quantile(0.95, rate(dosim_service_latency_seconds_bucket{service="db"}[5s]))')))
        assert quantile["status"] == "success"
    finally:
        for process in (prometheus, serve):
            if process is not None:
                process.terminate()
                process.wait(timeout=20)
    assert serve.returncode == 0, serve.stderr.read()


def test_alerts_reach_the_real_alertmanager(scenario):
    am_port = free_port()
    config = TMP / "alertmanager.yml"
    config.write_text("route: {receiver: storage}\nreceivers: [{name: storage}]\n")
    storage = TMP / "alertmanager-data"
    shutil.rmtree(storage, ignore_errors=True)
    alertmanager = subprocess.Popen([ALERTMANAGER, f"--config.file={config}", f"--storage.path={storage}",
                                     f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(am_port, alertmanager)
        result = subprocess.run([DOSIM, "serve", str(scenario), "--listen", f"127.0.0.1:{free_port()}",
                                 "--speed", "0", "--exit-at-end", "--alertmanager", f"http://127.0.0.1:{am_port}"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr, result.stderr
        alerts = json.loads(get(am_port, "/api/v2/alerts"))
        firing = [a for a in alerts if a["labels"].get("alertname") == "p95-high"]
        assert firing, alerts
        labels = firing[0]["labels"]
        assert labels["service"] in ("db", "web") and labels["severity"] == "critical"
        assert labels["team"] == "storage" and labels["detector"] == "p95-high"
        assert firing[0]["status"]["state"] == "active"
        assert {a["labels"]["service"] for a in firing} >= {"db"}
    finally:
        alertmanager.terminate()
        alertmanager.wait(timeout=20)
