// The system model: services, their dependency graph, traffic and active faults, advanced
// one tick at a time.
//
// A tick of length dt computes, for every service and edge, what a fluid model of the
// system does in that interval:
//  1. Load, callers before callees (topological order). A service's arrivals are its
//     external traffic plus its callers' call attempts; requests aborted by an injected
//     fault fail at the sidecar and never queue. The rest join the service's queue
//     (fluid_queue.h: an M/M/c queue with c = ready replicas x workers, each serving
//     capacity_rps / workers, as a pointwise-stationary fluid flow with no cap on
//     utilisation); a queue holding more than queue_limit per replica (default
//     kQueueLimitSeconds of work) rejects the excess (503). Every served request makes
//     calls_per_request calls per dependency; a call is retried up to `retries` times when an
//     attempt fails, using the attempt failure rate of the previous tick (retries react with one
//     tick of delay), so retry storms and load amplification emerge on their own.
//  2. Latency and errors, callees before callers. A request's latency is its own service
//     time (exponential, mean workers / capacity_rps x endpoint latency_factor, longer
//     under a cpu-stress fault), the queue's wait (the stationary M/M/c wait at the
//     queue's utilisation, plus the backlog beyond it over capacity), injected delays, and
//     its calls: each attempt sees the
//     callee's latency (cut at the caller's timeout; a timeout less likely than 1e-6 is
//     not counted), attempts add up, calls are sequential. Moments add; percentiles come from a
//     moment-matched log-normal (queueing.h), or a mixture of them for services with several
//     endpoints. A request fails if it is aborted, rejected, or any of its calls fails after its
//     retries.
//  Autoscalers (autoscaler.h) set the replica count of the services that have one, from
//  the last tick's CPU; replica faults (pod-kill, crash-loop, memory-leak, outages;
//  pod_faults.h) take replicas out of it. Capacity and the M/M/c servers follow the ready
//  replicas.
//  3. Telemetry: the Frame gets every series as measured on the tick's finite count of
//     requests (measurement.h: a Poisson count of arrivals, binomial errors, the percentiles
//     and mean of that many latencies; per service, endpoint and edge), CPU + 0.01 Z and
//     memory + 0.003 Z (Z ~ RandomStream::fast_normal), from per-entity streams; all exact
//     with `measurement_noise: false`.
//     cpu_ratio = cpu_baseline + (1 - cpu_baseline) x utilization;
//     memory_ratio = memory_baseline + 0.1 x utilization.
//
// Operations (operations.h) act the same way: their defects are modifiers weighted by the
// traffic they reach, and rollouts hold replicas out of service. The counterfactual keeps
// the rollouts (a good version costs them too) but not the defects.
//
// Faults change the world through modifiers (added delay, abort share) that are recomputed
// from the set of active faults whenever it changes, so ending a fault restores exactly the
// state the world would have without it.
//
// Emergent incidents: a service with an SLI objective that breaks it while the
// counterfactual breaks it too (or no cause is being tracked), for at least a minute, is an
// incident no injected cause explains (cause "emergent"; docs/ground-truth.md).
//
// Ground truth: while a fault is active (and until its effects have died out) the world
// also advances a counterfactual copy of itself without any fault, fed the same traffic.
// A fault's impact window is the span of ticks in which its root service or a service
// upstream of it differs from the counterfactual by more than a tolerance (p95 latency by
// 5 % and 1 ms, error ratio by 0.5 points, rps by 5 %). Deterministic: no noise enters it.
//
// Run-time control (Simulation::add_fault and the rest): the scenario World was built from
// may grow (faults and changes appended) and its changes may be rolled back while it runs;
// the owner tells World through add_fault(), add_change(), end_fault() and
// changes_modified(), and everything is then as if the scenario had declared it so. Causes
// added so get incident ids after the scenario's own, in the order they were added.
//
// Not thread-safe (set_threads parallelises a tick's work inside step()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "autoscaler.h"
#include "completed_wait.h"
#include "dosim/engine/frame.h"
#include "dosim/engine/incident.h"
#include "dosim/engine/operations.h"
#include "dosim/engine/scenario.h"
#include "fluid_queue.h"
#include "measurement.h"
#include "pod_faults.h"
#include "queue_latency.h"
#include "queueing.h"
#include "request_world.h"
#include "rng.h"
#include "steering.h"
#include "topology.h"
#include "traffic.h"
#include "util/tick_pool.h"

