// The percentiles of a composed latency (engine/queueing.h, gamma_percentiles): the gamma
// of its mean and variance. Checked against closed forms (the exponential's quantiles, the
// Erlang CDF as a Poisson sum), boost's regularized gamma at the returned points (every
// branch: the exact inverse, the table, Wilson-Hilferty), and a seeded Monte Carlo of a
// sum of M/M/c response times, whose p99 the log-normal of the same moments puts too high.
#include <catch2/catch.hpp>
#include <algorithm>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "engine/measurement.h"
#include "engine/queueing.h"

namespace {

// Moments of Gamma(shape k, scale theta).
dosim::Moments gamma_moments(double k, double theta) { return {k * theta, k * theta * theta}; }

// P(Erlang(k, theta) <= x) = 1 - sum_{j < k} e^-y y^j / j!, y = x / theta.
double erlang_cdf(int k, double theta, double x) {
  const double y = x / theta;
  double term = std::exp(-y), sum = 0;
  for (int j = 0; j < k; ++j) {
    sum += term;
    term *= y / (j + 1);
  }
  return 1.0 - sum;
}

}  // namespace

TEST_CASE("Gamma percentiles: the exponential's and the Erlang's, by hand", "[queueing]") {
  const dosim::GammaPercentiles e = dosim::gamma_percentiles({0.02, 0.0004});  // CV 1
  CHECK(e.p50 == Approx(0.02 * std::log(2.0)).epsilon(1e-4));
  CHECK(e.p95 == Approx(0.02 * std::log(20.0)).epsilon(1e-4));
  CHECK(e.p99 == Approx(0.02 * std::log(100.0)).epsilon(1e-4));
  for (int k : {2, 3, 7, 40}) {
    const double theta = 0.005;
    const dosim::GammaPercentiles g = dosim::gamma_percentiles(gamma_moments(k, theta));
    INFO("k = " << k);
    CHECK(erlang_cdf(k, theta, g.p50) == Approx(0.50).margin(2e-5));
    CHECK(erlang_cdf(k, theta, g.p95) == Approx(0.95).margin(2e-5));
    CHECK(erlang_cdf(k, theta, g.p99) == Approx(0.99).margin(2e-5));
  }
}

TEST_CASE("Gamma percentiles: every shape, each branch, continuous where they meet",
          "[queueing]") {
  // Shapes below the table (the exact inverse), in it (between its points too), and above
  // (Wilson-Hilferty).
  for (double k : {0.004, 0.0156, 0.05, 0.3, 0.77, 1.0, 5.5, 123.4, 1023.0, 1500.0, 1e6}) {
    const dosim::GammaPercentiles g = dosim::gamma_percentiles(gamma_moments(k, 2.0));
    INFO("k = " << k);
    CHECK(boost::math::gamma_p(k, g.p50 / 2.0) == Approx(0.50).margin(1e-4));
    CHECK(boost::math::gamma_p(k, g.p95 / 2.0) == Approx(0.95).margin(1e-4));
    CHECK(boost::math::gamma_p(k, g.p99 / 2.0) == Approx(0.99).margin(1e-4));
    CHECK(g.p50 < g.p95);
    CHECK(g.p95 < g.p99);
  }
  for (double edge : {1.0 / 64, 1024.0}) {
    const dosim::GammaPercentiles below = dosim::gamma_percentiles(gamma_moments(edge * 0.9999, 1));
    const dosim::GammaPercentiles above = dosim::gamma_percentiles(gamma_moments(edge * 1.0001, 1));
    INFO("edge k = " << edge);
    CHECK(above.p95 / below.p95 == Approx(1.0).margin(1e-3));
    CHECK(above.p99 / below.p99 == Approx(1.0).margin(1e-3));
  }
  // No spread: every percentile at the mean; nothing: 0.
  const dosim::GammaPercentiles sure = dosim::gamma_percentiles({0.1, 0.0});
  CHECK(sure.p50 == 0.1);
  CHECK(sure.p99 == 0.1);
  CHECK(dosim::gamma_percentiles({0.0, 0.0}).p99 == 0.0);
}

TEST_CASE("Gamma percentiles: a sum of M/M/c response times keeps its tail", "[queueing]") {
  // A caller's own response (M/M/4 at 50 %, 5 ms service) plus its callee's (M/M/4 at 60 %,
  // 2 ms): service exponential, wait none with probability 1 - C, else exponential of rate
  // c mu (1 - rho).
  std::mt19937_64 rng(20261205);
  std::exponential_distribution<double> unit;
  std::uniform_real_distribution<double> uniform;
  const auto response = [&](double service, int c, double rho) {
    const double wait_chance = dosim::erlang_c(c, c * rho);
    const double wait_rate = c * (1.0 - rho) / service;
    double x = service * unit(rng);
    if (uniform(rng) < wait_chance) x += unit(rng) / wait_rate;
    return x;
  };
  constexpr int kSamples = 400000;
  std::vector<double> sum(kSamples);
  double mean = 0, square = 0;
  for (double& x : sum) {
    x = response(0.005, 4, 0.5) + response(0.002, 4, 0.6);
    mean += x;
    square += x * x;
  }
  mean /= kSamples;
  const dosim::Moments m{mean, square / kSamples - mean * mean};
  std::sort(sum.begin(), sum.end());
  const auto sample_quantile = [&](double q) { return sum[static_cast<int>(q * kSamples)]; };
  const dosim::GammaPercentiles g = dosim::gamma_percentiles(m);
  CHECK(g.p50 == Approx(sample_quantile(0.50)).epsilon(0.02));
  CHECK(g.p95 == Approx(sample_quantile(0.95)).epsilon(0.02));
  CHECK(g.p99 == Approx(sample_quantile(0.99)).epsilon(0.03));
  // The log-normal of the same moments: p99 more than 4 % high.
  const double lognormal_p99 = dosim::lognormal_quantile(dosim::fit_lognormal(m), dosim::kZ99);
  CHECK(lognormal_p99 > 1.04 * sample_quantile(0.99));
}

