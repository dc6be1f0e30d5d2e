"""scenarios/noop.yaml: a quiet week, the false-positive control. No fault and no
defective change, so no incident; but the traffic is anything but flat (a daily cycle,
busier weekends, three Locust load surges), routine changes land (a rolling deployment, a
canary, a config change, a feature flag), and the platform absorbs it all: no errors, no
saturation, replicas out of service only while the rolling deployment replaces them.
Checked with h5py, numpy and yaml."""
import sys

import h5py
import numpy as np
import pytest
import yaml

from dosim_test_util import SOURCE_DIR, TMP, dosim

TRACE = TMP / "noop.h5"
HOUR, DAY = 3600, 86400
_ran = []


def open_trace():
    """Runs the scenario once per process, then opens its trace."""
    if not _ran:
        result = dosim("run", SOURCE_DIR / "scenarios" / "noop.yaml", "--out", TRACE)
        assert result.returncode == 0, result.stderr
        assert "0 injected" in result.stdout, result.stdout
        _ran.append(True)
    f = h5py.File(TRACE)
    t = f["time_ns"][:] / 1e9
    return f, t


def window(t, start, end):
    """Rows whose 5-minute interval lies inside [start, end)."""
    return (t - 300 >= start) & (t <= end)


def test_no_fault_no_incident():
    f, t = open_trace()
    with f:
        assert f.attrs["complete"] == 1
        scenario = yaml.safe_load(f["meta/scenario_yaml"].asstr()[()])
        assert not scenario.get("faults")
        changes = scenario["changes"]
        assert len(changes) >= 4 and not any("defect" in change for change in changes)
        assert t[-1] == 7 * DAY and len(t) == 7 * DAY // 300
        for group in ("truth/incidents", "truth/affected", "truth/propagation"):
            for column in f[group].values():
                assert column.shape == (0,), column.name
        # The changes are in the change log, each at its time.
        log = f["events/changes"]
        kinds = log["kind"].asstr()[()].tolist()
        times = log["t_ns"][:] // 10**9
        assert kinds.count("deployment") == 2 and "config" in kinds and "feature-flag" in kinds
        assert times[kinds.index("config")] == 4 * DAY + 9.5 * HOUR
        assert (np.diff(times) >= 0).all()


def test_the_platform_absorbs_the_week_without_a_failure():
    f, t = open_trace()
    with f:
        m = f["metrics/service"]
        names = f["services/name"].asstr()[()].tolist()
        assert m["error_ratio"].shape[1] == 11
        assert np.abs(m["error_ratio"][:]).max() == 0.0
        assert m["utilization"][:].max() < 0.8
        # Replicas leave service only during the rolling deployment of restaurant-catalog
        # (5 replicas, one at a time, 90 s each, from Wednesday 10:00).
        ready = m["ready_replicas"][:]
        catalog = names.index("restaurant-catalog")
        rollout = (t > 2 * DAY + 10 * HOUR) & (t - 300 < 2 * DAY + 10 * HOUR + 5 * 90)
        expected = np.tile(ready[0], (len(t), 1))
        expected[rollout, catalog] -= 1
        np.testing.assert_array_equal(ready, expected)
        # Latency moves with load, but only a little: sized for the surges (each replica
        # queues behind its round-robin balancer).
        p95 = m["latency_p95_s"][:]
        assert (p95.max(axis=0) / np.median(p95, axis=0)).max() < 1.4


def test_daily_and_weekly_cycles_and_the_surges_show_in_the_load():
    f, t = open_trace()
    with f:
        names = f["services/name"].asstr()[()].tolist()
        rps = f["metrics/service/rps"][:, names.index("api-gateway")].astype(float)

        def mean(start, end):
            return rps[window(t, start, end)].mean()
        wednesday = 2 * DAY
        # Dinner peak at 19:00 against the 7:00 trough: (1 + 0.6) / (1 - 0.6) = 4.
        peak = mean(wednesday + 18.75 * HOUR, wednesday + 19.25 * HOUR)
        trough = mean(wednesday + 6.75 * HOUR, wednesday + 7.25 * HOUR)
        assert 3.6 < peak / trough < 4.4, peak / trough
        # Weekends are 25 % busier.
        weekend = mean(6 * DAY, 7 * DAY) / mean(wednesday, wednesday + DAY)
        assert abs(weekend - 1.25) < 0.03, weekend
        # Each surge against the same hours of a day without one (users ramp at 5 per
        # second, so the surge's mean is a little below the target).
        surges = [  # (start, end, extra users, a comparable day's same hours)
            (1 * DAY + 11.5 * HOUR, 1 * DAY + 13.5 * HOUR, 1500, wednesday + 11.5 * HOUR),
            (3 * DAY + 18 * HOUR, 3 * DAY + 18.5 * HOUR, 4000, wednesday + 18 * HOUR),
            (5 * DAY + 10 * HOUR, 5 * DAY + 11 * HOUR, 2500, 6 * DAY + 10 * HOUR),
        ]
        for start, end, users, reference in surges:
            ratio = mean(start, end) / mean(reference, reference + end - start)
            target = (3000 + users) / 3000
            assert 1 + 0.7 * (target - 1) < ratio < target * 1.03, (start, ratio, target)
            # ...and it is gone an hour later.
            after = mean(end + HOUR, end + 2 * HOUR) / mean(reference + end - start + HOUR,
                                                           reference + end - start + 2 * HOUR)
            assert abs(after - 1) < 0.05, (start, after)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
