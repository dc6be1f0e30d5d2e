// Root-cause ranking (analysis/root_cause.h) on hand-made systems: AC@k and Avg@5 of known
// rankings computed by hand; what counts as correct (a service, an edge fault's caller and
// callee and the edge, a change, a zone's services) and on the path; each ranker on a chain
// whose answer is known (pagerank and deepest blame the leaf, change blames the recent
// change near the alerts); nothing after the ranking instant is seen; the random ranker is a
// seeded permutation; a ranker of your own sees only what was known at the ranking instant
// and is scored as the built-in ones; rankings read from CSV and JSON lines, with errors at
// their lines.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "dosim/analysis/root_cause.h"
#include "dosim/error.h"

using namespace dosim;

namespace {

// web -> api -> db, and web -> cache; db in zone z1, the rest in z2.
RcaSystem chain() {
  RcaSystem system;
  system.services = {"web", "api", "db", "cache"};
  system.edges = {{0, 1}, {1, 2}, {0, 3}};
  system.places = {{"z2", "r"}, {"z2", "r"}, {"z1", "r"}, {"z2", "r"}};
  system.changes = {{"deploy-api", {50 * kMinute}, {1}}, {"old-config", {1 * kMinute}, {3}}};
  return system;
}

IncidentRecord incident(std::int64_t id, int root, std::string root_cause, std::string cause,
                        std::vector<int> affected, SimTime start = kHour) {
  IncidentRecord r;
  r.id = id;
  r.name = cause == "deployment" ? "deploy-api" : "fault-" + std::to_string(id);
  r.cause = std::move(cause);
  r.root_cause = std::move(root_cause);
  r.root_service = root;
  r.start = r.impact_start = start;
  r.end = r.impact_end = start + 10 * kMinute;
  r.silent = false;
  r.affected = std::move(affected);
  return r;
}

Alert alert(SimTime t, int service) {
  Alert a;
  a.time = t;
  a.detector = "d";
  a.service = service;
  a.metric = "latency_p95_s";
  return a;
}

RcaRanking ranking(std::int64_t id, std::vector<std::string> candidates) {
  RcaRanking r{id, "hand", 0, 0, {}};
  for (auto& c : candidates) r.candidates.push_back({std::move(c), 0});
  return r;
}

std::vector<std::string> ids(const RcaRanking& r) {
  std::vector<std::string> out;
  for (const auto& c : r.candidates) out.push_back(c.id);
  return out;
}

}  // namespace

TEST_CASE("AC@k and Avg@5 of hand-made rankings", "[rca]") {
  const RcaSystem system = chain();
  const std::vector<IncidentRecord> incidents = {
      incident(0, 2, "db", "latency", {0, 1, 2}),
      incident(1, 1, "api", "deployment", {0, 1}),
  };
  // Incident 0: db first (AC@1 hit). Incident 1: the change third.
  const std::vector<RcaRanking> rankings = {
      ranking(0, {"service:db", "service:api"}),
      ranking(1, {"service:web", "service:cache", "change:deploy-api"}),
  };
  const auto scores = score_rankings(rankings, incidents, system);
  REQUIRE(scores.size() == 1);
  CHECK(scores[0].cases == 2);
  CHECK(scores[0].ac[0] == Approx(0.5));
  CHECK(scores[0].ac[1] == Approx(0.5));
  CHECK(scores[0].ac[2] == Approx(1.0));
  CHECK(scores[0].avg5 == Approx((0.5 + 0.5 + 1 + 1 + 1) / 5));
  // On the path: web is affected by incident 1, so it counts at rank 1 there.
  CHECK(scores[0].ac_path[0] == Approx(1.0));
  // A silent incident and an unknown one are not cases.
  std::vector<IncidentRecord> with_silent = incidents;
  with_silent[1].silent = true;
  CHECK(score_rankings(rankings, with_silent, system)[0].cases == 1);
}

