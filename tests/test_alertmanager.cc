// Alertmanager semantics: grouping with group_wait / group_interval / repeat_interval,
// deduplication and inhibition, against hand-worked timelines.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <vector>

#include "detectors/alertmanager.h"
#include "engine/schedule.h"
#include "util/alertmanager_syntax.h"

using namespace dosim;

namespace {

Alert raised(SimTime from, SimTime to, int service, std::string severity = "warning",
             std::string metric = "latency_p95_s") {
  return {from, "mad", service, std::move(metric), std::move(severity), to, ""};
}

const std::vector<std::string> kServices = {"a", "b"};

LabelMatcherSpec eq(std::string name, std::string value) {
  return {std::move(name), LabelMatcherSpec::Op::kEqual, std::move(value)};
}

// Groups per service: first flush 10 s after a group opens, then every minute, repeats
// after an hour.
AlertmanagerSpec by_service_each_minute() {
  AlertmanagerSpec spec;
  spec.route.group_by = {"service"};
  spec.route.group_wait = 10 * kSecond;
  spec.route.group_interval = kMinute;
  spec.route.repeat_interval = kHour;
  return spec;
}

std::vector<SimTime> times(const AlertRouting& result) {
  std::vector<SimTime> out;
  for (const Notification& n : result.notifications) out.push_back(n.time);
  return out;
}

}  // namespace

TEST_CASE("alerts of one group within group_wait make one notification", "[alertmanager]") {
  AlertmanagerSpec spec;  // by service; 30 s, 5 m, 4 h
  const auto result =
      route_alerts({raised(0, kHour, 0), raised(10 * kSecond, kHour, 0, "warning", "error_ratio"),
                    raised(20 * kSecond, kHour, 0, "critical", "cpu_ratio")},
                   spec, kServices, 2 * kHour);
  CHECK(times(result) == std::vector<SimTime>{30 * kSecond});
  CHECK(result.notifications[0].alerts == 3);
  CHECK(result.notifications[0].group == "service=a");
  CHECK(result.raw_alerts == 3);
}

TEST_CASE(
    "a later alert joins at the next group_interval, a quiet group repeats after "
    "repeat_interval",
    "[alertmanager]") {
  AlertmanagerSpec spec;
  const auto joined =
      route_alerts({raised(0, kHour, 0), raised(2 * kMinute, kHour, 0, "warning", "error_ratio")},
                   spec, kServices, 2 * kHour);
  CHECK(times(joined) == std::vector<SimTime>{30 * kSecond, 5 * kMinute + 30 * kSecond});
  const auto repeated = route_alerts({raised(0, 10 * kHour, 0)}, spec, kServices, 12 * kHour);
  // The defaults (4h, 5m): a repeat at the first flush 4h or more after the last, as the real
  // Alertmanager's flushes, drifting later by their own durations, find its log entry
  // (written once the notification is sent) before now - 4h.
  CHECK(times(repeated) ==
        std::vector<SimTime>{30 * kSecond, 4 * kHour + 30 * kSecond, 8 * kHour + 30 * kSecond});
}

TEST_CASE("groups are per service, and a closed group reopens with group_wait", "[alertmanager]") {
  AlertmanagerSpec spec;
  const auto result = route_alerts(
      {raised(0, kMinute, 0), raised(5 * kSecond, kHour, 1), raised(10 * kMinute, kHour, 0)}, spec,
      kServices, 2 * kHour);
  CHECK(times(result) ==
        std::vector<SimTime>{30 * kSecond, 35 * kSecond, 10 * kMinute + 30 * kSecond});
}

TEST_CASE("an alert that resolves and fires again between two flushes is not notified again",
          "[alertmanager]") {
  // Alertmanager's DedupStage: at the 70 s flush the firing label set is the one the 10 s
  // notification carried, and repeat_interval has not passed: nothing is sent.
  const AlertmanagerSpec spec = by_service_each_minute();
  const auto flapped =
      route_alerts({raised(0, 20 * kSecond, 1), raised(40 * kSecond, 3 * kMinute, 1)}, spec,
                   kServices, 2 * kHour);
  CHECK(times(flapped) == std::vector<SimTime>{10 * kSecond});
  CHECK(flapped.first_notified == std::vector<SimTime>{10 * kSecond, -1});
  // Still firing an hour after the first notification: the repeat, at the first flush an
  // hour or more after it, carries it.
  const auto repeated = route_alerts(
      {raised(0, 20 * kSecond, 1), raised(40 * kSecond, 2 * kHour, 1)}, spec, kServices, 3 * kHour);
  CHECK(times(repeated) == std::vector<SimTime>{10 * kSecond, kHour + 10 * kSecond});
  CHECK(repeated.first_notified[1] == kHour + 10 * kSecond);
  // A flush with nothing firing in between closes the group: the next alert opens a new one.
  const auto reopened =
      route_alerts({raised(0, 20 * kSecond, 1), raised(80 * kSecond, 3 * kMinute, 1)}, spec,
                   kServices, 2 * kHour);
  CHECK(times(reopened) == std::vector<SimTime>{10 * kSecond, 90 * kSecond});
}

