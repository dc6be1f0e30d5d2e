#include "scenario_loader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

#include "schedule.h"
#include "topology.h"
#include "yaml_reader.h"

namespace dosim {
namespace {

constexpr std::int64_t kMaxReplicas = 1'000'000;
constexpr std::int64_t kMaxRetries = 10;
constexpr double kMaxTicks = 1e10;

const std::vector<std::string> kWeekdays = {"monday", "tuesday",  "wednesday", "thursday",
                                            "friday", "saturday", "sunday"};

// Why `text` is not a text file, or "" when it is: NUL bytes or invalid UTF-8.
std::string binary_reason(const std::string& text) {
  if (text.find('\0') != std::string::npos) return "not a text file (it contains NUL bytes)";
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = lead < 0x80                    ? 1
                         : lead >= 0xC2 && lead <= 0xDF ? 2
                         : lead >= 0xE0 && lead <= 0xEF ? 3
                         : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                        : 0;
    if (length == 0 || i + length > text.size()) return "not a text file (invalid UTF-8)";
    for (std::size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80)
        return "not a text file (invalid UTF-8)";
    i += length;
  }
  return "";
}

template <typename T>
std::vector<std::string> names_of(const std::vector<T>& items) {
  std::vector<std::string> names;
  for (const T& item : items) names.push_back(item.name);
  return names;
}

// Weights scaled to sum to 1 (left as they are when they do not sum to a positive number).
void normalise(std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  if (total > 0)
    for (double& w : weights) w /= total;
}

// Checks a whole scenario document, filling a Scenario and collecting every problem.
class Loader {
 public:
  Loader(const std::string& text, const std::string& file) : diags_(file) {
    scenario_.file = file;
    scenario_.yaml_text = text;
  }

  // Throws InputError with every problem found.
  Scenario load(const YAML::Node& root);

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

