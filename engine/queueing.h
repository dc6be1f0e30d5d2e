// Queueing laws and latency distributions used by the world model. Pure functions.
//
// - Erlang C: probability that an arrival waits in an M/M/c queue.
// - Latency distributions are carried as (mean, variance) while they are composed along the
//   call graph (moments of independent parts add) and matched to a log-normal:
//   sigma^2 = ln(1 + var/mean^2), mu = ln(mean) - sigma^2/2 (for an exponential, CV = 1,
//   p50/p95/p99 within 6 % of the exact values); a service's composed percentiles are the
//   gamma's of the same moments (gamma_percentiles), whose tail is a sum's.
// - A caller with a timeout sees min(L, timeout): its moments and the probability of a
//   timeout follow exactly from the log-normal's partial moments.
#pragma once

#include <cmath>
#include <utility>

namespace dosim {

struct Moments {
  double mean = 0;
  double var = 0;
};

// Erlang C: P(wait > 0) in an M/M/c queue with `servers` servers and offered load
// `offered` = lambda / mu (in servers). REQUIRES: servers >= 1, 0 <= offered < servers.
// O(servers) up to 256 servers, O(1) above (the incomplete gamma function).
double erlang_c(int servers, double offered);

// Standard normal CDF and the quantile points used for percentiles.
double normal_cdf(double z);
// Inverse of normal_cdf for p in (0, 1) (Acklam's rational approximation, relative error
// below 1.2e-9).
double normal_quantile(double p);
inline constexpr double kZ95 = 1.6448536269514722;
inline constexpr double kZ99 = 2.3263478740408408;

struct LogNormal {
  double mu = 0;
  double sigma = 0;
  bool degenerate = true;  // all mass at exp(mu) (mean > 0, var == 0) or at 0 (mean == 0)
  double mean_value = 0;
};

LogNormal fit_lognormal(Moments m);
// Quantile for a standard normal point z (0 for the median).
double lognormal_quantile(const LogNormal& d, double z);
double lognormal_cdf(const LogNormal& d, double x);
// The CDF at x and the density there: {F(x), f(x)} (a degenerate part's step has density 0).
std::pair<double, double> lognormal_cdf_density(const LogNormal& d, double x);

// The x in (low, high) where an increasing CDF reaches q: `cdf_density(x)` gives {F(x),
// F'(x)}, F(low) < q <= F(high). Newton's method from `x` inside the bracket, which every
// evaluation narrows; a step that would leave it, or a point without density (a step of
// the CDF), bisects instead. Stops when a step moves x by at most 1e-10 of it (then within
// rounding of the root) or the bracket is 1e-9 of its top: a handful of evaluations where bisection to the same took 30 to 60.
template <class CdfDensity>
double bracketed_newton(const CdfDensity& cdf_density, double q, double low, double high,
                        double x) {
  if (!(x > low && x < high)) x = 0.5 * (low + high);
  for (int iteration = 0; iteration < 100 && high - low > 1e-9 * high; ++iteration) {
    const auto [cdf, density] = cdf_density(x);
    (cdf < q ? low : high) = x;
    const double next = density > 0 ? x - (cdf - q) / density : -1.0;
    if (next > low && next < high) {
      const bool done = std::abs(next - x) <= 1e-10 * x;  // converging quadratically
      x = next;
      if (done) break;
    } else {
      x = 0.5 * (low + high);
    }
  }
  return x;
}

// Moments of min(L, timeout) and P(L > timeout) for L log-normal.
struct Truncated {
  Moments moments;
  double p_timeout = 0;
};
Truncated truncate_at(const LogNormal& d, double timeout);

// The same for L = F + max(0, D): F log-normal, D normal of mean `delay` and deviation
// `jitter` > 0 (a latency fault's jittered delay, drawn as the request level draws it), by
// 16-point Gauss-Hermite quadrature over the narrower of the two (the integrand is then
// smooth on the nodes' scale). A log-normal fitted to L's moments has another tail: it cut
// 15-19 % too few requests at a timeout above the delay.
Truncated truncate_delayed_at(const LogNormal& fast, double delay, double jitter, double timeout);

// p50, p95 and p99 of the gamma distribution of the moments `m` (shape k = mean^2 / var,
// scale var / mean; all at the mean where var is 0). A sum of independent latencies (a
// service time, a wait, calls) has a lighter tail than the log-normal of its two moments:
// over sums of M/M/c response times the log-normal's p99 is 5-8 % high where the gamma's is
// within 3 % (its p50 and p95 within 1 %). Tabulated over the shape (linear in log2 k, 128
// points an octave, from boost's exact inverse) for k in [1/64, 1024], the Wilson-Hilferty
// cube above (error < 1e-6), the exact inverse below.
struct GammaPercentiles {
  double p50 = 0, p95 = 0, p99 = 0;
};
GammaPercentiles gamma_percentiles(Moments m);

// Third central moments, beside Moments where a sum's tail needs them. The gamma of moments
// `m` has 2 var^2 / mean (0 where the mean is 0): what a part of unknown shape is taken to
// have, so that a sum of gamma-like parts stays near the gamma of its moments.
double gamma_third(const Moments& m);
// `third` where it is known (not NaN), else the gamma's of `m`.
double third_or_gamma(const Moments& m, double third);
// Of X with probability `p` and 0 otherwise, X of moments `m` and third central moment
// `third` (a call made by a share of the requests).
double sometimes_third(double p, const Moments& m, double third);
// Of a mixture, part i of weight weights[i], moments parts[i] and third central moment
// thirds[i] (weights sum to 1).
double mixture_third(const Moments* parts, const double* thirds, const double* weights,
                     int count);

// A gamma shifted to match three moments: shift + Gamma, the gamma of moments `gamma`. A sum
// of a service's time, its wait and its calls is more skewed than the gamma of its two
// moments where one part is (an exponential payment call beside near-constant others): that
// gamma put such a p99 4-6 % low, the shifted one within 1 % (a sum of exponentials of means
// 12, 8, 9, 28, 10, 3 and 3 ms: p99 184 ms, the gamma's 176, the shifted gamma's 183). The
// unshifted gamma of `m` where the sum is no more skewed than it (third at most
// gamma_third(m), or NaN): the shift is never negative.
struct ShiftedGamma {
  double shift = 0;
  Moments gamma;
};
ShiftedGamma shifted_gamma(const Moments& m, double third);
// Its p50, p95 and p99 (gamma_percentiles, moved by the shift).
GammaPercentiles shifted_gamma_percentiles(const Moments& m, double third);
GammaPercentiles shifted_gamma_percentiles(const ShiftedGamma& shifted);

// Quantile of a finite mixture of log-normals (weights sum to 1), by bisection on the CDF;
// part i shifted by shifts[i] where `shifts` is given (a delayed share).
double mixture_quantile(const LogNormal* parts, const double* weights, int count, double q,
                        const double* shifts = nullptr);

// p50, p95 and p99 of a finite mixture of gammas, part i of the moments parts[i] (weights
// sum to 1): each part's CDF the Wilson-Hilferty cube's, Phi(((x / m)^(1/3) - 1 + c) /
// sqrt(c)), c = var / (9 m^2) (CDF error below 1e-3 from shape 1/2), boost's exact gamma_p
// below shape 1/2, a step at the mean where var is 0; each percentile by Newton's method on
// the mixture's CDF from the gamma of the mixture's moments, kept inside a bracket (a step
// out of it bisects), to 1e-10 relative. Several endpoints' requests, each a sum of its own
// time, its wait and its calls: the log-normals of their moments put payments-mad's
// payments' p99 9 % high (docs/modes.md).
// Where `thirds` is given, part i is the gamma shifted to its third central moment
// (shifted_gamma).
GammaPercentiles gamma_mixture_percentiles(const Moments* parts, const double* weights, int count,
                                           const double* thirds = nullptr);

}  // namespace dosim
