// Measurement noise from counts (engine/measurement.h): counts with the Poisson and binomial
// moments, sample percentiles whose spread matches sorting real samples (the reference here
// is std::sort over uniforms, independent of the sampler's gamma spacings), and a batch that
// is a pure function of its streams, tick and slot.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/measurement.h"
#include "engine/queue_latency.h"
#include "engine/queueing.h"

using dosim::MeasurementBatch;
using dosim::MeasurementDraws;
using dosim::Purpose;
using dosim::RandomStream;
using dosim::SampledPercentiles;
using dosim::SampleScores;

namespace {

struct Stats {
  double mean = 0, sd = 0;
};

Stats stats_of(const std::vector<double>& values) {
  Stats s;
  for (double v : values) s.mean += v;
  s.mean /= static_cast<double>(values.size());
  for (double v : values) s.sd += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(s.sd / static_cast<double>(values.size() - 1));
  return s;
}

const RandomStream& stream() {
  static const RandomStream instance(7, dosim::entity_id("measurement"), Purpose::kTest);
  return instance;
}

// Scores of the nearest-rank p50, p95, p99 of n sorted uniforms drawn by std::mt19937_64
// (a generator the sampler does not use).
SampleScores sorted_scores(std::mt19937_64& engine, std::uint64_t n) {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> values(n);
  for (double& v : values) v = uniform(engine);
  std::sort(values.begin(), values.end());
  const auto at = [&](double p) {
    const auto rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(n)));
    return dosim::normal_quantile(values[std::clamp<std::uint64_t>(rank, 1, n) - 1]);
  };
  return {at(0.50), at(0.95), at(0.99)};
}

}  // namespace

TEST_CASE("Measurement: word_normal is a standard normal, its tails from the formula",
          "[measurement]") {
  std::vector<double> z;
  for (std::uint32_t i = 0; i < 200000; ++i) z.push_back(dosim::word_normal(stream().words(i)[0]));
  const Stats s = stats_of(z);
  CHECK(std::abs(s.mean) < 0.01);
  CHECK(std::abs(s.sd - 1.0) < 0.01);
  // The table against the formula everywhere in (0, 1).
  for (double u = 1e-6; u < 1; u += 0.000731)
    CHECK(std::abs(dosim::tabulated_normal_quantile(u) - dosim::normal_quantile(u)) < 2e-3);
  CHECK(dosim::word_normal(0) < -6.0);
  CHECK(dosim::word_normal(0xFFFFFFFFu) > 6.0);
}

TEST_CASE("Measurement: Poisson and binomial counts have their mean and variance",
          "[measurement]") {
  for (const double mean : {0.3, 4.0, 25.0, 30.0, 400.0}) {
    std::vector<double> counts;
    for (std::uint32_t i = 0; i < 40000; ++i)
      counts.push_back(static_cast<double>(dosim::sample_poisson(stream().words(i)[1], mean)));
    const Stats s = stats_of(counts);
    INFO("Poisson mean " << mean);
    CHECK(std::abs(s.mean - mean) < 0.02 * mean + 0.01);
    CHECK(std::abs(s.sd * s.sd - mean) < 0.05 * mean + 0.01);
  }
  for (const double p : {0.001, 0.05, 0.5, 0.97}) {
    const std::uint64_t trials = 400;
    std::vector<double> counts;
    for (std::uint32_t i = 0; i < 40000; ++i)
      counts.push_back(
          static_cast<double>(dosim::sample_binomial(stream().words(i)[2], trials, p)));
    const Stats s = stats_of(counts);
    const double mean = 400 * p, var = 400 * p * (1 - p);
    INFO("binomial p " << p);
    CHECK(std::abs(s.mean - mean) < 0.02 * mean + 0.01);
    CHECK(std::abs(s.sd * s.sd - var) < 0.06 * var + 0.01);
  }
  CHECK(dosim::sample_poisson(12345, 0.0) == 0);
  CHECK(dosim::sample_binomial(12345, 50, 0.0) == 0);
  CHECK(dosim::sample_binomial(12345, 50, 1.0) == 50);
  CHECK(dosim::sample_binomial(12345, 0, 0.5) == 0);
}