namespace dosim {

inline constexpr double kQueueLimitSeconds = 10.0;

// One injected delay as requests meet it: a share `fraction` of them wait `delay` plus a
// normal jitter of standard deviation `jitter` (at least 0).
// `source`: the fault (its index) or the change (-2 - its index) it comes from.
struct DelayPart {
  double fraction = 0, delay = 0, jitter = 0;  // seconds
  double share = 1;  // of the requests it reaches under balancing (the fluid model's)
  int source = -1;
  std::vector<int> replicas;  // the replicas it acts on (a fault's `mode`); empty: all
};

// A latency as a mixture of log-normals: part i with weight weights[i] (they sum to 1),
// shifted by shifts[i].
struct LogNormalMixture {
  std::vector<LogNormal> parts;
  std::vector<double> weights, shifts;
  std::vector<int> endpoint;  // the endpoint each part belongs to (World::endpoint_mixture)
};

// Latency with a share of the requests delayed: `fast` (a log-normal) with probability
// 1 - share, `shift` plus `body` (the fast latency with the delay's jitter added, a
// log-normal) with probability share.
struct DelayMixture {
  LogNormal fast, body;
  double shift = 0, share = 0;  // shift: the delayed share's mean shift
  double jitter_var = 0;        // the delay's variance: body's over fast's, beyond the parts'
  // The delayed share in `steps` parts (calls retried after timeouts: one timeout waited
  // out, two, ...): part k = 1..steps holds (1 - ratio) ratio^(k-1) of it (the last
  // ratio^(steps-1)), shifted `spacing` more than the part before it, the last `last_less`
  // less again (its calls end at their last timeout, without an answer), each after the
  // mean back-offs of the retries it made (`backoff`: the dependency's retry_backoff).
  // One step: one part. With first_ratio > 0 the first part holds 1 - first_ratio at the
  // start and the train above the rest, first_spacing after it (a delayed share of which
  // some times out: those answered, then those retried).
  int steps = 0;  // 0 or 1: one part (0 by default, so that a cleared mixture is all zeros)
  double ratio = 0, spacing = 0, last_less = 0, backoff = 0;
  double first_ratio = 0, first_spacing = 0;
  // The delayed body's mean over the fast latency's: a jittered delay's body starts `lead`
  // before its shift (world.cc, jitter_lead).
  double lead = 0;
  // The fast share is the service's exact queue shape (TickOutcome::queue_shape) and the
  // delayed share the same shifted by `shift` (a fixed delay on a service alone): its
  // percentiles and its callers' timeouts use the shape, not the two log-normals.
  bool shaped = false;
  // The delayed share is the fast latency plus a delay drawn from a normal (mean `shift`,
  // variance `jitter_var`, at least 0: a latency fault's jittered delay, one part): a
  // timeout cuts it as that sum (truncate_delayed_at), not as the log-normal `body`.
  bool normal_delay = false;
};

// One abort (or loss) as requests meet it: a share `fraction` fails with `status`.
struct AbortPart {
  double fraction = 0;
  int source = -1;
  int status = 503;
  std::vector<int> replicas;  // the replicas it acts on (a fault's `mode`); empty: all
};

// Per-target effects of the active faults, recomputed from scratch when faults change.
struct FaultModifiers {
  // The delays one by one (per service, endpoint, dependency), for the request level; the
  // fluid model uses their moments below.
  std::vector<std::vector<DelayPart>> service_delay_parts, endpoint_delay_parts, edge_delay_parts;
  std::vector<std::vector<AbortPart>> service_abort_parts, endpoint_abort_parts, edge_abort_parts,
      edge_loss_parts;
  std::vector<Moments> service_delay;  // per service
  std::vector<double> service_abort;
  std::vector<double> service_capacity;  // share of capacity left by cpu-stress faults
  std::vector<Moments> endpoint_delay;   // per internal endpoint
  std::vector<double> endpoint_abort;
  std::vector<Moments> edge_delay;  // per dependency
  std::vector<double> edge_abort;
  std::vector<double> edge_loss;  // share of attempts lost (packet-loss faults)
};

// A lost attempt with no timeout to end it is retransmitted after Linux's minimum TCP
// retransmission timeout.
inline constexpr double kRetransmitSeconds = 0.2;

// What carries over from one tick to the next.
struct DynamicState {
  std::vector<double> in_system;  // per service: requests waiting or in service; < 0: not started
  // per service: where the queue stands against its stationary distribution this tick, a
  // standard normal score moving as an AR(1) on the queue's relaxation time (world.cc,
  // queue_level); NaN: not started.
  std::vector<double> queue_level;
  std::vector<double> attempt_failure;  // per dependency, as of the previous tick
  std::vector<double> call_failure;  // per dependency: a call failed after its retries, the same
  std::vector<double> attempts_per_call;  // per dependency: attempts a call makes, the same
  // Per dependency into a service of several endpoints (World::edge_endpoint_begin_): the
  // share of its attempts each endpoint takes, the same (its weight, but that a retry asks
  // the same endpoint again); `edge_endpoint_skewed` 1 where that is not the weights.
  std::vector<double> edge_endpoint_share;
  std::vector<char> edge_endpoint_skewed;
  CompletedWaits completed;  // recent waits, to show each in the tick it ends (completed_wait.h)
  std::vector<SplitQueues> split;  // per service: a backlog held by some replicas (fluid_queue.h)
  // per service with a queue at each replica: the variance (requests^2) of how far one
  // replica's backlog has drifted from the replicas' mean (world.cc, replica drift).
  std::vector<double> replica_drift;
  // per service: 1 from a tick over capacity until its queue is back at the stationary queue
  // of its load (world.cc, driven_wait in fluid_queue.h).
  std::vector<std::uint8_t> driven;
  // per service: slow pods' queue (world.cc, forward): the requests it holds, and the share
  // of the replicas it is (kept while its backlog drains after the fault).
  std::vector<double> slow_in_system, slow_share;
};

// The noiseless outcome of one tick, in double precision.
struct TickOutcome {
  // per service
  std::vector<double> arrivals, aborted, shed, served, utilization;
  std::vector<double> error_ratio, p50, p95, p99;
  std::vector<double> cpu;        // cpu_ratio before measurement noise
  std::vector<double> fast_fail;  // share of arrivals rejected or aborted at once
  // Request level: the error ratio of the requests that were routed to a replica (those an
  // outage left unrouted left out), for the zones that answer; the fluid model derives it.
  std::vector<double> routed_error_ratio;
  // Variance over mean of a tick's count of arrivals (1 for Poisson): a caller's calls come
  // in batches of calls_per_request, and callers that serve the same requests send together
  // (world.cc, arrival_spread; measurement.h, sample_batched).
  std::vector<double> dispersion;
  // The service whose external traffic brings most of a service's arrivals, and the
  // arrivals per second it brings: callees that share it see correlated counts.
  std::vector<int> spread_source;
  std::vector<double> from_source;
  std::vector<Moments> wait, latency;
  // The share of a request's service-time spread (and of its wait's own) that the requests
  // completing in the tick show: 1 but while a queue fills steeply (completed_wait.h).
  std::vector<double> service_squeeze;
  std::vector<LogNormal> latency_fit;  // log-normal matched to `latency`
  // A service whose latency is its own queue alone (one endpoint, no calls, no injected
  // delay): its exact shape (queue_latency.h), which its percentiles and its callers'
  // timeouts use in place of the log-normal; queue_shaped 0 elsewhere.
  std::vector<QueueLatency> queue_shape;
  std::vector<char> queue_shaped;
  // 1 for a service of one endpoint whose latency is known by its percentiles, measured
  // through them (p50, p95, p99), not through latency_fit: the gamma of its moments (a sum
  // of its own time, wait and calls), or those of its requests that make a fractional call
  // and those that do not (world.cc, the call mixture).
  std::vector<char> by_percentiles;
  // The Wilson-Hilferty constant var / (9 mean^2) of a service whose percentiles are the
  // gamma of its moments (by_percentiles), or of an edge that sees them unchanged; -1
  // elsewhere. Measured through the gamma's quantile function (gamma_percentiles_at).
  std::vector<double> gamma_c, edge_gamma_c;
  // The shift of that gamma where it is matched to three moments (queueing.h, shifted_gamma;
  // 0 elsewhere), measured as shift + the gamma's order statistics.
  std::vector<double> gamma_shift, edge_gamma_shift;
  // The third central moment of a service's latency where it is known (its exact queue
  // shape, a sum whose parts' are known, a mixture of such endpoints), NaN where its callers
  // take the gamma's of its moments (queueing.h, third_or_gamma); the same of each endpoint.
  std::vector<double> latency_third, endpoint_third;
  // A service with one endpoint and a share of its requests delayed (a canary's bad
  // version, a fault on some replicas or a percent of them): its latency is the mixture
  // (DelayMixture), not one log-normal of the moments, so a quarter of slow requests moves
  // p95 as a step; share 0 where there is no such mixture.
  std::vector<DelayMixture> delay_mixture;
  // The delayed share of a service's requests that its callers inherit (share, shift,
  // jitter_var; world.cc, backward): its delay_mixture's, or for several endpoints the
  // largest of an endpoint's partial delay and what its own callees pass on.
  std::vector<DelayMixture> passed_delay;
  // 1 for a service of several endpoints, one of them with a share of its requests delayed:
  // its percentiles are those of the endpoints' mixture (World::endpoint_mixture).
  std::vector<char> endpoint_delayed;
  // Slow pods (a latency fault with a `mode`, whose replicas hold a worker for the delay):
  // the share of the answered requests they served, and what those took more than the
  // others (the wait beyond theirs and the delay); share 0 where there are none.
  std::vector<double> slow_share;
  std::vector<Moments> slow_extra;
  // per internal endpoint
  std::vector<double> endpoint_error;
  std::vector<Moments> endpoint_latency;
  // Request level: percentiles measured from the requests (the fluid model fits them).
  std::vector<double> endpoint_p50, endpoint_p95, endpoint_p99;
  // per dependency (measured at the caller, per attempt)
  std::vector<double> edge_attempts, edge_failure, edge_p50, edge_p95, edge_p99;
  std::vector<double> edge_call_failure;  // a call's failure after its retries
  std::vector<double> edge_attempts_per_call;  // the attempts a call makes
  std::vector<double> edge_endpoint_share;      // DynamicState's, this tick's
  std::vector<char> edge_endpoint_skewed;
  // Per endpoint: its share of its service's arrivals this tick (its weight, but where
  // retries ask a failing endpoint again).
  std::vector<double> endpoint_share;
  std::vector<double> edge_calls;        // calls per caller request, fallback calls included
  std::vector<double> edge_delivered;    // attempts reaching the callee per second
  std::vector<double> edge_dispersion;   // variance over mean of a tick's count of calls
  std::vector<double> edge_from_source;  // of its calls, those its caller's source brings
  // The attempt latency's shape, for measurement: a log-normal (edge_fit; edge_lognormal 0:
  // only the percentiles are known) capped at edge_cap (the timeout, or infinite) with an
  // atom edge_atom there (lost attempts waiting the timeout out).
  std::vector<LogNormal> edge_fit;
  std::vector<double> edge_atom, edge_cap;
  // With an atom, the percentiles of the attempts that are not lost (the atom's p50, p95,
  // p99 are those of all of them): a tick whose order statistic falls outside the atom reads
  // its quantile there.
  std::vector<SampledPercentiles> edge_within;
  std::vector<char> edge_lognormal;
  // 1 where an attempt sees its callee's delay_mixture unchanged (no refit, no lost attempts),
  // 2 where it sees edge_mixture (an injected delay on a share of the attempts, or all, to a
  // callee without a mixture; only valid there): measured through the mixture's quantile
  // function, capped at edge_cap.
  std::vector<char> edge_mixed;
  std::vector<DelayMixture> edge_mixture;

