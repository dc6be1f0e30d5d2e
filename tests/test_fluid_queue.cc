// The fluid model's queue (engine/fluid_queue.h): at a steady load it settles at the
// stationary M/M/c queue (mean number and Erlang C wait, from the tests' own Erlang B
// recurrence in queueing_reference.h), for c = 1, 4 and 16 and utilisation 0.5 to 0.99 with no cap;
// through saturation latency rises continuously and the backlog takes over; steps are stable
// for any tick; what overflows the limit is shed.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "engine/completed_wait.h"
#include "engine/fluid_queue.h"
#include "queueing_reference.h"

using dosim::FluidQueueStep;
using dosim::step_fluid_queue;
using dosim::testing::textbook_erlang_c;

namespace {

FluidQueueStep run(int c, double mu, double lambda, double seconds, double dt = 1.0,
                   double in_system = 0.0, double limit = 1e12) {
  FluidQueueStep step;
  step.in_system = in_system;
  for (double t = 0; t < seconds; t += dt)
    step = step_fluid_queue(c, mu, lambda, step.in_system, dt, limit);
  return step;
}

}  // namespace

TEST_CASE("Fluid queue: a steady load settles at the stationary M/M/c queue, no cap",
          "[fluid_queue]") {
  for (const int c : {1, 4, 16}) {
    for (const double rho : {0.5, 0.8, 0.9, 0.95, 0.99}) {
      const double mu = 20.0;  // per server
      const double lambda = rho * c * mu;
      // Long enough to settle: the relaxation time grows like 1 / (mu (1 - sqrt(rho))^2).
      const double settle = 20.0 / (mu * std::pow(1 - std::sqrt(rho), 2));
      const FluidQueueStep step = run(c, mu, lambda, settle);
      const double p = textbook_erlang_c(c, rho * c);
      const double wait = p / (c * mu * (1 - rho));
      INFO("c " << c << ", rho " << rho);
      CHECK(step.rho == Approx(rho).epsilon(1e-6));
      CHECK(step.served == Approx(lambda).epsilon(1e-6));
      CHECK(step.p_wait == Approx(p).epsilon(1e-5));
      CHECK(step.wait.mean == Approx(wait).epsilon(1e-5));
      CHECK(step.in_system == Approx(c * rho + p * rho / (1 - rho)).epsilon(1e-5));
      CHECK(step.wait.var == Approx(p * (2 - p) / std::pow(c * mu * (1 - rho), 2)).epsilon(1e-5));
    }
  }
}

TEST_CASE("Fluid queue: near saturation it fills as slowly as a queue does", "[fluid_queue]") {
  // M/M/1 at 0.99: 99 in system at steady state, reached over minutes, not in one tick.
  const FluidQueueStep early = run(1, 100.0, 99.0, 10);
  const FluidQueueStep late = run(1, 100.0, 99.0, 3000);
  CHECK(early.in_system < 40);
  CHECK(late.in_system == Approx(99).epsilon(0.01));
  CHECK(early.wait.mean < late.wait.mean);
}

TEST_CASE("Fluid queue: latency rises continuously through saturation", "[fluid_queue]") {
  // After two minutes from empty, the wait as a function of the arrival rate: increasing,
  // with no jump where the load crosses capacity (100 per second).
  double previous = -1;
  double largest_step = 0;
  for (double lambda = 90; lambda <= 110; lambda += 0.05) {
    const double wait = run(4, 25.0, lambda, 120).wait.mean;
    CHECK(wait > previous);
    if (previous >= 0) largest_step = std::max(largest_step, wait - previous);
    previous = wait;
  }
  // No jump: no step steeper than the backlog's own slope above saturation, where two
  // minutes of an excess of 1 per second add 120 requests, 1.2 s of wait at 100 per second.
  CHECK(largest_step <= 1.05 * 1.2 * 0.05);
  // Well above saturation the backlog takes over: it grows at lambda - capacity.
  const FluidQueueStep a = run(4, 25.0, 120, 60), b = run(4, 25.0, 120, 120);
  CHECK(b.in_system - a.in_system == Approx(20 * 60).epsilon(1e-9));
  CHECK(b.wait.mean - a.wait.mean == Approx(20 * 60 / 100.0).epsilon(1e-9));
  CHECK(b.served == Approx(100).epsilon(1e-12));
}