  Diagnostics diags_;
  Scenario scenario_;
  std::optional<SimTime> duration_;  // set when `duration` is valid
};

Scenario Loader::load(const YAML::Node& root) {
  if (!root.IsMap()) {
    diags_.error(pos_of(root),
                 "the top level must be a mapping of scenario keys (name, duration, services, "
                 "...), got " +
                     describe(root));
    diags_.throw_if_any();
  }
  MapReader top(root, "scenario",
                {"name", "description", "duration", "tick", "record", "seed", "regions", "services",
                 "dependencies", "traffic", "faults", "changes"},
                diags_);
  scenario_.name = read_name(top, Need::kRequired);
  scenario_.description = top.text("description").value_or("");
  read_timing(top);
  scenario_.seed =
      static_cast<std::uint64_t>(top.integer("seed", Range::closed(0, 1e18)).value_or(1));

  for (const YAML::Node& region : top.list("regions")) read_region(region);
  const std::vector<YAML::Node> services = top.list("services", Need::kRequired);
  if (services.empty() && top.has("services"))
    diags_.error(top.value_pos("services"), "'services' must list at least one service");
  for (const YAML::Node& service : services) read_service(service);
  for (const YAML::Node& dependency : top.list("dependencies")) read_dependency(dependency);
  check_cycles();
  const std::vector<YAML::Node> traffic = top.list("traffic");
  for (std::size_t i = 0; i < traffic.size(); ++i) read_traffic(traffic[i], static_cast<int>(i));
  const std::vector<YAML::Node> faults = top.list("faults");
  for (std::size_t i = 0; i < faults.size(); ++i) read_fault(faults[i], static_cast<int>(i));
  const std::vector<YAML::Node> changes = top.list("changes");
  for (std::size_t i = 0; i < changes.size(); ++i) read_change(changes[i], static_cast<int>(i));

  diags_.throw_if_any();
  return std::move(scenario_);
}

void Loader::read_timing(MapReader& top) {
  duration_ = top.duration("duration", Range::above(0), Need::kRequired);
  auto tick = top.duration("tick", Range::above(0));
  auto record = top.duration("record", Range::above(0));
  scenario_.duration = duration_.value_or(0);
  scenario_.tick = tick.value_or(kSecond);
  scenario_.record_interval = record.value_or(scenario_.tick);
  if (!duration_) return;
  if (scenario_.tick > *duration_) {
    diags_.error(top.value_pos("tick"), "'tick' (" + format_duration(scenario_.tick) +
                                            ") must not exceed 'duration' (" +
                                            format_duration(*duration_) + ")");
  } else if (static_cast<double>(*duration_ / scenario_.tick) > kMaxTicks) {
    diags_.error(top.value_pos("duration"), "'duration' " + format_duration(*duration_) +
                                                " at a tick of " + format_duration(scenario_.tick) +
                                                " makes " +
                                                std::to_string(*duration_ / scenario_.tick) +
                                                " ticks; at most 10000000000 are allowed");
  }
  if (record && scenario_.record_interval % scenario_.tick != 0) {
    diags_.error(top.value_pos("record"), "'record' (" + format_duration(*record) +
                                              ") must be a multiple of 'tick' (" +
                                              format_duration(scenario_.tick) + ")");
  }
}

void Loader::read_region(const YAML::Node& node) {
  MapReader r(node, "region", {"name", "zones"}, diags_);
  if (!r.is_map()) return;
  RegionSpec region;
  region.pos = r.pos();
  region.name = read_name(r, Need::kRequired);
  for (const YAML::Node& zone : r.list("zones")) {
    auto name = read_text(zone, pos_of(zone), "a zone name", diags_);
    if (!name) continue;
    for (const RegionSpec& other : scenario_.regions) {
      if (std::find(other.zones.begin(), other.zones.end(), *name) != other.zones.end())
        diags_.error(pos_of(zone), "zone '" + *name + "' is already in region '" + other.name +
                                       "'; zone names must be unique across regions");
    }
    if (std::find(region.zones.begin(), region.zones.end(), *name) != region.zones.end())
      diags_.error(pos_of(zone), "duplicate zone '" + *name + "' in region '" + region.name + "'");
    region.zones.push_back(*name);
  }
  for (const RegionSpec& other : scenario_.regions) {
    if (other.name == region.name && !region.name.empty())
      diags_.error(r.value_pos("name"), "duplicate region name '" + region.name +
                                            "' (first at line " + std::to_string(other.pos.line) +
                                            ")");
  }
  scenario_.regions.push_back(std::move(region));
}

void Loader::read_service(const YAML::Node& node) {
  MapReader r(
      node, "service",
      {"name", "replicas", "capacity_rps", "base_latency", "cpu_baseline", "memory_baseline",
       "region", "zone", "zones", "failover", "endpoints", "autoscaling", "sli", "labels"},
      diags_);
  if (!r.is_map()) return;
  ServiceSpec service;
  service.pos = r.pos();
  service.name = read_name(r, Need::kRequired);
  service.replicas = static_cast<int>(
      r.integer("replicas", Range::closed(0, kMaxReplicas)).value_or(service.replicas));
  service.capacity_rps = r.number("capacity_rps", Range::above(0)).value_or(service.capacity_rps);
  service.base_latency = r.duration("base_latency", Range::above(0)).value_or(service.base_latency);
  service.cpu_baseline =
      r.number("cpu_baseline", Range::closed(0, 1)).value_or(service.cpu_baseline);
  service.memory_baseline =
      r.number("memory_baseline", Range::closed(0, 1)).value_or(service.memory_baseline);
  read_placement(r, service);
  read_endpoints(r, service);
  if (auto autoscaling = r.value("autoscaling")) read_autoscaling(*autoscaling, service);
  if (auto sli = r.value("sli")) read_sli(*sli, service);
  if (auto labels = r.value("labels")) service.labels = read_labels(*labels);
  for (const ServiceSpec& other : scenario_.services) {
    if (other.name == service.name && !service.name.empty())
      diags_.error(r.value_pos("name"), "duplicate service name '" + service.name +
                                            "' (first at line " + std::to_string(other.pos.line) +
                                            ")");
  }
  scenario_.services.push_back(std::move(service));
}

void Loader::read_sli(const YAML::Node& node, ServiceSpec& service) {
  MapReader r(node, "sli",
              {"p95Percent", "p95Margin", "errorPoints", "rpsPercent", "p95Objective",
               "errorObjectivePercent"},
              diags_);
  if (!r.is_map()) return;
  SliSpec& sli = service.sli;
  sli.p95_change = r.number("p95Percent", Range::at_least(0)).value_or(5) / 100.0;
  sli.p95_margin = r.duration("p95Margin", Range::at_least(0)).value_or(sli.p95_margin);
  sli.error_change = r.number("errorPoints", Range::closed(0, 100)).value_or(0.5) / 100.0;
  sli.rps_change = r.number("rpsPercent", Range::at_least(0)).value_or(5) / 100.0;
  sli.p95_objective = r.duration("p95Objective", Range::above(0));
  if (auto objective = r.number("errorObjectivePercent", Range::closed(0, 100)))
    sli.error_objective = *objective / 100.0;
}

void Loader::read_autoscaling(const YAML::Node& node, ServiceSpec& service) {
  MapReader r(node, "autoscaling",
              {"minReplicas", "maxReplicas", "targetCPUPercent", "stabilizationWindow",
               "syncPeriod", "startTime"},
              diags_);
  if (!r.is_map()) return;
  AutoscalingSpec spec;
  spec.pos = r.pos();
  spec.min_replicas =
      static_cast<int>(r.integer("minReplicas", Range::closed(1, kMaxReplicas)).value_or(1));
  spec.max_replicas = static_cast<int>(
      r.integer("maxReplicas", Range::closed(1, kMaxReplicas), Need::kRequired).value_or(1));
  spec.target_cpu = r.number("targetCPUPercent", Range::half_open(1, 101)).value_or(70) / 100.0;
  spec.window = r.duration("stabilizationWindow", Range::at_least(0)).value_or(spec.window);
  spec.sync_period = r.duration("syncPeriod", Range::above(0)).value_or(spec.sync_period);
  spec.start_time = r.duration("startTime", Range::at_least(0)).value_or(spec.start_time);
  if (spec.min_replicas > spec.max_replicas)
    diags_.error(r.value_pos("minReplicas"), "'minReplicas' must not exceed 'maxReplicas'");
  else if (service.replicas < spec.min_replicas || service.replicas > spec.max_replicas)
    diags_.error(spec.pos, "'replicas' (" + std::to_string(service.replicas) +
                               ") must be within [minReplicas, maxReplicas] (" +
                               std::to_string(spec.min_replicas) + ", " +
                               std::to_string(spec.max_replicas) + ")");
  service.autoscaling = spec;
}

void Loader::read_placement(MapReader& r, ServiceSpec& service) {
  read_zone_placement(r, service);
  if (service.zones.empty() && !service.zone.empty()) {
    service.zones = {service.zone};
    service.zone_regions = {service.region};
  }
  std::vector<std::string> regions;
  for (const std::string& region : service.zone_regions)
    if (std::find(regions.begin(), regions.end(), region) == regions.end())
      regions.push_back(region);
  service.failover = regions.size() <= 1;
  if (auto failover = r.text("failover")) {
    if (*failover != "true" && *failover != "false")
      diags_.error(r.value_pos("failover"), "'failover' must be true or false");
    service.failover = *failover == "true";
  }
}

void Loader::read_zone_placement(MapReader& r, ServiceSpec& service) {
  if (r.has("zones")) {
    if (r.has("zone") || r.has("region")) {
      diags_.error(r.key_pos("zones"), "'zones' replaces 'zone' and 'region'; give one of them");
      return;
    }
    for (const YAML::Node& item : r.list("zones")) {
      auto name = read_text(item, pos_of(item), "a zone name", diags_);
      if (!name) continue;
      std::string zone_region;
      std::vector<std::string> all_zones;
      for (const RegionSpec& candidate : scenario_.regions)
        for (const std::string& zone : candidate.zones) {
          all_zones.push_back(zone);
          if (zone == *name) zone_region = candidate.name;
        }
      if (zone_region.empty()) {
        diags_.error(pos_of(item), "unknown zone '" + *name + "'" + did_you_mean(*name, all_zones));
        continue;
      }
      service.zones.push_back(*name);
      service.zone_regions.push_back(zone_region);
      service.zone += (service.zone.empty() ? "" : ",") + *name;
    }
    std::vector<std::string> regions;
    for (const std::string& zone_region : service.zone_regions)
      if (std::find(regions.begin(), regions.end(), zone_region) == regions.end()) {
        regions.push_back(zone_region);
        service.region += (service.region.empty() ? "" : ",") + zone_region;
      }
    return;
  }
  const RegionSpec* region = nullptr;
  if (auto name = r.text("region")) {
    for (const RegionSpec& candidate : scenario_.regions)
      if (candidate.name == *name) region = &candidate;
    if (region) {
      service.region = *name;
    } else {
      diags_.error(r.value_pos("region"), "unknown region '" + *name + "'" +
                                              did_you_mean(*name, names_of(scenario_.regions)));
    }
  }
  auto zone = r.text("zone");
  if (!zone) return;
  if (region) {
    if (std::find(region->zones.begin(), region->zones.end(), *zone) == region->zones.end())
      diags_.error(r.value_pos("zone"), "zone '" + *zone + "' is not in region '" + region->name +
                                            "'" + did_you_mean(*zone, region->zones));
    service.zone = *zone;
    return;
  }
  if (r.has("region")) return;  // an unknown region was reported already
  std::vector<std::string> all_zones;
  for (const RegionSpec& candidate : scenario_.regions) {
    for (const std::string& name : candidate.zones) {
      all_zones.push_back(name);
      if (name == *zone) service.region = candidate.name;
    }
  }
  if (service.region.empty())
    diags_.error(r.value_pos("zone"),
                 "unknown zone '" + *zone + "'" + did_you_mean(*zone, all_zones));
  service.zone = *zone;
}

void Loader::read_endpoints(MapReader& r, ServiceSpec& service) {
  std::vector<double> weights;
  for (const YAML::Node& node : r.list("endpoints")) {
    MapReader e(node, "endpoint", {"name", "weight", "latency_factor"}, diags_);
    if (!e.is_map()) continue;
    EndpointSpec endpoint;
    endpoint.pos = e.pos();
    endpoint.name = read_name(e, Need::kRequired);
    endpoint.weight = e.number("weight", Range::above(0)).value_or(1.0);
    endpoint.latency_factor = e.number("latency_factor", Range::above(0)).value_or(1.0);
    for (const EndpointSpec& other : service.endpoints) {
      if (other.name == endpoint.name && !endpoint.name.empty())
        diags_.error(e.value_pos("name"), "duplicate endpoint '" + endpoint.name +
                                              "' in service '" + service.name + "'");
    }
    weights.push_back(endpoint.weight);
    service.endpoints.push_back(std::move(endpoint));
  }
  normalise(weights);
  for (std::size_t i = 0; i < weights.size(); ++i) service.endpoints[i].weight = weights[i];
}

void Loader::read_dependency(const YAML::Node& node) {
  MapReader r(node, "dependency", {"caller", "callee", "calls_per_request", "timeout", "retries"},
              diags_);
  if (!r.is_map()) return;
  DependencySpec dependency;
  dependency.pos = r.pos();
  if (auto caller = r.text("caller", Need::kRequired))
    dependency.caller = service_ref(*caller, r.value_pos("caller"));
  if (auto callee = r.text("callee", Need::kRequired))
    dependency.callee = service_ref(*callee, r.value_pos("callee"));
  dependency.calls_per_request = r.number("calls_per_request", Range::at_least(0)).value_or(1.0);
  dependency.timeout = r.duration("timeout", Range::at_least(0)).value_or(0);
  dependency.retries =
      static_cast<int>(r.integer("retries", Range::closed(0, kMaxRetries)).value_or(0));
  if (dependency.caller >= 0 && dependency.caller == dependency.callee) {
    diags_.error(dependency.pos, "service '" + scenario_.services[dependency.caller].name +
                                     "' cannot depend on itself");
  } else if (dependency.caller >= 0 && dependency.callee >= 0) {
    const int first = dependency_index(dependency.caller, dependency.callee);
    if (first >= 0)
      diags_.error(dependency.pos,
                   "duplicate dependency '" + scenario_.services[dependency.caller].name + " -> " +
                       scenario_.services[dependency.callee].name + "' (first at line " +
                       std::to_string(scenario_.dependencies[first].pos.line) + ")");
  }
  scenario_.dependencies.push_back(dependency);
}

void Loader::check_cycles() {
  // Self-calls and duplicates are reported already; each pass names one cycle and drops the
  // edge it is reported at, so independent cycles are all named.
  EdgeList edges;
  for (const DependencySpec& d : scenario_.dependencies)
    if (d.caller >= 0 && d.callee >= 0 && d.caller != d.callee)
      edges.emplace_back(d.caller, d.callee);
  const int service_count = static_cast<int>(scenario_.services.size());
  for (std::vector<int> cycle = find_cycle(service_count, edges); !cycle.empty();
       cycle = find_cycle(service_count, edges)) {
    std::string path;
    for (int service : cycle)
      path += (path.empty() ? "" : " -> ") + scenario_.services[service].name;
    const int at = dependency_index(cycle[0], cycle[1]);
    diags_.error(scenario_.dependencies[at].pos, "dependency cycle: " + path);
    edges.erase(std::find(edges.begin(), edges.end(), std::pair(cycle[0], cycle[1])));
  }
}

void Loader::read_traffic(const YAML::Node& node, int index) {
  MapReader r(node, "traffic", {"name", "entry", "base_rps", "daily", "weekly", "noise", "locust"},
              diags_);
  if (!r.is_map()) return;
  TrafficSpec traffic;
  traffic.pos = r.pos();
  traffic.name = r.has("name") ? read_name(r, Need::kOptional) : "traffic-" + std::to_string(index);
  for (const TrafficSpec& other : scenario_.traffic) {
    if (other.name == traffic.name && !traffic.name.empty())
      diags_.error(r.has("name") ? r.value_pos("name") : traffic.pos,
                   "duplicate traffic name '" + traffic.name + "'");
  }
  if (auto entry = r.value("entry", Need::kRequired))
    read_entry(*entry, r.value_pos("entry"), traffic);
  const Need base_need = r.has("locust") ? Need::kOptional : Need::kRequired;
  traffic.base_rps = r.number("base_rps", Range::at_least(0), base_need).value_or(0);
  traffic.noise = r.number("noise", Range::at_least(0)).value_or(0.05);
  read_shapes(r, traffic);
  if (auto locust = r.value("locust")) read_locust(*locust, traffic);
  scenario_.traffic.push_back(std::move(traffic));
}

void Loader::read_entry(const YAML::Node& node, SourcePos pos, TrafficSpec& traffic) {
  auto add = [&](const std::string& name, SourcePos at, double weight) {
    const int service = service_ref(name, at);
    if (service < 0) return;
    if (std::find(traffic.entry.begin(), traffic.entry.end(), service) != traffic.entry.end())
      diags_.error(at, "service '" + name + "' is listed twice in 'entry'");
    traffic.entry.push_back(service);
    traffic.entry_weights.push_back(weight);
  };
  if (node.IsScalar()) {
    add(node.Scalar(), pos, 1.0);
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node)
      if (auto name = read_text(item, pos_of(item), "an entry service", diags_))
        add(*name, pos_of(item), 1.0);
  } else if (node.IsMap()) {
    for (const MapEntry& item : read_entries(node, "entry", diags_)) {
      auto weight = read_number(item.value, item.value_pos(), "the weight of '" + item.key + "'",
                                Range::above(0), diags_);
      add(item.key, item.key_pos(), weight.value_or(1.0));
    }
  } else {
    diags_.error(pos,
                 "expected a service name, a list of services or a mapping {service: weight} for "
                 "'entry', got " +
                     describe(node));
  }
  if (traffic.entry.empty() && (node.IsSequence() || node.IsMap()) && node.size() == 0)
    diags_.error(pos, "'entry' must name at least one service");
  normalise(traffic.entry_weights);
}

