// A latency fault's jittered delay cut at a timeout (engine/queueing.h, truncate_delayed_at):
// L = F + max(0, D), F log-normal, D normal. Checked against L's survival function computed
// here by brute force (the convolution integrated on a fine grid, D's atom at 0 apart), then
// integrated again for the cut moments: E[min(L, T)] = integral of S over [0, T],
// E[min(L, T)^2] = integral of 2 t S.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/queueing.h"

namespace {

double lognormal_survival(double mu, double sigma, double y) {
  if (y <= 0) return 1.0;
  return 0.5 * std::erfc((std::log(y) - mu) / (sigma * std::sqrt(2.0)));
}

// S_L(t): D's atom at 0 (mass Phi(-d / j)) and its density above, by the trapezoid rule.
double survival(double mu, double sigma, double delay, double jitter, double t) {
  const double atom = 0.5 * std::erfc(delay / (jitter * std::sqrt(2.0)));
  double s = atom * lognormal_survival(mu, sigma, t);
  constexpr int kSteps = 3000;
  const double top = delay + 9 * jitter, h = top / kSteps;
  for (int i = 0; i <= kSteps; ++i) {
    const double x = i * h, w = (i == 0 || i == kSteps) ? 0.5 : 1.0;
    const double z = (x - delay) / jitter;
    const double density = std::exp(-0.5 * z * z) / (jitter * std::sqrt(2 * M_PI));
    s += w * h * density * lognormal_survival(mu, sigma, t - x);
  }
  return s;
}

}  // namespace

TEST_CASE("A jittered delay cut at a timeout: the sum's moments and tail, not a log-normal's",
          "[queueing]") {
  struct Case {
    double fast_mean, fast_cv, delay, jitter, timeout;
  };
  const Case cases[] = {
      {0.01, 1.0, 0.10, 0.05, 0.15},   // the fast latency narrower than the jitter
      {0.01, 1.0, 0.12, 0.04, 0.15},
      {0.01, 1.0, 0.05, 0.10, 0.15},   // a third of the delays drawn below 0
      {0.03, 1.5, 0.10, 0.002, 0.15},  // the jitter narrower: over D
      {0.03, 0.5, 0.10, 0.01, 0.15},
      {0.01, 1.0, 0.30, 0.05, 0.15},   // nearly all beyond the timeout
  };
  for (const Case& c : cases) {
    const double s2 = std::log1p(c.fast_cv * c.fast_cv);
    const dosim::LogNormal fast =
        dosim::fit_lognormal({c.fast_mean, c.fast_cv * c.fast_cv * c.fast_mean * c.fast_mean});
    const double mu = std::log(c.fast_mean) - 0.5 * s2, sigma = std::sqrt(s2);
    constexpr int kSteps = 600;
    const double h = c.timeout / kSteps;
    double first = 0, second = 0;
    for (int i = 0; i <= kSteps; ++i) {
      const double t = i * h, w = (i == 0 || i == kSteps) ? 0.5 : 1.0;
      const double s = survival(mu, sigma, c.delay, c.jitter, t);
      first += w * h * s;
      second += w * h * 2 * t * s;
    }
    const double tail = survival(mu, sigma, c.delay, c.jitter, c.timeout);
    const dosim::Truncated cut = dosim::truncate_delayed_at(fast, c.delay, c.jitter, c.timeout);
    INFO("fast " << c.fast_mean << " cv " << c.fast_cv << ", delay " << c.delay << " +- "
                 << c.jitter << ", timeout " << c.timeout);
    CHECK(cut.p_timeout == Approx(tail).epsilon(0.01));
    CHECK(cut.moments.mean == Approx(first).epsilon(0.002));
    CHECK(cut.moments.var == Approx(second - first * first).epsilon(0.01));
    // The log-normal of L's moments, as the fluid model cut it before: a sixth too few.
    if (c.delay == 0.10 && c.jitter == 0.05) {
      const double mean = c.fast_mean + c.delay;
      const double var = c.fast_cv * c.fast_cv * c.fast_mean * c.fast_mean + c.jitter * c.jitter;
      const dosim::Truncated lognormal =
          dosim::truncate_at(dosim::fit_lognormal({mean, var}), c.timeout);
      CHECK(lognormal.p_timeout < 0.85 * tail);
    }
  }
  // A fast latency of one value (degenerate): the normal's own tail beyond T - f.
  const dosim::Truncated exact =
      dosim::truncate_delayed_at(dosim::fit_lognormal({0.02, 0.0}), 0.1, 0.03, 0.15);
  CHECK(exact.p_timeout == Approx(0.5 * std::erfc(1.0 / std::sqrt(2.0))).epsilon(1e-9));
}