TEST_CASE("Rankings from a file: every detected incident is a case, an unranked one a miss",
          "[rca]") {
  const RcaSystem system = chain();
  const std::vector<IncidentRecord> incidents = {
      incident(0, 2, "db", "latency", {0, 1, 2}),
      incident(1, 1, "api", "deployment", {0, 1}),
      incident(2, 1, "api", "latency", {0, 1}),  // detected by no alert
  };
  // Only incident 0 ranked (correct at rank 1); incident 2 ranked but not a case.
  const std::vector<RcaRanking> rankings = {ranking(0, {"service:db"}),
                                            ranking(2, {"service:api"})};
  const auto scores = score_rankings(rankings, incidents, system, {0, 1});
  REQUIRE(scores.size() == 1);
  CHECK(scores[0].cases == 2);
  CHECK(scores[0].ac[0] == Approx(0.5));
  CHECK(scores[0].ac[4] == Approx(0.5));
  CHECK(scores[0].avg5 == Approx(0.5));
  CHECK(scores[0].ac_path[0] == Approx(0.5));
  // Every case ranked: as without the list.
  const std::vector<RcaRanking> both = {ranking(0, {"service:db"}), ranking(1, {"service:api"})};
  CHECK(score_rankings(both, incidents, system, {0, 1})[0].ac[0] == Approx(1.0));
}

TEST_CASE("What counts as the root cause", "[rca]") {
  const RcaSystem system = chain();
  const IncidentRecord edge = incident(0, 1, "api->db", "latency", {0, 1});  // root: the caller
  CHECK(rca_candidate_correct("edge:api->db", edge, system));
  CHECK(rca_candidate_correct("service:api", edge, system));
  CHECK(rca_candidate_correct("service:db", edge, system));
  CHECK_FALSE(rca_candidate_correct("service:web", edge, system));
  CHECK(rca_candidate_on_path("service:web", edge, system));
  CHECK_FALSE(rca_candidate_on_path("service:cache", edge, system));
  const IncidentRecord zone = incident(1, -1, "zone z1", "outage", {0, 1, 2});
  CHECK(rca_candidate_correct("service:db", zone, system));
  CHECK_FALSE(rca_candidate_correct("service:api", zone, system));
  const IncidentRecord change = incident(2, 1, "api", "deployment", {0, 1});
  CHECK(rca_candidate_correct("change:deploy-api", change, system));
  CHECK(rca_candidate_correct("service:api", change, system));
  CHECK_FALSE(rca_candidate_correct("change:old-config", change, system));
  CHECK_FALSE(rca_candidate_correct("change:fault-0", edge, system));  // a fault is no change
}

TEST_CASE("Each ranker on a chain whose answer is known", "[rca]") {
  const RcaSystem system = chain();
  // db breaks at 1 h; api alerts 30 s later, web a minute later.
  const std::vector<IncidentRecord> incidents = {incident(0, 2, "db", "latency", {0, 1, 2})};
  const std::vector<Alert> alerts = {alert(kHour, 2), alert(kHour + 30 * kSecond, 1),
                                     alert(kHour + kMinute, 0), alert(kHour + 2 * kMinute, 2)};
  RcaOptions options;
  options.delays = {0, 5 * kMinute};
  const auto rankings = rank_root_causes(system, incidents, alerts, options);
  REQUIRE(rankings.size() == 4 * 2);
  for (const RcaRanking& r : rankings) {
    CHECK(r.incident == 0);
    CHECK(r.at == kHour + r.delay);  // detection: db's alert at 1 h
  }
  // At detection only db had alerted: pagerank and deepest see db alone.
  CHECK(ids(rankings[2]) == std::vector<std::string>{"service:db"});  // pagerank, 0 s
  CHECK(ids(rankings[4]) == std::vector<std::string>{"service:db"});  // deepest, 0 s
  // Five minutes on, all three alerted: the leaf still leads both.
  CHECK(ids(rankings[3]).front() == "service:db");
  CHECK(ids(rankings[5]) == std::vector<std::string>{"service:db", "service:api", "service:web"});
  for (std::size_t i = 1; i < rankings[3].candidates.size(); ++i)
    CHECK(rankings[3].candidates[i - 1].score >= rankings[3].candidates[i].score);
  // change: deploy-api, 10 minutes before detection next to the alerted db, comes first;
  // old-config (59 minutes old, on cache, nowhere near) second; then the services.
  CHECK(ids(rankings[0]) ==
        std::vector<std::string>{"change:deploy-api", "change:old-config", "service:db"});
  CHECK(rankings[0].candidates[0].score > rankings[0].candidates[1].score);
  // The random ranker: every service once, the same order every time.
  const auto random = ids(rankings[6]);
  CHECK(std::set<std::string>(random.begin(), random.end()).size() == 4);
  CHECK(ids(rank_root_causes(system, incidents, alerts, options)[6]) == random);
  // Scored: pagerank and deepest find db at once; change finds it third... and the change is
  // not the cause here.
  const auto scores = score_rankings(rankings, incidents, system);
  REQUIRE(scores.size() == 8);
  CHECK(scores[2].ranker == "pagerank");
  CHECK(scores[2].ac[0] == 1.0);
  CHECK(scores[0].ranker == "change");
  CHECK(scores[0].ac[0] == 0.0);
  CHECK(scores[0].ac[2] == 1.0);
  // An undetected incident is no case; an unknown ranker is refused.
  CHECK(rank_root_causes(system, incidents, {alert(3 * kHour, 2)}, options).empty());
  options.rankers = {"oracle"};
  CHECK_THROWS_AS(rank_root_causes(system, incidents, alerts, options), std::invalid_argument);
}

