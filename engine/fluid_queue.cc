#include "fluid_queue.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace dosim {

double mmc_in_system(int servers, double rho) {
  if (rho <= 0) return 0.0;
  const double c = static_cast<double>(servers);
  return c * rho + erlang_c(servers, c * rho) * rho / (1.0 - rho);
}

namespace {

// L(rho) and dL/drho together. Up to 256 servers, Erlang B and its derivative in the
// offered load a = c rho by one recurrence (B_k = a B_{k-1} / (k + a B_{k-1})); above, a
// finite difference.
double in_system_and_slope(int servers, double rho, double& slope) {
  const double c = static_cast<double>(servers);
  if (rho <= 0) {
    slope = c;
    return 0.0;
  }
  if (servers > 256) {
    const double h = 1e-7 * std::max(1e-6, 1.0 - rho);
    const double value = mmc_in_system(servers, rho);
    slope = (mmc_in_system(servers, std::min(rho + h, 0.9999999)) - value) / h;
    return value;
  }
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
  const double erlang = b / q;
  const double db_drho = c * db;
  const double dq_drho = -(1.0 - b) + rho * db_drho;
  const double derlang = (db_drho * q - b * dq_drho) / (q * q);
  const double tail = rho / (1.0 - rho);
  slope = c + derlang * tail + erlang / ((1.0 - rho) * (1.0 - rho));
  return c * rho + erlang * tail;
}

// L(kRhoHigh) for a number of servers, remembered (a pure function of it).
double stationary_end(int servers) {
  constexpr int kRemembered = 4096;
  static thread_local std::vector<double> remembered(kRemembered + 1, -1.0);
  if (servers > kRemembered) return mmc_in_system(servers, kRhoHigh);
  double& value = remembered[static_cast<std::size_t>(servers)];
  if (value < 0) value = mmc_in_system(servers, kRhoHigh);
  return value;
}

// The rho in [0, kRhoHigh] with L(rho) + k rho = target, where L(kRhoHigh) + k kRhoHigh >=
// target >= 0: Newton from `guess`, kept inside a shrinking bracket (bisection where Newton
// would leave it).
double solve_rho(int servers, double k, double target, double guess) {
  double low = 0, high = kRhoHigh;
  double rho = std::clamp(guess, low, high);
  for (int iteration = 0; iteration < 100; ++iteration) {
    double slope = 0;
    const double f = in_system_and_slope(servers, rho, slope) + k * rho - target;
    if (f == 0) return rho;
    (f < 0 ? low : high) = rho;
    if (high - low <= 1e-14) break;
    slope += k;
    double next = slope > 0 ? rho - f / slope : 0.5 * (low + high);
    if (!(next > low && next < high)) next = 0.5 * (low + high);
    if (std::abs(next - rho) <= 1e-15) return next;
    rho = next;
  }
  return 0.5 * (low + high);
}

}  // namespace

double queue_diffusion(double arrivals, double completions, double dt) {
  return std::sqrt(std::max(0.0, arrivals + completions) * dt);
}

FluidQueueStep step_fluid_queue(int servers, double mu, double arrivals, double in_system,
                                double dt, double limit, double chance) {
  FluidQueueStep step;
  const double capacity = servers * mu;
  const double k = capacity * dt;
  // The chance, scaled by the queue's memory over the step: dN_new / dN_old = 1 / (1 + k
  // rho'(N)) at the stationary queue of the arrival rate. A queue that relaxes within the
  // step has its fluctuations in the stationary N already (adding them again would inflate
  // its mean); one that remembers (near saturation, or slow) random-walks.
  if (chance != 0 && capacity > 0) {
    const double rho = std::min(arrivals / capacity, kRhoHigh);
    double slope = 0;
    in_system_and_slope(servers, rho, slope);
    chance *= rho >= kRhoHigh ? 1.0 : slope / (slope + k);
  }
  const double target = std::max(0.0, in_system + arrivals * dt + chance);
  const double high = stationary_end(servers);
  if (high + k * kRhoHigh >= target) {  // the stationary branch
    step.rho = target > 0 ? solve_rho(servers, k, target, arrivals / capacity) : 0.0;
    step.in_system = mmc_in_system(servers, step.rho);
  } else if (target - k >= high) {  // saturated: a backlog beyond the stationary queue
    step.rho = 1.0;
    step.in_system = target - k;
  } else {  // between the two: the stationary queue at its end, serving faster than kRhoHigh
    step.in_system = high;
    step.rho = (target - high) / k;
  }
  step.served = capacity * step.rho;  // with no chance, exactly (target - N) / dt
  if (step.in_system > limit) {
    step.shed = (step.in_system - limit) / dt;
    step.in_system = limit;
  }
  // An arrival waits as in the stationary queue at rho(N), then behind the backlog.
  const double rho = std::min(step.rho, kRhoHigh);
  if (rho > 0) {
    step.p_wait = erlang_c(servers, servers * rho);
    const double drain = capacity * (1.0 - rho);
    step.wait.mean = step.p_wait / drain;
    step.wait.var = 2.0 * step.p_wait / (drain * drain) - step.wait.mean * step.wait.mean;
  }
  step.wait.mean += std::max(0.0, step.in_system - high) / capacity;
  return step;
}

}  // namespace dosim
