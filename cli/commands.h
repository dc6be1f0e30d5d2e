// The subcommands of the `dosim` command line: each parses nothing (main.cc does), calls
// the library (include/dosim/run.h and friends) and prints. Each returns the process exit
// code: 0 success, 2 bad input (scenario, script, command line, files), 3 a run whose chaos
// experiment failed (a game day gating CI), 128 + signal when interrupted. A command
// throws dosim::Error for bad input; main() has the one handler that prints it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dosim/error.h"

namespace CLI {
class App;
}  // namespace CLI

namespace dosim {
struct NabCorpus;
}

namespace dosim::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitExperimentFailed = 3;
inline constexpr int kExitInternalError = 70;  // EX_SOFTWARE: a bug, never bad input

struct RunCommandOptions {
  std::string scenario_path;
  std::optional<std::uint64_t> seed;
  std::string mode;      // --mode fluid|requests; empty: the scenario's `mode`
  std::string out_path;  // empty: <scenario file stem>.h5 in the working directory
  bool quiet = false;
  std::string events_path;  // --events FILE: every event of the run as JSON lines
  std::string script_path;  // --script FILE.lua; empty: the scenario's `script:`, if any
  std::int64_t lua_instructions = 50'000'000;  // per callback or coroutine resume
  std::int64_t lua_memory_mib = 256;
  bool strict = false;      // --strict: warnings are errors
  std::string report_path;  // --report FILE.html: the run report, with the wall time
  int threads = 1;          // --threads K: each tick's work on K threads (same trace)
};

int run_command(const RunCommandOptions& options);

// `dosim report TRACE [-o FILE.html]` (cli/report_command.cc): the run report of a trace.
struct ReportOptions {
  std::string trace_path;
  std::string out_path;  // empty: the trace's path with .html for .h5
};
int report_command(const ReportOptions& options);
// The report's default path: TRACE with its .h5 (or any) extension replaced by .html.
std::string default_report_path(const std::string& trace_path);

// Whether the file at `path` reads as a scenario (a mapping with services: and duration:),
// read quietly: a scenario given where another file belongs is said as such.
bool looks_like_scenario(const std::string& path);

struct ExportOptions {
  std::string format;  // openmetrics, csv, spans (OTLP/JSON) or logs (JSON lines)
  std::string trace_path;
  std::string out_path;              // empty: standard output
  std::optional<std::string> start;  // --start: wall-clock time of the run's t = 0
};

int export_command(const ExportOptions& options);

// `dosim routes CONFIG [LABEL=VALUE ...] [--scenario]` (cli/routes_command.cc).
struct RoutesOptions {
  std::string config_path;
  std::vector<std::string> labels;
  bool scenario = false;  // CONFIG is a scenario: its `alertmanager:`
};
int routes_command(const RoutesOptions& options);

// `dosim rules score TRACE RULES.yml [--eval-interval D] [--keep DIR] [--json]`
// (cli/rules_command.cc).
struct RulesOptions {
  std::string trace_path;
  std::string rules_path;
  std::string eval_interval;  // empty: each group's interval, else the record interval
  std::string keep;           // keep the working folder (export, blocks, log) here
  bool json = false;
};
int rules_command(const RulesOptions& options);

// `dosim serve SCENARIO --listen HOST:PORT [--speed X] ...` (cli/serve_command.cc).
struct ServeOptions {
  std::string scenario_path;
  std::string listen = "127.0.0.1:9464";
  double speed = 1.0;  // simulated seconds per wall second; 0: as fast as it goes
  std::optional<std::uint64_t> seed;
  std::string out_path;      // the trace; empty: none
  std::string alertmanager;  // HOST:PORT or http://HOST:PORT of an Alertmanager
  bool exit_at_end = false;
};
int serve_command(const ServeOptions& options);