TEST_CASE("Measurement: Poisson counts drawn side by side are sample_poisson's, bit for bit",
          "[measurement]") {
  // Every path: none (0, below 0 left alone), a chance of 0, searches of a few to 90 steps
  // (the table's end), the normal approximation; groups of lanes full and part full.
  std::vector<double> means;
  for (int i = 0; i < 997; ++i) means.push_back(std::fmod(0.37 * i * i, 45.0) - 2.0);
  means[5] = 0.0;
  means[6] = 29.999;
  means[7] = 1e-12;
  std::vector<std::uint32_t> words;
  for (std::uint32_t i = 0; i < means.size(); ++i) words.push_back(stream().words(i)[0]);
  words[8] = 0xFFFFFFFFu;  // the top of the last term: the longest search
  means[8] = 29.5;
  for (const std::size_t size : {means.size(), std::size_t{3}, std::size_t{1}}) {
    std::vector<std::uint64_t> counts(size, 777);
    dosim::sample_poissons(words.data(), means.data(), counts.data(), size);
    for (std::size_t i = 0; i < size; ++i) {
      INFO("mean " << means[i] << " word " << words[i]);
      CHECK(counts[i] == (means[i] < 0 ? 777 : dosim::sample_poisson(words[i], means[i])));
    }
  }
}

TEST_CASE("Measurement: a count in batches, or paced, keeps its mean, its variance follows",
          "[measurement]") {
  // Two calls per request: twice a Poisson count of requests, variance twice the mean. 1.5
  // calls (one, or two with chance one half): E[B^2] / E[B] = 2.5 / 1.5. Past 30 batches,
  // the normal with the asked variance.
  struct Case {
    double mean, dispersion, variance_over_mean;
  };
  // Below 1 (Locust users pacing themselves): a binomial, or the normal past 30.
  for (const Case c : {Case{12.0, 2.0, 2.0}, Case{12.0, 1.5, 2.5 / 1.5}, Case{3.0, 3.0, 3.0},
                       Case{400.0, 2.25, 2.25}, Case{12.0, 0.5, 0.5}, Case{400.0, 0.3, 0.3}}) {
    std::vector<double> counts;
    for (std::uint32_t i = 0; i < 40000; ++i) {
      const auto words = stream().words(i);
      counts.push_back(
          static_cast<double>(dosim::sample_batched(words[1], words[3], c.mean, c.dispersion)));
    }
    const Stats s = stats_of(counts);
    INFO("mean " << c.mean << ", dispersion " << c.dispersion);
    CHECK(std::abs(s.mean - c.mean) < 0.02 * c.mean);
    CHECK(s.sd * s.sd / c.mean == Approx(c.variance_over_mean).epsilon(0.06));
  }
  // A dispersion of 1 (within rounding) is the Poisson count from the same word.
  for (std::uint32_t word : {7u, 123456789u, 4000000000u}) {
    CHECK(dosim::sample_batched(word, 99, 7.5, 1.0) == dosim::sample_poisson(word, 7.5));
    CHECK(dosim::sample_batched(word, 99, 7.5, 1.0 + 1e-15) == dosim::sample_poisson(word, 7.5));
  }
  CHECK(dosim::sample_batched(12345, 99, 0.0, 2.0) == 0);
  for (std::uint32_t word : {7u, 123456789u, 4000000000u})  // no spread: the mean, rounded
    CHECK(dosim::sample_batched(word, 99, 200.2, 0.0) == 200);
}

TEST_CASE("Measurement: sample percentiles spread as sorted samples do, and stay ordered",
          "[measurement]") {
  std::mt19937_64 engine(2024);
  for (const std::uint64_t n : {5u, 16u, 17u, 40u, 100u, 300u, 2000u}) {
    std::vector<double> ours[3], sorted[3];
    for (int i = 0; i < 20000; ++i) {
      MeasurementDraws draws(stream(), i, 0);
      const SampleScores z = dosim::sample_scores(draws, n);
      REQUIRE(z.z50 <= z.z95);
      REQUIRE(z.z95 <= z.z99);
      ours[0].push_back(z.z50);
      ours[1].push_back(z.z95);
      ours[2].push_back(z.z99);
      const SampleScores r = sorted_scores(engine, n);
      sorted[0].push_back(r.z50);
      sorted[1].push_back(r.z95);
      sorted[2].push_back(r.z99);
    }
    for (int k = 0; k < 3; ++k) {
      const Stats a = stats_of(ours[k]), b = stats_of(sorted[k]);
      INFO("n " << n << ", percentile " << k << ": ours " << a.mean << " +- " << a.sd << ", sorted "
                << b.mean << " +- " << b.sd);
      CHECK(std::abs(a.mean - b.mean) < 0.03 * b.sd + 0.003);
      CHECK(std::abs(a.sd / b.sd - 1.0) < 0.05);
      // The upper tail: the 99th percentile of the measured p99 (a detector's false alarms).
      std::sort(ours[k].begin(), ours[k].end());
      std::sort(sorted[k].begin(), sorted[k].end());
      const std::size_t top = ours[k].size() * 99 / 100;
      CHECK(std::abs(ours[k][top] - sorted[k][top]) < 0.08 * b.sd + 0.01);
    }
  }
}

