// `dosim nab score --nab ROOT --detector NAME [--results DIR] [--json] [--optimize]`: a
// detector's NAB score per application profile, from its results in NAB's layout, with the
// thresholds NAB published for it (ROOT/config/thresholds.json) or, with --optimize, the
// thresholds NAB's optimizer would choose. The formulas are in docs/scoring.md, "NAB score".
// The `nab` command's options (`score` here, `run` in nab_run_command.cc) are declared here.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "analysis/nab_corpus.h"
#include "commands.h"
#include "dosim/analysis/nab_score.h"
#include "dosim/error.h"
#include "number_options.h"
#include "util/cores.h"

namespace dosim::cli {

CLI::App* add_nab_command(CLI::App& app, NabOptions& all) {
  auto* nab = app.add_subcommand("nab", "The Numenta Anomaly Benchmark (NAB)");
  nab->require_subcommand(1);
  NabScoreOptions& options = all.score;
  auto* score = nab->add_subcommand(
      "score", "Score a detector's NAB results per profile, normalized as NAB's scoreboard");
  score->add_option("--nab", options.root, "NAB root (data/, labels/, config/)")
      ->envname("DOSIM_NAB")
      ->required();
  score->add_option("--detector", options.detector, "Detector name (results/<NAME>/...)")
      ->required();
  score->add_option("--results", options.results_dir,
                    "Folder holding <NAME>/<category>/<NAME>_<file>.csv (default: ROOT/results)");
  score
      ->add_option("--files", options.files,
                   "Only the files matching these globs over <category>/<file>.csv, "
                   "comma-separated, as dosim nab run --files (default: all)")
      ->delimiter(',');
  score->add_flag("--json", options.json, "Print the scores as JSON");
  score->add_flag("--optimize", options.optimize,
                  "Choose each profile's threshold with NAB's optimizer instead of "
                  "config/thresholds.json");

  NabRunOptions& run_options = all.run;
  run_options.threads = usable_cores();
  auto* run = nab->add_subcommand(
      "run",
      "Run dosim's detectors over every NAB file; a scoreboard beside NAB's published entries");
  run->add_option("--nab", run_options.root, "NAB root (data/, labels/, config/, results/)")
      ->envname("DOSIM_NAB")
      ->required();
  run->add_option("--detectors", run_options.detectors,
                  "Comma-separated: surprise, threshold, mad, ewma, lstm (with a one-metric "
                  "model), any kind that scores one series, random, null; parameters as "
                  "KIND:key=value:key=value (mad:window=128)")
      ->required()
      ->delimiter(',')
      ->transform(trimmed());
  run->add_option("--files", run_options.files,
                  "Only the files matching these globs over <category>/<file>.csv, "
                  "comma-separated (default: all)")
      ->delimiter(',');
  run->add_option("--threads,-j", run_options.threads,
                  "Files scored in parallel, 1 to 1024 (results are the same for any number)")
      ->transform(whole_number())
      ->check(dosim::cli::in_range(1, 1024));
  run->add_option("--out,-o", run_options.out_path, "Write the results (per file) as JSON");
  run->add_option("--results", run_options.results_dir,
                  "Also write every row's anomaly score in NAB's results layout, "
                  "DIR/<NAME>/<category>/<NAME>_<file>.csv (NAME: the entry, each character but "
                  "letters, digits, '.', '-' and '_' as '_')");
  run->add_option("--seed", run_options.seed, "Seed of the random baseline, in [0, 1e18]")
      ->transform(seed_validator());
  run->add_flag("--quiet,-q", run_options.quiet, "No progress line");
  run->callback([&all] { all.run_selected = true; });
  return nab;
}

int nab_command(const NabOptions& options) {
  return options.run_selected ? nab_run_command(options.run) : nab_score_command(options.score);
}

int nab_score_command(const NabScoreOptions& options) {
  const NabCorpus corpus = read_kept_corpus(options.root, options.files);
  const std::string results_dir = options.results_dir.empty()
                                      ? (std::filesystem::path(options.root) / "results").string()
                                      : options.results_dir;
  std::vector<NabThreshold> thresholds;
  if (!options.optimize) thresholds = read_nab_thresholds(options.root, options.detector);
  const std::vector<NabFile> files = read_nab_results(corpus, results_dir, options.detector);

  std::vector<NabCorpusScore> scores;
  for (const NabProfile& profile : corpus.profiles) {
    if (options.optimize) {
      scores.push_back(nab_optimize_threshold(files, profile));
      continue;
    }
    const NabThreshold* found = nullptr;
    for (const NabThreshold& threshold : thresholds)
      if (threshold.profile == profile.name) found = &threshold;
    if (found == nullptr)
      throw InputError(
          (std::filesystem::path(options.root) / "config" / "thresholds.json").string(),
          "no threshold for detector `" + options.detector + "` and profile `" + profile.name +
              "`");
    scores.push_back(nab_score_corpus(files, profile, found->threshold));
  }

  if (options.json) {
    nlohmann::ordered_json out;
    out["detector"] = options.detector;
    out["nab_root"] = options.root;
    out["results_dir"] = results_dir;
    out["thresholds"] = options.optimize ? "optimized" : "config/thresholds.json";
    out["files"] = files.size();
    out["windows"] = corpus.window_count();
    nlohmann::ordered_json profiles = nlohmann::ordered_json::object();
    for (std::size_t p = 0; p < scores.size(); ++p) {
      const NabCorpusScore& s = scores[p];
      profiles[corpus.profiles[p].name] = {{"score", s.normalized},
                                           {"threshold", s.threshold},
                                           {"raw_score", s.raw},
                                           {"null_score", s.null_score},
                                           {"perfect_score", s.perfect_score},
                                           {"tp", s.totals.tp},
                                           {"fp", s.totals.fp},
                                           {"fn", s.totals.fn},
                                           {"tn", s.totals.tn},
                                           {"windows_detected", s.totals.windows_detected},
                                           {"windows_missed", s.totals.windows_missed}};
    }
    out["profiles"] = profiles;
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("dosim nab score: %s on %s (%zu files, %zu windows; thresholds %s)\n",
              options.detector.c_str(), options.root.c_str(), files.size(), corpus.window_count(),
              options.optimize ? "optimized" : "from config/thresholds.json");
  std::printf("%-20s %12s %12s %9s %9s %9s %9s %9s\n", "profile", "threshold", "raw score", "null",
              "perfect", "detected", "missed", "NAB score");
  for (std::size_t p = 0; p < scores.size(); ++p) {
    const NabCorpusScore& s = scores[p];
    std::printf("%-20s %12.6g %12.4f %9.2f %9.2f %9zu %9zu %9.2f\n",
                corpus.profiles[p].name.c_str(), s.threshold, s.raw, s.null_score, s.perfect_score,
                s.totals.windows_detected, s.totals.windows_missed, s.normalized);
  }
  return kExitOk;
}

}  // namespace dosim::cli
