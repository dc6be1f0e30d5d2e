#include "measurement.h"

#include <algorithm>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "queueing.h"

namespace dosim {
namespace {

// Past this many expected events a count is drawn from its normal approximation.
constexpr double kNormalApproximationFrom = 30;
// Samples up to this size are drawn and sorted.
constexpr std::uint64_t kSortedSampleLimit = 16;
// Up to this many spacings above the 95th percentile are drawn one by one (exact).
constexpr std::uint64_t kExactTop = 8;

// The normal quantile tabulated at i / kTableSize; below kExactBins / kTableSize (and above
// one minus it) the formula is used, where linear interpolation would err by more than 2e-3.
constexpr int kTableSize = 1024;
constexpr int kExactBins = 4;

struct QuantileTable {
  double z[kTableSize + 1];
  QuantileTable() {
    for (int i = 0; i <= kTableSize; ++i)
      z[i] = i == 0 || i == kTableSize ? 0.0 : normal_quantile(double(i) / kTableSize);
  }
};
const QuantileTable kTable;

// Wilson and Hilferty (1931): Gamma(a)^(1/3) is close to normal, mean (1 - c) a^(1/3) and
// deviation sqrt(c) a^(1/3), c = 1 / (9a). Tabulated for the shapes up to kTabulatedShapes.
constexpr std::uint64_t kTabulatedShapes = 256;
struct WilsonHilferty {
  double centre[kTabulatedShapes + 1], spread[kTabulatedShapes + 1];
  WilsonHilferty() {
    for (std::uint64_t a = 1; a <= kTabulatedShapes; ++a) {
      const double c = 1.0 / (9.0 * static_cast<double>(a));
      centre[a] = 1.0 - c;
      spread[a] = std::sqrt(c);
    }
  }
};
const WilsonHilferty kWilsonHilferty;

// 1 / k for the Poisson inversion's terms: a multiply in its loop where a division would
// be the chain's longest step.
struct Reciprocals {
  double of[static_cast<int>(kNormalApproximationFrom) + 64];
  Reciprocals() {
    of[0] = 0;
    for (std::size_t k = 1; k < std::size(of); ++k) of[k] = 1.0 / static_cast<double>(k);
  }
};
const Reciprocals kReciprocals;

// Whether a count of dispersion above 1 is drawn batch by batch (below the normal
// approximation), taking sample_batched's `extra` word.
bool drawn_in_batches(double mean, double dispersion) {
  return dispersion > 1.0 + 1e-9 && mean > 0 && mean / dispersion < kNormalApproximationFrom;
}

std::uint64_t rounded_count(double value, double most) {
  return static_cast<std::uint64_t>(std::clamp(std::floor(value + 0.5), 0.0, most));
}

// Gamma(shape) for an integer shape >= 1 from one word: exact for shape 1 (an exponential),
// Wilson-Hilferty up to kTabulatedShapes, normal above (skewness 2 / sqrt(shape) < 1/8).
double gamma_variate(std::uint32_t word, std::uint64_t shape) {
  if (shape == 1) return -std::log(word_uniform(word));
  const double a = static_cast<double>(shape);
  if (shape > kTabulatedShapes) return std::max(0.0, a + std::sqrt(a) * word_normal(word));
  const double root =
      kWilsonHilferty.centre[shape] + word_normal(word) * kWilsonHilferty.spread[shape];
  return root <= 0 ? 0.0 : a * root * root * root;
}

// Nearest rank of percentile p among n values: 1-based.
std::uint64_t rank_of(double p, std::uint64_t n) {
  const auto r = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(n)));
  return std::clamp<std::uint64_t>(r, 1, n);
}

double clamped_quantile(double u) {
  constexpr double kLeast = 0x1.0p-40, kMost = 1.0 - 0x1.0p-40;
  return tabulated_normal_quantile(std::clamp(u, kLeast, kMost));
}

}  // namespace

