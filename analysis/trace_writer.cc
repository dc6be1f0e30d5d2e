#include "dosim/analysis/trace_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

#include "dosim/analysis/root_cause.h"
#include "dosim/analysis/trace_reader.h"
#include "dosim/error.h"
#include "dosim/version.h"
#include "util/hdf5.h"

namespace dosim {
namespace {

using hdf5::Attribute;
using hdf5::check;
using hdf5::Dataset;
using hdf5::Dataspace;
using hdf5::Group;
using hdf5::make_group;
using hdf5::PropertyList;
using hdf5::write_attribute;
using hdf5::write_numbers;
using hdf5::write_scalar_string;
using hdf5::write_string_attribute;
using hdf5::write_strings;

constexpr std::size_t kChunkTargetBytes = 256 * 1024;
constexpr unsigned kDeflateLevel = 4;

// Rows per chunk: a fixed function of the row width, so that a chunk holds about
// kChunkTargetBytes, and at least one row.
hsize_t chunk_rows(std::size_t row_bytes) {
  return std::max<hsize_t>(1, kChunkTargetBytes / std::max<std::size_t>(1, row_bytes));
}

// Where the trace is written until it is closed.
struct OutputFile {
  std::string target;     // the path, or the file a symbolic link there names
  std::string temporary;  // beside the target
};

std::string os_reason(int error_number) { return std::strerror(error_number); }

// Checks the target and creates an empty temporary file beside it, exclusively, with the
// target's permissions if it exists (else 0666 less the umask). Throws InputError.
OutputFile create_output(const std::string& path) {
  namespace fs = std::filesystem;
  OutputFile out;
  fs::path target(path);
  std::error_code error;
  // Replace the file a symbolic link names (existing or not), and keep the link.
  for (int depth = 0; depth < 40 && fs::is_symlink(target, error); ++depth) {
    const fs::path next = fs::read_symlink(target, error);
    if (error) break;
    target = next.is_absolute() ? next : target.parent_path() / next;
  }
  out.target = target.string();
  mode_t mode = 0666;
  bool keep_mode = false;
  struct stat existing;
  if (::stat(out.target.c_str(), &existing) == 0) {
    if (S_ISDIR(existing.st_mode))
      throw InputError(path, "cannot create trace: " + os_reason(EISDIR));
    if (!S_ISREG(existing.st_mode))  // a device: a rename would replace it
      throw InputError(path, "cannot create trace: not a regular file");
    if (::access(out.target.c_str(), W_OK) != 0)
      throw InputError(path, "cannot create trace: " + os_reason(errno));
    mode = existing.st_mode & 07777;
    keep_mode = true;
  }
  const std::string prefix = (target.parent_path() / ("." + target.filename().string())).string() +
                             ".dosim-" + std::to_string(::getpid()) + "-";
  for (int attempt = 0;; ++attempt) {
    out.temporary = prefix + std::to_string(attempt);
    const int fd = ::open(out.temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0) {
      if (keep_mode) ::fchmod(fd, mode);  // the umask may have narrowed it
      ::close(fd);
      return out;
    }
    if (errno != EEXIST || attempt == 100)
      throw InputError(path, "cannot create trace: " + os_reason(errno));
  }
}

// A dataset that grows by whole rows: shape [rows] (rank 1) or [rows, columns] (rank 2).
// Rows collect in a one-chunk buffer that is written when full, so every chunk but the last
// is written exactly once, whole; each such write counts in `*chunk_writes`.
template <typename T>
class RowAppender {
 public:
  RowAppender(hid_t parent, const char* name, hid_t file_type, int rank, std::size_t columns,
              std::uint64_t* chunk_writes)
      : chunk_writes_(chunk_writes),
        mem_type_(hdf5::native_type<T>()),
        rank_(rank),
        columns_(rank == 1 ? 1 : columns),
        chunk_rows_(chunk_rows(columns_ * sizeof(T))) {
    const hsize_t dims[2] = {0, columns_};
    // A zero-width dimension cannot hold a chunk of width 1 unless it may grow.
    const hsize_t max_dims[2] = {H5S_UNLIMITED, columns_ == 0 ? H5S_UNLIMITED : columns_};
    const hsize_t chunk[2] = {chunk_rows_, std::max<hsize_t>(1, columns_)};
    const Dataspace space(check(H5Screate_simple(rank_, dims, max_dims), name));
    PropertyList dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "dcpl"));
    check(H5Pset_obj_track_times(dcpl.get(), 0), "dcpl times");
    check(H5Pset_chunk(dcpl.get(), rank_, chunk), "chunk");
    check(H5Pset_shuffle(dcpl.get()), "shuffle");
    check(H5Pset_deflate(dcpl.get(), kDeflateLevel), "deflate");
    // Explicit zero fill at allocation: the unused tail of the last chunk is deterministic.
    const T zero{};
    check(H5Pset_fill_value(dcpl.get(), mem_type_, &zero), "fill value");
    check(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_ALLOC), "fill time");
    // Whole chunks go straight to the file; no chunk cache is needed.
    PropertyList dapl(check(H5Pcreate(H5P_DATASET_ACCESS), "dapl"));
    check(H5Pset_chunk_cache(dapl.get(), H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0,
                             H5D_CHUNK_CACHE_W0_DEFAULT),
          "chunk cache");
    dataset_ = Dataset(
        check(H5Dcreate2(parent, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()),
              name));
    buffer_.resize(chunk_rows_ * columns_);
  }

  // The slot for the next row (`columns` values); valid until the next call.
  T* append_row() {
    if (buffered_rows_ == chunk_rows_) {
      flush();
      ++*chunk_writes_;
    }
    return buffer_.data() + buffered_rows_++ * columns_;
  }

  // Extends the dataset and writes the buffered rows.
  void flush() {
    if (buffered_rows_ == 0) return;
    const hsize_t start[2] = {rows_on_disk_, 0};
    const hsize_t count[2] = {buffered_rows_, columns_};
    const hsize_t extent[2] = {rows_on_disk_ + buffered_rows_, columns_};
    check(H5Dset_extent(dataset_.get(), extent), "extend");
    if (columns_ > 0) {
      const Dataspace file_space(check(H5Dget_space(dataset_.get()), "file space"));
      check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
            "select");
      const Dataspace mem_space(check(H5Screate_simple(rank_, count, nullptr), "memory space"));
      check(H5Dwrite(dataset_.get(), mem_type_, mem_space.get(), file_space.get(), H5P_DEFAULT,
                     buffer_.data()),
            "write rows");
    }
    rows_on_disk_ += buffered_rows_;
    buffered_rows_ = 0;
  }

  void close() { dataset_.close(); }

 private:
  Dataset dataset_;
  std::uint64_t* chunk_writes_;
  hid_t mem_type_;
  int rank_;
  hsize_t columns_;
  hsize_t chunk_rows_;
  std::vector<T> buffer_;
  hsize_t buffered_rows_ = 0;
  hsize_t rows_on_disk_ = 0;
};

