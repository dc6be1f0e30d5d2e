#include "dosim/analysis/run_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <span>

#include "analysis/html_page.h"
#include "analysis/json_number.h"
#include "dosim/analysis/score_table.h"
#include "dosim/analysis/scoring.h"
#include "dosim/analysis/trace_reader.h"
#include "dosim/analysis/trace_series.h"
#include "dosim/error.h"
#include "dosim/version.h"

namespace dosim {
namespace {

using Json = nlohmann::ordered_json;

// The metrics a reader looks at first, in the order the charts show them.
constexpr const char* kKeyMetrics[] = {"rps",       "error_ratio",  "latency_p95_s",
                                       "cpu_ratio", "memory_ratio", "ready_replicas"};
constexpr const char* kOverviewMetrics[] = {"rps", "error_ratio", "latency_p95_s"};

// A time in seconds, exact (json_number's four digits moved a time on day 12 by 500 s).
Json seconds(SimTime t) { return Json(static_cast<double>(t) / 1e9); }
Json seconds_or_null(SimTime t) { return t < 0 ? Json(nullptr) : seconds(t); }

// Rows [first, last) cut into buckets of about equal size, at most max_points / 2 of them;
// each bucket is drawn as two points (its extremes, in the order they occur). Without
// downsampling (few rows) every row is its own bucket of one point.
struct Buckets {
  std::vector<std::pair<std::size_t, std::size_t>> ranges;  // [begin, end) rows
  bool paired = false;                                      // two points per bucket
};

Buckets buckets(std::size_t first, std::size_t last, std::size_t max_points) {
  Buckets b;
  const std::size_t rows = last > first ? last - first : 0;
  if (rows <= max_points) {
    for (std::size_t r = first; r < last; ++r) b.ranges.emplace_back(r, r + 1);
    return b;
  }
  b.paired = true;
  const std::size_t count = std::max<std::size_t>(1, max_points / 2);
  for (std::size_t k = 0; k < count; ++k)
    b.ranges.emplace_back(first + rows * k / count, first + rows * (k + 1) / count);
  return b;
}

// The time axis of a bucketing: each row's time, or a bucket's first and last row times.
Json bucket_times(const Buckets& b, const std::vector<SimTime>& times) {
  Json t = Json::array();
  for (const auto& [begin, end] : b.ranges) {
    t.push_back(seconds(times[begin]));
    if (b.paired) t.push_back(seconds(times[end - 1]));
  }
  return t;
}

// One column of a row-major [rows x columns] family, bucketed: the extremes of each bucket
// in the order they occur (NaN rows skipped; null where a bucket has none).
Json bucket_values(const Buckets& b, const std::vector<float>& values, std::size_t columns,
                   std::size_t column) {
  Json v = Json::array();
  for (const auto& [begin, end] : b.ranges) {
    std::size_t low = end, high = end;
    for (std::size_t r = begin; r < end; ++r) {
      const float x = values[r * columns + column];
      if (std::isnan(x)) continue;
      if (low == end || x < values[low * columns + column]) low = r;
      if (high == end || x > values[high * columns + column]) high = r;
    }
    if (!b.paired) {
      v.push_back(low == end ? Json(nullptr) : json_number(values[low * columns + column]));
      continue;
    }
    if (low == end) {
      v.push_back(nullptr);
      v.push_back(nullptr);
      continue;
    }
    const std::size_t a = std::min(low, high), z = std::max(low, high);
    v.push_back(json_number(values[a * columns + column]));
    v.push_back(json_number(values[z * columns + column]));
  }
  return v;
}

// The row index of the first row ending at or after t.
// Whether `joined` (a service's zones or regions, comma-separated) names `place`.
bool names_place(const std::string& joined, const std::string& place) {
  std::size_t begin = 0;
  while (begin <= joined.size()) {
    const std::size_t end = std::min(joined.find(',', begin), joined.size());
    if (joined.compare(begin, end - begin, place) == 0) return true;
    begin = end + 1;
  }
  return false;
}

// The services at an incident's root, ascending, as dosim.plots.root_services has them: its
// root service; for a zone's or region's outage the services placed there; for a change's
// defect the services its root_cause lists (comma-separated). None for a partition.
std::vector<int> roots_of(const IncidentWindow& incident, const TraceSeries& trace) {
  std::set<int> roots;
  if (incident.root_service >= 0) roots.insert(incident.root_service);
  const std::string& root = incident.root_cause;
  for (const auto& [prefix, places] : {std::pair{std::string("zone "), &trace.service_zones},
                                       std::pair{std::string("region "), &trace.service_regions}})
    if (root.starts_with(prefix))
      for (std::size_t s = 0; s < places->size(); ++s)
        if (names_place((*places)[s], root.substr(prefix.size())))
          roots.insert(static_cast<int>(s));
  std::size_t begin = 0;
  while (begin <= root.size()) {
    const std::size_t end = std::min(root.find(',', begin), root.size());
    std::string name = root.substr(begin, end - begin);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    const auto found = std::find(trace.services.begin(), trace.services.end(), name);
    if (found != trace.services.end())
      roots.insert(static_cast<int>(found - trace.services.begin()));
    begin = end + 1;
  }
  return {roots.begin(), roots.end()};
}

std::size_t row_at(const std::vector<SimTime>& times, SimTime t) {
  return static_cast<std::size_t>(std::lower_bound(times.begin(), times.end(), t) - times.begin());
}

// Series of `metrics` for `services` over rows [first, last), sharing one time axis.
Json series_block(const TraceSeries& trace, const std::vector<int>& services,
                  std::span<const char* const> metrics, std::size_t first, std::size_t last,
                  std::size_t max_points) {
  const Buckets b = buckets(first, last, max_points);
  Json block;
  block["services"] = services;
  block["t"] = bucket_times(b, trace.times);
  Json by_metric = Json::object();
  for (const char* metric : metrics) {
    const auto& names = trace.service.metric_names;
    const auto found = std::find(names.begin(), names.end(), metric);
    if (found == names.end()) continue;
    const std::vector<float>& values = trace.service.metrics[found - names.begin()];
    Json per_service = Json::array();
    for (int s : services)
      per_service.push_back(
          bucket_values(b, values, trace.service.columns, static_cast<std::size_t>(s)));
    by_metric[metric] = std::move(per_service);
  }
  block["metrics"] = std::move(by_metric);
  return block;
}

// Services a change's target names ("a,b", or a region or flag: none).
std::vector<int> services_named(const std::string& target,
                                const std::map<std::string, int>& index) {
  std::vector<int> out;
  std::size_t begin = 0;
  while (begin <= target.size()) {
    std::size_t end = target.find(',', begin);
    if (end == std::string::npos) end = target.size();
    std::string name = target.substr(begin, end - begin);
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    if (const auto found = index.find(name); found != index.end()) out.push_back(found->second);
    begin = end + 1;
  }
  return out;
}

Json facts(const TraceSeries& trace, const std::string& path, const RunReportOptions& options) {
  Json f;
  f["scenario"] = trace.scenario;
  // A seed as text: JavaScript's numbers hold integers exactly only up to 2^53.
  f["seed"] = std::to_string(trace.seed);
  f["script"] = trace.script_path.empty() ? Json(nullptr) : Json(trace.script_path);
  f["mode"] = trace.mode.empty() ? Json(nullptr) : Json(trace.mode);
  f["trace_dosim_version"] =
      trace.dosim_version.empty() ? Json(nullptr) : Json(trace.dosim_version);
  f["report_dosim_version"] = DOSIM_VERSION;
  f["tick_s"] = seconds(trace.tick);
  f["record_interval_s"] = seconds(trace.record_interval);
  f["simulated_s"] = trace.times.empty() ? Json(0) : seconds(trace.times.back());
  f["complete"] = trace.complete;
  f["truth"] = trace.has_truth;
  f["wall_s"] = options.wall_seconds >= 0 ? json_number(options.wall_seconds) : Json(nullptr);
  f["scenario_path"] = options.scenario_path.empty() ? Json(nullptr) : Json(options.scenario_path);
  const std::size_t slash = path.find_last_of('/');
  f["trace"] = slash == std::string::npos ? path : path.substr(slash + 1);
  f["rows"] = trace.times.size();
  f["scenario_yaml"] = trace.scenario_yaml;
  return f;
}

}  // namespace

std::string render_run_report(const std::string& trace_path, const RunReportOptions& options) {
  const TraceSeries trace = read_trace_series(trace_path);
  TraceForScoring scoring;
  try {
    scoring = read_trace_for_scoring(trace_path);
  } catch (const InputError&) {
    // An interrupted run's trace may hold no ground truth or alerts yet: its series are
    // still worth drawing (the page says the trace is incomplete).
    if (trace.complete) throw;
    scoring.seed = trace.seed;
    scoring.services = trace.services;
    scoring.tick = trace.tick > 0 ? trace.tick : kSecond;
    scoring.simulated = trace.times.empty() ? 0 : trace.times.back();
  }
  const std::size_t max_points = std::max<std::size_t>(options.max_points, 4);
  std::map<std::string, int> service_index;
  for (std::size_t s = 0; s < trace.services.size(); ++s)
    service_index.emplace(trace.services[s], static_cast<int>(s));

  Json data;
  data["facts"] = facts(trace, trace_path, options);
  Json services = Json::array();
  for (std::size_t s = 0; s < trace.services.size(); ++s)
    services.push_back({{"name", trace.services[s]},
                        {"region", trace.service_regions[s]},
                        {"zone", trace.service_zones[s]}});
  data["services"] = std::move(services);
  Json edges = Json::array();
  for (std::size_t e = 0; e < trace.edge_src.size(); ++e)
    edges.push_back({trace.edge_src[e], trace.edge_dst[e]});
  data["edges"] = std::move(edges);
  data["detectors"] = scoring.detectors;

  // The scores, as `dosim score --json` computes them, and each detector's TTD per incident.
  const ScoreTable table =
      score_table(scoring.incidents, scoring.alerts, scoring.detectors, scoring.detected,
                  scoring.services.size(), scoring.seed, scoring.simulated, scoring.tick);
  data["scores"] = Json::parse(score_table_json(table, -1));
  std::map<std::int64_t, Json> detection;  // incident id -> {detector: ttd s or null}
  for (const auto& [label, scores] : table.rows) {
    if (label == "random baseline" || label == "null baseline") continue;
    for (const IncidentScore& incident : scores.incidents)
      if (!incident.silent)
        detection[incident.id][label] = seconds_or_null(incident.time_to_detect);
  }
  const std::vector<std::vector<std::int64_t>> matches =
      score(scoring.incidents, scoring.alerts, scoring.simulated,
            {.tolerance = 0, .tick = scoring.tick})
          .alert_matches;

  // Incidents, each with its services' key metrics around the impact window.
  const SimTime end_of_run = trace.times.empty() ? 0 : trace.times.back();
  Json incidents = Json::array();
  std::set<int> touched;
  for (const IncidentWindow& incident : trace.incidents) {
    Json i;
    i["id"] = incident.id;
    i["name"] = incident.name;
    i["cause"] = incident.cause;
    i["root_cause"] = incident.root_cause;
    i["root"] = incident.root_service;
    const std::vector<int> roots = roots_of(incident, trace);
    i["roots"] = roots;
    i["start"] = seconds(incident.start);
    i["end"] = seconds(incident.end);
    i["impact_start"] = seconds_or_null(incident.silent ? -1 : incident.impact_start);
    i["impact_end"] = seconds_or_null(incident.silent ? -1 : incident.impact_end);
    i["silent"] = incident.silent;
    i["ongoing"] = incident.ongoing;
    i["affected"] = incident.affected;
    i["propagation"] = incident.propagation;
    i["ttr"] =
        incident.silent ? Json(nullptr) : seconds(incident.impact_end - incident.impact_start);
    const auto found = detection.find(incident.id);
    i["ttd"] = found == detection.end() ? Json::object() : found->second;
    // The root-cause rankings made at its detection (the first delay), top three each.
    Json ranked = Json::object();
    for (const RcaRanking& ranking : scoring.rca) {
      if (ranking.incident != incident.id || ranked.contains(ranking.ranker)) continue;
      Json top = Json::array();
      for (std::size_t c = 0; c < ranking.candidates.size() && c < 3; ++c)
        top.push_back(ranking.candidates[c].id);
      ranked[ranking.ranker] = {{"delay_s", seconds(ranking.delay)}, {"top", std::move(top)}};
    }
    i["rca"] = std::move(ranked);
    Json loop = Json::array();  // /truth/timeline: its life as the loop saw it
    for (const TimelineMark& mark : trace.incident_timeline)
      if (mark.incident == incident.id)
        loop.push_back({{"t", seconds(mark.time)}, {"event", mark.event}, {"detail", mark.detail}});
    i["loop"] = std::move(loop);
    touched.insert(roots.begin(), roots.end());
    touched.insert(incident.affected.begin(), incident.affected.end());
    // The window drawn: the impact (or the cause, when silent) with a margin on each side.
    const SimTime from = incident.silent ? incident.start : incident.impact_start;
    const SimTime to = incident.silent ? std::min(incident.end, end_of_run) : incident.impact_end;
    // At least eight recorded rows on each side: a run recorded every hour has a chart too.
    const SimTime margin =
        std::max({(to - from) / 2, SimTime{10 * 60 * kSecond}, 8 * trace.record_interval});
    const SimTime w0 = std::max<SimTime>(0, from - margin), w1 = std::min(end_of_run, to + margin);
    i["window"] = {seconds(w0), seconds(w1)};
    std::vector<int> charted;  // its roots first (a zone's: those it affected), then the rest
    for (int s : roots)
      if (charted.size() < options.incident_services &&
          (incident.root_service == s ||
           std::find(incident.affected.begin(), incident.affected.end(), s) !=
               incident.affected.end()))
        charted.push_back(s);
    for (int s : incident.affected)
      if (charted.size() < options.incident_services &&
          std::find(charted.begin(), charted.end(), s) == charted.end())
        charted.push_back(s);
    const std::size_t first = row_at(trace.times, w0);
    const std::size_t last = std::min(trace.times.size(), row_at(trace.times, w1) + 1);
    i["series"] = series_block(trace, charted, kKeyMetrics, first, last, max_points / 2);
    incidents.push_back(std::move(i));
  }
  data["incidents"] = std::move(incidents);

  Json changes = Json::array();
  for (const ChangeMark& change : trace.changes)
    changes.push_back({{"t", seconds(change.time)},
                       {"kind", change.kind},
                       {"target", change.target},
                       {"from", change.from},
                       {"to", change.to},
                       {"services", services_named(change.target, service_index)}});
  data["changes"] = std::move(changes);

  // Alerts, column by column (a long run raises many).
  Json alerts;
  std::map<std::string, int> detector_index;
  for (std::size_t d = 0; d < scoring.detectors.size(); ++d)
    detector_index.emplace(scoring.detectors[d], static_cast<int>(d));
  for (const char* column : {"t", "detector", "service", "target", "metric", "severity", "incident",
                             "resolved", "notified"})
    alerts[column] = Json::array();
  for (std::size_t a = 0; a < scoring.alerts.size(); ++a) {
    const Alert& alert = scoring.alerts[a];
    const auto d = detector_index.find(alert.detector);
    alerts["t"].push_back(seconds(alert.time));
    alerts["detector"].push_back(d == detector_index.end() ? -1 : d->second);
    alerts["service"].push_back(alert.service);
    alerts["target"].push_back(alert.target);
    alerts["metric"].push_back(alert.metric);
    alerts["severity"].push_back(alert.severity);
    alerts["incident"].push_back(matches[a].empty() ? -1 : matches[a].front());
    alerts["resolved"].push_back(seconds_or_null(alert.resolved));
    alerts["notified"].push_back(
        a < scoring.first_notified.size() ? seconds_or_null(scoring.first_notified[a]) : nullptr);
    if (alert.service >= 0) touched.insert(alert.service);
  }
  data["alerts"] = std::move(alerts);

  Json notifications = Json::array();
  for (const NotificationMark& n : trace.notifications)
    notifications.push_back({{"t", seconds(n.time)},
                             {"group", n.group},
                             {"alerts", n.alerts},
                             {"receiver", n.receiver},
                             {"resolution", n.resolution}});
  data["notifications"] = std::move(notifications);
  Json remediation = Json::array();
  for (const RemediationMark& r : trace.remediation) {
    remediation.push_back({{"t", seconds(r.time)},
                           {"playbook", r.playbook},
                           {"service", r.service},
                           {"action", r.action},
                           {"outcome", r.outcome}});
    touched.insert(r.service);
  }
  data["remediation"] = std::move(remediation);
  Json detected = Json::array();
  for (const DetectedWindow& d : trace.detected)
    detected.push_back({{"rule", d.rule},
                        {"start", seconds(d.start)},
                        {"end", seconds_or_null(d.end)},
                        {"severity", d.severity},
                        {"peak_temperature", json_number(d.peak_temperature)}});
  data["detected"] = std::move(detected);

  // Each service's whole run, coarse, for the map's details: all of them in a small system,
  // the ones something happened to in a large one.
  std::vector<int> overview;
  if (trace.services.size() <= options.overview_services) {
    for (std::size_t s = 0; s < trace.services.size(); ++s) overview.push_back(static_cast<int>(s));
  } else {
    for (int s : touched)
      if (overview.size() < options.overview_services) overview.push_back(s);
  }
  data["overview"] =
      series_block(trace, overview, kOverviewMetrics, 0, trace.times.size(), max_points / 2);

  HtmlPage page;
  page.title = "dosim report: " + trace.scenario;
  page.styles = {"common.css", "run_report.css"};
  page.scripts = {"charts.js", "service_map.js", "timeline.js", "run_report.js"};
  page.data_json = data.dump(-1, ' ', false, Json::error_handler_t::replace);
  page.body =
      R"(<header class="page"><h1 id="title">dosim report</h1><span class="sub" id="subtitle"></span></header>
<main id="report"><noscript>This report draws with JavaScript; the data is in the page's dosim-data element.</noscript></main>)";
  return render_html_page(page);
}

}  // namespace dosim
