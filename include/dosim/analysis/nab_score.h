// The Numenta Anomaly Benchmark (NAB) score, computed exactly as NAB v1.1 computes it
// (github.com/numenta/NAB: nab/sweeper.py, nab/optimizer.py, nab/runner.py). Pure functions;
// every formula is in docs/scoring.md, "NAB score".
//
// A "file" is one series of N rows (a NAB data file, or one dosim run whose rows are ticks),
// its anomaly windows as inclusive row ranges, and either per-row anomaly scores (a row is a
// detection when its score >= the threshold) or the detections themselves (a dosim run's
// alert rows). Rows before the probationary length min(floor(p * N), p * 5000) (p = 0.15)
// are not scored at all. Scoring a file, per cost profile (A_TP, A_FP, A_FN):
//   - a window with at least one scored row and no detection costs -A_FN;
//   - a detected window counts only its best (earliest) detection, A_TP * sigma(pos) /
//     sigma(-1) with pos = -(last - i + 1) / width (so the first row earns A_TP);
//   - a detection outside every window adds A_FP * sigma(|i - prev_last| / (prev_width - 1))
//     where prev is the closest window ending before row i, or -A_FP before the first window;
//   - sigma(x) = 2 / (1 + e^{5x}) - 1 for x <= 3, and -1 for x > 3 (the scaled sigmoid).
// A window whose rows all fall in the probationary period is not scored (neither TP nor FN).
// Counts tp/fp/fn/tn are NAB's: scored ROWS, not windows (a window of 10 rows detected once
// is 1 tp row and 9 fn rows); windows_detected / windows_missed count windows.
//
// The corpus score is the sum of the file scores, normalized as NAB's runner does:
// 100 * (S - S_null) / (S_perfect - S_null), with S_null the score of a detector that never
// fires (-A_FN per scored window) and S_perfect = A_TP * (number of windows).
//
// Windows must be sorted, non-overlapping (next.first_row > last_row) and inside [0, N),
// with first_row <= last_row; anything else throws InputError (merge overlapping
// incident windows first with nab_merge_windows, as NAB's label combiner does). An anomaly
// score that is NaN throws InputError. Where NAB itself fails (a single-row window
// followed by a false positive divides by zero; a threshold below every score of a file
// matches no row of its sweep), this code takes the limit: the false positive weighs -A_FP,
// and every scored row is a detection. Sums may differ from NAB's in the last bits (the
// order of floating-point additions is not NAB's), never more.
//
// Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace dosim {

// NAB's probationary fraction (runner.py: probationaryPercent).
inline constexpr double kNabProbationPercent = 0.15;

// An application profile: the weights of NAB's cost matrix (tnWeight is never used by NAB).
struct NabProfile {
  std::string name;
  double tp_weight = 1.0;
  double fp_weight = 0.11;
  double fn_weight = 1.0;
};

// NAB's three profiles (config/profiles.json), in that file's order: standard
// (1, 0.11, 1), reward_low_FP_rate (1, 0.22, 1), reward_low_FN_rate (1, 0.11, 2).
std::vector<NabProfile> nab_default_profiles();

// An anomaly window: rows first_row..last_row, both included.
struct NabWindow {
  std::size_t first_row = 0;
  std::size_t last_row = 0;

  friend bool operator==(const NabWindow&, const NabWindow&) = default;
};

// One file: `scores` holds one anomaly score per row (N = scores.size()).
struct NabFile {
  std::string name;
  std::vector<NabWindow> windows;
  std::vector<double> scores;
};

struct NabFileScore {
  double score = 0.0;  // the raw (unnormalized) score of the file
  // NAB's row counts over the scored rows (those past the probationary period).
  std::size_t tp = 0;                // detections inside a window
  std::size_t fp = 0;                // detections outside every window
  std::size_t fn = 0;                // window rows without a detection
  std::size_t tn = 0;                // rows outside windows without a detection
  std::size_t windows = 0;           // all windows of the file, scored or not
  std::size_t windows_scored = 0;    // windows with at least one scored row
  std::size_t windows_detected = 0;  // scored windows with at least one detection
  std::size_t windows_missed = 0;    // windows_scored - windows_detected
};

struct NabCorpusScore {
  double threshold = 0.0;      // the threshold applied (nab_score_corpus, the optimizer)
  double raw = 0.0;            // S: the sum of the file scores
  double null_score = 0.0;     // S_null: -A_FN per scored window
  double perfect_score = 0.0;  // S_perfect: A_TP per window
  double normalized = 0.0;     // 100 (S - S_null) / (S_perfect - S_null); 0 when they are equal
  NabFileScore totals;         // counts summed over the files (score = raw)
  std::vector<NabFileScore> files;  // per file, in the input order (empty from the optimizer)
};

