// `rest`, a parameter of every kind but python: one alert, then quiet. When a series' score
// is above the detector's limit (as the runner compares: float32, strictly above) and the
// series is not resting, the score is reported and the series rests: its scores are
// reported as 0 for the next `rest` ticks, whatever they are; then it is scored as before.
// A long excursion is thus reported once every `rest` + 1 ticks. This is what grouping
// consecutive anomalies into one incident does for a detector scored per tick (NAB charges
// each alerting row outside a window; contextOSE's rest period). The inner detector still
// learns every value.
#pragma once

#include <cstdint>
#include <memory>

#include "dosim/detectors/detector.h"

namespace dosim {
// REQUIRES: inner != nullptr, rest > 0.
std::unique_ptr<Detector> make_resting_detector(std::unique_ptr<Detector> inner, std::size_t series,
                                                std::int64_t rest);
}  // namespace dosim
