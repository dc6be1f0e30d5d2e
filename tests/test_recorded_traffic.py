"""A traffic source replayed from a recorded rate (docs/scenario-format.md, `replay` of a
traffic source), through the command line as a user runs it: a Grafana-style CSV export of
per-minute requests per second drives the entry service, and the trace read back with h5py
carries those rates (fluid) or Poisson counts around them (request level)."""
import h5py
import numpy as np

from dosim_test_util import TMP, dosim

CSV = """\
"Time","frontend rps"
2024-03-01 09:00:00,120
2024-03-01 09:01:00,240
2024-03-01 09:02:00,60
2024-03-01 09:03:00,180
"""

SCENARIO = """\
name: recorded-traffic
duration: 10m
measurement_noise: false  # the fluid model's rps is the recorded rate itself
record: 1m
services:
  - {{name: frontend, replicas: 4, workers: 20, capacity_rps: 2000, base_latency: 5ms}}
traffic:
  - name: recorded
    entry: frontend
    base_rps: 30
    replay: {{file: {csv}, column: frontend rps, repeat: {repeat}}}
detectors: []
"""


def run(name, repeat, mode):
    folder = TMP / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rates.csv").write_text(CSV)
    path = folder / "scenario.yaml"
    path.write_text(SCENARIO.format(csv="rates.csv", repeat=str(repeat).lower()))
    trace = folder / "trace.h5"
    result = dosim("run", path, "--mode", mode, "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        return f["metrics/service/rps"][:, 0].astype(float)


def test_the_recorded_rate_drives_the_entry_service_then_base_rps():
    rps = run("once", repeat=False, mode="fluid")
    expected = [120, 240, 60, 180, 30, 30, 30, 30, 30, 30]
    assert np.allclose(rps, expected, rtol=1e-5), rps


def test_a_repeated_recording_starts_over():
    rps = run("repeat", repeat=True, mode="fluid")
    expected = [120, 240, 60, 180, 120, 240, 60, 180, 120, 240]
    assert np.allclose(rps, expected, rtol=1e-5), rps


def test_the_request_level_draws_poisson_arrivals_at_the_recorded_rate():
    rps = run("requests", repeat=True, mode="requests")
    expected = np.array([120, 240, 60, 180, 120, 240, 60, 180, 120, 240], dtype=float)
    # A minute's mean rate of Poisson arrivals: standard deviation sqrt(rate / 60).
    assert np.all(np.abs(rps - expected) < 4 * np.sqrt(expected / 60)), rps
    assert not np.allclose(rps, expected)  # counted, not copied
