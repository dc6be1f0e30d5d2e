#include "world.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <complex>
#include <string>
#include <thread>

#include "fluid_queue.h"
#include "measurement.h"
#include "queue_latency.h"
#include "util/cores.h"

namespace dosim {
namespace {

// The least share of its capacity a service keeps under cpu-stress faults: the scheduler
// still runs its threads beside the stressors (docs/world-model.md, CPU stress).
constexpr double kLeastCpuShare = 0.01;

EdgeList edges_of(const Scenario& scenario) {
  EdgeList edges;
  for (const DependencySpec& d : scenario.dependencies) edges.emplace_back(d.caller, d.callee);
  return edges;
}

// A delay of mean `delay` and standard deviation `jitter` on a share `fraction` of requests.
void add_delay(Moments& target, double fraction, double delay, double jitter = 0.0) {
  target.mean += fraction * delay;
  target.var += fraction * jitter * jitter + fraction * (1.0 - fraction) * delay * delay;
}

// The same delay, in moments for the fluid model and as a part for the request level. On
// some replicas only (`replicas`, of `share` of the traffic under balancing) the fluid
// model sees it on that share of the requests.
void add_delay(Moments& target, std::vector<DelayPart>& parts, double fraction, double delay,
               double jitter, int source, std::vector<int> replicas = {}, double share = 1.0) {
  if (share <= 0) return;
  add_delay(target, fraction * share, delay, jitter);
  parts.push_back({fraction, delay, jitter, share, source, std::move(replicas)});
}

void add_abort(double& target, double fraction) {
  target = 1.0 - (1.0 - target) * (1.0 - fraction);
}

// The same abort, as a share for the fluid model and as a part for the request level.
void add_abort(double& target, std::vector<AbortPart>& parts, double fraction, int source,
               int status = 503, std::vector<int> replicas = {}, double share = 1.0) {
  if (fraction <= 0 || share <= 0) return;
  add_abort(target, fraction * share);
  parts.push_back({fraction, source, status, std::move(replicas)});
}

Moments operator+(Moments a, Moments b) { return {a.mean + b.mean, a.var + b.var}; }

// Expected attempts 1 + q + ... + q^retries for per-attempt failure probability q.
double expected_attempts(double q, int retries) {
  double total = 1.0;
  double power = 1.0;
  for (int k = 0; k < retries; ++k) {
    power *= q;
    total += power;
  }
  return total;
}

// The calls a request makes on a dependency it calls `calls` = w + f times (w whole calls,
// one more with chance f), each failing after its retries with chance `failure`, in turn:
// the request ends at the first that fails, so call i is made with chance (1 - F)^(i - 1).
// `mean` and `var` of the number made, and the share `passing` them all. F = 0: w + f, f (1 -
// f), 1.
struct CallCount {
  double mean = 0, var = 0, passing = 1;
};
CallCount calls_made(double calls, double failure) {
  const double whole = std::floor(calls), f = calls - whole;
  if (!(failure > 0)) return {calls, f * (1.0 - f), 1.0};
  const double fail = std::min(1.0, failure);  // rounding may pass 1
  const double log_pass = std::log1p(-fail);    // -inf where every call fails
  const double all_pass = whole > 0 ? std::exp(whole * log_pass) : 1.0;
  const double some_fail = whole > 0 ? -std::expm1(whole * log_pass) : 0.0;
  CallCount count;
  count.mean = some_fail / fail + f * all_pass;
  count.passing = all_pass * (1.0 - f * fail);
  // E[N^2] = sum over calls i of (2i - 1) P(N >= i), the fractional call the (w + 1)-th.
  double second = 0, reached = 1.0;
  const int counted = static_cast<int>(std::min(whole, 1000.0));
  for (int i = 1; i <= counted && reached > 1e-12; ++i) {
    second += (2.0 * i - 1.0) * reached;
    reached *= 1.0 - fail;
  }
  second += (2.0 * whole + 1.0) * f * all_pass;
  count.var = std::max(0.0, second - count.mean * count.mean);
  return count;
}

// p^retries, for the share of calls whose every attempt failed.
double failure_power(double q, int retries) {
  double power = 1.0;
  for (int k = 0; k < retries; ++k) power *= q;
  return power;
}

// The longest wait before retry k (1-based): min(10, 2^k - 1) back-offs (the request
// level's, docs/scenario-format.md, retry_backoff).
double backoff_width(int k, double backoff) {
  return (k >= 4 ? 10.0 : static_cast<double>((1 << k) - 1)) * backoff;
}

// Moments of the waits before a call's retries: retry k waits a uniform time in
// (0, backoff_width(k)] after k failed attempts (chance failure^k): the sum of
// I_k U_k with nested indicators, so E[I_j I_k] = failure^max(j, k).
Moments retry_waits(double failure, int retries, double backoff) {
  // Below 1e-9 failures the waits add less than 1e-8 back-offs: none (most edges, most ticks).
  if (!(backoff > 0) || retries <= 0 || !(failure > 1e-9)) return {};
  double mean = 0, second = 0, power = 1, means_before = 0;
  for (int k = 1; k <= retries; ++k) {
    power *= failure;
    const double width = backoff_width(k, backoff);
    mean += power * 0.5 * width;
    second += power * (width * width / 3.0 + 2.0 * means_before * 0.5 * width);
    means_before += 0.5 * width;
  }
  return {mean, std::max(0.0, second - mean * mean)};
}

// Round robin sends a retry to the replica m + 1 places after the one that failed it, m the
// callee's other requests picked in between (Poisson of `rate` over the back-off, uniform
// over its `width`): the chance that it is the same replica, P(m = R - 1 mod R), by the
// discrete Fourier sum over the R-th roots of unity (E[w^m] over the uniform wait is
// (e^(a z) - 1) / (a z), z = w - 1, a = rate x width). Long waits: 1 / R.
double same_replica_again(int replicas, double rate, double width) {
  const double a = rate * width;
  if (replicas <= 1) return 1.0;
  if (a > 50.0 * replicas) return 1.0 / replicas;
  std::complex<double> sum = 0;
  for (int l = 0; l < replicas; ++l) {
    const double angle = 2.0 * M_PI * l / replicas;
    const std::complex<double> w(std::cos(angle), std::sin(angle));
    const std::complex<double> z = a * (w - 1.0);
    const std::complex<double> mean_power = std::abs(z) < 1e-12 ? 1.0 : (std::exp(z) - 1.0) / z;
    sum += w * mean_power;  // w^-(R - 1) = w, as w^R = 1
  }
  return std::clamp(sum.real() / replicas, 0.0, 1.0);
}

// A call's attempts when `bad` of the callee's `replicas` fail `fraction` of what reaches
// them at once (an error fault with a `mode`) and round robin picks the replica of each
// retry (same_replica_again; the other bad ones spread evenly over the other places):
// attempts land on a bad pod or not as a two-state chain, other failures independent, so
// that `failure` (one attempt's chance) is kept. Expected attempts and the chance that all
// of them fail; independent attempts when the retries land anywhere.
struct RetryChain {
  double attempts = 1, call_failure = 0;
};
RetryChain round_robin_retries(double failure, int bad, int replicas, double fraction,
                               int retries, double rate, double backoff) {
  const double b = static_cast<double>(bad) / replicas;
  const double pod = b * fraction;
  const double other = std::clamp((failure - pod) / std::max(1e-12, 1.0 - pod), 0.0, 1.0);
  const double fail_bad = 1.0 - (1.0 - fraction) * (1.0 - other), fail_good = other;
  double on_bad = b * fail_bad, on_good = (1.0 - b) * fail_good;  // landed there, failed
  RetryChain chain;
  for (int k = 1; k <= retries; ++k) {
    const double again = same_replica_again(replicas, rate, backoff_width(k, backoff));
    const double from_bad = again + (1.0 - again) * (bad - 1) / std::max(1, replicas - 1);
    const double from_good = (1.0 - again) * bad / std::max(1, replicas - 1);
    chain.attempts += on_bad + on_good;
    const double next_bad = (on_bad * from_bad + on_good * from_good) * fail_bad;
    const double next_good = (on_bad * (1.0 - from_bad) + on_good * (1.0 - from_good)) * fail_good;
    on_bad = next_bad;
    on_good = next_good;
  }
  chain.call_failure = on_bad + on_good;
  return chain;
}

// What a delay d ± j (variance `jitter_var`) on a share p of the requests adds to their
// latency: mean p d, variance p j² + p (1 − p) d² (add_delay's, for taking it out again).
Moments delay_moments(double p, double delay, double jitter_var) {
  return {p * delay, p * jitter_var + p * (1.0 - p) * delay * delay};
}

// The fast latency with a delay's jitter (variance `jitter_var`) added, its mean raised by
// `lead` (jitter_lead): the body a delayed share's parts are placed at.
LogNormal delayed_body(const Moments& fast, double lead, double jitter_var) {
  return fit_lognormal(Moments{fast.mean + lead, std::max(0.0, fast.var + jitter_var)});
}

// How far ahead of its delay a jittered delayed share's body is placed, its mean raised as
// much: a delay d ± j is a shift of d - lead and a log-normal of the fast latency's variance
// plus j² about the fast mean plus lead. Without a lead the jitter widened a log-normal of the
// fast mean (j = 50 ms about 15 ms: a coefficient of variation of 3), whose mass stayed near
// the shift, so a timeout above the delay cut a sixth of what it does. Three deviations, or
// the whole shift where it is less (delays drawn below 0 are 0).
double jitter_lead(double shift, double jitter_var) {
  return jitter_var > 0 ? std::min(shift, 3.0 * std::sqrt(jitter_var)) : 0.0;
}

// Calls f(weight, position) for each part of a delay mixture's delayed share: its weight
// (they sum to 1) and where its body starts (its shift less d.lead; the shifts' mean is
// d.shift).
template <class F>
void for_each_part(const DelayMixture& d, F f) {
  if (d.steps <= 1) {
    f(1.0, d.shift - d.lead);
    return;
  }
  constexpr int kMostSteps = 16;
  double weight[kMostSteps], offset[kMostSteps];
  const int steps = std::min(d.steps, kMostSteps);
  // With a first part (first_ratio > 0): it holds 1 - first_ratio at offset 0, and the train
  // after it the rest, from first_spacing on.
  const int first = d.first_ratio > 0 ? 1 : 0;
  double mean = 0, power = first ? d.first_ratio : 1.0;
  if (first) {
    weight[0] = 1.0 - d.first_ratio;
    offset[0] = 0;
  }
  for (int k = first; k < steps; ++k) {
    const int j = k - first;  // its place in the train
    const bool last = k == steps - 1;
    weight[k] = last ? power : (1.0 - d.ratio) * power;
    // The back-offs waited: before each retry its part made (all of them for the last).
    double waited = 0;
    for (int i = 1; i <= (last ? j : j + 1); ++i) waited += 0.5 * backoff_width(i, d.backoff);
    offset[k] =
        (first ? d.first_spacing : 0.0) + j * d.spacing + waited - (last ? d.last_less : 0.0);
    power *= d.ratio;
  }
  for (int k = 0; k < steps; ++k) mean += weight[k] * offset[k];
  for (int k = 0; k < steps; ++k) f(weight[k], d.shift - mean + offset[k] - d.lead);
}

// The variance of the parts' shifts about their mean (0 for one part).
double parts_variance(const DelayMixture& d) {
  double var = 0;
  const double mean = d.shift - d.lead;
  for_each_part(d, [&](double w, double at) { var += w * (at - mean) * (at - mean); });
  return var;
}

// The q-quantile of a delay mixture: Newton's method on its CDF inside a bracket that
// holds it (bracketed_newton), from the fast share's quantile where it holds q, else the
// bracket's middle.
double quantile(const DelayMixture& d, double q) {
  const auto cdf_density = [&](double x) {
    double delayed = 0, delayed_density = 0;
    for_each_part(d, [&](double w, double shift) {
      const auto [c, f] = lognormal_cdf_density(d.body, x - shift);
      delayed += w * c;
      delayed_density += w * f;
    });
    const auto [c, f] = lognormal_cdf_density(d.fast, x);
    return std::pair{(1.0 - d.share) * c + d.share * delayed,
                     (1.0 - d.share) * f + d.share * delayed_density};
  };
  double most = 0;
  for_each_part(d, [&](double, double at) { most = std::max(most, at); });
  double high = std::max(1e-9, most + 2.0 * d.body.mean_value);
  while (cdf_density(high).first < q && high < 1e12) high *= 2;
  const double fast_share = 1.0 - d.share;
  const double start = q < fast_share && !d.fast.degenerate
                           ? lognormal_quantile(d.fast, normal_quantile(q / fast_share))
                           : 0.5 * high;
  return bracketed_newton(cdf_density, q, 0.0, high, start);
}

// Moments of min(L, timeout) and P(L > timeout) for L a delay mixture: the fast share's
// log-normal cut at the timeout, and the delayed share's, shift + B, whose
// min(shift + B, T) is shift + min(B, T - shift) (all of it T when T <= shift).
// `shape`: the service's exact queue shape, for a `shaped` mixture.
Truncated truncate_at(const DelayMixture& d, const QueueLatency& shape, double timeout) {
  const Truncated fast = d.shaped ? truncate_at(shape, timeout) : truncate_at(d.fast, timeout);
  Truncated out;
  double second = 0;
  const auto add = [&](double weight, const Truncated& part) {
    out.p_timeout += weight * part.p_timeout;
    out.moments.mean += weight * part.moments.mean;
    second += weight * (part.moments.var + part.moments.mean * part.moments.mean);
  };
  add(1.0 - d.share, fast);
  if (d.normal_delay) {
    add(d.share, truncate_delayed_at(d.fast, d.shift, std::sqrt(d.jitter_var), timeout));
    out.moments.var = std::max(0.0, second - out.moments.mean * out.moments.mean);
    return out;
  }
  for_each_part(d, [&](double w, double shift) {
    Truncated body;
    if (timeout <= shift) {
      body.moments = {timeout, 0.0};
      body.p_timeout = 1.0;
    } else {
      body = d.shaped ? truncate_at(shape, timeout - shift) : truncate_at(d.body, timeout - shift);
      body.moments.mean += shift;
    }
    add(d.share * w, body);
  });
  out.moments.var = std::max(0.0, second - out.moments.mean * out.moments.mean);
  return out;
}

// Moments of min(L, timeout) and P(L > timeout) for L a mixture of shifted log-normals;
// only the parts shifted by at most `most_shift` (all by default), their weights normalised.
Truncated truncate_at(const LogNormalMixture& m, double timeout, double most_shift = HUGE_VAL) {
  Truncated out;
  double second = 0, weight = 0;
  for (std::size_t i = 0; i < m.parts.size(); ++i) {
    const double shift = m.shifts[i], w = m.weights[i];
    if (shift > most_shift || !(w > 0)) continue;
    Truncated part;
    if (timeout <= shift) {
      part.moments = {timeout, 0.0};
      part.p_timeout = 1.0;
    } else {
      part = truncate_at(m.parts[i], timeout - shift);
      part.moments.mean += shift;
    }
    weight += w;
    out.p_timeout += w * part.p_timeout;
    out.moments.mean += w * part.moments.mean;
    second += w * (part.moments.var + part.moments.mean * part.moments.mean);
  }
  if (!(weight > 0)) return {};
  out.p_timeout /= weight;
  out.moments.mean /= weight;
  second /= weight;
  out.moments.var = std::max(0.0, second - out.moments.mean * out.moments.mean);
  return out;
}

// The q-quantile of a service of exact shape `d` whose requests a share `p` of are delayed
// by exactly `delay`: (1 - p) S(x) + p S(x - delay) = 1 - q, by Newton's method inside the
// bracket from 0 to the shape's own quantile plus the delay (bracketed_newton).
double shifted_share_quantile(const QueueLatency& d, double p, double delay, double q) {
  const auto cdf_density = [&](double x) {
    double own = 0, shifted = 0;
    const double s = survival_and_density(d, std::max(0.0, x), own);
    const double t = x >= delay ? survival_and_density(d, x - delay, shifted) : 1.0;
    return std::pair{1.0 - ((1.0 - p) * s + p * t), (1.0 - p) * own + p * shifted};
  };
  const double own = quantile(d, q);
  return bracketed_newton(cdf_density, q, 0.0, own + delay, own);
}

// The q-quantile of a delay mixture whose fast share is `shape` where it is `shaped`.
double mixture_quantile_of(const DelayMixture& m, const QueueLatency& shape, double q) {
  if (!m.shaped) return quantile(m, q);
  return shifted_share_quantile(shape, m.share, m.shift, std::min(q, 1.0 - 1e-12));
}

// The one delay part of a service that reaches some of its requests but not all (and no
// other delay), or null.
const DelayPart* partial_delay(const std::vector<DelayPart>& parts) {
  if (parts.size() != 1) return nullptr;
  const double p = parts[0].fraction * parts[0].share;
  return p > 0 && p < 1 && parts[0].delay > 0 ? &parts[0] : nullptr;
}

// The one delay part of a service, partial or reaching all of its requests (a shift of
// its whole latency, not a log-normal of the sum), or null.
const DelayPart* one_delay(const std::vector<DelayPart>& parts) {
  if (parts.size() != 1) return nullptr;
  const double p = parts[0].fraction * parts[0].share;
  return p > 0 && p <= 1 && parts[0].delay > 0 ? &parts[0] : nullptr;
}

// A call made by a share `fraction` of a service's requests (beyond their whole calls):
// its moments, third central moment, and f (1 - f) mean^2, its part of the variance.
struct SplitCall {
  double fraction = 0;
  Moments call;
  double third = 0;
  double score = 0;
  int dependency = -1;
};
// The fractional calls that split a service's requests most, largest score first: its
// latency is a mixture over which of them a request makes (World::compute).
constexpr int kSplitCalls = 2;
struct SplitCalls {
  SplitCall calls[kSplitCalls];
  int count = 0;
  void add(const SplitCall& call) {
    int at = count < kSplitCalls ? count++ : kSplitCalls;
    while (at > 0 && calls[at - 1].score < call.score) {
      if (at < kSplitCalls) calls[at] = calls[at - 1];
      --at;
    }
    if (at < kSplitCalls) calls[at] = call;
  }
};

// How much of that mixture a service's percentiles take (the rest the one gamma of all),
// 0 to 1 and continuous in the moments, so that no service jumps between the two shapes
// from tick to tick: all of it where the calls make the sum more skewed than a gamma (the
// shift of the gamma of three moments at least 5 % of the mean: the groups' skew would
// read as a shift) or the largest call's mean is at least twice the deviation of the rest
// of the latency (it stands clear), none where the shift is 0 and the call is within 1.9
// deviations, in proportion between. (Bench's synthetic services, two calls of 0.5 each,
// are within 1.82 deviations; 13 of 800 have a shift, 11 of them of 20 to 35 % of the mean.)
double split_weight(const SplitCalls& split, const Moments& all, double shift) {
  const double skewed = all.mean > 0 ? shift / (0.05 * all.mean) : 0.0;
  const SplitCall& top = split.calls[0];
  const double rest_var = all.var - top.fraction * top.call.var -
                          top.fraction * (1.0 - top.fraction) * top.call.mean * top.call.mean;
  const double clear =
      rest_var > 0 ? (top.call.mean / std::sqrt(rest_var) - 1.9) / 0.1 : 1.0;
  return std::clamp(std::max(skewed, clear), 0.0, 1.0);
}

// The latency of requests of moments `all` and third central moment `third` that make the
// fractional calls `split` (each with its chance, independently) as the mixture over which
// they make: 2^count parts, each the rest plus the calls made, weighted by their chances.
int split_parts(const Moments& all, double third, const SplitCalls& split, Moments* parts,
                double* thirds, double* weights) {
  Moments rest = all;
  double rest_third = third;
  for (int i = 0; i < split.count; ++i) {
    const SplitCall& c = split.calls[i];
    const double f = c.fraction, m = c.call.mean;
    rest.mean -= f * m;
    rest.var -= f * c.call.var + f * (1.0 - f) * m * m;
    rest_third -= f * c.third + 3.0 * f * (1.0 - f) * m * c.call.var +
                  f * (1.0 - f) * (1.0 - 2.0 * f) * m * m * m;
  }
  rest.var = std::max(0.0, rest.var);
  const int count = 1 << split.count;
  for (int subset = 0; subset < count; ++subset) {
    Moments part = rest;
    double part_third = rest_third, weight = 1.0;
    for (int i = 0; i < split.count; ++i) {
      const SplitCall& c = split.calls[i];
      if (subset & (1 << i)) {
        part = part + c.call;
        part_third += c.third;
        weight *= c.fraction;
      } else {
        weight *= 1.0 - c.fraction;
      }
    }
    parts[subset] = part;
    thirds[subset] = part_third;
    weights[subset] = weight;
  }
  return count;
}

// A service's slow pods: its delay part that acts on the replicas a latency fault's `mode`
// picked, on fewer than all of them (or, `every`, on all), or null.
const DelayPart* slow_pod(const std::vector<DelayPart>& parts, bool every = false) {
  for (const DelayPart& part : parts)
    if (!part.replicas.empty() && part.delay > 0 &&
        (every ? part.share >= 1 : part.share > 0 && part.share < 1))
      return &part;
  return nullptr;
}

// A slow pod's wait below capacity: `wait` is that of an exponential service, whose
// replicas now serve an exponential of mean `own` plus the part's delay, less variable;
// Allen and Cunneen's approximation scales it by (c_a^2 + c_s^2) / (c_a^2 + 1), c_a^2 the
// arrivals' squared coefficient of variation (1 / replicas under round robin).
Moments scaled_by_service_spread(const Moments& wait, double own, const DelayPart& slow,
                                 double arrivals_cv2) {
  Moments service{own, own * own};
  add_delay(service, slow.fraction, slow.delay, slow.jitter);
  const double f =
      (arrivals_cv2 + service.var / (service.mean * service.mean)) / (arrivals_cv2 + 1.0);
  return {wait.mean * f, wait.var * f * f};
}

bool is_zero(const Moments& m) { return m.mean == 0 && m.var == 0; }

// False when the timeout is so far in the tail that P(L > timeout) < 1e-6 (4.75 sigma): the
// common case, which then counts no timeouts and skips the partial-moment computation.
bool may_time_out(const LogNormal& d, double timeout) {
  if (d.mean_value <= 0) return false;
  if (d.degenerate) return d.mean_value > timeout;
  return std::log(timeout) - d.mu < 4.75 * d.sigma;
}

}  // namespace

void TickOutcome::reset(std::size_t services, std::size_t endpoints, std::size_t dependencies) {
  for (auto* v : {&arrivals, &aborted, &shed, &served, &utilization, &error_ratio, &p50, &p95, &p99,
                  &cpu, &fast_fail, &routed_error_ratio, &slow_share})
    v->assign(services, 0.0);
  slow_extra.assign(services, {});
  dispersion.assign(services, 1.0);
  spread_source.assign(services, -1);
  from_source.assign(services, 0.0);
  wait.assign(services, {});
  service_squeeze.assign(services, 1.0);
  latency.assign(services, {});
  latency_fit.assign(services, {});
  queue_shape.assign(services, {});
  queue_shaped.assign(services, 0);
  by_percentiles.assign(services, 0);
  gamma_c.assign(services, -1.0);
  edge_gamma_c.assign(dependencies, -1.0);
  gamma_shift.assign(services, 0.0);
  edge_gamma_shift.assign(dependencies, 0.0);
  latency_third.assign(services, std::nan(""));
  endpoint_third.assign(endpoints, std::nan(""));
  // Left as they are once sized: World::compute's backward pass clears each service's
  // share before anything reads it (a tick's 270 KB of mixtures rewritten took 5 % of it).
  if (delay_mixture.size() != services) delay_mixture.assign(services, {});
  if (passed_delay.size() != services) passed_delay.assign(services, {});
  endpoint_error.assign(endpoints, 0.0);
  endpoint_share.assign(endpoints, 0.0);
  for (auto* v : {&endpoint_p50, &endpoint_p95, &endpoint_p99}) v->assign(endpoints, 0.0);
  endpoint_latency.assign(endpoints, {});
  for (auto* v : {&edge_attempts, &edge_failure, &edge_call_failure, &edge_p50, &edge_p95,
                  &edge_p99, &edge_calls, &edge_atom, &edge_cap, &edge_delivered})
    v->assign(dependencies, 0.0);
  edge_dispersion.assign(dependencies, 1.0);
  edge_attempts_per_call.assign(dependencies, 1.0);
  edge_from_source.assign(dependencies, 0.0);
  edge_fit.assign(dependencies, {});
  edge_within.assign(dependencies, {});
  edge_lognormal.assign(dependencies, 0);
  edge_mixed.assign(dependencies, 0);
  endpoint_delayed.assign(services, 0);
  if (edge_mixture.size() != dependencies) edge_mixture.assign(dependencies, {});
}

World::World(const Scenario& scenario, std::uint64_t seed)
    : scenario_(scenario),
      topology_(static_cast<int>(scenario.services.size()), edges_of(scenario)),
      dt_(to_seconds(scenario.tick)),
      traffic_(scenario, seed),
      steering_(scenario),
      shadow_steering_(scenario),
      fault_active_(scenario.faults.size(), 0),
      pod_faults_(scenario, seed),
      operations_(scenario),
      autoscaler_(scenario),
      shadow_autoscaler_(scenario) {
  const std::size_t services = scenario.services.size();
  const std::size_t dependencies = scenario.dependencies.size();
  int frame_endpoints = 0;
  for (std::size_t s = 0; s < services; ++s) {
    const ServiceSpec& spec = scenario.services[s];
    concurrency_.push_back(spec.concurrency());
    endpoint_begin_.push_back(static_cast<int>(endpoints_.size()));
    if (spec.endpoints.empty()) {
      endpoints_.push_back({static_cast<int>(s), 1.0, 1.0, -1});
      continue;
    }
    // Each endpoint's processing time relative to the others': their weighted mean is the
    // service time workers / capacity_rps, so that a replica serves capacity_rps whatever
    // the mix (as at the request level; docs/scenario-format.md, latency_factor).
    double total_weight = 0, mean_factor = 0;
    for (const EndpointSpec& e : spec.endpoints) total_weight += e.weight;
    for (const EndpointSpec& e : spec.endpoints)
      mean_factor += e.weight / total_weight * e.latency_factor;
    for (const EndpointSpec& e : spec.endpoints)
      endpoints_.push_back({static_cast<int>(s), e.weight / total_weight,
                            e.latency_factor / mean_factor, frame_endpoints++});
  }
  endpoint_begin_.push_back(static_cast<int>(endpoints_.size()));
  edge_endpoint_begin_.push_back(0);
  for (const DependencySpec& dep : scenario.dependencies) {
    const int count = endpoint_begin_[dep.callee + 1] - endpoint_begin_[dep.callee];
    edge_endpoint_begin_.push_back(edge_endpoint_begin_.back() + (count > 1 ? count : 0));
  }
  external_.assign(services, 0.0);
  external_variance_.assign(services, 0.0);
  for (const TrafficSpec& source : scenario.traffic) regional_ = regional_ || source.regional();
  if (scenario.mode == WorldMode::kRequests) {
    requests_ = std::make_unique<RequestWorld>(scenario, topology_, seed);
    shadow_requests_ = std::make_unique<RequestWorld>(scenario, topology_, seed);
  }
  for (const ServiceSpec& spec : scenario.services) all_replicas_.push_back(spec.replicas);
  ready_ = all_replicas_;
  extra_memory_.assign(services, 0.0);
  unrouted_.assign(services, 0.0);
  no_unrouted_.assign(services, 0.0);
  for (const ServiceSpec& spec : scenario.services) autoscaled_ = autoscaled_ || spec.autoscaling;
  outcome_.reset(services, endpoints_.size(), dependencies);
  shadow_outcome_.reset(services, endpoints_.size(), dependencies);

  for (FaultModifiers* m : {&modifiers_, &no_faults_}) {
    m->service_delay.assign(services, {});
    m->service_delay_parts.assign(services, {});
    m->endpoint_delay_parts.assign(endpoints_.size(), {});
    m->edge_delay_parts.assign(dependencies, {});
    m->service_abort_parts.assign(services, {});
    m->endpoint_abort_parts.assign(endpoints_.size(), {});
    m->edge_abort_parts.assign(dependencies, {});
    m->edge_loss_parts.assign(dependencies, {});
    m->service_abort.assign(services, 0.0);
    m->service_capacity.assign(services, 1.0);
    m->endpoint_delay.assign(endpoints_.size(), {});
    m->endpoint_abort.assign(endpoints_.size(), 0.0);
    m->edge_delay.assign(dependencies, {});
    m->edge_abort.assign(dependencies, 0.0);
    m->edge_loss.assign(dependencies, 0.0);
  }
  for (DynamicState* st : {&state_, &shadow_state_}) {
    st->in_system.assign(services, -1.0);  // not started
    st->queue_level.assign(services, std::nan(""));
    st->attempt_failure.assign(dependencies, 0.0);
    st->call_failure.assign(dependencies, 0.0);
    st->attempts_per_call.assign(dependencies, 1.0);
    st->edge_endpoint_share.assign(edge_endpoint_begin_.back(), 0.0);
    st->edge_endpoint_skewed.assign(dependencies, 0);
    st->completed.resize(services);
    st->split.assign(services, {});
    st->replica_drift.assign(services, 0.0);
    st->driven.assign(services, 0);
    st->slow_in_system.assign(services, 0.0);
    st->slow_share.assign(services, 0.0);
  }

  for (std::size_t s = 0; s < services; ++s) {
    const std::uint64_t id = entity_id(scenario.services[s].name);
    latency_noise_.emplace_back(seed, id, Purpose::kLatencyNoise);
    resource_noise_.emplace_back(seed, id, Purpose::kResourceNoise);
    queue_noise_.emplace_back(seed, id, Purpose::kQueueNoise);
  }
  for (std::size_t d = 0; d < dependencies; ++d)
    edge_noise_.emplace_back(seed, entity_id(scenario.edge_name(static_cast<int>(d))),
                             Purpose::kLatencyNoise);

  // Levels for parallel ticks: a service sits one level below its deepest caller.
  std::vector<int> level_of(services, 0), position(services, 0);
  const std::vector<int>& order = topology_.order();
  for (std::size_t i = 0; i < order.size(); ++i) position[order[i]] = static_cast<int>(i);
  for (int s : order) {
    for (int d : topology_.incoming(s))
      level_of[s] = std::max(level_of[s], level_of[scenario.dependencies[d].caller] + 1);
    if (level_of[s] >= static_cast<int>(levels_.size())) levels_.resize(level_of[s] + 1);
    levels_[level_of[s]].push_back(s);
  }
  incoming_ordered_.assign(services, {});
  for (std::size_t s = 0; s < services; ++s) {
    std::vector<int> incoming = topology_.incoming(static_cast<int>(s));
    // Callers in topological order; one caller's dependencies in scenario order, as the
    // caller's outgoing list has them.
    std::stable_sort(incoming.begin(), incoming.end(), [&](int a, int b) {
      return position[scenario.dependencies[a].caller] < position[scenario.dependencies[b].caller];
    });
    incoming_ordered_[s] = std::move(incoming);
  }

  build_truth();
  impacted_.assign(services, 0);
  frame_.resize(services, dependencies, static_cast<std::size_t>(frame_endpoints));
  std::size_t places = 0;
  for (const ServiceSpec& service : scenario.services) places += service.zones.size();
  frame_.resize_places(places);
  std::size_t routes = 0;
  for (const TrafficSpec& source : scenario.traffic) routes += source.regions.size();
  frame_.resize_routes(routes);
}

void World::set_threads(int threads) {
  // No more threads than cores: every loop waits for its slowest part, and a part whose
  // thread has no core waits for a time slice. The parts change no value.
  threads = std::min(threads, usable_cores());
  pool_ = threads > 1 ? std::make_unique<TickPool>(threads) : nullptr;
}

// A loop is shared out when it has at least this many services or series (handing work to
// another core costs a few microseconds), each thread taking the same part of it every tick
// so that its data stays in that core's cache. Each service's or series' result is its own,
// so how the loop is cut changes no byte.
constexpr std::size_t kMinParallel = 32;

template <class Fn>
void World::run_services(const std::vector<int>& services, const Fn& fn) const {
  if (!pool_ || services.size() < kMinParallel) {
    for (int s : services) fn(s);
    return;
  }
  pool_->for_parts(services.size(), [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) fn(services[i]);
  });
}

