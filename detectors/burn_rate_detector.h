// `burn_rate`: multi-window, multi-burn-rate SLO alerting on an error ratio (the SRE
// workbook's chapter 5). With an objective of 99.9 %, the error budget is 0.1 %, and the
// burn rate over a window is the mean error ratio over it divided by the budget. The score
// is max(min(B_long_fast, B_short_fast) / rate_fast, min(B_long_slow, B_short_slow) /
// rate_slow): above 1 when a fast pair (14.4x over 1 h and 5 m) or a slow pair (6x over 6 h
// and 30 m) both burn too fast. Windows not yet full average what they have.
// Parameters: `objective` (percent, 99.9), `long_fast` (s, 3600), `short_fast` (300),
// `rate_fast` (14.4), `long_slow` (21600), `short_slow` (1800), `rate_slow` (6).
#pragma once

#include "dosim/detectors/detector.h"

namespace dosim {
std::unique_ptr<Detector> make_burn_rate_detector(DetectorParams& params, std::size_t series);
}
