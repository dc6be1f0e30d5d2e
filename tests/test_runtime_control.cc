// Run-time control of a running simulation (Simulation::at, add_fault, end_fault, add_change,
// rollback, set_replicas; parse_fault and parse_change). The strongest checks are equivalences:
// what a callback adds gives bit-identical frames, the same change log and the same ground truth
// as the same thing declared in the scenario.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"
#include "engine/world.h"
#include "simulation_test_support.h"

using namespace dosim;
using namespace dosim::testing;

namespace {

const std::string kShop = R"(
name: shop
duration: 30m
regions:
  - {name: eu, zones: [eu-a, eu-b]}
services:
  - {name: web, replicas: 4, capacity_rps: 200, base_latency: 5ms, zone: eu-a}
  - {name: checkout, replicas: 6, capacity_rps: 20, base_latency: 20ms, zones: [eu-a, eu-b]}
  - {name: search, replicas: 2, capacity_rps: 300, base_latency: 10ms, zone: eu-b}
  - {name: api, replicas: 2, capacity_rps: 200, base_latency: 5ms, zone: eu-b,
     autoscaling: {minReplicas: 2, maxReplicas: 8, startTime: 30s}}
dependencies:
  - {caller: web, callee: checkout, calls_per_request: 0.5, timeout: 2s, retries: 1}
  - {caller: web, callee: search, timeout: 2s}
  - {caller: web, callee: api}
traffic:
  - {entry: web, base_rps: 100}
)";

constexpr int kCheckout = 1;
constexpr int kApi = 3;

struct Outcome {
  std::vector<Frame> frames;
  std::vector<IncidentRecord> incidents;
  std::vector<ChangeEvent> changes;
  Scenario scenario;
};

// Runs `scenario` with seed 1 after `control` has had the simulation (to schedule callbacks).
Outcome run_with(const Scenario& scenario, const std::function<void(Simulation&)>& control) {
  struct Capture : FrameSink {
    std::vector<Frame> frames;
    void on_frame(const Frame& frame) override { frames.push_back(frame); }
  } capture;
  Simulation simulation(scenario, 1);
  simulation.add_sink(&capture);
  if (control) control(simulation);
  simulation.run();
  return {std::move(capture.frames), simulation.incidents(), simulation.changes(),
          simulation.scenario()};
}

YAML::Node yaml(const std::string& text) { return YAML::Load(text); }

FaultSpec fault_from(const Scenario& scenario, const std::string& text) {
  return parse_fault(scenario, yaml(text), "script.lua");
}

ChangeSpec change_from(const Scenario& scenario, const std::string& text) {
  return parse_change(scenario, yaml(text), "script.lua");
}

float ready(const Frame& frame, int service) {
  return frame.service(ServiceMetric::kReadyReplicas)[service];
}

void check_same_frames(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  REQUIRE(a.size() == b.size());
  std::size_t differing = 0;
  for (std::size_t t = 0; t < a.size(); ++t)
    if (!same_frame(a[t], b[t])) ++differing;
  CHECK(differing == 0);
}

void check_same_incident(const IncidentRecord& a, const IncidentRecord& b) {
  CHECK(a.id == b.id);
  CHECK(a.name == b.name);
  CHECK(a.cause == b.cause);
  CHECK(a.root_cause == b.root_cause);
  CHECK(a.root_service == b.root_service);
  CHECK(a.start == b.start);
  CHECK(a.end == b.end);
  CHECK(a.impact_start == b.impact_start);
  CHECK(a.impact_end == b.impact_end);
  CHECK(a.silent == b.silent);
  CHECK(a.affected == b.affected);
  CHECK(a.propagation == b.propagation);
}

void check_same_incidents(const std::vector<IncidentRecord>& a,
                          const std::vector<IncidentRecord>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) check_same_incident(a[i], b[i]);
}

void check_same_changes(const std::vector<ChangeEvent>& a, const std::vector<ChangeEvent>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].time == b[i].time);
    CHECK(a[i].kind == b[i].kind);
    CHECK(a[i].target == b[i].target);
    CHECK(a[i].from == b[i].from);
    CHECK(a[i].to == b[i].to);
  }
}

