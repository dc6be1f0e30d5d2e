// `regression`: the monitor of the AIOps Lab 7. For each caller -> callee pair it predicts
// the edge's latency from its request rate with a straight line fitted on a training span,
// and scores how far the observed latency is from the prediction, in residual standard
// deviations.
//
// It watches two metrics of the same edges, the rate first: `metrics: [rps,
// latency_p95_s]` (so its series are the E rates, then the E latencies). During the first
// `training` seconds it scores 0 and fits, per edge, y = a + b x by least squares and the
// residuals' standard deviation s (at least `min_sd`). Afterwards the score of both of an
// edge's series is |y - (a + b x)| / s; the lab's band is y_min, y_max = prediction -/+
// `threshold` x s, and the edge is anomalous outside it. Parameters: `training` (s, 300),
// `threshold` (3), `min_sd` (s, 0.001), `window` (s, 10).
//
// It publishes the lab's gauges per edge (Detector::read_gauges, named
// `<caller>_to_<callee>_<kind>` in the trace): `y` (the observed latency), `y_min` and
// `y_max` (the band at this tick's prediction), and over the last `window` seconds after
// training: `mae` (mean |y - prediction|), `mape` (mean |y - prediction| / |y| x 100, a term
// being 0 where y = 0) and `anomaly_count` (ticks outside the band). All but `y` are 0
// during training.
#pragma once

#include "dosim/detectors/detector.h"

namespace dosim {
std::unique_ptr<Detector> make_regression_detector(DetectorParams& params, std::size_t series);
}
