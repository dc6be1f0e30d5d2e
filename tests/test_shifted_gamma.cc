// Third central moments and the gamma shifted to match them (engine/queueing.h,
// shifted_gamma; engine/queue_latency.h, third_of), checked against closed forms: the M/M/1
// response time (an exponential), an exponential plus a constant, Bernoulli shares, a sum of
// exponentials of distinct means (the hypoexponential's survival), and a mixture of
// shifted exponentials.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "engine/measurement.h"
#include "engine/queue_latency.h"
#include "engine/queueing.h"

namespace {

// P(S > x) for S a sum of exponentials of distinct means: sum over i of e^(-x / m_i) times
// the product over j != i of m_i / (m_i - m_j).
double hypoexponential_survival(const std::vector<double>& means, double x) {
  double survival = 0;
  for (std::size_t i = 0; i < means.size(); ++i) {
    double weight = 1.0;
    for (std::size_t j = 0; j < means.size(); ++j)
      if (j != i) weight *= means[i] / (means[i] - means[j]);
    survival += weight * std::exp(-x / means[i]);
  }
  return survival;
}

}  // namespace

TEST_CASE("Third moments: an M/M/1 response time is an exponential's, 2 mean^3",
          "[queueing]") {
  // Service 10 ms at utilisation 0.8: the response time is exponential of mean 50 ms; the
  // wait has mean 40 ms and second moment 2 rho (s / (1 - rho))^2 = 0.004 s^2.
  const double s = 0.010, rho = 0.8, response = s / (1.0 - rho);
  const dosim::Moments wait{rho * response, 2.0 * rho * response * response -
                                                rho * rho * response * response};
  const dosim::QueueLatency shape = dosim::queue_latency(s, wait);
  CHECK(dosim::third_of(shape) == Approx(2.0 * response * response * response).epsilon(1e-12));
  // A wait that holds its level (less variable than an exponential): shift + Exp(tail), so
  // the third is the two exponentials' alone.
  const dosim::QueueLatency held = dosim::queue_latency(s, {0.030, 0.0001});
  CHECK(held.shift > 0);
  CHECK(dosim::third_of(held) == Approx(2.0 * s * s * s + 2.0 * std::pow(0.01, 3)).epsilon(1e-12));
}

TEST_CASE("Third moments: Bernoulli shares and mixtures, by hand", "[queueing]") {
  // A constant a made with chance p: p (1 - p) (1 - 2 p) a^3.
  const double a = 0.02;
  for (double p : {0.1, 0.3, 0.5, 0.8}) {
    INFO("p = " << p);
    CHECK(dosim::sometimes_third(p, {a, 0.0}, 0.0) ==
          Approx(p * (1 - p) * (1 - 2 * p) * a * a * a).margin(1e-18));
    const dosim::Moments parts[2] = {{0.0, 0.0}, {a, 0.0}};
    const double thirds[2] = {0.0, 0.0}, weights[2] = {1.0 - p, p};
    CHECK(dosim::mixture_third(parts, thirds, weights, 2) ==
          Approx(p * (1 - p) * (1 - 2 * p) * a * a * a).margin(1e-18));
  }
  // Always made: X's own third.
  CHECK(dosim::sometimes_third(1.0, {0.01, 1e-4}, 2e-6) == Approx(2e-6).epsilon(1e-9));
  // The gamma's: 2 var^2 / mean; an exponential's is 2 mean^3.
  CHECK(dosim::gamma_third({0.01, 1e-4}) == Approx(2e-6).epsilon(1e-12));
  CHECK(dosim::gamma_third({0.0, 0.0}) == 0.0);
  CHECK(dosim::third_or_gamma({0.01, 1e-4}, std::nan("")) == Approx(2e-6).epsilon(1e-12));
  CHECK(dosim::third_or_gamma({0.01, 1e-4}, 5e-6) == 5e-6);
}

TEST_CASE("Shifted gamma: an exponential plus a constant, exactly", "[queueing]") {
  // Exp(1 ms) + 5 ms: mean 6 ms, variance 1 ms^2, third 2 ms^3.
  const dosim::Moments m{0.006, 1e-6};
  const dosim::ShiftedGamma g = dosim::shifted_gamma(m, 2e-9);
  CHECK(g.shift == Approx(0.005).epsilon(1e-9));
  CHECK(g.gamma.mean == Approx(0.001).epsilon(1e-9));
  CHECK(g.gamma.var == Approx(1e-6).epsilon(1e-12));
  const dosim::GammaPercentiles p = dosim::shifted_gamma_percentiles(m, 2e-9);
  CHECK(p.p50 == Approx(0.005 + 0.001 * std::log(2.0)).epsilon(1e-4));
  CHECK(p.p95 == Approx(0.005 + 0.001 * std::log(20.0)).epsilon(1e-4));
  CHECK(p.p99 == Approx(0.005 + 0.001 * std::log(100.0)).epsilon(1e-4));
  // No more skewed than the gamma of its moments (or unknown): that gamma, unshifted.
  for (double third : {std::nan(""), 0.0, dosim::gamma_third(m), -1e-9}) {
    const dosim::ShiftedGamma plain = dosim::shifted_gamma(m, third);
    CHECK(plain.shift == 0.0);
    CHECK(plain.gamma.mean == m.mean);
    CHECK(plain.gamma.var == m.var);
    const dosim::GammaPercentiles q = dosim::shifted_gamma_percentiles(m, third);
    const dosim::GammaPercentiles r = dosim::gamma_percentiles(m);
    CHECK(q.p99 == r.p99);
  }
}