// One of every fault kind, each starting at 5m.
const std::vector<std::string> kFaults = {
    "{name: slow, kind: latency, target: {service: checkout}, start: 5m, duration: 10m, "
    "fixedDelay: 300ms, jitter: 50ms, percent: 50}",
    "{name: abort, kind: error, target: {caller: web, callee: search}, start: 5m, duration: 5m, "
    "percent: 30}",
    "{name: loss, kind: packet-loss, target: {caller: web, callee: checkout}, start: 5m, "
    "duration: 5m, percent: 40}",
    "{name: chaos, kind: pod-kill, target: {service: checkout}, start: 5m, duration: 5m, "
    "mode: random-max-percent, value: 100, restartTime: 90s}",  // draws 4 of 6 with seed 1
    "{name: loop, kind: crash-loop, target: {service: search}, start: 5m, duration: 10m, "
    "mode: one, crashAfter: 30s}",
    "{name: leak, kind: memory-leak, target: {service: checkout}, start: 5m, duration: 10m, "
    "rate: 20}",
    "{name: dark, kind: outage, target: {zone: eu-a}, start: 5m, duration: 5m}",
    "{name: split, kind: partition, target: {zones: [eu-a, eu-b]}, start: 5m, duration: 5m}",
    "{name: stress, kind: cpu-stress, target: {service: api}, start: 5m, duration: 10m, "
    "load: 80}",
    "{name: drain, kind: maintenance, target: {service: checkout}, start: 5m, duration: 5m, "
    "mode: fixed, value: 4}",
};

// The scenario declares one fault of its own in both runs, so the added one is not the first.
const std::string kOwnFault = R"(
faults:
  - {name: own, kind: latency, target: {service: search}, start: 2m, duration: 3m,
     fixedDelay: 50ms}
)";

}  // namespace

TEST_CASE("a fault added at time 0 equals the same fault declared, for every kind", "[runtime]") {
  const Scenario base = scenario_from(kShop + kOwnFault);
  for (const std::string& text : kFaults) {
    INFO(text);
    const Scenario declared = scenario_from(kShop + kOwnFault + "  - " + text + "\n");
    const Outcome expected = run_with(declared, nullptr);
    int added = -1;
    const Outcome got = run_with(base, [&](Simulation& simulation) {
      simulation.at(0, [&simulation, &added, text] {
        added = simulation.add_fault(fault_from(simulation.scenario(), text));
      });
    });
    CHECK(added == 1);
    check_same_frames(got.frames, expected.frames);
    check_same_incidents(got.incidents, expected.incidents);
    CHECK_FALSE(got.incidents.back().silent);
    REQUIRE(got.scenario.faults.size() == 2);
    CHECK(got.scenario.faults[1].name == declared.faults[1].name);
    CHECK(got.scenario.faults[1].start == 5 * kMinute);
  }
}

TEST_CASE("a fault added at 10m from inside a callback equals one declared with start 10m",
          "[runtime]") {
  const std::string text =
      "{name: kill, kind: pod-kill, target: {service: checkout}, start: 10m, duration: 4m, "
      "mode: fixed-percent, value: 50, restartTime: 1m}";
  const Outcome expected = run_with(scenario_from(kShop + "faults:\n  - " + text + "\n"), nullptr);
  SECTION("added at its start") {
    const Outcome got = run_with(scenario_from(kShop), [&](Simulation& simulation) {
      simulation.at(2 * kMinute, [&simulation, text] {
        simulation.at(10 * kMinute, [&simulation, text] {
          CHECK(simulation.now() == 10 * kMinute);
          simulation.add_fault(fault_from(simulation.scenario(), text));
        });
      });
    });
    check_same_frames(got.frames, expected.frames);
    check_same_incidents(got.incidents, expected.incidents);
  }
  SECTION("added earlier for a later start") {
    const Outcome got = run_with(scenario_from(kShop), [&](Simulation& simulation) {
      simulation.at(3 * kMinute, [&simulation, text] {
        simulation.add_fault(fault_from(simulation.scenario(), text));
      });
    });
    check_same_frames(got.frames, expected.frames);
    check_same_incidents(got.incidents, expected.incidents);
  }
}