double tabulated_normal_quantile(double u) {
  const double x = u * kTableSize;
  const int i = static_cast<int>(x);
  if (i < kExactBins || i >= kTableSize - kExactBins) return normal_quantile(u);
  return kTable.z[i] + (x - i) * (kTable.z[i + 1] - kTable.z[i]);
}

double word_normal(std::uint32_t word) { return tabulated_normal_quantile(word_uniform(word)); }

namespace {

// 1 / k for the Poisson inversion's terms, up to the last tabulated k.
constexpr std::uint64_t kTabulated = std::size(kReciprocals.of) - 1;

// The inversion's search past the table (a chance far below a word's resolution below
// kNormalApproximationFrom): divisions, from term k = `k`, probability `p`, sum `cumulative`.
std::uint64_t poisson_search_on(double u, double mean, std::uint64_t k, double p,
                                double cumulative) {
  while (u > cumulative && k < 1000) {
    ++k;
    p *= mean / static_cast<double>(k);
    cumulative += p;
  }
  return k;
}

// The inversion's search through the table, from term k = `k`: on return u <= cumulative,
// or k = kTabulated.
void poisson_table_search(double u, double mean, std::uint64_t& k, double& p, double& cumulative) {
  while (u > cumulative && k < kTabulated) {
    ++k;
    p *= mean * kReciprocals.of[k];
    cumulative += p;
  }
}

// Whether sample_poisson's count of mean `mean` from uniform `u` needs the inversion's
// search; else it is `known`.
bool poisson_needs_search(double u, double mean, std::uint64_t& known) {
  known = 0;
  if (!(mean > 0)) return false;
  if (mean >= kNormalApproximationFrom) {
    known = rounded_count(mean + std::sqrt(mean) * tabulated_normal_quantile(u), 1e18);
    return false;
  }
  return u > 1.0 - mean;  // else 0: P(0) >= 1 - mean
}

}  // namespace

std::uint64_t sample_poisson(std::uint32_t word, double mean) {
  // Inversion: the first k whose cumulative probability exceeds u.
  const double u = word_uniform(word);
  std::uint64_t k = 0;
  if (!poisson_needs_search(u, mean, k)) return k;
  double p = std::exp(-mean), cumulative = p;
  poisson_table_search(u, mean, k, p, cumulative);
  return poisson_search_on(u, mean, k, p, cumulative);
}

namespace {

// Lanes of sample_poissons' searches: four SSE2 vectors keep the multiplies' and adds'
// pipelines full (a step's chain is a multiply and a select, ~6 cycles, for all lanes).
constexpr int kPoissonLanes = 8;

// Steps 1 to kTabulated of kPoissonLanes inversions side by side (sample_poisson's first loop: the
// same multiplies and adds of each lane, so the same bits), from term 0 (p the chance of 0,
// cumulative = p, k = 0). A lane whose u is below its sum stops and keeps its values.
void search_lanes(const double (&u)[kPoissonLanes], const double (&mean)[kPoissonLanes],
                  double (&p)[kPoissonLanes], double (&cumulative)[kPoissonLanes],
                  std::uint64_t (&k)[kPoissonLanes]) {
#if defined(__SSE2__)
  constexpr int kVectors = kPoissonLanes / 2;
  __m128d uv[kVectors], mv[kVectors], pv[kVectors], cv[kVectors], kv[kVectors];
  for (int v = 0; v < kVectors; ++v) {
    uv[v] = _mm_loadu_pd(u + 2 * v);
    mv[v] = _mm_loadu_pd(mean + 2 * v);
    pv[v] = _mm_loadu_pd(p + 2 * v);
    cv[v] = _mm_loadu_pd(cumulative + 2 * v);
    kv[v] = _mm_setzero_pd();
  }
  const __m128d one = _mm_set1_pd(1.0);
  for (std::uint64_t step = 1; step <= kTabulated; ++step) {
    const __m128d reciprocal = _mm_set1_pd(kReciprocals.of[step]);
    __m128d searching = _mm_setzero_pd();
    for (int v = 0; v < kVectors; ++v) {
      const __m128d on = _mm_cmpgt_pd(uv[v], cv[v]);
      const __m128d next = _mm_mul_pd(pv[v], _mm_mul_pd(mv[v], reciprocal));
      pv[v] = _mm_or_pd(_mm_and_pd(on, next), _mm_andnot_pd(on, pv[v]));
      cv[v] = _mm_or_pd(_mm_and_pd(on, _mm_add_pd(cv[v], next)), _mm_andnot_pd(on, cv[v]));
      kv[v] = _mm_add_pd(kv[v], _mm_and_pd(on, one));
      searching = _mm_or_pd(searching, on);
    }
    if (_mm_movemask_pd(searching) == 0) break;
  }
  double steps[kPoissonLanes];
  for (int v = 0; v < kVectors; ++v) {
    _mm_storeu_pd(p + 2 * v, pv[v]);
    _mm_storeu_pd(cumulative + 2 * v, cv[v]);
    _mm_storeu_pd(steps + 2 * v, kv[v]);
  }
  for (int l = 0; l < kPoissonLanes; ++l) k[l] = static_cast<std::uint64_t>(steps[l]);
#else
  for (int l = 0; l < kPoissonLanes; ++l) {
    k[l] = 0;
    poisson_table_search(u[l], mean[l], k[l], p[l], cumulative[l]);
  }
#endif
}

}  // namespace

