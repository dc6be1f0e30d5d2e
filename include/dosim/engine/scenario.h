// The typed, validated description of a run.
//
// A Scenario is what load_scenario_file() (scenario_loader.h) makes of a YAML file once every
// check has passed: names are unique, references resolve to indices, the dependency graph is
// acyclic, every value is in range. Code that receives a Scenario may rely on that and never
// re-validates. Every element keeps the position of its YAML node so later stages (the Lua
// layer, rules that refer to scenario elements) can still point users at their source.
//
// Units: times are SimTime (ns); rates are requests per second; ratios are in [0, 1]
// (a YAML `percent: 20` becomes 0.20 here).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dosim/engine/sim_time.h"
#include "dosim/error.h"

namespace dosim {

// 1-based line and column of a YAML node; 0 when the element was not read from a file.
struct SourcePos {
  int line = 0;
  int column = 0;
};

struct RegionSpec {
  std::string name;
  std::vector<std::string> zones;
  SourcePos pos;
};

struct EndpointSpec {
  std::string name;             // e.g. "/pay"
  double weight = 1.0;          // share of the service's requests, normalised over endpoints
  double latency_factor = 1.0;  // own processing time relative to the service's base latency
  SourcePos pos;
};

// A Horizontal Pod Autoscaler on CPU: every sync period,
// desired = ceil(current x cpu / target), within [min, max], ignored within a 10 % tolerance;
// scale-down takes the highest recommendation of the stabilisation window; new replicas
// are ready after start_time.
struct AutoscalingSpec {
  int min_replicas = 1;
  int max_replicas = 10;
  double target_cpu = 0.7;       // cpu_ratio the autoscaler aims at, (0, 1]
  SimTime window = 5 * kMinute;  // scale-down stabilisation window
  SimTime sync_period = 15 * kSecond;
  SimTime start_time = 30 * kSecond;  // from scale-up to ready
  SourcePos pos;
};

// When a service counts as impacted by a cause (docs/ground-truth.md): its SLIs compared
// with the same world without faults or defects, tick by tick. A relative change beyond
// the thresholds, or, where an objective is set, breaking the objective that the
// fault-free world keeps.
struct SliSpec {
  double p95_change = 0.05;               // relative change of p95 latency
  SimTime p95_margin = kMillisecond;      // ... and at least this much
  double error_change = 0.005;            // change of the error ratio (0.005 = 0.5 points)
  double rps_change = 0.05;               // relative change of arrivals
  std::optional<SimTime> p95_objective;   // p95 latency must stay at or below
  std::optional<double> error_objective;  // error ratio must stay at or below
};

// Request level (`mode: requests`, engine/request_world.h): how a replica's service times
// are distributed around their mean, and how a caller picks a replica.
enum class ServiceTimeKind { kExponential, kLogNormal, kGamma, kDeterministic };
enum class LoadBalancer { kRoundRobin, kRandom, kLeastRequest };

struct ServiceSpec {
  std::string name;
  int replicas = 1;  // >= 0
  // A replica serves `concurrency()` requests at once, each for a service time of mean
  // service_seconds() = concurrency() / capacity_rps: both world modes use these. The
  // scenario's base_latency is the service time it means; capacity_rps defaults to
  // workers / base_latency (1 worker unless given), and the loader warns when the given
  // values cannot both hold (service_seconds() more than 10 % from base_latency).
  double capacity_rps = 100.0;               // requests per second per replica, > 0
  SimTime base_latency = 10 * kMillisecond;  // service time of one request, > 0
  double cpu_baseline = 0.05;                // CPU ratio at zero load, [0, 1]
  double memory_baseline = 0.30;             // memory ratio at zero load, [0, 1]
  double memory_limit_bytes = 0;             // the container's memory limit; 0: not given
                                             // (turns a stressor's absolute size into a share)
  std::string region;                        // empty when the scenario declares no regions;
                                             // "r1,r2" for a service spread across regions
  std::string zone;                          // "z1,z2" for a service spread across zones
  // Zones its replicas are spread over, round-robin (replica i in zones[i % n]), and the
  // region of each; empty when the service is not placed. A service placed in a region
  // without a zone has one place: zone "" in that region.
  std::vector<std::string> zones;
  std::vector<std::string> zone_regions;
  // Whether some of its places is the zone `zone` / lies in the region `region`.
  bool placed_in_zone(const std::string& zone) const {
    for (const std::string& z : zones)
      if (!z.empty() && z == zone) return true;
    return false;
  }
  bool placed_in_region(const std::string& region) const {
    for (const std::string& r : zone_regions)
      if (r == region) return true;
    return false;
  }
  // The share of its replicas in each place (zones[i]), as the round-robin spread of
  // `replicas` gives it (equal shares for 0 replicas).
  std::vector<double> place_shares() const;
  // Whether traffic moves to the remaining replicas when some are lost to an outage. By
  // default yes within a region (Kubernetes routes around dead endpoints) and no across
  // regions (that needs a global load balancer that says so).
  bool failover = true;
  std::vector<EndpointSpec> endpoints;         // empty: the service is one implicit endpoint
  std::optional<AutoscalingSpec> autoscaling;  // replicas is then the initial count
  std::vector<std::pair<std::string, std::string>> labels;  // for fault selectors
  SliSpec sli;
  // Requests a replica serves at once (0: capacity_rps x base_latency, rounded, at least 1),
  // each holding a worker for a service time of mean workers / capacity_rps (so a replica
  // serves capacity_rps). Request level only: requests waiting per replica beyond
  // queue_limit are rejected (0: capacity_rps x 10 s, as the fluid queue's limit).
  int workers = 0;
  int concurrency() const;
  double service_seconds() const { return concurrency() / capacity_rps; }
  int queue_limit = 0;
  ServiceTimeKind service_time = ServiceTimeKind::kExponential;
  double service_time_cv = 1.0;  // coefficient of variation (lognormal, gamma)
  SourcePos service_time_pos, calls_pos;  // where `service_time` and `calls` are given
  LoadBalancer load_balancer = LoadBalancer::kRoundRobin;
  bool parallel_calls = false;  // request level: its calls all at once (fan-out), or in turn
  SourcePos pos;
};

struct DependencySpec {
  int caller = -1;  // index into Scenario::services
  int callee = -1;
  double calls_per_request = 1.0;  // mean calls per caller request, >= 0
  SimTime timeout = 0;             // 0: no timeout
  int retries = 0;                 // extra attempts after a failed one, >= 0
  // A soft dependency: a call that fails (after its retries) does not fail the caller's
  // request; the caller answers degraded, `fallback_latency` later, or calls `fallback` (a
  // dependency of the same caller, by index) instead (docs/world-model.md).
  bool optional = false;
  SimTime fallback_latency = 0;
  int fallback = -1;
  // Request level only: retry k waits a uniform time in (0, min(10, 2^k - 1) x backoff]
  // (Envoy's fully jittered exponential back-off; 0: retries at once).
  SimTime retry_backoff = 25 * kMillisecond;
  // Request level only (Envoy's): a retry budget lets a failed attempt be retried only while
  // the retries in flight on the edge stay below max(retry_min, retry_budget x its attempts
  // in flight) (retry_budget 0: no budget); a circuit breaker fails an attempt at once (503)
  // while max_pending attempts are in flight on the edge (0: none).
  double retry_budget = 0;
  int retry_min = 3;
  int max_pending = 0;
  // Request level only (Envoy's outlier detection, as the caller's sidecar runs it): a callee
  // replica that answers `consecutive_5xx` errors in a row (timeouts count) is ejected from
  // the caller's balancing for base_ejection_time x the times it was ejected (at most
  // max_ejection_time), while at most max(1, max_ejection_percent of the replicas) are out.
  struct OutlierDetection {
    int consecutive_5xx = 5;
    SimTime base_ejection_time = 30 * kSecond;
    SimTime max_ejection_time = 300 * kSecond;
    double max_ejection_percent = 10;
  };
  std::optional<OutlierDetection> outlier;
  SourcePos pos;
};

// Daily shape: multiplier 1 + amplitude * cos(2π (hour - peak_hour) / 24).
struct DailyShape {
  double amplitude = 0.5;   // [0, 1)
  double peak_hour = 14.0;  // [0, 24)
};

// Weekly shape: Saturday and Sunday are scaled by weekend_factor. Day 0 of a run is
// `start_weekday` (0 = Monday).
struct WeeklyShape {
  double weekend_factor = 0.7;  // > 0
  int start_weekday = 0;        // 0..6
};

// A surge of a Locust step shape: `users` extra users during [from, to).
struct SurgeSpec {
  SimTime from = 0;
  SimTime to = 0;
  double users = 0;
  SourcePos pos;
};

// Locust-style load: the user count moves toward its target at spawn_rate users per second;
// each user makes rps_per_user requests per second.
// How long a Locust user waits between its requests (Locust's wait_time functions). The
// request level runs every user's loop (send, wait for the answer, wait); the fluid model
// sends rps_per_user per user, which this sets (1 / the mean wait).
struct WaitTime {
  enum class Kind {
    kConstantThroughput,  // a request every 1 / `value` s at most: value requests/s
    kConstantPacing,      // a request every `value` s at most
    kConstant,            // `value` s after each answer
    kBetween              // uniform in [value, high] s after each answer
  };
  Kind kind = Kind::kConstantThroughput;
  double value = 1, high = 1;
};

// One stage of a Locust LoadTestShape stage table (`stages:`): until run time `end` (counted
// from the start of the run, as Locust's StagesShape counts its `duration`), the user count
// moves toward `users` at `spawn_rate`.
struct LocustStage {
  SimTime end = 0;
  double users = 0;
  double spawn_rate = 10;
  SourcePos pos;
};

struct LocustShape {
  double users = 0;        // baseline users, >= 0
  double spawn_rate = 10;  // users per second, > 0
  // A stage table in place of `users`: the first stage whose end is after the current time
  // sets the target and the spawn rate; after the last stage the test is over (no users).
  std::vector<LocustStage> stages;
  // Target users and spawn rate at simulated time t, surges included.
  std::pair<double, double> target(SimTime t) const;
  double rps_per_user = 1.0;  // > 0: requests per second per user (from wait_time if given)
  WaitTime wait;              // constant_throughput(rps_per_user) unless given
  std::vector<SurgeSpec> surges;
};

// One region that a regional traffic source can be served in: the entry services of that
// region's stack.
struct RegionalEntry {
  std::string region;                 // a declared region
  std::vector<int> entry;             // services receiving the traffic sent to this region
  std::vector<double> entry_weights;  // same length as entry, sums to 1
  SourcePos pos;
};

// A global load balancer (or DNS failover) in front of a regional source's stacks
// (engine/steering.h): every `interval` it checks each region's entry services; a region
// whose checks failed `failures` times in a row is marked down and its share of the traffic
// moves, over `shift`, to the next region that is up (in the order of the source's
// `regions`, home first); `recoveries` passed checks in a row mark it up again, and with
// failback its traffic moves back. The detection delay is interval x failures.
struct FailoverPolicy {
  SimTime interval = 10 * kSecond;
  int failures = 3;
  int recoveries = 3;
  SimTime timeout = 5 * kSecond;  // a check fails when the median latency reaches it
  SimTime shift = kMinute;        // DNS TTL, connection draining: how long the move takes
  bool failback = true;
  SourcePos pos;
};

// A traffic source's rate recorded in a CSV file (`replay` of a source; engine/replay.h
// reads it): row i's value (requests/s) for [offsets[i], offsets[i + 1]), the last row for
// one file step; with `repeat` the recording starts over after that; outside it the source
// sends its base_rps.
struct RecordedRate {
  std::string file;    // as read: relative paths resolved against the scenario's folder
  std::string column;  // "" = `value`, or the only one
  SimTime start = 0;   // simulated time of the first row
  double scale = 1.0;
  SimTime step = 0;  // the file's time step
  bool repeat = false;
  std::vector<SimTime> offsets;  // per row, ascending (as ReplaySpec::offsets)
  std::vector<float> values;     // per row, scaled, >= 0

