// One tick of every series: the unit of data that flows from the world to its consumers.
//
// A Frame is structure-of-arrays and metric-major: all services' values of one metric are
// contiguous (`service(ServiceMetric::kRps)[s]`), which is the layout batched detectors and
// the trace writer want. The world owns and reuses one Frame; consumers receive it by const
// reference for the duration of on_frame() and must copy what they keep. Values are in base
// units (seconds, ratios in [0, 1], requests per second).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dosim/engine/sim_time.h"

namespace dosim {

// Service metrics describe the requests a service received: rps counts arrivals; the latency
// metrics describe the requests it answered (requests rejected by a full queue or aborted by
// an injected fault fail fast and are counted in error_ratio only); utilization is the share
// of its capacity in use (the M/M/c rho, capped at 1).
enum class ServiceMetric : int {
  kRps,
  kErrorRatio,
  kLatencyP50,
  kLatencyP95,
  kLatencyP99,
  kLatencyMean,
  kCpuRatio,
  kMemoryRatio,
  kReadyReplicas,
  kUtilization,
  kCount
};
inline constexpr std::array<std::string_view, static_cast<int>(ServiceMetric::kCount)>
    kServiceMetricNames = {"rps",           "error_ratio",   "latency_p50_s",
                           "latency_p95_s", "latency_p99_s", "latency_mean_s",
                           "cpu_ratio",     "memory_ratio",  "ready_replicas",
                           "utilization"};

// Edge metrics are measured at the caller: attempts (retries included), the share of
// attempts that failed (errors and timeouts), and the latency the caller waited per attempt.
enum class EdgeMetric : int { kRps, kErrorRatio, kLatencyP50, kLatencyP95, kLatencyP99, kCount };
inline constexpr std::array<std::string_view, static_cast<int>(EdgeMetric::kCount)>
    kEdgeMetricNames = {"rps", "error_ratio", "latency_p50_s", "latency_p95_s", "latency_p99_s"};

enum class EndpointMetric : int {
  kRps,
  kErrorRatio,
  kLatencyP50,
  kLatencyP95,
  kLatencyP99,
  kCount
};
inline constexpr std::array<std::string_view, static_cast<int>(EndpointMetric::kCount)>
    kEndpointMetricNames = {"rps", "error_ratio", "latency_p50_s", "latency_p95_s",
                            "latency_p99_s"};

// Zone metrics: each service's share in each zone it runs in (a column per row of the
// trace's /services/placement: every place of every placed service, in scenario order).
// ready_replicas are those of the zone; rps the requests its replicas receive (with failover,
// spread over the ready replicas; without, the zone's round-robin share, which fails while the
// zone is dark); error_ratio, latency_p95_s and cpu_ratio those of its replicas (0 latency and
// CPU where none is ready). docs/world-model.md, "Per-zone telemetry".
enum class ZoneMetric : int { kRps, kErrorRatio, kLatencyP95, kCpuRatio, kReadyReplicas, kCount };
inline constexpr std::array<std::string_view, static_cast<int>(ZoneMetric::kCount)>
    kZoneMetricNames = {"rps", "error_ratio", "latency_p95_s", "cpu_ratio", "ready_replicas"};

// Route metrics: each regional traffic source's traffic in each region it can be served in (a
// column per row of the trace's /traffic/routes: every region of every regional source, in
// scenario order): weight is the share of the source sent there (moving with drains, shifts
// and failovers), rps the requests per second it makes (docs/world-model.md, "Regional
// traffic").
enum class RouteMetric : int { kWeight, kRps, kCount };
inline constexpr std::array<std::string_view, static_cast<int>(RouteMetric::kCount)>
    kRouteMetricNames = {"weight", "rps"};

// Request level (docs/world-model.md, Distributed traces and request logs): one span of a
// distributed trace. A server span is a request at a service (from its arrival to its
// answer); a client span is one attempt of a call (from its sending to its outcome, cut at
// the timeout). Ids are deterministic; parent 0 marks a trace's root.
struct SpanRecord {
  std::uint64_t trace_high = 0, trace_low = 0;  // the 128-bit trace id
  std::uint64_t span = 0, parent = 0;
  std::int32_t kind = 1;         // 1 server, 2 client
  std::int32_t service = -1;     // server: the service; client: the caller
  std::int32_t endpoint = -1;    // server: the endpoint (row of /endpoints), -1 if implicit
  std::int32_t dependency = -1;  // client: the dependency (row of /edges)
  SimTime start = 0, end = 0;
  std::int32_t status = 200;     // HTTP-like: 200, 500 (a call failed), 503, 504 (timeout)
  std::int32_t attempt = 0;      // client: attempt number from 1; server: the attempt it serves
  std::int32_t fault = -1;       // a fault (row of the scenario's faults) that delayed or
  std::int32_t change = -1;      // aborted it, or a change whose defect did; -1 for none
};

// One request log line: a request answered by a service.
struct LogRecord {
  SimTime time = 0;  // when it was answered
  std::int32_t service = -1, endpoint = -1;
  std::int32_t status = 200;
  float latency = 0;  // seconds (0 for an immediate failure)
  std::uint64_t trace_high = 0, trace_low = 0;
};

struct Frame {
  SimTime time = 0;       // end of the tick this frame describes
  std::int64_t tick = 0;  // 0-based tick index
  std::size_t services = 0;
  std::size_t edges = 0;               // one per dependency, in scenario order
  std::size_t endpoints = 0;           // declared endpoints of all services, in scenario order
  std::vector<float> service_values;   // [ServiceMetric::kCount][services]
  std::vector<float> edge_values;      // [EdgeMetric::kCount][edges]
  std::vector<float> endpoint_values;  // [EndpointMetric::kCount][endpoints]
  std::size_t places = 0;              // zone columns (placement rows)
  std::vector<float> zone_values;      // [ZoneMetric::kCount][places]

