"""Kind surprise checked against an independent reference: the formulas of docs/detectors.md
("surprise" and "rest") written again here in plain Python, fed the same 5-minute series
(a daily cycle with noise, a level shift inside the usual range and a spike) through a
scenario's `replay:`, and compared with the scores dosim writes to the trace (read with
h5py), row by row, with and without rest."""
import datetime
import math
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import TMP, dosim

ROWS = 2400  # 8 1/3 days of 5-minute rows


def series():
    rng = np.random.default_rng(7)
    t = np.arange(ROWS)
    values = 50 + 20 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 2, ROWS)
    values[1800:1900] += 12          # a level shift inside the usual range
    values[2100] = 140               # a new extreme
    return values.astype(np.float32).astype(float)  # what the replay hands the detector


def ewma_alpha(n):
    return 2.0 / (n + 1.0)


def reference(values, rest):
    """docs/detectors.md, kind surprise with its defaults, direction both; then rest."""
    window, short, smooth, bins, periods, average, history = 288, 10, 3, 288, 3, 15, 8640
    spread, floor, tolerance, threshold, warmup = 7.0, 0.001, 0.02, 0.4, 50

    class Likelihood:
        def __init__(self):
            self.average = self.mean = self.variance = 0.0

        def z(self, r, start):
            self.average += max(ewma_alpha(average), start) * (min(r, 1.0) - self.average)
            z = (self.average - max(self.mean, 0.0)) / math.sqrt(max(self.variance, 3e-4))
            alpha = max(ewma_alpha(history), start)
            deviation = self.average - self.mean
            self.mean += alpha * deviation
            self.variance = (1 - alpha) * (self.variance + alpha * deviation * deviation)
            return z

    class Typical:
        def __init__(self):
            self.typical = 0.0

        def relative(self, e, range_, start):
            scale = abs(e) + spread * max(self.typical, floor * range_)
            r = abs(e) / scale if scale > 0 else 0.0
            self.typical += max(ewma_alpha(history), start) * (abs(e) - self.typical)
            return r

    views = {name: Likelihood() for name in ("level", "short", "phase")}
    typical = {name: Typical() for name in ("level", "phase")}
    phase = [None] * bins
    low = high = level = short_level = smoothed = None
    seen = 0
    scores = []
    for tick, x in enumerate(values):
        if not math.isfinite(x):
            scores.append(0.0)
            continue
        if low is None:
            low = high = level = short_level = smoothed = x
        old_range = high - low
        novel = old_range > 0 and (x > high + tolerance * old_range or x < low - tolerance * old_range)
        low, high = min(low, x), max(high, x)
        range_ = high - low if high > low else 1.0
        start = 1.0 / (seen + 1)
        seen += 1
        level_error = x - level
        level += max(ewma_alpha(window), start) * level_error
        short_error = x - short_level
        short_level += max(ewma_alpha(short), start) * short_error
        smoothed += max(ewma_alpha(smooth), start) * (x - smoothed)
        b = tick % bins  # one bin per 5-minute tick of the day
        if phase[b] is None:
            phase[b], phase_error = smoothed, 0.0
        else:
            phase_error = smoothed - phase[b]
            phase[b] += phase_error / periods
        z = max(views["level"].z(typical["level"].relative(level_error, range_, start), start),
                views["phase"].z(typical["phase"].relative(phase_error, range_, start), start),
                views["short"].z(abs(short_error) / range_, start))
        tail = 0.5 * math.erfc(z / math.sqrt(2))
        score = 1.0 if novel else math.log(tail + 1e-10) / math.log(1e-10)
        scores.append(0.0 if tick < warmup else score)
    scores = np.array(scores, dtype=np.float32)
    quiet = rest  # rows still to stay quiet; a series starts rested
    out = []
    for s in scores:
        if quiet < rest:
            quiet += 1
            out.append(np.float32(0))
        else:
            if s > np.float32(threshold):
                quiet = 0
            out.append(s)
    return np.array(out, dtype=np.float32)


def run_dosim(values, rest):
    folder = TMP / "surprise_reference"
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime.datetime(2024, 3, 1)
    rows = "".join(f"{start + datetime.timedelta(minutes=5 * i)},{v!r}\n"
                   for i, v in enumerate(values))
    (folder / "series.csv").write_text("timestamp,value\n" + rows)
    scenario = folder / f"rest{rest}.yaml"
    scenario.write_text(
        "name: surprise-reference\n"
        "services: [{name: api}]\n"
        "replay:\n"
        "  - {name: p95, file: series.csv, service: api, metric: latency_p95_s}\n"
        "detectors:\n"
        f"  - {{name: s, kind: surprise, metrics: [latency_p95_s], params: {{rest: {rest}}}}}\n")
    trace = folder / f"rest{rest}.h5"
    result = dosim("run", scenario, "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace, "r") as f:
        assert f.attrs["tick_ns"] == 300 * 10**9
        return f["detectors/s/score"][:, 0]


@pytest.mark.parametrize("rest", [0, 100])
def test_surprise_matches_the_reference(rest):
    values = series()
    got = run_dosim(values, rest)
    want = reference(values, rest)
    assert got.shape == want.shape
    close = np.isclose(got, want, rtol=1e-5, atol=1e-6)
    assert close.all(), [(i, got[i], want[i]) for i in np.nonzero(~close)[0][:10]]
    # The series' events score as the docs say: the spike is novel (1); the shift is seen.
    assert want[2100] == 1.0 or rest > 0
    assert want[1800:1830].max() > 0.4


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
