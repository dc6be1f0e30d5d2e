#include "dosim/engine/simulation.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "calendar_queue.h"
#include "dosim/error.h"
#include "world.h"

namespace dosim {
namespace {

// A tick is simulated at its start (kTick) and delivered to the sinks at its end (kFrame),
// after the events inside it: a callback at 10.5 s runs before the frame of [10 s, 11 s), so
// a script's time never runs backwards (it acts from the tick at 11 s, as before).
enum class EventKind : std::uint8_t { kFaultStart, kFaultEnd, kCallback, kTick, kFrame };

struct EngineEvent {
  EventKind kind = EventKind::kTick;
  std::int32_t index = 0;  // fault index or callback id
  std::int64_t tick = 0;
};

// The frame of the tick that ends at an instant comes first; then the control events run
// before the tick that starts at that instant: fault ends, fault starts, then callbacks
// (which thus see the faults of their instant in place).
constexpr std::uint8_t kFramePriority = 5;
constexpr std::uint8_t kFaultEndPriority = 10;
constexpr std::uint8_t kFaultStartPriority = 20;
constexpr std::uint8_t kCallbackPriority = 100;
constexpr std::uint8_t kTickPriority = 200;

[[noreturn]] void reject(const std::string& what) { throw RunControlError(what); }

void check_service(const Scenario& scenario, int service, const std::string& what) {
  if (service < 0 || service >= static_cast<int>(scenario.services.size()))
    reject(what + ": no service " + std::to_string(service));
}

bool known_zone(const Scenario& scenario, const std::string& zone) {
  for (const RegionSpec& region : scenario.regions)
    if (std::find(region.zones.begin(), region.zones.end(), zone) != region.zones.end())
      return true;
  return false;
}

bool known_region(const Scenario& scenario, const std::string& name) {
  for (const RegionSpec& region : scenario.regions)
    if (region.name == name) return true;
  return false;
}

// The references of a fault's target, and that its kind can act on it (what the loader checks).
void check_target(const Scenario& scenario, const FaultSpec& fault) {
  const std::string what = "fault '" + fault.name + "'";
  const FaultTarget& target = fault.target;
  if (target.service >= 0) check_service(scenario, target.service, what);
  if (target.endpoint >= 0 &&
      (target.service < 0 ||
       target.endpoint >= static_cast<int>(scenario.services[target.service].endpoints.size())))
    reject(what + ": no endpoint " + std::to_string(target.endpoint) + " in its service");
  if (target.dependency >= static_cast<int>(scenario.dependencies.size()))
    reject(what + ": no dependency " + std::to_string(target.dependency));
  for (int s : target.selected) check_service(scenario, s, what);
  if (!target.zone.empty() && !known_zone(scenario, target.zone))
    reject(what + ": unknown zone '" + target.zone + "'");
  if (!target.region.empty() && !known_region(scenario, target.region))
    reject(what + ": unknown region '" + target.region + "'");
  for (const std::string& zone : target.zones)
    if (!known_zone(scenario, zone)) reject(what + ": unknown zone '" + zone + "'");
  for (const std::string& region : target.regions)
    if (!known_region(scenario, region)) reject(what + ": unknown region '" + region + "'");
  const bool service_only = (target.service >= 0 && target.endpoint < 0) || !target.labels.empty();
  bool fits = false;
  switch (fault.kind) {
    case FaultKind::kPacketLoss:
      fits = target.is_edge();
      break;
    case FaultKind::kCpuStress:
    case FaultKind::kPodKill:
    case FaultKind::kCrashLoop:
    case FaultKind::kMemoryLeak:
    case FaultKind::kMemoryStress:
    case FaultKind::kMaintenance:
      fits = service_only && !target.is_edge();
      break;
    case FaultKind::kOutage:
      fits = target.is_place();
      break;
    case FaultKind::kPartition:
      fits = target.is_split();
      break;
    case FaultKind::kLatency:
    case FaultKind::kError:
      fits = (target.service >= 0 || target.is_edge() || !target.labels.empty()) &&
             !target.is_place() && !target.is_split();
      break;
  }
  if (!fits)
    reject(what + ": a " + fault_kind_name(fault.kind) + " fault cannot act on this target");
}

void check_change(const Scenario& scenario, const ChangeSpec& change) {
  const std::string what = "change '" + change.name + "'";
  if (change.kind == ChangeKind::kDrain || change.kind == ChangeKind::kTrafficShift) {
    if (change.traffic >= static_cast<int>(scenario.traffic.size()) ||
        (change.traffic >= 0 && !scenario.traffic[change.traffic].regional()))
      reject(what + ": no regional traffic source " + std::to_string(change.traffic));
    if (change.kind == ChangeKind::kDrain && !known_region(scenario, change.region))
      reject(what + ": unknown region '" + change.region + "'");
    if (change.kind == ChangeKind::kTrafficShift &&
        (change.traffic < 0 ||
         change.region_weights.size() != scenario.traffic[change.traffic].regions.size()))
      reject(what + ": a traffic shift gives a weight to each region of its source");
    if (change.restore && *change.restore <= change.at)
      reject(what + ": 'restore' must come after 'at'");
    if (change.shift < 0) reject(what + ": a negative shift");
    return;
  }
  if (change.services.empty()) reject(what + ": it names no service");
  if (change.kind == ChangeKind::kDeployment && change.services.size() != 1)
    reject(what + ": a deployment names one service");
  for (int s : change.services) check_service(scenario, s, what);
  for (int s : change.reloaded) check_service(scenario, s, what);
  if (change.defect.incompatible_service >= 0)
    check_service(scenario, change.defect.incompatible_service, what);
  for (const auto& time : {change.rollback, change.revert})
    if (time && *time <= change.at) reject(what + ": a rollback or revert must come after 'at'");
}

}  // namespace

struct Simulation::Queue {
  CalendarQueue<EngineEvent> events;
};

Simulation::Simulation(const Scenario& scenario, std::uint64_t seed)
    : scenario_(scenario),
      world_(std::make_unique<World>(scenario_, seed)),
      queue_(std::make_unique<Queue>()),
      fault_phase_(scenario_.faults.size(), FaultPhase::kPending) {
  for (std::size_t f = 0; f < scenario_.faults.size(); ++f) schedule_fault(static_cast<int>(f));
}

Simulation::~Simulation() = default;

void Simulation::schedule_fault(int fault) {
  const FaultSpec& spec = scenario_.faults[fault];
  queue_->events.push(spec.start, {EventKind::kFaultStart, fault, 0}, kFaultStartPriority);
  queue_->events.push(spec.start + spec.duration, {EventKind::kFaultEnd, fault, 0},
                      kFaultEndPriority);
}

RunResult Simulation::run(const std::atomic<bool>* stop) { return advance(stop, -1); }

RunResult Simulation::run_ticks(std::int64_t ticks, const std::atomic<bool>* stop) {
  // A negative count meant "no limit" inside advance(): -5 ran the whole scenario.
  if (ticks < 0)
    throw RunControlError("run_ticks: a tick count must be >= 0, got " + std::to_string(ticks));
  return advance(stop, ticks);
}

RunResult Simulation::advance(const std::atomic<bool>* stop, std::int64_t max_ticks) {
  CalendarQueue<EngineEvent>& queue = queue_->events;
  const std::int64_t ticks = scenario_.tick_count();
  if (!started_) {
    started_ = true;
    if (ticks > 0) queue.push(0, {EventKind::kTick, 0, 0}, kTickPriority);
  }
  RunResult& result = result_;
  if (result.completed) return result;
  std::int64_t ticked = 0;
  while (!queue.empty()) {
    if (max_ticks >= 0 && ticked == max_ticks) return result;  // the next tick waits
    auto event = queue.pop();
    ++result.events;
    const int index = event.payload.index;
    switch (event.payload.kind) {
      case EventKind::kFaultStart:
        if (fault_phase_[index] != FaultPhase::kPending) break;  // cancelled
        fault_phase_[index] = FaultPhase::kActive;
        world_->set_fault_active(index, true);
        break;
      case EventKind::kFaultEnd: {
        const FaultSpec& spec = scenario_.faults[index];
        // An end that end_fault() moved earlier leaves its first event stale.
        if (fault_phase_[index] != FaultPhase::kActive || event.time != spec.start + spec.duration)
          break;
        fault_phase_[index] = FaultPhase::kEnded;
        world_->set_fault_active(index, false);
        break;
      }
      case EventKind::kCallback: {
        std::function<void()> fn = std::move(callbacks_[index]);
        callbacks_[index] = nullptr;
        free_callbacks_.push_back(index);  // periodic callbacks reuse their slots
        if (fn) {
          struct Restore {
            SimTime& time;
            ~Restore() { time = -1; }
          } restore{callback_time_};
          callback_time_ = event.time;
          fn();
        }
        break;
      }
      case EventKind::kTick: {
        const std::int64_t tick = event.payload.tick;
        // A stop is honoured before a tick is simulated (one asked for by a callback of this
        // instant included); the tick stays queued, so a later call resumes with it.
        if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
          queue.push(event.time, event.payload, kTickPriority);
          return result;
        }
        world_->step(tick);
        next_tick_ = tick + 1;  // what runs until the next tick sees its start as now()
        queue.push(next_tick_ * scenario_.tick, {EventKind::kFrame, 0, tick}, kFramePriority);
        break;
      }
      case EventKind::kFrame: {
        const std::int64_t tick = event.payload.tick;
        for (FrameSink* sink : sinks_) sink->on_frame(world_->frame());
        result.ticks = tick + 1;
        result.simulated = (tick + 1) * scenario_.tick;
        ++ticked;
        if (tick + 1 < ticks)
          queue.push((tick + 1) * scenario_.tick, {EventKind::kTick, 0, tick + 1}, kTickPriority);
        break;
      }
    }
    // Events after the last tick change nothing that is recorded.
    if (result.ticks == ticks && event.payload.kind == EventKind::kFrame) break;
  }
  result.completed = true;
  return result;
}

