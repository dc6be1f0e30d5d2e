// Regional traffic (engine/steering.h): a source's share per region, moved by a global load
// balancer's health checks (detection delay, linear shift, failback), by drains and by
// traffic shifts; and the ground truth of a failover. Expected times and shares are worked
// out by hand from the policy's parameters (docs/world-model.md, "Regional traffic").
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"
#include "engine/world.h"
#include "simulation_test_support.h"

using namespace dosim;
using namespace dosim::testing;

namespace {

// Two regions, a stack in each; eu-users (100 rps, home eu) and us-users (50 rps, home us).
// {FAILOVER}, {FAULTS} and {CHANGES} are filled in by each test.
constexpr const char* kTwoRegions = R"(
name: two-regions
duration: 20m
regions:
  - {name: eu, zones: [eu-a, eu-b]}
  - {name: us, zones: [us-a]}
services:
  - {name: web-eu, zones: [eu-a, eu-b], replicas: 4, capacity_rps: 100}
  - {name: db-eu, zone: eu-b, replicas: 2, capacity_rps: 400}
  - {name: web-us, zone: us-a, replicas: 4, capacity_rps: 100}
  - {name: db-us, zone: us-a, replicas: 2, capacity_rps: 400}
  - {name: unrelated, zone: us-a, replicas: 1, capacity_rps: 100}
dependencies:
  - {caller: web-eu, callee: db-eu, timeout: 1s}
  - {caller: web-us, callee: db-us, timeout: 1s}
traffic:
  - name: eu-users
    base_rps: 100
    noise: 0
    regions: {eu: web-eu, us: web-us}
    FAILOVER
  - {name: us-users, base_rps: 50, noise: 0, regions: {us: web-us, eu: web-eu}}
  - {name: other, base_rps: 10, noise: 0, entry: unrelated}
faults: FAULTS
changes: CHANGES
)";

Scenario two_regions(const std::string& failover, const std::string& faults,
                     const std::string& changes) {
  std::string text = kTwoRegions;
  auto fill = [&](const std::string& key, const std::string& value) {
    text.replace(text.find(key), key.size(), value);
  };
  fill("FAILOVER", failover);
  fill("FAULTS", faults);
  fill("CHANGES", changes);
  return scenario_from(text);
}

// eu-users' share in eu (route column 0) and us (column 1) after stepping to `tick`.
struct Shares {
  double eu, us;
};
Shares step_to(Simulation& simulation, std::int64_t& next, std::int64_t tick) {
  simulation.run_ticks(tick + 1 - next);
  next = tick + 1;
  const auto weight = simulation.world().frame().route(RouteMetric::kWeight);
  return {weight[0], weight[1]};
}

// The change log as "TIME KIND TARGET FROM->TO" lines.
std::vector<std::string> change_log(const Simulation& simulation) {
  std::vector<std::string> log;
  for (const ChangeEvent& event : simulation.changes())
    log.push_back(format_duration(event.time) + " " + event.kind + " " + event.target + " " +
                  event.from + "->" + event.to);
  return log;
}

const IncidentRecord& record_named(const std::vector<IncidentRecord>& records,
                                   const std::string& name) {
  for (const IncidentRecord& record : records)
    if (record.name == name) return record;
  FAIL("no incident " << name);
  return records.front();
}

bool affects(const Scenario& scenario, const IncidentRecord& record, const std::string& service) {
  const int s = scenario.service_index(service);
  return std::find(record.affected.begin(), record.affected.end(), s) != record.affected.end();
}

}  // namespace

TEST_CASE("a region outage is detected after the failed checks and its traffic shifts linearly",
          "[steering]") {
  // Checks at 0, 10, 20, ... s. The outage starts at 60 s: the checks at 60, 70 and 80 fail,
  // the third marks eu down at 80 s, and the share moves over 60 s (80 s .. 140 s). The outage
  // ends at 300 s: the checks at 300, 310 and 320 pass, eu is up at 320 s, back by 380 s.
  const Scenario scenario = two_regions(
      "failover: {interval: 10s, failures: 3, recoveries: 3, shift: 1m}",
      "[{name: eu-dark, kind: outage, target: {region: eu}, start: 1m, duration: 4m}]", "[]");
  Simulation world(scenario, 1);
  std::int64_t next = 0;
  Shares at = step_to(world, next, 79);
  CHECK(at.eu == 1.0);
  CHECK(at.us == 0.0);
  at = step_to(world, next, 80);  // the move starts: progress 0
  CHECK(at.eu == 1.0);
  at = step_to(world, next, 110);
  CHECK(at.eu == Approx(0.5));
  CHECK(at.us == Approx(0.5));
  // Arrivals follow: web-us gets half of eu-users and all of us-users.
  CHECK(world.world().outcome().arrivals[scenario.service_index("web-us")] == Approx(50.0 + 50.0));
  at = step_to(world, next, 140);
  CHECK(at.eu == 0.0);
  CHECK(at.us == 1.0);
  CHECK(world.world().outcome().arrivals[scenario.service_index("web-eu")] == 0.0);
  at = step_to(world, next, 319);
  CHECK(at.us == 1.0);
  at = step_to(world, next, 350);
  CHECK(at.eu == Approx(0.5));
  at = step_to(world, next, 380);
  CHECK(at.eu == 1.0);

  const std::vector<std::string> log = change_log(world);
  // us-users' eu share is 0: its checks mark eu down too, but that moves nothing, unlogged.
  CHECK(log == std::vector<std::string>{"1m20s failover eu-users eu->us",
                                        "5m20s failback eu-users us->eu"});
}

