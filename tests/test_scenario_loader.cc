// The scenario loader: a valid file becomes a typed Scenario with defaults applied and units
// converted; every problem in a bad file is reported, all at once, at its line and column.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dosim/engine/scenario_loader.h"

namespace dosim {
namespace {

namespace fs = std::filesystem;

// Lines 1-6 of most test documents: three services, web, api and db.
const std::string kHead =
    "name: t\n"
    "duration: 1h\n"
    "services:\n"
    "  - name: web\n"
    "  - name: api\n"
    "  - name: db\n";

std::string joined(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const Diagnostic& d : diagnostics) text += d.format() + "\n";
  return text;
}

// The problems that loading `yaml` reports (none when it loads).
std::vector<Diagnostic> problems(const std::string& yaml) {
  try {
    parse_scenario(yaml, "test.yaml");
  } catch (const InputError& error) {
    return error.diagnostics();
  }
  return {};
}

// The one problem that loading `yaml` reports.
Diagnostic single_problem(const std::string& yaml) {
  std::vector<Diagnostic> found = problems(yaml);
  INFO(joined(found));
  REQUIRE(found.size() == 1);
  return found.front();
}

std::string data_file(const std::string& name) {
  return std::string(DOSIM_SOURCE_DIR) + "/tests/data/scenarios/" + name;
}

// Writes `bytes` to a fresh file under DOSIM_TEST_TMP and returns its path.
std::string temp_file(const std::string& name, const std::string& bytes) {
  const fs::path dir = fs::path(DOSIM_TEST_TMP) / "scenario_loader";
  fs::create_directories(dir);
  const fs::path path = dir / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

// The problems that loading the file at `path` reports.
std::vector<Diagnostic> file_problems(const std::string& path) {
  try {
    load_scenario_file(path);
  } catch (const InputError& error) {
    return error.diagnostics();
  }
  return {};
}

}  // namespace

// --- Valid scenarios ------------------------------------------------------------------------

TEST_CASE("a minimal scenario loads with every default applied", "[loader]") {
  const std::string path = data_file("minimal.yaml");
  const Scenario s = load_scenario_file(path);
  CHECK(s.file == path);
  CHECK(s.name == "minimal");
  CHECK(s.description.empty());
  CHECK(s.duration == 10 * kMinute);
  CHECK(s.tick == kSecond);
  CHECK(s.record_interval == kSecond);
  CHECK(s.seed == 1);
  CHECK(s.tick_count() == 600);
  REQUIRE(s.services.size() == 1);
  const ServiceSpec& web = s.services[0];
  CHECK(web.name == "web");
  CHECK(web.replicas == 1);
  CHECK(web.capacity_rps == 100.0);
  CHECK(web.base_latency == 10 * kMillisecond);
  CHECK(web.cpu_baseline == 0.05);
  CHECK(web.memory_baseline == 0.30);
  CHECK(web.region.empty());
  CHECK(web.endpoints.empty());
  CHECK(web.pos.line == 5);
  CHECK(web.pos.column == 5);
  CHECK(s.dependencies.empty());
  CHECK(s.traffic.empty());
  CHECK(s.faults.empty());
}

TEST_CASE("the loaded scenario keeps the exact file text", "[loader]") {
  const std::string path = data_file("full.yaml");
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(load_scenario_file(path).yaml_text == text);
  CHECK(parse_scenario(text, "other-name.yaml").file == "other-name.yaml");
}

TEST_CASE("a scenario using every key loads with units converted", "[loader]") {
  const Scenario s = load_scenario_file(data_file("full.yaml"));
  CHECK(s.description == "Two regions, endpoints, every traffic shape and every fault kind.");
  CHECK(s.duration == 7 * kDay);
  CHECK(s.tick == 10 * kSecond);
  CHECK(s.record_interval == kMinute);
  CHECK(s.seed == 42);
  REQUIRE(s.regions.size() == 2);
  CHECK(s.regions[0].zones == std::vector<std::string>{"eu-west-a", "eu-west-b"});

  REQUIRE(s.services.size() == 3);
  const ServiceSpec& frontend = s.services[0];
  CHECK(frontend.replicas == 3);
  CHECK(frontend.capacity_rps == 250.0);
  CHECK(frontend.base_latency == 20 * kMillisecond);
  CHECK(frontend.cpu_baseline == 0.1);
  CHECK(frontend.memory_baseline == 0.4);
  CHECK(frontend.region == "eu-west");
  CHECK(frontend.zone == "eu-west-a");
  const ServiceSpec& checkout = s.services[1];
  CHECK(checkout.region == "us-east");  // inferred from the zone
  REQUIRE(checkout.endpoints.size() == 2);
  CHECK(checkout.endpoints[0].name == "/pay");
  CHECK(checkout.endpoints[0].weight == Approx(0.75));
  CHECK(checkout.endpoints[0].latency_factor == 2.0);
  CHECK(checkout.endpoints[1].weight == Approx(0.25));
  CHECK(checkout.endpoints[1].latency_factor == 1.0);

  REQUIRE(s.dependencies.size() == 2);
  const DependencySpec& call = s.dependencies[0];
  CHECK(call.caller == 0);
  CHECK(call.callee == 1);
  CHECK(call.calls_per_request == 0.5);
  CHECK(call.timeout == 2 * kSecond);
  CHECK(call.retries == 2);
  CHECK(call.pos.line == 32);
  CHECK(s.dependencies[1].calls_per_request == 1.0);
  CHECK(s.dependencies[1].timeout == 0);
  CHECK(s.dependencies[1].retries == 0);

  REQUIRE(s.traffic.size() == 2);
  const TrafficSpec& shoppers = s.traffic[0];
  CHECK(shoppers.name == "shoppers");
  CHECK(shoppers.entry == std::vector<int>{0, 1});
  CHECK(shoppers.entry_weights[0] == Approx(0.75));
  CHECK(shoppers.entry_weights[1] == Approx(0.25));
  CHECK(shoppers.base_rps == 120.0);
  CHECK(shoppers.noise == 0.1);
  REQUIRE(shoppers.daily);
  CHECK(shoppers.daily->amplitude == 0.6);
  CHECK(shoppers.daily->peak_hour == 20.0);
  REQUIRE(shoppers.weekly);
  CHECK(shoppers.weekly->weekend_factor == 1.4);
  CHECK(shoppers.weekly->start_weekday == 4);
  CHECK_FALSE(shoppers.locust);
  const TrafficSpec& swarm = s.traffic[1];
  CHECK(swarm.name == "traffic-1");
  CHECK(swarm.entry_weights == std::vector<double>{1.0});
  CHECK(swarm.noise == 0.05);
  REQUIRE(swarm.locust);
  CHECK(swarm.locust->users == 50);
  CHECK(swarm.locust->spawn_rate == 5);
  CHECK(swarm.locust->rps_per_user == 0.5);
  REQUIRE(swarm.locust->surges.size() == 1);
  CHECK(swarm.locust->surges[0].from == kHour);
  CHECK(swarm.locust->surges[0].to == 90 * kMinute);
  CHECK(swarm.locust->surges[0].users == 200);

  REQUIRE(s.faults.size() == 9);
  const FaultSpec& slow = s.faults[0];
  CHECK(slow.name == "slow-db");
  CHECK(slow.kind == FaultKind::kLatency);
  CHECK(slow.target.service == 2);
  CHECK(slow.target.endpoint == -1);
  CHECK_FALSE(slow.target.is_edge());
  CHECK(slow.start == 2 * kDay);
  CHECK(slow.duration == 30 * kMinute);
  CHECK(slow.fraction == 0.5);
  CHECK(slow.fixed_delay == 250 * kMillisecond);
  CHECK(slow.pos.line == 54);
  CHECK(slow.pos.column == 5);
  const FaultSpec& abort = s.faults[1];
  CHECK(abort.name == "fault-1");
  CHECK(abort.kind == FaultKind::kError);
  CHECK(abort.target.service == 1);
  CHECK(abort.target.endpoint == 0);
  CHECK(abort.fraction == 1.0);
  CHECK(abort.http_status == 500);
  const FaultSpec& edge = s.faults[2];
  CHECK(edge.target.is_edge());
  CHECK(edge.target.dependency == 0);
  CHECK(edge.jitter == 200 * kMillisecond);
  const FaultSpec& stress = s.faults[3];
  CHECK(stress.kind == FaultKind::kCpuStress);
  CHECK(stress.cpu_load == 0.75);
  const FaultSpec& loss = s.faults[4];
  CHECK(loss.kind == FaultKind::kPacketLoss);
  CHECK(loss.fraction == Approx(0.1));
  CHECK(loss.target.dependency == 0);
}

TEST_CASE("every bundled scenario and valid test scenario loads", "[loader]") {
  for (const char* folder : {"/scenarios", "/tests/data/scenarios"}) {
    for (const auto& entry : fs::directory_iterator(std::string(DOSIM_SOURCE_DIR) + folder)) {
      if (entry.path().extension() != ".yaml") continue;
      INFO(entry.path().string());
      try {
        CHECK_FALSE(load_scenario_file(entry.path().string()).services.empty());
      } catch (const InputError& error) {
        FAIL(error.what());
      }
    }
  }
}

TEST_CASE("the seed is read as given", "[loader]") {
  CHECK(parse_scenario("name: t\nduration: 1h\nseed: 123456789012\nservices: [{name: a}]\n", "t")
            .seed == 123456789012u);
  const Diagnostic d = single_problem("name: t\nduration: 1h\nseed: -3\nservices: [{name: a}]\n");
  CHECK(d.line == 3);
  CHECK(d.column == 7);
  CHECK(d.message == "'seed' must be in [0, 1000000000000000000], got -3");
}

TEST_CASE("defaults of the optional traffic shapes follow the format", "[loader]") {
  const Scenario s = parse_scenario(kHead +
                                        "traffic:\n"
                                        "  - entry: [web, api]\n"
                                        "    base_rps: 10\n"
                                        "    daily: {}\n"
                                        "    weekly: {start_weekday: 6}\n"
                                        "    locust: {}\n",
                                    "t.yaml");
  const TrafficSpec& t = s.traffic.at(0);
  CHECK(t.name == "traffic-0");
  CHECK(t.entry_weights == std::vector<double>{0.5, 0.5});
  CHECK(t.daily->amplitude == 0.5);
  CHECK(t.daily->peak_hour == 14.0);
  CHECK(t.weekly->weekend_factor == 0.7);
  CHECK(t.weekly->start_weekday == 6);
  CHECK(t.locust->users == 0);
  CHECK(t.locust->spawn_rate == 10);
  CHECK(t.locust->rps_per_user == 1);
}

TEST_CASE("durations may be bare numbers of seconds", "[loader]") {
  const Scenario s = parse_scenario(
      "name: t\nduration: 3600\ntick: 0.5\nservices: [{name: web, base_latency: 0.002}]\n", "t");
  CHECK(s.duration == kHour);
  CHECK(s.tick == 500 * kMillisecond);
  CHECK(s.services[0].base_latency == 2 * kMillisecond);
}

// --- Problems with the document's shape -----------------------------------------------------

TEST_CASE("a YAML syntax error is reported at its line and column", "[loader]") {
  const Diagnostic d = single_problem(
      "name: t\n"
      "services: [a, b\n"
      "duration: 1h\n");
  CHECK(d.file == "test.yaml");
  CHECK(d.line == 3);
  CHECK(d.column == 9);
  CHECK_THAT(d.message, Catch::StartsWith("YAML syntax error"));
}

TEST_CASE("an unknown key is reported at the key with a did-you-mean", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - name: cache\n    replica: 3\n");
  CHECK(d.line == 8);
  CHECK(d.column == 5);
  CHECK(d.message == "unknown key 'replica' in service; did you mean 'replicas'?");
  CHECK(d.format() == "test.yaml:8:5: unknown key 'replica' in service; did you mean 'replicas'?");
}

TEST_CASE("an unknown key with no close match gets no suggestion", "[loader]") {
  const Diagnostic d = single_problem(kHead + "colour: blue\n");
  CHECK(d.line == 7);
  CHECK(d.column == 1);
  CHECK(d.message == "unknown key 'colour' in scenario");
}

TEST_CASE("a duplicate key in a mapping is reported at its second occurrence", "[loader]") {
  const Diagnostic d =
      single_problem(kHead + "  - name: cache\n    replicas: 1\n    replicas: 2\n");
  CHECK(d.line == 9);
  CHECK(d.column == 5);
  CHECK(d.message == "duplicate key 'replicas' in service (first at line 8)");
}

TEST_CASE("a top level that is not a mapping is reported", "[loader]") {
  const Diagnostic d = single_problem("- name: web\n- name: api\n");
  CHECK(d.line == 1);
  CHECK(d.column == 1);
  CHECK_THAT(d.message, Catch::StartsWith("the top level must be a mapping"));
  CHECK_THAT(d.message, Catch::EndsWith("got a list"));
}

TEST_CASE("a list item that is not a mapping is reported", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - cache\n");
  CHECK(d.line == 7);
  CHECK(d.column == 5);
  CHECK(d.message == "expected a mapping for service, got 'cache'");
}

TEST_CASE("a missing required key is reported at its parent mapping", "[loader]") {
  const Diagnostic d = single_problem(kHead + "dependencies:\n  - caller: web\n");
  CHECK(d.line == 8);
  CHECK(d.column == 5);
  CHECK(d.message == "missing required key 'callee' in dependency");
}

TEST_CASE("missing top-level keys are each reported at the top mapping", "[loader]") {
  const std::vector<Diagnostic> found = problems("description: nothing else\n");
  INFO(joined(found));
  REQUIRE(found.size() == 3);
  for (const Diagnostic& d : found) {
    CHECK(d.line == 1);
    CHECK(d.column == 1);
  }
  CHECK(found[0].message == "missing required key 'name' in scenario");
  CHECK(found[1].message == "missing required key 'duration' in scenario");
  CHECK(found[2].message == "missing required key 'services' in scenario");
}

TEST_CASE("an empty services list is reported", "[loader]") {
  const Diagnostic d = single_problem("name: t\nduration: 1h\nservices: []\n");
  CHECK(d.line == 3);
  CHECK(d.column == 11);
  CHECK(d.message == "'services' must list at least one service");
}

// --- Wrong types and values out of range ----------------------------------------------------

TEST_CASE("a wrong type is reported at the value", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - name: cache\n    capacity_rps: abc\n");
  CHECK(d.line == 8);
  CHECK(d.column == 19);
  CHECK(d.message == "expected a number for 'capacity_rps', got 'abc'");
}

TEST_CASE("a list where a number belongs is reported as a wrong type", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - name: cache\n    replicas: [1, 2]\n");
  CHECK(d.line == 8);
  CHECK(d.column == 15);
  CHECK(d.message == "expected an integer for 'replicas', got a list");
}

TEST_CASE("an empty value is reported at its key", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - name: cache\n    capacity_rps:\n");
  CHECK(d.line == 8);
  CHECK(d.column == 5);
  CHECK(d.message == "expected a number for 'capacity_rps', got nothing");
}

TEST_CASE("a fractional replica count is not an integer", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - name: cache\n    replicas: 1.5\n");
  CHECK(d.line == 8);
  CHECK(d.column == 15);
  CHECK(d.message == "expected an integer for 'replicas', got '1.5'");
}

TEST_CASE("negative replicas are out of range", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - name: cache\n    replicas: -1\n");
  CHECK(d.line == 8);
  CHECK(d.column == 15);
  CHECK(d.message == "'replicas' must be in [0, 1000000], got -1");
}

TEST_CASE("an absurd replica count is out of range", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - name: cache\n    replicas: 2000000\n");
  CHECK(d.line == 8);
  CHECK_THAT(d.message, Catch::StartsWith("'replicas' must be in [0, 1000000]"));
  const Diagnostic huge =
      single_problem(kHead + "  - name: cache\n    replicas: 99999999999999999999999\n");
  CHECK_THAT(huge.message, Catch::StartsWith("'replicas' must be in [0, 1000000]"));
}

TEST_CASE("zero capacity is out of range", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - name: cache\n    capacity_rps: 0\n");
  CHECK(d.line == 8);
  CHECK(d.column == 19);
  CHECK(d.message == "'capacity_rps' must be > 0, got 0");
}

TEST_CASE("NaN and infinite numbers are rejected", "[loader]") {
  const std::vector<Diagnostic> found =
      problems(kHead +
               "  - name: a\n    capacity_rps: nan\n  - name: b\n    cpu_baseline: inf\n"
               "  - name: c\n    memory_baseline: .inf\n  - name: d\n    capacity_rps: 1e999\n");
  INFO(joined(found));
  REQUIRE(found.size() == 4);
  CHECK(found[0].line == 8);
  CHECK(found[0].message == "expected a finite number for 'capacity_rps', got 'nan'");
  CHECK(found[1].line == 10);
  CHECK(found[1].message == "expected a finite number for 'cpu_baseline', got 'inf'");
  CHECK(found[2].line == 12);
  CHECK(found[2].message == "expected a number for 'memory_baseline', got '.inf'");
  CHECK(found[3].line == 14);
  CHECK(found[3].message == "expected a finite number for 'capacity_rps', got '1e999'");
}

TEST_CASE("a percent above 100 is out of range", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "faults:\n"
                                      "  - kind: error\n"
                                      "    target: {service: db}\n"
                                      "    start: 10m\n"
                                      "    duration: 5m\n"
                                      "    percent: 150\n");
  CHECK(d.line == 12);
  CHECK(d.column == 14);
  CHECK(d.message == "'percent' must be in [0, 100], got 150");
}