void sample_poissons(const std::uint32_t* words, const double* means, std::uint64_t* counts,
                     std::size_t size) {
  // The searches of kLanes series side by side: each lane's terms and sums are sample_poisson's,
  // the same operations in the same order (the same bits), but the lanes' chains of multiplies
  // and adds overlap and one loop exit is mispredicted for kLanes series, not one each.
  constexpr std::size_t kLanes = kPoissonLanes;
  std::size_t lane_of[kLanes];
  double u[kLanes], mean[kLanes], p[kLanes], cumulative[kLanes];
  std::uint64_t k[kLanes];
  std::size_t lanes = 0;
  const auto search = [&] {
    for (std::size_t l = 0; l < lanes; ++l) {
      p[l] = std::exp(-mean[l]);
      cumulative[l] = p[l];
      k[l] = 0;
    }
    for (std::size_t l = lanes; l < kLanes; ++l) {  // idle lanes never search
      u[l] = -1.0;
      mean[l] = p[l] = cumulative[l] = 0.0;
    }
    search_lanes(u, mean, p, cumulative, k);
    for (std::size_t l = 0; l < lanes; ++l)
      counts[lane_of[l]] = poisson_search_on(u[l], mean[l], k[l], p[l], cumulative[l]);
    lanes = 0;
  };
  for (std::size_t i = 0; i < size; ++i) {
    if (means[i] < 0) continue;  // not a Poisson count
    const double v = word_uniform(words[i]);
    if (!poisson_needs_search(v, means[i], counts[i])) continue;
    lane_of[lanes] = i;
    u[lanes] = v;
    mean[lanes] = means[i];
    if (++lanes == kLanes) search();
  }
  if (lanes > 0) search();
}

