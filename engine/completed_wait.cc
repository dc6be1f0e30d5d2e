#include "completed_wait.h"

#include <algorithm>
#include <cmath>

namespace dosim {

void CompletedWaits::resize(std::size_t services) {
  cohorts_.assign(services * kWaitHistory, Cohort{});
  keep_until_.assign(services, 0);
  rate_.assign(services, 0.0);
}

// The cohorts still waiting wait what they have left times `factor`. Times are from the
// current tick's start: cohort tick - j arrived over [-j, 1 - j] ticks.
void CompletedWaits::retime(Cohort* ring, std::int64_t tick, double dt, double factor) const {
  for (int j = 1; j < kWaitHistory && j <= tick; ++j) {
    Cohort& c = ring[(tick - j) % kWaitHistory];
    if (c.tick != tick - j) continue;
    const double first_left = c.first - j * dt, last_left = c.last - (j - 1) * dt;
    if (first_left > 0) {
      c.first = j * dt + first_left * factor;
      c.var *= factor * factor;
    }
    if (last_left > 0) c.last = (j - 1) * dt + last_left * factor;
    if (first_left > 0 || last_left > 0) c.line = true;
  }
}

Moments CompletedWaits::complete(std::size_t s, std::int64_t tick, double dt, const Moments& wait,
                                 double served, double rise, double rate, double service,
                                 bool driven, double& squeeze) {
  squeeze = 1.0;
  Cohort* ring = cohorts_.data() + s * kWaitHistory;
  if (rate_[s] > 0 && rate > 0 && rate != rate_[s]) retime(ring, tick, dt, rate_[s] / rate);
  rate_[s] = rate;

  // The line of this tick's arrivals, about its mean; first in, first out: a wait falls by
  // less than the tick over the tick. Its variance is what the line leaves.
  const double half = 0.5 * std::max(rise, -0.9 * dt);
  double first = wait.mean - half, last = wait.mean + half;
  if (first < 0) {
    first = 0;
    last = 2 * wait.mean;
  } else if (last < 0) {
    last = 0;
    first = 2 * wait.mean;
  }
  const double own_line = (last - first) * (last - first) / 12.0;
  ring[tick % kWaitHistory] = {first,  last,   std::max(0.0, wait.var - own_line),
                               served, driven, tick};
  if (wait.mean >= kShiftFrom * dt) keep_until_[s] = tick + kWaitHistory;
  if (tick >= keep_until_[s]) return wait;

  double weight = 0, sum = 0, own = 0, squeezed = 0;
  // The spread along the lines: within each run of consecutive cohorts completing in the
  // tick (one line, first in, first out), not between runs (split queues' mixed waits, a
  // cohort of loaded and of fresh replicas, would put a tail beyond both).
  double along = 0, run_weight = 0, run_sum = 0, run_squares = 0;
  const auto end_run = [&] {
    if (run_weight > 0) along += std::max(0.0, run_squares - run_sum * run_sum / run_weight);
    run_weight = run_sum = run_squares = 0;
  };
  double nearest = HUGE_VAL;
  Moments nearest_wait = wait;
  // The oldest cohort of the run of line cohorts from this tick's, and the one after it:
  // where every cohort completes after this tick, the requests completing in it arrived
  // before the history, on the line they make (below).
  int oldest = -1;
  bool all_later = true;
  for (int j = 0; j < kWaitHistory && j <= tick; ++j) {
    const Cohort& c = ring[(tick - j) % kWaitHistory];
    if (c.tick != tick - j) {  // not recorded
      end_run();
      all_later = false;
      continue;
    }
    if (oldest == j - 1 && c.line) oldest = j;
    // When its first and last requests complete, in ticks from this tick's start.
    const double begin = (c.first + service) / dt - j, end = (c.last + service) / dt + 1 - j;
    const double from = std::max(begin, 0.0), to = std::min(end, 1.0);
    all_later = all_later && begin >= 1.0;
    if (!(to > from)) {
      end_run();
      const double distance = std::max(begin - 1.0, -end);
      if (distance < nearest) {
        nearest = distance;
        nearest_wait = {0.5 * (c.first + c.last),
                        c.var + (c.last - c.first) * (c.last - c.first) / 12.0};
        squeeze = std::min(1.0, 1.0 / (end - begin));
      }
      continue;
    }
    const double length = end - begin;
    const double shows = std::min(1.0, 1.0 / length);
    if (nearest > 0) {
      nearest = 0;
      nearest_wait = {0.5 * (c.first + c.last), c.var * shows * shows};
      squeeze = shows;
    }
    // Completing at x, a request arrived at -j + (x - begin) / length.
    const auto waited = [&](double x) {
      return std::max(0.0, (x + j - (x - begin) / length) * dt - service);
    };
    const double a = waited(from), b = waited(to);
    const double w = c.served * (to - from) / length;
    if (!c.line || !(w > 0)) end_run();  // a cohort alone
    if (!(w > 0)) continue;
    weight += w;
    sum += w * 0.5 * (a + b);
    run_weight += w;
    run_sum += w * 0.5 * (a + b);
    run_squares += w * (a * a + a * b + b * b) / 3.0;
    own += w * c.var * shows * shows;
    squeezed += w * shows;
    if (!c.line) end_run();
  }
  end_run();
  if (!(weight > 0) && all_later && oldest >= 1 &&
      oldest == std::min<std::int64_t>(kWaitHistory - 1, tick)) {
    // Waits longer than the history, on a line through it: the two oldest cohorts' means
    // rise by `slope` a second of arrival, and a request completing at the tick's middle
    // arrived at `a` (seconds from this tick's start) where a + its wait + service reaches
    // it: not the oldest cohort's wait, which arrived later and, filling, waits longer.
    const Cohort& o = ring[(tick - oldest) % kWaitHistory];
    const Cohort& n = ring[(tick - oldest + 1) % kWaitHistory];
    const double old_mean = 0.5 * (o.first + o.last),
                 slope = (0.5 * (n.first + n.last) - old_mean) / dt;
    const double arrived = (0.5 - oldest) * dt;  // the oldest cohort's middle
    if (slope > -0.9) {
      const double a = (0.5 * dt - service - old_mean + slope * arrived) / (1.0 + slope);
      const double waited = old_mean + slope * (a - arrived);
      if (a < arrived && waited > 0) {
        // A tick's completions arrived over dt / (1 + slope): their waits spread by the line.
        const double shows = 1.0 / (1.0 + std::max(0.0, slope));
        const double spread = slope * dt / (1.0 + slope);
        squeeze = shows;
        return {waited, o.var * shows * shows + spread * spread / 12.0};
      }
    }
  }
  if (!(weight > 0)) return nearest_wait;
  squeeze = squeezed / weight;
  return {sum / weight, (own + along) / weight};
}

}  // namespace dosim