TEST_CASE("a malformed duration is reported", "[loader]") {
  const Diagnostic d = single_problem("name: t\nduration: 5 parsecs\nservices: [{name: web}]\n");
  CHECK(d.line == 2);
  CHECK(d.column == 11);
  CHECK(d.message ==
        "expected a duration (like 250ms, 90s, 1h30m) for 'duration', got '5 parsecs'");
}

TEST_CASE("a negative duration is out of range", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "dependencies:\n"
                                      "  - {caller: web, callee: api, timeout: -5s}\n");
  CHECK(d.line == 8);
  CHECK(d.column == 41);
  CHECK(d.message == "'timeout' must be >= 0, got -5s");
}

TEST_CASE("a zero scenario duration is out of range", "[loader]") {
  const Diagnostic d = single_problem("name: t\nduration: 0s\nservices: [{name: web}]\n");
  CHECK(d.line == 2);
  CHECK(d.message == "'duration' must be > 0, got 0s");
}

TEST_CASE("a run of more than 1e10 ticks is rejected", "[loader]") {
  const Diagnostic d =
      single_problem("name: t\nduration: 1000w\ntick: 1ms\nservices: [{name: web}]\n");
  CHECK(d.line == 2);
  CHECK(d.column == 11);
  CHECK_THAT(d.message, Catch::Contains("604800000000 ticks; at most 10000000000"));
}

