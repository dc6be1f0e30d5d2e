// dosim export TRACE.h5 --format openmetrics|csv|spans|logs [--start TIME] [-o FILE]:
// every recorded series as OpenMetrics text (for Prometheus's backfill) or long-form CSV
// (docs/prometheus.md, analysis/metrics_export.h); the request level's distributed traces as
// OpenTelemetry's OTLP/JSON encoding (one ExportTraceServiceRequest), or its request logs as
// JSON lines (docs/trace-format.md, "Spans and request logs"). `dosim export spans|logs
// TRACE.h5` is the older spelling of the last two.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "dosim/analysis/metrics_export.h"
#include "dosim/analysis/trace_reader.h"
#include "dosim/analysis/trace_series.h"
#include "dosim/version.h"
#include "util/output_file.h"

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
    json["name"] = server
                       ? (span.endpoint >= 0 ? name_at(trace.endpoints, span.endpoint, "endpoint")
                                             : name_at(trace.services, span.service, "service"))
                       : name_at(trace.edges, span.dependency, "edge");
    json["kind"] = server ? 2 : 3;  // SPAN_KIND_SERVER, SPAN_KIND_CLIENT
    json["startTimeUnixNano"] = std::to_string(span.start);
    json["endTimeUnixNano"] = std::to_string(span.end);
    Json attributes = Json::array();
    if (span.status == 0)  // open when the run ended: no answer to say
      attributes.push_back(attribute("dosim.unfinished", {{"boolValue", true}}));
    else
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
    // OpenTelemetry's HTTP conventions: a 5xx is an error; a 4xx is the client's error, so on
    // a client span only (the server answered as it should).
    const bool error = span.status >= 500 || (!server && span.status >= 400);
    json["status"] = error ? Json{{"code", 2}, {"message", "HTTP " + std::to_string(span.status)}}
                           : Json::object();  // STATUS_CODE_UNSET: no error
    Json& spans = by_service[span.service];
    if (spans.is_null()) spans = Json::array();
    spans.push_back(std::move(json));
  }
  Json resource_spans = Json::array();
  for (auto& [service, spans] : by_service) {
    Json resource;
    resource["resource"]["attributes"] = Json::array({attribute(
        "service.name", {{"stringValue", name_at(trace.services, service, "service")}})});
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
    out << json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
}

// --start: Unix seconds, or an RFC 3339 time (2026-12-01T00:00:00Z, or with +hh:mm), from
// the year 1970 to 9999, each field in its range (a 30 February is refused, not moved on).
double parse_start(const std::string& text) {
  const auto bad = [&]() -> double {
    throw InputError("command line",
                     "--start must be Unix seconds or an RFC 3339 time such as "
                     "2026-12-01T00:00:00Z, got '" +
                         text + "'");
  };
  constexpr double kLatest = 253402300799;  // 9999-12-31T23:59:59Z
  // Unix seconds: decimal digits, a fraction after a point (strtod's hexadecimal, exponents
  // and leading spaces are no Unix time a user writes: 0x10 was 16 s).
  const std::size_t digits = text.find_first_not_of("0123456789");
  const bool decimal = !text.empty() && digits != 0 &&
                       (digits == std::string::npos ||
                        (text[digits] == '.' &&
                         text.find_first_not_of("0123456789", digits + 1) == std::string::npos));
  if (decimal) {
    const double seconds = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(seconds) || seconds > kLatest) return bad();
    return seconds;
  }
  // YYYY-MM-DDTHH:MM:SS, digits where digits are, 'T' or 't' between date and time.
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < kShape.size()) return bad();
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const char c = text[i];
    const bool ok = kShape[i] == 'd'   ? std::isdigit(static_cast<unsigned char>(c)) != 0
                    : kShape[i] == 'T' ? (c == 'T' || c == 't')
                                       : c == kShape[i];
    if (!ok) return bad();
  }
  const auto field = [&](std::size_t at, std::size_t width) {
    return std::stoi(text.substr(at, width));
  };
  std::tm tm{};
  tm.tm_year = field(0, 4) - 1900;
  tm.tm_mon = field(5, 2) - 1;
  tm.tm_mday = field(8, 2);
  tm.tm_hour = field(11, 2);
  tm.tm_min = field(14, 2);
  tm.tm_sec = field(17, 2);
  std::string_view rest(text.c_str() + kShape.size());
  double fraction = 0;
  if (!rest.empty() && rest.front() == '.') {
    std::size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    if (digits == 1) return bad();
    fraction = std::strtod(std::string(rest.substr(0, digits)).c_str(), nullptr);
    rest.remove_prefix(digits);
  }
  long offset = 0;
  const auto two_digits = [](std::string_view s) {
    return s.size() == 2 && std::isdigit(static_cast<unsigned char>(s[0])) &&
           std::isdigit(static_cast<unsigned char>(s[1]));
  };
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
             two_digits(rest.substr(1, 2)) && two_digits(rest.substr(4, 2))) {
    const int hours = std::stoi(std::string(rest.substr(1, 2)));
    const int minutes = std::stoi(std::string(rest.substr(4, 2)));
    if (hours > 23 || minutes > 59) return bad();
    offset = (rest[0] == '+' ? 1 : -1) * (hours * 3600L + minutes * 60L);
  } else {
    return bad();
  }
  if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 59)
    return bad();
  const std::tm given = tm;
  const std::time_t utc = timegm(&tm);
  // timegm moves a day past its month's end into the next month: refuse what it moved.
  if (utc == static_cast<std::time_t>(-1) || tm.tm_mday != given.tm_mday ||
      tm.tm_mon != given.tm_mon)
    return bad();
  const double at = static_cast<double>(utc - offset) + fraction;
  if (at < 0 || at > kLatest) return bad();
  return at;
}

