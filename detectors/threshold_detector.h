// `threshold`: a static threshold on the value itself (the DOS seed's cpu_ratio > 0.8,
// error_ratio > 0.1). Parameters: `above` (required; the value is anomalous above it).
// The score is the value, the limit is `above`.
#pragma once

#include "dosim/detectors/detector.h"

namespace dosim {
std::unique_ptr<Detector> make_threshold_detector(DetectorParams& params, std::size_t series);
}
