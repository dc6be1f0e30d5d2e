#include "request_world.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "queueing.h"
#include "world.h"

namespace dosim {

namespace {

// Inlined everywhere: several per request (the same goes for draw()).
[[gnu::always_inline]] inline std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

[[gnu::always_inline]] inline std::uint64_t combine(std::uint64_t a, std::uint64_t b) {
  return mix(a ^ mix(b));
}

// Slots of a request's draws at a service (part of the determinism contract: kAbort,
// kEdgeAbort and kEdgeLoss are no longer drawn, and stay so that the others keep their values).
constexpr int kFallbackCall = 1000;  // call_number of a fallback call (its own draws)

enum Slot : std::uint64_t {
  kAbort = 1,
  kUnrouted,
  kEndpoint,
  kBalancer,
  kBalancer2,
  kServiceTime,
  kCallCount,
  kEdgeAbort,
  kEdgeLoss,
  kBackoff,
  kHeadSample,
  kLog,
  kAbortBase = 32,        // + part
  kDelayBase = 64,        // + 2 x part (+1 for its jitter); service parts
  kEdgeDelayBase = 4096,  // edge parts
  kEdgeAbortBase = 4000,
  kEdgeLossBase = 4050,
  kGammaBase = 8192,  // rejection sampling
};

// Nearest-rank p50, p95 and p99 of `values` (>= 0, reordered); 0 for none. A radix select:
// non-negative floats order as their bit patterns, so one pass counts the values per bucket
// of their top 12 bits (exponent and 3 bits of mantissa: buckets 12.5 % wide), a walk over
// the counts finds each rank's bucket and its rank there, and a second pass gathers those
// buckets' few values to select from. `counts` (kRadixBuckets, zero) is left zero.
struct Percentiles {
  double p50 = 0, p95 = 0, p99 = 0;
};
constexpr int kRadixShift = 20;
constexpr std::size_t kRadixBuckets = std::size_t{1} << (31 - kRadixShift);

std::uint32_t bits_of(float value) { return std::bit_cast<std::uint32_t>(value); }

Percentiles percentiles(std::vector<float>& values, std::vector<std::uint32_t>& counts,
                        std::vector<float>& bucket) {
  if (values.empty()) return {};
  const std::size_t n = values.size();
  std::size_t ranks[3];
  const double ps[] = {0.50, 0.95, 0.99};
  for (int i = 0; i < 3; ++i) {
    const auto r = static_cast<std::size_t>(std::ceil(ps[i] * static_cast<double>(n)));
    ranks[i] = std::min(n - 1, r == 0 ? 0 : r - 1);
  }
  std::uint32_t low = ~0u, high = 0;
  for (float v : values) {
    const std::uint32_t key = bits_of(v) >> kRadixShift;
    if (key >= kRadixBuckets) {  // negative: never a latency; counted nowhere
      for (std::uint32_t b = low; b <= high && low <= high; ++b) counts[b] = 0;
      low = ~0u;
      break;
    }
    ++counts[key];
    low = std::min(low, key);
    high = std::max(high, key);
  }
  Percentiles out;
  double* slots[] = {&out.p50, &out.p95, &out.p99};
  if (low == ~0u) {  // the plain selection
    for (int i = 0; i < 3; ++i) {
      std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(ranks[i]),
                       values.end());
      *slots[i] = values[ranks[i]];
    }
    return out;
  }
  std::uint32_t keys[3];
  std::size_t within[3];
  std::size_t below = 0;
  int next = 0;
  for (std::uint32_t b = low; b <= high; ++b) {
    const std::size_t count = counts[b];
    counts[b] = 0;
    while (next < 3 && ranks[next] < below + count) {
      keys[next] = b;
      within[next] = ranks[next] - below;
      ++next;
    }
    below += count;
  }
  for (int i = 0; i < 3; ++i) {
    if (i > 0 && keys[i] == keys[i - 1]) {  // the same bucket: select again in it
      std::nth_element(bucket.begin(), bucket.begin() + static_cast<std::ptrdiff_t>(within[i]),
                       bucket.end());
      *slots[i] = bucket[within[i]];
      continue;
    }
    bucket.clear();
    for (float v : values)
      if ((bits_of(v) >> kRadixShift) == keys[i]) bucket.push_back(v);
    std::nth_element(bucket.begin(), bucket.begin() + static_cast<std::ptrdiff_t>(within[i]),
                     bucket.end());
    *slots[i] = bucket[within[i]];
  }
  return out;
}

Moments moments_of(const std::vector<float>& values) {
  if (values.empty()) return {};
  double sum = 0, squares = 0;
  for (float v : values) {
    sum += v;
    squares += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(values.size());
  const double mean = sum / n;
  return {mean, std::max(0.0, squares / n - mean * mean)};
}

}  // namespace

RequestWorld::RequestWorld(const Scenario& scenario, const Topology& topology, std::uint64_t seed)
    : scenario_(&scenario), topology_(&topology), dt_(to_seconds(scenario.tick)) {
  const std::size_t services = scenario.services.size();
  for (std::size_t s = 0; s < services; ++s) {
    const ServiceSpec& spec = scenario.services[s];
    const std::uint64_t id = entity_id(spec.name);
    arrival_rng_.emplace_back(seed, id, Purpose::kArrivals);
    request_rng_.emplace_back(seed, id, Purpose::kRequests);
    endpoint_begin_.push_back(static_cast<int>(endpoint_weight_.size()));
    if (spec.endpoints.empty()) {
      endpoint_weight_.push_back(1.0);
      endpoint_factor_.push_back(1.0);
    } else {
      double total = 0, mean_factor = 0;
      for (const EndpointSpec& e : spec.endpoints) total += e.weight;
      for (const EndpointSpec& e : spec.endpoints)
        mean_factor += e.weight / total * e.latency_factor;
      for (const EndpointSpec& e : spec.endpoints) {
        endpoint_weight_.push_back(e.weight / total);
        endpoint_factor_.push_back(e.latency_factor / mean_factor);
      }
    }
    ServiceState state;
    state.workers = spec.concurrency();
    state.load_balancer = spec.load_balancer;
    state.parallel_calls = spec.parallel_calls;
    state.service_time = spec.service_time;
    state.queue_limit = spec.queue_limit > 0
                            ? static_cast<std::size_t>(spec.queue_limit)
                            : static_cast<std::size_t>(
                                  std::max(1.0, std::ceil(spec.capacity_rps * kQueueLimitSeconds)));
    services_.push_back(std::move(state));
  }
  endpoint_begin_.push_back(static_cast<int>(endpoint_weight_.size()));
  int row = 0;  // declared endpoints are rows of the trace's /endpoints
  for (std::size_t s = 0; s < services; ++s)
    for (int e = endpoint_begin_[s]; e < endpoint_begin_[s + 1]; ++e)
      endpoint_row_.push_back(scenario.services[s].endpoints.empty() ? -1 : row++);
  const std::size_t endpoints = endpoint_weight_.size();
  const std::size_t dependencies = scenario.dependencies.size();
  for (auto* v : {&stats_.arrivals, &stats_.completed, &stats_.errors, &stats_.fast,
                  &stats_.busy_seconds, &stats_.unrouted})
    v->assign(services, 0.0);
  stats_.latency.assign(services, {});
  for (auto* v : {&stats_.ep_arrivals, &stats_.ep_completed, &stats_.ep_errors})
    v->assign(endpoints, 0.0);
  stats_.ep_latency.assign(endpoints, {});
  for (auto* v : {&stats_.edge_sent, &stats_.edge_resolved, &stats_.edge_failed})
    v->assign(dependencies, 0.0);
  stats_.edge_latency.assign(dependencies, {});
  edge_in_flight_.assign(dependencies, 0);
  edge_retries_in_flight_.assign(dependencies, 0);
  edge_faulted_.assign(dependencies, 0);
  for (const DependencySpec& dep : scenario.dependencies) {
    edges_.push_back({static_cast<std::int32_t>(dep.callee), dep.max_pending, dep.timeout,
                      dep.outlier.has_value()});
    const double whole = std::floor(dep.calls_per_request);
    whole_calls_.push_back(static_cast<int>(whole));
    extra_call_.push_back(dep.calls_per_request - whole);
  }
  ejections_.assign(dependencies, {});
  radix_counts_.assign(kRadixBuckets, 0);
  for (const TrafficSpec& source : scenario.traffic)
    user_rng_.emplace_back(seed, entity_id("traffic:" + source.name), Purpose::kUsers);
  source_users_.resize(scenario.traffic.size());
  active_users_.assign(scenario.traffic.size(), 0);
  user_loads_.assign(scenario.traffic.size(), nullptr);
}

std::int32_t RequestWorld::new_hop() {
  if (!free_hops_.empty()) {
    const std::int32_t h = free_hops_.back();
    free_hops_.pop_back();
    // Generations go on from where the slot's last request left them: an event of that one
    // never matches the new one.
    const std::uint32_t gen = hops_[h].gen;
    hops_[h] = Hop{};
    hops_[h].gen = gen;
    return h;
  }
  hops_.emplace_back();
  return static_cast<std::int32_t>(hops_.size() - 1);
}

void RequestWorld::free_hop(std::int32_t h) {
  ++hops_[h].gen;
  free_hops_.push_back(h);
}

void RequestWorld::push(SimTime t, EventKind kind, std::int32_t hop, std::uint32_t gen,
                        std::int32_t status, bool fast) {
  events_.push(t, Event{hop, gen, status, kind, fast});
}

[[gnu::always_inline]] inline double RequestWorld::draw(int service, std::uint64_t key,
                                                        std::uint64_t slot) const {
  return request_rng_[service].uniform(combine(key, slot));
}

double RequestWorld::normal(int service, std::uint64_t key, std::uint64_t slot) const {
  return request_rng_[service].normal(combine(key, slot));
}

namespace {
// t + s seconds, saturated at kTimeMax (never reached: the run ends first). A delay read from
// input is at most 100 years, but a fault's and its jitter's draw, a retry's backoff of ten of
// them, or a slow pod's on top of a service time may pass int64 nanoseconds together.
SimTime after(SimTime t, double s) {
  return s >= to_seconds(kTimeMax - t) ? kTimeMax : t + seconds(s);
}

// Whether a part acts at this stage: at the sidecar (replica -1) the parts of every replica,
// on a replica those of its replicas.
template <typename Part>
bool acts_on(const Part& part, int replica) {
  if (replica < 0) return part.replicas.empty();
  return std::binary_search(part.replicas.begin(), part.replicas.end(), replica);
}
}  // namespace

double RequestWorld::delay_of(const std::vector<DelayPart>& parts, int service, std::uint64_t key,
                              std::uint64_t slot, int* source, int replica) const {
  double delay = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const DelayPart& part = parts[i];
    if (!acts_on(part, replica)) continue;
    if (draw(service, key, slot + 2 * i) >= part.fraction) continue;
    double d = part.delay;
    if (part.jitter > 0) d += part.jitter * normal(service, key, slot + 2 * i + 1);
    delay += std::max(0.0, d);
    *source = part.source;
  }
  return delay;
}

