// The `remediation:` section: playbooks that answer alerts with actions (docs/remediation.md).
#include <algorithm>
#include <cmath>

#include "dosim/engine/frame.h"
#include "scenario_loader_internal.h"

namespace dosim::loader {

namespace {

struct ActionKeys {
  const char* name;
  PlaybookStep::Action action;
  std::vector<std::string> keys;  // besides action and approval
};

const std::vector<ActionKeys>& action_keys() {
  using A = PlaybookStep::Action;
  static const std::vector<ActionKeys> kActions = {
      {"rollback", A::kRollback, {"change", "target", "ranker"}},
      {"scale", A::kScale, {"by"}},
      {"restart", A::kRestart, {"replicas", "restart_time"}},
      {"flag-off", A::kFlagOff, {"change"}},
      {"revert-config", A::kRevertConfig, {"change"}},
      {"failover", A::kFailover, {"region"}},
      {"drain", A::kDrain, {"zone", "for"}},
      {"timeout", A::kTimeout, {"to", "callee"}},
      {"shed", A::kShed, {"fraction"}},
  };
  return kActions;
}

}  // namespace

void Loader::read_playbook_step(const YAML::Node& node, PlaybookSpec& spec) {
  MapReader s(node, "step",
              {"action", "by", "change", "target", "ranker", "replicas", "restart_time", "region",
               "zone", "for", "to", "callee", "fraction", "approval"},
              diags_);
  if (!s.is_map()) return;
  PlaybookStep step;
  step.pos = s.pos();
  const std::string action = s.text("action", Need::kRequired).value_or("");
  const ActionKeys* found = nullptr;
  std::vector<std::string> names;
  for (const ActionKeys& a : action_keys()) {
    names.push_back(a.name);
    if (action == a.name) found = &a;
  }
  if (!found) {
    if (!action.empty()) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      diags_.error(s.value_pos("action"), "'action' must be one of " + list + ", got '" + action +
                                              "'" + did_you_mean(action, names));
    }
    spec.steps.push_back(step);
    return;
  }
  step.action = found->action;
  for (const char* key : {"by", "change", "target", "ranker", "replicas", "restart_time", "region",
                          "zone", "for", "to", "callee", "fraction"})
    if (s.has(key) && std::find(found->keys.begin(), found->keys.end(), key) == found->keys.end()) {
      std::string owners;
      for (const ActionKeys& a : action_keys())
        if (std::find(a.keys.begin(), a.keys.end(), key) != a.keys.end())
          owners += std::string(owners.empty() ? "" : " or ") + a.name;
      diags_.error(s.key_pos(key), std::string("'") + key + "' is for action: " + owners);
    }
  using A = PlaybookStep::Action;
  switch (step.action) {
    case A::kScale:
      step.by = static_cast<int>(s.integer("by", Range::closed(-1000, 1000)).value_or(1));
      if (step.by == 0) diags_.error(s.value_pos("by"), "'by' must not be 0");
      break;
    case A::kRollback:
    case A::kFlagOff:
    case A::kRevertConfig: {
      if (auto change = s.text("change")) {
        step.change = *change;
        const ChangeSpec* named = nullptr;
        std::vector<std::string> known;
        for (const ChangeSpec& c : scenario_.changes) {
          known.push_back(c.name);
          if (c.name == *change) named = &c;
        }
        if (!named) {
          diags_.error(s.value_pos("change"),
                       "no change named '" + *change + "'" + did_you_mean(*change, known));
        } else if (step.action == A::kFlagOff && named->kind != ChangeKind::kFeatureFlag) {
          diags_.error(s.value_pos("change"), "change '" + *change + "' is not a feature-flag");
        } else if (step.action == A::kRevertConfig && named->kind != ChangeKind::kConfig) {
          diags_.error(s.value_pos("change"), "change '" + *change + "' is not a config");
        } else if (named->kind == ChangeKind::kTrafficShift) {
          diags_.error(
              s.value_pos("change"),
              "change '" + *change + "' is a traffic-shift: there is nothing to roll back");
        }
      }
      if (auto target = s.text("target")) {
        if (*target == "rca") {
          step.ranker = s.text("ranker").value_or("change");
          step.ranker_pos = s.has("ranker") ? s.value_pos("ranker") : step.pos;
          if (s.has("change"))
            diags_.error(s.key_pos("target"), "give 'change' or 'target: rca', not both");
        } else if (*target != "service") {
          diags_.error(s.value_pos("target"), "'target' must be service or rca, got '" + *target +
                                                  "'" + did_you_mean(*target, {"service", "rca"}));
        }
      }
      if (s.has("ranker") && step.ranker.empty() && step.action == A::kRollback)
        diags_.error(s.key_pos("ranker"), "'ranker' is for target: rca");
      break;
    }
    case A::kRestart:
      step.replicas = static_cast<int>(s.integer("replicas", Range::closed(1, 1e6)).value_or(0));
      step.restart_time = s.duration("restart_time", Range::above(0)).value_or(step.restart_time);
      break;
    case A::kFailover:
      if (auto region = s.text("region", Need::kRequired)) {
        step.region = *region;
        if (regions_.find(*region) < 0) {
          diags_.error(s.value_pos("region"),
                       "unknown region '" + *region + "'" +
                           suggest(*region, [&] { return names_of(scenario_.regions); }));
        } else {
          bool served = false;
          for (const TrafficSpec& traffic : scenario_.traffic)
            served = served || traffic.region_index(*region) >= 0;
          if (!served)
            diags_.error(s.value_pos("region"), "no regional traffic is served in region '" +
                                                    *region +
                                                    "': a failover moves regional traffic "
                                                    "(traffic with 'regions')");
        }
      }
      break;
    case A::kDrain:
      if (auto zone = s.text("zone", Need::kRequired)) {
        step.zone = *zone;
        if (zones_.find(*zone) < 0)
          diags_.error(s.value_pos("zone"), "unknown zone '" + *zone + "'");
      }
      if (auto span = s.duration("for", Range::above(0))) step.drain_for = *span;
      break;
    case A::kTimeout:
      step.timeout = s.duration("to", Range::above(0), Need::kRequired).value_or(0);
      if (auto callee = s.text("callee")) {
        step.callee = *callee;
        if (services_.find(*callee) < 0)
          diags_.error(s.value_pos("callee"), "unknown service '" + *callee + "'");
      }
      break;
    case A::kShed:
      if (auto fraction = s.number("fraction", Range{0, 1, true, false}, Need::kRequired))
        step.fraction = *fraction;
      break;
  }
  step.approval = s.duration("approval", Range::at_least(0)).value_or(0);
  spec.steps.push_back(step);
}

