#include "queueing.h"

#include <algorithm>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <utility>
#include <vector>

namespace dosim {

double erlang_c(int servers, double offered) {
  // Erlang B, then C = B / (1 - rho (1 - B)). Up to kRecurrenceServers servers by its stable
  // recurrence (exact, O(servers)); above, in O(1) as a Poisson(offered) probability over its
  // CDF, B = P(N = c) / P(N <= c) = gamma_p_derivative(c + 1, a) / gamma_q(c + 1, a), so that
  // a service of a million replicas costs a tick what one of ten does.
  constexpr int kRecurrenceServers = 256;
  double erlang_b = 1.0;
  if (servers <= kRecurrenceServers || offered <= 0) {
    for (int k = 1; k <= servers; ++k) erlang_b = offered * erlang_b / (k + offered * erlang_b);
  } else if (offered < 1.0) {
    // P(N = c) / P(N <= c) <= offered^c / c! < 1 / 257!, far below the smallest double (and
    // boost's gamma_q would overflow computing it for such an offered load).
    erlang_b = 0.0;
  } else {
    const double c1 = static_cast<double>(servers) + 1.0;
    const double cdf = boost::math::gamma_q(c1, offered);
    erlang_b = cdf > 0 ? std::min(1.0, boost::math::gamma_p_derivative(c1, offered) / cdf) : 1.0;
  }
  const double rho = offered / servers;
  return erlang_b / (1.0 - rho * (1.0 - erlang_b));
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z * M_SQRT1_2); }

