#include "run/responder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "detectors/alertmanager.h"
#include "dosim/analysis/root_cause.h"
#include "engine/rng.h"

namespace dosim {
namespace {

constexpr double kZ90 = 1.2815515655446004;  // the standard normal's 90th percentile

int metric_index(const std::string& name) {
  for (std::size_t m = 0; m < kServiceMetricNames.size(); ++m)
    if (kServiceMetricNames[m] == name) return static_cast<int>(m);
  return -1;
}

// The simulated calendar starts on a Monday at 00:00: business hours are 09:00 to 18:00,
// Monday to Friday.
bool business_hours(SimTime t) {
  const SimTime day = t / kDay;
  const SimTime hour = (t % kDay) / kHour;
  return day % 7 < 5 && hour >= 9 && hour < 18;
}

const char* action_name(PlaybookStep::Action action) {
  switch (action) {
    case PlaybookStep::Action::kRollback:
      return "rollback";
    case PlaybookStep::Action::kScale:
      return "scale";
    case PlaybookStep::Action::kRestart:
      return "restart";
    case PlaybookStep::Action::kFlagOff:
      return "flag-off";
    case PlaybookStep::Action::kRevertConfig:
      return "revert-config";
    case PlaybookStep::Action::kFailover:
      return "failover";
    case PlaybookStep::Action::kDrain:
      return "drain";
    case PlaybookStep::Action::kTimeout:
      return "timeout";
    case PlaybookStep::Action::kShed:
      return "shed";
  }
  return "?";
}

bool touches(const ChangeSpec& change, int service) {
  return std::find(change.services.begin(), change.services.end(), service) !=
         change.services.end();
}

std::string percent(double share) {
  return std::to_string(static_cast<int>(std::lround(share * 100))) + "%";
}

// Whether a change that started before `now` is still in effect then (not rolled back,
// reverted, fixed or switched off).
bool in_effect_at(const ChangeSpec& change, SimTime now) {
  switch (change.kind) {
    case ChangeKind::kDeployment:
      return !(change.rollback && *change.rollback <= now);
    case ChangeKind::kConfig:
      return !(change.revert && *change.revert <= now);
    case ChangeKind::kSecretRotation:
      return !(change.fixed_at && *change.fixed_at <= now);
    case ChangeKind::kFeatureFlag: {
      double on = 0;
      for (const FlagStep& step : change.flag_steps)
        if (step.at <= now) on = step.fraction;
      return on > 0;
    }
    case ChangeKind::kDrain:
    case ChangeKind::kTrafficShift:
      return false;
  }
  return false;
}

}  // namespace

Responder::Responder(Simulation& simulation, const DetectorRunner& detectors,
                     const NamedRcaRankers& rankers, std::uint64_t seed)
    : simulation_(simulation), detectors_(detectors), rankers_(rankers), seed_(seed) {
  const Scenario& scenario = simulation.scenario();
  triggers_.assign(scenario.playbooks.size(), 0);
  shed_.assign(scenario.services.size(), 0.0);
  std::set<int> entries;
  for (const TrafficSpec& traffic : scenario.traffic) {
    entries.insert(traffic.entry.begin(), traffic.entry.end());
    for (const RegionalEntry& region : traffic.regions)
      entries.insert(region.entry.begin(), region.entry.end());
  }
  entries_.assign(entries.begin(), entries.end());
}

void Responder::on_frame(const Frame& frame) {
  const Scenario& scenario = simulation_.scenario();
  const double dt = to_seconds(scenario.tick);
  if (frame.services == scenario.services.size())
    for (int s : entries_) {
      const double requests = frame.service(ServiceMetric::kRps)[s] * dt;
      entry_requests_ += requests;
      entry_errors_ += requests * frame.service(ServiceMetric::kErrorRatio)[s];
    }
  bool notifications = false, incidents = false;
  for (const PlaybookSpec& pb : scenario.playbooks) {
    notifications = notifications || pb.source == PlaybookSpec::Source::kNotification;
    incidents = incidents || pb.source == PlaybookSpec::Source::kIncident;
  }
  watch_alerts();
  // The frame's tick has ended: what was sent up to its end is known.
  if (notifications) watch_notifications(simulation_.now());
  if (incidents) watch_incidents();
}

void Responder::offer(std::size_t p, int service, SimTime at, std::string what) {
  const PlaybookSpec& pb = simulation_.scenario().playbooks[p];
  if (service < 0) return;
  if (!pb.services.empty() &&
      std::find(pb.services.begin(), pb.services.end(), service) == pb.services.end())
    return;
  const auto key = std::make_pair(p, service);
  if (const auto found = cooldown_until_.find(key);
      found != cooldown_until_.end() && at < found->second)
    return;
  cooldown_until_[key] = at + pb.cooldown;
  trigger({p, service, at, std::move(what)});
}

void Responder::watch_alerts() {
  const std::vector<Alert>& alerts = detectors_.alerts();
  const std::vector<PlaybookSpec>& playbooks = simulation_.scenario().playbooks;
  for (; alerts_seen_ < alerts.size(); ++alerts_seen_) {
    const Alert& alert = alerts[alerts_seen_];
    if (alert.service < 0) continue;  // an incident rule's whole-system alert
    for (std::size_t p = 0; p < playbooks.size(); ++p) {
      const PlaybookSpec& pb = playbooks[p];
      if (pb.source != PlaybookSpec::Source::kAlert ||
          (!pb.detector.empty() && pb.detector != alert.detector) ||
          (!pb.severity.empty() && pb.severity != alert.severity) ||
          (!pb.metric.empty() && pb.metric != alert.metric))
        continue;
      if (!pb.labels.empty()) {  // the detector's own labels must carry each one
        const DetectorSpec* spec = nullptr;
        for (const DetectorSpec& d : detectors_.specs())
          if (d.name == alert.detector) spec = &d;
        bool all = spec != nullptr;
        for (const auto& label : pb.labels)
          all = all &&
                std::find(spec->labels.begin(), spec->labels.end(), label) != spec->labels.end();
        if (!all) continue;
      }
      offer(
          p, alert.service, alert.time,
          "alert " + alert.detector + " on " + simulation_.scenario().services[alert.service].name);
    }
  }
}

namespace {

// The longest group_wait of a route tree: an alert's first notification on each of its
// routes comes at most that long after it.
SimTime longest_group_wait(const RouteSpec& route) {
  SimTime longest = route.group_wait;
  for (const RouteSpec& child : route.routes)
    longest = std::max(longest, longest_group_wait(child));
  return longest;
}

}  // namespace

// Alertmanager semantics are causal: the notifications sent up to `now` follow from the
// alerts raised up to `now` (an alert resolved later reads as firing). So routing the alerts
// so far gives the notifications a run without responders would have sent by then.
//
// A notification goes to one receiver for one group: it carries the alerts routed to that
// group, and carries first those that fired since the group's previous notification (the
// earlier ones were in that one). An alert's groups come from routing it alone: one
// notification per route it reaches, with its receiver and group key.
void Responder::watch_notifications(SimTime now) {
  const std::vector<Alert>& raised = detectors_.alerts();
  if (raised.empty()) return;
  const Scenario& scenario = simulation_.scenario();
  std::vector<Alert> alerts = raised;
  for (Alert& a : alerts)
    if (a.resolved > now) a.resolved = -1;
  std::vector<std::string> names;
  for (const ServiceSpec& service : scenario.services) names.push_back(service.name);
  std::map<std::string, AlertLabels> labels;
  for (const DetectorSpec& d : detectors_.specs())
    if (!d.labels.empty()) labels[d.name] = d.labels;
  const AlertRouting routing = route_alerts(alerts, scenario.alertmanager, names, now + 1, &labels);
  for (std::size_t a = alert_groups_.size(); a < alerts.size(); ++a) {
    Alert alone = alerts[a];
    alone.resolved = -1;
    const SimTime end = alone.time + longest_group_wait(scenario.alertmanager.route);
    std::vector<std::pair<std::string, std::string>> groups;
    for (const Notification& n :
         route_alerts({alone}, scenario.alertmanager, names, end, &labels).notifications)
      groups.emplace_back(n.receiver, n.group);
    alert_groups_.push_back(std::move(groups));
  }
  std::vector<Notification> sent;
  for (const Notification& n : routing.notifications)
    if (n.time <= now) sent.push_back(n);
  std::stable_sort(sent.begin(), sent.end(),
                   [](const Notification& a, const Notification& b) { return a.time < b.time; });
  for (; notifications_seen_ < sent.size(); ++notifications_seen_) {
    const Notification& n = sent[notifications_seen_];
    if (n.resolution) continue;  // it tells of no alert firing: nothing to act on
    const auto group = std::make_pair(n.receiver, n.group);
    const auto last = last_notified_.find(group);
    const SimTime previous = last == last_notified_.end() ? -1 : last->second;
    last_notified_[group] = n.time;
    for (std::size_t p = 0; p < scenario.playbooks.size(); ++p) {
      const PlaybookSpec& pb = scenario.playbooks[p];
      if (pb.source != PlaybookSpec::Source::kNotification ||
          (!pb.receiver.empty() && pb.receiver != n.receiver))
        continue;
      std::set<int> services;  // of the alerts this notification was the first to carry
      for (std::size_t a = 0; a < alerts.size(); ++a) {
        const Alert& alert = alerts[a];
        const bool carried_first =
            routing.first_notified[a] >= 0 &&  // not inhibited, not a duplicate
            alert.time > previous && alert.time <= n.time &&
            (alert.resolved < 0 || alert.resolved > n.time) &&
            std::find(alert_groups_[a].begin(), alert_groups_[a].end(), group) !=
                alert_groups_[a].end();
        if (carried_first && alert.service >= 0 &&
            (pb.detector.empty() || pb.detector == alert.detector) &&
            (pb.severity.empty() || pb.severity == alert.severity))
          services.insert(alert.service);
      }
      for (int s : services) offer(p, s, n.time, "notification to " + n.receiver);
    }
  }
}

void Responder::watch_incidents() {
  const std::size_t changes = detectors_.incident_changes();
  if (changes == incident_changes_seen_) return;
  incident_changes_seen_ = changes;
  const Scenario& scenario = simulation_.scenario();
  for (const DetectedIncident& d : detectors_.detected_incidents()) {
    // The services among its streams ("<column>:<metric>"): a service's, an endpoint's
    // ("service /path"), an edge's caller and callee ("caller->callee").
    std::set<int> services;
    for (const std::string& stream : d.streams) {
      const std::string column = stream.substr(0, stream.find(':'));
      std::vector<std::string> names;
      if (const std::size_t arrow = column.find("->"); arrow != std::string::npos) {
        names = {column.substr(0, arrow), column.substr(arrow + 2)};
      } else {
        names = {column};
        if (const std::size_t path = column.find(" /"); path != std::string::npos)
          names.push_back(column.substr(0, path));
      }
      for (const std::string& name : names)
        if (const int s = scenario.service_index(name); s >= 0) services.insert(s);
    }
    for (const IncidentChange& c : d.timeline) {
      if (c.what != "opened" && c.what != "escalated") continue;
      for (std::size_t p = 0; p < scenario.playbooks.size(); ++p) {
        const PlaybookSpec& pb = scenario.playbooks[p];
        if (pb.source != PlaybookSpec::Source::kIncident ||
            (!pb.detector.empty() && pb.detector != d.rule) ||
            (!pb.severity.empty() && pb.severity != "sev" + std::to_string(c.severity)))
          continue;
        // offer() keeps one trigger per cooldown: seeing an old change again is harmless.
        for (int s : services)
          offer(p, s, c.time, "incident " + d.rule + " sev" + std::to_string(c.severity));
      }
    }
  }
}

void Responder::trigger(const Trigger& t) {
  const PlaybookSpec& pb = simulation_.scenario().playbooks[t.playbook];
  if (triggers_.size() <= t.playbook) triggers_.resize(t.playbook + 1, 0);  // a script's
  if (!pb.oncall) {
    simulation_.at(t.alerted + pb.after, [=, this] { run_step(t, 0); });
    return;
  }
  // A person: log-normal acknowledgement with the given median and p90 (out of business
  // hours, the off-hours ones when given).
  const bool off = pb.off_hours_median && !business_hours(t.alerted);
  const double median = static_cast<double>(off ? *pb.off_hours_median : pb.ack_median);
  const double p90 = static_cast<double>(off ? *pb.off_hours_p90 : pb.ack_p90);
  const RandomStream stream(seed_, entity_id("oncall/" + pb.name), Purpose::kScenario);
  const double mu = std::log(median);
  const double sigma = std::log(p90 / median) / kZ90;
  const auto ack =
      static_cast<SimTime>(std::exp(mu + sigma * stream.normal(triggers_[t.playbook]++)));
  simulation_.at(t.alerted + ack, [=, this] {
    record(t, "acknowledge", "after " + format_duration(simulation_.now() - t.alerted));
    simulation_.at(simulation_.now() + pb.investigate, [=, this] { run_step(t, 0); });
  });
}

void Responder::run_step(const Trigger& t, std::size_t step, bool approved) {
  const PlaybookSpec& pb = simulation_.scenario().playbooks[t.playbook];
  if (step >= pb.steps.size()) {
    record(t, "escalate", "no step left");
    return;
  }
  if (pb.steps[step].approval > 0 && !approved) {
    record(t, "approval",
           "waiting " + format_duration(pb.steps[step].approval) + " for an approval");
    simulation_.at(simulation_.now() + pb.steps[step].approval,
                   [=, this] { run_step(t, step, true); });
    return;
  }
  // The rate limit: at most max_actions_per_hour actions in any hour; beyond, escalated.
  const int limit = simulation_.scenario().max_actions_per_hour;
  if (limit > 0) {
    const SimTime now = simulation_.now();
    const auto recent = std::count_if(acted_at_.begin(), acted_at_.end(),
                                      [&](SimTime at) { return at > now - kHour; });
    if (recent >= limit) {
      record(t, "escalate", "rate limit: " + std::to_string(limit) + " actions in the last hour");
      return;
    }
  }
  const std::size_t before = actions_.size();
  const std::function<void()> undo = act(t, pb.steps[step]);
  if (actions_.size() == before || !actions_.back().acted) {  // nothing to do: the next step
    run_step(t, step + 1);
    return;
  }
  acted_at_.push_back(simulation_.now());
  if (pb.verify_metric.empty()) return;
  simulation_.at(simulation_.now() + pb.verify_within, [=, this] { verify(t, step, undo); });
}

std::function<void()> Responder::act(const Trigger& t, const PlaybookStep& step) {
  using A = PlaybookStep::Action;
  const Scenario& scenario = simulation_.scenario();
  const int s = t.service;
  const std::string name = action_name(step.action);
  const std::string service = "service:" + scenario.services[s].name;
  switch (step.action) {
    case A::kRollback:
    case A::kFlagOff:
    case A::kRevertConfig: {
      int change = -1;
      if (!step.ranker.empty()) {
        change = change_blamed_by_rca(t, step.ranker);
        if (change < 0) {
          record(t, name, "the " + step.ranker + " ranker blames no change in effect");
          return {};
        }
      } else {
        change = latest_change(s, step);
      }
      if (change < 0 || !simulation_.revert_change(change)) {
        record(t, name,
               step.change.empty() ? "nothing to roll back"
                                   : "'" + step.change + "' is not in effect");
        return {};
      }
      const ChangeSpec& c = simulation_.scenario().changes[change];
      const std::string what = step.action == A::kFlagOff        ? "turned off"
                               : step.action == A::kRevertConfig ? "reverted"
                                                                 : "rolled back";
      record(t, name, what + " " + change_kind_name(c.kind) + " '" + c.name + "'", true,
             "change:" + c.name);
      return {};
    }
    case A::kScale: {
      const int before = replicas_of(s);
      const int after = std::clamp(before + step.by, 0, 1'000'000);
      simulation_.set_replicas(s, after);
      record(t, name, std::to_string(before) + " -> " + std::to_string(after) + " replicas", true,
             service);
      return [this, t, s, before] {
        const int now = replicas_of(s);
        simulation_.set_replicas(s, before);
        record(t, "undo", std::to_string(now) + " -> " + std::to_string(before) + " replicas");
      };
    }
    case A::kRestart: {
      FaultSpec kill;
      kill.name = "restart-" + scenario.services[s].name + "-" + std::to_string(added_++);
      kill.kind = FaultKind::kPodKill;
      kill.target.service = s;
      kill.start = simulation_.now();
      kill.duration = std::max(step.restart_time, scenario.tick);
      kill.restart_time = step.restart_time;
      if (step.replicas > 0) {
        kill.mode = PodMode::kFixed;
        kill.mode_value = step.replicas;
      }
      if (kill.start >= scenario.duration) return {};
      const std::string fault = kill.name;
      simulation_.add_fault(std::move(kill));
      record(t, name,
             // More than it has: all of them.
             (step.replicas > 0 && step.replicas < simulation_.replicas(s)
                  ? std::to_string(step.replicas)
                  : std::string("all")) +
                 " replicas, ready after " + format_duration(step.restart_time),
             true, service, fault);
      return {};
    }
    case A::kFailover: {
      ChangeSpec drain;
      drain.name = "failover-" + step.region + "-" + std::to_string(added_++);
      drain.kind = ChangeKind::kDrain;
      drain.at = simulation_.now();
      drain.region = step.region;
      if (drain.at >= scenario.duration) return {};
      const int index = simulation_.add_change(std::move(drain));
      record(t, name, "region " + step.region + " drained", true, "region:" + step.region);
      return [this, t, index, region = step.region] {
        if (simulation_.revert_change(index)) record(t, "undo", "region " + region + " restored");
      };
    }
    case A::kDrain: {
      // Every replica placed in the zone out of service, as an operator evacuates a zone: an
      // `outage` of the zone added as a fault (failover within the region as for any outage),
      // so what it costs is measured against the counterfactual like a restart's.
      FaultSpec drain;
      drain.name = "drain-" + step.zone + "-" + std::to_string(added_++);
      drain.kind = FaultKind::kOutage;
      drain.target.zone = step.zone;
      drain.start = simulation_.now();
      drain.duration = step.drain_for ? *step.drain_for : scenario.duration - drain.start;
      if (drain.start >= scenario.duration) return {};
      const std::string fault = drain.name;
      const int index = simulation_.add_fault(std::move(drain));
      record(t, name,
             "zone " + step.zone + " out of service" +
                 (step.drain_for ? " for " + format_duration(*step.drain_for) : ""),
             true, "zone:" + step.zone, fault);
      return [this, t, index, zone = step.zone] {
        simulation_.end_fault(index);
        record(t, "undo", "zone " + zone + " back in service");
      };
    }
    case A::kTimeout: {
      std::vector<std::pair<int, SimTime>> before;
      std::string edges;
      for (std::size_t d = 0; d < scenario.dependencies.size(); ++d) {
        const DependencySpec& dep = scenario.dependencies[d];
        if (dep.caller != s ||
            (!step.callee.empty() && scenario.services[dep.callee].name != step.callee))
          continue;
        before.emplace_back(static_cast<int>(d), dep.timeout);
        edges += (edges.empty() ? "" : ",") + std::string("edge:") + scenario.edge_name(d);
      }
      if (before.empty()) {
        record(t, name, "no call to set a timeout on");
        return {};
      }
      for (const auto& [d, old] : before) simulation_.set_timeout(d, step.timeout);
      record(t, name,
             std::to_string(before.size()) + " calls' timeout -> " + format_duration(step.timeout),
             true, edges);
      return [this, t, before] {
        for (const auto& [d, old] : before) simulation_.set_timeout(d, old);
        record(t, "undo", "timeouts restored");
      };
    }
    case A::kShed: {
      const double before = shed_[s];
      simulation_.set_shed(s, step.fraction);
      shed_[s] = step.fraction;
      record(t, name, percent(before) + " -> " + percent(step.fraction) + " of arrivals shed", true,
             service);
      return [this, t, s, before] {
        simulation_.set_shed(s, before);
        record(t, "undo", "shedding " + percent(shed_[s]) + " -> " + percent(before));
        shed_[s] = before;
      };
    }
  }
  return {};
}

void Responder::verify(const Trigger& t, std::size_t step, const std::function<void()>& undo) {
  const PlaybookSpec& pb = simulation_.scenario().playbooks[t.playbook];
  const int m = metric_index(pb.verify_metric);
  const std::size_t services = simulation_.scenario().services.size();
  // The last simulated tick's frame: a callback runs between ticks.
  const Frame& frame = simulation_.frame();
  const double value = m >= 0 && frame.services == services
                           ? frame.service(static_cast<ServiceMetric>(m))[t.service]
                           : 0.0;
  // A latency is that of answered requests: a service that answered none in the tick (no
  // traffic, or every request failed) reads 0 there, which proves nothing recovered.
  if (pb.verify_metric.starts_with("latency_") && m >= 0 && frame.services == services) {
    const double rps = frame.service(ServiceMetric::kRps)[t.service];
    const double errors = frame.service(ServiceMetric::kErrorRatio)[t.service];
    if (!(rps > 0) || errors >= 1.0) {
      char why[128];
      std::snprintf(why, sizeof why,
                    "%s has no answered request to measure (rps %.4g, error_ratio %.4g)",
                    pb.verify_metric.c_str(), rps, errors);
      record(t, "verify", std::string("not recovered: ") + why);
      if (undo) undo();
      run_step(t, step + 1);
      return;
    }
  }
  char text[96];
  std::snprintf(text, sizeof text, "%s %.4g %s %.4g", pb.verify_metric.c_str(), value,
                value < pb.verify_below ? "<" : ">=", pb.verify_below);
  if (value < pb.verify_below) {
    record(t, "verify", std::string("recovered: ") + text);
    return;
  }
  record(t, "verify", std::string("not recovered: ") + text);
  if (undo) undo();
  run_step(t, step + 1);
}

// The service's replica count now: the last `scale` of the change log, else as declared.
int Responder::replicas_of(int service) const {
  const Scenario& scenario = simulation_.scenario();
  int replicas = scenario.services[service].replicas;
  for (const ChangeEvent& change : simulation_.changes())
    if (change.kind == "scale" && change.target == scenario.services[service].name)
      replicas = std::atoi(change.to.c_str());
  return replicas;
}

// The change a rollback, flag-off or revert-config step takes back: the named one, or the
// latest of the service's changes of the step's kinds started before now and still in effect
// (the latest first: one Simulation::revert_change() would take back).
int Responder::latest_change(int service, const PlaybookStep& step) const {
  const std::vector<ChangeSpec>& changes = simulation_.scenario().changes;
  if (!step.change.empty()) {
    for (std::size_t c = 0; c < changes.size(); ++c)
      if (changes[c].name == step.change) return static_cast<int>(c);
    return -1;
  }
  const SimTime now = simulation_.now();
  int latest = -1;
  for (std::size_t c = 0; c < changes.size(); ++c) {
    const ChangeSpec& change = changes[c];
    const bool kind =
        step.action == PlaybookStep::Action::kFlagOff ? change.kind == ChangeKind::kFeatureFlag
        : step.action == PlaybookStep::Action::kRevertConfig ? change.kind == ChangeKind::kConfig
                                                             : true;
    if (!kind || !touches(change, service) || change.at >= now) continue;
    const bool in_effect = in_effect_at(change, now);
    if (in_effect && (latest < 0 || change.at >= changes[latest].at)) latest = static_cast<int>(c);
  }
  return latest;
}

// The change an RCA ranker (analysis/root_cause.h) blames at this moment, from the alerts so
// far only: the case is the triggering alert's service from its time on (what the responder
// knows), ranked now; the first candidate that names a change in effect, or a service with
// one (its latest), as a person goes down the list. A change taken back is no longer in
// effect, so a next step takes the next candidate.
int Responder::change_blamed_by_rca(const Trigger& t, const std::string& ranker) const {
  const Scenario& scenario = simulation_.scenario();
  IncidentRecord seen;  // what the responder knows: an impact on the service since the alert
  seen.id = 0;
  seen.root_service = t.service;
  seen.affected = {t.service};
  seen.start = seen.impact_start = t.alerted;
  seen.end = seen.impact_end = simulation_.now();
  seen.silent = false;
  RcaOptions options;
  options.rankers = {ranker};
  options.lookback = scenario.rca.lookback;
  options.seed = seed_;
  options.custom = rankers_;
  std::vector<Alert> alerts;
  for (const Alert& a : detectors_.alerts())
    if (a.time <= simulation_.now() && a.service >= 0) alerts.push_back(a);
  SimTime detected = -1;
  for (const Alert& a : alerts)
    if (a.service == t.service && a.time >= t.alerted) {
      detected = a.time;
      break;
    }
  if (detected < 0) return -1;
  options.delays = {simulation_.now() - detected};
  const std::vector<RcaRanking> rankings =
      rank_root_causes(rca_system_of(scenario), {seen}, alerts, options);
  PlaybookStep any;  // any kind of change
  for (const RcaRanking& r : rankings)
    for (const RcaCandidate& c : r.candidates) {
      if (c.id.rfind("change:", 0) == 0) {
        const std::vector<ChangeSpec>& changes = scenario.changes;
        for (std::size_t index = 0; index < changes.size(); ++index)
          if (changes[index].name == c.id.substr(7) && changes[index].at < simulation_.now() &&
              in_effect_at(changes[index], simulation_.now()))
            return static_cast<int>(index);
      } else if (c.id.rfind("service:", 0) == 0) {
        const std::string name = c.id.substr(8);
        for (std::size_t s = 0; s < scenario.services.size(); ++s)
          if (scenario.services[s].name == name) {
            const int index = latest_change(static_cast<int>(s), any);
            if (index >= 0) return index;
          }
      }
    }
  return -1;
}

void Responder::record(const Trigger& t, std::string action, std::string outcome, bool acted,
                       std::string target, std::string fault) {
  actions_.push_back({simulation_.now(), simulation_.scenario().playbooks[t.playbook].name,
                      t.service, t.alerted, std::move(action), std::move(outcome), acted,
                      std::move(target), std::move(fault), t.what});
}

}  // namespace dosim
