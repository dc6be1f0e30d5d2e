// Range-based precision and recall (Tatbul et al., NeurIPS 2018, as TimeEval computes them)
// against hand-computed values: perfect and disjoint predictions, partial overlap under each
// positional bias, the cardinality factor, the existence reward, merging, empty inputs,
// TimeEval's and prts's published examples, exactness at the ends of int64, and the sweep
// against a point-by-point transcription of prts's loops.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "dosim/analysis/range_scores.h"

using dosim::Bias;
using dosim::Cardinality;
using dosim::PointRange;
using dosim::range_f_score;
using dosim::range_precision;
using dosim::range_recall;
using dosim::RangeFScoreOptions;
using dosim::RangeScoreOptions;

namespace {

RangeScoreOptions with_bias(Bias bias) {
  RangeScoreOptions options;
  options.bias = bias;
  return options;
}

RangeScoreOptions with_alpha(double alpha) {
  RangeScoreOptions options;
  options.alpha = alpha;
  return options;
}

RangeScoreOptions with_cardinality(Cardinality cardinality) {
  RangeScoreOptions options;
  options.cardinality = cardinality;
  return options;
}

// The shared partial-overlap case: real [0, 9] (10 points), predicted [6, 11] (6 points),
// overlap [6, 9] (4 points): positions 7..10 of the real range, 1..4 of the predicted one.
const std::vector<PointRange> kReal = {{0, 9}};
const std::vector<PointRange> kPredicted = {{6, 11}};

}  // namespace

TEST_CASE("Range scores use TimeEval's defaults", "[range]") {
  const RangeScoreOptions options;
  REQUIRE(options.alpha == 0.0);
  REQUIRE(options.cardinality == Cardinality::kReciprocal);
  REQUIRE(options.bias == Bias::kFlat);
  const RangeFScoreOptions f;
  REQUIRE(f.beta == 1.0);
  REQUIRE(f.precision.alpha == 0.0);
  REQUIRE(f.recall.alpha == 0.5);
  REQUIRE(f.precision.cardinality == Cardinality::kReciprocal);
  REQUIRE(f.recall.cardinality == Cardinality::kReciprocal);
  REQUIRE(f.precision.bias == Bias::kFlat);
  REQUIRE(f.recall.bias == Bias::kFlat);
}

TEST_CASE("Range scores of a perfect prediction are 1", "[range]") {
  const std::vector<PointRange> ranges = {{10, 19}, {40, 40}};
  for (Bias bias : {Bias::kFlat, Bias::kFront, Bias::kMiddle, Bias::kBack}) {
    REQUIRE(range_precision(ranges, ranges, with_bias(bias)) == Approx(1.0));
    REQUIRE(range_recall(ranges, ranges, with_bias(bias)) == Approx(1.0));
  }
  const auto scores = range_f_score(ranges, ranges);
  REQUIRE(scores.precision == Approx(1.0));
  REQUIRE(scores.recall == Approx(1.0));
  REQUIRE(scores.f_score == Approx(1.0));
}

TEST_CASE("Range scores of disjoint ranges are 0, even adjacent ones", "[range]") {
  // Real [0, 4], predicted [5, 9]: no common point (adjacency across the sets is no overlap).
  const std::vector<PointRange> real = {{0, 4}};
  const std::vector<PointRange> predicted = {{5, 9}};
  REQUIRE(range_precision(real, predicted) == 0.0);
  REQUIRE(range_recall(real, predicted) == 0.0);
  // No overlap, no existence reward either: alpha does not help.
  REQUIRE(range_recall(real, predicted, with_alpha(1.0)) == 0.0);
  const auto scores = range_f_score(real, predicted);
  REQUIRE(scores.f_score == 0.0);
}

