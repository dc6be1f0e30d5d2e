// Runs a Scenario in simulated time and hands every tick's Frame to its sinks.
//
// The engine is a discrete-event loop over a CalendarQueue (calendar_queue.h): fault starts and
// ends, scheduled callbacks and the periodic world tick are events ordered by (time, priority,
// sequence), with fault ends, then fault starts, then callbacks before the tick at the same
// instant, so a fault starting at t affects the tick that ends at t + tick. The loop never reads
// the wall clock; a run is a pure function of (scenario, seed) and of what callbacks do.
//
// Run-time control (the engine half of Lua chaos scripting): callbacks scheduled with at() run at
// chosen simulated times and may add faults and changes, end faults, roll deployments back and
// scale services. Whatever they add behaves exactly as if the scenario had declared it (same
// frames, same change log, same ground truth): a fault added at time t for start s equals a
// declared fault with start s, an end_fault() at t one declared with duration t - start, a
// rollback() at t a declared `rollback: t`. The Simulation keeps its own copy of the scenario, and
// additions are appended to it (scenario()). Incident ids: the scenario's own causes first (its
// faults, then its changes with a defect), then the causes added at run time, in the order they
// were added, so additions never renumber earlier incidents.
//
// Interruption and stepping: run() polls `stop` once per tick; when it is set the run returns
// early with completed = false and the sinks have seen every frame up to that point.
// run_ticks(n) simulates at most n more ticks. Either may be called again to go on from
// where the last one stopped, with the same result as one uninterrupted run: the calls
// change when control returns, never what is simulated.
// An exception thrown by a callback leaves run() (the sinks have seen every frame before it).
// Not thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "dosim/engine/frame.h"
#include "dosim/engine/incident.h"
#include "dosim/engine/operations.h"
#include "dosim/engine/scenario.h"

namespace dosim {

class World;

struct RunResult {
  bool completed = false;
  std::int64_t ticks = 0;   // ticks simulated
  SimTime simulated = 0;    // simulated time covered
  std::int64_t events = 0;  // events processed (ticks and callbacks included)
};

class Simulation {
 public:
  // Copies `scenario`.
  Simulation(const Scenario& scenario, std::uint64_t seed);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Runs each tick's work on `threads` threads (1 to 256, else RunControlError;
  // World::set_threads): the frames, and so everything after them, are byte-identical for
  // any count. Default: 1.
  void set_threads(int threads);

  // Sinks receive frames in the order they were added. REQUIRES: sink outlives run().
  void add_sink(FrameSink* sink) { sinks_.push_back(sink); }

  // Simulates up to the end of the scenario, or until `stop` is set (checked before each
  // tick). Returns the totals so far; completed once the last tick is done.
  RunResult run(const std::atomic<bool>* stop = nullptr);
  // Simulates at most `ticks` (>= 0, else RunControlError) more ticks (events due before the
  // next tick included), fewer when `stop` is set (checked before each tick, as run()'s).
  RunResult run_ticks(std::int64_t ticks, const std::atomic<bool>* stop = nullptr);
  // The frame of the last simulated tick (all zero before the first). Valid until the next
  // tick.
  const Frame& frame() const;

  // The run's copy of the scenario, with the faults and changes added at run time appended
  // (and their run-time ends and rollbacks written in: a fault ended early has its shortened
  // duration; one ended before it started has duration 0).
  const Scenario& scenario() const { return scenario_; }
  // The start of the next tick to simulate: 0 before run(), tick k's start while the events
  // before it run (callbacks included), the end of the last simulated tick after run().
  SimTime now() const { return next_tick_ * scenario_.tick; }
  // The simulated time of the callback running (its t, or now() where t was past), else
  // now(): the earliest time a fault or change added now can start, and the least time a
  // callback scheduled now runs at. Between ticks a callback at t runs before the next tick,
  // so what it adds at t acts from that tick, as if the scenario had declared it at t.
  SimTime current_time() const { return callback_time_ >= 0 ? callback_time_ : now(); }

  // --- Run-time control. Every call may be made before run() and from callbacks. ---

  // Calls fn at simulated time t, after the frame of the tick that ends at t has reached the
  // sinks and the fault start and end events at t, and before the tick that starts at t;
  // callbacks with the same t run in the order they were scheduled. t < current_time() runs
  // at current_time(). A callback at a time that is not a tick's start runs before the frame
  // of the tick it falls in reaches the sinks, and acts from the next tick (now() is then
  // that tick's start). Callbacks at or after the end of the run never run.
  void at(SimTime t, std::function<void()> fn);

  // Adds a fault as if the scenario had declared it (same semantics, same ground truth with
  // its counterfactual, impact window, affected services...). Its incident id comes after
  // all of the scenario's own and those added before it. An empty name becomes
  // "fault-<index>". Returns the fault's index in scenario().faults.
  // Throws RunControlError when spec.start < current_time(), spec.start is not before the end of
  // the scenario, spec.duration <= 0, the name is already taken, or the target does not refer
  // to what the scenario has (use parse_fault(), scenario_loader.h, for every check with
  // messages).
  int add_fault(FaultSpec spec);

