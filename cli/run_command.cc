// `dosim run`: load, open the trace (failing before any simulation if it cannot be
// written), simulate with a progress line on a terminal, close the trace, print a summary.
// SIGINT / SIGTERM stop the run at the next tick; the trace is closed with complete = 0 and
// the exit code is 128 + the signal number. An output (--out, --events) that names one of
// the run's inputs, or cannot be written, is refused before anything runs.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include "commands.h"
#include "dosim/analysis/run_report.h"
#include "dosim/run.h"
#include "run_story.h"
#include "score_table.h"
#include "scripting/script_interrupt.h"
#include "util/interrupt_hook.h"
#include "util/output_file.h"

namespace dosim::cli {
namespace {

constexpr std::size_t kStoryLines = 40;

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void on_signal(int signal_number) {
  g_signal.store(signal_number);
  g_stop.store(true);
  fire_interrupt_hook();  // Python code in a loop too (util/interrupt_hook.h)
}

using WallClock = std::chrono::steady_clock;

// Rewrites one status line on a terminal, at most five times per wall-clock second.
class ProgressLine : public FrameSink {
 public:
  explicit ProgressLine(const Scenario& scenario) : scenario_(scenario) {}
  void on_frame(const Frame& frame) override {
    if ((frame.tick & 1023) != 0) return;
    const auto now = WallClock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double share = static_cast<double>(frame.time) / static_cast<double>(scenario_.duration);
    std::fprintf(stderr, "\r%5.1f%%  simulated %s of %s", 100.0 * share,
                 format_duration(frame.time).c_str(), format_duration(scenario_.duration).c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void clear() const {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  const Scenario& scenario_;
  WallClock::time_point last_ = WallClock::now();
  bool shown_ = false;
};

std::string default_out_path(const std::string& scenario_path) {
  return std::filesystem::path(scenario_path).stem().string() + ".h5";
}

// What `path` is if it is one of the run's inputs (the same file: device and inode), or "".
std::string input_named(const std::string& path,
                        const std::vector<std::pair<std::string, std::string>>& inputs) {
  for (const auto& [what, input] : inputs) {
    if (same_file(path, input)) return what + " (" + input + ")";
  }
  return "";
}

// A file's inode and modification time, to tell whether a run replaced it; nullopt when
// there is none.
struct FileIdentity {
  dev_t device;
  ino_t inode;
  std::int64_t modified_ns;
  bool operator==(const FileIdentity&) const = default;
};
std::optional<FileIdentity> file_identity(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{
      st.st_dev, st.st_ino,
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// Ends a run that failed: the trace is already in place or removed (the Run is gone).
// Leaves without exit handlers: after a write failed under a file size limit (ulimit -f),
// HDF5 1.10 keeps a file it could not close, and its exit handler would crash on it.
[[noreturn]] void leave_failed() {
  std::fflush(nullptr);
  std::_Exit(kExitBadInput);
}

// The stream already open on the file `path` names (/dev/stdout, /dev/fd/2, ...), if one of
// standard output and error is: opened anew, /dev/stdout onto a file was truncated and
// written from its start, under the summary written after it (every event lost).
std::FILE* standard_stream_at(const std::string& path) {
  struct stat named {};
  if (::stat(path.c_str(), &named) != 0) return nullptr;
  for (const auto& [fd, stream] : {std::pair{1, stdout}, std::pair{2, stderr}}) {
    struct stat open {};
    if (::fstat(fd, &open) == 0 && open.st_dev == named.st_dev && open.st_ino == named.st_ino)
      return stream;
  }
  return nullptr;
}

// Writes every event as one JSON object per line. Returns "" or why it failed; the file is
// closed (a standard stream flushed) before it is judged, so a full disk (/dev/full) is seen.
std::string write_events(const std::vector<StoryEvent>& story, const std::string& path) {
  std::FILE* standard = standard_stream_at(path);
  if (standard == stdout) std::cout.flush();  // what was printed so far comes first
  std::FILE* out = standard != nullptr ? standard : std::fopen(path.c_str(), "w");
  if (out == nullptr) return std::strerror(errno);
  int failure = 0;
  for (const StoryEvent& event : story) {
    if (std::fputs(event.detail.c_str(), out) < 0 || std::fputc('\n', out) == EOF) {
      failure = errno;
      break;
    }
  }
  if ((standard != nullptr ? std::fflush(out) : std::fclose(out)) != 0 && failure == 0)
    failure = errno;
  return failure == 0 ? "" : std::strerror(failure);
}

void print_summary(const RunReport& report, double wall_seconds) {
  const Scenario& scenario = report.scenario;
  const RunResult& result = report.result;
  const std::vector<IncidentRecord>& incidents = report.incidents;
  const std::uint64_t seed = report.seed;
  const std::int64_t rows = report.trace_rows;
  std::size_t endpoints = 0;
  for (const auto& s : scenario.services) endpoints += s.endpoints.size();
  // A cause an interrupted run stopped before is "not begun", not silent (as the report and
  // the scores have it).
  const auto not_begun = [&](const IncidentRecord& i) { return i.start >= result.simulated; };
  std::size_t impacted = 0, emergent = 0, late = 0;
  for (const auto& i : incidents) {
    if (i.cause == "emergent") {
      ++emergent;
      continue;
    }
    if (not_begun(i))
      ++late;
    else
      impacted += i.silent ? 0 : 1;
  }
  std::printf("dosim run: %s (seed %llu, %s mode)%s\n", scenario.name.c_str(),
              static_cast<unsigned long long>(seed),
              scenario.mode == WorldMode::kRequests ? "request-level" : "fluid",
              result.completed ? "" : "  [INTERRUPTED]");
  std::printf("  simulated   %s in %lld ticks of %s; %lld rows recorded every %s\n",
              format_duration(result.simulated).c_str(), static_cast<long long>(result.ticks),
              format_duration(scenario.tick).c_str(), static_cast<long long>(rows),
              format_duration(scenario.record_interval).c_str());
  std::printf("  system      %zu services, %zu dependencies, %zu endpoints, %zu traffic sources\n",
              scenario.services.size(), scenario.dependencies.size(), endpoints,
              scenario.traffic.size());
  std::printf("  changes     %zu (%zu change events)\n", scenario.changes.size(),
              report.changes.size());
  const std::size_t injected = incidents.size() - emergent;
  std::printf("  incidents   %zu injected: %zu with measured impact, %zu silent", injected,
              impacted, injected - impacted - late);
  if (late > 0) std::printf(", %zu not begun when the run stopped", late);
  if (emergent > 0) std::printf("; %zu emergent (no injected cause)", emergent);
  std::printf("\n");
  // With playbooks, each incident's loop in one line: when it was seen, told, acted on.
  std::vector<IncidentTimelineEvent> timelines;
  if (!scenario.playbooks.empty()) timelines = report.incident_timelines();
  for (const auto& i : incidents) {
    std::printf("    #%lld %-22s %-15s on %-30s %s..%s", static_cast<long long>(i.id),
                i.name.c_str(), i.cause.c_str(), i.root_cause.c_str(),
                format_duration(i.start).c_str(), format_duration(i.end).c_str());
    if (not_begun(i))
      std::printf("  not begun\n");
    else if (i.silent)
      std::printf("  silent\n");
    else
      std::printf("  impact %s..%s%s\n", format_duration(i.impact_start).c_str(),
                  format_duration(i.impact_end).c_str(),
                  i.ongoing ? ", still impacting when the run ended" : "");
    std::string line;
    for (const IncidentTimelineEvent& e : timelines) {
      if (e.incident != i.id || e.event == "impact-start" || e.event == "verify" ||
          e.event == "approval")
        continue;
      line +=
          (line.empty() ? "" : ", ") + e.event + " +" + format_duration(e.time - i.impact_start);
    }
    if (!line.empty()) std::printf("      loop: %s\n", line.c_str());
  }
  std::printf("  trace       %s (%s)\n", report.trace_path.c_str(),
              result.completed ? "complete" : "incomplete");
  const double speed = wall_seconds > 0 ? to_seconds(result.simulated) / wall_seconds : 0.0;
  std::printf("  wall time   %.3f s (%.3g simulated s per wall s)\n", wall_seconds, speed);
}

void print_script(const RunReport& report) {
  std::printf("  script      %s: %zu log lines, %zu experiments\n", report.script_path.c_str(),
              report.script_log.size(), report.experiments.size());
  for (const ExperimentRecord& e : report.experiments) {
    std::printf("    %-5s %s (%s..%s)",
                e.verdict == "pass"   ? "PASS"
                : e.verdict == "fail" ? "FAIL"
                                      : "ERROR",
                e.title.c_str(), format_duration(e.start).c_str(), format_duration(e.end).c_str());
    if (!e.probe.empty()) std::printf(": %s", e.probe.c_str());
    if (!e.message.empty()) std::printf(": %s", e.message.c_str());
    std::printf("\n");
  }
}

void print_detected(const RunReport& report) {
  std::printf("  detected    %zu incident%s by the incident rules\n", report.detected.size(),
              report.detected.size() == 1 ? "" : "s");
  for (const DetectedIncident& d : report.detected)
    std::printf("    Sev%d %-20s %s..%s  peak temperature %.0f\n", d.severity, d.rule.c_str(),
                format_duration(d.start).c_str(),
                d.end < 0 ? "(open)" : format_duration(d.end).c_str(), d.peak_temperature);
}

}  // namespace

int run_command(const RunCommandOptions& options) {
  const auto wall_start = WallClock::now();
  RunOptions run_options;
  run_options.seed = options.seed;
  if (!options.mode.empty())
    run_options.mode = options.mode == "requests" ? WorldMode::kRequests : WorldMode::kFluid;
  run_options.script_path = options.script_path;
  run_options.lua_instructions = options.lua_instructions;
  run_options.lua_memory_mib = options.lua_memory_mib;
  run_options.strict = options.strict;
  run_options.threads = options.threads;
  const std::string trace_path =
      options.out_path.empty() ? default_out_path(options.scenario_path) : options.out_path;
  run_options.trace_path = trace_path;
  if (!options.quiet)
    run_options.on_script_log = [](SimTime t, const std::string& text) {
      std::fprintf(stderr, "[%s] LOG    %s\n", story_stamp(t).c_str(), text.c_str());
    };

  // Before anything runs: the script's main chunk runs while the run is planned and started,
  // and a loop there is stopped by a signal as one at any instant of the run is.
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  set_script_interrupt(&g_stop);  // a Lua loop at one instant is stopped too
  std::optional<RunPlan> plan;
  std::unique_ptr<Run> run;
  std::optional<FileIdentity> before;  // the file at --out before the run, if any
  try {
    // What the command line alone shows wrong with the outputs, before the script's main
    // chunk runs (it may take long): one naming the scenario or the script, or a place that
    // cannot be written. The rest once the plan knows every input (below).
    std::vector<Diagnostic> early;
    for (const auto& [option, path] : {std::pair<std::string, std::string>{"--out", trace_path},
                                       {"--events", options.events_path},
                                       {"--report", options.report_path}}) {
      if (path.empty()) continue;
      if (option == "--report" && path == "-")  // standard output holds the run's own story
        early.push_back({"command line", 0, 0,
                         "--report -: the run prints its summary on standard output; write the "
                         "report to a file, or later with `dosim report TRACE -o -`"});
      else if (option == "--events" && path == "-")
        early.push_back({"command line", 0, 0,
                         "--events -: the run prints its story and summary on standard output; "
                         "write the events to a file (--events /dev/stdout puts them between "
                         "the story and the summary)"});
      else if (option == "--out" && path == "-")  // not a file named '-'
        early.push_back({"command line", 0, 0,
                         "--out -: a trace is an HDF5 file, which standard output cannot hold; "
                         "name a file (dosim export TRACE writes its series to standard output)"});
      else if (same_file(path, options.scenario_path))
        early.push_back({path, 0, 0, option + " names the scenario, an input of the run"});
      else if (!options.script_path.empty() && same_file(path, options.script_path))
        early.push_back({path, 0, 0, option + " names the script, an input of the run"});
      else if (const std::string reason = unwritable_reason(path); !reason.empty())
        early.push_back({path, 0, 0,
                         (option == "--out"      ? "cannot create trace: "
                          : option == "--events" ? "cannot write the events: "
                                                 : "cannot write the report: ") +
                             reason});
      else if (option == "--out" && is_special_file(path))
        early.push_back({path, 0, 0, "cannot create trace: not a regular file"});
    }
    if (!early.empty()) throw InputError(std::move(early));
    plan.emplace(RunPlan::load(options.scenario_path, std::move(run_options)));
    print_warnings(plan->warnings());
    // Outputs are checked before anything runs; the trace's folder, by the writer (in Run).
    const auto inputs = plan->inputs();
    for (const auto& [option, path] : {std::pair<std::string, std::string>{"--out", trace_path},
                                       {"--events", options.events_path},
                                       {"--report", options.report_path}}) {
      if (const std::string input = input_named(path, inputs); !path.empty() && !input.empty())
        throw InputError(path, option + " names " + input + ", an input of the run");
    }
    if (!options.events_path.empty()) {
      if (same_file(options.events_path, trace_path))
        throw InputError(options.events_path, "--events names the trace (--out)");
      if (const std::string reason = unwritable_reason(options.events_path); !reason.empty())
        throw InputError(options.events_path, "cannot write the events: " + reason);
    }
    if (!options.report_path.empty()) {
      if (same_file(options.report_path, trace_path))
        throw InputError(options.report_path, "--report names the trace (--out)");
      if (!options.events_path.empty() && same_file(options.report_path, options.events_path))
        throw InputError(options.report_path, "--report names the events' file (--events)");
      if (const std::string reason = unwritable_reason(options.report_path); !reason.empty())
        throw InputError(options.report_path, "cannot write the report: " + reason);
    }
    before = file_identity(trace_path);
    run = std::make_unique<Run>(*plan);
  } catch (const Error& error) {
    if (g_stop.load()) {  // stopped before the first tick: there is no trace to close
      std::fprintf(stderr,
                   "dosim run: interrupted before the first tick (while the script's main "
                   "chunk ran): no trace written\n");
      std::fflush(nullptr);
      std::_Exit(128 + g_signal.load());
    }
    print_error(error);
    leave_failed();
  }
  ProgressLine progress(plan->scenario());
  const bool show_progress = !options.quiet && isatty(STDERR_FILENO);
  if (show_progress) run->add_sink(&progress);

  RunReport report;
  try {
    report = run->run(&g_stop);
  } catch (const Error& error) {
    if (show_progress) progress.clear();
    print_error(error);
    run.reset();  // a failing script or detector: the trace, incomplete, replaces the target
    // Only where this run put it: a write that failed (a full disk, ulimit -f) leaves the
    // file that was there before, another run's.
    const std::optional<FileIdentity> after = file_identity(trace_path);
    if (!trace_path.empty() && after && after != before)
      std::fprintf(stderr,
                   "dosim run: the trace up to the error is in %s (incomplete, without its "
                   "ground truth: dosim report and dosim export read it)\n",
                   trace_path.c_str());
    leave_failed();
  }
  if (show_progress) progress.clear();
  run.reset();

  const double wall_seconds = std::chrono::duration<double>(WallClock::now() - wall_start).count();
  const auto story = run_story(report.scenario, report.changes, report.alerts, report.detected,
                               report.result.simulated, report.script_log, report.remediation);
  if (!options.quiet) print_story(story, kStoryLines, options.events_path);
  // An output that cannot be written (a full disk) is said, the summary and the scores are
  // still printed, and the run exits 2 at the end.
  bool output_failed = false, report_written = false;
  if (!options.events_path.empty()) {
    if (const std::string problem = write_events(story, options.events_path); !problem.empty()) {
      print_error(InputError(options.events_path, "cannot write the events: " + problem));
      output_failed = true;
    }
  }
  if (!options.report_path.empty() && !report.result.completed) {
    std::fprintf(stderr,
                 "%s: not written: the run was interrupted (`dosim report` draws "
                 "what the incomplete trace holds)\n",
                 options.report_path.c_str());
  } else if (!options.report_path.empty()) {
    // From the trace just closed, so the report is the one `dosim report` draws, plus the
    // wall time (which a trace, byte-identical across runs, cannot hold).
    try {
      RunReportOptions report_options;
      report_options.wall_seconds = wall_seconds;
      report_options.scenario_path = options.scenario_path;
      const std::string html = render_run_report(trace_path, report_options);
      if (const std::string reason = write_file_replacing(options.report_path, html);
          !reason.empty())
        throw InputError(options.report_path, "cannot write the report: " + reason);
      report_written = true;
    } catch (const Error& error) {
      print_error(error);
      output_failed = true;
    }
  }
  if (!options.quiet) print_summary(report, wall_seconds);
  if (!options.quiet && report_written)
    std::printf("  report      %s\n", options.report_path.c_str());
  // A script's verdicts are printed with --quiet too: a failed experiment exits 3, and says
  // why.
  if (!report.script_path.empty() && (!options.quiet || !report.experiments.empty()))
    print_script(report);
  if (!options.quiet && !report.scenario.incident_rules.empty()) print_detected(report);
  const ScoreTable table = report.scores();
  AlertmanagerSummary delivered;
  delivered.raw_alerts = report.routing.raw_alerts;
  delivered.notifications = report.routing.notifications.size();
  for (const Notification& n : report.routing.notifications) delivered.resolutions += n.resolution;
  delivered.inhibited = report.routing.inhibited;
  delivered.deduplicated = report.routing.deduplicated;
  for (const Notification& n : report.routing.notifications) {
    auto it = std::find_if(delivered.receivers.begin(), delivered.receivers.end(),
                           [&](const auto& entry) { return entry.first == n.receiver; });
    if (it == delivered.receivers.end())
      delivered.receivers.emplace_back(n.receiver, 1);
    else
      ++it->second;
  }
  const Scores matched = score(report.incidents, report.alerts, report.result.simulated,
                               {.tolerance = 0, .tick = report.scenario.tick});
  delivered.scores =
      notification_scores(report.incidents, matched.alert_matches, report.routing.first_notified);
  print_alertmanager_lines(delivered);
  if (!report.scenario.playbooks.empty()) print_remediation(report.remediation_scores());
  print_incident_rule_scores(table);
  print_score_table(table);
  print_rca_scores(score_rankings(report.rca, report.incidents, rca_system_of(report.scenario)));
  std::fflush(stdout);
  if (!report.result.completed) return 128 + g_signal.load();
  if (output_failed) return kExitBadInput;
  if (!report.experiments_passed()) return kExitExperimentFailed;
  return kExitOk;
}

}  // namespace dosim::cli
