// dosim export spans|logs TRACE.h5 [-o FILE]: the request level's distributed traces as
// OpenTelemetry's OTLP/JSON encoding (one ExportTraceServiceRequest), or its request logs as
// JSON lines (docs/trace-format.md, "Spans and request logs").
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "dosim/analysis/trace_reader.h"
#include "dosim/version.h"

namespace dosim::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, value);
  return text;
}

std::string trace_id(std::uint64_t high, std::uint64_t low) { return hex(high) + hex(low); }

// names[index], or a readable stand-in for an index the trace's tables do not hold.
std::string name_at(const std::vector<std::string>& names, std::int32_t index,
                    const std::string& what) {
  if (index >= 0 && static_cast<std::size_t>(index) < names.size()) return names[index];
  return what + " " + std::to_string(index);
}

Json attribute(const std::string& key, Json value) {
  return Json{{"key", key}, {"value", std::move(value)}};
}

Json otlp_spans(const TraceSpans& trace) {
  std::map<std::int32_t, Json> by_service;  // in service order
  for (const SpanRecord& span : trace.spans) {
    const bool server = span.kind == 1;
    Json json;
    json["traceId"] = trace_id(span.trace_high, span.trace_low);
    json["spanId"] = hex(span.span);
    if (span.parent != 0) json["parentSpanId"] = hex(span.parent);
    json["name"] = server ? (span.endpoint >= 0 ? name_at(trace.endpoints, span.endpoint, "endpoint")
                                                : name_at(trace.services, span.service, "service"))
                          : name_at(trace.edges, span.dependency, "edge");
    json["kind"] = server ? 2 : 3;  // SPAN_KIND_SERVER, SPAN_KIND_CLIENT
    json["startTimeUnixNano"] = std::to_string(span.start);
    json["endTimeUnixNano"] = std::to_string(span.end);
    Json attributes = Json::array();
    attributes.push_back(
        attribute("http.response.status_code", {{"intValue", std::to_string(span.status)}}));
    if (!server) {
      const std::string edge = name_at(trace.edges, span.dependency, "edge");
      const std::size_t arrow = edge.find("->");
      if (arrow != std::string::npos)
        attributes.push_back(attribute("peer.service", {{"stringValue", edge.substr(arrow + 2)}}));
    }
    if (span.attempt > 0)
      attributes.push_back(
          attribute("dosim.attempt", {{"intValue", std::to_string(span.attempt)}}));
    if (span.fault >= 0)
      attributes.push_back(
          attribute("dosim.fault", {{"stringValue", name_at(trace.faults, span.fault, "fault")}}));
    if (span.change >= 0)
      attributes.push_back(attribute(
          "dosim.change", {{"stringValue", name_at(trace.changes, span.change, "change")}}));
    json["attributes"] = std::move(attributes);
    json["status"] = span.status >= 500
                         ? Json{{"code", 2}, {"message", "HTTP " + std::to_string(span.status)}}
                         : Json::object();  // STATUS_CODE_UNSET: no error
    Json& spans = by_service[span.service];
    if (spans.is_null()) spans = Json::array();
    spans.push_back(std::move(json));
  }
  Json resource_spans = Json::array();
  for (auto& [service, spans] : by_service) {
    Json resource;
    resource["resource"]["attributes"] = Json::array(
        {attribute("service.name", {{"stringValue", name_at(trace.services, service, "service")}})});
    Json scope;
    scope["scope"] = Json{{"name", "dosim"}, {"version", DOSIM_VERSION}};
    scope["spans"] = std::move(spans);
    resource["scopeSpans"] = Json::array();
    resource["scopeSpans"].push_back(std::move(scope));
    resource_spans.push_back(std::move(resource));
  }
  return Json{{"resourceSpans", std::move(resource_spans)}};
}

void write_logs(const TraceSpans& trace, std::ostream& out) {
  for (const LogRecord& line : trace.logs) {
    Json json;
    json["time_ns"] = line.time;
    json["service"] = name_at(trace.services, line.service, "service");
    if (line.endpoint >= 0) json["endpoint"] = name_at(trace.endpoints, line.endpoint, "endpoint");
    json["status"] = line.status;
    json["latency_s"] = line.latency;
    json["trace_id"] = trace_id(line.trace_high, line.trace_low);
    out << json.dump() << '\n';
  }
}

}  // namespace

int export_command(const ExportOptions& options) {
  const TraceSpans trace = read_trace_spans(options.trace_path);
  std::ofstream file;
  if (!options.out_path.empty()) {
    file.open(options.out_path, std::ios::binary | std::ios::trunc);
    if (!file) throw InputError(options.out_path, "cannot write the export");
  }
  std::ostream& out = options.out_path.empty() ? std::cout : file;
  if (options.what == "spans")
    out << otlp_spans(trace).dump() << '\n';
  else
    write_logs(trace, out);
  out.flush();
  if (!out) throw InputError(options.out_path.empty() ? "stdout" : options.out_path,
                             "cannot write the export");
  return kExitOk;
}

}  // namespace dosim::cli
