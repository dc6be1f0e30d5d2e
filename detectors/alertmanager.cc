#include "detectors/alertmanager.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>

#include "engine/schedule.h"
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

// Whether an entry of an Alertmanager time interval holds at a calendar time
// (timeinterval.ContainsTime: every field given holds).
bool holds(const TimeIntervalSpec& interval, const CalendarTime& c) {
  const auto any = [](const TimeIntervalSpec::Ranges& ranges, auto&& contains) {
    if (!ranges) return true;
    for (const auto& range : *ranges)
      if (contains(range)) return true;
    return false;
  };
  const auto within = [](int value) {
    return [value](const std::pair<int, int>& r) { return value >= r.first && value <= r.second; };
  };
  return any(interval.times,
             [&](const std::pair<int, int>& r) {
               return c.minute_of_day >= r.first && c.minute_of_day < r.second;
             }) &&
         any(interval.days_of_month,
             [&](const std::pair<int, int>& r) {
               // Negative days count from the month's end; a start past it never holds.
               const int begin = r.first < 0 ? c.days_in_month + r.first + 1 : r.first;
               const int end = r.second < 0 ? c.days_in_month + r.second + 1 : r.second;
               if (begin > c.days_in_month) return false;
               return c.day_of_month >= begin && c.day_of_month <= std::min(end, c.days_in_month);
             }) &&
         any(interval.months, within(c.month)) && any(interval.weekdays, within(c.weekday)) &&
         any(interval.years, within(c.year));
}

// When a route sends (Alertmanager's TimeActiveStage and TimeMuteStage): never while one of
// its mute intervals holds, and, when it names active intervals, only while one holds.
class RouteClock {
 public:
  RouteClock(const RouteSpec& route, const AlertmanagerSpec& spec) {
    for (auto [names, out] : {std::pair(&route.mute_time_intervals, &mute_),
                              std::pair(&route.active_time_intervals, &active_)})
      for (const std::string& name : *names) {
        const auto found = spec.time_intervals.find(name);
        if (found == spec.time_intervals.end())
          throw std::invalid_argument("undefined time interval '" + name + "'");
        out->push_back(&found->second);
        for (const TimeIntervalSpec& entry : found->second)
          if (entry.times)
            for (const auto& [start, end] : *entry.times) {
              marks_.push_back(start);
              marks_.push_back(end);
            }
      }
    std::sort(marks_.begin(), marks_.end());
    marks_.erase(std::unique(marks_.begin(), marks_.end()), marks_.end());
  }

  bool sends(SimTime t) const {
    if (mute_.empty() && active_.empty()) return true;
    const CalendarTime c = calendar_time(t);
    const auto in = [&](const std::vector<TimeIntervalSpec>* interval) {
      for (const TimeIntervalSpec& entry : *interval)
        if (holds(entry, c)) return true;
      return false;
    };
    for (const auto* interval : mute_)
      if (in(interval)) return false;
    if (active_.empty()) return true;
    for (const auto* interval : active_)
      if (in(interval)) return true;
    return false;
  }

  // The first time after `t`, up to `limit`, at which `sends` differs from `sends(t)`;
  // kNever when there is none. It can change only where a day or a `times` range begins or
  // ends: those are tried in order.
  SimTime next_change(SimTime t, SimTime limit) const {
    if (mute_.empty() && active_.empty()) return kNever;
    const bool now = sends(t);
    for (SimTime day = t / kDay * kDay; day <= limit; day += kDay) {
      for (int mark : marks_) {
        const SimTime at = day + mark * kMinute;
        if (at > t && at < day + kDay && at <= limit && sends(at) != now) return at;
      }
      if (day + kDay <= limit && sends(day + kDay) != now) return day + kDay;
    }
    return kNever;
  }

 private:
  std::vector<const std::vector<TimeIntervalSpec>*> mute_, active_;
  std::vector<int> marks_;  // minutes of the day where a `times` range begins or ends
};

// Half-open windows [from, to) during which some alert fires, sorted and disjoint.
using Windows = std::vector<std::pair<SimTime, SimTime>>;

void merge_windows(Windows& windows) {
  std::sort(windows.begin(), windows.end());
  std::size_t out = 0;
  for (const auto& w : windows) {
    if (out > 0 && w.first <= windows[out - 1].second) {
      windows[out - 1].second = std::max(windows[out - 1].second, w.second);
      continue;
    }
    windows[out++] = w;
  }
  windows.resize(out);
}

// When an alert is muted: the windows of the inhibiting sources of the rules whose target it
// matches (one list per rule).
struct Muting {
  std::vector<const Windows*> windows;

