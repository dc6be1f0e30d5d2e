// The responders of a run (docs/remediation.md): the scenario's playbooks answering the
// detectors' alerts with actions on the world, so that time to recover depends on detection.
//
// A frame sink after the detectors. Each new alert that a playbook matches, on a service not
// in that playbook's cooldown, triggers it: automation acts `after` later; an on-call person
// acknowledges after a log-normal delay (median and p90 given; drawn from the stream (seed,
// "oncall/<playbook>", trigger number)) and acts `investigate` later. A step is an action
// through the Simulation's run-time control (a rollback, a scale), exact like a declared one
// and in the change log. With `verify`, the service's metric must be below the bound when
// `within` has passed, or the step is undone (a scale returns to its count; a rollback stays)
// and the next step runs; with none left the trigger is escalated. Without `verify`, the
// first step that acted ends the trigger. A step with `approval` waits that long before it
// acts; beyond `max_actions_per_hour` actions in an hour, a trigger is escalated instead.
// Out of business hours (09:00-18:00, Monday to Friday of the simulated calendar) an
// on-call person acknowledges after the `off_hours` delay when one is given. Everything happens in
// simulated time through Simulation::at(), so a run with playbooks is as deterministic as one
// without.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "detectors/runner.h"
#include "dosim/engine/simulation.h"
#include "dosim/run.h"

namespace dosim {

class Responder : public FrameSink {
 public:
  // REQUIRES: both outlive this; `detectors` is a sink before this one.
  Responder(Simulation& simulation, const DetectorRunner& detectors, std::uint64_t seed);
  void on_frame(const Frame& frame) override;
  const std::vector<RemediationAction>& actions() const { return actions_; }

 private:
  void trigger(std::size_t playbook, const Alert& alert);
  void run_step(std::size_t playbook, int service, std::size_t step, SimTime alerted,
                bool approved = false);
  void verify(std::size_t playbook, int service, std::size_t step, SimTime alerted, int undo_to);
  int replicas_of(int service) const;
  void record(std::size_t playbook, int service, SimTime alerted, std::string action,
              std::string outcome);

  Simulation& simulation_;
  const DetectorRunner& detectors_;
  std::uint64_t seed_;
  std::size_t alerts_seen_ = 0;
  std::map<std::pair<std::size_t, int>, SimTime> cooldown_until_;  // (playbook, service)
  std::vector<std::uint64_t> triggers_;                            // per playbook: how many
  std::vector<SimTime> acted_at_;  // when each rollback or scale was done (the rate limit)
  std::vector<RemediationAction> actions_;
};

}  // namespace dosim