TEST_CASE("Gamma percentiles: a sampled score maps through the gamma's own quantile function",
          "[queueing][measurement]") {
  // An exponential of mean 20 ms (c = 1/9): its quantile at a normal score z is
  // -mean ln(1 - Phi(z)). A tick's sampled p95 at a score half a unit below or above 1.645.
  const double mean = 0.02;
  const dosim::GammaPercentiles g = dosim::gamma_percentiles({mean, mean * mean});
  const dosim::SampledPercentiles exact{g.p50, g.p95, g.p99};
  const auto quantile_at = [&](double z) { return -mean * std::log(1.0 - dosim::normal_cdf(z)); };
  for (double shift : {-0.5, -0.2, 0.0, 0.3, 0.5}) {
    dosim::SampleScores z{};
    z.z50 = shift;
    z.z95 = dosim::kZ95 + shift;
    z.z99 = dosim::kZ99 + shift;
    const dosim::SampledPercentiles p = dosim::gamma_percentiles_at(exact, 1.0 / 9.0, z);
    INFO("shift " << shift);
    CHECK(p.p50 == Approx(quantile_at(z.z50)).epsilon(0.02));
    CHECK(p.p95 == Approx(quantile_at(z.z95)).epsilon(0.01));
    CHECK(p.p99 == Approx(quantile_at(z.z99)).epsilon(0.02));
  }
  // The secants through p50, p95 and p99 put a p95 sampled half a unit low 7 % too low.
  dosim::SampleScores low{};
  low.z50 = 0;
  low.z95 = dosim::kZ95 - 0.5;
  low.z99 = dosim::kZ99;
  CHECK(dosim::percentiles_at(exact, low).p95 < 0.95 * quantile_at(low.z95));
}

TEST_CASE("Gamma mixture quantiles: endpoints' sums mixed, against the exact CDFs",
          "[queueing]") {
  // Two exponentials (shape 1): P(X <= x) = 1 - 0.4 e^(-x / 0.04) - 0.6 e^(-x / 0.01).
  const dosim::Moments exponentials[2] = {{0.04, 0.0016}, {0.01, 0.0001}};
  const double weights[2] = {0.4, 0.6};
  const auto exponential_cdf = [&](double x) {
    return 1.0 - 0.4 * std::exp(-x / 0.04) - 0.6 * std::exp(-x / 0.01);
  };
  const dosim::GammaPercentiles e = dosim::gamma_mixture_percentiles(exponentials, weights, 2);
  CHECK(exponential_cdf(e.p50) == Approx(0.50).margin(2e-3));
  CHECK(exponential_cdf(e.p95) == Approx(0.95).margin(2e-3));
  CHECK(exponential_cdf(e.p99) == Approx(0.99).margin(2e-3));
  // Erlangs of shape 2, 5 and 40 with a shape below 1/2 (boost's exact CDF there) and one
  // without spread (a step at its mean).
  const dosim::Moments mixed[4] = {gamma_moments(2, 0.01), gamma_moments(5, 0.004),
                                   gamma_moments(40, 0.001), gamma_moments(0.3, 0.05)};
  const double shares[4] = {0.3, 0.3, 0.3, 0.1};
  const auto mixed_cdf = [&](double x) {
    return 0.3 * erlang_cdf(2, 0.01, x) + 0.3 * erlang_cdf(5, 0.004, x) +
           0.3 * erlang_cdf(40, 0.001, x) + 0.1 * boost::math::gamma_p(0.3, x / 0.05);
  };
  const dosim::GammaPercentiles m = dosim::gamma_mixture_percentiles(mixed, shares, 4);
  CHECK(mixed_cdf(m.p50) == Approx(0.50).margin(1e-3));
  CHECK(mixed_cdf(m.p95) == Approx(0.95).margin(1e-3));
  CHECK(mixed_cdf(m.p99) == Approx(0.99).margin(1e-3));
  const dosim::Moments steps[2] = {{0.01, 0.0}, {0.03, 0.0}};
  const double halves[2] = {0.5, 0.5};
  const dosim::GammaPercentiles stepped = dosim::gamma_mixture_percentiles(steps, halves, 2);
  CHECK(stepped.p95 == Approx(0.03).epsilon(1e-6));
  CHECK(stepped.p99 == Approx(0.03).epsilon(1e-6));
}