TEST_CASE("end_fault at t equals a fault declared with duration t - start", "[runtime]") {
  const auto fault = [](const std::string& duration) {
    return "faults:\n  - {name: slow, kind: latency, target: {service: checkout}, start: 5m, "
           "duration: " +
           duration + ", fixedDelay: 400ms}\n";
  };
  const Outcome expected = run_with(scenario_from(kShop + fault("7m")), nullptr);
  const Outcome got = run_with(scenario_from(kShop + fault("20m")), [](Simulation& simulation) {
    simulation.at(12 * kMinute, [&simulation] {
      simulation.end_fault(0);
      simulation.end_fault(0);  // a no-op once ended
    });
    simulation.at(20 * kMinute, [&simulation] { simulation.end_fault(0); });
  });
  check_same_frames(got.frames, expected.frames);
  check_same_incidents(got.incidents, expected.incidents);
  CHECK(got.incidents[0].end == 12 * kMinute);
  CHECK(got.scenario.faults[0].duration == 7 * kMinute);
}

TEST_CASE("ending a fault before its start cancels it", "[runtime]") {
  const std::string fault =
      "faults:\n  - {name: slow, kind: latency, target: {service: checkout}, start: 10m, "
      "duration: 5m, fixedDelay: 400ms}\n";
  const Outcome expected = run_with(scenario_from(kShop), nullptr);
  const Outcome got = run_with(scenario_from(kShop + fault), [](Simulation& simulation) {
    simulation.at(5 * kMinute, [&simulation] { simulation.end_fault(0); });
  });
  check_same_frames(got.frames, expected.frames);
  REQUIRE(got.incidents.size() == 1);
  CHECK(got.incidents[0].silent);
  CHECK(got.incidents[0].start == 10 * kMinute);
  CHECK(got.incidents[0].end == 10 * kMinute);
  CHECK(got.scenario.faults[0].duration == 0);
}

TEST_CASE("end_fault between ticks ends the fault at the next tick's start", "[runtime]") {
  // Ticks of a minute: a callback at 90s or 150s runs before the tick at 2m or 3m, its now().
  const auto scenario = [](const std::string& duration) {
    return scenario_from(kShop +
                         "tick: 1m\nfaults:\n  - {name: slow, kind: latency, "
                         "target: {service: checkout}, start: 100s, duration: " +
                         duration + ", fixedDelay: 400ms}\n");
  };
  const auto ended_at = [&](SimTime when) {
    return run_with(scenario("10m"), [when](Simulation& simulation) {
      simulation.at(when, [&simulation] { simulation.end_fault(0); });
    });
  };
  SECTION("its start still to come") {
    const Outcome got = ended_at(90 * kSecond);
    const Outcome expected = run_with(scenario("20s"), nullptr);
    check_same_frames(got.frames, expected.frames);
    check_same_incidents(got.incidents, expected.incidents);
    CHECK(got.incidents[0].end == 2 * kMinute);
  }
  SECTION("started") {
    const Outcome got = ended_at(150 * kSecond);
    const Outcome expected = run_with(scenario("80s"), nullptr);
    check_same_frames(got.frames, expected.frames);
    check_same_incidents(got.incidents, expected.incidents);
    CHECK(got.incidents[0].end == 3 * kMinute);
    CHECK_FALSE(got.incidents[0].silent);
  }
}

