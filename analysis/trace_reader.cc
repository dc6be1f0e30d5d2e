#include "dosim/analysis/trace_reader.h"

#include <cstring>

#include "util/hdf5.h"
#include "dosim/error.h"

namespace dosim {
namespace {

struct ReadFailure {
  std::string what;
};

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) throw ReadFailure{what};
  return id;
}

template <typename T>
std::vector<T> read_numbers(hid_t file, const std::string& path, hid_t memory_type) {
  hdf5::Dataset dataset(check(H5Dopen2(file, path.c_str(), H5P_DEFAULT), path));
  hdf5::Dataspace space(check(H5Dget_space(dataset.get()), path));
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  std::vector<T> values(static_cast<std::size_t>(std::max<hssize_t>(count, 0)));
  if (!values.empty())
    check(H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), path);
  return values;
}

// A 1-D dataset of fixed-length strings.
std::vector<std::string> read_strings(hid_t file, const std::string& path) {
  hdf5::Dataset dataset(check(H5Dopen2(file, path.c_str(), H5P_DEFAULT), path));
  hdf5::Datatype type(check(H5Dget_type(dataset.get()), path));
  hdf5::Dataspace space(check(H5Dget_space(dataset.get()), path));
  const std::size_t width = H5Tget_size(type.get());
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  std::vector<std::string> values;
  if (count <= 0) return values;
  std::vector<char> cells(static_cast<std::size_t>(count) * width);
  check(H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()), path);
  for (hssize_t i = 0; i < count; ++i) {
    const char* cell = cells.data() + static_cast<std::size_t>(i) * width;
    values.emplace_back(cell, strnlen(cell, width));
  }
  return values;
}

bool exists(hid_t file, const std::string& path) {
  return H5Lexists(file, path.c_str(), H5P_DEFAULT) > 0;
}

std::int64_t int_attribute(hid_t file, const char* name, hid_t type) {
  hdf5::Attribute attribute(check(H5Aopen(file, name, H5P_DEFAULT), name));
  std::int64_t value = 0;
  check(H5Aread(attribute.get(), type, &value), name);
  return value;
}

}  // namespace

