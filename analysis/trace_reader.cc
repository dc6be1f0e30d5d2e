#include "dosim/analysis/trace_reader.h"

#include <map>
#include <stdexcept>

#include "dosim/error.h"
#include "util/hdf5.h"
#include "util/isolated.h"

namespace dosim {
namespace {

// The trace is readable but not a usable dosim trace; turned into an InputError.
struct ReadFailure {
  std::string what;
};

using hdf5::exists;
using hdf5::read_numbers;
using hdf5::read_strings;

}  // namespace

namespace {

TraceForScoring read_trace(const std::string& path) {
  hdf5::quiet_errors();
  hdf5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) throw InputError(path, "cannot open trace: " + hdf5::error_reason());
  const hid_t f = file.get();
  TraceForScoring trace;
  try {
    if (!exists(f, "truth/incidents") || !exists(f, "alerts"))
      throw ReadFailure{"no ground truth or alerts (an interrupted run?)"};
    trace.seed = hdf5::read_attribute<std::uint64_t>(f, "seed");
    trace.complete = hdf5::read_attribute<std::int32_t>(f, "complete") != 0;
    const auto times = read_numbers<std::int64_t>(f, "time_ns");
    trace.simulated = times.empty() ? 0 : times.back();
    trace.tick = hdf5::read_attribute<std::int64_t>(f, "tick_ns");
    if (trace.tick <= 0) throw ReadFailure{"tick_ns must be > 0"};
    trace.services = read_strings(f, "services/name");
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
    for (std::size_t r = 0; r < trace.incidents.size(); ++r) by_id[trace.incidents[r].id].push_back(r);
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
    if (exists(f, "notifications/t_ns")) {
      trace.notifications = read_numbers<std::int64_t>(f, "notifications/t_ns").size();
      const hdf5::Group group = hdf5::open_group(f, "notifications");
      trace.raw_alerts =
          static_cast<std::size_t>(hdf5::read_attribute<std::int64_t>(group.get(), "raw_alerts"));
      trace.inhibited =
          static_cast<std::size_t>(hdf5::read_attribute<std::int64_t>(group.get(), "inhibited"));
      trace.deduplicated =
          static_cast<std::size_t>(hdf5::read_attribute<std::int64_t>(group.get(), "deduplicated"));
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
  } catch (const ReadFailure& failure) {
    throw InputError(path, "not a readable dosim trace: " + failure.what);
  } catch (const hdf5::Failure& failure) {
    throw InputError(path, std::string("not a readable dosim trace: ") + failure.what());
  } catch (const std::out_of_range&) {
    throw InputError(path, "not a readable dosim trace: columns of different lengths");
  }
  return trace;
}

}  // namespace

TraceForScoring read_trace_for_scoring(const std::string& path) {
  // libhdf5 can crash on a corrupt file before anything is checked: try it in a child first.
  if (const std::string crash = crash_in_child([&] { read_trace(path); }); !crash.empty())
    throw InputError(path, "not a readable dosim trace: the HDF5 library crashed reading it (a "
                           "corrupt file?): " + crash);
  return read_trace(path);
}

}  // namespace dosim