  bool at(SimTime t) const {
    for (const Windows* w : windows) {
      const auto after = std::upper_bound(w->begin(), w->end(), std::make_pair(t, kNever));
      if (after != w->begin() && t < std::prev(after)->second) return true;
    }
    return false;
  }
  // The first time after `t` at which `at` may change; kNever when it never does.
  SimTime next_change(SimTime t) const {
    SimTime change = kNever;
    for (const Windows* w : windows) {
      const auto after = std::upper_bound(w->begin(), w->end(), std::make_pair(t, kNever));
      if (after != w->end()) change = std::min(change, after->first);
      if (after != w->begin() && t < std::prev(after)->second)
        change = std::min(change, std::prev(after)->second);
    }
    return change;
  }
};

std::string joined_values(const Labels& labels, const std::vector<std::string>& names) {
  std::string key;
  for (const std::string& name : names) key += value_of(labels, name) + '\x1f';
  return key;
}

// Alertmanager's notification log for one group and receiver: what its last notification
// told (label sets as identities, sorted). It outlives the group's lives, as the nflog does.
struct NotificationLog {
  bool exists = false;
  SimTime at = -1;
  std::vector<std::size_t> firing, resolved;
};

bool subset(const std::vector<std::size_t>& part, const std::vector<std::size_t>& whole) {
  return std::includes(whole.begin(), whole.end(), part.begin(), part.end());
}

