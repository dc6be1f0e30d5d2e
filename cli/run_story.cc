#include "run_story.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace dosim::cli {

std::string story_stamp(SimTime t) {
  const std::int64_t s = t / kSecond;
  char text[32];
  if (s >= 86400)
    std::snprintf(text, sizeof text, "%lldd %02lld:%02lld:%02lld",
                  static_cast<long long>(s / 86400), static_cast<long long>(s / 3600 % 24),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return text;
}

namespace {

std::string fault_target(const Scenario& scenario, const FaultSpec& fault) {
  const FaultTarget& t = fault.target;
  if (t.is_edge()) return scenario.edge_name(t.dependency);
  if (!t.zone.empty()) return "zone " + t.zone;
  if (!t.region.empty()) return "region " + t.region;
  if (t.is_split()) return "partition";
  if (!t.labels.empty()) return "labelled services";
  std::string name = t.service >= 0 ? scenario.services[t.service].name : "?";
  if (t.endpoint >= 0) name += " " + scenario.services[t.service].endpoints[t.endpoint].name;
  return name;
}

}  // namespace

std::vector<StoryEvent> run_story(const Scenario& scenario, const std::vector<ChangeEvent>& changes,
                                  const std::vector<Alert>& alerts,
                                  const std::vector<DetectedIncident>& detected, SimTime simulated,
                                  const std::vector<ScriptLogLine>& script_log,
                                  const std::vector<RemediationAction>& remediation) {
  std::vector<StoryEvent> story;
  auto add = [&](SimTime t, std::string kind, std::string text, nlohmann::ordered_json detail) {
    if (t > simulated) return;
    detail["t_ns"] = t;
    detail["kind"] = kind;
    story.push_back({t, std::move(kind), std::move(text), detail.dump()});
  };
  for (const FaultSpec& fault : scenario.faults) {
    if (fault.duration == 0) continue;  // stopped before it started (a script's fault:stop())
    const std::string target = fault_target(scenario, fault);
    add(fault.start, "fault-start",
        std::string("FAULT  ") + fault_kind_name(fault.kind) + " on " + target + " (" + fault.name +
            ")",
        {{"fault", fault.name}, {"cause", fault_kind_name(fault.kind)}, {"target", target}});
    add(fault.start + fault.duration, "fault-end", "FAULT  ended: " + fault.name,
        {{"fault", fault.name}});
  }
  // A responder's change follows what set it off at the same instant (an alert with `after:
  // 0s`): added after the alerts and incidents; the stable sort keeps that order.
  const auto by_responder = [](const ChangeEvent& change) {
    return change.cause.starts_with("playbook ");
  };
  const auto add_change = [&](const ChangeEvent& change) {
    add(change.time, "change",
        "CHANGE " + change.kind + " " + change.target + ": " + change.from + " -> " + change.to,
        {{"change", change.kind},
         {"target", change.target},
         {"from", change.from},
         {"to", change.to}});
  };
  for (const ChangeEvent& change : changes)
    if (!by_responder(change)) add_change(change);
  for (const Alert& alert : alerts) {
    const std::string service =
        alert.service >= 0 ? scenario.services[alert.service].name : "the system";
    std::string upper = alert.severity;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    // An edge's or endpoint's alert names its column; a service's, the service.
    const std::string where =
        alert.target.empty() || alert.target == service ? service : alert.target;
    add(alert.time, "alert",
        "ALERT  " + upper + " " + alert.metric + " anomalous in " + where + " (" + alert.detector +
            ")",
        {{"detector", alert.detector},
         {"service", service},
         {"target", alert.target},
         {"metric", alert.metric},
         {"severity", alert.severity}});
  }
  // Each change of a declared incident at its own time, with the streams hot then.
  for (const DetectedIncident& incident : detected) {
    for (const IncidentChange& change : incident.timeline) {
      char temperature[32];
      std::snprintf(temperature, sizeof temperature, "%.0f", change.temperature);
      nlohmann::ordered_json accumulators = nlohmann::ordered_json::object();
      for (std::size_t k = 0; k < change.accumulators.size() && k < incident.streams.size(); ++k)
        accumulators[incident.streams[k]] = change.accumulators[k];
      const std::string severity = "Sev" + std::to_string(change.severity);
      const std::string text =
          change.what == "opened" ? "INCIDENT " + severity + " opened by " + incident.rule
          : change.what == "closed"
              ? "INCIDENT closed (" + incident.rule + ")"
              : "INCIDENT " + change.what + " to " + severity + " by " + incident.rule;
      const std::string kind = change.what == "opened"      ? "incident-open"
                               : change.what == "closed"    ? "incident-close"
                               : change.what == "escalated" ? "incident-escalate"
                                                            : "incident-de-escalate";
      add(change.time, kind,
          change.what == "closed" ? text : text + " (temperature " + temperature + ")",
          {{"rule", incident.rule},
           {"severity", change.severity},
           {"previous", change.previous},
           {"temperature", change.temperature},
           {"accumulators", accumulators}});
    }
  }
  for (const ChangeEvent& change : changes)
    if (by_responder(change)) add_change(change);
  for (const RemediationAction& a : remediation) {
    const std::string service = a.service >= 0 ? scenario.services[a.service].name : "";
    add(a.time, "remediation",
        "REMEDY " + a.action + " " + service + ": " + a.outcome + " (" + a.playbook + ")",
        {{"playbook", a.playbook},
         {"service", service},
         {"action", a.action},
         {"outcome", a.outcome},
         {"acted", a.acted},
         {"target", a.target},
         {"fault", a.fault},
         {"trigger", a.trigger},
         {"alert_ns", a.alerted}});
  }
  for (const ScriptLogLine& line : script_log)
    add(line.time, "log", "LOG    " + line.text, {{"text", line.text}});
  std::stable_sort(story.begin(), story.end(),
                   [](const StoryEvent& a, const StoryEvent& b) { return a.time < b.time; });
  return story;
}

void print_story(const std::vector<StoryEvent>& story, std::size_t limit,
                 const std::string& events_path) {
  // A script's log lines were shown on stderr as they were written; the console skips them.
  std::size_t shown = 0, left = 0;
  for (const StoryEvent& event : story) {
    if (event.kind == "log") continue;
    if (shown == limit) {
      ++left;
      continue;
    }
    std::printf("[%s] %s\n", story_stamp(event.time).c_str(), event.text.c_str());
    ++shown;
  }
  if (left == 0) return;
  if (events_path.empty())
    std::printf("... %zu more events (--events FILE writes them all)\n", left);
  else
    std::printf("... %zu more events (all of them in %s)\n", left, events_path.c_str());
}

}  // namespace dosim::cli
