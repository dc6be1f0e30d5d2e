// The run-time operations the responders act through (docs/remediation.md): revert_change
// for every kind of change, set_timeout and set_shed. As in test_runtime_control.cc, the
// strongest checks are equivalences: a change taken back at t gives bit-identical frames, the
// same change log and the same ground truth as the same change declared with its end at t.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "dosim/engine/simulation.h"
#include "simulation_test_support.h"

using namespace dosim;
using namespace dosim::testing;

namespace {

// No measurement noise and no traffic noise: every series is the model's exact value.
const std::string kShop = R"(
name: shop
duration: 30m
measurement_noise: false
services:
  - {name: web, replicas: 4, capacity_rps: 200, base_latency: 5ms}
  - {name: checkout, replicas: 4, capacity_rps: 100, base_latency: 20ms}
  - {name: search, replicas: 2, capacity_rps: 300, base_latency: 10ms}
dependencies:
  - {caller: web, callee: checkout, calls_per_request: 0.5, timeout: 2s}
  - {caller: web, callee: search, timeout: 500ms}
traffic:
  - {entry: web, base_rps: 100, noise: 0}
)";

constexpr int kWeb = 0;
constexpr int kCheckout = 1;
constexpr int kSearch = 2;
constexpr int kWebToSearch = 1;  // the dependency's index

// Two regions, a regional source without automatic failover, for drains.
const std::string kRegions = R"(
name: regions
duration: 30m
measurement_noise: false
regions:
  - {name: us, zones: [us-a]}
  - {name: eu, zones: [eu-a]}
services:
  - {name: us-web, replicas: 4, capacity_rps: 200, base_latency: 5ms, zone: us-a}
  - {name: eu-web, replicas: 4, capacity_rps: 200, base_latency: 5ms, zone: eu-a}
traffic:
  - {name: eu-users, base_rps: 100, noise: 0, regions: {eu: eu-web, us: us-web}}
)";

struct Outcome {
  std::vector<Frame> frames;
  std::vector<IncidentRecord> incidents;
  std::vector<ChangeEvent> changes;
};

Outcome run_with(const Scenario& scenario, const std::function<void(Simulation&)>& control) {
  struct Capture : FrameSink {
    std::vector<Frame> frames;
    void on_frame(const Frame& frame) override { frames.push_back(frame); }
  } capture;
  Simulation simulation(scenario, 1);
  simulation.add_sink(&capture);
  if (control) control(simulation);
  simulation.run();
  return {std::move(capture.frames), simulation.incidents(), simulation.changes()};
}

float value(const Frame& frame, ServiceMetric metric, int service) {
  return frame.service(metric)[service];
}

void check_same_runs(const Outcome& got, const Outcome& expected) {
  REQUIRE(got.frames.size() == expected.frames.size());
  std::size_t differing = 0;
  for (std::size_t t = 0; t < got.frames.size(); ++t)
    if (!same_frame(got.frames[t], expected.frames[t])) ++differing;
  CHECK(differing == 0);
  REQUIRE(got.changes.size() == expected.changes.size());
  for (std::size_t i = 0; i < got.changes.size(); ++i) {
    INFO("change event " << i);
    CHECK(got.changes[i].time == expected.changes[i].time);
    CHECK(got.changes[i].kind == expected.changes[i].kind);
    CHECK(got.changes[i].target == expected.changes[i].target);
    CHECK(got.changes[i].from == expected.changes[i].from);
    CHECK(got.changes[i].to == expected.changes[i].to);
  }
  REQUIRE(got.incidents.size() == expected.incidents.size());
  for (std::size_t i = 0; i < got.incidents.size(); ++i) {
    INFO("incident " << i);
    CHECK(got.incidents[i].name == expected.incidents[i].name);
    CHECK(got.incidents[i].end == expected.incidents[i].end);
    CHECK(got.incidents[i].impact_start == expected.incidents[i].impact_start);
    CHECK(got.incidents[i].impact_end == expected.incidents[i].impact_end);
    CHECK(got.incidents[i].silent == expected.incidents[i].silent);
    CHECK(got.incidents[i].affected == expected.incidents[i].affected);
  }
}