const AbortPart* RequestWorld::abort_of(const std::vector<AbortPart>& parts, int service,
                                        std::uint64_t key, std::uint64_t slot, int replica) const {
  for (std::size_t i = 0; i < parts.size(); ++i)
    if (acts_on(parts[i], replica) && draw(service, key, slot + i) < parts[i].fraction)
      return &parts[i];
  return nullptr;
}

namespace {
// What touched a request: a fault (its index) or a change (-2 - its index).
void set_source(int source, std::int32_t& fault, std::int32_t& change) {
  if (source >= 0) fault = source;
  if (source <= -2) change = -2 - source;
}
}  // namespace

const AbortPart* RequestWorld::request_abort(Hop& hop, int replica) const {
  const int s = hop.service;
  const AbortPart* abort = abort_of(mod_->service_abort_parts[s], s, hop.key, kAbortBase, replica);
  if (!abort)
    abort =
        abort_of(mod_->endpoint_abort_parts[hop.endpoint], s, hop.key, kAbortBase + 16, replica);
  if (abort) set_source(abort->source, hop.fault, hop.change);
  return abort;
}

double RequestWorld::request_delay(Hop& hop, int replica) const {
  const int s = hop.service;
  int source = -1;
  const double delay =
      delay_of(mod_->service_delay_parts[s], s, hop.key, kDelayBase, &source, replica) +
      delay_of(mod_->endpoint_delay_parts[hop.endpoint], s, hop.key, kDelayBase + 32, &source,
               replica);
  set_source(source, hop.fault, hop.change);
  return delay;
}

