"""scenarios/memory-leak.yaml: a leaking release of recommendation-service. Its memory
draws a saw-tooth from the baseline to the limit; at the limit every replica is OOM-killed
at once, the service has no ready replica for the restart time and the storefront fails
meanwhile; the rollback ends it. Checked from the trace with h5py and numpy, against times
computed here from the scenario's numbers."""
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim

TRACE = TMP / "memory-leak.h5"
RELEASE_S, ROLLBACK_S = 3600, 4 * 3600 + 1800
BASELINE = 0.35          # recommendation-service's memory_baseline
LEAK_PER_S = 1.3 / 100 / 60
RESTART_S = 40
FILL_S = (1 - BASELINE) / LEAK_PER_S   # 3000 s from baseline to the limit
CYCLE_S = FILL_S + RESTART_S
RECORD_S = 10
# OOM kills: [start, end) of every window in which no replica is ready.
OOMS = []
while RELEASE_S + FILL_S + len(OOMS) * CYCLE_S < ROLLBACK_S:
    start = RELEASE_S + FILL_S + len(OOMS) * CYCLE_S
    OOMS.append((round(start), round(start + RESTART_S)))


_ran = []


def open_trace():
    """Runs the scenario once per process, then opens its trace."""
    if not _ran:
        result = dosim("run", SOURCE_DIR / "scenarios" / "memory-leak.yaml", "--out", TRACE, "--quiet")
        assert result.returncode == 0, result.stderr
        _ran.append(True)
    f = h5py.File(TRACE)
    names = [n.decode() for n in f["services/name"][:]]
    t = f["time_ns"][:] / 1e9

    def series(metric, service):
        return f[f"metrics/service/{metric}"][:, names.index(service)].astype(float)
    return f, names, t, series


def in_oom(t):
    """Rows (intervals (t - 10 s, t]) that overlap an OOM window."""
    hit = np.zeros(len(t), dtype=bool)
    for a, b in OOMS:
        hit |= (t > a) & (t - RECORD_S < b)
    return hit


def test_the_replicas_are_oom_killed_together_on_schedule():
    assert len(OOMS) == 4, OOMS
    f, names, t, series = open_trace()
    with f:
        ready = series("ready_replicas", "recommendation-service")
        down = ready == 0
        # No replica ready exactly during the computed OOM windows, all four otherwise.
        np.testing.assert_array_equal(down, in_oom(t))
        assert set(np.unique(ready)) == {0.0, 4.0}
        # Nothing else loses a replica.
        for name in names:
            if name != "recommendation-service":
                other = series("ready_replicas", name)
                assert other.min() == other.max() > 0, name


def test_memory_draws_a_saw_tooth_from_baseline_to_the_limit():
    f, names, t, series = open_trace()
    with f:
        memory = series("memory_ratio", "recommendation-service")
        utilization = series("utilization", "recommendation-service")
        before = (t > 600) & (t <= RELEASE_S)
        # Before the release: the baseline plus the load's share (0.1 x utilisation).
        steady = BASELINE + 0.1 * utilization[before]
        assert np.abs(memory[before] - steady).max() < 0.02
        assert memory[before].max() < 0.45
        for k, (a, b) in enumerate(OOMS):
            rising = (t > (OOMS[k - 1][1] if k else RELEASE_S) + RECORD_S) & (t <= a)
            rising &= memory < 0.85  # below the clamp at 1.0
            # The tooth climbs at the leak rate (1.3 % of the limit per minute)...
            slope = np.polyfit(t[rising], memory[rising], 1)[0]
            assert abs(slope / LEAK_PER_S - 1) < 0.02, (k, slope)
            # ...reaches the limit just before the kill...
            assert memory[(t > a - 30) & (t <= a)].max() > 0.98
            # ...and starts again from the baseline once the replicas are back.
            after = (t > b) & (t <= b + RECORD_S)
            assert memory[after].max() < BASELINE + 0.1 * utilization[after].max() + 0.03
        after_rollback = (t > ROLLBACK_S + 60)
        assert memory[after_rollback].max() < 0.45


def test_the_storefront_fails_while_no_replica_is_ready():
    f, names, t, series = open_trace()
    with f:
        errors = series("error_ratio", "storefront")
        oom = in_oom(t)
        full = np.zeros(len(t), dtype=bool)  # rows entirely inside an OOM window
        for a, b in OOMS:
            full |= (t - RECORD_S >= a) & (t <= b)
        # The storefront has no fallback: every request that needs a recommendation fails.
        assert errors[full].min() > 0.99
        assert errors[~oom].max() < 0.001
        # product-catalog and cart-service never fail.
        for name in ("product-catalog", "cart-service", "session-cache", "feature-store"):
            assert series("error_ratio", name).max() < 1e-6, name
        # recommendation-service's callees lose its calls while it is down.
        assert series("rps", "feature-store")[full].max() < 1e-6


def test_ground_truth_starts_at_the_first_oom_kill():
    f, names, t, series = open_trace()
    with f:
        inc = f["truth/incidents"]
        assert len(inc["id"]) == 1
        assert inc["cause"][0] == b"memory-leak"
        assert inc["root_cause"][0] == b"recommendation-service"
        assert inc["start_ns"][0] == RELEASE_S * 10**9 and inc["end_ns"][0] == ROLLBACK_S * 10**9
        assert inc["silent"][0] == 0
        # A leak costs nothing measurable until the first OOM kill.
        assert inc["impact_start_ns"][0] == OOMS[0][0] * 10**9
        # The last kill's recovery ends the impact, well before the rollback.
        assert OOMS[-1][1] * 10**9 <= inc["impact_end_ns"][0] <= (OOMS[-1][1] + 30) * 10**9
        affected = sorted(names[s] for s in f["truth/affected/service"][:])
        assert affected == ["recommendation-service", "storefront"]
        edges = [(names[s], names[d]) for s, d in zip(f["truth/propagation/src"][:], f["truth/propagation/dst"][:])]
        assert edges == [("recommendation-service", "storefront")]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