// One family of metrics (service, edge or endpoint): sums each frame over a record interval
// and appends the summary as one row of each metric's dataset. In double, per column:
//  - error ratio: sum of rps * error_ratio, divided by the sum of rps at the end; where that
//    is 0, the mean (a simulated series has no errors without requests, so 0; a replayed
//    one keeps its recorded values);
//  - `min_metric` (ready replicas): the minimum;
//  - everything else: the sum, divided by the tick count at the end (mean).
class MetricFamily {
 public:
  MetricFamily(hid_t group, std::span<const std::string_view> names, std::size_t columns,
               int min_metric, std::uint64_t* chunk_writes)
      : columns_(columns),
        min_metric_(min_metric),
        sums_(names.size() * columns),
        plain_error_sums_(columns) {
    tables_.reserve(names.size());
    for (std::size_t m = 0; m < names.size(); ++m) {
      tables_.emplace_back(group, std::string(names[m]).c_str(), H5T_IEEE_F32LE, 2, columns,
                           chunk_writes);
      if (names[m] == "error_ratio") error_metric_ = m;
      if (names[m] == "rps") rps_metric_ = m;
    }
    // An error ratio is weighted by its family's rps (a family without rps has no ratio).
    if (rps_metric_ == kNone) error_metric_ = kNone;
    reset();
  }

  // One frame's values, metric-major: [metric][column].
  void add(std::span<const float> values) {
    assert(values.size() == sums_.size());
    const float* rps = values.data() + rps_metric_ * columns_;
    for (std::size_t metric = 0; metric < tables_.size(); ++metric) {
      const float* in = values.data() + metric * columns_;
      double* sum = sums_.data() + metric * columns_;
      if (metric == error_metric_) {
        for (std::size_t c = 0; c < columns_; ++c) {
          sum[c] += double(rps[c]) * double(in[c]);
          plain_error_sums_[c] += in[c];
        }
      } else if (static_cast<int>(metric) == min_metric_) {
        for (std::size_t c = 0; c < columns_; ++c) sum[c] = std::min(sum[c], double(in[c]));
      } else {
        for (std::size_t c = 0; c < columns_; ++c) sum[c] += in[c];
      }
    }
  }

  // Appends the summary of the `ticks` frames added since the last emit, then resets.
  void emit(std::int64_t ticks) {
    const double* rps_sum = sums_.data() + rps_metric_ * columns_;
    for (std::size_t metric = 0; metric < tables_.size(); ++metric) {
      const double* sum = sums_.data() + metric * columns_;
      float* out = tables_[metric].append_row();
      for (std::size_t c = 0; c < columns_; ++c) {
        double value;
        if (metric == error_metric_) {
          value = rps_sum[c] > 0 ? sum[c] / rps_sum[c] : plain_error_sums_[c] / double(ticks);
        } else if (static_cast<int>(metric) == min_metric_) {
          value = sum[c];
        } else {
          value = sum[c] / double(ticks);
        }
        out[c] = static_cast<float>(value);
      }
    }
    reset();
  }

  void flush() {
    for (RowAppender<float>& table : tables_) table.flush();
  }
  void close() {
    for (RowAppender<float>& table : tables_) table.close();
  }

 private:
  void reset() {
    std::fill(sums_.begin(), sums_.end(), 0.0);
    std::fill(plain_error_sums_.begin(), plain_error_sums_.end(), 0.0);
    if (min_metric_ >= 0)
      std::fill_n(sums_.begin() + min_metric_ * columns_, columns_,
                  std::numeric_limits<double>::infinity());
  }

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t columns_;
  std::size_t rps_metric_ = kNone, error_metric_ = kNone;  // by name
  int min_metric_;                                         // -1: none
  std::vector<double> sums_;                               // [metric][column]
  std::vector<double> plain_error_sums_;                   // [column]
  std::vector<RowAppender<float>> tables_;
};

// One detector's scores and gauges, summarised per row: scores by their maximum, gauges by
// their last value.
class DetectorColumns {
 public:
  DetectorColumns(hid_t group, std::size_t series, const std::vector<std::string>& gauges,
                  std::uint64_t* chunk_writes)
      : series_(series),
        score_max_(series, 0.0f),
        gauge_last_(gauges.size(), 0.0f),
        score_(group, "score", H5T_IEEE_F32LE, 2, series, chunk_writes) {
    if (gauges.empty()) return;
    const Group gauge_group = make_group(group, "gauges");
    gauge_tables_.reserve(gauges.size());
    for (const std::string& name : gauges)
      gauge_tables_.emplace_back(gauge_group.get(), name.c_str(), H5T_IEEE_F32LE, 1, 1,
                                 chunk_writes);
  }

  void add(std::span<const float> scores, std::span<const float> gauges) {
    assert(scores.size() == series_ && gauges.size() == gauge_last_.size());
    for (std::size_t i = 0; i < series_; ++i)
      score_max_[i] = first_ ? scores[i] : std::max(score_max_[i], scores[i]);
    std::copy(gauges.begin(), gauges.end(), gauge_last_.begin());
    first_ = false;
  }

  void emit() {
    float* out = score_.append_row();
    std::copy(score_max_.begin(), score_max_.end(), out);
    for (std::size_t g = 0; g < gauge_tables_.size(); ++g)
      *gauge_tables_[g].append_row() = gauge_last_[g];
    first_ = true;
  }

  void flush() {
    score_.flush();
    for (RowAppender<float>& table : gauge_tables_) table.flush();
  }

 private:
  std::size_t series_;
  bool first_ = true;
  std::vector<float> score_max_, gauge_last_;
  RowAppender<float> score_;
  std::vector<RowAppender<float>> gauge_tables_;
};

std::size_t endpoint_count(const Scenario& scenario) {
  std::size_t count = 0;
  for (const ServiceSpec& service : scenario.services) count += service.endpoints.size();
  return count;
}

// The group at `path` below `parent`, with the groups above it that are missing, none with
// time stamps: a Python detector's name holds its module's folders
// ("python:detectors/x.py:C"), and /detectors/<name>/ is read as that path. Empty and "."
// parts are skipped, as HDF5 skips them when the path is read.
Group make_group_path(hid_t parent, const std::string& path) {
  std::vector<std::string> parts;
  for (std::size_t begin = 0; begin <= path.size();) {
    const std::size_t end = std::min(path.find('/', begin), path.size());
    const std::string part = path.substr(begin, end - begin);
    if (!part.empty() && part != ".") parts.push_back(part);
    begin = end + 1;
  }
  if (parts.empty()) return make_group(parent, path);  // HDF5 says why not
  Group folder;
  hid_t at = parent;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    folder = hdf5::exists(at, parts[i]) ? hdf5::open_group(at, parts[i]) : make_group(at, parts[i]);
    at = folder.get();
  }
  return make_group(at, parts.back());
}

}  // namespace