// Runs `base + change` with revert_change(0) at `at`, and `base + declared` (the same change
// with its end written in), and checks they are the same run. Returns what revert_change said.
bool check_revert_equals_declared(const std::string& base, const std::string& change,
                                  const std::string& declared, SimTime at) {
  bool reverted = false;
  const Outcome got =
      run_with(scenario_from(base + "changes:\n  - " + change + "\n"), [&](Simulation& simulation) {
        simulation.at(at, [&] { reverted = simulation.revert_change(0); });
      });
  const Outcome expected =
      run_with(scenario_from(base + "changes:\n  - " + declared + "\n"), nullptr);
  check_same_runs(got, expected);
  return reverted;
}

}  // namespace

TEST_CASE("remediation: revert_change of a deployment equals a declared rollback at that time",
          "[remediation]") {
  CHECK(check_revert_equals_declared(
      kShop,
      "{name: v2, kind: deployment, service: checkout, version: v2, at: 5m, "
      "defect: {errorPercent: 20}}",
      "{name: v2, kind: deployment, service: checkout, version: v2, at: 5m, rollback: 12m, "
      "defect: {errorPercent: 20}}",
      12 * kMinute));
}

TEST_CASE("remediation: revert_change of a config equals a declared revert at that time",
          "[remediation]") {
  CHECK(check_revert_equals_declared(
      kShop,
      "{name: cfg, kind: config, services: [checkout], version: cfg-2, at: 5m, "
      "defect: {errorPercent: 30}}",
      "{name: cfg, kind: config, services: [checkout], version: cfg-2, at: 5m, revert: 12m, "
      "defect: {errorPercent: 30}}",
      12 * kMinute));
}

TEST_CASE("remediation: revert_change of a feature flag equals a declared step to 0% then",
          "[remediation]") {
  // The later step to 100 % is dropped: the flag stays off.
  CHECK(check_revert_equals_declared(
      kShop,
      "{name: ranking, kind: feature-flag, flag: ranking, services: [search], "
      "steps: [{at: 5m, percent: 20}, {at: 10m, percent: 50}, {at: 20m, percent: 100}], "
      "defect: {errorPercent: 40}}",
      "{name: ranking, kind: feature-flag, flag: ranking, services: [search], "
      "steps: [{at: 5m, percent: 20}, {at: 10m, percent: 50}, {at: 12m, percent: 0}], "
      "defect: {errorPercent: 40}}",
      12 * kMinute));
}

TEST_CASE("remediation: revert_change of a secret rotation equals a declared fixedAt then",
          "[remediation]") {
  CHECK(check_revert_equals_declared(
      kShop,
      "{name: rotate, kind: secret-rotation, secret: db, consumers: [checkout, search], "
      "reloaded: [search], at: 5m, deadline: 2m}",
      "{name: rotate, kind: secret-rotation, secret: db, consumers: [checkout, search], "
      "reloaded: [search], at: 5m, deadline: 2m, fixedAt: 12m}",
      12 * kMinute));
}

TEST_CASE("remediation: revert_change of a drain equals a declared restore then", "[remediation]") {
  CHECK(check_revert_equals_declared(kRegions, "{name: out, kind: drain, region: eu, at: 5m}",
                                     "{name: out, kind: drain, region: eu, at: 5m, restore: 12m}",
                                     12 * kMinute));
}

