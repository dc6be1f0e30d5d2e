// Alertmanager semantics over the alerts a run raised: inhibition, deduplication, grouping,
// and the notifications that reach people (docs/detectors.md).
//
// - Labels of an alert: detector, service, metric, severity, target (the series' column:
//   the service, caller->callee or service/endpoint; two edges of one caller differ).
// - Inhibition: an alert matching an inhibit rule's target matchers is dropped when, at the
//   moment it fires, an alert matching the source matchers is firing with equal values of
//   the rule's `equal` labels.
// - Deduplication: an alert whose label set is identical to one already firing adds nothing.
// - Grouping: alerts with equal values of `group_by` form a group. A group's first
//   notification goes out group_wait after its first alert; later, every group_interval it
//   is sent again if alerts joined since the last one, or after repeat_interval if the group
//   is still firing. A group with nothing firing closes; the next alert opens a new one.
// Pure function; deterministic.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "detectors/runner.h"

namespace dosim {

// `service_names` turns alert service indices into label values; `end` is the end of the run
// (no notification after it).
AlertRouting route_alerts(const std::vector<Alert>& alerts, const AlertmanagerSpec& spec,
                           const std::vector<std::string>& service_names, SimTime end);

}  // namespace dosim