double RequestWorld::service_time(int service, int endpoint, std::uint64_t key) const {
  const ServiceSpec& spec = scenario_->services[service];
  const double mean = services_[service].mean_time * endpoint_factor_[endpoint];
  switch (services_[service].service_time) {
    case ServiceTimeKind::kExponential:
      return -mean * std::log(1.0 - draw(service, key, kServiceTime));  // as exponential()
    case ServiceTimeKind::kDeterministic:
      return mean;
    case ServiceTimeKind::kLogNormal: {
      const double s2 = std::log1p(spec.service_time_cv * spec.service_time_cv);
      return mean * std::exp(std::sqrt(s2) * normal(service, key, kServiceTime) - 0.5 * s2);
    }
    case ServiceTimeKind::kGamma: {
      // Marsaglia and Tsang (2000), shape k = 1 / cv^2 (boosted by U^(1/k) below 1).
      const double k = 1.0 / (spec.service_time_cv * spec.service_time_cv);
      const double shape = k < 1 ? k + 1 : k;
      const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
      double x = shape;
      for (std::uint64_t i = 0; i < 64; ++i) {
        const double z = normal(service, key, kGammaBase + 2 * i);
        const double v = std::pow(1.0 + c * z, 3);
        if (v <= 0) continue;
        const double u = draw(service, key, kGammaBase + 2 * i + 1);
        if (std::log(u) < 0.5 * z * z + d - d * v + d * std::log(v)) {
          x = d * v;
          break;
        }
      }
      if (k < 1) x *= std::pow(draw(service, key, kServiceTime), 1.0 / k);
      return mean * x / k;
    }
  }
  return mean;
}

int RequestWorld::avoid_ejected(int dep, int replica, int replicas, SimTime t) const {
  const std::vector<Ejection>& ejected = ejections_[dep];
  for (int k = 0; k < replicas; ++k) {
    const int r = (replica + k) % replicas;
    if (static_cast<std::size_t>(r) >= ejected.size() || ejected[r].until <= t) return r;
  }
  return replica;  // every replica is out: Envoy's panic routing balances over them all
}

void RequestWorld::outlier_answer(int dep, int replica, int status, SimTime t) {
  const DependencySpec::OutlierDetection& policy = *scenario_->dependencies[dep].outlier;
  std::vector<Ejection>& ejected = ejections_[dep];
  if (ejected.size() <= static_cast<std::size_t>(replica)) ejected.resize(replica + 1);
  Ejection& e = ejected[replica];
  if (status < 500) {
    e.failures = 0;
    return;
  }
  if (e.until > t || ++e.failures < policy.consecutive_5xx) return;
  const int replicas = static_cast<int>(services_[edges_[dep].callee].replicas.size());
  int out = 0;
  for (const Ejection& other : ejected) out += other.until > t ? 1 : 0;
  const int most =
      std::max(1, static_cast<int>(std::floor(replicas * policy.max_ejection_percent / 100.0)));
  if (out >= most) return;  // it stays in, and is ejected at its next error if room is made
  e.failures = 0;
  ++e.times;
  const SimTime length = std::min(policy.base_ejection_time * e.times,
                                  std::max(policy.base_ejection_time, policy.max_ejection_time));
  e.until = t + length;
  if (ejections_out_)
    ejections_out_->push_back({t, "outlier-ejection", scenario_->edge_name(dep),
                               "replica " + std::to_string(replica),
                               "out for " + format_duration(length), ""});
}

void RequestWorld::set_busy(int service, int delta, SimTime t) {
  ServiceState& state = services_[service];
  const double now = to_seconds(t - tick_start_);
  stats_.busy_seconds[service] += state.busy * (now - state.busy_since);
  state.busy_since = now;
  state.busy += delta;
}

// --- a request at its service -------------------------------------------------------------

void RequestWorld::arrive(std::int32_t h, SimTime t) {
  Hop& hop = hops_[h];
  const int s = hop.service;
  hop.arrived = t;
  // The endpoint, by weight.
  const int first = endpoint_begin_[s], count = endpoint_begin_[s + 1] - first;
  hop.endpoint = first;
  if (count > 1) {
    double u = draw(s, hop.endpoint_key, kEndpoint);
    for (int e = first; e < first + count; ++e) {
      hop.endpoint = e;
      if ((u -= endpoint_weight_[e]) < 0) break;
    }
  }
  stats_.arrivals[s] += 1;
  stats_.ep_arrivals[hop.endpoint] += 1;
  if (!services_[s].faulted) {
    enter(h, t);
    return;
  }
  if (const AbortPart* abort = request_abort(hop, -1)) {
    finish(h, abort->status, true, t);
    return;
  }
  if ((*unrouted_)[s] > 0 && draw(s, hop.key, kUnrouted) < (*unrouted_)[s]) {
    stats_.unrouted[s] += 1;
    finish(h, 503, true, t);
    return;
  }
  const double delay = request_delay(hop, -1);
  if (delay > 0)
    push(after(t, delay), EventKind::kEnter, h, hop.gen);
  else
    enter(h, t);
}

void RequestWorld::enter(std::int32_t h, SimTime t) {
  Hop& hop = hops_[h];
  const int s = hop.service;
  ServiceState& state = services_[s];
  const std::size_t n = state.replicas.size();
  if (n == 0) {
    finish(h, 503, true, t);  // no replica: connection refused
    return;
  }
  std::size_t r = 0;
  switch (state.load_balancer) {
    case LoadBalancer::kRoundRobin:  // cursor++ % n
      if (state.cursor_n != n) {
        state.cursor_n = n;
        state.cursor_mod = state.cursor % n;
      }
      r = state.cursor_mod;
      ++state.cursor;
      if (++state.cursor_mod == n) state.cursor_mod = 0;
      break;
    case LoadBalancer::kRandom:
      r = static_cast<std::size_t>(draw(s, hop.key, kBalancer) * static_cast<double>(n));
      break;
    case LoadBalancer::kLeastRequest: {
      const std::size_t a = static_cast<std::size_t>(draw(s, hop.key, kBalancer) * n);
      const std::size_t b = static_cast<std::size_t>(draw(s, hop.key, kBalancer2) * n);
      const auto load = [&](std::size_t i) {
        return state.replicas[i].busy + state.replicas[i].waiting();
      };
      r = load(b) < load(a) ? b : a;
      break;
    }
  }
  r = std::min(r, n - 1);
  if (hop.via >= 0 && edges_[hop.via].outlier) {
    const int picked = static_cast<int>(r);
    r = static_cast<std::size_t>(avoid_ejected(hop.via, picked, static_cast<int>(n), t));
    // Round robin goes on over the replicas still in: the cursor moves past those out.
    if (state.load_balancer == LoadBalancer::kRoundRobin) {
      state.cursor += (static_cast<int>(r) - picked + static_cast<int>(n)) % static_cast<int>(n);
      state.cursor_mod = state.cursor % n;
    }
  }
  hop.served_replica = static_cast<std::int32_t>(r);
  if (hop.parent >= 0 && calls_[hop.parent].gen == hop.parent_call)
    calls_[hop.parent].attempt_replica = hop.served_replica;
  // Faults on some replicas only (a fault's `mode`): the pod fails the request at once, or
  // holds it longer.
  if (state.faulted) {
    if (const AbortPart* abort = request_abort(hop, static_cast<int>(r))) {
      finish(h, abort->status, true, t);
      return;
    }
    hop.slow = request_delay(hop, static_cast<int>(r));
  }
  Replica& replica = state.replicas[r];
  if (replica.busy < state.workers) {
    start_service(h, static_cast<int>(r), t);
  } else if (replica.waiting() < state.queue_limit) {
    hop.replica = static_cast<std::int32_t>(r);
    replica.queue.push_back(h);
  } else {
    finish(h, 503, true, t);  // the queue is full
  }
}

