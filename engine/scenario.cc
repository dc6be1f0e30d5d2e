#include "scenario.h"

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
  }
  return "unknown";
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
