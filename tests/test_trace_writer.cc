// TraceWriter: layout, record-interval aggregation, the `complete` flag, failures before any
// work, byte-identical output and chunked appending. Read back with the HDF5 C API, not with
// the writer's own code.
#include <hdf5.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "util/hdf5.h"
#include "dosim/analysis/trace_writer.h"
#include "dosim/error.h"

namespace {

using dosim::EdgeMetric;
using dosim::EndpointMetric;
using dosim::Frame;
using dosim::kSecond;
using dosim::Scenario;
using dosim::ServiceMetric;
using dosim::TraceWriter;

std::filesystem::path temp_path(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(DOSIM_TEST_TMP) / "trace_writer";
  std::filesystem::create_directories(dir);
  return dir / name;
}

dosim::ServiceSpec service_named(std::string name) {
  dosim::ServiceSpec service;
  service.name = std::move(name);
  return service;
}

dosim::DependencySpec dependency(int caller, int callee) {
  dosim::DependencySpec spec;
  spec.caller = caller;
  spec.callee = callee;
  return spec;
}

// a -> b -> c, one endpoint /pay on b, tick 1 s, record every 3 ticks.
Scenario tiny_scenario() {
  Scenario scenario;
  scenario.name = "tiny";
  scenario.yaml_text = "name: tiny\n";
  scenario.duration = 9 * kSecond;
  scenario.tick = kSecond;
  scenario.record_interval = 3 * kSecond;
  scenario.seed = 7;
  for (const char* name : {"a", "b", "c"}) {
    dosim::ServiceSpec service = service_named(name);
    service.region = "eu";
    service.zone = "eu-1";
    scenario.services.push_back(service);
  }
  scenario.services[1].endpoints.emplace_back().name = "/pay";
  scenario.dependencies.push_back(dependency(0, 1));
  scenario.dependencies.push_back(dependency(1, 2));
  return scenario;
}

Frame empty_frame(const Scenario& scenario, std::int64_t tick) {
  Frame frame;
  std::size_t endpoints = 0;
  for (const auto& service : scenario.services) endpoints += service.endpoints.size();
  frame.resize(scenario.services.size(), scenario.dependencies.size(), endpoints);
  frame.tick = tick;
  frame.time = (tick + 1) * scenario.tick;
  return frame;
}

// --- reading back ---------------------------------------------------------------------------

struct Array {
  std::vector<hsize_t> dims;
  std::vector<double> values;  // row-major
  double at(std::size_t row, std::size_t column) const { return values[row * dims[1] + column]; }
};

hid_t open_file(const std::filesystem::path& path) {
  return H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
}

std::vector<hsize_t> shape_of(hid_t file, const char* name) {
  const dosim::hdf5::Dataset dataset(H5Dopen2(file, name, H5P_DEFAULT));
  REQUIRE(dataset.valid());
  const dosim::hdf5::Dataspace space(H5Dget_space(dataset.get()));
  std::vector<hsize_t> dims(H5Sget_simple_extent_ndims(space.get()));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

// Reads any numeric dataset, converted to double.
Array read_numbers(hid_t file, const char* name) {
  Array array{.dims = shape_of(file, name), .values = {}};
  hsize_t count = 1;
  for (hsize_t dim : array.dims) count *= dim;
  array.values.resize(count);
  const dosim::hdf5::Dataset dataset(H5Dopen2(file, name, H5P_DEFAULT));
  if (count > 0)
    REQUIRE(H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                    array.values.data()) >= 0);
  return array;
}

// The dataset's stored type class and size, e.g. {H5T_FLOAT, 4}.
std::pair<H5T_class_t, std::size_t> type_of(hid_t file, const char* name) {
  const dosim::hdf5::Dataset dataset(H5Dopen2(file, name, H5P_DEFAULT));
  REQUIRE(dataset.valid());
  const dosim::hdf5::Datatype type(H5Dget_type(dataset.get()));
  return {H5Tget_class(type.get()), H5Tget_size(type.get())};
}

std::vector<std::string> read_strings(hid_t file, const char* name) {
  const dosim::hdf5::Dataset dataset(H5Dopen2(file, name, H5P_DEFAULT));
  REQUIRE(dataset.valid());
  const dosim::hdf5::Datatype type(H5Dget_type(dataset.get()));
  REQUIRE(H5Tget_class(type.get()) == H5T_STRING);
  REQUIRE(H5Tis_variable_str(type.get()) == 0);
  const std::size_t width = H5Tget_size(type.get());
  const dosim::hdf5::Dataspace space(H5Dget_space(dataset.get()));
  const auto count = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get()));
  std::vector<char> cells(count * width + 1);
  if (count > 0)
    REQUIRE(H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()) >= 0);
  std::vector<std::string> values;
  for (std::size_t i = 0; i < count; ++i) {
    std::string cell(cells.data() + i * width, width);
    cell.resize(cell.find_last_not_of('\0') + 1);
    values.push_back(cell);
  }
  return values;
}