// Request level: the kept spans and the sampled request logs, appended as they come, one
// rank-1 dataset per column (docs/trace-format.md, /spans and /logs).
class SpanColumns {
 public:
  SpanColumns(hid_t group, std::uint64_t* chunk_writes)
      : trace_high_(group, "trace_id_high", H5T_STD_U64LE, 1, 1, chunk_writes),
        trace_low_(group, "trace_id_low", H5T_STD_U64LE, 1, 1, chunk_writes),
        span_(group, "span_id", H5T_STD_U64LE, 1, 1, chunk_writes),
        parent_(group, "parent_span_id", H5T_STD_U64LE, 1, 1, chunk_writes),
        start_(group, "start_ns", H5T_STD_I64LE, 1, 1, chunk_writes),
        end_(group, "end_ns", H5T_STD_I64LE, 1, 1, chunk_writes),
        kind_(group, "kind", H5T_STD_I32LE, 1, 1, chunk_writes),
        service_(group, "service", H5T_STD_I32LE, 1, 1, chunk_writes),
        endpoint_(group, "endpoint", H5T_STD_I32LE, 1, 1, chunk_writes),
        edge_(group, "edge", H5T_STD_I32LE, 1, 1, chunk_writes),
        status_(group, "status", H5T_STD_I32LE, 1, 1, chunk_writes),
        attempt_(group, "attempt", H5T_STD_I32LE, 1, 1, chunk_writes),
        fault_(group, "fault", H5T_STD_I32LE, 1, 1, chunk_writes),
        change_(group, "change", H5T_STD_I32LE, 1, 1, chunk_writes) {}

  void add(const SpanRecord& span) {
    *trace_high_.append_row() = span.trace_high;
    *trace_low_.append_row() = span.trace_low;
    *span_.append_row() = span.span;
    *parent_.append_row() = span.parent;
    *start_.append_row() = span.start;
    *end_.append_row() = span.end;
    *kind_.append_row() = span.kind;
    *service_.append_row() = span.service;
    *endpoint_.append_row() = span.endpoint;
    *edge_.append_row() = span.dependency;
    *status_.append_row() = span.status;
    *attempt_.append_row() = span.attempt;
    *fault_.append_row() = span.fault;
    *change_.append_row() = span.change;
  }
  void flush() {
    for (auto* c : {&trace_high_, &trace_low_, &span_, &parent_}) c->flush();
    for (auto* c : {&start_, &end_}) c->flush();
    for (auto* c : {&kind_, &service_, &endpoint_, &edge_, &status_, &attempt_, &fault_, &change_})
      c->flush();
  }

 private:
  RowAppender<std::uint64_t> trace_high_, trace_low_, span_, parent_;
  RowAppender<std::int64_t> start_, end_;
  RowAppender<std::int32_t> kind_, service_, endpoint_, edge_, status_, attempt_, fault_, change_;
};

class LogColumns {
 public:
  LogColumns(hid_t group, std::uint64_t* chunk_writes)
      : time_(group, "t_ns", H5T_STD_I64LE, 1, 1, chunk_writes),
        service_(group, "service", H5T_STD_I32LE, 1, 1, chunk_writes),
        endpoint_(group, "endpoint", H5T_STD_I32LE, 1, 1, chunk_writes),
        status_(group, "status", H5T_STD_I32LE, 1, 1, chunk_writes),
        latency_(group, "latency_s", H5T_IEEE_F32LE, 1, 1, chunk_writes),
        trace_high_(group, "trace_id_high", H5T_STD_U64LE, 1, 1, chunk_writes),
        trace_low_(group, "trace_id_low", H5T_STD_U64LE, 1, 1, chunk_writes) {}

  void add(const LogRecord& line) {
    *time_.append_row() = line.time;
    *service_.append_row() = line.service;
    *endpoint_.append_row() = line.endpoint;
    *status_.append_row() = line.status;
    *latency_.append_row() = line.latency;
    *trace_high_.append_row() = line.trace_high;
    *trace_low_.append_row() = line.trace_low;
  }
  void flush() {
    time_.flush();
    for (auto* c : {&service_, &endpoint_, &status_}) c->flush();
    latency_.flush();
    trace_high_.flush();
    trace_low_.flush();
  }

 private:
  RowAppender<std::int64_t> time_;
  RowAppender<std::int32_t> service_, endpoint_, status_;
  RowAppender<float> latency_;
  RowAppender<std::uint64_t> trace_high_, trace_low_;
};

struct TraceWriter::Impl {
  std::string path;  // as the caller named it, for messages
  OutputFile output;
  hdf5::File file;                   // declared before the objects in it: closed after them
  std::uint64_t chunk_writes = 0;    // whole chunks written so far
  std::uint64_t flushed_writes = 0;  // chunk_writes at the last flush
  std::int64_t ticks_per_row = 1;
  std::int64_t ticks_in_row = 0;
  SimTime last_time = 0;
  std::int64_t rows = 0;
  bool finished = false;
  std::optional<RowAppender<std::int64_t>> time;
  std::optional<MetricFamily> services;
  std::optional<MetricFamily> edges;
  std::optional<MetricFamily> endpoints;
  std::optional<MetricFamily> zones;     // a column per /services/placement row
  std::optional<MetricFamily> routes;    // a column per /traffic/routes row
  std::optional<SpanColumns> spans;      // /spans (request level)
  std::optional<LogColumns> logs;        // /logs (request level)
  std::optional<Group> detectors_group;  // /detectors, made by the first add_detector
  std::vector<DetectorColumns> detector_columns;
  std::vector<std::int32_t> edge_caller;  // per dependency, for /truth/propagation
  std::vector<std::int32_t> edge_callee;

  void write_header(const Scenario& scenario, std::uint64_t seed);
  void end_row();
  void flush();
  void write_truth(const std::vector<IncidentRecord>& incidents);
  void write_changes(const std::vector<ChangeEvent>& changes);
  void write_alerts(const std::vector<Alert>& alerts,
                    const std::vector<std::int64_t>& incident_ids);
  std::vector<std::string> service_names;   // for /alerts/service
  std::vector<std::string> detector_names;  // for /detectors/name
  std::optional<std::pair<std::vector<std::string>, std::vector<std::string>>> span_sources;
  void write_span_sources();
  std::vector<DetectedIncident> detected;                // for /incidents_detected
  std::vector<RcaRanking> rca;                           // for /rca
  std::vector<TraceWriter::RemediationRow> remediation;  // for /remediation
  std::vector<TraceWriter::RemedyRow> remedies;          // for /truth/remedies
  std::vector<TraceWriter::TimelineRow> timelines;       // for /truth/timeline
  AlertRouting routing;                                  // for /notifications
  bool has_script = false;
  std::string script_path, script_text;
  std::vector<ScriptLogLine> script_log;
  std::vector<ExperimentRecord> experiments;
  void write_script();
  void write_detector_names();  // /detectors/name
  void write_notifications();
  void close();
  void commit();
  void remove_temporary() noexcept;
};

