// Measurement noise from counts (the fluid model's telemetry, docs/world-model.md): what a
// tick's series look like when they are measured on the finite number of requests the tick
// saw, as the request level measures them.
//  - Counts: Poisson given the rate (arrivals), binomial given a share (errors, the requests
//    of one endpoint among a service's).
//  - Percentiles: the nearest-rank p50, p95 and p99 of a sample of n latencies. The k-th
//    smallest of n latencies is Q(U_(k)), Q the distribution's quantile function and U_(k)
//    the k-th of n sorted uniforms; sample_scores draws the normal scores Phi^-1(U_(k)) of
//    the three ranks, and the latency's own shape maps them to seconds (a log-normal's
//    exp(mu + sigma z), or log-latency linear in z through known p50, p95, p99).
//  - Mean: normal with the distribution's variance over n.
// Up to 16 latencies the uniforms are drawn and sorted (exact). Above, with r the three
// ranks: the median's score is normal with the exact variance of U_(r50); the top two come
// from the exponential spacings above them (1 - U_(r) is a sum of n + 1 - r of them over
// n + 1: drawn one by one up to 8 of them, Wilson-Hilferty gammas beyond), which keeps the
// skew of a p99 measured on a hundred requests.
// Agreement with sorting is in tests/test_measurement.cc.
// Cost is per series per tick, so a series takes one Philox block (four 32-bit words) in the
// common case; words become normal by a tabulated inverse normal CDF (error < 2e-3 in the
// body, the formula in the outer 1/256 of each tail); and MeasurementBatch measures a
// family of series phase by phase, so that the CPU overlaps their independent chains.
// Every draw is a pure function of (stream, tick, slot, position): a set of quantities takes
// its words from its own blocks, so one set needing more words shifts no other.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "rng.h"

namespace dosim {

// The words of one set of quantities in one tick: blocks set_index(tick, slot), +1, +2, ...
// read four at a time. A set takes at most 8 blocks (32 words): sets' slots are 8 apart.
class MeasurementDraws {
 public:
  static constexpr std::uint64_t kBlocksPerSet = 8;

  // REQUIRES: slot < 2^16.
  static std::uint64_t set_index(std::int64_t tick, std::uint64_t slot) {
    return (static_cast<std::uint64_t>(tick) << 16) | slot;
  }

  MeasurementDraws(const RandomStream& rng, std::int64_t tick, std::uint64_t slot)
      : rng_(&rng), index_(set_index(tick, slot)) {}

  std::uint32_t next() {
    if (position_ == 4) {
      words_ = rng_->words(index_++);
      position_ = 0;
    }
    return words_[position_++];
  }

