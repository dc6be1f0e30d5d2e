"""Delays at the input's limit (100 years each) in the request level: a fault's delay plus its
jitter's draw, a retry's backoff of ten of them, pass int64 nanoseconds together; the events
they schedule saturate instead of wrapping around into the past (latencies of -3e9 s and
the int64 minimum were written). Read back with h5py."""
import h5py
import numpy as np

from dosim_test_util import TMP, dosim

SCENARIO = """name: huge-delays
duration: 1m
services:
  - {name: a, replicas: 2}
  - {name: b, replicas: 2}
dependencies:
  - {caller: a, callee: b, retries: 2, retry_backoff: 36500d, timeout: 1s}
traffic:
  - {entry: a, base_rps: 30}
faults:
  - {kind: latency, target: {service: a}, start: 10s, duration: 20s, fixedDelay: 36500d, jitter: 36500d, percent: 50}
  - {kind: error, target: {service: b}, start: 10s, duration: 20s, percent: 50}
"""


def test_latencies_stay_positive_and_the_run_completes():
    TMP.mkdir(parents=True, exist_ok=True)
    path, trace = TMP / "huge-delays.yaml", TMP / "huge-delays.h5"
    path.write_text(SCENARIO)
    result = dosim("run", path, "--mode", "requests", "-q", "-o", trace)
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        assert int(f.attrs["complete"]) == 1
        for name in ["latency_mean_s", "latency_p50_s", "latency_p95_s", "latency_p99_s"]:
            values = f["metrics/service/" + name][()]
            assert np.isfinite(values).all() and values.min() >= 0, (name, values.min())
