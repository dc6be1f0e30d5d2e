// Range-based precision and recall: see range_scores.h and docs/scoring.md.
#include "dosim/analysis/range_scores.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace dosim {

namespace {

// Position sums reach ~2^127 for a range spanning all of int64; __extension__ keeps
// -Wpedantic quiet about the GCC/Clang built-in type.
__extension__ typedef unsigned __int128 Wide;
__extension__ typedef __int128 SignedWide;

// Number of points in [first, last] (first <= last), up to 2^64.
Wide point_count(const PointRange& range) {
  return static_cast<Wide>(static_cast<SignedWide>(range.last) -
                           static_cast<SignedWide>(range.first) + 1);
}

// lo + (lo + 1) + ... + hi for 1 <= lo <= hi <= 2^64. Of (lo + hi) and (hi - lo + 1) exactly
// one is even (their sum is odd); halving it first keeps the product below 2^128.
Wide sum_of_positions(Wide lo, Wide hi) {
  Wide a = lo + hi;
  Wide b = hi - lo + 1;
  if (a % 2 == 0) {
    a /= 2;
  } else {
    b /= 2;
  }
  return a * b;
}

// Sum of delta(i, length) over positions i in [lo, hi], 1 <= lo <= hi <= length.
Wide bias_weight(Bias bias, Wide length, Wide lo, Wide hi) {
  switch (bias) {
    case Bias::kFlat:
      return hi - lo + 1;
    case Bias::kBack:  // delta = i
      return sum_of_positions(lo, hi);
    case Bias::kFront:  // delta = L - i + 1: the positions counted from the back
      return sum_of_positions(length + 1 - hi, length + 1 - lo);
    case Bias::kMiddle: {
      // delta = i for i <= L / 2 (i <= floor(L / 2)), else L - i + 1.
      const Wide half = length / 2;
      Wide total = 0;
      if (lo <= half) total += sum_of_positions(lo, std::min(hi, half));
      if (hi > half) {
        const Wide from = std::max(lo, half + 1);
        total += sum_of_positions(length + 1 - hi, length + 1 - from);
      }
      return total;
    }
  }
  return 0;
}

// omega(range, overlap, delta): the bias weight of the overlap's points over that of all the
// range's points. `overlap` lies inside `range`.
double omega(const PointRange& range, const PointRange& overlap, Bias bias) {
  const Wide length = point_count(range);
  const auto position = [&](std::int64_t t) {
    return static_cast<Wide>(static_cast<SignedWide>(t) - static_cast<SignedWide>(range.first) + 1);
  };
  const Wide mine = bias_weight(bias, length, position(overlap.first), position(overlap.last));
  const Wide all = bias_weight(bias, length, 1, length);  // >= 1 for every bias
  return static_cast<double>(mine) / static_cast<double>(all);
}

double cardinality_factor(std::size_t count, const RangeScoreOptions& options) {
  if (count <= 1) return 1.0;
  switch (options.cardinality) {
    case Cardinality::kOne:
      return 1.0;
    case Cardinality::kReciprocal:
      return 1.0 / static_cast<double>(count);
    case Cardinality::kUdfGamma:
      return options.udf_gamma ? options.udf_gamma(count) : 1.0;
  }
  return 1.0;
}

void check_options(const RangeScoreOptions& options) {
  if (!(options.alpha >= 0.0 && options.alpha <= 1.0))
    throw std::invalid_argument("range scores: alpha must be in [0, 1]");
}

// Mean over `scored` (merged) of alpha * existence + (1 - alpha) * gamma * sum of omega
// against `other` (merged). Both are sorted and disjoint, so the ranges of `other` that
// overlap one scored range are consecutive and one sweep finds them all: O(n + m).
double mean_range_score(const std::vector<PointRange>& scored, const std::vector<PointRange>& other,
                        const RangeScoreOptions& options) {
  double total = 0.0;
  std::size_t next = 0;  // first range of `other` that may still overlap
  for (const PointRange& range : scored) {
    while (next < other.size() && other[next].last < range.first) ++next;
    double omega_sum = 0.0;
    std::size_t count = 0;
    for (std::size_t k = next; k < other.size() && other[k].first <= range.last; ++k) {
      const PointRange overlap{std::max(range.first, other[k].first),
                               std::min(range.last, other[k].last)};
      omega_sum += omega(range, overlap, options.bias);
      ++count;
    }
    const double existence = count > 0 ? 1.0 : 0.0;
    const double overlap_reward = cardinality_factor(count, options) * omega_sum;
    total += options.alpha * existence + (1.0 - options.alpha) * overlap_reward;
  }
  return total / static_cast<double>(scored.size());
}

}  // namespace

std::vector<PointRange> merge_ranges(std::vector<PointRange> ranges) {
  for (const PointRange& range : ranges) {
    if (range.first > range.last)
      throw std::invalid_argument("range scores: a range has first > last");
  }
  std::sort(ranges.begin(), ranges.end(), [](const PointRange& a, const PointRange& b) {
    return a.first != b.first ? a.first < b.first : a.last < b.last;
  });
  std::vector<PointRange> merged;
  for (const PointRange& range : ranges) {
    // Overlapping or adjacent (no point between them): one run of points.
    if (!merged.empty() &&
        static_cast<SignedWide>(range.first) <= static_cast<SignedWide>(merged.back().last) + 1) {
      merged.back().last = std::max(merged.back().last, range.last);
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

std::vector<PointRange> ranges_from_labels(const std::vector<bool>& labels) {
  std::vector<PointRange> ranges;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!labels[i]) continue;
    const auto point = static_cast<std::int64_t>(i);
    if (!ranges.empty() && ranges.back().last + 1 == point) {
      ranges.back().last = point;
    } else {
      ranges.push_back({point, point});
    }
  }
  return ranges;
}

double range_recall(const std::vector<PointRange>& real, const std::vector<PointRange>& predicted,
                    const RangeScoreOptions& options) {
  check_options(options);
  const std::vector<PointRange> real_runs = merge_ranges(real);
  const std::vector<PointRange> predicted_runs = merge_ranges(predicted);
  if (real_runs.empty()) return 1.0;  // nothing to miss
  return mean_range_score(real_runs, predicted_runs, options);
}

double range_precision(const std::vector<PointRange>& real,
                       const std::vector<PointRange>& predicted, const RangeScoreOptions& options) {
  check_options(options);
  const std::vector<PointRange> real_runs = merge_ranges(real);
  const std::vector<PointRange> predicted_runs = merge_ranges(predicted);
  if (predicted_runs.empty()) return 1.0;  // no false alarm raised
  return mean_range_score(predicted_runs, real_runs, options);
}

RangeScores range_f_score(const std::vector<PointRange>& real,
                          const std::vector<PointRange>& predicted,
                          const RangeFScoreOptions& options) {
  if (!(options.beta > 0.0)) throw std::invalid_argument("range scores: beta must be > 0");
  RangeScores scores;
  scores.precision = range_precision(real, predicted, options.precision);
  scores.recall = range_recall(real, predicted, options.recall);
  const double p = scores.precision;
  const double r = scores.recall;
  const double beta2 = options.beta * options.beta;
  scores.f_score = p + r > 0.0 ? (1.0 + beta2) * p * r / (beta2 * p + r) : 0.0;
  return scores;
}

}  // namespace dosim
