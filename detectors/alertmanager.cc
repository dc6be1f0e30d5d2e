#include "detectors/alertmanager.h"

#include <algorithm>
#include <limits>
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

constexpr SimTime kNever = std::numeric_limits<SimTime>::max();

// When an alert stops firing: its resolution, or never.
SimTime resolved_at(const Alert& alert) { return alert.resolved < 0 ? kNever : alert.resolved; }

// The first of at + k * interval (k >= 1) at or after `target`; kNever when that is past
// `limit`. REQUIRES: at <= limit, interval > 0.
SimTime next_step(SimTime at, SimTime interval, SimTime target, SimTime limit) {
  if (target <= at) target = at + 1;
  if (target > limit) return kNever;
  const SimTime steps = (target - at - 1) / interval + 1;
  if (steps > (limit - at) / interval) return kNever;
  return at + steps * interval;
}

SimTime saturated_sum(SimTime a, SimTime b) { return b > kNever - a ? kNever : a + b; }

// The two latest-resolving alerts seen under one key, so that "another alert than `a` is still
// firing at t" is answered without a scan.
struct LatestTwo {
  SimTime first = -1, second = -1;
  std::size_t first_alert = 0;
  void add(SimTime resolved, std::size_t alert) {
    if (resolved > first) {
      second = first;
      first = resolved;
      first_alert = alert;
    } else if (resolved > second) {
      second = resolved;
    }
  }
  bool other_firing(std::size_t alert, SimTime t) const {
    return (first_alert != alert ? first : second) > t;
  }
};

std::string joined_values(const Labels& labels, const std::vector<std::string>& names) {
  std::string key;
  for (const std::string& name : names) key += value_of(labels, name) + '\x1f';
  return key;
}

// Alerts of one group in firing order: its notifications, Alertmanager's way. Steps through
// group_interval flushes, skipping the flushes at which nothing can change (no alert joins or
// resolves and no repeat is due), so the cost is O(members + notifications) whatever the
// intervals.
void notify_group(const std::vector<const Alert*>& members, const std::string& key,
                  const AlertmanagerSpec& spec, SimTime end, AlertRouting& result) {
  std::vector<SimTime> resolutions;  // of the members that resolve, ascending
  for (const Alert* alert : members)
    if (alert->resolved >= 0) resolutions.push_back(alert->resolved);
  std::sort(resolutions.begin(), resolutions.end());
  std::size_t resolved = 0;  // resolutions at or before the current flush
  const auto firing_at_flush = [&](std::size_t joined, SimTime at) {
    while (resolved < resolutions.size() && resolutions[resolved] <= at) ++resolved;
    return joined - resolved;  // members joined (fired at or before at) less those resolved
  };
  std::size_t next = 0;  // first member not yet joined
  while (next < members.size()) {
    // A group opens with its next alert; its first notification waits group_wait.
    SimTime at = saturated_sum(members[next]->time, spec.group_wait);
    SimTime last = -1;
    std::size_t notified_through = next;  // members up to here were in a notification
    while (at <= end) {
      std::size_t joined = next;
      while (joined < members.size() && members[joined]->time <= at) ++joined;
      const std::size_t firing = firing_at_flush(joined, at);
      const bool fresh = joined > notified_through || last < 0;
      if (firing == 0 && !fresh) break;  // the group has gone quiet: it closes
      const bool repeat_due = last >= 0 && at - last >= spec.repeat_interval;
      if (firing > 0 && (fresh || repeat_due)) {
        result.notifications.push_back({at, key, firing});
        last = at;
        notified_through = joined;
      }
      next = joined;
      if (firing == 0) break;
      // Nothing changes before the next alert joins, the next member resolves or a repeat is
      // due: jump to the first flush at or after the earliest of these.
      SimTime change = saturated_sum(last, spec.repeat_interval);
      if (joined < members.size()) change = std::min(change, members[joined]->time);
      if (resolved < resolutions.size()) change = std::min(change, resolutions[resolved]);
      at = next_step(at, spec.group_interval, change, end);
    }
    if (at > end) break;
    // Skip members that already joined this group's life.
    while (next < members.size() && members[next]->time <= at) ++next;
  }
}

}  // namespace

AlertRouting route_alerts(const std::vector<Alert>& alerts, const AlertmanagerSpec& spec,
                           const std::vector<std::string>& service_names, SimTime end) {
  AlertRouting result;
  result.raw_alerts = alerts.size();
  std::vector<Labels> labels;
  for (const Alert& alert : alerts) labels.push_back(labels_of(alert, service_names));
  // Firing order (alerts arrive in it; a stable sort keeps equal times in arrival order).
  std::vector<std::size_t> order(alerts.size());
  for (std::size_t a = 0; a < order.size(); ++a) order[a] = a;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return alerts[x].time < alerts[y].time;
  });

  // Inhibition and deduplication, decided when each alert fires, in O(alerts log alerts).
  // An inhibiting source may be any alert that fired at or before that moment (one firing at
  // the same moment too), other than the target itself, still firing, with equal values of
  // the rule's `equal` labels.
  std::vector<std::map<std::string, LatestTwo>> sources(spec.inhibit_rules.size());
  std::map<Labels, SimTime> kept_until;  // per label set: the latest resolution among kept
  std::vector<std::size_t> kept;
  for (std::size_t first = 0; first < order.size();) {
    const SimTime t = alerts[order[first]].time;
    std::size_t past = first;
    for (; past < order.size() && alerts[order[past]].time == t; ++past) {
      const std::size_t s = order[past];
      for (std::size_t r = 0; r < spec.inhibit_rules.size(); ++r) {
        const InhibitRuleSpec& rule = spec.inhibit_rules[r];
        if (matches(labels[s], rule.source))
          sources[r][joined_values(labels[s], rule.equal)].add(resolved_at(alerts[s]), s);
      }
    }
    for (std::size_t i = first; i < past; ++i) {
      const std::size_t a = order[i];
      bool inhibited = false;
      for (std::size_t r = 0; r < spec.inhibit_rules.size() && !inhibited; ++r) {
        const InhibitRuleSpec& rule = spec.inhibit_rules[r];
        if (!matches(labels[a], rule.target)) continue;
        const auto found = sources[r].find(joined_values(labels[a], rule.equal));
        inhibited = found != sources[r].end() && found->second.other_firing(a, t);
      }
      if (inhibited) {
        ++result.inhibited;
        continue;
      }
      const auto [it, added] = kept_until.emplace(labels[a], resolved_at(alerts[a]));
      if (!added && it->second > t) {
        ++result.deduplicated;
        continue;
      }
      it->second = std::max(it->second, resolved_at(alerts[a]));
      kept.push_back(a);
    }
    first = past;
  }

  // Grouping, group by group, in the order groups first appear.
  std::map<std::string, std::vector<const Alert*>> groups;
  std::vector<std::string> group_order;
  for (std::size_t a : kept) {
    std::string key;
    for (const std::string& name : spec.group_by)
      key += (key.empty() ? "" : ",") + name + "=" + value_of(labels[a], name);
    auto [it, added] = groups.try_emplace(key);
    if (added) group_order.push_back(key);
    it->second.push_back(&alerts[a]);
  }
  for (const std::string& key : group_order) notify_group(groups[key], key, spec, end, result);
  std::stable_sort(result.notifications.begin(), result.notifications.end(),
                   [](const Notification& a, const Notification& b) { return a.time < b.time; });
  return result;
}

}  // namespace dosim
