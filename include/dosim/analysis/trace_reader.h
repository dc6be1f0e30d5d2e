// Reads back from a dosim trace what scoring needs: the ground truth, the alerts, the
// detectors that ran, the services, the seed and the simulated span (docs/trace-format.md).
// Throws InputError (dosim/error.h) naming the file when it cannot be read or is not
// a dosim trace. Not thread-safe (HDF5 serial).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dosim/alert.h"
#include "dosim/analysis/root_cause.h"
#include "dosim/engine/frame.h"
#include "dosim/engine/incident.h"

namespace dosim {

struct TraceForScoring {
  std::uint64_t seed = 0;
  bool complete = false;
  SimTime simulated = 0;   // time of the last row
  SimTime tick = kSecond;  // the root attribute tick_ns
  std::vector<std::string> services;
  // The dependencies ("caller->callee") and endpoints ("service /name") an alert's target
  // may name, as /alerts/target writes them; `targets_listed` false for a trace without
  // /edges and /endpoints (nothing to check them against).
  std::vector<std::string> edge_targets, endpoint_targets;
  bool targets_listed = false;
  std::vector<std::string> detectors;     // in the order the run reported them
  std::vector<IncidentRecord> incidents;  // with affected services (propagation not read)
  std::vector<Alert> alerts;
  // Incidents the incident rules detected.
  std::vector<DetectedIncident> detected;
  // The alert pipeline's counts (/notifications); all 0 in a trace without them.
  std::size_t raw_alerts = 0, notifications = 0, inhibited = 0, deduplicated = 0;
  std::size_t resolutions = 0;  // of the notifications, those for resolved alerts alone
  // Per alert: its first notification (-1: none; all -1 in a trace before
  // /alerts/notified_ns).
  std::vector<SimTime> first_notified;
  // Notifications per receiver, in the order receivers first appear.
  std::vector<std::pair<std::string, std::size_t>> receivers;
  // The system as root-cause scoring sees it (services, edges, places; no changes), and the
  // run's root-cause rankings (/rca; empty in a trace before them).
  RcaSystem system;
  std::vector<RcaRanking> rca;
};

TraceForScoring read_trace_for_scoring(const std::string& path);

// The trace format version this dosim writes and reads (docs/trace-format.md).
inline constexpr int kTraceFormatVersion = 1;

// What is wrong with a trace's /time_ns at tick `tick`, or "": the rows' times must rise, the
// first after 0, and the last at most 1e10 ticks (a run's most) from the start.
std::string row_times_problem(const std::vector<std::int64_t>& times, std::int64_t tick);

}  // namespace dosim

namespace dosim {

// The request level's spans and request logs of a trace (/spans, /logs), with the names their
// indices refer to. Empty lists for a fluid run. Throws InputError like
// read_trace_for_scoring().
struct TraceSpans {
  std::string mode;  // the root attribute `mode` ("fluid", "requests"; "" where absent)
  bool complete = true;  // the root attribute `complete`: false for an interrupted run
  std::vector<std::string> services, endpoints, edges, faults, changes;
  std::vector<SpanRecord> spans;
  std::vector<LogRecord> logs;
};
TraceSpans read_trace_spans(const std::string& path);

}  // namespace dosim
