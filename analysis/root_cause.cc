#include "dosim/analysis/root_cause.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "dosim/analysis/scoring.h"
#include "dosim/error.h"
#include "engine/rng.h"

namespace dosim {
namespace {

constexpr double kDamping = 0.85;
constexpr int kPageRankIterations = 100;

std::string service_id(const RcaSystem& system, int s) { return "service:" + system.services[s]; }

// What the rankers know at the ranking instant: per service its alerts in the lookback and
// the first of them.
struct Anomaly {
  std::vector<double> alerts;  // per service: alerts in (at - lookback, at]
  std::vector<SimTime> first;  // per service: its first such alert, or -1
  std::vector<int> anomalous;  // services with at least one, in index order
};

// Alerts in time order (stable), so that a window is found by bisection: a long run's tens
// of thousands of alerts are not scanned once per ranking.
using AlertsByTime = std::vector<const Alert*>;

AlertsByTime by_time(const std::vector<Alert>& alerts) {
  AlertsByTime sorted;
  for (const Alert& alert : alerts) sorted.push_back(&alert);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Alert* x, const Alert* y) { return x->time < y->time; });
  return sorted;
}

// The alerts with from < time <= to.
std::pair<AlertsByTime::const_iterator, AlertsByTime::const_iterator> window(
    const AlertsByTime& alerts, SimTime from, SimTime to) {
  const auto after = [](SimTime t, const Alert* a) { return t < a->time; };
  return {std::upper_bound(alerts.begin(), alerts.end(), from, after),
          std::upper_bound(alerts.begin(), alerts.end(), to, after)};
}

// The ranking context's alerts (all inside its window) counted per service.
Anomaly anomaly_of(const RcaContext& context) {
  const RcaSystem& system = context.system;
  Anomaly a;
  a.alerts.assign(system.services.size(), 0);
  a.first.assign(system.services.size(), -1);
  for (const Alert& alert : context.alerts) {
    if (alert.service < 0 || static_cast<std::size_t>(alert.service) >= system.services.size())
      continue;
    a.alerts[alert.service] += 1;
    if (a.first[alert.service] < 0 || alert.time < a.first[alert.service])
      a.first[alert.service] = alert.time;
  }
  for (std::size_t s = 0; s < a.alerts.size(); ++s)
    if (a.alerts[s] > 0) a.anomalous.push_back(static_cast<int>(s));
  return a;
}

// The system as known at `at`: the changes (and a change's steps) made by then only. Null
// when that is the whole system.
std::unique_ptr<RcaSystem> known_at(const RcaSystem& system, SimTime at) {
  const bool all_known = std::all_of(system.changes.begin(), system.changes.end(),
                                     [&](const RcaSystem::Change& change) {
                                       return std::all_of(change.times.begin(), change.times.end(),
                                                          [&](SimTime t) { return t <= at; });
                                     });
  if (all_known) return nullptr;
  auto known = std::make_unique<RcaSystem>();
  known->services = system.services;
  known->edges = system.edges;
  known->places = system.places;
  for (const RcaSystem::Change& change : system.changes) {
    RcaSystem::Change made{change.name, {}, change.services};
    for (SimTime t : change.times)
      if (t <= at) made.times.push_back(t);
    if (!made.times.empty()) known->changes.push_back(std::move(made));
  }
  return known;
}

// The alerts of (at - lookback, at], as they stood at `at`.
std::vector<Alert> alerts_at(const AlertsByTime& alerts, SimTime at, SimTime lookback) {
  std::vector<Alert> out;
  const auto [begin, end] = window(alerts, at - lookback, at);
  out.reserve(static_cast<std::size_t>(end - begin));
  for (auto it = begin; it != end; ++it) {
    out.push_back(**it);
    if (out.back().resolved > at) out.back().resolved = -1;  // still firing then
  }
  return out;
}

