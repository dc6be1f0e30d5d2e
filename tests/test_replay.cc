// The replay source: the series reader (engine/replay.h over util/csv.h, whose own tests are
// in test_csv.cc) on good and bad files, a Grafana export through a scenario, the `replay:`
// section of a scenario (defaults, errors at FILE:LINE:COL, the frame carrying the file's
// values at their ticks, labelled anomalies as incidents), and detectors on replayed series
// (detectors/replay_runner.h) alerting at the rows a threshold detector should, exactly as
// the same detector in a simulated run of the replay scenario does.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "detectors/replay_runner.h"
#include "detectors/runner.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"
#include "engine/replay.h"
#include "simulation_test_support.h"
#include "util/csv.h"

using Catch::Matchers::Contains;

namespace dosim {
namespace {

namespace fs = std::filesystem;

// Writes `bytes` to DOSIM_TEST_TMP/replay/<name>; returns the path.
std::string write_csv(const std::string& name, const std::string& bytes) {
  return testing::write_whole_file(fs::path(DOSIM_TEST_TMP) / "replay" / name, bytes);
}

// The single diagnostic that parsing `text` as a CSV throws.
Diagnostic csv_problem(const std::string& text, const std::string& column = "",
                       ReplayOrder order = ReplayOrder::kIncreasing) {
  try {
    parse_replay_csv(text, "m.csv", column, order);
  } catch (const InputError& error) {
    REQUIRE(error.diagnostics().size() == 1);
    return error.diagnostics().front();
  }
  FAIL("no error for:\n" << text);
  return {};
}

constexpr SimTime kMinute5 = 5 * kMinute;

DetectorSpec mad_spec(std::vector<std::pair<std::string, double>> params) {
  DetectorSpec spec;
  spec.name = "mad-1";
  spec.kind = "mad";
  spec.metrics = {"value"};
  spec.params = std::move(params);
  return spec;
}

}  // namespace

TEST_CASE("replay CSV: NAB's layout and similar files", "[replay]") {
  SECTION("NAB: timestamp,value, a 5-minute step") {
    const ReplaySeries s = parse_replay_csv(
        "timestamp,value\n2014-04-10 00:00:00,1.5\n2014-04-10 00:05:00,2\n"
        "2014-04-10 00:10:00,-3e2\n\n2014-04-10 00:20:00,4\n",
        "nab.csv");
    CHECK(s.column == "value");
    CHECK(s.rows() == 4);
    CHECK(s.values == std::vector<double>{1.5, 2, -300, 4});
    CHECK(s.lines == std::vector<int>{2, 3, 4, 6});
    CHECK(s.step == kMinute5);  // the most frequent difference, not the 10-minute gap
    CHECK(s.times[1] - s.times[0] == kMinute5);
  }
  SECTION("an export: BOM, CRLF, quotes, Unix seconds, columns in another order") {
    const ReplaySeries s = parse_replay_csv(
        "\xEF\xBB\xBF\"p95\",\"Time\"\r\n\"0.25\",\"1700000000\"\r\n\"0.5\",\"1700000060\"\r\n",
        "export.csv");
    CHECK(s.column == "p95");  // the only column besides the timestamp
    CHECK(s.values == std::vector<double>{0.25, 0.5});
    CHECK(s.step == kMinute);
  }
  SECTION("a named column among several") {
    const std::string text = "time,a,b\n1,10,20\n2,11,21\n3,12,22\n";
    CHECK(parse_replay_csv(text, "x.csv", "b").values == std::vector<double>{20, 21, 22});
    CHECK(parse_replay_csv(text, "x.csv", "a").step == kSecond);
  }
  SECTION("a header without a time column: the first column is the timestamp") {
    const ReplaySeries s = parse_replay_csv("when,value\n10,1\n20,2\n", "x.csv");
    CHECK(s.values == std::vector<double>{1, 2});
    CHECK(s.step == 10 * kSecond);
  }
  SECTION("rows as written: repeated or earlier timestamps kept in file order") {
    const std::string text = "timestamp,value\n100,1\n160,2\n160,3\n100,4\n220,5\n";
    const ReplaySeries s = parse_replay_csv(text, "dst.csv", "", ReplayOrder::kAsWritten);
    CHECK(s.values == std::vector<double>{1, 2, 3, 4, 5});
    CHECK(s.step == kMinute);
  }
  SECTION("a file on disk") {
    const std::string path = write_csv("ok.csv", "timestamp,value\n2015-01-01,1\n2015-01-02,2\n");
    const ReplaySeries s = read_replay_csv(path);
    CHECK(s.file == path);
    CHECK(s.step == 24 * kHour);
  }
}

TEST_CASE("replay CSV: every problem at its file, line and column", "[replay]") {
  Diagnostic d = csv_problem("timestamp,value\n2014-04-10 00:00:00,1\n2014-04-10 00:05:00,x\n");
  CHECK(d.format() == "m.csv:3:21: bad value `x` in column `value` (expected a finite number)");
  d = csv_problem("timestamp,value\n2014-04-10 00:00:00,1\n2014-04-32 00:05:00,2\n");
  CHECK(d.format() ==
        "m.csv:3:1: bad timestamp `2014-04-32 00:05:00` (expected "
        "YYYY-MM-DD[ HH:MM[:SS[.fraction]]][Z|+hh:mm|-hh:mm], seconds or milliseconds since "
        "1970)");
  d = csv_problem("timestamp,value\n1,1\n2,nan\n");
  CHECK((d.line == 3 && d.column == 3));
  d = csv_problem("timestamp,value\n1,1\n2\n");
  CHECK(d.format() == "m.csv:3:1: 1 field, the header needs at least 2");
  d = csv_problem("timestamp,value\n1,1\n3,2\n2,3\n");
  CHECK(d.format() == "m.csv:4:1: timestamp `2` does not come after the previous row's (line 3)");
  d = csv_problem("timestamp,value\n1,1\n1,2\n");  // equal: not after
  CHECK(d.line == 3);
  d = csv_problem("timestamp,value\n1,1\n1,2\n", "", ReplayOrder::kAsWritten);
  CHECK(d.format() == "m.csv: no two rows with increasing timestamps: no time step");
  d = csv_problem("timestamp,value\n1,1\n");
  CHECK(d.format() ==
        "m.csv: 1 row of data; at least 2 are needed (the time step comes from them)");
  d = csv_problem("\n\n");
  CHECK(d.format() == "m.csv: empty file (no header line)");
  d = csv_problem("timestamp,a,b\n1,2,3\n");
  CHECK(d.format() ==
        "m.csv:1:1: no `value` column and 2 columns besides the timestamp: name the one to replay");
  d = csv_problem("timestamp,latency\n1,2\n2,3\n", "latncy");
  CHECK(d.format() == "m.csv:1:1: no column `latncy` in the header (did you mean `latency`?)");
  d = csv_problem("timestamp\n1\n");
  CHECK(d.line == 1);
  // Rows far apart in time (epoch seconds at both ends of the range) are refused before their
  // difference is taken: it would overflow, and no run spans it.
  d = csv_problem("timestamp,value\n-8999999999,1\n8999999999,2\n");
  CHECK(d.format() ==
        "m.csv:3:1: timestamp `8999999999` is more than 100 years from the first row's (line 2)");
  d = csv_problem("timestamp,value\n8999999999,1\n-8999999999,2\n", "", ReplayOrder::kAsWritten);
  CHECK(d.line == 3);
  CHECK_THROWS_WITH(read_replay_csv((fs::path(DOSIM_TEST_TMP) / "replay" / "none.csv").string()),
                    Contains("none.csv: no such file"));
}

TEST_CASE("replay CSV: every bad row is reported, not just the first", "[replay]") {
  // A bad value, a timestamp that goes back (against the row before it, bad value or not), a
  // short row, NaN: four problems at once.
  const std::string text = "timestamp,value\n1,1\n3,abc\n2,2\n4\n5,nan\n6,6\n";
  std::vector<std::string> said;
  try {
    parse_replay_csv(text, "m.csv", "", ReplayOrder::kIncreasing);
    FAIL("no error");
  } catch (const InputError& error) {
    for (const Diagnostic& d : error.diagnostics()) said.push_back(d.format());
  }
  CHECK(said == std::vector<std::string>{
                    "m.csv:3:3: bad value `abc` in column `value` (expected a finite number)",
                    "m.csv:4:1: timestamp `2` does not come after the previous row's (line 3)",
                    "m.csv:5:1: 1 field, the header needs at least 2",
                    "m.csv:6:3: bad value `nan` in column `value` (expected a finite number)"});
  // A quote not closed runs to the end of the file, but the bad rows before it are said too;
  // text after a closing quote drops only its row.
  said.clear();
  try {
    parse_replay_csv("timestamp,value\n1,1\n2,abc\n3,\"4\"x\n4,oops\n5,\"3\n6,6\n", "m.csv", "",
                     ReplayOrder::kIncreasing);
    FAIL("no error");
  } catch (const InputError& error) {
    for (const Diagnostic& d : error.diagnostics()) said.push_back(d.format());
  }
  CHECK(said ==
        std::vector<std::string>{
            "m.csv:3:3: bad value `abc` in column `value` (expected a finite number)",
            "m.csv:4:3: text after the closing quote of a quoted field (a `\"` inside it must be "
            "doubled)",
            "m.csv:5:3: bad value `oops` in column `value` (expected a finite number)",
            "m.csv:6:3: quoted field not closed (a `\"` is missing)"});
  // A file of bad rows says the first hundred and how many more.
  std::string many = "timestamp,value\n";
  for (int i = 0; i < 150; ++i) many += std::to_string(i) + ",x\n";
  try {
    parse_replay_csv(many, "m.csv", "", ReplayOrder::kIncreasing);
    FAIL("no error");
  } catch (const InputError& error) {
    REQUIRE(error.diagnostics().size() == 101);
    // At the first row not said (row 100, line 102), after the rows said.
    CHECK(error.diagnostics().back().format() == "m.csv:102:5: and 50 more bad rows from here");
  }
  // Two columns of the name replayed, and a file without a header line (its first row was
  // read as the header and lost).
  try {
    parse_replay_csv("timestamp,value,value\n1,1,5\n2,2,6\n", "d.csv", "",
                     ReplayOrder::kIncreasing);
    FAIL("no error");
  } catch (const InputError& error) {
    CHECK(error.diagnostics().at(0).format() ==
          "d.csv:1:17: two columns are named `value` (columns 2 and 3): rename one");
  }
  try {
    parse_replay_csv("2024-03-02 14:00:00,1\n2024-03-02 14:01:00,2\n2024-03-02 14:02:00,3\n",
                     "n.csv", "", ReplayOrder::kIncreasing);
    FAIL("no error");
  } catch (const InputError& error) {
    CHECK(error.diagnostics().at(0).format() ==
          "n.csv:1:1: the first line is data (`2024-03-02 14:00:00` is a timestamp), not a "
          "header: the file needs a header line naming its columns first (timestamp,value)");
  }
}

TEST_CASE("a scenario's replay: defaults from the file, values in the frame at their ticks",
          "[replay]") {
  // Rows every 5 minutes, with a gap (rows 3 -> 4 are 10 minutes apart).
  const std::string path =
      write_csv("latency.csv",
                "timestamp,value\n2015-01-01 00:00:00,10\n2015-01-01 00:05:00,20\n"
                "2015-01-01 00:10:00,30\n2015-01-01 00:15:00,40\n2015-01-01 00:25:00,50\n");
  const std::string head = "name: t\nservices:\n  - {name: web}\n  - {name: db}\n";
  SECTION("tick and duration default to the file's step and span") {
    const Scenario s =
        testing::scenario_from(head + "replay:\n  - {file: " + path +
                               ", service: db, metric: latency_p95_s, scale: 0.001}\n");
    REQUIRE(s.replay.size() == 1);
    CHECK(s.replay[0].name == "replay-0");
    CHECK(s.tick == kMinute5);
    CHECK(s.duration == 30 * kMinute);  // the last row at 25m, plus one step
    const std::vector<Frame> frames = testing::run_frames(s, 1);
    REQUIRE(frames.size() == 6);
    const std::vector<float> expected = {0.010f, 0.020f, 0.030f, 0.040f, 0.040f, 0.050f};
    for (std::size_t t = 0; t < frames.size(); ++t) {
      INFO("tick " << t);
      CHECK(frames[t].service(ServiceMetric::kLatencyP95)[1] == expected[t]);
    }
  }
  SECTION("a finer tick holds each row; outside the file the simulated value stands") {
    const Scenario s =
        testing::scenario_from(head + "duration: 45m\ntick: 1m\nreplay:\n  - {file: " + path +
                               ", service: db, metric: rps, start: 5m}\n");
    const std::vector<Frame> frames = testing::run_frames(s, 1);
    const Scenario plain = testing::scenario_from(head + "duration: 45m\ntick: 1m\n");
    const std::vector<Frame> simulated = testing::run_frames(plain, 1);
    REQUIRE(frames.size() == 45);
    for (std::size_t t = 0; t < frames.size(); ++t) {
      INFO("tick " << t);
      const float value = frames[t].service(ServiceMetric::kRps)[1];
      const float own = simulated[t].service(ServiceMetric::kRps)[1];
      if (t < 5 || t >= 35)
        CHECK(value == own);
      else if (t < 25)
        CHECK(value == static_cast<float>(10 * ((t - 5) / 5 + 1)));
      else
        CHECK(value == (t < 30 ? 40.0f : 50.0f));
      CHECK(frames[t].service(ServiceMetric::kRps)[0] ==
            simulated[t].service(ServiceMetric::kRps)[0]);
    }
  }
  SECTION("rows a few milliseconds late (a scrape's timestamps) are each their tick's") {
    // Epoch milliseconds a minute apart, each 0-5 ms late: the step tied between 59,999 and
    // 60,003 ms (the shorter was taken), so the ticks drifted against the rows: values came
    // one tick late, or were dropped and repeated at tick: 1m.
    const int late[] = {1, 4, 4, 0, 5, 2, 3, 1, 5, 0};
    std::string text = "timestamp,value\n";
    for (int i = 0; i < 10; ++i)
      text +=
          std::to_string(1709388000000LL + 60000LL * i + late[i]) + "," + std::to_string(i) + "\n";
    const std::string jittered = write_csv("jittered.csv", text);
    for (const std::string tick : {"", "tick: 1m\n"}) {
      INFO("tick line: " << tick);
      const Scenario s = testing::scenario_from(head + tick + "replay:\n  - {file: " + jittered +
                                                ", service: db, metric: rps}\n");
      CHECK(s.tick == kMinute);
      CHECK(s.duration == 10 * kMinute);
      const std::vector<Frame> frames = testing::run_frames(s, 1);
      REQUIRE(frames.size() == 10);
      for (std::size_t t = 0; t < frames.size(); ++t)
        CHECK(frames[t].service(ServiceMetric::kRps)[1] == static_cast<float>(t));
    }
  }
  SECTION("a coarser tick than the file's step warns that rows go unseen") {
    const Scenario s = testing::scenario_from(head + "tick: 10m\nreplay:\n  - {file: " + path +
                                              ", service: db, metric: rps}\n");
    REQUIRE(s.warnings.size() == 1);
    CHECK(s.warnings[0].format() ==
          "test.yaml:5:7: warning: 'tick' (10m) is coarser than the step of " + path +
              " (5m): each tick takes the row its middle falls in, the rows between are not "
              "replayed; a tick of 5m replays each row");
    CHECK(testing::scenario_from(head + "tick: 1m\nreplay:\n  - {file: " + path +
                                 ", service: db, metric: rps}\n")
              .warnings.empty());
  }
  SECTION("clock: rows ignores the gap: row i at i steps") {
    const Scenario s = testing::scenario_from(head + "replay:\n  - {file: " + path +
                                              ", service: db, metric: rps, clock: rows}\n");
    CHECK(s.duration == 25 * kMinute);
    const std::vector<Frame> frames = testing::run_frames(s, 1);
    REQUIRE(frames.size() == 5);
    for (std::size_t t = 0; t < frames.size(); ++t)
      CHECK(frames[t].service(ServiceMetric::kRps)[1] == static_cast<float>(10 * (t + 1)));
  }
  SECTION("labelled anomalies become incidents after the faults") {
    const Scenario s = testing::scenario_from(
        head + "faults:\n  - {kind: error, target: {service: web}, start: 5m, duration: 5m}\n" +
        "replay:\n  - name: lat\n    file: " + path +
        "\n    service: db\n    metric: rps\n    anomalies: [['2015-01-01 00:04', "
        "'2015-01-01 00:10'], [1420071300, 1420071300]]\n");
    Simulation simulation(s, 1);
    simulation.run();
    const std::vector<IncidentRecord> incidents = simulation.incidents();
    REQUIRE(incidents.size() == 3);
    CHECK(incidents[0].cause == "error");
    const IncidentRecord& a = incidents[1];
    CHECK(a.id == 1);
    CHECK(a.name == "lat-anomaly-1");
    CHECK(a.cause == "labelled");
    CHECK(a.root_cause == "db");
    CHECK(a.root_service == 1);
    CHECK_FALSE(a.silent);
    CHECK(a.affected == std::vector<int>{1});
    CHECK(a.impact_start == kMinute5);                 // rows 00:05 and 00:10
    CHECK(a.impact_end == 15 * kMinute);               // through the end of row 00:10's tick
    CHECK(incidents[2].impact_start == 15 * kMinute);  // 1420071300 is 2015-01-01 00:15
    CHECK(incidents[2].impact_end == 20 * kMinute);
  }
  SECTION("a cause added during the run comes after the labelled anomalies") {
    const Scenario s = testing::scenario_from(
        head + "replay:\n  - name: lat\n    file: " + path +
        "\n    service: db\n    metric: rps\n    anomalies: [['2015-01-01 00:04', "
        "'2015-01-01 00:10']]\n");
    Simulation simulation(s, 1);
    FaultSpec fault;
    fault.name = "added";
    fault.kind = FaultKind::kError;
    fault.target.service = 0;
    fault.fraction = 0.5;
    fault.start = 10 * kMinute;
    fault.duration = 5 * kMinute;
    simulation.at(10 * kMinute, [&] { simulation.add_fault(fault); });
    simulation.run();
    const std::vector<IncidentRecord> incidents = simulation.incidents();
    REQUIRE(incidents.size() == 2);
    CHECK(incidents[0].id == 0);
    CHECK(incidents[0].cause == "labelled");
    CHECK(incidents[1].id == 1);
    CHECK(incidents[1].name == "added");
  }
}

TEST_CASE("a scenario replays a Grafana export: quoted fields, ISO times with a zone", "[replay]") {
  // As Grafana writes it: every field quoted, a Prometheus query (commas, doubled quotes) as
  // the column's name, local times with their UTC offset, CRLF.
  const std::string path = write_csv(
      "grafana.csv",
      "\"Time\",\"rate(http_requests_total{code=\"\"200\"\",job=\"\"api\"\"}[5m])\"\r\n"
      "\"2024-03-02 14:00:00+01:00\",\"10\"\r\n\"2024-03-02 14:01:00+01:00\",\"20\"\r\n"
      "\"2024-03-02 14:02:00+01:00\",\"30\"\r\n\"2024-03-02 14:03:00+01:00\",\"40\"\r\n\r\n");
  const ReplaySeries series = read_replay_csv(path);
  CHECK(series.column == "rate(http_requests_total{code=\"200\",job=\"api\"}[5m])");
  CHECK(series.times.front() == parse_timestamp("2024-03-02T13:00:00Z"));
  CHECK(series.step == kMinute);
  // Anomaly bounds may be written in another zone than the file: they compare as instants.
  const Scenario s = testing::scenario_from(
      "name: t\nservices: [{name: web}]\nreplay:\n  - name: rate\n    file: " + path +
      "\n    service: web\n    metric: rps\n"
      "    anomalies: [['2024-03-02T13:01:30Z', '2024-03-02 08:02:00-05:00']]\n");
  REQUIRE(s.replay.size() == 1);
  const ReplaySpec& replay = s.replay[0];
  CHECK(s.tick == kMinute);
  CHECK(s.duration == 4 * kMinute);
  CHECK(replay.values == std::vector<float>{10, 20, 30, 40});
  CHECK(replay.offsets == std::vector<SimTime>{0, kMinute, 2 * kMinute, 3 * kMinute});
  REQUIRE(replay.anomalies.size() == 1);  // the row at 14:02 (+01:00) only
  CHECK(replay.anomalies[0] == std::pair<SimTime, SimTime>{2 * kMinute, 3 * kMinute});
}

TEST_CASE("a scenario's replay: every problem reported at once", "[replay]") {
  const std::string good = write_csv("good.csv", "timestamp,value\n1,1\n2,2\n3,3\n");
  const std::string bad = write_csv("bad.csv", "timestamp,value\n1,1\n2,oops\n");
  const std::string yaml =
      "name: t\n"
      "services: [{name: web}, {name: db}]\n"
      "dependencies: [{caller: web, callee: db}]\n"
      "replay:\n"
      "  - {file: " +
      good +
      ", service: dbb, metric: rps}\n"  // line 5
      "  - {file: " +
      good +
      ", service: db, metric: latncy_p95_s}\n"  // line 6
      "  - {file: " +
      good +
      ", edge: db->web, metric: rps}\n"  // line 7
      "  - {file: " +
      bad +
      ", service: db, metric: rps}\n"  // line 8
      "  - {file: " +
      good +
      ", service: db, metric: rps, clock: wall, colour: 1}\n"  // line 9
      "  - {file: " +
      good +
      ", service: web, metric: rps, anomalies: [[3, 1], [9, 9], [x, 2]]}\n"
      "  - {file: " +
      good +
      ", service: web, edge: web->db, metric: rps}\n"  // line 11
      "  - {file: " +
      good + ", service: wbe, metric: rps}\n";  // line 12: not line 11's series
  const std::vector<Diagnostic> found = testing::scenario_problems(yaml);
  std::string all;
  for (const Diagnostic& d : found) all += d.format() + "\n";
  INFO(all);
  CHECK_THAT(all,
             Contains("test.yaml:5:") && Contains("unknown service 'dbb'; did you mean 'db'?"));
  CHECK_THAT(all,
             Contains("test.yaml:6:") &&
                 Contains("unknown service metric 'latncy_p95_s'; did you mean 'latency_p95_s'?"));
  CHECK_THAT(all, Contains("test.yaml:7:") && Contains("unknown edge 'db->web'"));
  CHECK_THAT(all, Contains(bad + ":3:3: bad value `oops`"));
  CHECK_THAT(all, Contains("test.yaml:9:") && Contains("'clock' must be time or rows, got 'wall'"));
  CHECK_THAT(all, Contains("unknown key 'colour' in replay"));
  CHECK_THAT(all, Contains("test.yaml:10:") && Contains("the anomaly ends before it starts"));
  CHECK_THAT(all, Contains("the anomaly covers no row of " + good));
  CHECK_THAT(all, Contains("bad timestamp 'x'"));
  CHECK_THAT(all, Contains("test.yaml:11:") && Contains("either 'service' or 'edge', not both"));
  CHECK_THAT(all, Contains("test.yaml:12:") && Contains("unknown service 'wbe'"));
  CHECK_THAT(all, !Contains("'replay-6' already replays"));  // line 11 names no series
  CHECK(found.back().file == bad);  // the CSV's problem after the scenario's own
  // Without replay, the duration is required as ever.
  const std::vector<Diagnostic> plain =
      testing::scenario_problems("name: t\nservices: [{name: web}]\n");
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].message == "missing required key 'duration' in scenario");
}

