// Runs a Scenario in simulated time and hands every tick's Frame to its sinks.
//
// The engine is a discrete-event loop over a CalendarQueue (calendar_queue.h): fault starts and
// ends and the periodic world tick are events ordered by (time, priority, sequence), with control
// events (faults) before the tick at the same instant, so a fault starting at t affects the tick
// that ends at t + tick. The loop never reads the wall clock; a run is a pure function of
// (scenario, seed).
//
// Interruption: run() polls `stop` once per tick; when it is set the run returns early with
// completed = false and the sinks have seen every frame up to that point.
// Not thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "frame.h"
#include "incident.h"
#include "operations.h"
#include "scenario.h"

namespace dosim {

class World;

struct RunResult {
  bool completed = false;
  std::int64_t ticks = 0;   // ticks simulated
  SimTime simulated = 0;    // simulated time covered
  std::int64_t events = 0;  // events processed (ticks included)
};

class Simulation {
 public:
  // REQUIRES: `scenario` outlives the Simulation.
  Simulation(const Scenario& scenario, std::uint64_t seed);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Sinks receive frames in the order they were added. REQUIRES: sink outlives run().
  void add_sink(FrameSink* sink) { sinks_.push_back(sink); }

  RunResult run(const std::atomic<bool>* stop = nullptr);

  // Ground truth so far: one record per fault in the scenario, impact measured up to the
  // last simulated tick.
  std::vector<IncidentRecord> incidents() const;
  // The change log (deployments, configs, secrets, flags), in time order.
  std::vector<ChangeEvent> changes() const;

  const World& world() const { return *world_; }

 private:
  const Scenario& scenario_;
  std::unique_ptr<World> world_;
  std::vector<FrameSink*> sinks_;
};

}  // namespace dosim