TEST_CASE("Fluid queue: stable steps for a fast service, and the limit sheds", "[fluid_queue]") {
  // 1,000 per second per server, one-second ticks: no oscillation, the stationary queue.
  std::vector<double> n;
  FluidQueueStep step;
  for (int t = 0; t < 5; ++t) {
    step = step_fluid_queue(2, 1000.0, 1000.0, step.in_system, 1.0, 1e9);
    n.push_back(step.in_system);
  }
  for (std::size_t t = 1; t < n.size(); ++t) CHECK(n[t] >= n[t - 1]);  // no oscillation
  CHECK(n[0] == Approx(n.back()).epsilon(3e-3));  // settled within the first tick
  CHECK(step.served == Approx(1000).epsilon(1e-9));
  // 150 per second into 100 of capacity with room for 500: the excess is shed.
  const FluidQueueStep full = run(4, 25.0, 150, 60, 1.0, 0.0, 500);
  CHECK(full.in_system == Approx(500));
  CHECK(full.shed == Approx(50).epsilon(1e-9));
  CHECK(full.served == Approx(100).epsilon(1e-12));
  // A limit below the stationary queue's end (one server at 10 per second: L(0.995) = 199,
  // room for 101): full, the server is always busy (M/M/1/K over capacity serves at mu),
  // the rest is shed, and an arrival waits what the queue holds, rho (1 - rho)^-1 / mu at
  // L(rho) = rho / (1 - rho) = 101: 10.1 s. The queue without a limit served 9.92 at 30 per
  // second and put the wait at 12.1 s, its own at 121 requests; 20 s at 200 per second.
  for (const double lambda : {10.5, 12.0, 30.0, 200.0}) {
    for (const double dt : {1.0, 10.0}) {
      const FluidQueueStep small = run(1, 10.0, lambda, 600, dt, 0.0, 101);
      CAPTURE(lambda, dt);
      CHECK(small.in_system == Approx(101));
      CHECK(small.served == Approx(10).epsilon(1e-12));
      CHECK(small.shed == Approx(lambda - 10).epsilon(1e-9));
      CHECK(small.wait.mean == Approx(10.1).epsilon(1e-9));
    }
  }
  // Below capacity a finite queue loses a little near it: rho(N) at the limit stands for
  // that (9.95 per second: 9.90 served, 0.05 shed), and its wait is still what it holds.
  const FluidQueueStep near = run(1, 10.0, 9.95, 3600, 1.0, 0.0, 101);
  CHECK(near.in_system == Approx(101));
  CHECK(near.served + near.shed == Approx(9.95).epsilon(1e-9));
  CHECK(near.served == Approx(10.0 * 101.0 / 102.0).epsilon(1e-5));  // tabulated Erlang C
  CHECK(near.wait.mean == Approx(10.1).epsilon(1e-6));
  // Idle: nothing waits.
  const FluidQueueStep idle = step_fluid_queue(3, 10.0, 0.0, 0.0, 1.0, 100);
  CHECK(idle.in_system == 0);
  CHECK(idle.wait.mean == 0);
}

TEST_CASE("Fluid queue: its tabulated Erlang C agrees with the recurrence between the nodes",
          "[fluid_queue]") {
  // A step from the exact stationary queue of rho, arrivals at rho: it stays at rho, and its
  // probability of waiting is Erlang C there. The rho values fall between the table's nodes;
  // 5,000 servers is above the table (the exact path).
  for (const int c : {1, 2, 7, 64, 1000, 4096, 5000}) {
    for (const double rho : {0.0123, 0.3, 0.6180339, 0.8111, 0.93777, 0.9876, 0.99456}) {
      const double mu = 3.0;
      const double exact_n = dosim::mmc_in_system(c, rho);
      const FluidQueueStep step = step_fluid_queue(c, mu, rho * c * mu, exact_n, 1.0, 1e15);
      const double p = textbook_erlang_c(c, rho * c);
      INFO("c " << c << ", rho " << rho);
      CHECK(step.rho == Approx(rho).epsilon(1e-9));
      CHECK(step.in_system == Approx(exact_n).epsilon(1e-9).margin(1e-9));
      CHECK(step.p_wait == Approx(p).epsilon(1e-6).margin(1e-10));
    }
  }
}