void Loader::read_shapes(MapReader& r, TrafficSpec& traffic) {
  if (auto node = r.value("daily")) {
    MapReader d(*node, "daily", {"amplitude", "peak_hour"}, diags_);
    DailyShape daily;
    daily.amplitude = d.number("amplitude", Range::half_open(0, 1)).value_or(0.5);
    daily.peak_hour = d.number("peak_hour", Range::half_open(0, 24)).value_or(14.0);
    traffic.daily = daily;
  }
  if (auto node = r.value("weekly")) {
    MapReader w(*node, "weekly", {"weekend_factor", "start_weekday"}, diags_);
    WeeklyShape weekly;
    weekly.weekend_factor = w.number("weekend_factor", Range::above(0)).value_or(0.7);
    if (auto day = w.value("start_weekday")) {
      std::string name = day->IsScalar() ? day->Scalar() : "";
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const auto named = std::find(kWeekdays.begin(), kWeekdays.end(), name);
      if (named != kWeekdays.end()) {
        weekly.start_weekday = static_cast<int>(named - kWeekdays.begin());
      } else if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) {
        weekly.start_weekday =
            static_cast<int>(w.integer("start_weekday", Range::closed(0, 6)).value_or(0));
      } else {
        diags_.error(w.value_pos("start_weekday"),
                     "expected a weekday (monday..sunday or 0..6) for 'start_weekday', got " +
                         describe(*day) + did_you_mean(name, kWeekdays));
      }
    }
    traffic.weekly = weekly;
  }
}