// Longest call path from an entry service (one nobody calls); a cycle is cut after n passes.
std::vector<int> depths(const RcaSystem& system) {
  const std::size_t n = system.services.size();
  std::vector<int> depth(n, 0);
  for (std::size_t pass = 0; pass < n; ++pass) {
    bool changed = false;
    for (const auto& [caller, callee] : system.edges)
      if (caller != callee && depth[callee] < depth[caller] + 1 &&
          depth[caller] + 1 < static_cast<int>(n)) {
        depth[callee] = depth[caller] + 1;
        changed = true;
      }
    if (!changed) break;
  }
  return depth;
}

std::vector<RcaCandidate> rank_deepest(const RcaSystem& system, const Anomaly& a,
                                       const std::vector<int>& depth) {
  std::vector<char> calls_anomalous(system.services.size(), 0);
  for (const auto& [caller, callee] : system.edges)
    if (caller != callee && a.alerts[callee] > 0) calls_anomalous[caller] = 1;
  std::vector<int> order = a.anomalous;
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    if (calls_anomalous[x] != calls_anomalous[y]) return calls_anomalous[x] < calls_anomalous[y];
    if (depth[x] != depth[y]) return depth[x] > depth[y];
    if (a.first[x] != a.first[y]) return a.first[x] < a.first[y];
    return x < y;
  });
  std::vector<RcaCandidate> out;
  for (std::size_t i = 0; i < order.size(); ++i)
    out.push_back({service_id(system, order[i]), static_cast<double>(order.size() - i)});
  return out;
}

std::vector<RcaCandidate> rank_pagerank(const RcaSystem& system, const Anomaly& a) {
  const std::size_t n = system.services.size();
  double total = 0;
  for (double x : a.alerts) total += x;
  std::vector<RcaCandidate> out;
  if (total <= 0) return out;
  // Out-links of the anomalous subgraph: caller -> its anomalous callees, weighted by their
  // anomaly; a service with none keeps the walk (a self-loop).
  std::vector<std::vector<std::pair<int, double>>> links(n);
  for (const auto& [caller, callee] : system.edges)
    if (caller != callee && a.alerts[caller] > 0 && a.alerts[callee] > 0)
      links[caller].emplace_back(callee, a.alerts[callee]);
  std::vector<double> restart(n), rank(n), next(n);
  for (std::size_t s = 0; s < n; ++s) rank[s] = restart[s] = a.alerts[s] / total;
  for (int iteration = 0; iteration < kPageRankIterations; ++iteration) {
    for (std::size_t s = 0; s < n; ++s) next[s] = (1 - kDamping) * restart[s];
    for (int s : a.anomalous) {
      double weight = 0;
      for (const auto& link : links[s]) weight += link.second;
      if (weight <= 0) {
        next[s] += kDamping * rank[s];
        continue;
      }
      for (const auto& [to, w] : links[s]) next[to] += kDamping * rank[s] * w / weight;
    }
    rank.swap(next);
  }
  std::vector<int> order = a.anomalous;
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return rank[x] > rank[y] || (rank[x] == rank[y] && x < y);
  });
  for (int s : order) out.push_back({service_id(system, s), rank[s]});
  return out;
}