void RequestWorld::start_service(std::int32_t h, int r, SimTime t) {
  Hop& hop = hops_[h];
  Replica& replica = services_[hop.service].replicas[r];
  hop.replica = r;
  hop.in_service = true;
  hop.service_order = service_starts_++;
  ++replica.busy;
  set_busy(hop.service, +1, t);
  const double held = service_time(hop.service, hop.endpoint, hop.key) + hop.slow;
  hop.done_at = std::max(t + 1, after(t, held));
  push(hop.done_at, EventKind::kDone, h, hop.gen, hop.done_epoch);
}

void RequestWorld::retime_service(int s, double factor, SimTime t) {
  for (std::size_t i = 0; i < hops_.size(); ++i) {
    Hop& hop = hops_[i];
    if (!hop.in_service || hop.service != s || hop.done_at <= t) continue;
    // The slow pod's delay (a hold, not CPU) is taken to come last.
    const double left = to_seconds(hop.done_at - t);
    const double held = std::min(left, hop.slow);
    hop.done_at = std::max(t + 1, after(t, (left - held) * factor + held));
    push(hop.done_at, EventKind::kDone, static_cast<std::int32_t>(i), hop.gen, ++hop.done_epoch);
  }
}

void RequestWorld::done(std::int32_t h, SimTime t) {
  Hop& hop = hops_[h];
  const int s = hop.service;
  ServiceState& state = services_[s];
  Replica& replica = state.replicas[hop.replica];
  --replica.busy;
  hop.in_service = false;
  set_busy(s, -1, t);
  ++hops_served_;
  hop.replica = -1;
  if (replica.waiting() > 0) {
    const std::int32_t next = replica.queue[replica.head++];
    if (replica.head == replica.queue.size()) {
      replica.queue.clear();
      replica.head = 0;
    }
    start_service(next, static_cast<int>(&replica - state.replicas.data()), t);
  }
  if (state.parallel_calls)
    issue_parallel(h, t);
  else
    next_call(h, t);
}

std::int32_t RequestWorld::new_call(std::int32_t h, int dep, int call_number, bool fallback) {
  std::int32_t c;
  if (!free_calls_.empty()) {
    c = free_calls_.back();
    free_calls_.pop_back();
  } else {
    c = static_cast<std::int32_t>(calls_.size());
    calls_.emplace_back();
  }
  Call& call = calls_[c];
  const std::uint32_t gen = call.gen;  // goes on from the slot's last call
  call = Call{};
  call.gen = gen;
  call.hop = h;
  call.dep = dep;
  call.call_number = call_number;
  call.fallback = fallback;
  return c;
}

int RequestWorld::calls_on(const Hop& hop, int dep_pos) const {
  const int dep = topology_->outgoing(hop.service)[dep_pos];
  int n = whole_calls_[dep];
  const double fraction = extra_call_[dep];
  if (fraction > 0 && draw(hop.service, hop.key, kCallCount + 16 * (dep_pos + 1)) < fraction) ++n;
  return n;
}

void RequestWorld::next_call(std::int32_t h, SimTime t) {
  Hop& hop = hops_[h];
  if (hop.failed) {
    finish(h, 500, false, t);  // a call it needs failed
    return;
  }
  if (hop.fallback >= 0) {  // one call to the fallback of an optional dependency that failed
    const int fallback = hop.fallback;
    hop.fallback = -1;
    send_attempt(new_call(h, fallback, kFallbackCall, true), t);
    return;
  }
  const std::vector<int>& outgoing = topology_->outgoing(hop.service);
  while (hop.calls_left == 0) {
    if (++hop.dep_pos >= static_cast<std::int32_t>(outgoing.size())) {
      finish(h, 200, false, t);
      return;
    }
    hop.calls_left = calls_on(hop, hop.dep_pos);
    hop.call_number = 0;
  }
  send_attempt(new_call(h, outgoing[hop.dep_pos], hop.call_number, false), t);
}

void RequestWorld::issue_parallel(std::int32_t h, SimTime t) {
  // Every call at once; the request answers when the last one is done. Calls that finish
  // while they are being issued do not end it early.
  hops_[h].issuing = true;
  const std::vector<int>& outgoing = topology_->outgoing(hops_[h].service);
  for (int pos = 0; pos < static_cast<int>(outgoing.size()); ++pos) {
    const int n = calls_on(hops_[h], pos);
    for (int k = 0; k < n; ++k) {
      ++hops_[h].outstanding;
      send_attempt(new_call(h, outgoing[pos], k, false), t);
    }
  }
  Hop& hop = hops_[h];
  hop.issuing = false;
  if (hop.outstanding == 0) finish(h, hop.failed ? 500 : 200, false, t);
}