  // The rate at t; `fallback` outside the recording.
  double rate_at(SimTime t, double fallback) const;
};

struct TrafficSpec {
  std::string name;
  std::vector<int> entry;             // services receiving this traffic (not regional)
  std::vector<double> entry_weights;  // same length as entry, sums to 1
  // Regional traffic (`regions:`): the stacks that can serve it, one per region, and the
  // users' home region (an index into regions). Empty for a source that is not regional;
  // entry is then what serves it, and for a regional source entry is empty.
  std::vector<RegionalEntry> regions;
  int home = 0;
  std::vector<double> region_weights;  // per region: the share sent there, sums to 1
  std::optional<FailoverPolicy> failover;
  bool regional() const { return !regions.empty(); }
  int region_index(const std::string& region) const;  // into regions, -1 when absent
  double base_rps = 0;                                // >= 0; ignored when locust is set
  std::optional<DailyShape> daily;
  std::optional<WeeklyShape> weekly;
  std::optional<LocustShape> locust;
  std::optional<RecordedRate> recorded;  // `replay`: the rate from a file, not the shapes
  double noise = 0.05;  // coefficient of variation of per-tick noise, >= 0 (0 with replay)
  SourcePos pos;
};

// What a fault does (its mechanism). Names in scenarios: latency, error, cpu-stress,
// packet-loss, pod-kill, crash-loop, memory-leak, outage, partition, maintenance,
// memory-stress;
// fault_kind_name() gives them.
enum class FaultKind {
  kLatency,
  kError,
  kCpuStress,
  kPacketLoss,
  kPodKill,
  kCrashLoop,
  kMemoryLeak,
  kOutage,
  kPartition,
  kMaintenance,
  kMemoryStress
};
const char* fault_kind_name(FaultKind kind);
// True for the kinds that act on replicas (pods) rather than on requests.
bool acts_on_pods(FaultKind kind);

// Which replicas of the target a pod fault hits, as Chaos Mesh's `mode`.
enum class PodMode { kOne, kAll, kFixed, kFixedPercent, kRandomMaxPercent };
const char* pod_mode_name(PodMode mode);

// What a fault applies to: a whole service, one endpoint of a service, or one edge.
struct FaultTarget {
  int service = -1;                  // set for service and endpoint targets
  int endpoint = -1;                 // index into that service's endpoints, or -1
  int dependency = -1;               // index into Scenario::dependencies for edges
  std::string zone;                  // outage of one zone, or
  std::string region;                // of a whole region
  std::vector<std::string> zones;    // partition between these zones, or
  std::vector<std::string> regions;  // between these regions
  // A label selector ({tier: backend}) and the services it matches, in scenario order.
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<int> selected;
  bool is_edge() const { return dependency >= 0; }
  // The services a service-level fault acts on: one, or those the labels select.
  std::vector<int> services() const { return service >= 0 ? std::vector<int>{service} : selected; }
  bool is_place() const { return !zone.empty() || !region.empty(); }
  bool is_split() const { return !zones.empty() || !regions.empty(); }
};

struct FaultSpec {
  std::string name;  // unique; generated ("fault-3") when omitted
  FaultKind kind = FaultKind::kLatency;
  FaultTarget target;
  SimTime start = 0;
  SimTime duration = 0;     // > 0
  double fraction = 1.0;    // `percent` / 100: share of requests (latency,
                            // error) or attempts (packet-loss) affected
  SimTime fixed_delay = 0;  // latency faults (Istio fixedDelay)
  SimTime jitter = 0;       // latency faults: standard deviation of the delay
  int http_status = 503;    // error faults (Istio abort.httpStatus)
  double cpu_load = 0.0;    // cpu-stress: share of each replica's CPU taken
  // Pod faults (pod-kill, crash-loop, memory-leak): which replicas, and how they recover.
  PodMode mode = PodMode::kAll;
  double mode_value = 0;                // N for fixed, percent for the percent modes
  SimTime restart_time = 10 * kSecond;  // from kill / crash / OOM to ready again
  SimTime crash_after = 0;              // crash-loop: running time before each crash
  double leak_per_second = 0;           // memory-leak: share of the limit leaked per second
  double memory_load = 0;               // memory-stress: share of the limit the stressor holds
  SimTime memory_ramp = 0;              // memory-stress: time to reach it (linear), 0: at once
  SourcePos pos;
};

// The start of the first tick (of length `tick`) whose middle is at or after `t` >= 0: a
// tick shows the replayed row its middle falls in, so this is the first tick that shows a
// row starting at t (a row a few milliseconds late is still its tick's).
SimTime first_tick_showing(SimTime t, SimTime tick);

// A recorded series replayed as one of the world's series (`replay:`, engine/replay.h reads
// the file): row i of the file sets the series for the ticks whose middle falls in
// [offsets[i], offsets[i + 1]) (the last row: one file step), in place of the simulated
// value; outside that span the simulated value stands. Labelled anomaly
// windows become incidents of the ground truth (docs/scenario-format.md, `replay[]`).
struct ReplaySpec {
  std::string name;                // unique among replays; default replay-<i>
  std::string file;                // as read: relative paths resolved against the scenario's folder
  std::string column;              // the CSV column replayed ("" = `value`, or the only one)
  std::string family = "service";  // service or edge
  int service = -1;                // family service: the service; edge: the caller
  int dependency = -1;             // family edge: the dependency
  std::string metric;              // a metric name of the family
  int metric_index = -1;           // its index (ServiceMetric or EdgeMetric)
  SimTime start = 0;               // simulated time of the file's first row
  double scale = 1.0;              // values are multiplied by it (ms -> s: 0.001)
  SimTime step = 0;                // the file's time step
  // Per row, ascending: start + t_i - t_0 (`clock: time`), or start + i x step (`clock: rows`).
  std::vector<SimTime> offsets;
  std::vector<float> values;  // per row, scaled
  // Labelled anomalies, in simulated time: [from, to) covering the rows they name.
  std::vector<std::pair<SimTime, SimTime>> anomalies;
  std::vector<SourcePos> anomaly_pos;  // per anomaly, where the scenario gives it
  SourcePos pos;
  SourcePos start_pos;  // its `start` value (its own position without one)
};

// Operations: changes that are not faults but can cause incidents (see operations.h).
// kDrain and kTrafficShift steer regional traffic (engine/steering.h).
enum class ChangeKind {
  kDeployment,
  kConfig,
  kSecretRotation,
  kFeatureFlag,
  kDrain,
  kTrafficShift
};
const char* change_kind_name(ChangeKind kind);
enum class RolloutStrategy { kRolling, kCanary, kBlueGreen };

// What is wrong with a version, a config or a flag; it shows in proportion to the traffic
// that reaches it.
struct DefectProfile {
  SimTime latency = 0;          // added to every exposed request
  double error = 0;             // share of exposed requests that fail
  bool crash_on_start = false;  // new replicas never become ready (CrashLoopBackOff)
  bool bad_image = false;       // new replicas never start (ImagePullBackOff)
  double leak_per_second = 0;   // new replicas leak this share of the memory limit per second
  // The defect shows only against this version of a dependency (an incompatibility), in
  // proportion to the share of that service running it; -1: always.
  int incompatible_service = -1;
  std::string incompatible_version;
  bool any() const {
    return latency > 0 || error > 0 || crash_on_start || bad_image || leak_per_second > 0;
  }
  bool blocks_start() const { return crash_on_start || bad_image; }
};

struct CanaryStep {
  double weight = 0;  // share of traffic on the new version, [0, 1]
  SimTime pause = 0;  // how long this step lasts before the next
};

struct FlagStep {
  SimTime at = 0;
  double fraction = 0;  // share of the segment exposed, [0, 1]
};

struct ChangeSpec {
  std::string name;
  ChangeKind kind = ChangeKind::kDeployment;
  SimTime at = 0;
  std::vector<int> services;  // deployment: one; config, flag: those affected; secret: consumers
  std::vector<int> reloaded;  // secret-rotation: consumers that reload before the deadline
  std::string version;        // deployment, config: the new version
  std::string subject;        // secret-rotation: the secret; feature-flag: the flag
  RolloutStrategy strategy = RolloutStrategy::kRolling;
  int max_surge = 1;                  // rolling: extra new replicas per step
  int max_unavailable = 0;            // rolling: old replicas taken down per step
  SimTime start_time = 30 * kSecond;  // rolling: how long a new replica takes to be ready
  std::vector<CanaryStep> canary;
  std::optional<SimTime> switch_back;  // blue-green: back to blue this long after the switch
  std::optional<SimTime> rollback;     // deployment: previous version restored at this time
  std::optional<SimTime> revert;       // config: previous config restored at this time
  SimTime deadline = 10 * kMinute;     // secret-rotation: old secret revoked after this
  std::optional<SimTime> fixed_at;     // secret-rotation: stragglers restarted with the new one
  double segment = 1.0;                // feature-flag: share of traffic in the target segment
  std::vector<FlagStep> flag_steps;
  // drain: the region whose traffic moves to each source's next region that is up (of every
  // regional source served there, or of `traffic` alone); traffic-shift: the source and its
  // new share per region (region_weights, in the order of its regions, sums to 1).
  std::string region;
  int traffic = -1;
  std::vector<double> region_weights;
  SimTime shift = 0;               // drain, traffic-shift: how long the move takes (linear)
  std::optional<SimTime> restore;  // drain: when the region takes its traffic back
  DefectProfile defect;
  SourcePos pos;