  // Sizes every vector and zeroes it (no allocation once sized); delay_mixture and
  // passed_delay only sized (World::compute clears each service's before reading it), and
  // edge_mixture (read only where edge_mixed says it was written this tick).
  void reset(std::size_t services, std::size_t endpoints, std::size_t dependencies);
};

// The share of `dependency`'s calls that a partition between `sides` (zones, or regions when
// !by_zone) loses: the calls of the caller's replicas on one side when the callee has no
// replica there and none outside every side. Replicas on no side reach everything. Caller
// replicas are weighted by the round-robin spread of its replicas (docs/world-model.md).
double partition_loss(const Scenario& scenario, const DependencySpec& dependency, bool by_zone,
                      const std::vector<std::string>& sides);

class World {
 public:
  World(const Scenario& scenario, std::uint64_t seed);

  const Scenario& scenario() const { return scenario_; }
  const Topology& topology() const { return topology_; }

  void set_fault_active(int fault, bool active);
  bool fault_active(int fault) const { return fault_active_[fault] != 0; }

  // Run-time control. REQUIRES: the scenario (which must not be const to its owner) was
  // changed as each says just before the call.
  // Fault `fault` was appended to the scenario's faults.
  void add_fault(int fault);
  // Fault `fault`'s duration was shortened (its incident record's end follows).
  void end_fault(int fault);
  // Change `change` was appended to the scenario's changes.
  void add_change(int change);
  // A change's rollback was set: the change log and the changes' incident windows follow.
  void changes_modified();
  // The service's replica count from the next step on, as `kubectl scale` at t: a service
  // without autoscaler runs `replicas` replicas (new ones ready at once); an autoscaled one
  // has its current count set (new ones start as its own do) and its autoscaler goes on from
  // there at its next sync. Pod faults that start later pick their replicas among the new
  // count. Logged as a `scale` change event. REQUIRES: replicas >= 0.
  void set_replicas(int service, int replicas, SimTime t);
  // The service's replica count now (set_replicas', its autoscaler's), faults aside.
  int replica_count(int service) const;
  // Dependency `dependency`'s timeout was set in the scenario (from `before`) at t: both
  // worlds use it from the next step on. Logged as a `timeout` change event.
  void timeout_modified(int dependency, SimTime before, SimTime t);
  // Sheds `fraction` of the service's arrivals from the next step on in both worlds (an
  // operation, not a fault): rejected at once with HTTP 429, before its queue, as admission
  // control does; 0 stops. Logged as a `shed` change event.
  void set_shed(int service, double fraction, SimTime t);

