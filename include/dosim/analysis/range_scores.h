// Range-based precision and recall (Tatbul, Lee, Zdonik, Alam, Gottschlich, "Precision and
// Recall for Time Series", NeurIPS 2018), computed as TimeEval computes them (through the
// `prts` package) with TimeEval's defaults. Pure functions; every formula is in
// docs/scoring.md, "Range-based precision and recall".
//
// Time points. A range is a closed interval [first, last] of integer time points on a unit
// grid, both ends included, so it holds last - first + 1 points (like a run of 1s in a
// point-label series, which is what TimeEval scores). Pass tick indices, not nanoseconds:
// position weights and overlap sizes count grid points, so a range in nanoseconds would be
// scored over nanosecond points (divide by the tick first).
//
// Inputs. Each set of ranges may arrive unsorted, overlapping or touching: it is first
// merged into maximal runs of points (ranges that overlap or are adjacent, next.first <=
// last + 1, become one), exactly as TimeEval's point labels would represent it. A range with
// first > last, an alpha outside [0, 1] or a beta <= 0 throws std::invalid_argument.
//
// Empty inputs take the vacuous values of analysis/scoring.h: precision = 1 with no
// predicted range, recall = 1 with no real range, F = 0 when precision + recall = 0. (prts
// itself fails on an all-zero label series.)
//
// Cost: O((n + m) log(n + m)) for n real and m predicted ranges (sorting, then one sweep;
// position weights have closed forms, exact integer sums over the points).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace dosim {

// A closed interval [first, last] of integer time points.
struct PointRange {
  std::int64_t first = 0;
  std::int64_t last = 0;

  friend bool operator==(const PointRange&, const PointRange&) = default;
};

// The cardinality factor gamma for a range that overlaps `count` > 1 ranges of the other set
// (with count <= 1 the factor is always 1).
enum class Cardinality {
  kOne,         // 1: fragmented detection is not penalised
  kReciprocal,  // 1 / count
  kUdfGamma,    // RangeScoreOptions::udf_gamma(count); 1 if unset (prts's default udf)
};

// The positional bias delta(i, L) of point i (1-based) inside a range of L points.
enum class Bias {
  kFlat,    // 1
  kFront,   // L - i + 1
  kMiddle,  // i if i <= L / 2, else L - i + 1
  kBack,    // i
};

// Defaults are TimeEval's RangePrecision and RangeRecall (timeeval/metrics/range_metrics.py,
// also DefaultMetrics.RANGE_PRECISION / RANGE_RECALL): alpha = 0, cardinality =
// "reciprocal", bias = "flat", the same for precision and recall. (prts's own defaults differ:
// cardinality "one".)
struct RangeScoreOptions {
  double alpha = 0.0;  // weight of the existence reward, in [0, 1]
  Cardinality cardinality = Cardinality::kReciprocal;
  Bias bias = Bias::kFlat;
  // For Cardinality::kUdfGamma: gamma(count) for count > 1 overlapping ranges.
  std::function<double(std::size_t)> udf_gamma;
};

// Defaults are TimeEval's RangeFScore (and DefaultMetrics.RANGE_F1 = RangeFScore(beta=1)):
// beta = 1, p_alpha = 0, r_alpha = 0.5, cardinality "reciprocal", p_bias = r_bias = "flat".
// Note r_alpha = 0.5 here while a lone RangeRecall defaults to alpha = 0, so the default
// F-score's recall is not range_recall()'s default. (TimeEval's RangeFScore passes p_bias for
// both biases, a bug; here each side uses its own options.)
struct RangeFScoreOptions {
  double beta = 1.0;  // > 0; beta > 1 favours recall
  RangeScoreOptions precision = {};
  RangeScoreOptions recall = {
      .alpha = 0.5, .cardinality = Cardinality::kReciprocal, .bias = Bias::kFlat, .udf_gamma = {}};
};

struct RangeScores {
  double precision = 1.0;
  double recall = 1.0;
  double f_score = 0.0;  // (1 + beta^2) P R / (beta^2 P + R); 0 when P + R = 0
};

// Sorts `ranges` and merges those that overlap or touch into maximal runs of points.
std::vector<PointRange> merge_ranges(std::vector<PointRange> ranges);

// The maximal runs of true values in a point-label series (index i is point i).
std::vector<PointRange> ranges_from_labels(const std::vector<bool>& labels);

// Mean over the real ranges R_i of
//   alpha * existence(R_i) + (1 - alpha) * gamma(R_i) * sum_j omega(R_i, R_i ∩ P_j, delta).
double range_recall(const std::vector<PointRange>& real, const std::vector<PointRange>& predicted,
                    const RangeScoreOptions& options = {});

// Mean over the predicted ranges P_j of
//   alpha * existence(P_j) + (1 - alpha) * gamma(P_j) * sum_i omega(P_j, P_j ∩ R_i, delta).
double range_precision(const std::vector<PointRange>& real,
                       const std::vector<PointRange>& predicted,
                       const RangeScoreOptions& options = {});

// Range precision, range recall and their F-beta score.
RangeScores range_f_score(const std::vector<PointRange>& real,
                          const std::vector<PointRange>& predicted,
                          const RangeFScoreOptions& options = {});

}  // namespace dosim
