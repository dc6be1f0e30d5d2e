#include "dosim/analysis/trace_series.h"

#include <array>
#include <map>
#include <string_view>

#include "analysis/trace_version.h"
#include "dosim/analysis/trace_reader.h"
#include "dosim/engine/frame.h"
#include "dosim/error.h"
#include "util/hdf5.h"
#include "util/input_file.h"
#include "util/isolated.h"

namespace dosim {
namespace {

using hdf5::exists;
using hdf5::read_numbers;
using hdf5::read_strings;

struct NotATrace {
  std::string what;
};

template <std::size_t N>
SeriesFamily read_family(hid_t f, const std::string& family,
                         const std::array<std::string_view, N>& names, std::size_t rows,
                         std::size_t columns) {
  SeriesFamily out;
  out.columns = columns;
  for (std::string_view name : names) {
    const std::string path = "metrics/" + family + "/" + std::string(name);
    if (!exists(f, path)) continue;  // an older trace, or a family the run did not record
    std::vector<float> values = read_numbers<float>(f, path);
    if (values.size() != rows * columns) {
      // Whole rows of another count: a killed run's file, its datasets cut at different rows
      // (docs/trace-format.md: read the rows every dataset has).
      if (columns > 0 && values.size() % columns == 0)
        throw NotATrace{path + " has " + std::to_string(values.size() / columns) +
                        " rows, /time_ns " + std::to_string(rows) +
                        " (a file cut short? read the rows every dataset has: "
                        "docs/trace-format.md)"};
      throw NotATrace{path + " holds " + std::to_string(values.size()) + " values, not " +
                      std::to_string(rows) + " rows x " + std::to_string(columns) + " columns"};
    }
    out.metric_names.emplace_back(name);
    out.metrics.push_back(std::move(values));
  }
  return out;
}

TraceSeries read(const std::string& path, hid_t f) {
  TraceSeries t;
  if (std::string problem = trace_version_problem(f); !problem.empty()) throw NotATrace{problem};
  t.seed = hdf5::read_attribute<std::uint64_t>(f, "seed");
  t.complete = hdf5::read_attribute<std::int32_t>(f, "complete") != 0;
  t.record_interval = hdf5::read_attribute<std::int64_t>(f, "record_interval_ns");
  t.tick = hdf5::read_attribute<std::int64_t>(f, "tick_ns");
  if (hdf5::has_attribute(f, "scenario_name"))
    t.scenario = hdf5::read_string_attribute(f, "scenario_name");
  if (hdf5::has_attribute(f, "dosim_version"))
    t.dosim_version = hdf5::read_string_attribute(f, "dosim_version");
  if (hdf5::has_attribute(f, "mode")) t.mode = hdf5::read_string_attribute(f, "mode");
  if (exists(f, "meta/scenario_yaml"))
    t.scenario_yaml = hdf5::read_scalar_string(f, "meta/scenario_yaml");
  if (exists(f, "meta/script_lua")) {
    const hdf5::Dataset script = hdf5::open_dataset(f, "meta/script_lua");
    if (hdf5::has_attribute(script.get(), "path"))
      t.script_path = hdf5::read_string_attribute(script.get(), "path");
  }
  t.times = read_numbers<std::int64_t>(f, "time_ns");
  if (std::string problem = row_times_problem(t.times, t.tick); !problem.empty())
    throw NotATrace{problem};
  const std::size_t rows = t.times.size();
  t.services = read_strings(f, "services/name");
  t.service_zones = exists(f, "services/zone") ? read_strings(f, "services/zone")
                                               : std::vector<std::string>(t.services.size());
  t.service_regions = exists(f, "services/region") ? read_strings(f, "services/region")
                                                   : std::vector<std::string>(t.services.size());
  if (t.service_zones.size() != t.services.size() || t.service_regions.size() != t.services.size())
    throw NotATrace{"/services columns of different lengths"};
  const auto name_of = [&](std::int64_t index) {
    if (index < 0 || static_cast<std::size_t>(index) >= t.services.size())
      throw NotATrace{"a service index outside /services/name"};
    return t.services[static_cast<std::size_t>(index)];
  };
  for (std::int32_t s : read_numbers<std::int32_t>(f, "edges/src")) {
    t.edge_callers.push_back(name_of(s));
    t.edge_src.push_back(s);
  }
  for (std::int32_t s : read_numbers<std::int32_t>(f, "edges/dst")) {
    t.edge_callees.push_back(name_of(s));
    t.edge_dst.push_back(s);
  }
  if (t.edge_callers.size() != t.edge_callees.size()) throw NotATrace{"edges of different lengths"};
  if (exists(f, "endpoints/service")) {
    for (std::int32_t s : read_numbers<std::int32_t>(f, "endpoints/service"))
      t.endpoint_services.push_back(name_of(s));
    t.endpoint_names = read_strings(f, "endpoints/name");
  }
  if (exists(f, "services/placement/service")) {
    for (std::int32_t s : read_numbers<std::int32_t>(f, "services/placement/service"))
      t.zone_services.push_back(name_of(s));
    t.zone_names = read_strings(f, "services/placement/zone");
    t.zone_regions = read_strings(f, "services/placement/region");
  }
  t.service = read_family(f, "service", kServiceMetricNames, rows, t.services.size());
  t.edge = read_family(f, "edge", kEdgeMetricNames, rows, t.edge_callers.size());
  t.endpoint = read_family(f, "endpoint", kEndpointMetricNames, rows, t.endpoint_names.size());
  if (exists(f, "metrics/zone"))
    t.zone = read_family(f, "zone", kZoneMetricNames, rows, t.zone_names.size());
  if (exists(f, "traffic/routes/traffic")) {
    t.route_traffic = read_strings(f, "traffic/routes/traffic");
    t.route_regions = read_strings(f, "traffic/routes/region");
    if (t.route_regions.size() != t.route_traffic.size())
      throw NotATrace{"/traffic/routes columns of different lengths"};
    if (exists(f, "metrics/route"))
      t.route = read_family(f, "route", kRouteMetricNames, rows, t.route_traffic.size());
  }
  if (exists(f, "detectors/name")) {
    for (const std::string& name : read_strings(f, "detectors/name")) {
      const std::string base = "detectors/" + name;
      if (!exists(f, base + "/score")) continue;
      DetectorSeries d;
      d.name = name;
      d.metrics = read_strings(f, base + "/metric");
      d.labels = read_strings(f, base + "/label");
      for (std::int32_t s : read_numbers<std::int32_t>(f, base + "/service"))
        d.services.push_back(s >= 0 && static_cast<std::size_t>(s) < t.services.size()
                                 ? t.services[static_cast<std::size_t>(s)]
                                 : "");
      d.scores = read_numbers<float>(f, base + "/score");
      if (d.scores.size() != rows * d.labels.size())
        throw NotATrace{base + "/score is not [rows x watched series]"};
      if (exists(f, base + "/gauges"))
        for (const std::string& gauge : hdf5::member_names(f, base + "/gauges")) {
          d.gauge_names.push_back(gauge);
          d.gauges.push_back(read_numbers<float>(f, base + "/gauges/" + gauge));
          if (d.gauges.back().size() != rows)
            throw NotATrace{base + "/gauges/" + gauge + " is not [rows]"};
        }
      t.detectors.push_back(std::move(d));
    }
  }
  if (exists(f, "truth/incidents/id")) {
    t.has_truth = true;
    const std::string truth = "truth/incidents/";
    const auto ids = read_numbers<std::int64_t>(f, truth + "id");
    const auto names = read_strings(f, truth + "name");
    const auto causes = read_strings(f, truth + "cause");
    const auto roots = read_strings(f, truth + "root_cause");
    const auto starts = read_numbers<std::int64_t>(f, truth + "impact_start_ns");
    const auto ends = read_numbers<std::int64_t>(f, truth + "impact_end_ns");
    const auto silent = read_numbers<std::uint8_t>(f, truth + "silent");
    const auto root_services = read_numbers<std::int32_t>(f, truth + "root_service");
    const auto cause_starts = read_numbers<std::int64_t>(f, truth + "start_ns");
    const auto cause_ends = read_numbers<std::int64_t>(f, truth + "end_ns");
    const auto ongoing = exists(f, truth + "ongoing")
                             ? read_numbers<std::uint8_t>(f, truth + "ongoing")
                             : std::vector<std::uint8_t>(ids.size(), 0);
    std::map<std::int64_t, std::size_t> row_of;  // incident id -> its row
    for (std::size_t i = 0; i < ids.size(); ++i) {
      t.incidents.push_back({ids[i],
                             names.at(i),
                             causes.at(i),
                             roots.at(i),
                             starts.at(i),
                             ends.at(i),
                             silent.at(i) != 0,
                             root_services.at(i),
                             cause_starts.at(i),
                             cause_ends.at(i),
                             ongoing.at(i) != 0,
                             {},
                             {}});
      row_of.emplace(ids[i], i);
    }
    const auto lists = [&](const std::string& group, const std::string& column,
                           std::vector<int> IncidentWindow::*list, std::size_t limit) {
      if (!exists(f, group + "/incident_id")) return;
      const auto owners = read_numbers<std::int64_t>(f, group + "/incident_id");
      const auto values = read_numbers<std::int32_t>(f, group + "/" + column);
      for (std::size_t r = 0; r < owners.size(); ++r) {
        const auto found = row_of.find(owners[r]);
        if (found == row_of.end() || values.at(r) < 0 ||
            static_cast<std::size_t>(values[r]) >= limit)
          throw NotATrace{group + " names an incident or index the trace does not hold"};
        (t.incidents[found->second].*list).push_back(values[r]);
      }
    };
    lists("truth/affected", "service", &IncidentWindow::affected, t.services.size());
    lists("truth/propagation", "edge", &IncidentWindow::propagation, t.edge_src.size());
  }
  if (exists(f, "events/changes/t_ns")) {
    const auto times = read_numbers<std::int64_t>(f, "events/changes/t_ns");
    const auto kinds = read_strings(f, "events/changes/kind");
    const auto targets = read_strings(f, "events/changes/target");
    const auto froms = exists(f, "events/changes/from") ? read_strings(f, "events/changes/from")
                                                        : std::vector<std::string>(times.size());
    const auto tos = exists(f, "events/changes/to") ? read_strings(f, "events/changes/to")
                                                    : std::vector<std::string>(times.size());
    for (std::size_t i = 0; i < times.size(); ++i)
      t.changes.push_back({times[i], kinds.at(i), targets.at(i), froms.at(i), tos.at(i)});
  }
  if (exists(f, "incidents_detected/rule")) {
    const auto rules = read_strings(f, "incidents_detected/rule");
    const auto starts = read_numbers<std::int64_t>(f, "incidents_detected/start_ns");
    const auto ends = read_numbers<std::int64_t>(f, "incidents_detected/end_ns");
    const auto severity = read_numbers<std::int32_t>(f, "incidents_detected/severity");
    const auto peaks = exists(f, "incidents_detected/peak_temperature")
                           ? read_numbers<double>(f, "incidents_detected/peak_temperature")
                           : std::vector<double>(rules.size(), 0.0);
    for (std::size_t i = 0; i < rules.size(); ++i)
      t.detected.push_back({rules[i], starts.at(i), ends.at(i), severity.at(i), peaks.at(i)});
  }
  if (exists(f, "notifications/t_ns")) {
    const auto times = read_numbers<std::int64_t>(f, "notifications/t_ns");
    const auto groups = read_strings(f, "notifications/group");
    const auto counts = read_numbers<std::int64_t>(f, "notifications/alerts");
    const auto receivers = exists(f, "notifications/receiver")
                               ? read_strings(f, "notifications/receiver")
                               : std::vector<std::string>(times.size());
    // Traces from before send_resolved have no /notifications/resolution: none was.
    const auto resolution = exists(f, "notifications/resolution")
                                ? read_numbers<std::uint8_t>(f, "notifications/resolution")
                                : std::vector<std::uint8_t>(times.size(), 0);
    for (std::size_t i = 0; i < times.size(); ++i)
      t.notifications.push_back(
          {times[i], groups.at(i), receivers.at(i), counts.at(i), resolution.at(i) != 0});
  }
  if (exists(f, "remediation/t_ns")) {
    const auto times = read_numbers<std::int64_t>(f, "remediation/t_ns");
    const auto playbooks = read_strings(f, "remediation/playbook");
    const auto services = read_numbers<std::int32_t>(f, "remediation/service");
    const auto actions = read_strings(f, "remediation/action");
    const auto outcomes = read_strings(f, "remediation/outcome");
    for (std::size_t i = 0; i < times.size(); ++i) {
      if (services.at(i) < 0 || static_cast<std::size_t>(services[i]) >= t.services.size())
        throw NotATrace{"/remediation names a service the trace does not hold"};
      t.remediation.push_back(
          {times[i], playbooks.at(i), actions.at(i), outcomes.at(i), services[i]});
    }
  }
  if (exists(f, "truth/timeline/t_ns")) {
    const auto ids = read_numbers<std::int64_t>(f, "truth/timeline/incident_id");
    const auto times = read_numbers<std::int64_t>(f, "truth/timeline/t_ns");
    const auto events = read_strings(f, "truth/timeline/event");
    const auto details = read_strings(f, "truth/timeline/detail");
    for (std::size_t i = 0; i < times.size(); ++i)
      t.incident_timeline.push_back({ids.at(i), times[i], events.at(i), details.at(i)});
  }
  (void)path;
  return t;
}

}  // namespace

namespace {

TraceSeries read_checked(const std::string& path) {
  hdf5::File file = open_trace_file(path);
  try {
    return read(path, file.get());
  } catch (const NotATrace& failure) {
    throw InputError(path, "not a readable dosim trace: " + failure.what);
  } catch (const hdf5::Failure& failure) {
    throw InputError(path, std::string("not a readable dosim trace: ") + failure.what());
  } catch (const std::out_of_range&) {
    throw InputError(path, "not a readable dosim trace: columns of different lengths");
  }
}

}  // namespace

TraceSeries read_trace_series(const std::string& path) {
  // First in a child process: libhdf5 can crash on a corrupt file before anything is
  // checked (util/isolated.h), as dosim score's reader does.
  if (const std::string crash = crash_in_child([&] { read_checked(path); }); !crash.empty())
    throw InputError(path,
                     "not a readable dosim trace: the HDF5 library crashed reading it (a corrupt "
                     "file?): " +
                         crash);
  return read_checked(path);
}

}  // namespace dosim
