// A bad pod and Envoy's outlier detection (request level, engine/request_world.h): an error
// or latency fault with a `mode` acts on the replicas it picks (the fluid model on their
// share of the requests), and a caller with `outlier_detection` ejects a replica after
// consecutive 5xx answers for base_ejection_time x the times it was ejected, at most
// max(1, max_ejection_percent) of the replicas at once. Rates worked by hand.
#include <catch2/catch.hpp>
#include <string>

#include "dosim/engine/simulation.h"
#include "engine/world.h"
#include "simulation_test_support.h"

using Catch::Matchers::Contains;
using namespace dosim;
using namespace dosim::testing;

namespace {

// frontend -> cart (4 replicas); `fault` on cart; `outlier` the dependency's extra keys.
std::string bad_pod_yaml(const std::string& mode, const std::string& fault,
                         const std::string& outlier = "") {
  return "name: bad-pod\nduration: 20m\ntick: 10s\nmode: " + mode +
         "\ndetectors: []\n"
         "services:\n"
         "  - {name: frontend, replicas: 2, workers: 20, capacity_rps: 2000, base_latency: 10ms}\n"
         "  - {name: cart, replicas: 4, workers: 20, capacity_rps: 2000, base_latency: 10ms}\n"
         "dependencies:\n"
         "  - {caller: frontend, callee: cart" +
         outlier +
         "}\n"
         "traffic:\n"
         "  - {name: t, entry: frontend, noise: 0, base_rps: 200}\n"
         "faults:\n"
         "  - {name: bad, target: {service: cart}, start: 1m, duration: 19m, " +
         fault + "}\n";
}

// Mean of cart's error ratio over ticks [from, to).
double cart_errors(const std::string& yaml, int from, int to) {
  Simulation simulation(scenario_from(yaml), 7);
  double sum = 0;
  for (int tick = 0; tick < to; ++tick) {
    simulation.run_ticks(1);
    if (tick >= from) sum += simulation.world().outcome().error_ratio[1];
  }
  return sum / (to - from);
}

}  // namespace

TEST_CASE("an error fault on one pod fails the requests that pod gets", "[requests][outlier]") {
  // One of 4 replicas fails every request: round-robin sends it a quarter of them.
  const std::string fault = "kind: error, mode: one";
  CHECK(cart_errors(bad_pod_yaml("requests", fault), 12, 120) == Approx(0.25).margin(0.01));
  CHECK(cart_errors(bad_pod_yaml("fluid", fault), 12, 120) == Approx(0.25).margin(0.001));
  // Two pods of four, half their requests: 2/4 x 50 % = 25 %.
  const std::string half = "kind: error, mode: fixed, value: 2, percent: 50";
  CHECK(cart_errors(bad_pod_yaml("requests", half), 12, 120) == Approx(0.25).margin(0.01));
}

TEST_CASE("a slow pod holds its requests longer", "[requests][outlier]") {
  // 90 ms more on one pod of four: a quarter of the requests take 100 ms, the mean rises by
  // 22.5 ms and p95 is a slow pod's (above 95 ms); p50 is a healthy pod's.
  Simulation simulation(
      scenario_from(bad_pod_yaml("requests", "kind: latency, mode: one, fixedDelay: 90ms")), 3);
  simulation.run_ticks(30);
  const TickOutcome& out = simulation.world().outcome();
  CHECK(out.latency[1].mean == Approx(0.010 + 0.0225).margin(0.004));
  CHECK(out.p95[1] > 0.095);
  CHECK(out.p50[1] < 0.03);
}