TEST_CASE("a tick longer than the scenario is rejected", "[loader]") {
  const Diagnostic d = single_problem("name: t\nduration: 1m\ntick: 5m\nservices: [{name: web}]\n");
  CHECK(d.line == 3);
  CHECK(d.column == 7);
  CHECK(d.message == "'tick' (5m) must not exceed 'duration' (1m)");
}

TEST_CASE("a record interval must be a multiple of the tick", "[loader]") {
  const Diagnostic d =
      single_problem("name: t\nduration: 1h\ntick: 10s\nrecord: 15s\nservices: [{name: web}]\n");
  CHECK(d.line == 4);
  CHECK(d.column == 9);
  CHECK(d.message == "'record' (15s) must be a multiple of 'tick' (10s)");
}

TEST_CASE("retries above 10 are out of range", "[loader]") {
  const Diagnostic d =
      single_problem(kHead + "dependencies:\n  - {caller: web, callee: api, retries: 11}\n");
  CHECK(d.line == 8);
  CHECK(d.message == "'retries' must be in [0, 10], got 11");
}

TEST_CASE("an unknown weekday is reported with a did-you-mean", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "traffic:\n"
                                      "  - entry: web\n"
                                      "    base_rps: 1\n"
                                      "    weekly: {start_weekday: mondya}\n");
  CHECK(d.line == 10);
  CHECK(d.column == 29);
  CHECK(d.message ==
        "expected a weekday (monday..sunday or 0..6) for 'start_weekday', got 'mondya'; did you "
        "mean 'monday'?");
}

