// `mad`: the modified z-score |0.6745 (x - median) / MAD| over a sliding window of each
// series (detectors/mad_kernel.h: exact median and MAD, SIMD). Parameters: `window`
// (default 64, 3..256), `threshold` (default 3.5, the MAD seed's), `meanad` (0 or 1,
// default 0): 1 scores (x - median) / (1.253314 MeanAD) where the window's MAD is 0
// (Iglewicz and Hoaglin's fallback) instead of +-1e9, for series that often repeat a value.
#pragma once

#include "dosim/detectors/detector.h"

namespace dosim {
std::unique_ptr<Detector> make_mad_detector(DetectorParams& params, std::size_t series);
}
