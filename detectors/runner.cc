#include "detectors/runner.h"

#include <algorithm>
#include <set>

#include "dosim/error.h"

namespace dosim {

// One detector and the series it watches.
struct DetectorRunner::Watched {
  std::unique_ptr<Detector> detector;
  std::string name, severity;
  int family = 0;           // 0 service, 1 edge, 2 endpoint
  std::vector<int> metric;  // per series: metric index in the family
  std::vector<int> column;  // per series: column in the frame
  // Series whose columns follow each other in one metric's frame row, copied at once.
  struct Run {
    int metric = 0;
    int column = 0;  // the first
    std::size_t first = 0, size = 0;
  };
  std::vector<Run> runs;
  std::vector<int> service;  // per series: the service an alert names
  std::vector<std::string> metric_name;
  std::vector<std::string> label;  // per series: the column's name
  std::vector<float> gauges;       // kind-major, as the detector writes them
  std::int64_t for_ticks = 0;
  std::vector<float> values, scores;
  std::vector<std::int64_t> anomalous_for;  // consecutive anomalous ticks
  std::vector<std::int64_t> alerted;        // per series: index of its firing alert + 1, or 0
  std::vector<char> anomalous;              // this tick
  std::vector<std::size_t> running, next;   // series anomalous on the tick (ascending)
  int critical_metric = -1;                 // escalation metric index in the family, or -1
  double critical_above = 0;
  bool critical_inclusive = false;
};

DetectorRunner::~DetectorRunner() = default;

std::vector<DetectorSpec> DetectorRunner::default_specs() {
  DetectorSpec mad;
  mad.name = "mad";
  mad.kind = "mad";
  mad.metrics = {"latency_p95_s", "error_ratio"};
  mad.for_duration = 15 * kSecond;
  mad.direction = 1;  // lower latency or fewer errors is no incident; nor is the recovery
  DetectorSpec errors;
  errors.name = "errors-above-10pct";
  errors.kind = "threshold";
  errors.metrics = {"error_ratio"};
  errors.params = {{"above", 0.1}};
  errors.severity = "critical";
  DetectorSpec cpu;
  cpu.name = "cpu-above-80pct";
  cpu.kind = "threshold";
  cpu.metrics = {"cpu_ratio"};
  cpu.params = {{"above", 0.8}};
  cpu.for_duration = kMinute;
  return {mad, errors, cpu};
}

DetectorRunner::DetectorRunner(const Scenario& scenario, std::vector<DetectorSpec> specs,
                               DetectorFactory custom)
    : scenario_(scenario), specs_(std::move(specs)) {
  // Endpoint columns belong to services in scenario order.
  std::vector<int> endpoint_service;
  std::vector<std::string> endpoint_name;
  for (std::size_t s = 0; s < scenario.services.size(); ++s) {
    for (const EndpointSpec& endpoint : scenario.services[s].endpoints) {
      endpoint_service.push_back(static_cast<int>(s));
      endpoint_name.push_back(endpoint.name);
    }
  }
  for (const DetectorSpec& spec : specs_) {
    auto watched = std::make_unique<Watched>();
    watched->name = spec.name;
    watched->severity = spec.severity;
    watched->family = spec.family == "edge" ? 1 : spec.family == "endpoint" ? 2 : 0;
    for (const std::string& metric : spec.metrics) {
      int metric_index = -1;
      auto find = [&](const auto& names) {
        for (std::size_t m = 0; m < names.size(); ++m)
          if (names[m] == metric) metric_index = static_cast<int>(m);
      };
      if (watched->family == 0) find(kServiceMetricNames);
      if (watched->family == 1) find(kEdgeMetricNames);
      if (watched->family == 2) find(kEndpointMetricNames);
      if (metric_index < 0)
        throw InputError(
            {Diagnostic{scenario.file, spec.pos.line, spec.pos.column,
                        "detector '" + spec.name + "': unknown metric '" + metric + "'"}});
      std::vector<std::pair<int, int>> columns;  // (column, service)
      auto column_label = [&](int column) {
        if (watched->family == 0) return scenario.services[column].name;
        if (watched->family == 1) return scenario.edge_name(column);
        return scenario.services[endpoint_service[column]].name + " " + endpoint_name[column];
      };
      if (watched->family == 0) {
        std::vector<int> services = spec.services;
        if (services.empty())
          for (std::size_t s = 0; s < scenario.services.size(); ++s)
            services.push_back(static_cast<int>(s));
        for (int s : services) columns.emplace_back(s, s);
      } else if (watched->family == 1) {
        std::vector<int> edges = spec.edges;
        if (edges.empty())
          for (std::size_t d = 0; d < scenario.dependencies.size(); ++d)
            edges.push_back(static_cast<int>(d));
        for (int d : edges) columns.emplace_back(d, scenario.dependencies[d].caller);
      } else {
        for (std::size_t e = 0; e < endpoint_service.size(); ++e)
          columns.emplace_back(static_cast<int>(e), endpoint_service[e]);
      }
      for (const auto& [column, service] : columns) {
        watched->metric.push_back(metric_index);
        watched->column.push_back(column);
        watched->service.push_back(service);
        watched->metric_name.push_back(metric);
        watched->label.push_back(column_label(column));
      }
    }
    const std::size_t series = watched->column.size();
    if (series == 0) continue;
    for (std::size_t i = 0; i < series; ++i) {
      std::vector<Watched::Run>& runs = watched->runs;
      if (!runs.empty() && runs.back().metric == watched->metric[i] &&
          runs.back().column + static_cast<int>(runs.back().size) == watched->column[i])
        ++runs.back().size;
      else
        runs.push_back({watched->metric[i], watched->column[i], i, 1});
    }  // e.g. edge metrics in a scenario without dependencies
    if (custom) watched->detector = custom(spec, series);
    if (!watched->detector) {
      std::vector<std::string> names;  // "<column>:<metric>", for kind python
      for (std::size_t i = 0; i < series; ++i)
        names.push_back(watched->label[i] + ":" + watched->metric_name[i]);
      watched->detector =
          make_detector(spec, series, scenario.file, scenario.tick, std::move(names));
    }
    watched->for_ticks = (spec.for_duration + scenario.tick - 1) / scenario.tick;
    watched->values.assign(series, 0.0f);
    watched->scores.assign(series, 0.0f);
    watched->anomalous_for.assign(series, 0);
    watched->alerted.assign(series, 0);
    watched->anomalous.assign(series, 0);
    watched->gauges.assign(
        watched->detector->gauge_kinds().size() * watched->detector->gauge_groups(), 0.0f);
    if (!spec.critical_metric.empty()) {
      const auto find_in = [&](const auto& names) {
        for (std::size_t m = 0; m < names.size(); ++m)
          if (names[m] == spec.critical_metric) watched->critical_metric = static_cast<int>(m);
      };
      if (watched->family == 0) find_in(kServiceMetricNames);
      if (watched->family == 1) find_in(kEdgeMetricNames);
      if (watched->family == 2) find_in(kEndpointMetricNames);
      watched->critical_above = spec.critical_above;
      watched->critical_inclusive = spec.critical_inclusive;
    }
    watched_.push_back(std::move(watched));
  }
  // Every rule's problems at once.
  std::vector<Diagnostic> problems;
  for (const IncidentRuleSpec& rule : scenario.incident_rules) {
    int index = -1;
    for (std::size_t w = 0; w < watched_.size(); ++w)
      if (watched_[w]->name == rule.detector) index = static_cast<int>(w);
    if (index < 0) {
      problems.push_back({scenario.file, rule.pos.line, rule.pos.column,
                          "incident rule '" + rule.name + "': detector '" + rule.detector +
                              "' watches no series"});
      continue;
    }
    const Watched& watched = *watched_[index];
    std::vector<std::string> streams;
    for (std::size_t i = 0; i < watched.column.size(); ++i)
      streams.push_back(watched.label[i] + ":" + watched.metric_name[i]);
    const auto unknown = IncidentRule::unknown_keys(rule, streams);
    for (const IncidentRuleSpec::StreamThreshold* key : unknown)
      problems.push_back({scenario.file, key->pos.line, key->pos.column,
                          "incident rule '" + rule.name + "': stream_threshold '" + key->key +
                              "' is no stream of detector '" + rule.detector +
                              "' (a column, such as '" + watched.label.front() +
                              "', or a stream, such as '" + streams.front() + "')"});
    if (!unknown.empty()) continue;
    rules_.emplace_back(rule, std::move(streams));
    rule_detector_.push_back(index);
  }
  if (!problems.empty()) throw InputError(problems);
}

namespace {

// `frontend->cart` -> `frontend_to_cart`; anything else outside [A-Za-z0-9_] -> `_`, so
// that gauge names are valid Prometheus metric names.
std::string gauge_prefix(const std::string& label) {
  std::string out;
  for (std::size_t i = 0; i < label.size(); ++i) {
    if (label.compare(i, 2, "->") == 0) {
      out += "_to_";
      ++i;
      continue;
    }
    const char c = label[i];
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += keep ? c : '_';
  }
  return out;
}

}  // namespace

std::vector<WatchedSeries> DetectorRunner::watched_series() const {
  std::vector<WatchedSeries> all;
  for (const auto& owned : watched_) {
    const Watched& w = *owned;
    WatchedSeries series{w.name, w.detector->limit(), w.service, w.metric_name, w.label, {}};
    const std::vector<std::string> kinds = w.detector->gauge_kinds();
    const std::size_t groups = w.detector->gauge_groups();
    // Labels that read the same once sanitised (`a-b->c`, `a.b->c`) take _2, _3, ... in order:
    // two gauges of one name could not both be written.
    std::vector<std::string> prefixes;
    std::set<std::string> taken;  // a set: an edge monitor may watch 100,000 edges
    for (std::size_t g = 0; g < groups; ++g) {
      const std::string base = gauge_prefix(w.label[g]);
      std::string prefix = base;
      for (int n = 2; taken.count(prefix); ++n) prefix = base + "_" + std::to_string(n);
      taken.insert(prefix);
      prefixes.push_back(prefix);
    }
    for (const std::string& kind : kinds)
      for (std::size_t g = 0; g < groups; ++g) series.gauges.push_back(prefixes[g] + "_" + kind);
    all.push_back(std::move(series));
  }
  return all;
}

std::vector<DetectedIncident> DetectorRunner::detected_incidents() const {
  std::vector<DetectedIncident> all;
  for (const IncidentRule& rule : rules_)
    all.insert(all.end(), rule.incidents().begin(), rule.incidents().end());
  std::stable_sort(
      all.begin(), all.end(),
      [](const DetectedIncident& a, const DetectedIncident& b) { return a.start < b.start; });
  return all;
}

std::size_t DetectorRunner::incident_changes() const {
  std::size_t changes = 0;
  for (const IncidentRule& rule : rules_) changes += rule.changes();
  return changes;
}

void DetectorRunner::on_frame(const Frame& frame) {
  for (auto& owned : watched_) {
    Watched& w = *owned;
    for (const Watched::Run& run : w.runs) {
      const std::span<const float> values =
          w.family == 0   ? frame.service(static_cast<ServiceMetric>(run.metric))
          : w.family == 1 ? frame.edge(static_cast<EdgeMetric>(run.metric))
                          : frame.endpoint(static_cast<EndpointMetric>(run.metric));
      const float* from = values.data() + run.column;
      std::copy(from, from + run.size, w.values.begin() + static_cast<std::ptrdiff_t>(run.first));
    }
    w.detector->step(w.values, w.scores);
    if (!w.gauges.empty()) w.detector->read_gauges(w.gauges);
    if (observer_) observer_->on_detector_tick(&owned - watched_.data(), w.scores, w.gauges);
    // Scores are float32, so the limit is compared as float32 too: a value exactly at a
    // limit (a 10 % error ratio against above: 0.1) is not above it, whatever the kind.
    const float limit = static_cast<float>(w.detector->limit());
    // Most series are not anomalous on most ticks: the scores are scanned in blocks (a loop
    // the compiler vectorises), and only the series above the limit now, or on the tick
    // before, are looked at one by one.
    const float* scores = w.scores.data();
    const std::size_t series = w.scores.size();
    std::fill(w.anomalous.begin(), w.anomalous.end(), 0);
    for (std::size_t i : w.running) {  // episodes that end now
      if (scores[i] > limit) continue;
      w.anomalous_for[i] = 0;
      if (w.alerted[i]) alerts_[static_cast<std::size_t>(w.alerted[i] - 1)].resolved = frame.time;
      w.alerted[i] = 0;
    }
    w.next.clear();
    constexpr std::size_t kBlock = 64;
    for (std::size_t begin = 0; begin < series; begin += kBlock) {
      const std::size_t end = std::min(series, begin + kBlock);
      int above = 0;
      for (std::size_t i = begin; i < end; ++i) above += scores[i] > limit ? 1 : 0;
      if (above == 0) continue;
      for (std::size_t i = begin; i < end; ++i) {
        if (!(scores[i] > limit)) continue;
        w.anomalous[i] = 1;
        w.next.push_back(i);
        ++w.anomalous_for[i];
        if (w.alerted[i] || w.anomalous_for[i] <= w.for_ticks) continue;
        w.alerted[i] = static_cast<std::int64_t>(alerts_.size()) + 1;
        std::string severity = w.severity;
        if (w.critical_metric >= 0) {
          const std::span<const float> escalation =
              w.family == 0   ? frame.service(static_cast<ServiceMetric>(w.critical_metric))
              : w.family == 1 ? frame.edge(static_cast<EdgeMetric>(w.critical_metric))
                              : frame.endpoint(static_cast<EndpointMetric>(w.critical_metric));
          // As a limit is: in 32-bit floats, so that a value exactly at it is not above (and
          // is at least it).
          const float value = escalation[w.column[i]], bound = static_cast<float>(w.critical_above);
          if (w.critical_inclusive ? value >= bound : value > bound) severity = "critical";
        }
        alerts_.push_back(
            {frame.time, w.name, w.service[i], w.metric_name[i], severity, -1, w.label[i]});
      }
    }
    w.running.swap(w.next);
  }
  for (std::size_t r = 0; r < rules_.size(); ++r)
    rules_[r].observe(frame.time, watched_[rule_detector_[r]]->anomalous);
}

}  // namespace dosim