TEST_CASE("A ranker of your own sees only what was known at the ranking instant", "[rca]") {
  RcaSystem system = chain();
  system.changes.push_back({"later", {2 * kHour}, {2}});  // after every ranking
  system.changes.push_back({"flag", {30 * kMinute, kHour + 2 * kMinute}, {0}});  // one step later
  const std::vector<IncidentRecord> incidents = {incident(0, 2, "db", "latency", {0, 1, 2})};
  std::vector<Alert> alerts = {alert(kHour - 90 * kMinute, 3),  // before the lookback
                               alert(kHour, 2), alert(kHour + 30 * kSecond, 1),
                               alert(kHour + 2 * kMinute, 0), alert(3 * kHour, 2)};
  alerts[1].resolved = kHour + 3 * kMinute;  // still firing at detection, resolved by 5 min
  struct Seen {
    std::int64_t incident;
    SimTime at, delay, lookback;
    std::vector<SimTime> alert_times, resolved;
    std::vector<std::string> changes;
    std::vector<std::size_t> change_steps;
  };
  std::vector<Seen> seen;
  RcaOptions options;
  options.delays = {0, 5 * kMinute};
  options.rankers = {"mine", "pagerank"};
  options.custom = {{"mine", [&](const RcaContext& c) {
                       Seen s{c.incident, c.at, c.delay, c.lookback, {}, {}, {}, {}};
                       for (const Alert& a : c.alerts) {
                         s.alert_times.push_back(a.time);
                         s.resolved.push_back(a.resolved);
                       }
                       for (const RcaSystem::Change& change : c.system.changes) {
                         s.changes.push_back(change.name);
                         s.change_steps.push_back(change.times.size());
                       }
                       seen.push_back(s);
                       return std::vector<RcaCandidate>{{"db", 2}, {"service:web", 1}};
                     }}};
  const auto rankings = rank_root_causes(system, incidents, alerts, options);
  REQUIRE(seen.size() == 2);  // one call per delay
  CHECK(seen[0].incident == 0);
  CHECK(seen[0].at == kHour);  // detection: db's alert at 1 h
  CHECK(seen[1].at == kHour + 5 * kMinute);
  CHECK(seen[1].delay == 5 * kMinute);
  CHECK(seen[0].lookback == kHour);
  // Only the alerts of (at - lookback, at]: not the one 90 minutes before, not the later ones.
  CHECK(seen[0].alert_times == std::vector<SimTime>{kHour});
  CHECK(seen[1].alert_times ==
        std::vector<SimTime>{kHour, kHour + 30 * kSecond, kHour + 2 * kMinute});
  CHECK(seen[0].resolved == std::vector<SimTime>{-1});  // its resolution was still to come
  CHECK(seen[1].resolved.front() == kHour + 3 * kMinute);
  // The changes made by then: not `later`; the flag with its first step only, then both.
  CHECK(seen[0].changes == std::vector<std::string>{"deploy-api", "old-config", "flag"});
  CHECK(seen[0].change_steps.back() == 1);
  CHECK(seen[1].change_steps.back() == 2);
  // Ranked and scored like a built-in ranker: a bare name is a service.
  REQUIRE(rankings.size() == 4);
  CHECK(rankings[0].ranker == "mine");
  CHECK(rankings[2].ranker == "pagerank");
  CHECK(ids(rankings[0]) == std::vector<std::string>{"service:db", "service:web"});
  const auto scores = score_rankings(rankings, incidents, system);
  REQUIRE(scores.size() == 4);
  CHECK(scores[0].ranker == "mine");
  CHECK(scores[0].ac[0] == 1.0);
  // A ranker that blames the wrong service first scores AC@1 = 0 (AC@2 = 1).
  options.custom[0].second = [](const RcaContext&) {
    return std::vector<RcaCandidate>{{"service:web", 0}, {"service:db", 0}};
  };
  const auto wrong =
      score_rankings(rank_root_causes(system, incidents, alerts, options), incidents, system);
  CHECK(wrong[0].ac[0] == 0.0);
  CHECK(wrong[0].ac[1] == 1.0);
}

