#include "dosim/engine/scenario.h"

namespace dosim {

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

bool acts_on_pods(FaultKind kind) {
  return kind == FaultKind::kPodKill || kind == FaultKind::kCrashLoop ||
         kind == FaultKind::kMemoryLeak || kind == FaultKind::kOutage ||
         kind == FaultKind::kMaintenance;
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

int Scenario::service_index(const std::string& service_name) const {
  for (int s = 0; s < static_cast<int>(services.size()); ++s)
    if (services[s].name == service_name) return s;
  return -1;
}

std::string Scenario::edge_name(int dependency) const {
  const DependencySpec& d = dependencies[dependency];
  return services[d.caller].name + "->" + services[d.callee].name;
}

}  // namespace dosim