std::int64_t read_int_attribute(hid_t file, const char* name) {
  const dosim::hdf5::Attribute attribute(H5Aopen(file, name, H5P_DEFAULT));
  REQUIRE(attribute.valid());
  std::int64_t value = 0;
  REQUIRE(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) >= 0);
  return value;
}

std::string read_string_attribute(hid_t file, const char* name) {
  const dosim::hdf5::Attribute attribute(H5Aopen(file, name, H5P_DEFAULT));
  REQUIRE(attribute.valid());
  const dosim::hdf5::Datatype type(H5Aget_type(attribute.get()));
  std::string value(H5Tget_size(type.get()), '\0');
  REQUIRE(H5Aread(attribute.get(), type.get(), value.data()) >= 0);
  value.resize(value.find_last_not_of('\0') + 1);
  return value;
}

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes `ticks` frames of the tiny scenario, service values from `value(tick, metric, s)`.
template <typename ValueFn>
void write_tiny(const std::filesystem::path& path, int ticks, ValueFn value, bool finish = true) {
  const Scenario scenario = tiny_scenario();
  TraceWriter writer(path.string(), scenario, scenario.seed);
  for (int tick = 0; tick < ticks; ++tick) {
    Frame frame = empty_frame(scenario, tick);
    for (int metric = 0; metric < static_cast<int>(ServiceMetric::kCount); ++metric)
      for (std::size_t s = 0; s < frame.services; ++s)
        frame.service(static_cast<ServiceMetric>(metric))[s] =
            value(tick, static_cast<ServiceMetric>(metric), s);
    frame.edge(EdgeMetric::kRps)[0] = 5.0f;
    frame.endpoint(EndpointMetric::kLatencyP95)[0] = 0.25f * static_cast<float>(tick);
    writer.on_frame(frame);
  }
  if (finish) {
    dosim::IncidentRecord incident;
    incident.name = "slow-b";
    incident.cause = "latency";
    incident.root_cause = "b";
    incident.root_service = 1;
    incident.start = 2 * kSecond;
    incident.end = 5 * kSecond;
    incident.impact_start = 3 * kSecond;
    incident.impact_end = 5 * kSecond;
    incident.silent = false;
    writer.finish({incident}, true);
  }
}

float simple_value(int tick, ServiceMetric metric, std::size_t service) {
  return static_cast<float>(tick + 1) * 0.01f * static_cast<float>(static_cast<int>(metric) + 1) +
         static_cast<float>(service);
}

}  // namespace