TEST_CASE("Range scores of a partial overlap under flat bias", "[range]") {
  // Recall: 4 of the real range's 10 points = 0.4. Precision: 4 of 6 predicted points = 2/3.
  REQUIRE(range_recall(kReal, kPredicted) == Approx(0.4));
  REQUIRE(range_precision(kReal, kPredicted) == Approx(2.0 / 3.0));
  // F1 with both alphas 0: 2 (2/5)(2/3) / (2/5 + 2/3) = (8/15) / (16/15) = 0.5.
  RangeFScoreOptions f;
  f.recall.alpha = 0.0;
  REQUIRE(range_f_score(kReal, kPredicted, f).f_score == Approx(0.5));
  // TimeEval's RangeFScore default r_alpha = 0.5: R = 0.5 * 1 + 0.5 * 0.4 = 0.7, P = 2/3,
  // F1 = 2 (7/10)(2/3) / (7/10 + 2/3) = (14/15) / (41/30) = 28/41.
  const auto defaults = range_f_score(kReal, kPredicted);
  REQUIRE(defaults.recall == Approx(0.7));
  REQUIRE(defaults.precision == Approx(2.0 / 3.0));
  REQUIRE(defaults.f_score == Approx(28.0 / 41.0));
  // F2 with both alphas 0: 5 (2/5)(2/3) / (4 (2/3) + 2/5) = (4/3) / (46/15) = 10/23.
  f.beta = 2.0;
  REQUIRE(range_f_score(kReal, kPredicted, f).f_score == Approx(10.0 / 23.0));
}

TEST_CASE("Range scores of a partial overlap under front, back and middle bias", "[range]") {
  // Recall, real range L = 10, overlap at positions 7..10; sum of all weights:
  //   front/back: 1 + ... + 10 = 55; middle (i <= 5: i, else 11 - i): 15 + 15 = 30.
  //   front (11 - i): 4 + 3 + 2 + 1 = 10 -> 10/55 = 2/11
  //   back (i): 7 + 8 + 9 + 10 = 34 -> 34/55
  //   middle (11 - i for i > 5): 4 + 3 + 2 + 1 = 10 -> 10/30 = 1/3
  REQUIRE(range_recall(kReal, kPredicted, with_bias(Bias::kFront)) == Approx(2.0 / 11.0));
  REQUIRE(range_recall(kReal, kPredicted, with_bias(Bias::kBack)) == Approx(34.0 / 55.0));
  REQUIRE(range_recall(kReal, kPredicted, with_bias(Bias::kMiddle)) == Approx(1.0 / 3.0));
  // Precision, predicted range L = 6, overlap at positions 1..4; sum of all weights:
  //   front/back: 21; middle (i <= 3: i, else 7 - i): 1 + 2 + 3 + 3 + 2 + 1 = 12.
  //   front (7 - i): 6 + 5 + 4 + 3 = 18 -> 18/21 = 6/7
  //   back (i): 1 + 2 + 3 + 4 = 10 -> 10/21
  //   middle: 1 + 2 + 3 + 3 = 9 -> 9/12 = 3/4
  REQUIRE(range_precision(kReal, kPredicted, with_bias(Bias::kFront)) == Approx(6.0 / 7.0));
  REQUIRE(range_precision(kReal, kPredicted, with_bias(Bias::kBack)) == Approx(10.0 / 21.0));
  REQUIRE(range_precision(kReal, kPredicted, with_bias(Bias::kMiddle)) == Approx(0.75));
}

TEST_CASE("Middle bias splits at L / 2", "[range]") {
  // Even L = 10, one point at position 6: 6 > 10 / 2, so delta = 10 - 6 + 1 = 5 (not 6);
  // all weights 1+2+3+4+5 + 5+4+3+2+1 = 30 -> 5/30 = 1/6.
  REQUIRE(range_recall({{0, 9}}, {{5, 5}}, with_bias(Bias::kMiddle)) == Approx(1.0 / 6.0));
  // Odd L = 5: weights 1, 2, 3, 2, 1 (sum 9); the middle point 3 -> 3/9 = 1/3.
  REQUIRE(range_recall({{0, 4}}, {{2, 2}}, with_bias(Bias::kMiddle)) == Approx(1.0 / 3.0));
  // A single point: weight 1 of 1.
  REQUIRE(range_recall({{7, 7}}, {{7, 7}}, with_bias(Bias::kMiddle)) == Approx(1.0));
}