TEST_CASE("A ranker of your own that fails or names nothing fails the ranking clearly", "[rca]") {
  const RcaSystem system = chain();
  const std::vector<IncidentRecord> incidents = {incident(0, 2, "db", "latency", {0, 1, 2})};
  const std::vector<Alert> alerts = {alert(kHour, 2)};
  RcaOptions options;
  options.delays = {0};
  options.rankers = {"mine"};
  const auto message = [&](RcaRanker ranker) -> std::string {
    options.custom = {{"mine", std::move(ranker)}};
    try {
      rank_root_causes(system, incidents, alerts, options);
    } catch (const ScriptError& error) {
      return error.what();
    }
    return "no error";
  };
  const std::string unknown = message([](const RcaContext&) {
    return std::vector<RcaCandidate>{{"service:dv", 1}};
  });
  CHECK_THAT(unknown, Catch::Contains("'service:dv' names no service") &&
                          Catch::Contains("did you mean 'db'") &&
                          Catch::Contains("root-cause ranker 'mine', incident 0"));
  CHECK_THAT(message([](const RcaContext&) {
               return std::vector<RcaCandidate>{{"edge:db->web", 1}};
             }),
             Catch::Contains("names no dependency"));
  CHECK_THAT(message([](const RcaContext&) -> std::vector<RcaCandidate> {
               throw std::runtime_error("boom");
             }),
             Catch::StartsWith("boom (root-cause ranker 'mine'"));
  // A candidate twice, as written or once bare and once with its prefix: it took two ranks.
  CHECK_THAT(message([](const RcaContext&) {
               return std::vector<RcaCandidate>{{"web", 3}, {"db", 2}, {"service:web", 1}};
             }),
             Catch::StartsWith("'service:web' is ranked twice (candidates 1 and 3): a ranking "
                               "names each candidate once (root-cause ranker 'mine'"));
  // A custom ranker may not take a built-in one's name, nor be named twice.
  options.custom = {{"change", [](const RcaContext&) { return std::vector<RcaCandidate>{}; }}};
  CHECK_THROWS_AS(rank_root_causes(system, incidents, alerts, options), std::invalid_argument);
  options.custom = {{"mine", [](const RcaContext&) { return std::vector<RcaCandidate>{}; }},
                    {"mine", [](const RcaContext&) { return std::vector<RcaCandidate>{}; }}};
  CHECK_THROWS_AS(rank_root_causes(system, incidents, alerts, options), std::invalid_argument);
}

