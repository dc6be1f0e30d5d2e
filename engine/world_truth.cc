// Ground truth: one incident per cause, its blast radius, and its impact measured against
// the counterfactual world (docs/ground-truth.md). Part of World (world.h).
#include <algorithm>

#include "world.h"

namespace dosim {
namespace {

bool differs(double real, double counterfactual, double relative, double absolute) {
  return std::abs(real - counterfactual) > std::max(relative * std::abs(counterfactual), absolute);
}

// The side (index into `sides`) of place z of `service`, or -1 when it is on none.
int side_of(const ServiceSpec& service, std::size_t z, bool by_zone,
            const std::vector<std::string>& sides) {
  const std::string& place = by_zone ? service.zones[z] : service.zone_regions[z];
  const auto it = std::find(sides.begin(), sides.end(), place);
  return place.empty() || it == sides.end() ? -1 : static_cast<int>(it - sides.begin());
}

}  // namespace

double partition_loss(const Scenario& scenario, const DependencySpec& dependency, bool by_zone,
                      const std::vector<std::string>& sides) {
  const ServiceSpec& caller = scenario.services[dependency.caller];
  const ServiceSpec& callee = scenario.services[dependency.callee];
  // Which sides the callee can be reached from: its own, or all when some replica is on none.
  std::vector<char> reachable(sides.size(), 0);
  bool everywhere = callee.zones.empty();
  for (std::size_t z = 0; z < callee.zones.size(); ++z) {
    const int side = side_of(callee, z, by_zone, sides);
    if (side < 0)
      everywhere = true;
    else
      reachable[static_cast<std::size_t>(side)] = 1;
  }
  if (everywhere) return 0.0;
  const std::vector<double> shares = caller.place_shares();
  double lost = 0;
  for (std::size_t z = 0; z < caller.zones.size(); ++z) {
    const int side = side_of(caller, z, by_zone, sides);
    if (side >= 0 && !reachable[static_cast<std::size_t>(side)]) lost += shares[z];
  }
  return std::min(lost, 1.0);
}

void World::build_truth() {
  for (std::size_t f = 0; f < scenario_.faults.size(); ++f) add_fault_truth(static_cast<int>(f));
  // Every change with a defect is a cause too.
  for (std::size_t c = 0; c < scenario_.changes.size(); ++c) add_change_truth(static_cast<int>(c));
  // The labelled anomalies of replayed series take the next ids (incidents() lists them),
  // so that causes added during the run come after every cause the scenario declares.
  declared_truth_ = truth_.size();
  labelled_truth_ = 0;
  const SimTime end_of_run = scenario_.tick_count() * scenario_.tick;
  for (const ReplaySpec& replay : scenario_.replay)
    for (const auto& [from, to] : replay.anomalies)
      if (from < end_of_run && replay.service >= 0) ++labelled_truth_;
  truth_built_ = true;
  for (std::size_t s = 0; s < scenario_.services.size(); ++s) {
    const SliSpec& sli = scenario_.services[s].sli;
    if (sli.p95_objective || sli.error_objective) objective_services_.push_back(static_cast<int>(s));
  }
}

void World::track_emergent(std::int64_t tick) {
  if (objective_services_.empty()) return;
  constexpr SimTime kMinimum = kMinute;  // a breach period opens an incident after this long,
                                         // and one ends after this long without a breach
  const SimTime tick_start = tick * scenario_.tick, tick_end = tick_start + scenario_.tick;
  auto breaks = [&](const TickOutcome& out, const SliSpec& sli, int s) {
    return (sli.p95_objective && out.p95[s] > to_seconds(*sli.p95_objective)) ||
           (sli.error_objective && out.error_ratio[s] > *sli.error_objective);
  };
  std::vector<int>& breaching = breaching_scratch_;
  breaching.clear();
  for (int s : objective_services_) {
    const SliSpec& sli = scenario_.services[s].sli;
    // A breach the counterfactual does not share is an injected cause's impact, not emergent.
    if (breaks(outcome_, sli, s) && (!shadow_running_ || breaks(shadow_outcome_, sli, s)))
      breaching.push_back(s);
  }
  if (breaching.empty()) {
    if (breach_since_ >= 0 && tick_end - last_breach_end_ >= kMinimum) {
      breach_since_ = -1;
      emergent_open_ = -1;
    }
    return;
  }
  if (breach_since_ < 0) breach_since_ = tick_start;
  last_breach_end_ = tick_end;
  if (emergent_open_ < 0 && last_breach_end_ - breach_since_ >= kMinimum) {
    // The deepest breaching service in the call graph is its root: callers break with it.
    int root = breaching.front();
    for (int s : topology_.order())
      if (std::find(breaching.begin(), breaching.end(), s) != breaching.end()) root = s;
    IncidentRecord record;
    record.id = next_truth_id();
    record.name = "emergent-" + std::to_string(++emergent_count_);
    record.cause = "emergent";
    record.root_service = root;
    record.root_cause = scenario_.services[root].name;
    record.start = record.impact_start = breach_since_;
    record.silent = false;
    emergent_open_ = static_cast<int>(truth_.size());
    truth_.push_back(std::move(record));
    truth_fault_.push_back(-1);
    blast_radius_.emplace_back();
    truth_phase_.push_back(TruthPhase::kDone);  // not a cause: nothing to track against
    affected_.emplace_back(scenario_.services.size(), 0);
  }
  if (emergent_open_ < 0) return;
  IncidentRecord& record = truth_[emergent_open_];
  record.end = record.impact_end = tick_end;
  for (int s : breaching) affected_[emergent_open_][s] = 1;
}

std::int64_t World::next_truth_id() const {
  return static_cast<std::int64_t>(truth_.size() + (truth_built_ ? labelled_truth_ : 0));
}

void World::add_fault_truth(int f) {
  const std::size_t services = scenario_.services.size();
  const std::size_t dependencies = scenario_.dependencies.size();
  const FaultSpec& fault = scenario_.faults[f];
  IncidentRecord record;
  record.id = next_truth_id();
  record.name = fault.name;
  record.cause = fault_kind_name(fault.kind);
  record.start = fault.start;
  record.end = fault.start + fault.duration;
  std::vector<int> radius;
  severed_.emplace_back();
  if (fault.target.is_split()) {
    const bool by_zone = !fault.target.zones.empty();
    const auto& sides = by_zone ? fault.target.zones : fault.target.regions;
    for (const auto& side : sides)
      record.root_cause += (record.root_cause.empty() ? "" : "|") + side;
    record.root_cause = "partition " + record.root_cause;
    std::vector<int> callers;
    for (std::size_t d = 0; d < dependencies; ++d) {
      const double lost = partition_loss(scenario_, scenario_.dependencies[d], by_zone, sides);
      if (lost <= 0) continue;
      severed_.back().emplace_back(static_cast<int>(d), lost);
      callers.push_back(scenario_.dependencies[d].caller);
    }
    radius = radius_of(callers);
  } else if (fault.target.is_place()) {
    const bool zone = !fault.target.zone.empty();
    record.root_cause = zone ? "zone " + fault.target.zone : "region " + fault.target.region;
    for (std::size_t s = 0; s < services; ++s) {
      const ServiceSpec& spec = scenario_.services[s];
      if (zone ? spec.placed_in_zone(fault.target.zone) : spec.placed_in_region(fault.target.region))
        radius.push_back(static_cast<int>(s));
    }
    radius = radius_of(radius);
  } else {
    int root;
    if (!fault.target.labels.empty()) {
      for (const auto& [key, value] : fault.target.labels)
        record.root_cause += (record.root_cause.empty() ? "labels " : ",") + key + "=" + value;
      root = fault.target.selected.empty() ? -1 : fault.target.selected.front();
    } else if (fault.target.is_edge()) {
      root = scenario_.dependencies[fault.target.dependency].caller;
      record.root_cause = scenario_.edge_name(fault.target.dependency);
    } else {
      root = fault.target.service;
      record.root_cause = scenario_.services[root].name;
      if (fault.target.endpoint >= 0)
        record.root_cause += " " + scenario_.services[root].endpoints[fault.target.endpoint].name;
    }
    record.root_service = root;
    radius = fault.target.labels.empty() ? radius_of({root}) : radius_of(fault.target.selected);
  }
  fault_cause_.push_back(static_cast<int>(truth_.size()));
  truth_fault_.push_back(f);
  blast_radius_.push_back(std::move(radius));
  truth_.push_back(std::move(record));
  truth_phase_.push_back(TruthPhase::kPending);
  affected_.emplace_back(services, 0);
}

void World::add_change_truth(int c) {
  change_cause_.push_back(-1);
  change_state_.emplace_back();
  const ChangeSpec& change = scenario_.changes[c];
  if (!change.defect.any()) return;
  const std::vector<int> broken = defect_services(change);
  if (broken.empty()) return;
  IncidentRecord record;
  record.id = next_truth_id();
  record.name = change.name;
  record.cause = change_kind_name(change.kind);
  for (int s : broken)
    record.root_cause += (record.root_cause.empty() ? "" : ",") + scenario_.services[s].name;
  record.root_service = broken.front();
  change_cause_[c] = static_cast<int>(truth_.size());
  truth_fault_.push_back(-1);
  blast_radius_.push_back(radius_of(broken));
  truth_.push_back(std::move(record));
  truth_phase_.push_back(TruthPhase::kPending);
  affected_.emplace_back(scenario_.services.size(), 0);
  set_change_window(c);
}

void World::set_change_window(int c) {
  IncidentRecord& record = truth_[change_cause_[c]];
  const SimTime at = scenario_.changes[c].at;
  const auto [first, end] = operations_.defect_window(c);
  record.start = first >= 0 ? first : at;
  record.end = end >= 0 ? end : at;
}

std::vector<int> World::radius_of(std::vector<int> roots) const {
  std::vector<int> radius = roots;
  for (int root : roots)
    for (int caller : topology_.upstream_of(root)) radius.push_back(caller);
  // A global load balancer moves a failing region's traffic to the stacks of the source's
  // other regions: what they receive, and what they call, is part of the cause's reach.
  std::vector<int> moved_to;
  for (const TrafficSpec& source : scenario_.traffic) {
    if (!source.failover) continue;
    bool reached = false;
    for (const RegionalEntry& regional : source.regions)
      for (int entry : regional.entry)
        reached = reached || std::find(radius.begin(), radius.end(), entry) != radius.end();
    if (!reached) continue;
    for (const RegionalEntry& regional : source.regions)
      for (int entry : regional.entry) {
        moved_to.push_back(entry);
        for (int s : topology_.downstream_of(entry)) moved_to.push_back(s);
        for (int s : topology_.upstream_of(entry)) moved_to.push_back(s);
      }
  }
  radius.insert(radius.end(), moved_to.begin(), moved_to.end());
  std::sort(radius.begin(), radius.end());
  radius.erase(std::unique(radius.begin(), radius.end()), radius.end());
  return radius;
}

std::vector<int> World::defect_services(const ChangeSpec& change) const {
  return change.kind == ChangeKind::kSecretRotation ? change.stragglers() : change.services;
}

void World::set_truth_phase(int cause, TruthPhase phase) {
  const auto tracked = [](TruthPhase p) {
    return p == TruthPhase::kActive || p == TruthPhase::kRecovering;
  };
  if (tracked(phase) && !tracked(truth_phase_[cause])) tracked_causes_.push_back(cause);
  truth_phase_[cause] = phase;
}

bool World::truth_tracking_active() const { return !tracked_causes_.empty(); }

void World::track_truth(std::int64_t tick) {
  const SimTime tick_end = (tick + 1) * scenario_.tick;
  last_tracked_tick_end_ = tick_end;
  for (std::size_t s = 0; s < impacted_.size(); ++s) {
    const TickOutcome& real = outcome_;
    const TickOutcome& base = shadow_outcome_;
    const SliSpec& sli = scenario_.services[s].sli;
    // With an objective, only breaking what the fault-free world keeps counts. Latency is
    // that of answered requests: a service that answers none in either world has none to
    // differ (the fluid model's latency of a service without traffic is what a request would
    // take, which nobody measures; a fault on it is silent unless it moves errors or load).
    const auto answers = [s](const TickOutcome& o) {
      return o.arrivals[s] > 0 && o.fast_fail[s] < 1.0;
    };
    const bool latency = answers(real) && answers(base) &&
                         (sli.p95_objective ? real.p95[s] > to_seconds(*sli.p95_objective) &&
                                                  base.p95[s] <= to_seconds(*sli.p95_objective)
                                            : differs(real.p95[s], base.p95[s], sli.p95_change,
                                                      to_seconds(sli.p95_margin)));
    const bool errors = sli.error_objective ? real.error_ratio[s] > *sli.error_objective &&
                                                  base.error_ratio[s] <= *sli.error_objective
                                            : differs(real.error_ratio[s], base.error_ratio[s], 0.0,
                                                      std::max(sli.error_change, 1e-12));
    const bool load = differs(real.arrivals[s], base.arrivals[s], sli.rps_change, 1e-9);
    impacted_[s] = latency || errors || load;
  }
  // Only the causes being tracked: a scenario of many faults costs a tick what its active
  // ones do.
  for (const int f : tracked_causes_) {
    bool hit = false;
    for (int s : blast_radius_[f]) {
      if (!impacted_[s]) continue;
      hit = true;
      affected_[f][s] = 1;
    }
    IncidentRecord& record = truth_[f];
    if (hit) {
      if (record.silent) record.impact_start = tick_end - scenario_.tick;
      record.silent = false;
      record.impact_end = tick_end;
    } else if (truth_phase_[f] == TruthPhase::kRecovering) {
      truth_phase_[f] = TruthPhase::kDone;
    }
  }
  std::erase_if(tracked_causes_, [&](int f) { return truth_phase_[f] == TruthPhase::kDone; });
}

std::vector<IncidentRecord> World::incidents() const {
  std::vector<IncidentRecord> records = truth_;
  for (std::size_t f = 0; f < records.size(); ++f) {
    IncidentRecord& record = records[f];
    record.ongoing = !record.silent && record.impact_end == last_tracked_tick_end_ &&
                     (truth_phase_[f] == TruthPhase::kActive ||
                      truth_phase_[f] == TruthPhase::kRecovering);
    if (static_cast<int>(f) == emergent_open_) record.ongoing = record.impact_end == last_step_end_;
    const std::vector<char>& affected = affected_[f];
    for (int s = 0; s < static_cast<int>(affected.size()); ++s)
      if (affected[s]) record.affected.push_back(s);
    const int fault = truth_fault_[f];
    const int faulted_edge = fault >= 0 ? scenario_.faults[fault].target.dependency : -1;
    const std::vector<std::pair<int, double>> no_cut;
    const std::vector<std::pair<int, double>>& cut = fault >= 0 ? severed_[fault] : no_cut;
    for (int d = 0; d < static_cast<int>(scenario_.dependencies.size()); ++d) {
      const DependencySpec& dep = scenario_.dependencies[d];
      const bool faulted = d == faulted_edge || std::any_of(cut.begin(), cut.end(), [&](auto& c) {
                             return c.first == d;
                           });
      if (affected[dep.caller] && (affected[dep.callee] || faulted))
        record.propagation.push_back(d);
    }
  }
  // Labelled anomalies of replayed series, after the scenario's own causes and before those
  // added during the run (build_truth): known, not measured.
  std::vector<IncidentRecord> added(records.begin() + static_cast<std::ptrdiff_t>(declared_truth_),
                                    records.end());
  records.resize(declared_truth_);
  const SimTime tick = scenario_.tick;
  const SimTime end_of_run = scenario_.tick_count() * tick;
  for (const ReplaySpec& replay : scenario_.replay) {
    for (std::size_t k = 0; k < replay.anomalies.size(); ++k) {
      const auto [from, to] = replay.anomalies[k];
      if (from >= end_of_run || replay.service < 0) continue;
      IncidentRecord record;
      record.id = static_cast<std::int64_t>(records.size());
      record.name = replay.name + "-anomaly-" + std::to_string(k + 1);
      record.cause = "labelled";
      record.root_cause = replay.family == "edge" ? scenario_.edge_name(replay.dependency)
                                                  : scenario_.services[replay.service].name;
      record.root_service = replay.service;
      // The ticks whose middle falls in [from, to): those that show its rows.
      record.start = record.impact_start = first_tick_showing(from, tick);
      record.end = record.impact_end = std::min(end_of_run, first_tick_showing(to, tick));
      record.silent = false;
      record.affected = {replay.service};
      records.push_back(std::move(record));
    }
  }
  records.insert(records.end(), added.begin(), added.end());
  return records;
}

}  // namespace dosim
