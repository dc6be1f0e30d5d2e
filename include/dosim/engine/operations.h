// Operations: deployments (rolling, canary, blue/green, with rollback), config changes,
// secret rotations and feature-flag rollouts.
//
// Like replica faults, each change is a pure function of time: at any t it exposes a share
// of its services' traffic to its defect (if it has one) and may hold replicas out of
// service. Defects show in proportion to the traffic they receive:
//  - rolling: every `startTime` a batch of maxSurge + maxUnavailable replicas is replaced;
//    during a step maxUnavailable old replicas are down (a benign cost, also paid by a good
//    version); the exposed share is the share of replicas already on the new version. A
//    version that cannot start (crashOnStart, badImage) stalls the rollout at its first
//    step: no traffic reaches it and maxUnavailable replicas stay down until a rollback.
//  - canary: the weight of each step, for its pause; promoted to 100 % after the last.
//  - blue-green: all traffic at `at`, none again after `switchBack`.
//  - rollback (deployments) and revert (configs) restore the previous version at once.
//  - config: every listed service loads the new version at `at`.
//  - secret-rotation: consumers that did not reload fail every request from
//    at + deadline until fixedAt.
//  - feature-flag: each step sets the exposed share of the segment.
//  - a defect that is an incompatibility with a version of a dependency shows only in
//    proportion to the share of that dependency's traffic served by that version.
// Every change is also recorded as change events (what operators correlate first), and
// every change with a defect is a cause in the ground truth.
// A rollout plans its steps from the service's declared replica count.
// The const members are thread-safe; refresh() is not.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dosim/engine/scenario.h"

namespace dosim {

// One line of the change log: /events/changes in the trace.
struct ChangeEvent {
  SimTime time = 0;
  std::string kind;    // deployment, canary-step, rollback, blue-green-switch, config, ...
  std::string target;  // service(s), secret or flag
  std::string from;
  std::string to;
  // Who made it, when not the scenario: "playbook NAME (TRIGGER)" for a responder's action
  // (run/, set when the run reports); "" otherwise.
  std::string cause;
};

struct ChangeState {
  double exposure = 0;  // share of the services' traffic reaching the defect
  int unavailable = 0;  // replicas out of service because of the rollout itself
  int stuck = 0;        // replicas out of service because the new version cannot start
  // The rollout is held because its new version cannot start (crash on start, bad image):
  // the defect is in effect, crash-looping or pulling, whether or not a replica is out.
  bool stalled = false;
  // Whether the change's defect is in effect at all (its ground truth's window).
  bool in_effect() const { return exposure > 0 || stuck > 0 || stalled; }
};

class Operations {
 public:
  explicit Operations(const Scenario& scenario);

  // State of change `change` at time t.
  ChangeState state(int change, SimTime t) const;
  // When the change's defect is first and last in effect, reaching traffic or holding a
  // stalled rollout (end: exclusive; the scenario's end when nothing takes it back).
  // {-1, -1} for a change without defect or never in effect.
  std::pair<SimTime, SimTime> defect_window(int change) const;
  // Every change event, in time order (ties in scenario order).
  const std::vector<ChangeEvent>& events() const { return events_; }
  // Whether any change acts at all (a quick exit for scenarios without changes).
  bool empty() const { return scenario_.changes.empty(); }
  // Recomputes the change log after the scenario's changes were added to or modified (a
  // rollback set at run time): everything is then as if they had been declared so.
  void refresh();

 private:
  SimTime rollout_end(const ChangeSpec& change) const;
  void record_events();
  // The instants at which a change's state may change.
  void add_instants(const ChangeSpec& change, std::vector<SimTime>& instants) const;
  // State ignoring an incompatibility condition.
  ChangeState raw_state(int change, SimTime t) const;
  // Share of `service`'s traffic served by `version` at t.
  double version_share(int service, const std::string& version, SimTime t) const;
  // The deployment of `service` that decides which versions serve at t: the latest started
  // by t (ties: the later listed); -1 before the first.
  int latest_deployment(int service, SimTime t) const;
  // Whether config change `index` is replaced at t by a later config in effect (started,
  // not reverted) on all of its services.
  bool config_superseded(int index, SimTime t) const;

  const Scenario& scenario_;
  std::vector<ChangeEvent> events_;
  std::vector<std::string> replaced_version_;  // per deployment: the version it replaces
  // Per service its deployments, and the configs, by index (made with the change log):
  // state() asks for a change's successors every tick, without scanning every change.
  std::vector<std::vector<int>> deployments_of_;
  std::vector<int> configs_;
};

}  // namespace dosim
