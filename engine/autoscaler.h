// Horizontal Pod Autoscalers, one per service that declares `autoscaling`.
//
// Every sync period each autoscaler reads its service's CPU (the mean cpu_ratio of its ready
// replicas over the ticks since the last sync, as metrics-server's rate over a window is, each
// replica's over the ticks it served, with replicas still starting counted as idle) and
// recommends
// ceil(current x cpu / target), clamped to [min, max]; a recommendation within 10 % of the current
// count is ignored (Kubernetes' tolerance). Scaling up acts at once; scaling down takes the highest
// recommendation of the stabilisation window. New replicas are ready start_time after the decision;
// removed replicas go at once (starting ones first). Decisions are logged as change events. The
// state is carried from tick to tick (a feedback loop), so the counterfactual world has its own
// copy. A manual scale (set_replicas) sets the current count as `kubectl scale` does under an HPA:
// new replicas start as the autoscaler's own do, and the next sync recommends from the new count
// (so the autoscaler takes over again, within [min, max]). Not thread-safe.
#pragma once

#include <deque>
#include <utility>
#include <vector>

#include "dosim/engine/operations.h"
#include "dosim/engine/scenario.h"

namespace dosim {

class Autoscaler {
 public:
  explicit Autoscaler(const Scenario& scenario);

  // At the start of the tick at t: adds `cpu` (per service, last tick) to the ticks since
  // the last sync, decides if a sync is due from their mean, and sets `ready` of every autoscaled service; others are left as they are.
  // Decisions are appended to `log` when it is not null.
  void step(SimTime t, const std::vector<double>& cpu, std::vector<int>& ready,
            std::vector<ChangeEvent>* log);

  int desired(int service) const { return states_[service].desired; }

  // A manual scale of an autoscaled service to `replicas` at t: added replicas are ready
  // start_time later, removed ones go at once (starting ones first). REQUIRES: the service
  // has an autoscaler, replicas >= 0.
  void set_replicas(int service, int replicas, SimTime t);

 private:
  struct State {
    int desired = 0;
    std::vector<SimTime> starting;  // ready times of replicas still starting
    std::deque<std::pair<SimTime, int>> recommendations;
    SimTime next_sync = 0;
    std::vector<double> window;  // each tick's CPU since the last sync
    // Of the replicas that became ready since the last sync, the first tick of `window` each
    // served: its own mean is over those ticks.
    std::vector<std::size_t> ready_from;
  };
  static void resize(State& state, int replicas, SimTime ready_at);

  const Scenario* scenario_;
  std::vector<int> managed_;  // services with an autoscaler
  std::vector<State> states_;
};

}  // namespace dosim