// Alerts of one group in firing order (indices into `alerts`), with `identity[a]` equal for
// alerts of equal label sets (Alertmanager's fingerprint): its notifications, Alertmanager's
// way, under its route's timing. The group holds one alert per label set (the latest to
// join) from the flush after it fires until the flush after it resolves; at each
// group_interval flush the alerts muted by an inhibit rule at that moment are left out
// (the MuteStage) and its DedupStage decides on the rest against the log: a notification
// when a label set is firing that the last did not carry, when nothing fires any more but
// the last carried firing alerts (sent only to a receiver with send_resolved, logged in any
// case), with `send_resolved` when a label set resolved since the last flush that the last
// did not tell resolved, or at the first flush repeat_interval or more after the last.
// A group whose alerts have all resolved closes after its flush; the next alert opens a
// new one. Steps from flush to flush only where something can change (an alert joins or
// resolves, an inhibiting source starts or stops, a repeat falls due), so the cost is in
// proportion to the alerts, the sources' windows and the notifications, not the flushes.
// Records when each member was first in a notification (firing at it), and marks in
// `muted_firing` the alerts a flush left out while they fired.
void notify_group(const std::vector<Alert>& alerts, const std::vector<std::size_t>& identity,
                  const std::vector<Muting>& muting, const std::vector<std::size_t>& members,
                  const std::string& key, const RouteSpec& route, const RouteClock& route_clock,
                  bool send_resolved, SimTime end, AlertRouting& result,
                  std::vector<char>& muted_firing) {
  NotificationLog log;
  std::map<std::size_t, std::size_t> held;  // label set -> the alert the group holds for it
  std::vector<std::size_t> firing, resolved, carried;
  std::size_t next = 0;  // first member not yet joined
  while (next < members.size()) {
    // A group opens with its next alert; its first flush waits group_wait.
    SimTime at = saturated_sum(alerts[members[next]].time, route.group_wait);
    while (at <= end) {
      for (; next < members.size() && alerts[members[next]].time <= at; ++next)
        held[identity[members[next]]] = members[next];
      firing.clear();
      resolved.clear();
      carried.clear();
      for (const auto& [id, a] : held) {  // by identity: `firing` and `resolved` are sorted
        const bool fires = resolved_at(alerts[a]) > at;
        if (muting[a].at(at)) {
          if (fires) muted_firing[a] = 1;
          continue;
        }
        (fires ? firing : resolved).push_back(id);
        if (fires) carried.push_back(a);
      }
      // Outside the route's active time, or inside a mute time, the flush stops there: no
      // notification, nothing logged.
      if ((!firing.empty() || !resolved.empty()) && route_clock.sends(at)) {
        const bool new_firing = !log.exists || !subset(firing, log.firing);
        // At or past: Alertmanager logs a notification once sent, after its flush began,
        // and repeats when that entry is before now - repeat_interval; but each flush's
        // timer starts when the one before has ended, so its flushes drift later by their
        // own durations, more than a send takes once a few have passed: a repeat_interval
        // that is a whole number of group_intervals repeats at that flush (4h, 5m: 4h; the
        // real Alertmanager's repeats at 4 x 30 s came 2 m after, not 2m30s).
        const bool repeat_due = log.exists && at - log.at >= route.repeat_interval;
        bool update = false;
        if (!log.exists)
          update = !firing.empty();
        else if (new_firing)
          update = true;
        else if (firing.empty())
          update = !log.firing.empty();
        else
          update = repeat_due || (send_resolved && !subset(resolved, log.resolved));
        if (update) {
          if (!firing.empty() || send_resolved)
            result.notifications.push_back({at, key, firing.size(), route.receiver,
                                            firing.empty() || (!new_firing && !repeat_due)});
          for (std::size_t a : carried) {
            SimTime& first = result.first_notified[a];
            if (first < 0 || at < first) first = at;
          }
          log = {true, at, firing, resolved};
        }
      }
      // The flush's resolved alerts leave the group; a group left empty closes.
      std::erase_if(held,
                    [&](const auto& entry) { return resolved_at(alerts[entry.second]) <= at; });
      if (held.empty()) break;
      // Nothing changes before an alert joins, a held one resolves or is muted or unmuted,
      // or a repeat falls due: jump to the first flush at or after the earliest of these.
      SimTime change = log.exists ? saturated_sum(log.at, route.repeat_interval) : kNever;
      if (next < members.size()) change = std::min(change, alerts[members[next]].time);
      for (const auto& [id, a] : held)
        change = std::min({change, resolved_at(alerts[a]), muting[a].next_change(at)});
      if (change > at)
        change = std::min(change, route_clock.next_change(at, std::min(change, end)));
      at = next_step(at, route.group_interval, change, end);
    }
    if (at > end) break;
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

  // Inhibition, as Alertmanager's inhibitor decides it at each flush: an alert matching a
  // rule's target is muted while an alert matching its source fires with equal values of the
  // rule's `equal` labels (one firing from that very moment too). A target that matches the
  // source side too is muted only by sources that do not match the target side
  // (Alertmanager's excludeTwoSidedMatch: two alerts matching both sides do not mute each
  // other, nor does an alert mute itself). Per rule and `equal` values, the windows during
  // which such sources fire; per alert, those of the rules whose target it matches.
  std::vector<std::vector<Matcher>> sources_of, targets_of;
  for (const InhibitRuleSpec& rule : spec.inhibit_rules) {
    sources_of.push_back(compiled(rule.source));
    targets_of.push_back(compiled(rule.target));
  }
  std::vector<std::map<std::string, Windows>> sources(spec.inhibit_rules.size());
  std::vector<std::map<std::string, Windows>> one_sided(spec.inhibit_rules.size());
  for (std::size_t s = 0; s < alerts.size(); ++s)
    for (std::size_t r = 0; r < spec.inhibit_rules.size(); ++r) {
      if (!matches(labels[s], sources_of[r])) continue;
      const std::string key = joined_values(labels[s], spec.inhibit_rules[r].equal);
      const std::pair<SimTime, SimTime> window = {alerts[s].time, resolved_at(alerts[s])};
      sources[r][key].push_back(window);
      if (!matches(labels[s], targets_of[r])) one_sided[r][key].push_back(window);
    }
  for (auto* by_rule : {&sources, &one_sided})
    for (auto& by_key : *by_rule)
      for (auto& [key, windows] : by_key) merge_windows(windows);
  std::vector<Muting> muting(alerts.size());
  for (std::size_t a = 0; a < alerts.size(); ++a)
    for (std::size_t r = 0; r < spec.inhibit_rules.size(); ++r) {
      if (!matches(labels[a], targets_of[r])) continue;
      const auto& candidates = matches(labels[a], sources_of[r]) ? one_sided[r] : sources[r];
      const auto found = candidates.find(joined_values(labels[a], spec.inhibit_rules[r].equal));
      if (found != candidates.end()) muting[a].windows.push_back(&found->second);
    }

  // Deduplication, decided when each alert fires: one with the label set of a kept alert
  // still firing adds nothing.
  std::map<Labels, SimTime> kept_until;  // per label set: the latest resolution among kept
  std::vector<std::size_t> kept;
  for (std::size_t a : order) {
    const auto [it, added] = kept_until.emplace(labels[a], resolved_at(alerts[a]));
    if (!added && it->second > alerts[a].time) {
      ++result.deduplicated;
      continue;
    }
    it->second = std::max(it->second, resolved_at(alerts[a]));
    kept.push_back(a);
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
  std::vector<char> muted_firing(alerts.size(), 0);
  for (const auto& group : group_order) {
    const RouteSpec& route = *nodes[static_cast<std::size_t>(group.first)].spec;
    const RouteClock route_clock(route, spec);
    const auto notices = spec.resolved_notices.find(route.receiver);
    if (notices == spec.resolved_notices.end() ||
        notices->second == AlertmanagerSpec::ResolvedNotices::kAll) {
      notify_group(alerts, identity, muting, groups[group], group.second, route, route_clock,
                   notices != spec.resolved_notices.end(), end, result, muted_firing);
      continue;
    }
    // Integrations of both kinds: the receiver notifies at the flushes either kind does.
    AlertRouting firing_only, resolving;
    firing_only.first_notified = resolving.first_notified = result.first_notified;
    notify_group(alerts, identity, muting, groups[group], group.second, route, route_clock, false,
                 end, firing_only, muted_firing);
    notify_group(alerts, identity, muting, groups[group], group.second, route, route_clock, true,
                 end, resolving, muted_firing);
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
  // Inhibited: left out by a flush while it fired, and carried by no notification.
  for (std::size_t a : kept)
    if (muted_firing[a] && result.first_notified[a] < 0) ++result.inhibited;
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