double normal_quantile(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  if (p <= 0) return -HUGE_VAL;
  if (p >= 1) return HUGE_VAL;
  if (p < kLow || p > 1 - kLow) {
    const double q = std::sqrt(-2 * std::log(p < kLow ? p : 1 - p));
    const double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                     ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < kLow ? x : -x;
  }
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

LogNormal fit_lognormal(Moments m) {
  LogNormal d;
  d.mean_value = m.mean;
  if (m.mean <= 0) return d;
  if (m.var <= 1e-18 * m.mean * m.mean) {
    d.mu = std::log(m.mean);
    return d;
  }
  const double sigma2 = std::log1p(m.var / (m.mean * m.mean));
  d.sigma = std::sqrt(sigma2);
  d.mu = std::log(m.mean) - 0.5 * sigma2;
  d.degenerate = false;
  return d;
}

double lognormal_quantile(const LogNormal& d, double z) {
  if (d.mean_value <= 0) return 0.0;
  if (d.degenerate) return d.mean_value;
  return std::exp(d.mu + d.sigma * z);
}

double lognormal_cdf(const LogNormal& d, double x) {
  if (d.mean_value <= 0) return 1.0;
  if (d.degenerate) return x >= d.mean_value ? 1.0 : 0.0;
  if (x <= 0) return 0.0;
  return normal_cdf((std::log(x) - d.mu) / d.sigma);
}

std::pair<double, double> lognormal_cdf_density(const LogNormal& d, double x) {
  if (d.mean_value <= 0 || d.degenerate || x <= 0) return {lognormal_cdf(d, x), 0.0};
  const double z = (std::log(x) - d.mu) / d.sigma;
  constexpr double kOverRootTwoPi = 0.3989422804014327;
  return {normal_cdf(z), kOverRootTwoPi * std::exp(-0.5 * z * z) / (d.sigma * x)};
}

Truncated truncate_at(const LogNormal& d, double timeout) {
  Truncated t;
  if (d.mean_value <= 0) return t;
  if (d.degenerate) {
    if (d.mean_value > timeout) {
      t.p_timeout = 1.0;
      t.moments = {timeout, 0.0};
    } else {
      t.moments = {d.mean_value, 0.0};
    }
    return t;
  }
  const double log_t = std::log(timeout);
  const double s2 = d.sigma * d.sigma;
  t.p_timeout = 1.0 - normal_cdf((log_t - d.mu) / d.sigma);
  // Partial moments E[L^k; L <= T] = exp(k mu + k^2 s2 / 2) Phi((ln T - mu - k s2) / sigma).
  const double first = std::exp(d.mu + 0.5 * s2) * normal_cdf((log_t - d.mu - s2) / d.sigma);
  const double second =
      std::exp(2.0 * d.mu + 2.0 * s2) * normal_cdf((log_t - d.mu - 2.0 * s2) / d.sigma);
  const double mean = first + timeout * t.p_timeout;
  const double second_moment = second + timeout * timeout * t.p_timeout;
  t.moments = {mean, std::max(0.0, second_moment - mean * mean)};
  return t;
}

namespace {

// Gauss-Hermite nodes and weights (16 points, the positive half; the rule is symmetric),
// the weights over sqrt(pi): E[g(Z)] = sum of w (g(sqrt 2 x) + g(-sqrt 2 x)) for Z standard
// normal.
constexpr double kHermiteNodes[8] = {0.27348104613815244, 0.8229514491446559,
                                     1.3802585391988809,  1.9517879909162539,
                                     2.5462021578474814,  3.176999161979956,
                                     3.869447904860123,   4.688738939305819};
constexpr double kHermiteWeights[8] = {
    0.28656852123801213,    0.15833837275094964,    0.04728475235401403,
    0.007266937601184743,   0.0005259849265739094,  1.5300032162487316e-05,
    1.3094732162868187e-07, 1.4978147231618314e-10};

// Calls f(weight, z) at the rule's 16 points.
template <class F>
void for_each_hermite_point(F f) {
  for (int i = 0; i < 8; ++i) {
    const double z = M_SQRT2 * kHermiteNodes[i];
    f(kHermiteWeights[i], z);
    f(kHermiteWeights[i], -z);
  }
}

double normal_density(double z) { return 0.3989422804014327 * std::exp(-0.5 * z * z); }

}  // namespace

Truncated truncate_delayed_at(const LogNormal& fast, double delay, double jitter,
                              double timeout) {
  Truncated out;
  double second = 0;
  // One value of the variable integrated over: the cut sum's chance and first two moments.
  const auto add = [&](double w, double p, double mean, double second_moment) {
    out.p_timeout += w * p;
    out.moments.mean += w * mean;
    second += w * second_moment;
  };
  const double fast_sd =
      fast.degenerate ? 0.0 : fast.mean_value * std::sqrt(std::expm1(fast.sigma * fast.sigma));
  if (fast_sd <= jitter) {
    // Over F = f: with a = T - f, min(f + max(0, D), T) = f + clamp(D, 0, a), whose moments
    // are the normal's partial moments on [0, a] plus a's on the rest.
    const auto at_fast = [&](double w, double f) {
      const double a = timeout - f;
      if (a <= 0) return add(w, 1.0, timeout, timeout * timeout);
      const double alpha = -delay / jitter, beta = (a - delay) / jitter;
      const double inside = normal_cdf(beta) - normal_cdf(alpha);
      const double above = 1.0 - normal_cdf(beta);
      const double pa = normal_density(alpha), pb = normal_density(beta);
      const double m1 = delay * inside - jitter * (pb - pa) + a * above;
      const double m2 = (delay * delay + jitter * jitter) * inside -
                        jitter * ((a + delay) * pb - delay * pa) + a * a * above;
      add(w, above, f + m1, f * f + 2.0 * f * m1 + m2);
    };
    if (fast.degenerate)
      at_fast(1.0, fast.mean_value);
    else
      for_each_hermite_point([&](double w, double z) { at_fast(w, std::exp(fast.mu + fast.sigma * z)); });
  } else {
    // Over D = x (at least 0): min(x + F, T) = x + min(F, T - x), F's partial moments.
    for_each_hermite_point([&](double w, double z) {
      const double x = std::max(0.0, delay + jitter * z);
      if (timeout <= x) return add(w, 1.0, timeout, timeout * timeout);
      const Truncated cut = truncate_at(fast, timeout - x);
      const double mean = x + cut.moments.mean;
      add(w, cut.p_timeout, mean, cut.moments.var + mean * mean);
    });
  }
  out.moments.var = std::max(0.0, second - out.moments.mean * out.moments.mean);
  return out;
}

namespace {

// Boost's gamma functions computed in double where they run every tick (shapes below the
// table, mixture parts below shape 1/2): its default policy promotes to long double, several
// times slower, for digits the percentiles do not need.
constexpr boost::math::policies::policy<boost::math::policies::promote_double<false>> kInDouble;

// Quantiles over the mean of Gamma(k) at p = 0.5, 0.95, 0.99, ln-tabulated at
// k = 2^(kLeastOctave + i / kPerOctave).
constexpr int kLeastOctave = -6, kOctaves = 16, kPerOctave = 128;
constexpr int kGammaPoints = kOctaves * kPerOctave + 1;
constexpr double kGammaLevels[3] = {0.50, 0.95, 0.99};

struct GammaTable {
  double log_ratio[3][kGammaPoints];
  GammaTable() {
    for (int i = 0; i < kGammaPoints; ++i) {
      const double k = std::exp2(kLeastOctave + static_cast<double>(i) / kPerOctave);
      for (int j = 0; j < 3; ++j)
        log_ratio[j][i] = std::log(boost::math::gamma_p_inv(k, kGammaLevels[j]) / k);
    }
  }
};

const GammaTable& gamma_table() {
  static const GammaTable table;
  return table;
}

}  // namespace

GammaPercentiles gamma_percentiles(Moments m) {
  if (!(m.mean > 0)) return {};
  if (m.var <= 1e-18 * m.mean * m.mean) return {m.mean, m.mean, m.mean};
  const double k = m.mean * m.mean / m.var;
  const double octave = std::log2(k);
  if (octave >= kLeastOctave + kOctaves) {
    // Wilson and Hilferty: (G / k)^(1/3) is normal of mean 1 - c and deviation sqrt(c).
    const double c = 1.0 / (9.0 * k);
    const auto at = [&](double z) {
      const double root = 1.0 - c + z * std::sqrt(c);
      return m.mean * root * root * root;
    };
    return {at(0.0), at(kZ95), at(kZ99)};
  }
  if (octave < kLeastOctave) {
    const double scale = m.var / m.mean;
    return {boost::math::gamma_p_inv(k, kGammaLevels[0], kInDouble) * scale,
            boost::math::gamma_p_inv(k, kGammaLevels[1], kInDouble) * scale,
            boost::math::gamma_p_inv(k, kGammaLevels[2], kInDouble) * scale};
  }
  const GammaTable& table = gamma_table();
  const double x = (octave - kLeastOctave) * kPerOctave;
  const int i = std::min(static_cast<int>(x), kGammaPoints - 2);
  const double f = x - i;
  const auto at = [&](int j) {
    const double* r = table.log_ratio[j];
    return m.mean * std::exp(r[i] + f * (r[i + 1] - r[i]));
  };
  return {at(0), at(1), at(2)};
}

double gamma_third(const Moments& m) { return m.mean > 0 ? 2.0 * m.var * m.var / m.mean : 0.0; }

double third_or_gamma(const Moments& m, double third) {
  return std::isnan(third) ? gamma_third(m) : third;
}

double sometimes_third(double p, const Moments& m, double third) {
  if (p == 1.0) return third;  // every request (the common case, on every edge each tick)
  // Raw moments of X, each times p, back to the central third.
  const double mean = p * m.mean;
  const double second = p * (m.var + m.mean * m.mean);
  const double raw_third = p * (third + 3.0 * m.mean * m.var + m.mean * m.mean * m.mean);
  return raw_third - 3.0 * mean * second + 2.0 * mean * mean * mean;
}

double mixture_third(const Moments* parts, const double* thirds, const double* weights,
                     int count) {
  double mean = 0;
  for (int i = 0; i < count; ++i) mean += weights[i] * parts[i].mean;
  double third = 0;
  for (int i = 0; i < count; ++i) {
    const double d = parts[i].mean - mean;
    third += weights[i] * (thirds[i] + 3.0 * parts[i].var * d + d * d * d);
  }
  return third;
}

ShiftedGamma shifted_gamma(const Moments& m, double third) {
  // Shape 4 / skewness^2, scale third / (2 var): the shift mean - shape x scale = mean -
  // 2 var^2 / third is positive where third exceeds the gamma's own.
  if (!(m.mean > 0) || !(m.var > 0) || std::isnan(third) || !(third > gamma_third(m)))
    return {0.0, m};
  const double gamma_mean = 2.0 * m.var * m.var / third;
  return {m.mean - gamma_mean, {gamma_mean, m.var}};
}

GammaPercentiles shifted_gamma_percentiles(const Moments& m, double third) {
  return shifted_gamma_percentiles(shifted_gamma(m, third));
}

GammaPercentiles shifted_gamma_percentiles(const ShiftedGamma& g) {
  GammaPercentiles p = gamma_percentiles(g.gamma);
  p.p50 += g.shift;
  p.p95 += g.shift;
  p.p99 += g.shift;
  return p;
}

double mixture_quantile(const LogNormal* parts, const double* weights, int count, double q,
                        const double* shifts) {
  const auto shift = [&](int i) { return shifts != nullptr ? shifts[i] : 0.0; };
  // Below every part's q-quantile no part reaches q, above all of them each does: the
  // mixture's is between the least and the most of them, and near their weighted mean.
  const double z = normal_quantile(q);
  double low = HUGE_VAL, high = 0.0, start = 0.0, weight = 0.0;
  for (int i = 0; i < count; ++i) {
    if (!(weights[i] > 0)) continue;
    // A part of no latency is complete everywhere (lognormal_cdf): the bracket starts at 0.
    const double at = parts[i].mean_value > 0 ? shift(i) + lognormal_quantile(parts[i], z) : 0.0;
    low = std::min(low, at);
    high = std::max(high, at);
    start += weights[i] * at;
    weight += weights[i];
  }
  if (!(high > 0)) return 0.0;
  if (!(high > low)) return high;
  const auto cdf_density = [&](double x) {
    double cdf = 0, density = 0;
    for (int i = 0; i < count; ++i) {
      if (!(weights[i] > 0)) continue;
      const auto [c, d] = lognormal_cdf_density(parts[i], x - shift(i));
      cdf += weights[i] * c;
      density += weights[i] * d;
    }
    return std::pair{cdf, density};
  };
  return bracketed_newton(cdf_density, q, low, high, start / weight);
}

namespace {

// P(X <= x) and its density for X the gamma of moments `m` (gamma_mixture_percentiles'
// parts): {cdf, density}.
std::pair<double, double> gamma_cdf_density(const Moments& m, double x) {
  if (!(m.mean > 0)) return {1.0, 0.0};
  if (!(m.var > 0)) return {x >= m.mean ? 1.0 : 0.0, 0.0};
  if (x <= 0) return {0.0, 0.0};
  const double c = m.var / (9.0 * m.mean * m.mean);
  if (c > 2.0 / 9.0) {  // shape below 1/2: Wilson-Hilferty's cube is off there
    const double shape = m.mean * m.mean / m.var, scale = m.var / m.mean;
    return {boost::math::gamma_p(shape, x / scale, kInDouble),
            boost::math::gamma_p_derivative(shape, x / scale, kInDouble) / scale};
  }
  const double root = std::cbrt(x / m.mean), spread = std::sqrt(c);
  const double z = (root - 1.0 + c) / spread;
  constexpr double kOverRootTwoPi = 0.3989422804014327;
  return {normal_cdf(z),
          kOverRootTwoPi * std::exp(-0.5 * z * z) / (3.0 * spread * m.mean * root * root)};
}

}  // namespace

GammaPercentiles gamma_mixture_percentiles(const Moments* parts, const double* weights, int count,
                                           const double* thirds) {
  Moments all;
  double second = 0, most = 0;
  // Each part's gamma and shift (none without thirds).
  thread_local std::vector<ShiftedGamma> shifted;
  shifted.resize(static_cast<std::size_t>(std::max(0, count)));
  for (int i = 0; i < count; ++i) {
    shifted[i] = thirds != nullptr ? shifted_gamma(parts[i], thirds[i]) : ShiftedGamma{0.0, parts[i]};
    if (!(weights[i] > 0) || !(parts[i].mean > 0)) continue;
    all.mean += weights[i] * parts[i].mean;
    second += weights[i] * (parts[i].var + parts[i].mean * parts[i].mean);
    // Far above any part's percentiles: its mean plus 40 deviations.
    most = std::max(most, parts[i].mean + 40.0 * std::sqrt(std::max(0.0, parts[i].var)));
  }
  if (!(most > 0)) return {};
  all.var = std::max(0.0, second - all.mean * all.mean);
  // Newton starts from the gamma of the mixture's moments (shifted to its third where the
  // parts have theirs: nearer, a step or two fewer).
  const GammaPercentiles start =
      thirds != nullptr ? shifted_gamma_percentiles(all, mixture_third(parts, thirds, weights, count))
                        : gamma_percentiles(all);
  const auto at = [&](double q, double x) {
    double low = 0.0, high = most;
    if (!(x > low && x < high)) x = 0.5 * (low + high);
    for (int iteration = 0; iteration < 100; ++iteration) {
      double cdf = 0, density = 0;
      for (int i = 0; i < count; ++i) {
        if (!(weights[i] > 0)) continue;
        const auto [f, d] = gamma_cdf_density(shifted[i].gamma, x - shifted[i].shift);
        cdf += weights[i] * f;
        density += weights[i] * d;
      }
      (cdf < q ? low : high) = x;
      double next = density > 0 ? x - (cdf - q) / density : -1.0;
      if (!(next > low && next < high)) next = 0.5 * (low + high);
      const bool done = std::abs(next - x) <= 1e-10 * x || high - low <= 1e-10 * high;
      x = next;
      if (done) break;
    }
    return x;
  };
  return {at(0.50, start.p50), at(0.95, start.p95), at(0.99, start.p99)};
}

}  // namespace dosim
