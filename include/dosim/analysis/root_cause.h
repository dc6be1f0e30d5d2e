// Root-cause ranking (docs/rca.md): for every detected incident, rankers order the candidate
// root causes (services, dependencies, changes) from what was known at the moment of the
// ranking only: the alerts fired and the changes made up to then, and the dependency graph.
// Scored against the ground truth with RCAEval's AC@k and Avg@5.
//
// Cases. Each scored (non-silent) incident that an alert detected is a case: its detection
// time is its first matching alert (the matching rule of scoring.h), and it is ranked at the
// detection time plus each delay of the sweep. Alerts and changes after that instant are not
// seen.
//
// Candidates are strings: "service:NAME", "edge:CALLER->CALLEE", "change:NAME" (a change of
// the scenario's `changes:`, by name).
//
// Rankers:
//   change    recent changes first (a change's age: since its last step before the ranking,
//             so a flag's rollout counts from its latest step), each scored by its recency
//             (exp(-age / (lookback / 3)))
//             times its nearness to the anomaly (1 on an alerted service, 0.5 on a caller or
//             callee of one, 0.1 elsewhere); then the services `deepest` ranks
//   pagerank  a personalized PageRank over the anomalous subgraph (the alerted services in
//             the lookback and their dependencies among them), walking from a caller to its
//             callees in proportion to their anomaly (alert counts), a service with no
//             anomalous callee keeping the walk, restarting in proportion to anomaly (damping
//             0.85), as MicroRCA ranks; the other services follow, unranked
//   deepest   the anomalous services that call no anomalous service (the frontier), deepest
//             in the call graph first, ties by first alert; then the other anomalous
//             services by depth
//   random    every service in a random order drawn from the stream (seed, "rca-random",
//             incident id)
//
// Rankers of your own (docs/rca.md, "Your own ranker"): an RcaRanker, given by name in
// RcaOptions::custom and listed in RcaOptions::rankers like a built-in one. It is called
// once per case and delay with an RcaContext: what was known at the ranking instant and
// nothing else (the alerts of the lookback up to the instant, the changes made by then, the
// graph; never the incident's root cause, its affected services or its impact window, which
// are what it is scored on). The built-in rankers are RcaRankers too (rca_builtin_ranker).
// A run's scenario names rankers written in Lua and Python (run/rankers.h); a program its
// own through RunOptions::rankers (dosim/run.h).
//
// Correct candidates, per incident: the root service (the fault's target; for an edge fault
// its caller, and its callee too), every service the root cause names (a change's defect
// services; the services placed in an outage's zone or region), the faulted edge, and, for a
// change's defect, the change itself. AC@k is the share of cases with a correct candidate
// among the first k; Avg@5 the mean of AC@1..AC@5. "On the path" counts, besides, any
// candidate whose service the incident affected (partial credit, reported apart).
// Pure functions, thread-safe (rank_root_causes as far as its custom rankers are).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "dosim/alert.h"
#include "dosim/engine/incident.h"
#include "dosim/engine/scenario.h"
#include "dosim/engine/sim_time.h"

