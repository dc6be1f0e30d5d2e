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

#include "analysis/scoring.h"
#include "analysis/trace_writer.h"
#include "commands.h"
#include "detectors/runner.h"
#include "engine/diagnostics.h"
#include "engine/scenario_loader.h"
#include "engine/simulation.h"

namespace dosim::cli {
namespace {

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

// A duration for the table: whole seconds from 1 s up, whole milliseconds below.
std::string short_duration(SimTime t) {
  if (t < 0) return "-";
  if (t >= kSecond) return format_duration((t + kSecond / 2) / kSecond * kSecond);
  return format_duration((t + kMillisecond / 2) / kMillisecond * kMillisecond);
}

void print_score_row(const char* label, const Scores& s) {
  std::printf("    %-22s %6zu %8.2f %9.2f %7.2f %5.2f  %-10s %-10s\n", label, s.alerts,
              s.false_alarms_per_hour, s.precision, s.recall, s.f1,
              s.time_to_detect.count ? short_duration(s.time_to_detect.median).c_str() : "-",
              s.time_to_detect.count ? short_duration(s.time_to_detect.p90).c_str() : "-");
}

// The score table: each detector, all of them together, and the two baselines beside them
// (docs/scoring.md).
void print_scores(const Scenario& scenario, std::uint64_t seed,
                  const std::vector<IncidentRecord>& incidents, const std::vector<Alert>& alerts,
                  const std::vector<DetectorSpec>& specs, SimTime simulated) {
  std::printf(
      "  scores      %zu alerts against %zu incidents (alerts match an affected service "
      "inside the impact window)\n",
      alerts.size(), incidents.size());
  std::printf("    %-22s %6s %8s %9s %7s %5s  %-10s %-10s\n", "detector", "alerts", "false/h",
              "precision", "recall", "F1", "TTD p50", "TTD p90");
  for (const DetectorSpec& spec : specs) {
    std::vector<Alert> own;
    for (const Alert& alert : alerts)
      if (alert.detector == spec.name) own.push_back(alert);
    print_score_row(spec.name.c_str(), score(incidents, own, simulated));
  }
  std::vector<int> services;
  for (std::size_t s = 0; s < scenario.services.size(); ++s)
    services.push_back(static_cast<int>(s));
  const ScoresWithBaselines all =
      score_with_baselines(incidents, alerts, simulated, services, seed);
  print_score_row("all detectors", all.detector);
  print_score_row("random baseline", all.random_baseline);
  print_score_row("null baseline", all.null_baseline);
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

  std::unique_ptr<DetectorRunner> detectors;
  try {
    detectors = std::make_unique<DetectorRunner>(
        scenario, scenario.detectors_given ? scenario.detectors : DetectorRunner::default_specs());
  } catch (const InputError& error) {
    print_input_error(error);
    return kExitBadInput;
  }

  std::unique_ptr<TraceWriter> writer;
  try {
    writer = std::make_unique<TraceWriter>(out_path, scenario, seed);
  } catch (const InputError& error) {
    print_input_error(error);
    return kExitBadInput;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  Simulation simulation(scenario, seed);
  simulation.add_sink(writer.get());
  simulation.add_sink(detectors.get());
  ProgressLine progress(scenario);
  const bool show_progress = !options.quiet && isatty(STDERR_FILENO);
  if (show_progress) simulation.add_sink(&progress);

  const RunResult result = simulation.run(&g_stop);
  if (show_progress) progress.clear();
  const auto incidents = simulation.incidents();
  std::vector<Alert> alerts;
  for (const RaisedAlert& raised : detectors->alerts())
    alerts.push_back(
        {raised.time, raised.detector, raised.service, raised.metric, raised.severity});
  const Scores all = score(incidents, alerts, result.simulated);
  std::vector<std::int64_t> alert_incidents;
  for (const auto& matches : all.alert_matches)
    alert_incidents.push_back(matches.empty() ? -1 : matches.front());
  writer->finish(incidents, result.completed, simulation.changes(), alerts, alert_incidents);
  const std::int64_t rows = writer->rows_written();
  writer.reset();

  const double wall_seconds = std::chrono::duration<double>(WallClock::now() - wall_start).count();
  print_summary(scenario, seed, result, incidents, simulation.changes(), out_path, rows,
                wall_seconds);
  print_scores(scenario, seed, incidents, alerts, detectors->specs(), result.simulated);
  std::fflush(stdout);
  if (!result.completed) return 128 + g_signal.load();
  return kExitOk;
}

}  // namespace dosim::cli
