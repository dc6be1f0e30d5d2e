// Where regional traffic goes: the share of each regional source (TrafficSpec::regions) sent
// to each of its regions, as operators (drain and traffic-shift changes) and a global load
// balancer's health checks (FailoverPolicy) decide.
//
// A source has admin weights (its `weights`, then those of each traffic-shift) and drained
// regions (a drain, until its restore). A region is available when no drain holds it and
// the health checks have not marked it down. The target split is the admin weights with the
// share of every unavailable region moved to the first available region in the source's
// order (home first, then the others as listed); with none available nothing moves (a load
// balancer without a healthy backend fails open). When the target changes, the split moves
// linearly from where it stands to the new target over the shift of what changed it (the
// change's `shift`, the policy's for a health decision).
//
// Health checks run at 0, interval, 2 x interval, ...: a region fails a check when the
// probe says so (World: an entry service with no replica up in the region, an error ratio
// of 50 % or more, or a median latency at the policy's timeout). `failures` failed checks in
// a row mark it down (the detection delay is interval x failures), `recoveries` passed ones
// up again; without failback a region marked down stays out until a traffic-shift of the
// source (an operator's decision) puts it back.
//
// Deterministic; a copy starts the counterfactual world from the same state. Not
// thread-safe.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "dosim/engine/operations.h"
#include "dosim/engine/scenario.h"

namespace dosim {

class TrafficSteering {
 public:
  // Whether region `region` (an index into the source's regions) of source `source` passes a
  // health check now.
  using HealthProbe = std::function<bool(int source, int region)>;

  explicit TrafficSteering(const Scenario& scenario);

  // At the start of the tick at t (calls in increasing t): applies the drain, restore and
  // traffic-shift changes that take effect in (previous t, t], runs the health checks due in
  // that span, and moves the splits. `log` (may be null) gets a `failover` event when a region
  // is marked down and a `failback` event when it is marked up again.
  void advance(SimTime t, const HealthProbe& probe, std::vector<ChangeEvent>* log);

  // Share of source `source`'s traffic sent to its region `region` in the current tick.
  double share(int source, int region) const { return sources_[source].now[region]; }

  // Adds, for every regional source, its rate (rates[source]) x each region's share x that
  // region's entry weights to `offered` (per service).
  void route(std::span<const double> rates, std::span<double> offered) const;

  // Changes were appended to the scenario at run time: later ones are read from now on.
  void changes_modified();

 private:
  struct SourceState {
    std::vector<double> admin;         // per region: the operators' weights
    std::vector<int> drained;          // per region: drains holding it
    std::vector<char> down;            // per region: marked down by the health checks
    std::vector<int> failed, passed;   // per region: consecutive failed / passed checks
    SimTime next_check = 0;
    std::vector<double> from, to, now;  // the split moving from `from` to `to`, and now
    SimTime start = 0, end = 0;        // of that move
  };

  bool available(int source, std::size_t region) const;
  // The region an unavailable region's share goes to, or -1 when none is available.
  int first_available(int source) const;
  std::vector<double> target(int source) const;
  // Sets the source's target to what its state gives, moving there over `shift` from t.
  void retarget(int source, SimTime t, SimTime shift);
  // A drain (or its restore) or a traffic shift; records the sources it moves and its shift.
  void apply_change(int change, bool restore, std::vector<int>& moved,
                    std::vector<SimTime>& shifts);

  const Scenario* scenario_;  // a pointer: copies start the counterfactual
  std::vector<SourceState> sources_;  // per traffic source (empty vectors if not regional)
  std::vector<int> steering_changes_;  // indices of drain and traffic-shift changes
  SimTime last_t_ = -1;
};

}  // namespace dosim
