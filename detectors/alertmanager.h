// Alertmanager semantics over the alerts a run raised: inhibition, deduplication, routing,
// grouping, and the notifications that reach people (docs/detectors.md).
//
// - Labels of an alert: alertname (its detector's name), detector, service, metric,
//   severity, target (the series' column: the service, caller->callee or service/endpoint;
//   two edges of one caller differ), and its detector's own `labels`. A label an alert does
//   not carry reads as "" in matchers, as in Alertmanager.
// - Inhibition, at each flush (Alertmanager's MuteStage): a flush leaves out an alert
//   matching an inhibit rule's target while an alert matching the source matchers fires
//   with equal values of the rule's `equal` labels; it is notified at a later flush once
//   no source fires. An alert left out while firing and never notified counts inhibited.
// - Deduplication: an alert whose label set is identical to one already firing adds nothing.
// - Routing: the route tree as Alertmanager walks it (Route.Match): a route whose matchers
//   hold passes the alert to its first matching child, and on past children with
//   `continue`; a route none of whose children match takes it. An alert may reach several.
// - Grouping, per route: alerts with equal values of its `group_by` (every label for
//   '...') form a group. A group's first flush, to the route's receiver, comes group_wait
//   after its first alert; then one every group_interval. At each, Alertmanager's
//   DedupStage decides on the alerts not muted against the group's notification log: a
//   notification when an alert is firing whose label set the last did not carry (an alert
//   that resolved and fired again in between is the same alert, as Alertmanager's
//   fingerprint makes it), or after repeat_interval if the group is still firing. A
//   receiver with send_resolved (AlertmanagerSpec::resolved_notices) is also notified when
//   an alert resolved since the last flush that the last notification did not tell
//   resolved, and when nothing fires any more that the last carried
//   (Notification::resolution). A group whose alerts have all resolved closes; the next
//   alert opens a new one.
// Pure function; deterministic.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "detectors/runner.h"

namespace dosim {

using AlertLabels = std::vector<std::pair<std::string, std::string>>;

// `service_names` turns alert service indices into label values; `end` is the end of the run
// (no notification after it); `detector_labels`, by detector name, the labels its alerts add.
AlertRouting route_alerts(const std::vector<Alert>& alerts, const AlertmanagerSpec& spec,
                          const std::vector<std::string>& service_names, SimTime end,
                          const std::map<std::string, AlertLabels>* detector_labels = nullptr);

// The receivers an alert with these labels reaches, in the order of its routes (what
// `amtool config routes test` prints).
std::vector<std::string> receivers_for(const AlertmanagerSpec& spec, const AlertLabels& labels);

}  // namespace dosim
