#include "steering.h"

#include <algorithm>

namespace dosim {

TrafficSteering::TrafficSteering(const Scenario& scenario) : scenario_(&scenario) {
  for (const TrafficSpec& source : scenario.traffic) {
    SourceState state;
    const std::size_t regions = source.regions.size();
    state.admin = source.region_weights;
    state.drained.assign(regions, 0);
    state.down.assign(regions, 0);
    state.failed.assign(regions, 0);
    state.passed.assign(regions, 0);
    state.from = state.to = state.now = source.region_weights;
    sources_.push_back(std::move(state));
  }
  changes_modified();
}

void TrafficSteering::changes_modified() {
  steering_changes_.clear();
  for (std::size_t c = 0; c < scenario_->changes.size(); ++c) {
    const ChangeKind kind = scenario_->changes[c].kind;
    if (kind == ChangeKind::kDrain || kind == ChangeKind::kTrafficShift)
      steering_changes_.push_back(static_cast<int>(c));
  }
}

bool TrafficSteering::available(int source, std::size_t region) const {
  const SourceState& state = sources_[source];
  return state.drained[region] == 0 && state.down[region] == 0;
}

int TrafficSteering::first_available(int source) const {
  const TrafficSpec& spec = scenario_->traffic[source];
  // The failover order: home first, then the others as listed.
  if (available(source, static_cast<std::size_t>(spec.home))) return spec.home;
  for (std::size_t r = 0; r < spec.regions.size(); ++r)
    if (available(source, r)) return static_cast<int>(r);
  return -1;
}

std::vector<double> TrafficSteering::target(int source) const {
  const std::size_t regions = scenario_->traffic[source].regions.size();
  std::vector<double> split = sources_[source].admin;
  const int first = first_available(source);
  if (first < 0) return split;  // nothing is up: fail open
  for (std::size_t r = 0; r < regions; ++r) {
    if (available(source, r) || static_cast<int>(r) == first) continue;
    split[first] += split[r];
    split[r] = 0;
  }
  return split;
}

void TrafficSteering::retarget(int source, SimTime t, SimTime shift) {
  SourceState& state = sources_[source];
  std::vector<double> next = target(source);
  if (next == state.to) return;
  state.from = state.now;
  state.to = std::move(next);
  state.start = t;
  state.end = t + shift;
}

void TrafficSteering::apply_change(int change, bool restore, std::vector<int>& moved,
                                   std::vector<SimTime>& shifts) {
  const ChangeSpec& spec = scenario_->changes[change];
  auto touch = [&](int source) {
    moved.push_back(source);
    shifts[source] = spec.shift;
  };
  if (spec.kind == ChangeKind::kTrafficShift) {
    SourceState& state = sources_[spec.traffic];
    state.admin = spec.region_weights;
    // An operator's decision: regions the health checks hold out without failback return.
    const FailoverPolicy* policy = scenario_->traffic[spec.traffic].failover
                                       ? &*scenario_->traffic[spec.traffic].failover
                                       : nullptr;
    if (policy && !policy->failback)
      for (std::size_t r = 0; r < state.down.size(); ++r)
        if (state.down[r] && state.failed[r] == 0) state.down[r] = 0;
    touch(spec.traffic);
    return;
  }
  for (std::size_t s = 0; s < scenario_->traffic.size(); ++s) {  // a drain
    if (spec.traffic >= 0 && static_cast<int>(s) != spec.traffic) continue;
    const int region = scenario_->traffic[s].region_index(spec.region);
    if (region < 0) continue;
    sources_[s].drained[region] += restore ? -1 : 1;
    touch(static_cast<int>(s));
  }
}

void TrafficSteering::advance(SimTime t, const HealthProbe& probe, std::vector<ChangeEvent>* log) {
  std::vector<int> moved;
  std::vector<SimTime> shifts(sources_.size(), 0);
  // Operators' changes, in time order (ties in scenario order).
  struct Due {
    SimTime time;
    int change;
    bool restore;
  };
  std::vector<Due> due;
  auto in_span = [&](SimTime time) { return time > last_t_ && time <= t; };
  for (int c : steering_changes_) {
    const ChangeSpec& spec = scenario_->changes[c];
    if (in_span(spec.at)) due.push_back({spec.at, c, false});
    if (spec.restore && in_span(*spec.restore)) due.push_back({*spec.restore, c, true});
  }
  std::stable_sort(due.begin(), due.end(),
                   [](const Due& a, const Due& b) { return a.time < b.time; });
  for (const Due& d : due) apply_change(d.change, d.restore, moved, shifts);

  // Health checks.
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    const TrafficSpec& spec = scenario_->traffic[s];
    if (!spec.failover) continue;
    const FailoverPolicy& policy = *spec.failover;
    SourceState& state = sources_[s];
    bool changed = false;
    while (state.next_check <= t) {
      state.next_check += policy.interval;
      for (std::size_t r = 0; r < spec.regions.size(); ++r) {
        const bool passes = probe(static_cast<int>(s), static_cast<int>(r));
        state.failed[r] = passes ? 0 : state.failed[r] + 1;
        state.passed[r] = passes ? state.passed[r] + 1 : 0;
        const bool goes_down = !state.down[r] && state.failed[r] >= policy.failures;
        const bool comes_up =
            state.down[r] && policy.failback && state.passed[r] >= policy.recoveries;
        if (!goes_down && !comes_up) continue;
        const int carrier_before = first_available(static_cast<int>(s));
        const std::vector<double> split_before = target(static_cast<int>(s));
        state.down[r] = goes_down ? 1 : 0;
        changed = true;
        // Logged where it moves traffic: its own share, or, for a region the operators give
        // no share, the share of another it carried or now takes over; not where a drain
        // holds the region's share away (its restore moves it).
        if (!log || target(static_cast<int>(s)) == split_before) continue;
        const int carrier_after = first_available(static_cast<int>(s));
        auto name = [&](int region) {
          return region >= 0 ? spec.regions[region].region : std::string("none");
        };
        if (goes_down)
          log->push_back(
              {t, "failover", spec.name, spec.regions[r].region, name(carrier_after), ""});
        else
          log->push_back(
              {t, "failback", spec.name, name(carrier_before), spec.regions[r].region, ""});
      }
    }
    if (changed) {
      moved.push_back(static_cast<int>(s));
      shifts[s] = std::max(shifts[s], policy.shift);
    }
  }
  for (int s : moved) retarget(s, t, shifts[s]);

  // Where each split stands now.
  for (SourceState& state : sources_) {
    if (state.now.empty()) continue;
    if (t >= state.end) {
      state.now = state.to;
      continue;
    }
    const double progress =
        static_cast<double>(t - state.start) / static_cast<double>(state.end - state.start);
    for (std::size_t r = 0; r < state.now.size(); ++r)
      state.now[r] = state.from[r] + (state.to[r] - state.from[r]) * progress;
  }
  last_t_ = t;
}

void TrafficSteering::route(std::span<const double> rates, std::span<double> offered) const {
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    const TrafficSpec& spec = scenario_->traffic[s];
    for (std::size_t r = 0; r < spec.regions.size(); ++r) {
      const double rate = rates[s] * sources_[s].now[r];
      if (rate == 0) continue;
      const RegionalEntry& regional = spec.regions[r];
      for (std::size_t e = 0; e < regional.entry.size(); ++e)
        offered[regional.entry[e]] += rate * regional.entry_weights[e];
    }
  }
}

}  // namespace dosim
