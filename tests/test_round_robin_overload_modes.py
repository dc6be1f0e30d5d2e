"""Round-robin replicas fed over their capacity, in both world modes: four replicas of
25 rps at 150 rps, their queues full (the default limit of 10 s of capacity: 250 requests
each). A request waits what is ahead of it at its replica, 250 / 25 = 10 s, plus its 40 ms
of service (Little's law), whatever the balancer. The fluid mode subtracted the regular
arrivals' shorter stationary queue from an overflowing one and showed 7.1 s (request
level 9.9 s, `random` 10.1 s); now the shorter queue is an equilibrium's only
(docs/world-model.md, Balancer). With `measurement_noise: false` the p95 of such a queue
was the stationary queue's at the utilisation's cap (26 s); now the mean-field model's
queue is driven as the noisy one is (Driven queues). Read back with h5py."""
import h5py

from dosim_test_util import TMP, dosim

SCENARIO = """name: round-robin-full
duration: 5m
tick: 1s
detectors: []
services:
  - {{name: s, replicas: 4, capacity_rps: 25, base_latency: 40ms, load_balancer: {balancer}}}
traffic:
  - {{name: u, entry: s, replay: {{file: rr-full.csv}}}}
"""


def mean_latency_while_full(balancer, mode, noise):
    (TMP / "rr-full.csv").write_text("time,value\n0,50\n60,150\n200,50\n400,50\n")
    path = TMP / f"rr-full-{balancer}.yaml"
    path.write_text(SCENARIO.format(balancer=balancer) +
                    ("" if noise else "measurement_noise: false\n"))
    trace = TMP / f"rr-full-{balancer}-{mode}-{noise}.h5"
    result = dosim("run", path, "--mode", mode, "--seed", "2", "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        t = f["time_ns"][:] / 1e9
        full = (t > 150) & (t <= 200)  # the queues filled by 60 + 250 * 4 / 50 = 80 s
        g = f["metrics/service"]
        return (g["latency_mean_s"][full, 0].mean(), g["error_ratio"][full, 0].mean(),
                g["latency_p95_s"][full, 0].mean())


def test_full_round_robin_queues_wait_what_they_hold_in_both_modes():
    expected = 250 / 25 + 0.040
    for balancer in ("round-robin", "random"):
        for mode, noise in (("fluid", False), ("fluid", True), ("requests", True)):
            latency, errors, p95 = mean_latency_while_full(balancer, mode, noise)
            assert abs(latency / expected - 1) < 0.05, (balancer, mode, noise, latency)
            # A full queue's requests all wait about what it holds: the mean-field model's
            # p95 was the stationary queue's at the utilisation's cap, 26 s.
            assert expected <= p95 < 1.15 * expected, (balancer, mode, noise, p95)
            assert abs(errors - 1 / 3) < 0.03, (balancer, mode, noise, errors)  # 50 of 150 shed
