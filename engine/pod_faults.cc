#include "pod_faults.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "rng.h"

namespace dosim {
namespace {

constexpr SimTime kBackoffStart = 10 * kSecond;
constexpr SimTime kBackoffCap = 300 * kSecond;
constexpr SimTime kBackoffReset = 10 * kMinute;

// Replica indices chosen by `mode` among `replicas`, from the fault's own stream.
std::vector<int> select_replicas(const FaultSpec& fault, int replicas, std::uint64_t seed) {
  const RandomStream stream(seed, entity_id("fault:" + fault.name), Purpose::kScenario);
  std::vector<int> order(static_cast<std::size_t>(replicas));
  std::iota(order.begin(), order.end(), 0);
  for (int i = replicas - 1; i > 0; --i) {  // Fisher-Yates with counter-based draws
    const auto j = static_cast<int>(stream.uniform(static_cast<std::uint64_t>(i)) * (i + 1));
    std::swap(order[i], order[std::min(j, i)]);
  }
  int count = replicas;
  switch (fault.mode) {
    case PodMode::kOne:
      count = std::min(1, replicas);
      break;
    case PodMode::kAll:
      break;
    case PodMode::kFixed:
      // Compared as doubles: a `value` past the replicas (even past int's range) means all.
      count = fault.mode_value >= replicas ? replicas : static_cast<int>(fault.mode_value);
      break;
    case PodMode::kFixedPercent:
      count = static_cast<int>(std::floor(replicas * fault.mode_value / 100.0));
      break;
    case PodMode::kRandomMaxPercent: {
      const int most = static_cast<int>(std::floor(replicas * fault.mode_value / 100.0));
      count = static_cast<int>(stream.uniform(0) * (most + 1));
      break;
    }
  }
  order.resize(static_cast<std::size_t>(std::max(0, count)));
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace

SimTime crash_loop_backoff(int restart) {
  SimTime delay = kBackoffStart;
  for (int i = 0; i < restart && delay < kBackoffCap; ++i) delay *= 2;
  return std::min(delay, kBackoffCap);
}

std::vector<int> PodFaults::replicas_hit(int fault, int service) const {
  return select_replicas(scenario_.faults[fault], replicas_[service], seed_);
}

PodFaults::PodFaults(const Scenario& scenario, std::uint64_t seed)
    : scenario_(scenario),
      seed_(seed),
      down_(scenario.services.size()),
      memory_(scenario.services.size()) {
  for (const ServiceSpec& service : scenario.services) replicas_.push_back(service.replicas);
  for (std::size_t f = 0; f < scenario.faults.size(); ++f) add_fault(static_cast<int>(f));
}

void PodFaults::add_fault(int f) {
  selections_.emplace_back();
  place_services_.emplace_back();
  cursors_.emplace_back();
  engaged_.push_back(0);
  prepare(f);
}

void PodFaults::prepare(int f) {
  const FaultSpec& fault = scenario_.faults[f];
  if (!acts_on_pods(fault.kind)) return;
  if (fault.kind == FaultKind::kOutage) {
    for (std::size_t s = 0; s < scenario_.services.size(); ++s) {
      const ServiceSpec& service = scenario_.services[s];
      for (std::size_t z = 0; z < service.zones.size(); ++z)
        if (fault.target.zone.empty() ? service.zone_regions[z] == fault.target.region
                                      : service.zones[z] == fault.target.zone) {
          place_services_[f].push_back(static_cast<int>(s));
          break;
        }
    }
    return;
  }
  for (int service : fault.target.services())
    selections_[f].push_back(
        {service, replicas_[service], select_replicas(fault, replicas_[service], seed_)});
}

void PodFaults::set_replicas(int service, int replicas) { replicas_[service] = replicas; }

int PodFaults::up_in_place(int service, std::size_t place) const {
  const std::size_t places = scenario_.services[service].zones.size();
  const auto replicas = static_cast<std::size_t>(std::max(0, replicas_[service]));
  if (place >= replicas) return 0;
  // A service no replica fault touched this tick: every replica is up, counted, not scanned.
  if (std::find(touched_.begin(), touched_.end(), service) == touched_.end())
    return static_cast<int>((replicas - place + places - 1) / places);
  const std::vector<char>& down = down_[service];
  int up = 0;
  for (std::size_t replica = place; replica < static_cast<std::size_t>(replicas_[service]);
       replica += places)
    up += replica < down.size() && down[replica] ? 0 : 1;
  return up;
}

bool PodFaults::crash_loop_down(int fault, SimTime elapsed) {
  const FaultSpec& spec = scenario_.faults[fault];
  CrashCursor& cursor = cursors_[fault];
  if (!cursor.started || elapsed < 0) cursor = CrashCursor{spec.crash_after, true, 0, true};
  while (elapsed >= cursor.phase_end) {
    if (cursor.up) {  // a crash: wait out the back-off, then start
      const bool long_run = spec.crash_after >= kBackoffReset;
      const SimTime backoff = crash_loop_backoff(long_run ? 0 : cursor.restarts);
      cursor.restarts = long_run ? 0 : cursor.restarts + 1;
      cursor.phase_end += backoff + spec.restart_time;
      cursor.up = false;
    } else {
      cursor.phase_end += spec.crash_after;
      cursor.up = true;
      if (spec.crash_after == 0) continue;  // crashes at once: straight into the next back-off
    }
  }
  return !cursor.up;
}

void PodFaults::mark(int service, int replica, bool down, double memory) {
  std::vector<char>& flags = down_[service];
  const auto needed =
      static_cast<std::size_t>(std::max(replica + 1, replicas_[service]));  // grows with scale
  if (flags.size() < needed) {
    flags.resize(needed, 0);
    memory_[service].resize(needed, 0.0);
  }
  if (std::find(touched_.begin(), touched_.end(), service) == touched_.end())
    touched_.push_back(service);
  flags[replica] = flags[replica] || down;
  memory_[service][replica] = std::max(memory_[service][replica], memory);
}

void PodFaults::apply(int fault_index, SimTime elapsed, int service,
                      const std::vector<int>& replicas) {
  const FaultSpec& fault = scenario_.faults[fault_index];
  switch (fault.kind) {
    case FaultKind::kMaintenance:  // drained for the whole window, back at its end
      for (int replica : replicas) mark(service, replica, true, 0.0);
      break;
    case FaultKind::kPodKill:
      if (elapsed < fault.restart_time) {
        if (fresh_since_.empty()) fresh_since_.resize(scenario_.services.size());
        std::vector<SimTime>& fresh = fresh_since_[service];
        for (int replica : replicas) {
          mark(service, replica, true, 0.0);
          if (fresh.size() <= static_cast<std::size_t>(replica)) fresh.resize(replica + 1, 0);
          fresh[replica] = std::max(fresh[replica], fault.start + fault.restart_time);
        }
      }
      break;
    case FaultKind::kCrashLoop:
      if (crash_loop_down(fault_index, elapsed))
        for (int replica : replicas) mark(service, replica, true, 0.0);
      break;
    case FaultKind::kMemoryLeak: {
      const double headroom = 1.0 - scenario_.services[service].memory_baseline;
      const double fill_seconds = headroom / fault.leak_per_second;
      const double cycle = fill_seconds + to_seconds(fault.restart_time);
      const SimTime now = fault.start + elapsed;
      for (int replica : replicas) {
        // Since the fault started, or since a pod-kill brought the replica back.
        SimTime since = fault.start;
        if (!fresh_since_.empty() &&
            static_cast<std::size_t>(replica) < fresh_since_[service].size())
          since = std::max(since, fresh_since_[service][replica]);
        if (now < since) continue;  // still restarting: the kill has it down
        const double position = std::fmod(to_seconds(now - since), cycle);
        const bool oom_killed = position >= fill_seconds;
        mark(service, replica, oom_killed, oom_killed ? 0.0 : position * fault.leak_per_second);
      }
      break;
    }
    case FaultKind::kMemoryStress: {
      // The stressor holds its size (reached linearly over the ramp), up to the limit: there
      // the OOM killer picks it, the container's largest process, and the service runs on.
      const double headroom = 1.0 - scenario_.services[service].memory_baseline;
      const double ramp = fault.memory_ramp > 0
                              ? std::min(1.0, to_seconds(elapsed) / to_seconds(fault.memory_ramp))
                              : 1.0;
      for (int replica : replicas)
        mark(service, replica, false, std::min(headroom, fault.memory_load * ramp));
      break;
    }
    default:
      break;
  }
}

void PodFaults::evaluate(SimTime t, const std::vector<int>& active, std::vector<int>& ready,
                         std::vector<double>& extra_memory, std::vector<double>& unrouted) {
  for (std::size_t s = 0; s < ready.size(); ++s) ready[s] = replicas_[s];
  std::fill(extra_memory.begin(), extra_memory.end(), 0.0);
  std::fill(unrouted.begin(), unrouted.end(), 0.0);
  for (int s : touched_) {
    std::fill(down_[s].begin(), down_[s].end(), 0);
    std::fill(memory_[s].begin(), memory_[s].end(), 0.0);
  }
  touched_.clear();

  // Faults engaged last time and not active now disengage (their crash-loop cursor restarts).
  for (const int f : engaged_list_)
    if (!std::binary_search(active.begin(), active.end(), f)) {
      cursors_[f].started = false;
      engaged_[f] = 0;
    }
  engaged_list_.clear();
  for (const int f : active) {
    const FaultSpec& fault = scenario_.faults[f];
    if (!acts_on_pods(fault.kind)) continue;
    engaged_list_.push_back(f);
    if (!engaged_[f]) {  // starting: draw again among a count that a manual scale changed
      engaged_[f] = 1;
      for (Selection& selection : selections_[f])
        if (selection.replicas != replicas_[selection.service]) {
          selection.replicas = replicas_[selection.service];
          selection.chosen = select_replicas(fault, selection.replicas, seed_);
        }
    }
    const SimTime elapsed = t - fault.start;
    if (fault.kind != FaultKind::kOutage)
      for (const Selection& selection : selections_[f])
        apply(static_cast<int>(f), elapsed, selection.service, selection.chosen);
    switch (fault.kind) {
      case FaultKind::kOutage:
        for (int s : place_services_[f]) {
          const ServiceSpec& spec = scenario_.services[s];
          const std::size_t places = spec.zones.size();
          const int replicas = replicas_[s];
          int lost = 0;
          for (int replica = 0; replica < replicas; ++replica) {
            const std::size_t z = static_cast<std::size_t>(replica) % places;
            if (fault.target.zone.empty() ? spec.zone_regions[z] == fault.target.region
                                          : spec.zones[z] == fault.target.zone) {
              mark(s, replica, true, 0.0);
              ++lost;
            }
          }
          // Without failover, the traffic routed to the dark place is lost with it.
          if (!spec.failover && replicas > 0)
            unrouted[s] = std::max(unrouted[s], static_cast<double>(lost) / replicas);
        }
        break;
      default:
        break;
    }
  }
  for (int s : touched_) {
    int up = 0;
    double memory = 0.0;
    for (std::size_t r = 0; r < static_cast<std::size_t>(replicas_[s]); ++r) {
      if (r >= down_[s].size()) {  // not marked: healthy
        ++up;
        continue;
      }
      if (down_[s][r]) continue;
      ++up;
      memory += memory_[s][r];
    }
    ready[s] = up;
    extra_memory[s] = up > 0 ? memory / up : 0.0;
  }
}

}  // namespace dosim