TEST_CASE(
    "remediation: revert_change has nothing to take back in a traffic shift, a change "
    "not started, or one taken back already",
    "[remediation]") {
  const Scenario shift =
      scenario_from(kRegions +
                    "changes:\n  - {name: shift, kind: traffic-shift, traffic: eu-users, "
                    "weights: {us: 100}, at: 5m}\n");
  bool shifted = true;
  const Outcome got = run_with(shift, [&](Simulation& simulation) {
    simulation.at(10 * kMinute, [&] { shifted = simulation.revert_change(0); });
  });
  CHECK_FALSE(shifted);
  check_same_runs(got, run_with(shift, nullptr));

  const Scenario later = scenario_from(
      kShop +
      "changes:\n"
      "  - {name: v2, kind: deployment, service: checkout, version: v2, at: 10m}\n"
      "  - {name: cfg, kind: config, services: [checkout], version: cfg-2, at: 10m}\n");
  // At its start a change is taken back before it acts (as an experiment's rollbacks undo
  // what its method began that instant); after that, there is nothing left to take back.
  bool before = true, at_start = false, first = true, second = true, config_twice = true;
  const Outcome reverted = run_with(later, [&](Simulation& simulation) {
    CHECK_FALSE(simulation.revert_change(0));  // before run()
    simulation.at(5 * kMinute, [&] { before = simulation.revert_change(1); });
    simulation.at(10 * kMinute, [&] { at_start = simulation.revert_change(0); });
    simulation.at(15 * kMinute, [&] {
      first = simulation.revert_change(0);
      second = simulation.revert_change(0);
      CHECK(simulation.revert_change(1));
      config_twice = simulation.revert_change(1);
    });
  });
  CHECK_FALSE(before);
  CHECK(at_start);
  CHECK_FALSE(first);
  CHECK_FALSE(second);
  CHECK_FALSE(config_twice);
  // One rollback at 10m and one config revert at 15m in the log.
  int rollbacks = 0, reverts = 0;
  for (const ChangeEvent& e : reverted.changes) {
    if (e.kind == "rollback") rollbacks += e.time == 10 * kMinute;
    if (e.kind == "config" && e.to == "initial") reverts += e.time == 15 * kMinute;
  }
  CHECK(rollbacks == 1);
  CHECK(reverts == 1);
}

TEST_CASE("remediation: revert_change of a flag that is off now cancels its later steps",
          "[remediation]") {
  // Off at 12m (the 10m step turned it off); the 20m step would turn it on again. Taking the
  // flag back cancels that step, as a flag off from 12m on: the same run as one declared
  // without it, and the change log has no step at 20m.
  const std::string flag =
      "{name: ranking, kind: feature-flag, flag: ranking, services: [search], "
      "steps: [{at: 5m, percent: 50}, {at: 10m, percent: 0}%s], defect: {errorPercent: 40}}";
  const auto with = [&](const std::string& extra) {
    std::string text = flag;
    text.replace(text.find("%s"), 2, extra);
    return text;
  };
  const bool reverted = check_revert_equals_declared(kShop, with(", {at: 20m, percent: 100}"),
                                                     with(""), 12 * kMinute);
  CHECK(reverted);
}

TEST_CASE("remediation: revert_change refuses an index out of range", "[remediation]") {
  Simulation simulation(scenario_from(kShop), 1);
  CHECK_THROWS_AS(simulation.revert_change(0), RunControlError);
  CHECK_THROWS_AS(simulation.revert_change(-1), RunControlError);
}

TEST_CASE("remediation: set_timeout acts as the timeout declared and is logged", "[remediation]") {
  // search slowed by 1 s answers after web's 500 ms timeout: every call to it fails. With
  // the timeout raised to 3 s at 0, the run is the one declared with 3 s.
  const std::string slow =
      "faults:\n  - {name: slow, kind: latency, target: {service: search}, fixedDelay: 1s, "
      "start: 5m, duration: 10m}\n";
  std::string raised = kShop + slow;
  raised.replace(raised.find("timeout: 500ms"), 14, "timeout: 3s");
  const Outcome got = run_with(scenario_from(kShop + slow), [](Simulation& simulation) {
    simulation.at(0, [&simulation] { simulation.set_timeout(kWebToSearch, 3 * kSecond); });
  });
  const Outcome expected = run_with(scenario_from(raised), nullptr);
  REQUIRE(got.frames.size() == expected.frames.size());
  std::size_t differing = 0;
  for (std::size_t t = 0; t < got.frames.size(); ++t)
    if (!same_frame(got.frames[t], expected.frames[t])) ++differing;
  CHECK(differing == 0);
  CHECK(value(got.frames[400], ServiceMetric::kErrorRatio, kWeb) == 0.0f);
  REQUIRE(got.changes.size() == 1);
  CHECK(got.changes[0].time == 0);
  CHECK(got.changes[0].kind == "timeout");
  CHECK(got.changes[0].target == "web->search");
  CHECK(got.changes[0].from == "500ms");
  CHECK(got.changes[0].to == "3s");

  // Raised at 8m, in the fault: web's errors stop at that tick; set to 0 (none) at 20m.
  const Outcome later = run_with(scenario_from(kShop + slow), [](Simulation& simulation) {
    simulation.at(8 * kMinute,
                  [&simulation] { simulation.set_timeout(kWebToSearch, 3 * kSecond); });
    simulation.at(20 * kMinute, [&simulation] { simulation.set_timeout(kWebToSearch, 0); });
  });
  CHECK(value(later.frames[479], ServiceMetric::kErrorRatio, kWeb) == 1.0f);
  CHECK(value(later.frames[480], ServiceMetric::kErrorRatio, kWeb) == 0.0f);
  REQUIRE(later.changes.size() == 2);
  CHECK(later.changes[0].time == 8 * kMinute);
  CHECK(later.changes[1].time == 20 * kMinute);
  CHECK(later.changes[1].from == "3s");
  CHECK(later.changes[1].to == "none");
}

