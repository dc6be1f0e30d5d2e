#include "completed_wait.h"

#include <cmath>

namespace dosim {

void CompletedWaits::resize(std::size_t services) {
  cohorts_.assign(services * kWaitHistory, Cohort{});
  keep_until_.assign(services, 0);
}

Moments CompletedWaits::complete(std::size_t s, std::int64_t tick, double dt, const Moments& wait,
                                 double served) {
  Cohort* ring = cohorts_.data() + s * kWaitHistory;
  ring[tick % kWaitHistory] = {wait.mean, wait.var, served, tick};
  if (wait.mean >= kShiftFrom * dt) keep_until_[s] = tick + kWaitHistory;
  if (tick >= keep_until_[s]) return wait;
  double weight = 0, mean = 0, var = 0;
  double nearest = HUGE_VAL;
  Moments nearest_wait = wait;
  for (int j = 0; j < kWaitHistory && j <= tick; ++j) {
    const Cohort& c = ring[(tick - j) % kWaitHistory];
    if (c.tick != tick - j) continue;  // not recorded
    const double x = std::fabs(c.mean / dt - j);
    if (x < nearest) {
      nearest = x;
      nearest_wait = {c.mean, c.var};
    }
    const double w = c.served * (1.0 - x);
    if (!(w > 0)) continue;
    weight += w;
    mean += w * c.mean;
    var += w * c.var;
  }
  if (!(weight > 0)) return nearest_wait;
  return {mean / weight, var / weight};
}

}  // namespace dosim