TEST_CASE("a surge must end after it starts", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "traffic:\n"
                                      "  - entry: web\n"
                                      "    locust:\n"
                                      "      surges: [{from: 10m, to: 5m, users: 3}]\n");
  CHECK(d.line == 10);
  CHECK(d.column == 32);
  CHECK(d.message == "'to' (5m) must be after 'from' (10m)");
}

TEST_CASE("traffic needs base_rps unless it has a locust shape", "[loader]") {
  const Diagnostic d = single_problem(kHead + "traffic:\n  - entry: web\n");
  CHECK(d.line == 8);
  CHECK(d.column == 5);
  CHECK(d.message == "missing required key 'base_rps' in traffic");
  CHECK(problems(kHead + "traffic:\n  - entry: web\n    locust: {users: 5}\n").empty());
}

// --- Faults ---------------------------------------------------------------------------------

TEST_CASE("a latency fault needs fixedDelay and may not set httpStatus", "[loader]") {
  const std::vector<Diagnostic> found = problems(kHead +
                                                 "faults:\n"
                                                 "  - kind: latency\n"
                                                 "    target: {service: db}\n"
                                                 "    start: 10m\n"
                                                 "    duration: 5m\n"
                                                 "    httpStatus: 500\n");
  INFO(joined(found));
  REQUIRE(found.size() == 2);
  CHECK(found[0].line == 8);
  CHECK(found[0].column == 5);
  CHECK(found[0].message == "missing required key 'fixedDelay' in fault");
  CHECK(found[1].line == 12);
  CHECK(found[1].column == 5);
  CHECK(found[1].message == "'httpStatus' is only allowed in error faults");
}

