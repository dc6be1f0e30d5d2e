#include "fluid_queue.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

namespace dosim {

double mmc_in_system(int servers, double rho) {
  if (rho <= 0) return 0.0;
  const double c = static_cast<double>(servers);
  return c * rho + erlang_c(servers, c * rho) * rho / (1.0 - rho);
}

namespace {

// Erlang C at utilisation rho and its derivative in rho, exactly: Erlang B and its
// derivative in the offered load a = c rho by one recurrence (B_k = a B_{k-1} / (k + a
// B_{k-1})), O(servers).
double erlang_c_and_slope(int servers, double rho, double& slope) {
  const double c = static_cast<double>(servers);
  const double a = c * rho;
  double b = 1.0, db = 0.0;  // B_0 = 1
  for (int k = 1; k <= servers; ++k) {
    const double denominator = k + a * b;
    const double next = a * b / denominator;
    // d/da of a b / (k + a b) = k (b + a b') / (k + a b)^2
    db = k * (b + a * db) / (denominator * denominator);
    b = next;
  }
  // C = B / (1 - rho (1 - B)); dC/drho with dB/drho = c dB/da.
  const double q = 1.0 - rho * (1.0 - b);
  const double db_drho = c * db;
  const double dq_drho = -(1.0 - b) + rho * db_drho;
  slope = (db_drho * q - b * dq_drho) / (q * q);
  return b / q;
}

// A smooth function of rho on [0, kRhoHigh], tabulated once at kIntervals + 1 points with
// its slope and read by cubic Hermite interpolation: a tick's queue then costs O(1) per
// evaluation, not a recurrence or a root. Tabulated per server (or replica) count, built on
// first use in each thread.
class RhoCurve {
 public:
  static constexpr int kIntervals = 1024;
  static constexpr int kMostCounts = 4096;  // above: computed per call

  // `exact(rho, slope)` gives the value and sets the slope.
  template <class Exact>
  explicit RhoCurve(Exact exact) {
    for (int i = 0; i <= kIntervals; ++i) value_[i] = exact(i * kStep, slope_[i]);
  }

  // The curve of `count` (<= kMostCounts) in `curves`, made by `make(count)` on first use.
  template <class Make>
  static const RhoCurve& of(std::vector<std::unique_ptr<RhoCurve>>& curves, int count, Make make) {
    if (curves.size() <= static_cast<std::size_t>(count)) curves.resize(count + 1);
    auto& curve = curves[static_cast<std::size_t>(count)];
    if (!curve) curve = std::make_unique<RhoCurve>(make(count));
    return *curve;
  }

  // The value and its slope at rho in [0, kRhoHigh].
  double at(double rho, double& slope) const {
    const double x = rho * (1.0 / kStep);
    const int i = std::min(static_cast<int>(x), kIntervals - 1);
    const double t = x - i, t2 = t * t, t3 = t2 * t;
    const double v0 = value_[i], v1 = value_[i + 1];
    const double s0 = slope_[i] * kStep, s1 = slope_[i + 1] * kStep;
    slope = ((6 * t2 - 6 * t) * (v0 - v1) + (3 * t2 - 4 * t + 1) * s0 + (3 * t2 - 2 * t) * s1) *
            (1.0 / kStep);
    return (2 * t3 - 3 * t2 + 1) * v0 + (-2 * t3 + 3 * t2) * v1 + (t3 - 2 * t2 + t) * s0 +
           (t3 - t2) * s1;
  }

