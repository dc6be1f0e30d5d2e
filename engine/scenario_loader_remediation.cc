// The `remediation:` section: playbooks that answer alerts with actions (docs/remediation.md).
#include <algorithm>
#include <cmath>

#include "dosim/engine/frame.h"
#include "scenario_loader_internal.h"

namespace dosim::loader {

void Loader::read_remediation(const YAML::Node& node) {
  MapReader top(node, "remediation", {"playbooks", "max_actions_per_hour"}, diags_);
  if (!top.is_map()) return;
  scenario_.max_actions_per_hour =
      static_cast<int>(top.integer("max_actions_per_hour", Range::closed(0, 1e6)).value_or(0));
  const std::vector<YAML::Node> playbooks = top.list("playbooks", Need::kRequired);
  std::vector<std::string> names;
  for (std::size_t index = 0; index < playbooks.size(); ++index) {
    MapReader r(playbooks[index], "playbook",
                {"name", "match", "responder", "after", "ack", "investigate", "steps", "verify",
                 "cooldown"},
                diags_);
    if (!r.is_map()) continue;
    PlaybookSpec spec;
    spec.pos = r.pos();
    spec.name = r.has("name") ? read_name(r, Need::kOptional) : "playbook-" + std::to_string(index);
    if (std::find(names.begin(), names.end(), spec.name) != names.end())
      diags_.error(r.value_pos("name"), "duplicate playbook name '" + spec.name + "'");
    names.push_back(spec.name);
    if (auto match = r.value("match", Need::kRequired)) {
      MapReader m(*match, "match", {"detector", "severity", "metric", "services"}, diags_);
      spec.detector = m.text("detector").value_or("");
      spec.severity = m.text("severity").value_or("");
      if (auto metric = m.text("metric")) {
        spec.metric = *metric;
        const std::vector<std::string> known(kServiceMetricNames.begin(),
                                             kServiceMetricNames.end());
        if (std::find(known.begin(), known.end(), *metric) == known.end())
          diags_.error(m.value_pos("metric"),
                       "unknown service metric '" + *metric + "'" + did_you_mean(*metric, known));
      }
      if (m.has("services")) spec.services = read_services(m, "services", Need::kOptional);
    }
    const std::string responder = r.text("responder").value_or("automation");
    if (responder == "oncall") {
      spec.oncall = true;
    } else if (responder != "automation") {
      diags_.error(r.value_pos("responder"), "'responder' must be automation or oncall, got '" +
                                                 responder + "'" +
                                                 did_you_mean(responder, {"automation", "oncall"}));
    }
    spec.after = r.duration("after", Range::at_least(0)).value_or(spec.after);
    if (r.has("after") && spec.oncall)
      diags_.error(r.key_pos("after"),
                   "'after' is automation's latency; an oncall responder "
                   "takes 'ack' and 'investigate'");
    if (auto ack = r.value("ack")) {
      MapReader a(*ack, "ack", {"median", "p90", "off_hours"}, diags_);
      spec.ack_median = a.duration("median", Range::above(0)).value_or(spec.ack_median);
      spec.ack_p90 = a.duration("p90", Range::above(0)).value_or(spec.ack_p90);
      if (spec.ack_p90 < spec.ack_median)
        diags_.error(a.pos(), "'ack' p90 (" + format_duration(spec.ack_p90) +
                                  ") must be at least its median (" +
                                  format_duration(spec.ack_median) + ")");
      if (auto off = a.value("off_hours")) {
        MapReader o(*off, "off_hours", {"median", "p90"}, diags_);
        spec.off_hours_median = o.duration("median", Range::above(0), Need::kRequired);
        spec.off_hours_p90 = o.duration("p90", Range::above(0), Need::kRequired);
        if (spec.off_hours_median && spec.off_hours_p90 &&
            *spec.off_hours_p90 < *spec.off_hours_median)
          diags_.error(o.pos(), "'off_hours' p90 (" + format_duration(*spec.off_hours_p90) +
                                    ") must be at least its median (" +
                                    format_duration(*spec.off_hours_median) + ")");
      }
    }
    spec.investigate = r.duration("investigate", Range::at_least(0)).value_or(spec.investigate);
    if (!spec.oncall)
      for (const char* key : {"ack", "investigate"})
        if (r.has(key))
          diags_.error(r.key_pos(key),
                       std::string("'") + key + "' is for an oncall responder (responder: oncall)");
    const std::vector<YAML::Node> steps = r.list("steps", Need::kRequired);
    if (steps.empty() && r.has("steps"))
      diags_.error(r.value_pos("steps"), "'steps' must list at least one step");
    for (const YAML::Node& step_node : steps) {
      MapReader s(step_node, "step", {"action", "by", "approval"}, diags_);
      if (!s.is_map()) continue;
      PlaybookStep step;
      step.pos = s.pos();
      const std::string action = s.text("action", Need::kRequired).value_or("");
      if (action == "rollback") {
        step.action = PlaybookStep::Action::kRollback;
        if (s.has("by")) diags_.error(s.key_pos("by"), "'by' is for action: scale");
      } else if (action == "scale") {
        step.action = PlaybookStep::Action::kScale;
        step.by = static_cast<int>(s.integer("by", Range::closed(-1000, 1000)).value_or(1));
        if (step.by == 0) diags_.error(s.value_pos("by"), "'by' must not be 0");
      } else if (!action.empty()) {
        diags_.error(s.value_pos("action"), "'action' must be rollback or scale, got '" + action +
                                                "'" + did_you_mean(action, {"rollback", "scale"}));
      }
      step.approval = s.duration("approval", Range::at_least(0)).value_or(0);
      spec.steps.push_back(step);
    }
    if (auto verify = r.value("verify")) {
      MapReader v(*verify, "verify", {"metric", "below", "within"}, diags_);
      spec.verify_metric = v.text("metric", Need::kRequired).value_or("");
      const std::vector<std::string> known(kServiceMetricNames.begin(), kServiceMetricNames.end());
      if (!spec.verify_metric.empty() &&
          std::find(known.begin(), known.end(), spec.verify_metric) == known.end())
        diags_.error(v.value_pos("metric"), "unknown service metric '" + spec.verify_metric + "'" +
                                                did_you_mean(spec.verify_metric, known));
      spec.verify_below = v.number("below", Range::at_least(0), Need::kRequired).value_or(0);
      spec.verify_within = v.duration("within", Range::above(0)).value_or(spec.verify_within);
    }
    spec.cooldown = r.duration("cooldown", Range::at_least(0)).value_or(spec.cooldown);
    scenario_.playbooks.push_back(std::move(spec));
  }
}

}  // namespace dosim::loader
