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

// Erlang C of one server count as a function of rho on [0, kRhoHigh], tabulated once at
// kIntervals + 1 points with its slope and read by cubic Hermite interpolation (error below
// 1e-6 relative or 1e-10 absolute, checked against the recurrence in
// tests/test_fluid_queue.cc): a tick's Newton solve then costs O(1) per step, not
// O(servers). C, not L, is tabulated: it is bounded and smooth, where L has a pole at 1.
class ErlangCurve {
 public:
  static constexpr int kIntervals = 1024;
  static constexpr int kMostServers = 4096;  // above: exact, per call

  explicit ErlangCurve(int servers) : servers_(servers) {
    for (int i = 0; i <= kIntervals; ++i)
      value_[i] = erlang_c_and_slope(servers, i * kStep, slope_[i]);
  }

  // The curve for `servers` (<= kMostServers), built on first use in this thread.
  static const ErlangCurve& of(int servers) {
    static thread_local std::vector<std::unique_ptr<ErlangCurve>> curves;
    if (curves.size() <= static_cast<std::size_t>(servers)) curves.resize(servers + 1);
    auto& curve = curves[static_cast<std::size_t>(servers)];
    if (!curve) curve = std::make_unique<ErlangCurve>(servers);
    return *curve;
  }

  // C(rho) and dC/drho, rho in [0, kRhoHigh].
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
  double end() const { return value_[kIntervals]; }
  int servers() const { return servers_; }

 private:
  static constexpr double kStep = kRhoHigh / kIntervals;
  int servers_;
  double value_[kIntervals + 1], slope_[kIntervals + 1];
};

// Erlang C and its slope: from the curve up to ErlangCurve::kMostServers, exactly above
// (erlang_c in O(1), the slope by a finite difference).
double erlang_c_at(int servers, double rho, double& slope) {
  if (rho <= 0) {
    slope = servers == 1 ? 1.0 : 0.0;
    return 0.0;
  }
  if (servers <= ErlangCurve::kMostServers) return ErlangCurve::of(servers).at(rho, slope);
  const double c = static_cast<double>(servers);
  const double h = 1e-7 * std::max(1e-6, 1.0 - rho);
  const double value = erlang_c(servers, c * rho);
  slope = (erlang_c(servers, c * std::min(rho + h, 0.9999999)) - value) / h;
  return value;
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
  if (step.in_system > limit) {
    step.shed = (step.in_system - limit) / dt;
    step.in_system = limit;
  }
  // An arrival waits as in the stationary queue at rho(N), then behind the backlog.
  const double rho = std::min(step.rho, kRhoHigh);
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

Moments tick_wait(const Moments& wait, double level, double dt, double relaxation) {
  if (!(wait.mean > 0) || !(wait.var > 0)) return wait;
  const double x = relaxation > 0 ? dt / relaxation : HUGE_VAL;
  const double shared = x < 1e-6 ? 1.0 : x > 1e12 ? 0.0 : 2.0 * (x - 1.0 + std::exp(-x)) / (x * x);
  const double shape2 = std::log1p(wait.var / (wait.mean * wait.mean));
  const double mean =
      wait.mean * std::exp(std::sqrt(shape2 * shared) * level - 0.5 * shape2 * shared);
  return {mean, mean * mean * std::expm1(shape2 * (1.0 - shared))};
}

}  // namespace dosim