// A match naming a detector, incident rule, receiver or alert severity the scenario does not
// have never triggers: a warning (not an error: a script may still declare a detector).
void Loader::warn_never_matches(MapReader& m, const PlaybookSpec& spec) {
  const auto warn_unless = [&](const char* key, const std::string& value,
                               const std::vector<std::string>& known, const std::string& what) {
    if (value.empty() || std::find(known.begin(), known.end(), value) != known.end()) return;
    diags_.warning(m.value_pos(key), "the scenario has no " + what + " '" + value +
                                         "': the playbook never matches" +
                                         did_you_mean(value, known));
  };
  if (spec.source == PlaybookSpec::Source::kIncident) {
    warn_unless("detector", spec.detector, names_of(scenario_.incident_rules), "incident rule");
    return;
  }
  if (spec.source == PlaybookSpec::Source::kNotification)
    warn_unless("receiver", spec.receiver, scenario_.alertmanager.receivers, "receiver");
  // Alerts, and the alerts a notification carries: their detector and severity.
  if (!scenario_.detectors_given || !scenario_.script.empty()) return;
  std::vector<std::string> detectors, severities;
  for (const DetectorSpec& d : scenario_.detectors) {
    detectors.push_back(d.name);
    for (const std::string& severity :
         {d.severity, d.critical_metric.empty() ? d.severity : std::string("critical")})
      if (std::find(severities.begin(), severities.end(), severity) == severities.end())
        severities.push_back(severity);
  }
  warn_unless("detector", spec.detector, detectors, "detector");
  warn_unless("severity", spec.severity, severities, "alert severity");
  if (spec.source != PlaybookSpec::Source::kAlert || spec.labels.empty()) return;
  // `labels` match the labels a detector carries: one (the named one) must carry them all.
  for (const DetectorSpec& d : scenario_.detectors) {
    if (!spec.detector.empty() && d.name != spec.detector) continue;
    bool all = true;
    for (const auto& label : spec.labels)
      all = all && std::find(d.labels.begin(), d.labels.end(), label) != d.labels.end();
    if (all) return;
  }
  diags_.warning(m.value_pos("labels"),
                 (spec.detector.empty() ? std::string("no detector carries")
                                        : "detector '" + spec.detector + "' does not carry") +
                     " all of these labels: the playbook never matches");
}

