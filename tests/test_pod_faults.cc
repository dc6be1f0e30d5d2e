// Replica faults: pod-kill, crash-loop with Kubernetes' back-off, memory-leak with OOM
// kills, zone and region outages; their effect on ready replicas, capacity and memory, their
// propagation, and exact undo. Timelines are checked to the second against hand-written
// expectations.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"
#include "engine/pod_faults.h"
#include "engine/world.h"
#include "simulation_test_support.h"

using namespace dosim;
using namespace dosim::testing;

namespace {

const std::string kSystem = R"(
name: pods
measurement_noise: false  # the mean-field model, exactly
duration: 1h
regions:
  - {name: eu, zones: [eu-a, eu-b]}
  - {name: us, zones: [us-a]}
services:
  - {name: front, replicas: 4, capacity_rps: 100, base_latency: 5ms, zone: eu-a, memory_baseline: 0.4}
  - {name: back, replicas: 4, capacity_rps: 100, base_latency: 5ms, zone: eu-b}
  - {name: other, replicas: 2, capacity_rps: 100, base_latency: 5ms, zone: us-a}
dependencies:
  - {caller: front, callee: back, timeout: 1s}
traffic:
  - {entry: front, base_rps: 100, noise: 0}
  - {entry: other, base_rps: 50, noise: 0}
)";

// Ready replicas of `service` at the start of each second 0 .. seconds-1, with every
// fault active from t = 0.
std::vector<int> ready_timeline(const Scenario& scenario, int service, int seconds) {
  World world(scenario, 1);
  for (std::size_t f = 0; f < scenario.faults.size(); ++f)
    world.set_fault_active(static_cast<int>(f), true);
  std::vector<int> ready;
  for (int t = 0; t < seconds; ++t) {
    world.step(t);
    ready.push_back(
        static_cast<int>(world.frame().service(ServiceMetric::kReadyReplicas)[service]));
  }
  return ready;
}

// [from, to) seconds in which `values` equals `value`.
std::vector<std::pair<int, int>> spans_of(const std::vector<int>& values, int value) {
  std::vector<std::pair<int, int>> spans;
  for (int t = 0; t < static_cast<int>(values.size()); ++t) {
    if (values[t] != value) continue;
    if (!spans.empty() && spans.back().second == t)
      spans.back().second = t + 1;
    else
      spans.emplace_back(t, t + 1);
  }
  return spans;
}

}  // namespace

TEST_CASE("CrashLoopBackOff doubles from 10 s and is capped at 300 s", "[pods]") {
  const std::vector<SimTime> expected = {10, 20, 40, 80, 160, 300, 300, 300};
  for (int restart = 0; restart < 8; ++restart)
    CHECK(crash_loop_backoff(restart) == expected[restart] * kSecond);
}

TEST_CASE("a crash loop follows Kubernetes' back-off to the second", "[pods]") {
  // Runs 5 s, crashes, waits 10 s, runs 5 s, waits 20 s, 40 s, 80 s, 160 s, 300 s, 300 s...
  const Scenario scenario = scenario_from(kSystem + R"(
faults:
  - {kind: crash-loop, target: {service: back}, mode: fixed, value: 2, crashAfter: 5s, start: 0s, duration: 1h}
)");
  const auto ready = ready_timeline(scenario, 1, 1300);
  const std::vector<std::pair<int, int>> down = {{5, 15},    {20, 40},    {45, 85},
                                                 {90, 170},  {175, 335},  {340, 640},
                                                 {645, 945}, {950, 1250}, {1255, 1300}};
  CHECK(spans_of(ready, 2) == down);
  CHECK(spans_of(ready, 4).front() == std::make_pair(0, 5));
}

