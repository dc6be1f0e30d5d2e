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
};

// One step of `dt` seconds with arrivals at `arrivals` per second into `servers` servers of
// rate `mu` each, starting from `in_system` requests; at most `limit` requests in the system.
// `chance`: requests the step's randomness adds (or, negative, removes) beyond the mean flow,
// for example sqrt((arrivals + served) dt) Z, the diffusion of the arrival and service
// processes. Where the queue is far from saturation the stationary branch absorbs it into
// the step's throughput and N barely moves; near saturation it stays in N and accumulates,
// so that load excursions build queues as real ones do. `served` is c mu rho(N): arrivals
// less the change of N without chance; with it, the mean flow it fluctuates around.
// REQUIRES: servers >= 1, mu > 0, dt > 0, arrivals >= 0, in_system >= 0, limit > 0.
FluidQueueStep step_fluid_queue(int servers, double mu, double arrivals, double in_system,
                                double dt, double limit, double chance = 0.0);

// The standard deviation of `chance` for a step: sqrt((arrivals + completions) dt).
double queue_diffusion(double arrivals, double completions, double dt);

}  // namespace dosim