void World::run_blocks(std::size_t count,
                       const std::function<void(std::size_t, std::size_t)>& fn) const {
  if (!pool_ || count < kMinParallel) {
    if (count > 0) fn(0, count);
    return;
  }
  pool_->for_parts(count, fn);
}

void World::advance_changes(SimTime t) {
  for (std::size_t c = 0; c < scenario_.changes.size(); ++c) {
    const ChangeState now = operations_.state(static_cast<int>(c), t);
    ChangeState& before = change_state_[c];
    if (now.exposure != before.exposure || now.unavailable != before.unavailable ||
        now.stuck != before.stuck)
      modifiers_dirty_ = true;
    before = now;
    const int cause = change_cause_[c];
    if (cause < 0) continue;
    const bool exposed = now.in_effect();
    const TruthPhase phase = truth_phase_[cause];
    if (exposed && (phase == TruthPhase::kPending || phase == TruthPhase::kRecovering ||
                    phase == TruthPhase::kDone))
      set_truth_phase(cause, TruthPhase::kActive);
    else if (!exposed && phase == TruthPhase::kActive)
      set_truth_phase(cause, TruthPhase::kRecovering);
  }
}

void World::apply_leaking_versions(SimTime t) {
  // The replicas on a leaking version (its exposed share) fill up from the version's start
  // (when its first replicas run: a rolling update's after their start time, not at `at`),
  // in step, and are OOM-killed and restarted at their baseline (10 s) as a memory-leak
  // fault's are.
  constexpr double kRestartSeconds = 10.0;
  leak_since_.resize(scenario_.changes.size(), -1);  // changes a script adds as it runs
  for (std::size_t c = 0; c < scenario_.changes.size(); ++c) {
    const ChangeSpec& change = scenario_.changes[c];
    const double exposure = change_state_[c].exposure;
    if (change.defect.leak_per_second <= 0 || exposure <= 0) {
      leak_since_[c] = -1;
      continue;
    }
    if (leak_since_[c] < 0) leak_since_[c] = t;
    const int s = change.services.front();
    const ServiceSpec& spec = scenario_.services[s];
    const int leaking =
        std::min(ready_[s], static_cast<int>(std::lround(exposure * all_replicas_[s])));
    if (leaking == 0) continue;
    const double fill = (1.0 - spec.memory_baseline) / change.defect.leak_per_second;
    const double position = std::fmod(to_seconds(t - leak_since_[c]), fill + kRestartSeconds);
    const int others = ready_[s] - leaking;
    if (position >= fill) {  // OOM-killed, restarting
      ready_[s] = others;
      continue;
    }
    const double leaked = position * change.defect.leak_per_second;
    extra_memory_[s] = (extra_memory_[s] * others + leaked * leaking) / ready_[s];
  }
}

