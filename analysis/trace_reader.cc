#include "dosim/analysis/trace_reader.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "analysis/trace_version.h"
#include "dosim/error.h"
#include "util/hdf5.h"
#include "util/input_file.h"
#include "util/isolated.h"

namespace dosim {
namespace {

// The trace is readable but not a usable dosim trace; turned into an InputError.
struct ReadFailure {
  std::string what;
};

// Turns the exception in flight (a ReadFailure, an HDF5 failure, a short column) into an
// InputError naming the file.
[[noreturn]] void rethrow_as_input_error(const std::string& path) {
  try {
    throw;
  } catch (const ReadFailure& failure) {
    throw InputError(path, "not a readable dosim trace: " + failure.what);
  } catch (const hdf5::Failure& failure) {
    throw InputError(path, std::string("not a readable dosim trace: ") + failure.what());
  } catch (const std::out_of_range&) {
    throw InputError(path, "not a readable dosim trace: columns of different lengths");
  }
}

// read(path), after a first try in a child process: libhdf5 can crash on a corrupt file
// before anything is checked.
template <typename Read>
auto read_isolated(const std::string& path, Read read) {
  if (const std::string crash = crash_in_child([&] { read(path); }); !crash.empty())
    throw InputError(path,
                     "not a readable dosim trace: the HDF5 library crashed reading it (a "
                     "corrupt file?): " +
                         crash);
  return read(path);
}

using hdf5::exists;
using hdf5::read_numbers;
using hdf5::read_strings;

}  // namespace

namespace {

TraceForScoring read_trace(const std::string& path) {
  hdf5::File file = open_trace_file(path);
  const hid_t f = file.get();
  TraceForScoring trace;
  try {
    if (std::string problem = trace_version_problem(f); !problem.empty())
      throw ReadFailure{problem};
    if (!exists(f, "truth/incidents") || !exists(f, "alerts"))
      throw ReadFailure{
          "no ground truth or alerts: a run stopped on an error (a failing script or detector) or "
          "a Simulation closed before its end keeps none (a run stopped by a signal keeps them)"};
    trace.seed = hdf5::read_attribute<std::uint64_t>(f, "seed");
    trace.complete = hdf5::read_attribute<std::int32_t>(f, "complete") != 0;
    const auto times = read_numbers<std::int64_t>(f, "time_ns");
    trace.simulated = times.empty() ? 0 : times.back();
    trace.tick = hdf5::read_attribute<std::int64_t>(f, "tick_ns");
    if (trace.tick <= 0) throw ReadFailure{"tick_ns must be > 0"};
    if (std::string problem = row_times_problem(times, trace.tick); !problem.empty())
      throw ReadFailure{problem};
    trace.services = read_strings(f, "services/name");
    trace.targets_listed = exists(f, "edges/name") && exists(f, "endpoints/service");
    if (exists(f, "edges/name")) trace.edge_targets = read_strings(f, "edges/name");
    if (exists(f, "endpoints/service")) {
      const auto owners = read_numbers<std::int32_t>(f, "endpoints/service");
      const auto names = read_strings(f, "endpoints/name");
      for (std::size_t e = 0; e < owners.size() && e < names.size(); ++e)
        if (owners[e] >= 0 && static_cast<std::size_t>(owners[e]) < trace.services.size())
          trace.endpoint_targets.push_back(trace.services[owners[e]] + " " + names[e]);
    }
    if (exists(f, "detectors/name")) trace.detectors = read_strings(f, "detectors/name");

    const std::string truth = "truth/incidents/";
    const auto ids = read_numbers<std::int64_t>(f, truth + "id");
    const auto names = read_strings(f, truth + "name");
    const auto causes = read_strings(f, truth + "cause");
    const auto roots = read_strings(f, truth + "root_cause");
    const auto root_services = read_numbers<std::int32_t>(f, truth + "root_service");
    const auto starts = read_numbers<std::int64_t>(f, truth + "start_ns");
    const auto ends = read_numbers<std::int64_t>(f, truth + "end_ns");
    const auto impact_starts = read_numbers<std::int64_t>(f, truth + "impact_start_ns");
    const auto impact_ends = read_numbers<std::int64_t>(f, truth + "impact_end_ns");
    const auto silent = read_numbers<std::uint8_t>(f, truth + "silent");
    const auto ongoing = exists(f, truth + "ongoing")  // traces before it was written: none
                             ? read_numbers<std::uint8_t>(f, truth + "ongoing")
                             : std::vector<std::uint8_t>(ids.size(), 0);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      IncidentRecord record;
      record.id = ids[i];
      record.name = names.at(i);
      record.cause = causes.at(i);
      record.root_cause = roots.at(i);
      record.root_service = root_services.at(i);
      record.start = starts.at(i);
      record.end = ends.at(i);
      record.impact_start = impact_starts.at(i);
      record.impact_end = impact_ends.at(i);
      record.silent = silent.at(i) != 0;
      record.ongoing = ongoing.at(i) != 0;
      trace.incidents.push_back(std::move(record));
    }
    const auto affected_ids = read_numbers<std::int64_t>(f, "truth/affected/incident_id");
    const auto affected_services = read_numbers<std::int32_t>(f, "truth/affected/service");
    std::map<std::int64_t, std::vector<std::size_t>> by_id;  // incident id -> its records
    for (std::size_t r = 0; r < trace.incidents.size(); ++r)
      by_id[trace.incidents[r].id].push_back(r);
    for (std::size_t i = 0; i < affected_ids.size(); ++i)
      if (const auto found = by_id.find(affected_ids[i]); found != by_id.end())
        for (std::size_t r : found->second)
          trace.incidents[r].affected.push_back(affected_services.at(i));

    const auto alert_times = read_numbers<std::int64_t>(f, "alerts/t_ns");
    const auto detectors = read_strings(f, "alerts/detector");
    const auto services = read_strings(f, "alerts/service");
    const auto metrics = read_strings(f, "alerts/metric");
    const auto severities = read_strings(f, "alerts/severity");
    // Traces before resolved_ns was written: every alert counts as firing to the end.
    const auto resolved = exists(f, "alerts/resolved_ns")
                              ? read_numbers<std::int64_t>(f, "alerts/resolved_ns")
                              : std::vector<std::int64_t>(alert_times.size(), -1);
    const auto targets = exists(f, "alerts/target") ? read_strings(f, "alerts/target")
                                                    : std::vector<std::string>(alert_times.size());
    std::map<std::string, int> service_index;  // the last of a repeated name, as before
    for (std::size_t s = 0; s < trace.services.size(); ++s)
      service_index[trace.services[s]] = static_cast<int>(s);
    for (std::size_t i = 0; i < alert_times.size(); ++i) {
      const auto found = service_index.find(services.at(i));
      const int service = found == service_index.end() ? -1 : found->second;
      trace.alerts.push_back({alert_times[i], detectors.at(i), service, metrics.at(i),
                              severities.at(i), resolved.at(i), targets.at(i)});
    }
    trace.first_notified = exists(f, "alerts/notified_ns")
                               ? read_numbers<std::int64_t>(f, "alerts/notified_ns")
                               : std::vector<std::int64_t>(alert_times.size(), -1);
    if (exists(f, "notifications/receiver"))
      for (const std::string& receiver : read_strings(f, "notifications/receiver")) {
        auto it = std::find_if(trace.receivers.begin(), trace.receivers.end(),
                               [&](const auto& entry) { return entry.first == receiver; });
        if (it == trace.receivers.end())
          trace.receivers.emplace_back(receiver, 1);
        else
          ++it->second;
      }
    if (exists(f, "notifications/t_ns")) {
      trace.notifications = read_numbers<std::int64_t>(f, "notifications/t_ns").size();
      if (exists(f, "notifications/resolution"))  // traces before send_resolved have none
        for (std::uint8_t r : read_numbers<std::uint8_t>(f, "notifications/resolution"))
          trace.resolutions += r != 0;
      const hdf5::Group group = hdf5::open_group(f, "notifications");
      trace.raw_alerts =
          static_cast<std::size_t>(hdf5::read_attribute<std::int64_t>(group.get(), "raw_alerts"));
      trace.inhibited =
          static_cast<std::size_t>(hdf5::read_attribute<std::int64_t>(group.get(), "inhibited"));
      trace.deduplicated =
          static_cast<std::size_t>(hdf5::read_attribute<std::int64_t>(group.get(), "deduplicated"));
    }
    trace.system.services = trace.services;
    trace.system.places.resize(trace.services.size());
    const auto sources = read_numbers<std::int32_t>(f, "edges/src");
    const auto targets_of_edges = read_numbers<std::int32_t>(f, "edges/dst");
    for (std::size_t e = 0; e < sources.size(); ++e)
      trace.system.edges.emplace_back(sources[e], targets_of_edges.at(e));
    if (exists(f, "services/placement/service")) {
      const auto owners = read_numbers<std::int32_t>(f, "services/placement/service");
      const auto zones = read_strings(f, "services/placement/zone");
      const auto regions = read_strings(f, "services/placement/region");
      for (std::size_t p = 0; p < owners.size(); ++p) {
        if (owners[p] < 0 || static_cast<std::size_t>(owners[p]) >= trace.services.size())
          throw ReadFailure{"/services/placement names a service the trace does not hold"};
        auto& places = trace.system.places[owners[p]];
        for (const std::string& place : {zones.at(p), regions.at(p)})
          if (!place.empty() && std::find(places.begin(), places.end(), place) == places.end())
            places.push_back(place);
      }
    }
    if (exists(f, "rca/incident_id")) {
      const auto ids = read_numbers<std::int64_t>(f, "rca/incident_id");
      const auto rankers = read_strings(f, "rca/ranker");
      const auto delays = read_numbers<std::int64_t>(f, "rca/delay_ns");
      const auto times = read_numbers<std::int64_t>(f, "rca/t_ns");
      const auto candidates = read_strings(f, "rca/candidate");
      const auto rca_scores = read_numbers<double>(f, "rca/score");
      for (std::size_t r = 0; r < ids.size(); ++r) {
        // Rows of one ranking are consecutive (rank 1, 2, ...).
        if (trace.rca.empty() || trace.rca.back().incident != ids[r] ||
            trace.rca.back().ranker != rankers.at(r) || trace.rca.back().delay != delays.at(r))
          trace.rca.push_back({ids[r], rankers.at(r), delays.at(r), times.at(r), {}});
        trace.rca.back().candidates.push_back({candidates.at(r), rca_scores.at(r)});
      }
    }
    if (exists(f, "incidents_detected/rule")) {
      const auto rules = read_strings(f, "incidents_detected/rule");
      const auto starts = read_numbers<std::int64_t>(f, "incidents_detected/start_ns");
      const auto severity = read_numbers<std::int32_t>(f, "incidents_detected/severity");
      const auto ends = read_numbers<std::int64_t>(f, "incidents_detected/end_ns");
      const auto peaks = exists(f, "incidents_detected/peak_temperature")
                             ? read_numbers<double>(f, "incidents_detected/peak_temperature")
                             : std::vector<double>(rules.size(), 0.0);
      for (std::size_t i = 0; i < rules.size(); ++i)
        trace.detected.push_back(
            {rules[i], starts.at(i), ends.at(i), severity.at(i), peaks.at(i), {}, {}});
    }
  } catch (...) {
    rethrow_as_input_error(path);
  }
  return trace;
}

}  // namespace