TEST_CASE("outlier detection ejects the bad pod for longer each time", "[requests][outlier]") {
  // Without it the bad pod fails a quarter of the calls all along. With it (5 errors in a
  // row, 30 s x n ejections): the pod is out 30 s after its first 5 errors (about 0.1 s of
  // traffic), then 60 s, 90 s, ...: over the 19 minutes it is in for about 1 second per
  // ejection, so under 1 % of the calls fail.
  const std::string fault = "kind: error, mode: one";
  const std::string outlier =
      ", outlier_detection: {consecutive_5xx: 5, base_ejection_time: 30s}";
  CHECK(cart_errors(bad_pod_yaml("requests", fault), 6, 120) == Approx(0.25).margin(0.01));
  CHECK(cart_errors(bad_pod_yaml("requests", fault, outlier), 6, 120) < 0.01);
  // The default max_ejection_percent, 10 %: max(1, 10 % of 4) = one pod out at a time, so
  // with two bad pods the other keeps failing its share (an eighth of the time in the
  // rotation of three, a third of the calls).
  const std::string two = "kind: error, mode: fixed, value: 2";
  const double capped = cart_errors(bad_pod_yaml("requests", two, outlier), 30, 120);
  CHECK(capped == Approx(1.0 / 3).margin(0.03));
  // With room for both (50 %), both are out most of the time.
  const std::string roomy =
      ", outlier_detection: {consecutive_5xx: 5, base_ejection_time: 30s, "
      "max_ejection_percent: 50}";
  CHECK(cart_errors(bad_pod_yaml("requests", two, roomy), 30, 120) < 0.01);
}

TEST_CASE("outlier detection and a fault's mode are checked where they are written",
          "[requests][outlier]") {
  std::string all;
  for (const Diagnostic& d : scenario_problems(R"(name: t
duration: 1h
services: [{name: a}, {name: b}]
dependencies:
  - {caller: a, callee: b, outlier_detection: {consecutive_5xx: 0, base_ejection_time: 0s}}
faults:
  - {kind: error, target: {caller: a, callee: b}, mode: one, start: 0s, duration: 1m}
  - {kind: latency, target: {service: b}, fixedDelay: 1s, mode: fixed, start: 0s, duration: 1m}
)"))
    all += d.format() + "\n";
  INFO(all);
  CHECK_THAT(all, Contains("test.yaml:5:65: 'consecutive_5xx' must be in [1, 1000000], got 0"));
  CHECK_THAT(all, Contains("test.yaml:5:88: 'base_ejection_time' must be > 0"));
  CHECK_THAT(all, Contains("test.yaml:7:27: 'mode' picks replicas of a service"));
  CHECK_THAT(all, Contains("test.yaml:8:5: missing required key 'value'"));
}

TEST_CASE("each outlier ejection is in the change log", "[requests][outlier]") {
  // The bad pod gets every fourth call, 50 a second: 5 errors in a row take 0.1 s, so it is
  // ejected just after 1m (for 30 s), just after it comes back at 1m30s (for 1m), at 2m30s
  // (for 1m30s), at 4m (for 2m), ...
  Simulation simulation(
      scenario_from(bad_pod_yaml("requests", "kind: error, mode: one",
                                 ", outlier_detection: {consecutive_5xx: 5, "
                                 "base_ejection_time: 30s}")),
      7);
  simulation.run_ticks(36);  // 6 minutes
  std::vector<ChangeEvent> ejections;
  for (const ChangeEvent& event : simulation.world().changes())
    if (event.kind == "outlier-ejection") ejections.push_back(event);
  REQUIRE(ejections.size() == 4);
  const double starts[] = {60, 90, 150, 240};
  const char* lengths[] = {"out for 30s", "out for 1m", "out for 1m30s", "out for 2m"};
  for (int i = 0; i < 4; ++i) {
    INFO("ejection " << i);
    CHECK(to_seconds(ejections[i].time) == Approx(starts[i]).margin(0.5));
    CHECK(ejections[i].target == "frontend->cart");
    CHECK(ejections[i].from.rfind("replica ", 0) == 0);
    CHECK(ejections[i].to == lengths[i]);
  }
  // The world without the fault ejects nothing: only the real world logs.
  CHECK(simulation.incidents().size() == 1);
}
