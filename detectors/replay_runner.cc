#include "detectors/replay_runner.h"

namespace dosim {

SeriesScores score_series(const DetectorSpec& spec, std::span<const float> values, SimTime step,
                          const std::string& file) {
  const std::unique_ptr<Detector> detector = make_detector(spec, 1, file, step);
  SeriesScores result;
  result.limit = detector->limit();
  result.scores.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    detector->step(values.subspan(i, 1), std::span<float>(result.scores).subspan(i, 1));
  return result;
}

std::vector<std::size_t> alert_rows(std::span<const float> scores, double limit,
                                    std::int64_t for_rows) {
  std::vector<std::size_t> rows;
  std::int64_t anomalous_for = 0;
  bool alerted = false;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!(scores[i] > limit)) {
      anomalous_for = 0;
      alerted = false;
      continue;
    }
    ++anomalous_for;
    if (!alerted && anomalous_for > for_rows) {
      alerted = true;
      rows.push_back(i);
    }
  }
  return rows;
}

}  // namespace dosim