TraceForScoring read_trace_for_scoring(const std::string& path) {
  return read_isolated(path, read_trace);
}

namespace {

TraceSpans read_spans(const std::string& path) {
  hdf5::File file = open_trace_file(path);
  const hid_t f = file.get();
  TraceSpans trace;
  try {
    if (std::string problem = trace_version_problem(f); !problem.empty())
      throw ReadFailure{problem};
    if (!exists(f, "services/name")) throw ReadFailure{"no /services/name: not a dosim trace"};
    if (hdf5::has_attribute(f, "mode")) trace.mode = hdf5::read_string_attribute(f, "mode");
    if (hdf5::has_attribute(f, "complete"))
      trace.complete = hdf5::read_attribute<std::int32_t>(f, "complete") != 0;
    trace.services = read_strings(f, "services/name");
    if (exists(f, "endpoints/name")) trace.endpoints = read_strings(f, "endpoints/name");
    if (exists(f, "edges/name")) trace.edges = read_strings(f, "edges/name");
    if (exists(f, "spans/span_id")) {
      trace.faults = read_strings(f, "spans/fault_names");
      trace.changes = read_strings(f, "spans/change_names");
      const std::string g = "spans/";
      const auto high = read_numbers<std::uint64_t>(f, g + "trace_id_high");
      const auto low = read_numbers<std::uint64_t>(f, g + "trace_id_low");
      const auto span = read_numbers<std::uint64_t>(f, g + "span_id");
      const auto parent = read_numbers<std::uint64_t>(f, g + "parent_span_id");
      const auto start = read_numbers<std::int64_t>(f, g + "start_ns");
      const auto end = read_numbers<std::int64_t>(f, g + "end_ns");
      const auto kind = read_numbers<std::int32_t>(f, g + "kind");
      const auto service = read_numbers<std::int32_t>(f, g + "service");
      const auto endpoint = read_numbers<std::int32_t>(f, g + "endpoint");
      const auto edge = read_numbers<std::int32_t>(f, g + "edge");
      const auto status = read_numbers<std::int32_t>(f, g + "status");
      const auto attempt = read_numbers<std::int32_t>(f, g + "attempt");
      const auto fault = read_numbers<std::int32_t>(f, g + "fault");
      const auto change = read_numbers<std::int32_t>(f, g + "change");
      for (std::size_t i = 0; i < span.size(); ++i)
        trace.spans.push_back({high.at(i), low.at(i), span[i], parent.at(i), kind.at(i),
                               service.at(i), endpoint.at(i), edge.at(i), start.at(i), end.at(i),
                               status.at(i), attempt.at(i), fault.at(i), change.at(i)});
    }
    if (exists(f, "logs/t_ns")) {
      const std::string g = "logs/";
      const auto time = read_numbers<std::int64_t>(f, g + "t_ns");
      const auto service = read_numbers<std::int32_t>(f, g + "service");
      const auto endpoint = read_numbers<std::int32_t>(f, g + "endpoint");
      const auto status = read_numbers<std::int32_t>(f, g + "status");
      const auto latency = read_numbers<float>(f, g + "latency_s");
      const auto high = read_numbers<std::uint64_t>(f, g + "trace_id_high");
      const auto low = read_numbers<std::uint64_t>(f, g + "trace_id_low");
      for (std::size_t i = 0; i < time.size(); ++i)
        trace.logs.push_back({time[i], service.at(i), endpoint.at(i), status.at(i), latency.at(i),
                              high.at(i), low.at(i)});
    }
  } catch (...) {
    rethrow_as_input_error(path);
  }
  return trace;
}

}  // namespace