namespace {

// The mean of the Poisson count behind sample_batched (of batches, or of requests at a
// dispersion of 1), or -1 where it draws none (sample_unbatched's counts).
double batched_poisson_mean(double mean, double dispersion) {
  if (std::abs(dispersion - 1.0) <= 1e-9) return mean;  // within rounding of 1: Poisson
  return drawn_in_batches(mean, dispersion) ? mean / dispersion : -1.0;
}

// `drawn` batches as requests: floor(dispersion) each, one more each with the fraction's
// chance (from `extra`); at a dispersion of 1, the requests themselves.
std::uint64_t in_batches(std::uint64_t drawn, std::uint32_t extra, double dispersion) {
  if (std::abs(dispersion - 1.0) <= 1e-9) return drawn;
  const double whole = std::floor(dispersion);
  const std::uint64_t more = drawn > 0 ? sample_binomial(extra, drawn, dispersion - whole) : 0;
  return drawn * static_cast<std::uint64_t>(whole) + more;
}

// sample_batched's counts that are no Poisson draw: paced (dispersion below 1), or past the
// normal approximation.
std::uint64_t sample_unbatched(std::uint32_t word, double mean, double dispersion) {
  if (!(mean > 0)) return 0;
  if (dispersion < 1.0) {  // steadier than Poisson: a binomial of that variance or more
    const double spread = std::max(0.0, dispersion);
    if (mean >= kNormalApproximationFrom)
      return rounded_count(mean + std::sqrt(spread * mean) * word_normal(word), 1e18);
    const double trials = std::ceil(mean / (1.0 - spread));
    return sample_binomial(word, static_cast<std::uint64_t>(trials), mean / trials);
  }
  return rounded_count(mean + std::sqrt(dispersion * mean) * word_normal(word), 1e18);
}

}  // namespace

std::uint64_t sample_batched(std::uint32_t word, std::uint32_t extra, double mean,
                             double dispersion) {
  const double poisson = batched_poisson_mean(mean, dispersion);
  if (poisson < 0) return sample_unbatched(word, mean, dispersion);
  return in_batches(sample_poisson(word, poisson), extra, dispersion);
}

std::uint64_t sample_binomial(std::uint32_t word, std::uint64_t trials, double p) {
  p = std::clamp(p, 0.0, 1.0);
  if (trials == 0 || p == 0) return 0;
  if (p == 1) return trials;
  const bool flipped = p > 0.5;  // draw the rarer outcome
  const double q = flipped ? 1.0 - p : p;
  const double n = static_cast<double>(trials);
  const double mean = n * q;
  std::uint64_t k = 0;
  if (mean >= kNormalApproximationFrom) {
    k = rounded_count(mean + std::sqrt(mean * (1.0 - q)) * word_normal(word), n);
  } else {
    const double u = word_uniform(word);
    if (u <= 1.0 - mean) return flipped ? trials : 0;  // P(0) >= 1 - mean
    double pk = std::exp(n * std::log1p(-q)), cumulative = pk;
    const double odds = q / (1.0 - q);
    while (u > cumulative && k < trials) {
      pk *= static_cast<double>(trials - k) / static_cast<double>(k + 1) * odds;
      ++k;
      cumulative += pk;
      if (pk < 1e-300 && static_cast<double>(k) > mean) break;  // the rest is negligible
    }
  }
  return flipped ? trials - k : k;
}

SampleScores sample_scores(std::uint64_t n, std::uint32_t w50, std::uint32_t w99, std::uint32_t w95,
                           MeasurementDraws& more) {
  const double size = static_cast<double>(n);
  const std::uint64_t r50 = rank_of(0.50, n), r95 = rank_of(0.95, n), r99 = rank_of(0.99, n);
  // The median: U_(r) has mean r / (n + 1) and variance r (n + 1 - r) / ((n + 1)^2 (n + 2));
  // its score is that over the normal density at 0.
  constexpr double kOverDensity = 2.5066282746310002;  // 1 / phi(0)
  const double a = static_cast<double>(r50), b = size + 1 - a;
  const double u50 = a / (size + 1) + std::sqrt(a * b / (size + 2)) / (size + 1) * word_normal(w50);
  const double z50 = kOverDensity * (u50 - 0.5);
  // The top: 1 - U_(r) = (the k = n + 1 - r spacings above) / (all n + 1 of them). Up to
  // kExactTop spacings are exponentials drawn one by one, more a Wilson-Hilferty gamma; the
  // r95 below the 95th percentile are one gamma.
  const std::uint64_t k99 = n + 1 - r99, k95 = n + 1 - r95;
  const auto exact_sum = [&](std::uint64_t count) {
    double product = 1;
    for (std::uint64_t j = 0; j < count; ++j) product *= word_uniform(more.next());
    return -std::log(product);
  };
  const double top99 = k99 <= kExactTop ? exact_sum(k99) : gamma_variate(w99, k99);
  const double top95 = top99 + (k95 == k99         ? 0.0
                                : k95 <= kExactTop ? exact_sum(k95 - k99)
                                                   : gamma_variate(w95, k95 - k99));
  const double below = gamma_variate(k99 <= kExactTop ? w99 : more.next(), r95);
  const double total = top95 + below;
  const double t99 = top99 / total, t95 = top95 / total;
  const double z99 = -clamped_quantile(t99);
  const double z95 = -clamped_quantile(t95);
  return {std::min(z50, z95), z95, z99, std::max(1.0 - u50, t95), t95, t99};
}