TEST_CASE("an error fault may not set fixedDelay and needs an HTTP error status", "[loader]") {
  const std::vector<Diagnostic> found = problems(kHead +
                                                 "faults:\n"
                                                 "  - kind: error\n"
                                                 "    target: {service: db}\n"
                                                 "    start: 10m\n"
                                                 "    duration: 5m\n"
                                                 "    fixedDelay: 1s\n"
                                                 "    httpStatus: 200\n");
  INFO(joined(found));
  REQUIRE(found.size() == 2);
  CHECK(found[0].line == 12);
  CHECK(found[0].message == "'fixedDelay' is only allowed in latency faults");
  CHECK(found[1].line == 13);
  CHECK(found[1].column == 17);
  CHECK(found[1].message == "'httpStatus' must be in [400, 599], got 200");
}

TEST_CASE("an unknown fault kind is reported with a did-you-mean", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "faults:\n"
                                      "  - kind: latncy\n"
                                      "    target: {service: db}\n"
                                      "    start: 10m\n"
                                      "    duration: 5m\n");
  CHECK(d.line == 8);
  CHECK(d.column == 11);
  CHECK(d.message ==
        "'kind' must be latency, error, cpu-stress, packet-loss, pod-kill, crash-loop, "
        "memory-leak, outage, partition or maintenance, got 'latncy'; did you mean 'latency'?");
}

TEST_CASE("a fault that starts after the scenario ends is rejected", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "faults:\n"
                                      "  - kind: error\n"
                                      "    target: {service: db}\n"
                                      "    start: 2h\n"
                                      "    duration: 5m\n");
  CHECK(d.line == 10);
  CHECK(d.column == 12);
  CHECK(d.message == "'start' (2h) must be before the end of the scenario (1h)");
}

TEST_CASE("unnamed faults and traffic are named by their index", "[loader]") {
  const Scenario s = parse_scenario(kHead +
                                        "traffic:\n"
                                        "  - {name: main, entry: web, base_rps: 1}\n"
                                        "  - {entry: api, base_rps: 1}\n"
                                        "faults:\n"
                                        "  - {kind: error, target: {service: db}, start: 1m, "
                                        "duration: 1m}\n"
                                        "  - {kind: error, target: {service: api}, start: 1m, "
                                        "duration: 1m, name: named}\n"
                                        "  - {kind: error, target: {service: web}, start: 1m, "
                                        "duration: 1m}\n",
                                    "t.yaml");
  CHECK(s.traffic[1].name == "traffic-1");
  CHECK(s.faults[0].name == "fault-0");
  CHECK(s.faults[1].name == "named");
  CHECK(s.faults[2].name == "fault-2");
}

TEST_CASE("a fault target is either a service or an edge", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "dependencies: [{caller: web, callee: api}]\n"
                                      "faults:\n"
                                      "  - kind: error\n"
                                      "    target: {service: web, caller: web, callee: api}\n"
                                      "    start: 1m\n"
                                      "    duration: 1m\n");
  CHECK(d.line == 10);
  CHECK(d.column == 13);
  CHECK_THAT(d.message, Catch::Contains("either {service[, endpoint]} or {caller, callee}"));
}

// --- References -----------------------------------------------------------------------------

TEST_CASE("an unknown service in a dependency is reported with a did-you-mean", "[loader]") {
  const Diagnostic d = single_problem(kHead + "dependencies:\n  - caller: web\n    callee: apu\n");
  CHECK(d.line == 9);
  CHECK(d.column == 13);
  CHECK(d.message == "unknown service 'apu'; did you mean 'api'?");
}

TEST_CASE("an unknown entry service is reported at its name", "[loader]") {
  const Diagnostic d =
      single_problem(kHead + "traffic:\n  - entry: {web: 2, dbb: 1}\n    base_rps: 5\n");
  CHECK(d.line == 8);
  CHECK(d.column == 21);
  CHECK(d.message == "unknown service 'dbb'; did you mean 'db'?");
}

TEST_CASE("an unknown region and a zone outside its region are reported", "[loader]") {
  const std::vector<Diagnostic> found = problems(
      "name: t\n"
      "duration: 1h\n"
      "regions:\n"
      "  - {name: eu, zones: [eu-a, eu-b]}\n"
      "  - {name: us, zones: [us-a]}\n"
      "services:\n"
      "  - {name: web, region: eu1}\n"
      "  - {name: api, region: eu, zone: us-a}\n"
      "  - {name: db, zone: eu-c}\n");
  INFO(joined(found));
  REQUIRE(found.size() == 3);
  CHECK(found[0].line == 7);
  CHECK(found[0].column == 25);
  CHECK(found[0].message == "unknown region 'eu1'; did you mean 'eu'?");
  CHECK(found[1].line == 8);
  CHECK(found[1].column == 35);
  CHECK(found[1].message == "zone 'us-a' is not in region 'eu'; did you mean 'eu-a'?");
  CHECK(found[2].line == 9);
  CHECK(found[2].column == 22);
  CHECK(found[2].message == "unknown zone 'eu-c'; did you mean 'eu-a'?");
}

