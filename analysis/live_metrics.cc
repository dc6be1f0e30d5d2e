#include "dosim/analysis/live_metrics.h"

#include <charconv>
#include <cmath>
#include <string_view>

#include "dosim/analysis/metrics_export.h"
#include "exposition.h"

namespace dosim {
namespace {

constexpr std::size_t kBuckets = std::size(kLatencyBuckets);

using exposition::label_text;
using exposition::Labels;
using exposition::number;
using exposition::sample;

std::vector<Labels> columns(const Scenario& s, const std::string& family) {
  std::vector<Labels> out;
  if (family == "service") {
    for (const ServiceSpec& service : s.services)
      out.push_back({{"service", service.name}, {"zone", service.zone}});
  } else if (family == "edge") {
    for (const DependencySpec& d : s.dependencies)
      out.push_back({{"caller", s.services[d.caller].name}, {"callee", s.services[d.callee].name}});
  } else {
    for (const ServiceSpec& service : s.services)
      for (const EndpointSpec& endpoint : service.endpoints)
        out.push_back({{"service", service.name}, {"endpoint", endpoint.name}});
  }
  return out;
}

template <typename Metric, std::size_t N>
void write_gauges(std::string& out, const std::string& family,
                  const std::array<std::string_view, N>& names, const std::vector<Labels>& cols,
                  const std::vector<float>& values) {
  for (std::size_t m = 0; m < N; ++m) {
    const std::string name = exported_metric_name(family, std::string(names[m]));
    out += "# HELP " + name + " dosim " + family + " metric " + std::string(names[m]) +
           ", latest tick\n";
    out += "# TYPE " + name + " gauge\n";
    for (std::size_t c = 0; c < cols.size(); ++c)
      out += name + label_text(cols[c]) + " " + sample(values[m * cols.size() + c]) + "\n";
  }
}

}  // namespace

LiveMetrics::LiveMetrics(const Scenario& scenario) : scenario_(scenario) {}

void LiveMetrics::on_frame(const Frame& frame) {
  latest_ = frame;
  latest_.spans.clear();
  latest_.logs.clear();
  ++ticks_;
  const double dt = static_cast<double>(scenario_.tick) / 1e9;
  // rps, p50, p95, p99 at the same index in the three families' metric lists.
  const auto add = [&](Histogram& h, std::size_t columns, const std::vector<float>& values,
                       std::size_t rps, std::size_t p50, std::size_t p95, std::size_t p99,
                       int mean) {
    h.below.resize(columns * kBuckets, 0.0);
    h.count.resize(columns, 0.0);
    h.sum.resize(columns, 0.0);
    for (std::size_t c = 0; c < columns; ++c) {
      const auto at = [&](std::size_t m) { return static_cast<double>(values[m * columns + c]); };
      const double n = std::max(0.0, at(rps)) * dt;
      if (!(n > 0) || !std::isfinite(n)) continue;
      for (std::size_t b = 0; b < kBuckets; ++b)
        h.below[c * kBuckets + b] +=
            n * latency_share_below(at(p50), at(p95), at(p99), kLatencyBuckets[b]);
      h.count[c] += n;
      h.sum[c] += n * (mean >= 0 ? at(static_cast<std::size_t>(mean))
                                 : latency_mean_estimate(at(p50), at(p95)));
    }
  };
  add(service_, frame.services, frame.service_values, static_cast<std::size_t>(ServiceMetric::kRps),
      static_cast<std::size_t>(ServiceMetric::kLatencyP50),
      static_cast<std::size_t>(ServiceMetric::kLatencyP95),
      static_cast<std::size_t>(ServiceMetric::kLatencyP99),
      static_cast<int>(ServiceMetric::kLatencyMean));
  add(edge_, frame.edges, frame.edge_values, static_cast<std::size_t>(EdgeMetric::kRps),
      static_cast<std::size_t>(EdgeMetric::kLatencyP50),
      static_cast<std::size_t>(EdgeMetric::kLatencyP95),
      static_cast<std::size_t>(EdgeMetric::kLatencyP99), -1);
  add(endpoint_, frame.endpoints, frame.endpoint_values,
      static_cast<std::size_t>(EndpointMetric::kRps),
      static_cast<std::size_t>(EndpointMetric::kLatencyP50),
      static_cast<std::size_t>(EndpointMetric::kLatencyP95),
      static_cast<std::size_t>(EndpointMetric::kLatencyP99), -1);
}

std::string LiveMetrics::text() const {
  std::string out;
  out += "# HELP dosim_simulated_seconds where the run is: the end of the latest tick\n";
  out += "# TYPE dosim_simulated_seconds gauge\n";
  out += "dosim_simulated_seconds " + number(static_cast<double>(latest_.time) / 1e9) + "\n";
  if (ticks_ == 0) return out;
  const std::vector<Labels> services = columns(scenario_, "service"),
                            edges = columns(scenario_, "edge"),
                            endpoints = columns(scenario_, "endpoint");
  write_gauges<ServiceMetric>(out, "service", kServiceMetricNames, services,
                              latest_.service_values);
  write_gauges<EdgeMetric>(out, "edge", kEdgeMetricNames, edges, latest_.edge_values);
  if (!endpoints.empty())
    write_gauges<EndpointMetric>(out, "endpoint", kEndpointMetricNames, endpoints,
                                 latest_.endpoint_values);
  const auto histogram = [&](const std::string& family, const std::vector<Labels>& cols,
                             const Histogram& h) {
    if (cols.empty() || h.count.size() != cols.size()) return;
    const std::string name = "dosim_" + family + "_latency_seconds";
    out += "# HELP " + name + " dosim " + family +
           " latency, rebuilt from each tick's p50, p95 and p99\n";
    out += "# TYPE " + name + " histogram\n";
    for (std::size_t c = 0; c < cols.size(); ++c) {
      for (std::size_t b = 0; b <= kBuckets; ++b) {
        Labels labels = cols[c];
        labels.emplace_back("le", b < kBuckets ? number(kLatencyBuckets[b]) : "+Inf");
        const double value =
            b < kBuckets ? std::min(h.below[c * kBuckets + b], h.count[c]) : h.count[c];
        out += name + "_bucket" + label_text(labels) + " " + number(std::round(value)) + "\n";
      }
      out += name + "_sum" + label_text(cols[c]) + " " + number(h.sum[c]) + "\n";
      out += name + "_count" + label_text(cols[c]) + " " + number(std::round(h.count[c])) + "\n";
    }
  };
  histogram("service", services, service_);
  histogram("edge", edges, edge_);
  histogram("endpoint", endpoints, endpoint_);
  return out;
}

}  // namespace dosim