TEST_CASE("Fluid queue: round robin's sigma solves the E_k/M/c equation, tabulated or not",
          "[fluid_queue]") {
  // sigma = (k rho / (k rho + 1 - sigma))^k, checked by substitution; one replica is M/M/c
  // (sigma = rho); near saturation 1 - sigma tends to Kingman's 2 (1 - rho) / (1 + 1 / k)
  // (arrivals' squared variation 1 / k, service's 1). The table agrees with the root between
  // its nodes; 5,000 replicas is above the table.
  for (const int k : {1, 2, 3, 8, 40, 5000}) {
    for (const double rho : {0.0123, 0.3, 0.6180339, 0.8111, 0.93777, 0.9876, 0.99456}) {
      INFO("k " << k << ", rho " << rho);
      const double sigma = dosim::round_robin_sigma_exact(k, rho);
      const double power = std::pow(k * rho / (k * rho + 1.0 - sigma), k);
      CHECK(sigma == Approx(power).epsilon(1e-10).margin(1e-14));
      CHECK(sigma <= rho + 1e-12);
      if (k == 1) CHECK(sigma == Approx(rho).epsilon(1e-12));
      const double table = dosim::round_robin_sigma(k, rho);
      CHECK(table == Approx(sigma).epsilon(1e-9).margin(1e-10));
      CHECK(1.0 - table == Approx(1.0 - sigma).epsilon(1e-7));
    }
    const double near = 0.99456;
    CHECK((1.0 - dosim::round_robin_sigma(k, near)) / (1.0 - near) ==
          Approx(2.0 / (1.0 + 1.0 / k)).epsilon(0.02));
  }
}

TEST_CASE("Fluid queue: its relaxation time is M/M/1's integrated autocorrelation time",
          "[fluid_queue]") {
  // M/M/1 at rho: (1 + rho) / (mu (1 - rho)^2); saturated: it never forgets.
  for (const double rho : {0.5, 0.8, 0.95}) {
    const double mu = 10.0;
    const FluidQueueStep step =
        step_fluid_queue(1, mu, rho * mu, dosim::mmc_in_system(1, rho), 1.0, 1e12);
    CHECK(step.relaxation == Approx((1 + rho) / (mu * (1 - rho) * (1 - rho))).epsilon(1e-6));
  }
  CHECK(std::isinf(run(4, 25.0, 120, 60).relaxation));
}