SampleScores sample_scores(MeasurementDraws& draws, std::uint64_t n) {
  if (n > kSortedSampleLimit) {
    const std::uint32_t w50 = draws.next(), w99 = draws.next(), w95 = draws.next();
    return sample_scores(n, w50, w99, w95, draws);
  }
  double values[kSortedSampleLimit];
  for (std::uint64_t j = 0; j < n; ++j) values[j] = word_uniform(draws.next());
  std::sort(values, values + n);
  const double u50 = values[rank_of(0.50, n) - 1], u95 = values[rank_of(0.95, n) - 1],
               u99 = values[rank_of(0.99, n) - 1];
  return {clamped_quantile(u50),
          clamped_quantile(u95),
          clamped_quantile(u99),
          1.0 - u50,
          1.0 - u95,
          1.0 - u99};
}

SampledPercentiles percentiles_at(const SampledPercentiles& exact, const SampleScores& z) {
  if (!(exact.p50 > 0) || exact.p50 == exact.p99) return exact;
  const double low_slope = std::log(exact.p95 / exact.p50) * (1.0 / kZ95);
  const double high_slope = std::log(exact.p99 / exact.p95) * (1.0 / (kZ99 - kZ95));
  const auto at = [&](double score) {
    return score <= kZ95 ? exact.p95 * std::exp(low_slope * (score - kZ95))
                         : exact.p95 * std::exp(high_slope * (score - kZ95));
  };
  return {at(z.z50), at(z.z95), at(z.z99)};
}

namespace {
// The three in order: each is mapped from its own exact value, and where those are not one
// distribution's (a mixture's p99 beside a single fit's spread) two close scores (or one, the
// same order statistic of a small sample) could map out of order; a sample's are never.
SampledPercentiles ordered(double a, double b, double c) {
  if (a > b) std::swap(a, b);
  if (b > c) std::swap(b, c);
  if (a > b) std::swap(a, b);
  return {a, b, c};
}
}  // namespace

SampledPercentiles lognormal_percentiles_at(const SampledPercentiles& exact, double sigma,
                                            const SampleScores& z) {
  return ordered(exact.p50 * std::exp(sigma * z.z50), exact.p95 * std::exp(sigma * (z.z95 - kZ95)),
                 exact.p99 * std::exp(sigma * (z.z99 - kZ99)));
}

SampledPercentiles capped_lognormal_percentiles_at(double mu, double sigma, double atom, double cap,
                                                   const SampleScores& z) {
  const auto at = [&](double score, double above) {
    if (atom > 0) {
      if (above <= atom) return cap;
      score = clamped_quantile((1.0 - above) / (1.0 - atom));
    }
    return std::min(cap, std::exp(mu + sigma * score));
  };
  return {at(z.z50, z.t50), at(z.z95, z.t95), at(z.z99, z.t99)};
}