void write_series(const ExportOptions& options, std::ostream& out) {
  const TraceSeries trace = read_trace_series(options.trace_path);
  if (!trace.complete)  // its incidents' `silent` and what never began read otherwise
    std::fprintf(
        stderr,
        "%s: warning: the trace is incomplete (an interrupted or failed run): the export holds "
        "the part it ran, and an incident it marks silent may never have begun\n",
        options.trace_path.c_str());
  double start = -1;
  if (options.start) {
    start = parse_start(*options.start);
    // The last sample too: a start late in 9999 put it in the year 10000.
    const double span = trace.times.empty() ? 0.0 : static_cast<double>(trace.times.back()) / 1e9;
    if (start + span > 253402300799.999)
      throw InputError("command line", "--start " + *options.start + " puts the run's end (" +
                                           format_duration(trace.times.back()) +
                                           " later) past the year 9999");
  } else if (options.format == "openmetrics" || options.format == "grafana-dashboard") {
    // Now minus the run's span, whole seconds: the newest sample is now, inside any
    // Prometheus retention. Wall clock here only, never in the model.
    const double span = trace.times.empty() ? 0.0 : static_cast<double>(trace.times.back()) / 1e9;
    start = std::floor(static_cast<double>(std::time(nullptr)) - span);
  }
  // Prometheus keeps milliseconds: two samples of a series inside one would be one sample
  // twice, which promtool refuses to backfill.
  // A dashboard reads that export from Prometheus: refused alike.
  if ((options.format == "openmetrics" || options.format == "grafana-dashboard") &&
      trace.record_interval < kMillisecond)
    throw InputError(options.trace_path,
                     "the trace records every " + format_duration(trace.record_interval) +
                         ": OpenMetrics timestamps are milliseconds (Prometheus keeps no finer), "
                         "so rows would share them" +
                         (options.format == "grafana-dashboard"
                              ? std::string(" and a dashboard, which reads them from Prometheus, "
                                            "would show one of each")
                              : std::string()) +
                         "; record at 1ms or more, or export csv");
  if (options.format == "openmetrics")
    write_openmetrics(trace, start, out);
  else if (options.format == "grafana-dashboard")
    write_grafana_dashboard(trace, start, out);
  else
    write_metrics_csv(trace, start, out);
}

// The temporary export a signal would leave behind: removed by the handler, which then dies
// of the signal as it would have (exit 130 for SIGINT, 143 for SIGTERM).
char g_temporary[4096] = "";