TEST_CASE("Fluid queue: a tick's wait keeps the stationary mean over ticks", "[fluid_queue]") {
  // Over a standard normal level (the midpoints of 20,000 equal-probability bins), the tick's
  // mean wait averages to the stationary mean, its variance over ticks is the share
  // m^2(dt / (2 tau)) of the wait's variance (over the queues, independent), and the spread
  // within a tick shrinks as the queue remembers longer.
  const dosim::Moments wait{0.4, 0.24};  // M/M/1 at 0.8, 10 per second
  double previous_var = HUGE_VAL;
  for (const double relaxation : {0.01, 0.6, 4.5, 1e6}) {
    for (const int queues : {1, 4}) {
      double mean = 0, square = 0, within = 0;
      constexpr int kBins = 20000;
      for (int i = 0; i < kBins; ++i) {
        const double level = dosim::normal_quantile((i + 0.5) / kBins);
        const dosim::Moments tick = dosim::tick_wait(wait, level, 1.0, relaxation, queues);
        mean += tick.mean / kBins;
        square += tick.mean * tick.mean / kBins;
        within += tick.var / kBins;
      }
      INFO("relaxation " << relaxation << ", queues " << queues);
      CHECK(mean == Approx(wait.mean).epsilon(3e-3));
      const double x = 0.5 / relaxation;
      const double m2 = x < 1e-6 ? 1.0 : 2.0 * (x - 1.0 + std::exp(-x)) / (x * x);
      const double between = square - mean * mean;
      CHECK(between == Approx(wait.var * m2 / queues).epsilon(0.02).margin(1e-6));
      // Between and within ticks, the stationary variance (within a few percent: the
      // within-tick part follows the tick's mean).
      CHECK(between + within == Approx(wait.var).epsilon(0.05));
    }
    const dosim::Moments at_zero = dosim::tick_wait(wait, 0.0, 1.0, relaxation, 1);
    CHECK(at_zero.var < previous_var);
    previous_var = at_zero.var;
  }
  // A queue that forgets within the tick: the stationary wait itself.
  const dosim::Moments fast = dosim::tick_wait(wait, 2.0, 1.0, 1e-12, 1);
  CHECK(fast.mean == Approx(wait.mean).epsilon(1e-5));
  CHECK(fast.var == Approx(wait.var).epsilon(1e-5));
  // One that never forgets: every request of the tick waits the same.
  CHECK(dosim::tick_wait(wait, 1.0, 1.0, HUGE_VAL, 1).var == Approx(0).margin(1e-12));
  CHECK(dosim::tick_wait(wait, 1.0, 1.0, HUGE_VAL, 1).mean > wait.mean);
  // A high tick is skewed upward: the tick's mean is a gamma, not a normal.
  const double up = dosim::tick_wait(wait, 2.0, 1.0, 0.6, 1).mean - wait.mean;
  const double down = wait.mean - dosim::tick_wait(wait, -2.0, 1.0, 0.6, 1).mean;
  CHECK(up > 1.2 * down);
}

TEST_CASE("Fluid queue: a wait is shown in the tick its requests complete in",
          "[fluid_queue][completion]") {
  // One service, 1 s ticks: waits of 10 ms, then 1.5 s for ticks 10 to 19, then 10 ms again.
  dosim::CompletedWaits waits;
  waits.resize(1);
  std::vector<double> shown;
  double squeeze = 0;
  for (std::int64_t tick = 0; tick < 60; ++tick) {
    const double mean = tick >= 10 && tick < 20 ? 1.5 : 0.01;
    const dosim::Moments arriving{mean, 0.01 * mean * mean};
    const dosim::Moments wait =
        waits.complete(0, tick, 1.0, arriving, 100.0, 0.0, 10.0, 0.0, false, squeeze);
    CHECK(squeeze == 1.0);  // flat lines: each request's spread shows whole
    if (tick < 10 || tick >= 20 + dosim::kWaitHistory) {  // short waits: the same, bit for bit
      CHECK(wait.mean == arriving.mean);
      CHECK(wait.var == arriving.var);
    }
    shown.push_back(wait.mean);
  }
  // Tick 10's requests end in tick 11 and 12: tick 10 shows the fast requests that end in it.
  CHECK(shown[10] < 0.05);
  CHECK(shown[11] == Approx(1.5));
  CHECK(shown[19] == Approx(1.5));
  // The last slow arrivals (tick 19) end in ticks 20 and 21, beside the fast ones.
  CHECK(shown[20] == Approx((0.99 * 0.01 + 0.5 * 1.5 + 0.5 * 1.5) / (0.99 + 0.5 + 0.5)));
  CHECK(shown[21] == Approx((0.99 * 0.01 + 0.01 * 0.01 + 0.5 * 1.5) / (0.99 + 0.01 + 0.5)));
  CHECK(shown[22] < 0.05);
}