TEST_CASE("trace has the documented root attributes, topology and metric shapes", "[trace]") {
  const auto path = temp_path("layout.h5");
  write_tiny(path, 9, simple_value);
  const dosim::hdf5::File file(open_file(path));
  REQUIRE(file.valid());
  const hid_t f = file.get();

  CHECK(read_string_attribute(f, "format") == "dosim-trace");
  CHECK(read_int_attribute(f, "format_version") == 1);
  CHECK(read_int_attribute(f, "seed") == 7);
  CHECK(read_int_attribute(f, "tick_ns") == kSecond);
  CHECK(read_int_attribute(f, "record_interval_ns") == 3 * kSecond);
  CHECK(read_string_attribute(f, "scenario_name") == "tiny");
  CHECK(read_int_attribute(f, "complete") == 1);

  const dosim::hdf5::Dataset yaml(H5Dopen2(f, "/meta/scenario_yaml", H5P_DEFAULT));
  REQUIRE(yaml.valid());
  const dosim::hdf5::Datatype yaml_type(H5Dget_type(yaml.get()));
  std::string text(H5Tget_size(yaml_type.get()), '\0');
  REQUIRE(H5Dread(yaml.get(), yaml_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data()) >= 0);
  CHECK(text == "name: tiny\n");

  CHECK(read_strings(f, "/services/name") == std::vector<std::string>{"a", "b", "c"});
  CHECK(read_strings(f, "/services/region") == std::vector<std::string>{"eu", "eu", "eu"});
  CHECK(read_strings(f, "/services/zone") == std::vector<std::string>{"eu-1", "eu-1", "eu-1"});
  CHECK(read_numbers(f, "/edges/src").values == std::vector<double>{0, 1});
  CHECK(read_numbers(f, "/edges/dst").values == std::vector<double>{1, 2});
  CHECK(type_of(f, "/edges/src") == std::pair{H5T_INTEGER, std::size_t{4}});
  CHECK(read_strings(f, "/edges/name") == std::vector<std::string>{"a->b", "b->c"});
  CHECK(read_numbers(f, "/endpoints/service").values == std::vector<double>{1});
  CHECK(read_strings(f, "/endpoints/name") == std::vector<std::string>{"/pay"});

  CHECK(type_of(f, "/time_ns") == std::pair{H5T_INTEGER, std::size_t{8}});
  CHECK(read_numbers(f, "/time_ns").values ==
        std::vector<double>{3.0 * kSecond, 6.0 * kSecond, 9.0 * kSecond});
  for (std::string_view name : dosim::kServiceMetricNames) {
    const std::string dataset = "/metrics/service/" + std::string(name);
    CHECK(shape_of(f, dataset.c_str()) == std::vector<hsize_t>{3, 3});
    CHECK(type_of(f, dataset.c_str()) == std::pair{H5T_FLOAT, std::size_t{4}});
  }
  for (std::string_view name : dosim::kEdgeMetricNames)
    CHECK(shape_of(f, ("/metrics/edge/" + std::string(name)).c_str()) ==
          std::vector<hsize_t>{3, 2});
  for (std::string_view name : dosim::kEndpointMetricNames)
    CHECK(shape_of(f, ("/metrics/endpoint/" + std::string(name)).c_str()) ==
          std::vector<hsize_t>{3, 1});

  CHECK(read_numbers(f, "/truth/incidents/id").values == std::vector<double>{0});
  CHECK(read_strings(f, "/truth/incidents/name") == std::vector<std::string>{"slow-b"});
  CHECK(read_strings(f, "/truth/incidents/cause") == std::vector<std::string>{"latency"});
  CHECK(read_strings(f, "/truth/incidents/root_cause") == std::vector<std::string>{"b"});
  CHECK(read_numbers(f, "/truth/incidents/root_service").values == std::vector<double>{1});
  CHECK(read_numbers(f, "/truth/incidents/start_ns").values == std::vector<double>{2e9});
  CHECK(read_numbers(f, "/truth/incidents/end_ns").values == std::vector<double>{5e9});
  CHECK(read_numbers(f, "/truth/incidents/impact_start_ns").values == std::vector<double>{3e9});
  CHECK(read_numbers(f, "/truth/incidents/impact_end_ns").values == std::vector<double>{5e9});
  CHECK(read_numbers(f, "/truth/incidents/silent").values == std::vector<double>{0});
  CHECK(type_of(f, "/truth/incidents/silent") == std::pair{H5T_INTEGER, std::size_t{1}});

  CHECK(type_of(f, "/alerts/t_ns") == std::pair{H5T_INTEGER, std::size_t{8}});
  CHECK(type_of(f, "/alerts/incident_id") == std::pair{H5T_INTEGER, std::size_t{8}});
  CHECK(shape_of(f, "/alerts/t_ns") == std::vector<hsize_t>{0});
  for (const char* column :
       {"/alerts/detector", "/alerts/service", "/alerts/metric", "/alerts/severity"})
    CHECK(read_strings(f, column).empty());
}