void RequestWorld::send_attempt(std::int32_t c, SimTime t) {
  Call& call = calls_[c];
  const Hop& hop = hops_[call.hop];
  const int d = call.dep;
  const EdgeState& dep = edges_[d];
  ++call.attempt;
  ++call.gen;
  call.attempt_start = t;
  call.attempt_fault = call.attempt_change = -1;
  call.attempt_replica = -1;
  stats_.edge_sent[d] += 1;
  const std::uint64_t call_key =
      combine(hop.key, static_cast<std::uint64_t>(d) * 65536 + call.call_number);
  const std::uint64_t key = combine(call_key, static_cast<std::uint64_t>(call.attempt));
  call.attempt_span = mix(key ^ 0xC11E47ull);
  call.span_open = true;
  const int s = hop.service;
  if (dep.max_pending > 0 && edge_in_flight_[d] >= dep.max_pending) {
    push(t, EventKind::kResult, c, call.gen, 503);  // the circuit breaker overflows
    return;
  }
  ++edge_in_flight_[d];
  if (call.attempt > 1) ++edge_retries_in_flight_[d];
  call.open = true;
  const bool faulted = edge_faulted_[d] != 0;
  if (const AbortPart* abort =
          faulted ? abort_of(mod_->edge_abort_parts[d], s, key, kEdgeAbortBase) : nullptr) {
    set_source(abort->source, call.attempt_fault, call.attempt_change);
    push(t, EventKind::kResult, c, call.gen, abort->status);
    return;
  }
  if (dep.timeout > 0) push(t + dep.timeout, EventKind::kTimeout, c, call.gen);
  const AbortPart* loss =
      faulted ? abort_of(mod_->edge_loss_parts[d], s, key, kEdgeLossBase) : nullptr;
  if (loss) set_source(loss->source, call.attempt_fault, call.attempt_change);
  if (loss && dep.timeout > 0) return;  // it never arrives; the timeout ends the attempt
  int source = -1;
  double delay =
      faulted ? delay_of(mod_->edge_delay_parts[d], s, key, kEdgeDelayBase, &source) : 0.0;
  set_source(source, call.attempt_fault, call.attempt_change);
  if (loss) delay += kRetransmitSeconds;
  const std::int32_t callee = new_hop();
  Hop& child = hops_[callee];
  const Hop& caller = hops_[calls_[c].hop];  // new_hop() may have moved the slots
  const Call& sent = calls_[c];
  child.service = dep.callee;
  child.via = d;
  child.parent = c;
  child.parent_call = sent.gen;
  child.key = key;
  child.endpoint_key = combine(call_key, 1);  // the first attempt's key
  child.root = caller.root;
  child.served_attempt = sent.attempt;
  child.trace = caller.trace;
  child.span = mix(key ^ 0x5E77E4ull);
  child.parent_span = sent.attempt_span;
  if (child.trace >= 0) ++traces_[child.trace].open;
  if (delay > 0 || depth_ >= kMaxNesting) {
    push(after(t, delay), EventKind::kArrive, callee, child.gen);
    return;
  }
  ++depth_;  // it arrives now: handled at once
  arrive(callee, t);
  --depth_;
}

void RequestWorld::on_result(std::int32_t c, std::uint32_t gen, int status, SimTime t, bool fast) {
  Call& call = calls_[c];
  if (call.gen != gen) return;  // stale: the call moved on, or is over
  const int d = call.dep;
  const bool ok = status < 400;  // a 4xx (a shed's 429, an error fault's) fails the call too
  if (call.open) {
    call.open = false;
    --edge_in_flight_[d];
    if (call.attempt > 1) --edge_retries_in_flight_[d];
  }
  close_attempt(c, status, t);
  stats_.edge_resolved[d] += 1;
  if (!ok) stats_.edge_failed[d] += 1;
  // An attempt failed at once counts as a failure only, as a service's fast failures do.
  if (ok || !fast)
    stats_.edge_latency[d].push_back(static_cast<float>(to_seconds(t - call.attempt_start)));
  ++call.gen;  // the other outcome of this attempt is stale now
  if (ok)
    call_done(c, true, t);
  else
    attempt_failed(c, t);
}

void RequestWorld::attempt_failed(std::int32_t c, SimTime t) {
  Call& call = calls_[c];
  const Hop& hop = hops_[call.hop];
  const DependencySpec& dep = scenario_->dependencies[call.dep];
  // A retry budget: retries in flight on the edge stay below its share of the attempts.
  const bool budget_left =
      dep.retry_budget <= 0 ||
      edge_retries_in_flight_[call.dep] <
          std::max<double>(dep.retry_min, dep.retry_budget * edge_in_flight_[call.dep]);
  if (call.attempt <= dep.retries && budget_left) {
    double backoff = 0;
    if (dep.retry_backoff > 0) {
      const double ceiling =
          std::min(10.0, std::exp2(call.attempt) - 1.0) * to_seconds(dep.retry_backoff);
      const std::uint64_t key = combine(hop.key, static_cast<std::uint64_t>(call.dep) * 65536 +
                                                     call.call_number * 64 + call.attempt);
      backoff = (1.0 - draw(hop.service, key, kBackoff)) * ceiling;  // (0, ceiling]
    }
    ++call.gen;
    push(after(t, backoff), EventKind::kRetry, c, call.gen);
    return;
  }
  // The call failed after its retries.
  if (!dep.optional) {
    call_done(c, false, t);
  } else if (dep.fallback >= 0) {
    call_done(c, true, t, dep.fallback);
  } else if (dep.fallback_latency > 0) {
    ++call.gen;
    push(t + dep.fallback_latency, EventKind::kFallbackOver, c, call.gen);
  } else {
    call_done(c, true, t);
  }
}

void RequestWorld::call_done(std::int32_t c, bool ok, SimTime t, int fallback) {
  const std::int32_t h = calls_[c].hop;
  const bool was_fallback = calls_[c].fallback;
  ++calls_[c].gen;
  free_calls_.push_back(c);
  Hop& hop = hops_[h];
  if (!ok) hop.failed = true;
  if (services_[hop.service].parallel_calls) {
    if (fallback >= 0) {  // the fallback call joins the others
      ++hop.outstanding;
      send_attempt(new_call(h, fallback, kFallbackCall, true), t);
    }
    Hop& after = hops_[h];
    if (--after.outstanding == 0 && !after.issuing) finish(h, after.failed ? 500 : 200, false, t);
    return;
  }
  if (!was_fallback) {
    --hop.calls_left;
    ++hop.call_number;
  }
  hop.fallback = fallback;
  next_call(h, t);
}