TEST_CASE("a canary deployment with a defect added at run time equals the declared one",
          "[runtime]") {
  const std::string change =
      "{name: v2, kind: deployment, service: checkout, version: v2, at: 5m, strategy: canary, "
      "steps: [{weight: 10, pause: 2m}, {weight: 50, pause: 2m}], rollback: 15m, "
      "defect: {errorPercent: 20, latency: 100ms}}";
  const Outcome expected =
      run_with(scenario_from(kShop + kOwnFault + "changes:\n  - " + change + "\n"), nullptr);
  for (const SimTime when : {SimTime{0}, 2 * kMinute, 5 * kMinute}) {
    INFO("added at " << format_duration(when));
    int added = -1;
    const Outcome got =
        run_with(scenario_from(kShop + kOwnFault), [&, change, when](Simulation& simulation) {
          simulation.at(when, [&simulation, &added, change] {
            added = simulation.add_change(change_from(simulation.scenario(), change));
          });
        });
    CHECK(added == 0);
    check_same_frames(got.frames, expected.frames);
    check_same_changes(got.changes, expected.changes);
    check_same_incidents(got.incidents, expected.incidents);
    REQUIRE(got.incidents.size() == 2);
    CHECK(got.incidents[1].cause == "deployment");
    CHECK(got.incidents[1].start == 5 * kMinute);
    CHECK(got.incidents[1].end == 15 * kMinute);
  }
}

TEST_CASE("rollback at t equals a declared rollback at t and restores the replicas at once",
          "[runtime]") {
  const auto scenario = [](const std::string& rollback) {
    return scenario_from(kShop +
                         "changes:\n  - {name: bad-image, kind: deployment, service: checkout, "
                         "version: v3, at: 60s, maxSurge: 1, maxUnavailable: 2" +
                         rollback + ", defect: {badImage: true}}\n");
  };
  const Outcome expected = run_with(scenario(", rollback: 5m"), nullptr);
  bool first = false, second = true, elsewhere = true;
  const Outcome got = run_with(scenario(""), [&](Simulation& simulation) {
    simulation.at(5 * kMinute, [&] {
      first = simulation.rollback(kCheckout);
      second = simulation.rollback(kCheckout);  // rolled back already
      elsewhere = simulation.rollback(kApi);    // never deployed
    });
  });
  CHECK(first);
  CHECK_FALSE(second);
  CHECK_FALSE(elsewhere);
  check_same_frames(got.frames, expected.frames);
  check_same_changes(got.changes, expected.changes);
  check_same_incidents(got.incidents, expected.incidents);
  CHECK(ready(got.frames[299], kCheckout) == 4.0f);
  CHECK(ready(got.frames[300], kCheckout) == 6.0f);
  REQUIRE(got.changes.size() == 3);
  CHECK(got.changes[2].kind == "rollback");
  CHECK(got.changes[2].time == 5 * kMinute);
  CHECK(got.incidents[0].end == 5 * kMinute);
  REQUIRE(got.scenario.changes[0].rollback);
  CHECK(*got.scenario.changes[0].rollback == 5 * kMinute);
}

TEST_CASE("rollback before the deployment starts has nothing to roll back, at its start it does",
          "[runtime]") {
  const Scenario scenario =
      scenario_from(kShop +
                    "changes:\n  - {name: v2, kind: deployment, service: checkout, "
                    "version: v2, at: 60s}\n");
  bool early = true, on_time = false, later = true;
  run_with(scenario, [&](Simulation& simulation) {
    CHECK_FALSE(simulation.rollback(kCheckout));  // before run()
    simulation.at(30 * kSecond, [&] { early = simulation.rollback(kCheckout); });
    // At its `at` it has started (a script's sim.deploy then sim.rollback in one callback:
    // an experiment's rollbacks undo its method): taken back before it serves.
    simulation.at(60 * kSecond, [&] { on_time = simulation.rollback(kCheckout); });
    simulation.at(20 * kMinute, [&] { later = simulation.rollback(kCheckout); });  // done
  });
  CHECK_FALSE(early);
  CHECK(on_time);
  CHECK_FALSE(later);
}