TEST_CASE("without a failover policy a dark region's users keep failing", "[steering]") {
  const Scenario scenario = two_regions(
      "", "[{name: eu-dark, kind: outage, target: {region: eu}, start: 1m, duration: 4m}]", "[]");
  Simulation world(scenario, 1);
  std::int64_t next = 0;
  const Shares at = step_to(world, next, 200);
  CHECK(at.eu == 1.0);
  CHECK(world.world().outcome().error_ratio[scenario.service_index("web-eu")] == 1.0);
  CHECK(world.world().outcome().arrivals[scenario.service_index("web-us")] == Approx(50.0));
}

TEST_CASE("a health check fails on errors, not only on replicas", "[steering]") {
  // Every web-eu request fails (an abort fault): its replicas are up, its error ratio is 1.
  const Scenario scenario = two_regions(
      "failover: {interval: 5s, failures: 2, shift: 0s}",
      "[{name: eu-errors, kind: error, target: {service: web-eu}, start: 30s, duration: 5m}]",
      "[]");
  Simulation world(scenario, 1);
  std::int64_t next = 0;
  // The tick at 30 s makes the errors; checks at 35 s and 40 s see them: down at 40 s, moved
  // at once (shift 0).
  CHECK(step_to(world, next, 39).eu == 1.0);
  CHECK(step_to(world, next, 40).us == 1.0);
}

TEST_CASE("a slow region fails its checks at the timeout", "[steering]") {
  const Scenario scenario = two_regions(
      "failover: {interval: 5s, failures: 2, timeout: 2s, shift: 0s}",
      "[{name: eu-slow, kind: latency, target: {service: web-eu}, fixedDelay: 3s, start: 30s, "
      "duration: 5m}]",
      "[]");
  Simulation world(scenario, 1);
  std::int64_t next = 0;
  CHECK(step_to(world, next, 39).eu == 1.0);
  CHECK(step_to(world, next, 40).us == 1.0);
}

TEST_CASE("a drain moves a region's traffic over its shift and restore brings it back",
          "[steering]") {
  const Scenario scenario =
      two_regions("", "[]", "[{kind: drain, region: eu, at: 1m, shift: 40s, restore: 3m}]");
  Simulation world(scenario, 1);
  std::int64_t next = 0;
  CHECK(step_to(world, next, 59).eu == 1.0);
  CHECK(step_to(world, next, 80).eu == Approx(0.5));
  CHECK(step_to(world, next, 100).us == 1.0);
  CHECK(step_to(world, next, 200).eu == Approx(0.5));
  CHECK(step_to(world, next, 220).eu == 1.0);
  // us-users, homed in us with no eu share, were not moved.
  CHECK(world.world().frame().route(RouteMetric::kWeight)[2] == 1.0);
}

TEST_CASE("a traffic shift sets a source's weights, without failback only it returns a region",
          "[steering]") {
  const Scenario scenario = two_regions(
      "failover: {interval: 10s, failures: 1, recoveries: 1, shift: 0s, failback: false}",
      "[{name: eu-dark, kind: outage, target: {region: eu}, start: 1m, duration: 1m}]",
      "[{kind: traffic-shift, traffic: eu-users, weights: {eu: 25, us: 75}, at: 5m, shift: 0s}]");
  Simulation world(scenario, 1);
  std::int64_t next = 0;
  CHECK(step_to(world, next, 60).us == 1.0);   // down at the first failed check
  CHECK(step_to(world, next, 299).us == 1.0);  // healthy again since 2m, but no failback
  const Shares at = step_to(world, next, 300);
  CHECK(at.eu == Approx(0.25));
  CHECK(at.us == Approx(0.75));
}

