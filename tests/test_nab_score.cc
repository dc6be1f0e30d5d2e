// The NAB scorer (analysis/nab_score.h) against hand-computed values: a 20-row file with a
// probationary period, two windows, an early true positive, false positives before, after and
// far after windows, and a missed window, under NAB's three profiles, with the
// normalization; the threshold sweep and optimizer on a two-file corpus; windows in the
// probationary period, single-row windows, merging, bad windows; and the NAB corpus reader
// (analysis/nab_corpus.h) on a tiny NAB root, with its errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "analysis/nab_corpus.h"
#include "dosim/analysis/nab_score.h"
#include "dosim/error.h"

using Catch::Matchers::Contains;
using dosim::NabCorpusScore;
using dosim::NabFile;
using dosim::NabFileScore;
using dosim::NabProfile;
using dosim::NabWindow;

namespace {

const NabProfile kStandard{"standard", 1.0, 0.11, 1.0};
const NabProfile kLowFp{"reward_low_FP_rate", 1.0, 0.22, 1.0};
const NabProfile kLowFn{"reward_low_FN_rate", 1.0, 0.11, 2.0};

// The scaled sigmoid written out: 2 / (1 + e^{5x}) - 1.
double sigma(double x) { return 2.0 / (1.0 + std::exp(5.0 * x)) - 1.0; }

// The hand-worked file. N = 20 rows; probationary length min(floor(0.15 * 20), 750) = 3, so
// rows 0..2 are not scored. Windows W1 = rows 5..8 (width 4) and W2 = rows 14..16 (width 3).
// Detections at rows 1, 4, 6, 7, 10, 19:
//   row 1   in the probationary period: ignored;
//   row 4   before the first window: -A_FP;
//   row 6   in W1, position -(8 - 6 + 1) / 4 = -0.75:
//           sigma(-0.75) = 2 / (1 + e^-3.75) - 1 = 0.9540452601799487,
//           sigma(-1)    = 2 / (1 + e^-5)    - 1 = 0.9866142981514305,
//           weight A_TP * 0.9540452601799487 / 0.9866142981514305 = A_TP * 0.9669890878000605;
//   row 7   in W1 too, later (lower weight): only the best detection counts;
//   row 10  after W1: distance |8 - 10| / (4 - 1) = 2/3,
//           sigma(2/3) = 2 / (1 + e^(10/3)) - 1 = -0.9311096086675776, weighted A_FP *;
//   row 19  after W2: distance |16 - 19| / (3 - 1) = 1.5,
//           sigma(1.5) = 2 / (1 + e^7.5) - 1 = -0.9988944427261528, weighted A_FP *;
//   W2      no detection: -A_FN.
// Rows scored: 3..19 (17); in windows 7 (4 + 3), outside 10. tp = rows 6, 7 = 2;
// fn = 7 - 2 = 5; fp = rows 4, 10, 19 = 3; tn = 10 - 3 = 7.
const std::size_t kRows = 20;
const std::vector<NabWindow> kWindows{{5, 8}, {14, 16}};
const std::vector<std::size_t> kDetections{1, 4, 6, 7, 10, 19};

double hand_score(const NabProfile& p) {
  return -p.fp_weight + p.tp_weight * 0.9669890878000605 + p.fp_weight * -0.9311096086675776 +
         p.fp_weight * -0.9988944427261528 - p.fn_weight;
}

// Writes `text` to DOSIM_TEST_TMP/nab/<relative>, creating folders.
void write_file(const std::filesystem::path& root, const std::string& relative,
                const std::string& text) {
  const std::filesystem::path path = root / relative;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("NAB scaled sigmoid and probationary length", "[nab]") {
  CHECK(dosim::nab_scaled_sigmoid(-1.0) == Approx(0.9866142981514305).epsilon(1e-15));
  CHECK(dosim::nab_scaled_sigmoid(-0.5) == Approx(0.8482836399575129).epsilon(1e-15));
  CHECK(dosim::nab_scaled_sigmoid(0.0) == 0.0);
  CHECK(dosim::nab_scaled_sigmoid(1.0) == Approx(-0.9866142981514305).epsilon(1e-15));
  CHECK(dosim::nab_scaled_sigmoid(3.0) == Approx(sigma(3.0)).epsilon(1e-15));  // x = 3: formula
  CHECK(dosim::nab_scaled_sigmoid(3.0000001) == -1.0);                         // x > 3: -1
  // min(floor(p N), p * 5000), NAB's own test cases.
  CHECK(dosim::nab_probationary_length(100, 0.0) == 0.0);
  CHECK(dosim::nab_probationary_length(100, 1.0) == 100.0);
  CHECK(dosim::nab_probationary_length(100, 0.1) == 10.0);
  CHECK(dosim::nab_probationary_length(100, 0.15) == 15.0);
  CHECK(dosim::nab_probationary_length(5000, 0.1) == 500.0);
  CHECK(dosim::nab_probationary_length(6000, 0.1) == 500.0);
  CHECK(dosim::nab_probationary_length(20) == 3.0);
  CHECK(dosim::nab_probationary_length(10320) == 750.0);  // nyc_taxi: capped at 0.15 * 5000
}

TEST_CASE("NAB row weights of the hand-worked file", "[nab]") {
  const std::vector<double> w = dosim::nab_row_weights(kRows, kWindows, kStandard);
  REQUIRE(w.size() == kRows);
  for (std::size_t i = 0; i < 5; ++i) CHECK(w[i] == -0.11);  // before the first window
  CHECK(w[5] == Approx(1.0).epsilon(1e-15));                 // W1's first row earns A_TP
  CHECK(w[6] == Approx(0.9669890878000605).epsilon(1e-14));
  CHECK(w[8] == Approx(sigma(-0.25) / sigma(-1.0)).epsilon(1e-14));  // last row: -1/width
  CHECK(w[10] == Approx(0.11 * -0.9311096086675776).epsilon(1e-14));
  CHECK(w[14] == Approx(1.0).epsilon(1e-15));
  CHECK(w[19] == Approx(0.11 * -0.9988944427261528).epsilon(1e-14));
}

TEST_CASE("NAB score of the hand-worked file under the three profiles", "[nab]") {
  // standard:           -0.11 + 0.96698909 - 0.10242206 - 0.10987839 - 1 = -0.35531136
  // reward_low_FP_rate: -0.22 + 0.96698909 - 0.20484411 - 0.21975678 - 1 = -0.67761180
  // reward_low_FN_rate: -0.11 + 0.96698909 - 0.10242206 - 0.10987839 - 2 = -1.35531136
  const double expected[] = {-0.3553113578532498, -0.6776118035065601, -1.35531135785325};
  const NabProfile profiles[] = {kStandard, kLowFp, kLowFn};
  for (int p = 0; p < 3; ++p) {
    INFO(profiles[p].name);
    const NabFileScore s =
        dosim::nab_score_detection_rows(kRows, kWindows, kDetections, profiles[p]);
    CHECK(s.score == Approx(expected[p]).epsilon(1e-13));
    CHECK(s.score == Approx(hand_score(profiles[p])).epsilon(1e-13));
    CHECK(s.tp == 2);
    CHECK(s.fn == 5);
    CHECK(s.fp == 3);
    CHECK(s.tn == 7);
    CHECK(s.windows_scored == 2);
    CHECK(s.windows_detected == 1);
    CHECK(s.windows_missed == 1);
  }
}

TEST_CASE("NAB detections as flags, rows and scores agree", "[nab]") {
  std::vector<bool> flags(kRows, false);
  for (std::size_t row : kDetections) flags[row] = true;
  NabFile file{"hand", kWindows, std::vector<double>(kRows, 0.25)};
  for (std::size_t row : kDetections) file.scores[row] = 0.75;
  const double by_flags = dosim::nab_score_detections(kRows, kWindows, flags, kStandard).score;
  const double by_rows =
      dosim::nab_score_detection_rows(kRows, kWindows, {19, 4, 6, 6, 1, 10, 7}, kStandard).score;
  CHECK(by_flags == by_rows);
  CHECK(dosim::nab_score_file(file, kStandard, 0.75).score == by_flags);  // >= is a detection
  CHECK(dosim::nab_score_file(file, kStandard, 0.5).score == by_flags);
  // Above every score: nothing detected, both windows missed.
  CHECK(dosim::nab_score_file(file, kStandard, 0.8).score == -2.0);
}

TEST_CASE("NAB normalization of the hand-worked file as a one-file corpus", "[nab]") {
  // S_null = -A_FN * 2 windows; S_perfect = A_TP * 2 windows.
  //   standard:           100 (-0.35531136 + 2) / (2 + 2) = 41.11721605
  //   reward_low_FP_rate: 100 (-0.67761180 + 2) / (2 + 2) = 33.05970491
  //   reward_low_FN_rate: 100 (-1.35531136 + 4) / (2 + 4) = 44.07814404
  NabFile file{"hand", kWindows, std::vector<double>(kRows, 0.0)};
  for (std::size_t row : kDetections) file.scores[row] = 1.0;
  const std::vector<NabFile> corpus{file};
  const double expected[] = {41.117216053668756, 33.059704912335995, 44.07814403577916};
  const NabProfile profiles[] = {kStandard, kLowFp, kLowFn};
  for (int p = 0; p < 3; ++p) {
    INFO(profiles[p].name);
    const NabCorpusScore s = dosim::nab_score_corpus(corpus, profiles[p], 0.5);
    CHECK(s.null_score == -2.0 * profiles[p].fn_weight);
    CHECK(s.perfect_score == 2.0);
    CHECK(s.raw == Approx(hand_score(profiles[p])).epsilon(1e-13));
    CHECK(s.normalized == Approx(expected[p]).epsilon(1e-12));
    REQUIRE(s.files.size() == 1);
    CHECK(s.totals.tp == 2);
    CHECK(s.totals.fp == 3);
  }
  // The null detector scores 0, the perfect one (each window's first row only) 100.
  NabFile null_file{"null", kWindows, std::vector<double>(kRows, 0.0)};
  CHECK(dosim::nab_score_corpus({null_file}, kStandard, 0.5).normalized == 0.0);
  NabFile perfect{"perfect", kWindows, std::vector<double>(kRows, 0.0)};
  perfect.scores[5] = perfect.scores[14] = 1.0;
  CHECK(dosim::nab_score_corpus({perfect}, kStandard, 0.5).normalized ==
        Approx(100.0).epsilon(1e-14));
  CHECK(dosim::nab_normalized_score(3.0, 3.0, 3.0) == 0.0);
  // Two simulated runs scored from their detection rows, then combined: S = 2 S_f,
  // S_null = -4, S_perfect = 4, so the same 41.11721605 for the standard profile.
  const NabFileScore run = dosim::nab_score_detection_rows(kRows, kWindows, kDetections, kStandard);
  CHECK(run.windows == 2);
  const NabCorpusScore runs = dosim::nab_combine_file_scores({run, run}, kStandard);
  CHECK(runs.raw == 2.0 * run.score);
  CHECK(runs.null_score == -4.0);
  CHECK(runs.perfect_score == 4.0);
  CHECK(runs.normalized == Approx(41.117216053668756).epsilon(1e-12));
  CHECK(runs.totals.tp == 4);
  CHECK(runs.files.size() == 2);
}

TEST_CASE("NAB threshold sweep and optimizer on a two-file corpus", "[nab]") {
  // No probation (p = 0), standard profile.
  // File A, 8 rows, window rows 3..5 (width 3). Row weights:
  //   rows 0-2 -0.11 (before the window); row 3 1 (first row); row 4 sigma(-2/3)/sigma(-1) =
  //   0.94374226; row 5 sigma(-1/3)/sigma(-1) = 0.69151825; row 6 0.11 sigma(1/2) =
  //   -0.09331120; row 7 0.11 sigma(1) = -0.10852757.
  // File B, 6 rows, window rows 1..2 (width 2). Row weights:
  //   row 0 -0.11; row 1 1; row 2 sigma(-1/2)/sigma(-1) = 0.85979257; row 3 0.11 sigma(1) =
  //   -0.10852757; row 4 0.11 sigma(2) = -0.10999001; row 5 0.11 sigma(3) = -0.10999993.
  const NabFile a{"a", {{3, 5}}, {0.1, 0.6, 0.1, 0.1, 0.9, 0.3, 0.1, 0.6}};
  const NabFile b{"b", {{1, 2}}, {0.2, 0.1, 0.6, 0.1, 0.9, 0.1}};
  const std::vector<NabFile> corpus{a, b};
  // Sweep, from the highest threshold down (each point: every row with score >= it):
  //   1.1  nothing: both windows missed                                  -2
  //   0.9  + A4 (TP 0.94374226), B4 (FP -0.10999001); B missed:          -0.16624775
  //   0.6  + A1 (-0.11), A7 (-0.10852757), B2 (TP 0.85979257):           1.47501724
  //   0.3  + A5 (TP, but A already has 0.94374226): unchanged            1.47501724
  //   0.2  + B0 (-0.11)                                                  1.36501724
  //   0.1  + A0, A2 (-0.22), A3 (A's best becomes 1), A6 (-0.09331120),
  //          B1 (B's best becomes 1), B3 (-0.10852757), B5 (-0.10999993): 1.02964371
  const std::vector<dosim::NabThresholdScore> sweep =
      dosim::nab_scores_by_threshold(corpus, kStandard, 0.0);
  const double thresholds[] = {1.1, 0.9, 0.6, 0.3, 0.2, 0.1};
  const double scores[] = {-2.0,
                           -0.16624775127101865,
                           1.4750172428421076,
                           1.4750172428421076,
                           1.3650172428421077,
                           1.0296437088409633};
  REQUIRE(sweep.size() == 6);
  for (std::size_t k = 0; k < 6; ++k) {
    INFO("sweep point " << k);
    CHECK(sweep[k].threshold == thresholds[k]);
    CHECK(sweep[k].score == Approx(scores[k]).epsilon(1e-13));
    CHECK(sweep[k].tp + sweep[k].tn + sweep[k].fp + sweep[k].fn == 14);
    // Every point equals scoring the corpus at its threshold.
    const NabCorpusScore direct = dosim::nab_score_corpus(corpus, kStandard, thresholds[k], 0.0);
    CHECK(direct.raw == Approx(sweep[k].score).epsilon(1e-13));
    CHECK(direct.totals.tp == sweep[k].tp);
    CHECK(direct.totals.fp == sweep[k].fp);
    CHECK(direct.totals.fn == sweep[k].fn);
    CHECK(direct.totals.tn == sweep[k].tn);
  }
  // At 0.6: tp = A4, B2; fp = A1, A7, B4; fn = A3, A5, B1; tn = A0, A2, A6, B0, B3, B5.
  CHECK(sweep[2].tp == 2);
  CHECK(sweep[2].fp == 3);
  CHECK(sweep[2].fn == 3);
  CHECK(sweep[2].tn == 6);
  // The best score is at 0.6 and at 0.3; NAB keeps the highest threshold of a tie.
  const NabCorpusScore best = dosim::nab_optimize_threshold(corpus, kStandard, 0.0);
  CHECK(best.threshold == 0.6);
  CHECK(best.raw == Approx(1.4750172428421076).epsilon(1e-13));
  CHECK(best.null_score == -2.0);
  CHECK(best.perfect_score == 2.0);
  // 100 (1.47501724 + 2) / (2 + 2) = 86.87543107
  CHECK(best.normalized == Approx(86.87543107105269).epsilon(1e-12));
  CHECK(best.totals.windows_detected == 2);
}

TEST_CASE("NAB sweep equals direct scoring at every threshold on random files", "[nab]") {
  std::mt19937_64 random(12345);
  std::uniform_int_distribution<int> level(0, 40);
  std::vector<NabFile> corpus;
  for (int f = 0; f < 5; ++f) {
    NabFile file;
    file.name = "random" + std::to_string(f);
    const std::size_t rows = 150 + 37 * static_cast<std::size_t>(f);
    for (std::size_t i = 0; i < rows; ++i) file.scores.push_back(level(random) / 40.0);
    file.windows = {{20, 25}, {60, 60}, {90, 120}};  // one partly in probation, one single-row
    corpus.push_back(file);
  }
  for (const NabProfile& profile : dosim::nab_default_profiles()) {
    const auto sweep = dosim::nab_scores_by_threshold(corpus, profile);
    double best = sweep.front().score;
    for (const auto& point : sweep) {
      const NabCorpusScore direct = dosim::nab_score_corpus(corpus, profile, point.threshold);
      REQUIRE(direct.raw == Approx(point.score).margin(1e-12));
      REQUIRE(direct.totals.tp == point.tp);
      REQUIRE(direct.totals.fp == point.fp);
      best = std::max(best, point.score);
    }
    CHECK(dosim::nab_optimize_threshold(corpus, profile).raw == best);
  }
}

TEST_CASE("NAB windows in the probationary period and single-row windows", "[nab]") {
  // 40 rows: probation floor(0.15 * 40) = 6, rows 0..5. Window 2..4 lies inside it: neither
  // detected nor missed, and not in S_null; it still counts in S_perfect (NAB counts every
  // labelled window there). Window 10..10 has width 1.
  const std::vector<NabWindow> windows{{2, 4}, {10, 10}};
  const NabFileScore none = dosim::nab_score_detection_rows(40, windows, {}, kStandard);
  CHECK(none.score == -1.0);
  CHECK(none.windows_scored == 1);
  const NabFile file{"f", windows, std::vector<double>(40, 0.0)};
  CHECK(dosim::nab_null_score({file}, kStandard) == -1.0);
  CHECK(dosim::nab_perfect_score({file}, kStandard) == 2.0);
  // A detection on the single row earns A_TP * sigma(-1/1) / sigma(-1) = A_TP.
  CHECK(dosim::nab_score_detection_rows(40, windows, {10}, kStandard).score ==
        Approx(1.0).epsilon(1e-15));
  // A false positive after a single-row window: NAB divides by width - 1 = 0; the limit is
  // a distance of +inf, weight -A_FP.
  CHECK(dosim::nab_score_detection_rows(40, windows, {10, 11}, kStandard).score ==
        Approx(1.0 - 0.11).epsilon(1e-15));
  // Between the probation window and the next one, a false positive is scored against the
  // probation window (it is still the previous window): distance |4 - 7| / (3 - 1) = 1.5.
  CHECK(dosim::nab_score_detection_rows(40, windows, {7}, kStandard).score ==
        Approx(-1.0 + 0.11 * sigma(1.5)).epsilon(1e-14));
}

TEST_CASE("NAB window checks and merging", "[nab]") {
  CHECK_THROWS_AS(dosim::nab_score_detection_rows(10, {{5, 3}}, {}, kStandard),
                  dosim::InputError);
  CHECK_THROWS_AS(dosim::nab_score_detection_rows(10, {{5, 10}}, {}, kStandard),
                  dosim::InputError);
  CHECK_THROWS_AS(dosim::nab_score_detection_rows(10, {{2, 5}, {5, 7}}, {}, kStandard),
                  dosim::InputError);
  CHECK_THROWS_AS(dosim::nab_score_detection_rows(10, {{6, 7}, {2, 3}}, {}, kStandard),
                  dosim::InputError);
  CHECK_THROWS_AS(dosim::nab_score_detection_rows(10, {}, {10}, kStandard), dosim::InputError);
  CHECK_THROWS_AS(dosim::nab_score_detections(10, {}, std::vector<bool>(9), kStandard),
                  dosim::InputError);
  CHECK_THROWS_AS(dosim::nab_score_file({"nan", {}, {0.0, std::nan("")}}, kStandard, 0.5),
                  dosim::InputError);
  const std::vector<NabWindow> merged =
      dosim::nab_merge_windows({{20, 25}, {2, 5}, {5, 7}, {8, 9}, {21, 22}});
  // {2,5} and {5,7} share row 5: merged; {8,9} only touches: kept; {21,22} is inside {20,25}.
  CHECK(merged == std::vector<NabWindow>{{2, 7}, {8, 9}, {20, 25}});
}

TEST_CASE("NAB timestamps parse by value", "[nab]") {
  const auto a = dosim::parse_nab_timestamp("2014-04-10 07:15:00.000000");
  const auto b = dosim::parse_nab_timestamp("2014-04-10 07:15:00");
  REQUIRE(a);
  CHECK(a == b);
  CHECK(dosim::parse_nab_timestamp("1970-01-01 00:00:00") == 0);
  CHECK(dosim::parse_nab_timestamp("1970-01-02") == 86'400'000'000'000);
  CHECK(dosim::parse_nab_timestamp("2000-03-01T00:00:01.5") ==
        (11017LL * 86400 + 1) * 1'000'000'000 + 500'000'000);
  CHECK(dosim::parse_nab_timestamp("2014-02-29 00:00:00") == std::nullopt);
  CHECK(dosim::parse_nab_timestamp("2014-04-10 25:00:00") == std::nullopt);
  CHECK(dosim::parse_nab_timestamp("10/04/2014") == std::nullopt);
  CHECK(dosim::parse_nab_timestamp("2014-04-10 07:15:00x") == std::nullopt);
}

TEST_CASE("NAB corpus reader on a tiny NAB root", "[nab]") {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(DOSIM_TEST_TMP) / "nab" / "root";
  fs::remove_all(root);
  std::string data = "timestamp,value\n";
  std::string results = "anomaly_score,timestamp,label\n";  // any column order
  for (int i = 0; i < 20; ++i) {
    const std::string stamp =
        "2015-01-01 00:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ":00";
    data += stamp + "," + std::to_string(i) + "\n";
    const bool detected = i == 1 || i == 4 || i == 6 || i == 7 || i == 10 || i == 19;
    results += std::string(detected ? "0.9" : "0.1") + "," + stamp + ",0\n";
  }
  write_file(root, "data/cat/series.csv", data);
  write_file(root, "labels/combined_windows.json",
             R"({"cat/series.csv": [["2015-01-01 00:05:00.000000", "2015-01-01 00:08:00.000000"],
                                    ["2015-01-01 00:14:00.000000", "2015-01-01 00:16:00.000000"]]})");
  write_file(root, "config/profiles.json",
             R"({"standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11,
                                              "tnWeight": 1.0}},
                 "reward_low_FN_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0,
                                                        "fpWeight": 0.11, "tnWeight": 1.0}}})");
  write_file(root, "config/thresholds.json",
             R"({"det": {"standard": {"score": 1.0, "threshold": 0.5}}})");
  write_file(root, "results/det/cat/det_series.csv", results);

  const dosim::NabCorpus corpus = dosim::read_nab_corpus(root.string());
  REQUIRE(corpus.files.size() == 1);
  CHECK(corpus.files[0].relative_path == "cat/series.csv");
  CHECK(corpus.files[0].windows == kWindows);
  REQUIRE(corpus.profiles.size() == 2);
  CHECK(corpus.profiles[0].name == "standard");  // the file's order, not sorted
  CHECK(corpus.profiles[1].fn_weight == 2.0);
  const std::vector<NabFile> files =
      dosim::read_nab_results(corpus, (root / "results").string(), "det");
  REQUIRE(files.size() == 1);
  CHECK(dosim::nab_score_corpus(files, corpus.profiles[0], 0.5).raw ==
        Approx(hand_score(kStandard)).epsilon(1e-13));
  const auto thresholds = dosim::read_nab_thresholds(root.string(), "det");
  REQUIRE(thresholds.size() == 1);
  CHECK(thresholds[0].threshold == 0.5);

  CHECK_THROWS_WITH(dosim::read_nab_thresholds(root.string(), "dte"),
                    Contains("did you mean `det`"));
  CHECK_THROWS_WITH(dosim::read_nab_results(corpus, (root / "results").string(), "other"),
                    Contains("no results directory for detector `other`"));
  // A bad score names the file, line and column.
  write_file(root, "results/bad/cat/bad_series.csv",
             "timestamp,anomaly_score\n2015-01-01 00:00:00,0.1\n2015-01-01 00:01:00,high\n");
  CHECK_THROWS_WITH(dosim::read_nab_results(corpus, (root / "results").string(), "bad"),
                    Contains("bad_series.csv:3:21: bad anomaly_score `high`"));
  write_file(root, "results/short/cat/short_series.csv",
             "timestamp,anomaly_score\n2015-01-01 00:00:00,0.1\n");
  CHECK_THROWS_WITH(dosim::read_nab_results(corpus, (root / "results").string(), "short"),
                    Contains("1 rows, the data file has 20"));
  write_file(root, "results/nocol/cat/nocol_series.csv", "timestamp,score\n");
  CHECK_THROWS_WITH(dosim::read_nab_results(corpus, (root / "results").string(), "nocol"),
                    Contains("nocol_series.csv:1:1: no `anomaly_score` column"));
  // A window timestamp that is not a data row.
  write_file(root, "labels/combined_windows.json",
             R"({"cat/series.csv": [["2015-01-01 00:05:30", "2015-01-01 00:08:00"]]})");
  CHECK_THROWS_WITH(dosim::read_nab_corpus(root.string()), Contains("matches no row"));
  CHECK_THROWS_AS(dosim::read_nab_corpus((root / "missing").string()), dosim::InputError);
}