TEST_CASE("Fluid queue: a filling queue's completions wait along a line, alike within a tick",
          "[fluid_queue][completion]") {
  // From tick 10 each tick's arrivals wait 2 s more than the last's, rising along a line: an
  // arrival at a >= 10 waits 2 (a - 10) and completes at 3 a - 20, so tick 16's completions
  // arrived over [12, 12.33] and waited evenly from 4 to 4.67 s; each request's own spread
  // (variance 0.09) shows by a third, the ticks over which a cohort completes.
  dosim::CompletedWaits waits;
  waits.resize(1);
  double squeeze = 0;
  dosim::Moments wait;
  for (std::int64_t tick = 0; tick <= 16; ++tick) {
    const double rise = tick >= 10 ? 2.0 : 0.0;
    const double mean = tick >= 10 ? 2.0 * (tick - 10) + 1.0 : 0.0;
    const dosim::Moments arriving{mean, 0.09 + rise * rise / 12.0};
    wait = waits.complete(0, tick, 1.0, arriving, 30.0, rise, 4.0, 0.0, tick >= 10, squeeze);
  }
  CHECK(wait.mean == Approx(2.0 * 36.5 / 3.0 - 20.0));
  CHECK(wait.var == Approx((2.0 / 3.0) * (2.0 / 3.0) / 12.0 + 0.09 / 9.0));
  CHECK(squeeze == Approx(1.0 / 3.0));
}

TEST_CASE("Fluid queue: when capacity returns, the backlog's waits end at the new rate",
          "[fluid_queue][completion]") {
  // Ticks 0 to 4 arrive to 10 s of waiting at 4 requests a second; at tick 5 the rate is
  // 40: what each still has to wait takes a tenth, so all five complete in tick 5, between
  // 0.5 and 1 s into it (tick 0's first arrival had 5 s left: 0.5 s; tick 4's last 10 s: 1 s),
  // having waited from 5.5 s (tick 0's first) to 1 s (tick 4's last), 0.9 s apart a tick.
  dosim::CompletedWaits waits;
  waits.resize(1);
  double squeeze = 0;
  for (std::int64_t tick = 0; tick < 5; ++tick)
    CHECK(waits.complete(0, tick, 1.0, {10.0, 0.0}, 20.0, 0.0, 4.0, 0.0, true, squeeze).mean ==
          Approx(10.0));  // nothing completes yet: the nearest cohort's wait
  const dosim::Moments wait =
      waits.complete(0, 5, 1.0, {1.0, 0.0}, 20.0, 0.0, 40.0, 0.0, true, squeeze);
  // The five parts' means 5.05, 4.15, ..., 1.45; each spread evenly over 0.9 s.
  CHECK(wait.mean == Approx(3.25));
  CHECK(wait.var == Approx(2.0 * 0.9 * 0.9 + 0.9 * 0.9 / 12.0));
  // Without the new rate they would complete from tick 10 to 15, each showing 10 s.
}

TEST_CASE("Fluid queue: replicas that come back start empty and the backlog drains where it is",
          "[fluid_queue][split]") {
  dosim::SplitQueues split;
  split.follow(5, 10.0);
  CHECK(split.loaded == 0);  // a service's first tick: nothing to split
  split.follow(3, 10.0);
  CHECK(split.loaded == 0);  // fewer replicas: one queue
  split.follow(5, 600.0);    // two come back to a backlog
  CHECK(split.loaded == 3);
  CHECK(split.fresh_in_system == 0.0);
  split.settle(4.0, 540.0, 5);  // the loaded three still hold 180 each, the new two 2
  CHECK(split.loaded == 3);
  split.follow(4, 544.0);  // one of the new two goes: still split
  CHECK(split.loaded == 3);
  split.settle(2.0, 6.6, 4);  // 2.2 a loaded replica against 2: alike
  CHECK(split.loaded == 0);
  split.follow(5, 600.0);  // up again with a backlog
  CHECK(split.loaded == 4);
  split.follow(4, 600.0);  // down to the loaded ones: one queue
  CHECK(split.loaded == 0);

  // The waits mix by the share of arrivals, without the spread between the two groups.
  const dosim::Moments mixed = dosim::mix_waits({2.0, 0.04}, {0.02, 0.0001}, 0.6);
  CHECK(mixed.mean == Approx(0.6 * 2.0 + 0.4 * 0.02));
  CHECK(mixed.var == Approx(0.6 * 0.04 + 0.4 * 0.0001));
}