void World::fill_zone_frame() {
  auto rps = frame_.zone(ZoneMetric::kRps);
  auto err = frame_.zone(ZoneMetric::kErrorRatio);
  auto p95 = frame_.zone(ZoneMetric::kLatencyP95);
  auto cpu = frame_.zone(ZoneMetric::kCpuRatio);
  auto ready = frame_.zone(ZoneMetric::kReadyReplicas);
  // From the service's series as measured (the frame), so that the zones add up to it.
  const auto service_rps = frame_.service(ServiceMetric::kRps);
  const auto service_error = frame_.service(ServiceMetric::kErrorRatio);
  const auto service_p95 = frame_.service(ServiceMetric::kLatencyP95);
  const auto service_cpu = frame_.service(ServiceMetric::kCpuRatio);
  std::size_t column = 0;
  for (std::size_t s = 0; s < scenario_.services.size(); ++s) {
    const ServiceSpec& spec = scenario_.services[s];
    const std::size_t places = spec.zones.size();
    if (places == 0) continue;
    // Replicas a replica fault took are known by zone; what else holds replicas back (a
    // rollout's step, a version that cannot start, autoscaling) is spread over the zones in
    // proportion.
    double pod_up = 0;
    std::vector<double>& up = zone_scratch_;
    up.assign(places, 0.0);
    for (std::size_t z = 0; z < places; ++z)
      pod_up += up[z] = pod_faults_.up_in_place(static_cast<int>(s), z);
    const double scale = pod_up > 0 ? ready_[s] / pod_up : 0.0;
    const std::vector<double> shares = spec.place_shares();
    const double arrivals = service_rps[s];
    const double u = unrouted_[s];
    // The error ratio of the replicas that answer: the service's without the unrouted share.
    // Where only part of the traffic is unrouted it is the model's, or at request level that
    // of the requests routed (the measured ratio's noise is mostly the unrouted share's,
    // which would show as errors of the zones that answer); else the measured one.
    const bool partly = u > 0 && u < 1.0;
    const double service_errors = partly ? outcome_.error_ratio[s] : double{service_error[s]};
    double live_error =
        u < 1.0 ? std::clamp(1.0 - (1.0 - service_errors) / (1.0 - u), 0.0, 1.0) : 1.0;
    if (partly && requests_) live_error = outcome_.routed_error_ratio[s];
    for (std::size_t z = 0; z < places; ++z, ++column) {
      const double zone_ready = up[z] * scale;
      const bool dark = zone_ready <= 0;
      // Failover sends a zone's requests to the replicas that are up; with none up anywhere
      // they arrive where they would have and fail there.
      const double zone_rps =
          spec.failover && ready_[s] > 0 ? arrivals * zone_ready / ready_[s] : arrivals * shares[z];
      ready[column] = static_cast<float>(zone_ready);
      rps[column] = static_cast<float>(zone_rps);
      err[column] = static_cast<float>(dark ? (zone_rps > 0 ? 1.0 : 0.0) : live_error);
      p95[column] = dark ? 0.0f : service_p95[s];
      cpu[column] = dark ? 0.0f : service_cpu[s];
    }
  }
}

void World::set_fault_active(int fault, bool active) {
  if ((fault_active_[fault] != 0) == active) return;
  fault_active_[fault] = active ? 1 : 0;
  modifiers_dirty_ = true;
  // The active lists stay ascending: modifiers add up in fault order, as they always did.
  const auto update = [&](std::vector<int>& list) {
    const auto at = std::lower_bound(list.begin(), list.end(), fault);
    if (active)
      list.insert(at, fault);
    else if (at != list.end() && *at == fault)
      list.erase(at);
  };
  update(active_faults_);
  if (acts_on_pods(scenario_.faults[fault].kind)) update(active_pod_faults_);
  const int cause = fault_cause_[fault];
  const TruthPhase phase = truth_phase_[cause];
  if (active && phase == TruthPhase::kPending) {
    set_truth_phase(cause, TruthPhase::kActive);
  } else if (!active && phase == TruthPhase::kActive) {
    set_truth_phase(cause, TruthPhase::kRecovering);
  }
}

void World::add_fault(int fault) {
  fault_active_.push_back(0);
  pod_faults_.add_fault(fault);
  add_fault_truth(fault);
}

void World::end_fault(int fault) {
  const FaultSpec& spec = scenario_.faults[fault];
  truth_[fault_cause_[fault]].end = spec.start + spec.duration;
}

void World::add_change(int change) {
  operations_.refresh();
  steering_.changes_modified();
  shadow_steering_.changes_modified();
  add_change_truth(change);
  refresh_change_windows();
}

void World::changes_modified() {
  operations_.refresh();
  steering_.changes_modified();  // a drain's restore
  shadow_steering_.changes_modified();
  refresh_change_windows();
}

void World::timeout_modified(int dependency, SimTime before, SimTime t) {
  const DependencySpec& dep = scenario_.dependencies[dependency];
  auto text = [](SimTime timeout) { return timeout > 0 ? format_duration(timeout) : "none"; };
  scale_log_.push_back(
      {t, "timeout",
       scenario_.services[dep.caller].name + "->" + scenario_.services[dep.callee].name,
       text(before), text(dep.timeout), ""});
  for (RequestWorld* requests : {requests_.get(), shadow_requests_.get()})
    if (requests) requests->set_timeout(dependency, dep.timeout);
}

void World::set_shed(int service, double fraction, SimTime t) {
  if (shed_.empty()) shed_.assign(scenario_.services.size(), 0.0);
  auto percent = [](double share) {
    return std::to_string(static_cast<int>(std::lround(share * 100))) + "%";
  };
  scale_log_.push_back({t, "shed", scenario_.services[service].name, percent(shed_[service]),
                        percent(fraction), ""});
  shed_[service] = fraction;
  // Shedding is the only part of no_faults_'s service aborts: rebuild it from shed_.
  no_faults_.service_abort[service] = 0.0;
  no_faults_.service_abort_parts[service].clear();
  add_abort(no_faults_.service_abort[service], no_faults_.service_abort_parts[service], fraction,
            -1, 429);
  modifiers_dirty_ = true;
}

void World::refresh_change_windows() {
  // A deployment moves the windows of the changes incompatible with its service's versions.
  for (std::size_t c = 0; c < scenario_.changes.size(); ++c)
    if (change_cause_[c] >= 0) set_change_window(static_cast<int>(c));
}

void World::set_replicas(int service, int replicas, SimTime t) {
  const ServiceSpec& spec = scenario_.services[service];
  const int before = spec.autoscaling ? autoscaler_.desired(service) : all_replicas_[service];
  scale_log_.push_back(
      {t, "scale", spec.name, std::to_string(before), std::to_string(replicas), ""});
  all_replicas_[service] = replicas;
  pod_faults_.set_replicas(service, replicas);
  if (!spec.autoscaling) return;
  autoscaler_.set_replicas(service, replicas, t);
  if (shadow_running_) shadow_autoscaler_.set_replicas(service, replicas, t);
}

int World::replica_count(int service) const {
  return scenario_.services[service].autoscaling ? autoscaler_.desired(service)
                                                 : all_replicas_[service];
}

void World::rebuild_modifiers() {
  modifiers_ = no_faults_;
  for (const int f : active_faults_) {
    const FaultSpec& fault = scenario_.faults[f];
    const FaultTarget& target = fault.target;
    // A latency or error fault with a `mode`: the replicas of service s it acts on, and the
    // share of s's requests they get (balancing spreads them evenly).
    std::vector<int> hit;
    const auto replicas_of = [&](int s) -> double {
      hit.clear();
      if (fault.mode == PodMode::kAll) return 1.0;
      hit = pod_faults_.replicas_hit(f, s);
      const int running = pod_faults_.replicas(s);
      return running > 0 ? static_cast<double>(hit.size()) / running : 0.0;
    };
    switch (fault.kind) {
      case FaultKind::kLatency: {
        const double delay = to_seconds(fault.fixed_delay), jitter = to_seconds(fault.jitter);
        if (target.is_edge())
          add_delay(modifiers_.edge_delay[target.dependency],
                    modifiers_.edge_delay_parts[target.dependency], fault.fraction, delay, jitter,
                    f);
        else if (target.endpoint >= 0) {
          const double share = replicas_of(target.service);
          add_delay(
              modifiers_.endpoint_delay[endpoint_begin_[target.service] + target.endpoint],
              modifiers_.endpoint_delay_parts[endpoint_begin_[target.service] + target.endpoint],
              fault.fraction, delay, jitter, f, hit, share);
        } else {
          for (int s : target.services()) {
            const double share = replicas_of(s);
            add_delay(modifiers_.service_delay[s], modifiers_.service_delay_parts[s],
                      fault.fraction, delay, jitter, f, hit, share);
          }
        }
        break;
      }
      case FaultKind::kError:
        if (target.is_edge()) {
          add_abort(modifiers_.edge_abort[target.dependency],
                    modifiers_.edge_abort_parts[target.dependency], fault.fraction, f,
                    fault.http_status);
        } else if (target.endpoint >= 0) {
          const int e = endpoint_begin_[target.service] + target.endpoint;
          const double share = replicas_of(target.service);
          add_abort(modifiers_.endpoint_abort[e], modifiers_.endpoint_abort_parts[e],
                    fault.fraction, f, fault.http_status, hit, share);
        } else {
          for (int s : target.services()) {
            const double share = replicas_of(s);
            add_abort(modifiers_.service_abort[s], modifiers_.service_abort_parts[s],
                      fault.fraction, f, fault.http_status, hit, share);
          }
        }
        break;
      case FaultKind::kCpuStress:
        // However many stressors, the scheduler leaves the service's own threads a share:
        // at least kLeastCpuShare of its capacity (a load of 100 % is not an outage).
        for (int s : target.services())
          modifiers_.service_capacity[s] =
              std::max(kLeastCpuShare, modifiers_.service_capacity[s] * (1.0 - fault.cpu_load));
        break;
      case FaultKind::kPacketLoss:
        add_abort(modifiers_.edge_loss[target.dependency],
                  modifiers_.edge_loss_parts[target.dependency], fault.fraction, f);
        break;
      case FaultKind::kPartition:  // the calls of caller replicas cut off from the callee
        for (const auto& [d, lost] : severed_[f])
          add_abort(modifiers_.edge_loss[d], modifiers_.edge_loss_parts[d], lost, f);
        break;
      default:  // replica faults act through PodFaults, tick by tick
        break;
    }
  }
  // Defects of changes, in proportion to the traffic they reach.
  for (std::size_t c = 0; c < scenario_.changes.size(); ++c) {
    const ChangeSpec& change = scenario_.changes[c];
    const double exposure = change_state_[c].exposure;
    if (exposure <= 0 || !change.defect.any()) continue;
    for (int s : defect_services(change)) {
      const int source = -2 - static_cast<int>(c);
      if (change.defect.latency > 0)
        add_delay(modifiers_.service_delay[s], modifiers_.service_delay_parts[s], exposure,
                  to_seconds(change.defect.latency), 0.0, source);
      add_abort(modifiers_.service_abort[s], modifiers_.service_abort_parts[s],
                exposure * change.defect.error, source);
    }
  }
  modifiers_dirty_ = false;
}

void World::arrival_spread(int s, const std::vector<double>& external,
                           const std::vector<double>& external_variance, double arrivals,
                           TickOutcome& out) const {
  // Variance (per second of tick) of the count: the external arrivals' and each incoming
  // dependency's (its rate times its dispersion), plus the covariance of calls whose
  // callers serve the same source's requests: two such streams bring c and c' calls a
  // second of a source of rate L and count variance V (L for Poisson), and share its count,
  // so they covary by c c' V / L^2 (their fan-outs' own randomness left out).
  const std::vector<int>& incoming = incoming_ordered_[s];
  double variance = external_variance[s];
  int source = s;
  double from = external[s];
  for (std::size_t i = 0; i < incoming.size(); ++i) {
    const int d = incoming[i];
    variance += out.edge_delivered[d] * out.edge_dispersion[d];
    const int g = out.spread_source[scenario_.dependencies[d].caller];
    if (g < 0 || !(external[g] > 0)) continue;
    bool seen = false;  // each source's streams once, at its first
    for (std::size_t j = 0; j < i && !seen; ++j)
      seen = out.spread_source[scenario_.dependencies[incoming[j]].caller] == g;
    if (seen) continue;
    double sum = 0, squares = 0;
    for (std::size_t j = i; j < incoming.size(); ++j) {
      if (out.spread_source[scenario_.dependencies[incoming[j]].caller] != g) continue;
      const double c = out.edge_from_source[incoming[j]];
      sum += c;
      squares += c * c;
    }
    variance += (sum * sum - squares) * external_variance[g] / (external[g] * external[g]);
    if (sum > from || (sum == from && g < source)) {
      source = g;
      from = sum;
    }
  }
  out.spread_source[s] = from > 0 ? source : -1;
  out.from_source[s] = from;
  out.dispersion[s] = arrivals > 0 ? variance / arrivals : 1.0;
}

void World::endpoint_shares(int s, const std::vector<double>& external, const DynamicState& state,
                            TickOutcome& out) const {
  const int first = endpoint_begin_[s], count = endpoint_begin_[s + 1] - first;
  bool skewed = false;
  for (int d : incoming_ordered_[s]) skewed = skewed || state.edge_endpoint_skewed[d];
  if (!skewed || !(out.arrivals[s] > 0)) {
    for (int e = first; e < first + count; ++e) out.endpoint_share[e] = endpoints_[e].weight;
    return;
  }
  // Its external requests by weight, each caller's attempts as they were split last tick
  // (its arrivals by weight where its retries were not skewed).
  for (int e = first; e < first + count; ++e)
    out.endpoint_share[e] = external[s] * endpoints_[e].weight;
  for (int d : incoming_ordered_[s]) {
    const double* share = &state.edge_endpoint_share[edge_endpoint_begin_[d]];
    for (int e = first; e < first + count; ++e)
      out.endpoint_share[e] += out.edge_delivered[d] *
                               (state.edge_endpoint_skewed[d] ? share[e - first] : endpoints_[e].weight);
  }
  for (int e = first; e < first + count; ++e) out.endpoint_share[e] /= out.arrivals[s];
}

