// One run of `dosim bench` and its scores, shared by the commands that score runs as the
// bench does (`dosim bench`, `dosim sweep`): a plan's scenario at one seed, every requested
// detector fed by one simulation (detectors only watch; they do not change the world), each
// detector's alerts scored on their own against the run's ground truth beside a random
// baseline at its alert rate, then the null detector. The metrics are the library's JSON
// form of scores (analysis/scores_json.h) with the bench's keys added (docs/scoring.md,
// "dosim bench"). Thread-safe: runs of one plan may go on several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "dosim/analysis/scoring.h"
#include "dosim/run.h"

namespace dosim::cli {

// The table's columns of a bench, in order: keys of a run's metrics of one detector.
struct MetricColumn {
  const char* key;
  const char* header;  // nullptr: in the JSON summary only
  const char* format;  // printf format of one value
};

inline constexpr MetricColumn kBenchColumns[] = {
    {"precision", "precision", "%.2f"},
    {"recall", "recall", "%.2f"},
    {"f1", "F1", "%.2f"},
    {"f1_random", "F1 random", "%.2f"},
    {"ttd_median_s", "TTD p50 s", "%.0f"},
    {"false_alarms_per_hour", "false/h", "%.2f"},
    {"alerts", "alerts", "%.0f"},
    {"nab_standard", "NAB std", "%.1f"},
    {"range_f1", "range F1", "%.2f"},
    {"nab_reward_low_fp", nullptr, "%.1f"},
    {"nab_reward_low_fn", nullptr, "%.1f"},
    {"range_precision", nullptr, "%.2f"},
    {"range_recall", nullptr, "%.2f"},
    {"precision_random", nullptr, "%.2f"},
    {"recall_random", nullptr, "%.2f"},
    {"false_alarms_per_hour_random", nullptr, "%.2f"},
};

struct BenchRun {
  std::size_t scenario = 0;
  std::uint64_t seed = 0;
  SimTime simulated = 0;
  std::size_t scored_incidents = 0;
  // Per requested detector, in the plan's order, then the null baseline.
  std::vector<nlohmann::ordered_json> detectors;
};

// The bench's metrics of one detector's scores beside the random baseline's: to_json(scores)
// with f1_random, precision_random, recall_random, false_alarms_per_hour_random,
// ttd_median_s (null when nothing was detected) and ttd_s (every detected incident's time to
// detect in seconds, ascending).
nlohmann::ordered_json bench_metrics(const Scores& scores, const Scores& random);

// A metric's value: NaN for null.
double metric_value(const nlohmann::ordered_json& metrics, const char* key);

// Runs `plan` at `seed` and scores it. Throws what the run throws (a script failing).
// Why the output `path` cannot be written (it names one of the `taken` paths: an input or
// another output; or the system's reason, unwritable_reason), or "": checked before any run.
// The output itself is written at the end through write_file_replacing, so a refused or
// failed bench leaves an earlier file as it was.
std::string bench_output_problem(const std::string& path, const std::vector<std::string>& taken);

BenchRun run_bench_once(const RunPlan& plan, std::size_t scenario_index, std::uint64_t seed);

}  // namespace dosim::cli
