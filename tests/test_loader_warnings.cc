// Loader warnings: values that load but are likely not what the user meant (a bare number
// for a duration, a percent written as a ratio, a noise above 1, times past the end) are kept
// in Scenario::warnings, in file order, at the offending value; they never fail a load.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "dosim/engine/scenario_loader.h"

namespace dosim {
namespace {

namespace fs = std::filesystem;

// Lines 1-5: a two-hour scenario with two services, web (line 4) and db (line 5), web -> db.
const std::string kHead =
    "name: t\n"
    "duration: 2h\n"
    "services:\n"
    "  - {name: web, replicas: 4}\n"
    "  - {name: db}\n"
    "dependencies:\n"
    "  - {caller: web, callee: db}\n";

// The formatted warnings of a document that must load.
std::vector<std::string> warnings_of(const std::string& yaml) {
  std::vector<std::string> lines;
  try {
    for (const Diagnostic& warning : parse_scenario(yaml, "test.yaml").warnings) {
      CHECK(warning.warning);
      lines.push_back(warning.format());
    }
  } catch (const InputError& error) {
    FAIL("the document does not load: " << error.what());
  }
  return lines;
}

using Lines = std::vector<std::string>;

// --- Durations written as bare numbers ------------------------------------------------------

TEST_CASE("a bare number for a duration warns that it is read as seconds", "[warnings]") {
  CHECK(warnings_of("name: t\n"
                    "duration: 2h\n"
                    "services:\n"
                    "  - {name: web, base_latency: 5}\n") ==
        Lines{"test.yaml:4:31: warning: 'base_latency' is a bare number: read as 5 s; write 5s "
              "or 5ms to be explicit"});
}

TEST_CASE("every duration key warns for a bare number, fractions included", "[warnings]") {
  CHECK(warnings_of("name: t\n"
                    "duration: 7200\n"
                    "tick: 0.5\n"
                    "services:\n"
                    "  - {name: web}\n"
                    "  - {name: db}\n"
                    "dependencies:\n"
                    "  - {caller: web, callee: db, timeout: 2}\n") ==
        Lines{"test.yaml:2:11: warning: 'duration' is a bare number: read as 7200 s; write 7200s "
              "or 7200ms to be explicit",
              "test.yaml:3:7: warning: 'tick' is a bare number: read as 0.5 s; write 0.5s or "
              "0.5ms to be explicit",
              "test.yaml:8:40: warning: 'timeout' is a bare number: read as 2 s; write 2s or 2ms "
              "to be explicit"});
}

TEST_CASE("a bare 0 and durations with a unit do not warn", "[warnings]") {
  CHECK(warnings_of(kHead + "faults:\n"
                            "  - {kind: latency, target: {service: db}, start: 0, duration: 10m,\n"
                            "     fixedDelay: 250ms, jitter: 0}\n")
            .empty());
}

TEST_CASE("a bare number that is out of range is an error, not a warning", "[warnings]") {
  try {
    parse_scenario("name: t\nduration: 2h\nservices:\n  - {name: web, base_latency: 0}\n",
                   "test.yaml");
    FAIL("loaded");
  } catch (const InputError& error) {
    REQUIRE(error.diagnostics().size() == 1);
    CHECK(error.diagnostics()[0].format() == "test.yaml:4:31: 'base_latency' must be > 0, got 0");
    CHECK_FALSE(error.diagnostics()[0].warning);
  }
}

// --- Percents written as ratios -------------------------------------------------------------

TEST_CASE("a fault's percent between 0 and 1 warns that it is a fraction of one percent",
          "[warnings]") {
  CHECK(warnings_of(kHead +
                    "faults:\n"
                    "  - {kind: latency, target: {service: db}, start: 10m, duration: 10m,\n"
                    "     fixedDelay: 250ms, percent: 0.5}\n") ==
        Lines{"test.yaml:10:34: warning: 'percent' is 0.5: that is half of one percent; did you "
              "mean 50?"});
}

TEST_CASE("every key documented as a share in percent warns for a ratio", "[warnings]") {
  CHECK(warnings_of(kHead +
                    "faults:\n"
                    "  - {kind: cpu-stress, target: {service: db}, start: 10m, duration: 10m,\n"
                    "     load: 0.25}\n"
                    "  - {kind: pod-kill, target: {service: web}, start: 20m, duration: 1m,\n"
                    "     mode: fixed-percent, value: 0.07}\n"
                    "changes:\n"
                    "  - {kind: deployment, service: web, version: v2, at: 30m, strategy: canary,\n"
                    "     steps: [{weight: 0.1, pause: 5m}, {weight: 50, pause: 5m}]}\n"
                    "  - {kind: feature-flag, flag: f, services: [web], segment: 0.2,\n"
                    "     steps: [{at: 1h, percent: 0.9}]}\n") ==
        Lines{"test.yaml:10:12: warning: 'load' is 0.25: that is 0.25 of one percent; did you "
              "mean 25?",
              "test.yaml:12:34: warning: 'value' is 0.07: that is 0.07 of one percent; did you "
              "mean 7?",
              "test.yaml:15:23: warning: 'weight' is 0.1: that is 0.1 of one percent; did you "
              "mean 10?",
              "test.yaml:16:61: warning: 'segment' is 0.2: that is 0.2 of one percent; did you "
              "mean 20?",
              "test.yaml:17:32: warning: 'percent' is 0.9: that is 0.9 of one percent; did you "
              "mean 90?"});
}

TEST_CASE("percents of 0, 1 and above, and rates and thresholds in percent, do not warn",
          "[warnings]") {
  CHECK(warnings_of(
            "name: t\n"
            "duration: 2h\n"
            "services:\n"
            "  - name: web\n"
            "    sli: {p95Percent: 0.5, errorPoints: 0.5, rpsPercent: 0.5,\n"
            "          errorObjectivePercent: 0.1}\n"
            "faults:\n"
            "  - {kind: error, target: {service: web}, start: 10m, duration: 1m, percent: 0}\n"
            "  - {kind: error, target: {service: web}, start: 20m, duration: 1m, percent: 1}\n"
            "  - {kind: memory-leak, target: {service: web}, start: 30m, duration: 1m,\n"
            "     rate: 0.5}\n"
            "changes:\n"
            "  - {kind: deployment, service: web, version: v2, at: 40m,\n"
            "     defect: {errorPercent: 0.5, memoryLeakPercentPerMinute: 0.5}}\n")
            .empty());
}

// --- Noise ---------------------------------------------------------------------------------

TEST_CASE("a traffic noise above 1 warns that it is a coefficient of variation", "[warnings]") {
  CHECK(warnings_of(kHead + "traffic:\n"
                            "  - {entry: web, base_rps: 100, noise: 5}\n"
                            "  - {entry: web, base_rps: 100, noise: 1}\n") ==
        Lines{"test.yaml:9:40: warning: 'noise' is 5: a coefficient of variation above 1 (the "
              "per-tick rate's standard deviation is 5 times its mean); did you mean 0.05?"});
}

TEST_CASE("a traffic noise on a Locust source warns that its users' pacing is its noise",
          "[warnings]") {
  CHECK(warnings_of(kHead + "traffic:\n"
                            "  - {entry: web, noise: 0.05, locust: {users: 10}}\n"
                            "  - {entry: web, locust: {users: 10}}\n") ==
        Lines{"test.yaml:9:18: warning: 'noise' does not apply to a Locust source: its users' "
              "own pacing is its noise, in both modes (remove it)"});
}

// --- Times past the end ---------------------------------------------------------------------

TEST_CASE("a fault that ends after the scenario's end warns that the run ends first",
          "[warnings]") {
  CHECK(
      warnings_of(kHead +
                  "faults:\n"
                  "  - {name: x, kind: error, target: {service: db}, start: 1h, duration: 2h}\n"
                  "  - {name: y, kind: error, target: {service: db}, start: 1h, duration: 1h}\n") ==
      Lines{"test.yaml:9:72: warning: fault 'x' ends at 3h, after the scenario's end (2h): "
            "the run ends first (its ground truth keeps this end)"});
}

TEST_CASE("a fault that starts after the end stays an error", "[warnings]") {
  try {
    parse_scenario(
        kHead +
            "faults:\n"
            "  - {name: x, kind: error, target: {service: db}, start: 3h, duration: 1h}\n",
        "test.yaml");
    FAIL("loaded");
  } catch (const InputError& error) {
    REQUIRE(error.diagnostics().size() == 1);
    CHECK(error.diagnostics()[0].format() ==
          "test.yaml:9:58: 'start' (3h) must be before the end of the scenario (2h)");
  }
}

TEST_CASE("a schedule's occurrences that reach the end do not warn", "[warnings]") {
  CHECK(warnings_of(kHead +
                    "faults:\n"
                    "  - {name: x, kind: error, target: {service: db}, start: 0s, duration: 50m,\n"
                    "     schedule: {every: 1h}}\n")
            .empty());
}

TEST_CASE("a traffic surge that starts at the end never happens, one past it is cut short",
          "[warnings]") {
  CHECK(warnings_of(kHead +
                    "traffic:\n"
                    "  - name: users\n"
                    "    entry: web\n"
                    "    locust:\n"
                    "      surges: [{from: 1h, to: 3h, users: 10}, {from: 2h, to: 4h, users: 5},\n"
                    "               {from: 1h, to: 2h, users: 1}]\n") ==
        Lines{"test.yaml:12:31: warning: a surge of traffic 'users' ends at 3h, after the "
              "scenario's end (2h): the run ends first",
              "test.yaml:12:54: warning: a surge of traffic 'users' starts at 2h, at or after the "
              "scenario's end (2h): it never happens"});
}

TEST_CASE("a secret fixed before it is revoked, an autoscaler past the end: said", "[warnings]") {
  // Found by a new-user audit: both loaded silently and did nothing (a silent incident of
  // zero length; an autoscaler that never decided).
  CHECK(warnings_of("name: t\n"
                    "duration: 1h\n"
                    "services:\n"
                    "  - name: web\n"
                    "    replicas: 2\n"
                    "    autoscaling: {maxReplicas: 4, syncPeriod: 2h}\n"
                    "changes:\n"
                    "  - {name: s, kind: secret-rotation, secret: db, consumers: [web], at: 25m,\n"
                    "     deadline: 2m, fixedAt: 26m}\n"
                    "  - {name: ok, kind: secret-rotation, secret: db2, consumers: [web],\n"
                    "     reloaded: [web], at: 25m, deadline: 2m, fixedAt: 26m}\n") ==
        Lines{"test.yaml:6:47: warning: the autoscaler first decides after 'syncPeriod' (2h), "
              "at or after the scenario's end (1h): it never happens",
              "test.yaml:9:29: warning: change 's' restarts the consumers not reloaded at 26m, by "
              "the time the old secret is revoked (27m): nothing fails, the rotation is no "
              "incident"});
}

TEST_CASE("a defective change taken back between two ticks never acts: said", "[warnings]") {
  // As a fault between two ticks (found by a new-user audit: it loaded silently, a silent
  // incident). On a tick, or lasting to the next one, it acts.
  CHECK(warnings_of("name: t\n"
                    "duration: 10m\n"
                    "tick: 10s\n"
                    "services: [{name: web, replicas: 2}]\n"
                    "changes:\n"
                    "  - {name: c, kind: config, services: [web], version: x, at: 4m1s,\n"
                    "     revert: 4m5s, defect: {errorPercent: 50}}\n"
                    "  - {name: d, kind: deployment, service: web, version: v2, at: 5m,\n"
                    "     rollback: 5m5s, defect: {errorPercent: 50}}\n"
                    "  - {name: n, kind: config, services: [web], version: y, at: 6m1s,\n"
                    "     revert: 6m5s}\n") ==
        Lines{"test.yaml:7:14: warning: change 'c' is in effect from 4m1s to 4m5s, between two "
              "ticks (4m10s is the next; ticks of 10s): its defect never acts, and its ground "
              "truth is silent"});
}

TEST_CASE("rollbacks, reverts and switches back at or after the end never happen", "[warnings]") {
  CHECK(warnings_of(
            kHead +
            "changes:\n"
            "  - {name: d, kind: deployment, service: web, version: v2, at: 1h, rollback: 2h}\n"
            "  - {name: c, kind: config, services: [web], version: c2, at: 1h, revert: 5h}\n"
            "  - {name: b, kind: deployment, service: db, version: v2, at: 1h,\n"
            "     strategy: blue-green, switchBack: 90m}\n"
            "  - {name: ok, kind: deployment, service: db, version: v3, at: 1h, rollback: "
            "1h59m}\n") ==
        Lines{"test.yaml:9:78: warning: change 'd' rolls back at 2h, at or after the scenario's "
              "end (2h): it never happens",
              "test.yaml:10:75: warning: change 'c' reverts at 5h, at or after the scenario's end "
              "(2h): it never happens",
              "test.yaml:12:40: warning: change 'b' switches back at 2h30m, at or after the "
              "scenario's end (2h): it never happens"});
}

TEST_CASE("a secret revoked or fixed at or after the end never is", "[warnings]") {
  CHECK(warnings_of(
            kHead +
            "changes:\n"
            "  - {name: late, kind: secret-rotation, secret: s, consumers: [web], at: 1h55m}\n"
            "  - {name: slow, kind: secret-rotation, secret: s, consumers: [web], at: 1h,\n"
            "     deadline: 1h}\n"
            "  - {name: fix, kind: secret-rotation, secret: s, consumers: [web], at: 1h,\n"
            "     fixedAt: 3h}\n") ==
        Lines{"test.yaml:9:74: warning: change 'late' revokes the old secret at 2h5m, at or "
              "after the scenario's end (2h): it never happens",
              "test.yaml:11:16: warning: change 'slow' revokes the old secret at 2h, at or after "
              "the scenario's end (2h): it never happens",
              "test.yaml:13:15: warning: change 'fix' restarts the consumers not reloaded at 3h, "
              "at or after the scenario's end (2h): it never happens"});
}

TEST_CASE("a feature-flag step at or after the end never happens", "[warnings]") {
  CHECK(warnings_of(kHead + "changes:\n"
                            "  - {name: f, kind: feature-flag, flag: f, services: [web],\n"
                            "     steps: [{at: 1h, percent: 10}, {at: 2h, percent: 100}]}\n") ==
        Lines{"test.yaml:10:42: warning: change 'f' has a flag step at 2h, at or after the "
              "scenario's end (2h): it never happens"});
}

// --- Order, errors, bundled scenarios -------------------------------------------------------

TEST_CASE("warnings come in file order and are left out of the errors", "[warnings]") {
  const std::string yaml = kHead +
                           "faults:\n"
                           "  - {kind: error, target: {service: db}, start: 1h, duration: 3h,\n"
                           "     percent: 0.5}\n"
                           "traffic:\n"
                           "  - {entry: web, base_rps: 1, noise: 2}\n";
  CHECK(warnings_of(yaml).size() == 3);
  const std::vector<std::string> lines = warnings_of(yaml);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("test.yaml:9:", 0) == 0);
  CHECK(lines[1].rfind("test.yaml:10:", 0) == 0);
  CHECK(lines[2].rfind("test.yaml:12:", 0) == 0);
  try {
    parse_scenario(yaml + "  - {entry: nobody, base_rps: 1}\n", "test.yaml");
    FAIL("loaded");
  } catch (const InputError& error) {
    REQUIRE(error.diagnostics().size() == 1);
    CHECK_FALSE(error.diagnostics()[0].warning);
  }
}

TEST_CASE("the bundled scenarios and test scenarios load without warnings", "[warnings]") {
  for (const char* folder : {"/scenarios", "/tests/data/scenarios"}) {
    for (const auto& entry : fs::directory_iterator(std::string(DOSIM_SOURCE_DIR) + folder)) {
      if (entry.path().extension() != ".yaml") continue;
      INFO(entry.path().string());
      const Scenario scenario = load_scenario_file(entry.path().string());
      std::string listed;
      for (const Diagnostic& warning : scenario.warnings) listed += warning.format() + "\n";
      CHECK(listed == "");
    }
  }
}

// --- Capacity, workers and base latency -----------------------------------------------------

TEST_CASE("capacity follows workers and base_latency unless given", "[warnings]") {
  const Scenario scenario = parse_scenario(
      "name: t\n"
      "duration: 1h\n"
      "services:\n"
      "  - {name: a}\n"
      "  - {name: b, base_latency: 40ms}\n"
      "  - {name: c, base_latency: 40ms, workers: 8}\n"
      "  - {name: d, base_latency: 5ms, capacity_rps: 400}\n",
      "test.yaml");
  CHECK(scenario.warnings.empty());
  const auto& s = scenario.services;
  CHECK(s[0].capacity_rps == Approx(100));  // one worker at the default 10 ms
  CHECK(s[1].capacity_rps == Approx(25));
  CHECK(s[2].capacity_rps == Approx(200));
  CHECK(s[2].service_seconds() == Approx(0.040));
  CHECK(s[3].concurrency() == 2);
  CHECK(s[3].service_seconds() == Approx(0.005));
  // A capacity without a base latency of its own sets the service time: nothing to warn of.
  const Scenario derived = parse_scenario(
      "name: t\n"
      "duration: 1h\n"
      "services:\n"
      "  - {name: a, capacity_rps: 150}\n"
      "  - {name: b, capacity_rps: 150, workers: 4}\n",
      "test.yaml");
  CHECK(derived.warnings.empty());
  CHECK(derived.services[0].concurrency() == 2);
  CHECK(to_seconds(derived.services[0].base_latency) == Approx(2.0 / 150));
  CHECK(to_seconds(derived.services[1].base_latency) == Approx(4.0 / 150));
  CHECK(derived.services[1].service_seconds() == Approx(4.0 / 150));
  // Past a long's range the product is clamped as it is, at a million workers.
  ServiceSpec huge;
  huge.capacity_rps = 1e300;
  CHECK(huge.concurrency() == 1'000'000);
  huge.capacity_rps = 1e-300;
  CHECK(huge.concurrency() == 1);
}

TEST_CASE("capacity and base latency that cannot both hold warn, with the time used",
          "[warnings]") {
  CHECK(warnings_of("name: t\n"
                    "duration: 1h\n"
                    "services:\n"
                    "  - {name: web, capacity_rps: 250, base_latency: 6ms}\n"
                    "  - {name: db, capacity_rps: 100, base_latency: 80ms, workers: 4}\n"
                    "  - {name: ok, capacity_rps: 250, base_latency: 8ms}\n") ==
        Lines{"test.yaml:4:31: warning: 'capacity_rps' 250 and 'base_latency' 6ms cannot both "
              "hold: 2 workers (capacity_rps x base_latency, rounded) serving 250 requests per "
              "second take 8ms each, the service time both world modes use; set 'base_latency' "
              "to 8ms, or 'workers' and 'capacity_rps' to match",
              "test.yaml:5:30: warning: 'capacity_rps' 100 and 'base_latency' 80ms cannot both "
              "hold: 4 workers serving 100 requests per second take 40ms each, the service time "
              "both world modes use; set 'base_latency' to 40ms, or 'workers' and "
              "'capacity_rps' to match"});
  // A second and more in seconds, three significant digits (it said 2e+03ms).
  CHECK(warnings_of("name: t\n"
                    "duration: 1h\n"
                    "services:\n"
                    "  - {name: db, capacity_rps: 2, base_latency: 100ms, workers: 4}\n"
                    "  - {name: q, capacity_rps: 3, base_latency: 100ms, workers: 4}\n") ==
        Lines{"test.yaml:4:30: warning: 'capacity_rps' 2 and 'base_latency' 100ms cannot both "
              "hold: 4 workers serving 2 requests per second take 2s each, the service time "
              "both world modes use; set 'base_latency' to 2s, or 'workers' and "
              "'capacity_rps' to match",
              "test.yaml:5:29: warning: 'capacity_rps' 3 and 'base_latency' 100ms cannot both "
              "hold: 4 workers serving 3 requests per second take 1.33s each, the service time "
              "both world modes use; set 'base_latency' to 1.33s, or 'workers' and "
              "'capacity_rps' to match"});
}

TEST_CASE("measurement_noise: false at the request level warns that it changes nothing",
          "[warnings]") {
  CHECK(warnings_of("name: t\n"
                    "duration: 1h\n"
                    "mode: requests\n"
                    "measurement_noise: false\n"
                    "services: [{name: web}]\n") ==
        Lines{"test.yaml:4:20: warning: 'measurement_noise: false' is the fluid model's: the "
              "request level measures its own requests (their noise is theirs), so it changes "
              "nothing here"});
  CHECK(warnings_of("name: t\n"
                    "duration: 1h\n"
                    "measurement_noise: false\n"
                    "services: [{name: web}]\n")
            .empty());
  // The request level asked for in place of the file's mode (dosim run --mode requests,
  // RunOptions::mode): the same warning, at the key (the loader saw only the fluid mode).
  dosim::Scenario fluid = dosim::parse_scenario(
      "name: t\nduration: 1h\nmeasurement_noise: false\nservices: [{name: web}]\n", "test.yaml");
  REQUIRE(fluid.warnings.empty());
  dosim::set_world_mode(fluid, dosim::WorldMode::kRequests);
  REQUIRE(fluid.warnings.size() == 1);
  CHECK(fluid.warnings[0].format() ==
        "test.yaml:3:20: warning: 'measurement_noise: false' is the fluid model's: the request "
        "level, asked for in place of the scenario's mode, measures its own requests (their "
        "noise is theirs), so it changes nothing here");
  CHECK(fluid.mode == dosim::WorldMode::kRequests);
}

TEST_CASE("request-level service shapes in a fluid run are said to be left aside", "[warnings]") {
  // `calls: parallel` and `service_time` ran in the fluid model as sequential calls and
  // exponential service times without a word (a fan-out of 3: mean 85 ms against 59 ms at
  // the request level).
  const std::string yaml =
      "name: t\n"
      "duration: 1h\n"
      "services:\n"
      "  - {name: web, calls: parallel}\n"
      "  - {name: db, service_time: deterministic}\n";
  const Lines said{
      "test.yaml:4:24: warning: 'calls: parallel' acts at the request level only "
      "(mode: requests): the fluid model makes a request's calls one after the other",
      "test.yaml:5:30: warning: 'service_time' acts at the request level only (mode: "
      "requests): the fluid model's service times are exponential"};
  CHECK(warnings_of(yaml) == said);
  CHECK(warnings_of("mode: requests\n" + yaml).empty());
  // --mode requests takes them back; --mode fluid of a request-level scenario gives them.
  dosim::Scenario fluid = dosim::parse_scenario(yaml, "test.yaml");
  REQUIRE(fluid.warnings.size() == 2);
  dosim::set_world_mode(fluid, dosim::WorldMode::kRequests);
  CHECK(fluid.warnings.empty());
  dosim::Scenario requests = dosim::parse_scenario("mode: requests\n" + yaml, "test.yaml");
  REQUIRE(requests.warnings.empty());
  dosim::set_world_mode(requests, dosim::WorldMode::kFluid);
  REQUIRE(requests.warnings.size() == 2);
  CHECK(requests.warnings[0].format() ==
        "test.yaml:5:24: warning: " + std::string(dosim::kParallelCallsInFluid));
}

TEST_CASE("an edge or endpoint detector that watches no series warns at the detector",
          "[warnings]") {
  // No dependency and no endpoint: the edge and endpoint families have no column; the
  // service family always has one.
  CHECK(warnings_of("name: t\n"
                    "duration: 1h\n"
                    "services: [{name: web}]\n"
                    "detectors:\n"
                    "  - {name: ep, kind: mad, family: endpoint, metrics: [error_ratio]}\n"
                    "  - {name: ed, kind: mad, family: edge, metrics: [rps]}\n"
                    "  - {name: sv, kind: mad, metrics: [rps]}\n") ==
        Lines{"test.yaml:5:5: warning: detector 'ep' watches no series: endpoint series belong to "
              "declared endpoints, and no service declares one",
              "test.yaml:6:5: warning: detector 'ed' watches no series: edge series belong to "
              "dependencies, and the scenario declares none"});
  // With an endpoint and a dependency, both watch something.
  CHECK(warnings_of(kHead + "detectors:\n"
                            "  - {name: ed, kind: mad, family: edge, metrics: [rps]}\n")
            .empty());
  CHECK(warnings_of("name: t\n"
                    "duration: 1h\n"
                    "services: [{name: web, endpoints: [{name: /a}]}]\n"
                    "detectors:\n"
                    "  - {name: ep, kind: mad, family: endpoint, metrics: [error_ratio]}\n")
            .empty());
}

TEST_CASE("a detector that can never alert warns at the value", "[warnings]") {
  // A `for:` as long as the run, a threshold above 1 on an error ratio: accepted in silence.
  CHECK(
      warnings_of("name: t\n"
                  "duration: 10m\n"
                  "services: [{name: web}]\n"
                  "detectors:\n"
                  "  - {name: slow, kind: mad, metrics: [rps], for: 1h}\n"
                  "  - {name: high, kind: threshold, metrics: [error_ratio], params: {above: 2}}\n"
                  "  - {name: ok, kind: threshold, metrics: [error_ratio], params: {above: 0.5}, "
                  "for: 9m}\n") ==
      Lines{"test.yaml:5:50: warning: detector 'slow' alerts after 'for: 1h' of anomalous "
            "ticks, as long as the run (10m) or longer: it never alerts",
            "test.yaml:6:75: warning: detector 'high' alerts on an error ratio above 2: a "
            "ratio is at most 1, so it never alerts"});
  // A warm-up as long as the run (ewma's warmup, regression's training in seconds): nothing
  // scored, accepted in silence (from a new-user audit); one shorter says nothing.
  CHECK(warnings_of("name: t\n"
                    "duration: 10m\n"
                    "tick: 10s\n"
                    "services: [{name: web}, {name: db}]\n"
                    "dependencies: [{caller: web, callee: db}]\n"
                    "detectors:\n"
                    "  - {name: e, kind: ewma, metrics: [rps], params: {warmup: 60}}\n"
                    "  - {name: r, kind: regression, family: edge, metrics: [rps, latency_p95_s], "
                    "params: {training: 7200}}\n"
                    "  - {name: fine, kind: ewma, metrics: [rps], params: {warmup: 59}}\n") ==
        Lines{"test.yaml:7:60: warning: detector 'e' scores nothing for its first 60 ticks "
              "('warmup'), as long as the run (10m) or longer: it never alerts",
              "test.yaml:8:97: warning: detector 'r' scores nothing for its first 7200 s "
              "('training'), as long as the run (10m) or longer: it never alerts"});
}

TEST_CASE("a severity a letter off critical, warning or info warns", "[warnings]") {
  // `severity: critcal` passed: Alertmanager routes on severity="critical" never saw it.
  CHECK(warnings_of("name: t\n"
                    "duration: 10m\n"
                    "services: [{name: web}]\n"
                    "detectors:\n"
                    "  - {name: a, kind: mad, metrics: [rps], severity: critcal}\n"
                    "  - {name: b, kind: mad, metrics: [rps], severity: page}\n"
                    "  - {name: c, kind: mad, metrics: [rps], severity: info}\n") ==
        Lines{"test.yaml:5:52: warning: detector 'a': severity 'critcal' is none of critical, "
              "warning, info; did you mean 'critical'?"});
}

TEST_CASE("a canary that shrinks, and an overlap with a rollout that outlasts the run",
          "[warnings]") {
  // A step below the one before passed without a word; the overlap's advice named a time
  // past the run's end ("start it at 42m or later" in a 30m run).
  CHECK(warnings_of("name: t\n"
                    "duration: 30m\n"
                    "services: [{name: m, replicas: 2}]\n"
                    "changes:\n"
                    "  - {name: m0, kind: deployment, service: m, version: v2, at: 10m, strategy: "
                    "canary, steps: [{weight: 60, pause: 2m}, {weight: 20, pause: 30m}]}\n"
                    "  - {name: m2, kind: deployment, service: m, version: v3, at: 15m}\n") ==
        Lines{"test.yaml:5:128: warning: canary step weight 20 is below the step before (60): "
              "the canary shrinks; steps usually only grow (a rollback ends it)",
              "test.yaml:6:5: warning: deployment 'm2' of m starts at 15m while deployment 'm0' "
              "is still rolling out (until 42m): one rollout a service at a time (the first's "
              "later steps would be logged as if they came); roll 'm0' back first, or give it "
              "shorter steps (it outlasts the run)"});
}

TEST_CASE("a schedule whose occurrences overlap warns at its every", "[warnings]") {
  // every: 10s with duration: 15s passed silently: every occurrence stayed "ongoing".
  CHECK(warnings_of("name: t\n"
                    "duration: 1m\n"
                    "services: [{name: db}]\n"
                    "faults:\n"
                    "  - {name: e, kind: error, target: {service: db}, percent: 50, start: 10s, "
                    "duration: 15s, schedule: {every: 10s}}\n") ==
        Lines{"test.yaml:5:109: warning: 'every' (10s) is shorter than 'duration' (15s): each "
              "occurrence starts before the one before ends, and they share their impact "
              "(docs/ground-truth.md, Overlapping causes)"});
}

TEST_CASE("a number written in quotes warns that YAML reads it as text", "[warnings]") {
  // capacity_rps: "200" and a detector's above: "0.2" were taken as numbers without a word
  // (text in YAML; a schema-driven tool refuses them).
  CHECK(warnings_of("name: t\n"
                    "duration: 1h\n"
                    "services: [{name: web, replicas: '2', capacity_rps: \"200\", "
                    "base_latency: 5ms}]\n"
                    "detectors:\n"
                    "  - {name: t, kind: threshold, metrics: [error_ratio], params: {above: "
                    "\"0.2\"}}\n") ==
        Lines{"test.yaml:3:34: warning: 'replicas' is quoted (\"2\"): YAML reads that as text; "
              "dosim takes it as the number 2, write it without quotes",
              "test.yaml:3:53: warning: 'capacity_rps' is quoted (\"200\"): YAML reads that as "
              "text; dosim takes it as the number 200, write it without quotes",
              "test.yaml:5:72: warning: detector 't': parameter 'above' is quoted (\"0.2\"): "
              "YAML reads that as text; dosim takes it as the number 0.2, write it without "
              "quotes"});
  // Plain numbers, and text that is not a number, say nothing of quotes.
  CHECK(warnings_of("name: t\nduration: 1h\nservices: [{name: web, replicas: 2, "
                    "capacity_rps: 200, base_latency: 5ms}]\n")
            .empty());
  // Nor does a boolean: "false" quoted was taken without a word.
  CHECK(warnings_of("name: t\nduration: 1h\nmeasurement_noise: \"false\"\n"
                    "services: [{name: web}]\n") ==
        Lines{"test.yaml:3:20: warning: 'measurement_noise' is quoted (\"false\"): YAML reads "
              "that as text; dosim takes it as false, write it without quotes"});
  CHECK(warnings_of("name: t\nduration: 1h\nmeasurement_noise: false\nservices: [{name: web}]\n")
            .empty());
}

TEST_CASE("a fault that no tick sees warns that it never acts", "[warnings]") {
  // A fault acts from the first tick that starts at or after its start, until its end: one
  // between two ticks (ending at or before the next), or starting after the last tick began,
  // was silent without a word. c starts on a tick, d reaches the next one: both act.
  CHECK(warnings_of(
            "name: t\n"
            "duration: 2m\n"
            "tick: 10s\n"
            "services: [{name: web}]\n"
            "faults:\n"
            "  - {name: a, kind: error, target: {service: web}, start: 61s, duration: 2s}\n"
            "  - {name: b, kind: error, target: {service: web}, start: 115s, duration: 3s}\n"
            "  - {name: c, kind: error, target: {service: web}, start: 60s, duration: 2s}\n"
            "  - {name: d, kind: error, target: {service: web}, start: 61s, duration: 10s}\n") ==
        Lines{"test.yaml:6:74: warning: fault 'a' lasts from 1m1s to 1m3s, between two ticks "
              "(1m10s is the next; ticks of 10s): it never acts, and its ground truth is silent; "
              "start it on a tick or make it last a tick",
              "test.yaml:7:59: warning: fault 'b' starts at 1m55s, after the run's last tick began "
              "(1m50s, ticks of 10s): it never acts, and its ground truth is silent"});
}

TEST_CASE("a defect that does nothing is said to be no incident", "[warnings]") {
  // `defect: {}`, errorPercent 0 or an incompatibility alone gave no incident and no word.
  CHECK(warnings_of(
            kHead +
            "changes:\n"
            "  - {name: a, kind: deployment, service: web, version: v2, at: 1m, defect: {}}\n"
            "  - {name: b, kind: config, services: [web], version: c2, at: 2m,\n"
            "     defect: {errorPercent: 0}}\n"
            "  - {name: c, kind: config, services: [web], version: c3, at: 3m,\n"
            "     defect: {incompatibleWith: {service: web, version: v9}}}\n"
            "  - {name: d, kind: config, services: [web], version: c4, at: 4m,\n"
            "     defect: {errorPercent: 5, incompatibleWith: {service: web, version: v9}}}\n") ==
        Lines{"test.yaml:9:76: warning: this defect does nothing (no latency, errorPercent, "
              "crashOnStart, badImage or memory leak above 0): the change is no incident in the "
              "ground truth",
              "test.yaml:11:14: warning: this defect does nothing (no latency, errorPercent, "
              "crashOnStart, badImage or memory leak above 0): the change is no incident in the "
              "ground truth",
              "test.yaml:13:14: warning: this defect does nothing (no latency, errorPercent, "
              "crashOnStart, badImage or memory leak above 0; incompatibleWith only limits when "
              "one of them shows): the change is no incident in the ground truth"});
}

}  // namespace
}  // namespace dosim
