// The run as a library object (include/dosim/run.h), used as a C++ program would: load a
// plan, run it, read the report and the trace; check a bad scenario without exceptions;
// pick detectors; change the seed; add sinks; stop a run from a sink.
#include <hdf5.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dosim/analysis/trace_reader.h"
#include "dosim/engine/inject.h"
#include "dosim/error.h"
#include "dosim/run.h"

namespace {

using Catch::Matchers::Contains;
using dosim::Diagnostic;
using dosim::Frame;
using dosim::Run;
using dosim::RunOptions;
using dosim::RunPlan;
using dosim::RunReport;

const std::string kRetryStorm = std::string(DOSIM_SOURCE_DIR) + "/scenarios/retry-storm.yaml";

std::string temp_path(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(DOSIM_TEST_TMP) / "run";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = temp_path(name);
  std::ofstream(path) << text;
  return path;
}

RunReport run_plan(const RunPlan& plan) {
  Run run(plan);
  return run.run();
}

std::vector<std::string> formatted(const std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> lines;
  for (const Diagnostic& d : diagnostics) lines.push_back(d.format());
  return lines;
}

// Counts the frames it receives; sets `stop` (when given) once it has seen `stop_after`.
class CountingSink : public dosim::FrameSink {
 public:
  explicit CountingSink(std::atomic<bool>* stop = nullptr, std::int64_t stop_after = 0)
      : stop_(stop), stop_after_(stop_after) {}
  void on_frame(const Frame& frame) override {
    ++frames;
    last_tick = frame.tick;
    for (float value : frame.service_values) fingerprint += value;
    if (stop_ != nullptr && frames >= stop_after_) stop_->store(true);
  }
  std::int64_t frames = 0;
  std::int64_t last_tick = -1;
  double fingerprint = 0;  // the sum of every service value: differs when the run does

 private:
  std::atomic<bool>* stop_;
  std::int64_t stop_after_;
};

// The root attribute `complete` of a trace, read with the HDF5 C API.
int trace_complete_flag(const std::string& path) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const hid_t attribute = H5Aopen(file, "complete", H5P_DEFAULT);
  std::int32_t complete = -1;
  H5Aread(attribute, H5T_NATIVE_INT32, &complete);
  H5Aclose(attribute);
  H5Fclose(file);
  return complete;
}

// One unknown detector kind and one unknown key: both problems of a scenario that loads only
// once its detectors are resolved, and one the loader finds itself.
const char* kBadScenario = R"(name: bad
duration: 10m
services: [{name: web}]
detectors:
  - {name: d1, kind: mda, metrics: [rps]}
  - {name: d2, kind: mad, metrics: [rps], params: {windw: 64}}
)";

}  // namespace

TEST_CASE("A loaded plan runs and reports incidents, alerts and a score table", "[run]") {
  const RunPlan plan = RunPlan::load(kRetryStorm);
  CHECK(plan.seed() == plan.scenario().seed);
  const RunReport report = run_plan(plan);
  CHECK(report.result.completed);
  CHECK(report.result.simulated == plan.scenario().duration);
  CHECK_FALSE(report.incidents.empty());
  CHECK_FALSE(report.alerts.empty());
  CHECK(report.alert_incidents.size() == report.alerts.size());
  CHECK(report.trace_path.empty());

  const dosim::ScoreTable table = report.scores();
  CHECK(table.incidents == report.incidents.size());
  CHECK(table.alerts == report.alerts.size());
  REQUIRE(table.rows.size() == report.detectors.size() + 3);
  for (std::size_t i = 0; i < report.detectors.size(); ++i)
    CHECK(table.rows[i].first == report.detectors[i]);
  const std::size_t n = table.rows.size();
  CHECK(table.rows[n - 3].first == "all detectors");
  CHECK(table.rows[n - 2].first == "random baseline");
  CHECK(table.rows[n - 1].first == "null baseline");
}

