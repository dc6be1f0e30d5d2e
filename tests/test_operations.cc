// Operations: deployments (rolling, canary, blue/green, rollback), config changes, secret
// rotations and feature flags. Defects show in proportion to the traffic they reach; the
// change log records every change; defective changes are causes in the ground truth.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dosim/engine/operations.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"
#include "engine/world.h"
#include "simulation_test_support.h"

using namespace dosim;
using namespace dosim::testing;

namespace {

const std::string kShop = R"(
name: shop
duration: 2h
services:
  - {name: web, replicas: 4, capacity_rps: 200, base_latency: 5ms}
  - {name: checkout, replicas: 6, capacity_rps: 100, base_latency: 20ms}
  - {name: search, replicas: 2, capacity_rps: 300, base_latency: 10ms}
dependencies:
  - {caller: web, callee: checkout, calls_per_request: 0.5, timeout: 2s}
  - {caller: web, callee: search, timeout: 2s}
traffic:
  - {entry: web, base_rps: 100, noise: 0}
)";

// Error ratio and ready replicas of `service` at the start of second t, stepping a world
// from 0 (each call starts a fresh world: cheap at this size).
struct Sample {
  double error;
  int ready;
  double latency;
};
std::vector<Sample> samples(const Scenario& scenario, int service, const std::vector<int>& at) {
  World world(scenario, 1);
  std::vector<Sample> out;
  int next = 0;
  for (int t = 0; next < static_cast<int>(at.size()); ++t) {
    world.step(t);
    if (t == at[next]) {
      out.push_back(
          {world.outcome().error_ratio[service],
           static_cast<int>(world.frame().service(ServiceMetric::kReadyReplicas)[service]),
           world.outcome().latency[service].mean});
      ++next;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a canary's defect shows in proportion to its traffic weight", "[operations]") {
  const Scenario scenario = scenario_from(kShop + R"(
changes:
  - {name: v2, kind: deployment, service: checkout, version: v2, at: 60s, strategy: canary,
     steps: [{weight: 10, pause: 60s}, {weight: 50, pause: 60s}], defect: {errorPercent: 20}}
)");
  const auto s = samples(scenario, 1, {30, 90, 150, 210});
  CHECK(s[0].error == Approx(0.0));
  CHECK(s[1].error == Approx(0.10 * 0.20));
  CHECK(s[2].error == Approx(0.50 * 0.20));
  CHECK(s[3].error == Approx(1.00 * 0.20));  // promoted
}

TEST_CASE("a rolling update replaces replicas batch by batch and a good one is no incident",
          "[operations]") {
  // 6 replicas, batch = maxSurge 1 + maxUnavailable 1 = 2: three steps of 30 s.
  const Scenario scenario = scenario_from(kShop + R"(
changes:
  - {name: v2, kind: deployment, service: checkout, version: v2, at: 60s, maxSurge: 1,
     maxUnavailable: 1, startTime: 30s}
)");
  const auto s = samples(scenario, 1, {59, 60, 89, 90, 119, 120, 149, 150});
  std::vector<int> ready;
  for (const Sample& sample : s) ready.push_back(sample.ready);
  CHECK(ready == std::vector<int>{6, 5, 5, 5, 5, 5, 5, 6});
  Operations operations(scenario);
  CHECK(operations.state(0, 60 * kSecond).exposure == Approx(0.0));
  CHECK(operations.state(0, 90 * kSecond).exposure == Approx(2.0 / 6));
  CHECK(operations.state(0, 120 * kSecond).exposure == Approx(4.0 / 6));
  CHECK(operations.state(0, 150 * kSecond).exposure == Approx(1.0));
  Simulation simulation(scenario, 1);
  simulation.run();
  CHECK(simulation.incidents().empty());
  const auto& log = simulation.changes();
  REQUIRE(log.size() == 2);
  CHECK(log[0].kind == "deployment");
  CHECK(log[0].from == "v1");
  CHECK(log[0].to == "v2");
  CHECK(log[1].kind == "rollout-complete");
  CHECK(log[1].time == 150 * kSecond);
}

TEST_CASE("a version that cannot start stalls the rollout until the rollback", "[operations]") {
  const Scenario scenario = scenario_from(kShop + R"(
changes:
  - {name: bad-image, kind: deployment, service: checkout, version: v3, at: 60s, maxSurge: 1,
     maxUnavailable: 2, rollback: 10m, defect: {badImage: true}}
)");
  const auto s = samples(scenario, 1, {59, 60, 300, 599, 600});
  CHECK(s[0].ready == 6);
  CHECK(s[1].ready == 4);  // two old replicas gone, the new ones never become ready
  CHECK(s[2].ready == 4);
  CHECK(s[3].ready == 4);
  CHECK(s[4].ready == 6);
  CHECK(s[2].error == Approx(0.0));  // no traffic reaches the broken version
  Simulation simulation(scenario, 1);
  simulation.run();
  REQUIRE(simulation.incidents().size() == 1);
  const IncidentRecord incident = simulation.incidents()[0];
  CHECK(incident.cause == "deployment");
  CHECK(incident.start == kMinute);
  CHECK(incident.end == 10 * kMinute);
  CHECK(simulation.changes()[1].kind == "rollout-stalled");
  CHECK(simulation.changes()[2].kind == "rollback");
}

TEST_CASE("a canary or blue-green that cannot start is logged stalled and not as its steps",
          "[operations]") {
  // The change log said `canary-step 0% -> 20%` and `blue-green-switch v1 -> v2` for
  // versions no traffic ever reached; and a rollback after a blue-green's switch back.
  const Scenario scenario = scenario_from(kShop + R"(
changes:
  - {name: bad-canary, kind: deployment, service: checkout, version: v2, at: 60s,
     strategy: canary, steps: [{weight: 20, pause: 5m}], rollback: 10m, defect: {badImage: true}}
  - {name: back, kind: deployment, service: search, version: v2, at: 60s,
     strategy: blue-green, switchBack: 2m, rollback: 5m}
)");
  Simulation simulation(scenario, 1);
  simulation.run();
  std::vector<std::string> log;
  for (const ChangeEvent& e : simulation.changes())
    log.push_back(format_duration(e.time) + " " + e.kind + " " + e.target + " " + e.from + "->" +
                  e.to);
  CHECK(log == std::vector<std::string>{
                   "1m deployment checkout v1->v2", "1m blue-green-switch search v1->v2",
                   "1m30s rollout-stalled checkout v1->v2", "3m blue-green-switch search v2->v1",
                   "10m rollback checkout v2->v1"});
}

TEST_CASE("a stalled rollout's defect is in effect until its rollback", "[operations]") {
  // The truth's window of a stalled canary (and of a stalled rolling update that keeps every
  // old replica) was its start alone (1m..1m) though its version crash-looped until 10m.
  const Scenario scenario = scenario_from(kShop + R"(
changes:
  - {name: bad-canary, kind: deployment, service: checkout, version: v2, at: 60s,
     strategy: canary, steps: [{weight: 20, pause: 5m}], rollback: 10m,
     defect: {crashOnStart: true}}
  - {name: bad-rolling, kind: deployment, service: search, version: v2, at: 2m,
     maxUnavailable: 0, rollback: 7m, defect: {badImage: true}}
)");
  Simulation simulation(scenario, 1);
  simulation.run();
  REQUIRE(simulation.incidents().size() == 2);
  CHECK(simulation.incidents()[0].name == "bad-canary");
  CHECK(simulation.incidents()[0].start == kMinute);
  CHECK(simulation.incidents()[0].end == 10 * kMinute);
  CHECK(simulation.incidents()[1].name == "bad-rolling");
  CHECK(simulation.incidents()[1].start == 2 * kMinute);
  CHECK(simulation.incidents()[1].end == 7 * kMinute);
}

TEST_CASE("a canary's fractional weights are logged as given", "[operations]") {
  const Scenario scenario = scenario_from(kShop + R"(
changes:
  - {name: small, kind: deployment, service: checkout, version: v2, at: 60s, strategy: canary,
     steps: [{weight: 0.5, pause: 1m}, {weight: 12.25, pause: 1m}]}
)");
  Simulation simulation(scenario, 1);
  simulation.run();
  std::vector<std::string> steps;
  for (const ChangeEvent& e : simulation.changes())
    if (e.kind == "canary-step") steps.push_back(e.from + "->" + e.to);
  CHECK(steps == std::vector<std::string>{"0%->0.5%", "0.5%->12.25%", "12.25%->100%"});
}

TEST_CASE("blue-green switches all traffic and back, config and revert, flags by segment",
          "[operations]") {
  // The mean-field world: the latency after the switch back is the one before, exactly (a
  // queue's chance would move it by more than the 0.1 % asked).
  const Scenario scenario = scenario_from(kShop + R"(
measurement_noise: false
changes:
  - {name: green, kind: deployment, service: web, version: v9, at: 60s, strategy: blue-green,
     switchBack: 60s, defect: {latency: 100ms}}
  - {name: cfg, kind: config, services: [checkout], version: c2, at: 200s, revert: 260s,
     defect: {errorPercent: 40}}
  - {name: ranking, kind: feature-flag, flag: new-ranking, services: [search], segment: 50,
     steps: [{at: 300s, percent: 20}, {at: 360s, percent: 100}, {at: 420s, percent: 0}],
     defect: {errorPercent: 10}}
)");
  const auto web = samples(scenario, 0, {59, 60, 119, 120});
  CHECK(web[1].latency == Approx(web[0].latency + 0.100).epsilon(1e-3));
  CHECK(web[2].latency == Approx(web[0].latency + 0.100).epsilon(1e-3));
  CHECK(web[3].latency == Approx(web[0].latency).epsilon(1e-3));
  const auto checkout = samples(scenario, 1, {199, 200, 259, 260});
  CHECK(checkout[0].error == Approx(0.0));
  CHECK(checkout[1].error == Approx(0.4));
  CHECK(checkout[2].error == Approx(0.4));
  CHECK(checkout[3].error == Approx(0.0));
  const auto search = samples(scenario, 2, {299, 300, 360, 420});
  CHECK(search[0].error == Approx(0.0));
  CHECK(search[1].error == Approx(0.5 * 0.2 * 0.1));
  CHECK(search[2].error == Approx(0.5 * 1.0 * 0.1));
  CHECK(search[3].error == Approx(0.0));
}

TEST_CASE("a rotated secret breaks the consumers that did not reload it, after the deadline",
          "[operations]") {
  const Scenario scenario = scenario_from(kShop + R"(
changes:
  - {name: rotate, kind: secret-rotation, secret: db-password, consumers: [checkout, search],
     reloaded: [search], at: 60s, deadline: 120s, fixedAt: 300s}
)");
  const auto checkout = samples(scenario, 1, {179, 180, 299, 300});
  CHECK(checkout[0].error == Approx(0.0));
  CHECK(checkout[1].error == Approx(1.0));
  CHECK(checkout[2].error == Approx(1.0));
  CHECK(checkout[3].error == Approx(0.0));
  CHECK(samples(scenario, 2, {200})[0].error == Approx(0.0));  // search reloaded in time
  Simulation simulation(scenario, 1);
  simulation.run();
  REQUIRE(simulation.incidents().size() == 1);
  CHECK(simulation.incidents()[0].root_cause == "checkout");
  CHECK(simulation.incidents()[0].impact_start == 180 * kSecond);
  CHECK(simulation.incidents()[0].impact_end == 300 * kSecond);
  CHECK(simulation.incidents()[0].affected == std::vector<int>{0, 1});
}

TEST_CASE("a later deployment or config of the service replaces a defective one", "[operations]") {
  // v2 (half its requests fail) is rolled out over checkout's 6 replicas at 60 s, a step a
  // minute in batches of 6 (done at 120 s); v3 replaces it at 600 s in the same way (v2
  // serves nothing from 660 s). A blue-green v4 of search at 300 s replaces a defective
  // canary v2 until its switch back at 400 s. A config c3 of checkout at 900 s replaces a
  // defective c2 until c3 is reverted at 1000 s (checkout back on c2).
  // The two deployments of checkout.
  const std::string replaced = R"(
  - {name: bad, kind: deployment, service: checkout, version: v2, at: 60s, maxSurge: 6,
     maxUnavailable: 0, startTime: 60s, defect: {errorPercent: 50}}
  - {name: fix, kind: deployment, service: checkout, version: v3, at: 600s, maxSurge: 6,
     maxUnavailable: 0, startTime: 60s}
)";
  const Scenario scenario =
      scenario_from(kShop + "measurement_noise: false\nchanges:" + replaced + R"(
  - {name: canary, kind: deployment, service: search, version: v2, at: 60s, strategy: canary,
     steps: [{weight: 100, pause: 1s}], defect: {errorPercent: 20}}
  - {name: green, kind: deployment, service: search, version: v4, at: 300s,
     strategy: blue-green, switchBack: 100s}
  - {name: cfg-bad, kind: config, services: [checkout], version: c2, at: 800s,
     defect: {errorPercent: 30}}
  - {name: cfg-next, kind: config, services: [checkout], version: c3, at: 900s, revert: 1000s}
)");
  const auto checkout = samples(scenario, 1, {130, 610, 670, 810, 910, 1010});
  CHECK(checkout[0].error == Approx(0.5));
  CHECK(checkout[1].error == Approx(0.5));  // v3's first batch takes a minute to be ready
  CHECK(checkout[2].error == Approx(0.0));  // v3 serves everything
  CHECK(checkout[3].error == Approx(0.3));  // c2
  CHECK(checkout[4].error == Approx(0.0));  // c3
  CHECK(checkout[5].error == Approx(0.3));  // c3 reverted: c2 again
  const auto search = samples(scenario, 2, {200, 310, 410});
  CHECK(search[0].error == Approx(0.2));
  CHECK(search[1].error == Approx(0.0));
  CHECK(search[2].error == Approx(0.2));
  // The replaced deployment's incident ends when v3 serves everything, not with the run.
  Simulation simulation(scenario_from(kShop + "measurement_noise: false\nchanges:" + replaced), 1);
  simulation.run();
  REQUIRE(simulation.incidents().size() == 1);
  CHECK(simulation.incidents()[0].impact_start == 120 * kSecond);
  CHECK(simulation.incidents()[0].impact_end == 660 * kSecond);
  CHECK(!simulation.incidents()[0].ongoing);
}

TEST_CASE("a deployment after a blue-green switch back replaces the version switched back to",
          "[operations]") {
  // checkout's defective v2 goes live blue-green at 60 s and is switched back at 180 s; v3
  // rolls out from 480 s over the v1 that serves again. It replaced "v2" before: v2's
  // errors came back at 480 s and faded with v3's batches, and v2's incident lasted to 540 s.
  const Scenario scenario = scenario_from(kShop + R"(
measurement_noise: false
changes:
  - {name: green, kind: deployment, service: checkout, version: v2, at: 60s,
     strategy: blue-green, switchBack: 2m, defect: {errorPercent: 100}}
  - {name: next, kind: deployment, service: checkout, version: v3, at: 480s, maxSurge: 3,
     maxUnavailable: 0, startTime: 30s}
)");
  const auto checkout = samples(scenario, 1, {100, 200, 485, 515, 600});
  CHECK(checkout[0].error == Approx(1.0));
  CHECK(checkout[1].error == Approx(0.0));
  CHECK(checkout[2].error == Approx(0.0));
  CHECK(checkout[3].error == Approx(0.0));
  CHECK(checkout[4].error == Approx(0.0));
  Simulation simulation(scenario, 1);
  simulation.run();
  REQUIRE(simulation.incidents().size() == 1);
  CHECK(simulation.incidents()[0].impact_end == 180 * kSecond);
  // The change log: v3 replaces v1.
  bool logged = false;
  for (const ChangeEvent& record : simulation.changes())
    if (record.kind == "deployment" && record.to == "v3") {
      CHECK(record.from == "v1");
      logged = true;
    }
  CHECK(logged);
}

TEST_CASE("a later deployment before an older one's rollback or switch-back replaces its version",
          "[operations]") {
  // v2 (10 % errors) rolled out by canary at 60 s with a rollback declared at 480 s; v3 (40 %)
  // takes 20 % at 240 s and all at 300 s. v3 replaced "v1" before: v2's share in 240-300 s
  // served no errors, its incident ended at 240 s, and its rollback was logged at 480 s
  // (`v2 -> v1`) while v3 served. A switch-back past a later rollout was logged as well.
  const Scenario scenario = scenario_from(kShop + R"(
measurement_noise: false
changes:
  - {name: e1, kind: deployment, service: checkout, version: v2, at: 60s, strategy: canary,
     steps: [{weight: 50, pause: 1m}], rollback: 480s, defect: {errorPercent: 10}}
  - {name: e2, kind: deployment, service: checkout, version: v3, at: 240s, strategy: canary,
     steps: [{weight: 20, pause: 1m}], defect: {errorPercent: 40}}
  - {name: green, kind: deployment, service: search, version: v2, at: 60s,
     strategy: blue-green, switchBack: 8m}
  - {name: next, kind: deployment, service: search, version: v3, at: 240s, maxSurge: 2,
     startTime: 30s}
  - {name: w2, kind: deployment, service: web, version: v2, at: 60s, rollback: 600s}
  - {name: w3, kind: deployment, service: web, version: v3, at: 120s, rollback: 300s}
)");
  const auto checkout = samples(scenario, 1, {270, 500});
  CHECK(checkout[0].error == Approx(1 - 0.92 * 0.92));  // 80 % of v2's 10 %, 20 % of v3's 40 %
  CHECK(checkout[1].error == Approx(0.4));              // v3 alone, no rollback of it
  Simulation simulation(scenario, 1);
  simulation.run();
  REQUIRE(simulation.incidents().size() == 2);
  CHECK(simulation.incidents()[0].end == 300 * kSecond);  // v2 served until v3 took all
  // web: v3 rolled back first hands the service back to v2, whose rollback then comes (a
  // playbook's rollbacks of ecommerce-week.yaml, one after the other).
  std::vector<std::string> web;
  for (const ChangeEvent& record : simulation.changes()) {
    if (record.target == "web") {
      if (record.kind == "rollback")
        web.push_back(std::to_string(record.time / kSecond) + " " + record.from + "->" + record.to);
      continue;
    }
    CHECK(record.kind != "rollback");
    if (record.kind == "deployment" && record.to == "v3") CHECK(record.from == "v2");
    if (record.kind == "blue-green-switch") CHECK(record.from == "v1");  // the switch, not back
  }
  CHECK(web == std::vector<std::string>{"300 v3->v2", "600 v2->v1"});
}

TEST_CASE("an incompatibility shows only while the dependency runs that version", "[operations]") {
  // checkout v2 breaks against search v3: half its requests fail, in proportion to the
  // share of search on v3 (a canary of 20 %, then all of it, then rolled back).
  const Scenario scenario = scenario_from(kShop + R"(
changes:
  - {name: checkout-v2, kind: deployment, service: checkout, version: v2, at: 60s,
     strategy: blue-green, defect: {errorPercent: 50, incompatibleWith: {service: search, version: v3}}}
  - {name: search-v3, kind: deployment, service: search, version: v3, at: 120s, strategy: canary,
     steps: [{weight: 20, pause: 60s}], rollback: 240s}
)");
  const auto checkout = samples(scenario, 1, {100, 150, 200, 250});
  CHECK(checkout[0].error == Approx(0.0));
  CHECK(checkout[1].error == Approx(0.2 * 0.5));
  CHECK(checkout[2].error == Approx(1.0 * 0.5));
  CHECK(checkout[3].error == Approx(0.0));
  Simulation simulation(scenario, 1);
  simulation.run();
  REQUIRE(simulation.incidents().size() == 1);
  CHECK(simulation.incidents()[0].impact_start == 120 * kSecond);
  CHECK(simulation.incidents()[0].impact_end == 240 * kSecond);
}

TEST_CASE("a leaking version fills its replicas' memory until they are OOM-killed",
          "[operations]") {
  // checkout (6 replicas, memory baseline 0.30) gets v2 on a 50 % canary at 60 s; v2 leaks
  // 7 % of the limit per minute: its 3 replicas are full after 600 s and restart for 10 s.
  const Scenario scenario = scenario_from(kShop + R"(
changes:
  - {name: v2, kind: deployment, service: checkout, version: v2, at: 60s, strategy: canary,
     steps: [{weight: 50, pause: 1h}], defect: {memoryLeakPercentPerMinute: 7}}
)");
  World world(scenario, 1);
  std::vector<int> ready;
  std::vector<float> memory;
  for (int t = 0; t < 700; ++t) {
    world.step(t);
    ready.push_back(static_cast<int>(world.frame().service(ServiceMetric::kReadyReplicas)[1]));
    memory.push_back(world.frame().service(ServiceMetric::kMemoryRatio)[1]);
  }
  const double u = world.outcome().utilization[1];
  // At 360 s the 3 leaking replicas hold 0.3 + 300 s x 0.07/60 = 0.65; the mean over 6 is
  // 0.30 + 0.175, plus 0.1 x utilization.
  CHECK(memory[360] == Approx(0.30 + 0.5 * 0.35 + 0.1 * u).margin(0.012));
  CHECK(ready[659] == 6);
  CHECK(ready[660] == 3);  // 600 s after the canary started: OOM
  CHECK(ready[669] == 3);
  CHECK(ready[670] == 6);
  CHECK(memory[671] == Approx(0.30 + 0.1 * u).margin(0.012));
}

TEST_CASE("a rolling update's leaking version fills from when its replicas start, not from at",
          "[operations]") {
  // v2 at 60 s, every replica at once (maxSurge 6), its replicas running after startTime
  // 180 s: they start at their baseline at 240 s and fill in 600 s (7 %/min from 0.30), so
  // the first OOM kill is at 840 s. Counted from `at`, the memory jumped by three minutes'
  // leak at 240 s and the kill came at 660 s.
  const Scenario scenario = scenario_from(kShop + R"(
changes:
  - {name: v2, kind: deployment, service: checkout, version: v2, at: 60s, maxSurge: 6,
     startTime: 180s, defect: {memoryLeakPercentPerMinute: 7}}
)");
  World world(scenario, 1);
  std::vector<int> ready;
  std::vector<float> memory;
  for (int t = 0; t < 900; ++t) {
    world.step(t);
    ready.push_back(static_cast<int>(world.frame().service(ServiceMetric::kReadyReplicas)[1]));
    memory.push_back(world.frame().service(ServiceMetric::kMemoryRatio)[1]);
  }
  const double u = world.outcome().utilization[1];
  CHECK(memory[245] == Approx(0.30 + 5 * 0.07 / 60 + 0.1 * u).margin(0.012));
  CHECK(ready[700] == 6);
  CHECK(ready[845] < 6);  // 600 s after they started: OOM-killed
}

TEST_CASE("a rolled-back canary leaves the world as if it never happened", "[operations]") {
  const Scenario with_change = scenario_from(kShop + R"(
changes:
  - {name: v2, kind: deployment, service: checkout, version: v2, at: 60s, strategy: canary,
     steps: [{weight: 25, pause: 5m}], rollback: 3m, defect: {errorPercent: 50, latency: 1s}}
)");
  const Scenario without = scenario_from(kShop);
  const auto a = run_frames(with_change, 2);
  const auto b = run_frames(without, 2);
  CHECK_FALSE(same_frame(a[100], b[100]));
  // From a few ticks after the rollback on: the queues' memory of the defect shrinks to
  // nothing (fluid_queue.h).
  CHECK(identical_from(a, b) >= 180);
  CHECK(identical_from(a, b) <= 190);
}

TEST_CASE("changes report their mistakes at their position", "[operations][loader]") {
  try {
    parse_scenario(kShop + R"(changes:
  - {kind: deploy, service: checkout, version: v2, at: 1m}
  - {kind: deployment, service: chekout, version: v2, at: 1m, steps: [{weight: 10}]}
  - {kind: config, services: [web], version: c2, at: 1m, revert: 30s}
  - {kind: secret-rotation, secret: s, consumers: [web], reloaded: [search], at: 1m}
)",
                   "test.yaml");
    FAIL("no error");
  } catch (const InputError& error) {
    const auto& d = error.diagnostics();
    std::string all;
    for (const auto& diagnostic : d) all += diagnostic.format() + "\n";
    INFO(all);
    REQUIRE(d.size() == 5);
    CHECK(d[0].line == 14);
    CHECK(d[0].message ==
          "'kind' must be deployment, config, secret-rotation, feature-flag, drain or "
          "traffic-shift, got 'deploy'; did you mean 'deployment'?");
    CHECK(d[1].message == "unknown service 'chekout'; did you mean 'checkout'?");
    CHECK(d[2].message == "'steps' is only used by canary deployments");
    CHECK(d[3].message == "'revert' must come after 'at'");
    CHECK(d[4].message == "'search' is reloaded but not a consumer");
  }
}