const Frame& Simulation::frame() const { return world_->frame(); }

void Simulation::set_threads(int threads) {
  if (threads < 1 || threads > 256)
    throw RunControlError("set_threads: threads must be from 1 to 256, got " +
                          std::to_string(threads));
  world_->set_threads(threads);
}

void Simulation::at(SimTime t, std::function<void()> fn) {
  const SimTime when = std::max(t, current_time());
  if (when >= scenario_.tick_count() * scenario_.tick) return;  // after the last tick
  std::int32_t id;
  if (free_callbacks_.empty()) {
    id = static_cast<std::int32_t>(callbacks_.size());
    callbacks_.push_back(std::move(fn));
  } else {
    id = free_callbacks_.back();
    free_callbacks_.pop_back();
    callbacks_[id] = std::move(fn);
  }
  queue_->events.push(when, {EventKind::kCallback, id, 0}, kCallbackPriority);
}

int Simulation::add_fault(FaultSpec spec) {
  const int index = static_cast<int>(scenario_.faults.size());
  // Unnamed: fault-<index>, or the first such name after it that no fault has.
  for (int k = index; spec.name.empty(); ++k) {
    const std::string name = "fault-" + std::to_string(k);
    if (std::none_of(scenario_.faults.begin(), scenario_.faults.end(),
                     [&](const FaultSpec& f) { return f.name == name; }))
      spec.name = name;
  }
  const std::string what = "fault '" + spec.name + "'";
  if (spec.start < current_time())
    reject(what + ": its start (" + format_duration(spec.start) + ") is before now (" +
           format_duration(current_time()) + ")");
  if (spec.start >= scenario_.duration)
    reject(what + ": its start (" + format_duration(spec.start) +
           ") must be before the end of the scenario (" + format_duration(scenario_.duration) +
           ")");
  if (spec.duration <= 0) reject(what + ": its duration must be positive");
  for (const FaultSpec& other : scenario_.faults)
    if (other.name == spec.name) reject("duplicate fault name '" + spec.name + "'");
  check_target(scenario_, spec);
  scenario_.faults.push_back(std::move(spec));
  fault_phase_.push_back(FaultPhase::kPending);
  world_->add_fault(index);
  schedule_fault(index);
  return index;
}