std::vector<RcaCandidate> rank_changes(const RcaSystem& system, const Anomaly& a, SimTime at,
                                       SimTime lookback, const std::vector<int>& depth) {
  std::vector<char> near(system.services.size(), 0);  // 2: alerted, 1: next to one
  for (int s : a.anomalous) near[s] = 2;
  for (const auto& [caller, callee] : system.edges) {
    if (a.alerts[caller] > 0 && near[callee] == 0) near[callee] = 1;
    if (a.alerts[callee] > 0 && near[caller] == 0) near[caller] = 1;
  }
  std::vector<RcaCandidate> out;
  const double tau = static_cast<double>(std::max<SimTime>(lookback / 3, 1));
  for (const RcaSystem::Change& change : system.changes) {
    SimTime last = -1;  // its last step at or before the ranking
    for (SimTime t : change.times)
      if (t <= at) last = std::max(last, t);
    if (last < 0 || last <= at - lookback) continue;
    double nearness = 0.1;
    for (int s : change.services)
      nearness = std::max(nearness, near[s] == 2 ? 1.0 : near[s] == 1 ? 0.5 : 0.1);
    out.push_back(
        {"change:" + change.name, nearness * std::exp(-static_cast<double>(at - last) / tau)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const RcaCandidate& x, const RcaCandidate& y) { return x.score > y.score; });
  // Then the services, as `deepest` ranks them, below every change.
  for (RcaCandidate& c : rank_deepest(system, a, depth)) {
    c.score = 0;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<RcaCandidate> rank_random(const RcaSystem& system, std::uint64_t seed,
                                      std::int64_t incident) {
  const RandomStream stream(seed, entity_id("rca-random"), Purpose::kScenario);
  std::vector<int> order(system.services.size());
  for (std::size_t s = 0; s < order.size(); ++s) order[s] = static_cast<int>(s);
  // Fisher-Yates, draw i of the incident's block of draws.
  const auto base = static_cast<std::uint64_t>(incident) << 32;
  for (std::size_t i = order.size(); i > 1; --i) {
    const auto pick = std::min<std::size_t>(
        static_cast<std::size_t>(stream.uniform(base + i) * static_cast<double>(i)), i - 1);
    std::swap(order[i - 1], order[pick]);
  }
  std::vector<RcaCandidate> out;
  for (std::size_t i = 0; i < order.size(); ++i)
    out.push_back({service_id(system, order[i]), static_cast<double>(order.size() - i)});
  return out;
}

// The services the incident's root cause names.
std::set<std::string> root_services(const IncidentRecord& incident, const RcaSystem& system) {
  std::set<std::string> roots;
  if (incident.root_service >= 0 &&
      static_cast<std::size_t>(incident.root_service) < system.services.size())
    roots.insert(system.services[incident.root_service]);
  const std::string& root = incident.root_cause;
  const std::size_t arrow = root.find("->");
  if (arrow != std::string::npos) roots.insert(root.substr(arrow + 2));  // the edge's callee
  std::string place;
  if (root.rfind("zone ", 0) == 0) place = root.substr(5);
  if (root.rfind("region ", 0) == 0) place = root.substr(7);
  if (!place.empty())
    for (std::size_t s = 0; s < system.places.size(); ++s)
      if (std::find(system.places[s].begin(), system.places[s].end(), place) !=
          system.places[s].end())
        roots.insert(system.services[s]);
  // A change's defect: its services, comma-separated.
  if (arrow == std::string::npos && place.empty()) {
    std::size_t begin = 0;
    while (begin <= root.size()) {
      std::size_t end = root.find(',', begin);
      if (end == std::string::npos) end = root.size();
      const std::string name = root.substr(begin, end - begin);
      if (std::find(system.services.begin(), system.services.end(), name) != system.services.end())
        roots.insert(name);
      begin = end + 1;
    }
  }
  return roots;
}

bool is_change_cause(const std::string& cause) {
  return cause == "deployment" || cause == "config" || cause == "secret-rotation" ||
         cause == "feature-flag";
}

// The service a candidate stands for ("" for a change or an unknown form).
std::string candidate_service(const std::string& candidate) {
  if (candidate.rfind("service:", 0) == 0) return candidate.substr(8);
  return "";
}

}  // namespace

RcaSystem rca_system_of(const Scenario& scenario) {
  RcaSystem system;
  for (const ServiceSpec& service : scenario.services) {
    system.services.push_back(service.name);
    std::vector<std::string> places = service.zones;
    for (const std::string& region : service.zone_regions)
      if (std::find(places.begin(), places.end(), region) == places.end()) places.push_back(region);
    system.places.push_back(std::move(places));
  }
  for (const DependencySpec& d : scenario.dependencies)
    system.edges.emplace_back(d.caller, d.callee);
  for (const ChangeSpec& change : scenario.changes) {
    std::vector<SimTime> times = {change.at};
    for (const FlagStep& step : change.flag_steps) times.push_back(step.at);
    std::sort(times.begin(), times.end());
    system.changes.push_back({change.name, std::move(times), change.services});
  }
  return system;
}

const std::vector<std::string>& rca_ranker_names() {
  static const std::vector<std::string> names = {"change", "pagerank", "deepest", "random"};
  return names;
}

RcaRanker rca_builtin_ranker(const std::string& name) {
  if (name == "change")
    return [](const RcaContext& c) {
      return rank_changes(c.system, anomaly_of(c), c.at, c.lookback, depths(c.system));
    };
  if (name == "pagerank")
    return [](const RcaContext& c) { return rank_pagerank(c.system, anomaly_of(c)); };
  if (name == "deepest")
    return
        [](const RcaContext& c) { return rank_deepest(c.system, anomaly_of(c), depths(c.system)); };
  if (name == "random")
    return [](const RcaContext& c) { return rank_random(c.system, c.seed, c.incident); };
  return {};
}

std::string rca_candidate_id(const std::string& candidate, const RcaSystem& system) {
  const auto has = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  if (candidate.rfind("change:", 0) == 0) {
    std::vector<std::string> names;
    for (const RcaSystem::Change& change : system.changes) names.push_back(change.name);
    const std::string name = candidate.substr(7);
    if (has(names, name)) return candidate;
    throw std::invalid_argument("'" + candidate + "' names no change of the scenario" +
                                did_you_mean(name, names));
  }
  if (candidate.rfind("edge:", 0) == 0) {
    std::vector<std::string> names;
    for (const auto& [caller, callee] : system.edges)
      names.push_back(system.services[caller] + "->" + system.services[callee]);
    const std::string name = candidate.substr(5);
    if (has(names, name)) return candidate;
    throw std::invalid_argument("'" + candidate +
                                "' names no dependency of the scenario (edge:CALLER->CALLEE)" +
                                did_you_mean(name, names));
  }
  const std::string name =
      candidate.rfind("service:", 0) == 0 ? candidate.substr(8) : candidate;  // bare: a service
  if (has(system.services, name)) return "service:" + name;
  throw std::invalid_argument("'" + candidate +
                              "' names no service of the scenario (a candidate is service:NAME, "
                              "edge:CALLER->CALLEE or change:NAME)" +
                              did_you_mean(name, system.services));
}

namespace {

// `message` with `context` at the end of its first line (a Lua traceback stays below).
std::string with_context(const std::string& message, const std::string& context) {
  const std::size_t newline = message.find('\n');
  if (newline == std::string::npos) return message + context;
  return message.substr(0, newline) + context + message.substr(newline);
}

}  // namespace

std::vector<RcaRanking> rank_root_causes(const RcaSystem& system,
                                         const std::vector<IncidentRecord>& incidents,
                                         const std::vector<Alert>& alerts,
                                         const RcaOptions& options) {
  struct Chosen {
    const std::string* name;
    RcaRanker rank;
    bool custom;
  };
  const std::vector<std::string>& builtin = rca_ranker_names();
  for (std::size_t i = 0; i < options.custom.size(); ++i) {
    const std::string& name = options.custom[i].first;
    if (std::find(builtin.begin(), builtin.end(), name) != builtin.end())
      throw std::invalid_argument("root-cause ranker '" + name + "' is a built-in ranker's name");
    for (std::size_t j = 0; j < i; ++j)
      if (options.custom[j].first == name)
        throw std::invalid_argument("root-cause ranker '" + name + "' given twice");
  }
  std::vector<Chosen> chosen;
  for (const std::string& name : options.rankers) {
    if (RcaRanker rank = rca_builtin_ranker(name)) {
      chosen.push_back({&name, std::move(rank), false});
      continue;
    }
    const auto custom = std::find_if(options.custom.begin(), options.custom.end(),
                                     [&](const auto& named) { return named.first == name; });
    if (custom == options.custom.end() || !custom->second)
      throw std::invalid_argument("unknown root-cause ranker '" + name + "'");
    chosen.push_back({&name, custom->second, true});
  }
  const AlertsByTime sorted = by_time(alerts);
  std::vector<RcaRanking> rankings;
  const ScoringOptions matching{.tolerance = 0, .tick = kSecond};
  for (const IncidentRecord& incident : incidents) {
    if (incident.silent) continue;
    SimTime detected = -1;  // the first matching alert: inside the impact window
    const auto [begin, end] = window(sorted, incident.impact_start - 1, incident.impact_end);
    for (auto it = begin; it != end && detected < 0; ++it)
      if (alert_matches_incident(**it, incident, matching)) detected = (*it)->time;
    if (detected < 0 || chosen.empty()) continue;  // never detected: nothing triggers a ranking
    // What was known at each instant, made once for all the rankers.
    std::deque<std::unique_ptr<RcaSystem>> known;
    std::vector<RcaContext> contexts;
    contexts.reserve(options.delays.size());
    for (SimTime delay : options.delays) {
      const SimTime at = detected + delay;
      known.push_back(known_at(system, at));
      contexts.push_back(RcaContext{known.back() ? *known.back() : system, incident.id, at, delay,
                                    options.lookback, options.seed,
                                    alerts_at(sorted, at, options.lookback)});
    }
    for (const Chosen& ranker : chosen)
      for (const RcaContext& context : contexts) {
        RcaRanking ranking{incident.id, *ranker.name, context.delay, context.at, {}};
        if (!ranker.custom) {
          ranking.candidates = ranker.rank(context);
        } else {
          const std::string where = " (root-cause ranker '" + *ranker.name + "', incident " +
                                    std::to_string(incident.id) + " ranked at simulated time " +
                                    format_duration(context.at) + ")";
          try {
            ranking.candidates = ranker.rank(context);
            if (ranking.candidates.size() > options.keep) ranking.candidates.resize(options.keep);
            for (std::size_t c = 0; c < ranking.candidates.size(); ++c) {
              RcaCandidate& candidate = ranking.candidates[c];
              candidate.id = rca_candidate_id(candidate.id, system);
              // A candidate twice would take two ranks (and push the others down).
              for (std::size_t before = 0; before < c; ++before)
                if (ranking.candidates[before].id == candidate.id)
                  throw std::invalid_argument(
                      "'" + candidate.id + "' is ranked twice (candidates " +
                      std::to_string(before + 1) + " and " + std::to_string(c + 1) +
                      "): a ranking names each candidate once");
            }
          } catch (const std::exception& error) {
            throw ScriptError(with_context(error.what(), where));
          }
        }
        if (ranking.candidates.size() > options.keep) ranking.candidates.resize(options.keep);
        rankings.push_back(std::move(ranking));
      }
  }
  return rankings;
}

bool rca_candidate_correct(const std::string& candidate, const IncidentRecord& incident,
                           const RcaSystem& system) {
  if (candidate.rfind("change:", 0) == 0)
    return is_change_cause(incident.cause) && candidate.substr(7) == incident.name;
  if (candidate.rfind("edge:", 0) == 0) {
    const std::string edge = candidate.substr(5);
    if (edge == incident.root_cause) return true;
    const std::size_t arrow = edge.find("->");
    return arrow != std::string::npos &&
           root_services(incident, system).count(edge.substr(arrow + 2));
  }
  const std::string service = candidate_service(candidate);
  return !service.empty() && root_services(incident, system).count(service) > 0;
}

bool rca_candidate_on_path(const std::string& candidate, const IncidentRecord& incident,
                           const RcaSystem& system) {
  if (rca_candidate_correct(candidate, incident, system)) return true;
  std::string service = candidate_service(candidate);
  if (candidate.rfind("edge:", 0) == 0) {
    const std::size_t arrow = candidate.find("->");
    if (arrow != std::string::npos) service = candidate.substr(arrow + 2);
  }
  for (int s : incident.affected)
    if (static_cast<std::size_t>(s) < system.services.size() && system.services[s] == service)
      return true;
  return false;
}

std::vector<RcaScores> score_rankings(const std::vector<RcaRanking>& rankings,
                                      const std::vector<IncidentRecord>& incidents,
                                      const RcaSystem& system) {
  std::map<std::int64_t, const IncidentRecord*> by_id;
  for (const IncidentRecord& incident : incidents) by_id.emplace(incident.id, &incident);
  std::vector<RcaScores> out;
  const auto row = [&](const std::string& ranker, SimTime delay) -> RcaScores& {
    for (RcaScores& s : out)
      if (s.ranker == ranker && s.delay == delay) return s;
    out.push_back({});
    out.back().ranker = ranker;
    out.back().delay = delay;
    return out.back();
  };
  for (const RcaRanking& ranking : rankings) {
    const auto found = by_id.find(ranking.incident);
    if (found == by_id.end() || found->second->silent) continue;
    const IncidentRecord& incident = *found->second;
    RcaScores& s = row(ranking.ranker, ranking.delay);
    ++s.cases;
    int first = -1, first_path = -1;
    for (std::size_t i = 0; i < ranking.candidates.size() && i < 5; ++i) {
      if (first < 0 && rca_candidate_correct(ranking.candidates[i].id, incident, system))
        first = static_cast<int>(i);
      if (first_path < 0 && rca_candidate_on_path(ranking.candidates[i].id, incident, system))
        first_path = static_cast<int>(i);
    }
    for (int k = 0; k < 5; ++k) {
      if (first >= 0 && first <= k) s.ac[k] += 1;
      if (first_path >= 0 && first_path <= k) s.ac_path[k] += 1;
    }
  }
  for (RcaScores& s : out) {
    double sum = 0;
    for (int k = 0; k < 5; ++k) {
      s.ac[k] /= static_cast<double>(s.cases);
      s.ac_path[k] /= static_cast<double>(s.cases);
      sum += s.ac[k];
    }
    s.avg5 = sum / 5;
  }
  return out;
}

std::vector<RcaScores> score_rankings(const std::vector<RcaRanking>& rankings,
                                      const std::vector<IncidentRecord>& incidents,
                                      const RcaSystem& system,
                                      const std::vector<std::int64_t>& cases) {
  const std::set<std::int64_t> is_case(cases.begin(), cases.end());
  std::vector<RcaRanking> kept;
  for (const RcaRanking& ranking : rankings)
    if (is_case.count(ranking.incident)) kept.push_back(ranking);
  std::vector<RcaScores> out = score_rankings(kept, incidents, system);
  std::set<std::int64_t> scored;  // the cases that are not silent
  for (const IncidentRecord& incident : incidents)
    if (is_case.count(incident.id) && !incident.silent) scored.insert(incident.id);
  for (RcaScores& s : out) {
    // Each row's AC@k over its own rankings, then over every case (unranked ones missed).
    const double ranked = static_cast<double>(s.cases), all = static_cast<double>(scored.size());
    if (!(all > ranked)) continue;
    for (int k = 0; k < 5; ++k) {
      s.ac[k] *= ranked / all;
      s.ac_path[k] *= ranked / all;
    }
    s.avg5 *= ranked / all;
    s.cases = static_cast<decltype(s.cases)>(scored.size());
  }
  return out;
}

std::string rca_scores_json(const std::vector<RcaScores>& scores, int indent) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const RcaScores& s : scores)
    out.push_back({{"ranker", s.ranker},
                   {"delay_s", static_cast<double>(s.delay) / 1e9},
                   {"cases", s.cases},
                   {"ac1", s.ac[0]},
                   {"ac3", s.ac[2]},
                   {"ac5", s.ac[4]},
                   {"avg5", s.avg5},
                   {"ac1_path", s.ac_path[0]},
                   {"ac3_path", s.ac_path[2]},
                   {"ac5_path", s.ac_path[4]}});
  return out.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

PythonRankerMaker g_python_ranker_maker = nullptr;  // set by dosim's Python layer

}  // namespace

void set_python_ranker_maker(PythonRankerMaker maker) { g_python_ranker_maker = maker; }

RcaRanker make_python_ranker(const std::string& module, const std::string& function) {
  if (g_python_ranker_maker == nullptr)
    throw InputError(module,
                     "a ranker written in Python needs dosim's Python support (python/, built "
                     "with pybind11); this program has none");
  return g_python_ranker_maker(module, function);
}

}  // namespace dosim
