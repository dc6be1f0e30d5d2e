// Detectors over recorded series, row by row: the replay half of the detector interface.
//
// score_series() makes one detector of spec.kind (make_detector, so with the same parameters,
// defaults and checks as in a scenario) for a single series and steps it once per row, as
// DetectorRunner steps it once per tick: prequential, each row scored before the detector
// learns it. `step` is the series' time step, the tick of detectors that think in durations.
// alert_rows() applies DetectorRunner's alert rule to such scores: a row is anomalous when
// its score exceeds the limit; an alert fires at the row where a run of anomalous rows grows
// longer than `for_rows` (at once when 0), once per run. Same input, same output, on any
// thread. Throws InputError for an unknown kind or bad parameters (messages name `file`).
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dosim/detectors/detector.h"

namespace dosim {

struct SeriesScores {
  std::vector<float> scores;  // one per row
  double limit = 0.0;         // the detector's: scores above it are anomalous
};

SeriesScores score_series(const DetectorSpec& spec, std::span<const float> values, SimTime step,
                          const std::string& file);

// The rows where alerts fire (ascending).
std::vector<std::size_t> alert_rows(std::span<const float> scores, double limit,
                                    std::int64_t for_rows = 0);

}  // namespace dosim