  // secret-rotation: the consumers that do not reload (`services` less `reloaded`), in order.
  std::vector<int> stragglers() const;
};

// Why `name` cannot name a detector (empty when it can): it is an HDF5 group of the trace,
// /detectors/<name>, beside the dataset /detectors/name.
std::string detector_name_problem(const std::string& name);

struct Scenario;
// Why a detector named `name` watching `family` ("edge", "endpoint") would watch no series in
// `scenario` (edge series belong to dependencies, endpoint series to declared endpoints), or
// "" where it has some.
std::string watches_no_series(const Scenario& scenario, const std::string& family,
                              const std::string& name);

// A detector the run feeds (the kinds live in detectors/; the loader checks only the
// structure, the detector registry checks the kind and its parameters).
struct DetectorSpec {
  std::string name;
  std::string kind;                  // threshold, mad, ewma, ...
  std::string family = "service";    // service, edge or endpoint series
  std::vector<std::string> metrics;  // metric names of that family
  std::vector<int> services;         // service family: which services; empty = all
  std::vector<int> edges;            // edge family: which dependencies; empty = all
  std::vector<std::pair<std::string, double>> params;  // kind-specific, e.g. window: 64
  std::vector<SourcePos> param_pos;        // where each parameter's name stands (empty if not read
                                           // from a file)
  std::vector<SourcePos> param_value_pos;  // and its value
  // Parameters given with a value that is not a finite number: the loader reported them and
  // left them out, so that making the detector does not report them again as missing.
  std::vector<std::string> unread_params;
  SimTime for_duration = 0;                // anomalous this long before an alert fires
  // Which deviations count (kinds mad and ewma): +1 only upward, -1 only downward, 0 both.
  int direction = 0;
  // Kind lstm: the model file, resolved against the scenario file's folder ("" = default).
  std::string model;
  // Kind python: the .py file (resolved against the scenario file's folder) and the class
  // in it (docs/python.md).
  std::string module;
  std::string class_name;
  std::string severity = "warning";
  // Escalation: an alert is `critical` when, at the tick it fires, this metric of the same
  // column is above the value (`above`), or at least it (`at_least`: the MAD demo's
  // "Critical when the error ratio is >= 5 %").
  std::string critical_metric;
  double critical_above = 0;
  bool critical_inclusive = false;  // at_least: a value equal to critical_above counts
  // Labels its alerts carry besides alertname (its name), detector, service, metric,
  // severity and target: `labels: {team: payments}`.
  std::vector<std::pair<std::string, std::string>> labels;
  SourcePos pos;
  SourcePos kind_pos;
  SourcePos direction_pos;  // where `direction` stands (its key), when given
};

// Alertmanager routing of a run's alerts (detectors/alertmanager.h), in the real
// Alertmanager configuration's terms (docs/detectors.md).
//
// One label matcher: `name op value`, op one of =, !=, =~, !~; a regular expression
// matches the whole label value (Alertmanager anchors it as ^(?:value)$).
struct LabelMatcherSpec {
  enum class Op { kEqual, kNotEqual, kMatches, kNotMatches };
  std::string name;
  Op op = Op::kEqual;
  std::string value;
};

// A node of the routing tree. Unset fields are inherited from the parent at load time, so
// every node holds its effective values.
struct RouteSpec {
  std::string receiver;
  std::vector<std::string> group_by;  // labels that split groups
  bool group_by_all = false;          // group_by: ['...']: every label set is its own group
  SimTime group_wait = 30 * kSecond;
  SimTime group_interval = 5 * kMinute;
  SimTime repeat_interval = 4 * kHour;
  std::vector<LabelMatcherSpec> matchers;  // all must hold (the root matches every alert)
  bool continue_matching = false;          // `continue`: siblings after it are tried too
  // Names of top-level time intervals (not inherited, as in Alertmanager): the route sends
  // nothing while one of `mute_time_intervals` holds, or while none of a non-empty
  // `active_time_intervals` does.
  std::vector<std::string> mute_time_intervals, active_time_intervals;
  std::vector<RouteSpec> routes;
};

// One entry of an Alertmanager time interval, on the simulated calendar (UTC; t = 0 is
// Monday 1 January 2024): it holds when each field given holds. Ranges are inclusive but
// for `times`' minutes of the day, [start, end). Weekdays 0 (Sunday) to 6; a negative day of
// the month counts from its end (-1 the last). A field not given (nullopt) always holds;
// one given empty never does, as in Alertmanager.
struct TimeIntervalSpec {
  using Ranges = std::optional<std::vector<std::pair<int, int>>>;
  Ranges times, weekdays, days_of_month, months, years;
};

struct InhibitRuleSpec {
  std::vector<LabelMatcherSpec> source;
  std::vector<LabelMatcherSpec> target;
  std::vector<std::string> equal;
};

struct AlertmanagerSpec {
  static RouteSpec default_route() {
    RouteSpec route;
    route.receiver = "default";
    route.group_by = {"service"};
    return route;
  }

