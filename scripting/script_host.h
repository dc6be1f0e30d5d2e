// Runs a Lua chaos script inside a simulation (the API: docs/lua-api.md).
//
// Lifecycle, as `dosim run --script` drives it:
//   1. ScriptHost(simulation, options, seed) makes the sandbox (lua_sandbox.h), binds the
//      `sim` table and loads the file (a syntax error throws ScriptError).
//   2. start() runs the script's main chunk at simulated time 0, before the first tick: it
//      schedules callbacks (sim.at/after/every/spawn), registers hooks (sim.on) and Lua
//      detectors (sim.detector), may inject faults and start experiments.
//   3. detector_specs() and detector_factory() give the run its Lua detectors; attach(runner)
//      lets the alert and incident hooks see the runner's alerts.
//   4. The host is a FrameSink, added after the detector runner: after each tick it fires
//      the hooks (alert, incident, escalation, change, tick, in that order, each in
//      registration order)
//      and wakes coroutines whose sim.wait_until predicate holds (they resume before the
//      next tick).
// Callbacks run inside Simulation::run(); a failing one throws ScriptError out of it
// ("FILE:LINE: message" and a traceback), which stops the run. So does a zero-time loop:
// more than limits.callbacks_per_instant callbacks and resumes before one tick. Once a stop
// is requested (interrupt_requested(), lua_sandbox.h) no more script code runs and the code
// running is stopped without an error: the simulation then stops at the end of its tick.
// Destroying the host first closes the Lua state, with the API unbound: a sim call that
// could still happen then fails instead of reaching a destroyed host.
// Everything is deterministic: the script sees simulated time only.
// Not thread-safe: one host per simulation.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "detectors/runner.h"
#include "dosim/engine/simulation.h"
#include "dosim/experiment.h"
#include "engine/world.h"
#include "scripting/lua_sandbox.h"

namespace dosim {

struct ScriptOptions {
  std::string path;  // the .lua file
  SandboxLimits limits;
  // Where sim.log lines go as they are written (besides log()); empty: nowhere.
  std::function<void(SimTime, const std::string&)> on_log;
  // --strict: what a call would warn of (a drain restored after the end) is its error.
  bool strict = false;
  // The run's trace (--out): sim.apply refuses it as a manifest, which the trace would
  // replace at the end of the run. "" for none.
  std::string output_path;
};

class ScriptHost : public FrameSink {
 public:
  // Throws ScriptError (the file cannot be read, a syntax error, bytecode).
  ScriptHost(Simulation& simulation, ScriptOptions options, std::uint64_t seed);
  ~ScriptHost() override;

  // Runs the main chunk. Throws ScriptError.
  void start();
  // Whether the main chunk has run (sim.detector is refused from then on).
  bool started() const { return started_; }

  // Detectors the script defined with a `watch` (their kind is the detector's name).
  std::vector<DetectorSpec> detector_specs() const;
  // Makes Lua detectors for specs whose kind a sim.detector defined; nullptr otherwise.
  DetectorFactory detector_factory();
  void attach(const DetectorRunner& runner) { runner_ = &runner; }

  void on_frame(const Frame& frame) override;
  // Once the run has reached its end: every experiment still running (its method asleep
  // past the end, say) runs its rollbacks and gets the verdict error ("the run ended before
  // the method finished"). Not after a stop request or a fatal error. Throws ScriptError.
  void finish();

  const std::vector<ScriptLogLine>& log() const { return log_; }
  const std::vector<ExperimentRecord>& experiments() const { return experiments_; }
  const std::string& path() const { return options_.path; }
  const std::string& output_path() const { return options_.output_path; }
  // sim.apply named the run's trace as a manifest: the run discards its trace (else it would
  // replace the manifest).
  void claim_output() { output_claimed_ = true; }
  bool output_claimed() const { return output_claimed_; }
  bool strict() const { return options_.strict; }
  const std::string& text() const { return text_; }