struct ValidateOptions {
  std::string scenario_path;
  std::string script_path;  // --script FILE.lua, as `dosim run --script` would run it
  bool strict = false;      // --strict: warnings are errors (exit 2)
  std::string mode;         // --mode fluid|requests: checked as `dosim run --mode` runs it
  // The script's limits while its main chunk runs, as `dosim run` takes them.
  std::int64_t lua_instructions = 50'000'000;
  std::int64_t lua_memory_mib = 256;
};
int validate_command(const ValidateOptions& options);
// `dosim score TRACE [--alerts FILE | --scores FILE [--threshold X]] [--json]`
// (cli/score_command.cc): the trace's own alerts, or another tool's alerts or anomaly scores
// (dosim/analysis/external_scores.h), scored against its ground truth.
struct ScoreOptions {
  std::string trace_path;
  std::string alerts_path;  // --alerts FILE: alerts from elsewhere (CSV or JSON lines)
  std::string scores_path;  // --scores FILE: per-series anomaly scores from elsewhere
  double threshold = 0.5;   // --threshold X: a score >= X is a detection (NAB's rule)
  std::string rca_path;     // --rca FILE: root-cause rankings from elsewhere (docs/rca.md)
  bool json = false;
};
int score_command(const ScoreOptions& options);

// `dosim bench`: detectors x scenarios x seeds (cli/bench_command.cc).
struct BenchOptions {
  std::vector<std::string> detectors;  // KIND[:key=value...], or names of a scenario's detectors
  std::vector<std::string> scenarios;  // scenario files
  int seeds = 1;                       // seeds s, s+1, ..., s+N-1 (s: the scenario's seed)
  int threads = 1;
  std::string out_path;     // --out FILE: JSON results
  std::string report_path;  // --report FILE: the results as one self-contained HTML page
  std::string script_path;  // --script FILE.lua: run in every run; its Lua detectors usable
  bool quiet = false;
  bool closed_loop = false;  // --closed-loop: each detector drives the playbooks
};
int bench_command(const BenchOptions& options);
// `dosim bench --closed-loop` (cli/closed_loop_bench.cc).
int closed_loop_bench(const BenchOptions& options);

// `dosim nab score`: a detector's NAB score per profile (cli/nab_command.cc).
struct NabScoreOptions {
  std::string root;         // --nab ROOT, else $DOSIM_NAB
  std::string detector;     // --detector NAME
  std::string results_dir;  // --results DIR; empty: ROOT/results
  bool json = false;
  bool optimize = false;  // --optimize: NAB's optimizer chooses the thresholds
  std::vector<std::string> files;  // --files: globs over <category>/<file>.csv; empty: all
};
// `dosim nab run`: dosim's detectors over every NAB file, NAB-scored beside NAB's published
// scoreboard (cli/nab_run_command.cc).
struct NabRunOptions {
  std::string root;                    // --nab ROOT, else $DOSIM_NAB
  std::vector<std::string> detectors;  // KIND[:key=value...], random, null
  std::vector<std::string> files;      // --files GLOBS over <category>/<file>.csv; empty: all
  int threads = 1;
  std::string out_path;     // --out FILE: JSON with per-file scores
  std::string results_dir;  // --results DIR: every row's anomaly score in NAB's layout
  std::uint64_t seed = 1;   // the random baseline's seed
  bool quiet = false;
};
int nab_run_command(const NabRunOptions& options);
// The NAB corpus at `root`, only the files one of `globs` (fnmatch over
// <category>/<file>.csv) keeps, all where none is given; throws InputError when the globs keep
// none (cli/nab_run_command.cc).
NabCorpus read_kept_corpus(const std::string& root, const std::vector<std::string>& globs);

// Both `nab` subcommands; `run_selected` tells which one the command line chose.
struct NabOptions {
  NabScoreOptions score;
  NabRunOptions run;
  bool run_selected = false;
};
// Adds the `nab` subcommand (with `score` and `run`) to `app`; returns it.
CLI::App* add_nab_command(CLI::App& app, NabOptions& options);
int nab_score_command(const NabScoreOptions& options);
// Runs the chosen `nab` subcommand.
int nab_command(const NabOptions& options);

// `dosim lab list|seed|grade ...` (cli/lab_command.cc, docs/labs.md): runs the labs' Python
// grader with these arguments in place of this process; returns only by throwing.
int lab_command(const std::vector<std::string>& args);

// Prints diagnostics to stderr, one per line, then "N problems[, M warnings]".
void print_diagnostics(const std::vector<dosim::Diagnostic>& diagnostics);
// print_diagnostics() of a dosim::Error; another exception's what().
void print_error(const std::exception& error);
// Prints warnings to stderr, one per line ("FILE:LINE:COL: warning: message").
void print_warnings(const std::vector<dosim::Diagnostic>& warnings);

}  // namespace dosim::cli
