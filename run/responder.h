// The responders of a run (docs/remediation.md): the scenario's playbooks answering the
// detectors with actions on the world, so that time to recover depends on detection.
//
// A frame sink after the detectors. Each new trigger that a playbook matches, on a service not
// in that playbook's cooldown, sets it off. Triggers, by the playbook's `source`: an alert (its
// service); a notification, as Alertmanager semantics (detectors/alertmanager.h) send it over
// the alerts so far, on each service of the alerts it was the first to carry to its receiver
// (in its group); a detected incident of the incident rules, when it opens or rises to a
// matching Sev level, on each service among its streams. Automation acts `after` later; an on-call
// person acknowledges after a log-normal delay (median and p90 given; drawn from the stream (seed,
// "oncall/<playbook>", trigger number)) and acts `investigate` later. A step is an action
// through the Simulation's run-time control, exact like a declared one and in the change log:
// rollback / flag-off / revert-config (Simulation::revert_change of the service's latest change
// still in effect, a named one, or the change an RCA ranker puts first), scale
// (set_replicas), restart (a pod-kill of its replicas added as a fault: its harm is measured
// against the counterfactual like any fault's, and a memory leak starts over), failover (a
// drain of a region), timeout (set_timeout on its calls), shed (set_shed). With `verify`, the
// service's metric must be below the bound when `within` has passed, or the step is undone
// (scale, failover, timeout and shed go back; rollbacks and restarts stay) and the next step
// runs; with none left the trigger is escalated. Without `verify`, the first step that acted
// ends the trigger. A step with `approval` waits that long before it acts; beyond
// `max_actions_per_hour` actions in an hour, a trigger is escalated instead. Out of business
// hours (09:00-18:00, Monday to Friday of the simulated calendar) an on-call person
// acknowledges after the `off_hours` delay when one is given. Everything happens in simulated
// time through Simulation::at(), so a run with playbooks is as deterministic as one without.
//
// It also counts, per tick, the requests and errors of the entry services (those with
// external traffic), for the SLO error budget the run burned.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "detectors/runner.h"
#include "dosim/analysis/root_cause.h"
#include "dosim/engine/simulation.h"
#include "dosim/run.h"

namespace dosim {

class Responder : public FrameSink {
 public:
  // REQUIRES: all three outlive this; `detectors` is a sink before this one. `rankers`: the
  // run's own root-cause rankers besides the built-in ones (for steps with `target: rca`).
  Responder(Simulation& simulation, const DetectorRunner& detectors, const NamedRcaRankers& rankers,
            std::uint64_t seed);
  void on_frame(const Frame& frame) override;
  const std::vector<RemediationAction>& actions() const { return actions_; }
  // The entry services' requests and failed requests so far.
  double entry_requests() const { return entry_requests_; }
  double entry_errors() const { return entry_errors_; }

 private:
  // A trigger of playbook p on a service at time `at`.
  struct Trigger {
    std::size_t playbook;
    int service;
    SimTime alerted;
    std::string what;  // RemediationAction::trigger
  };
  void offer(std::size_t playbook, int service, SimTime at, std::string what);
  void trigger(const Trigger& t);
  void watch_alerts();
  void watch_notifications(SimTime now);
  void watch_incidents();
  void run_step(const Trigger& t, std::size_t step, bool approved = false);
  // Carries out step `step`; returns how to undo it (empty: nothing to undo).
  std::function<void()> act(const Trigger& t, const PlaybookStep& step);
  void verify(const Trigger& t, std::size_t step, const std::function<void()>& undo);
  int replicas_of(int service) const;
  int latest_change(int service, const PlaybookStep& step) const;
  int change_blamed_by_rca(const Trigger& t, const std::string& ranker) const;
  void record(const Trigger& t, std::string action, std::string outcome, bool acted = false,
              std::string target = "", std::string fault = "");

  Simulation& simulation_;
  const DetectorRunner& detectors_;
  const NamedRcaRankers& rankers_;
  std::uint64_t seed_;
  std::size_t alerts_seen_ = 0;
  std::size_t notifications_seen_ = 0;
  // Per alert: the (receiver, group) of each route it reaches; per (receiver, group): when
  // its last notification seen was sent.
  std::vector<std::vector<std::pair<std::string, std::string>>> alert_groups_;
  std::map<std::pair<std::string, std::string>, SimTime> last_notified_;
  std::size_t incident_changes_seen_ = 0;
  std::map<std::pair<std::size_t, int>, SimTime> cooldown_until_;  // (playbook, service)
  std::vector<std::uint64_t> triggers_;                            // per playbook: how many
  std::vector<SimTime> acted_at_;  // when each action was done (the rate limit)
  std::vector<RemediationAction> actions_;
  std::vector<double> shed_;  // per service: the share shed now
  std::uint64_t added_ = 0;   // faults and changes added, for their names
  std::vector<int> entries_;  // services with external traffic
  double entry_requests_ = 0, entry_errors_ = 0;
};

}  // namespace dosim
