"""Distributed traces and request logs of the request level (docs/world-model.md, "Traces
and request logs"; docs/trace-format.md, /spans and /logs), read back with h5py and checked
against the structure of the call graph, the tail-sampling rules, and OpenTelemetry's
OTLP/JSON encoding as `dosim export spans` writes it."""
import json
import re

import h5py
import numpy as np

from dosim_test_util import TMP, dosim

SCENARIO = """\
name: traced
duration: 90s
mode: requests
seed: 4
tracing: {{{tracing}}}
services:
  - name: web
    replicas: 2
    capacity_rps: 100
    base_latency: 5ms
    endpoints: [{{name: /home, weight: 3}}, {{name: /cart}}]
  - {{name: db, replicas: 1, workers: 4, capacity_rps: 400, base_latency: 2ms}}
dependencies:
  - {{caller: web, callee: db, calls_per_request: 2, timeout: 100ms, retries: 1}}
traffic:
  - {{name: users, entry: web, base_rps: 40}}
faults:
  - {{name: db-errors, kind: error, target: {{service: db}}, percent: 20, start: 30s, duration: 30s}}
"""


def run(name, tracing, mode=None):
    path = TMP / f"{name}.yaml"
    path.write_text(SCENARIO.format(tracing=tracing))
    trace = TMP / f"{name}.h5"
    args = ["run", path, "--out", trace, "--quiet"] + (["--mode", mode] if mode else [])
    result = dosim(*args)
    assert result.returncode == 0, result.stderr
    return trace


def columns(f, group):
    return {key: f[group][key][()] for key in f[group] if key not in ("fault_names", "change_names")}


def test_every_request_is_a_span_in_a_well_formed_trace():
    trace = run("spans-all", "sample_percent: 100, logs_percent: 100")
    with h5py.File(trace) as f:
        s = columns(f, "spans")
        edges = f["edges/name"].asstr()[()].tolist()
        services = f["services/name"].asstr()[()].tolist()
        assert f["spans/fault_names"].asstr()[()].tolist() == ["db-errors"]
        web, db = services.index("web"), services.index("db")
        n = len(s["span_id"])
        assert n > 5000
        assert len(set(s["span_id"].tolist())) == n  # ids are unique
        by_id = {sid: i for i, sid in enumerate(s["span_id"].tolist())}
        same_trace = lambda i, j: (s["trace_id_high"][i], s["trace_id_low"][i]) == \
            (s["trace_id_high"][j], s["trace_id_low"][j])
        roots = 0
        for i in range(n):
            parent = int(s["parent_span_id"][i])
            assert s["end_ns"][i] >= s["start_ns"][i]
            if s["kind"][i] == 1:  # server
                if parent == 0:
                    roots += 1
                    assert s["service"][i] == web
                    continue
                # A callee's request: its parent is its caller's client span on that edge.
                j = by_id[parent]
                assert s["kind"][j] == 2 and same_trace(i, j)
                assert edges[s["edge"][j]] == f"{services[s['service'][j]]}->{services[s['service'][i]]}"
                assert s["start_ns"][i] >= s["start_ns"][j]
                assert s["attempt"][i] == s["attempt"][j] >= 1
            else:  # client: an attempt of a call, child of its caller's server span
                j = by_id[parent]
                assert s["kind"][j] == 1 and s["service"][j] == s["service"][i] and same_trace(i, j)
                assert s["start_ns"][i] >= s["start_ns"][j]
                assert s["end_ns"][i] - s["start_ns"][i] <= 100_000_000 + 1  # cut at the timeout
        # Every answered external request is a root: the web arrivals of the run, give or take
        # the requests still in flight at its end.
        arrivals = f["metrics/service/rps"][:, web].sum()  # 1 s rows: a count per row
        assert abs(roots - arrivals) <= 5
        # The fault's aborts are marked: 503 server spans at db, inside its window, naming it.
        touched = (s["fault"] == 0)
        assert touched.sum() > 50
        assert (s["status"][touched] == 503).all() and (s["service"][touched] == db).all()
        assert (s["start_ns"][touched] >= 30e9).all() and (s["start_ns"][touched] < 60e9).all()
        # Logs: every answered request, with the trace id of its trace.
        logs = columns(f, "logs")
        assert len(logs["t_ns"]) == int(((s["kind"] == 1) & (s["status"] != 0)).sum())
        log_traces = set(zip(logs["trace_id_high"].tolist(), logs["trace_id_low"].tolist()))
        span_traces = set(zip(s["trace_id_high"].tolist(), s["trace_id_low"].tolist()))
        assert log_traces == span_traces