  // Runs each tick's per-service and per-series work on `threads` threads (>= 1; at most
  // as many as the machine has cores); the frames are byte-identical for any count
  // (tick_pool.h). Default: 1.
  void set_threads(int threads);

  // Advances tick `tick`, the interval [tick x dt, (tick + 1) x dt), and fills frame().
  void step(std::int64_t tick);

  const Frame& frame() const { return frame_; }
  // The last tick's noiseless values (for tests and analysis).
  const TickOutcome& outcome() const { return outcome_; }
  const DynamicState& state() const { return state_; }
  // The request level's engine (null in fluid mode), for tests and benchmarks.
  const RequestWorld* requests() const { return requests_.get(); }

  // One record per fault, then one per change with a defect; impact measured so far.
  std::vector<IncidentRecord> incidents() const;
  // The change log: the scenario's operations and the autoscalers' decisions so far, in
  // time order.
  std::vector<ChangeEvent> changes() const;

 private:
  struct EndpointModel {  // declared endpoints, or one implicit endpoint per service
    int service;
    double weight;  // normalised within the service
    double latency_factor;
    int frame_index;  // column in the frame's endpoint metrics, -1 if implicit
  };

  void rebuild_modifiers();
  void advance_changes(SimTime t);
  void apply_leaking_versions(SimTime t);
  void compute(std::int64_t tick, const std::vector<double>& external,
               const std::vector<double>& external_variance, const FaultModifiers& modifiers,
               const std::vector<int>& ready, const std::vector<double>& unrouted,
               DynamicState& state, TickOutcome& out) const;
  // Service s's dispersion and shared source (TickOutcome::dispersion), from its callers'
  // (computed before it) and its external traffic (its rate and its count's variance per
  // second); `arrivals` in all.
  // The chance that an attempt at each endpoint of service s times out at `timeout`, from
  // its endpoint mixture `parts` (endpoint_mixture's): `chance`, one per endpoint.
  void endpoint_timeouts(int s, const LogNormalMixture& parts, double timeout,
                         std::vector<double>& chance) const;
  // Service s's arrivals by endpoint this tick (TickOutcome::endpoint_share): by weight, but
  // for its callers' attempts split as their retries split them (DynamicState).
  void endpoint_shares(int s, const std::vector<double>& external, const DynamicState& state,
                       TickOutcome& out) const;
  void arrival_spread(int s, const std::vector<double>& external,
                      const std::vector<double>& external_variance, double arrivals,
                      TickOutcome& out) const;
  // Regional traffic (steering.h): the health checks' probe in the real world (or the
  // counterfactual) and the replicas of a service up in a region this tick.
  bool region_passes(int source, int region, bool real) const;
  // A health check's request to service s when s gets no traffic to measure (its region
  // drained or failed over): what the faults and ready replicas make of one request under no
  // load, through its calls. `memo` holds one entry per service (failure < 0: not yet).
  struct Probe {
    double failure = -1;  // probability the request fails
    double latency = 0;   // seconds: its service time and the mean delays, calls included
  };
  Probe probe(int s, const FaultModifiers& mod, const std::vector<int>& ready,
              const std::vector<double>& unrouted, std::vector<Probe>& memo) const;
  int up_in_region(int service, const std::string& region) const;
  // Advances both worlds' steering and routes the regional sources' traffic.
  void steer(SimTime t);
  // The variance per second of the counts of `routed` arrivals: external_variance_'s, and
  // Poisson for what the router added (regional sources).
  void with_routed_poisson(const std::vector<double>& routed, std::vector<double>& variance) const;
  // The Locust sources' users for the request level, their entries split as `steering` says.
  void user_loads(const TrafficSteering& steering,
                  std::vector<RequestWorld::UserLoad>& loads) const;
  void write_frame(std::int64_t tick);
  // The latency of service s's delay_mixture that a share `above` of its requests exceed:
  // where a sample's rank falls in the mixture (its exact shape where `shaped`).
  double mixture_quantile_above(int s, double above) const;
  // The latency of a service of several endpoints as a mixture of log-normals: one per
  // endpoint, two for an endpoint with a share of its requests delayed (its fast share and
  // the delayed one, shifted). Returns whether an endpoint had such a share. Weighted by
  // the endpoints' shares of its arrivals, or by `weight` as a caller's call picks one.
  bool endpoint_mixture(int s, const FaultModifiers& mod, const TickOutcome& out,
                        LogNormalMixture& mixture, bool by_weight = false) const;
  // Whether service s's arrivals split over its endpoints otherwise than by weight this
  // tick (retries asking a failing endpoint again), and the latency of a call to it (its
  // endpoints' by weight; out.latency[s] where it is not skewed).
  bool skewed(int s, const TickOutcome& out) const;
  Moments call_latency(int s, const TickOutcome& out) const;
  // The fluid model's services and edges as measured on the tick's requests (measurement.h).
  // Fluid model: tells each Locust source how long its users' last requests took to be
  // answered (traffic.h), so that they send less to a slow system.
  void close_locust_loops();
  // Each measures the range [begin, end) of its batch (sized and prepared by the caller).
  void measure_services(std::int64_t tick, std::size_t begin, std::size_t end);
  void measure_edges(std::int64_t tick, std::size_t begin, std::size_t end);
  // Ground truth (world_truth.cc).
  void build_truth();
  void add_fault_truth(int fault);
  void add_change_truth(int change);
  void set_change_window(int change);
  void refresh_change_windows();
  void track_truth(std::int64_t tick);
  bool truth_tracking_active() const;
  std::vector<int> radius_of(std::vector<int> roots) const;  // roots and their callers
  std::vector<int> defect_services(const ChangeSpec& change) const;

