"""scikit-learn's IsolationForest as a dosim detector of kind python (docs/python.md).

Interface (python/python_detector.h): dosim constructs the class once per detector with the
watched series' names ("<column>:<metric>") and the detector's params as keyword
arguments. With `fit_ticks: N` (dosim's parameter: it never reaches the class) the first N
ticks score 0 and are handed to fit() as one float32 array [N, series]; then step() is
called once per tick with a float32 view of the tick's values (valid during the call only)
and returns one score per series. A series is anomalous when its score exceeds dosim's
`threshold` (default 1.0). This class needs `fit_ticks`: 600 (ten minutes of 1 s ticks) is
a sensible default, a few hundred values per series, over before the bundled scenarios'
first faults. The fitted ticks must be normal behaviour: they define it.

What the forest sees: each series' deviation from its baseline, the mean of its last
`baseline` values (3600 ticks, an hour), in units of the series' standard deviation over
the fitted ticks (floored at max(min_sd, rel_sd * |mean|): an error ratio that was 0
throughout has sd 0). One forest is fitted on the deviations of all series together (over
the fitted ticks, from their mean): so standardized, dosim's series (latencies that jitter
around their level, error ratios at exactly 0) look alike, and one model of "normal" serves
any number of series. The forest learns the shape of that normal spread, its skew and its
tails, and scores how easily a deviation is isolated from it.

The baseline follows slow change (ecommerce.yaml's daily cycle moves some latencies by five
fitted sds between night and afternoon: against a reference fixed at fit time that was 11
false alarms an hour) but learns only what the detector calls normal: a value that scores
above 1.0 (on either side) enters the baseline as the baseline's own mean. So an incident
never becomes the norm and its score stays up for as long as it lasts (a plain rolling mean
learns it, then flags the recovery: a latency that fell during an outage and comes back),
at a price: a jump of level that is not an incident (a new release, a larger load) and
lasts stays anomalous as long, since the baseline never learns it. A slow change is
learned; a sudden one is not.

Why one feature: with a second one, the change since the previous tick, a deviation
far outside the fitted range but with an ordinary change is isolated only by the splits on
the deviation (an isolation forest's known weakness with features that do not matter to a
point): it scored like a 98th-percentile fitted point, below the alert line, and an error
ratio of 100 % in region-outage.yaml went unseen. A change matters for a spike, and dosim's
alerts need the anomaly to last (`for:`) anyway.

Score: with s the forest's anomaly score (-score_samples: in (0, 1], about 0.3-0.5 for
ordinary deviations) and m its median over the fitted ticks, score = max(s - m, 0) / (q - m)
with q set per side: the 1 - `rate` quantile of s over the fitted deviations on that side,
but never above 99 % of the way from m to the score of deviations beyond everything fitted,
so that those always count. So 0 is a typical deviation and 1.0 the edge of the `rate` most
unusual fitted ones (on the bundled scenarios the cap decides: 1.0 lies just below the most
extreme fitted deviations). A forest saturates: every deviation beyond the fitted range
scores as the most extreme fitted one, however far beyond (about 1.01); it tells that a
value is outside, not how far. With `sign` 1 (the default) only values above their
baseline score.

Speed, and exactly sklearn's scores: score_samples costs about 25 ms per call (a Python
loop over the trees), far too slow for a call per tick. With one feature the forest's score
is a step function of the deviation, constant between consecutive split thresholds of all
its trees. fit() collects those thresholds (at most n_estimators x (max_samples - 1)),
scores one float32 value in each interval with score_samples in a single batch (fit takes
about 0.4 s), and step() finds each series' interval with np.searchsorted: some twenty
vectorized numpy ops for all series with the baseline's upkeep, about 30 us per tick for 22
series, and the very scores score_samples gives (fit() checks it on the fitted deviations:
`lookup_error_` is 0.0). Deterministic: the forest's random_state is `seed`, and nothing
else draws randomness.

Params (numbers; integral values arrive as int):
    baseline      ticks in the baseline's mean (3600)
    rate          fraction of the fitted deviations on each side that score above 1.0
                  (0.001)
    sign          1: only values above their baseline score; 0: both sides (1)
    n_estimators  trees in the forest (100)
    max_samples   values each tree is fitted on (256)
    seed          the forest's random_state (0)
    min_sd        absolute floor of each series' sd, in its unit (0.001)
    rel_sd        floor of each series' sd relative to |mean| (0.01)

In a scenario (module relative to the scenario):

    detectors:
      - name: iforest
        kind: python
        module: ../detectors/python/isolation_forest.py
        class: IsolationForestDetector
        metrics: [latency_p95_s, error_ratio]
        params: {fit_ticks: 600}
        for: 15s

In dosim bench (module relative to the working directory):

    dosim bench --detectors python:detectors/python/isolation_forest.py:IsolationForestDetector:fit_ticks=600
"""

import numpy as np
from sklearn.ensemble import IsolationForest