// One point of the threshold sweep (NAB's ThresholdScore): the corpus score and counts when
// every scored row whose anomaly score >= threshold is a detection.
struct NabThresholdScore {
  double threshold = 0.0;
  double score = 0.0;
  std::size_t tp = 0;
  std::size_t tn = 0;
  std::size_t fp = 0;
  std::size_t fn = 0;
  std::size_t windows_scored = 0;  // not in NAB's ThresholdScore: windows, as NabFileScore
  std::size_t windows_detected = 0;
};

// min(floor(probation_percent * rows), probation_percent * 5000), as NAB's Sweeper computes
// it; rows with an index below it are not scored.
double nab_probationary_length(std::size_t rows, double probation_percent = kNabProbationPercent);

// NAB's scaled sigmoid: 2 * sigmoid(-5x) - 1 for x <= 3, -1 for x > 3.
double nab_scaled_sigmoid(double relative_position);

// The weight a detection at each row would contribute (NAB's per-row "sweep score"), before
// best-per-window and probation are applied: inside a window A_TP * sigma(pos) / sigma(-1),
// outside A_FP * sigma(distance past the previous window) (-A_FP before the first window).
std::vector<double> nab_row_weights(std::size_t rows, const std::vector<NabWindow>& windows,
                                    const NabProfile& profile);

// Sorts windows and merges those that overlap or touch (next.first_row <= last_row), as NAB's
// label combiner (labeler.py, checkWindows) merges overlapping windows. For incident windows
// of a simulated run before scoring them.
std::vector<NabWindow> nab_merge_windows(std::vector<NabWindow> windows);

// The score of one file of `rows` rows whose detections are `detections` (size rows; true =
// the detector fired at that row). Detections in the probationary period are ignored.
NabFileScore nab_score_detections(std::size_t rows, const std::vector<NabWindow>& windows,
                                  const std::vector<bool>& detections, const NabProfile& profile,
                                  double probation_percent = kNabProbationPercent);

// The same with the detections given as row indices (any order, duplicates ignored); a row
// index >= rows throws InputError.
NabFileScore nab_score_detection_rows(std::size_t rows, const std::vector<NabWindow>& windows,
                                      const std::vector<std::size_t>& detection_rows,
                                      const NabProfile& profile,
                                      double probation_percent = kNabProbationPercent);

// The score of one file at a threshold: row i is a detection when scores[i] >= threshold.
NabFileScore nab_score_file(const NabFile& file, const NabProfile& profile, double threshold,
                            double probation_percent = kNabProbationPercent);

// S_null: the score of a detector that never fires, summed over the files.
double nab_null_score(const std::vector<NabFile>& files, const NabProfile& profile,
                      double probation_percent = kNabProbationPercent);

// S_perfect: A_TP times the number of windows of all files (runner.py, normalize()).
double nab_perfect_score(const std::vector<NabFile>& files, const NabProfile& profile);

// 100 * (raw - null_score) / (perfect - null_score); 0 when perfect == null_score.
double nab_normalized_score(double raw, double null_score, double perfect);

// The corpus score of files already scored (by nab_score_detections, say: one file per
// simulated run): raw = the sum of their scores, S_null = -A_FN per scored window, S_perfect
// = A_TP per window, normalized; `files` and summed `totals` are kept.
NabCorpusScore nab_combine_file_scores(std::vector<NabFileScore> files, const NabProfile& profile,
                                       double threshold = 0.0);

// Scores every file at one threshold and normalizes the sum (what `python run.py --score
// --normalize` reports for a detector and profile).
NabCorpusScore nab_score_corpus(const std::vector<NabFile>& files, const NabProfile& profile,
                                double threshold, double probation_percent = kNabProbationPercent);

// NAB's sweep over the corpus (Sweeper.calcScoreByThreshold on every file's rows at once):
// the first point has threshold 1.1 and no detection; then one point per distinct anomaly
// score of the scored rows, in descending order, each counting every row whose score >= it.
// O(R log R) for R rows in all.
std::vector<NabThresholdScore> nab_scores_by_threshold(
    const std::vector<NabFile>& files, const NabProfile& profile,
    double probation_percent = kNabProbationPercent);

// NAB's threshold optimizer (optimizer.py): the sweep point with the highest score, the
// highest threshold among equal scores. Returns that threshold with its corpus score
// (raw, null, perfect, normalized, totals; no per-file scores).
NabCorpusScore nab_optimize_threshold(const std::vector<NabFile>& files, const NabProfile& profile,
                                      double probation_percent = kNabProbationPercent);

}  // namespace dosim