TEST_CASE("Shifted gamma: a sum of exponentials keeps the tail that one of them gives it",
          "[queueing]") {
  // An order service's own time and its calls, one of them (28 ms) most of the spread.
  const std::vector<double> means{0.012, 0.008, 0.009, 0.028, 0.010, 0.003, 0.0035};
  dosim::Moments sum;
  double third = 0;
  for (double m : means) {
    sum.mean += m;
    sum.var += m * m;
    third += 2.0 * m * m * m;
  }
  const dosim::GammaPercentiles shifted = dosim::shifted_gamma_percentiles(sum, third);
  const dosim::GammaPercentiles plain = dosim::gamma_percentiles(sum);
  // Exact survival at the returned points.
  CHECK(hypoexponential_survival(means, shifted.p50) == Approx(0.50).margin(0.01));
  CHECK(hypoexponential_survival(means, shifted.p95) == Approx(0.05).margin(0.002));
  CHECK(hypoexponential_survival(means, shifted.p99) == Approx(0.01).margin(0.0006));
  // The gamma of two moments puts p99 where more than 1.3 % of the requests lie above.
  CHECK(hypoexponential_survival(means, plain.p99) > 0.013);
}

TEST_CASE("Gamma mixture quantiles: parts shifted to their third moments", "[queueing]") {
  // Half Exp(1 ms) + 4 ms, half Exp(3 ms): each part's moments and third (2 m^3).
  const dosim::Moments parts[2] = {{0.005, 1e-6}, {0.003, 9e-6}};
  const double thirds[2] = {2e-9, 2.0 * 0.003 * 0.003 * 0.003};
  const double weights[2] = {0.5, 0.5};
  const auto cdf = [](double x) {
    const double shifted = x > 0.004 ? 1.0 - std::exp(-(x - 0.004) / 0.001) : 0.0;
    return 0.5 * shifted + 0.5 * (1.0 - std::exp(-x / 0.003));
  };
  const dosim::GammaPercentiles m = dosim::gamma_mixture_percentiles(parts, weights, 2, thirds);
  CHECK(cdf(m.p50) == Approx(0.50).margin(2e-3));
  CHECK(cdf(m.p95) == Approx(0.95).margin(2e-3));
  CHECK(cdf(m.p99) == Approx(0.99).margin(2e-3));
  // Without the thirds the first part is a gamma of shape 25 about 5 ms: its tail too short,
  // p95 where a further 1 % of the requests lie above.
  const dosim::GammaPercentiles plain = dosim::gamma_mixture_percentiles(parts, weights, 2);
  CHECK(std::abs(cdf(plain.p95) - 0.95) > 0.008);
}

TEST_CASE("Measured percentiles of a very skewed gamma stay by the exact ones", "[queueing]") {
  // A tick whose wait is rare and long (2.6 % of requests wait 65 ms) gives a shifted gamma
  // of shape 0.024 (c = 4.6): Wilson and Hilferty's root at p95's own score is about 0,
  // and a p95 sampled at score 3 read 900 s for an exact 20 ms before the secants took over.
  const dosim::SampledPercentiles exact{0.006, 0.020, 0.080};
  dosim::SampleScores z{};
  z.z50 = 0.5;
  z.z95 = 3.0;
  z.z99 = 3.2;
  const dosim::SampledPercentiles secants = dosim::percentiles_at(exact, z);
  CHECK(secants.p95 < 5.0 * exact.p99);
  for (double c : {2.0 / 9.0 + 1e-9, 1.0, 4.6, 50.0}) {
    INFO("c = " << c);
    const dosim::SampledPercentiles p = dosim::gamma_percentiles_at(exact, c, z, 0.005);
    CHECK(p.p50 == secants.p50);
    CHECK(p.p95 == secants.p95);
    CHECK(p.p99 == secants.p99);
  }
  // At shape 1/2 and above, the cube: near the secants' there.
  const dosim::SampledPercentiles cube = dosim::gamma_percentiles_at(exact, 2.0 / 9.0, z, 0.005);
  CHECK(cube.p95 < 5.0 * exact.p99);
  CHECK(cube.p95 > exact.p95);
}