TEST_CASE("remediation: set_timeout refuses a dependency out of range or a negative timeout",
          "[remediation]") {
  Simulation simulation(scenario_from(kShop), 1);
  CHECK_THROWS_AS(simulation.set_timeout(2, kSecond), RunControlError);
  CHECK_THROWS_AS(simulation.set_timeout(-1, kSecond), RunControlError);
  CHECK_THROWS_AS(simulation.set_timeout(0, -1), RunControlError);
  CHECK(simulation.changes().empty());
}

TEST_CASE("remediation: set_shed in the fluid model rejects exactly that share with 429s",
          "[remediation]") {
  const Outcome got = run_with(scenario_from(kShop), [](Simulation& simulation) {
    simulation.at(5 * kMinute, [&simulation] { simulation.set_shed(kWeb, 0.3); });
    simulation.at(10 * kMinute, [&simulation] { simulation.set_shed(kWeb, 0); });
  });
  const Frame& before = got.frames[299];
  const Frame& shed = got.frames[400];
  CHECK(value(before, ServiceMetric::kErrorRatio, kWeb) == 0.0f);
  CHECK(value(got.frames[300], ServiceMetric::kErrorRatio, kWeb) == Approx(0.3).margin(1e-6));
  CHECK(value(shed, ServiceMetric::kErrorRatio, kWeb) == Approx(0.3).margin(1e-6));
  // The shed arrivals cost nothing: web and the services it calls work 30 % less.
  CHECK(value(shed, ServiceMetric::kRps, kWeb) == value(before, ServiceMetric::kRps, kWeb));
  CHECK(value(shed, ServiceMetric::kUtilization, kWeb) ==
        Approx(0.7 * value(before, ServiceMetric::kUtilization, kWeb)).epsilon(1e-4));
  CHECK(value(shed, ServiceMetric::kRps, kSearch) ==
        Approx(0.7 * value(before, ServiceMetric::kRps, kSearch)).epsilon(1e-6));
  CHECK(value(shed, ServiceMetric::kErrorRatio, kCheckout) == 0.0f);
  CHECK(value(got.frames[600], ServiceMetric::kErrorRatio, kWeb) == 0.0f);
  REQUIRE(got.changes.size() == 2);
  CHECK(got.changes[0].time == 5 * kMinute);
  CHECK(got.changes[0].kind == "shed");
  CHECK(got.changes[0].target == "web");
  CHECK(got.changes[0].from == "0%");
  CHECK(got.changes[0].to == "30%");
  CHECK(got.changes[1].from == "30%");
  CHECK(got.changes[1].to == "0%");
  CHECK(got.incidents.empty());  // an operation in both worlds, not a cause

  // Shed at a callee, its callers' calls fail: web calls search once a request, no retries.
  const Outcome callee = run_with(scenario_from(kShop), [](Simulation& simulation) {
    simulation.at(5 * kMinute, [&simulation] { simulation.set_shed(kSearch, 0.4); });
  });
  CHECK(value(callee.frames[400], ServiceMetric::kErrorRatio, kSearch) == Approx(0.4).margin(1e-6));
  CHECK(value(callee.frames[400], ServiceMetric::kErrorRatio, kWeb) == Approx(0.4).margin(1e-6));
}

