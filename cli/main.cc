// dosim: the command line front end. Parses arguments with CLI11 and dispatches to the
// subcommands in commands.h. Argument errors exit with code 2, like every other bad input.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>
#include <thread>
#include <utility>

#include "commands.h"
#include "detectors/mad_kernel.h"
#include "dosim/detectors/registry.h"
#include "dosim/error.h"
#include "dosim/version.h"
#ifdef DOSIM_HAVE_PYTHON
#include "python/embedded.h"
#endif
#include "number_options.h"
#include "sweep_command.h"
#include "util/cores.h"

namespace {

// An output path given as "" (a shell variable left empty) is a mistake, not the default.
const CLI::Validator kNamesAFile(
    [](std::string& value) {
      return value.empty() ? std::string("must name a file (the path is empty)") : std::string();
    },
    "", "names a file");

// --lua-instructions and --lua-memory, for run and for validate (which runs the main chunk).
void add_lua_limits(CLI::App* command, std::int64_t& instructions, std::int64_t& memory_mib) {
  command
      ->add_option("--lua-instructions", instructions,
                   "Instruction budget of a script per callback or coroutine resume (1000 to "
                   "1e12; default 50,000,000)")
      ->transform(dosim::cli::whole_number())
      ->check(dosim::cli::in_range(std::int64_t{1000}, std::int64_t{1'000'000'000'000}));
  command
      ->add_option("--lua-memory", memory_mib,
                   "Memory cap of a script in MiB (1 to 1048576; default 256)")
      ->transform(dosim::cli::whole_number())
      ->check(dosim::cli::in_range(std::int64_t{1}, std::int64_t{1} << 20));
}

}  // namespace

