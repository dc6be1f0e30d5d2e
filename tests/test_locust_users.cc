// Locust users at request level (engine/request_world.h): each user sends a request, waits
// for its answer and then its wait_time, so a slower system gets fewer requests (a closed
// loop); the fluid model closes the loop on the mean answer time of the tick before
// (engine/traffic.h). Rates worked by hand.
#include <catch2/catch.hpp>
#include <string>

#include "dosim/engine/simulation.h"
#include "engine/world.h"
#include "simulation_test_support.h"

using namespace dosim;
using namespace dosim::testing;

namespace {

// Arrivals per second at service 0, averaged over ticks [from, to) (10 s ticks), running
// the simulation to the end of tick `to`.
double mean_arrivals(Simulation& simulation, std::int64_t from, std::int64_t to) {
  double sum = 0;
  for (std::int64_t tick = simulation.now() / seconds(10.0); tick < to; ++tick) {
    simulation.run_ticks(1);
    if (tick >= from) sum += simulation.world().outcome().arrivals[0];
  }
  return sum / static_cast<double>(to - from);
}

std::string users_yaml(const std::string& mode, const std::string& locust,
                       const std::string& faults = "") {
  return "name: users\nduration: 20m\ntick: 10s\nmode: " + mode +
         "\ndetectors: []\n"
         "services:\n"
         "  - {name: web, replicas: 4, workers: 50, capacity_rps: 2500, base_latency: 20ms,\n"
         "     service_time: deterministic}\n"
         "traffic:\n"
         "  - {name: shoppers, entry: web, locust: " +
         locust + "}\n" + faults;
}

}  // namespace

TEST_CASE("Locust users at constant throughput send their rate until answers get slower",
          "[requests][locust]") {
  // 60 users of one request per second each: 60 requests/s while an answer takes 20 ms.
  // A 4 s delay on every request from 5 to 10 minutes: a user then sends one request every
  // 4.02 s, 60 / 4.02 = 14.9 requests/s, in both modes.
  const std::string locust = "{users: 60, spawn_rate: 100, rps_per_user: 1}";
  const std::string slow =
      "faults:\n  - {name: slow, kind: latency, target: {service: web}, fixedDelay: 4s, "
      "start: 5m, duration: 5m}\n";
  Simulation requests(scenario_from(users_yaml("requests", locust, slow)), 1);
  CHECK(mean_arrivals(requests, 6, 30) == Approx(60).epsilon(0.01));
  CHECK(mean_arrivals(requests, 32, 60) == Approx(60 / 4.02).epsilon(0.03));
  CHECK(mean_arrivals(requests, 66, 120) == Approx(60).epsilon(0.01));  // recovered

  Simulation fluid(scenario_from(users_yaml("fluid", locust, slow)), 1);
  CHECK(mean_arrivals(fluid, 6, 30) == Approx(60).epsilon(0.01));
  CHECK(mean_arrivals(fluid, 32, 60) == Approx(60 / 4.02).epsilon(0.01));
  CHECK(mean_arrivals(fluid, 66, 120) == Approx(60).epsilon(0.01));
}

TEST_CASE("Locust users with think time send users / (think + response) requests per second",
          "[requests][locust]") {
  // between(1 s, 3 s): a mean wait of 2 s after each 20 ms answer, 100 users:
  // 100 / 2.02 = 49.5 requests/s, in both modes.
  const std::string locust = "{users: 100, spawn_rate: 100, wait_time: {between: [1s, 3s]}}";
  Simulation requests(scenario_from(users_yaml("requests", locust)), 3);
  CHECK(mean_arrivals(requests, 6, 120) == Approx(100 / 2.02).epsilon(0.02));
  Simulation fluid(scenario_from(users_yaml("fluid", locust)), 3);
  CHECK(mean_arrivals(fluid, 6, 120) == Approx(100 / 2.02).epsilon(0.002));

  // constant(0.5 s): 100 / 0.52 = 192 requests/s; constant_pacing(2 s) as constant
  // throughput 0.5: 50.
  Simulation constant(
      scenario_from(users_yaml("requests", "{users: 100, wait_time: {constant: 500ms}}")), 3);
  CHECK(mean_arrivals(constant, 12, 120) == Approx(100 / 0.52).epsilon(0.01));
  Simulation pacing(
      scenario_from(users_yaml("requests", "{users: 100, wait_time: {constant_pacing: 2s}}")), 3);
  CHECK(mean_arrivals(pacing, 12, 120) == Approx(50).epsilon(0.01));
}

TEST_CASE("Locust users spawn at spawn_rate, and surge users stop when the surge ends",
          "[requests][locust]") {
  // 20 users at 1 user/s: 10 more per 10 s tick; a surge of 40 users from 5 to 10 minutes.
  const std::string locust =
      "{users: 20, spawn_rate: 1, rps_per_user: 2, surges: [{from: 5m, to: 10m, users: 40}]}";
  Simulation simulation(scenario_from(users_yaml("requests", locust)), 2);
  simulation.run_ticks(1);
  // The first tick's 10 users start at random instants within it, then send 2 requests/s:
  // on average 10 users x 2 requests/s x half the tick, 10 requests/s (at most 20).
  CHECK(simulation.world().outcome().arrivals[0] > 2);
  CHECK(simulation.world().outcome().arrivals[0] < 18);
  CHECK(mean_arrivals(simulation, 6, 30) == Approx(40).epsilon(0.01));
  CHECK(mean_arrivals(simulation, 36, 60) == Approx(120).epsilon(0.01));
  CHECK(mean_arrivals(simulation, 66, 120) == Approx(40).epsilon(0.01));
}

TEST_CASE("Locust users at request level are deterministic and counterfactual-exact",
          "[requests][locust]") {
  const std::string yaml =
      users_yaml("requests", "{users: 30, wait_time: {between: [0s, 2s]}}",
                 "faults:\n  - {name: slow, kind: latency, target: {service: web}, "
                 "fixedDelay: 1s, start: 5m, duration: 1m}\n");
  Simulation a(scenario_from(yaml), 9), b(scenario_from(yaml), 9);
  for (int tick = 0; tick < 60; ++tick) {
    a.run_ticks(1);
    b.run_ticks(1);
    REQUIRE(a.world().outcome().arrivals[0] == b.world().outcome().arrivals[0]);
    REQUIRE(a.world().outcome().p99[0] == b.world().outcome().p99[0]);
  }
  // The fault slowed the real users down; the world without it kept their pace.
  CHECK(a.incidents().size() == 1);
}