void World::compute(std::int64_t tick, const std::vector<double>& external,
                    const std::vector<double>& external_variance, const FaultModifiers& mod,
                    const std::vector<int>& ready, const std::vector<double>& unrouted,
                    DynamicState& state, TickOutcome& out) const {
  const std::size_t services = scenario_.services.size();
  const std::size_t dependencies = scenario_.dependencies.size();
  out.reset(services, endpoints_.size(), dependencies);
  out.edge_endpoint_share.assign(edge_endpoint_begin_.back(), 0.0);
  out.edge_endpoint_skewed.assign(dependencies, 0);
  std::copy(external.begin(), external.end(), out.arrivals.begin());
  // Calls per caller request on each dependency: as declared, and on a fallback dependency
  // also the calls of its optional dependency that failed on the previous tick.
  for (std::size_t d = 0; d < dependencies; ++d)
    out.edge_calls[d] += scenario_.dependencies[d].calls_per_request;
  for (std::size_t d = 0; d < dependencies; ++d) {
    const DependencySpec& dep = scenario_.dependencies[d];
    if (dep.fallback < 0) continue;
    out.edge_calls[dep.fallback] += dep.calls_per_request * state.call_failure[d];
  }

  // 1. Load flows from callers to callees. A service's arrivals are its external traffic
  // plus what its callers deliver, added in the callers' topological order (the same sum
  // whichever thread computes it): services of one level run in parallel.
  const auto forward = [&](int s) {
    const ServiceSpec& spec = scenario_.services[s];
    double delivered = out.arrivals[s];
    for (int d : incoming_ordered_[s]) delivered += out.edge_delivered[d];
    arrival_spread(s, external, external_variance, delivered, out);
    out.arrivals[s] = delivered;
    const double arrivals = delivered;
    endpoint_shares(s, external, state, out);
    double pass_share = 0;
    for (int e = endpoint_begin_[s]; e < endpoint_begin_[s + 1]; ++e)
      pass_share += out.endpoint_share[e] * (1.0 - mod.endpoint_abort[e]);
    pass_share *= (1.0 - mod.service_abort[s]) * (1.0 - unrouted[s]);
    const double admitted = arrivals * pass_share;
    out.aborted[s] = arrivals - admitted;

    // servers = ready replicas x workers, each serving at capacity / workers (a cpu-stress
    // fault's share of the CPU slows them); the queue is fluid_queue.h's.
    const int replicas = ready[s];
    const int workers = concurrency_[s];
    // Slow pods on every replica (a `mode` that picks them all, or a service of one
    // replica): each worker is held for the delay too (below for some of them).
    const DelayPart* slow_all = slow_pod(mod.service_delay_parts[s], true);
    const double per_replica =
        slow_all == nullptr
            ? spec.capacity_rps * mod.service_capacity[s]
            : workers / (workers / (spec.capacity_rps * mod.service_capacity[s]) +
                         slow_all->fraction * slow_all->delay);
    const double capacity = replicas * per_replica;
    double& in_system = state.in_system[s];
    if (capacity <= 0) {
      state.split[s] = {};
      state.slow_in_system[s] = state.slow_share[s] = 0;
      state.driven[s] = 0;
      state.replica_drift[s] = 0;
      out.shed[s] = admitted;
      out.utilization[s] = 0.0;  // nothing runs
      in_system = 0;
    } else {
      // The declared capacity's 10 s, as the request level's: a cpu-stress fault slows the
      // service, not its limit (it shrank it with the capacity: rejections the request level
      // never makes), and slow pods keep it too.
      const double waiting_limit = spec.queue_limit > 0
                                       ? static_cast<double>(spec.queue_limit) * replicas
                                       : replicas * spec.capacity_rps * kQueueLimitSeconds;
      // The queue the balancer makes: `least-request` keeps every worker busy while work
      // waits, one M/M/c of replicas x workers servers; `random` splits the arrivals into
      // independent Poisson streams, a queue of `workers` servers at each replica (N / replicas
      // each); `round-robin` too, but a replica's arrivals are more regular than Poisson
      // (every replicas-th of them): round_robin_wait.
      const bool pooled = spec.load_balancer == LoadBalancer::kLeastRequest || replicas == 1;
      const int queues = pooled ? 1 : replicas;
      const int servers = pooled ? replicas * workers : workers;
      // A world starts running, not empty: a queue's first tick starts from the stationary
      // queue of its load (in_system < 0 until then). Above capacity, where there is none,
      // at the stationary branch's end (kRhoHigh) or its limit, whichever is less: a queue
      // with a small limit starts where one fed beyond its capacity ends (full), one with a
      // large limit fills from there (it would start hours of work deep otherwise).
      if (in_system < 0)
        in_system =
            std::min(queues * mmc_in_system(servers, std::min(admitted / capacity, kRhoHigh)),
                     waiting_limit + replicas * workers);
      // `count` of the queues, holding `held` requests in all, each fed its share.
      const auto step_queues = [&](int count, double held) {
        FluidQueueStep st =
            step_fluid_queue(servers, per_replica / workers, admitted / queues, held / count, dt_,
                             (waiting_limit + replicas * workers) / queues);
        st.in_system *= count;
        st.served *= count;
        st.shed *= count;
        if (!pooled && spec.load_balancer == LoadBalancer::kRoundRobin)
          st.wait =
              round_robin_wait(st, replicas, workers, per_replica / workers, admitted >= capacity);
        return st;
      };
      // Replicas that become ready start with empty queues: a backlog stays at the replicas
      // that held it and drains at their pace (SplitQueues, fluid_queue.h).
      SplitQueues& split = state.split[s];
      split.follow(pooled ? 0 : replicas, in_system);
      FluidQueueStep step, loaded, fresh;
      const bool is_split = split.loaded > 0;
      const double loaded_share = static_cast<double>(split.loaded) / replicas;
      const int loaded_replicas = split.loaded;
      // What the queue (or the loaded replicas' queues) held at the tick's start.
      const double held_before = is_split ? in_system - split.fresh_in_system : in_system;
      // Over capacity: the queue is driven off its equilibrium and replicas drift apart.
      const bool overloaded = admitted >= capacity;
      if (!is_split) {
        step = step_queues(queues, in_system);
      } else {
        loaded = step_queues(loaded_replicas, held_before);
        fresh = step_queues(replicas - loaded_replicas, split.fresh_in_system);
        step = combine_split(loaded, fresh, loaded_share);
        split.settle(fresh.in_system, loaded.in_system, replicas);
      }
      out.shed[s] = step.shed;
      out.served[s] = step.served;
      out.utilization[s] = std::min(1.0, step.served / capacity);
      out.wait[s] = step.wait;
      // Where the queue stands this tick (tick_wait), unless the scenario asks for the
      // mean-field model (`measurement_noise: false`): the same draws in the counterfactual.
      // Split queues each stand there, and their waits mix.
      if (scenario_.measurement_noise) {
        double& level = state.queue_level[s];
        const auto words = queue_noise_[s].words(static_cast<std::uint64_t>(tick));
        if (std::isnan(level)) {
          level = word_normal(words[1]);  // a world starts at its stationary queue
        } else {
          const double keep = std::exp(-dt_ / step.relaxation);
          level = keep * level + std::sqrt(1.0 - keep * keep) * word_normal(words[0]);
        }
        // A queue driven off its equilibrium by an overload waits as its mean says
        // (driven_wait) until it is back; the fresh replicas of split queues are not driven.
        std::uint8_t& driven = state.driven[s];
        if (overloaded) driven = 1;
        const auto wait_of = [&](const FluidQueueStep& st, int count, bool may_drive) {
          Moments wait;
          if (may_drive && driven != 0 &&
              driven_wait(servers, per_replica / workers, admitted / queues, held_before / count,
                          st.in_system / count, st, level, dt_, count, wait))
            return wait;
          if (may_drive) driven = 0;
          return tick_wait(st.wait, level, dt_, st.relaxation, count);
        };
        out.wait[s] =
            is_split ? mix_waits(wait_of(loaded, loaded_replicas, true),
                                 wait_of(fresh, replicas - loaded_replicas, false), loaded_share)
                     : wait_of(step, queues, true);
      } else if (!is_split) {
        // The mean-field model, driven as above: over capacity a tick's requests wait what
        // the queue holds, spread by its rise through the tick; draining, the stationary
        // wait of the load behind what is held beyond it. Not the stationary queue's spread
        // at the utilisation's cap (a p95 of 26 s for full queues holding 10 s of work).
        std::uint8_t& driven = state.driven[s];
        if (overloaded) driven = 1;
        Moments wait;
        if (driven != 0 &&
            driven_wait(servers, per_replica / workers, admitted / queues, held_before / queues,
                        step.in_system / queues, step, std::nan(""), dt_, queues, wait))
          out.wait[s] = wait;
        else
          driven = 0;
      }
      // Replicas with their own queues drift apart while a backlog builds (drift_apart,
      // fluid_queue.h): a tick's requests wait at every replica, so its wait spreads by the
      // drift over a replica's rate (docs/world-model.md, "Replicas drift apart").
      double& drift = state.replica_drift[s];
      if (pooled || (drift == 0.0 && !overloaded)) {  // the steady case costs nothing
        drift = 0;
      } else {
        const int holding = is_split ? loaded_replicas : replicas;
        const double held = (is_split ? loaded.in_system : step.in_system) / holding;
        // Within what a replica holds beyond its stationary queue, and within the room its
        // queue limit leaves: full queues are alike.
        const double room = (waiting_limit + replicas * workers) / queues - held;
        const double excess =
            std::min(room, overloaded ? held : held - mmc_in_system(workers, admitted / capacity));
        const double arrivals_each = admitted / replicas;
        const bool round_robin = spec.load_balancer == LoadBalancer::kRoundRobin;
        drift =
            drift_apart(drift, excess, overloaded,
                        round_robin ? arrivals_each / replicas : arrivals_each, per_replica, dt_);
        const double share = is_split ? loaded_share : 1.0;
        out.wait[s].var += share * drift / (per_replica * per_replica);
      }
      // Slow pods everywhere: a service less variable than an exponential (the delay added
      // to it) waits less below capacity, by Allen and Cunneen's (c_a^2 + c_s^2) / 2 over
      // the exponential's (c_a^2 + 1) / 2 (as the slow pods' queue below).
      if (slow_all != nullptr && !overloaded)
        out.wait[s] = scaled_by_service_spread(
            out.wait[s], workers / per_replica - slow_all->fraction * slow_all->delay, *slow_all,
            !pooled && spec.load_balancer == LoadBalancer::kRoundRobin ? 1.0 / replicas : 1.0);
      // Shown (and timed out) in the tick the requests complete in: the queue holding the
      // backlog (the loaded replicas of split queues) serves it at `rate`, and its waits
      // rise (or fall) over the tick with what it holds.
      const double rate = is_split ? loaded_replicas * per_replica : capacity;
      const bool driven = state.driven[s] != 0;
      const double rise =
          driven ? ((is_split ? loaded.in_system : step.in_system) - held_before) / rate : 0.0;
      out.wait[s] = state.completed.complete(static_cast<std::size_t>(s), tick, dt_, out.wait[s],
                                             std::max(0.0, admitted - step.shed), rise, rate,
                                             workers / per_replica, driven, out.service_squeeze[s]);
      in_system = step.in_system;
      // Slow pods (a latency fault with a `mode`: docs/world-model.md, Bad pods) hold a
      // worker for the delay, as at the request level: each serves workers / (service time
      // + the delay's mean) a second while the balancer still sends it its share, so its
      // queue (slow_share of the replicas, fractional here, mean field) fills and sheds as
      // any queue does; the queue above stands for the other replicas. After the fault its
      // backlog drains at the replicas' own pace.
      const DelayPart* slow = pooled ? nullptr : slow_pod(mod.service_delay_parts[s]);
      double& slow_held = state.slow_in_system[s];
      double& slow_share = state.slow_share[s];
      if (slow != nullptr)
        slow_share = slow->share;
      else if (pooled || !(slow_held > 1e-9))
        slow_share = 0;
      if (slow_share > 0) {
        const double k = slow_share * replicas;
        const double worker_seconds =
            workers / per_replica + (slow != nullptr ? slow->fraction * slow->delay : 0.0);
        const FluidQueueStep bad =
            step_fluid_queue(workers, 1.0 / worker_seconds, admitted / replicas, slow_held / k,
                             dt_, (waiting_limit + replicas * workers) / replicas);
        slow_held = bad.in_system * k;
        // Its wait: round robin's more regular arrivals (round_robin_wait), and a service less
        // variable than an exponential (a fixed delay added to it) by Allen and Cunneen's
        // (c_a^2 + c_s^2) / 2 over the exponential's (c_a^2 + 1) / 2, while it is under
        // capacity (over it, a backlog waits what it holds).
        const bool round_robin = spec.load_balancer == LoadBalancer::kRoundRobin;
        const bool over = admitted / replicas * worker_seconds >= workers;
        Moments slow_wait = round_robin ? round_robin_wait(bad, replicas, workers,
                                                           1.0 / worker_seconds, over)
                                        : bad.wait;
        if (!over && slow != nullptr)
          slow_wait = scaled_by_service_spread(slow_wait, workers / per_replica, *slow,
                                               round_robin ? 1.0 / replicas : 1.0);
        const double slow_shed = bad.shed * k;
        out.shed[s] = (1.0 - slow_share) * step.shed + slow_shed;
        out.served[s] = (1.0 - slow_share) * step.served + bad.served * k;
        out.utilization[s] = (1.0 - slow_share) * std::min(1.0, step.served / capacity) +
                             slow_share * std::min(1.0, bad.served * worker_seconds / workers);
        const double answered = admitted - out.shed[s];
        out.slow_share[s] =
            answered > 0 ? std::clamp((slow_share * admitted - slow_shed) / answered, 0.0, 1.0)
                         : 0.0;
        // What its requests take more than the others': the wait beyond theirs, the delay.
        Moments extra{std::max(0.0, slow_wait.mean - out.wait[s].mean),
                      std::max(0.0, slow_wait.var - out.wait[s].var)};
        if (slow != nullptr) add_delay(extra, slow->fraction, slow->delay, slow->jitter);
        out.slow_extra[s] = extra;
      } else {
        slow_held = 0;
      }
    }
    // A cpu-stress fault's stressor takes its share of the CPU on top of the service's use.
    const double stress = 1.0 - mod.service_capacity[s];
    const double used = spec.cpu_baseline + (1.0 - spec.cpu_baseline) * out.utilization[s];
    out.cpu[s] = capacity <= 0 ? 0.0 : stress + (1.0 - stress) * used;  // no replica, no CPU
    // At most every arrival: a queue cut short (replicas taken away) sheds what it held
    // from earlier ticks too, and those fail in this tick beside its own arrivals.
    out.fast_fail[s] =
        arrivals > 0 ? std::min(1.0, (out.aborted[s] + out.shed[s]) / arrivals) : 0.0;
    // A request makes its calls one after the other and ends at one that fails after its
    // retries (unless optional): a dependency sees the requests that passed the calls
    // before it, and of its own k = n + f calls those up to the first failed one, F each
    // (the previous tick's): (1 - (1 - F)^n) / F + f (1 - F)^n, (1 - F)^n (1 - f F) passing.
    double reach = 1.0;
    for (int d : topology_.outgoing(s)) {
      const DependencySpec& dep = scenario_.dependencies[d];
      const CallCount count = calls_made(
          out.edge_calls[d], dep.optional || spec.parallel_calls ? 0.0 : state.call_failure[d]);
      const double attempts = out.served[s] * reach * count.mean * state.attempts_per_call[d];
      reach *= count.passing;
      out.edge_attempts[d] = attempts;
      // Lost attempts never reach the callee, unless no timeout ends them and TCP
      // retransmits them.
      const double lost = dep.timeout > 0 ? mod.edge_loss[d] : 0.0;
      out.edge_delivered[d] = attempts * (1.0 - mod.edge_abort[d]) * (1.0 - lost);
      // B calls per request, floor(k) and one more with the fraction's chance, compound the
      // requests' count: variance over mean k D + f (1 - f) / k (retries left out).
      const double k = out.edge_calls[d];
      const double f = k - std::floor(k);
      out.edge_dispersion[d] = k > 0 ? k * out.dispersion[s] + f * (1.0 - f) / k : 1.0;
      out.edge_from_source[d] =
          arrivals > 0 ? out.edge_delivered[d] * out.from_source[s] / arrivals : 0.0;
    }
  };
  for (const std::vector<int>& level : levels_) run_services(level, forward);

  // 2. Latency and errors flow from callees back to callers, level by level from the last.
  // Service s's latency `mixture` with a share p of its requests delayed by `delay` (jitter
  // variance `jitter_var`): the mixture of the two, each a log-normal.
  // `added`: what the delay adds to the mixture's moments, where the formula for a share
  // p of the requests delayed does not say it (a delay inherited through calls).
  const auto delay_share = [&](int s, const Moments& mixture, double p, double delay,
                               double jitter_var, const Moments* added = nullptr,
                               const DelayMixture* parts = nullptr) {
    Moments fast = mixture;
    const Moments taken = added != nullptr ? *added : delay_moments(p, delay, jitter_var);
    fast.mean -= taken.mean;
    fast.var = std::max(0.0, fast.var - taken.var);
    DelayMixture& delayed = out.delay_mixture[s];
    delayed.fast = fit_lognormal(fast);
    delayed.shift = delay;
    delayed.share = p;
    delayed.jitter_var = jitter_var;
    delayed.steps = parts != nullptr ? parts->steps : 0;
    delayed.ratio = parts != nullptr ? parts->ratio : 0.0;
    delayed.spacing = parts != nullptr ? parts->spacing : 0.0;
    delayed.last_less = parts != nullptr ? parts->last_less : 0.0;
    delayed.backoff = parts != nullptr ? parts->backoff : 0.0;
    delayed.first_ratio = parts != nullptr ? parts->first_ratio : 0.0;
    delayed.first_spacing = parts != nullptr ? parts->first_spacing : 0.0;
    delayed.lead = 0;
    double first = HUGE_VAL;  // the earliest part's shift
    for_each_part(delayed, [&](double, double at) { first = std::min(first, at); });
    delayed.lead = jitter_lead(std::max(0.0, first), jitter_var);
    delayed.body = delayed_body(fast, delayed.lead, jitter_var);
    delayed.normal_delay = false;
    out.passed_delay[s] = delayed;
    out.p50[s] = quantile(delayed, 0.50);
    out.p95[s] = quantile(delayed, 0.95);
    out.p99[s] = quantile(delayed, 0.99);
    return fast;
  };
  const auto backward = [&](int s) {
    for (DelayMixture* mixture : {&out.delay_mixture[s], &out.passed_delay[s]}) {
      mixture->share = 0;  // none unless set below (TickOutcome::reset leaves them)
      mixture->shaped = false;
      mixture->normal_delay = false;
    }
    const ServiceSpec& spec = scenario_.services[s];
    Moments downstream;
    double downstream_third = 0;  // its third central moment (the calls are independent)
    // The fractional calls that split the requests most, for the call mixture below; none
    // where a call may end a request (the calls after it are then not independent of it).
    SplitCalls split;
    bool calls_independent = true;
    double downstream_success = 1.0;
    // The share of requests still going at each call in turn: one that fails after its
    // retries ends the request there (as in the forward pass), so the calls after it are not
    // made and add no time.
    double going = 1.0;
    // The largest delayed share its calls bring (share x shift), if a callee has one, and
    // what it adds to the service's latency moments.
    DelayMixture inherited;
    Moments inherited_adds;
    // The call that brings it: its dependency, its moments without the delayed share, and
    // what its delayed share adds to the latency's third central moment.
    int inherited_dependency = -1;
    Moments inherited_fast_call;
    double inherited_third_less = 0;
    for (int d : topology_.outgoing(s)) {
      const DependencySpec& dep = scenario_.dependencies[d];
      const int callee = dep.callee;
      // Without an injected edge delay an attempt sees exactly the callee's distribution,
      // already fitted; only a delayed edge needs a fit of its own.
      const double timeout = to_seconds(dep.timeout);
      const double loss = mod.edge_loss[d];
      const bool lost_attempts_time_out = loss > 0 && dep.timeout > 0;
      // A call's first attempt picks the callee's endpoint by weight (its retries ask it
      // again): the callee's latency over its endpoints by weight.
      const bool callee_skewed = skewed(callee, out);
      const Moments callee_latency = callee_skewed ? call_latency(callee, out) : out.latency[callee];
      const LogNormal callee_fit =
          callee_skewed ? fit_lognormal(callee_latency) : out.latency_fit[callee];
      Moments reached = callee_latency + mod.edge_delay[d];
      if (loss > 0 && dep.timeout == 0) add_delay(reached, loss, kRetransmitSeconds);
      const bool refit =
          reached.mean != callee_latency.mean || reached.var != callee_latency.var;
      const LogNormal attempt_latency = refit ? fit_lognormal(reached) : callee_fit;
      // An attempt that sees a callee of exact shape times out by that shape's tail.
      const bool shaped = !refit && out.queue_shaped[callee];
      const QueueLatency& shape = out.queue_shape[callee];
      Moments attempt = reached;
      double p_timeout = 0;
      // A callee whose requests are a fast and a delayed share (a partial delay, its own or
      // one of its endpoints') times out by the mixture's tail: a timeout between the two
      // cuts the delayed share, where the log-normal fitted to both would cut a little of each.
      // An injected edge delay on a share of the attempts (or all of them) to a callee
      // without a mixture of its own makes one: the callee's latency, and the same shifted.
      // Attempts lost without a timeout are such a share too: retransmitted 200 ms later
      // (their edge's p50 was the log-normal's of both shares, 80 % above the request
      // level's at 20 % loss).
      const DelayPart* edge_part = one_delay(mod.edge_delay_parts[d]);
      const bool retransmitted = loss > 0 && dep.timeout == 0 && mod.edge_delay_parts[d].empty();
      const bool edge_mixture = ((edge_part != nullptr && loss == 0) || retransmitted) &&
                                !(out.delay_mixture[callee].share > 0) &&
                                !out.endpoint_delayed[callee];
      if (edge_mixture) {
        DelayMixture& m = out.edge_mixture[d];
        const double jitter_var = retransmitted ? 0.0 : edge_part->jitter * edge_part->jitter;
        m = {};
        m.share = retransmitted ? loss : edge_part->fraction * edge_part->share;
        m.shift = retransmitted ? kRetransmitSeconds : edge_part->delay;
        m.jitter_var = jitter_var;
        m.shaped = out.queue_shaped[callee] && jitter_var == 0;
        m.fast = callee_fit;
        m.lead = jitter_lead(m.shift, jitter_var);
        m.body = delayed_body(callee_latency, m.lead, jitter_var);
        m.normal_delay = jitter_var > 0;
      }
      const DelayMixture& mixed = edge_mixture ? out.edge_mixture[d] : out.delay_mixture[callee];
      // A callee of several endpoints is their mixture (one delayed, or a timeout that the
      // log-normal of its moments says may cut it: /get at 2 ms and /search at 50 ms behind a
      // 150 ms timeout are not one log-normal's tail).
      const bool several = endpoint_begin_[callee + 1] - endpoint_begin_[callee] > 1;
      const bool endpoints_mixed =
          !refit && several &&
          (out.endpoint_delayed[callee] ||
           (dep.timeout > 0 && may_time_out(callee_fit, timeout)));
      const bool mixture_tail =
          (!refit && !shaped && mixed.share > 0) || endpoints_mixed || edge_mixture;
      // The delayed share, and the fast one's attempts cut at the timeout.
      double mixed_share = 0;
      Truncated mixed_cut, fast_cut;
      // Of a callee of several endpoints, each endpoint's attempts timing out (for retries,
      // which ask the same endpoint again); empty where they time out alike.
      thread_local std::vector<double> endpoint_timeout;  // scratch of the thread computing s
      endpoint_timeout.clear();
      if (dep.timeout > 0 && mixture_tail) {
        if (endpoints_mixed) {
          thread_local LogNormalMixture callee_parts;  // scratch of the thread computing s
          endpoint_mixture(callee, mod, out, callee_parts, true);
          mixed_cut = truncate_at(callee_parts, timeout);
          fast_cut = truncate_at(callee_parts, timeout, 0.0);
          if (dep.retries > 0) endpoint_timeouts(callee, callee_parts, timeout, endpoint_timeout);
          mixed_share = 0;
          for (std::size_t i = 0; i < callee_parts.parts.size(); ++i)
            if (callee_parts.shifts[i] > 0) mixed_share += callee_parts.weights[i];
        } else {
          mixed_cut = truncate_at(mixed, out.queue_shape[callee], timeout);
          fast_cut = mixed.shaped ? truncate_at(out.queue_shape[callee], timeout)
                                  : truncate_at(mixed.fast, timeout);
          mixed_share = mixed.share;
        }
      }
      if (mixed_cut.p_timeout > 1e-6) {
        attempt = mixed_cut.moments;
        p_timeout = mixed_cut.p_timeout;
      } else if (dep.timeout > 0 && !mixture_tail &&
                 (shaped ? survival(shape, timeout) > 1e-12
                         : may_time_out(attempt_latency, timeout))) {
        const Truncated cut =
            shaped ? truncate_at(shape, timeout) : truncate_at(attempt_latency, timeout);
        attempt = cut.moments;
        p_timeout = cut.p_timeout;
      }
      if (lost_attempts_time_out) {  // a lost attempt waits out the timeout and fails
        const double second =
            loss * timeout * timeout + (1.0 - loss) * (attempt.var + attempt.mean * attempt.mean);
        attempt.mean = loss * timeout + (1.0 - loss) * attempt.mean;
        attempt.var = std::max(0.0, second - attempt.mean * attempt.mean);
      }
      const double delivered = lost_attempts_time_out ? 1.0 - loss : 1.0;
      const double abort = mod.edge_abort[d];
      const double failure = abort + (1.0 - abort) * (1.0 - delivered * (1.0 - p_timeout) *
                                                                (1.0 - out.error_ratio[callee]));
      if (out.fast_fail[callee] > 0) {
        // The callee answers the rejected and aborted share of its requests at once: only the
        // rest take its latency (lost attempts, if any, still wait out the timeout).
        const double ff = out.fast_fail[callee];
        const double l = lost_attempts_time_out ? loss : 0.0;
        const double kept = std::max(1e-12, 1.0 - l);
        const double slow_mean = (attempt.mean - l * timeout) / kept;
        const double slow_second =
            (attempt.var + attempt.mean * attempt.mean - l * timeout * timeout) / kept;
        const double mean = l * timeout + (1.0 - l) * (1.0 - ff) * slow_mean;
        const double second = l * timeout * timeout + (1.0 - l) * (1.0 - ff) * slow_second;
        attempt = {mean, std::max(0.0, second - mean * mean)};
      }
      // Aborted attempts fail at the caller's sidecar and take no time.
      const Moments per_attempt{
          (1.0 - abort) * attempt.mean,
          (1.0 - abort) * attempt.var + abort * (1.0 - abort) * attempt.mean * attempt.mean};
      double attempts = expected_attempts(failure, dep.retries);
      double call_failure = failure * failure_power(failure, dep.retries);
      bool chained = false;  // by the chain below
      // A bad pod of the callee behind round robin: a retry lands on it less often than at
      // random (one error pod of four, one retry: 5.6 % of calls fail, not 6.25 %).
      if (dep.retries > 0 && failure > 0 &&
          scenario_.services[callee].load_balancer == LoadBalancer::kRoundRobin &&
          ready[callee] > 1) {
        const std::vector<AbortPart>& aborts = mod.service_abort_parts[callee];
        const AbortPart* pod = aborts.size() == 1 && !aborts[0].replicas.empty() &&
                                       aborts[0].fraction > 0
                                   ? &aborts[0]
                                   : nullptr;  // one error fault with a `mode`, nothing else
        const int bad =
            pod != nullptr ? std::min(static_cast<int>(pod->replicas.size()), ready[callee]) : 0;
        if (bad > 0 && bad < ready[callee]) {
          const RetryChain chain =
              round_robin_retries(failure, bad, ready[callee], pod->fraction, dep.retries,
                                  out.arrivals[callee], to_seconds(dep.retry_backoff));
          attempts = chain.attempts;
          call_failure = chain.call_failure;
          chained = true;
        }
      }
      // A retry asks the same endpoint again (a client retries its request): where the
      // callee's endpoints fail unlike each other, a call fails as its endpoint's attempts
      // do (/pay failing, half of the calls: half of them fail, not 0.5^(retries + 1)).
      const int first_endpoint = endpoint_begin_[callee];
      const int endpoints = endpoint_begin_[callee + 1] - first_endpoint;
      if (dep.retries > 0 && endpoints > 1 && !chained) {
        const bool own_timeouts = !endpoint_timeout.empty() && mixed_cut.p_timeout > 1e-6;
        const auto timing_out = [&](int e) {
          return own_timeouts ? endpoint_timeout[e - first_endpoint] : p_timeout;
        };
        bool unlike = false;
        for (int e = first_endpoint + 1; e < first_endpoint + endpoints; ++e)
          unlike = unlike || out.endpoint_error[e] != out.endpoint_error[first_endpoint] ||
                   timing_out(e) != timing_out(first_endpoint);
        if (unlike) {
          // The attempts at each endpoint, and their shares (the callee's arrivals by
          // endpoint next tick).
          attempts = call_failure = 0;
          double* share = &out.edge_endpoint_share[edge_endpoint_begin_[d]];
          for (int e = first_endpoint; e < first_endpoint + endpoints; ++e) {
            const double q = abort + (1.0 - abort) * (1.0 - delivered * (1.0 - timing_out(e)) *
                                                                 (1.0 - out.endpoint_error[e]));
            const double at_endpoint = endpoints_[e].weight * expected_attempts(q, dep.retries);
            share[e - first_endpoint] = at_endpoint;
            attempts += at_endpoint;
            call_failure += endpoints_[e].weight * q * failure_power(q, dep.retries);
          }
          for (int i = 0; i < endpoints; ++i) share[i] /= attempts;
          out.edge_endpoint_skewed[d] = 1;
        }
      }
      out.edge_attempts_per_call[d] = attempts;
      Moments call{attempts * per_attempt.mean, attempts * per_attempt.var};
      call = call + retry_waits(failure, dep.retries, to_seconds(dep.retry_backoff));
      // A failed optional call costs the caller its fallback time, not its request.
      if (dep.optional) add_delay(call, call_failure, to_seconds(dep.fallback_latency));
      const double n = out.edge_calls[d];
      const double fraction = n - std::floor(n);
      const double made_failure = dep.optional || spec.parallel_calls ? 0.0 : call_failure;
      const CallCount count = calls_made(n, made_failure);
      // Of the requests going: `made` calls of the call's moments; of all, `going` of them.
      const double made_mean = count.mean * call.mean;
      const double made_var = count.mean * call.var + count.var * call.mean * call.mean;
      downstream.mean += going * made_mean;
      downstream.var += going * made_var + going * (1.0 - going) * made_mean * made_mean;
      // The third central moment: the callee's where a call is one attempt that sees the
      // callee's latency as it is, else the gamma's of the call's moments; over the calls made
      // a random sum's, E[N] k3 + 3 Var[N] mean var + k3[N] mean^3, N whole + Bernoulli(f)
      // where no call ends the request (else the gamma's of what they make).
      const bool as_callee = !callee_skewed && abort == 0 && attempts == 1.0 &&
                             attempt.mean == callee_latency.mean &&
                             attempt.var == callee_latency.var &&
                             !(dep.optional && call_failure > 0);
      const double call_third =
          as_callee ? third_or_gamma(callee_latency, out.latency_third[callee]) : gamma_third(call);
      // What the calls of moments `c` (third `c_third`) add to the third central moment.
      const auto calls_third = [&](const Moments& c, double c_third) {
        const double mean = count.mean * c.mean;
        const double var = count.mean * c.var + count.var * c.mean * c.mean;
        const double made_third = made_failure > 0
                                      ? gamma_third({mean, var})
                                      : count.mean * c_third + 3.0 * count.var * c.mean * c.var +
                                            fraction * (1.0 - fraction) * (1.0 - 2.0 * fraction) *
                                                c.mean * c.mean * c.mean;
        return sometimes_third(going, {mean, var}, made_third);
      };
      const double this_third = calls_third(call, call_third);
      downstream_third += this_third;
      // What the calls add without a delayed share they carry (its fast calls): the sum's
      // percentiles of the fast requests (as_sum below).
      const auto inherit_fast = [&](const Moments& fast_call) {
        inherited_dependency = d;
        inherited_fast_call = {fast_call.mean, std::max(0.0, fast_call.var)};
        inherited_third_less =
            this_third - calls_third(inherited_fast_call, gamma_third(inherited_fast_call));
      };
      // The share of requests that make this call (an earlier call failing ends a request).
      const double reaching = going;
      going *= count.passing;
      calls_independent = calls_independent && made_failure == 0;
      if (fraction > 0.02 && fraction < 0.98)
        split.add(
            {fraction, call, call_third, fraction * (1.0 - fraction) * call.mean * call.mean, d});
      // floor(n) calls always, one more with probability frac(n).
      if (call_failure > 0 && !dep.optional)
        downstream_success *=
            std::pow(1.0 - call_failure, std::floor(n)) * (1.0 - fraction * call_failure);

      // A callee whose requests are a fast and a delayed share (a partial delay, its own or
      // inherited) delays the same share of the calls that reach it unchanged (no injected
      // edge delay, no timeouts to speak of, not optional): 1 - (1 - share)^n of the requests
      // making n calls, n x share for n <= 1 (the share of requests that make one).
      const DelayMixture& callee_delayed =
          edge_mixture ? out.edge_mixture[d] : out.passed_delay[callee];
      // The share of attempts that wait the timeout out: timed out, or lost on the way.
      const double timed_out = lost_attempts_time_out ? loss + (1.0 - loss) * p_timeout : p_timeout;
      // The same of all attempts, `attempt`'s: those the callee fails at once (shed, aborted)
      // wait nothing.
      const double lost = lost_attempts_time_out ? loss : 0.0;
      const double waited_out =
          lost + (1.0 - lost) * (1.0 - std::min(1.0, out.fast_fail[callee])) * p_timeout;
      // The timeout cuts a delayed share.
      const bool cut_share = mixed_cut.p_timeout >= 1e-3 && mixed_share > 0;
      if ((cut_share || (!(mixed_share > 0) && timed_out >= 0.01)) && timed_out < 0.99 &&
          !dep.optional && abort == 0) {
        // Attempts that wait the timeout out make the calls a mixture too (from 1 % of them
        // where the callee has no delayed share: below, no p99 sees them, and a mixture's
        // quantiles cost bisections every tick). Where most of a
        // delayed share times out (or the callee has none), the calls whose first attempt
        // timed out are the delayed share, in parts by the timeouts they waited out (each
        // retry times out again with the same chance, the callee being as congested, a lost
        // attempt's retry is lost as often), over an answered attempt; else the calls whose
        // first attempt met the delay, in one part, over a fast attempt. Their time over the
        // other calls' is the shift, and what that adds to the call's variance beyond the two
        // means' and the parts' spread the jitter (negative where the delayed calls vary
        // less: a timeout waited out is exact).
        const bool timeouts = !cut_share || timed_out >= 0.5 * mixed_share || mixed_share > 0.99;
        const double q = timeouts ? waited_out : mixed_share;
        double base_mean, base_var;  // of the calls that are not delayed
        if (timeouts) {  // an attempt answered within the timeout: all less the timeouts
          const Moments& m = attempt;
          base_mean = (m.mean - q * timeout) / (1.0 - q);
          base_var = std::max(0.0, (m.var + m.mean * m.mean - q * timeout * timeout) / (1.0 - q) -
                                       base_mean * base_mean);
        } else {  // a fast attempt
          base_mean = fast_cut.moments.mean;
          base_var = fast_cut.moments.var;
        }
        const double calls = count.mean;  // those made: a failing one ends the request
        const double share = reaching * (calls <= 1 ? calls * q : 1.0 - std::pow(1.0 - q, calls));
        const double per_call_mean = std::max(0.0, call.mean - base_mean);
        const double shift = per_call_mean / q;
        if (share * shift > inherited.share * inherited.shift) {
          const double per_call_var = call.var - base_var;
          inherited = {};
          inherited.share = share;
          inherited.shift = shift;
          // An attempt answered within the timeout, of any share.
          const double answered =
              (attempt.mean - waited_out * timeout) / std::max(1e-12, 1.0 - waited_out);
          if (timeouts) {
            inherited.steps = dep.retries + 1;
            inherited.ratio = q;
            inherited.spacing = timeout;
            inherited.last_less = base_mean;
            inherited.backoff = to_seconds(dep.retry_backoff);
          } else if (const double cut = (timed_out - (1.0 - q) * fast_cut.p_timeout) / q;
                     cut > 0.01 && cut < 0.99) {
            // Some of the delayed share times out (a delay just short of the timeout): its
            // calls answered at once, then a train of those that timed out first, each
            // timeout waited out in place of the delayed answer (after it, a retry times out
            // again as any attempt does).
            const double delayed_cut =
                (mixed_cut.moments.mean - (1.0 - q) * fast_cut.moments.mean) / q;
            const double delayed_answered = (delayed_cut - cut * timeout) / (1.0 - cut);
            inherited.steps = dep.retries + 2;
            inherited.first_ratio = cut;
            inherited.first_spacing = timeout + answered - delayed_answered;
            inherited.ratio = timed_out;
            inherited.spacing = timeout;
            inherited.last_less = answered;
            inherited.backoff = to_seconds(dep.retry_backoff);
          }
          inherited.jitter_var =
              std::max(-base_var, (per_call_var - q * (1.0 - q) * shift * shift) / q -
                                      parts_variance(inherited));
          inherited_adds = {reaching * calls * per_call_mean,
                            reaching * (calls * per_call_var +
                                        fraction * (1.0 - fraction) *
                                            (call.mean * call.mean - base_mean * base_mean))};
          inherit_fast({base_mean, call.var - per_call_var});
        }
      } else if (callee_delayed.share > 0 && (!refit || edge_mixture) && !dep.optional &&
                 p_timeout < 1e-3 && abort == 0) {
        // The callee's delayed share is of the requests it answers; the attempts it fails at
        // once (rejected, aborted) take no time: a share 1 - fast_fail of the attempts meets
        // its distribution (taken whole, a 50 % delay behind 50 % errors took more time out
        // of the fast calls than they had, and the caller's percentiles fell to 0).
        // Of the requests, those that make the call (`reaching`), as many calls as they make.
        const double q = callee_delayed.share * (1.0 - std::min(1.0, out.fast_fail[callee]));
        const double calls = count.mean;
        const double share = reaching * (calls <= 1 ? calls * q : 1.0 - std::pow(1.0 - q, calls));
        if (share * callee_delayed.shift > inherited.share * inherited.shift) {
          inherited = callee_delayed;
          inherited.share = share;
          // What it adds to this caller's latency (its calls are attempts of the callee's
          // latency, n of them a request), to take out of its fast requests.
          const double delay = callee_delayed.shift;
          const double per_call_mean = attempts * q * delay;
          const double per_call_var =
              attempts * (q * (1.0 - q) * delay * delay +
                          q * (callee_delayed.jitter_var + parts_variance(callee_delayed)));
          const double fast_call = call.mean - per_call_mean;
          inherited_adds = {reaching * calls * per_call_mean,
                            reaching * (calls * per_call_var +
                                        fraction * (1.0 - fraction) *
                                            (call.mean * call.mean - fast_call * fast_call))};
          inherit_fast({fast_call, call.var - per_call_var});
        }
      }
      out.edge_failure[d] = failure;
      out.edge_call_failure[d] = call_failure;
      double q50, q95, q99;
      if (lost_attempts_time_out) {
        // The waited time is T with probability `loss`, else the attempt's own latency.
        auto waited = [&](double q) {
          const double within = q / (1.0 - loss);
          if (within >= 1.0) return timeout;
          return shaped ? quantile(shape, within)
                        : lognormal_quantile(attempt_latency, normal_quantile(within));
        };
        q50 = waited(0.50);
        q95 = waited(0.95);
        q99 = waited(0.99);
        const auto own = [&](double q) {
          return shaped ? quantile(shape, q)
                        : lognormal_quantile(attempt_latency, normal_quantile(q));
        };
        out.edge_within[d] = {std::min(own(0.50), timeout), std::min(own(0.95), timeout),
                              std::min(own(0.99), timeout)};
      } else if (edge_mixture) {
        q50 = mixture_quantile_of(out.edge_mixture[d], out.queue_shape[callee], 0.50);
        q95 = mixture_quantile_of(out.edge_mixture[d], out.queue_shape[callee], 0.95);
        q99 = mixture_quantile_of(out.edge_mixture[d], out.queue_shape[callee], 0.99);
      } else if (refit) {
        q50 = lognormal_quantile(attempt_latency, 0.0);
        q95 = lognormal_quantile(attempt_latency, kZ95);
        q99 = lognormal_quantile(attempt_latency, kZ99);
      } else {
        q50 = out.p50[callee];
        q95 = out.p95[callee];
        q99 = out.p99[callee];
        out.edge_gamma_c[d] = out.gamma_c[callee];
        out.edge_gamma_shift[d] = out.gamma_shift[callee];
      }
      if (dep.timeout > 0) {
        q50 = std::min(q50, timeout);
        q95 = std::min(q95, timeout);
        q99 = std::min(q99, timeout);
      }
      // Without a refit the attempt sees the callee's own distribution: a log-normal when
      // the callee has one endpoint, else a mixture known by its percentiles.
      out.edge_fit[d] = attempt_latency;
      out.edge_lognormal[d] = (refit || lost_attempts_time_out ||
                               endpoint_begin_[callee + 1] - endpoint_begin_[callee] == 1) &&
                              !attempt_latency.degenerate && !shaped &&
                              !(out.delay_mixture[callee].share > 0 && !refit) && !edge_mixture &&
                              !(out.by_percentiles[callee] && !refit);
      out.edge_mixed[d] = edge_mixture ? 2
                          : !refit && !lost_attempts_time_out && out.delay_mixture[callee].share > 0
                              ? 1
                              : 0;
      out.edge_atom[d] = lost_attempts_time_out ? loss : 0.0;
      out.edge_cap[d] = dep.timeout > 0 ? timeout : HUGE_VAL;
      out.edge_p50[d] = q50;
      out.edge_p95[d] = q95;
      out.edge_p99[d] = q99;
    }

    const double arrivals = out.arrivals[s];
    const double admitted = arrivals - out.aborted[s];
    const double shed_share = admitted > 0 ? std::min(1.0, out.shed[s] / admitted) : 0.0;
    // The service time: workers / capacity, longer under a cpu-stress fault.
    const double base =
        mod.service_capacity[s] > 0 ? spec.service_seconds() / mod.service_capacity[s] : 0.0;
    const int first = endpoint_begin_[s];
    const int count = endpoint_begin_[s + 1] - first;
    // The requests completing in a steeply filling queue show a share `squeeze` of a service
    // time's spread (completed_wait.h): an exponential of squeeze x its mean, the rest of the
    // mean a fixed part of the wait.
    const double squeeze = out.service_squeeze[s];
    const auto shape_of = [&](double own) {
      return queue_latency(squeeze * own,
                           {out.wait[s].mean + (1.0 - squeeze) * own, out.wait[s].var});
    };
    // Slow pods' share (forward) takes what its requests take more, in place of the fault's
    // delay on their share; it is the service's one delayed share where it has no other.
    Moments service_delay = mod.service_delay[s];
    const double slow = out.slow_share[s];
    const DelayPart* slow_part = slow_pod(mod.service_delay_parts[s]);
    if (slow > 0) {
      if (slow_part != nullptr) {
        const Moments taken = delay_moments(slow_part->fraction * slow_part->share,
                                            slow_part->delay, slow_part->jitter * slow_part->jitter);
        service_delay.mean = std::max(0.0, service_delay.mean - taken.mean);
        service_delay.var = std::max(0.0, service_delay.var - taken.var);
      }
      add_delay(service_delay, slow, out.slow_extra[s].mean, std::sqrt(out.slow_extra[s].var));
    }
    const bool slow_alone = slow > 0 && (mod.service_delay_parts[s].empty() ||
                                         (mod.service_delay_parts[s].size() == 1 && slow_part));
    Moments mixture;
    double second_moment = 0;
    double errors = 0;
    // Third central moments of the parts every endpoint shares: the wait (the shape of its
    // moments, queue_latency.h) and the delays (the gamma's of theirs), and the calls.
    const double shared_third = third_of(queue_latency(0.0, out.wait[s])) +
                                gamma_third(service_delay) + downstream_third;
    for (int e = first; e < first + count; ++e) {
      const double own = base * endpoints_[e].latency_factor, spread = squeeze * own;
      const Moments latency = Moments{own, spread * spread} + out.wait[s] + service_delay +
                              mod.endpoint_delay[e] + downstream;
      out.endpoint_third[e] =
          2.0 * spread * spread * spread + shared_third + gamma_third(mod.endpoint_delay[e]);
      const double answered = (1.0 - mod.service_abort[s]) * (1.0 - unrouted[s]) *
                              (1.0 - mod.endpoint_abort[e]) * (1.0 - shed_share);
      out.endpoint_latency[e] = latency;
      out.endpoint_error[e] = 1.0 - answered * downstream_success;
      const double w = out.endpoint_share[e];
      mixture.mean += w * latency.mean;
      second_moment += w * (latency.var + latency.mean * latency.mean);
      errors += w * out.endpoint_error[e];
    }
    mixture.var = std::max(0.0, second_moment - mixture.mean * mixture.mean);
    // Known below where the percentiles come from the moments (else the gamma's).
    out.latency_third[s] = std::nan("");
    out.gamma_shift[s] = 0;
    if (arrivals > 0 && out.fast_fail[s] >= 1.0) mixture = {};  // it answered nothing
    out.latency[s] = mixture;
    out.error_ratio[s] = arrivals > 0 ? errors : 0.0;
    const LogNormal fit = fit_lognormal(mixture);
    out.latency_fit[s] = fit;
    // One endpoint's percentiles as a sum of its own time, its wait and its calls, with no
    // delayed share split off: the gamma of its three moments (shifted), whose tail is a
    // sum's (the log-normal's p99 was 5-15 % high for 40 of docs/modes.md's services; the
    // gamma of two moments 4-6 % low where one call's exponential tail dominates).
    // Fractional calls make groups of requests, those that make them and those that do not
    // (a gateway calling payments in 30 % of its requests, orders in 50 %, users in 60 %):
    // the mixture over which calls a request makes, each part a shifted gamma, where the
    // groups' skew would read as a shift (that gateway's p50 13 % low) or one call stands
    // clear of the rest (a log-normal of all put p50 13-20 % high). Elsewhere the one gamma
    // of all (the synthetic system's services: within 3.5 % of the mixture's p50 and 6 % of
    // its p99 for 9 in 10 of them, at a fifth of the cost). The measurement keeps the
    // gamma's shape about these percentiles (continuous too).
    const auto sum_percentiles = [&](const Moments& latency, double third,
                                     const SplitCalls& calls) {
      const ShiftedGamma shifted = shifted_gamma(latency, third);
      GammaPercentiles g = shifted_gamma_percentiles(shifted);
      const double weight =
          calls.count > 0 && calls_independent && !fit_lognormal(latency).degenerate
              ? split_weight(calls, latency, shifted.shift)
              : 0.0;
      if (weight > 0) {
        Moments parts[1 << kSplitCalls];
        double thirds[1 << kSplitCalls], weights[1 << kSplitCalls];
        const int size = split_parts(latency, third, calls, parts, thirds, weights);
        const GammaPercentiles m = gamma_mixture_percentiles(parts, weights, size, thirds);
        g.p50 += weight * (m.p50 - g.p50);
        g.p95 += weight * (m.p95 - g.p95);
        g.p99 += weight * (m.p99 - g.p99);
      }
      return g;
    };
    // A delayed share's percentiles come from the mixture of two log-normals (delay_share),
    // whose fast share is the log-normal of its moments, not the sum's percentiles above: at
    // a share near nothing that is the log-normal of all the moments, so a 1 ns delay on
    // 0.001 % of a callee's requests moved its caller's p50 32 % (calls in 30 % of its
    // requests: the log-normal missed the groups) and made an incident of it. The mixture's
    // percentiles take the fast share's sum percentiles over its log-normal's (its moments
    // `fast`, third central moment `third`, fractional calls `calls`, all without the
    // delayed share): continuous in the share, the sum's own percentiles at none.
    const auto as_sum = [&](const Moments& fast, double third, const SplitCalls& calls) {
      const LogNormal fast_fit = fit_lognormal(fast);
      if (fast_fit.degenerate) return;
      const GammaPercentiles g = sum_percentiles(fast, third, calls);
      double* const at[3] = {&out.p50[s], &out.p95[s], &out.p99[s]};
      const double levels[3] = {0.50, 0.95, 0.99}, sums[3] = {g.p50, g.p95, g.p99};
      for (int i = 0; i < 3; ++i) {
        const double moved =
            *at[i] + (sums[i] - lognormal_quantile(fast_fit, normal_quantile(levels[i])));
        if (std::isfinite(moved) && moved > 0) *at[i] = moved;
      }
      out.p95[s] = std::max(out.p95[s], out.p50[s]);
      out.p99[s] = std::max(out.p99[s], out.p95[s]);
    };
    // Its own queue alone: the exact shape of service plus wait (queue_latency.h).
    const bool alone = count == 1 && downstream.mean == 0 && downstream.var == 0 &&
                       is_zero(service_delay) && is_zero(mod.endpoint_delay[first]) &&
                       mixture.mean > 0;
    out.queue_shaped[s] = alone;
    if (alone) {
      const QueueLatency shape = shape_of(base * endpoints_[first].latency_factor);
      out.queue_shape[s] = shape;
      out.latency_third[s] = third_of(shape);
      out.p50[s] = quantile(shape, 0.50);
      out.p95[s] = quantile(shape, 0.95);
      out.p99[s] = quantile(shape, 0.99);
      // Its measurement maps a sample's scores through the shifted gamma of the shape's
      // three moments about these percentiles: the secants between them put a sampled p95
      // 1-2 % low at any count (the exponential's log-quantile bends between p50 and p95),
      // the gamma's bend is the shape's within 1 % (tests/test_measurement.cc).
      const ShiftedGamma shifted = shifted_gamma(mixture, out.latency_third[s]);
      if (shifted.gamma.mean > 0 && shifted.gamma.var > 0) {
        out.gamma_c[s] = shifted.gamma.var / (9.0 * shifted.gamma.mean * shifted.gamma.mean);
        out.gamma_shift[s] = shifted.shift;
      }
    } else if (count == 1 && slow_alone && is_zero(mod.endpoint_delay[first])) {
      // Slow pods' share: delayed by what it takes more (a wait, a backlog).
      delay_share(s, mixture, slow, out.slow_extra[s].mean, out.slow_extra[s].var);
    } else if (count == 1 && one_delay(mod.service_delay_parts[s]) &&
               is_zero(mod.endpoint_delay[first])) {
      // A share of the requests delayed (or all of them): the mixture of the two, each a
      // log-normal.
      const DelayPart& part = *one_delay(mod.service_delay_parts[s]);
      const double p = part.fraction * part.share;
      const Moments fast = delay_share(s, mixture, p, part.delay, part.jitter * part.jitter);
      out.delay_mixture[s].normal_delay = part.jitter > 0;
      // With calls, the fast share's percentiles are a sum's (as_sum).
      if (downstream.mean != 0 || downstream.var != 0)
        as_sum(fast, out.endpoint_third[first] - gamma_third(service_delay), split);
      // Its own queue alone but for a fixed delay: the mixture of the exact shape and the
      // same shifted, so that a small delay moves the percentiles by as little as it should.
      if (part.jitter == 0 && downstream.mean == 0 && downstream.var == 0 && mixture.mean > 0) {
        const QueueLatency shape = shape_of(base * endpoints_[first].latency_factor);
        out.queue_shape[s] = shape;
        out.delay_mixture[s].shaped = out.passed_delay[s].shaped = true;
        out.p50[s] = shifted_share_quantile(shape, p, part.delay, 0.50);
        out.p95[s] = shifted_share_quantile(shape, p, part.delay, 0.95);
        out.p99[s] = shifted_share_quantile(shape, p, part.delay, 0.99);
      }
    } else if (count == 1 && inherited.share > 0 && inherited.share < 1 && is_zero(service_delay) &&
               is_zero(mod.endpoint_delay[first]) && inherited_adds.mean < mixture.mean) {
      // (Where what the delayed share adds is all of the mean or more, the split into a fast
      // and a delayed share does not hold: the gamma of the moments below, not percentiles
      // of a fast share of no time.)
      // A share of its calls to a callee with a delayed share: as many of its requests.
      const Moments fast = delay_share(s, mixture, inherited.share, inherited.shift,
                                       inherited.jitter_var, &inherited_adds, &inherited);
      SplitCalls fast_calls;  // the fractional calls, the one bringing the share as its fast
      for (int i = 0; i < split.count; ++i) {
        SplitCall c = split.calls[i];
        if (c.dependency == inherited_dependency) {
          c.call = inherited_fast_call;
          c.third = gamma_third(c.call);
          c.score = c.fraction * (1.0 - c.fraction) * c.call.mean * c.call.mean;
        }
        fast_calls.add(c);
      }
      as_sum(fast, out.endpoint_third[first] - inherited_third_less, fast_calls);
    } else if (count == 1) {
      const GammaPercentiles g = sum_percentiles(mixture, out.endpoint_third[first], split);
      out.p50[s] = g.p50;
      out.p95[s] = g.p95;
      out.p99[s] = g.p99;
      out.by_percentiles[s] = !fit.degenerate;
      if (!fit.degenerate) {
        const ShiftedGamma shifted = shifted_gamma(mixture, out.endpoint_third[first]);
        out.latency_third[s] = out.endpoint_third[first];
        out.gamma_c[s] = shifted.gamma.var / (9.0 * shifted.gamma.mean * shifted.gamma.mean);
        out.gamma_shift[s] = shifted.shift;
      }
    } else {
      // Several endpoints: their mixture. An endpoint's partial delay, or what the calls
      // pass on, is passed on to its callers (share x shift, the larger).
      if (is_zero(service_delay)) {
        for (int e = first; e < first + count; ++e) {
          const DelayPart* part = partial_delay(mod.endpoint_delay_parts[e]);
          if (part == nullptr) continue;
          const double share = out.endpoint_share[e] * part->fraction * part->share;
          if (share * part->delay > inherited.share * inherited.shift) {
            inherited = {};
            inherited.share = share;
            inherited.shift = part->delay;
            inherited.jitter_var = part->jitter * part->jitter;
          }
        }
        if (inherited.share > 0 && inherited.share < 1) out.passed_delay[s] = inherited;
      }
      // Scratch of the thread computing this service.
      thread_local LogNormalMixture endpoint_parts;  // scratch of the thread computing s
      out.endpoint_delayed[s] = endpoint_mixture(s, mod, out, endpoint_parts);
      bool alone = downstream.mean == 0 && downstream.var == 0 && is_zero(service_delay) &&
                   mixture.mean > 0;
      for (int e = first; e < first + count && alone; ++e) alone = is_zero(mod.endpoint_delay[e]);
      if (alone) {
        // Its own queue alone: the mixture of its endpoints' exact shapes (an exponential's
        // p90 is 11 % above its log-normal's), by bisection on the mixture's survival
        // between the least and the most of their own quantiles.
        thread_local std::vector<QueueLatency> shapes;
        shapes.clear();
        for (int e = first; e < first + count; ++e) {
          shapes.push_back(shape_of(base * endpoints_[e].latency_factor));
          out.endpoint_third[e] = third_of(shapes.back());
        }
        out.latency_third[s] =
            mixture_third(out.endpoint_latency.data() + first, out.endpoint_third.data() + first,
                          out.endpoint_share.data() + first, count);
        const auto at = [&](double q) {
          double low = HUGE_VAL, high = 0;
          for (const QueueLatency& shape : shapes) {
            const double own = quantile(shape, q);
            low = std::min(low, own);
            high = std::max(high, own);
          }
          for (int i = 0; i < 60 && high - low > 1e-12 * high; ++i) {
            const double mid = 0.5 * (low + high);
            double above = 0;
            for (int e = 0; e < count; ++e)
              above += out.endpoint_share[first + e] * survival(shapes[e], mid);
            (above > 1.0 - q ? low : high) = mid;
          }
          return 0.5 * (low + high);
        };
        out.p50[s] = at(0.50);
        out.p95[s] = at(0.95);
        out.p99[s] = at(0.99);
      } else if (!out.endpoint_delayed[s]) {
        // Each endpoint's requests a sum of their own time, wait and calls: the mixture of
        // the gammas of their moments (a sum's tail, as for one endpoint above).
        const GammaPercentiles m = gamma_mixture_percentiles(
            out.endpoint_latency.data() + first, out.endpoint_share.data() + first, count,
            out.endpoint_third.data() + first);
        out.latency_third[s] =
            mixture_third(out.endpoint_latency.data() + first, out.endpoint_third.data() + first,
                          out.endpoint_share.data() + first, count);
        out.p50[s] = m.p50;
        out.p95[s] = m.p95;
        out.p99[s] = m.p99;
      } else {
        const LogNormal* parts = endpoint_parts.parts.data();
        const double* weights = endpoint_parts.weights.data();
        const double* shifts = endpoint_parts.shifts.data();
        const int size = static_cast<int>(endpoint_parts.parts.size());
        out.p50[s] = mixture_quantile(parts, weights, size, 0.50, shifts);
        out.p95[s] = mixture_quantile(parts, weights, size, 0.95, shifts);
        out.p99[s] = mixture_quantile(parts, weights, size, 0.99, shifts);
      }
    }
    if (arrivals > 0 && out.fast_fail[s] >= 1.0) out.p50[s] = out.p95[s] = out.p99[s] = 0.0;
  };
  for (auto level = levels_.rbegin(); level != levels_.rend(); ++level)
    run_services(*level, backward);
  std::copy(out.edge_failure.begin(), out.edge_failure.end(), state.attempt_failure.begin());
  std::copy(out.edge_call_failure.begin(), out.edge_call_failure.end(), state.call_failure.begin());
  std::copy(out.edge_attempts_per_call.begin(), out.edge_attempts_per_call.end(),
            state.attempts_per_call.begin());
  state.edge_endpoint_share = out.edge_endpoint_share;
  state.edge_endpoint_skewed = out.edge_endpoint_skewed;
}