TEST_CASE("a crash loop with long runs resets its back-off to 10 s", "[pods]") {
  // Runs of 10 minutes count as good running: every crash waits only 10 s, plus start-up.
  const Scenario scenario = scenario_from(kSystem + R"(
faults:
  - {kind: crash-loop, target: {service: back}, crashAfter: 10m, restartTime: 5s, start: 0s, duration: 1h}
)");
  const auto ready = ready_timeline(scenario, 1, 1900);
  const std::vector<std::pair<int, int>> down = {{600, 615}, {1215, 1230}, {1830, 1845}};
  CHECK(spans_of(ready, 0) == down);
}

TEST_CASE("pod-kill takes the selected replicas down until they restart", "[pods]") {
  const Scenario scenario = scenario_from(kSystem + R"(
faults:
  - {kind: pod-kill, target: {service: back}, mode: fixed-percent, value: 50, restartTime: 30s, start: 0s, duration: 5m}
)");
  const auto ready = ready_timeline(scenario, 1, 60);
  CHECK(spans_of(ready, 2) == std::vector<std::pair<int, int>>{{0, 30}});
  CHECK(spans_of(ready, 4) == std::vector<std::pair<int, int>>{{30, 60}});
}

TEST_CASE("pod modes choose one, N, a percent or up to a percent of the replicas", "[pods]") {
  std::string faults = R"(
faults:
  - {name: one, kind: pod-kill, target: {service: back}, mode: one, start: 0s, duration: 1m}
  - {name: all, kind: pod-kill, target: {service: back}, mode: all, start: 0s, duration: 1m}
  - {name: three, kind: pod-kill, target: {service: back}, mode: fixed, value: 3, start: 0s, duration: 1m}
  - {name: quarter, kind: pod-kill, target: {service: back}, mode: fixed-percent, value: 25, start: 0s, duration: 1m}
  - {name: some, kind: pod-kill, target: {service: back}, mode: random-max-percent, value: 100, start: 0s, duration: 1m}
)";
  const Scenario scenario = scenario_from(kSystem + faults);
  PodFaults pods(scenario, 1);
  CHECK(pods.selected(0).size() == 1);
  CHECK(pods.selected(1) == std::vector<int>{0, 1, 2, 3});
  CHECK(pods.selected(2).size() == 3);
  CHECK(pods.selected(3).size() == 1);
  CHECK(pods.selected(4).size() <= 4);
  // The choice is the fault's own: the same with another scenario around it.
  PodFaults again(scenario_from(kSystem + faults), 1);
  CHECK(again.selected(2) == pods.selected(2));
}

TEST_CASE("a fixed count past the replicas, even past int's range, hits all of them", "[pods]") {
  // 3e9 and 2^31 do not fit in an int: they once hit no replica at all.
  const Scenario scenario = scenario_from(kSystem + R"(
faults:
  - {name: kill, kind: pod-kill, target: {service: back}, mode: fixed, value: 3e9, restartTime: 10m, start: 0s, duration: 20m}
  - {name: drain, kind: maintenance, target: {service: back}, mode: fixed, value: 2147483648, start: 0s, duration: 20m}
  - {name: bad, kind: error, target: {service: back}, mode: fixed, value: 1e300, percent: 100, start: 0s, duration: 20m}
  - {name: five, kind: pod-kill, target: {service: back}, mode: fixed, value: 5, start: 0s, duration: 20m}
  - {name: fraction, kind: pod-kill, target: {service: back}, mode: fixed, value: 2.5, start: 0s, duration: 20m}
)");
  PodFaults pods(scenario, 1);
  const std::vector<int> all = {0, 1, 2, 3};
  CHECK(pods.selected(0) == all);
  CHECK(pods.selected(1) == all);
  CHECK(pods.replicas_hit(2, 1) == all);  // an error fault's bad pods: back is service 1
  CHECK(pods.selected(3) == all);
  CHECK(pods.selected(4).size() == 2);
  const Scenario kill_only = scenario_from(kSystem + R"(
faults:
  - {kind: pod-kill, target: {service: back}, mode: fixed, value: 3e9, restartTime: 10m, start: 0s, duration: 20m}
)");
  CHECK(spans_of(ready_timeline(kill_only, 1, 60), 0) ==
        std::vector<std::pair<int, int>>{{0, 60}});
}

