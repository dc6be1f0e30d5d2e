"""dosim serve: the run paced against the wall clock, its metrics scraped by the real
Prometheus (a scrape config pointed at it, 1 s interval) and read back through Prometheus's
API; its alerts pushed to the real Alertmanager (prometheus-alertmanager) on 127.0.0.1 and
found there with dosim's labels. Both servers started here on free ports and stopped. The
live page's API (state, pause, speed, inject) driven over HTTP."""
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.error
import urllib.request

import h5py
import pytest

from dosim_test_util import DOSIM, SOURCE_DIR, TMP

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


def post(port, path, body):
    """POSTs JSON; returns (status, parsed answer) for 2xx and 4xx alike."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_live_page_and_its_api_pause_and_inject(scenario):
    """The page at / (self-contained, the scenario's services in its data); /api/state's
    health and story; pause stops the simulated clock; a fault injected through /api/inject
    takes the path of sim.inject: web fails at once and the trace's ground truth holds it as
    an incident starting when it was injected; a wrong one is refused with the loader's
    message."""
    port = free_port()
    trace = TMP / "live.h5"
    serve = subprocess.Popen([DOSIM, "serve", str(scenario), "--listen", f"127.0.0.1:{port}",
                              "--speed", "30", "--out", str(trace)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(port, serve)
        page = get(port, "/")
        assert page.startswith("<!DOCTYPE html>") and 'id="dosim-data"' in page
        assert '"name":"web"' in page and '"name":"db"' in page
        assert not re.search(r'(src|href)\s*=\s*["\']?https?:|@import|url\(https?:', page)
        time.sleep(1)
        state = json.loads(get(port, "/api/state", since=0, service=0))
        assert state["health"] == ["healthy", "healthy"], state["health"]
        assert state["series"]["service"] == 0 and len(state["series"]["t"]) > 1
        for bad in ({"since": "x"}, {"since": -1}, {"service": 2}, {"service": "web"}):
            try:
                get(port, "/api/state", **bad)
                raise AssertionError(f"{bad} was accepted")
            except urllib.error.HTTPError as error:
                assert error.code == 400, bad
                assert next(iter(bad)) in json.loads(error.read())["error"], bad

        assert post(port, "/api/control", {"action": "pause"}) == (200, {"ok": True, "paused": True, "speed": 30.0})
        paused_at = json.loads(get(port, "/api/state"))["t"]
        time.sleep(0.6)
        assert json.loads(get(port, "/api/state"))["t"] == paused_at
        status, answer = post(port, "/api/inject", {"kind": "error", "target": {"service": "web"},
                                                    "percent": 100, "duration": "2m"})
        assert status == 200 and answer["ok"], answer
        injected_at = paused_at  # paused: it starts at the tick the run stopped before
        status, answer = post(port, "/api/inject", {"kind": "latency", "target": {"service": "wbe"}})
        assert status == 400 and not answer["ok"]
        assert "wbe" in answer["error"] and "fixedDelay" in answer["error"], answer
        assert post(port, "/api/control", {"action": "dance"})[0] == 400
        # Wrong types, extra keys, a body nested 20,000 deep: refused, and the run goes on.
        for wrong in ({"action": 5}, {"action": None}, {"action": ["pause"]},
                      {"action": "pause", "extra": 1}, {"action": "resume", "speed": 3}):
            assert post(port, "/api/control", wrong)[0] == 400, wrong
        deep = b'{"kind": "error", "x": ' + b"[" * 20000 + b"]" * 20000 + b"}"
        status, answer = post(port, "/api/inject", deep)
        assert status == 400 and "nested deeper than 64" in answer["error"], answer
        try:
            get(port, "/api/control")
            raise AssertionError("GET /api/control was answered")
        except urllib.error.HTTPError as error:
            assert error.code == 405 and error.headers["Allow"] == "POST", error.headers
            assert error.read() == b"/api/control takes POST with a JSON object\n"
        # A path's own answer: /metrics is GET's; a path that is not there is not found, by
        # any method (POST /nothing was a 405 "GET, or POST to ...").
        reply = raw_request(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        assert reply.startswith("HTTP/1.1 405") and "\r\nAllow: GET\r\n" in reply, reply
        assert reply.endswith("/metrics takes GET\n"), reply
        reply = raw_request(port, b"POST /nothing HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        assert reply.startswith("HTTP/1.1 404") and "not found" in reply, reply
        # A HEAD is a GET's head alone: no body (it was a 405 with one, which HTTP forbids).
        head = raw_request(port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
        assert head.startswith("HTTP/1.1 200") and head.endswith("\r\n\r\n"), head
        assert int(re.search(r"Content-Length: (\d+)", head).group(1)) > 0, head
        head = raw_request(port, b"HEAD /api/control HTTP/1.1\r\n\r\n")
        assert head.startswith("HTTP/1.1 405") and "\r\nAllow: POST\r\n" in head, head
        assert head.endswith("\r\n\r\n"), head
        assert serve.poll() is None, serve.communicate()
        assert post(port, "/api/control", {"action": "resume"})[0] == 200
        deadline = time.time() + 20
        while json.loads(get(port, "/api/state"))["health"][0] != "failing":
            assert time.time() < deadline, "web never turned failing"
            time.sleep(0.2)
        story = json.loads(get(port, "/api/state", since=0))["story"]
        texts = [line["text"] for line in story]
        assert any("paused" in t for t in texts) and any("injected fault-1: error on web" in t for t in texts)
        # To the end, as fast as it goes.
        assert post(port, "/api/control", {"action": "speed", "speed": 0})[0] == 200
        deadline = time.time() + 60
        while not json.loads(get(port, "/api/state"))["ended"]:
            assert time.time() < deadline, "the run never ended"
            time.sleep(0.3)
        status, answer = post(port, "/api/inject", {"kind": "error", "target": {"service": "web"}})
        assert status == 409 and answer["error"] == "the run has ended"
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    with h5py.File(trace) as f:
        names = [n.decode() for n in f["truth/incidents/name"][()]]
        assert names == ["db-slow", "fault-1"], names
        assert f["truth/incidents/start_ns"][1] == int(injected_at * 1e9)
        assert f["truth/incidents/root_service"][1] == 0


def test_a_server_stopped_before_its_run_ends_exits_as_an_interrupted_run(scenario):
    import signal
    for stop, code in [(signal.SIGINT, 130), (signal.SIGTERM, 143)]:
        port = free_port()
        trace = TMP / f"serve-stopped-{code}.h5"
        serve = subprocess.Popen([DOSIM, "serve", str(scenario), "--listen", f"127.0.0.1:{port}",
                                  "--speed", "1", "--out", str(trace)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_ready(port, serve, "/metrics")
            serve.send_signal(stop)
            out, _ = serve.communicate(timeout=20)
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()
        assert serve.returncode == code, serve.stderr.read()
        with h5py.File(trace, "r") as f:
            assert f.attrs["complete"] == 0
        # The db's fault starts at 5m: stopped seconds in, no incident has begun (the
        # summary counted the one to come).
        assert "alerts, 0 incidents (stopped)" in out, out


def test_the_story_tells_a_change_once_it_has_happened():
    """auto-rollback deploys checkout v2 at 30m: at the start of a slow run the story holds no
    change line (it listed the whole change log, the future included)."""
    from dosim_test_util import SOURCE_DIR
    port = free_port()
    serve = subprocess.Popen([DOSIM, "serve", str(SOURCE_DIR / "scenarios" / "auto-rollback.yaml"),
                              "--listen", f"127.0.0.1:{port}", "--speed", "60",
                              "--out", str(TMP / "story.h5")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(port, serve)
        time.sleep(1)
        state = json.loads(get(port, "/api/state", since=0))
        assert state["t"] < 1800
        assert all(line["t"] <= state["t"] for line in state["story"]), state["story"]
        assert not [line for line in state["story"] if line["kind"] == "change"], state["story"]
    finally:
        serve.terminate()
        serve.wait(timeout=30)


def test_the_story_stays_in_time_order_when_controls_come_between_tellings():
    """As fast as it goes, faults and changes join the story every 100 ms of wall time,
    controls at once: a control's line came before the lines of what happened earlier."""
    scenario = TMP / "story-order.yaml"
    scenario.write_text("""name: story-order
duration: 2d
tick: 1s
record: 1m
services:
  - {name: web, replicas: 2, capacity_rps: 200, base_latency: 5ms}
traffic:
  - {name: users, entry: web, base_rps: 50}
faults:
  - {name: blip, kind: latency, target: {service: web}, fixedDelay: 10ms, start: 1m,
     duration: 30s, schedule: {every: 2m}}
""")
    port = free_port()
    serve = subprocess.Popen([DOSIM, "serve", str(scenario),
                              "--listen", f"127.0.0.1:{port}", "--speed", "0",
                              "--out", str(TMP / "story-order.h5")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(port, serve)
        for action in ("pause", "resume", "pause", "resume"):
            assert post(port, "/api/control", {"action": action})[0] == 200
            time.sleep(0.05)
        story = json.loads(get(port, "/api/state", since=0))["story"]
        times = [line["t"] for line in story]
        assert times == sorted(times), story
    finally:
        serve.terminate()
        serve.wait(timeout=30)


def test_an_alertmanager_that_never_answers_is_tried_again_only_after_a_while():
    """An Alertmanager that takes connections and never answers held the run 5 s a push (a
    region outage's 18 pushes: 91 s for a run of under one, and every scrape with it). Now a
    push without an answer stops the pushes for 30 s of wall time: this run tries once."""
    import threading
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    accepted = []

    def take():
        silent.settimeout(0.2)
        while not done.is_set():
            try:
                accepted.append(silent.accept()[0])  # held open, never answered
            except socket.timeout:
                pass
    done = threading.Event()
    taker = threading.Thread(target=take)
    taker.start()
    try:
        result = subprocess.run(
            [DOSIM, "serve", str(SOURCE_DIR / "scenarios" / "region-outage.yaml"), "--listen",
             "127.0.0.1:0", "--speed", "0", "--exit-at-end", "--out",
             str(TMP / "serve-silent-am.h5"), "--alertmanager",
             f"127.0.0.1:{silent.getsockname()[1]}"],
            capture_output=True, text=True, timeout=300)
    finally:
        done.set()
        taker.join()
        for c in accepted:
            c.close()
        silent.close()
    assert result.returncode == 0, result.stderr
    assert "cannot reach Alertmanager" in result.stderr, result.stderr
    assert len(accepted) == 1, len(accepted)


def test_an_alertmanager_url_dosim_cannot_reach_is_refused_before_the_run(scenario):
    # https:// passed the start-up check and every push then failed with a warning (exit 0).
    for url, why in [("https://127.0.0.1:9093", "https:// is not supported"),
                     ("http://example.com:9093", "'example.com' is not an IPv4 address"),
                     ("127.0.0.1", "must be HOST:PORT or http://HOST:PORT")]:
        result = subprocess.run([DOSIM, "serve", str(scenario), "--listen", "127.0.0.1:0",
                                 "--speed", "0", "--exit-at-end", "--alertmanager", url],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and why in result.stderr, (url, result.stderr)


def test_a_speed_beyond_the_machine_still_answers_requests():
    from dosim_test_util import SOURCE_DIR
    # The ticks owed at 1e12 simulated seconds a second were run in one step: requests
    # waited 6-8 s. A step is bounded in wall time now (the trace is the same bytes): the
    # server answers while the week still runs.
    port = free_port()
    serve = subprocess.Popen([DOSIM, "serve", str(SOURCE_DIR / "scenarios" / "ecommerce-week.yaml"),
                              "--listen", f"127.0.0.1:{port}", "--speed", "1e12",
                              "--out", str(TMP / "serve-fast.h5")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(port, serve, "/metrics")
        states = []
        for _ in range(5):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=5) as r:
                states.append(json.loads(r.read()))
        assert not states[-1]["ended"], "the week ended before the requests: not a test"
        assert states[0]["t"] < states[-1]["t"]  # it ran between them
    finally:
        serve.send_signal(__import__("signal").SIGTERM)
        serve.wait(timeout=60)


def test_port_zero_says_the_port_it_listens_on(scenario):
    # --listen HOST:0 lets the system choose: the line says the port chosen, not 0.
    result = subprocess.run([DOSIM, "serve", str(scenario), "--listen", "127.0.0.1:0",
                             "--speed", "0", "--exit-at-end"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = re.search(r"on http://127\.0\.0\.1:(\d+)/ \(live page\)", result.stdout)
    assert found and int(found.group(1)) > 0, result.stdout


def raw_request(port, data, pause=0.0, chunk=None):
    """Sends `data` (bytes), `chunk` bytes at a time with `pause` seconds between; the status
    line and body of the answer, or "" when the connection closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            step = chunk or len(data)
            for i in range(0, len(data), step):
                s.sendall(data[i:i + step])
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while True:
                part = s.recv(65536)
                if not part:
                    break
                answer += part
        except (ConnectionResetError, socket.timeout):
            pass
    return answer.decode(errors="replace")


def test_a_slow_or_oversized_request_is_answered_by_the_server_and_holds_no_one(scenario):
    # A client that trickled its body a byte every 1.5 s held the run and every other client
    # (each byte restarted the wait); a body over 1 MiB was cut and said "not a JSON object";
    # a chunked body the same; a 70 KB path reset the connection unanswered; an absolute
    # target (http://host:port/path) was 404.
    import threading
    port = free_port()
    serve = subprocess.Popen([DOSIM, "serve", str(scenario), "--listen",
                              f"127.0.0.1:{port}", "--speed", "10", "--out",
                              str(TMP / "serve-slow.h5")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(port, serve, "/metrics")
        slow = {}
        head = (b"POST /api/control HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n")

        def trickle():
            started = time.time()
            slow["answer"] = raw_request(port, head + b'{"action": "pause"', pause=0.3, chunk=1)
            slow["took"] = time.time() - started

        thread = threading.Thread(target=trickle)
        thread.start()
        time.sleep(0.2)
        started = time.time()
        state = json.loads(get(port, "/api/state"))  # answered once the slow one is cut off
        waited = time.time() - started
        thread.join(timeout=30)
        assert slow["answer"].startswith("HTTP/1.1 408 Request Timeout"), slow
        assert waited < 5, waited  # the server's 1 s for a request, not the trickle's 5 s+
        assert not state["ended"]
        big = raw_request(port, b"POST /api/inject HTTP/1.1\r\nContent-Length: 52428800\r\n\r\n{}")
        assert big.startswith("HTTP/1.1 413 Content Too Large") and "1 MiB" in big, big
        chunked = raw_request(port, b"POST /api/control HTTP/1.1\r\nTransfer-Encoding: chunked"
                                    b"\r\n\r\n12\r\n{\"action\":\"pause\"}\r\n0\r\n\r\n")
        assert chunked.startswith("HTTP/1.1 411 Length Required"), chunked
        long_head = raw_request(port, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n")
        assert long_head.startswith("HTTP/1.1 431 "), long_head[:200]
        absolute = raw_request(port, f"GET http://127.0.0.1:{port}/metrics HTTP/1.1\r\n\r\n"
                                     .encode())
        assert absolute.startswith("HTTP/1.1 200 OK") and "dosim_" in absolute, absolute[:200]
        assert json.loads(get(port, "/api/state"))["paused"] is False  # no control got through
        # The query: percent-encoded numbers read (since=%31 was "not a whole number"), a
        # key given twice and a number too long are said so.
        assert raw_request(port, b"GET /api/state?since=%31 HTTP/1.1\r\n\r\n").startswith(
            "HTTP/1.1 200 OK")
        for query, said in (("since=5&since=6", "since is given twice"),
                            ("since=99999999999999999999999", "since must be below 1e9"),
                            ("since=-1", "since must be a whole number >= 0")):
            answer = raw_request(port, f"GET /api/state?{query} HTTP/1.1\r\n\r\n".encode())
            assert answer.startswith("HTTP/1.1 400") and said in answer, (query, answer)
    finally:
        serve.send_signal(__import__("signal").SIGTERM)
        serve.wait(timeout=60)


def test_silent_and_slow_clients_side_by_side_hold_no_other_request(scenario):
    # Each connection was read in turn, a second each: ten silent connections and ten that
    # sent half a request held a plain request for 5 s and more (a real Prometheus's
    # scrapes failed). Now each is read as its bytes come: the plain request is answered at
    # once, the half ones get 408 after their own second, the silent ones are closed.
    import threading
    port = free_port()
    serve = subprocess.Popen([DOSIM, "serve", str(scenario), "--listen",
                              f"127.0.0.1:{port}", "--speed", "1", "--out",
                              str(TMP / "serve-side.h5")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(port, serve, "/metrics")
        silent = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(10)]
        half = []
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET /metr")
            half.append(s)
        time.sleep(0.1)
        started = time.time()
        state = json.loads(get(port, "/api/state"))
        waited = time.time() - started
        assert waited < 0.5, waited
        assert not state["ended"]
        answers = []
        for s in half:
            answers.append(s.recv(4096).decode(errors="replace"))
            s.close()
        assert all(a.startswith("HTTP/1.1 408 Request Timeout") for a in answers), answers
        for s in silent:
            assert s.recv(4096) == b""  # closed unanswered, as a browser's spare connection
            s.close()
        # Framing: a Content-Length that is no number or two that differ is 400 (-1 was
        # "longer than 1 MiB", two lengths the first one's); a head of bare LFs is read.
        for head, said in ((b"Content-Length: -1", "Content-Length must be a whole number"),
                           (b"Content-Length: abc", "Content-Length must be a whole number"),
                           (b"Content-Length: 18\r\nContent-Length: 5",
                            "two different Content-Length headers")):
            answer = raw_request(port, b"POST /api/control HTTP/1.1\r\n" + head +
                                 b"\r\n\r\n{\"action\":\"pause\"}")
            assert answer.startswith("HTTP/1.1 400") and said in answer, (head, answer)
        # A key twice was the last one's (a pause and a resume: resumed); what is no JSON
        # was "the body must be a JSON object", a number past a double's range too.
        for body, said in ((b'{"action":"pause","action":"resume"}', "key 'action' is given twice"),
                           (b'{"action":"speed","speed":1e999}', "the body is no JSON: number overflow"),
                           (b'{"action": pause}', "the body is no JSON: parse error at line 1, column "),
                           # A byte of no UTF-8: the parse error quotes it, and writing the
                           # answer threw (the server stopped, exit 70).
                           (b'{"action":"\xff"}', "ill-formed UTF-8 byte"),
                           (b'{"\xe2\x82":1}', "ill-formed UTF-8 byte")):
            answer = raw_request(port, b"POST /api/control HTTP/1.1\r\nContent-Length: " +
                                 str(len(body)).encode() + b"\r\n\r\n" + body)
            assert answer.startswith("HTTP/1.1 400") and said in answer, (body, answer)
        assert serve.poll() is None
        # Expect: 100-continue (curl's way for a POST) is answered before the body comes:
        # the client waited a second for it and got 408.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            body = b'{"action":"pause"}'
            s.sendall(b"POST /api/control HTTP/1.1\r\nExpect: 100-continue\r\n"
                      b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
            s.sendall(body)
            answer = s.recv(4096).decode()
            assert answer.startswith("HTTP/1.1 200") and '"paused":true' in answer, answer
        assert post(port, "/api/control", {"action": "resume"})[1]["paused"] is False
        # A body cut short of its Content-Length is no request (it was run as it came).
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b'POST /api/control HTTP/1.1\r\nContent-Length: 500\r\n\r\n'
                      b'{"action":"pause"}')
            s.shutdown(socket.SHUT_WR)
            answer = s.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 400") and "the body ended after 18 of its " \
            "Content-Length's 500 bytes" in answer, answer
        lf = raw_request(port, b"GET /api/state HTTP/1.1\nHost: x\n\n")
        assert lf.startswith("HTTP/1.1 200 OK"), lf[:200]
        assert json.loads(get(port, "/api/state"))["paused"] is False
    finally:
        serve.send_signal(__import__("signal").SIGTERM)
        serve.wait(timeout=60)


def test_an_injected_fault_answers_the_scenarios_warnings(scenario):
    # /api/inject took a bare-number duration and an end past the run's without a word,
    # where the scenario's `faults:` warns: the answer lists them (the fault is taken).
    port = free_port()
    serve = subprocess.Popen([DOSIM, "serve", str(scenario), "--listen",
                              f"127.0.0.1:{port}", "--speed", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(port, serve, "/metrics")
        status, answer = post(port, "/api/inject", {"kind": "error", "target": {"service": "db"},
                                                    "percent": 50, "duration": 30})
        assert status == 200 and answer["ok"] and any("'duration' is a bare number" in w
                                    for w in answer["warnings"]), answer
        status, answer = post(port, "/api/inject", {"kind": "error", "target": {"service": "db"},
                                            "percent": 50, "duration": "5h"})
        assert status == 200 and answer["ok"] and any("after the scenario's end" in w
                                    for w in answer["warnings"]), answer
        status, answer = post(port, "/api/inject", {"kind": "error", "target": {"service": "web"},
                                            "percent": 5, "duration": "1m"})
        assert status == 200 and answer["ok"] and "warnings" not in answer, answer
    finally:
        serve.send_signal(__import__("signal").SIGTERM)
        serve.wait(timeout=60)


def test_a_failing_detector_stops_the_server_and_says_where_its_trace_is():
    """As dosim run: the error (exit 2), then where the incomplete trace is (serve said the
    error alone)."""
    module = TMP / "serve-raises.py"
    module.write_text("class Raises:\n    def __init__(self, series):\n        pass\n\n"
                      "    def step(self, t_ns, values):\n"
                      "        if t_ns >= 5 * 10**9:\n            raise ValueError('boom')\n"
                      "        return [0.0] * len(values)\n")
    path = TMP / "serve-raises.yaml"
    path.write_text(f"name: raises\nduration: 1m\nservices: [{{name: web}}]\n"
                    f"traffic: [{{entry: web, base_rps: 10}}]\n"
                    f"detectors: [{{name: py, kind: python, module: {module}, class: Raises, "
                    f"metrics: [error_ratio]}}]\n")
    trace = TMP / "serve-raises.h5"
    result = subprocess.run([DOSIM, "serve", str(path), "--listen", "127.0.0.1:0", "--speed", "0",
                             "--exit-at-end", "--out", str(trace)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"{module}:7: ValueError: boom" in result.stderr, result.stderr
    assert f"the trace up to the error is in {trace} (incomplete" in result.stderr, result.stderr
    with h5py.File(trace) as f:
        assert f.attrs["complete"] == 0 and len(f["time_ns"]) > 0


def test_a_client_reading_its_answer_slowly_holds_no_other_and_gets_all_of_it(tmp_path):
    # The answer was written in one blocking loop of a second: a client that read a big
    # /metrics slowly held every other request that second, then got its answer cut.
    services = "\n".join(f"  - {{name: s{i}, replicas: 2, capacity_rps: 500, base_latency: 5ms}}"
                         for i in range(3000))
    path = tmp_path / "many.yaml"
    path.write_text(f"name: many\nduration: 1h\ntick: 1s\nrecord: 1m\nservices:\n{services}\n"
                    "traffic:\n  - {name: users, entry: s0, base_rps: 50}\n")
    port = free_port()
    serve = subprocess.Popen([DOSIM, "serve", str(path), "--listen", f"127.0.0.1:{port}",
                              "--speed", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(port, serve, "/metrics")
        deadline = time.time() + 30
        while "dosim_service_rps{" not in get(port, "/metrics"):  # the first tick is in
            assert time.time() < deadline
            time.sleep(0.1)
        whole = len(get(port, "/metrics").encode())
        assert whole > 4_000_000, whole  # more than the sockets' buffers hold unread
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(30)
        slow.connect(("127.0.0.1", port))
        slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)  # its answer under way, nothing read
        for _ in range(3):
            started = time.time()
            json.loads(get(port, "/api/state"))
            assert time.time() - started < 0.5  # a second each before
        time.sleep(1.5)  # past the second an answer had, then all of it at once
        received = b""
        while True:
            part = slow.recv(1 << 20)
            if not part:
                break
            received += part
        slow.close()
        head, _, body = received.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        assert head.startswith(b"HTTP/1.1 200 OK") and len(body) == length, (head, len(body))
        # A request line that is not METHOD /path HTTP/x.y is 400 (a path 'GET' was 404),
        # a Transfer-Encoding other than chunked is not the chunked wording.
        for line in (b"GET", b"GET /metrics", b"get /metrics HTTP/1.1", b"GET metrics HTTP/1.1",
                     b"GET /metrics HTTP/1.1 extra", b"GET  /metrics HTTP/1.1"):
            answer = raw_request(port, line + b"\r\nHost: x\r\n\r\n")
            assert answer.startswith("HTTP/1.1 400") and "METHOD /path HTTP/1.1" in answer, \
                (line, answer)
        identity = raw_request(port, b"POST /api/control HTTP/1.1\r\nTransfer-Encoding: "
                                     b"identity\r\n\r\n{}")
        assert identity.startswith("HTTP/1.1 501") and "'identity' is not supported" in identity, \
            identity
        assert serve.poll() is None
    finally:
        serve.terminate()
        serve.wait(timeout=60)


def test_alerts_held_back_by_a_silent_alertmanager_keep_their_times(tmp_path):
    # A push that got no answer sent its alerts again 30 s later dated then: startsAt (and a
    # resolved one's endsAt) became the time of the later push.
    import threading
    path = tmp_path / "held.yaml"
    path.write_text(
        "name: held\nduration: 40s\ntick: 1s\nservices: [{name: web}]\n"
        "traffic: [{name: u, entry: web, base_rps: 50, noise: 0}]\n"
        "faults: [{name: f, kind: error, target: {service: web}, percent: 100, start: 1s, "
        "duration: 5s}]\n"
        "detectors: [{name: errs, kind: threshold, metrics: [error_ratio], params: {above: 0.5}}]\n")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    bodies, first_try = [], []
    done = threading.Event()

    def serve_am():
        server.settimeout(0.2)
        held = []
        while not done.is_set():
            try:
                connection, _ = server.accept()
            except socket.timeout:
                continue
            if not first_try:  # the first push: taken, never answered
                first_try.append(time.time())
                held.append(connection)
                continue
            connection.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
            while len(body) < length:
                body += connection.recv(65536)
            bodies.append((time.time(), json.loads(body)))
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            connection.close()
        for c in held:
            c.close()
    thread = threading.Thread(target=serve_am)
    thread.start()
    try:
        result = subprocess.run(
            [DOSIM, "serve", str(path), "--listen", "127.0.0.1:0", "--speed", "1",
             "--exit-at-end", "--alertmanager", f"127.0.0.1:{server.getsockname()[1]}"],
            capture_output=True, text=True, timeout=120)
    finally:
        done.set()
        thread.join()
        server.close()
    assert result.returncode == 0, result.stderr
    assert first_try and bodies, (first_try, bodies, result.stderr)
    sent_at, alerts = bodies[0]
    assert sent_at - first_try[0] > 25  # after the back-off
    from datetime import datetime
    [alert] = [a for a in alerts if a["labels"]["alertname"] == "errs"]
    starts = datetime.fromisoformat(alert["startsAt"].replace("Z", "+00:00")).timestamp()
    ends = datetime.fromisoformat(alert["endsAt"].replace("Z", "+00:00")).timestamp()
    assert abs(starts - first_try[0]) < 3, (starts, first_try[0])  # when it was first seen
    assert starts < ends < starts + 12, (starts, ends)  # when it was seen resolved