void World::step(std::int64_t tick) {
  if (!operations_.empty()) advance_changes(tick * scenario_.tick);
  if (modifiers_dirty_) rebuild_modifiers();
  std::fill(external_.begin(), external_.end(), 0.0);
  std::fill(external_variance_.begin(), external_variance_.end(), 0.0);
  if (!requests_) close_locust_loops();
  traffic_.add_arrivals(tick, tick * scenario_.tick, scenario_.tick, external_, external_variance_);

  const bool need_shadow = truth_tracking_active();
  if (need_shadow && !shadow_running_) {  // identical until now
    shadow_state_ = state_;
    shadow_outcome_ = outcome_;
    shadow_autoscaler_ = autoscaler_;
    shadow_steering_ = steering_;
    if (requests_) *shadow_requests_ = *requests_;
  }
  shadow_running_ = need_shadow;

  const SimTime t = tick * scenario_.tick;
  shadow_ready_ = all_replicas_;
  if (autoscaled_) {
    // Replica faults act on the replicas the autoscaler runs (replica i in zone i mod
    // zones, the oldest first): those ready now; the ones still starting are not running.
    autoscaled_ready_ = all_replicas_;
    autoscaler_.step(t, outcome_.cpu, autoscaled_ready_, &scale_log_);
    for (std::size_t s = 0; s < ready_.size(); ++s) {
      const int running = autoscaled_ready_[s];
      if (!scenario_.services[s].autoscaling ||
          pod_faults_.replicas(static_cast<int>(s)) == running)
        continue;
      pod_faults_.set_replicas(static_cast<int>(s), running);
      modifiers_dirty_ = true;  // a fault with a `mode` hits a share of the replicas running
    }
    if (shadow_running_) shadow_autoscaler_.step(t, shadow_outcome_.cpu, shadow_ready_, nullptr);
  }
  pod_faults_.evaluate(t, active_pod_faults_, ready_, extra_memory_, unrouted_);
  // Rollouts take replicas out of service in both worlds; a version that cannot start only
  // in the real one.
  for (std::size_t c = 0; c < scenario_.changes.size(); ++c) {
    const ChangeState& change = change_state_[c];
    if (change.unavailable == 0 && change.stuck == 0) continue;
    const int s = scenario_.changes[c].services.front();
    ready_[s] = std::max(0, ready_[s] - change.unavailable - change.stuck);
    shadow_ready_[s] = std::max(0, shadow_ready_[s] - change.unavailable);
  }
  apply_leaking_versions(t);
  if (regional_) steer(t);
  const std::vector<double>& external = regional_ ? routed_external_ : external_;
  const std::vector<double>& variance = regional_ ? routed_variance_ : external_variance_;
  if (requests_) {
    frame_.spans.clear();
    frame_.logs.clear();
    user_loads(steering_, user_loads_);
    requests_->advance(tick, external, user_loads_, modifiers_, ready_, unrouted_, outcome_,
                       &frame_.spans, &frame_.logs, &ejection_log_);
    // The run's last tick: kept traces' spans still open end with it (no orphaned children).
    if (tick + 1 == scenario_.tick_count())
      requests_->close_open_spans((tick + 1) * scenario_.tick, frame_.spans);
  } else {
    compute(tick, external, variance, modifiers_, ready_, unrouted_, state_, outcome_);
  }
  if (shadow_running_) {
    const std::vector<double>& shadow_external = regional_ ? shadow_external_ : external_;
    const std::vector<double>& shadow_variance = regional_ ? shadow_variance_ : external_variance_;
    if (requests_) {
      user_loads(shadow_steering_, shadow_user_loads_);
      shadow_requests_->advance(tick, shadow_external, shadow_user_loads_, no_faults_,
                                shadow_ready_, no_unrouted_, shadow_outcome_);
    } else
      compute(tick, shadow_external, shadow_variance, no_faults_, shadow_ready_, no_unrouted_,
              shadow_state_, shadow_outcome_);
    track_truth(tick);
  }
  track_emergent(tick);
  last_step_end_ = (tick + 1) * scenario_.tick;
  write_frame(tick);
}

