// The scenario loader: a valid file becomes a typed Scenario with defaults applied and units
// converted; every problem in a bad file is reported, all at once, at its line and column.
// The cases that are only "this text -> these diagnostics" are data files, tests/loader/*.yaml,
// checked against the loader and the JSON Schema by tests/test_loader_cases.py; this file
// keeps the typed values, the API and what is not a scenario text at all.
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
  CHECK(swarm.noise == 0.0);  // none on a Locust source: its users' pacing is its noise
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

TEST_CASE("an incident rule polls every 5 s, or every tick where ticks are longer", "[loader]") {
  // Two polls a 10 s tick: the second saw no new tick and decayed the accumulators, so the
  // rule never opened an incident (from a new-user audit).
  const auto poll_at = [](const std::string& tick) {
    return parse_scenario("name: t\nduration: 1h\ntick: " + tick +
                              "\nservices: [{name: a}]\n"
                              "detectors: [{name: hi, kind: threshold, metrics: [error_ratio]}]\n"
                              "incident_rules: [{detector: hi, threshold: 5}]\n",
                          "t")
        .incident_rules.at(0)
        .poll;
  };
  CHECK(poll_at("1s") == 5 * kSecond);
  CHECK(poll_at("5s") == 5 * kSecond);
  CHECK(poll_at("10s") == 10 * kSecond);
  CHECK(poll_at("1m") == kMinute);
}

TEST_CASE("the seed is read as given", "[loader]") {
  CHECK(parse_scenario("name: t\nduration: 1h\nseed: 123456789012\nservices: [{name: a}]\n", "t")
            .seed == 123456789012u);
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

// --- Diagnostics (the cases themselves: tests/loader/*.yaml) ---------------------------------

TEST_CASE("a diagnostic carries the file name given and formats as file:line:col", "[loader]") {
  const Diagnostic d = single_problem(kHead + "  - name: cache\n    replica: 3\n");
  CHECK(d.file == "test.yaml");
  CHECK(d.line == 8);
  CHECK(d.column == 5);
  CHECK(d.message == "unknown key 'replica' in service; did you mean 'replicas'?");
  CHECK(d.format() == "test.yaml:8:5: unknown key 'replica' in service; did you mean 'replicas'?");
}

// --- Names given by default -----------------------------------------------------------------

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

// --- Files that are not scenarios at all ----------------------------------------------------

TEST_CASE("an empty file is reported as empty", "[loader]") {
  for (const std::string& bytes : {std::string(), std::string("\n  \n")}) {
    const std::vector<Diagnostic> found = file_problems(temp_file("empty.yaml", bytes));
    REQUIRE(found.size() == 1);
    CHECK(found[0].line == 0);
    CHECK(found[0].message == "file is empty");
  }
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
  // Bytes of UTF-8's shape that are no character (a surrogate, past U+10FFFF, an overlong
  // '/'): they passed, then the trace's names broke Python's decoder.
  for (const char* bytes :
       {"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\xaf", "\xf0\x80\x80\xaf"}) {
    const std::vector<Diagnostic> odd = file_problems(temp_file(
        "odd.yaml", std::string("name: t\nduration: 1h\nservices: [{name: \"") + bytes + "\"}]\n"));
    REQUIRE(odd.size() == 1);
    CHECK(odd[0].message == "not a text file (invalid UTF-8)");
  }
  CHECK(file_problems(temp_file("ok.yaml",
                                "name: t\nduration: 1h\nservices: [{name: "
                                "\"caf\xc3\xa9 \xf0\x9f\x8d\x95 \xef\xbf\xbf\"}]\n"))
            .empty());
}

TEST_CASE("a file whose line ends are CR alone says so", "[loader]") {
  // Classic Mac OS line ends: one long line to YAML, "illegal map value" and nothing more.
  const std::vector<Diagnostic> found =
      file_problems(temp_file("cr.yaml", "name: t\r duration: 1h\rservices: [{name: a}]\r"));
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0].message,
             Catch::EndsWith("(the file's line ends are CR alone: save it with LF line ends)"));
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

}  // namespace dosim