TEST_CASE("an alert resolved while its group still fires is notified again only when new",
          "[alertmanager]") {
  // Without send_resolved the resolution is not sent, so the receiver still holds the alert
  // as firing: its return adds nothing; a label set the group never notified does.
  const AlertmanagerSpec spec = by_service_each_minute();
  const auto result =
      route_alerts({raised(0, kHour, 1), raised(0, 30 * kSecond, 1, "warning", "error_ratio"),
                    raised(100 * kSecond, kHour, 1, "warning", "error_ratio"),
                    raised(150 * kSecond, kHour, 1, "critical", "cpu_ratio")},
                   spec, kServices, 30 * kMinute);
  CHECK(times(result) == std::vector<SimTime>{10 * kSecond, 190 * kSecond});
  CHECK(result.notifications[1].alerts == 3);
  CHECK(result.first_notified ==
        std::vector<SimTime>{10 * kSecond, 10 * kSecond, 190 * kSecond, 190 * kSecond});
}

TEST_CASE("a receiver with send_resolved is notified of resolutions as Alertmanager's dedup "
          "stage decides", "[alertmanager]") {
  AlertmanagerSpec spec = by_service_each_minute();
  spec.resolved_notices["default"] = AlertmanagerSpec::ResolvedNotices::kAll;
  // Flushes at 10 s, 70 s, 130 s, ... The error alert resolves at 30 s: the 70 s flush sends
  // it resolved (the group still fires). Its label set fires again at 100 s: no longer among
  // the firing ones the receiver was last told of, so the 130 s flush sends it (without
  // send_resolved nothing is sent then, test above); the cpu alert at 150 s goes out at 190 s.
  const auto result =
      route_alerts({raised(0, kHour, 1), raised(0, 30 * kSecond, 1, "warning", "error_ratio"),
                    raised(100 * kSecond, kHour, 1, "warning", "error_ratio"),
                    raised(150 * kSecond, kHour, 1, "critical", "cpu_ratio")},
                   spec, kServices, 30 * kMinute);
  CHECK(times(result) ==
        std::vector<SimTime>{10 * kSecond, 70 * kSecond, 130 * kSecond, 190 * kSecond});
  CHECK(result.notifications[1].alerts == 1);  // the latency alert still fires
  CHECK(result.first_notified ==
        std::vector<SimTime>{10 * kSecond, 10 * kSecond, 130 * kSecond, 190 * kSecond});
  // All resolved: the flush that closes the group sends the resolution (no alert firing), for
  // each life of the group.
  const auto reopened =
      route_alerts({raised(0, 20 * kSecond, 1), raised(80 * kSecond, 3 * kMinute, 1)}, spec,
                   kServices, 2 * kHour);
  CHECK(times(reopened) ==
        std::vector<SimTime>{10 * kSecond, 70 * kSecond, 90 * kSecond, 210 * kSecond});
  CHECK(reopened.notifications[1].alerts == 0);
  // An alert that resolves and fires again between two flushes is firing at the second (the
  // group holds one alert per label set): nothing new until it resolves for good.
  const auto flapped =
      route_alerts({raised(0, 20 * kSecond, 1), raised(40 * kSecond, 3 * kMinute, 1)}, spec,
                   kServices, 2 * kHour);
  CHECK(times(flapped) == std::vector<SimTime>{10 * kSecond, 190 * kSecond});
  // A group that fired and resolved before its first flush never notified: nothing to resolve.
  const auto unseen = route_alerts({raised(0, 5 * kSecond, 1)}, spec, kServices, kHour);
  CHECK(times(unseen).empty());
}

