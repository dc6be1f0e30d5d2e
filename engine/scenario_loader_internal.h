// Internals of the scenario loader (scenario_loader.h), shared by its three source files:
// scenario_loader.cc (the document, timing, regions, services, dependencies, traffic),
// scenario_loader_faults.cc (faults, targets, schedules), scenario_loader_changes.cc
// (operations), scenario_loader_detectors.cc and scenario_loader_replay.cc (replayed series). Not
// part of the engine's interface.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dosim/engine/scenario.h"
#include "yaml_reader.h"

namespace dosim::loader {

constexpr std::int64_t kMaxReplicas = 1'000'000;
constexpr std::int64_t kMaxRetries = 10;
constexpr double kMaxTicks = 1e10;

const std::vector<std::string> kWeekdays = {"monday", "tuesday",  "wednesday", "thursday",
                                            "friday", "saturday", "sunday"};

template <typename T>
std::vector<std::string> names_of(const std::vector<T>& items) {
  std::vector<std::string> names;
  for (const T& item : items) names.push_back(item.name);
  return names;
}

// `at + after`, saturated at the largest time (both are >= 0).
inline SimTime time_after(SimTime at, SimTime after) {
  return after > std::numeric_limits<SimTime>::max() - at ? std::numeric_limits<SimTime>::max()
                                                          : at + after;
}

// Weights scaled to sum to 1 (left as they are when they do not sum to a positive number).
void normalise(std::vector<double>& weights);

// Checks a whole scenario document, filling a Scenario and collecting every problem.
class Loader {
 public:
  Loader(const std::string& text, const std::string& file) : diags_(file) {
    scenario_.file = file;
    scenario_.yaml_text = text;
  }

  // Reads single entries against an already loaded scenario (run-time additions): its
  // services, dependencies, zones, duration and the names already taken.
  Loader(const Scenario& scenario, const std::string& file)
      : diags_(file), scenario_(scenario), duration_(scenario.duration) {}

  // Throws InputError with every problem found.
  Scenario load(const YAML::Node& root);
  // One `faults:` / `changes:` entry, as the scenario's lists are read (with the index of
  // the next entry for a default name). Throws InputError with every problem found.
  FaultSpec single_fault(const YAML::Node& node);
  ChangeSpec single_change(const YAML::Node& node);

 private:
  void read_timing(MapReader& top);
  void read_region(const YAML::Node& node);
  void read_service(const YAML::Node& node);
  void read_placement(MapReader& r, ServiceSpec& service);
  void read_endpoints(MapReader& r, ServiceSpec& service);
  void read_autoscaling(const YAML::Node& node, ServiceSpec& service);
  void read_sli(const YAML::Node& node, ServiceSpec& service);
  void read_zone_placement(MapReader& r, ServiceSpec& service);
  void read_dependency(const YAML::Node& node);
  void check_cycles();
  void read_traffic(const YAML::Node& node, int index);
  void read_entry(const YAML::Node& node, SourcePos pos, TrafficSpec& traffic);
  void read_shapes(MapReader& r, TrafficSpec& traffic);
  void read_locust(const YAML::Node& node, TrafficSpec& traffic);
  void read_fault(const YAML::Node& node, int index);
  void read_target(const YAML::Node& node, FaultSpec& fault);
  void read_pod_parameters(MapReader& r, FaultSpec& fault, std::optional<FaultKind> kind);
  // Start times of a repeating fault's occurrences.
  std::vector<SimTime> read_schedule(const YAML::Node& node, const FaultSpec& fault);
  void read_change(const YAML::Node& node, int index);
  void read_rollout(MapReader& r, ChangeSpec& change);
  void read_defect(const YAML::Node& node, ChangeSpec& change);
  void read_detector(const YAML::Node& node, int index);
  // One `replay:` entry (scenario_loader_replay.cc): reads its file; after services and
  // dependencies, before the timing (whose defaults come from the files).
  void read_replay(const YAML::Node& node, int index);
  void read_incident_rule(const YAML::Node& node, int index);
  void read_alertmanager(const YAML::Node& node);
  // A mapping of label names to values, sorted by name.
  std::vector<std::pair<std::string, std::string>> read_labels(const YAML::Node& node);
  // Services named by a list of names; reports unknown ones.
  std::vector<int> read_services(MapReader& r, const char* key, Need need);

  // A non-empty `name`; reports an empty one. "" when absent or bad.
  std::string read_name(MapReader& r, Need need);
  // Index of a declared service; reports an unknown one and returns -1.
  int service_ref(const std::string& name, SourcePos pos);
  // Index of the dependency caller -> callee, or -1.
  int dependency_index(int caller, int callee) const;
  // Endings of warnings about times past the end, ", after the scenario's end (2h): clipped"
  // for an end, ", at or after the scenario's end (2h): it never happens" for a moment.
  // REQUIRES: duration_.
  std::string clipped() const;
  std::string never_happens() const;

  Diagnostics diags_;
  Scenario scenario_;
  std::optional<SimTime> duration_;  // set when `duration` is valid
};

}  // namespace dosim::loader