void RequestWorld::finish(std::int32_t h, int status, bool fast, SimTime t) {
  Hop& hop = hops_[h];
  const int s = hop.service;
  hop.status = status;
  stats_.completed[s] += 1;
  stats_.ep_completed[hop.endpoint] += 1;
  if (status >= 400) {  // errors and rejections (429s of load shedding), as the fluid model
    stats_.errors[s] += 1;
    stats_.ep_errors[hop.endpoint] += 1;
  }
  const float latency = fast ? 0.0f : static_cast<float>(to_seconds(t - hop.arrived));
  if (fast) {
    stats_.fast[s] += 1;
  } else {
    stats_.latency[s].push_back(latency);
    // A service without declared endpoints has one, whose latencies are the service's.
    if (endpoint_row_[hop.endpoint] >= 0) stats_.ep_latency[hop.endpoint].push_back(latency);
  }
  if (logs_out_ && draw(s, hop.key, kLog) < scenario_->tracing.logs) {
    LogRecord line;
    line.time = t;
    line.service = s;
    line.endpoint = endpoint_row_[hop.endpoint];
    line.status = status;
    line.latency = latency;
    trace_ids(hop.root, line.trace_high, line.trace_low);
    logs_out_->push_back(line);
  }
  if (const std::int32_t trace = hop.trace; trace >= 0) {
    SpanRecord span;
    span.span = hop.span;
    span.parent = hop.parent_span;
    span.kind = 1;
    span.service = s;
    span.endpoint = endpoint_row_[hop.endpoint];
    span.start = hop.arrived;
    span.end = t;
    span.status = status;
    span.attempt = hop.served_attempt;
    span.fault = hop.fault;
    span.change = hop.change;
    record(trace, span);
    TraceState& state = traces_[trace];
    if (hop.parent < 0 && !state.decided) {  // the root answered: the tail decision
      const TracingSpec& tracing = scenario_->tracing;
      state.decided = true;
      state.keep = (tracing.keep_errors && state.error) ||
                   (tracing.keep_slower_than && t - hop.arrived >= *tracing.keep_slower_than);
      if (state.keep && spans_out_)
        spans_out_->insert(spans_out_->end(), state.spans.begin(), state.spans.end());
      state.spans = {};
    }
    if (--state.open == 0) free_traces_.push_back(trace);
  }
  const std::int32_t parent = hop.parent;  // the call it answers
  const std::uint32_t parent_call = hop.parent_call;
  const bool waiting = parent >= 0 && calls_[parent].gen == parent_call;
  // The caller's sidecar sees the answer (not one that comes after it gave up).
  if (waiting && hop.served_replica >= 0 && edges_[hop.via].outlier)
    outlier_answer(hop.via, hop.served_replica, status, t);
  const std::int32_t user = hop.user;
  free_hop(h);
  if (user >= 0) user_answered(user, t);
  if (!waiting) return;
  // The answer reaches the caller now: handled at once, unless the handlers are nested deep
  // (a long run of immediate failures), where it waits its turn as an event.
  if (depth_ < kMaxNesting) {
    ++depth_;
    on_result(parent, parent_call, status, t, fast);
    --depth_;
  } else {
    push(t, EventKind::kResult, parent, parent_call, status, fast);
  }
}

void RequestWorld::start_trace(std::int32_t h) {
  Hop& hop = hops_[h];
  const bool head = draw(hop.service, hop.key, kHeadSample) < scenario_->tracing.sample;
  if (!head && !scenario_->tracing.tail()) return;  // never kept: not recorded
  std::int32_t trace;
  if (!free_traces_.empty()) {
    trace = free_traces_.back();
    free_traces_.pop_back();
  } else {
    trace = static_cast<std::int32_t>(traces_.size());
    traces_.emplace_back();
  }
  TraceState& state = traces_[trace];
  state = TraceState{};
  state.head = head;
  state.decided = head;  // a head-sampled trace is kept whatever happens
  state.keep = head;
  state.open = 1;
  trace_ids(hop.root, state.high, state.low);
  hop.trace = trace;
  hop.span = mix(hop.key ^ 0x5E77E4ull);
}

void RequestWorld::trace_ids(std::uint64_t root, std::uint64_t& high, std::uint64_t& low) const {
  high = mix(root ^ 0x7A11ull);
  low = mix(root ^ 0x10Eull);
}

void RequestWorld::record(std::int32_t trace, const SpanRecord& span) {
  TraceState& state = traces_[trace];
  if (span.status >= 500) state.error = true;
  SpanRecord full = span;
  full.trace_high = state.high;
  full.trace_low = state.low;
  if (state.decided) {
    if (state.keep && spans_out_) spans_out_->push_back(full);
    return;
  }
  state.spans.push_back(full);
}

void RequestWorld::close_attempt(std::int32_t c, int status, SimTime t) {
  Call& call = calls_[c];
  call.span_open = false;
  const Hop& hop = hops_[call.hop];
  if (hop.trace < 0) return;
  SpanRecord span;
  span.span = call.attempt_span;
  span.parent = hop.span;
  span.kind = 2;
  span.service = hop.service;
  span.dependency = call.dep;
  span.start = call.attempt_start;
  span.end = t;
  span.status = status;
  span.attempt = call.attempt;
  span.fault = call.attempt_fault;
  span.change = call.attempt_change;
  record(hop.trace, span);
}

void RequestWorld::close_open_spans(SimTime end, std::vector<SpanRecord>& spans) {
  const TracingSpec& tracing = scenario_->tracing;
  if (!(tracing.sample > 0 || tracing.tail())) return;
  spans_out_ = &spans;
  std::vector<char> free_hop(hops_.size(), 0), free_call(calls_.size(), 0);
  for (const std::int32_t h : free_hops_) free_hop[h] = 1;
  for (const std::int32_t c : free_calls_) free_call[c] = 1;
  // Attempts first, then the requests that sent them, each in slot order (deterministic).
  for (std::size_t c = 0; c < calls_.size(); ++c)
    if (!free_call[c] && calls_[c].span_open && !free_hop[calls_[c].hop])
      close_attempt(static_cast<std::int32_t>(c), 0, end);
  for (std::size_t h = 0; h < hops_.size(); ++h) {
    const Hop& hop = hops_[h];
    if (free_hop[h] || hop.trace < 0 || hop.endpoint < 0) continue;  // < 0: not arrived yet
    SpanRecord span;
    span.span = hop.span;
    span.parent = hop.parent_span;
    span.kind = 1;
    span.service = hop.service;
    span.endpoint = endpoint_row_[hop.endpoint];
    span.start = hop.arrived;
    span.end = end;
    span.status = 0;  // not answered
    span.attempt = hop.served_attempt;
    span.fault = hop.fault;
    span.change = hop.change;
    record(hop.trace, span);
  }
  // Traces whose root has not answered, decided now on what they hold.
  for (std::size_t h = 0; h < hops_.size(); ++h) {
    const Hop& hop = hops_[h];
    if (free_hop[h] || hop.trace < 0 || hop.parent >= 0) continue;
    TraceState& state = traces_[hop.trace];
    if (state.decided) continue;
    state.decided = true;
    state.keep = (tracing.keep_errors && state.error) ||
                 (tracing.keep_slower_than && end - hop.arrived >= *tracing.keep_slower_than);
    if (state.keep) spans.insert(spans.end(), state.spans.begin(), state.spans.end());
    state.spans = {};
  }
}

// --- ticks ---------------------------------------------------------------------------------