void Simulation::end_fault(int fault) {
  if (fault < 0 || fault >= static_cast<int>(scenario_.faults.size()))
    reject("end_fault: no fault " + std::to_string(fault));
  if (fault_phase_[fault] == FaultPhase::kEnded) return;
  FaultSpec& spec = scenario_.faults[fault];
  const SimTime end = spec.start + spec.duration;
  const SimTime new_end = std::clamp(now(), spec.start, end);
  if (new_end == end) return;  // its end event, due by now(), is still to come
  spec.duration = new_end - spec.start;
  world_->end_fault(fault);
  if (fault_phase_[fault] == FaultPhase::kActive) {
    fault_phase_[fault] = FaultPhase::kEnded;
    world_->set_fault_active(fault, false);
  } else if (spec.duration == 0) {
    fault_phase_[fault] = FaultPhase::kEnded;  // cancelled: it never starts
  } else {  // starts before now() but its start event is still to come
    queue_->events.push(new_end, {EventKind::kFaultEnd, fault, 0}, kFaultEndPriority);
  }
}

void Simulation::add_playbook(PlaybookSpec spec) {
  if (playbook_check_)
    if (const std::string problem = playbook_check_(spec); !problem.empty())
      reject("playbook '" + spec.name + "': " + problem);
  scenario_.playbooks.push_back(std::move(spec));
}