TEST_CASE("a zone may belong to only one region", "[loader]") {
  const Diagnostic d = single_problem(
      "name: t\nduration: 1h\nregions:\n  - {name: eu, zones: [a]}\n  - {name: us, zones: [a]}\n"
      "services: [{name: web}]\n");
  CHECK(d.line == 5);
  CHECK(d.column == 24);
  CHECK_THAT(d.message, Catch::StartsWith("zone 'a' is already in region 'eu'"));
}

TEST_CASE("an unknown endpoint in a fault target is reported", "[loader]") {
  const Diagnostic d = single_problem(
      "name: t\nduration: 1h\n"
      "services:\n"
      "  - name: pay\n"
      "    endpoints: [{name: /charge}, {name: /refund}]\n"
      "faults:\n"
      "  - kind: error\n"
      "    target: {service: pay, endpoint: /chrage}\n"
      "    start: 1m\n"
      "    duration: 1m\n");
  CHECK(d.line == 8);
  CHECK(d.column == 38);
  CHECK(d.message == "unknown endpoint '/chrage' of service 'pay'; did you mean '/charge'?");
}

TEST_CASE("a fault on an undeclared edge is reported", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "dependencies: [{caller: web, callee: api}]\n"
                                      "faults:\n"
                                      "  - kind: error\n"
                                      "    target: {caller: web, callee: db}\n"
                                      "    start: 1m\n"
                                      "    duration: 1m\n");
  CHECK(d.line == 10);
  CHECK(d.column == 13);
  CHECK(d.message == "no dependency 'web -> db' is declared; did you mean 'web -> api'?");
}

// --- Names and the dependency graph ---------------------------------------------------------

TEST_CASE("duplicate service names are reported at the second name", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - name: api\n");
  CHECK(d.line == 7);
  CHECK(d.column == 11);
  CHECK(d.message == "duplicate service name 'api' (first at line 5)");
}

TEST_CASE("duplicate endpoint, fault and traffic names are reported", "[loader]") {
  const std::vector<Diagnostic> found =
      problems(kHead +
               "  - {name: pay, endpoints: [{name: /a}, {name: /a}]}\n"
               "traffic:\n"
               "  - {name: load, entry: web, base_rps: 1}\n"
               "  - {name: load, entry: web, base_rps: 1}\n"
               "faults:\n"
               "  - {name: f, kind: error, target: {service: db}, start: 1m, duration: 1m}\n"
               "  - {name: f, kind: error, target: {service: db}, start: 1m, duration: 1m}\n");
  INFO(joined(found));
  REQUIRE(found.size() == 3);
  CHECK(found[0].line == 7);
  CHECK(found[0].message == "duplicate endpoint '/a' in service 'pay'");
  CHECK(found[1].line == 10);
  CHECK(found[1].message == "duplicate traffic name 'load'");
  CHECK(found[2].line == 13);
  CHECK(found[2].message == "duplicate fault name 'f'");
}

TEST_CASE("a dependency cycle is named at one of its dependencies", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "dependencies:\n"
                                      "  - {caller: web, callee: api}\n"
                                      "  - {caller: api, callee: db}\n"
                                      "  - {caller: db, callee: web}\n");
  CHECK(d.line == 8);
  CHECK(d.column == 5);
  CHECK(d.message == "dependency cycle: web -> api -> db -> web");
}

TEST_CASE("two independent cycles are both named", "[loader]") {
  const std::vector<Diagnostic> found = problems(
      "name: t\nduration: 1h\nservices: [{name: a}, {name: b}, {name: c}, {name: d}]\n"
      "dependencies:\n"
      "  - {caller: a, callee: b}\n"
      "  - {caller: b, callee: a}\n"
      "  - {caller: c, callee: d}\n"
      "  - {caller: d, callee: c}\n");
  INFO(joined(found));
  REQUIRE(found.size() == 2);
  CHECK(found[0].message == "dependency cycle: a -> b -> a");
  CHECK(found[0].line == 5);
  CHECK(found[1].message == "dependency cycle: c -> d -> c");
  CHECK(found[1].line == 7);
}

TEST_CASE("a service depending on itself is reported", "[loader]") {
  const Diagnostic d = single_problem(kHead + "dependencies:\n  - {caller: api, callee: api}\n");
  CHECK(d.line == 8);
  CHECK(d.column == 5);
  CHECK(d.message == "service 'api' cannot depend on itself");
}

TEST_CASE("a dependency declared twice is reported", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "dependencies:\n"
                                      "  - {caller: web, callee: api}\n"
                                      "  - {caller: web, callee: api, retries: 1}\n");
  CHECK(d.line == 9);
  CHECK(d.column == 5);
  CHECK(d.message == "duplicate dependency 'web -> api' (first at line 8)");
}