TEST_CASE("a memory leak draws a saw-tooth: OOM kill at the limit, restart at baseline", "[pods]") {
  // front: baseline 0.4, leaking 6 % of the limit per minute (0.001/s): OOM after 600 s,
  // 10 s restart, then again. All four replicas leak in step.
  const Scenario scenario = scenario_from(kSystem + R"(
faults:
  - {kind: memory-leak, target: {service: front}, rate: 6, start: 0s, duration: 1h}
)");
  World world(scenario, 1);
  world.set_fault_active(0, true);
  std::vector<int> ready;
  std::vector<float> memory;
  std::vector<double> errors;
  for (int t = 0; t < 1300; ++t) {
    world.step(t);
    ready.push_back(static_cast<int>(world.frame().service(ServiceMetric::kReadyReplicas)[0]));
    memory.push_back(world.frame().service(ServiceMetric::kMemoryRatio)[0]);
    errors.push_back(world.outcome().error_ratio[0]);
  }
  CHECK(spans_of(ready, 0) == std::vector<std::pair<int, int>>{{600, 610}, {1210, 1220}});
  const double utilization = world.outcome().utilization[0];
  auto expected = [&](double leaked) { return 0.4 + leaked + 0.1 * utilization; };
  CHECK(memory[0] == Approx(expected(0.0)).margin(0.012));
  CHECK(memory[300] == Approx(expected(0.3)).margin(0.012));
  CHECK(memory[500] == Approx(expected(0.5)).margin(0.012));
  CHECK(memory[599] == Approx(1.0).margin(0.012));  // at the limit, just before the OOM kill
  CHECK(memory[610] == Approx(expected(0.0)).margin(0.012));  // restarted at baseline
  CHECK(memory[910] == Approx(expected(0.3)).margin(0.012));
  // While every replica restarts, the service fails every request.
  CHECK(errors[599] == Approx(0.0));
  CHECK(errors[605] == Approx(1.0));
}

TEST_CASE("a memory stressor holds its size after its ramp, up to the limit, replicas stay up",
          "[pods]") {
  // front: baseline 0.4, 4 replicas. Half of them hold 40 % of the limit, reached over 100 s
  // (the mean over replicas: +0.2); a second stressor of 90 % on every replica stops at the
  // limit (+0.6 beyond the baseline), and nobody is OOM-killed.
  const Scenario scenario = scenario_from(kSystem + R"(
faults:
  - {kind: memory-stress, target: {service: front}, size: 40, ramp: 100s, mode: fixed-percent,
     value: 50, start: 0s, duration: 10m}
  - {kind: memory-stress, target: {service: front}, size: 90, start: 20m, duration: 5m}
)");
  World world(scenario, 1);
  std::vector<float> memory;
  std::vector<int> ready;
  for (int t = 0; t < 1800; ++t) {
    world.set_fault_active(0, t < 600);
    world.set_fault_active(1, t >= 1200 && t < 1500);
    world.step(t);
    memory.push_back(world.frame().service(ServiceMetric::kMemoryRatio)[0]);
    ready.push_back(static_cast<int>(world.frame().service(ServiceMetric::kReadyReplicas)[0]));
  }
  const double load = 0.1 * world.outcome().utilization[0];
  CHECK(memory[50] == Approx(0.4 + 0.1 + load).margin(0.012));  // half way up the ramp
  CHECK(memory[300] == Approx(0.4 + 0.2 + load).margin(0.012));
  CHECK(memory[700] == Approx(0.4 + load).margin(0.012));  // undone when it ends
  CHECK(memory[1300] == Approx(1.0).margin(0.012));        // at the limit, not beyond
  CHECK(memory[1600] == Approx(0.4 + load).margin(0.012));
  CHECK(std::all_of(ready.begin(), ready.end(), [](int r) { return r == 4; }));
}