  // Request level: the spans of the traces kept and the request logs sampled in this tick
  // (empty in fluid mode).
  std::vector<SpanRecord> spans;
  std::vector<LogRecord> logs;

  std::size_t routes = 0;              // route columns (/traffic/routes rows)
  std::vector<float> route_values;     // [RouteMetric::kCount][routes]

  void resize_routes(std::size_t route_count) {
    routes = route_count;
    route_values.assign(static_cast<std::size_t>(RouteMetric::kCount) * routes, 0.0f);
  }
  std::span<float> route(RouteMetric m) {
    return {route_values.data() + static_cast<std::size_t>(m) * routes, routes};
  }
  std::span<const float> route(RouteMetric m) const {
    return {route_values.data() + static_cast<std::size_t>(m) * routes, routes};
  }

  void resize_places(std::size_t place_count) {
    places = place_count;
    zone_values.assign(static_cast<std::size_t>(ZoneMetric::kCount) * places, 0.0f);
  }
  std::span<float> zone(ZoneMetric m) {
    return {zone_values.data() + static_cast<std::size_t>(m) * places, places};
  }
  std::span<const float> zone(ZoneMetric m) const {
    return {zone_values.data() + static_cast<std::size_t>(m) * places, places};
  }

  void resize(std::size_t service_count, std::size_t edge_count, std::size_t endpoint_count) {
    services = service_count;
    edges = edge_count;
    endpoints = endpoint_count;
    service_values.assign(static_cast<std::size_t>(ServiceMetric::kCount) * services, 0.0f);
    edge_values.assign(static_cast<std::size_t>(EdgeMetric::kCount) * edges, 0.0f);
    endpoint_values.assign(static_cast<std::size_t>(EndpointMetric::kCount) * endpoints, 0.0f);
  }
  std::span<float> service(ServiceMetric m) {
    return {service_values.data() + static_cast<std::size_t>(m) * services, services};
  }
  std::span<const float> service(ServiceMetric m) const {
    return {service_values.data() + static_cast<std::size_t>(m) * services, services};
  }
  std::span<float> edge(EdgeMetric m) {
    return {edge_values.data() + static_cast<std::size_t>(m) * edges, edges};
  }
  std::span<const float> edge(EdgeMetric m) const {
    return {edge_values.data() + static_cast<std::size_t>(m) * edges, edges};
  }
  std::span<float> endpoint(EndpointMetric m) {
    return {endpoint_values.data() + static_cast<std::size_t>(m) * endpoints, endpoints};
  }
  std::span<const float> endpoint(EndpointMetric m) const {
    return {endpoint_values.data() + static_cast<std::size_t>(m) * endpoints, endpoints};
  }
};

// A consumer of frames (trace writer, detectors, exporters).
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void on_frame(const Frame& frame) = 0;
};

}  // namespace dosim
