// A run as a library object: what every front end (the `dosim` command line, the test
// suite, a C++ program that links dosim::dosim) uses to run a scenario.
//
//   dosim::RunPlan plan = dosim::RunPlan::load("scenarios/ecommerce.yaml");  // checks all
//   dosim::Run run(plan);                                                    // opens, wires
//   dosim::RunReport report = run.run();                                     // simulates
//   for (const auto& [name, s] : report.scores().rows) std::cout << name << " " << s.f1;
//
// RunPlan::load resolves everything a run needs before any simulation: the scenario (every
// problem at its FILE:LINE:COL), the detectors (kinds, parameters, model files), the Lua
// script (found, compiled, its main chunk run in a probe of the world, its Lua detectors),
// the incident rules and the alert pipeline. It throws one Error carrying every problem it
// found; RunPlan::check returns them instead (what `dosim validate` prints). A plan that
// loads runs: a Run can still fail only on what happens during the simulation (a script
// callback that errors, a trace that cannot be written).
//
// A Run wires the consumers of each tick's Frame in their required order: the detectors
// (alerts and incident rules), then the script (its hooks see this tick's alerts), then the
// trace writer (a tick's scores land in that tick's row), then the sinks added with
// add_sink() (progress lines, exporters). run() simulates, closes the trace (complete, or
// marked incomplete when stopped) and returns the report: ground truth, alerts, detected
// incidents, notifications, experiments, the script's log, and the scores.
//
// Same plan and seed, same report and the same trace bytes, on any machine and thread
// count. A RunPlan is immutable and may be shared by Runs on several threads (dosim bench
// does); a Run belongs to one thread, and runs that write traces run one at a time (HDF5 is
// serial, util/hdf5.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dosim/alert.h"
#include "dosim/analysis/root_cause.h"
#include "dosim/analysis/score_table.h"
#include "dosim/analysis/scoring.h"
#include "dosim/detectors/detector.h"
#include "dosim/engine/frame.h"
#include "dosim/engine/incident.h"
#include "dosim/engine/operations.h"
#include "dosim/engine/scenario.h"
#include "dosim/engine/simulation.h"
#include "dosim/error.h"
#include "dosim/experiment.h"

namespace dosim {

struct RunOptions {
  std::optional<std::uint64_t> seed;  // default: the scenario's `seed`
  std::optional<WorldMode> mode;      // default: the scenario's `mode`
  // A Lua chaos script (docs/lua-api.md); "" runs the scenario's `script:` (relative to the
  // scenario's folder), if it names one.
  std::string script_path;
  std::int64_t lua_instructions = 50'000'000;  // per callback or resume, 1000 to 1e12
  std::int64_t lua_memory_mib = 256;           // 1 to 1048576
  // Where the script's sim.log lines go as they are written; empty: only the report.
  std::function<void(SimTime, const std::string&)> on_script_log;
  // The detectors to run instead of the scenario's (`dosim bench --detectors`): each a
  // detector of the scenario's `detectors:` by name, a Lua detector of the script by name,
  // or KIND[:key=value...] (a registry kind's bench default with those parameters, or a
  // kind `detector_factory` makes, with the bench's metrics, p95 latency and error ratio,
  // and `for: 15s`). nullopt: the scenario's detectors (or the default set when it
  // declares none) and the script's Lua detectors.
  std::optional<std::vector<std::string>> detectors;
  // What the problems of `detectors` are said at, in place of a file: a front end names its
  // own option ("--detectors" on the command line, "detectors" in Python).
  std::string detectors_source = "RunOptions::detectors";
  // The folder that relative files named in `detectors` tokens (python:FILE.py:CLASS,
  // model=PATH) are in: "" is the working directory (a sweep gives its file's folder).
  std::string detector_folder;
  // Detector kinds of the program's own (a scenario's `kind:` the registry does not know
  // is asked of it first; then of the script's Lua detectors).
  DetectorFactory detector_factory;
  // Root-cause rankers of the program's own (docs/rca.md, "Your own ranker"), by name: each
  // ranks after the scenario's `rca: rankers:`, or where that list names it. A name must not
  // be a built-in ranker's or one of the scenario's. The ranker may be called from the
  // thread that runs, after the simulation.
  NamedRcaRankers rankers;
  // Whether the scenario's incident rules run (they watch the scenario's own detectors; a
  // bench that picks other detectors turns them off).
  bool incident_rules = true;
  // The HDF5 trace to write (docs/trace-format.md); "" writes none.
  std::string trace_path;
  // Warnings (a bare number for a duration, a percent written as a ratio...) are errors.
  bool strict = false;
  // Threads for each tick's work (the world's services level by level, the measurement of
  // every series): the trace is byte-identical for any count. >= 1.
  int threads = 1;
};

class RunPlan {
 public:
  // Loads the scenario file and resolves the run. Throws InputError with every problem
  // found, a script's that does not compile or whose main chunk fails and a model file's
  // that is no model among them (ScriptError and ModelError are the run's), and the
  // scenario's warnings with them (as errors when options.strict).
  static RunPlan load(const std::string& scenario_path, RunOptions options = {});
  // The same for a scenario already loaded (its `file` names it in messages).
  static RunPlan from_scenario(Scenario scenario, RunOptions options = {});
  // Every problem `load` would report, errors and warnings (Diagnostic::warning), in file
  // order (by_position: the scenario's by line and column, then each other file's); empty
  // when the scenario runs as it is. Never throws for bad input.
  static std::vector<Diagnostic> check(const std::string& scenario_path,
                                       const RunOptions& options = {});

