#include "simulation.h"

#include <cstdint>

#include "calendar_queue.h"
#include "world.h"

namespace dosim {
namespace {

enum class EventKind : std::uint8_t { kFaultStart, kFaultEnd, kTick };

struct EngineEvent {
  EventKind kind = EventKind::kTick;
  std::int32_t index = 0;  // fault index, or tick index
  std::int64_t tick = 0;
};

// Control events run before the tick that starts at the same instant.
constexpr std::uint8_t kFaultEndPriority = 10;
constexpr std::uint8_t kFaultStartPriority = 20;
constexpr std::uint8_t kTickPriority = 200;

}  // namespace

Simulation::Simulation(const Scenario& scenario, std::uint64_t seed)
    : scenario_(scenario), world_(std::make_unique<World>(scenario, seed)) {}

Simulation::~Simulation() = default;

RunResult Simulation::run(const std::atomic<bool>* stop) {
  CalendarQueue<EngineEvent> queue;
  for (std::size_t f = 0; f < scenario_.faults.size(); ++f) {
    const FaultSpec& fault = scenario_.faults[f];
    const auto index = static_cast<std::int32_t>(f);
    queue.push(fault.start, {EventKind::kFaultStart, index, 0}, kFaultStartPriority);
    queue.push(fault.start + fault.duration, {EventKind::kFaultEnd, index, 0}, kFaultEndPriority);
  }
  const std::int64_t ticks = scenario_.tick_count();
  if (ticks > 0) queue.push(0, {EventKind::kTick, 0, 0}, kTickPriority);

  RunResult result;
  while (!queue.empty()) {
    auto event = queue.pop();
    ++result.events;
    switch (event.payload.kind) {
      case EventKind::kFaultStart:
        world_->set_fault_active(event.payload.index, true);
        break;
      case EventKind::kFaultEnd:
        world_->set_fault_active(event.payload.index, false);
        break;
      case EventKind::kTick: {
        const std::int64_t tick = event.payload.tick;
        world_->step(tick);
        for (FrameSink* sink : sinks_) sink->on_frame(world_->frame());
        result.ticks = tick + 1;
        result.simulated = (tick + 1) * scenario_.tick;
        if (stop != nullptr && stop->load(std::memory_order_relaxed)) return result;
        if (tick + 1 < ticks)
          queue.push((tick + 1) * scenario_.tick, {EventKind::kTick, 0, tick + 1}, kTickPriority);
        break;
      }
    }
    // Fault events after the last tick change nothing that is recorded.
    if (result.ticks == ticks && event.payload.kind == EventKind::kTick) break;
  }
  result.completed = true;
  return result;
}

std::vector<IncidentRecord> Simulation::incidents() const { return world_->incidents(); }

std::vector<ChangeEvent> Simulation::changes() const { return world_->changes(); }

}  // namespace dosim