TEST_CASE("The same plan run twice gives the same report", "[run]") {
  const RunPlan plan = RunPlan::load(kRetryStorm);
  const RunReport first = run_plan(plan);
  const RunReport second = run_plan(plan);
  CHECK(first.result.ticks == second.result.ticks);
  CHECK(first.result.events == second.result.events);
  CHECK(first.detectors == second.detectors);
  REQUIRE(first.alerts.size() == second.alerts.size());
  for (std::size_t i = 0; i < first.alerts.size(); ++i) {
    CHECK(first.alerts[i].time == second.alerts[i].time);
    CHECK(first.alerts[i].detector == second.alerts[i].detector);
    CHECK(first.alerts[i].service == second.alerts[i].service);
    CHECK(first.alerts[i].metric == second.alerts[i].metric);
    CHECK(first.alerts[i].resolved == second.alerts[i].resolved);
  }
  CHECK(first.alert_incidents == second.alert_incidents);
  REQUIRE(first.incidents.size() == second.incidents.size());
  for (std::size_t i = 0; i < first.incidents.size(); ++i) {
    CHECK(first.incidents[i].start == second.incidents[i].start);
    CHECK(first.incidents[i].end == second.incidents[i].end);
    CHECK(first.incidents[i].impact_start == second.incidents[i].impact_start);
    CHECK(first.incidents[i].impact_end == second.incidents[i].impact_end);
    CHECK(first.incidents[i].affected == second.incidents[i].affected);
  }
  CHECK(first.routing.notifications.size() == second.routing.notifications.size());
}

TEST_CASE("check returns every problem and load throws them all", "[run]") {
  const std::string path = write_file("bad.yaml", kBadScenario);
  std::vector<Diagnostic> found;
  REQUIRE_NOTHROW(found = RunPlan::check(path));
  REQUIRE(found.size() == 2);
  CHECK(found[0].format() == path + ":5:22: unknown detector kind 'mda'; did you mean 'mad'?");
  CHECK(found[1].line == 6);
  CHECK_THAT(found[1].message, Contains("unknown parameter 'windw' for kind mad"));
  for (const Diagnostic& d : found) CHECK_FALSE(d.warning);

  try {
    RunPlan::load(path);
    FAIL("RunPlan::load accepted a bad scenario");
  } catch (const dosim::InputError& error) {
    CHECK(formatted(error.diagnostics()) == formatted(found));
  }
}

TEST_CASE("a program's seed and threads are checked as the command line checks them", "[run]") {
  // A seed past 1e18 and 0 threads were taken (the CLI refuses both; run.h says >= 1).
  dosim::RunOptions options;
  options.seed = 2'000'000'000'000'000'000ULL;
  options.threads = 0;
  try {
    RunPlan::load(kRetryStorm, options);
    FAIL("RunPlan::load took them");
  } catch (const dosim::InputError& error) {
    CHECK(formatted(error.diagnostics()) ==
          std::vector<std::string>{
              "seed: the seed must be a whole number in [0, 1e18], got 2000000000000000000",
              "threads: threads must be from 1 to 256, got 0"});
  }
  options.seed = 1'000'000'000'000'000'000ULL;  // the edges are taken
  options.threads = 256;
  CHECK(RunPlan::load(kRetryStorm, options).seed() == 1'000'000'000'000'000'000ULL);
  // The Lua limits too (0 and negative ran silently; 0 MiB said "cannot create a Lua state").
  options.lua_instructions = 0;
  options.lua_memory_mib = -1;
  try {
    RunPlan::load(kRetryStorm, options);
    FAIL("RunPlan::load took them");
  } catch (const dosim::InputError& error) {
    CHECK(formatted(error.diagnostics()) ==
          std::vector<std::string>{"lua_instructions: lua_instructions must be from 1000 to 1e12, "
                                   "got 0",
                                   "lua_memory_mib: lua_memory_mib must be from 1 to 1048576, "
                                   "got -1"});
  }
}

TEST_CASE("a sink added late and a second run are refused, not ignored", "[run]") {
  // Asserted only: a release build fed a late sink nothing and let run() return twice.
  const RunPlan plan = RunPlan::load(kRetryStorm);
  Run run(plan);
  CountingSink early, late;
  run.add_sink(&early);
  run.step(3);
  CHECK_THROWS_WITH(run.add_sink(&late),
                    "add_sink: the run has started; add sinks before the first step()");
  run.run();
  CHECK_THROWS_WITH(run.run(), "run: the run is over (run() was called)");
  CHECK_THROWS_WITH(run.step(1), "step: the run is over (run() was called)");
}

