// Alerts and anomaly scores from other tools (dosim/analysis/external_scores.h): the time
// rules (seconds, exact to the nanosecond; nanoseconds by name; ISO 8601 from the epoch),
// targets to services, NAB's threshold rule, every problem at its hand-computed position,
// and the score table with a random baseline per detector.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dosim/analysis/external_scores.h"
#include "dosim/analysis/score_table.h"
#include "dosim/error.h"

namespace dosim {
namespace {

constexpr SimTime kS = 1'000'000'000;

// Three services, an hour at 1 s ticks, one incident on `api` with impact [100 s, 200 s].
TraceForScoring small_trace() {
  TraceForScoring trace;
  trace.seed = 7;
  trace.simulated = 3600 * kS;
  trace.services = {"web", "api", "db"};
  IncidentRecord incident;
  incident.id = 0;
  incident.impact_start = 100 * kS;
  incident.impact_end = 200 * kS;
  incident.silent = false;
  incident.affected = {1};
  trace.incidents = {incident};
  return trace;
}

// Writes `text` to DOSIM_TEST_TMP/external/<name>; returns the path.
std::string write(const std::string& name, const std::string& text) {
  const auto folder = std::filesystem::path(DOSIM_TEST_TMP) / "external";
  std::filesystem::create_directories(folder);
  const std::string path = (folder / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Every diagnostic `action` throws, formatted.
template <typename Action>
std::vector<std::string> problems(Action action) {
  try {
    action();
  } catch (const InputError& error) {
    std::vector<std::string> lines;
    for (const Diagnostic& d : error.diagnostics()) lines.push_back(d.format());
    return lines;
  }
  FAIL("no error");
  return {};
}

std::vector<SimTime> times_of(const std::vector<Alert>& alerts) {
  std::vector<SimTime> times;
  for (const Alert& a : alerts) times.push_back(a.time);
  return times;
}

}  // namespace

TEST_CASE("external alerts: `time` is seconds, exact to the nanosecond, or ISO 8601 from 1970",
          "[external]") {
  const std::string path = write("seconds.csv",
                                 "time,service\n"
                                 "12,web\n"
                                 "12.5,web\n"
                                 "0.000000001,web\n"
                                 "1.0000000005,web\n"   // the 10th decimal rounds up
                                 "1.00000000049,web\n"  // and down
                                 "1.5e1,web\n"
                                 "1970-01-01T00:00:12.25Z,web\n"
                                 "1970-01-01 02:00:00+01:00,web\n"  // 01:00 UTC
                                 "3600,web\n");                     // the run's last moment
  const std::vector<Alert> alerts = read_alerts_file(path, small_trace());
  CHECK(times_of(alerts) == std::vector<SimTime>{12 * kS, 12 * kS + kS / 2, 1, kS + 1, kS, 15 * kS,
                                                 12 * kS + kS / 4, 3600 * kS, 3600 * kS});
}

TEST_CASE("external alerts: `time_ns` and `resolved_ns` are nanoseconds, -1 never resolved",
          "[external]") {
  const std::string path = write("ns.csv",
                                 "time_ns,resolved_ns,service\n"
                                 "12000000000,13000000001,web\n"
                                 "5,-1,web\n"
                                 "7,,web\n");
  const std::vector<Alert> alerts = read_alerts_file(path, small_trace());
  REQUIRE(alerts.size() == 3);
  CHECK(alerts[0].time == 12 * kS);
  CHECK(alerts[0].resolved == 13 * kS + 1);
  CHECK(alerts[1].time == 5);
  CHECK(alerts[1].resolved == -1);
  CHECK(alerts[2].resolved == -1);
}

TEST_CASE("external alerts: targets name services, detector defaults to external", "[external]") {
  const std::string path = write("targets.csv",
                                 "time,target,service,detector,metric,severity\n"
                                 "1,web->db,,d1,rps,warning\n"
                                 "2,db /query,,,,\n"
                                 "3,api,,d2,,\n"
                                 "4,web->db,api,d2,,\n");  // `service` decides the service
  const std::vector<Alert> alerts = read_alerts_file(path, small_trace());
  REQUIRE(alerts.size() == 4);
  CHECK(alerts[0].service == 0);
  CHECK(alerts[0].target == "web->db");
  CHECK(alerts[0].detector == "d1");
  CHECK(alerts[0].metric == "rps");
  CHECK(alerts[0].severity == "warning");
  CHECK(alerts[1].service == 2);
  CHECK(alerts[1].target == "db /query");
  CHECK(alerts[1].detector == "external");
  CHECK(alerts[2].service == 1);
  CHECK(alerts[3].service == 1);
  CHECK(alerts[3].target == "web->db");
}

TEST_CASE("external alerts: JSON lines by extension or by a leading brace", "[external]") {
  const std::string lines =
      "{\"time\": 1.5, \"service\": \"db\"}\n"
      "\n"
      "{\"time\": \"1970-01-01T00:00:02Z\", \"target\": \"web\", \"resolved\": 3, "
      "\"detector\": null}\n";
  for (const std::string name : {"a.jsonl", "a.ndjson", "a.JSON", "a.txt"}) {
    const std::vector<Alert> alerts = read_alerts_file(write(name, lines), small_trace());
    REQUIRE(alerts.size() == 2);
    CHECK(times_of(alerts) == std::vector<SimTime>{kS + kS / 2, 2 * kS});
    CHECK(alerts[1].resolved == 3 * kS);
    CHECK(alerts[1].detector == "external");
  }
}

TEST_CASE("external alerts: every CSV problem at once, at FILE:LINE:COL", "[external]") {
  const std::string path = write("bad.csv",
                                 "service, time,resolved\n"
                                 "wbe,  12,\n"           // 2:1 unknown service
                                 "web,\"12s\",\n"        // 3:5 bad time (its quote)
                                 "api,4000,\n"           // 4:5 past the run
                                 "api,-1,\n"             // 5:5 before it
                                 "api,1800000000000,\n"  // 6:5 nanoseconds under `time`
                                 "db,20,10\n"            // 7:7 resolved before time
                                 "db\n"                  // 8:1 a short row
                                 ",30,\n");              // 9:1 no service
  CHECK(problems([&] { read_alerts_file(path, small_trace()); }) ==
        std::vector<std::string>{
            path + ":2:1: unknown service `wbe` (not a service of the trace); did you mean 'web'?",
            path + ":3:5: bad time `12s` in `time` (expected seconds since the run's start, or an "
                   "ISO 8601 date-time counted from 1970-01-01T00:00:00Z)",
            path + ":4:5: time `4000` in `time` is outside the run (0 to 3600 s)",
            path + ":5:5: time `-1` in `time` is outside the run (0 to 3600 s)",
            path + ":6:5: time `1800000000000` in `time` is outside the run (0 to 3600 s); "
                   "nanoseconds? use `time_ns`",
            path + ":7:7: `resolved` is before the alert's time",
            path + ":8:1: missing field `time` (the row is shorter than the header)",
            path + ":9:1: no `service` or `target` in this row"});

  const std::string header = write("header.csv", "when,detector\n1,x\n");
  CHECK(problems([&] { read_alerts_file(header, small_trace()); }) ==
        std::vector<std::string>{header + ":1:1: missing column `time` or `time_ns`",
                                 header + ":1:1: missing column `service` or `target`"});
}

TEST_CASE("external alerts: JSON-lines problems at FILE:LINE", "[external]") {
  const std::string path = write("bad.jsonl",
                                 "{\"time\": 1, \"service\": \"web\"}\n"
                                 "{\"time\": 1, \"service\": \"wbe\"}\n"
                                 "\n"
                                 "{\"time_ns\": 1.5, \"service\": \"web\"}\n"
                                 "{\"time\": [1], \"service\": \"web\"}\n"
                                 "{\"time\": 1}\n"
                                 "[]\n");
  CHECK(problems([&] { read_alerts_file(path, small_trace()); }) ==
        std::vector<std::string>{
            path + ":2: unknown service `wbe` (not a service of the trace); did you mean 'web'?",
            path + ":4: bad time `1.5` in `time_ns` (expected whole nanoseconds since the run's "
                   "start)",
            path + ":5: `time`: expected a string or a number",
            path + ":5: missing key `time` or `time_ns`",
            path + ":6: missing key `service` or `target`",
            path + ":7: expected a JSON object (one per line)"});
}

TEST_CASE("external alerts: a hundred problems listed, then a count", "[external]") {
  std::string text = "time,service\n";
  for (int i = 0; i < 130; ++i) text += "1,nowhere\n";
  const std::vector<std::string> lines =
      problems([&] { read_alerts_file(write("many.csv", text), small_trace()); });
  REQUIRE(lines.size() == 101);
  CHECK(lines.back() == write("many.csv", text) + ": 30 more problems not listed");
}

TEST_CASE("external scores: a score >= the threshold is a detection (NAB's rule)", "[external]") {
  // Rows out of time order; `web` at exactly the threshold, `api` never back below it.
  const std::string path = write("scores.csv",
                                 "time,series,score,detector\n"
                                 "30,web,0.1,m\n"
                                 "10,web,0.5,m\n"
                                 "20,web,0.7,m\n"
                                 "0,web,0.2,m\n"
                                 "40,web,0.5,m\n"
                                 "50,web,0.49,m\n"
                                 "10,web->api,0.9,n\n"
                                 "20,web->api,1.0,n\n"
                                 "40,db /q,0.4,\n");
  const std::vector<Alert> alerts = alerts_from_scores_file(path, small_trace(), 0.5);
  REQUIRE(alerts.size() == 3);  // ordered by time, ties by the series' first appearance
  CHECK(alerts[0].detector == "m");
  CHECK(alerts[0].time == 10 * kS);
  CHECK(alerts[0].resolved == 30 * kS);
  CHECK(alerts[0].service == 0);
  CHECK(alerts[0].target == "web");
  CHECK(alerts[1].detector == "n");
  CHECK(alerts[1].time == 10 * kS);
  CHECK(alerts[1].resolved == -1);
  CHECK(alerts[1].service == 0);
  CHECK(alerts[1].target == "web->api");
  CHECK(alerts[2].time == 40 * kS);
  CHECK(alerts[2].resolved == 50 * kS);

  CHECK(alerts_from_scores_file(path, small_trace(), 1.01).empty());
  CHECK(alerts_from_scores_file(path, small_trace(), 0.41).size() == 3);
  const std::vector<Alert> low = alerts_from_scores_file(path, small_trace(), 0.4);
  REQUIRE(low.size() == 4);
  CHECK(low[3].detector == "external");
  CHECK(low[3].service == 2);
  CHECK(problems([&] { alerts_from_scores_file(path, small_trace(), std::nan("")); }) ==
        std::vector<std::string>{path + ": the threshold is not a finite number"});
}

TEST_CASE("external scores: problems at their fields", "[external]") {
  const std::string path = write("bad-scores.csv",
                                 "time,series,score\n"
                                 "1,web,high\n"
                                 "2,cache,0.1\n"
                                 "x,web,0.1\n");
  CHECK(problems([&] { alerts_from_scores_file(path, small_trace(), 0.5); }) ==
        std::vector<std::string>{
            path + ":2:7: bad score `high` (expected a finite number)",
            path + ":3:3: unknown service `cache` (not a service of the trace)",
            path + ":4:1: bad time `x` in `time` (expected seconds since the run's start, or an "
                   "ISO 8601 date-time counted from 1970-01-01T00:00:00Z)"});
}

TEST_CASE("external score table: each detector beside a random baseline at its own rate",
          "[external]") {
  TraceForScoring trace = small_trace();
  trace.alerts = {{150 * kS, "b", 1, "", "", 160 * kS, "api"},
                  {10 * kS, "a", 0, "", "", -1, "web"},
                  {120 * kS, "b", 1, "", "", -1, "api"},
                  {300 * kS, "b", 2, "", "", -1, "db"}};
  trace.detectors = {"a", "b"};
  const ScoreTable own =
      score_table(trace.incidents, trace.alerts, trace.detectors, {}, trace.services.size(),
                  trace.seed, trace.simulated, trace.tick);
  const ScoreTable table = score_external_alerts(trace, trace.alerts);
  std::vector<std::string> labels;
  for (const auto& [label, scores] : table.rows) labels.push_back(label);
  CHECK(labels == std::vector<std::string>{"b", "random (b)", "a", "random (a)", "all detectors",
                                           "random baseline", "null baseline"});
  CHECK(table.alerts == 4);
  CHECK(table.incidents == 1);
  CHECK(table.incident_rules.empty());
  // The detectors' rows and the summary rows are dosim score's, to the last bit.
  auto json_of = [](const ScoreTable& t, const std::string& label) {
    for (const auto& [name, scores] : t.rows)
      if (name == label) return scores_json(scores);
    return std::string("missing");
  };
  for (const std::string label : {"a", "b", "all detectors", "random baseline", "null baseline"})
    CHECK(json_of(table, label) == json_of(own, label));
  CHECK(table.rows[0].second.precision == Approx(2.0 / 3.0));
  CHECK(table.rows[1].second.alerts == 3);  // b's rate
  CHECK(table.rows[3].second.alerts == 1);  // a's rate
}

}  // namespace dosim