TEST_CASE("set_replicas scales a service from the tick at now()", "[runtime]") {
  const Outcome got = run_with(scenario_from(kShop), [](Simulation& simulation) {
    simulation.at(60 * kSecond, [&simulation] { simulation.set_replicas(kCheckout, 3); });
    simulation.at(10 * kMinute, [&simulation] { simulation.set_replicas(kCheckout, 9); });
  });
  CHECK(ready(got.frames[59], kCheckout) == 6.0f);
  CHECK(ready(got.frames[60], kCheckout) == 3.0f);
  CHECK(ready(got.frames[599], kCheckout) == 3.0f);
  CHECK(ready(got.frames[600], kCheckout) == 9.0f);
  CHECK(ready(got.frames.back(), kCheckout) == 9.0f);
  REQUIRE(got.changes.size() >= 2);
  CHECK(got.changes[0].time == 60 * kSecond);
  CHECK(got.changes[0].kind == "scale");
  CHECK(got.changes[0].target == "checkout");
  CHECK(got.changes[0].from == "6");
  CHECK(got.changes[0].to == "3");
  CHECK(got.changes[1].from == "3");
  CHECK(got.changes[1].to == "9");
  CHECK(got.incidents.empty());  // an operation, not a cause: the counterfactual scales too
}

TEST_CASE("set_replicas on an autoscaled service sets its count until the autoscaler acts",
          "[runtime]") {
  // Scaled below minReplicas at 65s; the autoscaler's sync at 75s scales back to 2, and the
  // replica it adds is ready after its startTime (30s).
  const Outcome got = run_with(scenario_from(kShop), [](Simulation& simulation) {
    simulation.at(65 * kSecond, [&simulation] { simulation.set_replicas(kApi, 1); });
  });
  CHECK(ready(got.frames[64], kApi) == 2.0f);
  CHECK(ready(got.frames[65], kApi) == 1.0f);
  CHECK(ready(got.frames[104], kApi) == 1.0f);
  CHECK(ready(got.frames[105], kApi) == 2.0f);
  std::vector<ChangeEvent> scales;
  for (const ChangeEvent& event : got.changes)
    if (event.target == "api") scales.push_back(event);
  REQUIRE(scales.size() == 2);
  CHECK(scales[0].time == 65 * kSecond);
  CHECK(scales[0].to == "1");
  CHECK(scales[1].time == 75 * kSecond);
  CHECK(scales[1].from == "1");
  CHECK(scales[1].to == "2");
}

TEST_CASE("pod faults that start after a scale pick among the new count", "[runtime]") {
  const std::string kill =
      "{name: kill, kind: pod-kill, target: {service: checkout}, start: 5m, duration: 5m, "
      "mode: all, restartTime: 10m}";
  const Outcome got = run_with(scenario_from(kShop), [&](Simulation& simulation) {
    simulation.at(60 * kSecond, [&simulation, kill] {
      simulation.add_fault(fault_from(simulation.scenario(), kill));  // drawn among 6
      simulation.set_replicas(kCheckout, 9);                          // drawn again at 5m
    });
  });
  CHECK(ready(got.frames[299], kCheckout) == 9.0f);
  CHECK(ready(got.frames[300], kCheckout) == 0.0f);
  CHECK(ready(got.frames[600], kCheckout) == 9.0f);
}

TEST_CASE("callbacks at the same time run in scheduling order, a past time runs at now()",
          "[runtime]") {
  std::vector<std::pair<int, SimTime>> calls;
  const Scenario scenario = scenario_from(kShop);
  Simulation simulation(scenario, 1);
  CHECK(simulation.now() == 0);
  auto record = [&](int id) { return [&, id] { calls.emplace_back(id, simulation.now()); }; };
  simulation.at(10 * kSecond, record(1));
  simulation.at(5 * kSecond, [&] {
    calls.emplace_back(0, simulation.now());
    simulation.at(10 * kSecond, record(3));
    simulation.at(1 * kSecond, record(4));  // in the past: runs at now(), after this one
    simulation.at(5 * kSecond, record(5));
  });
  simulation.at(10 * kSecond, record(2));
  simulation.at(0, record(6));
  simulation.at(1500 * kMillisecond, record(7));  // between ticks: before the tick at 2s
  simulation.at(30 * kMinute, record(8));         // the end: never
  const RunResult result = simulation.run();
  CHECK(result.completed);
  const std::vector<std::pair<int, SimTime>> expected = {
      {6, 0},           {7, 2 * kSecond},  {0, 5 * kSecond},  {4, 5 * kSecond},
      {5, 5 * kSecond}, {1, 10 * kSecond}, {2, 10 * kSecond}, {3, 10 * kSecond}};
  CHECK(calls == expected);
  CHECK(simulation.now() == 30 * kMinute);
}