  const Scenario& scenario_;
  Topology topology_;
  double dt_;  // tick length in seconds
  std::vector<EndpointModel> endpoints_;
  std::vector<int> endpoint_begin_;  // per service, into endpoints_; size services + 1
  // Per dependency, into the per-edge endpoint shares (its callee's endpoints, where it has
  // several); size dependencies + 1.
  std::vector<int> edge_endpoint_begin_;
  std::vector<int> concurrency_;     // per service: workers per replica (ServiceSpec)
  TrafficModel traffic_;
  std::vector<double> external_;  // this tick's external arrivals per service
  // The variance per second of their count (TrafficModel::add_arrivals); regional sources'
  // routed arrivals are Poisson (routed_variance_, shadow_variance_).
  std::vector<double> external_variance_, routed_variance_, shadow_variance_;
  // Regional traffic: where each world sends it, and the arrivals with it (external_ holds
  // those of the other sources).
  bool regional_ = false;
  TrafficSteering steering_;
  TrafficSteering shadow_steering_;
  std::vector<double> routed_external_, shadow_external_;
  std::vector<ChangeEvent> steering_log_;  // failover and failback decisions
  std::vector<ChangeEvent> ejection_log_;  // request level: outlier ejections
  // The request level (`mode: requests`): both worlds' requests; null in fluid mode.
  std::unique_ptr<RequestWorld> requests_, shadow_requests_;
  std::vector<RequestWorld::UserLoad> user_loads_, shadow_user_loads_;  // this tick's