void Loader::read_locust(const YAML::Node& node, TrafficSpec& traffic) {
  MapReader r(node, "locust", {"users", "spawn_rate", "rps_per_user", "surges"}, diags_);
  LocustShape locust;
  locust.users = r.number("users", Range::at_least(0)).value_or(0);
  locust.spawn_rate = r.number("spawn_rate", Range::above(0)).value_or(10);
  locust.rps_per_user = r.number("rps_per_user", Range::above(0)).value_or(1);
  for (const YAML::Node& item : r.list("surges")) {
    MapReader s(item, "surge", {"from", "to", "users"}, diags_);
    if (!s.is_map()) continue;
    SurgeSpec surge;
    surge.pos = s.pos();
    auto from = s.duration("from", Range::at_least(0), Need::kRequired);
    auto to = s.duration("to", Range::at_least(0), Need::kRequired);
    surge.users = s.number("users", Range::at_least(0), Need::kRequired).value_or(0);
    surge.from = from.value_or(0);
    surge.to = to.value_or(0);
    if (from && to && *to <= *from)
      diags_.error(s.value_pos("to"), "'to' (" + format_duration(*to) + ") must be after 'from' (" +
                                          format_duration(*from) + ")");
    locust.surges.push_back(surge);
  }
  traffic.locust = locust;
}

