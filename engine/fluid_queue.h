// A service's queue in the fluid model: the pointwise-stationary fluid flow approximation of
// an M/M/c queue (Rider 1976; Wang, Tipper et al. 1996), with no cap on utilisation.
//
// The state is N, the mean number of requests in the system (waiting or in service). It
// moves as dN/dt = lambda - c mu rho(N), where rho(N) is the utilisation at which the
// stationary M/M/c queue holds N on average: N = L(rho) = c rho + C(c, c rho) rho / (1 - rho)
// (C: Erlang C). At a steady arrival rate below c mu it settles at the stationary M/M/c
// queue; near saturation it takes as long to fill as a real queue does (minutes at rho =
// 0.99); above saturation rho(N) reaches 1 and the excess over L(kRhoHigh) is a backlog
// served first come, first served, growing at lambda - c mu. Latency rises continuously
// through saturation: the wait is the stationary M/M/c wait at rho(N) plus backlog / (c mu).
// A step is implicit (stable for any tick, however fast the service) and clipped to the
// queue limit; what overflows is shed.
//
// N is the mean. A real queue's chance (Poisson arrivals and completions) is in where a
// tick's requests find it: tick_wait conditions the stationary wait on a per-tick score that
// moves on the queue's relaxation time (world.cc draws it), so waits cluster within a tick
// as they do in a real queue, per-tick percentiles are as low and jumpy as dashboards show,
// and a burst can time requests out and, with retries, tip a metastable system. That is an
// equilibrium queue's chance: a queue an overload drives off its equilibrium waits as its
// mean says until it is back (driven_wait).
#pragma once

#include "queueing.h"

namespace dosim {

// Where the stationary branch ends: L(kRhoHigh) requests; more is backlog.
inline constexpr double kRhoHigh = 0.995;

// Mean number in system of the stationary M/M/c queue at utilisation rho in [0, 1).
double mmc_in_system(int servers, double rho);

struct FluidQueueStep {
  double in_system = 0;  // N after the step
  double served = 0;     // requests completed in the step, per second
  double shed = 0;       // requests over the limit, per second
  double rho = 0;        // utilisation rho(N) after the step
  Moments wait;          // waiting time (before service) of a request arriving now
  double p_wait = 0;     // probability that it waits
  // The time over which the queue forgets its state (integrated autocorrelation time of the
  // number in system, (1 + rho) L'(rho) / (c mu): M/M/1's (1 + rho) / (mu (1 - rho)^2),
  // about 1 / mu for many lightly loaded servers); infinite at saturation.
  double relaxation = 0;
};

// One step of `dt` seconds with arrivals at `arrivals` per second into `servers` servers of
// rate `mu` each, starting from `in_system` requests; at most `limit` requests in the system.
// REQUIRES: servers >= 1, mu > 0, dt > 0, arrivals >= 0, in_system >= 0, limit > 0.
FluidQueueStep step_fluid_queue(int servers, double mu, double arrivals, double in_system,
                                double dt, double limit);

// The wait of a tick's requests, given `level`, a standard normal score of where the queue
// stands against its stationary distribution this tick (an AR(1) from tick to tick with
// coefficient exp(-dt / relaxation)), at `queues` queues (replicas not pooled) behind one
// balancer. A tick's mean wait keeps the share m^2 / queues of the stationary wait's
// variance: m^2 = 2 (x - 1 + e^-x) / x^2, the variance of a path's average over the tick,
// with x = dt / (2 relaxation) (1 for a queue slower than the tick, 0 for one that forgets
// within it; twice the relaxation since an earlier request's service is part of a later
// one's wait), over queues that move apart. The tick's mean: wait.mean G(level), G of mean
// 1 and variance v m^2 / queues (v the squared coefficient of variation), a gamma by
// Wilson-Hilferty up to variance 1, a log-normal from 2, mixed between, so it averages to
// wait.mean over a standard normal level; within the tick, the rest of the variance.
Moments tick_wait(const Moments& wait, double level, double dt, double relaxation, int queues);

// The wait of a tick's arrivals at a queue driven off its equilibrium by an overload: one
// queue of `servers` servers of rate `mu` that held `before` requests at the tick's start and
// `after` at its end (`step`), with `arrivals` a second. While arrivals exceed the capacity
// the queue fills as its mean says (N grows by (arrivals - capacity) dt a tick, its chance a
// small share of it), so the wait is step.wait's mean less half its rise through the tick
// (the tick's arrivals come throughout it), spread only by that rise; not the stationary
// queue's spread and not a draw of where an equilibrium queue stands (tick_wait), which at
// saturation would hold one draw for the whole overload. Below the capacity, the requests
// held beyond the stationary queue of the arrivals (at mid-tick) drain at the capacity's
// pace: the wait is that stationary queue's (as tick_wait gives it at `level`) behind them.
// Returns false, leaving `wait`, once the queue holds no more than that stationary queue at
// mid-tick: it is at its equilibrium again. A `level` of NaN is the mean-field model's
// (`measurement_noise: false`): the stationary queue's own wait, no chance.
bool driven_wait(int servers, double mu, double arrivals, double before, double after,
                 const FluidQueueStep& step, double level, double dt, int queues, Moments& wait);

// The wait at one of `replicas` replicas of `workers` servers of rate `mu` that a round-robin
// balancer feeds every replicas-th arrival of a Poisson stream: an E_k/M/c queue (k =
// replicas). Its wait given waiting is exponential of rate c mu (1 - sigma), sigma the root
// in (0, 1) of sigma = A(c mu (1 - sigma)) with A(s) = (k rho / (k rho + s / (c mu)))^k the
// interarrival time's transform (G/M/c, exact); its chance of waiting is taken as the
// Poisson queue's Erlang C times sigma / rho (exact for one server, where it is sigma).
// `step` is the Poisson queue's step at the replica's utilisation; a backlog beyond the
// stationary queue (step.wait's excess over the stationary wait) is kept. The regular
// arrivals' shorter queue is an equilibrium's: a queue fed over its capacity
// (`over_capacity`) holds what the arrivals beyond it brought, so its wait is step.wait's
// (Little's), and a backlog that drains under capacity takes the shorter queue back in as
// it shrinks below one stationary wait.
Moments round_robin_wait(const FluidQueueStep& step, int replicas, int workers, double mu,
                         bool over_capacity);

// A service whose replicas each have their own queue (balancers but least-request) keeps a
// backlog where it built up: replicas that become ready start empty, take their share of
// the new arrivals and leave the backlog to drain at the old replicas' pace, as at the request
// level. While they differ by at least half a request a queue, `loaded` replicas hold
// in_system - fresh_in_system and the others fresh_in_system; then they are one again.
struct SplitQueues {
  int loaded = 0;              // replicas holding the backlog; 0: every replica alike
  int replicas = 0;            // ready replicas at the last tick (0: none, or one pooled queue)
  double fresh_in_system = 0;  // requests at the other replicas