TEST_CASE("Rankings read from CSV and JSON lines", "[rca]") {
  const auto dir = std::filesystem::temp_directory_path() / "dosim-rca-test";
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  const auto csv = read_rankings_file(
      write("r.csv",
            "incident_id,rank,candidate,ranker\n0,2,api,mine\n0,1,service:db,mine\n"
            "1,1,change:deploy-api,mine\n"));
  REQUIRE(csv.size() == 2);
  CHECK(ids(csv[0]) == std::vector<std::string>{"service:db", "service:api"});
  CHECK(csv[1].ranker == "mine");
  const auto json = read_rankings_file(
      write("r.jsonl",
            "{\"incident_id\": 1, \"candidates\": [\"edge:api->db\", \"db\"], \"delay_s\": 60}\n"));
  REQUIRE(json.size() == 1);
  CHECK(json[0].ranker == "external");
  CHECK(json[0].delay == kMinute);
  CHECK(ids(json[0]) == std::vector<std::string>{"edge:api->db", "service:db"});
  try {
    read_rankings_file(write("bad.csv", "incident_id,candidate\n-1,db\n2,\n"));
    FAIL("no error");
  } catch (const InputError& error) {
    REQUIRE(error.diagnostics().size() == 2);
    CHECK(error.diagnostics()[0].line == 2);
    CHECK(error.diagnostics()[1].line == 3);
  }
  try {
    read_rankings_file(
        write("bad.jsonl", "{\"incident_id\": 1}\n\n{\"incident_id\": 2, \"candidates\": [3]}\n"));
    FAIL("no error");
  } catch (const InputError& error) {
    REQUIRE(error.diagnostics().size() == 2);
    CHECK(error.diagnostics()[0].line == 1);
    CHECK(error.diagnostics()[1].line == 3);
  }
  // Against a trace's system and incidents: every problem at its line and column.
  const std::vector<IncidentRecord> incidents = {incident(0, 2, "db", "latency", {2, 1, 0})};
  const auto said = [&](const std::string& name, const std::string& text) {
    std::vector<std::string> out;
    try {
      read_rankings_file(write(name, text), chain(), incidents, "t.h5");
      FAIL("no error");
    } catch (const InputError& error) {
      for (const Diagnostic& d : error.diagnostics())
        out.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + " " + d.message);
    }
    return out;
  };
  CHECK(said("t.csv",
             "incident_id,rank,candidate,delay_s\n0,0,db,-5\n0,1.5,dbb,1e300\n7,1,api,0\n"
             "0,2,edge:web->db,0\n0,3,change:anything,0\n") ==
        std::vector<std::string>{
            "2:3 rank must be a whole number >= 1 (1 first)",
            "2:8 delay_s must be a number of seconds in [0, 1e9]",
            "3:3 rank must be a whole number >= 1 (1 first)",
            "3:7 candidate 'dbb' is no service or dependency of t.h5; did you mean 'service:db'?",
            "3:11 delay_s must be a number of seconds in [0, 1e9]",
            "4:1 incident_id 7 is not an incident of t.h5",
            "5:5 candidate 'edge:web->db' is no service or dependency of t.h5; did you mean "
            "'edge:api->db'?"});
  CHECK(said("t.jsonl",
             "{\"incident_id\": 0, \"candidates\": [\"db\"], \"rankr\": \"x\"}\n"
             "{\"incident_id\": 0, \"candidates\": [\"db\"]}\n"
             "{\"incident_id\": 0, \"candidates\": [\"api\"], \"delay_s\": 0}\n") ==
        std::vector<std::string>{"1:42 unknown key `rankr`; did you mean 'ranker'? (incident_id, "
                                 "candidates; optional ranker, delay_s)",
                                 "3:2 a second ranking of incident 0 by external at delay_s 0s "
                                 "(the first is at line 2)"});
  // Two candidates at one rank of one ranking (another ranker's rank 1 is its own), and, in
  // the same round, api named twice by m (the row of the rank given twice counts); a
  // missing key said missing.
  CHECK(said("t2.csv",
             "incident_id,rank,candidate,ranker\n0,1,db,m\n0,1,api,m\n0,1,api,other\n"
             "0,2,api,m\n") ==
        std::vector<std::string>{
            "3:3 rank 1 of incident 0 by m is given twice (line 2 too): one candidate a rank",
            "5:5 'service:api' is ranked twice in incident 0 by m (line 3 too): a ranking names "
            "each candidate once"});
  CHECK(said("t2.jsonl", "{\"candidates\": []}\n{\"incident_id\": 0}\n") ==
        std::vector<std::string>{"1:1 missing key `incident_id` (a whole number >= 0)",
                                 "2:1 missing key `candidates` (a list of strings, best first)"});
  std::filesystem::remove_all(dir);
}