  // For the bindings (script_api.cc).
  struct Binding;
  Simulation& simulation() { return simulation_; }
  // The script's clock: inside a scheduled callback or a resumed coroutine, the time it was
  // scheduled for (which may fall between ticks); elsewhere the simulation's now().
  SimTime clock() const { return clock_ >= 0 ? clock_ : simulation_.now(); }
  // Runs fn at time t (now if t is past) with the script's clock set to that time. `where`
  // ("FILE:LINE" of the script that scheduled it) is where a zero-time loop is reported.
  void at(SimTime t, std::function<void()> fn, std::string where = {});
  LuaSandbox& sandbox() { return *sandbox_; }
  void add_log(const std::string& text);
  // What call `where` (sim.drain) warns of (a drain restored after the run ends): logged
  // after `at` ("FILE:LINE: " of the call), and kept as a warning at the script's `line`,
  // which a plan lists with the scenario's (the main chunk's: `dosim validate` shows it).
  void add_warning(const std::string& at, int line, const std::string& where,
                   const std::string& message);
  const std::vector<Diagnostic>& warnings() const { return warnings_; }
  void add_experiment(ExperimentRecord record) { experiments_.push_back(std::move(record)); }
  // Runs the Lua function referenced by `ref` (registry) as a callback with no arguments.
  void run_callback(int ref);
  // Resumes coroutine `ref` (registry) and handles its next request.
  void resume(int ref);
  // The coroutine of sim.spawn that resume() is running, nullptr outside one: only it may
  // yield a request to the host (sim.sleep, sim.wait_until).
  lua_State* resuming() const { return resuming_; }
  // Coroutines waiting for a predicate, checked after each tick.
  struct Waiter {
    int coroutine_ref;
    int predicate_ref;
  };
  std::vector<Waiter>& waiters() { return waiters_; }
  // Which hooks the script registered: "alert", "incident", "escalation", "change", "tick".
  std::map<std::string, bool>& wanted() { return wanted_; }
  struct LuaDetectorDef {
    std::string name;
    int init_ref = LUA_NOREF;
    int observe_ref = LUA_NOREF;
    double threshold = 1.0;
  };
  std::vector<LuaDetectorDef>& lua_detectors() { return lua_detectors_; }
  std::vector<DetectorSpec>& watched_specs() { return watched_specs_; }

 private:
  void dispatch(const char* event);  // calls sim._dispatch(event, payload on the stack)
  void fire_hooks(const Frame& frame);
  // Runs fn unless a stop was requested; a ScriptError caused by the stop is swallowed.
  void guard_stop(const std::function<void()>& fn);

  Simulation& simulation_;
  ScriptOptions options_;
  std::unique_ptr<LuaSandbox> sandbox_;
  std::string text_;
  const DetectorRunner* runner_ = nullptr;
  SimTime clock_ = -1;                  // -1: outside a scheduled callback
  lua_State* resuming_ = nullptr;       // resuming()
  bool output_claimed_ = false;
  bool started_ = false;                // started()
  SimTime counted_before_ = -1;         // the tick before which callbacks are being counted
  std::int64_t callbacks_counted_ = 0;  // callbacks and resumes before that tick
  std::size_t alerts_seen_ = 0;
  std::size_t incidents_seen_ = 0;
  std::size_t escalations_seen_ = 0;
  // DetectorRunner::incident_changes() when each hook last looked (~0: never).
  std::size_t incident_hook_changes_ = ~std::size_t{0};
  std::size_t escalation_hook_changes_ = ~std::size_t{0};
  SimTime changes_until_ = 0;  // change events before it have been reported
  std::vector<ScriptLogLine> log_;
  std::vector<Diagnostic> warnings_;
  std::vector<ExperimentRecord> experiments_;
  std::vector<Waiter> waiters_;
  std::map<std::string, bool> wanted_;
  std::vector<LuaDetectorDef> lua_detectors_;
  std::vector<DetectorSpec> watched_specs_;
};

}  // namespace dosim
