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

TEST_CASE("the incident temperature follows the accumulators, Sev1 when every stream is hot",
          "[incident_rule]") {
  IncidentRuleSpec spec;
  spec.name = "lab7";
  spec.poll = 5 * kSecond;
  spec.decay = 2;
  spec.stream_threshold = 3;
  spec.threshold = 5;
  IncidentRule rule(spec, {"a:rps", "b:rps"});
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

TEST_CASE("an incident's timeline: opened, escalated, de-escalated, closed, with accumulators",
          "[incident_rule]") {
  IncidentRuleSpec spec;
  spec.name = "lab7";
  spec.poll = 5 * kSecond;
  spec.decay = 2;
  spec.stream_threshold = 3;
  spec.threshold = 5;
  IncidentRule rule(spec, {"a:rps", "b:rps"});
  // Anomalous ticks per poll: (5, 0), (5, 0), (5, 5), then none. At the polls (5 s, 10 s, ...)
  // A: 5, 10, 15, 13, 11, 9, 7, 5; B: 0, 0, 5, 3, 1, 0, 0, 0; temperature 5, 10, 20, 16, 12,
  // 9, 7, 5: opened at 10 s (10 > 5, A hot), closed at 40 s (5, not above 5).
  const std::vector<std::pair<int, int>> per_poll = {{5, 0}, {5, 0}, {5, 5}, {0, 0}, {0, 0},
                                                     {0, 0}, {0, 0}, {0, 0}, {0, 0}};
  std::int64_t tick = 0;
  for (const auto& [a, b] : per_poll)
    for (int k = 0; k < 5; ++k, ++tick)
      rule.observe((tick + 1) * kSecond, {static_cast<char>(k < a), static_cast<char>(k < b)});
  REQUIRE(rule.incidents().size() == 1);
  const DetectedIncident& incident = rule.incidents()[0];
  CHECK(incident.streams == std::vector<std::string>{"a:rps", "b:rps"});
  CHECK(incident.severity == 1);
  REQUIRE(incident.timeline.size() == 4);
  const auto& t = incident.timeline;
  CHECK((t[0].time == 10 * kSecond && t[0].what == "opened" && t[0].severity == 2 &&
         t[0].previous == 0 && t[0].temperature == 10));
  CHECK(t[0].accumulators == std::vector<double>{10, 0});
  CHECK((t[1].time == 15 * kSecond && t[1].what == "escalated" && t[1].severity == 1 &&
         t[1].previous == 2 && t[1].temperature == 20));
  CHECK(t[1].accumulators == std::vector<double>{15, 5});  // both above 3: Sev1
  CHECK((t[2].time == 20 * kSecond && t[2].what == "de-escalated" && t[2].severity == 2 &&
         t[2].previous == 1));
  CHECK(t[2].accumulators == std::vector<double>{13, 3});  // B at 3, not above: Sev2
  CHECK((t[3].time == 40 * kSecond && t[3].what == "closed" && t[3].severity == 2));
  CHECK(t[3].accumulators == std::vector<double>{5, 0});
  CHECK(incident.end == 40 * kSecond);
}

TEST_CASE("stream thresholds may differ per stream: a stream's own over its column's",
          "[incident_rule]") {
  // Both streams anomalous for 10 ticks: accumulators 10 and 10 at 10 s. With one threshold
  // of 3 both are hot (Sev1); with b's column at 20 only a is (Sev2); with a's own stream at
  // 30 over its column's 2 neither is, and the incident is Sev3.
  const auto severity = [](std::vector<IncidentRuleSpec::StreamThreshold> own) {
    IncidentRuleSpec spec;
    spec.name = "lab7";
    spec.stream_threshold = 3;
    spec.threshold = 5;
    spec.stream_thresholds = std::move(own);
    IncidentRule rule(spec, {"a->x:rps", "b->x:rps"});
    for (std::int64_t tick = 0; tick < 10; ++tick) rule.observe((tick + 1) * kSecond, {1, 1});
    REQUIRE(rule.incidents().size() == 1);
    return rule.incidents()[0].severity;
  };
  CHECK(severity({}) == 1);
  CHECK(severity({{"b->x", 20, {}}}) == 2);
  CHECK(severity({{"b->x", 20, {}}, {"a->x:rps", 30, {}}, {"a->x", 2, {}}}) == 3);
  // Keys that name no stream nor column are said (the runner makes them an error).
  IncidentRuleSpec spec;
  spec.stream_thresholds = {{"a->x", 1, {}}, {"a->x:p95", 1, {}}, {"nope", 1, {}}};
  const auto unknown = IncidentRule::unknown_keys(spec, {"a->x:rps", "b->x:rps"});
  REQUIRE(unknown.size() == 2);
  CHECK(unknown[0]->key == "a->x:p95");
  CHECK(unknown[1]->key == "nope");
}

TEST_CASE("one hot stream makes a Sev2 incident, a cold run makes none", "[incident_rule]") {
  IncidentRuleSpec spec;
  spec.name = "lab7";
  spec.stream_threshold = 3;
  spec.threshold = 5;
  IncidentRule rule(spec, {"a:rps", "b:rps"});
  for (std::int64_t tick = 0; tick < 10; ++tick)  // A anomalous throughout, B never
    rule.observe((tick + 1) * kSecond, {1, 0});
  REQUIRE(rule.incidents().size() == 1);
  CHECK(rule.incidents()[0].severity == 2);
  CHECK(rule.incidents()[0].start == 10 * kSecond);  // 5 at 5 s (not above 5), 10 at 10 s
  CHECK(rule.incidents()[0].end == -1);              // still open

  IncidentRule quiet(spec, {"a:rps", "b:rps"});
  for (std::int64_t tick = 0; tick < 100; ++tick) quiet.observe((tick + 1) * kSecond, {0, 0});
  CHECK(quiet.incidents().empty());
  CHECK(quiet.temperature() == 0);
}

TEST_CASE("a poll between two ticks happens when the tick it falls in ends", "[incident_rule]") {
  // Polls every 2.5 s of 1 s ticks: due at 2.5 s, 5 s, 7.5 s, 10 s, ... each counts the ticks
  // ended by the tick end at or after it (3 s, 5 s, 8 s, 10 s), and is dated then; at 2.5 s it
  // counted the tick ending at 3 s, data from after its own time.
  IncidentRuleSpec spec;
  spec.name = "r";
  spec.poll = 2500 * kMillisecond;
  spec.stream_threshold = 0;
  spec.threshold = 2.5;  // above at the first poll: 3 ticks counted
  IncidentRule rule(spec, {"a:rps"});
  for (std::int64_t tick = 0; tick < 10; ++tick) rule.observe((tick + 1) * kSecond, {1});
  REQUIRE(rule.incidents().size() == 1);
  // The first poll, due at 2.5 s, counts the ticks ended by 3 s and is dated 3 s.
  CHECK(rule.incidents()[0].start == 3 * kSecond);
  REQUIRE(!rule.incidents()[0].timeline.empty());
  CHECK(rule.incidents()[0].timeline[0].time == 3 * kSecond);
  CHECK(rule.incidents()[0].timeline[0].accumulators[0] == 3);
}

TEST_CASE("the Lab 7 scenario: the cart delay makes a Sev2 incident, the surges none",
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
  CHECK(detected.front().start <= delay_start + 2 * kMinute);
  CHECK(detected.front().severity == 2);  // the cart pair's streams are hot
  const std::vector<double>& at_open = detected.front().timeline.front().accumulators;
  REQUIRE(detected.front().streams.size() == 4);  // cart's and payment's rps and p95
  for (std::size_t k = 0; k < 4; ++k) {
    const bool cart = detected.front().streams[k].rfind("frontend->cartservice:", 0) == 0;
    CHECK((at_open[k] > 75) == cart);
  }
  for (const DetectedIncident& incident : detected)  // nothing during the three surges
    CHECK(incident.start >= delay_start);
  CHECK(detected.back().start <= delay_end + kMinute);
}