TEST_CASE("misuse of a run is a RunControlError, never a crash or a wrong report", "[run]") {
  // Found by a new-user audit of the library: a null sink crashed the run; step(-5) ran the
  // whole scenario; simulation().run() left run() a report of no alert and a trace
  // "complete" with no row; set_threads(0) was taken.
  const RunPlan plan = RunPlan::load(kRetryStorm);
  Run run(plan);
  CHECK_THROWS_WITH(run.add_sink(nullptr), "add_sink: a null sink");
  CHECK_THROWS_WITH(run.step(-5), "step: a tick count must be >= 0, got -5");
  CHECK_THROWS_WITH(run.simulation().set_threads(0),
                    "set_threads: threads must be from 1 to 256, got 0");
  CHECK_FALSE(run.failed());  // misuse stops nothing
  CHECK(run.step(2));
  run.simulation().run_ticks(3);  // past the Run's sinks
  CHECK_THROWS_WITH(run.step(1), Catch::StartsWith("step: the simulation was advanced directly"));
  CHECK_THROWS_WITH(run.run(), Catch::StartsWith("run: the simulation was advanced directly"));
  CHECK_THROWS_WITH(run.simulation().run_ticks(-1), "run_ticks: a tick count must be >= 0, got -1");
  // A fault injected once the run is over, with a duration: its "where" and RunControlError
  // (it was the loader's InputError "'start' must be before the end").
  run.simulation().run();
  CHECK_THROWS_AS(inject_fault(run.simulation(),
                               YAML::Load("{name: late, kind: latency, target: {service: web}, "
                                          "fixedDelay: 1s, duration: 1m}"),
                               "test", "inline"),
                  dosim::RunControlError);
  CHECK_THROWS_WITH(inject_fault(run.simulation(),
                                 YAML::Load("{name: late, kind: latency, target: {service: web}, "
                                            "fixedDelay: 1s, duration: 1m}"),
                                 "test", "inline"),
                    "test: the run is over");
}

TEST_CASE("check on a scenario that does not load returns the loader's diagnostics", "[run]") {
  const std::string path = write_file("unloadable.yaml", "name: t\nduration: 10m\n");
  std::vector<Diagnostic> found;
  REQUIRE_NOTHROW(found = RunPlan::check(path));
  REQUIRE_FALSE(found.empty());
  CHECK(found[0].file == path);
  CHECK_THROWS_AS(RunPlan::load(path), dosim::InputError);

  REQUIRE_NOTHROW(found = RunPlan::check(temp_path("no-such-scenario.yaml")));
  CHECK_FALSE(found.empty());
}

TEST_CASE("check returns warnings and strict load throws them", "[run]") {
  const std::string path = write_file(
      "warning.yaml", "name: t\nduration: 10m\nservices: [{name: web, base_latency: 5}]\n");
  const std::vector<Diagnostic> found = RunPlan::check(path);
  REQUIRE(found.size() == 1);
  CHECK(found[0].warning);
  CHECK(found[0].line == 3);

  const RunPlan plan = RunPlan::load(path);
  REQUIRE(plan.warnings().size() == 1);
  CHECK(plan.warnings()[0].format() == found[0].format());

  RunOptions strict;
  strict.strict = true;
  try {
    RunPlan::load(path, strict);
    FAIL("a strict load accepted a warning");
  } catch (const dosim::InputError& error) {
    REQUIRE(error.diagnostics().size() == 1);
    CHECK_FALSE(error.diagnostics()[0].warning);
    CHECK(error.diagnostics()[0].message == found[0].message);
  }
}

TEST_CASE("RunOptions::detectors runs exactly the detectors named", "[run]") {
  RunOptions options;
  options.detectors = std::vector<std::string>{"mad:window=32", "threshold"};
  const RunPlan plan = RunPlan::load(kRetryStorm, options);
  REQUIRE(plan.detectors().size() == 2);
  const RunReport report = run_plan(plan);
  CHECK(report.detectors == std::vector<std::string>{"mad:window=32", "threshold"});
  for (const dosim::Alert& alert : report.alerts)
    CHECK((alert.detector == "mad:window=32" || alert.detector == "threshold"));
  const dosim::ScoreTable table = report.scores();
  REQUIRE(table.rows.size() == 5);
  CHECK(table.rows[0].first == "mad:window=32");
  CHECK(table.rows[1].first == "threshold");

  options.detectors = std::vector<std::string>{"mda"};
  CHECK_THROWS_WITH(RunPlan::load(kRetryStorm, options), Contains("did you mean 'mad'"));
  CHECK_THROWS_AS(RunPlan::load(kRetryStorm, options), dosim::InputError);
  const std::vector<Diagnostic> found = RunPlan::check(kRetryStorm, options);
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0].message, Contains("did you mean 'mad'"));
  // Said at the library's option, not at a command line flag the caller never gave.
  CHECK(found[0].file == "RunOptions::detectors");
  options.detectors_source = "--detectors";
  CHECK(RunPlan::check(kRetryStorm, options).at(0).file == "--detectors");
}

