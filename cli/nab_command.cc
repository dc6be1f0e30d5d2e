// `dosim nab score --nab ROOT --detector NAME [--results DIR] [--json] [--optimize]`: a
// detector's NAB score per application profile, from its results in NAB's layout, with the
// thresholds NAB published for it (ROOT/config/thresholds.json) or, with --optimize, the
// thresholds NAB's optimizer would choose. The formulas are in docs/scoring.md, "NAB score".
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "analysis/nab_corpus.h"
#include "analysis/nab_score.h"
#include "commands.h"
#include "engine/diagnostics.h"

namespace dosim::cli {

CLI::App* add_nab_command(CLI::App& app, NabScoreOptions& options) {
  auto* nab = app.add_subcommand("nab", "The Numenta Anomaly Benchmark (NAB)");
  nab->require_subcommand(1);
  auto* score = nab->add_subcommand(
      "score", "Score a detector's NAB results per profile, normalized as NAB's scoreboard");
  score->add_option("--nab", options.root, "NAB root (data/, labels/, config/)")
      ->envname("DOSIM_NAB")
      ->required();
  score->add_option("--detector", options.detector, "Detector name (results/<NAME>/...)")
      ->required();
  score->add_option("--results", options.results_dir,
                    "Folder holding <NAME>/<category>/<NAME>_<file>.csv (default: ROOT/results)");
  score->add_flag("--json", options.json, "Print the scores as JSON");
  score->add_flag("--optimize", options.optimize,
                  "Choose each profile's threshold with NAB's optimizer instead of "
                  "config/thresholds.json");
  return nab;
}

int nab_score_command(const NabScoreOptions& options) {
  try {
    const NabCorpus corpus = read_nab_corpus(options.root);
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
    std::printf("%-20s %12s %12s %9s %9s %9s %9s %9s\n", "profile", "threshold", "raw score",
                "null", "perfect", "detected", "missed", "NAB score");
    for (std::size_t p = 0; p < scores.size(); ++p) {
      const NabCorpusScore& s = scores[p];
      std::printf("%-20s %12.6g %12.4f %9.2f %9.2f %9zu %9zu %9.2f\n",
                  corpus.profiles[p].name.c_str(), s.threshold, s.raw, s.null_score,
                  s.perfect_score, s.totals.windows_detected, s.totals.windows_missed,
                  s.normalized);
    }
    return kExitOk;
  } catch (const InputError& error) {
    print_input_error(error);
    return kExitBadInput;
  } catch (const std::invalid_argument& error) {
    print_input_error(error);
    return kExitBadInput;
  }
}

}  // namespace dosim::cli