class IsolationForestDetector:
    def __init__(self, series, baseline=3600, rate=0.001, sign=1, n_estimators=100,
                 max_samples=256, seed=0, min_sd=0.001, rel_sd=0.01):
        if int(baseline) != baseline or baseline < 1:
            raise ValueError(f"baseline must be a whole number >= 1, got {baseline}")
        if not 0 < rate < 0.5:
            raise ValueError(f"rate must be in (0, 0.5), got {rate}")
        if sign not in (0, 1):
            raise ValueError(f"sign must be 1 (up) or 0 (both), got {sign}")
        if min_sd < 0 or rel_sd < 0:
            raise ValueError("min_sd and rel_sd must be >= 0")
        self.series = list(series)
        self.baseline = int(baseline)
        self.rate = float(rate)
        self.sign = int(sign)
        self.min_sd = float(min_sd)
        self.rel_sd = float(rel_sd)
        self.forest = IsolationForest(n_estimators=int(n_estimators),
                                      max_samples=int(max_samples), random_state=int(seed))
        self._fitted = False

    def fit(self, history):
        """Fits the forest on the first fit_ticks ticks, [ticks, series]."""
        values = np.asarray(history, dtype=np.float64)
        if not np.isfinite(values).all():  # a gap takes the series' previous value (or 0)
            values = _forward_fill(values)
        center = values.mean(axis=0)
        self._scale = np.maximum(values.std(axis=0),
                                 np.maximum(self.min_sd, self.rel_sd * np.abs(center)))
        fitted = ((values - center) / self._scale).reshape(-1, 1).astype(np.float32)
        if np.ptp(fitted) == 0:
            raise ValueError("every watched series was constant over the fitted ticks: there "
                             "is no normal spread to learn (watch a series that varies, such "
                             "as a latency, beside it)")
        self.forest.fit(fitted)

        # The step function: the intervals between the trees' thresholds (x <= t goes left;
        # sklearn compares the value as float32), one float32 value in each scored once.
        thresholds = np.unique(np.concatenate(
            [tree.tree_.threshold[tree.tree_.feature >= 0] for tree in self.forest.estimators_]))
        points = thresholds.astype(np.float32)
        points = np.where(points > thresholds, np.nextafter(points, np.float32(-np.inf)), points)
        points = np.append(points, np.nextafter(np.float32(thresholds[-1]), np.float32(np.inf)))
        self._thresholds = thresholds
        self._table = -self.forest.score_samples(points.reshape(-1, 1))

        s = -self.forest.score_samples(fitted)
        self.lookup_error_ = float(np.max(np.abs(self._lookup(fitted[:, 0]) - s)))
        self._median = float(np.median(s))
        # 1.0 per side of the median: at the 1 - rate quantile of that side's fitted scores,
        # but below the score of values beyond everything fitted, so that those always count.
        spans = []
        for side, beyond in ((fitted[:, 0] <= 0, self._table[0]),
                             (fitted[:, 0] > 0, self._table[-1])):
            edge = np.quantile(s[side], 1.0 - self.rate) if side.any() else beyond
            edge = min(edge, beyond - 0.01 * (beyond - self._median))
            spans.append(max(edge - self._median, 1e-9))
        self._span_below, self._span_above = spans
        # The baseline: a ring of the last `baseline` values, the fitted ticks first.
        kept = values[-self.baseline:]
        self._ring = np.zeros((self.baseline, values.shape[1]))
        self._ring[:len(kept)] = kept
        self._ring_sum = kept.sum(axis=0)
        self._count = len(kept)
        self._position = len(kept) % self.baseline
        self._last = values[-1].copy()
        self._fitted = True

    def step(self, t_ns, values):
        if not self._fitted:
            raise RuntimeError("IsolationForestDetector scores after fit(): set the detector's "
                               "fit_ticks (600 is a sensible default)")
        x = np.array(values, dtype=np.float64)  # a copy: the view is dosim's
        finite = np.isfinite(x)
        if not finite.all():
            x = np.where(finite, x, self._last)
        self._last = x
        mean = self._ring_sum / self._count
        level = (x - mean) / self._scale  # scored before x joins the baseline
        span = np.where(level > 0.0, self._span_above, self._span_below)
        scores = np.maximum(self._lookup(level) - self._median, 0.0) / span
        # The baseline learns what it calls normal only: an unusual value (either side)
        # enters it as the baseline's mean, so an incident does not become the norm.
        learned = np.where(scores > 1.0, mean, x)
        row = self._ring[self._position]
        if self._count == self.baseline:
            self._ring_sum -= row
        else:
            self._count += 1
        row[:] = learned
        self._ring_sum += learned
        self._position = (self._position + 1) % self.baseline
        if self._position == 0:  # once per ring: the sum afresh, no rounding drift
            self._ring_sum = self._ring[:self._count].sum(axis=0)
        if self.sign == 1:
            scores[level <= 0.0] = 0.0
        return scores

    def _lookup(self, level):
        as_float32 = np.asarray(level, dtype=np.float32).astype(np.float64)
        return self._table[np.searchsorted(self._thresholds, as_float32, side="left")]


def _forward_fill(values):
    """Each value that is not finite takes its series' previous finite value (or 0)."""
    values = values.copy()
    previous = np.zeros(values.shape[1])
    for row in values:
        bad = ~np.isfinite(row)
        row[bad] = previous[bad]
        previous = row
    return values