TraceSpans read_trace_spans(const std::string& path) { return read_isolated(path, read_spans); }

hdf5::File open_trace_file(const std::string& path) {
  hdf5::quiet_errors();
  if (const std::string problem = input_file_problem(path); !problem.empty())
    throw InputError(path, "cannot open trace: " + problem);
  hdf5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (file.valid()) return file;
  const std::string reason = hdf5::error_reason();
  if (H5Fis_hdf5(path.c_str()) <= 0) {  // no HDF5 signature where the format puts one
    const bool yaml = path.ends_with(".yaml") || path.ends_with(".yml");
    throw InputError(path, std::string("cannot open trace: not an HDF5 file") +
                               (yaml ? " (a scenario? dosim run SCENARIO writes its trace)"
                                     : " (a trace is what dosim run writes)"));
  }
  throw InputError(path, "cannot open trace: " + reason);
}

std::string trace_version_problem(hid_t file) {
  if (!hdf5::has_attribute(file, "format")) return "not a dosim trace (it has no format attribute)";
  if (const std::string format = hdf5::read_string_attribute(file, "format");
      format != "dosim-trace")
    return "not a dosim trace (its format is '" + format + "')";
  if (!hdf5::has_attribute(file, "format_version")) return "";
  const auto version = hdf5::read_attribute<std::int32_t>(file, "format_version");
  if (version < 1)
    return "format_version " + std::to_string(version) + " is not one dosim writes (from 1)";
  if (version <= kTraceFormatVersion) return "";
  return "format_version " + std::to_string(version) + " is newer than this dosim reads (" +
         std::to_string(kTraceFormatVersion) + "): read it with the dosim that wrote it";
}

std::string row_times_problem(const std::vector<std::int64_t>& times, std::int64_t tick) {
  for (std::size_t r = 0; r < times.size(); ++r)
    if (times[r] <= (r == 0 ? 0 : times[r - 1]))
      return "/time_ns must rise from after 0 (row " + std::to_string(r) + ")";
  if (!times.empty() && tick > 0 &&
      static_cast<double>(times.back()) / static_cast<double>(tick) > 1e10)
    return "/time_ns ends more than 1e10 ticks after the start";
  return "";
}

}  // namespace dosim