void Loader::read_fault(const YAML::Node& node, int index) {
  MapReader r(
      node, "fault",
      {"name", "kind", "target", "start", "duration", "percent", "fixedDelay", "jitter",
       "httpStatus", "load", "mode", "value", "restartTime", "crashAfter", "rate", "schedule"},
      diags_);
  if (!r.is_map()) return;
  FaultSpec fault;
  fault.pos = r.pos();
  fault.name = r.has("name") ? read_name(r, Need::kOptional) : "fault-" + std::to_string(index);
  for (const FaultSpec& other : scenario_.faults) {
    if (other.name == fault.name && !fault.name.empty())
      diags_.error(r.has("name") ? r.value_pos("name") : fault.pos,
                   "duplicate fault name '" + fault.name + "'");
  }
  std::optional<FaultKind> kind;
  static constexpr FaultKind kKinds[] = {
      FaultKind::kLatency,   FaultKind::kError,      FaultKind::kCpuStress,  FaultKind::kPacketLoss,
      FaultKind::kPodKill,   FaultKind::kCrashLoop,  FaultKind::kMemoryLeak, FaultKind::kOutage,
      FaultKind::kPartition, FaultKind::kMaintenance};
  if (auto text = r.text("kind", Need::kRequired)) {
    std::vector<std::string> kind_names;
    for (FaultKind k : kKinds) {
      kind_names.push_back(fault_kind_name(k));
      if (*text == fault_kind_name(k)) kind = k;
    }
    if (!kind) {
      std::string listed;
      for (std::size_t i = 0; i < kind_names.size(); ++i)
        listed += (i == 0 ? "" : i + 1 == kind_names.size() ? " or " : ", ") + kind_names[i];
      diags_.error(r.value_pos("kind"), "'kind' must be " + listed + ", got '" + *text + "'" +
                                            did_you_mean(*text, kind_names));
    }
  }
  fault.kind = kind.value_or(FaultKind::kLatency);
  if (auto target = r.value("target", Need::kRequired)) read_target(*target, fault);
  auto start = r.duration("start", Range::at_least(0), Need::kRequired);
  fault.start = start.value_or(0);
  if (start && duration_ && *start >= *duration_)
    diags_.error(r.value_pos("start"), "'start' (" + format_duration(*start) +
                                           ") must be before the end of the scenario (" +
                                           format_duration(*duration_) + ")");
  fault.duration = r.duration("duration", Range::above(0), Need::kRequired).value_or(0);
  fault.fraction = r.number("percent", Range::closed(0, 100)).value_or(100) / 100.0;

  const bool latency = kind == FaultKind::kLatency;
  const bool stress = kind == FaultKind::kCpuStress;
  fault.fixed_delay =
      r.duration("fixedDelay", Range::above(0), latency ? Need::kRequired : Need::kOptional)
          .value_or(0);
  fault.jitter = r.duration("jitter", Range::at_least(0)).value_or(0);
  fault.http_status =
      static_cast<int>(r.integer("httpStatus", Range::closed(400, 599)).value_or(503));
  fault.cpu_load =
      r.number("load", Range::closed(0, 100), stress ? Need::kRequired : Need::kOptional)
          .value_or(0) /
      100.0;
  read_pod_parameters(r, fault, kind);
  // Parameters belong to the mechanisms that use them.
  using K = FaultKind;
  const struct {
    const char* key;
    std::vector<FaultKind> owners;
    const char* owner_names;
  } owned[] = {
      {"fixedDelay", {K::kLatency}, "latency"},
      {"jitter", {K::kLatency}, "latency"},
      {"httpStatus", {K::kError}, "error"},
      {"load", {K::kCpuStress}, "cpu-stress"},
      {"percent", {K::kLatency, K::kError, K::kPacketLoss}, "latency, error and packet-loss"},
      {"mode",
       {K::kPodKill, K::kCrashLoop, K::kMemoryLeak, K::kMaintenance},
       "pod-kill, crash-loop, memory-leak and maintenance"},
      {"value",
       {K::kPodKill, K::kCrashLoop, K::kMemoryLeak, K::kMaintenance},
       "pod-kill, crash-loop, memory-leak and maintenance"},
      {"restartTime",
       {K::kPodKill, K::kCrashLoop, K::kMemoryLeak},
       "pod-kill, crash-loop and memory-leak"},
      {"crashAfter", {K::kCrashLoop}, "crash-loop"},
      {"rate", {K::kMemoryLeak}, "memory-leak"}};
  for (const auto& param : owned) {
    if (!kind || !r.has(param.key)) continue;
    if (std::find(param.owners.begin(), param.owners.end(), *kind) == param.owners.end())
      diags_.error(r.key_pos(param.key),
                   std::string("'") + param.key + "' is only allowed in " + param.owner_names +
                       " faults" +
                       (stress && param.key == std::string("percent") ? "; use 'load'" : ""));
  }
  if (kind && r.has("target")) {
    const FaultTarget& target = fault.target;
    const bool service_only =
        (target.service >= 0 && target.endpoint < 0) || !target.labels.empty();
    const bool has_target = target.service >= 0 || target.is_edge() || target.is_place() ||
                            target.is_split() || !target.selected.empty();
    const std::string kind_name = fault_kind_name(*kind);
    std::string problem;
    switch (*kind) {
      case K::kPacketLoss:
        if (!target.is_edge()) problem = "packet-loss needs an edge target {caller, callee}";
        break;
      case K::kCpuStress:
      case K::kPodKill:
      case K::kCrashLoop:
      case K::kMemoryLeak:
      case K::kMaintenance:
        if (!service_only) problem = kind_name + " needs a service target {service}";
        break;
      case K::kOutage:
        if (!target.is_place()) problem = "outage needs a place target {zone} or {region}";
        break;
      case K::kPartition:
        if (!target.is_split())
          problem = "partition needs a target {zones: [A, B, ...]} or {regions: [A, B, ...]}";
        break;
      case K::kLatency:
      case K::kError:
        if (target.is_place() || target.is_split())
          problem = kind_name + " needs a service, endpoint or edge target";
        break;
    }
    if (!problem.empty() && has_target) diags_.error(r.value_pos("target"), problem);
  }
  std::vector<SimTime> starts = {fault.start};
  if (auto schedule = r.value("schedule")) starts = read_schedule(*schedule, fault);
  if (starts.size() == 1) {
    scenario_.faults.push_back(std::move(fault));
    return;
  }
  for (std::size_t k = 0; k < starts.size(); ++k) {  // one fault per occurrence: name#1, ...
    FaultSpec occurrence = fault;
    occurrence.name = fault.name + "#" + std::to_string(k + 1);
    occurrence.start = starts[k];
    scenario_.faults.push_back(std::move(occurrence));
  }
}

std::vector<SimTime> Loader::read_schedule(const YAML::Node& node, const FaultSpec& fault) {
  MapReader r(node, "schedule", {"every", "cron", "until", "count"}, diags_);
  if (!r.is_map()) return {fault.start};
  const SimTime end = duration_.value_or(0);
  const SimTime until = std::min(end, r.duration("until", Range::above(0)).value_or(end));
  constexpr std::int64_t kMostOccurrences = 100000;
  const auto count = static_cast<std::size_t>(
      r.integer("count", Range::closed(1, kMostOccurrences)).value_or(kMostOccurrences));
  if (r.has("every") == r.has("cron")) {
    diags_.error(r.pos(), "a schedule has either 'every' or 'cron'");
    return {fault.start};
  }
  std::vector<SimTime> starts;
  if (auto every = r.duration("every", Range::above(0))) {
    for (SimTime t = fault.start; t < until && starts.size() < count; t += *every)
      starts.push_back(t);
    if (starts.size() == kMostOccurrences && fault.start + kMostOccurrences * *every < until)
      diags_.error(r.value_pos("every"), "the schedule repeats more than 100000 times");
  } else if (auto text = r.text("cron")) {
    std::string error;
    if (auto cron = CronExpression::parse(*text, error)) {
      starts = cron->times(fault.start, until, count);
      if (starts.empty())
        diags_.error(r.value_pos("cron"), "'" + *text + "' never matches between 'start' (" +
                                              format_duration(fault.start) + ") and " +
                                              format_duration(until));
    } else {
      diags_.error(r.value_pos("cron"), error);
    }
  }
  if (starts.empty()) starts.push_back(fault.start);
  return starts;
}

void Loader::read_pod_parameters(MapReader& r, FaultSpec& fault, std::optional<FaultKind> kind) {
  const bool pods = kind && acts_on_pods(*kind) && *kind != FaultKind::kOutage;
  if (auto mode = r.text("mode")) {
    static constexpr PodMode kModes[] = {PodMode::kOne, PodMode::kAll, PodMode::kFixed,
                                         PodMode::kFixedPercent, PodMode::kRandomMaxPercent};
    std::vector<std::string> names;
    bool known = false;
    for (PodMode m : kModes) {
      names.push_back(pod_mode_name(m));
      if (*mode == pod_mode_name(m)) {
        fault.mode = m;
        known = true;
      }
    }
    if (!known)
      diags_.error(r.value_pos("mode"),
                   "'mode' must be one, all, fixed, fixed-percent or random-max-percent, got '" +
                       *mode + "'" + did_you_mean(*mode, names));
  }
  const bool counted = fault.mode == PodMode::kFixed;
  const bool percent =
      fault.mode == PodMode::kFixedPercent || fault.mode == PodMode::kRandomMaxPercent;
  const Need need_value = pods && (counted || percent) ? Need::kRequired : Need::kOptional;
  fault.mode_value =
      r.number("value", percent ? Range::closed(0, 100) : Range::at_least(0), need_value)
          .value_or(0);
  if (r.has("value") && !counted && !percent)
    diags_.error(r.key_pos("value"),
                 "'value' is only used by the fixed, fixed-percent and "
                 "random-max-percent modes");
  const bool crash_loop = kind == FaultKind::kCrashLoop;
  fault.restart_time =
      r.duration("restartTime", Range::at_least(0)).value_or(crash_loop ? 0 : 10 * kSecond);
  fault.crash_after = r.duration("crashAfter", Range::at_least(0)).value_or(0);
  const Need need_rate = kind == FaultKind::kMemoryLeak ? Need::kRequired : Need::kOptional;
  fault.leak_per_second = r.number("rate", Range::above(0), need_rate).value_or(1.0) / 100.0 / 60.0;
}