  const Scenario& scenario() const { return *scenario_; }
  std::uint64_t seed() const { return seed_; }
  const RunOptions& options() const { return options_; }
  // The detectors a run feeds, resolved, in order (the script's Lua detectors included).
  const std::vector<DetectorSpec>& detectors() const { return detectors_; }
  // The script the run starts ("" for none), as a path.
  const std::string& script_path() const { return script_path_; }
  const std::vector<Diagnostic>& warnings() const { return scenario_->warnings; }
  // Every file the run reads, each with what it is ("the scenario", "a manifest", ...): the
  // scenario (its `file`), the script, replayed and recorded-rate CSV files, manifests, an
  // Alertmanager file, root-cause rankers' files, detectors' models and modules. An output
  // must name none of them.
  std::vector<std::pair<std::string, std::string>> inputs() const;

  // The same plan with another seed (bench's seeds).
  RunPlan with_seed(std::uint64_t seed) const;

 private:
  RunPlan() = default;
  std::shared_ptr<const Scenario> scenario_;
  std::uint64_t seed_ = 0;
  RunOptions options_;
  std::vector<DetectorSpec> detectors_;
  std::string script_path_;
};

// One thing a responder did (docs/remediation.md): acknowledged, acted, verified, undid,
// escalated.
struct RemediationAction {
  SimTime time = 0;  // when
  std::string playbook;
  int service = -1;     // the service it acted on (the alert's)
  SimTime alerted = 0;  // the triggering alert's time
  // "acknowledge", "approval", a step's action ("rollback", "scale", "restart", "flag-off",
  // "revert-config", "failover", "timeout", "shed"), "verify", "undo", "escalate"
  std::string action;
  std::string outcome;  // what came of it ("3 -> 5 replicas", "recovered", ...)
  bool acted = false;   // a step that changed the world (not "nothing to roll back")
  // What a step acted on: "change:NAME", "service:NAME", "region:NAME" or
  // "edge:CALLER->CALLEE" (several, comma-separated, for a timeout); "" otherwise.
  std::string target;
  std::string fault;  // restart, drain: the fault it added to the world (its incident's name)
  // What set the playbook off: "alert DETECTOR on SERVICE", "notification to RECEIVER",
  // "incident RULE sevN".
  std::string trigger;
};

// What the loop achieved (docs/remediation.md). Scored incidents: the non-silent ones, less
// those a responder's restart caused (counted apart). An incident's mitigating action: the last
// action that acted on a service it touched, at most its playbook's verify window (5 minutes
// without one) before the impact's end; an ongoing impact has none.
struct RemediationScores {
  std::size_t actions = 0;    // steps that changed the world
  std::size_t escalated = 0;  // triggers whose steps all failed verification (or rate-limited)
  std::size_t scored_incidents = 0, mitigated_incidents = 0;
  std::size_t automatic = 0;  // mitigated by an automation playbook (no person)
  // Actions during an incident's impact on a service it touched, and of them those that
  // its ground truth lists as ending it (run/remedies.h).
  std::size_t judged_actions = 0, correct_actions = 0;
  // Incidents the responders caused: their restarts' and zone drains' impact, measured as any
  // fault's.
  std::size_t caused_incidents = 0;
  // The SLO error budget burned over the run: failed requests of the entry services over
  // (1 - slo) x their requests (1 = the whole budget); 0 without playbooks.
  double error_budget_burned = 0;
  // From the impact's start: first alert, first notification, on-call acknowledgement,
  // mitigating action, impact end (recovered incidents only).
  Distribution time_to_detect, time_to_notify, time_to_acknowledge, time_to_mitigate,
      time_to_recover;
  // Per scored incident: its id and its mitigating action's time (-1: none).
  std::vector<std::pair<std::int64_t, SimTime>> mitigated_at;
  double automatic_rate() const {
    return scored_incidents ? static_cast<double>(automatic) / scored_incidents : 0.0;
  }
};

// Sets the cause of each change event a responder's action made (ChangeEvent::cause): the
// events of the action's kind at its instant, those on the action's service (`services`:
// the scenario's names) first.
void attribute_changes(const std::vector<RemediationAction>& actions,
                       const std::vector<std::string>& services, std::vector<ChangeEvent>& changes);

// One incident's life as the loop saw it (docs/remediation.md): "impact-start",
// "first-alert", "first-notification", "acknowledge", each responder action on an affected
// service ("rollback", "scale", "verify", "undo", "escalate", "approval"), "mitigation",
// "impact-end" (or "ongoing" at the end of the run), in time order.
struct IncidentTimelineEvent {
  std::int64_t incident = 0;
  SimTime time = 0;
  std::string event, detail;
};

struct RunReport {
  // The run's copy of the scenario: with the faults and changes a script added at run time.
  Scenario scenario;
  std::uint64_t seed = 0;
  RunResult result;  // completed (false when stopped), ticks, simulated time, events
  std::vector<IncidentRecord> incidents;       // the ground truth (docs/ground-truth.md)
  std::vector<ChangeEvent> changes;            // the change log
  std::vector<std::string> detectors;          // names, in the order they ran
  std::vector<Alert> alerts;                   // in the order they fired
  std::vector<std::int64_t> alert_incidents;   // per alert: the incident it matched, or -1
  std::vector<DetectedIncident> detected;      // by the incident rules
  std::vector<RcaRanking> rca;                 // root-cause rankings of the detected incidents
  std::vector<RemediationAction> remediation;  // what the playbooks did, in time order
  // The entry services' requests and failed requests (counted with playbooks only).
  double entry_requests = 0, entry_errors = 0;
  AlertRouting routing;     // Alertmanager semantics' notifications
  std::string script_path;  // "" without a script
  std::vector<ScriptLogLine> script_log;
  std::vector<ExperimentRecord> experiments;
  std::string trace_path;       // "" when no trace was written
  std::int64_t trace_rows = 0;  // rows the trace holds