void RequestWorld::apply_ready(const std::vector<int>& ready, SimTime t) {
  for (std::size_t s = 0; s < services_.size(); ++s) {
    ServiceState& state = services_[s];
    const std::size_t want = static_cast<std::size_t>(std::max(0, ready[s]));
    while (state.replicas.size() > want) {  // a replica gone: its requests fail
      Replica& gone = state.replicas.back();
      const auto index = static_cast<std::int32_t>(state.replicas.size() - 1);
      // Those it serves, in the order they got their worker, then those it queues.
      std::vector<std::pair<std::uint64_t, std::int32_t>> serving;
      for (std::size_t h = 0; h < hops_.size(); ++h) {
        const Hop& hop = hops_[h];
        if (hop.in_service && hop.service == static_cast<std::int32_t>(s) && hop.replica == index)
          serving.emplace_back(hop.service_order, static_cast<std::int32_t>(h));
      }
      std::sort(serving.begin(), serving.end());
      std::vector<std::int32_t> lost;
      for (const auto& [order, h] : serving) lost.push_back(h);
      for (std::size_t i = gone.head; i < gone.queue.size(); ++i) lost.push_back(gone.queue[i]);
      set_busy(static_cast<int>(s), -gone.busy, t);
      state.replicas.pop_back();
      for (std::int32_t h : lost) {
        hops_[h].replica = -1;
        hops_[h].in_service = false;
        finish(h, 503, false, t);  // connection reset
      }
    }
    state.replicas.resize(want);
  }
}

void RequestWorld::start_users(const UserLoad& load) {
  const int source = load.source;
  user_loads_[source] = &load;
  std::vector<std::int32_t>& pool = source_users_[source];
  const int before = active_users_[source];
  active_users_[source] = load.users;
  // Users [before, users) start within the tick, each at an instant of its own: Locust
  // spawns them one after the other, and a real load generator's timing jitters, so users
  // pacing at the same rate do not send in lockstep. One still looping (it was to stop, and
  // has not noticed yet) just goes on.
  for (int k = std::max(before, 0); k < load.users; ++k) {
    if (static_cast<std::size_t>(k) >= pool.size()) {
      User user;
      user.source = source;
      user.index = k;
      user.key = combine(static_cast<std::uint64_t>(source), static_cast<std::uint64_t>(k));
      pool.push_back(static_cast<std::int32_t>(users_.size()));
      users_.push_back(user);
    }
    User& user = users_[pool[k]];
    if (user.looping) continue;
    user.looping = true;
    const double at = dt_ * user_rng_[source].uniform(combine(user.key, user.sent + (1u << 31)));
    push(tick_start_ + std::min(seconds(at), scenario_->tick - 1), EventKind::kUserWake, pool[k],
         0);
  }
}

void RequestWorld::user_sends(std::int32_t u, SimTime t) {
  User& user = users_[u];
  const UserLoad* load = user_loads_[user.source];
  if (!load || user.index >= active_users_[user.source] || load->entries.empty()) {
    user.looping = false;  // its source has fewer users now: it stops
    return;
  }
  const std::uint64_t key = combine(user.key, user.sent);
  double pick = user_rng_[user.source].uniform(combine(key, 0));
  int service = load->entries.back().first;
  for (const auto& [entry, share] : load->entries)
    if ((pick -= share) < 0) {
      service = entry;
      break;
    }
  ++user.sent;
  user.started = t;
  const std::int32_t h = new_hop();
  Hop& hop = hops_[h];
  hop.service = service;
  hop.key = hop.endpoint_key = key;
  hop.root = key;
  hop.user = u;
  if (spans_out_) start_trace(h);
  arrive(h, t);
}

void RequestWorld::user_answered(std::int32_t u, SimTime t) {
  User& user = users_[u];
  const WaitTime& wait = scenario_->traffic[user.source].locust->wait;
  SimTime next = t;
  switch (wait.kind) {
    case WaitTime::Kind::kConstantThroughput:
      next = std::max(t, user.started + seconds(1.0 / wait.value));
      break;
    case WaitTime::Kind::kConstantPacing:
      next = std::max(t, user.started + seconds(wait.value));
      break;
    case WaitTime::Kind::kConstant:
      next = t + seconds(wait.value);
      break;
    case WaitTime::Kind::kBetween: {
      const double u01 = user_rng_[user.source].uniform(combine(combine(user.key, user.sent), 1));
      next = t + seconds(wait.value + u01 * (wait.high - wait.value));
      break;
    }
  }
  push(next, EventKind::kUserWake, u, 0);
}