TEST_CASE("A run with a trace path writes a trace that reads back as the report", "[run]") {
  RunOptions options;
  options.trace_path = temp_path("retry-storm.h5");
  std::filesystem::remove(options.trace_path);
  const RunReport report = run_plan(RunPlan::load(kRetryStorm, options));
  CHECK(report.trace_path == options.trace_path);
  CHECK(report.trace_rows > 0);

  const dosim::TraceForScoring trace = dosim::read_trace_for_scoring(options.trace_path);
  CHECK(trace.complete);
  CHECK(trace.seed == report.seed);
  CHECK(trace.simulated == report.result.simulated);
  CHECK(trace.detectors == report.detectors);
  CHECK(trace.alerts.size() == report.alerts.size());
  REQUIRE(trace.incidents.size() == report.incidents.size());
  for (std::size_t i = 0; i < trace.incidents.size(); ++i) {
    CHECK(trace.incidents[i].name == report.incidents[i].name);
    CHECK(trace.incidents[i].start == report.incidents[i].start);
    CHECK(trace.incidents[i].end == report.incidents[i].end);
    CHECK(trace.incidents[i].impact_start == report.incidents[i].impact_start);
    CHECK(trace.incidents[i].impact_end == report.incidents[i].impact_end);
  }
  CHECK(trace.detected.size() == report.detected.size());
}

TEST_CASE("with_seed changes the seed and the run, not the plan it copies", "[run]") {
  const RunPlan plan = RunPlan::load(kRetryStorm);
  const RunPlan other = plan.with_seed(plan.seed() + 1);
  CHECK(other.seed() == plan.seed() + 1);
  CHECK(plan.seed() == plan.scenario().seed);

  CountingSink first_sink, other_sink;
  Run first_run(plan);
  first_run.add_sink(&first_sink);
  const RunReport first = first_run.run();
  Run other_run(other);
  other_run.add_sink(&other_sink);
  const RunReport second = other_run.run();
  CHECK(first.seed == plan.seed());
  CHECK(second.seed == plan.seed() + 1);
  CHECK(first.result.ticks == second.result.ticks);
  CHECK(first_sink.fingerprint != other_sink.fingerprint);

  // The same seed again: the same frames.
  CountingSink again_sink;
  Run again_run(plan.with_seed(plan.seed()));
  again_run.add_sink(&again_sink);
  again_run.run();
  CHECK(again_sink.fingerprint == first_sink.fingerprint);
}

TEST_CASE("A sink receives every frame of the run", "[run]") {
  const RunPlan plan = RunPlan::load(kRetryStorm);
  CountingSink sink;
  Run run(plan);
  run.add_sink(&sink);
  const RunReport report = run.run();
  CHECK(report.result.completed);
  CHECK(sink.frames == report.result.ticks);
  CHECK(sink.last_tick == report.result.ticks - 1);
}

TEST_CASE("A stop flag set from a sink ends the run early with an incomplete trace", "[run]") {
  RunOptions options;
  options.trace_path = temp_path("stopped.h5");
  std::filesystem::remove(options.trace_path);
  const RunPlan plan = RunPlan::load(kRetryStorm, options);
  const std::int64_t full_ticks = plan.scenario().duration / plan.scenario().tick;
  std::atomic<bool> stop{false};
  CountingSink sink(&stop, 100);
  Run run(plan);
  run.add_sink(&sink);
  const RunReport report = run.run(&stop);
  CHECK_FALSE(report.result.completed);
  CHECK(report.result.ticks >= 100);
  CHECK(report.result.ticks < full_ticks);
  CHECK(sink.frames == report.result.ticks);
  REQUIRE(std::filesystem::exists(options.trace_path));
  CHECK(trace_complete_flag(options.trace_path) == 0);
  // An interrupted run keeps what it measured (docs/trace-format.md, "The complete flag").
  const dosim::TraceForScoring trace = dosim::read_trace_for_scoring(options.trace_path);
  CHECK_FALSE(trace.complete);
  CHECK(trace.simulated == report.result.simulated);
  CHECK(trace.alerts.size() == report.alerts.size());
}

namespace {

// Scores every value 1, above its limit 0.5: every watched series is anomalous every tick.
class AlwaysAnomalous : public dosim::Detector {
 public:
  void step(std::span<const float> /*values*/, std::span<float> scores) override {
    for (float& score : scores) score = 1.0f;
  }
  double limit() const override { return 0.5; }
};

}  // namespace

