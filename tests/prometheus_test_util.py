"""The real Prometheus for the tests (Debian's prometheus and promtool, installed by
tools/install-deps.sh): an OpenMetrics export backfilled with `promtool tsdb
create-blocks-from openmetrics`, Prometheus started on 127.0.0.1 over those blocks and
stopped after, and queries to its HTTP API."""
import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(port, path, **params):
    """GET path (/api/v1/query, /api/v1/query_range) with params; the answer's data."""
    url = f"http://127.0.0.1:{port}{path}?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


@contextlib.contextmanager
def prometheus_over(openmetrics, folder):
    """Backfills the OpenMetrics file into folder/data and runs Prometheus over it; yields
    its port."""
    data = folder / "prometheus-data"
    shutil.rmtree(data, ignore_errors=True)
    backfill = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", openmetrics,
                               data], capture_output=True, text=True)
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    config = folder / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\n")
    port = free_port()
    server = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=10y"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, server.stderr.read()
            assert time.time() < deadline, "Prometheus did not become ready"
            time.sleep(0.3)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