TEST_CASE("a row is the mean of its ticks, except error ratio and ready replicas", "[trace]") {
  // Service 0 over the first interval (ticks 0-2): rps 10, 20, 30; error ratio 0.1, 0.2, 0;
  // ready replicas 3, 2, 4; p95 0.1, 0.2, 0.6. Service 1 has no traffic but an error ratio.
  // Tick 3 alone makes a partial last row.
  const float rps[] = {10, 20, 30, 40};
  const float errors[] = {0.1f, 0.2f, 0.0f, 0.5f};
  const float ready[] = {3, 2, 4, 1};
  const float p95[] = {0.1f, 0.2f, 0.6f, 0.3f};
  auto value = [&](int tick, ServiceMetric metric, std::size_t service) -> float {
    if (service == 1) return metric == ServiceMetric::kErrorRatio ? 0.5f : 0.0f;
    switch (metric) {
      case ServiceMetric::kRps:
        return rps[tick];
      case ServiceMetric::kErrorRatio:
        return errors[tick];
      case ServiceMetric::kReadyReplicas:
        return ready[tick];
      case ServiceMetric::kLatencyP95:
        return p95[tick];
      default:
        return static_cast<float>(tick);
    }
  };
  const auto path = temp_path("aggregate.h5");
  write_tiny(path, 4, value);
  const dosim::hdf5::File file(open_file(path));
  const hid_t f = file.get();

  CHECK(read_numbers(f, "/time_ns").values == std::vector<double>{3e9, 4e9});
  const Array row_rps = read_numbers(f, "/metrics/service/rps");
  CHECK(row_rps.at(0, 0) == Approx(20.0));
  CHECK(row_rps.at(1, 0) == Approx(40.0));
  const Array row_errors = read_numbers(f, "/metrics/service/error_ratio");
  CHECK(row_errors.at(0, 0) == Approx((10 * 0.1 + 20 * 0.2) / 60.0));
  CHECK(row_errors.at(1, 0) == Approx(0.5));
  // No requests: the ticks' mean (a replayed error ratio on a service without traffic).
  CHECK(row_errors.at(0, 1) == 0.5);
  const Array row_ready = read_numbers(f, "/metrics/service/ready_replicas");
  CHECK(row_ready.at(0, 0) == 2.0);
  CHECK(row_ready.at(1, 0) == 1.0);
  CHECK(read_numbers(f, "/metrics/service/latency_p95_s").at(0, 0) == Approx(0.3));
  CHECK(read_numbers(f, "/metrics/service/cpu_ratio").at(0, 0) == Approx(1.0));
  const Array endpoint_p95 = read_numbers(f, "/metrics/endpoint/latency_p95_s");
  CHECK(endpoint_p95.at(0, 0) == Approx(0.25));
  CHECK(endpoint_p95.at(1, 0) == Approx(0.75));
  CHECK(read_numbers(f, "/metrics/edge/rps").at(1, 1) == 0.0);
  CHECK(read_numbers(f, "/metrics/edge/rps").at(1, 0) == Approx(5.0));
}

TEST_CASE("complete is 1 after finish(true), 0 after finish(false) or no finish", "[trace]") {
  const auto finished = temp_path("finished.h5");
  const auto unfinished = temp_path("unfinished.h5");
  write_tiny(finished, 6, simple_value, true);
  write_tiny(unfinished, 7, simple_value, false);
  {
    const dosim::hdf5::File file(open_file(finished));
    CHECK(read_int_attribute(file.get(), "complete") == 1);
  }
  {
    const dosim::hdf5::File file(open_file(unfinished));
    REQUIRE(file.valid());
    CHECK(read_int_attribute(file.get(), "complete") == 0);
    CHECK(shape_of(file.get(), "/metrics/service/rps") == std::vector<hsize_t>{3, 3});
    CHECK(H5Lexists(file.get(), "truth", H5P_DEFAULT) == 0);
  }
  const auto interrupted = temp_path("interrupted.h5");
  const Scenario scenario = tiny_scenario();
  {
    TraceWriter writer(interrupted.string(), scenario, 1);
    writer.on_frame(empty_frame(scenario, 0));
    CHECK(writer.rows_written() == 0);
    writer.finish({}, false);
    CHECK(writer.rows_written() == 1);
  }
  const dosim::hdf5::File file(open_file(interrupted));
  CHECK(read_int_attribute(file.get(), "complete") == 0);
  CHECK(shape_of(file.get(), "/truth/incidents/id") == std::vector<hsize_t>{0});
}

TEST_CASE("an uncreatable trace path throws InputError naming the file", "[trace]") {
  const Scenario scenario = tiny_scenario();
  const auto missing_dir = temp_path("no-such-dir") / "x.h5";
  try {
    TraceWriter writer(missing_dir.string(), scenario, 1);
    FAIL("expected InputError");
  } catch (const dosim::InputError& error) {
    REQUIRE(error.diagnostics().size() == 1);
    CHECK(error.diagnostics()[0].file == missing_dir.string());
    CHECK_THAT(error.diagnostics()[0].message, Catch::StartsWith("cannot create trace: ") &&
                                                   Catch::Contains("No such file or directory"));
  }
  CHECK_FALSE(std::filesystem::exists(missing_dir));
  CHECK_THROWS_AS(TraceWriter(temp_path("").string(), scenario, 1), dosim::InputError);
}

TEST_CASE("the same frames give a byte-identical file without time stamps", "[trace]") {
  const auto first = temp_path("same-1.h5");
  const auto second = temp_path("same-2.h5");
  write_tiny(first, 100, simple_value);
  write_tiny(second, 100, simple_value);
  const std::string bytes = file_bytes(first);
  CHECK(!bytes.empty());
  CHECK(bytes == file_bytes(second));

  // Time stamps would make files written a second apart differ: there must be none.
  const dosim::hdf5::File file(open_file(first));
  int objects = 0;
  auto no_times = [](hid_t, const char*, const H5O_info_t* info, void* count) -> herr_t {
    ++*static_cast<int*>(count);
    return info->atime == 0 && info->mtime == 0 && info->ctime == 0 && info->btime == 0 ? 0 : 1;
  };
  CHECK(H5Ovisit2(file.get(), H5_INDEX_NAME, H5_ITER_INC, no_times, &objects, H5O_INFO_TIME) == 0);
  CHECK(objects > 40);
}