TraceForScoring read_trace_for_scoring(const std::string& path) {
  hdf5::quiet_errors();
  hdf5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) throw InputError(path, "cannot open trace: " + hdf5::error_reason());
  const hid_t f = file.get();
  TraceForScoring trace;
  try {
    if (!exists(f, "truth/incidents") || !exists(f, "alerts"))
      throw ReadFailure{"no ground truth or alerts (an interrupted run?)"};
    trace.seed = static_cast<std::uint64_t>(int_attribute(f, "seed", H5T_NATIVE_UINT64));
    std::int32_t complete = 0;
    {
      hdf5::Attribute attribute(check(H5Aopen(f, "complete", H5P_DEFAULT), "complete"));
      check(H5Aread(attribute.get(), H5T_NATIVE_INT32, &complete), "complete");
    }
    trace.complete = complete != 0;
    const auto times = read_numbers<std::int64_t>(f, "time_ns", H5T_NATIVE_INT64);
    trace.simulated = times.empty() ? 0 : times.back();
    trace.tick = int_attribute(f, "tick_ns", H5T_NATIVE_INT64);
    if (trace.tick <= 0) throw ReadFailure{"tick_ns must be > 0"};
    trace.services = read_strings(f, "services/name");
    if (exists(f, "detectors/name")) trace.detectors = read_strings(f, "detectors/name");

    const std::string truth = "truth/incidents/";
    const auto ids = read_numbers<std::int64_t>(f, truth + "id", H5T_NATIVE_INT64);
    const auto names = read_strings(f, truth + "name");
    const auto causes = read_strings(f, truth + "cause");
    const auto roots = read_strings(f, truth + "root_cause");
    const auto root_services =
        read_numbers<std::int32_t>(f, truth + "root_service", H5T_NATIVE_INT32);
    const auto starts = read_numbers<std::int64_t>(f, truth + "start_ns", H5T_NATIVE_INT64);
    const auto ends = read_numbers<std::int64_t>(f, truth + "end_ns", H5T_NATIVE_INT64);
    const auto impact_starts =
        read_numbers<std::int64_t>(f, truth + "impact_start_ns", H5T_NATIVE_INT64);
    const auto impact_ends =
        read_numbers<std::int64_t>(f, truth + "impact_end_ns", H5T_NATIVE_INT64);
    const auto silent = read_numbers<std::uint8_t>(f, truth + "silent", H5T_NATIVE_UINT8);
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
      trace.incidents.push_back(std::move(record));
    }
    const auto affected_ids =
        read_numbers<std::int64_t>(f, "truth/affected/incident_id", H5T_NATIVE_INT64);
    const auto affected_services =
        read_numbers<std::int32_t>(f, "truth/affected/service", H5T_NATIVE_INT32);
    for (std::size_t i = 0; i < affected_ids.size(); ++i)
      for (IncidentRecord& record : trace.incidents)
        if (record.id == affected_ids[i]) record.affected.push_back(affected_services.at(i));

    const auto alert_times = read_numbers<std::int64_t>(f, "alerts/t_ns", H5T_NATIVE_INT64);
    const auto detectors = read_strings(f, "alerts/detector");
    const auto services = read_strings(f, "alerts/service");
    const auto metrics = read_strings(f, "alerts/metric");
    const auto severities = read_strings(f, "alerts/severity");
    // Traces before resolved_ns was written: every alert counts as firing to the end.
    const auto resolved =
        exists(f, "alerts/resolved_ns")
            ? read_numbers<std::int64_t>(f, "alerts/resolved_ns", H5T_NATIVE_INT64)
            : std::vector<std::int64_t>(alert_times.size(), -1);
    const auto targets = exists(f, "alerts/target") ? read_strings(f, "alerts/target")
                                                    : std::vector<std::string>(alert_times.size());
    for (std::size_t i = 0; i < alert_times.size(); ++i) {
      int service = -1;
      for (std::size_t s = 0; s < trace.services.size(); ++s)
        if (trace.services[s] == services.at(i)) service = static_cast<int>(s);
      trace.alerts.push_back({alert_times[i], detectors.at(i), service, metrics.at(i),
                              severities.at(i), resolved.at(i), targets.at(i)});
    }
    if (exists(f, "notifications/t_ns")) {
      trace.notifications =
          read_numbers<std::int64_t>(f, "notifications/t_ns", H5T_NATIVE_INT64).size();
      const hdf5::Group group(check(H5Gopen2(f, "notifications", H5P_DEFAULT), "notifications"));
      trace.raw_alerts =
          static_cast<std::size_t>(int_attribute(group.get(), "raw_alerts", H5T_NATIVE_INT64));
      trace.inhibited =
          static_cast<std::size_t>(int_attribute(group.get(), "inhibited", H5T_NATIVE_INT64));
      trace.deduplicated =
          static_cast<std::size_t>(int_attribute(group.get(), "deduplicated", H5T_NATIVE_INT64));
    }
    if (exists(f, "incidents_detected/rule")) {
      const auto rules = read_strings(f, "incidents_detected/rule");
      const auto starts =
          read_numbers<std::int64_t>(f, "incidents_detected/start_ns", H5T_NATIVE_INT64);
      const auto severity =
          read_numbers<std::int32_t>(f, "incidents_detected/severity", H5T_NATIVE_INT32);
      const auto ends =
          read_numbers<std::int64_t>(f, "incidents_detected/end_ns", H5T_NATIVE_INT64);
      const auto peaks =
          exists(f, "incidents_detected/peak_temperature")
              ? read_numbers<double>(f, "incidents_detected/peak_temperature", H5T_NATIVE_DOUBLE)
              : std::vector<double>(rules.size(), 0.0);
      for (std::size_t i = 0; i < rules.size(); ++i)
        trace.detected.push_back(
            {rules[i], starts.at(i), ends.at(i), severity.at(i), peaks.at(i)});
    }
  } catch (const ReadFailure& failure) {
    throw InputError(path, "not a readable dosim trace: " + failure.what);
  } catch (const std::out_of_range&) {
    throw InputError(path, "not a readable dosim trace: columns of different lengths");
  }
  return trace;
}

}  // namespace dosim
