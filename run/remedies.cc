#include "run/remedies.h"

#include <algorithm>

namespace dosim {
namespace {

// The region of a zone, "" when unknown.
std::string region_of_zone(const Scenario& scenario, const std::string& zone) {
  for (const ServiceSpec& service : scenario.services)
    for (std::size_t z = 0; z < service.zones.size(); ++z)
      if (service.zones[z] == zone) return service.zone_regions[z];
  return "";
}

}  // namespace

std::vector<std::string> remedies_of(const IncidentRecord& incident, const Scenario& scenario) {
  std::vector<std::string> out;
  const auto service = [&](int s) { return "service:" + scenario.services[s].name; };
  for (const ChangeSpec& change : scenario.changes) {
    if (change.name != incident.name || change_kind_name(change.kind) != incident.cause) continue;
    out.push_back("rollback change:" + change.name);
    if (change.kind == ChangeKind::kConfig) out.push_back("revert-config change:" + change.name);
    if (change.kind == ChangeKind::kFeatureFlag) out.push_back("flag-off change:" + change.name);
    if (change.kind == ChangeKind::kSecretRotation)
      for (int s : change.services)
        if (std::find(change.reloaded.begin(), change.reloaded.end(), s) == change.reloaded.end())
          out.push_back("restart " + service(s));
    return out;
  }
  if (incident.cause == "emergent" && incident.root_service >= 0) {
    out.push_back("shed " + service(incident.root_service));
    return out;
  }
  for (const FaultSpec& fault : scenario.faults) {
    if (fault.name != incident.name) continue;
    const FaultTarget& target = fault.target;
    switch (fault.kind) {
      case FaultKind::kMemoryLeak:
        for (int s : target.selected.empty() ? std::vector<int>{target.service} : target.selected)
          if (s >= 0) out.push_back("restart " + service(s));
        break;
      case FaultKind::kCpuStress:
      case FaultKind::kCrashLoop:
        if (incident.root_service >= 0) out.push_back("scale " + service(incident.root_service));
        break;
      case FaultKind::kOutage: {
        const std::string region =
            target.zone.empty() ? target.region : region_of_zone(scenario, target.zone);
        if (!region.empty()) out.push_back("failover region:" + region);
        if (!target.zone.empty())
          for (int s : incident.affected) out.push_back("scale " + service(s));
        break;
      }
      case FaultKind::kPartition:
        for (const std::string& region : target.regions) out.push_back("failover region:" + region);
        break;
      default:
        break;
    }
    break;
  }
  return out;
}

}  // namespace dosim
