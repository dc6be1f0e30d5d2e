// Run: a planned run wired and simulated (include/dosim/run.h).
#include "dosim/run.h"

#include <map>
#include <optional>

#include "detectors/alertmanager.h"
#include "detectors/runner.h"
#include "dosim/analysis/trace_writer.h"
#include "run/detector_factories.h"
#include "run/rankers.h"
#include "run/remedies.h"
#include "run/responder.h"
#include "scripting/script_host.h"
#include "util/output_file.h"

namespace dosim {
namespace {

// The run's faults and changes (the declared ones, then those a script added), which the
// trace's spans point at.
void set_span_sources(TraceWriter& writer, const Scenario& scenario) {
  std::vector<std::string> fault_names, change_names;
  for (const FaultSpec& fault : scenario.faults) fault_names.push_back(fault.name);
  for (const ChangeSpec& change : scenario.changes) change_names.push_back(change.name);
  writer.set_span_sources(std::move(fault_names), std::move(change_names));
}

// Hands the detectors' scores and gauges to the trace, tick by tick (/detectors/<name>/).
class DetectorScoresToTrace : public DetectorObserver {
 public:
  DetectorScoresToTrace(DetectorRunner& runner, TraceWriter& writer) : writer_(writer) {
    for (const WatchedSeries& w : runner.watched_series())
      index_.push_back(
          writer.add_detector(w.detector, w.limit, w.service, w.metric, w.label, w.gauges));
    runner.set_observer(this);
  }
  void on_detector_tick(std::size_t detector, std::span<const float> scores,
                        std::span<const float> gauges) override {
    writer_.record_detector(index_[detector], scores, gauges);
  }

 private:
  TraceWriter& writer_;
  std::vector<std::size_t> index_;
};

}  // namespace

struct Run::Impl {
  const RunPlan plan;  // a copy: a Run never depends on the caller keeping its plan
  Simulation simulation;
  std::unique_ptr<TraceWriter> writer;
  std::unique_ptr<ScriptHost> script;
  std::unique_ptr<DetectorRunner> detectors;
  std::unique_ptr<Responder> responder;  // the playbooks (the scenario's, or added later)
  NamedRcaRankers rankers;               // besides the built-in ones (run/rankers.h)
  std::optional<DetectorScoresToTrace> scores_to_trace;
  std::vector<FrameSink*> extra_sinks;
  bool wired = false;     // the sinks are added on the first step() or run()
  bool reported = false;  // run() returned its report
  SimTime stepped_to = 0;  // where step() left the simulation (Simulation::now())

  // A simulation advanced past the Run (simulation().run() or run_ticks()) fed no tick to
  // the detectors, the script or the trace: run() then reported no alert and a trace
  // "complete" with no row.
  void check_not_advanced(const char* what) const {
    if (simulation.now() != stepped_to)
      throw RunControlError(std::string(what) +
                            ": the simulation was advanced directly (simulation().run() or "
                            "run_ticks()): step() and run() the Run, whose detectors, script "
                            "and trace see every tick");
  }
  std::string failure;    // failure(): the error that stopped the run, "" while none did

  void start();
  void wire();
  // Stops the run on `what` (a failing script callback or detector): nothing runs again,
  // and the trace is put in place now, incomplete, with the script's log and source up to
  // the error.
  void stop_on(const std::string& what);

