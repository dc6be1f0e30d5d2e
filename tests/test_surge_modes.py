"""A Locust surge that saturates a service, in both world modes (issue 16): the request
level's users wait for their answers, and the fluid model closes the same loop on the mean
answer time (engine/traffic.h), so that during the surge both send about capacity and wait
about as long. Averaged over four seeds and read back with h5py: rps, mean latency and p99
over 20-second windows agree within 15 %, and the impact window (p99 above twice its level
before the surge) starts and ends within two seconds of each other."""
import h5py
import numpy as np
import pytest

from dosim_test_util import TMP, dosim

SCENARIO = """name: surge
duration: 14m
tick: 1s
detectors: []
services:
  - {name: svc, replicas: 1, workers: 4, capacity_rps: 40, base_latency: 100ms,
     queue_limit: 100000}
traffic:
  - name: users
    entry: svc
    locust: {users: 24, spawn_rate: 100, rps_per_user: 1,
             surges: [{from: 8m, to: 10m, users: 24}]}
"""
SEEDS = (1, 2, 3, 4)


def averaged(mode):
    path = TMP / "surge-modes.yaml"
    path.write_text(SCENARIO)
    runs = []
    for seed in SEEDS:
        trace = TMP / f"surge-{mode}-{seed}.h5"
        result = dosim("run", path, "--mode", mode, "--seed", str(seed), "--out", trace,
                       "--quiet")
        assert result.returncode == 0, result.stderr
        with h5py.File(trace) as f:
            m = f["metrics/service"]
            runs.append(np.stack([m[k][:, 0].astype(np.float64)
                                  for k in ("rps", "latency_mean_s", "latency_p99_s")]))
    return np.mean(runs, axis=0)


@pytest.fixture(scope="module")
def modes():
    return {mode: averaged(mode) for mode in ("fluid", "requests")}


def test_a_saturating_surge_looks_the_same_in_both_modes(modes):
    fluid, requests = modes["fluid"], modes["requests"]
    for start in range(7 * 60, 12 * 60, 20):
        window = slice(start, start + 20)
        f, r = fluid[:, window].mean(axis=1), requests[:, window].mean(axis=1)
        assert abs(f[0] / r[0] - 1) < 0.1, (start, "rps", f[0], r[0])
        assert abs(f[1] / r[1] - 1) < 0.15, (start, "mean", f[1], r[1])
        assert abs(f[2] / r[2] - 1) < 0.15, (start, "p99", f[2], r[2])
    # During the surge both send about the capacity (40 per second), not the users' 48.
    surge = slice(8 * 60 + 20, 10 * 60)
    assert 36 < fluid[0, surge].mean() < 43 and 36 < requests[0, surge].mean() < 43


def test_the_surge_impact_window_is_the_same(modes):
    def window(series):
        p99 = series[2]
        high = np.where(p99 > 2 * np.median(p99[60:8 * 60]))[0]
        high = high[(high >= 8 * 60 - 5) & (high < 10 * 60 + 60)]
        return high[0], high[-1]
    fluid, requests = window(modes["fluid"]), window(modes["requests"])
    assert abs(fluid[0] - requests[0]) <= 2, (fluid, requests)
    assert abs(fluid[1] - requests[1]) <= 2, (fluid, requests)
