// `dosim nab run --nab ROOT --detectors LIST [--files GLOBS] [--threads K] [--out FILE]`:
// dosim's own detectors replayed over every file of the Numenta Anomaly Benchmark, scored as
// NAB scores its entries, beside NAB's published scoreboard (ROOT/results/final_results.json).
//
// Per file (docs/scoring.md, "dosim nab run"): the values (engine/replay.h reads the file, rows
// in file order) are standardized by the mean and standard deviation of the file's
// probationary rows (those NAB does not score); each detector, made as a scenario would make
// it, steps once per row (detectors/replay_runner.h); lstm takes a model of one metric (by
// default models/lstm-rps-5m.h5) and is fed mean + std z in its model's units. Its score s with
// limit L becomes squash = r / (1 + r), r = max(s, 0) / L (0.5 at the limit), and the NAB anomaly
// score is, with scores=rank (the default), a_i = (earlier rows of the file with a lower squash +
// squash_i) / (i + 1): the score calibrated against the detector's own past on that file, in
// [0, 1), causal; with scores=squash, a_i = squash_i (the default for kinds whose scores are
// calibrated already: surprise). The baselines: random draws a uniform
// score per row from the seeded stream, null scores 0. Then, per profile, NAB's optimizer
// picks the threshold over the whole corpus (analysis/nab_score.h) and the scoreboard sorts
// every entry by its standard score. Jobs (detector x file) run on K threads, each writing its
// own slot: the output is identical for any K (but for the wall time line).
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/nab_corpus.h"
#include "analysis/nab_results_file.h"
#include "commands.h"
#include "detectors/lstm_model.h"
#include "detectors/replay_runner.h"
#include "dosim/analysis/nab_score.h"
#include "dosim/detectors/registry.h"
#include "dosim/error.h"
#include "engine/replay.h"
#include "engine/rng.h"
#include "util/data_dir.h"
#include "util/output_file.h"
#include "util/parallel_map.h"

namespace dosim::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// One entry of --detectors.
struct Plan {
  std::string name;  // the token as written
  std::string kind;  // a detector kind, or "random" / "null"
  DetectorSpec spec;
  // scores=rank (the default but for kinds whose scores are calibrated, surprise): calibrated
  // by the file's past scores; else squash.
  bool rank = true;
  // rest=auto: the kind's `rest` set per file to a fifth of its probationary rows (NAB gives
  // its detectors the probationary length; contextOSE rests that long).
  bool rest_auto = false;
  // group=N: a row whose NAB anomaly score reaches group_at opens an incident, and the next N
  // rows score 0 (consecutive anomalies grouped into one incident, judged on the calibrated
  // score rather than on the kind's own limit). 0: off.
  std::size_t group = 0;
  double group_at = 0.999;
  // lstm: the model's normalization of its one metric; a file's standardized value z is fed
  // as mean + std z, so that the model sees z as its own normalized input.
  double model_mean = 0.0, model_std = 1.0;
};

