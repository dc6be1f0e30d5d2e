// A Grafana dashboard over a run's OpenMetrics export (metrics_export.h, docs/prometheus.md):
// per service a row of rps, error ratio and p95 panels (the histogram's quantile beside the
// recorded p95), per pair a Lab 7 monitor watches a row of its gauges, the ground truth, operations
// and detected incidents as annotations from the exported series, and the run's span as the time
// range. Datasource: a variable of type prometheus, chosen on import.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "dosim/analysis/metrics_export.h"

namespace dosim {
namespace {

using Json = nlohmann::ordered_json;

const Json kDatasource = {{"type", "prometheus"}, {"uid", "${datasource}"}};

std::string iso_time(double unix_s) {
  const std::time_t whole = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string quoted(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

Json panel(int id, const std::string& title, const std::string& unit, Json targets, int x, int y) {
  return Json{{"id", id},
              {"type", "timeseries"},
              {"title", title},
              {"datasource", kDatasource},
              {"gridPos", {{"h", 8}, {"w", 8}, {"x", x}, {"y", y}}},
              {"fieldConfig", {{"defaults", {{"unit", unit}}}, {"overrides", Json::array()}}},
              {"options",
               {{"legend", {{"displayMode", "list"}, {"placement", "bottom"}}},
                {"tooltip", {{"mode", "multi"}}}}},
              {"targets", std::move(targets)}};
}

Json target(const std::string& ref, const std::string& expr, const std::string& legend) {
  return Json{
      {"refId", ref}, {"datasource", kDatasource}, {"expr", expr}, {"legendFormat", legend}};
}

// Evaluated every `step` (the record interval: an operation is 1 for one interval only, and
// a coarser step would never land on it).
Json annotation(const std::string& name, const std::string& expr, const std::string& title,
                const std::string& tags, const std::string& color, const std::string& step) {
  return Json{{"name", name},
              {"datasource", kDatasource},
              {"enable", true},
              {"iconColor", color},
              {"expr", expr},
              {"step", step},
              {"titleFormat", title},
              {"tagKeys", tags},
              {"useValueForTime", false}};
}

}  // namespace

void write_grafana_dashboard(const TraceSeries& t, double start, std::ostream& out) {
  const double span = t.times.empty() ? 0.0 : static_cast<double>(t.times.back()) / 1e9;
  const double interval = static_cast<double>(t.record_interval) / 1e9;
  const std::string step = std::to_string(std::max<long long>(1, std::llround(interval))) + "s";
  // rate() needs two samples in its window wherever it is evaluated: two record intervals
  // hold two at any time (one interval held one, and half the points of a panel were gone).
  const std::string window =
      std::to_string(std::max<long long>(2, std::llround(2 * interval))) + "s";
  Json panels = Json::array();
  int id = 1, y = 0;
  for (const std::string& service : t.services) {
    const std::string match = "{service=\"" + quoted(service) + "\"}";
    panels.push_back(Json{{"id", id++},
                          {"type", "row"},
                          {"title", service},
                          {"collapsed", false},
                          {"gridPos", {{"h", 1}, {"w", 24}, {"x", 0}, {"y", y}}},
                          {"panels", Json::array()}});
    ++y;
    panels.push_back(panel(id++, service + ": requests per second", "reqps",
                           Json::array({target("A", "dosim_service_rps" + match, "rps")}), 0, y));
    panels.push_back(
        panel(id++, service + ": error ratio", "percentunit",
              Json::array({target("A", "dosim_service_error_ratio" + match, "errors")}), 8, y));
    panels.push_back(panel(
        id++, service + ": latency p95", "s",
        Json::array({target("A", "dosim_service_latency_p95_seconds" + match, "p95 (recorded)"),
                     target("B",
                            "histogram_quantile(0.95, rate(dosim_service_latency_seconds_bucket" +
                                match + "[" + window + "]))",
                            "p95 (histogram)")}),
        16, y));
    y += 8;
  }
  // The Lab 7 monitors: a row per watched pair, from the gauges' names (<pair>_y_min, ...).
  std::vector<std::string> pairs;
  for (const DetectorSeries& d : t.detectors)
    for (const std::string& gauge : d.gauge_names) {
      const std::string suffix = "_y_min";
      if (gauge.size() > suffix.size() &&
          gauge.compare(gauge.size() - suffix.size(), suffix.size(), suffix) == 0) {
        const std::string pair = gauge.substr(0, gauge.size() - suffix.size());
        if (std::find(pairs.begin(), pairs.end(), pair) == pairs.end()) pairs.push_back(pair);
      }
    }
  for (const std::string& pair : pairs) {
    const auto gauge = [&](const std::string& kind) { return exported_gauge_name(pair + kind); };
    panels.push_back(Json{{"id", id++},
                          {"type", "row"},
                          {"title", "Lab 7 monitor: " + pair},
                          {"collapsed", false},
                          {"gridPos", {{"h", 1}, {"w", 24}, {"x", 0}, {"y", y}}},
                          {"panels", Json::array()}});
    ++y;
    panels.push_back(
        panel(id++, pair + ": p95 and its band", "s",
              Json::array({target("A", gauge("_y"), "y"), target("B", gauge("_y_min"), "y_min"),
                           target("C", gauge("_y_max"), "y_max")}),
              0, y));
    panels.push_back(panel(id++, pair + ": anomalies", "short",
                           Json::array({target("A", gauge("_anomaly_count"), "anomaly_count")}), 8,
                           y));
    panels.push_back(
        panel(id++, pair + ": MAE and MAPE", "short",
              Json::array({target("A", gauge("_mae"), "mae"), target("B", gauge("_mape"), "mape")}),
              16, y));
    y += 8;
  }
  Json annotations = Json::array(
      {Json{{"builtIn", 1},
            {"datasource", {{"type", "grafana"}, {"uid", "-- Grafana --"}}},
            {"enable", true},
            {"hide", true},
            {"iconColor", "rgba(0, 211, 255, 1)"},
            {"name", "Annotations & Alerts"},
            {"type", "dashboard"}},
       annotation("Faults and defective changes (ground truth)", "dosim_incident_impacting == 1",
                  "{{name}} ({{cause}} on {{root_cause}})", "cause,root_cause", "red", step),
       annotation("Operations", "dosim_change == 1", "{{kind}} {{target}}", "kind,target", "blue",
                  step),
       annotation("Detected incidents", "dosim_incident_detected > 0", "{{rule}} Sev{{value}}",
                  "rule", "orange", step)});
  Json dashboard = {
      {"title", "dosim: " + (t.scenario.empty() ? std::string("run") : t.scenario)},
      {"uid", "dosim-" + std::to_string(t.seed) + "-" +
                  std::to_string(static_cast<long long>(std::llround(start)))},
      {"description",
       "A dosim run exported with dosim export --format openmetrics (docs/prometheus.md)"},
      {"tags", Json::array({"dosim"})},
      {"timezone", "utc"},
      {"editable", true},
      {"graphTooltip", 1},
      {"schemaVersion", 39},
      {"version", 1},
      {"refresh", ""},
      {"time", {{"from", iso_time(start)}, {"to", iso_time(start + span)}}},
      {"templating",
       {{"list", Json::array({Json{{"name", "datasource"},
                                   {"label", "Prometheus"},
                                   {"type", "datasource"},
                                   {"query", "prometheus"},
                                   {"current", Json::object()},
                                   {"hide", 0},
                                   {"refresh", 1}}})}}},
      {"annotations", {{"list", std::move(annotations)}}},
      {"panels", std::move(panels)}};
  out << dashboard.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
}

}  // namespace dosim