TEST_CASE("a receiver with integrations of both kinds notifies at the flushes of either",
          "[alertmanager]") {
  AlertmanagerSpec spec = by_service_each_minute();
  const std::vector<Alert> alerts = {raised(0, kHour, 1),
                                     raised(0, 30 * kSecond, 1, "warning", "error_ratio"),
                                     raised(100 * kSecond, kHour, 1, "warning", "error_ratio")};
  const auto none = route_alerts(alerts, spec, kServices, 30 * kMinute);
  CHECK(times(none) == std::vector<SimTime>{10 * kSecond});
  spec.resolved_notices["default"] = AlertmanagerSpec::ResolvedNotices::kAll;
  const auto all = route_alerts(alerts, spec, kServices, 30 * kMinute);
  CHECK(times(all) == std::vector<SimTime>{10 * kSecond, 70 * kSecond, 130 * kSecond});
  spec.resolved_notices["default"] = AlertmanagerSpec::ResolvedNotices::kSome;
  const auto some = route_alerts(alerts, spec, kServices, 30 * kMinute);
  CHECK(times(some) == times(all));
  CHECK(some.first_notified == all.first_notified);
}

TEST_CASE("identical alerts are deduplicated, inhibited ones never notify", "[alertmanager]") {
  AlertmanagerSpec spec;
  spec.inhibit_rules.push_back(
      {{eq("severity", "critical")}, {eq("severity", "warning")}, {"service"}});
  const auto result =
      route_alerts({raised(0, kHour, 0, "critical", "error_ratio"),
                    raised(kSecond, 30 * kMinute, 0, "warning"),  // muted: a critical on a fires
                    raised(2 * kSecond, kHour, 1, "warning"),     // b: not inhibited
                    raised(3 * kSecond, kHour, 1, "warning")},    // same labels as the one before
                   spec, kServices, 2 * kHour);
  CHECK(result.inhibited == 1);
  CHECK(result.deduplicated == 1);
  CHECK(times(result) == std::vector<SimTime>{30 * kSecond, 32 * kSecond});
  CHECK(result.notifications[0].alerts == 1);
  CHECK(result.notifications[1].alerts == 1);
}

TEST_CASE("inhibition is decided at each flush, as Alertmanager's MuteStage decides it",
          "[alertmanager]") {
  // By service; 30 s, 5 m, 4 h. The critical on a (0 to 1 h) mutes a's warning while it
  // fires: once it resolves, the next flush (30 s + 12 x 5 m) notifies the warning.
  AlertmanagerSpec spec;
  spec.inhibit_rules.push_back(
      {{eq("severity", "critical")}, {eq("severity", "warning")}, {"service"}});
  const Alert critical = raised(0, kHour, 0, "critical", "error_ratio");
  const auto unmuted = route_alerts({critical, raised(kSecond, 2 * kHour, 0, "warning")}, spec,
                                    kServices, 3 * kHour);
  CHECK(times(unmuted) == std::vector<SimTime>{30 * kSecond, 3630 * kSecond});
  CHECK(unmuted.notifications[1].alerts == 1);  // the warning alone: the critical resolved
  CHECK(unmuted.first_notified == std::vector<SimTime>{30 * kSecond, 3630 * kSecond});
  CHECK(unmuted.inhibited == 0);
  // A source that fires after its target was notified mutes the target's repeat: the
  // warning, notified at 30 s, repeats at 4h00m30s only if no critical fires then.
  const Alert warning = raised(0, -1, 1, "warning");
  Alert later = raised(4 * kHour, 5 * kHour, 1, "critical", "error_ratio");
  spec.route.group_by = {"service", "severity"};
  const auto repeat = route_alerts({warning}, spec, kServices, 5 * kHour);
  const auto muted_repeat = route_alerts({warning, later}, spec, kServices, 5 * kHour);
  CHECK(times(repeat) == std::vector<SimTime>{30 * kSecond, 4 * kHour + 30 * kSecond});
  // The critical's own group notifies at 4h00m30s; the warning's repeat waits for it to
  // resolve (5 h) and would come at the first flush after, 5h00m30s, past the run's end.
  CHECK(times(muted_repeat) == std::vector<SimTime>{30 * kSecond, 4 * kHour + 30 * kSecond});
}

TEST_CASE("alerts matching both sides of an inhibit rule do not mute each other",
          "[alertmanager]") {
  // Alertmanager's inhibit.go (hasEqual with excludeTwoSidedMatch): a target that matches the
  // source side too is muted only by a source that does not match the target side.
  AlertmanagerSpec spec;
  spec.inhibit_rules.push_back({{eq("metric", "error_ratio")}, {}, {"service"}});  // any target
  Alert other = raised(kSecond, kHour, 0, "critical", "error_ratio");
  other.detector = "ewma";  // not a duplicate: another label set
  const auto both = route_alerts({raised(0, kHour, 0, "critical", "error_ratio"), other}, spec,
                                 kServices, 2 * kHour);
  CHECK(both.inhibited == 0);
  CHECK(both.deduplicated == 0);
  // A one-sided source (its metric matches the source, and a target matcher it fails) mutes
  // both two-sided alerts and the plain target.
  spec.inhibit_rules[0].target = {eq("severity", "critical")};
  const auto muted = route_alerts({raised(0, kHour, 0, "warning", "error_ratio"),
                                   raised(kSecond, kHour, 0, "critical", "error_ratio"),
                                   raised(2 * kSecond, kHour, 0, "critical", "latency_p95_s")},
                                  spec, kServices, 2 * kHour);
  CHECK(muted.inhibited == 2);
}

