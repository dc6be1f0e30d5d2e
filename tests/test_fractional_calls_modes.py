"""A gateway that calls a slow service in a share of its requests, in both world modes
(docs/world-model.md, Tails): its requests are two groups, those that make the call and
those that do not, and its percentiles are the mixture's. One log-normal of both groups'
moments put p50 13-20 % high and p95 11-15 % low in the bundled scenarios' gateways
(canary-bad-version's frontend, regional-failover's, game-day's), and here, with 0.3 and
0.5 calls a request, p50 12 % and 6 % high, p95 12 % and 7 % low, p99 2 % and 9 % high.
The mixture of its groups' log-normals made that p50 5.0 % low and 1.6 % high, p95 3.4 %
and 2.7 % low; the mixture over which calls a request makes, each part the gamma of its
three moments (shifted), puts all within 2.5 % (p50 2.3 % high at 0.3 calls). With three
fractional calls (payments-mad's gateway) the one gamma of all put p50 13 % low. Steady
state, read back with h5py: the per-tick percentiles averaged over minutes 5 to 20."""
import h5py

from dosim_test_util import TMP, dosim

SCENARIO = """name: gateway
duration: 20m
tick: 1s
detectors: []
services:
  - {name: gateway, replicas: 4, capacity_rps: 250, base_latency: 8ms}
  - {name: checkout, replicas: 4, capacity_rps: 120, base_latency: 25ms}
  - {name: db, replicas: 2, capacity_rps: 800, base_latency: 3ms}
dependencies:
  - {caller: gateway, callee: checkout, calls_per_request: CALLS, timeout: 3s}
  - {caller: checkout, callee: db, calls_per_request: 2, timeout: 1s}
traffic:
  - {name: users, entry: gateway, base_rps: 400, noise: 0}
"""

KEYS = ("latency_mean_s", "latency_p50_s", "latency_p95_s", "latency_p99_s")


def steady(calls, mode, scenario=None, name=None):
    name = name or f"gateway-{calls}"
    path = TMP / f"{name}.yaml"
    path.write_text(scenario or SCENARIO.replace("CALLS", str(calls)))
    trace = TMP / f"{name}-{mode}.h5"
    result = dosim("run", path, "--mode", mode, "--seed", "3", "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        t = f["time_ns"][:] / 1e9
        rows = t > 5 * 60
        return {k: float(f["metrics/service"][k][rows, 0].mean()) for k in KEYS}


def test_a_gateway_calling_a_slow_service_in_some_requests_is_a_mixture_in_both_modes():
    for calls in (0.3, 0.5):
        fluid, requests = steady(calls, "fluid"), steady(calls, "requests")
        # The call (checkout and its two db calls, about 35 ms) stands clear of the
        # gateway's own 8 ms: p50 among the requests without it, p95 among those with it.
        assert requests["latency_p50_s"] < 0.02 < 0.04 < requests["latency_p95_s"], requests
        agree(fluid, requests, calls)


def agree(fluid, requests, case):
    """Mean within 2 %, p50, p95 and p99 within 5 % (issue 16's steady-state tolerances)."""
    for key, tolerance in (("latency_mean_s", 0.02), ("latency_p50_s", 0.05),
                           ("latency_p95_s", 0.05), ("latency_p99_s", 0.05)):
        f, r = fluid[key], requests[key]
        assert abs(f / r - 1) < tolerance, (case, key, fluid, requests)


THREE_CALLS = """name: three-calls
duration: 20m
tick: 1s
detectors: []
services:
  - {name: gateway, replicas: 3, capacity_rps: 400, base_latency: 2.5ms}
  - name: payments
    replicas: 3
    capacity_rps: 150
    base_latency: 20ms
    endpoints:
      - {name: /pay, weight: 0.4, latency_factor: 2.0}
      - {name: /refund, weight: 0.1, latency_factor: 1.5}
      - {name: /status, weight: 0.5, latency_factor: 0.5}
  - {name: orders, replicas: 2, capacity_rps: 250, base_latency: 12ms}
  - {name: users, replicas: 2, capacity_rps: 300, base_latency: 7ms}
  - {name: ledger, replicas: 2, capacity_rps: 800, base_latency: 4ms}
dependencies:
  - {caller: gateway, callee: payments, calls_per_request: 0.3, timeout: 5s}
  - {caller: gateway, callee: orders, calls_per_request: 0.5, timeout: 3s}
  - {caller: gateway, callee: users, calls_per_request: 0.6, timeout: 2s}
  - {caller: payments, callee: ledger, calls_per_request: 1, timeout: 1s}
  - {caller: orders, callee: ledger, calls_per_request: 1, timeout: 1s}
traffic:
  - {name: users, entry: gateway, base_rps: 240, noise: 0}
"""


def test_three_fractional_calls_make_a_mixture_over_which_calls_a_request_makes():
    # payments-mad.yaml's gateway: a seventh of the requests make no call. The one gamma
    # of its two moments put p50 5.6 % low and p99 4.3 % low; of its three moments (the
    # groups' skew read as a shift), p50 14 % low and p95 5.4 % high; the mixture over
    # which calls a request makes, all within 0.5 %.
    fluid = steady(0, "fluid", THREE_CALLS, "three-calls")
    requests = steady(0, "requests", THREE_CALLS, "three-calls")
    agree(fluid, requests, "three calls")


# An order service whose time is its own and five calls, one of them (payment, 25 ms at
# 44 % utilisation) most of its spread: the sum is as skewed as that exponential, more
# than the gamma of its two moments (whose p99 was 7 % low here, 5.6 % in ecommerce.yaml;
# the shifted gamma of three moments: 2.2 %).
ONE_SLOW_CALL = """name: one-slow-call
duration: 20m
tick: 1s
detectors: []
services:
  - {name: order, replicas: 2, capacity_rps: 250, base_latency: 12ms}
  - {name: payment, replicas: 2, capacity_rps: 200, base_latency: 25ms}
  - {name: user, replicas: 3, capacity_rps: 600, base_latency: 5ms}
  - {name: inventory, replicas: 3, capacity_rps: 500, base_latency: 6ms}
  - {name: database, replicas: 4, capacity_rps: 1000, base_latency: 3ms}
dependencies:
  - {caller: order, callee: user, calls_per_request: 1, timeout: 1s}
  - {caller: order, callee: inventory, calls_per_request: 1, timeout: 1s}
  - {caller: order, callee: payment, calls_per_request: 1, timeout: 3s}
  - {caller: order, callee: database, calls_per_request: 2, timeout: 1s}
traffic:
  - {name: shoppers, entry: order, base_rps: 90, noise: 0}
"""


def test_a_sum_dominated_by_one_exponential_call_keeps_its_tail():
    fluid = steady(0, "fluid", ONE_SLOW_CALL, "one-slow-call")
    requests = steady(0, "requests", ONE_SLOW_CALL, "one-slow-call")
    agree(fluid, requests, "one slow call")