TEST_CASE("Measurement: percentiles map scores through the known p50, p95, p99", "[measurement]") {
  const SampledPercentiles exact{0.010, 0.040, 0.090};
  const SampledPercentiles at_exact = dosim::percentiles_at(exact, {0.0, dosim::kZ95, dosim::kZ99});
  CHECK(at_exact.p50 == Approx(0.010).epsilon(1e-9));
  CHECK(at_exact.p95 == Approx(0.040).epsilon(1e-9));
  CHECK(at_exact.p99 == Approx(0.090).epsilon(1e-9));
  // A log-normal: exp(mu + sigma z) from any of its points.
  const double mu = std::log(0.02), sigma = 0.7;
  const SampledPercentiles lognormal{std::exp(mu), std::exp(mu + sigma * dosim::kZ95),
                                     std::exp(mu + sigma * dosim::kZ99)};
  const SampleScores z{0.3, 1.2, 3.1};
  const SampledPercentiles a = dosim::lognormal_percentiles_at(lognormal, sigma, z);
  const SampledPercentiles b = dosim::percentiles_at(lognormal, z);
  CHECK(a.p50 == Approx(std::exp(mu + sigma * 0.3)).epsilon(1e-9));
  CHECK(a.p95 == Approx(std::exp(mu + sigma * 1.2)).epsilon(1e-9));
  CHECK(a.p99 == Approx(std::exp(mu + sigma * 3.1)).epsilon(1e-9));
  CHECK(b.p50 == Approx(a.p50).epsilon(1e-9));
  CHECK(b.p99 == Approx(a.p99).epsilon(1e-9));
  // Degenerate: all equal comes back as is; no sample, nothing measured.
  const SampledPercentiles flat{0.05, 0.05, 0.05};
  MeasurementDraws draws(stream(), 3, 0);
  CHECK(dosim::sample_percentiles(draws, 50, flat).p99 == 0.05);
  CHECK(dosim::sample_percentiles(draws, 0, exact).p95 == 0.0);
}

