// `surprise`: how unlikely the recent values of a series are given its long history, on three
// views at once, for series with daily cycles, level shifts and new extremes (built for real
// data such as NAB's; docs/detectors.md, "surprise").
//
// Per series and tick, prequential (scored before it learns the value):
//   - level: |x - m| with m an exponentially weighted mean over about `window` ticks;
//   - phase: |s - b[phase]| with s the value smoothed over `smooth` ticks and b[phase] the
//     smoothed value at the same phase of the `period` (a day by default) in earlier periods,
//     kept per phase bin (`bins` bins, an EWMA over about `periods` periods);
//   - each error e, divided by the range the series has had so far, is averaged over about
//     `average` ticks (EWMA) and scored as HTM's anomaly likelihood scores it: L = the normal
//     CDF of (a - mean) / sd of the averaged error over about `history` ticks (mean at least
//     0, variance at least 3e-4), reported as log(1 - L + 1e-10) / log(1e-10) in [0, 1];
//     with `clip` > 0 the history learns an average at most `clip` deviations from its mean;
//   - novelty: 1 when x leaves the range seen so far by more than `tolerance` x that range
//     (HTM's spatial anomaly).
// The score is the largest of the three, 0 during the first `warmup` ticks; it is anomalous above
// `threshold`. Every EWMA is the plain mean until it has seen about its span, so
// that it starts unbiased. The kind's `rest` defaults to 100 ticks (resting_detector.h: one
// alert per excursion). Directions: up or down keeps the errors and novelty on that side.
// Structure of arrays across series; the phase bin is the same for every series of a tick.
#pragma once

#include "dosim/detectors/detector.h"

namespace dosim {
std::unique_ptr<Detector> make_surprise_detector(DetectorParams& params, std::size_t series);
}