TEST_CASE("The cardinality factor scales a range detected in fragments", "[range]") {
  // Real [0, 9] met by two predictions [0, 1] and [5, 9]: omega = 2/10 + 5/10 = 0.7.
  const std::vector<PointRange> real = {{0, 9}};
  const std::vector<PointRange> predicted = {{0, 1}, {5, 9}};
  REQUIRE(range_recall(real, predicted) == Approx(0.35));  // reciprocal: 0.7 / 2
  REQUIRE(range_recall(real, predicted, with_cardinality(Cardinality::kOne)) == Approx(0.7));
  RangeScoreOptions udf = with_cardinality(Cardinality::kUdfGamma);
  REQUIRE(range_recall(real, predicted, udf) == Approx(0.7));  // unset: gamma = 1, like prts
  udf.udf_gamma = [](std::size_t count) { return 1.0 / static_cast<double>(count * count); };
  REQUIRE(range_recall(real, predicted, udf) == Approx(0.175));  // 0.7 / 2^2
  // Each prediction lies inside the one real range: precision (1 + 1) / 2 = 1.
  REQUIRE(range_precision(real, predicted) == Approx(1.0));

  // One prediction [0, 9] over two real ranges [0, 3] and [6, 9]: omega = 4/10 + 4/10 = 0.8,
  // reciprocal 0.8 / 2 = 0.4; each real range is wholly covered by one prediction: recall 1.
  const std::vector<PointRange> two_real = {{0, 3}, {6, 9}};
  const std::vector<PointRange> one_predicted = {{0, 9}};
  REQUIRE(range_precision(two_real, one_predicted) == Approx(0.4));
  REQUIRE(range_precision(two_real, one_predicted, with_cardinality(Cardinality::kOne)) ==
          Approx(0.8));
  REQUIRE(range_recall(two_real, one_predicted) == Approx(1.0));
}

TEST_CASE("The existence reward alone with alpha = 1", "[range]") {
  // Real [0, 9] touched at one point by [9, 9]; real [20, 29] missed.
  const std::vector<PointRange> real = {{0, 9}, {20, 29}};
  const std::vector<PointRange> predicted = {{9, 9}, {40, 41}};
  REQUIRE(range_recall(real, predicted, with_alpha(1.0)) == Approx(0.5));  // (1 + 0) / 2
  // alpha = 0.5: ((0.5 * 1 + 0.5 * 1/10) + 0) / 2 = 0.275; alpha = 0: (0.1 + 0) / 2 = 0.05.
  REQUIRE(range_recall(real, predicted, with_alpha(0.5)) == Approx(0.275));
  REQUIRE(range_recall(real, predicted, with_alpha(0.0)) == Approx(0.05));
  // Precision: [9, 9] overlaps, [40, 41] does not: alpha = 1 gives (1 + 0) / 2 = 0.5;
  // alpha = 0 gives the same here since [9, 9] is wholly inside real [0, 9].
  REQUIRE(range_precision(real, predicted, with_alpha(1.0)) == Approx(0.5));
  REQUIRE(range_precision({{0, 9}}, {{8, 11}}, with_alpha(1.0)) == Approx(1.0));
  REQUIRE(range_precision({{0, 9}}, {{8, 11}}, with_alpha(0.0)) == Approx(0.5));  // 2 of 4
}

TEST_CASE("Range scores merge overlapping and touching ranges of one set", "[range]") {
  REQUIRE(dosim::merge_ranges({{5, 9}, {0, 6}, {12, 12}, {10, 11}, {20, 25}, {21, 22}}) ==
          std::vector<PointRange>{{0, 12}, {20, 25}});
  // Unsorted, overlapping and touching predictions form the single run [0, 9]: recall 1 (not
  // the 0.5 a fragment count of 2 or 3 would give), precision 1.
  const std::vector<PointRange> predicted = {{5, 9}, {0, 4}, {2, 3}};
  REQUIRE(range_recall({{0, 9}}, predicted) == Approx(1.0));
  REQUIRE(range_precision({{0, 9}}, predicted) == Approx(1.0));
  // A duplicated real range counts once: precision of [0, 9] against {[0, 4], [0, 4]} is 0.5.
  REQUIRE(range_precision({{0, 4}, {0, 4}}, {{0, 9}}) == Approx(0.5));
  REQUIRE(dosim::ranges_from_labels({false, true, true, false, true, false, true, true}) ==
          std::vector<PointRange>{{1, 2}, {4, 4}, {6, 7}});
  REQUIRE(dosim::ranges_from_labels({}).empty());
}