TEST_CASE("remediation: set_shed keeps shedding when a fault starts and ends meanwhile",
          "[remediation]") {
  // The world rebuilds its fault modifiers when a fault starts or ends: the shed stays.
  const Scenario scenario = scenario_from(
      kShop +
      "faults:\n  - {name: errs, kind: error, target: {service: checkout}, percent: 10, "
      "start: 8m, duration: 2m}\n");
  const Outcome got = run_with(scenario, [](Simulation& simulation) {
    simulation.at(5 * kMinute, [&simulation] { simulation.set_shed(kWeb, 0.5); });
  });
  for (const std::size_t t : {300u, 500u, 540u, 700u, 1700u}) {
    INFO("tick " << t);
    CHECK(value(got.frames[t], ServiceMetric::kErrorRatio, kWeb) >= 0.5f - 1e-6f);
  }
  CHECK(value(got.frames[700], ServiceMetric::kErrorRatio, kWeb) == Approx(0.5).margin(1e-6));
}

TEST_CASE("remediation: set_shed at request level rejects the share within binomial noise",
          "[remediation]") {
  // 30 % of web's arrivals shed from 5m to 10m, then 30 % of search's from 15m to 20m: a
  // 429 from search fails web's call to it (no retries), as in the fluid model.
  const Outcome got =
      run_with(scenario_from(kShop + "mode: requests\n"), [](Simulation& simulation) {
        simulation.at(5 * kMinute, [&simulation] { simulation.set_shed(kWeb, 0.3); });
        simulation.at(10 * kMinute, [&simulation] { simulation.set_shed(kWeb, 0); });
        simulation.at(15 * kMinute, [&simulation] { simulation.set_shed(kSearch, 0.3); });
        simulation.at(20 * kMinute, [&simulation] { simulation.set_shed(kSearch, 0); });
      });
  // Each window: 5 minutes at 100 rps, ~30,000 requests; the shed share's standard deviation
  // is sqrt(0.3 x 0.7 / 30000) = 0.0026: 5 of them is 0.013 (21,000 reach search meanwhile).
  const auto share = [&](std::size_t from, std::size_t to, int service) {
    double requests = 0, errors = 0;
    for (std::size_t t = from; t < to; ++t) {
      const double rps = value(got.frames[t], ServiceMetric::kRps, service);
      requests += rps;
      errors += rps * value(got.frames[t], ServiceMetric::kErrorRatio, service);
    }
    REQUIRE(requests > 20000);
    return errors / requests;
  };
  CHECK(share(0, 300, kWeb) == 0.0);
  CHECK(share(300, 600, kWeb) == Approx(0.3).margin(0.013));
  CHECK(share(300, 600, kSearch) == 0.0);
  CHECK(share(600, 900, kWeb) == 0.0);
  CHECK(share(900, 1200, kSearch) == Approx(0.3).margin(0.013));
  CHECK(share(900, 1200, kWeb) == Approx(0.3).margin(0.013));
  CHECK(share(1200, 1800, kWeb) == 0.0);
  REQUIRE(got.changes.size() == 4);
  CHECK(got.changes[0].kind == "shed");
  CHECK(got.changes[0].to == "30%");
  CHECK(got.changes[2].target == "search");
}

TEST_CASE("remediation: set_shed refuses a service out of range or a share outside [0, 1]",
          "[remediation]") {
  Simulation simulation(scenario_from(kShop), 1);
  CHECK_THROWS_AS(simulation.set_shed(3, 0.5), RunControlError);
  CHECK_THROWS_AS(simulation.set_shed(kWeb, 1.5), RunControlError);
  CHECK_THROWS_AS(simulation.set_shed(kWeb, -0.1), RunControlError);
  CHECK_THROWS_AS(simulation.set_shed(kWeb, std::nan("")), RunControlError);
}
