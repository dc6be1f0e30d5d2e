// Ground truth: one record per injected cause.
//
// The engine knows what it injected and measures what it broke. The impact window is the
// span during which the cause's root service, or any service upstream of it, measurably
// differed from the same world without faults (see world.h, "counterfactual"). A fault that
// changed nothing measurable is `silent` and has no impact window (both ends -1); scoring
// skips silent incidents.
#pragma once

#include <cstdint>
#include <string>

#include "sim_time.h"

namespace dosim {

struct IncidentRecord {
  std::int64_t id = 0;          // 0-based, in order of start time then scenario order
  std::string name;             // the fault's name in the scenario
  std::string cause;            // fault kind: "latency", "error"
  std::string root_cause;       // "service", "service /endpoint" or "caller->callee"
  int root_service = -1;        // index of the service at the root of the cause
  SimTime start = 0;            // when the cause began and ended
  SimTime end = 0;
  SimTime impact_start = -1;    // start of the first and end of the last affected tick
  SimTime impact_end = -1;
  bool silent = true;
};

}  // namespace dosim