// KIND[:key=value[:key=value...]] (the registry's token, dosim/detectors/registry.h) with
// `scores` (rank, squash) besides; the kind's NAB defaults fill what the token leaves out.
Plan parse_plan(const std::string& token, std::vector<Diagnostic>& problems) {
  Plan plan;
  plan.name = token;
  const std::size_t before = problems.size();
  const DetectorToken parsed = parse_detector_token(
      token, "--detectors", {"random", "null"}, {"scores", "rest", "group", "group_at"}, problems);
  plan.kind = parsed.kind;
  if (problems.size() > before) return plan;
  auto problem = [&](const std::string& message) {
    problems.push_back({"--detectors", 0, 0, "'" + token + "': " + message});
  };
  if (plan.kind == "random" || plan.kind == "null") {
    if (token != plan.kind) problem("the " + plan.kind + " baseline takes no parameters");
    return plan;
  }
  // NAB scores a detector's score per row; `for` only holds alerts back.
  if (parsed.for_duration) problem("'for' does not apply: NAB scores the scores, not alerts");
  plan.spec.name = token;
  plan.spec.kind = plan.kind;
  plan.spec.metrics = {"value"};
  plan.spec.direction = 0;  // NAB's anomalies go both ways
  plan.spec.params = nab_parameter_defaults(plan.kind);
  plan.rank = !detector_scores_calibrated(plan.kind);
  plan.rest_auto = detector_rest_default(plan.kind) > 0;  // the kind rests by default
  apply_detector_token(parsed, plan.spec);
  for (const auto& [key, value] : parsed.extras) {  // scores=, rest=, group=, group_at=
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    const bool numeric =
        !value.empty() && end == value.c_str() + value.size() && std::isfinite(number);
    if (key == "group") {
      if (numeric && number >= 0 && number == std::floor(number) && number <= 1e9)
        plan.group = static_cast<std::size_t>(number);
      else
        problem("'group' must be a whole number of rows >= 0, got '" + value + "'");
    } else if (key == "group_at") {
      if (numeric && number > 0 && number < 1)
        plan.group_at = number;
      else
        problem("'group_at' must be an anomaly score in (0, 1), got '" + value + "'");
    } else if (key == "rest") {
      plan.rest_auto = value == "auto";
      if (value != "auto" && numeric)
        plan.spec.params.emplace_back("rest", number);
      else if (value != "auto")
        problem("'rest' must be a number of rows or auto, got '" + value + "'");
    } else if (value == "rank" || value == "squash")
      plan.rank = value == "rank";
    else
      problem("'scores' must be squash or rank, got '" + value + "'");
  }
  if (plan.kind == "lstm") {
    // The model's metrics are what the kind watches; on NAB there is one series per file.
    try {
      if (plan.spec.model.empty()) plan.spec.model = data_path("models/lstm-rps-5m.h5");
      // Read once here, on this thread; the jobs' detectors share it (util/hdf5.h).
      const LstmModel& model = *shared_lstm_model(plan.spec.model);
      if (model.metrics.size() != 1) {
        std::string names;
        for (const std::string& m : model.metrics) names += (names.empty() ? "" : ", ") + m;
        problem("lstm on NAB needs a model of one metric (one series per file); " + model.path +
                " forecasts " + std::to_string(model.metrics.size()) + " [" + names +
                "] (give one with lstm:model=PATH)");
      }
      plan.spec.metrics = model.metrics;
      if (!model.mean.empty() && !model.std.empty()) {
        plan.model_mean = model.mean[0];
        plan.model_std = model.std[0];
      }
    } catch (const Error& error) {
      for (const Diagnostic& d : error.diagnostics()) problems.push_back(d);
    }
  }
  return plan;
}

// The anomaly score in [0, 1] of a detector score s with limit L > 0.
double squash(float score, double limit) {
  const double r = std::max(0.0, static_cast<double>(score)) / limit;
  return r / (1.0 + r);
}

// One data file: its values standardized by its probationary rows.
struct Series {
  std::vector<float> values;
  SimTime step = 0;
};

Series load_series(const std::string& root, const NabCorpusFile& file) {
  const std::string path = (fs::path(root) / "data" / file.relative_path).string();
  const ReplaySeries replay = read_replay_csv(path, "value", ReplayOrder::kAsWritten);
  if (replay.times != file.timestamps)
    throw InputError(path, "its rows differ from those the NAB corpus reader found");
  const std::size_t rows = replay.rows();
  const auto probation = static_cast<std::size_t>(nab_probationary_length(rows));
  double mean = 0.0, sd = 1.0;
  if (probation >= 1) {
    double sum = 0.0;
    for (std::size_t i = 0; i < probation; ++i) sum += replay.values[i];
    mean = sum / static_cast<double>(probation);
    double squares = 0.0;
    for (std::size_t i = 0; i < probation; ++i)
      squares += (replay.values[i] - mean) * (replay.values[i] - mean);
    sd = std::sqrt(squares / static_cast<double>(probation));
    if (!(sd > 0.0)) sd = 1.0;
  }
  Series series;
  series.step = replay.step;
  series.values.reserve(rows);
  for (double value : replay.values)
    series.values.push_back(static_cast<float>((value - mean) / sd));
  return series;
}

// group=N: each row at or above group_at opens an incident whose next N rows score 0.
std::vector<double> group_incidents(std::vector<double> scores, const Plan& plan) {
  if (plan.group == 0) return scores;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] < plan.group_at) continue;
    const std::size_t end = std::min(scores.size(), i + 1 + plan.group);
    for (std::size_t k = i + 1; k < end; ++k) scores[k] = 0.0;
    i = end - 1;
  }
  return scores;
}