int World::up_in_region(int service, const std::string& region) const {
  const ServiceSpec& spec = scenario_.services[service];
  if (spec.zones.empty() || ready_[service] == 0) return ready_[service];
  int up = 0;
  for (std::size_t z = 0; z < spec.zones.size(); ++z)
    if (spec.zone_regions[z] == region) up += pod_faults_.up_in_place(service, z);
  return std::min(up, ready_[service]);
}

bool World::region_passes(int source, int region, bool real) const {
  const TrafficSpec& spec = scenario_.traffic[source];
  const RegionalEntry& regional = spec.regions[region];
  const TickOutcome& last = real ? outcome_ : shadow_outcome_;
  const double timeout = to_seconds(spec.failover->timeout);
  // A check is one request: it fails where most requests would. Where the entry got no
  // requests on the last tick (its region drained or failed over) there is nothing measured
  // to go by: the check's own request is answered as the faults make it (probe()), so that
  // a region stays down while its fault lasts and comes back when it ends.
  std::vector<Probe> memo;
  for (int s : regional.entry) {
    const int up = real ? up_in_region(s, regional.region) : shadow_ready_[s];
    if (up <= 0) return false;
    if (last.arrivals[s] > 0) {
      if (last.error_ratio[s] >= 0.5 || last.p50[s] >= timeout) return false;
      continue;
    }
    if (memo.empty()) memo.resize(scenario_.services.size());
    const Probe p = real ? probe(s, modifiers_, ready_, unrouted_, memo)
                         : probe(s, no_faults_, shadow_ready_, no_unrouted_, memo);
    if (p.failure >= 0.5 || p.latency >= timeout) return false;
  }
  return true;
}