TEST_CASE("alerts on two edges of one caller are two alerts, not duplicates", "[alertmanager]") {
  Alert shipping = raised(0, kHour, 0);
  shipping.target = "a->shipping";
  Alert cart = raised(kSecond, kHour, 0);
  cart.target = "a->cart";
  Alert cart_again = raised(2 * kSecond, kHour, 0);
  cart_again.target = "a->cart";
  const auto result = route_alerts({shipping, cart, cart_again}, {}, kServices, 2 * kHour);
  CHECK(result.raw_alerts == 3);
  CHECK(result.deduplicated == 1);            // the second alert on a->cart only
  REQUIRE(result.notifications.size() == 1);  // one group: service a
  CHECK(result.notifications[0].alerts == 2);
  AlertmanagerSpec by_target;
  by_target.route.group_by = {"target"};
  CHECK(route_alerts({shipping, cart}, by_target, kServices, 2 * kHour).notifications.size() == 2);
}

namespace {

// Alertmanager's rules written out directly, as its dispatcher, MuteStage and DedupStage
// apply them (a scan of every alert for each decision, a step at every group_interval
// flush): the reference for route_alerts, which skips the flushes at which nothing can
// change and indexes what it scans. Slow; small inputs only.
AlertRouting reference_routing(const std::vector<Alert>& alerts, const AlertmanagerSpec& spec,
                               const std::vector<std::string>& names, SimTime end,
                               bool send_resolved) {
  using Labels = std::vector<std::pair<std::string, std::string>>;
  const auto value = [](const Labels& labels, const std::string& name) {
    for (const auto& [key, v] : labels)
      if (key == name) return v;
    return std::string();
  };
  const auto matches = [&](const Labels& labels, const std::vector<LabelMatcherSpec>& matchers) {
    for (const LabelMatcherSpec& m : matchers)
      if (value(labels, m.name) != m.value) return false;  // equality matchers only
    return true;
  };
  const auto firing = [](const Alert& a, SimTime t) {
    return a.time <= t && (a.resolved < 0 || a.resolved > t);
  };
  AlertRouting result;
  result.raw_alerts = alerts.size();
  result.first_notified.assign(alerts.size(), -1);
  std::vector<Labels> labels;
  for (const Alert& a : alerts)
    labels.push_back({{"detector", a.detector},
                      {"metric", a.metric},
                      {"service", a.service >= 0 ? names[a.service] : ""},
                      {"severity", a.severity},
                      {"target", a.target}});
  // inhibit.go's Mutes at time t: a source of a rule whose target matches, firing, equal.
  const auto muted = [&](std::size_t a, SimTime t) {
    for (const InhibitRuleSpec& rule : spec.inhibit_rules) {
      if (!matches(labels[a], rule.target)) continue;
      const bool two_sided = matches(labels[a], rule.source);
      for (std::size_t s = 0; s < alerts.size(); ++s) {
        if (!matches(labels[s], rule.source) || !firing(alerts[s], t)) continue;
        if (two_sided && matches(labels[s], rule.target)) continue;  // excludeTwoSidedMatch
        bool equal = true;
        for (const std::string& name : rule.equal)
          equal = equal && value(labels[s], name) == value(labels[a], name);
        if (equal) return true;
      }
    }
    return false;
  };
  std::vector<std::size_t> kept;
  for (std::size_t a = 0; a < alerts.size(); ++a) {
    bool duplicate = false;
    for (std::size_t k : kept)
      duplicate = duplicate || (labels[k] == labels[a] && firing(alerts[k], alerts[a].time));
    if (duplicate) {
      ++result.deduplicated;
      continue;
    }
    kept.push_back(a);
  }
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t a : kept) {
    std::string key;
    for (const std::string& name : spec.route.group_by)
      key += (key.empty() ? "" : ",") + name + "=" + value(labels[a], name);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(a);
  }
  std::vector<char> left_out(alerts.size(), 0);
  for (const std::string& key : order) {
    const std::vector<std::size_t>& members = groups[key];
    bool logged = false;  // the notification log: its time and label sets
    SimTime logged_at = -1;
    std::set<Labels> logged_firing, logged_resolved;
    std::size_t next = 0;
    while (next < members.size()) {
      std::map<Labels, std::size_t> group;  // the aggregation group's alerts
      SimTime at = alerts[members[next]].time + spec.route.group_wait;
      for (; at <= end; at += spec.route.group_interval) {
        for (; next < members.size() && alerts[members[next]].time <= at; ++next)
          group[labels[members[next]]] = members[next];
        std::set<Labels> now_firing, now_resolved;
        std::vector<std::size_t> carried;
        for (const auto& [l, a] : group) {
          const bool fires = firing(alerts[a], at);
          if (muted(a, at)) {
            left_out[a] = left_out[a] || fires;
            continue;
          }
          if (fires) {
            now_firing.insert(l);
            carried.push_back(a);
          } else {
            now_resolved.insert(l);
          }
        }
        if (!now_firing.empty() || !now_resolved.empty()) {  // an empty list stops the stages
          const auto subset = [](const std::set<Labels>& part, const std::set<Labels>& whole) {
            return std::includes(whole.begin(), whole.end(), part.begin(), part.end());
          };
          bool update;  // dedup.go's needsUpdate
          if (!logged)
            update = !now_firing.empty();
          else if (!subset(now_firing, logged_firing))
            update = true;
          else if (now_firing.empty())
            update = !logged_firing.empty();
          else if (send_resolved && !subset(now_resolved, logged_resolved))
            update = true;
          else
            update = logged_at <= at - spec.route.repeat_interval;
          if (update) {
            const bool repeat = logged && logged_at <= at - spec.route.repeat_interval;
            const bool fresh = !logged || !subset(now_firing, logged_firing);
            if (!now_firing.empty() || send_resolved)
              result.notifications.push_back({at, key, now_firing.size(), "default",
                                              now_firing.empty() || (!fresh && !repeat)});
            for (std::size_t a : carried)
              if (result.first_notified[a] < 0) result.first_notified[a] = at;
            logged = true;
            logged_at = at;
            logged_firing = now_firing;
            logged_resolved = now_resolved;
          }
        }
        std::erase_if(group, [&](const auto& e) { return !firing(alerts[e.second], at); });
        if (group.empty()) break;
      }
      if (at > end) break;
    }
  }
  for (std::size_t a : kept)
    if (left_out[a] && result.first_notified[a] < 0) ++result.inhibited;
  std::stable_sort(result.notifications.begin(), result.notifications.end(),
                   [](const Notification& a, const Notification& b) { return a.time < b.time; });
  return result;
}

}  // namespace