std::vector<double> anomaly_scores(const Plan& plan, const Series& series,
                                   const std::string& relative_path, std::uint64_t seed) {
  const std::size_t rows = series.values.size();
  std::vector<double> result(rows, 0.0);
  if (plan.kind == "null") return result;
  if (plan.kind == "random") {
    const RandomStream stream(seed, entity_id("nab-random:" + relative_path), Purpose::kScenario);
    for (std::size_t i = 0; i < rows; ++i) result[i] = stream.uniform(i);
    return result;
  }
  std::vector<float> mapped;
  if (plan.kind == "lstm") {
    mapped.reserve(rows);
    for (float z : series.values)
      mapped.push_back(static_cast<float>(plan.model_mean + plan.model_std * z));
  }
  DetectorSpec spec = plan.spec;
  if (plan.rest_auto) {
    const double rest = std::max(1.0, std::floor(nab_probationary_length(rows) / 5.0));
    spec.params.erase(std::remove_if(spec.params.begin(), spec.params.end(),
                                     [](const auto& p) { return p.first == "rest"; }),
                      spec.params.end());
    spec.params.emplace_back("rest", rest);
  }
  const SeriesScores scores =
      score_series(spec, plan.kind == "lstm" ? mapped : series.values, series.step, "--detectors");
  for (std::size_t i = 0; i < rows; ++i) result[i] = squash(scores.scores[i], scores.limit);
  if (!plan.rank) return group_incidents(std::move(result), plan);
  // rank: a_i = (number of earlier rows with a lower score + squash_i) / (i + 1), counted
  // with a Fenwick tree over the file's distinct scores (their order only).
  std::vector<double> distinct = result;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<std::size_t> tree(distinct.size() + 1, 0);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t slot = static_cast<std::size_t>(
        std::lower_bound(distinct.begin(), distinct.end(), result[i]) - distinct.begin());
    std::size_t below = 0;
    for (std::size_t k = slot; k > 0; k -= k & (~k + 1)) below += tree[k];
    const double squashed = result[i];
    result[i] = (static_cast<double>(below) + squashed) / static_cast<double>(i + 1);
    for (std::size_t k = slot + 1; k < tree.size(); k += k & (~k + 1)) ++tree[k];
  }
  return group_incidents(std::move(result), plan);
}

struct Entry {
  std::string name;
  bool ours = false;
  std::vector<double> scores;  // per profile (corpus order), normalized
  std::size_t detected = 0, windows = 0;
};

Json file_json(const std::string& name, const NabFileScore& s) {
  return {{"file", name},         {"raw_score", s.score},
          {"tp", s.tp},           {"fp", s.fp},
          {"fn", s.fn},           {"tn", s.tn},
          {"windows", s.windows}, {"windows_detected", s.windows_detected}};
}

// Whether `path` lies in one of NAB's own folders (data, labels, results, config): its
// inputs and published scores, which a results file must not replace.
bool inside_nab(const std::string& root, const std::string& path) {
  std::error_code error;
  const fs::path target = fs::weakly_canonical(fs::absolute(path, error), error);
  for (const char* folder : {"data", "labels", "results", "config"}) {
    const fs::path inside = fs::weakly_canonical(fs::absolute(fs::path(root) / folder), error);
    const auto [end, _] = std::mismatch(inside.begin(), inside.end(), target.begin(), target.end());
    if (end == inside.end()) return true;
  }
  return false;
}

}  // namespace

NabCorpus read_kept_corpus(const std::string& root, const std::vector<std::string>& globs) {
  // Only the files --files keeps are read: the others need not be there.
  const auto kept = [&globs](const std::string& relative_path) {
    if (globs.empty()) return true;
    for (const std::string& glob : globs)
      if (fnmatch(glob.c_str(), relative_path.c_str(), 0) == 0) return true;
    return false;
  };
  NabCorpus corpus = read_nab_corpus(root, kept);
  if (corpus.files.empty() && !globs.empty()) {
    std::string all;
    for (const std::string& glob : globs) all += (all.empty() ? "" : ",") + glob;
    throw InputError("--files", "'" + all + "' matches no NAB file (<category>/<file>.csv)");
  }
  return corpus;
}