 private:
  const RandomStream* rng_;
  std::uint64_t index_;
  std::array<std::uint32_t, 4> words_{};
  int position_ = 4;
};

// A word as a uniform in (0, 1) and as a standard normal (inverse of the normal CDF there).
inline double word_uniform(std::uint32_t word) {
  return (static_cast<double>(word) + 0.5) * 0x1.0p-32;
}
double word_normal(std::uint32_t word);

// The standard normal quantile at u in (0, 1) from the table (error < 2e-3; the outer
// 1/256 of each tail from the formula, error < 1e-8).
double tabulated_normal_quantile(double u);

// A Poisson count with mean `mean` (>= 0) from one word.
std::uint64_t sample_poisson(std::uint32_t word, double mean);
// The same for `size` counts at once: counts[i] = sample_poisson(words[i], means[i]) where
// means[i] >= 0; where it is negative, counts[i] is left as it is.
void sample_poissons(const std::uint32_t* words, const double* means, std::uint64_t* counts,
                     std::size_t size);

// A count of arrivals that come in batches: mean `mean`, variance `dispersion` x mean (a
// caller's calls come `calls_per_request` at a time, docs/world-model.md, Measurement noise).
// A dispersion of 1 is sample_poisson's count from `word`. Above: Poisson(mean /
// dispersion) batches of floor(dispersion) requests, each with one more with probability
// dispersion - floor(dispersion) (`extra` draws those), or the normal approximation past
// 30 expected batches. Below (users that pace themselves): a binomial of ceil(mean / (1 -
// dispersion)) trials, or the normal approximation from 30 expected (0: the mean rounded).
std::uint64_t sample_batched(std::uint32_t word, std::uint32_t extra, double mean,
                             double dispersion);

// A binomial count of `trials` with success probability `p` (clamped to [0, 1]), one word.
std::uint64_t sample_binomial(std::uint32_t word, std::uint64_t trials, double p);

struct SampledPercentiles {
  double p50 = 0, p95 = 0, p99 = 0;
};

// The normal scores Phi^-1(U_(k)) of the nearest-rank p50, p95 and p99 of n uniforms
// (z50 <= z95 <= z99): where a sample's percentiles fall in any distribution, as scores.
// Takes 4 to 11 words, or n when n <= 16. REQUIRES: n > 0.
struct SampleScores {
  double z50 = 0, z95 = 0, z99 = 0;
  double t50 = 0.5, t95 = 0.05, t99 = 0.01;  // 1 - U_(k): the share above each
};
SampleScores sample_scores(MeasurementDraws& draws, std::uint64_t n);
// The same from three given words and, for a sample of at most about 160, up to 8 more
// from `more`. REQUIRES: n > 16.
SampleScores sample_scores(std::uint64_t n, std::uint32_t w50, std::uint32_t w99, std::uint32_t w95,
                           MeasurementDraws& more);

// The quantile function through p50, p95 and p99 (0 < p50 <= p95 <= p99): log-latency
// linear in the normal score on [-inf, z95] and [z95, inf], at the scores given. All equal
// (or p50 = 0): gives them back.
SampledPercentiles percentiles_at(const SampledPercentiles& exact, const SampleScores& z);

// The same for a log-normal of shape `sigma` whose percentiles are `exact`.
SampledPercentiles lognormal_percentiles_at(const SampledPercentiles& exact, double sigma,
                                            const SampleScores& z);

// A log-normal (mu, sigma) capped at `cap` (a timeout: slower requests are cut there), with
// an atom of mass `atom` at the cap (requests lost, waiting the timeout out).
SampledPercentiles capped_lognormal_percentiles_at(double mu, double sigma, double atom, double cap,
                                                   const SampleScores& z);

// Nearest-rank p50, p95, p99 of n draws from the distribution whose p50, p95, p99 are
// `exact` (percentiles_at at sample_scores). n = 0: all 0.
SampledPercentiles sample_percentiles(MeasurementDraws& draws, std::uint64_t n,
                                      const SampledPercentiles& exact);

// The same for a latency whose percentiles are a gamma's (queueing.h, gamma_percentiles) of
// Wilson-Hilferty constant c = var / (9 mean^2): each score through the gamma's own quantile
// function, (1 - c + z sqrt(c))^3, scaled to meet `exact` at its own percentile, where
// percentiles_at's secants put a sampled p95 too low above it and too high below. A gamma
// shifted by `shift` (queueing.h, shifted_gamma) scales what lies above the shift. Below
// shape 1/2 (c > 2/9), where the cube is no gamma's, percentiles_at.
SampledPercentiles gamma_percentiles_at(const SampledPercentiles& exact, double c,
                                        const SampleScores& z, double shift = 0.0);

// The mean of n draws from a distribution of mean `mean` and variance `var`, one word: a
// gamma of that mean and variance over n (Wilson-Hilferty), exact in its first two moments
// and positive, as a small sample's mean is; n = 0: 0.
double sample_mean(std::uint32_t word, std::uint64_t n, double mean, double var);

// The standard deviation of the share of a tick a service's workers are busy, measured on
// the tick's requests (cpu_ratio and utilization, as the request level measures them): the
// busy time is a compound Poisson sum of exponential service times of mean
// `service_time` (worker-seconds a request) over `servers` workers at `utilization`, so its
// variance is u 2 s / (N dt), less the part of requests straddling the tick's edges
// (1 - (1 - e^-r) / r, r = dt / s: a request's busy time splits between ticks), damped by
// the queue: where it relaxes more slowly than a tick (relaxation tau = (1 + u) / (c mu
// (1 - u)^2) at `queue_servers` c), a busy tick is followed by one as busy, and saturated
// workers are busy the whole tick: 1 / (1 + 0.382 (tau / dt)^0.75), fitted to the request
// level's per-tick utilisation (1, 4, 16 workers, one to three replicas, 2 to 200 ms,
// utilisation 0.1 to 0.97: rms error 4.5 %, at most 11 %). 0 at 0 or full utilisation.
double busy_spread(double utilization, double service_time, int servers, int queue_servers,
                   double dt);

// A share in [0, 1] measured with spread `spread` at standard normal score `z`: m + spread z
// cut at 0 and 1, with m such that the cut share's mean is `mean`, as a measured busy share's
// is (at the request level a saturating queue's workers are often busy a whole tick, a reading
// of 1; m = mean cut at 1 alone read utilisation 0.865 for 0.9). m = mean where either cut is
// more than 5 spreads away (its effect below a float's resolution).
double bounded_share(double mean, double spread, double z);

// A family of series measured in one pass (a tick's services, or its edges): the inputs per
// series, then the outputs, all of one length. Series i draws from set (tick, slot) of
// streams[i]: words 0-3 (arrivals, the three order statistics), then, only where needed,
// words 4-7 (fast failures, slow errors, mean, a batched count's extra requests) and more
// for a sample of at most 16 (blocks 2-6), and word 28 (block 7) for the completions of a
// queue that fills or drains.
struct MeasurementBatch {
  // Inputs. `sigma` >= 0: the latency is log-normal (mu, sigma), capped at `cap` with an
  // atom `atom` there (capped_lognormal_percentiles_at); < 0: known by its percentiles
  // `exact` only (percentiles_at, then capped). `fast`: the share of requests that fail
  // without a latency to measure; `slow`: the error share of the others.
  std::vector<double> expected;    // requests in the tick
  std::vector<double> dispersion;  // variance over mean of the count (1: Poisson)
  std::vector<double> fast, slow;
  std::vector<SampledPercentiles> exact;
  std::vector<double> mu, sigma, atom, cap;
  // With an atom and sigma < 0: the percentiles of the rest (those not in the atom), through
  // which an order statistic outside the atom is read (else `exact` is).
  std::vector<SampledPercentiles> within;
  // >= 0 (with sigma < 0): the percentiles are a gamma's of this Wilson-Hilferty constant,
  // shifted by gamma_shift (gamma_percentiles_at, then capped).
  std::vector<double> gamma_c, gamma_shift;
  std::vector<double> mean, var;  // of the latency; mean < 0: no mean measured
  // The answered requests expected to complete in the tick, or < 0: those of its arrivals
  // (expected x (1 - fast)). The latency (percentiles and mean) is measured on the requests
  // that complete, as dashboards show it: a filling queue completes fewer than it answers (a
  // binomial share of them), a draining one more (a Poisson count of the difference added).
  std::vector<double> completing;
  // Outputs.
  std::vector<std::uint64_t> count, errors;
  std::vector<SampledPercentiles> percentiles;
  std::vector<double> sampled_mean;

  // Sizes the family, every input neutral: no requests, errors, cap, atom or mean;
  // known by its percentiles.
  void resize(std::size_t series);
  void measure(const std::vector<RandomStream>& streams, std::int64_t tick, std::uint64_t slot);
  // The same in parts, for threads: prepare() once, then measure() of disjoint ranges
  // [begin, end) in any order or at once; each series' result depends on its inputs alone.
  void prepare();
  void measure(const std::vector<RandomStream>& streams, std::int64_t tick, std::uint64_t slot,
               std::size_t begin, std::size_t end);
  // The normal scores and tail shares of series i's last measured sample (its ranks), for a
  // caller that maps them through a quantile function of its own. Valid after measure()
  // where its sample of completed requests is not empty.
  const SampleScores& scores(std::size_t i) const { return scores_[i]; }

 private:
  std::vector<std::array<std::uint32_t, 4>> words_;
  std::vector<std::uint32_t> first_words_;  // words_[i][0], for the Poisson draws
  std::vector<double> poisson_means_;       // of the counts' Poisson draws (< 0: none)
  std::vector<std::uint64_t> answered_;
  std::vector<SampleScores> scores_;
};

}  // namespace dosim
