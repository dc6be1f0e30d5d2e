#include "dosim/analysis/prometheus_rules.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "dosim/error.h"
#include "engine/yaml_reader.h"
#include "util/input_file.h"
#include "util/prometheus_duration.h"

namespace dosim {
namespace {

Diagnostic at(const std::string& path, const YAML::Node& node, const std::string& message) {
  const YAML::Mark mark = node.Mark();
  const bool has = !mark.is_null() && mark.line >= 0;
  return Diagnostic{path, has ? mark.line + 1 : 0, has ? mark.column + 1 : 0, message};
}

// Where a label template's refused construct is in the file: the value's position moved
// along its one-line plain, single- or double-quoted scalar to `offset`; the value's own
// position for other scalars (block, or folded over lines).
Diagnostic template_problem(const std::string& path, const std::string& text,
                            const YAML::Node& node, const std::string& label,
                            const LabelTemplateError& error) {
  Diagnostic d = at(path, node, "label '" + label + "': " + error.message);
  const YAML::Mark mark = node.Mark();
  if (d.line == 0) return d;
  std::size_t line_start = 0;
  for (int row = 0; row < mark.line && line_start != std::string::npos; ++row) {
    line_start = text.find('\n', line_start);
    if (line_start != std::string::npos) ++line_start;
  }
  if (line_start == std::string::npos) return d;
  std::size_t source = line_start + static_cast<std::size_t>(mark.column);
  if (source >= text.size()) return d;
  const char style = text[source];
  const bool quoted = style == '\'' || style == '"';
  if (!quoted && (style == '|' || style == '>')) return d;
  if (quoted) ++source;
  for (std::size_t k = 0; k < error.offset; ++k) {
    if (source >= text.size() || text[source] == '\n' || text[source] == '\r') return d;
    if (style == '\'' && text[source] == '\'')
      source += 2;  // '' is one quote
    else if (style == '"' && text[source] == '\\')
      source += text.compare(source + 1, 1, "x") == 0   ? 4
                : text.compare(source + 1, 1, "u") == 0 ? 6
                : text.compare(source + 1, 1, "U") == 0 ? 10
                                                        : 2;
    else
      ++source;
  }
  if (source >= text.size() || source < line_start) return d;
  d.column = static_cast<int>(source - line_start) + 1;
  return d;
}

}  // namespace

bool AlertingRule::labels_use_value() const {
  return std::any_of(labels.begin(), labels.end(),
                     [](const auto& label) { return label.second.uses_value(); });
}

RuleLabels alert_labels(const AlertingRule& rule, const RuleLabels& series, double value) {
  RuleLabels labels;
  for (const auto& entry : series)
    if (entry.first != "__name__") labels.push_back(entry);
  for (const auto& label : rule.labels) {  // no structured binding: clang < 16 cannot
                                           // capture one in the lambda below
    const std::string& name = label.first;
    std::string expanded = label.second.expand(series, value);
    std::erase_if(labels, [&](const auto& entry) { return entry.first == name; });
    if (!expanded.empty()) labels.emplace_back(name, std::move(expanded));
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

SimTime parse_prometheus_duration(const std::string& text) { return prometheus_duration_ns(text); }

RuleFile read_rule_file(const std::string& path) {
  std::string reason;
  const auto text = read_input_file(path, kMaxScenarioBytes, reason);
  if (!text) throw InputError(path, "cannot read file: " + reason);
  YAML::Node root;
  try {
    root = YAML::Load(*text);
    if (std::optional<Diagnostic> aliases = alias_expansion_problem(*text, path))
      throw InputError({std::move(*aliases)});
  } catch (const YAML::Exception& e) {
    const bool has = !e.mark.is_null() && e.mark.line >= 0;
    throw InputError({Diagnostic{path, has ? e.mark.line + 1 : 0, has ? e.mark.column + 1 : 0,
                                 "YAML syntax error: " + e.msg}});
  }
  std::vector<Diagnostic> problems;
  RuleFile file;
  // An empty file, or one without groups, is a valid rule file (promtool: 0 rules found):
  // it has no rule to evaluate.
  if (!root.IsDefined() || root.IsNull() ||
      (root.IsMap() && (!root["groups"] || root["groups"].IsNull())))
    return RuleFile{};
  if (!root.IsMap() || !root["groups"].IsSequence()) {
    throw InputError(path, "a Prometheus rule file is a mapping with a list of 'groups'");
  }
  for (const YAML::Node& group : root["groups"]) {
    if (!group.IsMap()) {
      problems.push_back(at(path, group, "a rule group is a mapping (name, interval, rules)"));
      continue;
    }
    const std::string name =
        group["name"] && group["name"].IsScalar() ? group["name"].Scalar() : "";
    SimTime interval = 0;
    if (group["interval"]) {
      interval =
          group["interval"].IsScalar() ? parse_prometheus_duration(group["interval"].Scalar()) : -1;
      // 0 (as promtool takes it) is the global evaluation interval, as no interval is.
      if (interval < 0)
        problems.push_back(at(path, group["interval"], "'interval' is not a duration such as 30s"));
      interval = std::max<SimTime>(interval, 0);
    }
    // `limit:` (0: none). Prometheus fails an alerting rule's evaluation that returns more
    // alerts than that, and a recording rule's that returns more series; promtool's backfill
    // of recording rules ignores it, so dosim takes it on alerting rules only.
    std::size_t limit = 0;
    if (group["limit"] && !group["limit"].IsNull()) {
      const std::string text = group["limit"].IsScalar() ? group["limit"].Scalar() : "";
      const bool digits =
          !text.empty() && text.size() <= 9 &&
          std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (digits)
        limit = std::stoul(text);
      else
        problems.push_back(
            at(path, group["limit"], "'limit' is not a non-negative integer such as 10"));
    }
    if (!group["rules"] || !group["rules"].IsSequence()) continue;
    bool records = false;
    for (const YAML::Node& rule : group["rules"]) {
      if (!rule.IsMap()) {
        problems.push_back(at(path, rule, "a rule is a mapping"));
        continue;
      }
      if (rule["record"]) {
        ++file.recording_rules;
        if (rule["record"].IsScalar()) {
          file.recorded.push_back(rule["record"].Scalar());
          if (rule["expr"] && rule["expr"].IsScalar()) {
            RecordingRule recording{rule["record"].Scalar(), 0, 0, rule["expr"].Scalar(), interval};
            if (const YAML::Mark mark = rule["record"].Mark(); !mark.is_null() && mark.line >= 0) {
              recording.line = mark.line + 1;
              recording.column = mark.column + 1;
            }
            file.recordings.push_back(std::move(recording));
          }
        }
        records = true;
        continue;
      }
      if (!rule["alert"] || !rule["expr"]) {
        problems.push_back(at(path, rule, "a rule needs 'alert' (or 'record') and 'expr'"));
        continue;
      }
      if (rule["keep_firing_for"])
        problems.push_back(at(path, rule["keep_firing_for"],
                              "'keep_firing_for' is not simulated by dosim rules score"));
      AlertingRule alert;
      alert.group = name;
      alert.name = rule["alert"].as<std::string>();
      if (const YAML::Mark mark = rule["alert"].Mark(); !mark.is_null() && mark.line >= 0) {
        alert.line = mark.line + 1;
        alert.column = mark.column + 1;
      }
      alert.expr = rule["expr"].as<std::string>();
      alert.interval = interval;
      alert.limit = limit;
      if (rule["for"]) {
        alert.hold = rule["for"].IsScalar() ? parse_prometheus_duration(rule["for"].Scalar()) : -1;
        if (alert.hold < 0)
          problems.push_back(at(path, rule["for"], "'for' is not a duration such as 5m"));
      }
      if (rule["labels"] && rule["labels"].IsMap())
        for (const auto& entry : rule["labels"]) {
          const std::string name = entry.first.as<std::string>();
          const std::string value = entry.second.IsScalar() ? entry.second.Scalar() : "";
          LabelTemplateError error;
          if (auto parsed = LabelTemplate::parse(value, error))
            alert.labels.emplace_back(name, std::move(*parsed));
          else
            problems.push_back(template_problem(path, *text, entry.second, name, error));
        }
      file.alerts.push_back(std::move(alert));
    }
    if (records && limit > 0)
      problems.push_back(at(path, group["limit"],
                            "'limit' on a group with recording rules is not simulated by dosim "
                            "rules score: promtool tsdb create-blocks-from rules, which records "
                            "their series, ignores it (give the recording rules a group without "
                            "'limit')"));
  }
  if (!problems.empty()) throw InputError(problems);
  return file;
}

std::vector<std::pair<SimTime, SimTime>> firing_windows(const std::vector<SimTime>& times,
                                                        const std::vector<bool>& present,
                                                        SimTime hold) {
  std::vector<std::pair<SimTime, SimTime>> windows;
  SimTime active_since = -1, fired = -1;
  for (std::size_t k = 0; k < times.size(); ++k) {
    if (k < present.size() && present[k]) {
      if (active_since < 0) active_since = times[k];
      if (fired < 0 && times[k] - active_since >= hold) fired = times[k];
    } else {
      if (fired >= 0) windows.emplace_back(fired, times[k]);
      active_since = fired = -1;
    }
  }
  if (fired >= 0) windows.emplace_back(fired, -1);
  return windows;
}

std::vector<std::size_t> apply_alert_limit(std::vector<std::vector<bool>>& present,
                                           std::size_t limit) {
  std::vector<std::size_t> failed;
  if (limit == 0) return failed;
  std::size_t evaluations = 0;
  for (const std::vector<bool>& series : present)
    evaluations = std::max(evaluations, series.size());
  for (std::size_t k = 0; k < evaluations; ++k) {
    std::size_t returned = 0;
    for (const std::vector<bool>& series : present) returned += k < series.size() && series[k];
    if (returned <= limit) continue;
    failed.push_back(k);
    for (std::vector<bool>& series : present)
      if (k < series.size()) series[k] = false;
  }
  return failed;
}

}  // namespace dosim