TEST_CASE("a callback inside a tick runs before that tick's frame reaches the sinks", "[runtime]") {
  // The frame of [1s, 2s) reached the sinks (a script's tick hook, at 2s) before a callback
  // at 1.5s ran: the script's time went back from 2s to 1.5s. And a callback inside the last
  // tick never ran.
  struct Order : FrameSink {
    std::vector<SimTime>* times;
    void on_frame(const Frame& frame) override { times->push_back(frame.time); }
  };
  std::vector<SimTime> times;
  const Scenario scenario = scenario_from(kShop);
  Simulation simulation(scenario, 1);
  Order order;
  order.times = &times;
  simulation.add_sink(&order);
  const SimTime end = scenario.duration;
  for (SimTime t : {1500 * kMillisecond, 2 * kSecond, end - 500 * kMillisecond, end})
    simulation.at(t, [&] { times.push_back(simulation.current_time()); });
  CHECK(simulation.run().completed);
  CHECK(std::is_sorted(times.begin(), times.end()));
  CHECK(std::count(times.begin(), times.end(), 1500 * kMillisecond) == 1);
  CHECK(std::count(times.begin(), times.end(), end - 500 * kMillisecond) == 1);
  CHECK(std::count(times.begin(), times.end(), end) == 1);  // the last frame; no callback
  CHECK(times.size() == static_cast<std::size_t>(scenario.tick_count()) + 3);
}

TEST_CASE("a stop asked for by a callback is honoured before the next tick", "[runtime]") {
  // The tick after the callback was simulated (with what the callback had just added)
  // before the stop was seen.
  const Scenario scenario = scenario_from(kShop);
  Simulation simulation(scenario, 1);
  std::atomic<bool> stop{false};
  simulation.at(65 * kSecond, [&] { stop = true; });
  const RunResult result = simulation.run(&stop);
  CHECK_FALSE(result.completed);
  CHECK(result.ticks == 65);
  CHECK(simulation.frame().time == 65 * kSecond);
  stop = false;  // a later call resumes with the tick at 65s
  CHECK(simulation.run(&stop).completed);
  CHECK(simulation.now() == scenario.duration);
}

TEST_CASE("a callback sees the faults of its instant and the frame of the tick before",
          "[runtime]") {
  const Scenario scenario = scenario_from(kShop + kOwnFault);
  Simulation simulation(scenario, 1);
  bool active = false;
  SimTime frame_time = -1;
  simulation.at(2 * kMinute, [&] {
    active = simulation.world().fault_active(0);
    frame_time = simulation.world().frame().time;
  });
  simulation.run();
  CHECK(active);
  CHECK(frame_time == 2 * kMinute);
}

TEST_CASE("causes added at run time get incident ids after the scenario's own", "[runtime]") {
  const Scenario scenario = scenario_from(kShop + kOwnFault + R"(
changes:
  - {name: bad-config, kind: config, services: [search], version: c2, at: 20m,
     defect: {errorPercent: 10}}
)");
  std::vector<int> indices;
  const Outcome got = run_with(scenario, [&](Simulation& simulation) {
    simulation.at(kMinute, [&] {
      indices.push_back(simulation.add_fault(fault_from(
          simulation.scenario(),
          "{name: a, kind: error, target: {service: checkout}, start: 3m, duration: 1m}")));
      indices.push_back(simulation.add_change(change_from(
          simulation.scenario(),
          "{kind: deployment, service: search, version: v2, at: 4m, defect: {errorPercent: 5}}")));
    });
    simulation.at(6 * kMinute, [&] {
      indices.push_back(simulation.add_fault(fault_from(
          simulation.scenario(),
          "{kind: latency, target: {service: api}, start: 8m, duration: 1m, fixedDelay: 1s}")));
    });
  });
  CHECK(indices == std::vector<int>{1, 1, 2});
  REQUIRE(got.incidents.size() == 5);
  const std::vector<std::string> names = {"own", "bad-config", "a", "change-1", "fault-2"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    CHECK(got.incidents[i].id == static_cast<std::int64_t>(i));
    CHECK(got.incidents[i].name == names[i]);
    CHECK_FALSE(got.incidents[i].silent);
  }
  CHECK(got.incidents[2].start == 3 * kMinute);
  CHECK(got.incidents[3].start == 4 * kMinute + 30 * kSecond);  // the first rolling step
  CHECK(got.incidents[4].root_cause == "api");
  CHECK(got.scenario.faults.size() == 3);
  CHECK(got.scenario.changes.size() == 2);
}