void TraceWriter::Impl::write_header(const Scenario& scenario, std::uint64_t seed) {
  const hid_t root = file.get();
  const std::int32_t version = kTraceFormatVersion;
  const std::int64_t tick_ns = scenario.tick;
  const std::int64_t record_ns = scenario.record_interval;
  const std::int32_t incomplete = 0;
  write_string_attribute(root, "format", "dosim-trace");
  write_attribute(root, "format_version", H5T_STD_I32LE, version);
  write_attribute(root, "seed", H5T_STD_U64LE, seed);
  write_attribute(root, "tick_ns", H5T_STD_I64LE, tick_ns);
  write_attribute(root, "record_interval_ns", H5T_STD_I64LE, record_ns);
  write_string_attribute(root, "scenario_name", scenario.name);
  write_attribute(root, "complete", H5T_STD_I32LE, incomplete);
  // Who wrote it and how: a report says so, so that a run can be reproduced.
  write_string_attribute(root, "dosim_version", DOSIM_VERSION);
  write_string_attribute(root, "mode", world_mode_name(scenario.mode));

  const Group meta = make_group(root, "meta");
  write_scalar_string(meta.get(), "scenario_yaml", scenario.yaml_text);

  std::vector<std::string> names, region_labels, zone_labels;
  for (const ServiceSpec& service : scenario.services) {
    names.push_back(service.name);
    region_labels.push_back(service.region);
    zone_labels.push_back(service.zone);
  }
  service_names = names;
  const Group services_group = make_group(root, "services");
  write_strings(services_group.get(), "name", std::span<const std::string>(names));
  write_strings(services_group.get(), "region", std::span<const std::string>(region_labels));
  write_strings(services_group.get(), "zone", std::span<const std::string>(zone_labels));
  // Placement as data: one row per (service, place), with the share of its replicas there.
  std::vector<std::int32_t> place_service;
  std::vector<std::string> place_zone, place_region;
  std::vector<double> place_share;
  for (std::size_t s = 0; s < scenario.services.size(); ++s) {
    const ServiceSpec& service = scenario.services[s];
    const std::vector<double> shares = service.place_shares();
    for (std::size_t z = 0; z < service.zones.size(); ++z) {
      place_service.push_back(static_cast<std::int32_t>(s));
      place_zone.push_back(service.zones[z]);
      place_region.push_back(service.zone_regions[z]);
      place_share.push_back(shares[z]);
    }
  }
  const Group placement = make_group(services_group.get(), "placement");
  write_numbers(placement.get(), "service", H5T_STD_I32LE,
                std::span<const std::int32_t>(place_service));
  write_strings(placement.get(), "zone", std::span<const std::string>(place_zone));
  write_strings(placement.get(), "region", std::span<const std::string>(place_region));
  write_numbers(placement.get(), "replica_share", H5T_IEEE_F64LE,
                std::span<const double>(place_share));

  std::vector<std::int32_t> src, dst;
  std::vector<std::string> edge_names;
  for (std::size_t d = 0; d < scenario.dependencies.size(); ++d) {
    src.push_back(scenario.dependencies[d].caller);
    dst.push_back(scenario.dependencies[d].callee);
    edge_caller.push_back(scenario.dependencies[d].caller);
    edge_callee.push_back(scenario.dependencies[d].callee);
    edge_names.push_back(scenario.edge_name(static_cast<int>(d)));
  }
  const Group edges_group = make_group(root, "edges");
  write_numbers(edges_group.get(), "src", H5T_STD_I32LE, std::span<const std::int32_t>(src));
  write_numbers(edges_group.get(), "dst", H5T_STD_I32LE, std::span<const std::int32_t>(dst));
  write_strings(edges_group.get(), "name", std::span<const std::string>(edge_names));

  std::vector<std::int32_t> endpoint_services;
  std::vector<std::string> endpoint_names;
  for (std::size_t s = 0; s < scenario.services.size(); ++s) {
    for (const EndpointSpec& endpoint : scenario.services[s].endpoints) {
      endpoint_services.push_back(static_cast<std::int32_t>(s));
      endpoint_names.push_back(endpoint.name);
    }
  }
  const Group endpoints_group = make_group(root, "endpoints");
  write_numbers(endpoints_group.get(), "service", H5T_STD_I32LE,
                std::span<const std::int32_t>(endpoint_services));
  write_strings(endpoints_group.get(), "name", std::span<const std::string>(endpoint_names));

  time.emplace(root, "time_ns", H5T_STD_I64LE, 1, 1, &chunk_writes);
  const Group metrics = make_group(root, "metrics");
  const Group service_metrics = make_group(metrics.get(), "service");
  services.emplace(service_metrics.get(), kServiceMetricNames, scenario.services.size(),
                   static_cast<int>(ServiceMetric::kReadyReplicas), &chunk_writes);
  const Group edge_metrics = make_group(metrics.get(), "edge");
  edges.emplace(edge_metrics.get(), kEdgeMetricNames, scenario.dependencies.size(), -1,
                &chunk_writes);
  const Group endpoint_metrics = make_group(metrics.get(), "endpoint");
  endpoints.emplace(endpoint_metrics.get(), kEndpointMetricNames, endpoint_count(scenario), -1,
                    &chunk_writes);
  const Group zone_metrics = make_group(metrics.get(), "zone");
  zones.emplace(zone_metrics.get(), kZoneMetricNames, place_service.size(),
                static_cast<int>(ZoneMetric::kReadyReplicas), &chunk_writes);

  // Regional traffic: one row per (source, region it can be served in).
  std::vector<std::string> route_traffic, route_region;
  std::vector<std::int32_t> route_home;
  for (const TrafficSpec& source : scenario.traffic)
    for (std::size_t r = 0; r < source.regions.size(); ++r) {
      route_traffic.push_back(source.name);
      route_region.push_back(source.regions[r].region);
      route_home.push_back(static_cast<int>(r) == source.home ? 1 : 0);
    }
  const Group traffic_group = make_group(root, "traffic");
  const Group routes_group = make_group(traffic_group.get(), "routes");
  write_strings(routes_group.get(), "traffic", std::span<const std::string>(route_traffic));
  write_strings(routes_group.get(), "region", std::span<const std::string>(route_region));
  write_numbers(routes_group.get(), "home", H5T_STD_I32LE,
                std::span<const std::int32_t>(route_home));
  const Group route_metrics = make_group(metrics.get(), "route");
  routes.emplace(route_metrics.get(), kRouteMetricNames, route_traffic.size(), -1, &chunk_writes);
  const Group spans_group = make_group(root, "spans");
  spans.emplace(spans_group.get(), &chunk_writes);
  // What the spans' fault and change columns index: the scenario's declared faults and
  // changes; finish() writes every one of the run's (set_span_sources) in their place.
  std::vector<std::string> fault_names, change_names;
  for (const FaultSpec& fault : scenario.faults) fault_names.push_back(fault.name);
  for (const ChangeSpec& change : scenario.changes) change_names.push_back(change.name);
  write_strings(spans_group.get(), "fault_names", std::span<const std::string>(fault_names));
  write_strings(spans_group.get(), "change_names", std::span<const std::string>(change_names));
  const Group logs_group = make_group(root, "logs");
  logs.emplace(logs_group.get(), &chunk_writes);
}