SampledPercentiles gamma_percentiles_at(const SampledPercentiles& exact, double c,
                                        const SampleScores& z, double shift) {
  // Below shape 1/2 Wilson and Hilferty's cube is no gamma's (its root at p50 or p95 can
  // reach 0, and a score above it multiplied p95 ten-thousandfold): the secants.
  if (c > 2.0 / 9.0) return percentiles_at(exact, z);
  // The shift lies below every percentile of the distribution it shifts; percentiles cut
  // lower since (an edge's at its timeout, below its callee's shift) keep none of it, else a
  // score below the centre mapped them below 0.
  shift = std::clamp(shift, 0.0, exact.p50);
  const double spread = std::sqrt(c);
  // The cube root of the quantile over the mean at score `score`; kept above 0 (a score
  // far below the median has no Wilson-Hilferty quantile).
  const auto root = [&](double score) { return std::max(1e-3, 1.0 - c + score * spread); };
  const auto at = [&](double p, double score, double centre) {
    const double r = root(score) / root(centre);
    return shift + (p - shift) * r * r * r;
  };
  return ordered(at(exact.p50, z.z50, 0.0), at(exact.p95, z.z95, kZ95),
                 at(exact.p99, z.z99, kZ99));
}

SampledPercentiles sample_percentiles(MeasurementDraws& draws, std::uint64_t n,
                                      const SampledPercentiles& exact) {
  if (n == 0) return {};
  return percentiles_at(exact, sample_scores(draws, n));
}

double sample_mean(std::uint32_t word, std::uint64_t n, double mean, double var) {
  if (n == 0) return 0;
  if (!(mean > 0) || !(var > 0)) return std::max(0.0, mean);
  // A gamma of shape n mean^2 / var (a sum of n exponentials is one): positive and skewed as
  // a few latencies' mean is; a normal cut at 0 read a mean of one request a tick 8 % high.
  // The cube is cut at 0 and divided by its own mean, E[max(0, a + b Z)^3] (a truncated
  // normal's moments; 1 - c^3 where the cut is out of reach), so that the mean holds where
  // Wilson-Hilferty does not (a shape below about 1: one request of a very variable latency).
  const double c = var / (9.0 * static_cast<double>(n) * mean * mean);
  const double a = 1.0 - c, b = std::sqrt(c);
  const double root = std::max(0.0, a + b * word_normal(word));
  double expected = 1.0 - c * c * c;
  if (a < 6.0 * b) {
    const double t = a / b;
    const double below = 0.5 * std::erfc(-t / std::sqrt(2.0));     // Phi(t)
    const double density = std::exp(-0.5 * t * t) * 0.3989422804014327;  // phi(t)
    expected = a * a * a * below + 3.0 * a * a * b * density +
               3.0 * a * b * b * (below - t * density) + b * b * b * (t * t + 2.0) * density;
  }
  return mean * root * root * root / expected;
}

double busy_spread(double utilization, double service_time, int servers, int queue_servers,
                   double dt) {
  const double u = utilization;
  if (!(u > 0) || u >= 1 || !(service_time > 0) || servers <= 0 || queue_servers <= 0 ||
      !(dt > 0))
    return 0.0;
  const double r = dt / service_time;
  const double straddling = r < 40 ? 1.0 - (1.0 - std::exp(-r)) / r : 1.0 - 1.0 / r;
  const double x =
      (1.0 + u) * service_time / (queue_servers * (1.0 - u) * (1.0 - u)) / dt;  // tau / dt
  const double damping = 1.0 / (1.0 + 0.382 * std::sqrt(x * std::sqrt(x)));
  return std::sqrt(2.0 * u * service_time / (servers * dt) * straddling * damping);
}

