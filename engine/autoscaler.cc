#include "autoscaler.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace dosim {

namespace {
constexpr double kTolerance = 0.1;
}

Autoscaler::Autoscaler(const Scenario& scenario)
    : scenario_(&scenario), states_(scenario.services.size()) {
  for (std::size_t s = 0; s < scenario.services.size(); ++s) {
    if (!scenario.services[s].autoscaling) continue;
    managed_.push_back(static_cast<int>(s));
    states_[s].desired = scenario.services[s].replicas;
    states_[s].next_sync = scenario.services[s].autoscaling->sync_period;
  }
}

void Autoscaler::resize(State& state, int replicas, SimTime ready_at) {
  if (replicas > state.desired) {
    for (int i = state.desired; i < replicas; ++i) state.starting.push_back(ready_at);
  } else {
    int remove = state.desired - replicas;
    while (remove > 0 && !state.starting.empty()) {  // the newest starting ones first
      state.starting.pop_back();
      --remove;
    }
  }
  state.desired = replicas;
}

void Autoscaler::set_replicas(int service, int replicas, SimTime t) {
  resize(states_[service], replicas, t + scenario_->services[service].autoscaling->start_time);
}

void Autoscaler::step(SimTime t, const std::vector<double>& cpu, std::vector<int>& ready,
                      std::vector<ChangeEvent>* log) {
  for (int s : managed_) {
    const AutoscalingSpec& spec = *scenario_->services[s].autoscaling;
    State& state = states_[s];
    // Each tick's CPU since the last sync (a tick at 0 has none yet): the sync reads their
    // mean, as the HPA reads metrics-server's CPU rate over its window, not one instant.
    if (t > 0) state.window.push_back(cpu[s]);
    if (t >= state.next_sync) {
      state.next_sync += spec.sync_period;
      // Replicas still starting count as idle, as Kubernetes counts unready pods when it
      // scales up: the load they are about to take is not asked for twice. A replica ready
      // since the last sync counts at its own mean, over the ticks it served: the window's
      // mean is of the ticks the others served without it (2 replicas at 90 % until 2 more
      // came up a tick before the sync read as 90 % of 4).
      const int starting = static_cast<int>(state.starting.size());
      const auto mean_from = [&](std::size_t first) {
        double sum = 0;
        for (std::size_t i = first; i < state.window.size(); ++i) sum += state.window[i];
        return first < state.window.size() ? sum / static_cast<double>(state.window.size() - first)
                                           : 0.0;  // served no tick yet: idle
      };
      const double measured = state.window.empty() ? cpu[s] : mean_from(0);
      const int fresh = std::min(static_cast<int>(state.ready_from.size()),
                                 std::max(0, state.desired - starting));
      double used = measured * (state.desired - starting - fresh);
      for (int i = 0; i < fresh; ++i) used += mean_from(state.ready_from[i]);
      state.window.clear();
      state.ready_from.clear();
      const double average = state.desired > 0 ? used / state.desired : 0.0;
      const double ratio = average / spec.target_cpu;
      int recommendation = state.desired;
      if (std::abs(ratio - 1.0) > kTolerance)
        recommendation = static_cast<int>(std::ceil(state.desired * ratio - 1e-9));
      recommendation = std::clamp(recommendation, spec.min_replicas, spec.max_replicas);
      state.recommendations.emplace_back(t, recommendation);
      // Those made strictly after t - window, as the HPA keeps them (one made exactly a window
      // ago made the window a sync period longer).
      while (!state.recommendations.empty() &&
             state.recommendations.front().first <= t - spec.window)
        state.recommendations.pop_front();
      int next = recommendation;
      if (recommendation < state.desired) {  // scale down to the window's highest
        for (const auto& [time, value] : state.recommendations) next = std::max(next, value);
        next = std::min(next, state.desired);
      }
      if (next != state.desired) {
        if (log)
          log->push_back({t, "scale", scenario_->services[s].name, std::to_string(state.desired),
                          std::to_string(next), ""});
        resize(state, next, t + spec.start_time);
      }
    }
    const std::size_t became_ready =
        std::erase_if(state.starting, [t](SimTime ready_at) { return ready_at <= t; });
    state.ready_from.insert(state.ready_from.end(), became_ready, state.window.size());
    ready[s] = state.desired - static_cast<int>(state.starting.size());
  }
}

}  // namespace dosim