TEST_CASE("route_alerts agrees with Alertmanager's rules applied flush by flush",
          "[alertmanager]") {
  // Random alert timelines (firing order, ticks of 10 s, some never resolving) under random
  // intervals, groupings and inhibit rules: same notifications, inhibitions and duplicates.
  std::mt19937_64 random(2024);
  const auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  const std::vector<std::string> names = {"a", "b", "c"};
  for (int round = 0; round < 300; ++round) {
    AlertmanagerSpec spec;
    spec.route.group_wait = pick(4) * 10 * kSecond;
    spec.route.group_interval = (1 + pick(6)) * 10 * kSecond;
    spec.route.repeat_interval = (1 + pick(20)) * 10 * kSecond;
    spec.route.group_by = pick(2) ? std::vector<std::string>{"service"}
                                  : std::vector<std::string>{"service", "severity"};
    if (pick(2))
      spec.inhibit_rules.push_back(
          {{eq("severity", "critical")}, {eq("severity", "warning")}, {"service"}});
    if (pick(2))  // an alert can match both sides: it must not inhibit itself
      spec.inhibit_rules.push_back({{eq("metric", "error_ratio")}, {eq("service", "b")}, {}});
    std::vector<Alert> alerts;
    SimTime t = 0;
    for (int k = 0, n = 1 + pick(25); k < n; ++k) {
      t += pick(4) * 10 * kSecond;
      const SimTime resolved = pick(6) == 0 ? -1 : t + (1 + pick(40)) * 10 * kSecond;
      alerts.push_back({t, "mad", pick(3), pick(2) ? "error_ratio" : "latency_p95_s",
                        pick(3) ? "warning" : "critical", resolved, ""});
    }
    const SimTime end = t + pick(60) * 10 * kSecond;
    INFO("round " << round);
    const bool send_resolved = pick(2);
    if (send_resolved) spec.resolved_notices["default"] = AlertmanagerSpec::ResolvedNotices::kAll;
    const AlertRouting expected = reference_routing(alerts, spec, names, end, send_resolved);
    const AlertRouting found = route_alerts(alerts, spec, names, end);
    CHECK(found.inhibited == expected.inhibited);
    CHECK(found.deduplicated == expected.deduplicated);
    CHECK(found.first_notified == expected.first_notified);
    REQUIRE(found.notifications.size() == expected.notifications.size());
    for (std::size_t i = 0; i < found.notifications.size(); ++i) {
      CHECK(found.notifications[i].time == expected.notifications[i].time);
      CHECK(found.notifications[i].group == expected.notifications[i].group);
      CHECK(found.notifications[i].alerts == expected.notifications[i].alerts);
      CHECK(found.notifications[i].resolution == expected.notifications[i].resolution);
    }
  }
}