  // Whether every experiment of the script passed (true without experiments).
  bool experiments_passed() const;
  // The score table: each detector, all together, the baselines, the incident rules.
  ScoreTable scores() const;
  // What the playbooks achieved; all zero without playbooks.
  RemediationScores remediation_scores() const;
  // Every scored incident's timeline, incidents in id order.
  std::vector<IncidentTimelineEvent> incident_timelines() const;
};

class Run {
 public:
  // Creates the world and the trace (InputError when it cannot be written: nothing is
  // simulated), starts the script (ScriptError) and makes the detectors. Keeps its own copy
  // of the plan (cheap: the scenario is shared), so a temporary plan is fine.
  explicit Run(const RunPlan& plan);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // Adds a consumer of every frame after the built-in ones, before the first step() or run()
  // (after, or a null sink: RunControlError); the sink outlives the Run.
  void add_sink(FrameSink* sink);

  // Simulates at most `ticks` (>= 0, else RunControlError) more ticks, the sinks seeing
  // each; returns whether ticks are left. Stepping changes when control returns, never what is
  // simulated: any sequence of step() calls followed by run() gives the report and trace one run()
  // gives. Between steps the simulation may be controlled (simulation().add_fault(...) and the
  // rest). An error out of a tick (a script callback's ScriptError, a detector's) stops the run as
  // run() would: it is thrown once, the trace is closed as incomplete, and every later
  // step() or run() throws RunControlError (stopped_on_error()).
  // `stop` (as run()'s, checked before each tick) ends the step early: a stop then ends the
  // run by run(stop), which closes the trace as incomplete.
  bool step(std::int64_t ticks = 1, const std::atomic<bool>* stop = nullptr);
  // Whether a step() threw: the run is stopped for good.
  bool failed() const;
  // "the run stopped on an error (MESSAGE)", MESSAGE that of the error step() threw.
  std::string stopped_on_error() const;
  // The frame of the last simulated tick (zeros before the first).
  const Frame& frame() const;
  // The alerts raised so far, in the order they fired (resolved set once they cleared).
  const std::vector<Alert>& alerts() const;
  // The incidents the incident rules declared so far (open ones with end -1).
  std::vector<DetectedIncident> detected() const;
  // What the scenario's playbooks did so far (empty without playbooks).
  const std::vector<RemediationAction>& remediation() const;

  // Simulates to the scenario's end (from where step() left it), or until `stop` is set
  // (checked once per tick; the trace is then closed as incomplete), and reports. Throws
  // ScriptError when a script callback fails, or the error a detector raised (the trace is
  // closed as incomplete). Called once: run() or step() after it is a RunControlError.
  RunReport run(const std::atomic<bool>* stop = nullptr);

  // The simulation, for run-time control before run() (Simulation::at, add_fault, ...);
  // advancing it directly (its run() or run_ticks()) makes the next step() or run() a
  // RunControlError: the Run's sinks would miss those ticks.
  Simulation& simulation();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The path of a scenario's `script:` (relative to the scenario file's folder), "" if none.
std::string scenario_script_path(const std::string& scenario_path, const std::string& script);

}  // namespace dosim