TEST_CASE("a zone outage takes down the services there and fails their callers, not others",
          "[pods]") {
  const Scenario scenario = scenario_from(kSystem + R"(
faults:
  - {kind: outage, target: {zone: eu-b}, start: 0s, duration: 1m}
)");
  World world(scenario, 1);
  world.set_fault_active(0, true);
  world.step(0);
  const auto& out = world.outcome();
  CHECK(world.frame().service(ServiceMetric::kReadyReplicas)[1] == 0.0f);
  CHECK(out.error_ratio[1] == Approx(1.0));
  CHECK(out.error_ratio[0] == Approx(1.0));  // every front request calls back
  CHECK(out.error_ratio[2] == Approx(0.0));
  CHECK(world.frame().service(ServiceMetric::kReadyReplicas)[2] == 2.0f);
}

TEST_CASE("a region outage covers every zone of the region", "[pods]") {
  const Scenario scenario = scenario_from(kSystem + R"(
faults:
  - {kind: outage, target: {region: eu}, start: 0s, duration: 1m}
)");
  World world(scenario, 1);
  world.set_fault_active(0, true);
  world.step(0);
  CHECK(world.frame().service(ServiceMetric::kReadyReplicas)[0] == 0.0f);
  CHECK(world.frame().service(ServiceMetric::kReadyReplicas)[1] == 0.0f);
  CHECK(world.frame().service(ServiceMetric::kReadyReplicas)[2] == 2.0f);
  Simulation simulation(scenario, 1);
  simulation.run();
  const IncidentRecord incident = simulation.incidents()[0];
  CHECK(incident.root_cause == "region eu");
  CHECK(incident.affected == std::vector<int>{0, 1});
  CHECK(incident.impact_start == 0);
  CHECK(incident.impact_end == kMinute);
}

TEST_CASE("a zone outage takes the replicas an autoscaler added in that zone", "[pods]") {
  // One declared replica grown by the autoscaler to 6 (at 15 s, 60 s, 105 s): replicas 1, 3
  // and 5 run in eu-b, and the outage there leaves 3 (it took none: the declared replica 0 is
  // in eu-a).
  const Scenario scenario = scenario_from(R"(
name: hpa-zone
measurement_noise: false
duration: 8m
regions:
  - {name: eu, zones: [eu-a, eu-b]}
services:
  - name: api
    replicas: 1
    capacity_rps: 100
    base_latency: 10ms
    zones: [eu-a, eu-b]
    autoscaling: {minReplicas: 1, maxReplicas: 6, targetCPUPercent: 50}
traffic:
  - {entry: api, base_rps: 250, noise: 0}
faults:
  - {name: zo, kind: outage, target: {zone: eu-b}, start: 3m, duration: 2m}
)");
  const std::vector<Frame> frames = run_frames(scenario, 1);
  const auto ready_at = [&](int second) {
    return frames[static_cast<std::size_t>(second)].service(ServiceMetric::kReadyReplicas)[0];
  };
  const auto zone_ready_at = [&](int second, int zone) {
    return frames[static_cast<std::size_t>(second)].zone(ZoneMetric::kReadyReplicas)[zone];
  };
  CHECK(ready_at(170) == 6.0f);
  CHECK(zone_ready_at(170, 0) == 3.0f);
  CHECK(zone_ready_at(170, 1) == 3.0f);
  CHECK(ready_at(200) == 3.0f);
  CHECK(zone_ready_at(200, 0) == 3.0f);
  CHECK(zone_ready_at(200, 1) == 0.0f);
  CHECK(ready_at(320) == 6.0f);
  Simulation simulation(scenario, 1);
  simulation.run();
  const IncidentRecord incident = simulation.incidents()[0];
  CHECK_FALSE(incident.silent);
  CHECK(incident.impact_start == 3 * kMinute);
}