TEST_CASE("Range scores of empty inputs take the vacuous values", "[range]") {
  const std::vector<PointRange> none;
  const std::vector<PointRange> some = {{0, 9}};
  // No prediction: nothing raised falsely (P = 1), everything missed (R = 0), F = 0.
  auto scores = range_f_score(some, none);
  REQUIRE(scores.precision == 1.0);
  REQUIRE(scores.recall == 0.0);
  REQUIRE(scores.f_score == 0.0);
  // No real range: nothing to miss (R = 1), every prediction false (P = 0), F = 0.
  scores = range_f_score(none, some);
  REQUIRE(scores.precision == 0.0);
  REQUIRE(scores.recall == 1.0);
  REQUIRE(scores.f_score == 0.0);
  // Quiet on a quiet run: 1, 1, 1.
  scores = range_f_score(none, none);
  REQUIRE(scores.precision == 1.0);
  REQUIRE(scores.recall == 1.0);
  REQUIRE(scores.f_score == 1.0);
}

TEST_CASE("Range scores match TimeEval's and prts's published examples", "[range]") {
  // TimeEval tests/metrics/test_metrics.py: y_true = [0, 1, 0, 0], y_pred = [0, 1, 1, 0];
  // RANGE_PRECISION = 0.5 (1 of 2 predicted points), RANGE_RECALL = 1,
  // RANGE_F1 = 0.66666 (2 * 0.5 * 1 / 1.5).
  const auto real = dosim::ranges_from_labels({false, true, false, false});
  const auto predicted = dosim::ranges_from_labels({false, true, true, false});
  REQUIRE(range_precision(real, predicted) == 0.5);
  REQUIRE(range_recall(real, predicted) == 1.0);
  REQUIRE(range_f_score(real, predicted).f_score == Approx(2.0 / 3.0));
  // prts tests: real [1, 1, 0, 0, 0] with pred [0, 1, 0, 0, 0] -> precision 1, with
  // pred [0, 0, 1, 1, 1] -> precision 0; pred [1, 1, 1, 1, 0] -> recall 1.
  const auto prts_real = dosim::ranges_from_labels({true, true, false, false, false});
  REQUIRE(range_precision(prts_real,
                          dosim::ranges_from_labels({false, true, false, false, false})) == 1.0);
  REQUIRE(range_precision(prts_real, dosim::ranges_from_labels({false, false, true, true, true})) ==
          0.0);
  REQUIRE(range_recall(prts_real, dosim::ranges_from_labels({true, true, true, true, false})) ==
          1.0);
  // aeon's range-metric tests (gamma "one", flat, alpha 0): pred [1, 4], real [2, 6]:
  // precision 3/4, recall 3/5, F1 0.666667.
  const auto one = with_cardinality(Cardinality::kOne);
  REQUIRE(range_precision({{2, 6}}, {{1, 4}}, one) == Approx(0.75));
  REQUIRE(range_recall({{2, 6}}, {{1, 4}}, one) == Approx(0.6));
}

TEST_CASE("Range scores stay exact at the ends of int64", "[range]") {
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  const std::vector<PointRange> all = {{kMin, kMax}};  // 2^64 points
  const std::vector<PointRange> upper = {{0, kMax}};   // its last 2^63
  for (Bias bias : {Bias::kFlat, Bias::kFront, Bias::kMiddle, Bias::kBack}) {
    REQUIRE(range_recall(all, all, with_bias(bias)) == 1.0);
  }
  REQUIRE(range_recall(all, upper) == 0.5);
  // Back: (2^63+1 + ... + 2^64) / (1 + ... + 2^64) = 3/4 + 2^-65 / (1 + 2^-64) ~ 0.75.
  REQUIRE(range_recall(all, upper, with_bias(Bias::kBack)) == Approx(0.75));
  REQUIRE(range_recall(all, upper, with_bias(Bias::kFront)) == Approx(0.25));
  REQUIRE(range_recall(all, upper, with_bias(Bias::kMiddle)) == Approx(0.5));
  REQUIRE(range_precision(all, upper) == 1.0);
  REQUIRE(dosim::merge_ranges({{0, kMax}, {kMin, -1}}) == all);
}

