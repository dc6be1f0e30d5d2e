"""Edge latency with attempts that fail at once (an error fault's aborts at the callee's
sidecar, a callee with no replica up) in both world modes: such an attempt counts as a
failure only, as a service's fast failures do (docs/world-model.md, Telemetry and Request
level), so the edge's percentiles are those of the answered attempts in both modes. The
request level took them at a latency of 0: an edge p50 half the fluid model's, or a
twentieth (read back with h5py; within 5 % now)."""
import h5py
import numpy as np

from dosim_test_util import TMP, dosim

SCENARIO = """name: edge-fast-failures
duration: 15m
tick: 1s
record: 1m
detectors: []
services:
  - {name: front, replicas: 4, capacity_rps: 100, base_latency: 5ms}
  - {name: leaf, replicas: 4, capacity_rps: 100, base_latency: 5ms}
dependencies:
  - {caller: front, callee: leaf, timeout: 2s}
traffic:
  - {name: users, entry: front, base_rps: 100, noise: 0}
faults:
  - {name: leaf-errors, kind: error, target: {service: leaf}, percent: 50, start: 5m, duration: 5m}
"""


def edge_during_fault(mode):
    path = TMP / "edge-fast-failures.yaml"
    path.write_text(SCENARIO)
    trace = TMP / f"edge-fast-failures-{mode}.h5"
    result = dosim("run", path, "--mode", mode, "--seed", "4", "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        t = f["time_ns"][:] / 1e9
        during = (t > 6 * 60) & (t <= 10 * 60)
        return {k: f["metrics/edge"][k][during, 0].mean()
                for k in ("latency_p50_s", "latency_p95_s", "error_ratio")}


def test_attempts_failed_at_once_count_as_failures_only_in_both_modes():
    fluid, requests = edge_during_fault("fluid"), edge_during_fault("requests")
    assert abs(fluid["error_ratio"] - 0.5) < 0.02 and abs(requests["error_ratio"] - 0.5) < 0.02
    for key in ("latency_p50_s", "latency_p95_s"):
        assert abs(requests[key] / fluid[key] - 1) < 0.05, (key, fluid, requests)