void RequestWorld::advance(std::int64_t tick, const std::vector<double>& external,
                           const std::vector<UserLoad>& users, const FaultModifiers& mod,
                           const std::vector<int>& ready, const std::vector<double>& unrouted,
                           TickOutcome& out, std::vector<SpanRecord>* spans,
                           std::vector<LogRecord>* logs, std::vector<ChangeEvent>* ejections) {
  mod_ = &mod;
  ejections_out_ = ejections;
  unrouted_ = &unrouted;
  const TracingSpec& tracing = scenario_->tracing;
  spans_out_ = tracing.sample > 0 || tracing.tail() ? spans : nullptr;
  logs_out_ = tracing.logs > 0 ? logs : nullptr;
  tick_start_ = tick * scenario_->tick;
  const SimTime tick_end = tick_start_ + scenario_->tick;
  for (auto* v : {&stats_.arrivals, &stats_.completed, &stats_.errors, &stats_.fast,
                  &stats_.busy_seconds, &stats_.unrouted, &stats_.ep_arrivals, &stats_.ep_completed,
                  &stats_.ep_errors, &stats_.edge_sent, &stats_.edge_resolved, &stats_.edge_failed})
    std::fill(v->begin(), v->end(), 0.0);
  for (auto* lists : {&stats_.latency, &stats_.ep_latency, &stats_.edge_latency})
    for (auto& list : *lists) list.clear();
  for (ServiceState& state : services_) state.busy_since = 0;

  apply_ready(ready, tick_start_);
  for (std::size_t s = 0; s < services_.size(); ++s) {
    ServiceState& state = services_[s];
    state.mean_time =
        state.workers / (scenario_->services[s].capacity_rps * mod.service_capacity[s]);
    // Requests in service when a stressor starts or stops go on at the new CPU share (a
    // service time drawn under a fault kept the fault's pace after it, holding a backlog
    // about a service time longer than the fluid model's).
    if (state.cpu_share > 0 && mod.service_capacity[s] != state.cpu_share)
      retime_service(static_cast<int>(s), state.cpu_share / mod.service_capacity[s], tick_start_);
    state.cpu_share = mod.service_capacity[s];
    bool faulted = !mod.service_abort_parts[s].empty() || !mod.service_delay_parts[s].empty() ||
                   unrouted[s] > 0;
    for (int e = endpoint_begin_[s]; e < endpoint_begin_[s + 1]; ++e)
      faulted =
          faulted || !mod.endpoint_abort_parts[e].empty() || !mod.endpoint_delay_parts[e].empty();
    state.faulted = faulted;
  }
  for (std::size_t d = 0; d < edge_faulted_.size(); ++d)
    edge_faulted_[d] = !mod.edge_abort_parts[d].empty() || !mod.edge_loss_parts[d].empty() ||
                       !mod.edge_delay_parts[d].empty();
  // External arrivals: a Poisson process at this tick's rate (exponential gaps; the process
  // is memoryless, so restarting it at every tick is exact for a rate constant per tick).
  for (std::size_t s = 0; s < external.size(); ++s) {
    const double rate = external[s];
    if (rate <= 0) continue;
    double at = 0;
    for (std::uint64_t i = 0;; ++i) {
      const std::uint64_t index = combine(static_cast<std::uint64_t>(tick), i);
      at += arrival_rng_[s].exponential(index, 1.0 / rate);
      if (at >= dt_) break;
      const std::int32_t h = new_hop();
      Hop& hop = hops_[h];
      hop.service = static_cast<std::int32_t>(s);
      hop.key = hop.endpoint_key = combine(combine(static_cast<std::uint64_t>(tick), s), i);
      hop.root = hop.key;
      if (spans_out_) start_trace(h);
      push(tick_start_ + std::min(seconds(at), scenario_->tick - 1), EventKind::kArrive, h,
           hops_[h].gen);
    }
  }

  std::fill(user_loads_.begin(), user_loads_.end(), nullptr);
  for (const UserLoad& load : users) start_users(load);
  for (std::size_t i = 0; i < active_users_.size(); ++i)
    if (!user_loads_[i]) active_users_[i] = 0;

  CalendarQueue<Event>::Event popped;
  while (events_.pop_before(tick_end, popped)) {
    const SimTime t = popped.time;
    const Event& event = popped.payload;
    switch (event.kind) {
      case EventKind::kArrive:
        if (hops_[event.hop].gen == event.gen) arrive(event.hop, t);
        break;
      case EventKind::kEnter:
        if (hops_[event.hop].gen == event.gen) enter(event.hop, t);
        break;
      case EventKind::kDone:
        if (const Hop& hop = hops_[event.hop];
            hop.gen == event.gen && hop.replica >= 0 && event.status == hop.done_epoch)
          done(event.hop, t);
        break;
      case EventKind::kResult:
        on_result(event.hop, event.gen, event.status, t, event.fast);
        break;
      case EventKind::kTimeout:
        if (const Call& call = calls_[event.hop];
            call.gen == event.gen && call.attempt_replica >= 0 && edges_[call.dep].outlier)
          outlier_answer(call.dep, call.attempt_replica, 504, t);  // a timeout counts
        on_result(event.hop, event.gen, 504, t);
        break;
      case EventKind::kRetry:  // after a back-off: the next attempt of the same call
        if (calls_[event.hop].gen == event.gen) send_attempt(event.hop, t);
        break;
      case EventKind::kFallbackOver:  // an optional call failed; its fallback latency is over
        if (calls_[event.hop].gen == event.gen) call_done(event.hop, true, t);
        break;
      case EventKind::kUserWake:
        user_sends(event.hop, t);
        break;
    }
  }
  for (std::size_t s = 0; s < services_.size(); ++s) set_busy(static_cast<int>(s), 0, tick_end);
  fill(out, ready);
}

void RequestWorld::fill(TickOutcome& out, const std::vector<int>& ready) {
  const std::size_t services = services_.size();
  Stats& stats = stats_;  // percentiles reorder the tick's samples
  for (std::size_t s = 0; s < services; ++s) {
    const ServiceSpec& spec = scenario_->services[s];
    const double arrivals = stats.arrivals[s];
    out.arrivals[s] = arrivals / dt_;
    out.aborted[s] = 0;
    out.shed[s] = stats.fast[s] / dt_;
    out.served[s] = (stats.completed[s] - stats.errors[s]) / dt_;
    out.fast_fail[s] = arrivals > 0 ? std::min(1.0, stats.fast[s] / arrivals) : 0.0;
    out.error_ratio[s] = stats.completed[s] > 0 ? stats.errors[s] / stats.completed[s] : 0.0;
    const double routed = stats.completed[s] - stats.unrouted[s];
    out.routed_error_ratio[s] = routed > 0 ? (stats.errors[s] - stats.unrouted[s]) / routed : 0.0;
    const double worker_seconds =
        static_cast<double>(services_[s].workers) * std::max(0, ready[s]) * dt_;
    const double u = worker_seconds > 0 ? std::min(1.0, stats.busy_seconds[s] / worker_seconds) : 0;
    out.utilization[s] = u;
    const double stress = 1.0 - mod_->service_capacity[s];
    out.cpu[s] = ready[s] <= 0 ? 0.0  // no replica, no CPU
                               : stress + (1.0 - stress) *
                                              (spec.cpu_baseline + (1.0 - spec.cpu_baseline) * u);
    std::vector<float>& latency = stats.latency[s];
    out.latency[s] = moments_of(latency);
    out.latency_fit[s] = fit_lognormal(out.latency[s]);
    const Percentiles p = percentiles(latency, radix_counts_, radix_bucket_);
    out.p50[s] = p.p50;
    out.p95[s] = p.p95;
    out.p99[s] = p.p99;
    for (int e = endpoint_begin_[s]; e < endpoint_begin_[s + 1]; ++e) {
      // Its arrivals by endpoint: a retry asks the same endpoint again.
      out.endpoint_share[e] = arrivals > 0 ? stats.ep_arrivals[e] / arrivals : endpoint_weight_[e];
      out.endpoint_error[e] =
          stats.ep_completed[e] > 0 ? stats.ep_errors[e] / stats.ep_completed[e] : 0.0;
      if (endpoint_row_[e] < 0) {  // the service's only endpoint: its latencies
        out.endpoint_latency[e] = out.latency[s];
        out.endpoint_p50[e] = p.p50;
        out.endpoint_p95[e] = p.p95;
        out.endpoint_p99[e] = p.p99;
        continue;
      }
      out.endpoint_latency[e] = moments_of(stats.ep_latency[e]);
      const Percentiles q = percentiles(stats.ep_latency[e], radix_counts_, radix_bucket_);
      out.endpoint_p50[e] = q.p50;
      out.endpoint_p95[e] = q.p95;
      out.endpoint_p99[e] = q.p99;
    }
  }
  for (std::size_t d = 0; d < stats.edge_sent.size(); ++d) {
    out.edge_attempts[d] = stats.edge_sent[d] / dt_;
    out.edge_failure[d] =
        stats.edge_resolved[d] > 0 ? stats.edge_failed[d] / stats.edge_resolved[d] : 0.0;
    const Percentiles p = percentiles(stats.edge_latency[d], radix_counts_, radix_bucket_);
    out.edge_p50[d] = p.p50;
    out.edge_p95[d] = p.p95;
    out.edge_p99[d] = p.p99;
    out.edge_calls[d] = scenario_->dependencies[d].calls_per_request;
  }
}

}  // namespace dosim
