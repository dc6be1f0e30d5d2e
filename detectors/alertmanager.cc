#include "detectors/alertmanager.h"

#include <algorithm>
#include <map>

namespace dosim {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

Labels labels_of(const Alert& alert, const std::vector<std::string>& service_names) {
  const std::string service =
      alert.service >= 0 && alert.service < static_cast<int>(service_names.size())
          ? service_names[alert.service]
          : "";
  return {{"detector", alert.detector},
          {"metric", alert.metric},
          {"service", service},
          {"severity", alert.severity},
          {"target", alert.target}};
}

std::string value_of(const Labels& labels, const std::string& name) {
  for (const auto& [key, value] : labels)
    if (key == name) return value;
  return "";
}

bool matches(const Labels& labels,
             const std::vector<std::pair<std::string, std::string>>& matchers) {
  for (const auto& [name, value] : matchers)
    if (value_of(labels, name) != value) return false;
  return true;
}

bool firing_at(const Alert& alert, SimTime t) {
  return alert.time <= t && (alert.resolved < 0 || alert.resolved > t);
}

}  // namespace

AlertRouting route_alerts(const std::vector<Alert>& alerts, const AlertmanagerSpec& spec,
                           const std::vector<std::string>& service_names, SimTime end) {
  AlertRouting result;
  result.raw_alerts = alerts.size();
  std::vector<Labels> labels;
  for (const Alert& alert : alerts) labels.push_back(labels_of(alert, service_names));

  // Inhibition and deduplication, decided when each alert fires.
  std::vector<std::size_t> kept;
  for (std::size_t a = 0; a < alerts.size(); ++a) {
    bool inhibited = false;
    for (const InhibitRuleSpec& rule : spec.inhibit_rules) {
      if (!matches(labels[a], rule.target)) continue;
      for (std::size_t s = 0; s < alerts.size() && !inhibited; ++s) {
        if (s == a || !matches(labels[s], rule.source) || !firing_at(alerts[s], alerts[a].time))
          continue;
        bool equal = true;
        for (const std::string& name : rule.equal)
          equal = equal && value_of(labels[s], name) == value_of(labels[a], name);
        inhibited = equal;
      }
    }
    if (inhibited) {
      ++result.inhibited;
      continue;
    }
    bool duplicate = false;
    for (std::size_t k : kept)
      duplicate = duplicate || (labels[k] == labels[a] && firing_at(alerts[k], alerts[a].time));
    if (duplicate) {
      ++result.deduplicated;
      continue;
    }
    kept.push_back(a);
  }

  // Grouping, group by group, in the order groups first appear.
  std::map<std::string, std::vector<std::size_t>> groups;
  std::vector<std::string> order;
  for (std::size_t a : kept) {
    std::string key;
    for (const std::string& name : spec.group_by)
      key += (key.empty() ? "" : ",") + name + "=" + value_of(labels[a], name);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(a);
  }
  for (const std::string& key : order) {
    const std::vector<std::size_t>& members = groups[key];  // in firing order
    std::size_t next = 0;                                   // first member not yet joined
    while (next < members.size()) {
      // A group opens with its next alert; its first notification waits group_wait.
      SimTime at = alerts[members[next]].time + spec.group_wait;
      SimTime last = -1;
      std::size_t notified_through = next;  // members up to here were in a notification
      for (; at <= end; at += spec.group_interval) {
        std::size_t joined = next;
        while (joined < members.size() && alerts[members[joined]].time <= at) ++joined;
        std::size_t firing = 0;
        for (std::size_t m = 0; m < joined; ++m)
          firing += firing_at(alerts[members[m]], at) ? 1 : 0;
        const bool fresh = joined > notified_through || last < 0;
        if (firing == 0 && !fresh) break;  // the group has gone quiet: it closes
        if ((fresh && firing > 0) ||
            (last >= 0 && at - last >= spec.repeat_interval && firing > 0)) {
          result.notifications.push_back({at, key, firing});
          last = at;
          notified_through = joined;
        }
        if (firing == 0 && joined == members.size()) break;
        next = joined;
        if (firing == 0) break;
      }
      if (at > end) break;
      // Skip members that already joined this group's life.
      while (next < members.size() && alerts[members[next]].time <= at) ++next;
    }
  }
  std::stable_sort(result.notifications.begin(), result.notifications.end(),
                   [](const Notification& a, const Notification& b) { return a.time < b.time; });
  return result;
}

}  // namespace dosim
