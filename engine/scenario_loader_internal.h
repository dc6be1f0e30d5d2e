// Internals of the scenario loader (scenario_loader.h), shared by its three source files:
// scenario_loader.cc (the document, timing, regions, services, dependencies, traffic),
// scenario_loader_faults.cc (faults, targets, schedules), scenario_loader_changes.cc
// (operations), scenario_loader_detectors.cc and scenario_loader_replay.cc (replayed series). Not
// part of the engine's interface.
#pragma once

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dosim/engine/scenario.h"
#include "replay.h"
#include "yaml_reader.h"

namespace dosim::loader {

constexpr std::int64_t kMaxReplicas = 1'000'000;
constexpr std::int64_t kMaxRetries = 10;
constexpr double kMaxTicks = 1e10;
// Bounds that keep every series finite (a weight of 1e308 summed to inf, a rate of 1e308
// made NaN error ratios): far beyond any system, documented in scenario-format.md.
constexpr double kMostRps = 1e9;              // a traffic source's base_rps
constexpr double kMostUsers = 1e9;            // Locust users
constexpr double kMostWeight = 1e6;           // an endpoint's or entry service's weight
constexpr double kMostFactor = 1e6;           // an endpoint's latency_factor
constexpr double kMostCallsPerRequest = 1e3;  // a dependency's calls per request
constexpr double kMostNoise = 10;             // a traffic source's coefficient of variation
// Faults in a scenario, counting every occurrence of a repeating one.
constexpr std::size_t kMaxFaults = 100'000;
// Steps of one canary or feature flag (each is an event and a row of the change log).
constexpr std::size_t kMaxChangeSteps = 1'000;
// Unknown names that get a "did you mean" suggestion (each costs a pass over the names).
constexpr int kMaxSuggestions = 100;

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

// The item each name of one list of the scenario (services, faults, ...) belongs to, so that
// lookups and duplicate checks cost O(1) and loading stays near-linear in the scenario's size.
// Lookups only: nothing iterates it, so its order never reaches an output.
class NameIndex {
 public:
  // The item named `name`, or -1.
  int find(const std::string& name) const {
    const auto it = ids_.find(name);
    return it == ids_.end() ? -1 : it->second.first;
  }
  // Where the item named `name` was named ({0, 0} when unknown or not given).
  SourcePos where(const std::string& name) const {
    const auto it = ids_.find(name);
    return it == ids_.end() ? SourcePos{} : it->second.second;
  }
  // Gives `name` to item `item`, named at `pos`, unless it is taken; returns the earlier
  // holder, or -1.
  int claim(const std::string& name, int item, SourcePos pos = {}) {
    const auto [it, added] = ids_.emplace(name, std::pair(item, pos));
    return added ? -1 : it->second.first;
  }

 private:
  std::unordered_map<std::string, std::pair<int, SourcePos>> ids_;
};

// "duplicate fault name 'f' (first at line 4)": `what` names the list, `first` is where the
// name was first given (the line left out when unknown).
inline std::string duplicate_name(const std::string& what, const std::string& name,
                                  SourcePos first) {
  return "duplicate " + what + " name '" + name + "'" +
         (first.line > 0 ? " (first at line " + std::to_string(first.line) + ")" : "");
}

// Weights scaled to sum to 1 (left as they are when they do not sum to a positive number).
void normalise(std::vector<double>& weights);

// A file a scenario names (a script, a model, a manifest, a replayed CSV, an Alertmanager
// configuration): an absolute path as it is, a relative one from the scenario file's folder
// (as written when the scenario was not read from a file).
std::string beside_scenario(const std::string& scenario_file, const std::string& written);

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
      : diags_(file), scenario_(scenario), duration_(scenario.duration) {
    index_loaded();
  }

  // Throws InputError with every problem found.
  Scenario load(const YAML::Node& root);
  // The same, but a scenario with problems is returned as far as it was read, its problems
  // in `errors` (ScenarioDraft). Throws only where nothing could be read.
  Scenario draft(const YAML::Node& root, std::vector<Diagnostic>& errors);
  // One `faults:` / `changes:` entry, as the scenario's lists are read (with the index of
  // the next entry for a default name). Throws InputError with every problem found.
  FaultSpec single_fault(const YAML::Node& node, std::vector<Diagnostic>* warnings = nullptr);
  ChangeSpec single_change(const YAML::Node& node, std::vector<Diagnostic>* warnings = nullptr);
  PlaybookSpec single_playbook(const YAML::Node& node);

