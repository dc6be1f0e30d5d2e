// Every recorded series of a trace, with the names and labels that say what each is: the
// service, edge, endpoint, zone and route metrics, the detectors' scores and gauges, and the ground
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
  int root_service = -1;
  SimTime start = 0, end = 0;  // the cause's own span
  bool ongoing = false;
  std::vector<int> affected;     // /truth/affected: service indices
  std::vector<int> propagation;  // /truth/propagation: edge indices
};

struct ChangeMark {
  SimTime time = 0;
  std::string kind, target;
  std::string from, to;
};

struct DetectedWindow {
  std::string rule;
  SimTime start = 0, end = -1;  // end -1: open at the end of the run
  int severity = 3;
  double peak_temperature = 0;
};

struct RemediationMark {  // /remediation
  SimTime time = 0;
  std::string playbook, action, outcome;
  int service = -1;
};

struct TimelineMark {  // /truth/timeline
  std::int64_t incident = 0;
  SimTime time = 0;
  std::string event, detail;
};

struct NotificationMark {  // /notifications
  SimTime time = 0;
  std::string group, receiver;
  std::int64_t alerts = 0;
  bool resolution = false;  // sent for resolved alerts alone (send_resolved)
};

struct TraceSeries {
  std::string scenario;
  std::string scenario_yaml;        // /meta/scenario_yaml
  std::string script_path;          // /meta/script_lua's `path`: the chaos script, if any
  std::string dosim_version, mode;  // root attributes; "" in older traces
  std::uint64_t seed = 0;
  bool complete = false;
  bool has_truth = false;  // /truth/incidents is there (a run stopped on an error has none)
  SimTime tick = 0, record_interval = 0;
  std::vector<SimTime> times;  // end of each row
  std::vector<std::string> services, service_zones, service_regions;
  std::vector<std::string> edge_callers, edge_callees;
  std::vector<int> edge_src, edge_dst;  // service indices
  std::vector<std::string> endpoint_services, endpoint_names;
  std::vector<std::string> zone_services, zone_names, zone_regions;  // per zone column
  std::vector<std::string> route_traffic, route_regions;  // per route column (/traffic/routes)
  SeriesFamily service, edge, endpoint, zone, route;
  std::vector<DetectorSeries> detectors;
  std::vector<IncidentWindow> incidents;
  std::vector<ChangeMark> changes;       // /events/changes
  std::vector<DetectedWindow> detected;  // /incidents_detected
  std::vector<NotificationMark> notifications;
  std::vector<RemediationMark> remediation;
  std::vector<TimelineMark> incident_timeline;
};

TraceSeries read_trace_series(const std::string& path);

}  // namespace dosim
