// The `detectors:` section: which detectors watch which series, with what parameters.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "dosim/engine/frame.h"
#include "scenario_loader_internal.h"

namespace dosim::loader {

void Loader::read_detector(const YAML::Node& node, int index) {
  MapReader r(node, "detector",
              {"name", "kind", "family", "metrics", "services", "edges", "params", "for",
               "severity", "critical_when", "direction", "model", "module", "class", "labels"},
              diags_);
  if (!r.is_map()) return;
  DetectorSpec spec;
  spec.pos = r.pos();
  spec.name = r.has("name") ? read_name(r, Need::kOptional) : "detector-" + std::to_string(index);
  const SourcePos name_pos = r.has("name") ? r.value_pos("name") : spec.pos;
  if (!spec.name.empty() && detectors_.claim(spec.name, index, name_pos) >= 0)
    diags_.error(name_pos, duplicate_name("detector", spec.name, detectors_.where(spec.name)));
  // The name is an HDF5 group in the trace (/detectors/<name>).
  if (const std::string problem = detector_name_problem(spec.name); !problem.empty())
    diags_.error(r.value_pos("name"), problem);
  spec.kind = r.text("kind", Need::kRequired).value_or("");
  spec.kind_pos = r.has("kind") ? r.value_pos("kind") : spec.pos;
  spec.family = r.text("family").value_or("service");
  std::vector<std::string> known;
  if (spec.family == "service") {
    known.assign(kServiceMetricNames.begin(), kServiceMetricNames.end());
  } else if (spec.family == "edge") {
    known.assign(kEdgeMetricNames.begin(), kEdgeMetricNames.end());
  } else if (spec.family == "endpoint") {
    known.assign(kEndpointMetricNames.begin(), kEndpointMetricNames.end());
  } else {
    diags_.error(r.value_pos("family"),
                 "'family' must be service, edge or endpoint, got '" + spec.family + "'" +
                     did_you_mean(spec.family, {"service", "edge", "endpoint"}));
  }
  const std::vector<YAML::Node> metrics = r.list("metrics", Need::kRequired);
  if (metrics.empty() && r.has("metrics") && r.value("metrics")->IsSequence())
    diags_.error(r.value_pos("metrics"),
                 "'metrics' lists no metric: the detector would watch "
                 "nothing");
  for (const YAML::Node& item : metrics) {
    auto metric = read_text(item, pos_of(item), "a metric name", diags_);
    if (!metric) continue;
    if (!known.empty() && std::find(known.begin(), known.end(), *metric) == known.end())
      diags_.error(pos_of(item), "unknown " + spec.family + " metric '" + *metric + "'" +
                                     did_you_mean(*metric, known));
    if (std::find(spec.metrics.begin(), spec.metrics.end(), *metric) != spec.metrics.end())
      diags_.error(pos_of(item), "metric '" + *metric + "' is listed twice");
    spec.metrics.push_back(*metric);
  }
  if (r.has("services")) {
    if (spec.family != "service")
      diags_.error(r.key_pos("services"), "'services' selects service series only");
    spec.services = read_services(r, "services", Need::kOptional);
    // Only a list written empty: one whose names are all unknown is reported as such.
    if (r.value("services")->IsSequence() && r.value("services")->size() == 0)
      diags_.error(r.value_pos("services"),
                   "'services' lists no service (leave it out to watch every service)");
  }
  if (r.has("edges")) {
    if (spec.family != "edge") diags_.error(r.key_pos("edges"), "'edges' selects edge series only");
    for (const YAML::Node& item : r.list("edges")) {
      auto name = read_text(item, pos_of(item), "an edge 'caller->callee'", diags_);
      if (!name) continue;
      const int edge = edge_index(*name);
      if (edge < 0)
        diags_.error(pos_of(item),
                     "unknown edge '" + *name + "'" + suggest(*name, [&] { return edge_names(); }));
      else
        spec.edges.push_back(edge);
    }
  }
  if (auto params = r.value("params")) {
    if (!params->IsMap()) {
      diags_.error(r.value_pos("params"),
                   "expected a mapping of parameters, got " + describe(*params));
    } else {
      // Named as the registry names its problems with a parameter's value.
      const std::string of_detector = "detector '" + spec.name + "': ";
      for (const auto& entry : *params) {
        auto key = read_text(entry.first, pos_of(entry.first), "a parameter name", diags_);
        if (!key) continue;
        const auto twice = std::find_if(spec.params.begin(), spec.params.end(),
                                        [&](const auto& given) { return given.first == *key; });
        if (twice != spec.params.end()) {
          diags_.error(pos_of(entry.first),
                       of_detector + "parameter '" + *key + "' is given twice (first at line " +
                           std::to_string(spec.param_pos[twice - spec.params.begin()].line) + ")");
          continue;
        }
        if (!entry.second.IsScalar()) {
          diags_.error(pos_of(entry.second), of_detector + "expected a number for parameter '" +
                                                 *key + "', got " + describe(entry.second));
          spec.unread_params.push_back(*key);
          continue;
        }
        auto text = read_text(entry.second, pos_of(entry.second), "a number", diags_);
        if (!text) {
          spec.unread_params.push_back(*key);
          continue;
        }
        warn_if_quoted_number(entry.second, pos_of(entry.second),
                              of_detector + "parameter '" + *key + "'", diags_);
        try {
          std::size_t used = 0;
          const double value = std::stod(*text, &used);
          if (used != text->size() || !std::isfinite(value))
            throw InputError("", "not a finite number");
          spec.params.emplace_back(*key, value);
          spec.param_pos.push_back(pos_of(entry.first));
          spec.param_value_pos.push_back(pos_of(entry.second));
        } catch (const std::exception&) {
          diags_.error(pos_of(entry.second), of_detector + "expected a number for parameter '" +
                                                 *key + "', got '" + *text + "'");
          spec.unread_params.push_back(*key);
        }
      }
    }
  }
  spec.for_duration = r.duration("for", Range::at_least(0)).value_or(0);
  // Values it can never alert on, said before a run that shows nothing.
  if (duration_ && spec.for_duration >= *duration_ && spec.for_duration > 0)
    diags_.warning(r.value_pos("for"),
                   "detector '" + spec.name +
                       "' alerts after 'for: " + format_duration(spec.for_duration) +
                       "' of anomalous ticks, as long as the run (" + format_duration(*duration_) +
                       ") or longer: it never alerts");
  // A warm-up as long as the run: nothing is scored, so nothing alerts (regression's
  // training is seconds, the others' ticks).
  struct WarmUp {
    const char* kind;
    const char* param;
    bool seconds;
  };
  static constexpr WarmUp kWarmUps[] = {{"ewma", "warmup", false},
                                        {"surprise", "warmup", false},
                                        {"mad", "window", false},
                                        {"regression", "training", true}};
  for (const WarmUp& warm : kWarmUps)
    for (std::size_t p = 0; duration_ && spec.kind == warm.kind && p < spec.params.size(); ++p) {
      if (spec.params[p].first != warm.param || !(spec.params[p].second > 0)) continue;
      const double silent_s = warm.seconds ? spec.params[p].second
                                           : spec.params[p].second * to_seconds(scenario_.tick);
      if (silent_s < to_seconds(*duration_)) continue;
      diags_.warning(p < spec.param_value_pos.size() ? spec.param_value_pos[p] : spec.pos,
                     "detector '" + spec.name + "' scores nothing for its first " +
                         format_number(spec.params[p].second) + (warm.seconds ? " s" : " ticks") +
                         " ('" + warm.param + "'), as long as the run (" +
                         format_duration(*duration_) + ") or longer: it never alerts");
    }
  if (spec.kind == "threshold" && spec.metrics == std::vector<std::string>{"error_ratio"})
    for (std::size_t p = 0; p < spec.params.size(); ++p)
      if (spec.params[p].first == "above" && spec.params[p].second >= 1.0)
        diags_.warning(p < spec.param_value_pos.size() ? spec.param_value_pos[p] : spec.pos,
                       "detector '" + spec.name + "' alerts on an error ratio above " +
                           format_number(spec.params[p].second) +
                           ": a ratio is at most 1, so it never alerts");
  spec.severity = r.text("severity").value_or("warning");
  // Any severity is a label value (a team's "page" too), but one a letter off the usual ones
  // is a typo that Alertmanager matchers on severity="critical" never see.
  static const std::vector<std::string> kSeverities = {"critical", "warning", "info"};
  if (std::find(kSeverities.begin(), kSeverities.end(), spec.severity) == kSeverities.end())
    if (const std::string meant = did_you_mean(spec.severity, kSeverities); !meant.empty())
      diags_.warning(r.value_pos("severity"), "detector '" + spec.name + "': severity '" +
                                                  spec.severity +
                                                  "' is none of critical, "
                                                  "warning, info" +
                                                  meant);
  if (auto model = r.text("model")) spec.model = beside_scenario(scenario_.file, *model);
  if (auto module = r.text("module")) spec.module = beside_scenario(scenario_.file, *module);
  spec.class_name = r.text("class").value_or("");
  // A Python detector is made (its module run) only once the scenario loads; what can be
  // checked without running it is said now, with the other problems.
  if (spec.kind == "python") {
    const std::string about = "detector '" + spec.name + "': ";
    if (!r.has("module"))
      diags_.error(spec.pos, about + "kind python needs 'module:' (a .py file)");
    if (!r.has("class"))
      diags_.error(spec.pos, about + "kind python needs 'class:' (a class in the module)");
    std::error_code error;
    if (!spec.module.empty() && !std::filesystem::is_regular_file(spec.module, error))
      diags_.error(r.value_pos("module"),
                   about + "module '" + spec.module + "': " +
                       (std::filesystem::exists(spec.module, error) ? "not a regular file"
                                                                    : "no such file"));
  }
  // Keys of one kind on another would be read and then ignored.
  for (const auto& [key, kind] : {std::pair<const char*, const char*>{"model", "lstm"},
                                  {"module", "python"},
                                  {"class", "python"}})
    if (r.has(key) && !spec.kind.empty() && spec.kind != kind)
      diags_.error(r.key_pos(key),
                   std::string("'") + key + "' is for kind " + kind + ", not " + spec.kind);
  // Labels its alerts carry besides dosim's own (routing, inhibition, grouping).
  if (auto labels = r.value("labels")) {
    const std::vector<std::string> reserved = {"alertname", "detector", "metric",
                                               "service",   "severity", "target"};
    for (const MapEntry& entry : read_entries(*labels, "'labels'", diags_)) {
      auto value = read_text(entry.value, entry.value_pos(), "a label value", diags_);
      if (!value) continue;
      // As every label's (read_labels): a name, one line each (they are printed in the run's
      // lines and sent to Alertmanager).
      if (entry.key.empty()) diags_.error(entry.key_pos(), "a label name must not be empty");
      check_one_line(entry.key, entry.key_pos(), "a label name");
      check_one_line(*value, entry.value_pos(), "a label value");
      if (std::find(reserved.begin(), reserved.end(), entry.key) != reserved.end())
        diags_.error(entry.key_pos(), "'" + entry.key + "' is a label dosim sets on every alert");
      else
        spec.labels.emplace_back(entry.key, *value);
    }
  }
  if (r.has("direction")) spec.direction_pos = r.key_pos("direction");
  if (auto direction = r.text("direction")) {
    if (*direction == "up" || *direction == "down" || *direction == "both")
      spec.direction = *direction == "up" ? 1 : *direction == "down" ? -1 : 0;
    else
      diags_.error(r.value_pos("direction"),
                   "'direction' must be up, down or both, got '" + *direction + "'");
  }
  if (auto critical = r.value("critical_when")) {
    MapReader when(*critical, "critical_when", {"metric", "above", "at_least"}, diags_);
    if (when.is_map()) {
      spec.critical_metric = when.text("metric", Need::kRequired).value_or("");
      if (!spec.critical_metric.empty() && !known.empty() &&
          std::find(known.begin(), known.end(), spec.critical_metric) == known.end())
        diags_.error(when.value_pos("metric"), "unknown " + spec.family + " metric '" +
                                                   spec.critical_metric + "'" +
                                                   did_you_mean(spec.critical_metric, known));
      // `above` (strictly) or `at_least`, one of them.
      if (when.has("above") == when.has("at_least"))
        diags_.error(when.pos(), when.has("above")
                                     ? "give 'above' or 'at_least' in critical_when, not both"
                                     : "critical_when needs 'above: VALUE' (strictly above) or "
                                       "'at_least: VALUE'");
      spec.critical_inclusive = when.has("at_least") && !when.has("above");
      spec.critical_above =
          when.number(spec.critical_inclusive ? "at_least" : "above", Range::any()).value_or(0);
    }
  }
  // Edge and endpoint series exist only for declared dependencies and endpoints: without any,
  // the detector is never made and never alerts (`metrics: []`, which says so itself, is an
  // error above).
  if (!spec.metrics.empty())
    if (std::string why = watches_no_series(scenario_, spec.family, spec.name); !why.empty())
      diags_.warning(spec.pos, std::move(why));
  scenario_.detectors.push_back(std::move(spec));
}

void Loader::read_incident_rule(const YAML::Node& node, int index) {
  MapReader r(node, "incident rule",
              {"name", "detector", "poll", "decay", "stream_threshold", "threshold"}, diags_);
  if (!r.is_map()) return;
  IncidentRuleSpec rule;
  rule.pos = r.pos();
  rule.name = r.has("name") ? read_name(r, Need::kOptional) : "rule-" + std::to_string(index);
  const SourcePos name_pos = r.has("name") ? r.value_pos("name") : rule.pos;
  if (!rule.name.empty() && incident_rules_.claim(rule.name, index, name_pos) >= 0)
    diags_.error(name_pos,
                 duplicate_name("incident rule", rule.name, incident_rules_.where(rule.name)));
  if (auto detector = r.text("detector", Need::kRequired)) {
    if (detectors_.find(*detector) < 0)
      diags_.error(r.value_pos("detector"),
                   "unknown detector '" + *detector + "'" + suggest(*detector, [&] {
                     return names_of(scenario_.detectors);
                   }) + " (incident rules watch a declared detector)");
    rule.detector = *detector;
  }
  // The default is 5 s, or the tick where ticks are longer: two polls a tick would decay the
  // accumulators at every second one (tick 10s: the rule never opened an incident).
  rule.poll = r.duration("poll", Range::above(0)).value_or(std::max(rule.poll, scenario_.tick));
  // A rule polls the ticks since its last poll: a second poll within a tick sees none and
  // decays the accumulators, which then never grow.
  if (r.has("poll") && rule.poll > 0 && rule.poll < scenario_.tick)
    diags_.error(r.value_pos("poll"), "'poll' (" + format_duration(rule.poll) +
                                          ") is shorter than the tick (" +
                                          format_duration(scenario_.tick) + ")");
  rule.decay = r.number("decay", Range::at_least(0)).value_or(rule.decay);
  if (auto per_stream = r.value("stream_threshold"); per_stream && per_stream->IsMap()) {
    // One per stream or column, `default` for the rest (the detector's streams are known
    // when the run starts: detectors/runner.cc checks the keys then).
    for (const MapEntry& entry : read_entries(*per_stream, "stream_threshold", diags_)) {
      const auto value =
          read_number(entry.value, entry.value_pos(), "stream_threshold '" + entry.key + "'",
                      Range::at_least(0), diags_);
      if (!value) continue;
      if (entry.key == "default")
        rule.stream_threshold = *value;
      else
        rule.stream_thresholds.push_back({entry.key, *value, entry.key_pos()});
    }
  } else {
    rule.stream_threshold =
        r.number("stream_threshold", Range::at_least(0)).value_or(rule.stream_threshold);
  }
  rule.threshold = r.number("threshold", Range::at_least(0)).value_or(rule.threshold);
  scenario_.incident_rules.push_back(std::move(rule));
}

}  // namespace dosim::loader