TEST_CASE("detectors on a replayed series: a threshold alerts at the rows above its limit",
          "[replay]") {
  // Values above 5 at rows 3-4 and 8; 5 itself is not above.
  const std::string path =
      write_csv("spikes.csv",
                "timestamp,value\n0,1\n60,2\n120,1\n180,7\n240,9\n300,5\n360,1\n420,2\n"
                "480,6\n540,1\n");
  const ReplaySeries series = read_replay_csv(path);
  std::vector<float> values(series.values.begin(), series.values.end());
  DetectorSpec spec;
  spec.name = "above-5";
  spec.kind = "threshold";
  spec.metrics = {"rps"};
  spec.params = {{"above", 5.0}};
  const SeriesScores scores = score_series(spec, values, series.step, path);
  CHECK(scores.limit == 5.0);
  CHECK(scores.scores == values);  // threshold's score is the value
  CHECK(alert_rows(scores.scores, scores.limit) == std::vector<std::size_t>{3, 8});
  CHECK(alert_rows(scores.scores, scores.limit, 1) == std::vector<std::size_t>{4});

  // The same detector in a run of a scenario replaying the file alerts at the same rows
  // (an alert fires at the end of its tick).
  const Scenario s = testing::scenario_from(
      "name: t\nservices: [{name: web}]\nreplay:\n  - {file: " + path +
      ", service: web, metric: rps}\n"
      "detectors:\n  - {name: above-5, kind: threshold, metrics: [rps], params: {above: 5}}\n"
      "  - {name: mad, kind: mad, metrics: [rps], params: {window: 3, threshold: 1}}\n");
  CHECK(s.tick == kMinute);
  Simulation simulation(s, 7);
  DetectorRunner runner(simulation.scenario(), s.detectors);
  simulation.add_sink(&runner);
  simulation.run();
  std::vector<std::size_t> threshold_rows, mad_rows;
  for (const Alert& alert : runner.alerts())
    (alert.detector == "mad" ? mad_rows : threshold_rows)
        .push_back(static_cast<std::size_t>(alert.time / kMinute) - 1);
  CHECK(threshold_rows == std::vector<std::size_t>{3, 8});
  DetectorSpec mad = s.detectors[1];
  const SeriesScores mad_scores = score_series(mad, values, series.step, path);
  CHECK(mad_rows == alert_rows(mad_scores.scores, mad_scores.limit));
  CHECK_FALSE(mad_rows.empty());
}