TEST_CASE("a long run is appended chunk by chunk and reads back exactly", "[trace]") {
  // 64 services: a chunk holds fewer rows than the run, so the writer goes through many.
  Scenario scenario;
  scenario.name = "wide";
  scenario.tick = kSecond;
  scenario.record_interval = kSecond;
  for (int s = 0; s < 64; ++s) scenario.services.push_back(service_named(std::to_string(s)));
  const int ticks = 10'000;
  auto expected = [](int tick, int metric, std::size_t service) {
    return static_cast<float>(tick * 1000 + metric * 100 + static_cast<int>(service) + 1);
  };
  const auto path = temp_path("long.h5");
  {
    TraceWriter writer(path.string(), scenario, 1);
    Frame frame = empty_frame(scenario, 0);
    for (int tick = 0; tick < ticks; ++tick) {
      frame.tick = tick;
      frame.time = (tick + 1) * kSecond;
      for (int metric = 0; metric < static_cast<int>(ServiceMetric::kCount); ++metric)
        for (std::size_t s = 0; s < frame.services; ++s)
          frame.service(static_cast<ServiceMetric>(metric))[s] = expected(tick, metric, s);
      writer.on_frame(frame);
    }
    writer.finish({}, true);
    CHECK(writer.rows_written() == ticks);
  }
  const dosim::hdf5::File file(open_file(path));
  const hid_t f = file.get();
  const dosim::hdf5::Dataset rps(H5Dopen2(f, "/metrics/service/rps", H5P_DEFAULT));
  const dosim::hdf5::PropertyList dcpl(H5Dget_create_plist(rps.get()));
  hsize_t chunk[2] = {0, 0};
  REQUIRE(H5Pget_chunk(dcpl.get(), 2, chunk) == 2);
  CHECK(chunk[1] == 64);
  CHECK(chunk[0] * 5 < static_cast<hsize_t>(ticks));
  CHECK(chunk[0] * 64 * sizeof(float) >= 64 * 1024);
  CHECK(chunk[0] * 64 * sizeof(float) <= 1024 * 1024);

  const Array time = read_numbers(f, "/time_ns");
  REQUIRE(time.values.size() == static_cast<std::size_t>(ticks));
  for (int tick = 0; tick < ticks; ++tick) REQUIRE(time.values[tick] == (tick + 1) * 1e9);
  for (int metric = 0; metric < static_cast<int>(ServiceMetric::kCount); ++metric) {
    const std::string name = "/metrics/service/" + std::string(dosim::kServiceMetricNames[metric]);
    const Array values = read_numbers(f, name.c_str());
    REQUIRE(values.dims == std::vector<hsize_t>{static_cast<hsize_t>(ticks), 64});
    int mismatches = 0;
    for (int tick = 0; tick < ticks; ++tick)
      for (std::size_t s = 0; s < 64; ++s)
        if (static_cast<float>(values.at(tick, s)) != expected(tick, metric, s)) ++mismatches;
    CHECK(mismatches == 0);
  }
}

TEST_CASE("a scenario without edges or endpoints has zero-column metric datasets", "[trace]") {
  Scenario scenario;
  scenario.name = "lonely";
  scenario.tick = kSecond;
  scenario.record_interval = 2 * kSecond;
  scenario.services.push_back(service_named("only"));
  const auto path = temp_path("lonely.h5");
  {
    TraceWriter writer(path.string(), scenario, 1);
    for (int tick = 0; tick < 5; ++tick) writer.on_frame(empty_frame(scenario, tick));
    writer.finish({}, true);
  }
  const dosim::hdf5::File file(open_file(path));
  const hid_t f = file.get();
  CHECK(shape_of(f, "/metrics/service/rps") == std::vector<hsize_t>{3, 1});
  CHECK(shape_of(f, "/metrics/edge/rps") == std::vector<hsize_t>{3, 0});
  CHECK(shape_of(f, "/metrics/endpoint/latency_p99_s") == std::vector<hsize_t>{3, 0});
  CHECK(shape_of(f, "/edges/src") == std::vector<hsize_t>{0});
  CHECK(read_strings(f, "/endpoints/name").empty());
  CHECK(read_strings(f, "/services/region") == std::vector<std::string>{""});
}