TEST_CASE("a long firing alert under the shortest intervals costs its notifications only",
          "[alertmanager]") {
  // A year of one alert with group_interval 1 s and repeat_interval 1 h: a notification every
  // hour (the first flush an hour after the last), 8,760 of them, reached without stepping
  // through 31 million flushes one by one.
  AlertmanagerSpec spec;
  spec.route.group_wait = 0;
  spec.route.group_interval = kSecond;
  spec.route.repeat_interval = kHour;
  const SimTime year = 365 * kDay;
  const auto result = route_alerts({raised(0, -1, 0)}, spec, kServices, year - 1);
  REQUIRE(result.notifications.size() == 8760);
  CHECK(result.notifications.back().time == 8759 * kHour);
}

TEST_CASE("routes send each alert to its receivers, grouped per route", "[alertmanager]") {
  // Critical alerts page at once and, with continue, reach the team too; the team's route
  // waits 30 s, long enough for b's warning (cleared at 20 s) never to reach anyone.
  AlertmanagerSpec spec;
  spec.route.receiver = "team";
  spec.route.group_by = {"service"};
  RouteSpec pager;
  pager.receiver = "pager";
  pager.group_by = {"service"};
  pager.group_wait = 0;
  pager.matchers = {eq("severity", "critical")};
  pager.continue_matching = true;
  RouteSpec team = spec.route;
  team.routes.clear();
  spec.route.routes = {pager, team};
  spec.receivers = {"team", "pager"};
  const auto result = route_alerts(
      {raised(0, kHour, 0, "critical", "error_ratio"), raised(10 * kSecond, 20 * kSecond, 1)}, spec,
      kServices, 2 * kHour);
  REQUIRE(result.notifications.size() == 2);
  CHECK(result.notifications[0].time == 0);
  CHECK(result.notifications[0].receiver == "pager");
  CHECK(result.notifications[1].time == 30 * kSecond);
  CHECK(result.notifications[1].receiver == "team");
  CHECK(result.notifications[1].group == "service=a");
  CHECK(result.first_notified == std::vector<SimTime>{0, -1});
  CHECK(receivers_for(spec, {{"severity", "critical"}}) ==
        std::vector<std::string>{"pager", "team"});
  CHECK(receivers_for(spec, {{"severity", "warning"}}) == std::vector<std::string>{"team"});
}

TEST_CASE("regular expression and negative matchers read a missing label as empty",
          "[alertmanager]") {
  AlertmanagerSpec spec;
  spec.route.receiver = "root";
  RouteSpec db;
  db.receiver = "db";
  db.matchers = {{"service", LabelMatcherSpec::Op::kMatches, "db|cache"},
                 {"team", LabelMatcherSpec::Op::kNotEqual, "web"}};
  RouteSpec quiet;
  quiet.receiver = "quiet";
  quiet.matchers = {{"severity", LabelMatcherSpec::Op::kNotMatches, "crit.*"}};
  spec.route.routes = {db, quiet};
  CHECK(receivers_for(spec, {{"service", "db"}}) == std::vector<std::string>{"db"});
  CHECK(receivers_for(spec, {{"service", "dbx"}}) == std::vector<std::string>{"quiet"});
  CHECK(receivers_for(spec, {{"service", "cache"}, {"team", "web"}}) ==
        std::vector<std::string>{"quiet"});
  CHECK(receivers_for(spec, {{"severity", "critical"}}) == std::vector<std::string>{"root"});
}