TEST_CASE("every problem in a file is reported, in file order", "[loader]") {
  const std::vector<Diagnostic> found = problems(kHead +
                                                 "  - name: cache\n"
                                                 "    replica: 2\n"
                                                 "    capacity_rps: lots\n"
                                                 "dependencies:\n"
                                                 "  - {caller: web, callee: cahce}\n");
  INFO(joined(found));
  REQUIRE(found.size() == 3);
  CHECK(found[0].line == 8);
  CHECK(found[0].column == 5);
  CHECK_THAT(found[0].message, Catch::StartsWith("unknown key 'replica'"));
  CHECK(found[1].line == 9);
  CHECK(found[1].column == 19);
  CHECK_THAT(found[1].message, Catch::StartsWith("expected a number for 'capacity_rps'"));
  CHECK(found[2].line == 11);
  CHECK(found[2].column == 27);
  CHECK(found[2].message == "unknown service 'cahce'; did you mean 'cache'?");
}

// --- Files that are not scenarios at all ----------------------------------------------------

TEST_CASE("an empty file is reported as empty", "[loader]") {
  for (const std::string& bytes : {std::string(), std::string("\n  \n")}) {
    const std::vector<Diagnostic> found = file_problems(temp_file("empty.yaml", bytes));
    REQUIRE(found.size() == 1);
    CHECK(found[0].line == 0);
    CHECK(found[0].message == "file is empty");
  }
  const std::vector<Diagnostic> comments = problems("# only a comment\n");
  REQUIRE(comments.size() == 1);
  CHECK_THAT(comments[0].message, Catch::StartsWith("file is empty"));
}

TEST_CASE("a binary file is not a text file", "[loader]") {
  const std::string nul = temp_file("nul.yaml", std::string("name: t\n\0\x01\x02", 11));
  const std::vector<Diagnostic> found = file_problems(nul);
  REQUIRE(found.size() == 1);
  CHECK(found[0].file == nul);
  CHECK_THAT(found[0].message, Catch::StartsWith("not a text file"));
  CHECK(found[0].format() == nul + ": " + found[0].message);
  const std::vector<Diagnostic> latin1 =
      file_problems(temp_file("latin1.yaml", "name: caf\xe9\nduration: 1h\n"));
  REQUIRE(latin1.size() == 1);
  CHECK_THAT(latin1[0].message, Catch::StartsWith("not a text file"));
}

TEST_CASE("a missing file cannot be read", "[loader]") {
  const std::string path = std::string(DOSIM_TEST_TMP) + "/scenario_loader/no-such-file.yaml";
  const std::vector<Diagnostic> found = file_problems(path);
  REQUIRE(found.size() == 1);
  CHECK(found[0].file == path);
  CHECK(found[0].message == "cannot read file: No such file or directory");
}

TEST_CASE("a directory cannot be read as a scenario", "[loader]") {
  const std::vector<Diagnostic> found = file_problems(DOSIM_SOURCE_DIR);
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0].message, Catch::StartsWith("cannot read file: "));
}

TEST_CASE("a truncated file yields diagnostics at every cut, never a crash", "[loader]") {
  std::ifstream in(data_file("full.yaml"), std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::size_t length = 0; length < text.size(); length += 7) {
    const std::string path = temp_file("truncated.yaml", text.substr(0, length));
    try {
      load_scenario_file(path);
    } catch (const InputError& error) {
      for (const Diagnostic& d : error.diagnostics()) {
        CHECK_FALSE(d.message.empty());
        CHECK(d.line >= 0);
      }
    }
  }
  CHECK_THROWS_AS(load_scenario_file(temp_file("cut.yaml", text.substr(0, 100))), InputError);
}

TEST_CASE("deeply nested input is an error, not a stack overflow", "[loader]") {
  const std::string deep = "name: " + std::string(100000, '[') + "\n";
  CHECK_THROWS_AS(parse_scenario(deep, "deep.yaml"), InputError);
}

// --- The fault catalogue's mechanisms and their parameters --------------------------------

const std::string kWithDependency = kHead +
                                    "dependencies:\n"
                                    "  - {caller: web, callee: api, timeout: 1s}\n";

TEST_CASE("cpu-stress and packet-loss faults load with their parameters", "[loader]") {
  const Scenario scenario = parse_scenario(
      kWithDependency +
          "faults:\n"
          "  - {kind: cpu-stress, target: {service: api}, load: 60, start: 1m, duration: 5m}\n"
          "  - {kind: packet-loss, target: {caller: web, callee: api}, percent: 20, start: 1m,\n"
          "     duration: 5m}\n"
          "  - {kind: latency, target: {service: db}, fixedDelay: 100ms, jitter: 30ms,\n"
          "     start: 1m, duration: 5m}\n",
      "test.yaml");
  REQUIRE(scenario.faults.size() == 3);
  CHECK(scenario.faults[0].kind == FaultKind::kCpuStress);
  CHECK(scenario.faults[0].cpu_load == Approx(0.6));
  CHECK(scenario.faults[1].kind == FaultKind::kPacketLoss);
  CHECK(scenario.faults[1].fraction == Approx(0.2));
  CHECK(scenario.faults[1].target.dependency == 0);
  CHECK(scenario.faults[2].jitter == 30 * kMillisecond);
}

TEST_CASE("a cpu-stress fault needs a load and a service target", "[loader]") {
  const auto found = problems(
      kWithDependency +
      "faults:\n"
      "  - {kind: cpu-stress, target: {caller: web, callee: api}, start: 1m, duration: 5m}\n");
  INFO(joined(found));
  REQUIRE(found.size() == 2);
  CHECK(found[0].line == 10);
  CHECK(found[0].message == "missing required key 'load' in fault");
  CHECK(found[1].message == "cpu-stress needs a service target {service}");
}

