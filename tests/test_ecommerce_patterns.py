"""The bundled e-commerce week shows what it promises, checked from the trace with numpy:
a daily cycle, quieter weekends, and two database incidents whose impact reaches the
gateway."""
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim

TRACE = TMP / "ecommerce.h5"


@pytest.fixture(scope="module", autouse=True)
def ecommerce_trace():
    """Runs the e-commerce week once, for every test of this file."""
    result = dosim("run", SOURCE_DIR / "scenarios" / "ecommerce.yaml", "--out", TRACE, "--quiet")
    assert result.returncode == 0, result.stderr


def gateway_rps(f):
    names = [n.decode() if isinstance(n, bytes) else n for n in f["services/name"][:]]
    return f["metrics/service/rps"][:, names.index("api-gateway")].astype(float), names


def autocorrelation(x, lag):
    x = x - x.mean()
    return float(np.dot(x[:-lag], x[lag:]) / np.dot(x, x))


def test_daily_pattern_lag_one_day_autocorrelation_is_high():
    with h5py.File(TRACE) as f:
        rps, _ = gateway_rps(f)
        step_s = f.attrs["record_interval_ns"] / 1e9
    per_day = int(round(86400 / step_s))
    assert autocorrelation(rps, per_day) > 0.8
    assert autocorrelation(rps, per_day // 2) < 0  # half a day apart: opposite phase


def test_weekend_traffic_is_lower():
    with h5py.File(TRACE) as f:
        rps, _ = gateway_rps(f)
        t = f["time_ns"][:] / 1e9
    day = (t // 86400).astype(int)  # the scenario starts on a Monday
    weekday_mean = rps[day < 5].mean()
    weekend_mean = rps[day >= 5].mean()
    assert 0.6 < weekend_mean / weekday_mean < 0.8  # weekend_factor 0.7


def test_database_incidents_are_in_the_truth_and_visible_at_the_gateway():
    with h5py.File(TRACE) as f:
        truth = f["truth/incidents"]
        causes = [c.decode() if isinstance(c, bytes) else c for c in truth["cause"][:]]
        assert causes == ["latency", "error"]
        assert not truth["silent"][:].any()
        t = f["time_ns"][:]
        _, names = gateway_rps(f)
        gateway = names.index("api-gateway")
        p95 = f["metrics/service/latency_p95_s"][:, gateway]
        errors = f["metrics/service/error_ratio"][:, gateway]
        for i, metric in [(0, p95), (1, errors)]:
            start, end = truth["impact_start_ns"][i], truth["impact_end_ns"][i]
            inside = (t > start) & (t <= end)
            outside = (t < start - 3600e9) | (t > end + 3600e9)
            assert metric[inside].mean() > 2 * np.median(metric[outside]), (i, metric[inside].mean())


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