TEST_CASE("Fluid queue: replicas' own queues drift apart while a backlog builds",
          "[fluid_queue][drift]") {
  // Three replicas under round robin at 140 requests a second each, serving 120: one
  // replica's backlog differs from the mean by a random walk of (140 / 3 + 120) per second.
  double drift = 0.0;
  for (int second = 1; second <= 10; ++second)
    drift = dosim::drift_apart(drift, 20.0 * second, true, 140.0 / 3.0, 120.0, 1.0);
  CHECK(drift == Approx(10 * (140.0 / 3.0 + 120.0)));
  // Once the load falls below capacity it grows no more, and stays within what a replica
  // holds beyond its stationary queue.
  CHECK(dosim::drift_apart(drift, 100.0, false, 40.0, 120.0, 1.0) == Approx(drift));
  CHECK(dosim::drift_apart(drift, 30.0, false, 40.0, 120.0, 1.0) == Approx(900.0));
  CHECK(dosim::drift_apart(drift, 0.0, false, 40.0, 120.0, 1.0) == 0.0);
  CHECK(dosim::drift_apart(drift, -5.0, true, 40.0, 120.0, 1.0) == 0.0);
  // Early in an overload the backlog itself bounds it.
  CHECK(dosim::drift_apart(0.0, 3.0, true, 40.0, 120.0, 1.0) == Approx(9.0));
}

TEST_CASE("Fluid queue: a queue driven off its equilibrium waits as its mean says",
          "[fluid_queue][driven]") {
  // Four servers of 30 a second (capacity 120). Over capacity: the step's mean wait, spread
  // only by its rise through the tick (20 / 120 s over the tick, uniform).
  dosim::FluidQueueStep step;
  step.wait = {1.5, 0.8};
  dosim::Moments wait{-1, -1};
  // The tick's arrivals come throughout it: half the rise less than the end's wait.
  REQUIRE(dosim::driven_wait(4, 30.0, 140.0, 160.0, 180.0, step, -1.5, 1.0, 1, wait));
  CHECK(wait.mean == Approx(1.5 - 0.5 * 20.0 / 120.0));  // no draw of the queue's level
  CHECK(wait.var == Approx((20.0 / 120.0) * (20.0 / 120.0) / 12.0));
  // Under capacity at rho 0.5, 60 requests beyond the stationary queue at mid-tick (L = 2 +
  // C rho / (1 - rho), Erlang C(4, 2) = 0.173913): the stationary wait C / (120 (1 - 0.5))
  // behind 60 / 120 s of them. At level 0 (a typical tick) the stationary part is below its
  // mean: ticks with a queue are rarer and longer.
  const double erlang = 0.173913043478;
  const double stationary_l = 2.0 + erlang;
  REQUIRE(dosim::driven_wait(4, 30.0, 60.0, stationary_l + 70.0, stationary_l + 50.0, step, 0.0,
                             1.0, 1, wait));
  CHECK(wait.mean > 0.5);
  CHECK(wait.mean < erlang / 60.0 + 0.5);
  REQUIRE(dosim::driven_wait(4, 30.0, 60.0, stationary_l + 70.0, stationary_l + 50.0, step, 3.0,
                             1.0, 1, wait));
  CHECK(wait.mean > erlang / 60.0 + 0.5);
  // Back at the stationary queue: no longer driven, the wait left as it was.
  wait = {7.0, 7.0};
  CHECK_FALSE(dosim::driven_wait(4, 30.0, 60.0, stationary_l + 1.0, stationary_l - 1.02, step, 0.0,
                                 1.0, 1, wait));
  CHECK(wait.mean == 7.0);
}

TEST_CASE("Erlang C: a many-server service at a vanishing load waits with probability 0",
          "[fluid_queue]") {
  // 10,000 workers serving 1e30 requests per second offer a load of ~1e-27: boost's gamma_q
  // overflowed computing P(N <= c) and the run stopped with an internal error.
  for (int servers : {257, 10000, 1000000})
    for (double offered : {1e-300, 1e-28, 1e-3, 0.999}) {
      const double p = dosim::erlang_c(servers, offered);
      CHECK(std::isfinite(p));
      CHECK(p == 0.0);
    }
  // Beyond the recurrence's range, at a real load, the textbook value.
  CHECK(dosim::erlang_c(300, 270.0) == Approx(textbook_erlang_c(300, 270.0)).epsilon(1e-9));
}