TEST_CASE("every replica fault is undone exactly when it ends", "[pods]") {
  const std::string faults = R"(
faults:
  - {kind: pod-kill, target: {service: back}, mode: one, restartTime: 1m, start: 10s, duration: 20s}
  - {kind: crash-loop, target: {service: back}, mode: fixed, value: 2, crashAfter: 3s, start: 15s, duration: 40s}
  - {kind: memory-leak, target: {service: front}, rate: 600, restartTime: 5s, start: 20s, duration: 30s}
  - {kind: outage, target: {zone: us-a}, start: 25s, duration: 10s}
  - {kind: partition, target: {zones: [eu-a, eu-b]}, start: 30s, duration: 5s}
  - {kind: maintenance, target: {service: other}, mode: one, start: 35s, duration: 10s}
)";
  const auto with_faults = run_frames(scenario_from(kSystem + faults), 5);
  const auto without = run_frames(scenario_from(kSystem), 5);
  for (int t : {12, 27, 32, 40}) {
    INFO("tick " << t);
    CHECK_FALSE(same_frame(with_faults[t], without[t]));
  }
  CHECK(identical_from(with_faults, without) <= 60);  // the queues' memory, a few ticks
}

TEST_CASE("a partition between zones loses every call across it, and only those", "[pods]") {
  const Scenario scenario = scenario_from(kSystem + R"(
faults:
  - {name: split, kind: partition, target: {zones: [eu-a, eu-b]}, start: 0s, duration: 1m}
)");
  World world(scenario, 1);
  world.step(0);
  const double before = world.outcome().latency[0].mean;
  world.set_fault_active(0, true);
  world.step(1);
  const auto& out = world.outcome();
  CHECK(out.edge_failure[0] == Approx(1.0));  // front (eu-a) -> back (eu-b)
  CHECK(out.error_ratio[0] == Approx(1.0));
  CHECK(out.latency[0].mean > before + 0.98);  // each call waits out its 1 s timeout
  CHECK(out.arrivals[1] == Approx(0.0));       // nothing reaches back
  CHECK(out.error_ratio[2] == Approx(0.0));    // other, in us-a, is untouched
  Simulation simulation(scenario, 1);
  simulation.run();
  const IncidentRecord incident = simulation.incidents()[0];
  CHECK(incident.root_cause == "partition eu-a|eu-b");
  CHECK(incident.affected == std::vector<int>{0});
  CHECK(incident.propagation == std::vector<int>{0});
}