 private:
  void read_timing(MapReader& top);
  void read_region(const YAML::Node& node);
  void read_service(const YAML::Node& node);
  void read_placement(MapReader& r, ServiceSpec& service);
  void read_endpoints(MapReader& r, ServiceSpec& service);
  // workers, queue_limit, service_time, load_balancer (request level).
  void read_capacity(MapReader& r, std::optional<double> capacity, ServiceSpec& service);
  void read_request_model(MapReader& r, ServiceSpec& service);
  void read_autoscaling(const YAML::Node& node, ServiceSpec& service);
  void read_sli(const YAML::Node& node, ServiceSpec& service);
  void read_zone_placement(MapReader& r, ServiceSpec& service);
  void read_dependency(const YAML::Node& node);
  // Fallbacks of optional dependencies, once every dependency is known.
  void resolve_fallbacks();
  void check_cycles();
  void read_traffic(const YAML::Node& node, int index);
  // An entry (a name, a list, or {service: weight}) into entry and weights; `what` names it.
  void read_entry(const YAML::Node& node, SourcePos pos, const std::string& what,
                  std::vector<int>& entry, std::vector<double>& weights);
  // A regional source's `regions`, `home`, `weights` and `failover`.
  void read_regional_entries(const YAML::Node& node, MapReader& r, TrafficSpec& traffic);
  // {region: percent} over a regional source's regions, normalised (regions not listed: 0).
  std::vector<double> read_region_weights(const YAML::Node& node, SourcePos pos,
                                          const TrafficSpec& traffic);
  void read_shapes(MapReader& r, TrafficSpec& traffic);
  void read_locust(const YAML::Node& node, TrafficSpec& traffic);
  void read_wait_time(const YAML::Node& node, LocustShape& locust);
  void read_fault(const YAML::Node& node, int index);
  void read_target(const YAML::Node& node, FaultSpec& fault);
  void read_pod_parameters(MapReader& r, FaultSpec& fault, std::optional<FaultKind> kind);
  // Start times of a repeating fault's occurrences.
  std::vector<SimTime> read_schedule(const YAML::Node& node, const FaultSpec& fault);
  // `manifests:` and `manifest_names:` (scenario_loader_manifests.cc): Kubernetes fault
  // manifests into faults (after `faults:`) and edge policies.
  void read_manifests(MapReader& top);
  void read_change(const YAML::Node& node, int index);
  void warn_overlapping_deployments(std::size_t from = 0);
  void read_rollout(MapReader& r, ChangeSpec& change);
  // drain and traffic-shift: region / traffic / weights / shift / restore.
  void read_steering(MapReader& r, ChangeSpec& change);
  void read_defect(const YAML::Node& node, ChangeSpec& change);
  void read_detector(const YAML::Node& node, int index);
  // One `replay:` entry (scenario_loader_replay.cc): reads its file; after services and
  // dependencies, before the timing (whose defaults come from the files).
  void read_replay(const YAML::Node& node, int index);
  // Warns of a replay whose rows, or a labelled anomaly whose window, all come at or after the
  // run's end (once the duration is known): nothing of it is replayed or scored.
  void warn_unreplayed();
  // A traffic source's `replay`: its rate from a CSV file.
  void read_recorded_rate(const YAML::Node& node, TrafficSpec& traffic);
  // The `file`, `column`, `start`, `scale` and `clock` keys of a replayed file: its rows placed
  // in simulated time (offsets) with their scaled values; nullopt when it cannot be read
  // (reported).
  std::optional<ReplaySeries> read_rows(MapReader& r, std::string& file_path, std::string& column,
                                        SimTime& start, double& scale, SimTime& step,
                                        std::vector<SimTime>& offsets, std::vector<float>& values);
  void read_incident_rule(const YAML::Node& node, int index);
  void read_alertmanager(const YAML::Node& node);
  void read_playbook(const YAML::Node& node, std::size_t index);
  void warn_never_matches(MapReader& match, const PlaybookSpec& spec);
  void read_playbook_step(const YAML::Node& node, PlaybookSpec& spec);
  void read_remediation(const YAML::Node& node);
  // A mapping of label names to values, sorted by name.
  std::vector<std::pair<std::string, std::string>> read_labels(const YAML::Node& node);
  // Services named by a list of names; reports unknown ones.
  std::vector<int> read_services(MapReader& r, const char* key, Need need);

  // Fills the name indexes from a loaded scenario.
  void index_loaded();
  // `did_you_mean(word, candidates())` for the first kMaxSuggestions unknown names, "" after.
  template <typename Candidates>
  std::string suggest(const std::string& word, Candidates candidates) {
    if (suggestions_left_ <= 0) return "";
    --suggestions_left_;
    return did_you_mean(word, candidates());
  }
  // The zones of every region, in declaration order.
  std::vector<std::string> all_zones() const;
  // A non-empty `name`; reports an empty one. "" when absent or bad.
  std::string read_name(MapReader& r, Need need);
  // Reports a service, endpoint, zone or region name (`what`) that holds "->": edge names
  // join a caller and its callee with it, and root causes name edges, endpoints and places
  // in one string, so such a name would make them ambiguous.
  void check_no_arrow(const std::string& name, SourcePos pos, const std::string& what);
  // `what` (a quoted key, "a label name") on one line: no control character, as names (it is
  // printed in run lines and change logs, where a line break would forge a line).
  void check_one_line(const std::string& text, SourcePos pos, const std::string& what);
  // Index of a declared service; reports an unknown one and returns -1.
  int service_ref(const std::string& name, SourcePos pos);
  // Index of the dependency caller -> callee, or -1.
  int dependency_index(int caller, int callee) const;
  // Index of the dependency an edge name 'caller->callee' names, or -1.
  int edge_index(const std::string& name) const;
  // Every dependency's edge name, in declaration order ("" for one with an unknown end or a
  // self-call).
  std::vector<std::string> edge_names() const;
  // Endings of warnings about times past the end, ", after the scenario's end (2h): clipped"
  // for an end, ", at or after the scenario's end (2h): it never happens" for a moment.
  // REQUIRES: duration_.
  std::string clipped() const;
  std::string never_happens() const;

  Diagnostics diags_;
  Scenario scenario_;
  std::optional<SimTime> duration_;  // set when `duration` is valid
  NameIndex services_, regions_, zones_ /* to the region */, traffic_, faults_, changes_,
      detectors_, replays_, incident_rules_;
  std::map<std::pair<int, int>, int> dependencies_;  // (caller, callee) -> dependency
  // (family, metric, service, dependency) of each replayed series -> the replay's name.
  std::map<std::tuple<std::string, int, int, int>, std::string> replayed_series_;
  int suggestions_left_ = kMaxSuggestions;
  struct PendingFallback {
    int dependency;
    std::string service;
    SourcePos pos;
  };
  std::vector<PendingFallback> fallbacks_;
  bool too_many_faults_ = false;  // reported once
};

}  // namespace dosim::loader