void TraceWriter::Impl::end_row() {
  *time->append_row() = last_time;
  services->emit(ticks_in_row);
  edges->emit(ticks_in_row);
  endpoints->emit(ticks_in_row);
  zones->emit(ticks_in_row);
  routes->emit(ticks_in_row);
  for (DetectorColumns& columns : detector_columns) columns.emit();
  ticks_in_row = 0;
  ++rows;
  // Whole chunks reached the file: put the metadata that indexes them there too, so that a
  // killed process leaves them readable. Rows, not wall time, decide: the bytes stay
  // deterministic.
  if (chunk_writes != flushed_writes) {
    flushed_writes = chunk_writes;
    check(H5Fflush(file.get(), H5F_SCOPE_LOCAL), "flush");
  }
}

void TraceWriter::Impl::flush() {
  if (ticks_in_row > 0) end_row();
  time->flush();
  services->flush();
  edges->flush();
  endpoints->flush();
  zones->flush();
  routes->flush();
  spans->flush();
  logs->flush();
  for (DetectorColumns& columns : detector_columns) columns.flush();
}

void TraceWriter::Impl::write_truth(const std::vector<IncidentRecord>& incidents) {
  std::vector<std::int64_t> ids, starts, ends, impact_starts, impact_ends;
  std::vector<std::int32_t> root_services;
  std::vector<std::uint8_t> silent, ongoing;
  std::vector<std::string> names, causes, root_causes;
  for (const IncidentRecord& incident : incidents) {
    ids.push_back(incident.id);
    names.push_back(incident.name);
    causes.push_back(incident.cause);
    root_causes.push_back(incident.root_cause);
    root_services.push_back(incident.root_service);
    starts.push_back(incident.start);
    ends.push_back(incident.end);
    impact_starts.push_back(incident.impact_start);
    impact_ends.push_back(incident.impact_end);
    silent.push_back(incident.silent ? 1 : 0);
    ongoing.push_back(incident.ongoing ? 1 : 0);
  }
  const Group truth = make_group(file.get(), "truth");
  const Group group = make_group(truth.get(), "incidents");
  const hid_t g = group.get();
  auto int64_column = [g](const char* name, const std::vector<std::int64_t>& values) {
    write_numbers(g, name, H5T_STD_I64LE, std::span(values));
  };
  int64_column("id", ids);
  write_strings(g, "name", std::span<const std::string>(names));
  write_strings(g, "cause", std::span<const std::string>(causes));
  write_strings(g, "root_cause", std::span<const std::string>(root_causes));
  write_numbers(g, "root_service", H5T_STD_I32LE, std::span<const std::int32_t>(root_services));
  int64_column("start_ns", starts);
  int64_column("end_ns", ends);
  int64_column("impact_start_ns", impact_starts);
  int64_column("impact_end_ns", impact_ends);
  write_numbers(g, "silent", H5T_STD_U8LE, std::span<const std::uint8_t>(silent));
  write_numbers(g, "ongoing", H5T_STD_U8LE, std::span<const std::uint8_t>(ongoing));

  // Lists per incident, as long tables keyed by incident id.
  std::vector<std::int64_t> affected_ids, propagation_ids;
  std::vector<std::int32_t> affected_services, propagation_edges, propagation_src, propagation_dst;
  for (const IncidentRecord& incident : incidents) {
    for (int service : incident.affected) {
      affected_ids.push_back(incident.id);
      affected_services.push_back(service);
    }
    for (int edge : incident.propagation) {
      propagation_ids.push_back(incident.id);
      propagation_edges.push_back(edge);
      propagation_src.push_back(edge_callee[edge]);
      propagation_dst.push_back(edge_caller[edge]);
    }
  }
  auto int32_column = [](hid_t group_id, const char* name, const std::vector<std::int32_t>& v) {
    write_numbers(group_id, name, H5T_STD_I32LE, std::span<const std::int32_t>(v));
  };
  const Group affected = make_group(truth.get(), "affected");
  write_numbers(affected.get(), "incident_id", H5T_STD_I64LE,
                std::span<const std::int64_t>(affected_ids));
  int32_column(affected.get(), "service", affected_services);
  const Group propagation = make_group(truth.get(), "propagation");
  write_numbers(propagation.get(), "incident_id", H5T_STD_I64LE,
                std::span<const std::int64_t>(propagation_ids));
  int32_column(propagation.get(), "edge", propagation_edges);
  int32_column(propagation.get(), "src", propagation_src);
  int32_column(propagation.get(), "dst", propagation_dst);
}

void TraceWriter::Impl::write_changes(const std::vector<ChangeEvent>& changes) {
  std::vector<std::int64_t> times;
  std::vector<std::string> kinds, targets, from, to, causes;
  for (const ChangeEvent& change : changes) {
    causes.push_back(change.cause);
    times.push_back(change.time);
    kinds.push_back(change.kind);
    targets.push_back(change.target);
    from.push_back(change.from);
    to.push_back(change.to);
  }
  const Group events = make_group(file.get(), "events");
  const Group group = make_group(events.get(), "changes");
  const hid_t g = group.get();
  write_numbers(g, "t_ns", H5T_STD_I64LE, std::span<const std::int64_t>(times));
  write_strings(g, "kind", std::span<const std::string>(kinds));
  write_strings(g, "target", std::span<const std::string>(targets));
  write_strings(g, "from", std::span<const std::string>(from));
  write_strings(g, "to", std::span<const std::string>(to));
  write_strings(g, "cause", std::span<const std::string>(causes));
}

void TraceWriter::Impl::write_alerts(const std::vector<Alert>& alerts,
                                     const std::vector<std::int64_t>& incident_ids) {
  std::vector<std::int64_t> times, ids, resolved, notified;
  std::vector<std::string> detectors, services, metrics, severities, targets;
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    const Alert& alert = alerts[i];
    notified.push_back(i < routing.first_notified.size() ? routing.first_notified[i] : -1);
    times.push_back(alert.time);
    detectors.push_back(alert.detector);
    services.push_back(alert.service >= 0 && alert.service < static_cast<int>(service_names.size())
                           ? service_names[alert.service]
                           : "");
    metrics.push_back(alert.metric);
    severities.push_back(alert.severity);
    ids.push_back(i < incident_ids.size() ? incident_ids[i] : -1);
    resolved.push_back(alert.resolved);
    targets.push_back(alert.target);
  }
  const Group group = make_group(file.get(), "alerts");
  const hid_t g = group.get();
  write_numbers(g, "t_ns", H5T_STD_I64LE, std::span<const std::int64_t>(times));
  write_strings(g, "detector", std::span<const std::string>(detectors));
  write_strings(g, "service", std::span<const std::string>(services));
  write_strings(g, "metric", std::span<const std::string>(metrics));
  write_strings(g, "severity", std::span<const std::string>(severities));
  write_numbers(g, "incident_id", H5T_STD_I64LE, std::span<const std::int64_t>(ids));
  write_numbers(g, "resolved_ns", H5T_STD_I64LE, std::span<const std::int64_t>(resolved));
  write_strings(g, "target", std::span<const std::string>(targets));
  write_numbers(g, "notified_ns", H5T_STD_I64LE, std::span<const std::int64_t>(notified));
}

