#include "dosim/analysis/nab_score.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "dosim/error.h"

namespace dosim {
namespace {

// A window index for rows outside every window.
constexpr std::size_t kNoWindow = static_cast<std::size_t>(-1);

void check_windows(std::size_t rows, const std::vector<NabWindow>& windows,
                   const std::string& name) {
  const std::string where = name.empty() ? std::string("NAB file") : "NAB file " + name;
  for (std::size_t k = 0; k < windows.size(); ++k) {
    const NabWindow& window = windows[k];
    if (window.first_row > window.last_row)
      throw InputError("", where + ": window " + std::to_string(k) +
                                  " has first_row > last_row");
    if (window.last_row >= rows)
      throw InputError("", where + ": window " + std::to_string(k) + " ends at row " +
                                  std::to_string(window.last_row) + ", past the last row");
    if (k > 0 && window.first_row <= windows[k - 1].last_row)
      throw InputError("", where + ": window " + std::to_string(k) +
                                  " overlaps or precedes the window before it");
  }
}

void check_scores(const NabFile& file) {
  for (std::size_t i = 0; i < file.scores.size(); ++i)
    if (std::isnan(file.scores[i]))
      throw InputError("", "NAB file " + file.name + ": anomaly score of row " +
                                  std::to_string(i) + " is NaN");
}

// The window each row belongs to, kNoWindow outside windows (windows already checked).
std::vector<std::size_t> row_windows(std::size_t rows, const std::vector<NabWindow>& windows) {
  std::vector<std::size_t> result(rows, kNoWindow);
  for (std::size_t k = 0; k < windows.size(); ++k)
    for (std::size_t i = windows[k].first_row; i <= windows[k].last_row; ++i) result[i] = k;
  return result;
}

bool is_scored(std::size_t row, double probation) { return static_cast<double>(row) >= probation; }

// Neumaier's compensated running sum: the window parts of the sweep change by replacement
// many times, and a plain running total would drift.
class CompensatedSum {
 public:
  void add(double value) {
    const double total = sum_ + value;
    if (std::fabs(sum_) >= std::fabs(value))
      compensation_ += (sum_ - total) + value;
    else
      compensation_ += (value - total) + sum_;
    sum_ = total;
  }
  double value() const { return sum_ + compensation_; }