int Simulation::add_change(ChangeSpec spec) {
  const int index = static_cast<int>(scenario_.changes.size());
  if (spec.name.empty()) spec.name = "change-" + std::to_string(index);
  const std::string what = "change '" + spec.name + "'";
  if (spec.kind == ChangeKind::kFeatureFlag && !spec.flag_steps.empty())
    spec.at = spec.flag_steps.front().at;
  if (spec.at < current_time())
    reject(what + ": it starts (" + format_duration(spec.at) + ") before now (" +
           format_duration(current_time()) + ")");
  if (spec.at >= scenario_.duration)
    reject(what + ": it starts (" + format_duration(spec.at) + ") after the end of the scenario (" +
           format_duration(scenario_.duration) + ")");
  for (std::size_t k = 1; k < spec.flag_steps.size(); ++k)
    if (spec.flag_steps[k].at <= spec.flag_steps[k - 1].at)
      reject(what + ": flag steps must be in increasing time order");
  for (const ChangeSpec& other : scenario_.changes)
    if (other.name == spec.name) reject("duplicate change name '" + spec.name + "'");
  check_change(scenario_, spec);
  scenario_.changes.push_back(std::move(spec));
  world_->add_change(index);
  return index;
}

bool Simulation::rollback(int service) {
  check_service(scenario_, service, "rollback");
  int latest = -1;
  for (std::size_t c = 0; c < scenario_.changes.size(); ++c) {
    const ChangeSpec& change = scenario_.changes[c];
    if (change.kind == ChangeKind::kDeployment && change.services.front() == service &&
        change.at <= now() && (latest < 0 || change.at >= scenario_.changes[latest].at))
      latest = static_cast<int>(c);
  }
  if (latest < 0) return false;
  ChangeSpec& change = scenario_.changes[latest];
  if (change.rollback && *change.rollback <= now()) return false;
  change.rollback = now();
  world_->changes_modified();
  return true;
}

void Simulation::set_replicas(int service, int replicas) {
  check_service(scenario_, service, "set_replicas");
  constexpr int kMostReplicas = 1'000'000;  // the scenario format's limit
  if (replicas < 0 || replicas > kMostReplicas)
    reject("set_replicas: a replica count must be within [0, 1000000], got " +
           std::to_string(replicas));
  world_->set_replicas(service, replicas, now());
}

int Simulation::replicas(int service) const {
  check_service(scenario_, service, "replicas");
  return world_->replica_count(service);
}

bool Simulation::revert_change(int index) {
  if (index < 0 || index >= static_cast<int>(scenario_.changes.size()))
    reject("revert_change: no change " + std::to_string(index));
  ChangeSpec& change = scenario_.changes[index];
  const SimTime t = now();
  if (change.at > t) return false;
  auto taken_back = [&](std::optional<SimTime>& when) {
    if (when && *when <= t) return false;
    when = t;
    return true;
  };
  bool reverted = false;
  switch (change.kind) {
    case ChangeKind::kDeployment:
      reverted = taken_back(change.rollback);
      break;
    case ChangeKind::kConfig:
      reverted = taken_back(change.revert);
      break;
    case ChangeKind::kSecretRotation:
      reverted = taken_back(change.fixed_at);
      break;
    case ChangeKind::kDrain:
      reverted = taken_back(change.restore);
      break;
    case ChangeKind::kFeatureFlag: {
      // Off from now: later steps are dropped, and a step to 0 % is added unless it is off.
      // Dropping a later step takes something back too (the world and the change log must
      // forget it), even when the flag is off now.
      std::vector<FlagStep>& steps = change.flag_steps;
      const std::size_t planned = steps.size();
      while (!steps.empty() && steps.back().at >= t) steps.pop_back();
      reverted = steps.size() < planned;
      if (!steps.empty() && steps.back().fraction > 0) {
        steps.push_back({t, 0.0});
        reverted = true;
      }
      break;
    }
    case ChangeKind::kTrafficShift:
      return false;
  }
  if (reverted) world_->changes_modified();
  return reverted;
}

void Simulation::set_timeout(int dependency, SimTime timeout) {
  if (dependency < 0 || dependency >= static_cast<int>(scenario_.dependencies.size()))
    reject("set_timeout: no dependency " + std::to_string(dependency));
  if (timeout < 0) reject("set_timeout: a timeout must not be negative");
  SimTime& current = scenario_.dependencies[dependency].timeout;
  const SimTime before = current;
  current = timeout;
  world_->timeout_modified(dependency, before, now());
}

void Simulation::set_shed(int service, double fraction) {
  check_service(scenario_, service, "set_shed");
  if (!(fraction >= 0 && fraction <= 1))
    reject("set_shed: a fraction must be within [0, 1], got " + std::to_string(fraction));
  world_->set_shed(service, fraction, now());
}

std::vector<IncidentRecord> Simulation::incidents() const { return world_->incidents(); }

std::vector<ChangeEvent> Simulation::changes() const { return world_->changes(); }

}  // namespace dosim