void TraceWriter::Impl::write_notifications() {
  std::vector<std::int64_t> times, alerts;
  std::vector<std::string> groups, receivers;
  std::vector<std::uint8_t> resolutions;
  for (const Notification& row : routing.notifications) {
    times.push_back(row.time);
    groups.push_back(row.group);
    alerts.push_back(static_cast<std::int64_t>(row.alerts));
    receivers.push_back(row.receiver);
    resolutions.push_back(row.resolution ? 1 : 0);
  }
  const std::int64_t raw_alerts = static_cast<std::int64_t>(routing.raw_alerts);
  const std::int64_t inhibited = static_cast<std::int64_t>(routing.inhibited);
  const std::int64_t deduplicated = static_cast<std::int64_t>(routing.deduplicated);
  const Group group = make_group(file.get(), "notifications");
  const hid_t g = group.get();
  write_numbers(g, "t_ns", H5T_STD_I64LE, std::span<const std::int64_t>(times));
  write_strings(g, "group", std::span<const std::string>(groups));
  write_numbers(g, "alerts", H5T_STD_I64LE, std::span<const std::int64_t>(alerts));
  write_strings(g, "receiver", std::span<const std::string>(receivers));
  write_numbers(g, "resolution", H5T_STD_U8LE, std::span<const std::uint8_t>(resolutions));
  write_attribute(g, "raw_alerts", H5T_STD_I64LE, raw_alerts);
  write_attribute(g, "inhibited", H5T_STD_I64LE, inhibited);
  write_attribute(g, "deduplicated", H5T_STD_I64LE, deduplicated);
}

void TraceWriter::Impl::write_span_sources() {
  if (!span_sources) return;
  const Group spans_group(check(H5Gopen2(file.get(), "spans", H5P_DEFAULT), "spans"));
  for (const char* name : {"fault_names", "change_names"})
    check(H5Ldelete(spans_group.get(), name, H5P_DEFAULT), name);
  write_strings(spans_group.get(), "fault_names",
                std::span<const std::string>(span_sources->first));
  write_strings(spans_group.get(), "change_names",
                std::span<const std::string>(span_sources->second));
}

void TraceWriter::Impl::write_script() {
  if (!has_script) return;
  {
    const Group meta(check(H5Gopen2(file.get(), "meta", H5P_DEFAULT), "meta"));
    write_scalar_string(meta.get(), "script_lua", script_text);
    const Dataset script(check(H5Dopen2(meta.get(), "script_lua", H5P_DEFAULT), "script_lua"));
    write_string_attribute(script.get(), "path", script_path);
  }
  std::vector<std::int64_t> times;
  std::vector<std::string> lines;
  for (const ScriptLogLine& row : script_log) {
    times.push_back(row.time);
    lines.push_back(row.text);
  }
  const Group log = make_group(file.get(), "script_log");
  write_numbers(log.get(), "t_ns", H5T_STD_I64LE, std::span<const std::int64_t>(times));
  write_strings(log.get(), "text", std::span<const std::string>(lines));
  std::vector<std::string> titles, verdicts, probes, messages;
  std::vector<std::int64_t> starts, ends, failed;
  for (const ExperimentRecord& row : experiments) {
    titles.push_back(row.title);
    verdicts.push_back(row.verdict);
    probes.push_back(row.probe);
    messages.push_back(row.message);
    starts.push_back(row.start);
    ends.push_back(row.end);
    failed.push_back(row.failed_at);
  }
  const Group group = make_group(file.get(), "experiments");
  const hid_t g = group.get();
  write_strings(g, "title", std::span<const std::string>(titles));
  write_strings(g, "verdict", std::span<const std::string>(verdicts));
  write_strings(g, "probe", std::span<const std::string>(probes));
  write_strings(g, "message", std::span<const std::string>(messages));
  write_numbers(g, "start_ns", H5T_STD_I64LE, std::span<const std::int64_t>(starts));
  write_numbers(g, "end_ns", H5T_STD_I64LE, std::span<const std::int64_t>(ends));
  write_numbers(g, "failed_at_ns", H5T_STD_I64LE, std::span<const std::int64_t>(failed));
}

void TraceWriter::Impl::close() {
  detector_columns.clear();
  detectors_group.reset();
  zones.reset();
  routes.reset();
  spans.reset();
  logs.reset();
  endpoints.reset();
  edges.reset();
  services.reset();
  time.reset();
  if (!file.close()) throw hdf5::Failure("close", "close: " + hdf5::error_reason());
}

void TraceWriter::Impl::commit() {
  // On disk before it is renamed: a machine that loses power keeps the old trace or the
  // new one, never an empty file under the target's name.
  if (const int fd = ::open(output.temporary.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code error;
  std::filesystem::rename(output.temporary, output.target, error);
  if (error) {
    remove_temporary();
    throw InputError(
        path, "cannot write trace: cannot rename " + output.temporary + ": " + error.message());
  }
}

void TraceWriter::Impl::remove_temporary() noexcept {
  // HDF5 1.10 cannot close a file whose writes fail (disk full, file size limit): the close
  // flushes and truncates again, fails, and leaves a file that crashes HDF5's exit handler.
  // The file is abandoned, so its descriptor is pointed at memory, where the close succeeds
  // (a file size limit still applies there: `dosim run` then leaves without HDF5's handler).
  void* handle = nullptr;
  if (file.valid() && H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) >= 0 &&
      handle != nullptr) {
    int scratch = ::memfd_create("dosim-abandoned-trace", MFD_CLOEXEC);
    if (scratch < 0) scratch = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (scratch >= 0) {
      ::dup2(scratch, *static_cast<int*>(handle));
      ::close(scratch);
    }
  }
  try {
    close();
  } catch (...) {
    // Nothing more to do: the file is removed either way.
  }
  ::unlink(output.temporary.c_str());
}

TraceWriter::TraceWriter(const std::string& path, const Scenario& scenario, std::uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
  hdf5::quiet_errors();
  impl_->path = path;
  assert(scenario.tick > 0 && scenario.record_interval % scenario.tick == 0);
  impl_->ticks_per_row = std::max<std::int64_t>(1, scenario.record_interval / scenario.tick);
  impl_->output = create_output(path);
  try {
    PropertyList fcpl(check(H5Pcreate(H5P_FILE_CREATE), "fcpl"));
    check(H5Pset_obj_track_times(fcpl.get(), 0), "root group times");  // the root group
    PropertyList fapl(check(H5Pcreate(H5P_FILE_ACCESS), "fapl"));
    // Pin the object formats to HDF5 1.10's: a newer library writes the same bytes.
    check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110), "libver");
#if H5_VERSION_GE(1, 10, 7)
    // Lock the file where the file system can, but do not fail where it cannot (NFS).
    check(H5Pset_file_locking(fapl.get(), true, true), "file locking");
#endif
    const hid_t file =
        H5Fcreate(impl_->output.temporary.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
    if (file < 0) {
      const std::string reason = hdf5::error_reason();  // before any other HDF5 call
      impl_->remove_temporary();
      throw InputError(path, "cannot create trace: " + reason);
    }
    impl_->file = hdf5::File(file);
    impl_->write_header(scenario, seed);
    // The header on disk: a process killed from here on leaves a file HDF5 can open.
    check(H5Fflush(file, H5F_SCOPE_LOCAL), "flush");
  } catch (const hdf5::Failure& failure) {
    impl_->remove_temporary();
    throw InputError(path, std::string("cannot write trace: ") + failure.what());
  }
}

