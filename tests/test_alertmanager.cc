// Alertmanager semantics: grouping with group_wait / group_interval / repeat_interval,
// deduplication and inhibition, against hand-worked timelines.
#include <catch2/catch.hpp>
#include <vector>

#include "detectors/alertmanager.h"

using namespace dosim;

namespace {

Alert raised(SimTime from, SimTime to, int service, std::string severity = "warning",
                   std::string metric = "latency_p95_s") {
  return {from, "mad", service, std::move(metric), std::move(severity), to, ""};
}

const std::vector<std::string> kServices = {"a", "b"};

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
    "a later alert joins at the next group_interval; a quiet group repeats after "
    "repeat_interval",
    "[alertmanager]") {
  AlertmanagerSpec spec;
  const auto joined =
      route_alerts({raised(0, kHour, 0), raised(2 * kMinute, kHour, 0, "warning", "error_ratio")},
                   spec, kServices, 2 * kHour);
  CHECK(times(joined) == std::vector<SimTime>{30 * kSecond, 5 * kMinute + 30 * kSecond});
  const auto repeated = route_alerts({raised(0, 10 * kHour, 0)}, spec, kServices, 12 * kHour);
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

TEST_CASE("identical alerts are deduplicated; inhibited ones never notify", "[alertmanager]") {
  AlertmanagerSpec spec;
  spec.inhibit_rules.push_back(
      {{{"severity", "critical"}}, {{"severity", "warning"}}, {"service"}});
  const auto result =
      route_alerts({raised(0, kHour, 0, "critical", "error_ratio"),
                    raised(kSecond, kHour, 0, "warning"),       // inhibited: a critical on a fires
                    raised(2 * kSecond, kHour, 1, "warning"),   // b: not inhibited
                    raised(3 * kSecond, kHour, 1, "warning")},  // same labels as the one before
                   spec, kServices, 2 * kHour);
  CHECK(result.inhibited == 1);
  CHECK(result.deduplicated == 1);
  CHECK(times(result) == std::vector<SimTime>{30 * kSecond, 32 * kSecond});
  CHECK(result.notifications[0].alerts == 1);
  CHECK(result.notifications[1].alerts == 1);
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
  by_target.group_by = {"target"};
  CHECK(route_alerts({shipping, cart}, by_target, kServices, 2 * kHour).notifications.size() == 2);
}
