// A synthetic system of any size for benchmarks: services in tiers of a layered call
// graph (each service calls two services of the next tier), steady traffic with a daily
// shape into the first tier, timeouts and retries on every edge. Deterministic.
#pragma once

#include <string>

#include "dosim/engine/scenario.h"

namespace dosim::bench {

inline Scenario synthetic_system(int service_count, SimTime duration, SimTime record_interval) {
  Scenario scenario;
  scenario.name = "synthetic-" + std::to_string(service_count);
  scenario.duration = duration;
  scenario.tick = kSecond;
  scenario.record_interval = record_interval;
  const int tiers = service_count >= 5 ? 5 : 1;
  const int per_tier = service_count / tiers;
  for (int s = 0; s < service_count; ++s) {
    ServiceSpec service;
    service.name = "svc-" + std::to_string(s);
    service.replicas = 2 + s % 4;
    service.capacity_rps = 200;
    service.base_latency = (2 + s % 7) * kMillisecond;
    scenario.services.push_back(service);
  }
  for (int s = 0; s < service_count; ++s) {
    const int tier = s / per_tier;
    if (tier + 1 >= tiers) continue;
    for (int k = 0; k < 2; ++k) {
      const int callee = (tier + 1) * per_tier + (s * 2 + k) % per_tier;
      if (callee >= service_count) continue;
      DependencySpec dependency;
      dependency.caller = s;
      dependency.callee = callee;
      dependency.calls_per_request = 0.5;
      dependency.timeout = kSecond;
      dependency.retries = 1;
      scenario.dependencies.push_back(dependency);
    }
  }
  TrafficSpec traffic;
  traffic.name = "users";
  traffic.base_rps = 100.0 * per_tier;
  traffic.daily = DailyShape{0.5, 14.0};
  traffic.noise = 0.05;
  for (int s = 0; s < per_tier; ++s) {
    traffic.entry.push_back(s);
    traffic.entry_weights.push_back(1.0 / per_tier);
  }
  scenario.traffic.push_back(traffic);
  return scenario;
}

}  // namespace dosim::bench