  explicit Impl(const RunPlan& p) : plan(p), simulation(p.scenario(), p.seed()) {
    simulation.set_threads(p.options().threads);
  }
};

Run::Run(const RunPlan& plan) : impl_(std::make_unique<Impl>(plan)) {
  Impl& impl = *impl_;
  const RunOptions& options = plan.options();
  // The trace first: an unwritable path, or one that names an input of the run, fails before
  // anything runs. A run that fails to start (its script, a detector) discards the trace: an
  // earlier one at the path survives.
  if (!options.trace_path.empty())
    for (const auto& [what, input] : plan.inputs())
      if (same_file(options.trace_path, input))
        throw InputError(options.trace_path, "cannot write the trace: it is " + what + " (" +
                                                 input + "), an input of the run");
  if (!options.trace_path.empty())
    impl.writer = std::make_unique<TraceWriter>(options.trace_path, plan.scenario(), plan.seed());
  try {
    impl.start();
  } catch (...) {
    if (impl.writer) impl.writer->discard();
    throw;
  }
}

// The script started, the detectors made and tied to the trace.
void Run::Impl::start() {
  const RunOptions& options = plan.options();
  if (!plan.script_path().empty()) {
    ScriptOptions script_options;
    script_options.path = plan.script_path();
    script_options.limits.instruction_budget = options.lua_instructions;
    script_options.limits.memory_limit = static_cast<std::size_t>(options.lua_memory_mib) << 20;
    script_options.on_log = options.on_script_log;
    script_options.strict = options.strict;
    script_options.output_path = options.trace_path;
    script = std::make_unique<ScriptHost>(simulation, std::move(script_options), plan.seed());
  }
  // Playbooks added by the script or the program name rankers the run has.
  simulation.set_playbook_check(playbook_ranker_check(simulation.scenario(), options));
  if (script) script->start();
  detectors = std::make_unique<DetectorRunner>(
      simulation.scenario(), plan.detectors(),
      either_factory(options.detector_factory,
                     script ? script->detector_factory() : DetectorFactory{}));
  if (writer) {
    scores_to_trace.emplace(*detectors, *writer);
    // Now, not at the end: a trace that a failing run leaves names them too.
    std::vector<std::string> names;
    for (const DetectorSpec& spec : detectors->specs()) names.push_back(spec.name);
    writer->set_detectors(std::move(names));
  }
  std::vector<Diagnostic> problems;  // none: the plan made them once already
  rankers = make_run_rankers(simulation.scenario(), options, plan.seed(), problems);
  if (!problems.empty()) throw InputError(std::move(problems));
  // Always: a script or a program may add playbooks while the run goes on.
  responder = std::make_unique<Responder>(simulation, *detectors, rankers, plan.seed());
}

Run::~Run() = default;

void Run::add_sink(FrameSink* sink) {
  // Checked, not asserted: a release build took a late sink and fed it nothing.
  if (impl_->wired)
    throw RunControlError("add_sink: the run has started; add sinks before the first step()");
  if (sink == nullptr) throw RunControlError("add_sink: a null sink");  // it crashed the run
  impl_->extra_sinks.push_back(sink);
}

Simulation& Run::simulation() { return impl_->simulation; }

void Run::Impl::wire() {
  if (wired) return;
  wired = true;
  // Detectors before the script (its hooks see this tick's alerts), the writer after both:
  // a tick's scores reach the trace in the row of that tick.
  simulation.add_sink(detectors.get());
  if (script) {
    script->attach(*detectors);
    simulation.add_sink(script.get());
  }
  if (responder) simulation.add_sink(responder.get());  // its actions land from the next tick
  if (writer) simulation.add_sink(writer.get());
  for (FrameSink* sink : extra_sinks) simulation.add_sink(sink);
}

bool Run::step(std::int64_t ticks, const std::atomic<bool>* stop) {
  Impl& impl = *impl_;
  if (!impl.failure.empty()) throw RunControlError("step: " + stopped_on_error());
  if (impl.reported) throw RunControlError("step: the run is over (run() was called)");
  if (ticks < 0)  // it ran the whole scenario
    throw RunControlError("step: a tick count must be >= 0, got " + std::to_string(ticks));
  impl.check_not_advanced("step");
  impl.wire();
  try {
    const bool left = !impl.simulation.run_ticks(ticks, stop).completed;
    impl.stepped_to = impl.simulation.now();
    return left;
  } catch (const std::exception& error) {
    // The world, the script and the detectors may be halfway through a tick.
    impl.stop_on(error.what());
    throw;
  } catch (...) {
    impl.stop_on("");
    throw;
  }
}

void Run::Impl::stop_on(const std::string& what) {
  // Its first line: a script's error goes on with a traceback.
  failure = what.empty() ? "an unknown error" : what.substr(0, what.find('\n'));
  if (writer && script)
    writer->set_script(script->path(), script->text(), script->log(), script->experiments());
  // The faults and changes the script added before it failed, whose spans point at them.
  if (writer) set_span_sources(*writer, simulation.scenario());
  // A script that named the trace's path as a manifest: the trace must not replace it.
  if (writer && script && script->output_claimed()) writer->discard();
  writer.reset();
}

bool Run::failed() const { return !impl_->failure.empty(); }

std::string Run::stopped_on_error() const {
  return "the run stopped on an error (" + impl_->failure + ")";
}

const Frame& Run::frame() const { return impl_->simulation.frame(); }

const std::vector<Alert>& Run::alerts() const { return impl_->detectors->alerts(); }

const std::vector<RemediationAction>& Run::remediation() const {
  static const std::vector<RemediationAction> none;
  return impl_->responder ? impl_->responder->actions() : none;
}

std::vector<DetectedIncident> Run::detected() const {
  return impl_->detectors->detected_incidents();
}

RunReport Run::run(const std::atomic<bool>* stop) {
  Impl& impl = *impl_;
  if (!impl.failure.empty()) throw RunControlError("run: " + stopped_on_error());
  if (impl.reported) throw RunControlError("run: the run is over (run() was called)");
  impl.check_not_advanced("run");
  impl.reported = true;
  impl.wire();

  RunReport report;
  try {
    report.result = impl.simulation.run(stop);
  } catch (const std::exception& error) {
    impl.stop_on(error.what());  // as a failing step()
    throw;
  } catch (...) {
    impl.stop_on("");
    throw;
  }
  // Experiments still running end now (rollbacks, verdict error): before anything reads them.
  if (impl.script && report.result.completed) impl.script->finish();
  const Scenario& scenario = impl.simulation.scenario();
  report.scenario = scenario;
  report.seed = impl.plan.seed();
  report.incidents = impl.simulation.incidents();
  report.changes = impl.simulation.changes();
  // The change log holds what operations planned for later too: an interrupted run's is what
  // happened before it stopped (72 of a week's 127 events were dated past its last row).
  if (!report.result.completed)
    std::erase_if(report.changes, [&](const ChangeEvent& change) {
      return change.time >= report.result.simulated;
    });
  for (const DetectorSpec& spec : impl.detectors->specs()) report.detectors.push_back(spec.name);
  report.alerts = impl.detectors->alerts();
  const Scores all = score(report.incidents, report.alerts, report.result.simulated,
                           {.tolerance = 0, .tick = scenario.tick});
  for (const auto& matches : all.alert_matches)
    report.alert_incidents.push_back(matches.empty() ? -1 : matches.front());
  report.detected = impl.detectors->detected_incidents();
  if (impl.responder) {
    report.remediation = impl.responder->actions();
    std::vector<std::string> names;
    for (const ServiceSpec& service : scenario.services) names.push_back(service.name);
    attribute_changes(report.remediation, names, report.changes);
    report.entry_requests = impl.responder->entry_requests();
    report.entry_errors = impl.responder->entry_errors();
  }
  {
    RcaOptions rca;
    rca.seed = report.seed;
    rca.rankers = run_ranker_names(scenario, impl.plan.options());
    rca.delays = scenario.rca.delays;
    rca.lookback = scenario.rca.lookback;
    rca.custom = impl.rankers;
    report.rca = rank_root_causes(rca_system_of(scenario), report.incidents, report.alerts, rca);
  }
  std::vector<std::string> service_names;
  for (const ServiceSpec& service : scenario.services) service_names.push_back(service.name);
  std::map<std::string, AlertLabels> detector_labels;
  for (const DetectorSpec& detector : scenario.detectors)
    if (!detector.labels.empty()) detector_labels[detector.name] = detector.labels;
  report.routing = route_alerts(report.alerts, scenario.alertmanager, service_names,
                                report.result.simulated, &detector_labels);
  if (impl.script) {
    report.script_path = impl.script->path();
    report.script_log = impl.script->log();
    report.experiments = impl.script->experiments();
  }
  if (impl.writer) {
    TraceWriter& writer = *impl.writer;
    writer.set_detectors(report.detectors);
    writer.set_detected_incidents(report.detected);
    writer.set_rca_rankings(report.rca);
    std::vector<TraceWriter::RemediationRow> remediation;
    for (const RemediationAction& a : report.remediation)
      remediation.push_back({a.time, a.alerted, a.playbook, a.action, a.outcome, a.service, a.acted,
                             a.target, a.fault});
    std::vector<TraceWriter::RemedyRow> remedies;
    for (const IncidentRecord& incident : report.incidents)
      for (const std::string& remedy : remedies_of(incident, scenario))
        remedies.push_back(
            {incident.id, remedy.substr(0, remedy.find(' ')), remedy.substr(remedy.find(' ') + 1)});
    writer.set_remedies(std::move(remedies));
    writer.set_remediation(std::move(remediation));
    std::vector<TraceWriter::TimelineRow> timelines;
    for (const IncidentTimelineEvent& e : report.incident_timelines())
      timelines.push_back({e.incident, e.time, e.event, e.detail});
    writer.set_incident_timelines(std::move(timelines));
    writer.set_notifications(report.routing);
    set_span_sources(writer, scenario);
    if (impl.script)
      writer.set_script(impl.script->path(), impl.script->text(), report.script_log,
                        report.experiments);
    // A stop asked for after the last tick, while the results were put together, still
    // stops the run: the trace is marked incomplete, as for a stop at any other moment.
    if (stop != nullptr && stop->load()) report.result.completed = false;
    writer.finish(report.incidents, report.result.completed, report.changes, report.alerts,
                  report.alert_incidents);
    report.trace_path = impl.plan.options().trace_path;
    report.trace_rows = writer.rows_written();
    impl.writer.reset();
  }
  return report;
}

bool RunReport::experiments_passed() const {
  for (const ExperimentRecord& e : experiments)
    if (e.verdict != "pass") return false;
  return true;
}

ScoreTable RunReport::scores() const {
  std::vector<std::string> rules;
  for (const IncidentRuleSpec& rule : scenario.incident_rules) rules.push_back(rule.name);
  return score_table(incidents, alerts, detectors, detected, scenario.services.size(), seed,
                     result.simulated, scenario.tick, rules);
}

namespace {

// The change events each responder action made: an action's kind of event at its instant.
const std::vector<std::string>& events_of(const std::string& action) {
  static const std::map<std::string, std::vector<std::string>> kEvents = {
      {"rollback", {"rollback", "config", "feature-flag", "secret-reload"}},
      {"flag-off", {"feature-flag"}},
      {"revert-config", {"config"}},
      {"scale", {"scale"}},
      {"failover", {"drain"}},
      {"timeout", {"timeout"}},
      {"shed", {"shed"}},
      {"undo", {"scale", "drain-restore", "timeout", "shed"}}};
  static const std::vector<std::string> kNone;
  const auto found = kEvents.find(action);
  return found == kEvents.end() ? kNone : found->second;
}

}  // namespace

void attribute_changes(const std::vector<RemediationAction>& actions,
                       const std::vector<std::string>& services,
                       std::vector<ChangeEvent>& changes) {
  // First each action's events on its own service (two triggers' undos at one instant each
  // restore their own service's scale), then the rest by kind and instant.
  std::vector<bool> claimed(actions.size(), false);
  // Actions before undos: an undo restores what an earlier step did, and must not take the
  // event of an action at its instant (a timeout's undo beside a shed took the shed's, and
  // the restored timeouts kept no cause).
  std::vector<std::size_t> order;
  for (const bool undos : {false, true})
    for (std::size_t i = 0; i < actions.size(); ++i)
      if ((actions[i].action == "undo") == undos) order.push_back(i);
  for (const bool own_only : {true, false}) {
    for (const std::size_t i : order) {
      const RemediationAction& a = actions[i];
      if ((!a.acted && a.action != "undo") || claimed[i]) continue;
      const std::vector<std::string>& kinds = events_of(a.action);
      const std::string cause = "playbook " + a.playbook + " (" + a.trigger + ")";
      const bool named = a.service >= 0 && static_cast<std::size_t>(a.service) < services.size();
      for (ChangeEvent& change : changes) {
        if (change.time != a.time || !change.cause.empty() ||
            std::find(kinds.begin(), kinds.end(), change.kind) == kinds.end())
          continue;
        if (own_only && !(named && change.target == services[a.service])) continue;
        change.cause = cause;
        claimed[i] = true;
        if (a.action != "undo" && a.action != "timeout") break;  // an undo may restore several
      }
    }
  }
}

namespace {

// Whether service `s` is the incident's root or one it affected.
bool touches(const IncidentRecord& incident, int s) {
  return s == incident.root_service || std::find(incident.affected.begin(), incident.affected.end(),
                                                 s) != incident.affected.end();
}

// Whether the incident was caused by one of the responders' restarts.
bool caused_by(const IncidentRecord& incident, const std::vector<RemediationAction>& actions) {
  return std::any_of(actions.begin(), actions.end(),
                     [&](const RemediationAction& a) { return a.fault == incident.name; }) &&
         !incident.name.empty();
}

}  // namespace

namespace {

// The first incident rule's detected incident that matches `incident` as the whole-system
// alert it scores as (detected_as_alerts), or nullptr.
const Alert* first_rule_alert(const std::vector<Alert>& rule_alerts, const IncidentRecord& incident,
                              const ScoringOptions& matching) {
  const Alert* first = nullptr;
  for (const Alert& r : rule_alerts)
    if (alert_matches_incident(r, incident, matching) && (first == nullptr || r.time < first->time))
      first = &r;
  return first;
}

}  // namespace

RemediationScores RunReport::remediation_scores() const {
  RemediationScores out;
  std::map<std::string, SimTime> window;  // playbook -> how long after an action counts
  std::map<std::string, bool> automated;
  for (const PlaybookSpec& pb : scenario.playbooks) {
    window[pb.name] = pb.verify_metric.empty() ? 5 * kMinute : pb.verify_within;
    automated[pb.name] = !pb.oncall;
  }
  for (const RemediationAction& a : remediation) {
    if (a.acted) ++out.actions;
    if (a.action == "escalate") ++out.escalated;
  }
  if (entry_requests > 0 && scenario.slo < 1)
    out.error_budget_burned = entry_errors / ((1.0 - scenario.slo) * entry_requests);
  const ScoringOptions matching{.tolerance = 0, .tick = scenario.tick};
  const bool ordered = in_time_order(alerts);
  // An incident rule's detection detects too, as it scores (docs/scoring.md).
  const std::vector<Alert> rule_alerts = detected_as_alerts(this->detected);
  std::vector<SimTime> detected, notified, acknowledged, mitigated, recovered;
  for (const IncidentRecord& incident : incidents) {
    if (incident.silent) continue;
    if (caused_by(incident, remediation)) {
      ++out.caused_incidents;
      continue;
    }
    ++out.scored_incidents;
    SimTime first_alert = -1, first_notified = -1;
    const auto [near, past] = alerts_near(alerts, ordered, incident, matching);
    for (std::size_t a = near; a < past; ++a) {
      if (!alert_matches_incident(alerts[a], incident, matching)) continue;
      if (first_alert < 0) first_alert = alerts[a].time;
      if (a < routing.first_notified.size() && routing.first_notified[a] >= 0 &&
          (first_notified < 0 || routing.first_notified[a] < first_notified))
        first_notified = routing.first_notified[a];
    }
    if (const Alert* rule = first_rule_alert(rule_alerts, incident, matching);
        rule != nullptr && (first_alert < 0 || rule->time < first_alert))
      first_alert = rule->time;
    if (first_alert >= 0)
      detected.push_back(std::max<SimTime>(0, first_alert - incident.impact_start));
    if (first_notified >= 0)
      notified.push_back(std::max<SimTime>(0, first_notified - incident.impact_start));
    if (!incident.ongoing) recovered.push_back(incident.impact_end - incident.impact_start);
    const std::vector<std::string> remedies = remedies_of(incident, scenario);
    const auto affected = [&](int s) { return touches(incident, s); };
    SimTime ack = -1, mitigation = -1;
    bool by_automation = false;
    for (const RemediationAction& a : remediation) {
      if (!affected(a.service) || a.time < incident.impact_start) continue;
      if (a.action == "acknowledge" && ack < 0 && a.alerted <= incident.impact_end) ack = a.time;
      if (!a.acted || a.fault == incident.name) continue;
      if (a.time <= incident.impact_end) {
        ++out.judged_actions;
        bool correct = false;
        for (std::size_t from = 0; from < a.target.size();) {  // a timeout lists several
          const std::size_t comma = std::min(a.target.find(',', from), a.target.size());
          const std::string one = a.action + " " + a.target.substr(from, comma - from);
          correct = correct || std::find(remedies.begin(), remedies.end(), one) != remedies.end();
          from = comma + 1;
        }
        if (correct) ++out.correct_actions;
      }
      if (!incident.ongoing && a.time <= incident.impact_end &&
          incident.impact_end - a.time <= window[a.playbook]) {
        mitigation = a.time;
        by_automation = automated[a.playbook];
      }
    }
    if (ack >= 0) acknowledged.push_back(ack - incident.impact_start);
    if (mitigation >= 0) {
      ++out.mitigated_incidents;
      if (by_automation) ++out.automatic;
      mitigated.push_back(mitigation - incident.impact_start);
    }
    out.mitigated_at.emplace_back(incident.id, mitigation);
  }
  out.time_to_detect = make_distribution(std::move(detected));
  out.time_to_notify = make_distribution(std::move(notified));
  out.time_to_acknowledge = make_distribution(std::move(acknowledged));
  out.time_to_mitigate = make_distribution(std::move(mitigated));
  out.time_to_recover = make_distribution(std::move(recovered));
  return out;
}

std::vector<IncidentTimelineEvent> RunReport::incident_timelines() const {
  const ScoringOptions matching{.tolerance = 0, .tick = scenario.tick};
  const RemediationScores remedied = remediation_scores();
  const bool ordered = in_time_order(alerts);
  const std::vector<Alert> rule_alerts = detected_as_alerts(detected);
  const std::map<std::int64_t, SimTime> mitigated(remedied.mitigated_at.begin(),
                                                  remedied.mitigated_at.end());
  std::vector<IncidentTimelineEvent> out;
  for (const IncidentRecord& incident : incidents) {
    if (incident.silent) continue;
    std::vector<IncidentTimelineEvent> events;
    const auto add = [&](SimTime t, std::string event, std::string detail) {
      events.push_back({incident.id, t, std::move(event), std::move(detail)});
    };
    add(incident.impact_start, "impact-start", incident.root_cause);
    SimTime notified = -1;
    const Alert* first = nullptr;  // the first matching alert: a detector's, or a rule's before it
    const auto [near, past] = alerts_near(alerts, ordered, incident, matching);
    for (std::size_t a = near; a < past; ++a) {
      if (!alert_matches_incident(alerts[a], incident, matching)) continue;
      if (first == nullptr) first = &alerts[a];
      if (a < routing.first_notified.size() && routing.first_notified[a] >= 0 &&
          (notified < 0 || routing.first_notified[a] < notified))
        notified = routing.first_notified[a];
    }
    if (const Alert* rule = first_rule_alert(rule_alerts, incident, matching);
        rule != nullptr && (first == nullptr || rule->time < first->time))
      first = rule;
    // A rule's detection at the severity it opened with (its alert carries the highest
    // reached: a Sev2 escalated later read sev1 at its opening).
    const auto opened_as = [&](const Alert& rule) {
      for (const DetectedIncident& d : detected)
        if (d.rule == rule.detector && d.start == rule.time && !d.timeline.empty())
          return "sev" + std::to_string(d.timeline.front().severity);
      return rule.severity;
    };
    if (first != nullptr)
      add(first->time, "first-alert",
          first->service == kWholeSystem
              ? "incident rule " + first->detector + " " + opened_as(*first)
              : first->detector + " on " +
                    (first->target.empty() ? scenario.services[first->service].name
                                           : first->target) +
                    " " + first->metric);
    if (notified >= 0) add(notified, "first-notification", "");
    const auto affected = [&](int s) { return touches(incident, s); };
    bool acknowledged = false;
    for (const RemediationAction& a : remediation) {
      // The actions remediation_scores() judges: on an affected service, from the impact's
      // start, answering an alert up to its end (a leak's alert may come before the impact).
      if (!affected(a.service) || a.time < incident.impact_start ||
          a.alerted > incident.impact_end)
        continue;
      if (a.action == "acknowledge") {
        if (acknowledged) continue;
        acknowledged = true;
      }
      add(a.time, a.action,
          scenario.services[a.service].name + ": " + a.outcome + " (" + a.playbook + ")");
    }
    if (const auto at = mitigated.find(incident.id); at != mitigated.end() && at->second >= 0)
      add(at->second, "mitigation", "");
    add(incident.impact_end, incident.ongoing ? "ongoing" : "impact-end", "");
    std::stable_sort(events.begin(), events.end(),
                     [](const auto& x, const auto& y) { return x.time < y.time; });
    out.insert(out.end(), events.begin(), events.end());
  }
  return out;
}

}  // namespace dosim
