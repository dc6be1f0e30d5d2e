// `mad`: the modified z-score |0.6745 (x - median) / MAD| over a sliding window of each
// series (detectors/mad_kernel.h: exact median and MAD, SIMD). Parameters: `window`
// (default 64, 3..256), `threshold` (default 3.5, the MAD seed's).
#pragma once

#include "detectors/detector.h"

namespace dosim {
std::unique_ptr<Detector> make_mad_detector(DetectorParams& params, std::size_t series);
}