  // Called each tick with the ready replicas (0 for a pooled queue): more replicas than
  // before with requests waiting splits the queues; fewer than the loaded ones joins them.
  void follow(int ready, double in_system);
  // After the step: the queues' new contents; joins them when they are alike.
  void settle(double fresh, double loaded_in_system, int ready);
};

// One step of split queues as one: the loaded replicas take `loaded_share` of the arrivals
// (an even share each), so the wait is the mixture of the two.
FluidQueueStep combine_split(const FluidQueueStep& loaded, const FluidQueueStep& fresh,
                             double loaded_share);
// The wait of a share `a` of requests waiting `first` and the rest `second`: their mean,
// and their variances' mean only. (The spread between two such groups, taken into the one
// log-normal that latency is composed as, would give it a tail longer than either group's:
// timeouts that no request has.)
Moments mix_waits(const Moments& first, const Moments& second, double a);

// Replicas that each have their own queue drift apart while a backlog builds (arrivals above
// their capacity): each completes requests as a Poisson stream of rate `service_rate` and
// takes its arrivals as a stream whose count grows in variance at `arrival_variance_rate` a
// second (a Poisson stream's rate; round robin's every k-th arrival, a k-th of it), so the
// difference of one replica's backlog from the replicas' mean is a random walk whose variance
// `drift` (requests^2) grows by (arrival_variance_rate + service_rate) dt. No replica holds
// less than nothing and no more than its queue limit: the spread stays within `excess`, the
// smaller of what a replica holds beyond the stationary queue of its load and the room left
// under its limit, and is gone with it. Returns the drift after a step of dt.
double drift_apart(double drift, double excess, bool building, double arrival_variance_rate,
                   double service_rate, double dt);

// That sigma at utilisation rho (capped at kRhoHigh): tabulated per replica count like
// Erlang C (error below 1e-9), and by Newton for the test.
double round_robin_sigma(int replicas, double rho);
double round_robin_sigma_exact(int replicas, double rho);

}  // namespace dosim
