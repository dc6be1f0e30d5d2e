// An alert, as the scoring sees it and as the trace stores it (/alerts/, see
// docs/trace-format.md): when it fired, which detector raised it, and what it is about.
#pragma once

#include <string>

#include "dosim/engine/sim_time.h"

namespace dosim {

// The `service` of an alert about the system as a whole (an incident rule's incident).
inline constexpr int kWholeSystem = -2;

struct Alert {
  SimTime time = 0;      // when the alert fired
  std::string detector;  // detector that raised it
  int service = -1;      // index of the service it is about (into the scenario's services), or
                         // kWholeSystem for an incident rule's detected incident

  std::string metric;     // metric it is about
  std::string severity;   // e.g. "warning", "critical", "sev1"
  SimTime resolved = -1;  // when the condition cleared; -1 if still firing at the end
  std::string target;     // the series' column (service, caller->callee, service/endpoint)
};

}  // namespace dosim
