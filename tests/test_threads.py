"""`dosim run --threads K` (issue 20): a tick's services, level by level, and its measurement
run on K threads (at most as many as the machine has cores), and the trace is byte-identical
to one thread's, whatever K. The system is
wide enough (40 services a level) that every level and every measurement loop is shared out,
and faults make the counterfactual world run, partial delays make mixtures, endpoints and
fallbacks take their own paths."""
import filecmp
import subprocess
import sys

import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim

FAULTS = """faults:
  - {name: slow, kind: latency, target: {service: svc-45}, start: 2m, duration: 3m, fixedDelay: 300ms}
  - {name: some-slow, kind: latency, target: {service: svc-90}, start: 1m, duration: 4m, fixedDelay: 200ms, percent: 25}
  - {name: errors, kind: error, target: {service: svc-130}, start: 3m, duration: 2m, percent: 30}
  - {name: stress, kind: cpu-stress, target: {service: svc-170}, start: 4m, duration: 3m, load: 90}
  - {name: kill, kind: pod-kill, target: {service: svc-10}, start: 5m, duration: 1m, mode: one}
"""


def wide_scenario():
    generated = subprocess.run(
        ["/usr/bin/python3", SOURCE_DIR / "bench" / "synthetic_system.py", "200",
         "--duration", "8m", "--record", "30s"],
        capture_output=True, text=True, check=True).stdout
    path = TMP / "wide.yaml"
    path.write_text(generated + FAULTS)
    return path


def run(scenario, out, threads):
    result = dosim("run", scenario, "--out", out, "--quiet", "--threads", str(threads))
    assert result.returncode == 0, result.stderr
    return out


def test_any_thread_count_writes_the_same_trace():
    scenario = wide_scenario()
    one = run(scenario, TMP / "threads-1.h5", 1)
    for threads in (2, 3, 5):
        other = run(scenario, TMP / f"threads-{threads}.h5", threads)
        assert filecmp.cmp(one, other, shallow=False), f"--threads {threads} differs"


def test_the_trace_has_the_faults_impact():
    # Guards the test above against comparing two empty or faultless traces.
    import h5py
    import numpy as np
    trace = run(wide_scenario(), TMP / "threads-impact.h5", 2)
    with h5py.File(trace) as f:
        names = [n.decode() for n in f["truth/incidents/name"][:]]
        assert set(names) == {"slow", "some-slow", "errors", "stress", "kill"}
        impact = f["truth/incidents/impact_start_ns"][:]
        assert (impact >= 0).sum() >= 3  # the counterfactual ran and saw the impact
        p95 = f["metrics/service/latency_p95_s"][:]
        assert p95.shape[1] == 200
        assert np.all(np.isfinite(p95))
        services = [n.decode() for n in f["services/name"][:]]
        slow = services.index("svc-45")
        assert p95[:, slow].max() > 0.3  # the 300 ms delay shows


def test_every_mechanism_on_threads():
    scenario = SOURCE_DIR / "tests" / "data" / "scenarios" / "everything.yaml"
    one = run(scenario, TMP / "every-t1.h5", 1)
    two = run(scenario, TMP / "every-t2.h5", 2)
    assert filecmp.cmp(one, two, shallow=False)


def test_threads_must_be_positive():
    result = dosim("run", SOURCE_DIR / "scenarios" / "ecommerce.yaml", "--threads", "0",
                   "--out", TMP / "never.h5")
    assert result.returncode != 0
    assert "threads" in result.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