  // Without an `alertmanager:` section: one receiver, alerts grouped by service.
  RouteSpec route = default_route();
  std::vector<InhibitRuleSpec> inhibit_rules;
  std::vector<std::string> receivers = {"default"};
  // Receivers that also notify when alerts resolve (Alertmanager's `send_resolved`, on by
  // default for every integration but email, Slack, WeChat and Rocket.Chat): all of their
  // integrations, or some. A receiver not here (one without integrations too) notifies of
  // firing alerts only.
  enum class ResolvedNotices { kSome, kAll };
  std::map<std::string, ResolvedNotices> resolved_notices;
  // Top-level `time_intervals` (and the older `mute_time_intervals`) by name: a time is in
  // one when any of its entries holds.
  std::map<std::string, std::vector<TimeIntervalSpec>> time_intervals;
  std::string file;  // the alertmanager.yml the scenario pointed at, if any
};

// An incident rule of the Lab 7 kind over one detector's series (detectors/incident_rule.h).
struct IncidentRuleSpec {
  std::string name;
  std::string detector;  // the detector whose series are the streams
  SimTime poll = 5 * kSecond;
  double decay = 2;
  double stream_threshold = 10;  // every stream's, or the default of the per-stream ones
  // Per-stream thresholds (`stream_threshold: {default: 75, "a->b": 100, "a->b:rps": 60}`): a
  // key is a stream ("COLUMN:METRIC") or a column (all its streams); the stream's own wins
  // over its column's, which wins over the default.
  struct StreamThreshold {
    std::string key;
    double value = 0;
    SourcePos pos;
  };
  std::vector<StreamThreshold> stream_thresholds;
  double threshold = 20;
  SourcePos pos;
};

// How the world is simulated: a fluid model advanced per tick, or every request as events
// (docs/world-model.md). The same scenario runs in both.
enum class WorldMode { kFluid, kRequests };
const char* world_mode_name(WorldMode mode);

// Request level: which traces and request logs the run keeps (`tracing:`). A trace is kept
// when its root request is head-sampled (probability `sample`), or, tail sampling, when any
// of its spans failed (keep_errors) or its root took at least keep_slower_than; each request
// at each service is logged with probability `logs`.
struct TracingSpec {
  double sample = 0.0;
  bool keep_errors = false;
  std::optional<SimTime> keep_slower_than;
  double logs = 0.0;
  bool any() const { return sample > 0 || keep_errors || keep_slower_than || logs > 0; }
  bool tail() const { return keep_errors || keep_slower_than.has_value(); }
};

// A ranker of the scenario's own, written in Lua or Python (`rca: rankers:` entry
// {name, lua | python, function}, docs/rca.md): a function of the file called per case.
struct RcaRankerSpec {
  std::string name;
  bool python = false;  // a .py file; else a .lua file
  std::string file;     // resolved against the scenario file's folder
  std::string written;  // the file as the scenario wrote it (for messages)
  std::string function = "rank";
  SourcePos pos, file_pos;  // its `name:` (the entry without one), its `lua:` / `python:`
};

// `rca:`: how a run ranks the root causes of its detected incidents (docs/rca.md). The
// rankers' names are checked, and the Lua and Python ones loaded, when the run is planned
// (run/), not here.
struct RcaSpec {
  std::vector<std::string> rankers = {"change", "pagerank", "deepest", "random"};
  std::vector<SourcePos> ranker_pos;  // where each was named; empty for the default
  std::vector<RcaRankerSpec> custom;  // the entries of `rankers` written as mappings
  std::vector<SimTime> delays = {0, 60 * kSecond, 300 * kSecond};
  SimTime lookback = 3600 * kSecond;
};

// `remediation:` (docs/remediation.md): playbooks that answer alerts with actions on the
// world. The run (run/) carries them out; the engine only reads them.
struct PlaybookStep {
  // rollback: the latest change on the service still in effect (any kind; or `change`, or
  // the top cause of an RCA ranker); scale: by N; restart: pod-kill of its replicas;
  // flag-off, revert-config: its latest flag or config change (or `change`); failover: drain
  // `region`; drain: take every replica in `zone` out of service; timeout: set its calls'
  // timeout; shed: reject a share of its arrivals.
  enum class Action {
    kRollback,
    kScale,
    kRestart,
    kFlagOff,
    kRevertConfig,
    kFailover,
    kDrain,
    kTimeout,
    kShed
  };
  Action action = Action::kRollback;
  int by = 1;                           // scale: replicas added (negative: removed)
  std::string change;                   // rollback, flag-off, revert-config: a named change
  std::string ranker;                   // rollback: `target: rca` with this ranker; "": none
  int replicas = 0;                     // restart: how many (0: all of them)
  SimTime restart_time = 30 * kSecond;  // restart: from kill to ready again
  std::string region;                   // failover: the region drained
  std::string zone;                     // drain: the zone taken out of service
  std::optional<SimTime> drain_for;     // drain: for this long (unset: until undone or the end)
  std::string callee;                   // timeout: only the calls to this service; "": all
  SimTime timeout = 0;                  // timeout: the new timeout (`to`)
  double fraction = 0;                  // shed: share of the service's arrivals rejected
  SimTime approval = 0;                 // waits this long for an approval before it acts
  SourcePos pos;
  SourcePos ranker_pos;  // where `ranker` is written (the step's position without one)
};

struct PlaybookSpec {
  std::string name;
  // Which alerts trigger it: each given field must equal the alert's (empty: any).
  // `source`: alerts (each detector alert), notifications (each Alertmanager notification:
  // its alerts' services, `receiver` when given) or incidents (each detected incident of the
  // incident rules: its services, `severity` its Sev level).
  enum class Source { kAlert, kNotification, kIncident };
  Source source = Source::kAlert;
  std::string detector, severity, metric;
  std::string receiver;                                     // notifications: the receiver's name
  std::vector<std::pair<std::string, std::string>> labels;  // alerts: each must be on it
  std::vector<int> services;                                // empty: any service
  bool oncall = false;           // a person (acknowledges, investigates) instead of automation
  SimTime after = 30 * kSecond;  // automation: from the alert to the first step
  SimTime ack_median = 5 * 60 * kSecond, ack_p90 = 15 * 60 * kSecond;  // on-call: log-normal
  // Out of business hours (before 09:00, from 18:00, Saturday and Sunday of the simulated
  // calendar, which starts on a Monday at 00:00): another log-normal; unset: the same.
  std::optional<SimTime> off_hours_median, off_hours_p90;
  SimTime investigate = 10 * 60 * kSecond;  // on-call: from acknowledgement to the first step
  std::vector<PlaybookStep> steps;
  // Verification after each step: `metric` of the service below `below` within `within`, or
  // the step is undone (a scale) and the next step runs; none left: escalated.
  std::string verify_metric;  // empty: no verification
  double verify_below = 0;
  SimTime verify_within = 5 * 60 * kSecond;
  SimTime cooldown = 30 * 60 * kSecond;  // per service: a new trigger waits this long
  SourcePos pos;
};

inline constexpr double kMaxRequestHopsPerSecond = 1e6;
inline constexpr double kMaxRequestHopsPerTick = 1e7;
inline constexpr double kMaxRequestUsers = 1e6;  // Locust users looping at once

struct Scenario {
  std::string file;       // path it was loaded from
  std::string yaml_text;  // the exact text, stored in the trace
  std::string name;
  std::string description;
  // A Lua chaos script to run with the scenario (docs/lua-api.md), as written: a path
  // relative to the scenario file's folder. "" for none.
  std::string script;
  SourcePos script_pos;               // of the `script:` value
  SimTime duration = 0;               // > 0
  SimTime tick = kSecond;             // > 0
  SimTime record_interval = kSecond;  // multiple of tick; default = tick
  std::uint64_t seed = 1;
  WorldMode mode = WorldMode::kFluid;
  RcaSpec rca;
  std::vector<PlaybookSpec> playbooks;  // `remediation: playbooks:`
  int max_actions_per_hour = 0;         // `remediation: max_actions_per_hour`; 0: no limit
  double slo = 0.999;                   // `remediation: slo`: the entry services' availability
  // `remediation: customer_report`: without detection, customers report an impact this long
  // after it starts (the closed-loop benchmark's null detector).
  SimTime customer_report = 30 * 60 * kSecond;
  // The fluid model's telemetry measured on the tick's finite count of requests (Poisson
  // counts, binomial errors, percentiles of the sample) and CPU and memory noise; false:
  // the model's exact values (`measurement_noise: false`, for teaching and tests).
  bool measurement_noise = true;
  SourcePos measurement_noise_pos;  // of its value, when given
  TracingSpec tracing;
  std::vector<RegionSpec> regions;
  std::vector<ServiceSpec> services;
  std::vector<DependencySpec> dependencies;
  std::vector<TrafficSpec> traffic;
  std::vector<FaultSpec> faults;
  std::vector<ChangeSpec> changes;
  std::vector<ReplaySpec> replay;  // recorded series in place of simulated ones
  std::vector<DetectorSpec> detectors;
  bool detectors_given = false;  // false: the run uses the default set
  std::vector<IncidentRuleSpec> incident_rules;
  AlertmanagerSpec alertmanager;
  // `manifest_names:`: Kubernetes names (hosts, app labels) -> service index, sorted by name.
  std::vector<std::pair<std::string, int>> manifest_names;
  // The `manifests:` files read into faults, resolved against the scenario's folder.
  std::vector<std::string> manifest_files;
  // Traps the loader let through (docs/scenario-format.md, "Warnings"), in file order.
  std::vector<Diagnostic> warnings;

  int service_index(const std::string& name) const;  // -1 when absent
  // The request level's limits: an upper bound of the requests served per simulated second
  // (traffic at its highest, every call retried to the last; `worst_source` gets the traffic
  // source that contributes most, -1 without traffic). A request-level run must stay within
  // kMaxRequestHopsPerSecond, and within kMaxRequestHopsPerTick in one tick.
  double request_hop_bound(int* worst_source) const;
  std::string edge_name(int dependency) const;  // "caller->callee"
  std::int64_t tick_count() const { return duration / tick; }
};

}  // namespace dosim