TEST_CASE("score_series reports bad parameters like a scenario would", "[replay]") {
  const DetectorSpec spec = mad_spec({{"windw", 10}});
  const std::vector<float> values(10, 1.0f);
  CHECK_THROWS_WITH(score_series(spec, values, kSecond, "--detectors"),
                    Contains("unknown parameter 'windw' for kind mad; did you mean 'window'?"));
}

TEST_CASE("mad's meanad fallback where the window's MAD is 0", "[replay][detectors]") {
  DetectorSpec spec = mad_spec({{"window", 5}});
  // Window before row 5: 1 1 1 1 3: median 1, MAD 0, MeanAD 0.4.
  const std::vector<float> values = {1, 1, 1, 1, 3, 2, 1};
  const SeriesScores plain = score_series(spec, values, kSecond, "t");
  CHECK(plain.scores[5] == 1e9f);
  CHECK(plain.scores[6] == 0.0f);  // x equals the median
  spec.params.push_back({"meanad", 1});
  const SeriesScores fallback = score_series(spec, values, kSecond, "t");
  CHECK(fallback.scores[5] == Approx((2.0 - 1.0) / (1.253314 * 0.4)).epsilon(1e-6));
  CHECK(fallback.scores[6] == 0.0f);
  for (std::size_t i = 0; i < 5; ++i) CHECK(fallback.scores[i] == plain.scores[i]);
  // A constant window: MeanAD is 0 too, so the kernel's value stands.
  const std::vector<float> flat = {2, 2, 2, 2, 2, 4};
  CHECK(score_series(spec, flat, kSecond, "t").scores[5] == 1e9f);
  spec.params.back().second = 2;
  CHECK_THROWS_WITH(score_series(spec, flat, kSecond, "t"), Contains("'meanad' must be 0 or 1"));
}

}  // namespace dosim