OPEN_AT_THE_END = """\
name: open-at-the-end
duration: 30s
mode: requests
seed: 5
tracing: {{{tracing}}}
services:
  - {{name: web, replicas: 2, capacity_rps: 200, base_latency: 5ms}}
  - {{name: api, replicas: 2, capacity_rps: 150, base_latency: 13.3ms}}
  - {{name: db, replicas: 2, capacity_rps: 400, base_latency: 5ms}}
dependencies:
  - {{caller: web, callee: api, timeout: 2s}}
  - {{caller: api, callee: db, timeout: 500ms, retries: 2}}
traffic:
  - {{name: users, entry: web, base_rps: 100}}
faults:
  - {{name: db-slow, kind: latency, target: {{service: db}}, fixedDelay: 900ms, start: 20s, duration: 10s}}
  - {{name: api-errors, kind: error, target: {{service: api}}, percent: 30, start: 25s, duration: 5s}}
  - {{name: api-404, kind: error, target: {{service: api}}, percent: 10, httpStatus: 404, start: 5s, duration: 5s}}
"""


def test_spans_open_at_the_end_of_the_run_are_closed_there():
    """Requests in flight when the run ends: their finished children were exported without
    them (orphans, traces without a root). Now every kept trace is a whole tree, its open
    spans ending at the run's end with status 0 (dosim.unfinished in OTLP)."""
    for name, tracing in (("open-head", "sample_percent: 100"),
                          ("open-tail", "keep_errors: true, keep_slower_than: 500ms")):
        path = TMP / f"{name}.yaml"
        path.write_text(OPEN_AT_THE_END.format(tracing=tracing))
        trace = TMP / f"{name}.h5"
        assert dosim("run", path, "--out", trace, "--quiet").returncode == 0
        with h5py.File(trace) as f:
            s = columns(f, "spans")
        ids = set(s["span_id"].tolist())
        parents = s["parent_span_id"]
        assert all(int(p) in ids for p in parents if p != 0), name
        traces = {}
        for i, key in enumerate(zip(s["trace_id_high"].tolist(), s["trace_id_low"].tolist())):
            traces.setdefault(key, []).append(i)
        assert all(sum(parents[i] == 0 for i in rows) == 1 for rows in traces.values()), name
        open_spans = s["status"] == 0
        assert open_spans.sum() > 50, name  # db answers 900 ms late: ~100 requests a second
        assert (s["end_ns"][open_spans] == 30_000_000_000).all(), name
        out = TMP / f"{name}.otlp.json"
        assert dosim("export", "spans", trace, "-o", out).returncode == 0
        otlp = [span for r in json.loads(out.read_text())["resourceSpans"]
                for scope in r["scopeSpans"] for span in scope["spans"]]
        unfinished = [span for span in otlp
                      if {"key": "dosim.unfinished", "value": {"boolValue": True}}
                      in span["attributes"]]
        assert len(unfinished) == open_spans.sum(), name
        assert all(not any(a["key"] == "http.response.status_code" for a in span["attributes"])
                   and span["status"] == {} for span in unfinished), name
        # A 4xx is an error of the client span only (OpenTelemetry's HTTP conventions): the
        # server answered as it should. It was unset on both.
        if name == "open-head":
            status = lambda span: next((a["value"]["intValue"] for a in span["attributes"]
                                        if a["key"] == "http.response.status_code"), None)
            not_found = [span for span in otlp if status(span) == "404"]
            clients = [span for span in not_found if span["kind"] == 3]
            servers = [span for span in not_found if span["kind"] == 2]
            assert clients and servers
            assert all(span["status"] == {"code": 2, "message": "HTTP 404"} for span in clients)
            assert all(span["status"] == {} for span in servers)