World::Probe World::probe(int s, const FaultModifiers& mod, const std::vector<int>& ready,
                          const std::vector<double>& unrouted, std::vector<Probe>& memo) const {
  Probe& result = memo[static_cast<std::size_t>(s)];
  if (result.failure >= 0) return result;
  const ServiceSpec& spec = scenario_.services[s];
  double pass = ready[s] > 0 ? (1.0 - mod.service_abort[s]) * (1.0 - unrouted[s]) : 0.0;
  double latency =
      mod.service_capacity[s] > 0 ? spec.service_seconds() / mod.service_capacity[s] : HUGE_VAL;
  latency += mod.service_delay[s].mean;
  double endpoints_pass = 0, endpoints_delay = 0, weights = 0;
  for (int e = endpoint_begin_[s]; e < endpoint_begin_[s + 1]; ++e) {
    endpoints_pass += endpoints_[e].weight * (1.0 - mod.endpoint_abort[e]);
    endpoints_delay += endpoints_[e].weight * mod.endpoint_delay[e].mean;
    weights += endpoints_[e].weight;
  }
  if (weights > 0) {
    pass *= endpoints_pass / weights;
    latency += endpoints_delay / weights;
  }
  for (int d : topology_.outgoing(s)) {
    const DependencySpec& dep = scenario_.dependencies[d];
    const Probe callee = probe(dep.callee, mod, ready, unrouted, memo);
    const double timeout = to_seconds(dep.timeout);
    double attempt_latency = callee.latency + mod.edge_delay[d].mean;
    const double lost = dep.timeout > 0 ? mod.edge_loss[d] : 0.0;
    double attempt_failure =
        1.0 - (1.0 - mod.edge_abort[d]) * (1.0 - lost) * (1.0 - callee.failure);
    if (dep.timeout > 0 && attempt_latency >= timeout) {  // every attempt times out
      attempt_failure = 1.0;
      attempt_latency = timeout;
    }
    const double call_failure = std::pow(attempt_failure, dep.retries + 1);
    latency += dep.calls_per_request * attempt_latency;
    if (!dep.optional) pass *= std::pow(1.0 - call_failure, dep.calls_per_request);
  }
  result.failure = 1.0 - pass;
  result.latency = latency;
  return result;
}

void World::user_loads(const TrafficSteering& steering,
                       std::vector<RequestWorld::UserLoad>& loads) const {
  loads.clear();
  for (std::size_t i = 0; i < scenario_.traffic.size(); ++i) {
    const int source = static_cast<int>(i);
    if (!traffic_.closed_loop(source)) continue;
    const TrafficSpec& spec = scenario_.traffic[i];
    RequestWorld::UserLoad& load = loads.emplace_back();
    load.source = source;
    load.users = traffic_.looping_users(source);
    for (std::size_t e = 0; e < spec.entry.size(); ++e)
      load.entries.emplace_back(spec.entry[e], spec.entry_weights[e]);
    for (std::size_t r = 0; r < spec.regions.size(); ++r) {
      const double share = steering.share(source, static_cast<int>(r));
      if (share <= 0) continue;
      const RegionalEntry& regional = spec.regions[r];
      for (std::size_t e = 0; e < regional.entry.size(); ++e)
        load.entries.emplace_back(regional.entry[e], share * regional.entry_weights[e]);
    }
  }
}

void World::close_locust_loops() {
  // A request's answer time: its entry service's latency, none for the share failed fast.
  const auto answer = [&](int service) {
    return (1.0 - outcome_.fast_fail[service]) * outcome_.latency[service].mean;
  };
  for (std::size_t i = 0; i < scenario_.traffic.size(); ++i) {
    const TrafficSpec& spec = scenario_.traffic[i];
    if (!spec.locust) continue;
    double seconds = 0;
    for (std::size_t e = 0; e < spec.entry.size(); ++e)
      seconds += spec.entry_weights[e] * answer(spec.entry[e]);
    for (std::size_t r = 0; r < spec.regions.size(); ++r) {
      const double share = steering_.share(static_cast<int>(i), static_cast<int>(r));
      const RegionalEntry& regional = spec.regions[r];
      for (std::size_t e = 0; e < regional.entry.size(); ++e)
        seconds += share * regional.entry_weights[e] * answer(regional.entry[e]);
    }
    traffic_.set_answer_seconds(static_cast<int>(i), seconds);
  }
}

void World::with_routed_poisson(const std::vector<double>& routed,
                                std::vector<double>& variance) const {
  variance = external_variance_;
  for (std::size_t s = 0; s < routed.size(); ++s) variance[s] += routed[s] - external_[s];
}

void World::steer(SimTime t) {
  steering_.advance(
      t, [&](int source, int region) { return region_passes(source, region, true); },
      &steering_log_);
  routed_external_ = external_;
  steering_.route(traffic_.open_rates(), routed_external_);
  with_routed_poisson(routed_external_, routed_variance_);
  if (!shadow_running_) return;
  shadow_steering_.advance(
      t, [&](int source, int region) { return region_passes(source, region, false); }, nullptr);
  shadow_external_ = external_;
  shadow_steering_.route(traffic_.open_rates(), shadow_external_);
  with_routed_poisson(shadow_external_, shadow_variance_);
}

void World::measure_services(std::int64_t tick, std::size_t begin, std::size_t end) {
  MeasurementBatch& batch = service_batch_;
  for (std::size_t s = begin; s < end; ++s) {
    const double ff = outcome_.fast_fail[s];
    batch.expected[s] = outcome_.arrivals[s] * dt_;
    batch.dispersion[s] = outcome_.dispersion[s];
    batch.fast[s] = ff;
    batch.slow[s] =
        ff < 1 ? std::clamp((outcome_.error_ratio[s] - ff) / (1.0 - ff), 0.0, 1.0) : 0.0;
    // One endpoint: the percentiles are the log-normal fit's (or the exact queue shape's,
    // known by its percentiles); several: a mixture's.
    batch.exact[s] = {outcome_.p50[s], outcome_.p95[s], outcome_.p99[s]};
    const LogNormal& fit = outcome_.latency_fit[s];
    const bool lognormal = endpoint_begin_[s + 1] - endpoint_begin_[s] == 1 && !fit.degenerate &&
                           !outcome_.queue_shaped[s] && !(outcome_.delay_mixture[s].share > 0) &&
                           !outcome_.by_percentiles[s];
    batch.mu[s] = fit.mu;
    batch.sigma[s] = lognormal ? fit.sigma : -1.0;
    batch.gamma_c[s] = outcome_.gamma_c[s];
    batch.gamma_shift[s] = outcome_.gamma_shift[s];
    batch.atom[s] = 0;
    batch.cap[s] = HUGE_VAL;
    batch.mean[s] = outcome_.latency[s].mean;
    batch.var[s] = outcome_.latency[s].var;
    // Its latency is that of the requests completing: the queue's output this tick.
    batch.completing[s] = outcome_.served[s] * dt_;
  }
  batch.measure(latency_noise_, tick, 0, begin, end);
}

void World::measure_edges(std::int64_t tick, std::size_t begin, std::size_t end) {
  MeasurementBatch& batch = edge_batch_;
  for (std::size_t d = begin; d < end; ++d) {
    batch.expected[d] = outcome_.edge_attempts[d] * dt_;
    batch.dispersion[d] = outcome_.edge_dispersion[d];
    batch.fast[d] = 0;
    batch.slow[d] = outcome_.edge_failure[d];
    batch.exact[d] = {outcome_.edge_p50[d], outcome_.edge_p95[d], outcome_.edge_p99[d]};
    const LogNormal& fit = outcome_.edge_fit[d];
    batch.mu[d] = fit.mu;
    batch.sigma[d] = outcome_.edge_lognormal[d] ? fit.sigma : -1.0;
    batch.gamma_c[d] = outcome_.edge_gamma_c[d];
    batch.gamma_shift[d] = outcome_.edge_gamma_shift[d];
    batch.atom[d] = outcome_.edge_atom[d];
    batch.within[d] = outcome_.edge_within[d];
    batch.cap[d] = outcome_.edge_cap[d];
    batch.mean[d] = -1.0;  // edges have no mean series
    batch.var[d] = 0;
  }
  batch.measure(edge_noise_, tick, 0, begin, end);
}

bool World::skewed(int s, const TickOutcome& out) const {
  for (int e = endpoint_begin_[s]; e < endpoint_begin_[s + 1]; ++e)
    if (out.endpoint_share[e] != endpoints_[e].weight) return true;
  return false;
}

Moments World::call_latency(int s, const TickOutcome& out) const {
  Moments m;
  double second = 0;
  for (int e = endpoint_begin_[s]; e < endpoint_begin_[s + 1]; ++e) {
    const Moments& l = out.endpoint_latency[e];
    m.mean += endpoints_[e].weight * l.mean;
    second += endpoints_[e].weight * (l.var + l.mean * l.mean);
  }
  m.var = std::max(0.0, second - m.mean * m.mean);
  return m;
}