int nab_run_command(const NabRunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  if (!options.out_path.empty()) {
    if (inside_nab(options.root, options.out_path))
      throw InputError(options.out_path,
                       "cannot write the results into NAB's own folders (data, labels, results, "
                       "config of " +
                           options.root + "): they are its inputs and scores");
    if (const std::string reason = unwritable_reason(options.out_path); !reason.empty())
      throw InputError(options.out_path, "cannot write the results: " + reason);
  }
  NabCorpus corpus = read_kept_corpus(options.root, options.files);

  std::vector<Diagnostic> problems;
  std::vector<Plan> plans;
  for (const std::string& token : options.detectors) {
    for (const Plan& other : plans)
      if (other.name == token) problems.push_back({"--detectors", 0, 0, "'" + token + "' twice"});
    plans.push_back(parse_plan(token, problems));
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  for (const Plan& plan : plans) {  // bad parameters fail here, not in a job
    if (plan.kind == "random" || plan.kind == "null") continue;
    const auto detector = make_detector(plan.spec, 1, "--detectors");
    if (!(detector->limit() > 0))
      throw InputError("--detectors", "'" + plan.name +
                                          "': its limit must be > 0 on NAB (scores are mapped "
                                          "to [0, 1] as s / (s + limit))");
  }

  // Published entries (optional: a NAB clone without results still runs).
  const fs::path final_path = fs::path(options.root) / "results" / "final_results.json";
  Json published = Json::object();
  if (fs::is_regular_file(final_path)) {
    std::ifstream in(final_path);
    try {
      published = Json::parse(in);
    } catch (const Json::parse_error& error) {
      throw InputError(final_path.string(), std::string("not valid JSON: ") + error.what());
    }
    if (!published.is_object())
      throw InputError(final_path.string(), "expected an object: detector -> profile -> score");
  }

  std::vector<Series> series(corpus.files.size());
  for (std::size_t f = 0; f < corpus.files.size(); ++f)
    series[f] = load_series(options.root, corpus.files[f]);

  // Jobs: every (detector, file), each into its own slot.
  const std::size_t files = corpus.files.size();
  const std::size_t jobs = plans.size() * files;
  std::vector<std::vector<double>> scores(jobs);
  const bool show_progress = !options.quiet && isatty(STDERR_FILENO);
  const std::size_t threads =
      std::min<std::size_t>(options.threads, std::max<std::size_t>(jobs, 1));
  try {
    parallel_for(
        jobs, options.threads,
        [&](std::size_t j) {
          const std::size_t f = j % files;
          try {
            scores[j] = anomaly_scores(plans[j / files], series[f], corpus.files[f].relative_path,
                                       options.seed);
          } catch (const std::exception& error) {
            throw InputError(corpus.files[f].relative_path,
                             plans[j / files].name + ": " + error.what());
          }
        },
        [&](std::size_t finished) {
          if (show_progress)
            std::fprintf(stderr, "\rnab run: %zu/%zu detector-files", finished, jobs);
        });
  } catch (const Error&) {
    if (show_progress) std::fprintf(stderr, "\r\033[K");
    throw;
  }
  if (show_progress) std::fprintf(stderr, "\r\033[K");

  std::size_t rows = 0;
  for (const Series& s : series) rows += s.values.size();
  Json json;
  json["nab_root"] = options.root;
  json["files"] = Json::array();
  for (const NabCorpusFile& file : corpus.files) json["files"].push_back(file.relative_path);
  json["rows"] = rows;
  json["windows"] = corpus.window_count();
  json["detectors"] = options.detectors;
  json["random_seed"] = options.seed;
  json["anomaly_score"] =
      "values standardized by the probationary rows; squash: a = r / (1 + r), r = max(score, 0) "
      "/ limit; rank: a_i = (earlier rows with a lower squash + squash_i) / (i + 1)";

  if (!options.results_dir.empty()) {
    std::vector<std::string> names;
    for (const Plan& plan : plans) {
      names.push_back(nab_results_name(plan.name));
      for (std::size_t e = 0; e + 1 < names.size(); ++e)
        if (names[e] == names.back())
          throw InputError("--results", "'" + plans[e].name + "' and '" + plan.name +
                                            "' would share the results folder " + names.back());
    }
    for (std::size_t j = 0; j < jobs; ++j)
      write_nab_results_file(options.results_dir, names[j / files], corpus.files[j % files],
                             scores[j]);
  }

  std::vector<Entry> board;
  for (std::size_t d = 0; d < plans.size(); ++d) {
    std::vector<NabFile> nab_files;
    for (std::size_t f = 0; f < files; ++f)
      nab_files.push_back({corpus.files[f].relative_path, corpus.files[f].windows,
                           std::move(scores[d * files + f])});
    Entry entry{plans[d].name, true, {}, 0, 0};
    Json detector;
    detector["kind"] = plans[d].kind;
    if (plans[d].kind != "random" && plans[d].kind != "null")
      detector["scores"] = plans[d].rank ? "rank" : "squash";
    if (plans[d].rest_auto) detector["rest"] = "auto: a fifth of each file's probationary rows";
    if (plans[d].group > 0) {
      detector["group"] = plans[d].group;
      detector["group_at"] = plans[d].group_at;
    }
    if (!plans[d].spec.params.empty() || plans[d].spec.direction != 0) {
      Json params = Json::object();
      for (const auto& [key, value] : plans[d].spec.params) params[key] = value;
      if (plans[d].spec.direction != 0)
        params["direction"] = plans[d].spec.direction > 0 ? "up" : "down";
      detector["params"] = params;
    }
    for (const NabProfile& profile : corpus.profiles) {
      const NabCorpusScore best = nab_optimize_threshold(nab_files, profile);
      const NabCorpusScore at = nab_score_corpus(nab_files, profile, best.threshold);
      entry.scores.push_back(best.normalized);
      if (&profile == &corpus.profiles.front()) {
        entry.detected = best.totals.windows_detected;
        entry.windows = best.totals.windows;
      }
      Json p;
      p["threshold"] = best.threshold;
      p["score"] = best.normalized;
      p["raw_score"] = best.raw;
      p["null_score"] = best.null_score;
      p["perfect_score"] = best.perfect_score;
      p["tp"] = best.totals.tp;
      p["fp"] = best.totals.fp;
      p["fn"] = best.totals.fn;
      p["tn"] = best.totals.tn;
      p["windows_detected"] = best.totals.windows_detected;
      p["windows_missed"] = best.totals.windows_missed;
      Json per_file = Json::array();
      for (std::size_t f = 0; f < files; ++f)
        per_file.push_back(file_json(nab_files[f].name, at.files[f]));
      p["files"] = per_file;
      detector["profiles"][profile.name] = p;
    }
    json["results"][plans[d].name] = detector;
    board.push_back(std::move(entry));
  }
  for (const auto& [name, profiles] : published.items()) {
    if (!profiles.is_object()) continue;
    Entry entry{name, false, {}, 0, 0};
    bool complete = true;
    for (const NabProfile& profile : corpus.profiles) {
      const bool has = profiles.contains(profile.name) && profiles[profile.name].is_number();
      complete = complete && has;
      entry.scores.push_back(has ? profiles[profile.name].get<double>() : 0.0);
    }
    if (complete) board.push_back(std::move(entry));
  }
  std::stable_sort(board.begin(), board.end(), [](const Entry& a, const Entry& b) {
    if (a.scores.front() != b.scores.front()) return a.scores.front() > b.scores.front();
    return a.name < b.name;
  });
  Json scoreboard = Json::array();
  for (const Entry& entry : board) {
    Json row;
    row["detector"] = entry.name;
    row["source"] = entry.ours ? "dosim" : "NAB";
    for (std::size_t p = 0; p < corpus.profiles.size(); ++p)
      row[corpus.profiles[p].name] = entry.scores[p];
    scoreboard.push_back(row);
  }
  json["scoreboard"] = scoreboard;

  if (!options.out_path.empty())  // whole or not at all: an earlier file stays on failure
    if (const std::string reason = write_file_replacing(options.out_path, json.dump(2) + "\n");
        !reason.empty())
      throw InputError(options.out_path, "cannot write the results: " + reason);

  const bool subset = !options.files.empty();
  std::printf(
      "dosim nab run: %zu detector%s x %zu file%s (%zu rows, %zu windows) on %zu thread%s\n",
      plans.size(), plans.size() == 1 ? "" : "s", files, files == 1 ? "" : "s", rows,
      corpus.window_count(), threads, threads == 1 ? "" : "s");
  std::printf("  thresholds optimized per profile as NAB's optimizer does; NAB rows from %s\n",
              published.empty() ? "(no results/final_results.json)" : final_path.string().c_str());
  if (subset && !published.empty())
    std::printf("  note: --files scores a subset; NAB's published entries are over all 58 files\n");
  int width = 16;
  for (const Entry& entry : board) width = std::max(width, static_cast<int>(entry.name.size()));
  std::printf("  %4s  %-*s %-6s", "rank", width, "detector", "source");
  for (const NabProfile& profile : corpus.profiles) std::printf(" %19s", profile.name.c_str());
  std::printf("  %s\n", "windows detected (standard)");
  for (std::size_t r = 0; r < board.size(); ++r) {
    const Entry& entry = board[r];
    std::printf("  %4zu  %-*s %-6s", r + 1, width, entry.name.c_str(),
                entry.ours ? "dosim" : "NAB");
    for (double score : entry.scores) std::printf(" %19.2f", score);
    if (entry.ours) std::printf("  %zu/%zu", entry.detected, entry.windows);
    std::printf("\n");
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::printf("  wall time %.2f s\n", wall);
  if (!options.out_path.empty()) std::printf("  results   %s\n", options.out_path.c_str());
  if (!options.results_dir.empty())
    std::printf("  anomaly scores in NAB's layout under %s\n", options.results_dir.c_str());
  return kExitOk;
}

}  // namespace dosim::cli
