"""scenarios/crash-loop.yaml: two of checkout-service's five replicas in CrashLoopBackOff.
With one row per second, ready_replicas must show Kubernetes' back-off to the second
(10 s, 20 s, 40 s, ... capped at 300 s, with 8 s of running between crashes), computed
here from the scenario's numbers; the callers must see checkout's reduced capacity as
latency first, then as rejections once the queue is full. Checked with h5py and numpy."""
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim

TRACE = TMP / "crash-loop.h5"
START_S, END_S = 600, 2400
CRASH_AFTER_S = 8
REPLICAS, CRASHING, CAPACITY_RPS = 5, 2, 120


def backoff(restart):
    return min(10 * 2 ** restart, 300)


def down_windows():
    """[start, end) of every back-off, from the fault's start to its end."""
    windows, t, restart = [], START_S, 0
    while t + CRASH_AFTER_S < END_S:
        crash = t + CRASH_AFTER_S
        t = crash + backoff(restart)
        windows.append((crash, min(t, END_S)))
        restart += 1
    return windows


DOWN = down_windows()
_ran = []


def open_trace():
    """Runs the scenario once per process, then opens its trace."""
    if not _ran:
        result = dosim("run", SOURCE_DIR / "scenarios" / "crash-loop.yaml", "--out", TRACE, "--quiet")
        assert result.returncode == 0, result.stderr
        _ran.append(True)
    f = h5py.File(TRACE)
    names = [n.decode() for n in f["services/name"][:]]
    # Row r is the tick [t - 1 s, t): its replicas are those of the tick's start.
    tick = f["time_ns"][:] // 10**9 - 1

    def series(metric, service):
        return f[f"metrics/service/{metric}"][:, names.index(service)].astype(float)
    return f, names, tick, series


def runs(flags):
    """Lengths of the runs of True in a boolean array, in order."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return (edges[1::2] - edges[::2]).tolist()


def test_ready_replicas_follow_the_crash_loop_back_off_to_the_second():
    f, names, tick, series = open_trace()
    with f:
        assert f.attrs["record_interval_ns"] == f.attrs["tick_ns"] == 10**9
        ready = series("ready_replicas", "checkout-service")
        expected = np.full(len(tick), REPLICAS, dtype=float)
        for a, b in DOWN:
            expected[(tick >= a) & (tick < b)] = REPLICAS - CRASHING
        np.testing.assert_array_equal(ready, expected)
        # The back-off doubles from 10 s and stays at the 300 s cap; 8 s of running
        # between crashes. The last back-off is cut short by the revert at 40m.
        gaps = runs(ready < REPLICAS)
        assert gaps[:9] == [10, 20, 40, 80, 160, 300, 300, 300, 300], gaps
        assert gaps[9:] == [END_S - DOWN[-1][0]] == [210]
        assert set(runs(ready == REPLICAS)[1:-1]) == {CRASH_AFTER_S}
        # Only checkout-service loses replicas.
        for name in names:
            if name != "checkout-service":
                assert series("ready_replicas", name).min() == series("ready_replicas", name).max()


def test_the_callers_see_latency_in_short_back_offs_and_rejections_in_long_ones():
    f, names, tick, series = open_trace()
    with f:
        web_p95 = series("latency_p95_s", "web-bff")
        checkout_errors = series("error_ratio", "checkout-service")
        normal = tick < START_S
        assert web_p95[normal].max() < 0.4  # p95 241 ms on average, as at request level
        peaks = []
        for a, b in DOWN[:4]:  # the 10, 20, 40 and 80 s back-offs
            inside = (tick >= a) & (tick < b)
            peaks.append(web_p95[inside].max())
        # The longer the back-off, the longer checkout's queue and the callers' wait.
        assert peaks == sorted(peaks) and peaks[0] > 3 * web_p95[normal].mean(), peaks
        assert peaks[3] > 8.0  # the 10 s queue limit reached
        # No failures while the queue has room (10, 20 and 40 s back-offs)...
        short = np.zeros(len(tick), dtype=bool)
        for a, b in DOWN[:3]:
            short |= (tick >= a) & (tick < b + 10)
        assert checkout_errors[short].max() < 1e-6
        # ...rejections once it is full: checkout sheds what 3 x 120 req/s cannot serve.
        full = np.zeros(len(tick), dtype=bool)
        for a, b in DOWN[5:9]:  # 300 s back-offs; the queue fills within a minute
            full |= (tick >= a + 90) & (tick < b)
        arrivals = series("rps", "checkout-service")[full]
        shed = 1 - (REPLICAS - CRASHING) * CAPACITY_RPS / arrivals
        assert 0.10 < checkout_errors[full].mean() < 0.18
        assert abs(checkout_errors[full].mean() - shed.mean()) < 0.01
        # The callers do not retry: each sees checkout's errors (measured on its own
        # requests: the same share, its own count), and nothing else fails.
        for caller in ("web-bff", "mobile-gateway"):
            caller_errors = series("error_ratio", caller)
            assert caller_errors[normal | short].max() < 1e-6, caller
            assert abs(caller_errors[full].mean() - checkout_errors[full].mean()) < 0.01, caller
        for name in ("payment-service", "inventory-service", "orders-db"):
            assert series("error_ratio", name).max() < 1e-6, name
        # After the revert the backlog drains where it is, at the three replicas that held it
        # (the two that return start empty), at their 36 req/s over what they are sent: about
        # 35 s, as at the request level.
        after = tick >= END_S + 45
        assert web_p95[after].max() < 0.4
        assert series("error_ratio", "web-bff")[tick >= END_S].max() < 1e-6


def test_ground_truth_impact_starts_at_the_first_crash():
    f, names, tick, series = open_trace()
    with f:
        inc = f["truth/incidents"]
        assert len(inc["id"]) == 1
        assert inc["cause"][0] == b"crash-loop" and inc["root_cause"][0] == b"checkout-service"
        assert inc["start_ns"][0] == START_S * 10**9 and inc["end_ns"][0] == END_S * 10**9
        # The pods run their first 8 s: the impact starts at the first crash.
        assert inc["impact_start_ns"][0] == DOWN[0][0] * 10**9
        # It ends when the queue has drained, about 35 s after the revert.
        assert (END_S + 20) * 10**9 < inc["impact_end_ns"][0] <= (END_S + 45) * 10**9
        affected = sorted(names[s] for s in f["truth/affected/service"][:])
        assert affected == ["checkout-service", "mobile-gateway", "web-bff"]
        edges = sorted((names[s], names[d]) for s, d in zip(f["truth/propagation/src"][:], f["truth/propagation/dst"][:]))
        assert edges == [("checkout-service", "mobile-gateway"), ("checkout-service", "web-bff")]


def test_the_back_offs_look_alike_in_both_modes():
    """The first two back-offs (10 s and 20 s of three replicas at 117 %) in the fluid mode
    and at the request level, seeds 1 to 3: web-bff's latency as checkout's queue fills and
    drains. The fluid queue fills as its mean says while it is over capacity
    (driven_wait) and its replicas drift apart (drift_apart); before, a first back-off
    peaked at 1.31 s p95 against 2.13 (seed 1), one draw of the stationary queue's level
    held through the overload (39 % low), its latency over the back-off and drain 55 % low.
    Round-robin's queue over its capacity now waits what it holds (round_robin_wait: the
    regular arrivals' shorter queue is an equilibrium's), which took the first back-off's
    latency from 16-23 % low to 0-8 % high over seeds 1-5. What is left
    (docs/world-model.md): the second back-off's p95 peak is 8-29 % high."""
    source = (SOURCE_DIR / "scenarios" / "crash-loop.yaml").read_text()
    for seed in ("1", "2", "3"):
        compare_back_offs(source, seed)


