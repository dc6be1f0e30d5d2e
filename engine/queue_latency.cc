#include "queue_latency.h"

#include <algorithm>
#include <cmath>

namespace dosim {
namespace {

// The two exponential phases of a request that waits: its service (rate a) and its wait
// beyond the shift (rate b); an infinite rate is a phase of no time.
struct Phases {
  double a, b;
};
Phases phases_of(const QueueLatency& d) {
  return {d.service > 0 ? 1.0 / d.service : HUGE_VAL, d.tail > 0 ? 1.0 / d.tail : HUGE_VAL};
}

// (1 - e^-(delta y)) / delta, and y at delta = 0: the divided difference of two decays.
double decay_difference(double delta, double y) {
  return delta > 0 ? -std::expm1(-delta * y) / delta : y;
}

// P(X > y) and the density of X = Exp(a) + Exp(b) at y >= 0: (b e^-ay - a e^-by) / (b - a)
// and ab (e^-ay - e^-by) / (b - a), written around the slower rate so that no difference
// cancels when the rates are close.
double sum_survival(const Phases& r, double y, double& density) {
  const double lo = std::min(r.a, r.b), hi = std::max(r.a, r.b);
  if (std::isinf(lo)) {  // both phases take no time
    density = 0;
    return 0.0;
  }
  const double decay = std::exp(-lo * y);
  if (std::isinf(hi)) {
    density = lo * decay;
    return decay;
  }
  const double difference = decay_difference(hi - lo, y);
  density = lo * hi * decay * difference;
  return decay * (1.0 + lo * difference);
}

// Integrals over [0, y] of e^-kt, t e^-kt and t^2 e^-kt (k > 0 finite), each accurate for
// small k y too.
struct DecayIntegrals {
  double zeroth, first, second;
};
DecayIntegrals decay_integrals(double k, double y) {
  const double z = k * y, decay = std::exp(-z);
  DecayIntegrals in;
  in.zeroth = -std::expm1(-z) / k;
  in.first = (z < 1e-3 ? z * z * (0.5 - z / 3.0 + z * z / 8.0) : 1.0 - decay * (1.0 + z)) / (k * k);
  in.second = (z < 1e-3 ? z * z * z * (1.0 / 3.0 - z / 4.0 + z * z / 10.0)
                        : 2.0 - decay * (z * z + 2.0 * z + 2.0)) /
              (k * k * k);
  return in;
}

// Integrals over [0, y] of P(X > t) and t P(X > t) for X = Exp(a) + Exp(b).
void sum_survival_integrals(const Phases& r, double y, double& zeroth, double& first) {
  const double lo = std::min(r.a, r.b), hi = std::max(r.a, r.b);
  zeroth = first = 0;
  if (std::isinf(lo) || y <= 0) return;
  const DecayIntegrals slow = decay_integrals(lo, y);
  if (std::isinf(hi)) {
    zeroth = slow.zeroth;
    first = slow.first;
    return;
  }
  // P(X > t) = e^-lo t + lo (e^-lo t - e^-hi t) / (hi - lo); close rates take the
  // derivative in k at their midpoint (error of order ((hi - lo) / lo)^2).
  const double delta = hi - lo;
  if (delta < 1e-3 * lo) {
    const DecayIntegrals mid = decay_integrals(0.5 * (lo + hi), y);
    zeroth = slow.zeroth + lo * mid.first;
    first = slow.first + lo * mid.second;
    return;
  }
  const DecayIntegrals fast = decay_integrals(hi, y);
  zeroth = slow.zeroth + lo * (slow.zeroth - fast.zeroth) / delta;
  first = slow.first + lo * (slow.first - fast.first) / delta;
}

}  // namespace

double survival_and_density(const QueueLatency& d, double x, double& density) {
  const Phases r = phases_of(d);
  const double served = std::isinf(r.a) ? 0.0 : std::exp(-r.a * x);
  density = std::isinf(r.a) ? 0.0 : (1.0 - d.p_wait) * r.a * served;
  if (d.p_wait <= 0) return (1.0 - d.p_wait) * served;
  double waited = 1.0;
  if (x >= d.shift) {
    double waiting_density = 0;
    waited = sum_survival(r, x - d.shift, waiting_density);
    density += d.p_wait * waiting_density;
  }
  return (1.0 - d.p_wait) * served + d.p_wait * waited;
}

QueueLatency queue_latency(double service, const Moments& wait) {
  QueueLatency d;
  d.service = std::max(0.0, service);
  const double m = wait.mean, v = std::max(0.0, wait.var);
  if (!(m > 0)) return d;
  if (v >= m * m) {
    d.p_wait = std::min(1.0, 2.0 * m * m / (v + m * m));
    d.tail = (v + m * m) / (2.0 * m);
  } else {
    d.p_wait = 1.0;
    d.tail = std::sqrt(v);
    d.shift = m - d.tail;
  }
  return d;
}

double mean_of(const QueueLatency& d) { return d.service + d.p_wait * (d.shift + d.tail); }

double third_of(const QueueLatency& d) {
  // The wait: shift + Exp(tail) with probability p_wait, else 0; E[(a + X)^n] of an
  // exponential X of mean t is a + t, (a + t)^2 + t^2 and a^3 + 3 a^2 t + 6 a t^2 + 6 t^3.
  const double p = d.p_wait, a = d.shift, t = d.tail;
  const double first = p * (a + t);
  const double second = p * ((a + t) * (a + t) + t * t);
  const double third = p * (a * a * a + 3.0 * a * a * t + 6.0 * a * t * t + 6.0 * t * t * t);
  const double wait = third - 3.0 * first * second + 2.0 * first * first * first;
  return 2.0 * d.service * d.service * d.service + wait;
}

double survival(const QueueLatency& d, double x) {
  if (x < 0) return 1.0;
  double density = 0;
  return survival_and_density(d, x, density);
}

double quantile(const QueueLatency& d, double q) {
  const double target = 1.0 - q;  // the survival to reach
  if (!(target < survival(d, 0.0))) return 0.0;
  // Newton on log survival, nearly linear in an exponential tail, from the quantile of the
  // exponential of the same mean; kept inside a bracket that starts open above (doubling
  // until it closes) and bisects where Newton would leave it. A few steps in practice.
  const double log_target = std::log(target);
  double low = 0, high = HUGE_VAL;
  double x = std::max(mean_of(d), 1e-12) * std::max(-log_target, 0.05);
  // Where the two rates are well apart, the tail's asymptote A e^-(lo x) is a closer start
  // (its log is exact but for the faster decay): one or two steps for a p95 or a p99.
  const Phases r = phases_of(d);
  const double lo = std::min(r.a, r.b), hi = std::max(r.a, r.b);
  if (d.p_wait > 0 && !std::isinf(hi) && hi > 1.5 * lo) {
    // Exp(a) + Exp(b) decays as hi / (hi - lo) e^-(lo y); served without waiting, as e^-(a x).
    // In logs: e^(lo shift) overflows for a wait of seconds behind a full queue.
    const double waiting = d.p_wait * hi / (hi - lo);
    double log_weight = std::log(waiting) + lo * d.shift;
    if (r.a == lo && d.p_wait < 1)
      log_weight += std::log1p((1.0 - d.p_wait) * std::exp(-lo * d.shift) / waiting);
    const double asymptote = (log_weight - log_target) / lo;
    if (asymptote > 0 && std::isfinite(asymptote)) x = asymptote;
  }
  for (int iteration = 0; iteration < 200; ++iteration) {
    double density = 0;
    const double s = survival_and_density(d, x, density);
    (s > target ? low : high) = x;
    double next = s > 0 && density > 0 ? x + (std::log(s) - log_target) * s / density : -1.0;
    if (next >= 0 && std::abs(next - x) <= 1e-10 * x) return next;  // converged
    if (!(next > low && next < high)) next = std::isinf(high) ? 2.0 * x : 0.5 * (low + high);
    if (!std::isinf(high) && high - low <= 1e-12 * high) return next;
    x = next;
  }
  return x;
}

Truncated truncate_at(const QueueLatency& d, double timeout) {
  // E[min(L, T)] = int_0^T P(L > t) dt and E[min(L, T)^2] = 2 int_0^T t P(L > t) dt, piece
  // by piece: served without waiting, waiting the shift, then the two phases.
  Truncated out;
  if (!(timeout > 0)) return out;
  const Phases r = phases_of(d);
  double zeroth = 0, first = 0;
  if (!std::isinf(r.a)) {
    const DecayIntegrals served = decay_integrals(r.a, timeout);
    zeroth += (1.0 - d.p_wait) * served.zeroth;
    first += (1.0 - d.p_wait) * served.first;
  }
  if (d.p_wait > 0) {
    const double before = std::min(timeout, d.shift);
    zeroth += d.p_wait * before;
    first += d.p_wait * 0.5 * before * before;
    if (timeout > d.shift) {
      double z = 0, f = 0;
      sum_survival_integrals(r, timeout - d.shift, z, f);
      zeroth += d.p_wait * z;
      first += d.p_wait * (f + d.shift * z);  // t = shift + y
    }
  }
  out.moments.mean = zeroth;
  out.moments.var = std::max(0.0, 2.0 * first - zeroth * zeroth);
  out.p_timeout = survival(d, timeout);
  return out;
}

}  // namespace dosim
