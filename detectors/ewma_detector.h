// `ewma`: an exponentially weighted moving mean and variance per series, scored as
// |x - mean| / sqrt(variance) before the update (a rolling z-score). Parameters: `alpha`
// (default 0.05), `threshold` (default 4), `warmup` (ticks scored 0, default 30).
#pragma once

#include "dosim/detectors/detector.h"

namespace dosim {
std::unique_ptr<Detector> make_ewma_detector(DetectorParams& params, std::size_t series);
}
