"""A capacity drop and its recovery, per tick, in both world modes (issue 16; engine/
completed_wait.h): a cpu-stress fault slows a service of 4 workers at 40 per second, fed 30
per second, and its backlog builds and drains. At the request level the latencies of the
requests completing in each tick rise along a line while the queue fills (each second's
arrivals wait 6.5 s more than the last's at a tenth of the capacity), alike within the tick
(one that took longer arrived earlier), and fall along a line as it drains. The fluid model
shows the same, where it showed p99s three times the request level's during the fill, a
plateau of 10 s, and after a long drop the fault's 20 s for five ticks after the capacity
came back (the cohorts still waiting kept the waits of the slow rate).
The drains are compared with a request level that serves deterministically: with
exponential service times its backlog is a random walk whose mean latency, near the drain's
end, stays above the fluid model's deterministic drain (by 5 to 20 % over its last 15 s,
averaged over 12 seeds). At both levels the requests in service when the fault ends go on
at the CPU's new pace (they kept the fault's service time at the request level, which held
the backlog about a second longer). Averaged over three seeds, read back with h5py."""
import h5py
import numpy as np
import pytest

from dosim_test_util import TMP, dosim

SEEDS = (1, 2, 3)
MEAN, P50, P99 = 0, 1, 2


def averaged(name, load, duration, mode, service_time="exponential"):
    path = TMP / f"drop-{name}-{service_time}.yaml"
    path.write_text(f"""name: drop
duration: 6m
tick: 1s
detectors: []
services:
  - {{name: svc, replicas: 1, workers: 4, capacity_rps: 40, base_latency: 100ms,
     service_time: {service_time}}}
traffic:
  - {{entry: svc, base_rps: 30, noise: 0}}
faults:
  - {{name: stress, kind: cpu-stress, target: {{service: svc}}, load: {load}, start: 2m,
     duration: {duration}}}
""")
    runs = []
    for seed in SEEDS:
        trace = TMP / f"drop-{name}-{service_time}-{mode}-{seed}.h5"
        result = dosim("run", path, "--mode", mode, "--seed", seed, "--out", trace, "--quiet")
        assert result.returncode == 0, result.stderr
        with h5py.File(trace) as f:
            m = f["metrics/service"]
            runs.append(np.stack([m[k][:, 0].astype(np.float64)
                                  for k in ("latency_mean_s", "latency_p50_s", "latency_p99_s")]))
    return np.mean(runs, axis=0)


def close(fluid, requests, row, ticks, within):
    for tick in ticks:
        f, r = fluid[row, tick], requests[row, tick]
        assert abs(f / r - 1) < within, (tick, ("mean", "p50", "p99")[row], f, r)


@pytest.fixture(scope="module")
def short_drop():
    # A tenth of the capacity for 10 s (from 120 to 130): a backlog of 260 that drains at
    # 10 a second until about 156.
    return {"fluid": averaged("short", 90, "10s", "fluid"),
            "requests": averaged("short", 90, "10s", "requests"),
            "deterministic": averaged("short", 90, "10s", "requests", "deterministic")}


def test_while_a_queue_fills_its_completions_wait_along_a_line(short_drop):
    fluid, requests = short_drop["fluid"], short_drop["requests"]
    close(fluid, requests, MEAN, range(122, 130), 0.1)
    # The p99 of the few requests completing (about 4 a tick of the 30 arriving: their
    # largest), not of the tick's arrivals (10 to 23 % higher over the fill, 2x at 121).
    close(fluid, requests, P99, range(121, 130), 0.15)
    assert np.all(np.diff(fluid[P50, 121:130]) > 0), fluid[P50, 121:130]
    # Alike within a tick: no tail of the fault's one-second service times.
    assert np.all(fluid[P99, 123:130] < 1.4 * fluid[P50, 123:130]), fluid[:, 123:130]


def test_as_it_drains_its_completions_wait_along_a_line(short_drop):
    fluid, requests = short_drop["fluid"], short_drop["deterministic"]
    close(fluid, requests, MEAN, range(130, 148), 0.1)  # while they wait 3 s or more
    close(fluid, requests, P99, range(130, 148), 0.1)
    assert np.all(np.diff(fluid[P50, 130:150]) < 0), fluid[P50, 130:150]


