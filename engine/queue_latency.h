// The latency of a request at one queue with nothing after it, exactly as an M/M/c queue
// makes it: its service time, an exponential of mean `service`, plus its wait, which is
// none with probability 1 - p_wait and otherwise `shift` plus an exponential of mean
// `tail`. The stationary M/M/c wait is exactly that with p_wait = Erlang C, shift 0 and tail
// 1 / (c mu (1 - rho)); a tick's wait (fluid_queue.h, tick_wait) is matched by its mean and
// variance (queue_latency). Where a log-normal fitted to two moments puts a service's p99
// and its timeouts (queueing.h), this keeps the atom at zero and the exponential tail: the
// fluid model uses it for a service whose latency is its own queue alone (docs/world-model.md,
// Tails).
#pragma once

#include "queueing.h"

namespace dosim {

struct QueueLatency {
  double service = 0;  // mean of the exponential service time, >= 0
  double p_wait = 0;   // probability of waiting at all, in [0, 1]
  double shift = 0;    // a wait's least value, >= 0
  double tail = 0;     // mean of a wait beyond `shift`, >= 0
};

// The service time plus a wait of the given mean and variance: a wait as variable as an
// exponential or more (variance >= mean^2) keeps an atom at zero, p_wait = 2 m^2 / (v + m^2)
// and tail (v + m^2) / (2 m), exact for the M/M/c wait; a less variable one (a queue that
// holds its level over a tick) waits surely, shift m - sqrt(v), tail sqrt(v).
QueueLatency queue_latency(double service, const Moments& wait);

double mean_of(const QueueLatency& d);
// The third central moment: the service's 2 service^3 plus the wait's.
double third_of(const QueueLatency& d);
// P(latency > x).
double survival(const QueueLatency& d, double x);
// P(latency > x) and its density at x >= 0.
double survival_and_density(const QueueLatency& d, double x, double& density);
// The q-quantile, q in [0, 1): exact up to a relative 1e-10.
double quantile(const QueueLatency& d, double q);
// Moments of min(latency, timeout) and P(latency > timeout), in closed form.
Truncated truncate_at(const QueueLatency& d, double timeout);

}  // namespace dosim