TEST_CASE("a program's own detector kind plans and runs through RunOptions::detector_factory",
          "[run]") {
  const std::string scenario = write_file("own-kind.yaml", R"(name: own-kind
duration: 10m
services: [{name: web, replicas: 2, capacity_rps: 100}]
traffic: [{name: users, entry: web, base_rps: 20}]
detectors:
  - {name: mine, kind: always, metrics: [rps]}
)");
  RunOptions options;
  // Without the factory the kind is unknown, reported at its position.
  REQUIRE_THROWS_WITH(RunPlan::load(scenario, options), Contains("unknown detector kind 'always'"));
  options.detector_factory = [](const dosim::DetectorSpec& spec,
                                std::size_t) -> std::unique_ptr<dosim::Detector> {
    if (spec.kind != "always") return nullptr;
    return std::make_unique<AlwaysAnomalous>();
  };
  const RunPlan plan = RunPlan::load(scenario, options);
  const RunReport report = run_plan(plan);
  REQUIRE(report.detectors == std::vector<std::string>{"mine"});
  REQUIRE(report.alerts.size() == 1);  // one series, anomalous from the first tick on
  CHECK(report.alerts[0].detector == "mine");
  CHECK(report.alerts[0].time == dosim::kSecond);  // the end of the first tick
  CHECK(report.alerts[0].resolved == -1);

  // The same kind by token, as `dosim bench --detectors` names a kind: the bench's metrics
  // (p95 latency and error ratio of the one service) and for: 15s.
  options.detectors = std::vector<std::string>{"always:direction=up"};
  const RunReport by_token = run_plan(RunPlan::load(scenario, options));
  REQUIRE(by_token.detectors == std::vector<std::string>{"always:direction=up"});
  REQUIRE(by_token.alerts.size() == 2);
  for (const auto& alert : by_token.alerts) CHECK(alert.time == 16 * dosim::kSecond);
  // A kind neither the registry nor the factory makes, and a malformed token: both said.
  options.detectors = std::vector<std::string>{"alwys", "always:window"};
  const std::vector<Diagnostic> found = RunPlan::check(scenario, options);
  REQUIRE(found.size() == 2);
  CHECK(found[0].format() ==
        "RunOptions::detectors: 'alwys' is neither a detector kind nor one the program's "
        "detector factory makes");
  CHECK_THAT(found[1].format(), Contains("'always:window': expected key=value"));
}

TEST_CASE("stepping a run tick by tick gives the report and the trace bytes of one run()",
          "[run]") {
  auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  RunOptions whole_options;
  whole_options.trace_path = temp_path("whole.h5");
  const RunReport whole = run_plan(RunPlan::load(kRetryStorm, whole_options));

  RunOptions stepped_options;
  stepped_options.trace_path = temp_path("stepped.h5");
  const RunPlan plan = RunPlan::load(kRetryStorm, stepped_options);
  Run run(plan);
  for (int i = 0; i < 100; ++i) REQUIRE(run.step());
  CHECK(run.frame().tick == 99);
  CHECK(run.frame().time == 100 * dosim::kSecond);
  REQUIRE(run.step(537));
  CHECK(run.frame().tick == 636);
  const RunReport stepped = run.run();

  CHECK(stepped.result.completed);
  CHECK(stepped.result.ticks == whole.result.ticks);
  REQUIRE(stepped.alerts.size() == whole.alerts.size());
  for (std::size_t a = 0; a < whole.alerts.size(); ++a) {
    CHECK(stepped.alerts[a].time == whole.alerts[a].time);
    CHECK(stepped.alerts[a].target == whole.alerts[a].target);
  }
  CHECK(bytes(temp_path("stepped.h5")) == bytes(temp_path("whole.h5")));
}

TEST_CASE("an undo beside an action at its instant takes only what it restored", "[run]") {
  // A playbook's timeout undone at the instant its next step sheds load: the undo took the
  // shed's event (on its own service, first), and the restored timeouts kept no cause.
  const dosim::SimTime t = 1581 * dosim::kSecond;
  std::vector<dosim::RemediationAction> actions(2);
  actions[0].time = actions[1].time = t;
  actions[0].playbook = actions[1].playbook = "flag";
  actions[0].trigger = actions[1].trigger = "alert errs on api";
  actions[0].service = actions[1].service = 1;
  actions[0].action = "undo";
  actions[0].outcome = "timeouts restored";
  actions[1].action = "shed";
  actions[1].acted = true;
  std::vector<dosim::ChangeEvent> changes = {{t, "timeout", "api->cache", "500ms", "2s", ""},
                                             {t, "timeout", "api->db", "500ms", "1s", ""},
                                             {t, "shed", "api", "0%", "10%", ""}};
  dosim::attribute_changes(actions, {"web", "api"}, changes);
  for (const dosim::ChangeEvent& change : changes) {
    CAPTURE(change.target);
    CHECK(change.cause == "playbook flag (alert errs on api)");
  }
}