  std::vector<char> fault_active_;
  FaultModifiers modifiers_;
  FaultModifiers no_faults_;  // the operations' part, in both worlds (load shedding)
  std::vector<double> shed_;  // per service: share of arrivals shed (set_shed)
  PodFaults pod_faults_;
  Operations operations_;
  std::vector<ChangeState> change_state_;  // per change, this tick
  std::vector<int> change_cause_;          // per change: its index in truth_, or -1
  std::vector<int> fault_cause_;           // per fault: its index in truth_
  std::vector<int> shadow_ready_;          // ready replicas of the counterfactual
  bool autoscaled_ = false;                // any service has an autoscaler
  Autoscaler autoscaler_;
  Autoscaler shadow_autoscaler_;
  std::vector<int> autoscaled_ready_;   // scratch
  std::vector<ChangeEvent> scale_log_;  // run-time operations: scale, timeout, shed
  std::vector<int> ready_;              // ready replicas per service, this tick
  std::vector<int> all_replicas_;       // the same without faults (the counterfactual's)
  std::vector<double> extra_memory_;    // leaked memory per service, this tick
  // Per change, when its leaking version's first replicas began to run (-1: none runs).
  std::vector<SimTime> leak_since_;
  std::vector<double> unrouted_;        // traffic share lost with a dark place, this tick
  std::vector<double> no_unrouted_;     // the counterfactual's (zeros)
  bool modifiers_dirty_ = false;

