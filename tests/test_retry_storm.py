"""scenarios/retry-storm.yaml: a slow database turns, through timeouts and retries alone,
into load amplification and a cascading outage that outlives its cause. Checked from the
trace with h5py and numpy."""
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim

TRACE = TMP / "retry-storm.h5"
FAULT_START_S, FAULT_END_S = 40 * 60, 55 * 60


def series(f, metric, service):
    names = [n.decode() for n in f["services/name"][:]]
    return f[f"metrics/service/{metric}"][:, names.index(service)].astype(float)


def test_retries_amplify_the_load_on_the_database_and_fail_upstream():
    result = dosim("run", SOURCE_DIR / "scenarios" / "retry-storm.yaml", "--out", TRACE, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(TRACE) as f:
        t = f["time_ns"][:] / 1e9
        before = (t > 600) & (t < FAULT_START_S)
        storm = (t > FAULT_START_S + 120) & (t < FAULT_END_S)
        db_rps = series(f, "rps", "db")
        api_rps = series(f, "rps", "api")
        web_rps = series(f, "rps", "web")
        # Users send the same traffic throughout...
        assert abs(web_rps[storm].mean() / web_rps[before].mean() - 1) < 0.05
        # ...but 4 attempts per call at each of two tiers reach the database: 16 attempts of
        # api's first call where 2 calls a request came before (the second is never made
        # once the first has failed), 8 times the load.
        assert 7 < db_rps[storm].mean() / db_rps[before].mean() < 8.5
        assert api_rps[storm].mean() > 3.5 * api_rps[before].mean()
        assert series(f, "utilization", "db")[storm].min() > 0.99
        assert series(f, "error_ratio", "web")[storm].mean() > 0.95
        assert series(f, "error_ratio", "web")[before].max() < 0.01


def test_the_storm_outlives_its_cause():
    with h5py.File(TRACE) as f:
        t = f["time_ns"][:] / 1e9
        after = t > FAULT_END_S + 600
        assert series(f, "error_ratio", "web")[after].mean() > 0.95
        truth = f["truth/incidents"]
        assert truth["impact_end_ns"][0] == f["time_ns"][-1]  # impact until the end
        assert truth["ongoing"][0] == 1  # ... and said to outlive the run


def test_the_summary_says_the_storm_outlived_the_run():
    result = dosim("run", SOURCE_DIR / "scenarios" / "retry-storm.yaml", "-o", TMP / "storm-summary.h5")
    assert result.returncode == 0, result.stderr
    line = next(l for l in result.stdout.splitlines() if l.lstrip().startswith("#0 db-slowdown"))
    assert line.endswith("impact 40m..2h, still impacting when the run ended"), line


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