namespace dosim {

// What a ranker may look at besides the alerts: the system's shape and its changes.
struct RcaSystem {
  std::vector<std::string> services;
  std::vector<std::pair<int, int>> edges;        // (caller, callee), scenario order
  std::vector<std::vector<std::string>> places;  // per service: its zones and regions
  struct Change {
    std::string name;
    std::vector<SimTime> times;  // when it acted: its `at`, and a flag's later steps
    std::vector<int> services;
  };
  std::vector<Change> changes;
};

// The system of a scenario (a run's copy: with the changes a script added).
RcaSystem rca_system_of(const Scenario& scenario);

struct RcaCandidate {
  std::string id;  // "service:db", "edge:web->db", "change:deploy-v2"
  double score = 0;
};

// What a ranker knows at the ranking instant `at`, and nothing else.
struct RcaContext {
  // The system as known at `at`: its services, edges and places, and the changes made by
  // then (a change's `times` only up to `at`; a change not begun yet is not there).
  const RcaSystem& system;
  std::int64_t incident = -1;  // the case's incident id, to tell cases apart; nothing more
  SimTime at = 0;              // the ranking instant: the detection plus `delay`
  SimTime delay = 0;
  SimTime lookback = 0;
  std::uint64_t seed = 0;  // the run's seed, for a ranker that draws (as `random` does)
  // The alerts fired in (at - lookback, at], in time order (ties: the order they fired);
  // `resolved` is -1 for an alert still firing at `at`.
  std::vector<Alert> alerts;
};

// A ranker: the candidates of one case at one instant, best first (scores are the ranker's
// own; higher is better by convention). Candidates must name a service, an edge or a change
// of the system ("service:NAME", "edge:CALLER->CALLEE", "change:NAME"; a bare name is read
// as a service). It may throw to fail the ranking (a ScriptError says it best). Called on
// the thread that ranks, one call at a time.
using RcaRanker = std::function<std::vector<RcaCandidate>(const RcaContext&)>;
using NamedRcaRankers = std::vector<std::pair<std::string, RcaRanker>>;

struct RcaOptions {
  // The rankers to run, by name: a built-in one or one of `custom`.
  std::vector<std::string> rankers = {"change", "pagerank", "deepest", "random"};
  std::vector<SimTime> delays = {0, kMinute, 5 * kMinute};
  SimTime lookback = kHour;  // alerts and changes this far before the ranking count
  std::uint64_t seed = 0;    // the random ranker's stream
  std::size_t keep = 10;     // candidates kept per ranking
  // Rankers of the caller's own. REQUIRES: names unique, none a built-in ranker's.
  NamedRcaRankers custom;
};

struct RcaRanking {
  std::int64_t incident = -1;  // the case's incident id
  std::string ranker;
  SimTime delay = 0;
  SimTime at = 0;                        // detection + delay: what the ranker knew
  std::vector<RcaCandidate> candidates;  // best first
};

// The built-in rankers' names, as `RcaOptions::rankers` takes them.
const std::vector<std::string>& rca_ranker_names();

// A built-in ranker by name (an empty function for an unknown name).
RcaRanker rca_builtin_ranker(const std::string& name);

// Every case ranked by every ranker at every delay: cases in incident order, then rankers
// in the given order, then delays. Throws std::invalid_argument for an unknown ranker (or a
// custom one named twice or after a built-in one). A custom ranker that throws, or returns
// a candidate that names nothing of the system, fails the whole ranking with a ScriptError
// naming the ranker, the incident and the instant.
std::vector<RcaRanking> rank_root_causes(const RcaSystem& system,
                                         const std::vector<IncidentRecord>& incidents,
                                         const std::vector<Alert>& alerts,
                                         const RcaOptions& options = {});

// `candidate` as a ranking holds it: a bare name is read as "service:NAME". Throws
// std::invalid_argument when it names no service, edge or change of `system`.
std::string rca_candidate_id(const std::string& candidate, const RcaSystem& system);

// Whether `candidate` is a correct root cause of `incident` (above); with `on_path`, also
// whether its service is one the incident affected.
bool rca_candidate_correct(const std::string& candidate, const IncidentRecord& incident,
                           const RcaSystem& system);
bool rca_candidate_on_path(const std::string& candidate, const IncidentRecord& incident,
                           const RcaSystem& system);

struct RcaScores {
  std::string ranker;
  SimTime delay = 0;
  std::size_t cases = 0;
  double ac[5] = {0, 0, 0, 0, 0};       // AC@1 .. AC@5
  double avg5 = 0;                      // mean of AC@1..AC@5
  double ac_path[5] = {0, 0, 0, 0, 0};  // the same, counting candidates on the path
};

// AC@k per (ranker, delay), in order of first appearance. Rankings of incidents the list
// does not hold, or of silent ones, are skipped.
std::vector<RcaScores> score_rankings(const std::vector<RcaRanking>& rankings,
                                      const std::vector<IncidentRecord>& incidents,
                                      const RcaSystem& system);
// The same where the cases are given (the incidents an alert detected, by id): a case that
// a (ranker, delay) does not rank counts as a miss for it, and rankings of other incidents
// are skipped (rankings from a file, which need not rank every case).
std::vector<RcaScores> score_rankings(const std::vector<RcaRanking>& rankings,
                                      const std::vector<IncidentRecord>& incidents,
                                      const RcaSystem& system,
                                      const std::vector<std::int64_t>& cases);

// The JSON form of AC@k scores, one object per row (ranker, delay_s, cases, ac1, ac3, ac5,
// avg5, ac1_path, ac3_path, ac5_path): the "rca" array of `dosim score --json`, and
// Report.rca_scores() in Python, so that both say the same numbers. Names that are not
// UTF-8 get U+FFFD.
std::string rca_scores_json(const std::vector<RcaScores>& scores, int indent = 2);

}  // namespace dosim

namespace dosim {

// Rankings made elsewhere (`dosim score TRACE --rca FILE`, docs/rca.md), as CSV or JSON lines
// (a file whose first non-blank character is `{`):
//   CSV: a header with `incident_id` and `candidate`, optional `rank` (1 first; default the
//        file's order), `ranker` (default "external") and `delay_s` (default 0); one row per
//        candidate.
//   JSON lines: {"incident_id": 3, "candidates": ["service:db", "edge:api->db"],
//                "ranker": "mine", "delay_s": 60}, `ranker` and `delay_s` optional.
// A candidate is "service:NAME", "edge:CALLER->CALLEE" or "change:NAME"; a bare name is read
// as a service. A `rank` is a whole number >= 1, `delay_s` a number of seconds in [0, 1e9];
// in JSON lines a (incident, ranker, delay) is ranked once and no other key is allowed.
// Throws InputError at FILE:LINE:COL for every problem found.
std::vector<RcaRanking> read_rankings_file(const std::string& path);
// The same, checked against a trace (`trace_path` in messages): every incident_id one of
// `incidents`, every service and edge candidate one of `system`'s (a change's name is not
// checked: a script may have added it).
std::vector<RcaRanking> read_rankings_file(const std::string& path, const RcaSystem& system,
                                           const std::vector<IncidentRecord>& incidents,
                                           const std::string& trace_path);

// Rankers written in Python (`rca: rankers: [{name: N, python: FILE.py, function: F}]`,
// docs/rca.md): what makes one lives in dosim's Python layer (python/), above the
// libraries; the `dosim` program and the `dosim` Python module install it at start. Not
// thread-safe: set it before any run.
using PythonRankerMaker = RcaRanker (*)(const std::string& module, const std::string& function);
void set_python_ranker_maker(PythonRankerMaker maker);
// A ranker that calls `function` of the Python file `module` with each case. Throws
// InputError (no Python support in this program, a file that does not load, no such
// function), without a position: the caller places it.
RcaRanker make_python_ranker(const std::string& module, const std::string& function);

}  // namespace dosim