// Go's regular expression syntax (RE2), as Alertmanager compiles a matcher's regex: what Go
// accepts runs with Go's meaning, what Go refuses is refused with Go's words
// (tests/test_alertmanager_tools.py holds both to amtool).
TEST_CASE("matcher regexes are Go's syntax", "[alertmanager]") {
  const auto matches = [](const std::string& pattern, const std::string& value) {
    std::string why;
    const auto re = compile_go_regex_anchored(pattern, why);
    REQUIRE(re);
    return re->matches(value);
  };
  CHECK(matches("(?i)CRIT.*", "critical"));
  CHECK(matches("(?i:crit)ical", "CRITical"));
  CHECK_FALSE(matches("(?i:crit)ical", "CRITICAL"));
  CHECK(matches("(?i)[a-c]+", "AbC"));
  CHECK(matches("(?P<team>pay|ship)ments", "payments"));
  CHECK_FALSE(matches("a.c", "a\nc"));
  CHECK(matches("(?s)a.c", "a\nc"));
  CHECK(matches("(?m)a$\nb", "a\nb"));
  CHECK(matches("(?U)a+b", "aab"));
  CHECK(matches("[]a]+", "]a"));
  CHECK(matches("a{", "a{"));
  CHECK(matches("[[:upper:]]\\d", "A1"));
  CHECK(matches("\\Qa.b\\E", "a.b"));
  CHECK_FALSE(matches("\\Qa.b\\E", "axb"));
  CHECK(matches("\\x41\\101", "AA"));
  CHECK_FALSE(matches("\\s", "\v"));  // Go's \s: [\t\n\f\r ]
  const auto refused = [](const std::string& pattern) {
    std::string why;
    CHECK_FALSE(compile_go_regex_anchored(pattern, why));
    return why;
  };
  CHECK(refused("a**") == "invalid nested repetition operator: `**`");
  CHECK(refused("a+?+") == "invalid nested repetition operator: `+?+`");
  CHECK(refused("a{2}{3}") == "invalid nested repetition operator: `{2}{3}`");
  CHECK(refused("a{1001}") == "invalid repeat count: `{1001}`");
  CHECK(refused("(?=a)") == "invalid or unsupported Perl syntax: `(?=`");
  CHECK(refused("(?!a)") == "invalid or unsupported Perl syntax: `(?!`");
  CHECK(refused("(?<=a)") == "invalid or unsupported Perl syntax: `(?<`");
  CHECK(refused("(a)\\1") == "invalid escape sequence: `\\1`");
  CHECK(refused("*a") == "missing argument to repetition operator: `*`");
  CHECK(refused("(a") == "missing closing ): `^(?:(a)$`");
  CHECK(matches("a)|(b", "ax"));  // ^(?:a)|(b)$, as Go reads the anchored text
  CHECK(refused("[z-a]") == "invalid character class range: `z-a`");
  CHECK(matches("a*?", "aa"));
  CHECK(matches("a??", ""));
  // What the ECMAScript translation never covered, run by RE2 as Go runs it: Unicode classes,
  // negated POSIX classes, non-ASCII in a class, a character as one `.`, Unicode folding.
  CHECK(matches("\\pL+", "h\xC3\xA9llo"));
  CHECK_FALSE(matches("\\p{Greek}", "a"));
  CHECK(matches("[[:^alpha:]]+", "12"));
  CHECK(
      matches("[\xC3\xA9"
              "e]+",
              "\xC3\xA9"
              "e"));  // é and e (split: \xA9e is one escape)
  CHECK(matches("h.llo", "h\xC3\xA9llo"));
  CHECK(matches("(?i)k", "\xE2\x84\xAA"));  // the Kelvin sign folds with k, as in Go
  CHECK(matches("(?m)a\n^b", "a\nb"));
  CHECK(refused("\\pX") == "invalid character class range: `\\pX`");  // as Go says it
  // Patterns that backtrack exponentially (or recurse per character) in a backtracking
  // engine: answered in linear time, whatever the value's length (std::regex took seconds at
  // 29 characters and overflowed the stack at 50,000).
  CHECK_FALSE(matches("([a-z]+-?)+db", "recommendationservice-primary"));
  CHECK_FALSE(matches("(a*)*b", std::string(100000, 'a')));
  CHECK(matches(".*", std::string(100000, 'a')));
}

TEST_CASE("a matcher value is unescaped as Alertmanager unescapes it", "[alertmanager]") {
  std::string why;
  CHECK(alertmanager_matcher_value("\"a\\\"b\"", why) == "a\"b");
  CHECK(alertmanager_matcher_value("a\\tb", why) == "a\\tb");  // kept as written
  CHECK(alertmanager_matcher_value("a\\", why) == "a\\");
  CHECK(alertmanager_matcher_value("\"x\\ny\"", why) == "x\ny");
  CHECK_FALSE(alertmanager_matcher_value("=\"critical\"", why));
  CHECK(why == "matcher value contains unescaped double quote: =\"critical\"");
  CHECK_FALSE(alertmanager_matcher_value("a\"b", why));
  CHECK_FALSE(alertmanager_matcher_value("\"ab", why));
}