def test_tail_sampling_keeps_errors_and_slow_traces_only():
    trace = run("spans-tail", "keep_errors: true, keep_slower_than: 40ms")
    with h5py.File(trace) as f:
        s = columns(f, "spans")
        assert len(s["span_id"]) > 0
        kept = {}
        for i in range(len(s["span_id"])):
            key = (int(s["trace_id_high"][i]), int(s["trace_id_low"][i]))
            kept.setdefault(key, []).append(i)
        for key, rows in kept.items():
            errors = any(s["status"][i] >= 500 for i in rows)
            root = [i for i in rows if s["parent_span_id"][i] == 0]
            assert len(root) == 1, key
            slow = s["end_ns"][root[0]] - s["start_ns"][root[0]] >= 40_000_000
            assert errors or slow, key
        # The error traces are all there: the fault makes hundreds.
        assert sum(any(s["status"][i] >= 500 for i in rows) for rows in kept.values()) > 100


def test_traces_are_deterministic_and_absent_in_fluid_mode():
    a = run("spans-a", "sample_percent: 5, logs_percent: 5")
    b = run("spans-b", "sample_percent: 5, logs_percent: 5")
    assert a.read_bytes() == b.read_bytes()
    fluid = run("spans-fluid", "sample_percent: 5", mode="fluid")
    with h5py.File(fluid) as f:
        assert f["spans/span_id"].shape == (0,) and f["logs/t_ns"].shape == (0,)
    out = TMP / "fluid-spans.json"
    exported = dosim("export", "spans", fluid, "-o", out)
    assert exported.returncode == 0
    assert json.loads(out.read_text()) == {"resourceSpans": []}
    # ... and says why it is empty; a request-level trace's export says nothing of the kind.
    assert "a fluid-mode trace holds no spans (run the scenario with --mode requests)" in exported.stderr
    assert "fluid-mode" not in dosim("export", "spans", a, "-o", TMP / "a-spans.json").stderr
    # A request-level run that kept no span, or logged no request, says why its export is
    # empty (it said nothing).
    none = run("spans-none", "sample_percent: 0")
    exported = dosim("export", "spans", none, "-o", TMP / "none-spans.json")
    assert exported.returncode == 0 and "holds no spans (its scenario's `tracing:` keeps none" \
        in exported.stderr, exported.stderr
    exported = dosim("export", "logs", none, "-o", TMP / "none-logs.jsonl")
    assert exported.returncode == 0 and "holds no request logs" in exported.stderr, exported.stderr
    assert "holds no" not in dosim("export", "logs", a, "-o", TMP / "a-logs.jsonl").stderr
    # `export spans` without its trace names what is missing.
    missing = dosim("export", "spans")
    assert missing.returncode == 2 and "dosim export spans needs the trace" in missing.stderr


HEX32, HEX16 = re.compile(r"[0-9a-f]{32}"), re.compile(r"[0-9a-f]{16}")


