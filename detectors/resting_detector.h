// `rest`, a parameter of every kind but python: one alert per excursion. After a tick whose
// score is above the detector's limit (as the runner compares: float32, strictly above), the
// series' scores are reported as 0 for the next `rest` ticks, and every further tick above
// the limit starts the count again; the
// excursion's first tick keeps its score. This is what grouping consecutive anomalies into one
// incident does for a detector scored per tick (NAB charges each alerting row outside a
// window; contextOSE's rest period). The inner detector still learns every value.
#pragma once

#include <cstdint>
#include <memory>

#include "dosim/detectors/detector.h"

namespace dosim {
// REQUIRES: inner != nullptr, rest > 0.
std::unique_ptr<Detector> make_resting_detector(std::unique_ptr<Detector> inner, std::size_t series,
                                                std::int64_t rest);
}  // namespace dosim