bool World::endpoint_mixture(int s, const FaultModifiers& mod, const TickOutcome& out,
                             LogNormalMixture& mixture, bool by_weight) const {
  mixture.parts.clear();
  mixture.weights.clear();
  mixture.shifts.clear();
  mixture.endpoint.clear();
  bool delayed = false;
  for (int e = endpoint_begin_[s]; e < endpoint_begin_[s + 1]; ++e) {
    const double w = by_weight ? endpoints_[e].weight : out.endpoint_share[e];
    const DelayPart* part =
        is_zero(mod.service_delay[s]) ? partial_delay(mod.endpoint_delay_parts[e]) : nullptr;
    if (part == nullptr) {
      mixture.parts.push_back(fit_lognormal(out.endpoint_latency[e]));
      mixture.weights.push_back(w);
      mixture.shifts.push_back(0.0);
      mixture.endpoint.push_back(e);
      continue;
    }
    delayed = true;
    const double p = part->fraction * part->share, delay = part->delay;
    const double jitter_var = part->jitter * part->jitter;
    const Moments taken = delay_moments(p, delay, jitter_var);
    Moments fast = out.endpoint_latency[e];
    fast.mean -= taken.mean;
    fast.var = std::max(0.0, fast.var - taken.var);
    mixture.parts.push_back(fit_lognormal(fast));
    mixture.weights.push_back(w * (1.0 - p));
    mixture.shifts.push_back(0.0);
    mixture.endpoint.push_back(e);
    const double lead = jitter_lead(delay, jitter_var);
    mixture.parts.push_back(delayed_body(fast, lead, jitter_var));
    mixture.weights.push_back(w * p);
    mixture.shifts.push_back(delay - lead);
    mixture.endpoint.push_back(e);
  }
  return delayed;
}

void World::endpoint_timeouts(int s, const LogNormalMixture& parts, double timeout,
                              std::vector<double>& chance) const {
  const int first = endpoint_begin_[s];
  chance.assign(endpoint_begin_[s + 1] - first, 0.0);
  thread_local std::vector<double> weight;  // scratch of the calling thread
  weight.assign(chance.size(), 0.0);
  for (std::size_t i = 0; i < parts.parts.size(); ++i) {
    const double shift = parts.shifts[i], w = parts.weights[i];
    const double within = timeout > shift ? lognormal_cdf(parts.parts[i], timeout - shift) : 0.0;
    chance[parts.endpoint[i] - first] += w * (1.0 - within);
    weight[parts.endpoint[i] - first] += w;
  }
  for (std::size_t e = 0; e < chance.size(); ++e)
    chance[e] = weight[e] > 0 ? chance[e] / weight[e] : 0.0;
}

double World::mixture_quantile_above(int s, double above) const {
  return mixture_quantile_of(outcome_.delay_mixture[s], outcome_.queue_shape[s], 1.0 - above);
}

void World::write_frame(std::int64_t tick) {
  frame_.tick = tick;
  frame_.time = (tick + 1) * scenario_.tick;
  const std::size_t services = scenario_.services.size();
  auto rps = frame_.service(ServiceMetric::kRps);
  auto err = frame_.service(ServiceMetric::kErrorRatio);
  auto p50 = frame_.service(ServiceMetric::kLatencyP50);
  auto p95 = frame_.service(ServiceMetric::kLatencyP95);
  auto p99 = frame_.service(ServiceMetric::kLatencyP99);
  auto mean = frame_.service(ServiceMetric::kLatencyMean);
  auto cpu = frame_.service(ServiceMetric::kCpuRatio);
  auto memory = frame_.service(ServiceMetric::kMemoryRatio);
  auto ready = frame_.service(ServiceMetric::kReadyReplicas);
  auto utilization = frame_.service(ServiceMetric::kUtilization);
  sampled_count_.assign(services, 0);
  // At the request level the telemetry is measured on the requests: nothing is added to it
  // but memory noise. The fluid model's is measured on the tick's count of requests
  // (measurement.h), unless the scenario turns measurement noise off.
  const bool measured = requests_ != nullptr;
  const bool noise = scenario_.measurement_noise;
  const bool sampled = !measured && noise;
  if (sampled) {
    service_batch_.resize(services);
    service_batch_.prepare();
  }
  // Every service's series depend on its own outcome and streams alone: parts in parallel.
  run_blocks(services, [&](std::size_t begin, std::size_t end) {
    if (sampled) measure_services(tick, begin, end);
    for (std::size_t s = begin; s < end; ++s) {
      const ServiceSpec& spec = scenario_.services[s];
      const double u = outcome_.utilization[s];
      if (sampled) {
        const std::uint64_t n = service_batch_.count[s];
        const SampledPercentiles& p = service_batch_.percentiles[s];
        rps[s] = static_cast<float>(static_cast<double>(n) / dt_);
        err[s] = n > 0 ? static_cast<float>(static_cast<double>(service_batch_.errors[s]) /
                                            static_cast<double>(n))
                       : 0.0f;
        p50[s] = static_cast<float>(p.p50);
        p95[s] = static_cast<float>(p.p95);
        p99[s] = static_cast<float>(p.p99);
        if (outcome_.endpoint_delayed[s] && p.p99 > 0) {  // some answered
          // An endpoint's delayed share: the ranks through the endpoints' mixture.
          const SampleScores& z = service_batch_.scores(s);
          thread_local LogNormalMixture m;  // scratch of the thread measuring s
          endpoint_mixture(static_cast<int>(s), modifiers_, outcome_, m);
          const auto at = [&](double above) {
            return mixture_quantile(m.parts.data(), m.weights.data(),
                                    static_cast<int>(m.parts.size()), 1.0 - above, m.shifts.data());
          };
          p50[s] = static_cast<float>(at(z.t50));
          p95[s] = static_cast<float>(at(z.t95));
          p99[s] = static_cast<float>(at(z.t99));
        }
        if (outcome_.delay_mixture[s].share > 0 && p.p99 > 0) {  // some answered
          // A delayed share: the sample's ranks through the mixture's own quantile function.
          const SampleScores& z = service_batch_.scores(s);
          p50[s] = static_cast<float>(mixture_quantile_above(s, z.t50));
          p95[s] = static_cast<float>(mixture_quantile_above(s, z.t95));
          p99[s] = static_cast<float>(mixture_quantile_above(s, z.t99));
        }
        mean[s] = static_cast<float>(service_batch_.sampled_mean[s]);
        sampled_count_[s] = n;
      } else {
        rps[s] = static_cast<float>(outcome_.arrivals[s]);
        err[s] = static_cast<float>(outcome_.error_ratio[s]);
        p50[s] = static_cast<float>(outcome_.p50[s]);
        p95[s] = static_cast<float>(outcome_.p95[s]);
        p99[s] = static_cast<float>(outcome_.p99[s]);
        mean[s] = static_cast<float>(outcome_.latency[s].mean);
      }
      // CPU and memory noise: two words of one block. The workers' busy share is measured on
      // the tick's requests (busy_spread); CPU follows it.
      const auto resource = resource_noise_[s].words(static_cast<std::uint64_t>(tick));
      double busy = u;
      if (sampled && ready_[s] > 0) {
        const double per_worker = spec.capacity_rps * modifiers_.service_capacity[s] /
                                  concurrency_[s];  // a worker's rate
        const bool pooled = spec.load_balancer == LoadBalancer::kLeastRequest || ready_[s] == 1;
        const int servers = ready_[s] * concurrency_[s];
        const double spread = per_worker > 0 ? busy_spread(u, 1.0 / per_worker, servers,
                                                           pooled ? servers : concurrency_[s], dt_)
                                             : 0.0;
        busy = bounded_share(u, spread, word_normal(resource[0]));
      }
      const double stress = 1.0 - modifiers_.service_capacity[s];
      const double cpu_noise = (1.0 - stress) * (1.0 - spec.cpu_baseline) * (busy - u);
      const double memory_noise = noise ? 0.003 * word_normal(resource[1]) : 0.0;
      cpu[s] = ready_[s] == 0 ? 0.0f  // no replica, no CPU (and no noise on it)
                              : static_cast<float>(std::clamp(outcome_.cpu[s] + cpu_noise, 0.0, 1.0));
      memory[s] =
          ready_[s] == 0
              ? 0.0f  // no replica, no memory
              : static_cast<float>(std::clamp(
                    spec.memory_baseline + extra_memory_[s] + 0.1 * u + memory_noise, 0.0, 1.0));
      ready[s] = static_cast<float>(ready_[s]);
      utilization[s] = static_cast<float>(busy);
    }
  });
  fill_zone_frame();
  if (regional_) {
    auto weight = frame_.route(RouteMetric::kWeight);
    auto route_rps = frame_.route(RouteMetric::kRps);
    std::size_t column = 0;
    for (std::size_t i = 0; i < scenario_.traffic.size(); ++i)
      for (std::size_t r = 0; r < scenario_.traffic[i].regions.size(); ++r, ++column) {
        const double share = steering_.share(static_cast<int>(i), static_cast<int>(r));
        weight[column] = static_cast<float>(share);
        route_rps[column] = static_cast<float>(share * traffic_.last_rate(static_cast<int>(i)));
      }
  }
  auto edge_rps = frame_.edge(EdgeMetric::kRps);
  auto edge_err = frame_.edge(EdgeMetric::kErrorRatio);
  auto edge_p50 = frame_.edge(EdgeMetric::kLatencyP50);
  auto edge_p95 = frame_.edge(EdgeMetric::kLatencyP95);
  auto edge_p99 = frame_.edge(EdgeMetric::kLatencyP99);
  const std::size_t edges = scenario_.dependencies.size();
  if (sampled) {
    edge_batch_.resize(edges);
    edge_batch_.prepare();
  }
  run_blocks(edges, [&](std::size_t begin, std::size_t end) {
    if (sampled) measure_edges(tick, begin, end);
    for (std::size_t d = begin; d < end; ++d) {
      if (!sampled) {
        // No calls, no errors (the model's failure chance stands for the calls there are).
        edge_rps[d] = static_cast<float>(outcome_.edge_attempts[d]);
        edge_err[d] =
            outcome_.edge_attempts[d] > 0 ? static_cast<float>(outcome_.edge_failure[d]) : 0.0f;
        edge_p50[d] = static_cast<float>(outcome_.edge_p50[d]);
        edge_p95[d] = static_cast<float>(outcome_.edge_p95[d]);
        edge_p99[d] = static_cast<float>(outcome_.edge_p99[d]);
        continue;
      }
      const std::uint64_t n = edge_batch_.count[d];
      const std::uint64_t failed = edge_batch_.errors[d];
      const SampledPercentiles& p = edge_batch_.percentiles[d];
      edge_rps[d] = static_cast<float>(static_cast<double>(n) / dt_);
      edge_err[d] =
          n > 0 ? static_cast<float>(static_cast<double>(failed) / static_cast<double>(n)) : 0.0f;
      edge_p50[d] = static_cast<float>(p.p50);
      edge_p95[d] = static_cast<float>(p.p95);
      edge_p99[d] = static_cast<float>(p.p99);
      if (outcome_.edge_mixed[d] && p.p99 > 0) {  // a mixture, cut at the timeout
        // The callee's (1), or the edge's own delayed share of the callee's latency (2).
        const SampleScores& z = edge_batch_.scores(d);
        const int callee = scenario_.dependencies[d].callee;
        const DelayMixture& m =
            outcome_.edge_mixed[d] == 2 ? outcome_.edge_mixture[d] : outcome_.delay_mixture[callee];
        const double cap = outcome_.edge_cap[d];
        const auto at = [&](double above) {
          return static_cast<float>(
              std::min(cap, mixture_quantile_of(m, outcome_.queue_shape[callee], 1.0 - above)));
        };
        edge_p50[d] = at(z.t50);
        edge_p95[d] = at(z.t95);
        edge_p99[d] = at(z.t99);
      }
    }
  });
  auto ep_rps = frame_.endpoint(EndpointMetric::kRps);
  auto ep_err = frame_.endpoint(EndpointMetric::kErrorRatio);
  auto ep_p50 = frame_.endpoint(EndpointMetric::kLatencyP50);
  auto ep_p95 = frame_.endpoint(EndpointMetric::kLatencyP95);
  auto ep_p99 = frame_.endpoint(EndpointMetric::kLatencyP99);
  // A sampled service's requests split among its endpoints by weight (a multinomial draw:
  // each endpoint a binomial share of those the ones before it left).
  std::uint64_t left = 0;
  double weight_left = 0;
  for (std::size_t e = 0; e < endpoints_.size(); ++e) {
    const EndpointModel& model = endpoints_[e];
    const int s = model.service;
    if (static_cast<int>(e) == endpoint_begin_[s]) {
      left = sampled_count_[s];
      weight_left = 1.0;
    }
    if (model.frame_index < 0) continue;
    const int i = model.frame_index;
    if (measured) {
      ep_rps[i] = static_cast<float>(outcome_.arrivals[s] * outcome_.endpoint_share[e]);
      ep_err[i] = static_cast<float>(outcome_.endpoint_error[e]);
      ep_p50[i] = static_cast<float>(outcome_.endpoint_p50[e]);
      ep_p95[i] = static_cast<float>(outcome_.endpoint_p95[e]);
      ep_p99[i] = static_cast<float>(outcome_.endpoint_p99[e]);
      continue;
    }
    // The endpoint's latency: the gamma of its moments (shifted to its third), or its
    // service's exact queue shape.
    const bool shaped = outcome_.queue_shaped[s];
    const Moments& l = outcome_.endpoint_latency[e];
    const ShiftedGamma shifted = shifted_gamma(l, outcome_.endpoint_third[e]);
    SampledPercentiles exact{outcome_.p50[s], outcome_.p95[s], outcome_.p99[s]};
    if (!shaped) {
      const GammaPercentiles g = shifted_gamma_percentiles(shifted);
      exact = {g.p50, g.p95, g.p99};
    }
    if (!sampled) {
      const double requests = outcome_.arrivals[s] * outcome_.endpoint_share[e];
      ep_rps[i] = static_cast<float>(requests);
      ep_err[i] = requests > 0 ? static_cast<float>(outcome_.endpoint_error[e]) : 0.0f;
      ep_p50[i] = static_cast<float>(exact.p50);
      ep_p95[i] = static_cast<float>(exact.p95);
      ep_p99[i] = static_cast<float>(exact.p99);
      continue;
    }
    // Words: this endpoint's share of the requests, its errors, fast failures, percentiles.
    const std::uint64_t local = static_cast<std::uint64_t>(e - endpoint_begin_[s]);
    MeasurementDraws draws(latency_noise_[s], tick, MeasurementDraws::kBlocksPerSet * (1 + local));
    const std::uint64_t n =
        sample_binomial(draws.next(), left, weight_left > 0 ? outcome_.endpoint_share[e] / weight_left : 1.0);
    left -= n;
    weight_left -= outcome_.endpoint_share[e];
    const std::uint64_t errors = sample_binomial(draws.next(), n, outcome_.endpoint_error[e]);
    const std::uint64_t fast = sample_binomial(draws.next(), n, outcome_.fast_fail[s]);
    // Map the sample's scores through the endpoint's latency.
    SampledPercentiles p;
    if (n > fast) {
      const SampleScores scores = sample_scores(draws, n - fast);
      const Moments& gamma = shifted.gamma;
      p = shaped || !(gamma.mean > 0 && gamma.var > 0)
              ? percentiles_at(exact, scores)
              : gamma_percentiles_at(exact, gamma.var / (9.0 * gamma.mean * gamma.mean), scores,
                                     shifted.shift);
    }
    ep_rps[i] = static_cast<float>(static_cast<double>(n) / dt_);
    ep_err[i] =
        n > 0 ? static_cast<float>(static_cast<double>(errors) / static_cast<double>(n)) : 0.0f;
    ep_p50[i] = static_cast<float>(p.p50);
    ep_p95[i] = static_cast<float>(p.p95);
    ep_p99[i] = static_cast<float>(p.p99);
  }
  // Replayed series replace the simulated values where their rows are (scenario.h, ReplaySpec):
  // the row the tick's middle falls in, as a recorded rate (a row a few milliseconds late
  // is still its tick's).
  const SimTime tick_middle = tick * scenario_.tick + scenario_.tick / 2;
  for (const ReplaySpec& replay : scenario_.replay) {
    if (replay.offsets.empty() || replay.metric_index < 0) continue;
    const auto after = std::upper_bound(replay.offsets.begin(), replay.offsets.end(), tick_middle);
    if (after == replay.offsets.begin()) continue;  // before its first row
    const std::size_t row = static_cast<std::size_t>(after - replay.offsets.begin()) - 1;
    if (after == replay.offsets.end() && tick_middle >= replay.offsets.back() + replay.step)
      continue;  // past its last row
    if (replay.family == "edge")
      frame_.edge(static_cast<EdgeMetric>(replay.metric_index))[replay.dependency] =
          replay.values[row];
    else
      frame_.service(static_cast<ServiceMetric>(replay.metric_index))[replay.service] =
          replay.values[row];
  }
}

std::vector<ChangeEvent> World::changes() const {
  std::vector<ChangeEvent> log = operations_.events();
  log.insert(log.end(), scale_log_.begin(), scale_log_.end());
  log.insert(log.end(), steering_log_.begin(), steering_log_.end());
  log.insert(log.end(), ejection_log_.begin(), ejection_log_.end());
  std::stable_sort(log.begin(), log.end(),
                   [](const ChangeEvent& a, const ChangeEvent& b) { return a.time < b.time; });
  return log;
}

}  // namespace dosim