def test_export_writes_otlp_json_and_json_lines():
    trace = run("spans-export", "sample_percent: 20, logs_percent: 10")
    out = TMP / "spans.otlp.json"
    result = dosim("export", "spans", trace, "-o", out)
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    with h5py.File(trace) as f:
        rows = f["spans/span_id"].shape[0]
        log_rows = f["logs/t_ns"].shape[0]
    count = 0
    assert set(document) == {"resourceSpans"}
    for resource in document["resourceSpans"]:
        (attribute,) = resource["resource"]["attributes"]
        assert attribute["key"] == "service.name"
        assert attribute["value"]["stringValue"] in ("web", "db")
        (scope,) = resource["scopeSpans"]
        assert scope["scope"]["name"] == "dosim"
        for span in scope["spans"]:
            count += 1
            assert HEX32.fullmatch(span["traceId"]) and HEX16.fullmatch(span["spanId"])
            assert "parentSpanId" not in span or HEX16.fullmatch(span["parentSpanId"])
            assert span["kind"] in (2, 3)  # SERVER, CLIENT
            start, end = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
            assert isinstance(span["startTimeUnixNano"], str) and end >= start
            keys = {a["key"]: a["value"] for a in span["attributes"]}
            status = int(keys["http.response.status_code"]["intValue"])
            assert (span["status"].get("code", 0) == 2) == (status >= 500)
            if span["kind"] == 3:
                assert span["name"] == "web->db" and keys["peer.service"]["stringValue"] == "db"
            if "dosim.fault" in keys:
                assert keys["dosim.fault"]["stringValue"] == "db-errors"
    assert count == rows
    logs = dosim("export", "logs", trace)
    assert logs.returncode == 0, logs.stderr
    lines = [json.loads(line) for line in logs.stdout.splitlines()]
    assert len(lines) == log_rows > 0
    assert all(HEX32.fullmatch(line["trace_id"]) and line["service"] in ("web", "db")
               for line in lines)
    bad = dosim("export", "spans", TMP / "no-such-trace.h5")
    assert bad.returncode == 2 and "no-such-trace.h5" in bad.stderr
    # --start places series on the wall clock: with spans or logs it is a mistake, said.
    for args in [("spans", trace), ("logs", trace), (trace, "--format", "spans"),
                 (trace, "--format", "logs")]:
        refused = dosim("export", *args, "--start", "0", "-o", TMP / "refused.json")
        assert refused.returncode == 2, (args, refused.stderr)
        assert "--start applies to openmetrics, csv and grafana-dashboard" in refused.stderr
        assert not (TMP / "refused.json").exists()


def test_a_fault_a_script_injects_is_named_in_the_spans():
    # The script's fault is appended after the declared one: fault index 1 names it.
    script = TMP / "inject.lua"
    script.write_text(
        'sim.at(40, function()\n'
        '  sim.inject{name = "web-slow", kind = "latency", target = {service = "web"},\n'
        '             fixedDelay = "50ms", duration = "20s"}\n'
        'end)\n')
    path = TMP / "scripted.yaml"
    path.write_text(SCENARIO.format(tracing="sample_percent: 100"))
    trace = TMP / "scripted.h5"
    result = dosim("run", path, "--script", script, "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        assert f["spans/fault_names"].asstr()[()].tolist() == ["db-errors", "web-slow"]
        faults = f["spans/fault"][()]
        start = f["spans/start_ns"][()]
        service = f["spans/service"][()]
        slowed = (faults == 1)
        assert slowed.any()
        assert np.all(service[slowed] == 0)  # web's server spans
        assert np.all((start[slowed] >= 40e9) & (start[slowed] < 60e9))


def test_a_script_that_fails_still_names_the_faults_it_injected():
    # The run stops at the script's error (exit 2) and keeps its trace: the spans of the
    # fault the script added before point at index 1, which fault_names must name (it
    # listed the declared faults only).
    script = TMP / "inject-then-fail.lua"
    script.write_text(
        'sim.at(40, function()\n'
        '  sim.inject{name = "web-slow", kind = "latency", target = {service = "web"},\n'
        '             fixedDelay = "50ms", duration = "20s"}\n'
        'end)\n'
        'sim.at(70, function() error("boom") end)\n')
    path = TMP / "scripted-fail.yaml"
    path.write_text(SCENARIO.format(tracing="sample_percent: 100"))
    trace = TMP / "scripted-fail.h5"
    result = dosim("run", path, "--script", script, "--out", trace, "--quiet")
    assert result.returncode == 2, result.stderr
    assert f"the trace up to the error is in {trace}" in result.stderr, result.stderr
    with h5py.File(trace) as f:
        assert f.attrs["complete"] == 0
        names = f["spans/fault_names"].asstr()[()].tolist()
        assert names == ["db-errors", "web-slow"], names
        assert (f["spans/fault"][()] == 1).any()