int main(int argc, char** argv) {
  // A file size limit (ulimit -f) fails a write (EFBIG), which every command reports (exit 2,
  // its temporary file removed), instead of killing dosim and leaving that file behind.
  std::signal(SIGXFSZ, SIG_IGN);
#ifdef DOSIM_HAVE_PYTHON
  dosim::python::enable_embedded_python();  // kind python; the interpreter starts on first use
#endif
  CLI::App app{"dosim: deterministic discrete-event simulator of microservice systems"};
  app.set_version_flag("--version", "dosim " DOSIM_VERSION);
  app.require_subcommand(1);

  dosim::cli::RunCommandOptions run;
  std::uint64_t seed = 0;
  auto* run_cmd = app.add_subcommand("run", "Run a scenario and write its HDF5 trace");
  run_cmd->add_option("scenario", run.scenario_path, "Scenario YAML file")->required();
  // A seed is checked like the scenario's `seed:`: a whole number in [0, 1e18]; never
  // wrapped (-1 is not 2^64 - 1) nor clamped.
  auto* seed_opt =
      run_cmd
          ->add_option("--seed", seed,
                       "Random seed, a whole number in [0, 1e18] (overrides the scenario's "
                       "`seed`)")
          ->transform(dosim::cli::seed_validator());
  run_cmd
      ->add_option("--mode", run.mode,
                   "fluid or requests: simulate per tick or every request (overrides the "
                   "scenario's `mode`)")
      ->check(CLI::IsMember({"fluid", "requests"}));
  run_cmd
      ->add_option(
          "--out,-o", run.out_path,
          "Trace file to write (default: the scenario file's stem .h5 in the working directory)")
      ->check(kNamesAFile);
  run_cmd->add_flag(
      "--quiet,-q", run.quiet,
      "Print only what follows the summary (alertmanager, remediation and score tables): no "
      "progress, story or summary");
  run_cmd
      ->add_option("--script", run.script_path,
                   "Lua chaos script to run inside the simulation (docs/lua-api.md)")
      ->check(kNamesAFile);
  add_lua_limits(run_cmd, run.lua_instructions, run.lua_memory_mib);
  run_cmd
      ->add_option("--events", run.events_path,
                   "Write every event (faults, changes, alerts, incidents) as JSON lines")
      ->check(kNamesAFile);
  run_cmd->add_flag("--strict", run.strict,
                    "Treat warnings (a bare number for a duration, ...) as errors");
  run_cmd
      ->add_option("--report", run.report_path,
                   "Also write the run report (HTML, as dosim report) with the wall time")
      ->check(kNamesAFile);
  run_cmd
      ->add_option("--threads,-j", run.threads,
                   "Threads for each tick's work, 1 to 256; the trace is the same for any count")
      ->transform(dosim::cli::whole_number())
      ->check(dosim::cli::in_range(1, 256));

  dosim::cli::ReportOptions report;
  auto* report_cmd = app.add_subcommand(
      "report", "Draw a trace as one self-contained HTML page: map, timeline, incidents, scores");
  report_cmd->add_option("trace", report.trace_path, "Trace written by dosim run")->required();
  report_cmd
      ->add_option("--out,-o", report.out_path,
                   "HTML file to write, - for standard output (default: the trace's name "
                   "with .html)")
      ->check(kNamesAFile);

  dosim::cli::ValidateOptions validate;
  auto* validate_cmd = app.add_subcommand(
      "validate", "Check a scenario as `dosim run` would and print every problem as FILE:LINE:COL");
  validate_cmd->add_option("scenario", validate.scenario_path, "Scenario YAML file")->required();
  validate_cmd
      ->add_option("--script", validate.script_path,
                   "Lua chaos script to check with it (as `dosim run --script`)")
      ->check(kNamesAFile);
  validate_cmd->add_flag("--strict", validate.strict, "Treat warnings as errors (exit 2)");
  validate_cmd
      ->add_option("--mode", validate.mode,
                   "fluid or requests: check it as `dosim run --mode` would run it (the request "
                   "level's limits; default: the scenario's `mode`)")
      ->check(CLI::IsMember({"fluid", "requests"}));
  add_lua_limits(validate_cmd, validate.lua_instructions, validate.lua_memory_mib);

  dosim::cli::ScoreOptions score;
  auto* score_cmd = app.add_subcommand(
      "score", "Recompute the scores of a run from its trace, or score another tool's alerts");
  score_cmd->add_option("trace", score.trace_path, "Trace written by dosim run")->required();
  auto* alerts_opt = score_cmd->add_option(
      "--alerts", score.alerts_path,
      "Score these alerts instead of the trace's own: CSV or JSON lines with time (seconds) or "
      "time_ns, service or target, optional detector, metric, severity, resolved[_ns]");
  auto* scores_opt = score_cmd->add_option(
      "--scores", score.scores_path,
      "Score alerts made from per-series anomaly scores: CSV or JSON lines with time or "
      "time_ns, series, score, optional detector");
  alerts_opt->excludes(scores_opt);
  score_cmd
      ->add_option("--threshold", score.threshold,
                   "With --scores: a score >= this is a detection (NAB's rule), a finite number")
      ->check(CLI::Validator(CLI::Number).description(""))
      ->check(CLI::Validator(
          [](std::string& text) {
            const double value = std::strtod(text.c_str(), nullptr);
            return std::isfinite(value) ? std::string() : "must be a finite number";
          },
          ""))
      ->needs(scores_opt)
      ->capture_default_str();
  auto* rca_opt = score_cmd->add_option(
      "--rca", score.rca_path,
      "Score root-cause rankings from elsewhere: CSV (incident_id, candidate, "
      "optional rank, ranker, delay_s) or JSON lines (docs/rca.md)");
  rca_opt->excludes(alerts_opt)->excludes(scores_opt);
  score_cmd->add_flag("--json", score.json, "Print the scores as JSON");

  dosim::cli::ExportOptions export_options;
  std::vector<std::string> export_args;
  auto* export_cmd = app.add_subcommand(
      "export",
      "Write a trace's series as OpenMetrics (Prometheus backfill) or CSV, or a request-level "
      "trace's spans (OTLP/JSON) or request logs (JSON lines)");
  export_cmd->add_option("trace", export_args, "Trace written by dosim run (or: spans|logs TRACE)")
      ->required()
      ->expected(1, 2);
  auto* format_opt =
      export_cmd
          ->add_option("--format,-f", export_options.format,
                       "openmetrics, csv, grafana-dashboard, spans or logs")
          ->check(CLI::IsMember({"openmetrics", "csv", "grafana-dashboard", "spans", "logs"}));
  export_cmd->add_option("--start", export_options.start,
                         "Wall-clock time of the run's start: Unix seconds or RFC 3339 "
                         "(openmetrics default: now minus the run's span)");
  export_cmd
      ->add_option("--out,-o", export_options.out_path,
                   "File to write (default, or -: standard output)")
      ->check(kNamesAFile);

  dosim::cli::RoutesOptions routes;
  auto* routes_cmd =
      app.add_subcommand("routes",
                         "The receivers an alert with these labels reaches through an Alertmanager "
                         "configuration (as amtool config routes test prints them)");
  routes_cmd
      ->add_option("config", routes.config_path,
                   "alertmanager.yml (or, with --scenario, a scenario)")
      ->required();
  routes_cmd->add_option("labels", routes.labels, "The alert's labels, NAME=VALUE ...");
  routes_cmd->add_flag("--scenario", routes.scenario,
                       "CONFIG is a scenario: route through its `alertmanager:` section");

  dosim::cli::RulesOptions rules;
  auto* rules_cmd = app.add_subcommand(
      "rules", "Prometheus alerting rules of your own against a run's ground truth");
  auto* rules_score_cmd = rules_cmd->add_subcommand(
      "score",
      "Evaluate a rule file with the real Prometheus over a trace's series and score its alerts");
  rules_cmd->require_subcommand(1);
  rules_score_cmd->add_option("trace", rules.trace_path, "Trace written by dosim run")->required();
  rules_score_cmd->add_option("rules", rules.rules_path, "Prometheus rule file (groups: ...)")
      ->required();
  rules_score_cmd->add_option("--eval-interval", rules.eval_interval,
                              "Evaluate every rule at this interval (default: the group's "
                              "interval, else the trace's record interval)");
  rules_score_cmd->add_option("--keep", rules.keep,
                              "Keep the working folder here (export, blocks, Prometheus log)");
  rules_score_cmd->add_flag("--json", rules.json, "Print the scores and alerts as JSON");

  dosim::cli::ServeOptions serve;
  std::uint64_t serve_seed = 0;
  auto* serve_cmd = app.add_subcommand(
      "serve",
      "Run a scenario against the wall clock: a live page at /, a JSON API (/api/state, "
      "/api/control, /api/inject) and its metrics for Prometheus at /metrics");
  serve_cmd->add_option("scenario", serve.scenario_path, "Scenario YAML file")->required();
  serve_cmd
      ->add_option("--listen", serve.listen,
                   "HOST:PORT (or http://HOST:PORT) for the page, the API and /metrics")
      ->capture_default_str();
  serve_cmd
      ->add_option("--speed", serve.speed,
                   "Simulated seconds per wall-clock second (0: as fast as it goes)")
      ->capture_default_str();
  auto* serve_seed_opt =
      serve_cmd
          ->add_option("--seed", serve_seed,
                       "Seed, a whole number in [0, 1e18] (default: the scenario's)")
          ->transform(dosim::cli::seed_validator());
  serve_cmd->add_option("--out,-o", serve.out_path, "Also write the trace here")
      ->check(kNamesAFile);
  serve_cmd->add_option("--alertmanager", serve.alertmanager,
                        "Push alerts to this Alertmanager (http://HOST:PORT)");
  serve_cmd->add_flag("--exit-at-end", serve.exit_at_end,
                      "Exit when the run ends (default: keep serving the last tick)");

  dosim::cli::NabOptions nab;
  auto* nab_cmd = dosim::cli::add_nab_command(app, nab);

  dosim::cli::BenchOptions bench;
  bench.threads = dosim::usable_cores();
  auto* bench_cmd = app.add_subcommand(
      "bench",
      "Run detectors x scenarios x seeds and compare their scores (JSON with --out, HTML with "
      "--report)");
  bench_cmd
      ->add_option("--detectors", bench.detectors,
                   "Detector kinds (" + dosim::detector_kinds_text() +
                       ") with optional parameters KIND:key=value[:key=value...], or names of "
                       "the scenarios' own detectors, comma-separated")
      ->required()
      ->delimiter(',')
      ->transform(dosim::cli::trimmed());
  bench_cmd->add_option("--scenarios", bench.scenarios, "Scenario files, comma-separated")
      ->required()
      ->delimiter(',');
  bench_cmd
      ->add_option("--seeds", bench.seeds, "Seeds per scenario, 1 to 100000: its seed, +1, ...")
      ->transform(dosim::cli::whole_number())
      ->check(dosim::cli::in_range(1, 100000));
  bench_cmd
      ->add_option("--threads,-j", bench.threads,
                   "Runs in parallel, 1 to 1024 (results are the same for any number)")
      ->transform(dosim::cli::whole_number())
      ->check(dosim::cli::in_range(1, 1024));
  bench_cmd->add_option("--out,-o", bench.out_path, "Write the results as JSON")
      ->check(kNamesAFile);
  bench_cmd
      ->add_option("--report", bench.report_path,
                   "Write the results as one self-contained HTML page (tables, charts)")
      ->check(kNamesAFile);
  bench_cmd
      ->add_option("--script", bench.script_path,
                   "Lua script run in every run (its sim.detector detectors can be listed)")
      ->check(kNamesAFile);
  bench_cmd->add_flag("--quiet,-q", bench.quiet, "No progress line");
  bench_cmd->add_flag("--closed-loop", bench.closed_loop,
                      "Each detector drives the scenarios' remediation playbooks in its own run: "
                      "time to mitigate and recover, beside a null detector and an oracle");

  dosim::cli::SweepOptions sweep;
  auto* sweep_cmd = dosim::cli::add_sweep_command(app, sweep);

  auto* lab_cmd = app.add_subcommand(
      "lab",
      "Teaching labs: `lab list`, `lab seed LAB --student ID`, `lab grade LAB SUBMISSION "
      "[--key K] [--student ID] [--json FILE]` (docs/labs.md)");
  lab_cmd->prefix_command();  // everything after `lab` goes to the grader as it is
  lab_cmd->set_help_flag();   // --help too: the grader's own help lists its commands

  // An unknown command word is said as such (CLI11 says only that a subcommand is required).
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* command : app.get_subcommands({})) names.push_back(command->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      // The commands of a command, by their own word (`dosim merge` is `dosim sweep merge`).
      static const std::pair<const char*, const char*> kNested[] = {
          {"merge", "sweep merge"}, {"grade", "lab grade"}, {"seed", "lab seed"}};
      std::string hint = dosim::did_you_mean(argv[1], names);
      for (const auto& [word, full] : kNested)
        if (std::string_view(argv[1]) == word) hint = std::string("; did you mean '") + full + "'?";
      std::fprintf(stderr, "dosim: unknown command '%s'%s (dosim --help lists them)\n", argv[1],
                   hint.c_str());
      return dosim::cli::kExitBadInput;
    }
  }
  // A command of a command that needs one (`dosim rules score`, `dosim nab run`): a word that
  // is none of them is said as such (CLI11 said "A subcommand is required").
  if (argc > 1 && (argc == 2 || argv[2][0] != '-')) {
    for (const CLI::App* command : app.get_subcommands({})) {
      if (command->get_name() != argv[1] || command->get_require_subcommand_min() == 0) continue;
      std::vector<std::string> names;
      for (const CLI::App* sub : command->get_subcommands({})) names.push_back(sub->get_name());
      if (argc > 2 && std::find(names.begin(), names.end(), argv[2]) != names.end()) continue;
      std::string listed;
      for (const std::string& name : names) listed += (listed.empty() ? "" : ", ") + name;
      if (argc == 2)
        std::fprintf(stderr, "dosim %s: needs a command: %s (dosim %s --help)\n", argv[1],
                     listed.c_str(), argv[1]);
      else
        std::fprintf(stderr, "dosim %s: unknown command '%s'%s (its commands: %s)\n", argv[1],
                     argv[2], dosim::did_you_mean(argv[2], names).c_str(), listed.c_str());
      return dosim::cli::kExitBadInput;
    }
  }
  // More arguments than a command takes: said with what they were (CLI11 said "trace: At
  // Most 2 required but received 3").
  if (argc > 1 && std::string_view(argv[1]) == "export") {
    std::vector<std::string> words;
    for (int i = 2; i < argc; ++i) {
      const std::string_view word = argv[i];
      if (word == "--help" || word == "-h") {  // its help, whatever else is there
        words.clear();
        break;
      }
      if (word.size() > 1 && word[0] == '-') {
        // An option (each of export's takes a value) and, unless it says =VALUE, its value.
        if (word.find('=') == std::string_view::npos) ++i;
        continue;
      }
      words.emplace_back(word);
    }
    const bool stream = !words.empty() && (words[0] == "spans" || words[0] == "logs");
    if (words.size() > (stream ? 2u : 1u)) {
      std::string listed;
      for (const std::string& word : words) listed += (listed.empty() ? "'" : ", '") + word + "'";
      std::fprintf(stderr,
                   "command line: dosim export takes one trace (dosim export TRACE --format F, "
                   "or dosim export spans|logs TRACE), got %s\n1 problem\n",
                   listed.c_str());
      return dosim::cli::kExitBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    // A misspelt option: the one meant, where one is near (CLI11 says only "not expected").
    const CLI::App* command = nullptr;
    for (const CLI::App* candidate : app.get_subcommands({}))
      if (argc > 1 && candidate->get_name() == argv[1]) command = candidate;
    if (command != nullptr) {
      std::vector<std::string> known;
      for (const CLI::Option* option : command->get_options())
        for (const std::string& name : option->get_lnames()) known.push_back("--" + name);
      for (int i = 2; i < argc; ++i) {
        const std::string word = std::string(argv[i]).substr(0, std::string(argv[i]).find('='));
        if (word.rfind("--", 0) != 0 || word.size() < 3) continue;
        if (std::find(known.begin(), known.end(), word) != known.end()) continue;
        if (const std::string meant = dosim::did_you_mean(word, known); !meant.empty())
          std::fprintf(stderr, "dosim %s: unknown option '%s'%s\n", argv[1], word.c_str(),
                       meant.c_str());
      }
    }
    return dosim::cli::kExitBadInput;
  }
  if (*seed_opt) run.seed = seed;
  if (const std::string problem = dosim::MadKernel::environment_problem(); !problem.empty())
    std::fprintf(stderr, "dosim: warning: %s\n", problem.c_str());
  // The one handler: every user mistake is a dosim::Error with its positions (exit 2);
  // anything else escaping a command is a bug, reported as such.
  const auto dispatch = [&]() -> int {
    try {
      if (*run_cmd) return dosim::cli::run_command(run);
      if (*lab_cmd) return dosim::cli::lab_command(lab_cmd->remaining());
      if (*bench_cmd) return dosim::cli::bench_command(bench);
      if (*sweep_cmd) return dosim::cli::sweep_command(sweep);
      if (*score_cmd) return dosim::cli::score_command(score);
      if (*report_cmd) return dosim::cli::report_command(report);
      if (*nab_cmd) return dosim::cli::nab_command(nab);
      if (*export_cmd) {
        // `dosim export spans|logs TRACE`, the older spelling, or `dosim export TRACE --format F`.
        if (export_args.size() == 2) {
          if (export_args[0] != "spans" && export_args[0] != "logs")
            throw dosim::InputError("command line",
                                    "dosim export takes one trace and --format "
                                    "(openmetrics, csv, grafana-dashboard, spans or logs), got '" +
                                        export_args[0] + "' before it");
          if (*format_opt && export_options.format != export_args[0])
            throw dosim::InputError("command line", "--format " + export_options.format +
                                                        " contradicts '" + export_args[0] + "'");
          export_options.format = export_args[0];
          export_options.trace_path = export_args[1];
        } else {
          if (export_args.size() == 1 && (export_args[0] == "spans" || export_args[0] == "logs"))
            throw dosim::InputError("command line", "dosim export " + export_args[0] +
                                                        " needs the trace: dosim export " +
                                                        export_args[0] + " TRACE.h5");
          if (!*format_opt)
            throw dosim::InputError(
                "command line",
                "dosim export needs --format openmetrics, csv, grafana-dashboard, spans or logs");
          export_options.trace_path = export_args[0];
        }
        if (export_options.start &&
            (export_options.format == "spans" || export_options.format == "logs"))
          throw dosim::InputError("command line",
                                  "--start applies to openmetrics, csv and grafana-dashboard, "
                                  "not to " +
                                      export_options.format);
        return dosim::cli::export_command(export_options);
      }
      if (*routes_cmd) return dosim::cli::routes_command(routes);
      if (*rules_cmd) return dosim::cli::rules_command(rules);
      if (*serve_cmd) {
        if (*serve_seed_opt) serve.seed = serve_seed;
        return dosim::cli::serve_command(serve);
      }
      return dosim::cli::validate_command(validate);
    } catch (const dosim::Error& error) {
      dosim::cli::print_error(error);
      return dosim::cli::kExitBadInput;
    } catch (const std::exception& error) {
      std::cerr << "dosim: internal error (please report it): " << error.what() << '\n';
      return dosim::cli::kExitInternalError;
    }
  };
  const int code = dispatch();
  // What a command printed must have reached its reader: a full disk or a closed pipe
  // behind standard output is a failure, not a success that lost the output.
  std::cout.flush();
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    // A command that failed has said why (an export to stdout says this very problem).
    if (code == 0)
      std::fprintf(stderr, "dosim: cannot write the output: %s\n", std::strerror(errno));
    return code == 0 ? dosim::cli::kExitBadInput : code;
  }
  return code;
}
