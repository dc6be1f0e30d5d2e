// `dosim run`: load, open the trace (failing before any simulation if it cannot be
// written), simulate with a progress line on a terminal, close the trace, print a summary.
// SIGINT / SIGTERM stop the run at the next tick; the trace is closed with complete = 0 and
// the exit code is 128 + the signal number.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "dosim/analysis/scoring.h"
#include "dosim/analysis/trace_writer.h"
#include "commands.h"
#include "detectors/alertmanager.h"
#include "detectors/runner.h"
#include "dosim/error.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"
#include "run_story.h"
#include "score_table.h"
#include "scripting/script_host.h"

namespace dosim::cli {
namespace {

constexpr std::size_t kStoryLines = 40;

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void on_signal(int signal_number) {
  g_signal.store(signal_number);
  g_stop.store(true);
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

// Hands the detectors' scores and gauges to the trace, tick by tick.
class DetectorsToTrace : public DetectorObserver {
 public:
  DetectorsToTrace(DetectorRunner& runner, TraceWriter& writer) : writer_(writer) {
    for (const WatchedSeries& w : runner.watched_series())
      index_.push_back(
          writer.add_detector(w.detector, w.limit, w.service, w.metric, w.label, w.gauges));
    runner.set_observer(this);
  }
  void on_detector_tick(std::size_t detector, std::span<const float> scores,
                        std::span<const float> gauges) override {
    writer_.record_detector(index_[detector], scores, gauges);
  }

 private:
  TraceWriter& writer_;
  std::vector<std::size_t> index_;
};

// --script, else the scenario's `script:` (relative to the scenario file), else none.
std::string script_path_for(const RunOptions& options, const Scenario& scenario) {
  if (!options.script_path.empty()) return options.script_path;
  return scenario_script_path(options.scenario_path, scenario.script);
}

std::string default_out_path(const std::string& scenario_path) {
  return std::filesystem::path(scenario_path).stem().string() + ".h5";
}

void print_summary(const Scenario& scenario, std::uint64_t seed, const RunResult& result,
                   const std::vector<IncidentRecord>& incidents,
                   const std::vector<ChangeEvent>& changes, const std::string& out_path,
                   std::int64_t rows, double wall_seconds) {
  std::size_t endpoints = 0;
  for (const auto& s : scenario.services) endpoints += s.endpoints.size();
  std::size_t impacted = 0;
  for (const auto& i : incidents) impacted += i.silent ? 0 : 1;
  std::printf("dosim run: %s (seed %llu)%s\n", scenario.name.c_str(),
              static_cast<unsigned long long>(seed), result.completed ? "" : "  [INTERRUPTED]");
  std::printf("  simulated   %s in %lld ticks of %s; %lld rows recorded every %s\n",
              format_duration(result.simulated).c_str(), static_cast<long long>(result.ticks),
              format_duration(scenario.tick).c_str(), static_cast<long long>(rows),
              format_duration(scenario.record_interval).c_str());
  std::printf("  system      %zu services, %zu dependencies, %zu endpoints, %zu traffic sources\n",
              scenario.services.size(), scenario.dependencies.size(), endpoints,
              scenario.traffic.size());
  std::printf("  changes     %zu (%zu change events)\n", scenario.changes.size(), changes.size());
  std::printf("  incidents   %zu injected: %zu with measured impact, %zu silent\n",
              incidents.size(), impacted, incidents.size() - impacted);
  for (const auto& i : incidents) {
    std::printf("    #%lld %-22s %-15s on %-30s %s..%s", static_cast<long long>(i.id),
                i.name.c_str(), i.cause.c_str(), i.root_cause.c_str(),
                format_duration(i.start).c_str(), format_duration(i.end).c_str());
    if (i.silent)
      std::printf("  silent\n");
    else
      std::printf("  impact %s..%s\n", format_duration(i.impact_start).c_str(),
                  format_duration(i.impact_end).c_str());
  }
  std::printf("  trace       %s (%s)\n", out_path.c_str(),
              result.completed ? "complete" : "incomplete");
  const double speed = wall_seconds > 0 ? to_seconds(result.simulated) / wall_seconds : 0.0;
  std::printf("  wall time   %.3f s (%.3g simulated s per wall s)\n", wall_seconds, speed);
}

}  // namespace

int run_command(const RunOptions& options) {
  const auto wall_start = WallClock::now();
  Scenario scenario;
  try {
    scenario = load_scenario_file(options.scenario_path);
  } catch (const InputError& error) {
    print_input_error(error);
    return kExitBadInput;
  }
  const std::uint64_t seed = options.seed.value_or(scenario.seed);
  const std::string out_path =
      options.out_path.empty() ? default_out_path(options.scenario_path) : options.out_path;

  std::unique_ptr<TraceWriter> writer;
  try {
    writer = std::make_unique<TraceWriter>(out_path, scenario, seed);
  } catch (const InputError& error) {
    print_input_error(error);
    return kExitBadInput;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  // The script runs its main chunk first: it may define detectors the runner needs. A
  // failing script leaves the trace (already created) incomplete.
  Simulation simulation(scenario, seed);
  std::unique_ptr<ScriptHost> script;
  const std::string script_path = script_path_for(options, scenario);
  if (!script_path.empty()) {
    try {
      ScriptOptions script_options;
      script_options.path = script_path;
      script_options.limits.instruction_budget = options.lua_instructions;
      script_options.limits.memory_limit = static_cast<std::size_t>(options.lua_memory_mib) << 20;
      if (!options.quiet)
        script_options.on_log = [](SimTime t, const std::string& text) {
          std::fprintf(stderr, "[%s] LOG    %s\n", story_stamp(t).c_str(), text.c_str());
        };
      script = std::make_unique<ScriptHost>(simulation, std::move(script_options), seed);
      script->start();
    } catch (const ScriptError& error) {
      std::fprintf(stderr, "%s\n", error.what());
      return kExitBadInput;
    }
  }

  std::unique_ptr<DetectorRunner> detectors;
  std::optional<DetectorsToTrace> to_trace;
  try {
    std::vector<DetectorSpec> specs =
        scenario.detectors_given ? scenario.detectors : DetectorRunner::default_specs();
    if (script)
      for (DetectorSpec& spec : script->detector_specs()) specs.push_back(std::move(spec));
    detectors =
        std::make_unique<DetectorRunner>(simulation.scenario(), std::move(specs),
                                         script ? script->detector_factory() : DetectorFactory{});
    to_trace.emplace(*detectors, *writer);
  } catch (const InputError& error) {
    print_input_error(error);
    return kExitBadInput;
  } catch (const ScriptError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return kExitBadInput;
  }

  // Detectors before the script (its hooks see this tick's alerts), the writer last: a
  // tick's scores reach the trace in the row of that tick.
  simulation.add_sink(detectors.get());
  if (script) {
    script->attach(*detectors);
    simulation.add_sink(script.get());
  }
  simulation.add_sink(writer.get());
  ProgressLine progress(scenario);
  const bool show_progress = !options.quiet && isatty(STDERR_FILENO);
  if (show_progress) simulation.add_sink(&progress);

  RunResult result;
  try {
    result = simulation.run(&g_stop);
  } catch (const ScriptError& error) {
    if (show_progress) progress.clear();
    std::fprintf(stderr, "%s\n", error.what());
    return kExitBadInput;  // the writer closes the trace as incomplete
  }
  if (show_progress) progress.clear();
  const auto incidents = simulation.incidents();
  const std::vector<Alert>& alerts = detectors->alerts();
  const Scores all = score(incidents, alerts, result.simulated, {.tick = scenario.tick});
  std::vector<std::int64_t> alert_incidents;
  for (const auto& matches : all.alert_matches)
    alert_incidents.push_back(matches.empty() ? -1 : matches.front());
  std::vector<std::string> names;
  for (const DetectorSpec& spec : detectors->specs()) names.push_back(spec.name);
  writer->set_detectors(names);
  const std::vector<DetectedIncident> detected = detectors->detected_incidents();
  writer->set_detected_incidents(detected);
  std::vector<std::string> service_names;
  for (const ServiceSpec& service : scenario.services) service_names.push_back(service.name);
  const AlertRouting routing =
      route_alerts(detectors->alerts(), scenario.alertmanager, service_names, result.simulated);
  writer->set_notifications(routing);
  std::vector<ScriptLine> script_lines;
  if (script) {
    for (const ScriptLogLine& line : script->log()) script_lines.push_back({line.time, line.text});
    writer->set_script(script->path(), script->text(), script->log(), script->experiments());
  }
  writer->finish(incidents, result.completed, simulation.changes(), alerts, alert_incidents);
  const std::int64_t rows = writer->rows_written();
  writer.reset();

  const double wall_seconds = std::chrono::duration<double>(WallClock::now() - wall_start).count();
  const auto story = run_story(simulation.scenario(), simulation.changes(), alerts, detected,
                               result.simulated, script_lines);
  if (!options.quiet) print_story(story, kStoryLines);
  if (!options.events_path.empty() && !write_story(story, options.events_path)) {
    std::fprintf(stderr, "%s: cannot write the events\n", options.events_path.c_str());
    return kExitBadInput;
  }
  if (!options.quiet)
    print_summary(simulation.scenario(), seed, result, incidents, simulation.changes(), out_path,
                  rows, wall_seconds);
  if (!options.quiet && script) {
    std::printf("  script      %s: %zu log lines, %zu experiments\n", script->path().c_str(),
                script->log().size(), script->experiments().size());
    for (const ExperimentRecord& e : script->experiments()) {
      std::printf("    %-5s %s (%s..%s)",
                  e.verdict == "pass"   ? "PASS"
                  : e.verdict == "fail" ? "FAIL"
                                        : "ERROR",
                  e.title.c_str(), format_duration(e.start).c_str(),
                  format_duration(e.end).c_str());
      if (!e.probe.empty()) std::printf(": %s", e.probe.c_str());
      if (!e.message.empty()) std::printf(": %s", e.message.c_str());
      std::printf("\n");
    }
  }
  if (!options.quiet && !scenario.incident_rules.empty()) {
    std::printf("  detected    %zu incidents by the incident rules\n", detected.size());
    for (const DetectedIncident& d : detected)
      std::printf("    Sev%d %-20s %s..%s  peak temperature %.0f\n", d.severity, d.rule.c_str(),
                  format_duration(d.start).c_str(),
                  d.end < 0 ? "(open)" : format_duration(d.end).c_str(), d.peak_temperature);
  }
  std::vector<std::string> detector_names;
  for (const DetectorSpec& spec : detectors->specs()) detector_names.push_back(spec.name);
  print_alertmanager_line(routing.raw_alerts, routing.notifications.size(), routing.inhibited,
                          routing.deduplicated);
  print_incident_rule_scores(incidents, detected_as_alerts(detected), result.simulated,
                             scenario.tick);
  print_score_table(incidents, alerts, detector_names, scenario.services.size(), seed,
                    result.simulated, scenario.tick);
  std::fflush(stdout);
  if (!result.completed) return 128 + g_signal.load();
  return kExitOk;
}

}  // namespace dosim::cli