 private:
  double sum_ = 0.0;
  double compensation_ = 0.0;
};

NabCorpusScore finish_corpus(const std::vector<NabFile>& files, const NabProfile& profile,
                             double probation_percent, double threshold, double raw) {
  NabCorpusScore result;
  result.threshold = threshold;
  result.raw = raw;
  result.null_score = nab_null_score(files, profile, probation_percent);
  result.perfect_score = nab_perfect_score(files, profile);
  result.normalized = nab_normalized_score(raw, result.null_score, result.perfect_score);
  return result;
}

}  // namespace

std::vector<NabProfile> nab_default_profiles() {
  return {{"standard", 1.0, 0.11, 1.0},
          {"reward_low_FP_rate", 1.0, 0.22, 1.0},
          {"reward_low_FN_rate", 1.0, 0.11, 2.0}};
}

double nab_probationary_length(std::size_t rows, double probation_percent) {
  return std::min(std::floor(probation_percent * static_cast<double>(rows)),
                  probation_percent * 5000.0);
}

double nab_scaled_sigmoid(double relative_position) {
  if (relative_position > 3.0) return -1.0;
  const double sigmoid = 1.0 / (1.0 + std::exp(5.0 * relative_position));  // sigmoid(-5x)
  return 2.0 * sigmoid - 1.0;
}

std::vector<double> nab_row_weights(std::size_t rows, const std::vector<NabWindow>& windows,
                                    const NabProfile& profile) {
  check_windows(rows, windows, "");
  const double max_tp = nab_scaled_sigmoid(-1.0);
  std::vector<double> weights(rows, 0.0);
  std::size_t next = 0;  // the next window to enter
  bool in_window = false;
  std::size_t right = 0;  // the current window's last row
  double width = 0.0;     // the current window's row count
  bool has_previous = false;
  std::size_t previous_right = 0;
  double previous_width = 0.0;
  for (std::size_t i = 0; i < rows; ++i) {
    if (next < windows.size() && i == windows[next].first_row) {
      in_window = true;
      right = windows[next].last_row;
      width = static_cast<double>(right - windows[next].first_row + 1);
      ++next;
    }
    if (in_window) {
      const double position = -static_cast<double>(right - i + 1) / width;
      weights[i] = nab_scaled_sigmoid(position) * profile.tp_weight / max_tp;
    } else {
      double unweighted = -1.0;  // before the first window: as far as can be
      if (has_previous) {
        // A single-row window makes this +inf (NAB divides by zero): the weight is then -1.
        const double position = static_cast<double>(i - previous_right) / (previous_width - 1.0);
        unweighted = nab_scaled_sigmoid(position);
      }
      weights[i] = unweighted * profile.fp_weight;
    }
    if (in_window && i == right) {
      has_previous = true;
      previous_right = i;
      previous_width = width;
      in_window = false;
    }
  }
  return weights;
}

std::vector<NabWindow> nab_merge_windows(std::vector<NabWindow> windows) {
  for (const NabWindow& window : windows)
    if (window.first_row > window.last_row)
      throw InputError("", "NAB window with first_row > last_row");
  std::sort(windows.begin(), windows.end(), [](const NabWindow& a, const NabWindow& b) {
    return a.first_row != b.first_row ? a.first_row < b.first_row : a.last_row < b.last_row;
  });
  std::vector<NabWindow> merged;
  for (const NabWindow& window : windows) {
    if (!merged.empty() && window.first_row <= merged.back().last_row)
      merged.back().last_row = std::max(merged.back().last_row, window.last_row);
    else
      merged.push_back(window);
  }
  return merged;
}

NabFileScore nab_score_detections(std::size_t rows, const std::vector<NabWindow>& windows,
                                  const std::vector<bool>& detections, const NabProfile& profile,
                                  double probation_percent) {
  if (detections.size() != rows)
    throw InputError("", "NAB detections: " + std::to_string(detections.size()) +
                                " flags for " + std::to_string(rows) + " rows");
  const std::vector<double> weights = nab_row_weights(rows, windows, profile);
  const double probation = nab_probationary_length(rows, probation_percent);
  NabFileScore result;
  result.windows = windows.size();
  double fp_sum = 0.0;
  std::size_t next = 0;
  for (std::size_t i = 0; i < rows;) {
    if (next < windows.size() && i == windows[next].first_row) {
      const NabWindow& window = windows[next++];
      if (is_scored(window.last_row, probation)) {
        ++result.windows_scored;
        double part = -profile.fn_weight;
        bool detected = false;
        for (std::size_t j = window.first_row; j <= window.last_row; ++j) {
          if (!is_scored(j, probation)) continue;
          if (detections[j]) {
            ++result.tp;
            detected = true;
            part = std::max(part, weights[j]);
          } else {
            ++result.fn;
          }
        }
        if (detected) ++result.windows_detected;
        result.score += part;
      }
      i = window.last_row + 1;
      continue;
    }
    if (is_scored(i, probation)) {
      if (detections[i]) {
        ++result.fp;
        fp_sum += weights[i];
      } else {
        ++result.tn;
      }
    }
    ++i;
  }
  result.windows_missed = result.windows_scored - result.windows_detected;
  result.score += fp_sum;
  return result;
}

NabFileScore nab_score_detection_rows(std::size_t rows, const std::vector<NabWindow>& windows,
                                      const std::vector<std::size_t>& detection_rows,
                                      const NabProfile& profile, double probation_percent) {
  std::vector<bool> detections(rows, false);
  for (std::size_t row : detection_rows) {
    if (row >= rows)
      throw InputError("", "NAB detection at row " + std::to_string(row) + " of " +
                                  std::to_string(rows) + " rows");
    detections[row] = true;
  }
  return nab_score_detections(rows, windows, detections, profile, probation_percent);
}

NabFileScore nab_score_file(const NabFile& file, const NabProfile& profile, double threshold,
                            double probation_percent) {
  check_scores(file);
  const std::size_t rows = file.scores.size();
  check_windows(rows, file.windows, file.name);
  std::vector<bool> detections(rows, false);
  for (std::size_t i = 0; i < rows; ++i) detections[i] = file.scores[i] >= threshold;
  return nab_score_detections(rows, file.windows, detections, profile, probation_percent);
}

double nab_null_score(const std::vector<NabFile>& files, const NabProfile& profile,
                      double probation_percent) {
  double total = 0.0;
  for (const NabFile& file : files) {
    const std::size_t rows = file.scores.size();
    check_windows(rows, file.windows, file.name);
    const double probation = nab_probationary_length(rows, probation_percent);
    for (const NabWindow& window : file.windows)
      if (is_scored(window.last_row, probation)) total -= profile.fn_weight;
  }
  return total;
}

double nab_perfect_score(const std::vector<NabFile>& files, const NabProfile& profile) {
  std::size_t windows = 0;
  for (const NabFile& file : files) windows += file.windows.size();
  return static_cast<double>(windows) * profile.tp_weight;
}

double nab_normalized_score(double raw, double null_score, double perfect) {
  if (perfect == null_score) return 0.0;
  return 100.0 * (raw - null_score) / (perfect - null_score);
}

NabCorpusScore nab_combine_file_scores(std::vector<NabFileScore> files, const NabProfile& profile,
                                       double threshold) {
  NabCorpusScore result;
  result.threshold = threshold;
  NabFileScore& totals = result.totals;
  for (const NabFileScore& s : files) {
    totals.score += s.score;
    totals.tp += s.tp;
    totals.fp += s.fp;
    totals.fn += s.fn;
    totals.tn += s.tn;
    totals.windows += s.windows;
    totals.windows_scored += s.windows_scored;
    totals.windows_detected += s.windows_detected;
    totals.windows_missed += s.windows_missed;
  }
  result.raw = totals.score;
  result.null_score = -profile.fn_weight * static_cast<double>(totals.windows_scored);
  result.perfect_score = profile.tp_weight * static_cast<double>(totals.windows);
  result.normalized = nab_normalized_score(result.raw, result.null_score, result.perfect_score);
  result.files = std::move(files);
  return result;
}

NabCorpusScore nab_score_corpus(const std::vector<NabFile>& files, const NabProfile& profile,
                                double threshold, double probation_percent) {
  std::vector<NabFileScore> scores;
  scores.reserve(files.size());
  for (const NabFile& file : files)
    scores.push_back(nab_score_file(file, profile, threshold, probation_percent));
  return nab_combine_file_scores(std::move(scores), profile, threshold);
}

std::vector<NabThresholdScore> nab_scores_by_threshold(const std::vector<NabFile>& files,
                                                       const NabProfile& profile,
                                                       double probation_percent) {
  // NAB's AnomalyPoint for every scored row of the corpus.
  struct Point {
    double score;
    double weight;
    std::size_t window;  // index into window_parts, kNoWindow outside windows
  };
  std::vector<Point> points;
  std::vector<double> window_parts;  // each scored window's best so far, from -A_FN
  std::size_t tn = 0;
  std::size_t fn = 0;
  for (const NabFile& file : files) {
    check_scores(file);
    const std::size_t rows = file.scores.size();
    const std::vector<double> weights = nab_row_weights(rows, file.windows, profile);
    const std::vector<std::size_t> windows = row_windows(rows, file.windows);
    const double probation = nab_probationary_length(rows, probation_percent);
    std::vector<std::size_t> part_of(file.windows.size(), kNoWindow);
    for (std::size_t k = 0; k < file.windows.size(); ++k) {
      if (!is_scored(file.windows[k].last_row, probation)) continue;
      part_of[k] = window_parts.size();
      window_parts.push_back(-profile.fn_weight);
    }
    for (std::size_t i = 0; i < rows; ++i) {
      if (!is_scored(i, probation)) continue;
      const std::size_t window = windows[i] == kNoWindow ? kNoWindow : part_of[windows[i]];
      points.push_back({file.scores[i], weights[i], window});
      if (window == kNoWindow)
        ++tn;
      else
        ++fn;
    }
  }
  // Python's sorted(..., reverse=True) is stable: equal scores keep the corpus order.
  std::stable_sort(points.begin(), points.end(),
                   [](const Point& a, const Point& b) { return a.score > b.score; });

  CompensatedSum window_sum;
  for (double part : window_parts) window_sum.add(part);
  double fp_sum = 0.0;
  std::size_t tp = 0;
  std::size_t fp = 0;
  std::vector<bool> detected(window_parts.size(), false);
  std::size_t windows_detected = 0;
  std::vector<NabThresholdScore> result;
  double threshold = 1.1;  // above every score: no detection, every window a false negative
  auto record = [&] {
    result.push_back({threshold, fp_sum + window_sum.value(), tp, tn, fp, fn, window_parts.size(),
                      windows_detected});
  };
  for (const Point& point : points) {
    if (point.score != threshold) {
      record();
      threshold = point.score;
    }
    if (point.window == kNoWindow) {
      ++fp;
      --tn;
      fp_sum += point.weight;
    } else {
      ++tp;
      --fn;
      double& part = window_parts[point.window];
      if (!detected[point.window]) {
        detected[point.window] = true;
        ++windows_detected;
      }
      if (point.weight > part) {  // max(part, weight), as NAB keeps each window's best
        window_sum.add(-part);
        window_sum.add(point.weight);
        part = point.weight;
      }
    }
  }
  record();
  return result;
}

NabCorpusScore nab_optimize_threshold(const std::vector<NabFile>& files, const NabProfile& profile,
                                      double probation_percent) {
  const std::vector<NabThresholdScore> sweep =
      nab_scores_by_threshold(files, profile, probation_percent);
  const NabThresholdScore* best = &sweep.front();
  for (const NabThresholdScore& point : sweep)
    if (point.score > best->score) best = &point;
  NabCorpusScore result =
      finish_corpus(files, profile, probation_percent, best->threshold, best->score);
  result.totals.score = best->score;
  result.totals.tp = best->tp;
  result.totals.fp = best->fp;
  result.totals.fn = best->fn;
  result.totals.tn = best->tn;
  for (const NabFile& file : files) result.totals.windows += file.windows.size();
  result.totals.windows_scored = best->windows_scored;
  result.totals.windows_detected = best->windows_detected;
  result.totals.windows_missed = best->windows_scored - best->windows_detected;
  return result;
}

}  // namespace dosim