TEST_CASE("the calendar of time intervals: t = 0 is Monday 1 January 2024, UTC", "[alertmanager]") {
  const CalendarTime start = calendar_time(0);
  CHECK((start.year == 2024 && start.month == 1 && start.day_of_month == 1));
  CHECK((start.weekday == 1 && start.minute_of_day == 0 && start.days_in_month == 31));
  // Thursday 29 February 2024 (a leap year), 13:45.
  const CalendarTime leap = calendar_time(59 * kDay + 13 * kHour + 45 * kMinute + 59 * kSecond);
  CHECK((leap.month == 2 && leap.day_of_month == 29 && leap.days_in_month == 29));
  CHECK((leap.weekday == 4 && leap.minute_of_day == 13 * 60 + 45));
  // Wednesday 1 January 2025; Tuesday 29 February 2124 (2100 is no leap year).
  const CalendarTime next_year = calendar_time(366 * kDay);
  CHECK((next_year.year == 2025 && next_year.month == 1 && next_year.weekday == 3));
  const CalendarTime far = calendar_time((36524 + 59) * kDay);
  CHECK((far.year == 2124 && far.month == 2 && far.day_of_month == 29 && far.weekday == 2));
}

TEST_CASE("a route's mute and active time intervals hold back its notifications",
          "[alertmanager]") {
  // Friday 5 January 2024 is day 4: an alert firing from Friday 23:50 to Monday 01:00.
  const SimTime friday = 4 * kDay, monday = 7 * kDay;
  const std::vector<Alert> alerts = {raised(friday + 23 * kHour + 50 * kMinute, monday + kHour, 0)};
  AlertmanagerSpec spec;  // by service; 30 s, 5 m, 4 h
  spec.route.routes.push_back(spec.route);
  spec.route.routes[0].receiver = "weekdays";
  TimeIntervalSpec weekend;
  weekend.weekdays = std::vector<std::pair<int, int>>{{6, 6}, {0, 0}};  // saturday, sunday
  spec.time_intervals["weekend"] = {weekend};
  const auto always = route_alerts(alerts, spec, kServices, monday + 2 * kHour);
  // Notified at 23:50:30, repeated every 4h: 13 notifications before Monday 02:00.
  CHECK(always.notifications.size() == 13);
  // Muted over the weekend: the repeat due since Saturday 03:50:30 waits for Monday 00:00:30.
  spec.route.routes[0].mute_time_intervals = {"weekend"};
  const auto muted = route_alerts(alerts, spec, kServices, monday + 2 * kHour);
  CHECK(times(muted) == std::vector<SimTime>{friday + 23 * kHour + 50 * kMinute + 30 * kSecond,
                                             monday + 30 * kSecond});
  // Active only at night (00:00 to 06:00) on the last day of the month or on days 1 to 5:
  // Friday the 5th, 23:50, is no night; Saturday the 6th is no such day; Monday the 8th
  // neither: nothing is ever sent.
  spec.route.routes[0].mute_time_intervals.clear();
  TimeIntervalSpec nights;
  nights.times = std::vector<std::pair<int, int>>{{0, 6 * 60}};
  nights.days_of_month = std::vector<std::pair<int, int>>{{-1, -1}, {1, 5}};
  spec.time_intervals["early-nights"] = {nights};
  spec.route.routes[0].active_time_intervals = {"early-nights"};
  CHECK(route_alerts(alerts, spec, kServices, monday + 2 * kHour).notifications.empty());
  // From Friday 00:10 on: active (the 5th, before 06:00) at its first flush, 00:10:30.
  const std::vector<Alert> early = {raised(friday + 10 * kMinute, friday + kHour, 0)};
  CHECK(times(route_alerts(early, spec, kServices, monday)) ==
        std::vector<SimTime>{friday + 10 * kMinute + 30 * kSecond});
  // The last day of January (31st, day 30), 05:00, active; with years: [2025] never.
  const std::vector<Alert> last = {raised(30 * kDay + 5 * kHour, 30 * kDay + 7 * kHour, 0)};
  CHECK(times(route_alerts(last, spec, kServices, 32 * kDay)) ==
        std::vector<SimTime>{30 * kDay + 5 * kHour + 30 * kSecond});
  spec.time_intervals["early-nights"][0].years = std::vector<std::pair<int, int>>{{2025, 2025}};
  CHECK(route_alerts(last, spec, kServices, 32 * kDay).notifications.empty());
}