void Loader::read_target(const YAML::Node& node, FaultSpec& fault) {
  MapReader r(
      node, "target",
      {"service", "endpoint", "caller", "callee", "zone", "region", "zones", "regions", "labels"},
      diags_);
  if (!r.is_map()) return;
  if (auto labels = r.value("labels")) {
    if (r.has("service") || r.has("caller") || r.has("zone") || r.has("region") || r.has("zones") ||
        r.has("regions")) {
      diags_.error(r.pos(), "a label selector target is {labels: {...}}, alone");
      return;
    }
    fault.target.labels = read_labels(*labels);
    for (std::size_t s = 0; s < scenario_.services.size(); ++s) {
      const auto& own = scenario_.services[s].labels;
      bool all = !fault.target.labels.empty();
      for (const auto& wanted : fault.target.labels)
        all = all && std::find(own.begin(), own.end(), wanted) != own.end();
      if (all) fault.target.selected.push_back(static_cast<int>(s));
    }
    if (fault.target.selected.empty() && !fault.target.labels.empty())
      diags_.error(r.value_pos("labels"), "no service has these labels");
    return;
  }
  std::vector<std::string> all_zones, all_regions;
  for (const RegionSpec& region : scenario_.regions) {
    all_regions.push_back(region.name);
    all_zones.insert(all_zones.end(), region.zones.begin(), region.zones.end());
  }
  if (r.has("zones") || r.has("regions")) {
    if (r.has("zones") + r.has("regions") + r.has("zone") + r.has("region") + r.has("service") +
            r.has("caller") >
        1) {
      diags_.error(r.pos(), "a partition target is {zones: [...]} or {regions: [...]}, alone");
      return;
    }
    const bool by_zone = r.has("zones");
    const char* key = by_zone ? "zones" : "regions";
    const std::vector<std::string>& known = by_zone ? all_zones : all_regions;
    std::vector<std::string>& sides = by_zone ? fault.target.zones : fault.target.regions;
    for (const YAML::Node& item : r.list(key)) {
      auto name = read_text(item, pos_of(item), by_zone ? "a zone name" : "a region name", diags_);
      if (!name) continue;
      if (std::find(known.begin(), known.end(), *name) == known.end())
        diags_.error(pos_of(item), std::string("unknown ") + (by_zone ? "zone '" : "region '") +
                                       *name + "'" + did_you_mean(*name, known));
      sides.push_back(*name);
    }
    if (sides.size() < 2)
      diags_.error(r.value_pos(key), std::string("'") + key + "' must name at least two sides");
    return;
  }
  if (r.has("zone") || r.has("region")) {
    if (r.has("zone") + r.has("region") + r.has("service") + r.has("caller") > 1) {
      diags_.error(r.pos(), "a place target is {zone: Z} or {region: R}, alone");
      return;
    }
    if (auto zone = r.text("zone")) {
      std::vector<std::string> zones;
      for (const RegionSpec& region : scenario_.regions)
        zones.insert(zones.end(), region.zones.begin(), region.zones.end());
      if (std::find(zones.begin(), zones.end(), *zone) == zones.end())
        diags_.error(r.value_pos("zone"),
                     "unknown zone '" + *zone + "'" + did_you_mean(*zone, zones));
      fault.target.zone = *zone;
    }
    if (auto region = r.text("region")) {
      std::vector<std::string> regions;
      for (const RegionSpec& candidate : scenario_.regions) regions.push_back(candidate.name);
      if (std::find(regions.begin(), regions.end(), *region) == regions.end())
        diags_.error(r.value_pos("region"),
                     "unknown region '" + *region + "'" + did_you_mean(*region, regions));
      fault.target.region = *region;
    }
    return;
  }
  const bool edge = r.has("caller") || r.has("callee");
  if (edge && (r.has("service") || r.has("endpoint"))) {
    diags_.error(r.pos(), "a target is either {service[, endpoint]} or {caller, callee}, not both");
    return;
  }
  if (edge) {
    auto caller = r.text("caller", Need::kRequired);
    auto callee = r.text("callee", Need::kRequired);
    const int from = caller ? service_ref(*caller, r.value_pos("caller")) : -1;
    const int to = callee ? service_ref(*callee, r.value_pos("callee")) : -1;
    if (from < 0 || to < 0) return;
    fault.target.dependency = dependency_index(from, to);
    if (fault.target.dependency < 0) {
      std::vector<std::string> edges;
      for (const DependencySpec& d : scenario_.dependencies)
        if (d.caller >= 0 && d.callee >= 0)
          edges.push_back(scenario_.services[d.caller].name + " -> " +
                          scenario_.services[d.callee].name);
      const std::string name = *caller + " -> " + *callee;
      diags_.error(r.pos(), "no dependency '" + name + "' is declared" + did_you_mean(name, edges));
    }
    return;
  }
  auto service_name = r.text("service", Need::kRequired);
  if (!service_name) return;
  fault.target.service = service_ref(*service_name, r.value_pos("service"));
  auto endpoint = r.text("endpoint");
  if (!endpoint || fault.target.service < 0) return;
  const ServiceSpec& service = scenario_.services[fault.target.service];
  for (std::size_t e = 0; e < service.endpoints.size(); ++e)
    if (service.endpoints[e].name == *endpoint) fault.target.endpoint = static_cast<int>(e);
  if (fault.target.endpoint < 0)
    diags_.error(r.value_pos("endpoint"), "unknown endpoint '" + *endpoint + "' of service '" +
                                              service.name + "'" +
                                              did_you_mean(*endpoint, names_of(service.endpoints)));
}