 private:
  static constexpr double kStep = kRhoHigh / kIntervals;
  double value_[kIntervals + 1], slope_[kIntervals + 1];
};

// Erlang C and its slope: tabulated (error below 1e-6 relative or 1e-10 absolute, checked
// against the recurrence in tests/test_fluid_queue.cc; C, not L, is tabulated: it is bounded
// and smooth, where L has a pole at 1) up to RhoCurve::kMostCounts servers, exactly above
// (erlang_c in O(1), the slope by a finite difference).
double erlang_c_at(int servers, double rho, double& slope) {
  if (rho <= 0) {
    slope = servers == 1 ? 1.0 : 0.0;
    return 0.0;
  }
  if (servers <= RhoCurve::kMostCounts) {
    static thread_local std::vector<std::unique_ptr<RhoCurve>> curves;
    const auto make = [](int count) {
      return RhoCurve([count](double r, double& s) { return erlang_c_and_slope(count, r, s); });
    };
    return RhoCurve::of(curves, servers, make).at(rho, slope);
  }
  const double c = static_cast<double>(servers);
  const double h = 1e-7 * std::max(1e-6, 1.0 - rho);
  const double value = erlang_c(servers, c * rho);
  slope = (erlang_c(servers, c * std::min(rho + h, 0.9999999)) - value) / h;
  return value;
}

// Round robin's sigma: the root in (0, 1) of sigma = (k rho / (k rho + 1 - sigma))^k (see
// round_robin_wait), by Newton on f(sigma) = sigma - that power, f convex on (0, 1), from
// above the root: rho, or the heavy-traffic value 1 - 2 (1 - rho) / (1 + 1 / k) where that
// is lower and still above it (f > 0 there), so the iterates decrease to it. Its slope in rho
// by implicit differentiation.
double round_robin_sigma_and_slope(int replicas, double rho, double& slope) {
  const double k = replicas, offered = k * rho;
  if (!(rho > 0)) {
    slope = replicas == 1 ? 1.0 : 0.0;
    return 0.0;
  }
  const double heavy = 1.0 - 2.0 * (1.0 - rho) / (1.0 + 1.0 / k);
  double sigma = rho;
  if (heavy > 0 && heavy < rho && heavy - std::pow(offered / (offered + 1.0 - heavy), k) > 0)
    sigma = heavy;
  for (int i = 0; i < 50; ++i) {
    const double power = std::pow(offered / (offered + 1.0 - sigma), k);
    const double f_sigma = 1.0 - k * power / (offered + 1.0 - sigma);
    if (!(f_sigma > 0)) break;
    double next = sigma - (sigma - power) / f_sigma;
    if (!(next > 0)) next = power;  // a root below rounding: the fixed-point step stays above it
    if (!(next > 0 && next < 1)) break;
    const bool done = std::abs(next - sigma) <= 1e-13;
    sigma = next;
    if (done) break;
  }
  // F(sigma, rho) = sigma - P, P = (k rho / (k rho + 1 - sigma))^k:
  // dP/drho = k P (1 - sigma) / (rho (k rho + 1 - sigma)), dP/dsigma = k P / (k rho + 1 - sigma).
  const double power = std::pow(offered / (offered + 1.0 - sigma), k);
  const double f_sigma = 1.0 - k * power / (offered + 1.0 - sigma);
  const double p_rho = k * power * (1.0 - sigma) / (rho * (offered + 1.0 - sigma));
  slope = f_sigma > 0 ? p_rho / f_sigma : 0.0;
  return sigma;
}

// The stationary queue at utilisation rho: L(rho) = c rho + C rho / (1 - rho), its slope
// dL/drho, and Erlang C.
struct Stationary {
  double in_system = 0, slope = 0, erlang = 0;
};
Stationary stationary_at(int servers, double rho) {
  const double c = static_cast<double>(servers);
  double c_slope = 0;
  Stationary at;
  at.erlang = erlang_c_at(servers, rho, c_slope);
  const double tail = rho / (1.0 - rho);
  at.slope = c + c_slope * tail + at.erlang / ((1.0 - rho) * (1.0 - rho));
  at.in_system = c * rho + at.erlang * tail;
  return at;
}

// The rho in [0, kRhoHigh] with L(rho) + k rho = target, where L(kRhoHigh) + k kRhoHigh >=
// target >= 0, and the stationary queue there: Newton from `guess`, kept inside a shrinking
// bracket (bisection where Newton would leave it), until the step is below 1e-12 (the
// quadratic convergence has then left an error far below that in rho).
double solve_rho(int servers, double k, double target, double guess, Stationary& at) {
  double low = 0, high = kRhoHigh;
  double rho = std::clamp(guess, low, high);
  for (int iteration = 0; iteration < 100; ++iteration) {
    at = stationary_at(servers, rho);
    const double f = at.in_system + k * rho - target;
    if (f == 0) return rho;
    (f < 0 ? low : high) = rho;
    const double slope = at.slope + k;
    double next = slope > 0 ? rho - f / slope : 0.5 * (low + high);
    if (!(next > low && next < high)) next = 0.5 * (low + high);
    if (std::abs(next - rho) <= 1e-12 || high - low <= 1e-14) return rho;
    rho = next;
  }
  return rho;
}

}  // namespace

FluidQueueStep step_fluid_queue(int servers, double mu, double arrivals, double in_system,
                                double dt, double limit) {
  FluidQueueStep step;
  const double capacity = servers * mu;
  const double k = capacity * dt;
  const double target = in_system + arrivals * dt;
  const Stationary end = stationary_at(servers, kRhoHigh);
  const double high = end.in_system;
  Stationary at = end;                  // the stationary queue at rho(N), capped at kRhoHigh
  if (high + k * kRhoHigh >= target) {  // the stationary branch
    at = Stationary{};
    step.rho = target > 0 ? solve_rho(servers, k, target, arrivals / capacity, at) : 0.0;
    step.in_system = at.in_system;
  } else if (target - k >= high) {  // saturated: a backlog beyond the stationary queue
    step.rho = 1.0;
    step.in_system = target - k;
  } else {  // between the two: the stationary queue at its end, serving faster than kRhoHigh
    step.in_system = high;
    step.rho = (target - high) / k;
  }
  step.served = capacity * step.rho;  // (target - N) / dt
  double rho = std::min(step.rho, kRhoHigh);  // where the wait is the stationary queue's
  if (step.in_system > limit) {
    // Full: what overflows is shed. Fed beyond its capacity, a full queue keeps every server
    // busy (an M/M/c/K queue over capacity serves at c mu), where rho(N) of the queue without
    // a limit served about 1 % less at a limit below L(kRhoHigh); below it, rho(N) stands for
    // a finite queue's losses near capacity.
    if (arrivals >= capacity) {
      const double through = (target - limit) / dt;  // what leaves: served or shed
      step.served = std::min(capacity, through);
      step.rho = step.served / capacity;
      step.shed = through - step.served;
    } else {
      step.shed = (step.in_system - limit) / dt;
    }
    step.in_system = limit;
    // An arrival waits behind what the full queue holds: the stationary queue's wait where
    // it holds the limit (Little's), not that of the N it would hold without one.
    if (limit < high) rho = solve_rho(servers, 0.0, limit, rho, at);
  }
  // An arrival waits as in the stationary queue at rho(N), then behind the backlog.
  if (rho > 0) {
    step.p_wait = at.erlang;
    const double drain = capacity * (1.0 - rho);
    step.wait.mean = step.p_wait / drain;
    step.wait.var = 2.0 * step.p_wait / (drain * drain) - step.wait.mean * step.wait.mean;
  }
  step.wait.mean += std::max(0.0, step.in_system - high) / capacity;
  step.relaxation = step.rho < kRhoHigh ? (1.0 + step.rho) * at.slope / capacity : HUGE_VAL;
  return step;
}

namespace {

// A factor of mean 1 and variance `common` at the standard normal score `level`: a gamma
// (Wilson-Hilferty's cube of a normal, its mean 1 - c^3 divided out) while the variance is
// at most 1, where that is accurate; a log-normal from 2, which any variance fits; between,
// the mixture of the two, comonotone.
double tick_factor(double common, double level) {
  const auto gamma = [&] {
    const double c = common / 9.0;
    const double root = std::max(0.0, 1.0 - c + std::sqrt(c) * level);
    return root * root * root / (1.0 - c * c * c);
  };
  const auto lognormal = [&] {
    const double shape2 = std::log1p(common);
    return std::exp(std::sqrt(shape2) * level - 0.5 * shape2);
  };
  if (common <= 1.0) return gamma();
  if (common >= 2.0) return lognormal();
  const double w = common - 1.0;
  return (1.0 - w) * gamma() + w * lognormal();
}

}  // namespace

Moments tick_wait(const Moments& wait, double level, double dt, double relaxation, int queues) {
  if (!(wait.mean > 0) || !(wait.var > 0)) return wait;
  const double x = relaxation > 0 ? 0.5 * dt / relaxation : HUGE_VAL;
  const double m2 = x < 1e-6 ? 1.0 : x > 1e12 ? 0.0 : 2.0 * (x - 1.0 + std::exp(-x)) / (x * x);
  const double shared = m2 / queues;
  const double spread = wait.var / (wait.mean * wait.mean);  // squared coefficient of variation
  const double common = spread * shared;
  const double mean = wait.mean * tick_factor(common, level);
  return {mean, mean * mean * spread * (1.0 - shared) / (1.0 + common)};
}

bool driven_wait(int servers, double mu, double arrivals, double before, double after,
                 const FluidQueueStep& step, double level, double dt, int queues, Moments& wait) {
  const double capacity = servers * mu;
  if (arrivals >= capacity) {
    const double rise = std::max(0.0, after - before) / capacity;  // seconds of wait
    wait = {std::max(0.0, step.wait.mean - 0.5 * rise), rise * rise / 12.0};
    return true;
  }
  const double held = 0.5 * (before + after);
  const double rho = std::min(arrivals / capacity, kRhoHigh);
  const Stationary at = stationary_at(servers, rho);
  if (held <= at.in_system) return false;
  Moments stationary;
  if (rho > 0) {
    const double drain = capacity * (1.0 - rho);
    stationary.mean = at.erlang / drain;
    stationary.var = 2.0 * at.erlang / (drain * drain) - stationary.mean * stationary.mean;
  }
  const double relaxation = (1.0 + rho) * at.slope / capacity;
  wait = std::isnan(level) ? stationary : tick_wait(stationary, level, dt, relaxation, queues);
  wait.mean += (held - at.in_system) / capacity;
  return true;
}

void SplitQueues::follow(int ready, double in_system) {
  if (loaded > 0 && ready <= loaded) {  // replicas lost (or pooled): one queue again
    loaded = 0;
    fresh_in_system = 0;
  } else if (loaded == 0 && replicas > 0 && ready > replicas && in_system > 0) {
    loaded = replicas;
    fresh_in_system = 0;
  }
  replicas = ready;
}

void SplitQueues::settle(double fresh, double loaded_in_system, int ready) {
  fresh_in_system = fresh;
  constexpr double kAlike = 0.5;  // requests a queue
  if (loaded_in_system / loaded <= fresh / (ready - loaded) + kAlike) {
    loaded = 0;
    fresh_in_system = 0;
  }
}

double drift_apart(double drift, double excess, bool building, double arrival_variance_rate,
                   double service_rate, double dt) {
  if (!(excess > 0.0)) return 0.0;
  if (building) drift += (arrival_variance_rate + service_rate) * dt;
  return std::min(drift, excess * excess);
}

Moments mix_waits(const Moments& first, const Moments& second, double a) {
  const double b = 1.0 - a;
  return {a * first.mean + b * second.mean, a * first.var + b * second.var};
}

FluidQueueStep combine_split(const FluidQueueStep& loaded, const FluidQueueStep& fresh,
                             double loaded_share) {
  const double a = loaded_share, b = 1.0 - a;
  FluidQueueStep step = loaded;  // its relaxation: the slower queue's
  step.in_system = loaded.in_system + fresh.in_system;
  step.served = loaded.served + fresh.served;
  step.shed = loaded.shed + fresh.shed;
  step.rho = a * loaded.rho + b * fresh.rho;
  step.p_wait = a * loaded.p_wait + b * fresh.p_wait;
  step.wait = mix_waits(loaded.wait, fresh.wait, a);
  return step;
}

double round_robin_sigma(int replicas, double rho) {
  rho = std::clamp(rho, 0.0, kRhoHigh);
  double slope = 0;
  if (replicas > RhoCurve::kMostCounts) return round_robin_sigma_and_slope(replicas, rho, slope);
  static thread_local std::vector<std::unique_ptr<RhoCurve>> curves;
  const auto make = [](int count) {
    return RhoCurve(
        [count](double r, double& s) { return round_robin_sigma_and_slope(count, r, s); });
  };
  return RhoCurve::of(curves, replicas, make).at(rho, slope);
}

double round_robin_sigma_exact(int replicas, double rho) {
  double slope = 0;
  return round_robin_sigma_and_slope(replicas, std::clamp(rho, 0.0, kRhoHigh), slope);
}

Moments round_robin_wait(const FluidQueueStep& step, int replicas, int workers, double mu,
                         bool over_capacity) {
  const double rho = std::min(step.rho, kRhoHigh);
  if (over_capacity || !(rho > 0) || !(step.p_wait > 0)) return step.wait;
  const double sigma = round_robin_sigma(replicas, rho);
  const double p = std::min(1.0, step.p_wait * sigma / rho);
  const double rate = workers * mu * (1.0 - sigma);
  Moments wait{p / rate, p * (2.0 - p) / (rate * rate)};
  const double stationary = step.p_wait / (workers * mu * (1.0 - rho));  // the Poisson queue's
  const double backlog = step.wait.mean - stationary;
  // The regular arrivals' gain, whole at equilibrium, none behind a backlog of a stationary
  // wait or more (a queue that overflowed holds what came beyond the capacity).
  const double gain =
      (stationary - wait.mean) * (backlog > 0 ? std::max(0.0, 1.0 - backlog / stationary) : 1.0);
  wait.mean = step.wait.mean - gain;
  return wait;
}

}  // namespace dosim