TEST_CASE("a partition acts on a spread service's calls by where its replicas are", "[pods]") {
  // web has 3 replicas round-robin over eu-a, eu-b, us-a; db runs only in eu-b; cache runs in
  // eu-a and us-a. A partition {eu-a, eu-b}: web's eu-a replica (a third of its calls) cannot
  // reach db, its eu-b and us-a replicas can (us-a is on no side). cache is reachable from
  // every side of web (eu-a holds a replica, us-a is on no side): nothing is lost.
  const Scenario scenario = scenario_from(R"(
name: spread
measurement_noise: false  # the mean-field model, exactly
duration: 1h
regions:
  - {name: eu, zones: [eu-a, eu-b]}
  - {name: us, zones: [us-a]}
services:
  - {name: web, replicas: 3, capacity_rps: 1000, base_latency: 5ms, zones: [eu-a, eu-b, us-a]}
  - {name: db, replicas: 2, capacity_rps: 1000, base_latency: 5ms, zone: eu-b}
  - {name: cache, replicas: 2, capacity_rps: 1000, base_latency: 1ms, zones: [eu-a, us-a]}
dependencies:
  - {caller: web, callee: db, timeout: 1s}
  - {caller: web, callee: cache}
traffic:
  - {entry: web, base_rps: 90, noise: 0}
faults:
  - {name: split, kind: partition, target: {zones: [eu-a, eu-b]}, start: 0s, duration: 1m}
)");
  CHECK(partition_loss(scenario, scenario.dependencies[0], true, {"eu-a", "eu-b"}) ==
        Approx(1.0 / 3));
  CHECK(partition_loss(scenario, scenario.dependencies[1], true, {"eu-a", "eu-b"}) == 0.0);
  // Between regions: web's us-a replica cannot reach db (eu only); cache has a us replica.
  CHECK(partition_loss(scenario, scenario.dependencies[0], false, {"eu", "us"}) == Approx(1.0 / 3));
  CHECK(partition_loss(scenario, scenario.dependencies[1], false, {"eu", "us"}) == 0.0);
  World world(scenario, 1);
  world.step(0);
  world.set_fault_active(0, true);
  world.step(1);
  const auto& out = world.outcome();
  CHECK(out.edge_failure[0] == Approx(1.0 / 3));  // the eu-a replica's calls to db time out
  CHECK(out.edge_failure[1] == Approx(0.0));
  CHECK(out.error_ratio[0] == Approx(1.0 / 3));  // no retries: those requests fail
  CHECK(out.arrivals[1] == Approx(60.0));        // db still gets the other two thirds
  Simulation simulation(scenario, 1);
  simulation.run();
  const IncidentRecord incident = simulation.incidents()[0];
  CHECK(incident.affected == std::vector<int>{0});
  CHECK(incident.propagation == std::vector<int>{0});
}

TEST_CASE("a maintenance window drains the chosen replicas for its whole duration", "[pods]") {
  const Scenario scenario = scenario_from(kSystem + R"(
faults:
  - {kind: maintenance, target: {service: back}, mode: fixed, value: 3, start: 0s, duration: 1h}
)");
  const auto ready = ready_timeline(scenario, 1, 600);
  CHECK(spans_of(ready, 1) == std::vector<std::pair<int, int>>{{0, 600}});
}

TEST_CASE("a service spread over zones fails over to its other replicas, or loses the share",
          "[pods]") {
  const std::string system = R"(
name: spread
measurement_noise: false  # the mean-field model, exactly
duration: 1h
regions:
  - {name: eu, zones: [eu-a, eu-b]}
  - {name: us, zones: [us-a]}
services:
  - {name: zonal, replicas: 4, capacity_rps: 100, zones: [eu-a, eu-b]}
  - {name: pinned, replicas: 4, capacity_rps: 100, zones: [eu-a, eu-b], failover: false}
  - {name: global, replicas: 4, capacity_rps: 100, zones: [eu-a, us-a]}
  - {name: global-lb, replicas: 4, capacity_rps: 100, zones: [eu-a, us-a], failover: true}
traffic:
  - {entry: [zonal, pinned, global, global-lb], base_rps: 480, noise: 0}
)";
  const Scenario zone_down = scenario_from(system + R"(
faults:
  - {kind: outage, target: {zone: eu-b}, start: 0s, duration: 1h}
  - {kind: outage, target: {region: us}, start: 0s, duration: 1h}
)");
  CHECK(zone_down.services[2].region == "eu,us");
  CHECK_FALSE(zone_down.services[2].failover);  // across regions: only when the scenario says
  CHECK(zone_down.services[0].failover);
  World world(zone_down, 1);
  world.set_fault_active(0, true);
  world.set_fault_active(1, true);
  world.step(0);
  const auto& out = world.outcome();
  for (int s = 0; s < 4; ++s)
    CHECK(world.frame().service(ServiceMetric::kReadyReplicas)[s] == 2.0f);  // replicas 1, 3 lost
  CHECK(out.error_ratio[0] == Approx(0.0));  // 120 rps moved onto the 2 replicas left
  CHECK(out.utilization[0] == Approx(120.0 / 200.0));
  CHECK(out.error_ratio[1] == Approx(0.5));  // half the traffic went to the dark zone
  CHECK(out.utilization[1] == Approx(60.0 / 200.0));
  CHECK(out.error_ratio[2] == Approx(0.5));
  CHECK(out.error_ratio[3] == Approx(0.0));

  // Failover only as far as capacity permits: 250 rps onto 2 x 100 rps overflows the queue.
  std::string busy = system;
  busy.replace(busy.find("base_rps: 480"), 13, "base_rps: 1000");
  const Scenario overloaded = scenario_from(busy + R"(
faults:
  - {kind: outage, target: {zone: eu-b}, start: 0s, duration: 1h}
)");
  World crowded(overloaded, 1);
  crowded.set_fault_active(0, true);
  for (int t = 0; t < 60; ++t) crowded.step(t);  // the queue holds 10 s of work first
  CHECK(crowded.outcome().utilization[0] == Approx(1.0));
  CHECK(crowded.outcome().error_ratio[0] == Approx(50.0 / 250.0).epsilon(0.01));
}