TEST_CASE("Range scores reject invalid input", "[range]") {
  REQUIRE_THROWS_AS(range_recall({{5, 4}}, {}), std::invalid_argument);
  REQUIRE_THROWS_AS(range_precision({}, {{5, 4}}), std::invalid_argument);
  REQUIRE_THROWS_AS(range_recall({{0, 1}}, {{0, 1}}, with_alpha(1.5)), std::invalid_argument);
  REQUIRE_THROWS_AS(range_precision({{0, 1}}, {{0, 1}}, with_alpha(-0.1)), std::invalid_argument);
  RangeFScoreOptions f;
  f.beta = 0.0;
  REQUIRE_THROWS_AS(range_f_score({{0, 1}}, {{0, 1}}, f), std::invalid_argument);
}

namespace {

// prts's loops, transcribed point by point: for each range of `scored`, omega against every
// range of `other` by summing delta over the range's points, then gamma and the mean.
double brute_force(const std::vector<PointRange>& scored, const std::vector<PointRange>& other,
                   const RangeScoreOptions& options) {
  const auto delta = [&](std::int64_t i, std::int64_t length) -> double {
    switch (options.bias) {
      case Bias::kFlat:
        return 1.0;
      case Bias::kFront:
        return static_cast<double>(length - i + 1);
      case Bias::kMiddle:
        return static_cast<double>(i) <= static_cast<double>(length) / 2.0
                   ? static_cast<double>(i)
                   : static_cast<double>(length - i + 1);
      case Bias::kBack:
        return static_cast<double>(i);
    }
    return 0.0;
  };
  double total = 0.0;
  for (const PointRange& s : scored) {
    double omega_sum = 0.0;
    std::size_t count = 0;
    for (const PointRange& o : other) {
      if (s.last < o.first || s.first > o.last) continue;
      ++count;
      const std::int64_t length = s.last - s.first + 1;
      double mine = 0.0;
      double all = 0.0;
      for (std::int64_t i = 1; i <= length; ++i) {
        const std::int64_t t = s.first + i - 1;
        all += delta(i, length);
        if (t >= o.first && t <= o.last) mine += delta(i, length);
      }
      omega_sum += mine / all;
    }
    double gamma = 1.0;
    if (count > 1 && options.cardinality == Cardinality::kReciprocal)
      gamma = 1.0 / static_cast<double>(count);
    total += options.alpha * (count > 0 ? 1.0 : 0.0) + (1.0 - options.alpha) * gamma * omega_sum;
  }
  return total / static_cast<double>(scored.size());
}

// Random point labels on [0, 200) from a fixed LCG, as maximal runs (so already merged).
std::vector<PointRange> random_runs(std::uint64_t& state, int density_percent) {
  std::vector<bool> labels(200);
  bool on = false;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    // Flip with a small chance so that runs are long and fragmented.
    if (static_cast<int>((state >> 33) % 100) < (on ? 15 : density_percent)) on = !on;
    labels[i] = on;
  }
  return dosim::ranges_from_labels(labels);
}

}  // namespace

TEST_CASE("The range sweep matches a point-by-point computation", "[range]") {
  std::uint64_t state = 42;
  int cases = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const auto real = random_runs(state, 5);
    const auto predicted = random_runs(state, 10);
    if (real.empty() || predicted.empty()) continue;
    ++cases;
    for (Bias bias : {Bias::kFlat, Bias::kFront, Bias::kMiddle, Bias::kBack}) {
      for (Cardinality cardinality : {Cardinality::kOne, Cardinality::kReciprocal}) {
        for (double alpha : {0.0, 0.3}) {
          RangeScoreOptions options;
          options.alpha = alpha;
          options.cardinality = cardinality;
          options.bias = bias;
          REQUIRE(range_recall(real, predicted, options) ==
                  Approx(brute_force(real, predicted, options)).epsilon(1e-12));
          REQUIRE(range_precision(real, predicted, options) ==
                  Approx(brute_force(predicted, real, options)).epsilon(1e-12));
        }
      }
    }
  }
  REQUIRE(cases > 150);
}