TEST_CASE("Measurement: a queue's sample percentiles, through the shifted gamma of its moments",
          "[measurement]") {
  // The fluid model measures a service whose latency is its own queue alone (queue_latency.h:
  // an exponential service time plus a wait with an atom at zero) by mapping the sample's
  // scores through the shifted gamma of the shape's three moments about its exact
  // percentiles (world.cc). Reference: the nearest-rank percentiles of n latencies drawn by
  // std::mt19937_64 from the shape itself and sorted. The secants between p50, p95 and p99
  // (percentiles_at) put p95 1.5-2.3 % low here.
  struct Case {
    dosim::QueueLatency shape;
    const char* name;
  };
  const Case cases[] = {{{0.004, 0.0, 0.0, 0.0}, "exponential"},
                        {{0.1, 0.746, 0.0, 0.25}, "M/M/4 at 90 %"},
                        {{0.1, 0.174, 0.0, 0.05}, "M/M/4 at 50 %"},
                        {{0.1, 1.0, 0.05, 0.03}, "a tick's held queue"}};
  std::mt19937_64 engine(77);
  std::exponential_distribution<double> unit(1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (const Case& c : cases) {
    const dosim::QueueLatency& d = c.shape;
    const SampledPercentiles exact{dosim::quantile(d, 0.50), dosim::quantile(d, 0.95),
                                   dosim::quantile(d, 0.99)};
    const double wait_mean = d.p_wait * (d.shift + d.tail);
    const double wait_second =
        d.p_wait * (d.shift * d.shift + 2 * d.shift * d.tail + 2 * d.tail * d.tail);
    const dosim::Moments moments{d.service + wait_mean,
                                 d.service * d.service + wait_second - wait_mean * wait_mean};
    const dosim::ShiftedGamma shifted = dosim::shifted_gamma(moments, dosim::third_of(d));
    const double gamma_c = shifted.gamma.var / (9.0 * shifted.gamma.mean * shifted.gamma.mean);
    for (const std::uint64_t n : {8u, 32u, 100u}) {
      constexpr int kTrials = 40000;
      std::vector<double> ours[3], sorted[3];
      std::vector<double> sample(n);
      for (int i = 0; i < kTrials; ++i) {
        MeasurementDraws draws(stream(), i, 8);
        const SampleScores z = dosim::sample_scores(draws, n);
        const SampledPercentiles p = dosim::gamma_percentiles_at(exact, gamma_c, z, shifted.shift);
        ours[0].push_back(p.p50);
        ours[1].push_back(p.p95);
        ours[2].push_back(p.p99);
        for (double& v : sample) {
          v = d.service * unit(engine);
          if (uniform(engine) < d.p_wait) v += d.shift + d.tail * unit(engine);
        }
        std::sort(sample.begin(), sample.end());
        const auto at = [&](double q) {
          const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
          return sample[std::clamp<std::uint64_t>(rank, 1, n) - 1];
        };
        sorted[0].push_back(at(0.50));
        sorted[1].push_back(at(0.95));
        sorted[2].push_back(at(0.99));
      }
      for (int k = 0; k < 3; ++k) {
        const Stats a = stats_of(ours[k]), b = stats_of(sorted[k]);
        INFO(c.name << ", n " << n << ", percentile " << k << ": ours " << a.mean << " +- " << a.sd
                    << ", sorted " << b.mean << " +- " << b.sd);
        CHECK(std::abs(a.mean / b.mean - 1.0) < 0.01 + 3.0 * b.sd / b.mean / std::sqrt(kTrials));
        CHECK(std::abs(a.sd / b.sd - 1.0) < 0.1);
      }
    }
  }
}

TEST_CASE("Measurement: a service at 2 rps is noisier than one at 2,000", "[measurement]") {
  const auto p95_cv = [](double rps) {
    std::vector<RandomStream> streams{stream()};
    MeasurementBatch batch;
    batch.resize(1);
    batch.expected[0] = rps;
    batch.fast[0] = batch.slow[0] = 0;
    batch.exact[0] = {0.020, 0.060, 0.090};
    batch.sigma[0] = -1;
    batch.mean[0] = 0.025;
    batch.var[0] = 0.0004;
    std::vector<double> p95, count;
    for (int tick = 0; tick < 4000; ++tick) {
      batch.measure(streams, tick, 0);
      if (batch.count[0] > 0) p95.push_back(batch.percentiles[0].p95);
      count.push_back(static_cast<double>(batch.count[0]));
    }
    const Stats s = stats_of(p95), c = stats_of(count);
    CHECK(std::abs(c.mean - rps) < 0.03 * rps + 0.05);
    CHECK(std::abs(c.sd - std::sqrt(rps)) < 0.05 * std::sqrt(rps));
    return s.sd / s.mean;
  };
  const double slow = p95_cv(2), fast = p95_cv(2000);
  CHECK(slow > 0.3);
  CHECK(fast < 0.05);
  CHECK(slow > 10 * fast);
}

TEST_CASE("Measurement: lost attempts at the cap hold the order statistics that fall among them",
          "[measurement]") {
  // A call known by its percentiles (a callee with a queue shape) with 20 % of its attempts
  // lost, waiting its 100 ms timeout out: p95 and p99 are the timeout on every tick, as at the
  // request level (the secants' draw about the exact p95 fell below it on 46 % of ticks).
  std::vector<RandomStream> streams{stream()};
  MeasurementBatch batch;
  batch.resize(1);
  batch.expected[0] = 120;
  batch.exact[0] = {0.006, 0.1, 0.1};
  batch.sigma[0] = -1;
  batch.atom[0] = 0.2;
  batch.cap[0] = 0.1;
  batch.within[0] = {0.005, 0.02, 0.04};  // the attempts not lost
  int below = 0, p50_at_cap = 0;
  for (int tick = 0; tick < 2000; ++tick) {
    batch.measure(streams, tick, 0);
    if (batch.count[0] == 0) continue;
    below += batch.percentiles[0].p95 < 0.1 || batch.percentiles[0].p99 < 0.1;
    p50_at_cap += batch.percentiles[0].p50 == 0.1;
  }
  CHECK(below == 0);
  CHECK(p50_at_cap == 0);  // half the sample is never lost
  // 6 % lost of about 480: a tick's p95 is the timeout where at least 5 % of its sample is
  // (P about 0.84: the share above its 95th order statistic is 0.05 +- 0.01), else the rest's
  // tail, far below it (it stayed near the timeout: the whole's p95 is the timeout).
  batch.expected[0] = 480;
  batch.atom[0] = 0.06;
  batch.exact[0] = {0.006, 0.1, 0.1};
  int at_cap = 0, ticks = 0;
  std::vector<double> rest;
  for (int tick = 0; tick < 4000; ++tick) {
    batch.measure(streams, tick, 0);
    if (batch.count[0] == 0) continue;
    ++ticks;
    if (batch.percentiles[0].p95 == 0.1)
      ++at_cap;
    else
      rest.push_back(batch.percentiles[0].p95);
  }
  CHECK(std::abs(static_cast<double>(at_cap) / ticks - 0.84) < 0.04);
  REQUIRE(!rest.empty());
  std::sort(rest.begin(), rest.end());
  CHECK(rest[rest.size() / 2] < 0.06);  // the rest's far tail (0.04 at its 99th percentile)
}

TEST_CASE("Measurement: latency is measured on the requests completing, fewer while a queue fills",
          "[measurement]") {
  // One series per case, each from its own stream: 30 arriving with 4 completing (a queue
  // filling at a tenth of its load), 4 arriving and completing, 30 arriving and completing,
  // and none arriving with 5 completing (a backlog draining after its traffic stopped).
  struct Case {
    double arriving, completing;
  };
  const Case cases[] = {{30, 4}, {4, -1}, {30, -1}, {0, 5}};
  constexpr int kCases = 4;
  std::vector<RandomStream> streams;
  for (int i = 0; i < kCases; ++i)
    streams.emplace_back(3, dosim::entity_id("fill-" + std::to_string(i)), Purpose::kTest);
  MeasurementBatch batch;
  batch.resize(kCases);
  for (int i = 0; i < kCases; ++i) {
    batch.expected[i] = cases[i].arriving;
    batch.completing[i] = cases[i].completing;
    batch.exact[i] = {0.02, 0.05, 0.08};
    batch.mean[i] = 0.025;
    batch.var[i] = 4e-4;
  }
  std::vector<double> p99[kCases], count[kCases], mean[kCases];
  int empty[kCases] = {};
  for (int tick = 0; tick < 6000; ++tick) {
    batch.measure(streams, tick, 0);
    for (int i = 0; i < kCases; ++i) {
      count[i].push_back(static_cast<double>(batch.count[i]));
      if (batch.percentiles[i].p99 > 0) {
        p99[i].push_back(batch.percentiles[i].p99);
        mean[i].push_back(batch.sampled_mean[i]);
      } else {
        ++empty[i];
      }
    }
  }
  // The rate still counts arrivals.
  CHECK(stats_of(count[0]).mean == Approx(30).epsilon(0.02));
  CHECK(stats_of(count[3]).mean == 0);
  // The p99 of about 4 completions is their largest, as where 4 arrive, not that of 30.
  const Stats filling = stats_of(p99[0]), four = stats_of(p99[1]), thirty = stats_of(p99[2]);
  CHECK(filling.mean == Approx(four.mean).epsilon(0.03));
  CHECK(filling.sd == Approx(four.sd).epsilon(0.1));
  CHECK(thirty.mean > 1.2 * four.mean);
  // Ticks without a completion: exp(-4) of them.
  CHECK(empty[0] / 6000.0 == Approx(std::exp(-4.0)).margin(0.006));
  // A draining backlog without arrivals reports its completions' latency and mean.
  CHECK(empty[3] / 6000.0 == Approx(std::exp(-5.0)).margin(0.004));
  CHECK(stats_of(mean[3]).mean == Approx(0.025).epsilon(0.03));
}

TEST_CASE("Measurement: errors are a binomial share of the count, the batch is reproducible",
          "[measurement]") {
  std::vector<RandomStream> streams;
  for (int i = 0; i < 3; ++i)
    streams.emplace_back(11, dosim::entity_id("svc-" + std::to_string(i)), Purpose::kTest);
  MeasurementBatch batch;
  batch.resize(3);
  for (int i = 0; i < 3; ++i) {
    batch.expected[i] = 500;
    batch.fast[i] = i == 1 ? 0.2 : 0.0;  // fast failures have no latency to measure
    batch.slow[i] = 0.1;
    batch.exact[i] = {0.02, 0.05, 0.08};
    batch.sigma[i] = -1;
    batch.mean[i] = 0.025;
    batch.var[i] = 1e-4;
  }
  std::vector<double> ratio;
  std::vector<std::uint64_t> first_run;
  for (int tick = 0; tick < 3000; ++tick) {
    batch.measure(streams, tick, 0);
    REQUIRE(batch.errors[0] <= batch.count[0]);
    ratio.push_back(static_cast<double>(batch.errors[1]) / static_cast<double>(batch.count[1]));
    first_run.push_back(batch.count[2] * 1000 + batch.errors[2]);
  }
  const Stats s = stats_of(ratio);
  CHECK(s.mean == Approx(0.2 + 0.8 * 0.1).epsilon(0.02));
  CHECK(s.sd == Approx(std::sqrt(0.28 * 0.72 / 500)).epsilon(0.1));
  // The same streams, ticks and slot: the same counts, whatever ran before.
  for (int tick = 0; tick < 3000; tick += 7) {
    batch.measure(streams, tick, 0);
    CHECK(batch.count[2] * 1000 + batch.errors[2] == first_run[static_cast<std::size_t>(tick)]);
  }
}

TEST_CASE("Measurement: a few latencies' mean keeps its mean and spread, never below 0",
          "[measurement]") {
  // The reference: means of n exponential latencies drawn by std::mt19937_64 (a sum of n
  // exponentials is a gamma, which the sampler draws by Wilson-Hilferty from one word).
  std::mt19937_64 engine(11);
  std::exponential_distribution<double> exponential(1.0 / 0.005);
  for (const std::uint64_t n : {1u, 2u, 3u, 10u, 200u}) {
    std::vector<double> drawn, reference;
    for (std::uint32_t i = 0; i < 100000; ++i) {
      drawn.push_back(dosim::sample_mean(stream().words(i)[2], n, 0.005, 0.005 * 0.005));
      double sum = 0;
      for (std::uint64_t j = 0; j < n; ++j) sum += exponential(engine);
      reference.push_back(sum / static_cast<double>(n));
    }
    const Stats s = stats_of(drawn), r = stats_of(reference);
    INFO("n " << n);
    CHECK(*std::min_element(drawn.begin(), drawn.end()) >= 0.0);
    CHECK(std::abs(s.mean - 0.005) < 0.005 * 0.01);  // a normal cut at 0: 8 % high at n = 1
    CHECK(std::abs(s.sd / r.sd - 1.0) < 0.03);
    // The share below half the mean: the skew of a small sample's mean.
    const auto below = [](const std::vector<double>& v) {
      return static_cast<double>(std::count_if(v.begin(), v.end(),
                                               [](double x) { return x < 0.0025; })) /
             static_cast<double>(v.size());
    };
    CHECK(std::abs(below(drawn) - below(reference)) < 0.01);
  }
  // More variable than an exponential (a mean of 1 s with a deviation of 3 s): the mean holds.
  std::vector<double> wide;
  for (std::uint32_t i = 0; i < 100000; ++i)
    wide.push_back(dosim::sample_mean(stream().words(i)[2], 1, 1.0, 9.0));
  CHECK(std::abs(stats_of(wide).mean - 1.0) < 0.04);
  CHECK(dosim::sample_mean(stream().words(0)[2], 0, 1.0, 1.0) == 0.0);
  CHECK(dosim::sample_mean(stream().words(0)[2], 5, 0.2, 0.0) == 0.2);
}

TEST_CASE("Measurement: a tick's busy share spreads as a compound Poisson sum, damped by the queue",
          "[measurement]") {
  // By hand: u 0.2, 10 ms on one worker, 1 s ticks: 2 u s / (N dt) = 0.004; straddling
  // 1 - (1 - e^-100) / 100 = 0.99; tau / dt = 1.2 x 0.01 / 0.64 = 0.01875, damping
  // 1 / (1 + 0.382 x 0.01875^0.75).
  const double damping = 1.0 / (1.0 + 0.382 * std::pow(0.01875, 0.75));
  CHECK(dosim::busy_spread(0.2, 0.01, 1, 1, 1.0) ==
        Approx(std::sqrt(0.004 * 0.99 * damping)).epsilon(1e-12));
  // Four workers behind one queue share the sum: a quarter of the variance, and a queue of
  // four relaxes four times as fast.
  const double four = 1.0 / (1.0 + 0.382 * std::pow(0.01875 / 4, 0.75));
  CHECK(dosim::busy_spread(0.2, 0.01, 4, 4, 1.0) ==
        Approx(std::sqrt(0.001 * 0.99 * four)).epsilon(1e-12));
  // A request as long as the tick splits its busy time between two: 1 - (1 - e^-1).
  const double x = 1.2 * 1.0 / 0.64;
  CHECK(dosim::busy_spread(0.2, 1.0, 1, 1, 1.0) ==
        Approx(std::sqrt(0.4 * std::exp(-1.0) / (1.0 + 0.382 * std::pow(x, 0.75)))).epsilon(1e-12));
  // Near saturation the queue keeps the workers busy: the spread falls below the sum's
  // sqrt(2 x 0.97 x 0.01) = 0.139 by more than half (the request level: 0.063), below that
  // at half load; it is 0 at 0 and 1.
  CHECK(dosim::busy_spread(0.97, 0.01, 1, 1, 1.0) < 0.5 * std::sqrt(2 * 0.97 * 0.01));
  CHECK(dosim::busy_spread(0.97, 0.01, 1, 1, 1.0) < dosim::busy_spread(0.5, 0.01, 1, 1, 1.0));
  CHECK(dosim::busy_spread(1.0, 0.01, 1, 1, 1.0) == 0.0);
  CHECK(dosim::busy_spread(0.0, 0.01, 1, 1, 1.0) == 0.0);
  CHECK(dosim::busy_spread(0.5, 0.01, 0, 1, 1.0) == 0.0);
  // Longer ticks average more requests: a minute's spread is about an eighth of a second's.
  CHECK(dosim::busy_spread(0.2, 0.01, 1, 1, 60.0) ==
        Approx(dosim::busy_spread(0.2, 0.01, 1, 1, 1.0) / std::sqrt(60.0)).epsilon(0.02));
}

TEST_CASE("Measurement: a busy share cut at 0 and 1 keeps its mean", "[measurement]") {
  // The mean of bounded_share over a standard normal score, by the midpoint rule on
  // [-9, 9]: the model's utilisation, where a share cut at 1 alone read 0.865 for 0.9.
  const auto mean_of = [](double u, double spread) {
    constexpr int kSteps = 200000;
    const double h = 18.0 / kSteps;
    double sum = 0, weight = 0;
    for (int i = 0; i < kSteps; ++i) {
      const double z = -9.0 + (i + 0.5) * h;
      const double w = std::exp(-0.5 * z * z);
      sum += w * dosim::bounded_share(u, spread, z);
      weight += w;
    }
    return sum / weight;
  };
  for (const double u : {0.9, 0.95, 0.995, 0.5, 0.05, 0.003}) {
    for (const double spread : {0.01, 0.1, 0.3}) {
      CAPTURE(u, spread);
      CHECK(mean_of(u, spread) == Approx(u).margin(1e-9));
    }
  }
  // Every reading within [0, 1], and a saturated tick reads 1 (an atom, as at the request
  // level).
  for (const double z : {-40.0, -3.0, 0.0, 3.0, 40.0}) {
    CHECK(dosim::bounded_share(0.9, 0.1, z) >= 0.0);
    CHECK(dosim::bounded_share(0.9, 0.1, z) <= 1.0);
  }
  CHECK(dosim::bounded_share(0.9, 0.1, 3.0) == 1.0);
  // Far from both cuts the share is u + spread z, bit for bit.
  CHECK(dosim::bounded_share(0.5, 0.05, 1.5) == 0.5 + 0.05 * 1.5);
  CHECK(dosim::bounded_share(0.3, 0.0, 2.0) == 0.3);
}
