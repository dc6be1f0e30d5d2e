"""A cpu-stress fault at load 100 (a StressChaos of workers x load >= 100 maps to it) in
both world modes: the scheduler still runs the service beside the stressors, so it keeps
1 % of its capacity (docs/world-model.md, CPU stress): it is starved, its CPU is full, its
requests queue and its caller's calls time out. Before, a capacity of exactly 0 made the
fluid model shed every request at once with `cpu_ratio` 0, and the request level answer
every request at once, successfully, faster than before the fault (read back with h5py)."""
import h5py

from dosim_test_util import TMP, dosim

SCENARIO = """name: full-stress
duration: 20m
tick: 1s
record: 1m
detectors: []
services:
  - {name: web, replicas: 2, capacity_rps: 200, base_latency: 10ms}
  - {name: db, replicas: 2, capacity_rps: 400, base_latency: 5ms}
dependencies:
  - {caller: web, callee: db, timeout: 1s}
traffic:
  - {name: users, entry: web, base_rps: 150, noise: 0}
faults:
  - {name: stress, kind: cpu-stress, target: {service: db}, load: 100, start: 10m, duration: 5m}
"""


def rows(mode):
    path = TMP / "full-stress.yaml"
    path.write_text(SCENARIO)
    trace = TMP / f"full-stress-{mode}.h5"
    result = dosim("run", path, "--mode", mode, "--seed", "3", "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        t = f["time_ns"][:] / 1e9
        before, during = (t > 5 * 60) & (t <= 10 * 60), (t > 12 * 60) & (t <= 15 * 60)
        g = f["metrics/service"]
        return {(k, s, when): g[k][mask, s].mean()
                for k in ("cpu_ratio", "error_ratio", "latency_p95_s") for s in (0, 1)
                for when, mask in (("before", before), ("during", during))}


def test_a_full_cpu_stress_starves_the_service_in_both_modes():
    for mode in ("fluid", "requests"):
        m = rows(mode)
        assert m[("cpu_ratio", 1, "during")] > 0.99, (mode, m)
        # The caller's calls time out (1 s): most of its requests fail, slower than before.
        assert m[("error_ratio", 0, "during")] > 0.5, (mode, m)
        assert m[("latency_p95_s", 0, "during")] > 5 * m[("latency_p95_s", 0, "before")], (mode, m)
        # db's answered requests waited in a queue, far beyond its 5 ms service time.
        assert m[("latency_p95_s", 1, "during")] > 1.0, (mode, m)
        assert m[("error_ratio", 0, "before")] < 0.01, (mode, m)


def test_a_cpu_stress_keeps_the_declared_queue_limit_in_both_modes():
    """queue_limit's default is the declared capacity_rps x 10 s (scenario-format.md): db at
    100 rps stressed to 10 rps by load 90, fed 50 rps for 20 s, holds 800 requests, under
    its 1,000: it rejects none. The fluid model shrank the limit with the capacity (100) and
    failed 80 % of db's requests, which the request level never did."""
    scenario = TMP / "stress-limit.yaml"
    scenario.write_text("""name: stress-limit
duration: 60s
tick: 1s
detectors: []
services:
  - {name: web, replicas: 1, workers: 1, capacity_rps: 1000, base_latency: 1ms}
  - {name: db, replicas: 1, workers: 1, capacity_rps: 100, base_latency: 10ms}
dependencies:
  - {caller: web, callee: db, retries: 0}
traffic:
  - {name: users, entry: web, base_rps: 50, noise: 0}
faults:
  - {name: stress, kind: cpu-stress, target: {service: db}, load: 90, start: 20s, duration: 20s}
""")
    for mode in ("fluid", "requests"):
        trace = TMP / f"stress-limit-{mode}.h5"
        result = dosim("run", scenario, "--mode", mode, "--seed", "3", "--out", trace, "--quiet")
        assert result.returncode == 0, result.stderr
        with h5py.File(trace) as f:
            errors = f["metrics/service/error_ratio"][20:40, 1]
        assert errors.max() < 0.01, (mode, errors.tolist())