def compare_back_offs(source, seed):
    stats = {}
    for mode in ("fluid", "requests"):
        scenario = TMP / f"crash-loop-11m-{mode}.yaml"
        scenario.write_text(f"mode: {mode}\n" + source.replace("duration: 1h", "duration: 11m", 1))
        trace = TMP / f"crash-loop-11m-{mode}.h5"
        result = dosim("run", scenario, "--out", trace, "--quiet", "--seed", seed)
        assert result.returncode == 0, result.stderr
        with h5py.File(trace) as f:
            names = [n.decode() for n in f["services/name"][:]]
            tick = f["time_ns"][:] // 10**9 - 1
            column = names.index("web-bff")
            p95 = f["metrics/service/latency_p95_s"][:, column]
            mean = f["metrics/service/latency_mean_s"][:, column]
        normal = p95[(tick > 120) & (tick < START_S)].mean()
        first = (tick >= DOWN[0][0]) & (tick < DOWN[1][0])   # the back-off and its drain
        second = (tick >= DOWN[1][0]) & (tick < DOWN[2][0])
        stats[mode] = dict(first_peak=p95[first].max(), second_peak=p95[second].max(),
                           first_area=mean[first].sum(),
                           first_high=int((p95[first] > 3 * normal).sum()))
    fluid, requests = stats["fluid"], stats["requests"]
    assert abs(fluid["first_peak"] / requests["first_peak"] - 1) < 0.20, (seed, stats)
    assert abs(fluid["second_peak"] / requests["second_peak"] - 1) < 0.35, (seed, stats)
    assert abs(fluid["first_area"] / requests["first_area"] - 1) < 0.25, (seed, stats)
    assert abs(fluid["first_high"] - requests["first_high"]) <= 2, (seed, stats)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