TraceWriter::~TraceWriter() {
  Impl& impl = *impl_;
  if (impl.finished) return;
  impl.finished = true;
  try {
    impl.flush();
    // A failing script's own log up to its error (set_script before the writer goes): what
    // the user reads to see where it went wrong.
    if (impl.has_script) impl.write_script();
    impl.write_span_sources();
    impl.write_detector_names();
    impl.close();
    impl.commit();
  } catch (...) {
    // Nothing can be reported from a destructor; the target keeps what it had.
    impl.remove_temporary();
  }
}

void TraceWriter::discard() {
  Impl& impl = *impl_;
  if (impl.finished) return;
  impl.finished = true;
  impl.remove_temporary();
}

void TraceWriter::on_frame(const Frame& frame) {
  Impl& impl = *impl_;
  assert(!impl.finished);
  try {
    impl.services->add(frame.service_values);
    impl.edges->add(frame.edge_values);
    impl.endpoints->add(frame.endpoint_values);
    impl.zones->add(frame.zone_values);
    impl.routes->add(frame.route_values);
    for (const SpanRecord& span : frame.spans) impl.spans->add(span);
    for (const LogRecord& line : frame.logs) impl.logs->add(line);
    impl.last_time = frame.time;
    if (++impl.ticks_in_row == impl.ticks_per_row) impl.end_row();
  } catch (const hdf5::Failure& failure) {
    discard();
    throw InputError(impl.path, std::string("cannot write trace: ") + failure.what());
  }
}

void TraceWriter::Impl::write_detector_names() {
  if (!detectors_group) detectors_group.emplace(make_group(file.get(), "detectors"));
  write_strings(detectors_group->get(), "name", std::span<const std::string>(detector_names));
}

void TraceWriter::finish(const std::vector<IncidentRecord>& incidents, bool complete,
                         const std::vector<ChangeEvent>& changes, const std::vector<Alert>& alerts,
                         const std::vector<std::int64_t>& alert_incident_ids) {
  Impl& impl = *impl_;
  if (impl.finished) return;
  impl.finished = true;
  try {
    impl.flush();
    impl.write_truth(incidents);
    impl.write_changes(changes);
    impl.write_alerts(alerts, alert_incident_ids);
    impl.write_notifications();
    impl.write_script();
    impl.write_span_sources();
    impl.write_detector_names();
    {
      std::vector<std::string> rules;
      std::vector<std::int64_t> starts, ends;
      std::vector<std::int32_t> severities;
      std::vector<double> peaks;
      for (const auto& row : impl.detected) {
        rules.push_back(row.rule);
        starts.push_back(row.start);
        ends.push_back(row.end);
        severities.push_back(row.severity);
        peaks.push_back(row.peak_temperature);
      }
      const Group group = make_group(impl.file.get(), "incidents_detected");
      const hid_t g = group.get();
      write_strings(g, "rule", std::span<const std::string>(rules));
      write_numbers(g, "start_ns", H5T_STD_I64LE, std::span<const std::int64_t>(starts));
      write_numbers(g, "end_ns", H5T_STD_I64LE, std::span<const std::int64_t>(ends));
      write_numbers(g, "severity", H5T_STD_I32LE, std::span<const std::int32_t>(severities));
      write_numbers(g, "peak_temperature", H5T_IEEE_F64LE, std::span<const double>(peaks));
      // The timeline of each: one row per change, its streams' accumulators as a long table.
      std::vector<std::int64_t> change_incident, change_time, value_change;
      std::vector<std::string> change_what, value_stream;
      std::vector<std::int32_t> change_severity, change_previous;
      std::vector<double> change_temperature, value_accumulator;
      for (std::size_t i = 0; i < impl.detected.size(); ++i) {
        const DetectedIncident& incident = impl.detected[i];
        for (const IncidentChange& change : incident.timeline) {
          for (std::size_t k = 0; k < change.accumulators.size(); ++k) {
            value_change.push_back(static_cast<std::int64_t>(change_time.size()));
            value_stream.push_back(k < incident.streams.size() ? incident.streams[k] : "");
            value_accumulator.push_back(change.accumulators[k]);
          }
          change_incident.push_back(static_cast<std::int64_t>(i));
          change_time.push_back(change.time);
          change_what.push_back(change.what);
          change_severity.push_back(change.severity);
          change_previous.push_back(change.previous);
          change_temperature.push_back(change.temperature);
        }
      }
      const Group timeline = make_group(g, "timeline");
      const hid_t tl = timeline.get();
      write_numbers(tl, "incident", H5T_STD_I64LE, std::span<const std::int64_t>(change_incident));
      write_numbers(tl, "t_ns", H5T_STD_I64LE, std::span<const std::int64_t>(change_time));
      write_strings(tl, "event", std::span<const std::string>(change_what));
      write_numbers(tl, "severity", H5T_STD_I32LE, std::span<const std::int32_t>(change_severity));
      write_numbers(tl, "previous", H5T_STD_I32LE, std::span<const std::int32_t>(change_previous));
      write_numbers(tl, "temperature", H5T_IEEE_F64LE, std::span<const double>(change_temperature));
      const Group accumulators = make_group(g, "accumulators");
      const hid_t ac = accumulators.get();
      write_numbers(ac, "change", H5T_STD_I64LE, std::span<const std::int64_t>(value_change));
      write_strings(ac, "stream", std::span<const std::string>(value_stream));
      write_numbers(ac, "value", H5T_IEEE_F64LE, std::span<const double>(value_accumulator));
    }
    {
      // Root-cause rankings as a long table: one row per (ranking, candidate).
      std::vector<std::int64_t> incident, delay, at;
      std::vector<std::int32_t> rank;
      std::vector<std::string> ranker, candidate;
      std::vector<double> score;
      for (const RcaRanking& ranking : impl.rca)
        for (std::size_t r = 0; r < ranking.candidates.size(); ++r) {
          incident.push_back(ranking.incident);
          ranker.push_back(ranking.ranker);
          delay.push_back(ranking.delay);
          at.push_back(ranking.at);
          rank.push_back(static_cast<std::int32_t>(r + 1));
          candidate.push_back(ranking.candidates[r].id);
          score.push_back(ranking.candidates[r].score);
        }
      const Group group = make_group(impl.file.get(), "rca");
      const hid_t g = group.get();
      write_numbers(g, "incident_id", H5T_STD_I64LE, std::span<const std::int64_t>(incident));
      write_strings(g, "ranker", std::span<const std::string>(ranker));
      write_numbers(g, "delay_ns", H5T_STD_I64LE, std::span<const std::int64_t>(delay));
      write_numbers(g, "t_ns", H5T_STD_I64LE, std::span<const std::int64_t>(at));
      write_numbers(g, "rank", H5T_STD_I32LE, std::span<const std::int32_t>(rank));
      write_strings(g, "candidate", std::span<const std::string>(candidate));
      write_numbers(g, "score", H5T_IEEE_F64LE, std::span<const double>(score));
    }
    {
      std::vector<std::int64_t> incident, times;
      std::vector<std::string> events, details;
      for (const TimelineRow& row : impl.timelines) {
        incident.push_back(row.incident);
        times.push_back(row.time);
        events.push_back(row.event);
        details.push_back(row.detail);
      }
      const Group truth(check(H5Gopen2(impl.file.get(), "truth", H5P_DEFAULT), "truth"));
      const Group group = make_group(truth.get(), "timeline");
      const hid_t g = group.get();
      write_numbers(g, "incident_id", H5T_STD_I64LE, std::span<const std::int64_t>(incident));
      write_numbers(g, "t_ns", H5T_STD_I64LE, std::span<const std::int64_t>(times));
      write_strings(g, "event", std::span<const std::string>(events));
      write_strings(g, "detail", std::span<const std::string>(details));
    }
    if (!impl.remediation.empty()) {  // only a scenario with playbooks has them
      std::vector<std::int64_t> times, alerted;
      std::vector<std::string> playbooks, actions, outcomes, targets, faults;
      std::vector<std::int32_t> services;
      std::vector<std::uint8_t> acted;
      for (const RemediationRow& row : impl.remediation) {
        acted.push_back(row.acted ? 1 : 0);
        targets.push_back(row.target);
        faults.push_back(row.fault);
        times.push_back(row.time);
        alerted.push_back(row.alerted);
        playbooks.push_back(row.playbook);
        actions.push_back(row.action);
        outcomes.push_back(row.outcome);
        services.push_back(row.service);
      }
      const Group group = make_group(impl.file.get(), "remediation");
      const hid_t g = group.get();
      write_numbers(g, "t_ns", H5T_STD_I64LE, std::span<const std::int64_t>(times));
      write_strings(g, "playbook", std::span<const std::string>(playbooks));
      write_numbers(g, "service", H5T_STD_I32LE, std::span<const std::int32_t>(services));
      write_numbers(g, "alert_ns", H5T_STD_I64LE, std::span<const std::int64_t>(alerted));
      write_strings(g, "action", std::span<const std::string>(actions));
      write_strings(g, "outcome", std::span<const std::string>(outcomes));
      write_numbers(g, "acted", H5T_STD_U8LE, std::span<const std::uint8_t>(acted));
      write_strings(g, "target", std::span<const std::string>(targets));
      write_strings(g, "fault", std::span<const std::string>(faults));
    }
    {
      std::vector<std::int64_t> incident;
      std::vector<std::string> actions, targets;
      for (const RemedyRow& row : impl.remedies) {
        incident.push_back(row.incident);
        actions.push_back(row.action);
        targets.push_back(row.target);
      }
      const Group truth(check(H5Gopen2(impl.file.get(), "truth", H5P_DEFAULT), "truth"));
      const Group group = make_group(truth.get(), "remedies");
      const hid_t g = group.get();
      write_numbers(g, "incident_id", H5T_STD_I64LE, std::span<const std::int64_t>(incident));
      write_strings(g, "action", std::span<const std::string>(actions));
      write_strings(g, "target", std::span<const std::string>(targets));
    }
    if (complete) {
      const std::int32_t one = 1;
      const Attribute attribute(
          check(H5Aopen(impl.file.get(), "complete", H5P_DEFAULT), "complete"));
      check(H5Awrite(attribute.get(), H5T_NATIVE_INT32, &one), "complete");
    }
    impl.close();
  } catch (const hdf5::Failure& failure) {
    impl.remove_temporary();
    throw InputError(impl.path, std::string("cannot write trace: ") + failure.what());
  }
  impl.commit();
}

