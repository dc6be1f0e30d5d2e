// The wait shown in the tick its requests complete in (issue 16; docs/world-model.md,
// "Latency at completion"). The fluid queue gives the wait of a request arriving now; a
// dashboard, and the request level, show a request's latency when it completes, a wait
// later. Most of the time the wait is a small part of a tick and the two are the same tick;
// while a backlog builds and drains they are not: a queue that fills for 10 s and drains
// for 3 shows its longest waits as it drains, not before.
//
// Per service, CompletedWaits keeps the last kWaitHistory ticks' waits (their moments) and
// the requests that will be served. While any of them was at least kShiftFrom of a tick,
// the requests of arrival tick k, spread over the tick, are taken to complete a wait u_k
// (in ticks) later, so the share of them completing in tick t is max(0, 1 - |u_k - (t -
// k)|); the wait of tick t is those cohorts' mean and variance, weighted by that share of
// their requests (the variance within cohorts only: the spread between two cohorts of a
// draining queue, taken into one log-normal, would give it a tail that no request has).
// Below kShiftFrom for kWaitHistory ticks a service's wait is the arrival wait, bit for bit.
// Waits longer than the history are read from the cohort nearest to completing.
#pragma once

#include <cstdint>
#include <vector>

#include "queueing.h"

namespace dosim {

inline constexpr int kWaitHistory = 16;     // ticks
inline constexpr double kShiftFrom = 0.05;  // of a tick

class CompletedWaits {
 public:
  void resize(std::size_t services);

  // Records service s's arrival wait `wait` of tick `tick` (`served` requests a second will
  // wait it) and returns the wait of the requests completing in the tick. `dt` in seconds.
  Moments complete(std::size_t s, std::int64_t tick, double dt, const Moments& wait, double served);

 private:
  struct Cohort {
    double mean = 0, var = 0, served = 0;
    std::int64_t tick = -1;  // the arrival tick; older than the history: not recorded
  };
  std::vector<Cohort> cohorts_;           // [service][kWaitHistory], slot tick % kWaitHistory
  std::vector<std::int64_t> keep_until_;  // per service: keeps cohorts while tick < this
};

}  // namespace dosim
