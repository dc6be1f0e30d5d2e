// A traffic source's rate replayed from a CSV file (`traffic[].replay`): the rate follows
// the file's rows in both worlds (the fluid model sends it, the request level draws Poisson
// arrivals at it), `base_rps` outside the recording, `repeat` starts it over, and bad files
// and values are reported where they are.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dosim/engine/simulation.h"
#include "engine/world.h"
#include "simulation_test_support.h"

using Catch::Matchers::Contains;
using namespace dosim;
using namespace dosim::testing;

namespace {

namespace fs = std::filesystem;

std::string write_csv(const std::string& name, const std::string& bytes) {
  return testing::write_whole_file(fs::path(DOSIM_TEST_TMP) / "recorded-traffic" / name, bytes);
}

// Per-minute rates: 100, 300, 50 requests/s from minute 0 to 3 (one step: a minute each).
std::string rates_csv() {
  return write_csv("rates.csv",
                   "timestamp,rps\n2024-03-01 00:00,100\n2024-03-01 00:01,300\n"
                   "2024-03-01 00:02,50\n");
}

std::string scenario_yaml(const std::string& mode, const std::string& replay) {
  return "name: recorded\nduration: 8m\ntick: 10s\nmode: " + mode +
         "\ndetectors: []\n"
         "services:\n"
         "  - {name: web, replicas: 4, workers: 20, capacity_rps: 4000, base_latency: 5ms}\n"
         "traffic:\n"
         "  - {name: recorded, entry: web, " +
         replay + "}\n";
}

// Mean arrivals per second at `web` over each simulated minute.
std::vector<double> per_minute(const std::string& yaml) {
  Simulation simulation(scenario_from(yaml), 4);
  std::vector<double> minutes(8, 0.0);
  for (int tick = 0; tick < 48; ++tick) {
    simulation.run_ticks(1);
    minutes[tick / 6] += simulation.world().outcome().arrivals[0] / 6;
  }
  return minutes;
}

}  // namespace

TEST_CASE("a recorded rate drives a traffic source, then base_rps", "[traffic][replay]") {
  const std::string replay = "base_rps: 20, replay: {file: " + rates_csv() + ", column: rps}";
  const std::vector<double> fluid = per_minute(scenario_yaml("fluid", replay));
  const std::vector<double> expected = {100, 300, 50, 20, 20, 20, 20, 20};
  for (std::size_t m = 0; m < expected.size(); ++m) {
    INFO("minute " << m);
    CHECK(fluid[m] == Approx(expected[m]));  // noise is 0 by default with replay
  }
  // At request level, Poisson arrivals at that rate: a minute's mean within 4 sigma.
  const std::vector<double> requests = per_minute(scenario_yaml("requests", replay));
  int exact = 0;
  for (std::size_t m = 0; m < expected.size(); ++m) {
    INFO("minute " << m);
    CHECK(requests[m] == Approx(expected[m]).margin(4 * std::sqrt(expected[m] / 60)));
    exact += requests[m] == Approx(expected[m]).margin(1e-9) ? 1 : 0;
  }
  CHECK(exact < 4);  // drawn, not copied
}

TEST_CASE("a recorded rate repeats, starts late and scales", "[traffic][replay]") {
  const std::string file = rates_csv();
  const std::vector<double> repeated =
      per_minute(scenario_yaml("fluid", "replay: {file: " + file + ", repeat: true}"));
  const std::vector<double> late = per_minute(
      scenario_yaml("fluid", "replay: {file: " + file + ", start: 2m, scale: 0.5}"));
  const std::vector<double> repeats = {100, 300, 50, 100, 300, 50, 100, 300};
  const std::vector<double> starts_late = {0, 0, 50, 150, 25, 0, 0, 0};
  for (std::size_t m = 0; m < repeats.size(); ++m) {
    INFO("minute " << m);
    CHECK(repeated[m] == Approx(repeats[m]));
    CHECK(late[m] == Approx(starts_late[m]).margin(1e-9));
  }
}

TEST_CASE("a negative scale of a recorded rate is said once, at it", "[traffic][replay]") {
  std::string rows = "time,value\n";
  for (int i = 0; i < 150; ++i) rows += std::to_string(60 * i) + "," + std::to_string(i + 1) + "\n";
  const std::string file = write_csv("scaled.csv", rows);
  const std::string yaml =
      "name: t\nduration: 1h\nservices: [{name: web}]\ntraffic:\n"
      "  - {name: a, entry: web, replay: {file: " +
      file + ", scale: -1}}\n";
  const std::vector<Diagnostic> problems = scenario_problems(yaml);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].format() == "test.yaml:5:" + std::to_string(51 + file.size()) +
                                    ": 'scale' of a recorded rate must be >= 0, got -1");
}

TEST_CASE("a file's negative rates are said as its other bad rows, the first 100",
          "[traffic][replay]") {
  std::string rows = "time,value\n";
  for (int i = 0; i < 150; ++i)
    rows += std::to_string(60 * i) + ",-" + std::to_string(i + 1) + "\n";
  const std::string file = write_csv("negatives.csv", rows);
  const std::string yaml =
      "name: t\nduration: 1h\nservices: [{name: web}]\ntraffic:\n"
      "  - {name: a, entry: web, replay: {file: " +
      file + "}}\n";
  const std::vector<Diagnostic> problems = scenario_problems(yaml);
  REQUIRE(problems.size() == 101);
  CHECK(problems[100].format() == file + ":102:6: and 50 more bad rows from here");
}

TEST_CASE("a recorded rate's problems are reported where they are", "[traffic][replay]") {
  const std::string negative = write_csv("negative.csv", "time,value\n0,1\n60,-5\n");
  const std::string yaml = "name: t\nduration: 1h\nservices: [{name: web}]\ntraffic:\n"
                           "  - {name: a, entry: web, daily: {}, replay: {file: " +
                           negative +
                           "}}\n"  // line 5
                           "  - {name: b, entry: web, replay: {file: missing.csv, repeat: 2}}\n";
  std::string all;
  for (const Diagnostic& d : scenario_problems(yaml)) all += d.format() + "\n";
  INFO(all);
  CHECK_THAT(all, Contains("test.yaml:5:27: 'daily' does not go with 'replay'"));
  // At the value's field, not the row's start.
  CHECK_THAT(all, Contains(negative + ":3:4: a rate is >= 0 requests/s, got -5\n"));
  CHECK_THAT(all, Contains("test.yaml:6:") && Contains("'repeat' must be true or false"));
  CHECK_THAT(all, Contains("missing.csv"));
}