TEST_CASE("two identical runs with callbacks give identical frames", "[runtime]") {
  const Scenario scenario = scenario_from(kShop + kOwnFault + R"(
changes:
  - {name: v2, kind: deployment, service: checkout, version: v2, at: 3m, maxSurge: 1,
     maxUnavailable: 1, startTime: 20s, defect: {latency: 50ms}}
)");
  auto control = [](Simulation& simulation) {
    simulation.at(2 * kMinute, [&simulation] {
      simulation.add_fault(fault_from(simulation.scenario(),
                                      "{name: kill, kind: pod-kill, target: {service: search}, "
                                      "start: 4m, duration: 5m, mode: random-max-percent, "
                                      "value: 100}"));
      simulation.set_replicas(kApi, 5);
    });
    simulation.at(6 * kMinute, [&simulation] {
      simulation.rollback(kCheckout);
      simulation.set_replicas(kCheckout, 8);
      simulation.at(7 * kMinute, [&simulation] { simulation.end_fault(1); });
    });
  };
  const Outcome a = run_with(scenario, control);
  const Outcome b = run_with(scenario, control);
  check_same_frames(a.frames, b.frames);
  check_same_incidents(a.incidents, b.incidents);
  check_same_changes(a.changes, b.changes);
  CHECK(identical_from(a.frames, run_frames(scenario, 1)) > 120);  // the control did something
}

TEST_CASE("run-time control refuses what a scenario could not declare", "[runtime]") {
  const Scenario scenario = scenario_from(kShop + kOwnFault);
  Simulation simulation(scenario, 1);
  const FaultSpec fault = fault_from(scenario,
                                     "{name: x, kind: error, target: {service: web}, start: 10m, "
                                     "duration: 1m}");
  simulation.at(12 * kMinute, [&] {
    CHECK_THROWS_AS(simulation.add_fault(fault), dosim::RunControlError);  // starts before now()
    FaultSpec later = fault;
    later.start = 12 * kMinute;
    CHECK(simulation.add_fault(later) == 1);
    CHECK_THROWS_AS(simulation.add_fault(later), dosim::RunControlError);  // name taken
    later.name = "y";
    later.start = 30 * kMinute;
    CHECK_THROWS_AS(simulation.add_fault(later), dosim::RunControlError);  // after the end
    later.start = 13 * kMinute;
    later.target.service = 17;
    CHECK_THROWS_AS(simulation.add_fault(later), dosim::RunControlError);
    later.target.service = 1;
    later.kind = FaultKind::kPacketLoss;  // needs an edge
    CHECK_THROWS_AS(simulation.add_fault(later), dosim::RunControlError);
    ChangeSpec change;
    change.kind = ChangeKind::kDeployment;
    change.services = {1};
    change.version = "v2";
    change.at = 11 * kMinute;
    CHECK_THROWS_AS(simulation.add_change(change), dosim::RunControlError);
    change.at = 12 * kMinute;
    change.rollback = 12 * kMinute;
    CHECK_THROWS_AS(simulation.add_change(change), dosim::RunControlError);
    CHECK_THROWS_AS(simulation.end_fault(5), dosim::RunControlError);
    CHECK_THROWS_AS(simulation.set_replicas(1, -1), dosim::RunControlError);
    CHECK_THROWS_AS(simulation.rollback(9), dosim::RunControlError);
  });
  simulation.run();
  CHECK(simulation.scenario().faults.size() == 2);
}

