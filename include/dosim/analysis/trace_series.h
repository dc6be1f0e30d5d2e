// Every recorded series of a trace, with the names and labels that say what each is: the
// service, edge, endpoint and zone metrics, the detectors' scores and gauges, and the ground
// truth's impact windows. What the exporters (metrics_export.h) read. Throws InputError for a
// file that is not a readable dosim trace.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dosim/engine/sim_time.h"

namespace dosim {

// One family of columns over the rows: `metrics[m]` holds metric m's values, row-major
// [rows x columns].
struct SeriesFamily {
  std::vector<std::string> metric_names;    // as in the trace (/metrics/<family>/<name>)
  std::vector<std::vector<float>> metrics;  // one per name
  std::size_t columns = 0;
};

struct DetectorSeries {
  std::string name;
  std::vector<std::string> services, metrics, labels;  // per watched series
  std::vector<float> scores;                           // [rows x watched]
  std::vector<std::string> gauge_names;                // /detectors/<name>/gauges/<gauge>
  std::vector<std::vector<float>> gauges;              // [rows] each
};

struct IncidentWindow {
  std::int64_t id = 0;
  std::string name, cause, root_cause;
  SimTime impact_start = 0, impact_end = 0;
  bool silent = false;
};

struct ChangeMark {
  SimTime time = 0;
  std::string kind, target;
};

struct DetectedWindow {
  std::string rule;
  SimTime start = 0, end = -1;  // end -1: open at the end of the run
  int severity = 3;
};

struct TraceSeries {
  std::string scenario;
  std::uint64_t seed = 0;
  bool complete = false;
  SimTime record_interval = 0;
  std::vector<SimTime> times;  // end of each row
  std::vector<std::string> services, service_zones;
  std::vector<std::string> edge_callers, edge_callees;
  std::vector<std::string> endpoint_services, endpoint_names;
  std::vector<std::string> zone_services, zone_names, zone_regions;  // per zone column
  SeriesFamily service, edge, endpoint, zone;
  std::vector<DetectorSeries> detectors;
  std::vector<IncidentWindow> incidents;
  std::vector<ChangeMark> changes;       // /events/changes
  std::vector<DetectedWindow> detected;  // /incidents_detected
};

TraceSeries read_trace_series(const std::string& path);

}  // namespace dosim