std::int64_t TraceWriter::rows_written() const { return impl_->rows; }

void TraceWriter::set_detected_incidents(std::vector<DetectedIncident> rows) {
  impl_->detected = std::move(rows);
}

void TraceWriter::set_incident_timelines(std::vector<TimelineRow> rows) {
  impl_->timelines = std::move(rows);
}

void TraceWriter::set_remedies(std::vector<RemedyRow> rows) { impl_->remedies = std::move(rows); }

void TraceWriter::set_remediation(std::vector<RemediationRow> rows) {
  impl_->remediation = std::move(rows);
}

void TraceWriter::set_rca_rankings(std::vector<RcaRanking> rankings) {
  impl_->rca = std::move(rankings);
}

std::size_t TraceWriter::add_detector(const std::string& name, double limit,
                                      const std::vector<int>& service,
                                      const std::vector<std::string>& metric,
                                      const std::vector<std::string>& label,
                                      const std::vector<std::string>& gauges) {
  Impl& impl = *impl_;
  assert(impl.rows == 0 && impl.ticks_in_row == 0);
  try {
    if (!impl.detectors_group)
      impl.detectors_group.emplace(make_group(impl.file.get(), "detectors"));
    const Group group = make_group_path(impl.detectors_group->get(), name);
    write_attribute(group.get(), "limit", H5T_IEEE_F64LE, limit);
    const std::vector<std::int32_t> services(service.begin(), service.end());
    write_numbers(group.get(), "service", H5T_STD_I32LE, std::span<const std::int32_t>(services));
    write_strings(group.get(), "metric", std::span<const std::string>(metric));
    write_strings(group.get(), "label", std::span<const std::string>(label));
    impl.detector_columns.emplace_back(group.get(), service.size(), gauges, &impl.chunk_writes);
  } catch (const hdf5::Failure& failure) {
    discard();
    throw InputError(impl.path, std::string("cannot write trace: ") + failure.what());
  }
  return impl.detector_columns.size() - 1;
}

void TraceWriter::record_detector(std::size_t index, std::span<const float> scores,
                                  std::span<const float> gauges) {
  impl_->detector_columns[index].add(scores, gauges);
}

void TraceWriter::set_span_sources(std::vector<std::string> faults,
                                   std::vector<std::string> changes) {
  impl_->span_sources.emplace(std::move(faults), std::move(changes));
}

void TraceWriter::set_notifications(AlertRouting routing) { impl_->routing = std::move(routing); }

void TraceWriter::set_script(std::string path, std::string text, std::vector<ScriptLogLine> log,
                             std::vector<ExperimentRecord> experiments) {
  impl_->has_script = true;
  impl_->script_path = std::move(path);
  impl_->script_text = std::move(text);
  impl_->script_log = std::move(log);
  impl_->experiments = std::move(experiments);
}

void TraceWriter::set_detectors(std::vector<std::string> names) {
  impl_->detector_names = std::move(names);
}

}  // namespace dosim
