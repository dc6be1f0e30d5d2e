#include "dosim/engine/scenario.h"

#include <algorithm>
#include <cmath>

namespace dosim {

SimTime first_tick_showing(SimTime t, SimTime tick) {
  return t <= tick / 2 ? 0 : (t - tick / 2 + tick - 1) / tick * tick;
}

double RecordedRate::rate_at(SimTime t, double fallback) const {
  if (offsets.empty() || t < start) return fallback;
  const SimTime span = offsets.back() - offsets.front() + step;
  if (repeat) t = start + (t - start) % span;
  if (t >= offsets.back() + step) return fallback;
  const auto row = std::upper_bound(offsets.begin(), offsets.end(), t) - offsets.begin() - 1;
  return row < 0 ? fallback : values[static_cast<std::size_t>(row)];
}

const char* fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kLatency:
      return "latency";
    case FaultKind::kError:
      return "error";
    case FaultKind::kCpuStress:
      return "cpu-stress";
    case FaultKind::kPacketLoss:
      return "packet-loss";
    case FaultKind::kPodKill:
      return "pod-kill";
    case FaultKind::kCrashLoop:
      return "crash-loop";
    case FaultKind::kMemoryLeak:
      return "memory-leak";
    case FaultKind::kOutage:
      return "outage";
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kMaintenance:
      return "maintenance";
    case FaultKind::kMemoryStress:
      return "memory-stress";
  }
  return "unknown";
}

const char* change_kind_name(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kDeployment:
      return "deployment";
    case ChangeKind::kConfig:
      return "config";
    case ChangeKind::kSecretRotation:
      return "secret-rotation";
    case ChangeKind::kFeatureFlag:
      return "feature-flag";
    case ChangeKind::kDrain:
      return "drain";
    case ChangeKind::kTrafficShift:
      return "traffic-shift";
  }
  return "unknown";
}

const char* world_mode_name(WorldMode mode) {
  return mode == WorldMode::kRequests ? "requests" : "fluid";
}

std::string detector_name_problem(const std::string& name) {
  if (name.find('/') != std::string::npos || name == "." || name == "name")
    return "detector name '" + name + "' is not allowed: no '/', and not '.' or 'name'";
  // The score tables' own rows: a detector of one of these names had two rows, and the
  // JSON kept one (the baseline's).
  if (name == "all detectors" || name == "random baseline" || name == "null baseline" ||
      name == "null" || name == "oracle" || (name.starts_with("random (") && name.ends_with(")")))
    return "detector name '" + name +
           "' is a row the score tables add themselves (all detectors, random baseline, null "
           "baseline, random (NAME), and null and oracle in dosim bench): name it otherwise";
  return "";
}

std::string watches_no_series(const Scenario& scenario, const std::string& family,
                              const std::string& name) {
  const bool any_endpoint =
      std::any_of(scenario.services.begin(), scenario.services.end(),
                  [](const ServiceSpec& service) { return !service.endpoints.empty(); });
  if (family == "edge" && scenario.dependencies.empty())
    return "detector '" + name +
           "' watches no series: edge series belong to dependencies, and the scenario declares "
           "none";
  if (family == "endpoint" && !any_endpoint)
    return "detector '" + name +
           "' watches no series: endpoint series belong to declared endpoints, and no service "
           "declares one";
  return "";
}

bool acts_on_pods(FaultKind kind) {
  return kind == FaultKind::kPodKill || kind == FaultKind::kCrashLoop ||
         kind == FaultKind::kMemoryLeak || kind == FaultKind::kOutage ||
         kind == FaultKind::kMaintenance || kind == FaultKind::kMemoryStress;
}

const char* pod_mode_name(PodMode mode) {
  switch (mode) {
    case PodMode::kOne:
      return "one";
    case PodMode::kAll:
      return "all";
    case PodMode::kFixed:
      return "fixed";
    case PodMode::kFixedPercent:
      return "fixed-percent";
    case PodMode::kRandomMaxPercent:
      return "random-max-percent";
  }
  return "unknown";
}

int ServiceSpec::concurrency() const {
  if (workers > 0) return workers;
  // Clamped as a double: lround of 1e298 (capacity_rps: 1e300) is undefined.
  const double rounded = std::round(capacity_rps * to_seconds(base_latency));
  return static_cast<int>(std::clamp(rounded, 1.0, 1'000'000.0));
}

std::vector<double> ServiceSpec::place_shares() const {
  const std::size_t places = zones.size();
  std::vector<double> shares(places, places > 0 ? 1.0 / static_cast<double>(places) : 0.0);
  if (replicas <= 0 || places == 0) return shares;
  for (std::size_t z = 0; z < places; ++z) {
    // Replicas z, z + n, z + 2n, ... of `replicas`.
    const std::size_t count = (static_cast<std::size_t>(replicas) + places - 1 - z) / places;
    shares[z] = static_cast<double>(count) / replicas;
  }
  return shares;
}