TEST_CASE("parse_fault and parse_change read entries as the scenario format does", "[runtime]") {
  const Scenario scenario = scenario_from(kShop + kOwnFault);
  const FaultSpec fault =
      fault_from(scenario,
                 "{kind: latency, target: {service: checkout}, start: 1m, duration: 2m, "
                 "fixedDelay: 20ms}");
  CHECK(fault.name == "fault-1");
  CHECK(fault.kind == FaultKind::kLatency);
  CHECK(fault.target.service == kCheckout);
  CHECK(fault.fraction == 1.0);
  CHECK(fault.fixed_delay == 20 * kMillisecond);
  CHECK(fault.pos.line == 1);

  const ChangeSpec change =
      change_from(scenario, "{kind: config, services: [search, api], version: c2, at: 3m}");
  CHECK(change.name == "change-0");
  CHECK(change.services == std::vector<int>{2, 3});

  auto messages = [&](const std::string& text, bool is_fault) {
    try {
      if (is_fault)
        fault_from(scenario, text);
      else
        change_from(scenario, text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string duplicate =
      messages("{name: own, kind: error, target: {service: web}, start: 1m, duration: 1m}", true);
  CHECK_THAT(duplicate, Catch::Contains("duplicate fault name 'own'"));
  CHECK_THAT(duplicate, Catch::Contains("script.lua:1:"));
  const std::string several = messages(
      "{name: z, kind: error, target: {service: wbe}, start: 1m, duration: 0s, "
      "schedule: {every: 5m}}",
      true);
  CHECK_THAT(several, Catch::Contains("unknown service 'wbe'"));
  CHECK_THAT(several, Catch::Contains("'schedule' is not available here"));
  CHECK_THAT(several, Catch::Contains("duration"));
  CHECK_THAT(messages("{kind: error, target: {service: web}, start: 40m, duration: 1m}", true),
             Catch::Contains("before the end of the scenario"));
  CHECK_THAT(messages("{kind: deployment, service: web, version: v2, at: 1m, flag: f}", false),
             Catch::Contains("'flag' is not used by deployment changes"));
  CHECK_THAT(messages("- not a mapping", false), Catch::Contains("script.lua"));
}

TEST_CASE("a fault added before run() equals the declared one", "[runtime]") {
  const std::string text =
      "{name: slow, kind: latency, target: {service: checkout}, start: 0s, duration: 3m, "
      "fixedDelay: 200ms}";
  const Outcome expected = run_with(scenario_from(kShop + "faults:\n  - " + text + "\n"), nullptr);
  const Outcome got = run_with(scenario_from(kShop), [&](Simulation& simulation) {
    CHECK(simulation.add_fault(fault_from(simulation.scenario(), text)) == 0);
  });
  check_same_frames(got.frames, expected.frames);
  check_same_incidents(got.incidents, expected.incidents);
}

TEST_CASE("a callback that reschedules itself runs once per tick", "[runtime]") {
  const Scenario scenario = scenario_from(kShop);
  Simulation simulation(scenario, 1);
  int calls = 0;
  std::function<void()> every_tick = [&] {
    ++calls;
    simulation.at(simulation.now() + scenario.tick, every_tick);
  };
  simulation.at(0, every_tick);
  simulation.run();
  CHECK(calls == 1800);
}

TEST_CASE("an exception from a callback leaves run()", "[runtime]") {
  const Scenario scenario = scenario_from(kShop);
  Simulation simulation(scenario, 1);
  struct Count : FrameSink {
    int frames = 0;
    void on_frame(const Frame&) override { ++frames; }
  } count;
  simulation.add_sink(&count);
  simulation.at(kMinute, [] { throw std::runtime_error("script error"); });
  CHECK_THROWS_WITH(simulation.run(), "script error");
  CHECK(count.frames == 60);
  CHECK(simulation.now() == kMinute);
}
