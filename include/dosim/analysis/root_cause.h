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
// Correct candidates, per incident: the root service (the fault's target; for an edge fault
// its caller, and its callee too), every service the root cause names (a change's defect
// services; the services placed in an outage's zone or region), the faulted edge, and, for a
// change's defect, the change itself. AC@k is the share of cases with a correct candidate
// among the first k; Avg@5 the mean of AC@1..AC@5. "On the path" counts, besides, any
// candidate whose service the incident affected (partial credit, reported apart).
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
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

struct RcaOptions {
  std::vector<std::string> rankers = {"change", "pagerank", "deepest", "random"};
  std::vector<SimTime> delays = {0, kMinute, 5 * kMinute};
  SimTime lookback = kHour;  // alerts and changes this far before the ranking count
  std::uint64_t seed = 0;    // the random ranker's stream
  std::size_t keep = 10;     // candidates kept per ranking
};

struct RcaCandidate {
  std::string id;  // "service:db", "edge:web->db", "change:deploy-v2"
  double score = 0;
};

struct RcaRanking {
  std::int64_t incident = -1;  // the case's incident id
  std::string ranker;
  SimTime delay = 0;
  SimTime at = 0;                        // detection + delay: what the ranker knew
  std::vector<RcaCandidate> candidates;  // best first
};

// The rankers' names, as `RcaOptions::rankers` takes them.
const std::vector<std::string>& rca_ranker_names();

// Every case ranked by every ranker at every delay: cases in incident order, then rankers
// in the given order, then delays. Throws std::invalid_argument for an unknown ranker.
std::vector<RcaRanking> rank_root_causes(const RcaSystem& system,
                                         const std::vector<IncidentRecord>& incidents,
                                         const std::vector<Alert>& alerts,
                                         const RcaOptions& options = {});

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
// as a service. Throws InputError at FILE:LINE:COL for every problem found.
std::vector<RcaRanking> read_rankings_file(const std::string& path);

}  // namespace dosim