int TrafficSpec::region_index(const std::string& region) const {
  for (int r = 0; r < static_cast<int>(regions.size()); ++r)
    if (regions[r].region == region) return r;
  return -1;
}

double Scenario::request_hop_bound(int* worst_source) const {
  // Requests each service serves per request it receives: itself, and every call it may
  // make, retried to the last, each failed one then calling its fallback, with what each
  // callee makes; callees (and fallbacks) first (Kahn's order).
  const std::size_t n = services.size();
  std::vector<std::vector<int>> out(n);
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> waiting(n);  // per service: the callers that wait for it
  const auto depends = [&](int caller, int callee) {
    ++pending[caller];
    waiting[callee].push_back(caller);
  };
  for (std::size_t d = 0; d < dependencies.size(); ++d) {
    const DependencySpec& dep = dependencies[d];
    out[dep.caller].push_back(static_cast<int>(d));
    depends(dep.caller, dep.callee);
    // `fallback` is a dependency of the same caller (by index): its callee is waited for.
    if (dep.fallback >= 0) depends(dep.caller, dependencies[dep.fallback].callee);
  }
  std::vector<double> hops(n, 1.0);
  std::vector<int> ready;
  for (std::size_t s = 0; s < n; ++s)
    if (pending[s] == 0) ready.push_back(static_cast<int>(s));
  while (!ready.empty()) {
    const int s = ready.back();
    ready.pop_back();
    for (int d : out[s]) {
      const DependencySpec& dep = dependencies[d];
      // A failed call's fallback: a call through the fallback dependency, retried to its last.
      const DependencySpec* other = dep.fallback >= 0 ? &dependencies[dep.fallback] : nullptr;
      const double fallback = other ? (1 + other->retries) * hops[other->callee] : 0.0;
      hops[s] +=
          std::ceil(dep.calls_per_request) * ((1 + dep.retries) * hops[dep.callee] + fallback);
    }
    hops[s] = std::min(hops[s], 1e300);
    for (int caller : waiting[s])
      if (--pending[caller] == 0) ready.push_back(caller);
  }
  double total = 0, worst = -1;
  if (worst_source) *worst_source = -1;
  for (std::size_t i = 0; i < traffic.size(); ++i) {
    const TrafficSpec& source = traffic[i];
    double rate = source.base_rps;
    if (source.locust) {
      double users = source.locust->users;
      for (const LocustStage& stage : source.locust->stages) users = std::max(users, stage.users);
      for (const SurgeSpec& surge : source.locust->surges) users += surge.users;
      rate = users * source.locust->rps_per_user;
    }
    if (source.recorded)
      for (float value : source.recorded->values) rate = std::max(rate, static_cast<double>(value));
    if (source.daily) rate *= 1 + source.daily->amplitude;
    if (source.weekly) rate *= std::max(1.0, source.weekly->weekend_factor);
    // A log-normal tick seldom goes further; Locust users' timing is their noise, no factor.
    if (!source.locust) rate *= 1 + 6 * source.noise;
    double per_request = 0;
    for (int e : source.entry) per_request = std::max(per_request, hops[e]);
    for (const RegionalEntry& regional : source.regions)
      for (int e : regional.entry) per_request = std::max(per_request, hops[e]);
    const double contribution = rate * per_request;
    total += contribution;
    if (contribution > worst) {
      worst = contribution;
      if (worst_source) *worst_source = static_cast<int>(i);
    }
  }
  return total;
}

int Scenario::service_index(const std::string& service_name) const {
  for (int s = 0; s < static_cast<int>(services.size()); ++s)
    if (services[s].name == service_name) return s;
  return -1;
}

std::vector<int> ChangeSpec::stragglers() const {
  std::vector<int> out;
  for (int s : services)
    if (std::find(reloaded.begin(), reloaded.end(), s) == reloaded.end()) out.push_back(s);
  return out;
}

std::string Scenario::edge_name(int dependency) const {
  const DependencySpec& d = dependencies[dependency];
  return services[d.caller].name + "->" + services[d.callee].name;
}

std::pair<double, double> LocustShape::target(SimTime t) const {
  double users_now = users, rate = spawn_rate;
  if (!stages.empty()) {
    users_now = 0;  // after the last stage
    for (const LocustStage& stage : stages)
      if (t < stage.end) {
        users_now = stage.users;
        rate = stage.spawn_rate;
        break;
      }
  }
  for (const SurgeSpec& surge : surges)
    if (t >= surge.from && t < surge.to) users_now += surge.users;
  return {users_now, rate};
}

}  // namespace dosim