extern "C" void remove_temporary_and_die(int signal_number) {
  if (g_temporary[0] != '\0') ::unlink(g_temporary);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

}  // namespace

int export_command(const ExportOptions& options) {
  // A file goes through a temporary one beside it, renamed into place once whole: a trace
  // that cannot be read, or a full disk, leaves an earlier export as it was. A device or a
  // pipe (/dev/stdout, a FIFO) is written directly.
  // `-o -` is standard output, as dosim report's.
  const bool to_file = !options.out_path.empty() && options.out_path != "-";
  const bool replaced = to_file && !is_special_file(options.out_path);
  // A symbolic link is kept: the file it names is replaced.
  const std::string target = replaced ? output_target(options.out_path) : options.out_path;
  std::string temporary;
  std::ofstream file;
  if (to_file) {
    if (same_file(options.out_path, options.trace_path))
      throw InputError(options.out_path, "cannot write the export: it is the trace it exports");
    if (const std::string reason = unwritable_reason(options.out_path); !reason.empty())
      throw InputError(options.out_path, "cannot write the export: " + reason);
    temporary = replaced ? target + ".tmp-" + std::to_string(::getpid()) : "";
    if (replaced && temporary.size() < sizeof g_temporary) {
      std::memcpy(g_temporary, temporary.c_str(), temporary.size() + 1);
      std::signal(SIGINT, remove_temporary_and_die);
      std::signal(SIGTERM, remove_temporary_and_die);
    }
    file.open(replaced ? temporary : options.out_path, std::ios::binary | std::ios::trunc);
    if (!file)
      throw InputError(options.out_path,
                       std::string("cannot write the export: ") + std::strerror(errno));
  }
  std::ostream& out = to_file ? static_cast<std::ostream&>(file) : std::cout;
  try {
    if (options.format == "openmetrics" || options.format == "csv" ||
        options.format == "grafana-dashboard") {
      write_series(options, out);
    } else {
      const TraceSpans trace = read_trace_spans(options.trace_path);
      if (!trace.complete)
        std::fprintf(stderr,
                     "%s: warning: the trace is incomplete (an interrupted or failed run): the "
                     "export holds the part it ran\n",
                     options.trace_path.c_str());
      // Spans and request logs are the request level's: a fluid run's export is empty.
      if (trace.mode == "fluid")
        std::fprintf(stderr,
                     "%s: warning: a fluid-mode trace holds no %s (run the scenario with "
                     "--mode requests): the export is empty\n",
                     options.trace_path.c_str(),
                     options.format == "spans" ? "spans" : "request logs");
      // A request-level run that kept none says why the export is empty (it said nothing).
      else if (options.format == "spans" && trace.spans.empty())
        std::fprintf(stderr,
                     "%s: warning: the trace holds no spans (its scenario's `tracing:` keeps "
                     "none: set sample_percent, keep_errors or keep_slower_than): the export "
                     "is empty\n",
                     options.trace_path.c_str());
      else if (options.format == "logs" && trace.logs.empty())
        std::fprintf(stderr,
                     "%s: warning: the trace holds no request logs (its scenario's `tracing:` "
                     "logs none: set logs_percent): the export is empty\n",
                     options.trace_path.c_str());
      if (options.format == "spans")
        out << otlp_spans(trace).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            << '\n';
      else
        write_logs(trace, out);
    }
    out.flush();
    if (to_file) file.close();
    // The stream keeps no reason; errno holds the last write's (ENOSPC on a full disk, EFBIG
    // past a file size limit).
    if (!out)
      throw InputError(to_file ? options.out_path : "stdout",
                       std::string("cannot write the export") +
                           (errno != 0 ? std::string(": ") + std::strerror(errno) : ""));
    if (replaced) keep_permissions(target, temporary);
    if (replaced && std::rename(temporary.c_str(), target.c_str()) != 0)
      throw InputError(options.out_path,
                       std::string("cannot write the export: ") + std::strerror(errno));
  } catch (...) {
    if (replaced) std::remove(temporary.c_str());
    g_temporary[0] = '\0';
    throw;
  }
  g_temporary[0] = '\0';
  return kExitOk;
}

}  // namespace dosim::cli
