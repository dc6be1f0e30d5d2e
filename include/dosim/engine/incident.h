// Ground truth: one record per injected cause.
//
// The engine knows what it injected and measures what it broke. The impact window is the
// span during which the cause's root service, or any service upstream of it, measurably
// differed from the same world without faults (see world.h, "counterfactual"); the
// affected services and the propagation edges record where it did. A fault that
// changed nothing measurable is `silent` and has no impact window (both ends -1); scoring
// skips silent incidents.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dosim/engine/sim_time.h"

namespace dosim {

struct IncidentRecord {
  std::int64_t id = 0;     // 0-based: faults, defective changes, then run-time additions
  std::string name;        // the fault's name in the scenario
  std::string cause;       // fault kind: "latency", "error"
  std::string root_cause;  // "service", "service /endpoint" or "caller->callee"
  int root_service = -1;   // index of the service at the root of the cause
  SimTime start = 0;       // when the cause began and ended
  SimTime end = 0;
  SimTime impact_start = -1;  // start of the first and end of the last affected tick
  SimTime impact_end = -1;
  bool silent = true;
  // Still impacting on the last tick of the run (a storm that never recovered, or a cause
  // that outlasts the run): impact_end is then the end of the run, not of the impact.
  bool ongoing = false;
  // Services whose SLIs the cause changed at some point (the root included when it was
  // itself affected), sorted.
  std::vector<int> affected;
  // Dependencies (indices into Scenario::dependencies) along which the effect travelled:
  // those whose caller was affected and whose callee was affected or is the faulted edge's
  // callee. The effect flows from callee to caller (src = callee, dst = caller in the
  // trace, as ITBench's propagation ground truth).
  std::vector<int> propagation;
};

}  // namespace dosim