double bounded_share(double mean, double spread, double z) {
  constexpr double kFar = 5.0;  // spreads to a cut beyond which the cut is left out
  if (!(spread > 0) || !(mean > 0) || !(mean < 1) ||
      (mean > kFar * spread && 1.0 - mean > kFar * spread))
    return std::clamp(mean + spread * z, 0.0, 1.0);
  // E[clamp(Y, 0, 1)], Y ~ N(m, spread^2): m + E[(-Y)+] - E[(Y - 1)+], each (a truncated
  // normal's) x Phi(x / s) + s phi(x / s) at x = -m and m - 1; its slope in m, P(0 < Y < 1),
  // falls as m moves out, so Newton from m = mean approaches the root from one side.
  const auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  const auto pdf = [](double x) { return 0.3989422804014327 * std::exp(-0.5 * x * x); };
  const auto beyond = [&](double x) { return x * cdf(x / spread) + spread * pdf(x / spread); };
  double m = mean;
  for (int iteration = 0; iteration < 50; ++iteration) {
    const double f = m + beyond(-m) - beyond(m - 1.0) - mean;
    const double slope = cdf((1.0 - m) / spread) - cdf(-m / spread);
    if (!(slope > 1e-300)) break;
    const double next = m - f / slope;
    const bool done = std::abs(next - m) <= 1e-12;
    m = next;
    if (done) break;
  }
  return std::clamp(m + spread * z, 0.0, 1.0);
}

namespace {

// A count's expectation below a word's resolution: its draw is 0 (sample_binomial's and
// sample_poisson's inversions return at once where u <= 1 - mean), so no word is taken.
constexpr double kNone = 0x1.0p-33;

// Of `answered` requests, answered_mean expected, those that complete in the tick where
// `completing` are expected to (< 0: all of them): a binomial share where fewer complete,
// a Poisson count of the difference more where more do. `word()` gives the draw's word.
template <class Word>
std::uint64_t completed_of(std::uint64_t answered, double answered_mean, double completing,
                           Word word) {
  if (!(completing >= 0) || completing == answered_mean) return answered;
  if (completing < answered_mean) {
    const double kept = completing / answered_mean;
    if (static_cast<double>(answered) * (1.0 - kept) <= kNone) return answered;
    return sample_binomial(word(), answered, kept);
  }
  const double more = completing - answered_mean;
  return more <= kNone ? answered : answered + sample_poisson(word(), more);
}

}  // namespace

void MeasurementBatch::resize(std::size_t series) {
  for (auto* v : {&expected, &fast, &slow, &mu, &atom, &var, &sampled_mean, &gamma_shift})
    v->assign(series, 0.0);
  completing.assign(series, -1.0);  // as many as answered
  dispersion.assign(series, 1.0);
  sigma.assign(series, -1.0);  // known by its percentiles
  gamma_c.assign(series, -1.0);
  cap.assign(series, HUGE_VAL);
  mean.assign(series, -1.0);  // no mean measured
  exact.resize(series);
  within.assign(series, {});
  percentiles.resize(series);
  count.resize(series);
  errors.resize(series);
}

void MeasurementBatch::measure(const std::vector<RandomStream>& streams, std::int64_t tick,
                               std::uint64_t slot) {
  prepare();
  measure(streams, tick, slot, 0, expected.size());
}

void MeasurementBatch::prepare() {
  const std::size_t size = expected.size();
  words_.resize(size);
  first_words_.resize(size);
  poisson_means_.resize(size);
  answered_.resize(size);
  scores_.resize(size);
}

