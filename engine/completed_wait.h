// The wait shown in the tick its requests complete in (issue 16; docs/world-model.md,
// "Latency at completion"). The fluid queue gives the wait of a request arriving now; a
// dashboard, and the request level, show a request's latency when it completes, a wait
// later. Most of the time the wait is a small part of a tick and the two are the same tick;
// while a backlog builds and drains they are not: a queue that fills for 10 s and drains
// for 3 shows its longest waits as it drains, not before.
//
// Per service, CompletedWaits keeps the last kWaitHistory ticks' arrivals (cohorts) while
// any of their waits was at least kShiftFrom of a tick. A cohort's requests arrive evenly
// over their tick and wait along a line, from the wait of its first arrival to that of its
// last (the arrival wait's mean minus and plus half its rise over the tick: a queue filling
// at 26 requests a second served at 4 makes each tick's arrivals wait 6.5 s more than the
// last tick's, and its requests complete over 7.5 ticks), plus each request's own spread
// (the wait's variance less the line's). First in, first out, so a request completing at
// time x arrived where the cohort's line of completions passes x (x: its arrival, its wait
// and the service time now, which the cohorts still waiting will get); the wait of tick t is the
// mean and variance of the requests completing in it: the line's part of every cohort whose
// completions overlap the tick, weighted by how many of its served requests that is (the
// variance: each request's own, and the spread along the line of each run of consecutive
// cohorts; not between runs: split queues' cohort mixes the loaded replicas' long waits with
// the fresh ones' short, a mean no request waits, and a spread from it would put a tail
// beyond both).
// The queue serves its backlog at `rate`: when the rate changes (a cpu-stress fault starts
// or ends, replicas come or go), what the cohorts still waiting have left to wait is
// scaled by the old rate over the new (the work ahead of them is the same).
// A request's own spread shows less while a queue fills: completing in the same tick, one
// that took longer arrived earlier, where the line's waits are shorter. Its service time
// and its wait's own spread show by 1 / (1 + the line's rise per tick) (the ticks over which
// a cohort completes); a falling line would show more of them, which a line cannot say
// for long waits, and is left at 1.
// Only a driven queue's cohorts (and those a new rate re-times) are lines that join: at its
// equilibrium a tick's wait stands where the queue's level does (fluid_queue.h, tick_wait),
// each tick's requests spread about it, and the ticks' levels are not a line.
// Below kShiftFrom for kWaitHistory ticks a service's wait is the arrival wait, bit for bit.
// Waits longer than the history are read on the line through its two oldest cohorts,
// reached back to the requests completing (else from the cohort nearest to completing).
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
  // wait it; over the tick it rises by `rise` seconds, negative as it falls) and returns the
  // wait of the requests completing in the tick. `rate`: the requests a second the queue
  // holding them serves (> 0); `service`: a request's mean service time now, seconds (a
  // request completes its wait and its service after arriving). `driven`: the queue is off
  // its equilibrium (an overload, a backlog draining), its waits a line (below). `dt` in
  // seconds. `squeeze`:
  // the share of each request's spread that shows (below).
  Moments complete(std::size_t s, std::int64_t tick, double dt, const Moments& wait, double served,
                   double rise, double rate, double service, bool driven, double& squeeze);

 private:
  struct Cohort {
    double first = 0, last = 0;  // waits of the tick's first and last arrivals, seconds
    double var = 0;              // each request's own spread about that line
    double served = 0;
    bool line = false;       // a driven queue's: consecutive cohorts make one line
    std::int64_t tick = -1;  // the arrival tick; older than the history: not recorded
  };
  void retime(Cohort* ring, std::int64_t tick, double dt, double factor) const;

  std::vector<Cohort> cohorts_;           // [service][kWaitHistory], slot tick % kWaitHistory
  std::vector<std::int64_t> keep_until_;  // per service: keeps cohorts while tick < this
  std::vector<double> rate_;              // per service: the rate the cohorts' waits are at
};

}  // namespace dosim
