// Ground truth of remediation (docs/remediation.md, "Which actions end an incident"): per
// incident, the playbook actions that would end its impact, from what caused it, as
// "ACTION TARGET" strings matching a responder action's name and target
// (RemediationAction::action and ::target, dosim/run.h):
//   deployment        rollback change:NAME
//   config            rollback / revert-config change:NAME
//   feature-flag      rollback / flag-off change:NAME
//   secret-rotation   rollback change:NAME, restart service:S (each consumer that did not reload)
//   memory-leak       restart service:S (each service it leaks on: memory starts over)
//   cpu-stress, crash-loop   scale service:S (the root: more replicas to carry the load)
//   outage            failover region:R (the region out, or a zone's region), and for a zone
//                     outage scale service:S (each affected service: capacity elsewhere)
//   partition         failover region:R (each side of a partition between regions)
//   emergent          shed service:S (the root: load shedding ends a retry storm)
// Latency, error and packet-loss faults, pod kills, maintenance and labelled anomalies end on
// their own: no action of the repertoire ends them, so an action on one is never correct.
// Pure function.
#pragma once

#include <string>
#include <vector>

#include "dosim/engine/incident.h"
#include "dosim/engine/scenario.h"

namespace dosim {

std::vector<std::string> remedies_of(const IncidentRecord& incident, const Scenario& scenario);

}  // namespace dosim
