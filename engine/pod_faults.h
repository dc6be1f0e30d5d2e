// Replica-level faults: pod-kill, crash-loop, memory-leak and zone / region outages.
//
// Each is a pure function of the time elapsed since the fault started, so the state of
// every replica at time t follows from the set of active faults alone: nothing is carried
// over, and when a fault ends its replicas are exactly as they would be without it.
//  - pod-kill: the selected replicas go down at the start and are ready again after
//    restart_time.
//  - crash-loop: the selected replicas run for crash_after, crash, wait out Kubernetes'
//    CrashLoopBackOff (10 s, doubling, capped at 300 s; back to 10 s after a run of 10
//    minutes or more), take restart_time to start, and run again.
//  - memory-leak: the selected replicas' memory grows from the service's baseline at
//    leak_per_second of the limit; at the limit the replica is OOM-killed and is ready
//    again, back at its baseline, after restart_time: memory_ratio draws a saw-tooth. A
//    replica that a pod-kill restarted (a responder's restart, or a declared kill) starts
//    its leak again from the baseline when it is back: the one state carried over.
//  - outage: every replica placed in the zone (or region) is down. A service spread over
//    several zones keeps its other replicas; with failover (the default within a region)
//    they take all its traffic, capacity permitting; without, the share of traffic bound
//    for the dark place fails.
//  - maintenance: the selected replicas are drained for the whole window (planned work,
//    instance termination and replacement) and back when it ends.
//  - memory-stress: a stressor in the selected replicas holds memory_load of the limit
//    (reached linearly over memory_ramp), at most up to the limit: the replicas keep
//    running. A replica's memory beyond its baseline is the largest any fault gives it.
// Which replicas a fault hits follows its mode (one, all, fixed N, fixed percent, random up
// to a percent: Chaos Mesh's modes), drawn from the fault's own random stream among the
// service's replicas: the declared count, or the count set by set_replicas() when the fault
// starts (it is drawn again then if the count changed; a fault keeps its replicas while it
// runs). Faults added with add_fault() after construction are treated as declared ones.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "dosim/engine/scenario.h"

namespace dosim {

// Kubernetes' CrashLoopBackOff delay before restart number `restart` (0-based).
SimTime crash_loop_backoff(int restart);

class PodFaults {
 public:
  PodFaults(const Scenario& scenario, std::uint64_t seed);

  // For the start of a tick at time t and the active replica faults `active` (indices into
  // the scenario's faults, ascending), fills each service's ready replicas and the mean
  // memory (share of the limit) its ready replicas use beyond the service's baseline. Calls
  // must come in non-decreasing t. `unrouted` gets the share of each service's traffic sent
  // to replicas that an outage took and that no failover redirects (it fails at once).
  // Costs O(services + active faults' replicas): inactive faults cost nothing.
  void evaluate(SimTime t, const std::vector<int>& active, std::vector<int>& ready,
                std::vector<double>& extra_memory, std::vector<double>& unrouted);

  // Replicas of `service` in its place `place` (replica i runs in place i mod places) that
  // the last evaluate() left up.
  int up_in_place(int service, std::size_t place) const;

  // Takes in fault `fault`, just appended to the scenario's faults (run-time control).
  void add_fault(int fault);
  // The service's replica count from the next evaluate() on (a manual scale, or the
  // replicas an autoscaler runs); replicas with higher indices are gone, new ones are healthy.
  void set_replicas(int service, int replicas);
  int replicas(int service) const { return replicas_[static_cast<std::size_t>(service)]; }

  // The replicas of `service` that a latency or error fault with a `mode` acts on (drawn as
  // a pod fault's, among the service's replicas).
  std::vector<int> replicas_hit(int fault, int service) const;

  // The replica indices fault `fault` hits (empty for faults that do not act on pods;
  // all replicas of the place for outages are implied, not listed).
  // (For a label selector: those of the first service it matches.)
  const std::vector<int>& selected(int fault) const {
    static const std::vector<int> kNone;
    return selections_[fault].empty() ? kNone : selections_[fault].front().chosen;
  }

 private:
  struct CrashCursor {  // where a crash loop's timeline stands, advanced monotonically
    SimTime phase_end = 0;
    bool up = true;
    int restarts = 0;
    bool started = false;
  };
  struct Selection {
    int service = -1;
    int replicas = 0;         // the count it was drawn among
    std::vector<int> chosen;  // replica indices, sorted
  };
  void prepare(int fault);         // selections or places of a fault
  std::vector<int> engaged_list_;  // the faults engaged at the last evaluate(), ascending
  bool crash_loop_down(int fault, SimTime elapsed);
  // Marks what a pod fault (not an outage) does to `replicas` of `service` at `elapsed`.
  void apply(int fault, SimTime elapsed, int service, const std::vector<int>& replicas);
  void mark(int service, int replica, bool down, double memory);

  const Scenario& scenario_;
  std::uint64_t seed_;
  std::vector<int> replicas_;  // per service: the declared count, or the last one set
  // Per fault: the services it acts on and the replicas it hits in each.
  std::vector<std::vector<Selection>> selections_;
  std::vector<std::vector<int>> place_services_;  // per outage fault
  std::vector<CrashCursor> cursors_;              // per fault
  std::vector<char> engaged_;                     // per fault: active at the last evaluate()
  // Scratch per service, sized on first use: replica down flags and leaked memory.
  std::vector<std::vector<char>> down_;
  std::vector<std::vector<double>> memory_;
  std::vector<int> touched_;
  // Per service and replica: when a pod-kill last brought it back (memory leaks restart).
  std::vector<std::vector<SimTime>> fresh_since_;
};

}  // namespace dosim