void Loader::read_change(const YAML::Node& node, int index) {
  MapReader r(node, "change", {"name",      "kind",       "at",       "service",        "services",
                               "version",   "strategy",   "maxSurge", "maxUnavailable", "startTime",
                               "steps",     "switchBack", "rollback", "revert",         "secret",
                               "consumers", "reloaded",   "deadline", "fixedAt",        "flag",
                               "segment",   "defect"},
              diags_);
  if (!r.is_map()) return;
  ChangeSpec change;
  change.pos = r.pos();
  change.name = r.has("name") ? read_name(r, Need::kOptional) : "change-" + std::to_string(index);
  for (const ChangeSpec& other : scenario_.changes)
    if (other.name == change.name && !change.name.empty())
      diags_.error(r.has("name") ? r.value_pos("name") : change.pos,
                   "duplicate change name '" + change.name + "'");
  std::optional<ChangeKind> kind;
  if (auto text = r.text("kind", Need::kRequired)) {
    std::vector<std::string> names;
    for (ChangeKind k : {ChangeKind::kDeployment, ChangeKind::kConfig, ChangeKind::kSecretRotation,
                         ChangeKind::kFeatureFlag}) {
      names.push_back(change_kind_name(k));
      if (*text == change_kind_name(k)) kind = k;
    }
    if (!kind)
      diags_.error(r.value_pos("kind"),
                   "'kind' must be deployment, config, secret-rotation or feature-flag, got '" +
                       *text + "'" + did_you_mean(*text, names));
  }
  change.kind = kind.value_or(ChangeKind::kDeployment);
  const bool flag = kind == ChangeKind::kFeatureFlag;
  auto at = r.duration("at", Range::at_least(0), flag ? Need::kOptional : Need::kRequired);
  change.at = at.value_or(0);
  if (at && duration_ && *at >= *duration_)
    diags_.error(r.value_pos("at"), "'at' (" + format_duration(*at) +
                                        ") must be before the end of the scenario (" +
                                        format_duration(*duration_) + ")");
  // Keys each kind accepts, beyond name, kind, at and defect.
  std::vector<std::string> allowed;
  switch (change.kind) {
    case ChangeKind::kDeployment: {
      allowed = {"service",   "version", "strategy",   "maxSurge", "maxUnavailable",
                 "startTime", "steps",   "switchBack", "rollback"};
      if (auto service = r.text("service", Need::kRequired))
        change.services.push_back(service_ref(*service, r.value_pos("service")));
      change.version = r.text("version", Need::kRequired).value_or("");
      read_rollout(r, change);
      change.rollback = r.duration("rollback", Range::above(0));
      if (change.rollback && at && *change.rollback <= *at)
        diags_.error(r.value_pos("rollback"), "'rollback' must come after 'at'");
      break;
    }
    case ChangeKind::kConfig:
      allowed = {"services", "version", "revert"};
      change.services = read_services(r, "services", Need::kRequired);
      change.version = r.text("version", Need::kRequired).value_or("");
      change.revert = r.duration("revert", Range::above(0));
      if (change.revert && at && *change.revert <= *at)
        diags_.error(r.value_pos("revert"), "'revert' must come after 'at'");
      break;
    case ChangeKind::kSecretRotation:
      allowed = {"secret", "consumers", "reloaded", "deadline", "fixedAt"};
      change.subject = r.text("secret", Need::kRequired).value_or("");
      change.services = read_services(r, "consumers", Need::kRequired);
      change.reloaded = read_services(r, "reloaded", Need::kOptional);
      for (int service : change.reloaded)
        if (service >= 0 && std::find(change.services.begin(), change.services.end(), service) ==
                                change.services.end())
          diags_.error(r.value_pos("reloaded"),
                       "'" + scenario_.services[service].name + "' is reloaded but not a consumer");
      change.deadline = r.duration("deadline", Range::at_least(0)).value_or(10 * kMinute);
      change.fixed_at = r.duration("fixedAt", Range::above(0));
      // A consumer that does not reload breaks when the old secret is revoked.
      change.defect.error = 1.0;
      break;
    case ChangeKind::kFeatureFlag: {
      allowed = {"flag", "services", "segment", "steps"};
      change.subject = r.text("flag", Need::kRequired).value_or("");
      change.services = read_services(r, "services", Need::kRequired);
      change.segment = r.number("segment", Range::closed(0, 100)).value_or(100) / 100.0;
      for (const YAML::Node& step_node : r.list("steps", Need::kRequired)) {
        MapReader step(step_node, "flag step", {"at", "percent"}, diags_);
        if (!step.is_map()) continue;
        FlagStep flag_step;
        flag_step.at = step.duration("at", Range::at_least(0), Need::kRequired).value_or(0);
        flag_step.fraction =
            step.number("percent", Range::closed(0, 100), Need::kRequired).value_or(0) / 100.0;
        if (!change.flag_steps.empty() && flag_step.at <= change.flag_steps.back().at)
          diags_.error(step.value_pos("at"), "flag steps must be in increasing time order");
        change.flag_steps.push_back(flag_step);
      }
      if (!change.flag_steps.empty()) change.at = change.flag_steps.front().at;
      break;
    }
  }
  allowed.insert(allowed.end(), {"name", "kind", "at", "defect"});
  for (const char* key :
       {"service", "services", "version", "strategy", "maxSurge", "maxUnavailable", "startTime",
        "steps", "switchBack", "rollback", "revert", "secret", "consumers", "reloaded", "deadline",
        "fixedAt", "flag", "segment"})
    if (r.has(key) && std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      diags_.error(r.key_pos(key), std::string("'") + key + "' is not used by " +
                                       change_kind_name(change.kind) + " changes");
  if (flag && r.has("at"))
    diags_.error(r.key_pos("at"), "a feature-flag's times are its steps' 'at'");
  if (auto defect = r.value("defect")) {
    if (change.kind == ChangeKind::kSecretRotation)
      diags_.error(r.key_pos("defect"),
                   "a secret rotation's defect is implied: consumers that do not reload fail");
    else
      read_defect(*defect, change);
  }
  scenario_.changes.push_back(std::move(change));
}

void Loader::read_rollout(MapReader& r, ChangeSpec& change) {
  if (auto strategy = r.text("strategy")) {
    const std::vector<std::string> names = {"rolling", "canary", "blue-green"};
    if (*strategy == "rolling")
      change.strategy = RolloutStrategy::kRolling;
    else if (*strategy == "canary")
      change.strategy = RolloutStrategy::kCanary;
    else if (*strategy == "blue-green")
      change.strategy = RolloutStrategy::kBlueGreen;
    else
      diags_.error(r.value_pos("strategy"),
                   "'strategy' must be rolling, canary or blue-green, "
                   "got '" +
                       *strategy + "'" + did_you_mean(*strategy, names));
  }
  const bool rolling = change.strategy == RolloutStrategy::kRolling;
  const bool canary = change.strategy == RolloutStrategy::kCanary;
  const bool blue_green = change.strategy == RolloutStrategy::kBlueGreen;
  change.max_surge = static_cast<int>(r.integer("maxSurge", Range::at_least(0)).value_or(1));
  change.max_unavailable =
      static_cast<int>(r.integer("maxUnavailable", Range::at_least(0)).value_or(0));
  if (rolling && change.max_surge + change.max_unavailable == 0)
    diags_.error(r.pos(), "'maxSurge' and 'maxUnavailable' cannot both be 0");
  change.start_time = r.duration("startTime", Range::at_least(0)).value_or(30 * kSecond);
  for (const YAML::Node& step_node : r.list("steps", canary ? Need::kRequired : Need::kOptional)) {
    MapReader step(step_node, "canary step", {"weight", "pause"}, diags_);
    if (!step.is_map()) continue;
    CanaryStep canary_step;
    canary_step.weight =
        step.number("weight", Range::closed(0, 100), Need::kRequired).value_or(0) / 100.0;
    canary_step.pause = step.duration("pause", Range::at_least(0)).value_or(0);
    change.canary.push_back(canary_step);
  }
  change.switch_back = r.duration("switchBack", Range::above(0));
  const struct {
    const char* key;
    bool used;
    const char* by;
  } owned[] = {{"maxSurge", rolling, "rolling"},
               {"maxUnavailable", rolling, "rolling"},
               {"startTime", rolling, "rolling"},
               {"steps", canary, "canary"},
               {"switchBack", blue_green, "blue-green"}};
  for (const auto& key : owned)
    if (r.has(key.key) && !key.used)
      diags_.error(r.key_pos(key.key),
                   std::string("'") + key.key + "' is only used by " + key.by + " deployments");
}

void Loader::read_defect(const YAML::Node& node, ChangeSpec& change) {
  MapReader r(node, "defect",
              {"latency", "errorPercent", "crashOnStart", "badImage", "incompatibleWith",
               "memoryLeakPercentPerMinute"},
              diags_);
  if (!r.is_map()) return;
  change.defect.latency = r.duration("latency", Range::at_least(0)).value_or(0);
  change.defect.error = r.number("errorPercent", Range::closed(0, 100)).value_or(0) / 100.0;
  auto flag_value = [&](const char* key) {
    auto text = r.text(key);
    if (!text) return false;
    if (*text != "true" && *text != "false")
      diags_.error(r.value_pos(key), std::string("'") + key + "' must be true or false");
    return *text == "true";
  };
  if (auto incompatible = r.value("incompatibleWith")) {
    MapReader with(*incompatible, "incompatibleWith", {"service", "version"}, diags_);
    if (with.is_map()) {
      if (auto service = with.text("service", Need::kRequired))
        change.defect.incompatible_service = service_ref(*service, with.value_pos("service"));
      change.defect.incompatible_version = with.text("version", Need::kRequired).value_or("");
    }
  }
  change.defect.leak_per_second =
      r.number("memoryLeakPercentPerMinute", Range::above(0)).value_or(0) / 100.0 / 60.0;
  change.defect.crash_on_start = flag_value("crashOnStart");
  change.defect.bad_image = flag_value("badImage");
  if (change.kind != ChangeKind::kDeployment)
    for (const char* key : {"crashOnStart", "badImage", "memoryLeakPercentPerMinute"})
      if (r.has(key))
        diags_.error(r.key_pos(key), std::string("'") + key + "' is a deployment defect");
}

std::vector<std::pair<std::string, std::string>> Loader::read_labels(const YAML::Node& node) {
  std::vector<std::pair<std::string, std::string>> labels;
  if (!node.IsMap()) {
    diags_.error(pos_of(node), "expected a mapping of labels (key: value), got " + describe(node));
    return labels;
  }
  for (const auto& entry : node) {
    auto key = read_text(entry.first, pos_of(entry.first), "a label name", diags_);
    auto value = read_text(entry.second, pos_of(entry.second), "a label value", diags_);
    if (key && value) labels.emplace_back(*key, *value);
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

std::vector<int> Loader::read_services(MapReader& r, const char* key, Need need) {
  std::vector<int> services;
  for (const YAML::Node& item : r.list(key, need)) {
    auto name = read_text(item, pos_of(item), "a service name", diags_);
    if (!name) continue;
    const int service = service_ref(*name, pos_of(item));
    if (service >= 0) services.push_back(service);
  }
  if (r.has(key) && services.empty() && need == Need::kRequired)
    diags_.error(r.value_pos(key), std::string("'") + key + "' must name at least one service");
  return services;
}

std::string Loader::read_name(MapReader& r, Need need) {
  auto name = r.text("name", need);
  if (name && name->empty()) diags_.error(r.value_pos("name"), "'name' must not be empty");
  return name.value_or("");
}

int Loader::service_ref(const std::string& name, SourcePos pos) {
  const int index = scenario_.service_index(name);
  if (index < 0)
    diags_.error(
        pos, "unknown service '" + name + "'" + did_you_mean(name, names_of(scenario_.services)));
  return index;
}

int Loader::dependency_index(int caller, int callee) const {
  for (std::size_t d = 0; d < scenario_.dependencies.size(); ++d) {
    const DependencySpec& dependency = scenario_.dependencies[d];
    if (dependency.caller == caller && dependency.callee == callee) return static_cast<int>(d);
  }
  return -1;
}

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& file) {
  if (std::string reason = binary_reason(text); !reason.empty()) throw InputError(file, reason);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    const bool has_mark = !e.mark.is_null() && e.mark.line >= 0;
    throw InputError({Diagnostic{file, has_mark ? e.mark.line + 1 : 0,
                                 has_mark ? e.mark.column + 1 : 0, "YAML syntax error: " + e.msg}});
  }
  if (!root.IsDefined() || root.IsNull()) {
    const bool blank = text.find_first_not_of(" \t\r\n") == std::string::npos;
    throw InputError(file, blank ? "file is empty" : "file is empty (it holds no YAML content)");
  }
  try {
    return Loader(text, file).load(root);
  } catch (const YAML::Exception& e) {  // a yaml-cpp surprise must still not escape as a crash
    throw InputError(file, std::string("cannot read the YAML: ") + e.what());
  }
}

Scenario load_scenario_file(const std::string& path) {
  auto fail = [&](int error) {
    return InputError(path, "cannot read file: " + std::generic_category().message(error));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) throw fail(errno);
  std::string text;
  char buffer[1 << 16];
  while (std::size_t count = std::fread(buffer, 1, sizeof buffer, file.get()))
    text.append(buffer, count);
  if (std::ferror(file.get())) throw fail(errno);
  return parse_scenario(text, path);
}

}  // namespace dosim
