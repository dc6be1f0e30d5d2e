#include "detectors/alertmanager.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>

#include "util/alertmanager_syntax.h"

namespace dosim {
namespace {

using Labels = AlertLabels;

Labels labels_of(const Alert& alert, const std::vector<std::string>& service_names,
                 const std::map<std::string, AlertLabels>* detector_labels) {
  const std::string service =
      alert.service >= 0 && alert.service < static_cast<int>(service_names.size())
          ? service_names[alert.service]
          : "";
  Labels labels = {{"alertname", alert.detector}, {"detector", alert.detector},
                   {"metric", alert.metric},      {"service", service},
                   {"severity", alert.severity},  {"target", alert.target}};
  if (detector_labels) {
    const auto found = detector_labels->find(alert.detector);
    if (found != detector_labels->end())
      labels.insert(labels.end(), found->second.begin(), found->second.end());
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

// A label's value; a label the alert does not carry is the empty string (Alertmanager's).
std::string value_of(const Labels& labels, const std::string& name) {
  for (const auto& [key, value] : labels)
    if (key == name) return value;
  return "";
}

// A matcher with its regular expression compiled (anchored, as Alertmanager anchors it).
struct Matcher {
  LabelMatcherSpec spec;
  std::optional<GoRegex> pattern;

  explicit Matcher(const LabelMatcherSpec& m) : spec(m) {
    using Op = LabelMatcherSpec::Op;
    if (m.op == Op::kMatches || m.op == Op::kNotMatches) {
      // Go's syntax, as Alertmanager compiles it; the loader refused what does not compile.
      std::string why;
      pattern = compile_go_regex_anchored(m.value, why);
      if (!pattern) throw std::invalid_argument("bad regular expression '" + m.value + "': " + why);
    }
  }
  bool matches(const Labels& labels) const {
    const std::string value = value_of(labels, spec.name);
    switch (spec.op) {
      case LabelMatcherSpec::Op::kEqual:
        return value == spec.value;
      case LabelMatcherSpec::Op::kNotEqual:
        return value != spec.value;
      case LabelMatcherSpec::Op::kMatches:
        return pattern->matches(value);
      case LabelMatcherSpec::Op::kNotMatches:
        return !pattern->matches(value);
    }
    return false;
  }
};

std::vector<Matcher> compiled(const std::vector<LabelMatcherSpec>& specs) {
  std::vector<Matcher> out;
  for (const LabelMatcherSpec& m : specs) out.emplace_back(m);
  return out;
}

bool matches(const Labels& labels, const std::vector<Matcher>& matchers) {
  for (const Matcher& m : matchers)
    if (!m.matches(labels)) return false;
  return true;
}

// The routing tree, flattened in depth-first order (the root is 0).
struct RouteNode {
  const RouteSpec* spec;
  std::vector<Matcher> matchers;
  std::vector<int> children;
};

int flatten(const RouteSpec& route, std::vector<RouteNode>& nodes) {
  const int index = static_cast<int>(nodes.size());
  nodes.push_back({&route, compiled(route.matchers), {}});
  for (const RouteSpec& child : route.routes) {
    const int c = flatten(child, nodes);
    nodes[static_cast<std::size_t>(index)].children.push_back(c);
  }
  return index;
}

// Alertmanager's Route.Match: a node whose matchers hold gives the matches of its children,
// tried in order until one matches without `continue`; or itself when none does.
void match_routes(const std::vector<RouteNode>& nodes, int index, const Labels& labels,
                  std::vector<int>& out) {
  const RouteNode& node = nodes[static_cast<std::size_t>(index)];
  if (!matches(labels, node.matchers)) return;
  const std::size_t before = out.size();
  for (int child : node.children) {
    const std::size_t had = out.size();
    match_routes(nodes, child, labels, out);
    if (out.size() > had && !nodes[static_cast<std::size_t>(child)].spec->continue_matching) break;
  }
  if (out.size() == before) out.push_back(index);
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

// Alerts of one group in firing order (indices into `alerts`), with `identity[a]` equal for
// alerts of equal label sets (Alertmanager's fingerprint): its notifications, Alertmanager's
// way, under its route's timing. At each group_interval flush, as its DedupStage decides: a
// notification when an alert is firing whose label set was not firing at the last
// notification (an alert that resolved and fired again in between is the same alert), or
// when more than repeat_interval has passed; nothing firing closes the group. With `send_resolved`
// also when an alert resolved since the last flush (the group keeps a resolved alert until
// the flush after its resolution) whose label set was not among those resolved at the last
// notification, and at the flush that closes a group that notified (all resolved). Steps
// through the flushes, skipping those at which nothing can change (no alert joins or
// resolves and no repeat is due), so the cost is O(members log members + notifications)
// whatever the intervals. Records when each member was first in a
// notification (firing at it).
void notify_group(const std::vector<Alert>& alerts, const std::vector<std::size_t>& identity,
                  const std::vector<std::size_t>& members, const std::string& key,
                  const RouteSpec& route, bool send_resolved, SimTime end,
                  AlertRouting& result) {
  const auto member = [&](std::size_t i) -> const Alert& { return alerts[members[i]]; };
  std::vector<std::pair<SimTime, std::size_t>> resolutions;  // (when, member), ascending
  for (std::size_t i = 0; i < members.size(); ++i)
    if (member(i).resolved >= 0) resolutions.emplace_back(member(i).resolved, i);
  std::sort(resolutions.begin(), resolutions.end());
  std::size_t resolved = 0;  // resolutions at or before the current flush

  // Per label set, its latest member that joined: members of one label set never overlap
  // (a duplicate of a firing alert was dropped), so that member says whether the label set
  // was firing at the last notification.
  struct LatestMember {
    SimTime time = -1, resolved = -1;
    bool notified = false;  // its label set was firing at the last notification
  };
  std::map<std::size_t, LatestMember> latest;
  std::vector<char> unnotified(members.size(), 0);  // joined after `last`, label set not notified
  std::size_t firing_unnotified = 0;
  SimTime last = -1;  // the group's last notification in its current life; -1: none yet
  const auto join = [&](std::size_t i) {
    LatestMember& previous = latest[identity[members[i]]];
    bool notified = false;
    if (last >= 0 && previous.time >= 0)
      notified = previous.time <= last ? previous.resolved > last : previous.notified;
    previous = {member(i).time, resolved_at(member(i)), notified};
    unnotified[i] = !notified;
    if (!notified) ++firing_unnotified;
  };

  // send_resolved: the label sets resolved since the last flush (one that fired again since
  // is firing: the group holds one alert per label set), and those resolved at the last
  // notification (Alertmanager's notification log keeps them).
  std::vector<std::size_t> resolved_now, resolved_notified;
  const auto new_resolutions = [&] {
    for (std::size_t id : resolved_now)
      if (std::find(resolved_notified.begin(), resolved_notified.end(), id) ==
          resolved_notified.end())
        return true;
    return false;
  };

  std::size_t next = 0;  // first member not yet joined
  while (next < members.size()) {
    // A group opens with its next alert; its first notification waits group_wait.
    SimTime at = saturated_sum(member(next).time, route.group_wait);
    last = -1;
    resolved_notified.clear();
    std::size_t notified_through = next;  // members up to here were in a notification
    while (at <= end) {
      std::size_t joined = next;
      for (; joined < members.size() && member(joined).time <= at; ++joined) join(joined);
      resolved_now.clear();
      for (; resolved < resolutions.size() && resolutions[resolved].first <= at; ++resolved) {
        const std::size_t i = resolutions[resolved].second;
        if (unnotified[i] && member(i).time > last) --firing_unnotified;
        resolved_now.push_back(identity[members[i]]);
      }
      std::erase_if(resolved_now, [&](std::size_t id) { return latest[id].resolved > at; });
      const std::size_t firing = joined - resolved;  // every earlier member has resolved
      next = joined;
      if (firing == 0) {  // the group has gone quiet: it closes
        if (send_resolved && last >= 0)
          result.notifications.push_back({at, key, 0, route.receiver, true});
        break;
      }
      // Strictly past: Alertmanager logs a notification once sent, after its flush began, and
      // repeats when that log entry is before now - repeat_interval, so a repeat_interval that
      // is a whole number of group_intervals repeats one flush later (4h, 5m: at 4h05m).
      const bool repeat_due = last >= 0 && at - last > route.repeat_interval;
      const bool resolutions_due = send_resolved && last >= 0 && new_resolutions();
      if (firing_unnotified > 0 || repeat_due || resolutions_due) {
        result.notifications.push_back(
            {at, key, firing, route.receiver, firing_unnotified == 0 && !repeat_due});
        resolved_notified = resolved_now;
        for (std::size_t i = notified_through; i < joined; ++i) {
          SimTime& first = result.first_notified[members[i]];
          if (resolved_at(member(i)) > at && (first < 0 || at < first)) first = at;
        }
        last = at;
        notified_through = joined;
        firing_unnotified = 0;
      }
      // Nothing changes before the next alert joins, the next member resolves or a repeat is
      // due: jump to the first flush at or after the earliest of these.
      SimTime change = saturated_sum(saturated_sum(last, route.repeat_interval), 1);
      if (joined < members.size()) change = std::min(change, member(joined).time);
      if (resolved < resolutions.size()) change = std::min(change, resolutions[resolved].first);
      at = next_step(at, route.group_interval, change, end);
    }
    if (at > end) break;
    // Skip members that already joined this group's life.
    while (next < members.size() && member(next).time <= at) ++next;
  }
}

}  // namespace

AlertRouting route_alerts(const std::vector<Alert>& alerts, const AlertmanagerSpec& spec,
                          const std::vector<std::string>& service_names, SimTime end,
                          const std::map<std::string, AlertLabels>* detector_labels) {
  AlertRouting result;
  result.raw_alerts = alerts.size();
  result.first_notified.assign(alerts.size(), -1);
  std::vector<Labels> labels;
  for (const Alert& alert : alerts)
    labels.push_back(labels_of(alert, service_names, detector_labels));
  // Firing order (alerts arrive in it; a stable sort keeps equal times in arrival order).
  std::vector<std::size_t> order(alerts.size());
  for (std::size_t a = 0; a < order.size(); ++a) order[a] = a;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return alerts[x].time < alerts[y].time; });

  // Inhibition and deduplication, decided when each alert fires, in O(alerts log alerts).
  // An inhibiting source may be any alert that fired at or before that moment (one firing at
  // the same moment too), other than the target itself, still firing, with equal values of
  // the rule's `equal` labels. A target that matches the source side too is inhibited only
  // by sources that do not match the target side (Alertmanager's excludeTwoSidedMatch: two
  // alerts matching both sides do not mute each other).
  std::vector<std::vector<Matcher>> sources_of, targets_of;
  for (const InhibitRuleSpec& rule : spec.inhibit_rules) {
    sources_of.push_back(compiled(rule.source));
    targets_of.push_back(compiled(rule.target));
  }
  std::vector<std::map<std::string, LatestTwo>> sources(spec.inhibit_rules.size());
  std::vector<std::map<std::string, LatestTwo>> one_sided(spec.inhibit_rules.size());
  std::map<Labels, SimTime> kept_until;  // per label set: the latest resolution among kept
  std::vector<std::size_t> kept;
  for (std::size_t first = 0; first < order.size();) {
    const SimTime t = alerts[order[first]].time;
    std::size_t past = first;
    for (; past < order.size() && alerts[order[past]].time == t; ++past) {
      const std::size_t s = order[past];
      for (std::size_t r = 0; r < spec.inhibit_rules.size(); ++r) {
        if (!matches(labels[s], sources_of[r])) continue;
        const std::string key = joined_values(labels[s], spec.inhibit_rules[r].equal);
        sources[r][key].add(resolved_at(alerts[s]), s);
        if (!matches(labels[s], targets_of[r])) one_sided[r][key].add(resolved_at(alerts[s]), s);
      }
    }
    for (std::size_t i = first; i < past; ++i) {
      const std::size_t a = order[i];
      bool inhibited = false;
      for (std::size_t r = 0; r < spec.inhibit_rules.size() && !inhibited; ++r) {
        if (!matches(labels[a], targets_of[r])) continue;
        const auto& candidates = matches(labels[a], sources_of[r]) ? one_sided[r] : sources[r];
        const auto found = candidates.find(joined_values(labels[a], spec.inhibit_rules[r].equal));
        inhibited = found != candidates.end() && found->second.other_firing(a, t);
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

  // Routing, then grouping per route, group by group in the order groups first appear.
  std::vector<RouteNode> nodes;
  flatten(spec.route, nodes);
  std::map<std::pair<int, std::string>, std::vector<std::size_t>> groups;
  std::vector<std::pair<int, std::string>> group_order;
  std::vector<int> routes;
  for (std::size_t a : kept) {
    routes.clear();
    match_routes(nodes, 0, labels[a], routes);
    for (int route : routes) {
      const RouteSpec& r = *nodes[static_cast<std::size_t>(route)].spec;
      std::string key;
      if (r.group_by_all) {
        for (const auto& [name, value] : labels[a])
          key += (key.empty() ? "" : ",") + name + "=" + value;
      } else {
        for (const std::string& name : r.group_by)
          key += (key.empty() ? "" : ",") + name + "=" + value_of(labels[a], name);
      }
      auto [it, added] = groups.try_emplace({route, key});
      if (added) group_order.push_back({route, key});
      it->second.push_back(a);
    }
  }
  // Alertmanager's fingerprint: alerts of equal label sets are one alert to a receiver.
  std::vector<std::size_t> identity(alerts.size());
  std::map<Labels, std::size_t> identities;
  for (std::size_t a = 0; a < alerts.size(); ++a)
    identity[a] = identities.emplace(labels[a], identities.size()).first->second;
  for (const auto& group : group_order) {
    const RouteSpec& route = *nodes[static_cast<std::size_t>(group.first)].spec;
    const auto notices = spec.resolved_notices.find(route.receiver);
    if (notices == spec.resolved_notices.end() ||
        notices->second == AlertmanagerSpec::ResolvedNotices::kAll) {
      notify_group(alerts, identity, groups[group], group.second, route,
                   notices != spec.resolved_notices.end(), end, result);
      continue;
    }
    // Integrations of both kinds: the receiver notifies at the flushes either kind does.
    AlertRouting firing_only, resolving;
    firing_only.first_notified = resolving.first_notified = result.first_notified;
    notify_group(alerts, identity, groups[group], group.second, route, false, end, firing_only);
    notify_group(alerts, identity, groups[group], group.second, route, true, end, resolving);
    std::vector<Notification> both = std::move(firing_only.notifications);
    both.insert(both.end(), resolving.notifications.begin(), resolving.notifications.end());
    std::stable_sort(both.begin(), both.end(),
                     [](const Notification& a, const Notification& b) { return a.time < b.time; });
    for (std::size_t n = 0; n < both.size(); ++n) {
      if (n > 0 && both[n].time == both[n - 1].time) {
        result.notifications.back().resolution &= both[n].resolution;
        continue;
      }
      result.notifications.push_back(both[n]);
    }
    for (std::size_t a = 0; a < result.first_notified.size(); ++a) {
      const SimTime x = firing_only.first_notified[a], y = resolving.first_notified[a];
      result.first_notified[a] = x < 0 ? y : y < 0 ? x : std::min(x, y);
    }
  }
  std::stable_sort(result.notifications.begin(), result.notifications.end(),
                   [](const Notification& a, const Notification& b) { return a.time < b.time; });
  return result;
}

std::vector<std::string> receivers_for(const AlertmanagerSpec& spec, const AlertLabels& labels) {
  std::vector<RouteNode> nodes;
  flatten(spec.route, nodes);
  AlertLabels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> routes;
  match_routes(nodes, 0, sorted, routes);
  std::vector<std::string> receivers;
  for (int route : routes)
    receivers.push_back(nodes[static_cast<std::size_t>(route)].spec->receiver);
  return receivers;
}

}  // namespace dosim
