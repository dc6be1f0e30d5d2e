"""A delay on a share of a service's requests (a fault's `percent`, a canary's bad version)
in both world modes (issue 16): the latency is a mixture of fast and delayed requests, not
one log-normal of its moments, so p95 and p99 land in the delayed mode as at the request
level, while p50 stays with the fast ones. Read back with h5py: per-tick p95 and p99
averaged over the fault agree within 5 % (now 0.4 % and 0.3 %). p50 within 15 % (now 3 %:
it is the fast requests' 67th percentile, the queue's exact shape for a service alone), and
the spread of p95 and p99 from tick to tick within a factor 1.6 (now 1.02 and 1.17)."""
import h5py
import numpy as np

from dosim_test_util import TMP, dosim

SCENARIO = """name: partial-delay
duration: 20m
tick: 1s
detectors: []
services:
  - {name: api, replicas: 1, workers: 2, capacity_rps: 200, base_latency: 10ms}
traffic:
  - {name: users, entry: api, base_rps: 100, noise: 0}
faults:
  - {name: slow-quarter, kind: latency, target: {service: api}, fixedDelay: 250ms,
     percent: 25, start: 5m, duration: 10m}
"""


def during_fault(text, name, mode, seed, keys):
    """Runs the scenario `text` in `mode`; per service, each metric of `keys` over the fault
    (minutes 6 to 15), as rows x 1 arrays."""
    path = TMP / f"{name}.yaml"
    path.write_text(text)
    trace = TMP / f"{name}-{mode}.h5"
    result = dosim("run", path, "--mode", mode, "--seed", str(seed), "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        names = [n.decode() for n in f["services/name"][:]]
        t = f["time_ns"][:] / 1e9
        during = (t > 6 * 60) & (t <= 15 * 60)
        return {(s, k): f["metrics/service"][k][during, i] for i, s in enumerate(names)
                for k in keys}


def percentiles(mode):
    keys = ("latency_p50_s", "latency_p95_s", "latency_p99_s")
    series = during_fault(SCENARIO, "partial-delay", mode, 3, keys)
    return {k: (series[("api", k)].mean(), series[("api", k)].std()) for k in keys}


def test_a_delayed_share_is_a_mixture_in_both_modes():
    fluid, requests = percentiles("fluid"), percentiles("requests")
    assert requests["latency_p50_s"][0] < 0.05  # the fast three quarters
    assert 0.25 < requests["latency_p95_s"][0] < 0.3  # in the delayed quarter
    for key, tolerance in (("latency_p50_s", 0.15), ("latency_p95_s", 0.05),
                           ("latency_p99_s", 0.05)):
        assert abs(fluid[key][0] / requests[key][0] - 1) < tolerance, (key, fluid, requests)
    for key in ("latency_p95_s", "latency_p99_s"):
        assert 1 / 1.6 < fluid[key][1] / requests[key][1] < 1.6, (key, fluid, requests)


CALLERS = """name: inherited-delay
duration: 20m
tick: 1s
detectors: []
services:
  - {name: edge, replicas: 2, workers: 4, capacity_rps: 400, base_latency: 5ms}
  - {name: shop, replicas: 2, workers: 4, capacity_rps: 300, base_latency: 8ms}
  - name: pay
    replicas: 2
    workers: 4
    capacity_rps: 300
    base_latency: 10ms
    endpoints:
      - {name: /pay,    weight: 0.5}
      - {name: /status, weight: 0.5, latency_factor: 0.5}
dependencies:
  - {caller: edge, callee: shop, calls_per_request: 1.0, timeout: 5s}
  - {caller: shop, callee: pay,  calls_per_request: 0.4, timeout: 5s}
traffic:
  - {name: users, entry: edge, base_rps: 200, noise: 0}
faults:
  - {name: slow-pay, kind: latency, target: {service: pay, endpoint: /pay}, fixedDelay: 500ms,
     percent: 60, start: 5m, duration: 10m}
"""


def caller_percentiles(mode):
    series = during_fault(CALLERS, "inherited-delay", mode, 5, ("latency_p50_s", "latency_p95_s"))
    return {key: values.mean() for key, values in series.items()}


def test_callers_inherit_an_endpoints_delayed_share_in_both_modes():
    # 60 % of /pay (half of pay's requests) is 500 ms slower, and shop calls pay in 40 % of its
    # requests: 12 % of shop's requests, and of edge's (one call to shop each), are delayed,
    # so their p95 is in the delayed mode (above 0.5 s) and their p50 with the fast ones.
    # p50 is the fast requests' log-normal, though those that call pay and those that do not
    # are a mixture of their own (now 17 % and 25 % low; 17 % and 12 % high when pay's
    # timeouts came from one log-normal's tail, which cut its variance at 5 s).
    fluid, requests = caller_percentiles("fluid"), caller_percentiles("requests")
    for service in ("shop", "edge"):
        assert requests[(service, "latency_p95_s")] > 0.5
        assert requests[(service, "latency_p50_s")] < 0.1
        for key, tolerance in (("latency_p50_s", 0.3), ("latency_p95_s", 0.05)):
            f, r = fluid[(service, key)], requests[(service, key)]
            assert abs(f / r - 1) < tolerance, (service, key, fluid, requests)
    # pay itself: 30 % of its requests delayed, its p95 in the delayed share (the mixture of
    # its endpoints, /pay in two parts; one log-normal of /pay's moments put p95 7 % high and
    # p50 three times too high). p50 is its fast endpoints' log-normals (now 8 % low; 31 %
    # before their latency factors were taken relative to their mean, as the request level
    # takes them).
    assert abs(fluid[("pay", "latency_p95_s")] / requests[("pay", "latency_p95_s")] - 1) < 0.05
    assert abs(fluid[("pay", "latency_p50_s")] / requests[("pay", "latency_p50_s")] - 1) < 0.15


def test_a_negligible_delay_leaves_the_exact_percentiles_and_is_silent():
    """ground-truth.md: a 2 ms delay on 1 % of the requests of a 20 ms service is silent. A
    service alone keeps its exact M/M/c percentiles with a small delayed share (they moved by
    7 % as soon as any share was delayed: the fit switched to a log-normal mixture)."""
    text = """name: negligible
tick: 1s
duration: 3m
measurement_noise: false
services: [{name: s, capacity_rps: 50, base_latency: 20ms}]
traffic: [{name: t, entry: s, base_rps: 20, noise: 0}]
faults: [{name: tiny, kind: latency, target: {service: s}, fixedDelay: 2ms, percent: 1, start: 1m, duration: 1m}]
detectors: []
"""
    path = TMP / "negligible.yaml"
    path.write_text(text)
    trace = TMP / "negligible.h5"
    assert dosim("run", "-q", path, "-o", trace).returncode == 0
    with h5py.File(trace) as f:
        assert f["truth/incidents/impact_start_ns"][0] == -1  # silent
        for metric in ("latency_p50_s", "latency_p95_s", "latency_p99_s"):
            series = f[f"metrics/service/{metric}"][:, 0]
            before, during = series[30], series[90]
            assert abs(during / before - 1) < 0.01, (metric, before, during)


TIMED_OUT = """name: timed-out-share
duration: 20m
tick: 1s
detectors: []
services:
  - {name: front, replicas: 4, capacity_rps: 400, base_latency: 10ms}
  - {name: db, replicas: 4, capacity_rps: 400, base_latency: 20ms}
dependencies:
  - {caller: front, callee: db, timeout: 150ms, retries: RETRIES}
traffic:
  - {name: users, entry: front, base_rps: 200, noise: 0}
faults:
  - {name: slow-db, kind: latency, target: {service: db}, fixedDelay: 200ms, percent: 30,
     start: 5m, duration: 10m}
"""


def test_a_timeout_cuts_the_delayed_share_in_both_modes():
    """30 % of db's requests are 200 ms slower, behind a 150 ms timeout: exactly those time
    out (30 % of attempts; the log-normal fitted to both shares timed out 13 %), a call
    fails when all its attempts do (0.3^(retries + 1)), and front's p95 is in the delayed
    share: one timeout waited out (150 ms), or with retries two or three of them and the
    back-offs between (retry k waits up to (2^k - 1) x 25 ms), while its p50 stays with the
    fast calls. Fluid within 5 % of the request level (now 0.2-4 %)."""
    for retries, delayed_p95 in ((0, (0.15, 0.2)), (1, (0.3, 0.35)), (2, (0.36, 0.42))):
        text = TIMED_OUT.replace("RETRIES", str(retries))
        name = f"timed-out-{retries}"
        keys = ("error_ratio", "latency_p50_s", "latency_p95_s")
        fluid = {k: v.mean() for k, v in during_fault(text, name, "fluid", 7, keys).items()}
        requests = {k: v.mean() for k, v in during_fault(text, name, "requests", 7, keys).items()}
        failed = 0.3 ** (retries + 1)
        assert abs(requests[("front", "error_ratio")] / failed - 1) < 0.05, requests
        assert delayed_p95[0] < requests[("front", "latency_p95_s")] < delayed_p95[1], requests
        assert requests[("front", "latency_p50_s")] < 0.05, requests
        for key, tolerance in (("error_ratio", 0.05), ("latency_p50_s", 0.1),
                               ("latency_p95_s", 0.05)):
            f, r = fluid[("front", key)], requests[("front", key)]
            assert abs(f / r - 1) < tolerance, (retries, key, fluid, requests)
        # db's own percentiles: its exact queue shape, a quarter of it shifted.
        for key in ("latency_p50_s", "latency_p95_s"):
            f, r = fluid[("db", key)], requests[("db", key)]
            assert abs(f / r - 1) < 0.05, (retries, key, fluid, requests)


ENDPOINT_TIMED_OUT = """name: endpoint-timed-out
duration: 20m
tick: 1s
detectors: []
services:
  - {name: shop, replicas: 2, workers: 4, capacity_rps: 300, base_latency: 13ms}
  - name: pay
    replicas: 2
    workers: 4
    capacity_rps: 300
    base_latency: 13ms
    endpoints:
      - {name: /pay,    weight: 0.5}
      - {name: /status, weight: 0.5, latency_factor: 0.5}
dependencies:
  - {caller: shop, callee: pay, timeout: 300ms, retries: RETRIES}
traffic:
  - {name: users, entry: shop, base_rps: 100, noise: 0}
faults:
  - {name: slow-pay, kind: latency, target: {service: pay, endpoint: /pay}, fixedDelay: 500ms,
     percent: 60, start: 5m, duration: 10m}
"""


def test_a_timeout_cuts_an_endpoints_delayed_share_in_both_modes():
    """60 % of /pay (30 % of pay's requests) is 500 ms slower, behind shop's 300 ms timeout:
    those time out (the log-normal fitted to pay's moments timed out 13 %), and shop's p95
    is one timeout, or two and a back-off with a retry. Fluid within 5 % of the request
    level for the error ratio and p95 (now 0.5 to 1 % and 0 to 0.3 %); p50 is the fast
    endpoints' log-normals (now 6 % low)."""
    for retries, delayed_p95 in ((0, (0.3, 0.35)), (1, (0.58, 0.65))):
        text = ENDPOINT_TIMED_OUT.replace("RETRIES", str(retries))
        name = f"endpoint-timed-out-{retries}"
        keys = ("error_ratio", "latency_p50_s", "latency_p95_s")
        fluid = {k: v.mean() for k, v in during_fault(text, name, "fluid", 11, keys).items()}
        requests = {k: v.mean() for k, v in during_fault(text, name, "requests", 11, keys).items()}
        failed = 0.5 * 0.6 ** (retries + 1)  # a retry asks /pay again
        assert abs(requests[("shop", "error_ratio")] / failed - 1) < 0.05, requests
        assert delayed_p95[0] < requests[("shop", "latency_p95_s")] < delayed_p95[1], requests
        for key, tolerance in (("error_ratio", 0.05), ("latency_p95_s", 0.05),
                               ("latency_p50_s", 0.15)):
            f, r = fluid[("shop", key)], requests[("shop", key)]
            assert abs(f / r - 1) < tolerance, (retries, key, fluid, requests)


FRONT_DB = """name: front-db
duration: 12m
tick: 1s
detectors: []
services:
  - {name: front, replicas: 4, capacity_rps: 400, base_latency: 10ms}
  - {name: db, replicas: 4, capacity_rps: 400, base_latency: 10ms}
dependencies:
  - {caller: front, callee: db, timeout: 150ms, retries: RETRIES}
traffic:
  - {name: users, entry: front, base_rps: 200, noise: 0}
faults:
  - FAULT
"""

# (name, retries, fault, [(series, metric, tolerance)]): fluid within `tolerance` of the
# request level over the fault (minutes 4 to 9). Now: edge-delay 3.6 %, 0.7 % and 0 %; loss
# 0 % and 4.7 %; jitter 0.1 %, 2.3 %, 2.8 % and 12 %; near-timeout 3.4 %, 3.1 % and 0.4 %;
# all-delayed 0 to 0.1 %; all-jittered 0.9 %, 1.2 % and 4 %. (A jittered delay's timeouts
# were 15-19 % too few, front's errors 29-41 %, while a log-normal fitted to the delayed
# requests' moments cut them: now the sum of the fast latency and a normal delay.)
FRONT_DB_CASES = [
    # An edge delay on 30 % of the attempts, beyond the timeout: those time out.
    ("edge-delay", 1, "{name: f, kind: latency, target: {caller: front, callee: db}, "
     "fixedDelay: 200ms, percent: 30, start: 3m, duration: 6m}",
     [("front", "error_ratio", 0.05), ("front", "latency_p95_s", 0.05),
      ("front->db", "error_ratio", 0.05)]),
    # Lost attempts wait the timeout out and are retried after a back-off: front's p95.
    ("loss", 2, "{name: f, kind: packet-loss, target: {caller: front, callee: db}, percent: 10, "
     "start: 3m, duration: 6m}",
     [("front", "latency_p95_s", 0.05), ("front", "latency_p50_s", 0.1)]),
    # A jittered delay (100 ± 50 ms) on half of db's requests: a sixth of it times out.
    ("jitter", 1, "{name: f, kind: latency, target: {service: db}, fixedDelay: 100ms, "
     "jitter: 50ms, percent: 50, start: 3m, duration: 6m}",
     [("db", "latency_p95_s", 0.05), ("front->db", "error_ratio", 0.05),
      ("front", "latency_p95_s", 0.05), ("front", "error_ratio", 0.2)]),
    # 30 % of db's requests 140 ms slower, just short of the timeout: a third of those time
    # out, and front's p95 is a retry's (the delayed share's answered calls, then a train of
    # the retried ones; one log-normal of both put it 14 % low).
    ("near-timeout", 1, "{name: f, kind: latency, target: {service: db}, fixedDelay: 140ms, "
     "percent: 30, start: 3m, duration: 6m}",
     [("front", "latency_p95_s", 0.05), ("front", "error_ratio", 0.1),
      ("front->db", "error_ratio", 0.05)]),
    # All of db's requests 200 ms slower: its exact shape shifted, every attempt timing out.
    ("all-delayed", 2, "{name: f, kind: latency, target: {service: db}, fixedDelay: 200ms, "
     "start: 3m, duration: 6m}",
     [("db", "latency_p50_s", 0.02), ("db", "latency_p95_s", 0.02),
      ("db", "latency_p99_s", 0.02), ("front", "error_ratio", 0.01)]),
    # All of them 120 ± 40 ms slower: a third time out, and front's p95 is a retry's.
    ("all-jittered", 1, "{name: f, kind: latency, target: {service: db}, fixedDelay: 120ms, "
     "jitter: 40ms, start: 3m, duration: 6m}",
     [("front", "latency_p95_s", 0.05), ("front->db", "error_ratio", 0.05),
      ("front", "error_ratio", 0.1)]),
]


def over_the_fault(text, name, mode):
    """Means over minutes 4 to 9 of every service's and edge's series, by (name, metric);
    edges are named caller->callee."""
    path = TMP / f"{name}.yaml"
    path.write_text(text)
    trace = TMP / f"{name}-{mode}.h5"
    result = dosim("run", path, "--mode", mode, "--seed", "13", "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        t = f["time_ns"][:] / 1e9
        during = (t > 4 * 60) & (t <= 9 * 60)
        services = [n.decode() for n in f["services/name"][:]]
        edges = [n.decode() for n in f["edges/name"][:]]
        out = {}
        for family, names in (("service", services), ("edge", edges)):
            for metric in f[f"metrics/{family}"]:
                values = f[f"metrics/{family}/{metric}"][during]
                for i, n in enumerate(names):
                    out[(n, metric)] = float(values[:, i].mean())
        return out


def test_timeouts_cut_delays_of_every_kind_in_both_modes():
    """Edge delays, lost attempts, jittered and whole-service delays behind a timeout: what
    times out, and the callers' tails, in both modes (docs/world-model.md, Calls). Before,
    an edge delay on 30 % of attempts timed out 10 % of them (a log-normal of the edge's
    moments), a jittered delay on half of the requests 1.8 % (against 10.6 %; 8.9 % while a
    log-normal of the delayed requests' moments cut them, now 10.8 %), and lost
    attempts put front's p95 at 118 ms against 181."""
    for name, retries, fault, checks in FRONT_DB_CASES:
        text = FRONT_DB.replace("RETRIES", str(retries)).replace("FAULT", fault)
        fluid = over_the_fault(text, f"front-db-{name}", "fluid")
        requests = over_the_fault(text, f"front-db-{name}", "requests")
        for series, metric, tolerance in checks:
            f, r = fluid[(series, metric)], requests[(series, metric)]
            assert abs(f / r - 1) < tolerance, (name, series, metric, f, r)


def test_attempts_lost_without_a_timeout_are_a_retransmitted_share_in_both_modes():
    """Packet loss on an edge without a timeout: TCP retransmits a lost attempt 200 ms later
    (docs/world-model.md, Packet loss), so 20 % of the calls are 200 ms slower and the rest
    untouched. The edge's p50 is the fast share's and its p95 and p99 the slow share's, as at
    the request level; the caller inherits the share. One log-normal fitted to both put
    the edge's p50 at 26 ms against 10 (its p99 at 391 ms against 230) and front's p99 at
    401 ms against 247."""
    text = FRONT_DB.replace(", timeout: 150ms, retries: RETRIES", "").replace(
        "FAULT", "{name: f, kind: packet-loss, target: {caller: front, callee: db}, percent: 20, "
                 "start: 3m, duration: 6m}")
    fluid = over_the_fault(text, "front-db-loss-no-timeout", "fluid")
    requests = over_the_fault(text, "front-db-loss-no-timeout", "requests")
    for series in ("front->db", "front"):
        for metric in ("latency_p50_s", "latency_p95_s", "latency_p99_s", "latency_mean_s"):
            if (series, metric) not in fluid:
                continue
            f, r = fluid[(series, metric)], requests[(series, metric)]
            assert abs(f / r - 1) < 0.06, (series, metric, f, r)
    assert fluid[("front->db", "latency_p99_s")] > 0.2  # the retransmitted share's
