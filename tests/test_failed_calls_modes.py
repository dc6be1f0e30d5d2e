"""What a failed call does, in both world modes (docs/world-model.md, Calls, retries and
timeouts): a request makes its calls one after the other and ends at one that still fails
after its retries, so the dependencies after it see fewer requests (the fluid model called
them all: db kept 20 rps while api failed every call, against 0 at request level); a retry
asks the same endpoint again, so a failing endpoint fails its share of the calls whatever
the retries (web's errors were 0.5^4 = 6 % with /pay failing half of api's calls); and a
service with no ready replica reads no CPU; and a request that ends at a failed call takes
none of the later calls' time (web's mean 54 ms at 60 % failing first calls in both modes,
102 in the fluid model before). Read back with h5py: the means over the fault."""
import h5py

from dosim_test_util import TMP, dosim


def over(name, scenario, mode, start, end, family="service"):
    path = TMP / f"{name}.yaml"
    path.write_text(scenario)
    trace = TMP / f"{name}-{mode}.h5"
    result = dosim("run", path, "--mode", mode, "--seed", "3", "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        names = [n.decode() for n in f[f"{family}s/name"][:]]
        t = f["time_ns"][:] / 1e9
        window = (t > start) & (t <= end)
        group = f[f"metrics/{family}"]
        return {(n, k): float(group[k][window, i].mean())
                for i, n in enumerate(names) for k in group.keys()}


SEQUENTIAL = """name: sequential
duration: 10m
measurement_noise: false
detectors: []
services: [{name: web}, {name: api}, {name: db}]
dependencies:
  - {caller: web, callee: api, retries: 1}
  - {caller: web, callee: db}
traffic: [{entry: web, base_rps: 20, noise: 0}]
faults:
  - {kind: error, target: {service: api}, start: 2m, duration: 5m, percent: PERCENT}
"""


def test_a_failed_call_ends_the_request_so_later_calls_see_fewer_requests():
    for percent, db_rps in ((100, 0.0), (50, 20 * 0.75)):  # api fails 0.5^2 of the calls
        scenario = SEQUENTIAL.replace("PERCENT", str(percent))
        fluid = over(f"sequential-{percent}", scenario, "fluid", 180, 400)
        requests = over(f"sequential-{percent}", scenario, "requests", 180, 400)
        for values in (fluid, requests):
            assert abs(values[("db", "rps")] - db_rps) < 0.6, (percent, values[("db", "rps")])
        assert abs(fluid[("web", "error_ratio")] - requests[("web", "error_ratio")]) < 0.02
        # Before the fault every request reaches db.
        assert over(f"sequential-{percent}", scenario, "fluid", 30, 110)[("db", "rps")] == 20


EARLY = """name: early
duration: 20m
detectors: []
services:
  - {name: web, replicas: 4, workers: 8, capacity_rps: 400, base_latency: 20ms}
  - {name: auth, replicas: 4, capacity_rps: 400, base_latency: 5ms}
  - {name: slow, replicas: 4, workers: 16, capacity_rps: 200, base_latency: 80ms}
dependencies:
  - {caller: web, callee: auth}
  - {caller: web, callee: slow}
traffic: [{entry: web, base_rps: 200, noise: 0}]
faults:
  - {kind: error, target: {service: auth}, percent: 60, start: 5m, duration: 10m}
"""


def test_a_request_that_ends_early_does_not_wait_for_the_calls_it_never_made():
    # 60 % of web's requests fail at auth and never call slow (80 ms): web's latency is a
    # mixture of those and the rest, in both modes. The fluid model added slow's time to
    # every request: a mean of 102 ms against 54.
    fluid = over("early", EARLY, "fluid", 7 * 60, 14 * 60)
    requests = over("early", EARLY, "requests", 7 * 60, 14 * 60)
    assert abs(requests[("web", "error_ratio")] - 0.6) < 0.02
    assert abs(fluid[("web", "error_ratio")] - 0.6) < 0.02
    assert abs(fluid[("web", "latency_mean_s")] / requests[("web", "latency_mean_s")] - 1) < 0.03
    for key in ("latency_p50_s", "latency_p95_s", "latency_p99_s"):
        assert abs(fluid[("web", key)] / requests[("web", key)] - 1) < 0.08, key


def test_optional_and_parallel_calls_still_reach_the_later_dependencies():
    scenario = SEQUENTIAL.replace("PERCENT", "100").replace(
        "{caller: web, callee: api, retries: 1}", "{caller: web, callee: api, optional: true}")
    assert over("sequential-optional", scenario, "fluid", 180, 400)[("db", "rps")] == 20


ENDPOINTS = """name: endpoint-retries
duration: 10m
measurement_noise: false
detectors: []
services:
  - {name: web}
  - name: api
    endpoints: [{name: /pay}, {name: /cart}]
dependencies: [{caller: web, callee: api, retries: 3}]
traffic: [{entry: web, base_rps: 20, noise: 0}]
faults:
  - {kind: error, target: {service: api, endpoint: /pay}, start: 2m, duration: 5m}
"""


def test_a_retry_asks_the_same_endpoint_again():
    for mode in ("fluid", "requests"):
        services = over("endpoint-retries", ENDPOINTS, mode, 180, 400)
        endpoints = over("endpoint-retries", ENDPOINTS, mode, 180, 400, "endpoint")
        # Half of web's calls go to /pay, which fails all four attempts of each.
        assert abs(services[("web", "error_ratio")] - 0.5) < 0.02, (mode, services)
        # api sees 20 x (0.5 x 4 + 0.5 x 1) = 50 requests a second, 40 of them at /pay.
        assert abs(services[("api", "rps")] - 50) < 2.5, (mode, services)
        assert abs(services[("api", "error_ratio")] - 0.8) < 0.02, (mode, services)
        pay = [k for k in endpoints if k[0].endswith("/pay") and k[1] == "rps"][0]
        assert abs(endpoints[pay] - 40) < 2.0, (mode, endpoints)


def test_a_service_with_no_ready_replica_reads_no_cpu():
    scenario = """name: dark
duration: 5m
detectors: []
services: [{name: a, replicas: 0}, {name: b}]
traffic: [{entry: b, base_rps: 10}, {entry: a, base_rps: 10}]
"""
    for mode in ("fluid", "requests"):  # with measurement noise (the default)
        values = over("dark", scenario, mode, 0, 300)
        assert values[("a", "cpu_ratio")] == 0.0, mode
        assert values[("a", "memory_ratio")] == 0.0, mode
        assert values[("b", "cpu_ratio")] > 0.04, mode


FAILING_AND_DELAYED = """name: failing-and-delayed
duration: 31m
detectors: []
services:
  - {name: web, replicas: 1, capacity_rps: 1000}
  - {name: api, replicas: 2, capacity_rps: 100}
  - {name: db, replicas: 2, capacity_rps: 100}
dependencies:
  - {caller: web, callee: api}
  - {caller: web, callee: db}
traffic: [{entry: web, base_rps: 40, noise: 0}]
faults:
  - {kind: error, target: {service: api}, percent: ERRORS, start: 1m, duration: 1h}
  - {kind: latency, target: {service: DELAYED}, fixedDelay: 100ms, percent: 50, start: 1m,
     duration: 1h}
"""


def test_a_callee_failing_and_delaying_shares_leaves_the_callers_percentiles_whole():
    """api fails a share of its requests at once, and api (or db, called after it) delays
    half of those it answers by 100 ms: web's percentiles are those of its answered requests
    in both modes. The fluid model took api's delayed share as a share of every attempt,
    the failed ones too (and db's as a share of every request, those that had failed at api
    too): the fast share it took that out of had no time left, and web's p50, p95 and p99
    all read 0 (at 50 % and 60 % errors, delays at api), or p50 75 % high (30 %, at db)."""
    for errors, delayed in ((50, "api"), (60, "api"), (30, "db"), (60, "db")):
        scenario = FAILING_AND_DELAYED.replace("ERRORS", str(errors)).replace("DELAYED", delayed)
        name = f"failing-{errors}-delayed-{delayed}"
        fluid = over(name, scenario, "fluid", 120, 1860)
        requests = over(name, scenario, "requests", 120, 1860)
        # Within 11 % for p50 and p95 (seed 3); p99 up to 25 % high where db delays after
        # api failed (docs/world-model.md: the delayed share is taken as the fast one shifted,
        # and the fast one holds the requests that failed at api in no time).
        for metric, tolerance in (("latency_p50_s", 0.12), ("latency_p95_s", 0.12),
                                  ("latency_p99_s", 0.3), ("latency_mean_s", 0.02)):
            a, b = fluid[("web", metric)], requests[("web", metric)]
            assert abs(a / b - 1) < tolerance, (errors, delayed, metric, a, b)