void Loader::read_playbook(const YAML::Node& node, std::size_t index) {
  MapReader r(
      node, "playbook",
      {"name", "match", "responder", "after", "ack", "investigate", "steps", "verify", "cooldown"},
      diags_);
  if (!r.is_map()) return;
  PlaybookSpec spec;
  spec.pos = r.pos();
  spec.name = r.has("name") ? read_name(r, Need::kOptional) : "playbook-" + std::to_string(index);
  for (const PlaybookSpec& other : scenario_.playbooks)
    if (other.name == spec.name)
      diags_.error(r.has("name") ? r.value_pos("name") : spec.pos,
                   duplicate_name("playbook", spec.name, other.pos));
  if (auto match = r.value("match", Need::kRequired)) {
    MapReader m(*match, "match",
                {"source", "detector", "severity", "metric", "services", "receiver", "labels"},
                diags_);
    const std::string source = m.text("source").value_or("alerts");
    if (source == "notifications") {
      spec.source = PlaybookSpec::Source::kNotification;
    } else if (source == "incidents") {
      spec.source = PlaybookSpec::Source::kIncident;
    } else if (source != "alerts") {
      const std::vector<std::string> sources = {"alerts", "notifications", "incidents"};
      diags_.error(m.value_pos("source"),
                   "'source' must be alerts, notifications or incidents, "
                   "got '" +
                       source + "'" + did_you_mean(source, sources));
    }
    spec.detector = m.text("detector").value_or("");
    spec.severity = m.text("severity").value_or("");
    spec.receiver = m.text("receiver").value_or("");
    if (auto labels = m.value("labels")) spec.labels = read_labels(*labels);
    if (auto metric = m.text("metric")) {
      spec.metric = *metric;
      const std::vector<std::string> known(kServiceMetricNames.begin(), kServiceMetricNames.end());
      if (std::find(known.begin(), known.end(), *metric) == known.end())
        diags_.error(m.value_pos("metric"),
                     "unknown service metric '" + *metric + "'" + did_you_mean(*metric, known));
    }
    if (m.has("services")) {
      spec.services = read_services(m, "services", Need::kOptional);
      if (const auto list = m.value("services"); list && list->IsSequence() && list->size() == 0)
        diags_.error(m.value_pos("services"),
                     "'services' lists no service: leave it out to match every service");
    }
    warn_never_matches(m, spec);
    // What each source carries: a notification has a receiver, an incident a rule and a
    // Sev level; the alert fields belong to alerts.
    const auto only_for = [&](const char* key, PlaybookSpec::Source wanted, const char* name) {
      if (m.has(key) && spec.source != wanted)
        diags_.error(m.key_pos(key), std::string("'") + key + "' is for source: " + name);
    };
    only_for("receiver", PlaybookSpec::Source::kNotification, "notifications");
    for (const char* key : {"metric", "labels"})
      only_for(key, PlaybookSpec::Source::kAlert, "alerts");
    if (spec.source == PlaybookSpec::Source::kIncident && !spec.severity.empty() &&
        spec.severity != "sev1" && spec.severity != "sev2" && spec.severity != "sev3")
      diags_.error(m.value_pos("severity"),
                   "an incident's 'severity' is sev1, sev2 or sev3, got '" + spec.severity + "'");
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
  if (r.has("after") && duration_ && spec.after >= *duration_)
    diags_.warning(r.value_pos("after"),
                   "'after' (" + format_duration(spec.after) + ") is not shorter than the run (" +
                       format_duration(*duration_) + "): the playbook never acts");
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
  // (A steps value that is not a list has been said already: an empty Lua table reads as one.)
  if (steps.empty() && r.has("steps") && !r.value("steps")->IsMap())
    diags_.error(r.value_pos("steps"), "'steps' must list at least one step");
  for (const YAML::Node& step_node : steps) read_playbook_step(step_node, spec);
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

void Loader::read_remediation(const YAML::Node& node) {
  MapReader top(node, "remediation",
                {"playbooks", "max_actions_per_hour", "slo", "customer_report"}, diags_);
  if (!top.is_map()) return;
  scenario_.max_actions_per_hour =
      static_cast<int>(top.integer("max_actions_per_hour", Range::closed(0, 1e6)).value_or(0));
  scenario_.slo = top.number("slo", Range{0, 1, true, true}).value_or(scenario_.slo);
  scenario_.customer_report =
      top.duration("customer_report", Range::above(0)).value_or(scenario_.customer_report);
  const std::vector<YAML::Node> playbooks = top.list("playbooks", Need::kRequired);
  for (std::size_t index = 0; index < playbooks.size(); ++index)
    read_playbook(playbooks[index], index);
}

PlaybookSpec Loader::single_playbook(const YAML::Node& node) {
  const std::size_t before = scenario_.playbooks.size();
  read_playbook(node, before);
  if (diags_.empty() && scenario_.playbooks.size() != before + 1)
    diags_.error(pos_of(node), "expected one playbook");
  diags_.throw_if_any();
  return std::move(scenario_.playbooks.back());
}

}  // namespace dosim::loader

namespace dosim {

PlaybookSpec parse_playbook(const Scenario& scenario, const YAML::Node& node,
                            const std::string& file) {
  try {
    return loader::Loader(scenario, file).single_playbook(node);
  } catch (const YAML::Exception& e) {
    throw InputError(file, std::string("cannot read the YAML: ") + e.what());
  }
}

}  // namespace dosim
