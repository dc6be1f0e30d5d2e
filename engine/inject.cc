#include "dosim/engine/inject.h"

#include <yaml-cpp/yaml.h>

#include "dosim/engine/scenario_loader.h"
#include "dosim/error.h"

namespace dosim {
namespace {

// A time parse_fault() reads exactly, whatever its size.
std::string time_text(SimTime t) { return std::to_string(t) + "ns"; }

// Whether fault `name` is one application of a manifest's fault `base`: the first (`base`)
// or a later one (`base-2`, `base-3`, ...).
bool applied_as(const std::string& name, const std::string& base) {
  if (name == base) return true;
  if (name.size() <= base.size() + 1 || name.compare(0, base.size(), base) != 0 ||
      name[base.size()] != '-')
    return false;
  const std::string suffix = name.substr(base.size() + 1);
  return suffix.find_first_not_of("0123456789") == std::string::npos && suffix[0] != '0' &&
         suffix != "1";
}

}  // namespace

int inject_fault(Simulation& simulation, YAML::Node node, const std::string& where,
                 const std::string& file, std::vector<Diagnostic>* warnings, bool strict,
                 const std::function<void(const std::vector<Diagnostic>&)>& before_adding) {
  if (!node.IsMap())
    throw RunControlError(where + ": a fault is a mapping of keys (kind, target, ...)");
  const SimTime end = simulation.scenario().duration;
  // With a duration too (it was said as the loader's "'start' must be before the end").
  if (end - simulation.current_time() <= 0) throw RunControlError(where + ": the run is over");
  if (!node["start"]) node["start"] = time_text(simulation.current_time());
  const bool until_the_end = !node["duration"];
  if (until_the_end)  // the rest of the run from its start: set once the start is read
    node["duration"] = time_text(end - simulation.current_time());
  std::vector<Diagnostic> said;
  FaultSpec spec = parse_fault(simulation.scenario(), node, file, &said);
  if (strict && !said.empty()) {
    for (Diagnostic& d : said) d.warning = false;
    throw InputError(std::move(said));
  }
  if (spec.start < simulation.current_time())
    throw RunControlError(where + ": 'start' (" + format_duration(spec.start) +
                          ") is in the past (now: " + format_duration(simulation.current_time()) +
                          ")");
  if (until_the_end && spec.start < end) spec.duration = end - spec.start;
  if (before_adding) before_adding(said);
  if (warnings != nullptr) *warnings = std::move(said);
  return simulation.add_fault(std::move(spec));
}

std::vector<int> apply_manifest(Simulation& simulation, const std::string& path,
                                std::optional<SimTime> duration, const std::string& where) {
  const SimTime now = simulation.current_time();
  const SimTime end = simulation.scenario().duration;
  if (now >= end) throw RunControlError(where + ": the run is over");
  if (duration && *duration <= 0) throw RunControlError(where + ": 'duration' must be > 0");
  const SimTime until = duration && *duration < end - now ? now + *duration : end;
  std::vector<FaultSpec> faults = parse_manifest(simulation.scenario(), path, now, until);
  const std::vector<FaultSpec>& existing = simulation.scenario().faults;
  const auto taken = [&](const std::string& name) {
    for (const FaultSpec& other : existing)
      if (other.name == name) return true;
    return false;
  };
  bool again = false;  // an earlier application's faults, all ended
  for (const FaultSpec& spec : faults)
    for (std::size_t f = 0; f < existing.size(); ++f) {
      if (!applied_as(existing[f].name, spec.name)) continue;
      if (!simulation.fault_ended(static_cast<int>(f)))
        throw RunControlError(
            where + ": the manifest makes fault '" + spec.name + "', and " +
            (existing[f].name == spec.name ? std::string("a fault of that name")
                                           : "its application '" + existing[f].name + "'") +
            " has not ended (the manifest is still applied: stop it first, or rename it)");
      again = true;
    }
  if (again) {
    int suffix = 2;
    const auto free_at = [&](int k) {
      for (const FaultSpec& spec : faults)
        if (taken(spec.name + "-" + std::to_string(k))) return false;
      return true;
    };
    while (!free_at(suffix)) ++suffix;
    for (FaultSpec& spec : faults) spec.name += "-" + std::to_string(suffix);
  }
  std::vector<int> added;
  for (FaultSpec& spec : faults) added.push_back(simulation.add_fault(std::move(spec)));
  return added;
}

}  // namespace dosim