TEST_CASE("with every region down the balancer fails open", "[steering]") {
  const Scenario scenario =
      two_regions("failover: {interval: 10s, failures: 1, shift: 0s}",
                  "[{name: eu-dark, kind: outage, target: {region: eu}, start: 1m, duration: 5m},"
                  " {name: us-dark, kind: outage, target: {region: us}, start: 1m, duration: 5m}]",
                  "[]");
  Simulation world(scenario, 1);
  std::int64_t next = 0;
  const Shares at = step_to(world, next, 120);
  CHECK(at.eu == 1.0);
  CHECK(at.us == 0.0);
}

TEST_CASE("a region with no share of its own is logged when it carries another's and fails",
          "[steering]") {
  // eu-users fail over to us at 1m (checks every 10 s, one failure marks a region down). us,
  // which eu-users give no share of their own, fails at 3m while carrying them: they fail
  // open, back to eu (nothing is up), and when us passes a check again they move back to
  // it: at 4m10s, since the check at 4m reads the last tick's errors (us-users' requests,
  // still dark); eu, which gets no requests, passes at 6m. us-users have no balancer.
  const Scenario scenario =
      two_regions("failover: {interval: 10s, failures: 1, recoveries: 1, shift: 0s}",
                  "[{name: eu-dark, kind: outage, target: {region: eu}, start: 1m, duration: 5m},"
                  " {name: us-dark, kind: outage, target: {region: us}, start: 3m, duration: 1m}]",
                  "[]");
  Simulation world(scenario, 1);
  std::int64_t next = 0;
  CHECK(step_to(world, next, 170).us == 1.0);
  CHECK(step_to(world, next, 200).eu == 1.0);  // failed open
  CHECK(step_to(world, next, 300).us == 1.0);
  CHECK(step_to(world, next, 400).eu == 1.0);
  const std::vector<std::string> log = change_log(world);
  CHECK(log == std::vector<std::string>{
                   "1m failover eu-users eu->us", "3m failover eu-users us->none",
                   "4m10s failback eu-users none->us", "6m failback eu-users us->eu"});
}

TEST_CASE("a failover's ground truth includes the region that took the traffic", "[steering]") {
  // With a balancer, the us stack receives eu-users' traffic during the eu outage: its
  // arrivals move far beyond 5 % of the counterfactual's, so the outage affects it. Without
  // one, nothing reaches us and only the eu stack is affected. The unrelated service is in
  // us but outside both stacks' reach.
  for (const bool balanced : {true, false}) {
    const Scenario scenario = two_regions(
        balanced ? "failover: {interval: 10s, failures: 3, shift: 1m}" : "",
        "[{name: eu-dark, kind: outage, target: {region: eu}, start: 1m, duration: 4m}]", "[]");
    Simulation simulation(scenario, 1);
    simulation.run();
    const std::vector<IncidentRecord> records = simulation.incidents();
    const IncidentRecord& outage = record_named(records, "eu-dark");
    INFO("balanced " << balanced);
    CHECK(affects(scenario, outage, "web-eu"));
    CHECK(affects(scenario, outage, "db-eu"));
    CHECK(affects(scenario, outage, "web-us") == balanced);
    CHECK(affects(scenario, outage, "db-us") == balanced);
    CHECK_FALSE(affects(scenario, outage, "unrelated"));
  }
}

TEST_CASE("steering changes added at run time act as declared ones", "[steering]") {
  const Scenario declared = two_regions(
      "", "[]",
      "[{kind: traffic-shift, traffic: eu-users, weights: {us: 100}, at: 2m, shift: 30s}]");
  const Scenario bare = two_regions("", "[]", "[]");
  Simulation added(bare, 1);
  added.at(2 * kMinute, [&] {
    added.add_change(parse_change(
        added.scenario(),
        YAML::Load("{kind: traffic-shift, traffic: eu-users, weights: {us: 100}, at: 2m, "
                   "shift: 30s}"),
        "test.yaml"));
  });
  struct Capture : FrameSink {
    std::vector<Frame> frames;
    void on_frame(const Frame& frame) override { frames.push_back(frame); }
  } capture;
  added.add_sink(&capture);
  added.run();
  const std::vector<Frame> expected = run_frames(declared, 1);
  REQUIRE(capture.frames.size() == expected.size());
  for (std::size_t t = 0; t < expected.size(); ++t) {
    INFO("tick " << t);
    REQUIRE(capture.frames[t].route_values == expected[t].route_values);
    REQUIRE(capture.frames[t].service_values == expected[t].service_values);
  }
}