  DynamicState state_;
  TickOutcome outcome_;
  DynamicState shadow_state_;
  TickOutcome shadow_outcome_;
  bool shadow_running_ = false;

  enum class TruthPhase : std::uint8_t { kPending, kActive, kRecovering, kDone };
  std::vector<TruthPhase> truth_phase_;
  SimTime last_tracked_tick_end_ = -1;  // end of the last tick track_truth measured
  std::vector<int> tracked_causes_;     // causes active or recovering, in the order tracked
  std::vector<int> active_faults_;      // active faults, ascending
  std::vector<double> zone_scratch_;    // per place of one service: replicas up
  // The frame's zone columns, from the service columns and the replicas up per zone.
  void fill_zone_frame();
  std::vector<int> active_pod_faults_;  // those of them that act on replicas
  // Moves a cause to `phase`, keeping tracked_causes_ in step.
  void set_truth_phase(int cause, TruthPhase phase);
  std::vector<std::vector<int>> blast_radius_;  // per incident: root services and upstream
  // Per fault: the dependencies a partition cuts, with the share of their calls lost.
  std::vector<std::vector<std::pair<int, double>>> severed_;
  std::vector<std::vector<char>> affected_;  // per incident, per service: ever impacted
  std::vector<IncidentRecord> truth_;
  std::size_t declared_truth_ = 0;  // records of the scenario's own faults and changes
  std::size_t labelled_truth_ = 0;  // labelled anomalies of replayed series (ids after them)
  bool truth_built_ = false;
  std::int64_t next_truth_id() const;  // the id of the next record added to truth_
  std::vector<int> truth_fault_;       // per incident: its fault, or -1 for a change
  std::vector<char> impacted_;         // per service, this tick
  // Emergent incidents (world_truth.cc, track_emergent): SLO breaches no injected cause
  // explains.
  void track_emergent(std::int64_t tick);
  std::vector<int> objective_services_;  // services with an SLI objective
  std::vector<int> breaching_scratch_;   // this tick's breaching services
  int emergent_open_ = -1;               // truth_ index of the open one, or -1
  int emergent_count_ = 0;
  SimTime breach_since_ = -1;     // start of the current period of breaches
  SimTime last_breach_end_ = -1;  // end of its last breaching tick
  SimTime last_step_end_ = 0;     // end of the last tick stepped

  std::vector<RandomStream> latency_noise_, resource_noise_, edge_noise_, queue_noise_;
  MeasurementBatch service_batch_, edge_batch_;  // the tick's measured series (sampled)
  std::vector<std::uint64_t> sampled_count_;     // per service: the requests its frame counted
  // Parallel ticks (set_threads): the services by level (a service's callers all sit in
  // earlier levels), each service's incoming dependencies in its callers' topological order
  // (the order their calls add up in), and the pool; no pool: one thread.
  std::vector<std::vector<int>> levels_;
  std::vector<std::vector<int>> incoming_ordered_;
  std::unique_ptr<TickPool> pool_;
  // fn(s) for every service of `services`, on the pool when there is one and enough of them.
  template <class Fn>
  void run_services(const std::vector<int>& services, const Fn& fn) const;
  // fn(begin, end) over [0, count) in blocks, on the pool when there is one.
  void run_blocks(std::size_t count, const std::function<void(std::size_t, std::size_t)>& fn) const;
  Frame frame_;
};

}  // namespace dosim