TEST_CASE("packet-loss needs an edge target and parameters belong to their mechanism", "[loader]") {
  const auto found = problems(kWithDependency +
                              "faults:\n"
                              "  - {kind: packet-loss, target: {service: api}, load: 5, "
                              "jitter: 1s, start: 1m, duration: 5m}\n");
  INFO(joined(found));
  REQUIRE(found.size() == 3);
  CHECK(found[0].message == "packet-loss needs an edge target {caller, callee}");
  CHECK(found[1].message == "'load' is only allowed in cpu-stress faults");
  CHECK(found[2].message == "'jitter' is only allowed in latency faults");
}

TEST_CASE("replica faults load their mode and recovery parameters", "[loader]") {
  const Scenario scenario = parse_scenario(
      "name: t\n"
      "duration: 1h\n"
      "regions: [{name: eu, zones: [eu-a, eu-b]}]\n"
      "services:\n"
      "  - {name: web, replicas: 4, zone: eu-a}\n"
      "faults:\n"
      "  - {kind: pod-kill, target: {service: web}, mode: fixed, value: 2, restartTime: 30s,\n"
      "     start: 1m, duration: 5m}\n"
      "  - {kind: crash-loop, target: {service: web}, mode: one, crashAfter: 5s, start: 1m,\n"
      "     duration: 5m}\n"
      "  - {kind: memory-leak, target: {service: web}, rate: 3, start: 1m, duration: 5m}\n"
      "  - {kind: outage, target: {zone: eu-b}, start: 1m, duration: 5m}\n"
      "  - {kind: outage, target: {region: eu}, start: 1m, duration: 5m}\n",
      "test.yaml");
  REQUIRE(scenario.faults.size() == 5);
  const FaultSpec& kill = scenario.faults[0];
  CHECK(kill.kind == FaultKind::kPodKill);
  CHECK(kill.mode == PodMode::kFixed);
  CHECK(kill.mode_value == 2);
  CHECK(kill.restart_time == 30 * kSecond);
  const FaultSpec& loop = scenario.faults[1];
  CHECK(loop.mode == PodMode::kOne);
  CHECK(loop.crash_after == 5 * kSecond);
  CHECK(loop.restart_time == 0);  // crash-loop: the back-off is the wait
  const FaultSpec& leak = scenario.faults[2];
  CHECK(leak.mode == PodMode::kAll);
  CHECK(leak.leak_per_second == Approx(0.03 / 60));
  CHECK(leak.restart_time == 10 * kSecond);
  CHECK(scenario.faults[3].target.zone == "eu-b");
  CHECK(scenario.faults[4].target.region == "eu");
}

TEST_CASE("replica faults report bad modes, targets and parameters", "[loader]") {
  const auto found = problems(
      "name: t\n"
      "duration: 1h\n"
      "services: [{name: web}]\n"
      "faults:\n"
      "  - {kind: pod-kill, target: {service: web}, mode: sum, start: 1m, duration: 1m}\n"
      "  - {kind: memory-leak, target: {service: web}, start: 1m, duration: 1m}\n"
      "  - {kind: outage, target: {service: web}, start: 1m, duration: 1m}\n"
      "  - {kind: latency, target: {zone: z}, fixedDelay: 1s, start: 1m, duration: 1m}\n"
      "  - {kind: crash-loop, target: {service: web}, mode: fixed-percent, value: 150,\n"
      "     rate: 2, start: 1m, duration: 1m}\n");
  INFO(joined(found));
  REQUIRE(found.size() == 7);
  CHECK(found[0].line == 5);
  CHECK(found[0].message ==
        "'mode' must be one, all, fixed, fixed-percent or random-max-percent, got 'sum'");
  CHECK(found[1].message == "missing required key 'rate' in fault");
  CHECK(found[2].message == "outage needs a place target {zone} or {region}");
  CHECK(found[3].message == "latency needs a service, endpoint or edge target");
  CHECK(found[4].message == "unknown zone 'z'");
  CHECK(found[5].message == "'value' must be in [0, 100], got 150");
  CHECK(found[6].message == "'rate' is only allowed in memory-leak faults");
}

TEST_CASE("a partition needs two or more known sides", "[loader]") {
  const auto found = problems(
      "name: t\n"
      "duration: 1h\n"
      "regions: [{name: eu, zones: [eu-a, eu-b]}]\n"
      "services: [{name: web}]\n"
      "faults:\n"
      "  - {kind: partition, target: {zones: [eu-a]}, start: 1m, duration: 1m}\n"
      "  - {kind: partition, target: {regions: [eu, us]}, start: 1m, duration: 1m}\n"
      "  - {kind: partition, target: {service: web}, start: 1m, duration: 1m}\n");
  INFO(joined(found));
  REQUIRE(found.size() == 3);
  CHECK(found[0].message == "'zones' must name at least two sides");
  CHECK(found[1].message == "unknown region 'us'; did you mean 'eu'?");
  CHECK(found[2].message ==
        "partition needs a target {zones: [A, B, ...]} or {regions: [A, B, ...]}");
}

}  // namespace dosim

namespace dosim {

TEST_CASE("a detector name that cannot be a trace group is reported at the name", "[loader]") {
  const Diagnostic d = single_problem(kHead +
                                      "detectors:\n"
                                      "  - {name: latency/p95, kind: threshold, metrics: "
                                      "[latency_p95_s], params: {above: 1}}\n");
  CHECK(d.line == 8);
  CHECK(d.column == 12);
  CHECK(d.message.find("no '/'") != std::string::npos);
}

}  // namespace dosim