def test_after_a_long_drop_the_waits_fall_as_soon_as_capacity_returns():
    fluid = averaged("long", 50, "60s", "fluid")
    requests = averaged("long", 50, "60s", "requests", "deterministic")
    # Half the capacity for a minute: the queue fills to its limit (20 s of waiting); at 180
    # the capacity is back and the waits fall from the first tick on.
    close(fluid, requests, MEAN, range(180, 200), 0.12)
    assert fluid[MEAN, 180] < fluid[MEAN, 179]
    # The requests completing then arrived 20 s before, past the 16 ticks of history: read
    # along the line through it, within 4 % (the oldest cohort's wait was 10 % low).
    close(fluid, requests, MEAN, range(180, 186), 0.04)


def test_requests_in_service_when_a_stressor_stops_finish_at_the_new_pace():
    # One Locust user sending its next request as each is answered, to one worker serving
    # in exactly 1 s (10 s under a stressor of 90 %): one request a second, one every 10 s
    # under the fault. The request in service when the stressor stops has at most 10 s
    # left at the fault's pace, at most 1 s at the new one: from the fault's end on, every
    # second sends one. (It kept the fault's pace: up to 9 s without a request.)
    path = TMP / "drop-in-service.yaml"
    path.write_text("""name: in-service
duration: 3m
tick: 1s
detectors: []
services:
  - {name: svc, replicas: 1, workers: 1, capacity_rps: 1, base_latency: 1s,
     service_time: deterministic}
traffic:
  - {name: user, entry: svc, locust: {users: 1, spawn_rate: 10, wait_time: {constant_throughput: 100}}}
faults:
  - {name: stress, kind: cpu-stress, target: {service: svc}, load: 90, start: 1m, duration: 45s}
""")
    for seed in SEEDS:
        trace = TMP / f"drop-in-service-{seed}.h5"
        result = dosim("run", path, "--mode", "requests", "--seed", seed, "--out", trace, "--quiet")
        assert result.returncode == 0, result.stderr
        with h5py.File(trace) as f:
            rps = f["metrics/service/rps"][:, 0]
        # Row r is the tick [r, r + 1) s; the fault ends at 105 s.
        assert np.all(rps[106:170] >= 1), (seed, rps[100:120])
        assert rps[70:100].sum() <= 4, (seed, rps[70:100])  # one every 10 s under it


def test_waits_longer_than_the_history_rise_as_completions_do():
    """A service fed 50 a second for 40 of capacity, without a queue limit to speak of: the
    requests completing each second arrived 0.8 s apart, so their latency rises by
    1 - 40 / 50 = 0.2 s a second of completions, at both levels. Past 16 ticks of waiting
    (completed_wait.h's history) the fluid model showed the wait of the oldest cohort it
    kept, which arrived later and waits longer: 0.23 s a second, 14 % too steep; the line
    through the history reaches back to the requests completing."""
    path = TMP / "overload-long-waits.yaml"
    path.write_text("""name: overload
duration: 2m
tick: 1s
detectors: []
services:
  - {name: svc, replicas: 1, workers: 4, capacity_rps: 40, base_latency: 100ms,
     queue_limit: 100000}
traffic:
  - {entry: svc, base_rps: 50, noise: 0}
""")
    slopes = {}
    for mode in ("fluid", "requests"):
        means = []
        # The request level's backlog is a random walk (its sd over the 80 s about 2 s of
        # waiting in one run): six seeds.
        for seed in (1, 2, 3, 4, 5, 6):
            trace = TMP / f"overload-long-waits-{mode}-{seed}.h5"
            result = dosim("run", path, "--mode", mode, "--seed", seed, "--out", trace,
                           "--quiet")
            assert result.returncode == 0, result.stderr
            with h5py.File(trace) as f:
                means.append(f["metrics/service/latency_mean_s"][:, 0].astype(np.float64))
        mean = np.mean(means, axis=0)
        assert mean[110] > 20, (mode, mean[110])  # waits far past the history
        slopes[mode] = np.polyfit(np.arange(40, 118), mean[40:118], 1)[0]
    assert abs(slopes["fluid"] / 0.2 - 1) < 0.03, slopes
    assert abs(slopes["requests"] / 0.2 - 1) < 0.12, slopes
