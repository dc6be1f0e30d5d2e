// The Lab 7 incident rule: accumulators, temperature and Sev levels against a hand
// computation.
#include <catch2/catch.hpp>
#include <vector>

#include "detectors/incident_rule.h"
#include "detectors/runner.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"

using namespace dosim;

namespace {
Scenario parse_scenario_file_for_test(const std::string& relative) {
  return load_scenario_file(std::string(DOSIM_SOURCE_DIR) + "/" + relative);
}
}  // namespace

TEST_CASE("the incident temperature follows the accumulators; Sev1 when every stream is hot",
          "[incident_rule]") {
  IncidentRuleSpec spec;
  spec.name = "lab7";
  spec.poll = 5 * kSecond;
  spec.decay = 2;
  spec.stream_threshold = 3;
  spec.threshold = 5;
  IncidentRule rule(spec, 2);
  // Anomalous ticks per poll of 5 ticks: (A, B) = (4, 0), (3, 5), (0, 0), (0, 0).
  const std::vector<std::pair<int, int>> per_poll = {{4, 0}, {3, 5}, {0, 0}, {0, 0}};
  std::vector<double> temperatures;
  std::int64_t tick = 0;
  for (const auto& [a, b] : per_poll) {
    for (int k = 0; k < 5; ++k, ++tick)
      rule.observe((tick + 1) * kSecond, {static_cast<char>(k < a), static_cast<char>(k < b)});
    temperatures.push_back(rule.temperature());
  }
  // A: 4, 7, 5, 3; B: 0, 5, 3, 1.
  CHECK(temperatures == std::vector<double>{4, 12, 8, 4});
  REQUIRE(rule.incidents().size() == 1);
  const DetectedIncident& incident = rule.incidents()[0];
  CHECK(incident.start == 10 * kSecond);  // 12 > 5, both accumulators above 3: Sev1
  CHECK(incident.end == 20 * kSecond);    // 4 <= 5
  CHECK(incident.severity == 1);
  CHECK(incident.peak_temperature == 12);
}

TEST_CASE("one hot stream makes a Sev2 incident; a cold run makes none", "[incident_rule]") {
  IncidentRuleSpec spec;
  spec.name = "lab7";
  spec.stream_threshold = 3;
  spec.threshold = 5;
  IncidentRule rule(spec, 2);
  for (std::int64_t tick = 0; tick < 10; ++tick)  // A anomalous throughout, B never
    rule.observe((tick + 1) * kSecond, {1, 0});
  REQUIRE(rule.incidents().size() == 1);
  CHECK(rule.incidents()[0].severity == 2);
  CHECK(rule.incidents()[0].start == 10 * kSecond);  // 5 at 5 s (not above 5), 10 at 10 s
  CHECK(rule.incidents()[0].end == -1);              // still open

  IncidentRule quiet(spec, 2);
  for (std::int64_t tick = 0; tick < 100; ++tick) quiet.observe((tick + 1) * kSecond, {0, 0});
  CHECK(quiet.incidents().empty());
  CHECK(quiet.temperature() == 0);
}

TEST_CASE("the Lab 7 scenario: the delay makes a Sev2 incident, the surges none",
          "[incident_rule]") {
  const Scenario scenario = parse_scenario_file_for_test("scenarios/online-boutique.yaml");
  DetectorRunner runner(scenario, scenario.detectors);
  Simulation simulation(scenario, scenario.seed);
  simulation.add_sink(&runner);
  simulation.run();
  const auto detected = runner.detected_incidents();
  REQUIRE_FALSE(detected.empty());
  const SimTime delay_start = 15 * kMinute, delay_end = 25 * kMinute;
  CHECK(detected.front().start >= delay_start);
  CHECK(detected.front().start <= delay_start + kMinute);
  CHECK(detected.front().severity == 2);             // one of the three streams is hot
  for (const DetectedIncident& incident : detected)  // nothing during the three surges
    CHECK(incident.start >= delay_start);
  CHECK(detected.back().start <= delay_end + kMinute);
}