void MeasurementBatch::measure(const std::vector<RandomStream>& streams, std::int64_t tick,
                               std::uint64_t slot, std::size_t begin, std::size_t end) {
  const std::uint64_t index = MeasurementDraws::set_index(tick, slot);
  for (std::size_t i = begin; i < end; ++i) words_[i] = streams[i].words(index);
  // Counts: sample_batched's, with the Poisson draws behind them made side by side.
  for (std::size_t i = begin; i < end; ++i) {
    first_words_[i] = words_[i][0];
    poisson_means_[i] = batched_poisson_mean(expected[i], dispersion[i]);
  }
  sample_poissons(first_words_.data() + begin, poisson_means_.data() + begin, count.data() + begin,
                  end - begin);
  for (std::size_t i = begin; i < end; ++i) {
    if (poisson_means_[i] < 0) {
      count[i] = sample_unbatched(words_[i][0], expected[i], dispersion[i]);
    } else if (count[i] > 0 && drawn_in_batches(expected[i], dispersion[i])) {
      // The batches' extra requests take their word from the second block (its last word,
      // which nothing else takes).
      count[i] = in_batches(count[i], streams[i].words(index + 1)[3], dispersion[i]);
    }
  }
  // Errors, the completed requests and their mean, from the second block (and the eighth)
  // where a series has them.
  for (std::size_t i = begin; i < end; ++i) {
    const std::uint64_t n = count[i];
    answered_[i] = n;
    errors[i] = 0;
    sampled_mean[i] = 0;
    // A share whose expected count is below a word's resolution draws 0 (sample_binomial's
    // inversion, u <= 1 - mean): such a series needs no second block.
    const double size = static_cast<double>(n);
    const bool drawn = n > 0 && (fast[i] * size > kNone || slow[i] * size > kNone || mean[i] >= 0);
    std::array<std::uint32_t, 4> second{};
    if (drawn) {
      second = streams[i].words(index + 1);
      const std::uint64_t failed_fast = sample_binomial(second[0], n, fast[i]);
      errors[i] = failed_fast + sample_binomial(second[1], n - failed_fast, slow[i]);
      answered_[i] = n - failed_fast;
    }
    const std::uint64_t answered = answered_[i];
    answered_[i] = completed_of(answered, expected[i] * (1.0 - fast[i]), completing[i],
                                [&] { return streams[i].words(index + 7)[0]; });
    if (mean[i] >= 0 && answered_[i] > 0) {
      if (!drawn) second = streams[i].words(index + 1);
      sampled_mean[i] = sample_mean(second[2], answered_[i], mean[i], var[i]);
    }
  }
  for (std::size_t i = begin; i < end; ++i) {
    const std::uint64_t n = answered_[i];
    if (n == 0) continue;
    MeasurementDraws more(streams[i], tick, slot + 2);  // the blocks after the first two
    scores_[i] = n > kSortedSampleLimit
                     ? sample_scores(n, words_[i][1], words_[i][2], words_[i][3], more)
                     : sample_scores(more, n);
  }
  for (std::size_t i = begin; i < end; ++i) {
    if (answered_[i] == 0) {
      percentiles[i] = {};
    } else if (sigma[i] >= 0) {
      percentiles[i] =
          capped_lognormal_percentiles_at(mu[i], sigma[i], atom[i], cap[i], scores_[i]);
    } else {
      const SampledPercentiles p = gamma_c[i] >= 0
                                       ? gamma_percentiles_at(exact[i], gamma_c[i], scores_[i],
                                                              gamma_shift[i])
                                       : percentiles_at(exact[i], scores_[i]);
      percentiles[i] = {std::min(p.p50, cap[i]), std::min(p.p95, cap[i]), std::min(p.p99, cap[i])};
      // An atom at the cap (attempts lost, waiting the timeout out) holds every order
      // statistic that falls in it: a tick with more than 5 % of its attempts lost has its
      // p95 at the timeout, one with fewer the rest's quantile where its p95 falls among them,
      // as at the request level (the secants' draw about the whole's p95 fell below the
      // timeout on 46 % of the ticks of 20 % lost, and stayed near it with fewer lost).
      if (const double lost = atom[i]; lost > 0 && lost < 1 && within[i].p50 > 0) {
        const SampleScores& z = scores_[i];
        const auto rest = [&](double above) {  // the score among the rest, for `above` > lost
          return clamped_quantile(1.0 - (above - lost) / (1.0 - lost));
        };
        const SampledPercentiles r =
            percentiles_at(within[i], {rest(z.t50), rest(z.t95), rest(z.t99), z.t50, z.t95, z.t99});
        const auto at = [&](double above, double value) {
          return above <= lost ? cap[i] : std::min(value, cap[i]);
        };
        percentiles[i] = {at(z.t50, r.p50), at(z.t95, r.p95), at(z.t99, r.p99)};
      }
    }
  }
}

}  // namespace dosim