  // Ends fault `fault` at now() if it has not ended yet: its recorded end becomes now() (its
  // duration now() - start). A fault that has not started by now() is cancelled: it never
  // acts, and its duration becomes 0 (a silent incident). A no-op for an ended fault.
  // Throws RunControlError for an index out of range.
  void end_fault(int fault);
  // Whether fault `fault` has ended (its duration over, ended or cancelled by end_fault()).
  // REQUIRES: 0 <= fault < scenario().faults.size().
  bool fault_ended(int fault) const {
    return fault_phase_[static_cast<std::size_t>(fault)] == FaultPhase::kEnded;
  }

  // Adds a change (deployment, config, secret-rotation, feature-flag) as if declared; its
  // incident id (when it has a defect) comes after all earlier ones. An empty name becomes
  // "change-<index>". Returns its index in scenario().changes.
  // Throws RunControlError when spec.at < current_time() (or a feature flag's first step), spec.at
  // is not before the end of the scenario, the name is taken, or a reference is out of range.
  int add_change(ChangeSpec spec);

  // Rolls back the service's deployment in progress, or its last one, at now(), as a declared
  // `rollback: now()` does: the deployment is the one of the service with the latest `at`
  // at or before now() (one a script made at this instant included: it never serves); its
  // version stops serving at once, the previous one serves everything, the change log gets a
  // `rollback` event and its incident window ends. Returns false when there is nothing to roll
  // back: no deployment of the service started by now(), or the last one is rolled back
  // already (a declared rollback at or before now() included).
  // Throws RunControlError for a service out of range.
  bool rollback(int service);

  // Sets the service's replica count from now() on, as `kubectl scale` does; the change log gets
  // a `scale` event. Without an autoscaler the service runs `replicas` replicas from the tick at
  // now() (new ones ready at once). With one, the count the autoscaler manages is set: added
  // replicas are ready after its startTime, removed ones go at once, and the autoscaler goes on
  // from the new count at its next sync (so it takes over again, within [min, max]). Applies to
  // the counterfactual world as well (it is an operation, not a fault). Pod faults that start
  // later pick their replicas among the new count; rollouts keep planning from the declared one.
  // Throws RunControlError for a service out of range or replicas outside
  // [0, 1000000] (the scenario format's limit).
  void set_replicas(int service, int replicas);
  // The service's replica count now (declared, scaled or autoscaled), faults aside.
  int replicas(int service) const;

  // Takes change `change` back at now(), as its declared counterpart would: a deployment is
  // rolled back (as rollback() does), a config reverted (`revert: now()`), a feature flag
  // turned off (a step to 0 % at now(), its later steps dropped), a secret rotation's
  // stragglers restarted with the new secret (`fixed_at: now()`), a drain restored (`restore:
  // now()`). The change log and the change's incident window follow. Returns false when there
  // is nothing to take back: it starts after now() (one starting now is taken back before it
  // acts), it is a traffic shift, or it is taken back already (a flag off now with no later
  // step).
  // Throws RunControlError for an index out of range.
  bool revert_change(int change);

  // Sets a dependency's attempt timeout from now() on (0: none), in both worlds (an operation,
  // like set_replicas); attempts in flight keep theirs. The change log gets a `timeout`
  // event. Throws RunControlError for an index out of range or a negative timeout.
  void set_timeout(int dependency, SimTime timeout);

  // Sheds `fraction` of the service's arrivals from now() on, in both worlds: they are
  // rejected at once with HTTP 429 before its queue (admission control), so they cost it
  // nothing and make no calls. 0 stops. The change log gets a `shed` event. Throws
  // RunControlError for a service out of range or a fraction outside [0, 1].
  void set_shed(int service, double fraction);

  // Adds a playbook for the run's responders (run/responder.h; a script's sim.playbook): the
  // engine only keeps it in scenario().playbooks.
  // Throws RunControlError when the check set by set_playbook_check() finds a problem.
  void add_playbook(PlaybookSpec spec);
  // What add_playbook() checks beyond the loader: a front end's knowledge of the run (the
  // root-cause rankers a step may name). Returns the problem, or "" when there is none.
  void set_playbook_check(std::function<std::string(const PlaybookSpec&)> check) {
    playbook_check_ = std::move(check);
  }

  // Ground truth so far: one record per fault in the scenario, then one per change with a
  // defect, then one per cause added at run time; impact measured up to the last simulated
  // tick.
  std::vector<IncidentRecord> incidents() const;
  // The change log (deployments, configs, secrets, flags, scaling), in time order.
  std::vector<ChangeEvent> changes() const;

  const World& world() const { return *world_; }

 private:
  struct Queue;  // the event queue (simulation.cc)
  enum class FaultPhase : std::uint8_t { kPending, kActive, kEnded };

  void schedule_fault(int fault);
  RunResult advance(const std::atomic<bool>* stop, std::int64_t max_ticks);

  Scenario scenario_;
  std::unique_ptr<World> world_;
  std::unique_ptr<Queue> queue_;
  std::vector<FrameSink*> sinks_;
  std::vector<FaultPhase> fault_phase_;
  std::vector<std::function<void()>> callbacks_;  // by callback id; emptied once run
  std::vector<std::int32_t> free_callbacks_;      // ids of callbacks already run
  std::int64_t next_tick_ = 0;
  SimTime callback_time_ = -1;  // while a callback runs: its time
  std::function<std::string(const PlaybookSpec&)> playbook_check_;
  bool started_ = false;
  RunResult result_;  // totals over every call of run() and run_ticks()
};

}  // namespace dosim