TEST_CASE("a label selector targets every service that has the labels", "[pods]") {
  const Scenario scenario = scenario_from(R"(
name: labels
measurement_noise: false  # the mean-field model, exactly
duration: 10m
services:
  - {name: web, replicas: 2, labels: {tier: edge}}
  - {name: orders, replicas: 4, labels: {tier: backend, team: shop}}
  - {name: stock, replicas: 4, labels: {tier: backend, team: warehouse}}
dependencies:
  - {caller: web, callee: orders}
  - {caller: web, callee: stock}
traffic:
  - {entry: web, base_rps: 50, noise: 0}
faults:
  - {name: slow-backend, kind: latency, target: {labels: {tier: backend}}, fixedDelay: 100ms, start: 1m, duration: 1m}
  - {name: kill-half, kind: pod-kill, target: {labels: {tier: backend}}, mode: fixed-percent, value: 50, restartTime: 1m, start: 5m, duration: 1m}
)");
  CHECK(scenario.faults[0].target.selected == std::vector<int>{1, 2});
  World world(scenario, 1);
  world.step(0);
  const TickOutcome before = world.outcome();
  world.set_fault_active(0, true);
  world.step(1);
  CHECK(world.outcome().latency[1].mean == Approx(before.latency[1].mean + 0.1));
  CHECK(world.outcome().latency[2].mean == Approx(before.latency[2].mean + 0.1));
  world.set_fault_active(0, false);
  world.set_fault_active(1, true);
  world.step(2);
  CHECK(world.frame().service(ServiceMetric::kReadyReplicas)[0] == 2.0f);
  CHECK(world.frame().service(ServiceMetric::kReadyReplicas)[1] == 2.0f);
  CHECK(world.frame().service(ServiceMetric::kReadyReplicas)[2] == 2.0f);
  Simulation simulation(scenario, 1);
  simulation.run();
  const IncidentRecord incident = simulation.incidents()[0];
  CHECK(incident.root_cause == "labels tier=backend");
  CHECK(incident.affected == std::vector<int>{0, 1, 2});
}

TEST_CASE("a label selector must match a service and stand alone", "[pods][loader]") {
  try {
    scenario_from(R"(
name: labels
measurement_noise: false  # the mean-field model, exactly
duration: 10m
services:
  - {name: web, labels: {tier: edge}}
faults:
  - {kind: pod-kill, target: {labels: {tier: backend}}, start: 1m, duration: 1m}
  - {kind: pod-kill, target: {labels: {tier: edge}, service: web}, start: 1m, duration: 1m}
)");
    FAIL("no error");
  } catch (const InputError& error) {
    const auto& d = error.diagnostics();
    REQUIRE(d.size() == 2);
    CHECK(d[0].message == "no service has these labels");
    CHECK(d[1].message == "a label selector target is {labels: {...}}, alone");
  }
}
