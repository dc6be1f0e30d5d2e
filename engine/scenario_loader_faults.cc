// The `faults:` section: kinds, targets, parameters per mechanism, schedules.
#include <algorithm>

#include "scenario_loader_internal.h"
#include "schedule.h"

namespace dosim::loader {

void Loader::read_fault(const YAML::Node& node, int index) {
  MapReader r(node, "fault",
              {"name", "kind", "target", "start", "duration", "percent", "fixedDelay", "jitter",
               "httpStatus", "load", "mode", "value", "restartTime", "crashAfter", "rate", "size",
               "ramp", "schedule"},
              diags_);
  if (!r.is_map()) return;
  FaultSpec fault;
  fault.pos = r.pos();
  if (r.has("name")) {
    fault.name = read_name(r, Need::kOptional);
  } else {  // fault-<index>, or the first such name after it not taken (by a name given)
    int k = index;
    while (faults_.find("fault-" + std::to_string(k)) >= 0) ++k;
    fault.name = "fault-" + std::to_string(k);
  }
  const SourcePos name_pos = r.has("name") ? r.value_pos("name") : fault.pos;
  if (!fault.name.empty() && faults_.claim(fault.name, index, name_pos) >= 0)
    diags_.error(name_pos, duplicate_name("fault", fault.name, faults_.where(fault.name)));
  std::optional<FaultKind> kind;
  static constexpr FaultKind kKinds[] = {
      FaultKind::kLatency,     FaultKind::kError,       FaultKind::kCpuStress,
      FaultKind::kPacketLoss,  FaultKind::kPodKill,     FaultKind::kCrashLoop,
      FaultKind::kMemoryLeak,  FaultKind::kOutage,      FaultKind::kPartition,
      FaultKind::kMaintenance, FaultKind::kMemoryStress};
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
  auto duration = r.duration("duration", Range::above(0), Need::kRequired);
  fault.duration = duration.value_or(0);
  fault.fraction = r.percent("percent", Range::closed(0, 100)).value_or(100) / 100.0;

  const bool latency = kind == FaultKind::kLatency;
  const bool stress = kind == FaultKind::kCpuStress;
  fault.fixed_delay =
      r.duration("fixedDelay", Range::above(0), latency ? Need::kRequired : Need::kOptional)
          .value_or(0);
  fault.jitter = r.duration("jitter", Range::at_least(0)).value_or(0);
  fault.http_status =
      static_cast<int>(r.integer("httpStatus", Range::closed(400, 599)).value_or(503));
  fault.cpu_load =
      r.percent("load", Range::closed(0, 100), stress ? Need::kRequired : Need::kOptional)
          .value_or(0) /
      100.0;
  const bool memory_stress = kind == FaultKind::kMemoryStress;
  fault.memory_load =
      r.percent("size", Range::closed(0, 100), memory_stress ? Need::kRequired : Need::kOptional)
          .value_or(0) /
      100.0;
  fault.memory_ramp = r.duration("ramp", Range::at_least(0)).value_or(0);
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
       {K::kPodKill, K::kCrashLoop, K::kMemoryLeak, K::kMemoryStress, K::kMaintenance, K::kLatency,
        K::kError},
       "pod-kill, crash-loop, memory-leak, memory-stress, maintenance, latency and error"},
      {"value",
       {K::kPodKill, K::kCrashLoop, K::kMemoryLeak, K::kMemoryStress, K::kMaintenance, K::kLatency,
        K::kError},
       "pod-kill, crash-loop, memory-leak, memory-stress, maintenance, latency and error"},
      {"restartTime",
       {K::kPodKill, K::kCrashLoop, K::kMemoryLeak},
       "pod-kill, crash-loop and memory-leak"},
      {"crashAfter", {K::kCrashLoop}, "crash-loop"},
      {"rate", {K::kMemoryLeak}, "memory-leak"},
      {"size", {K::kMemoryStress}, "memory-stress"},
      {"ramp", {K::kMemoryStress}, "memory-stress"}};
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
      case K::kMemoryStress:
      case K::kMaintenance:
        if (!service_only)
          problem = target.service >= 0 && target.endpoint >= 0
                        ? kind_name + " acts on a whole service's replicas: its target is " +
                              "{service}, without 'endpoint'"
                        : kind_name + " needs a service target {service}";
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
        else if (r.has("mode") && target.is_edge())
          problem = "'mode' picks replicas of a service: " +
                    std::string(*kind == K::kError ? "an " : "a ") + kind_name +
                    " fault on an edge acts on every replica";
        break;
    }
    if (!problem.empty() && has_target) diags_.error(r.value_pos("target"), problem);
  }
  // A schedule's last occurrence may run past the end as it will; a single fault should not.
  if (start && duration && duration_ && *start < *duration_ && !r.has("schedule") &&
      *duration > *duration_ - *start)
    diags_.warning(r.value_pos("duration"), "fault '" + fault.name + "' ends at " +
                                                format_duration(time_after(*start, *duration)) +
                                                clipped() + " (its ground truth keeps this end)");
  // A fault acts from the first tick that starts at or after its start, while it lasts: one
  // that ends before that tick (between two ticks), or starts after the last tick began,
  // never acts and its ground truth is silent.
  if (start && duration && duration_ && *start < *duration_ && !r.has("schedule") &&
      scenario_.tick > 0) {
    const SimTime tick = scenario_.tick;
    const SimTime first = (*start / tick + (*start % tick != 0 ? 1 : 0)) * tick;
    const SimTime end = time_after(*start, *duration);
    if (first >= *duration_)
      diags_.warning(r.value_pos("start"), "fault '" + fault.name + "' starts at " +
                                               format_duration(*start) +
                                               ", after the run's last tick began (" +
                                               format_duration((*duration_ - 1) / tick * tick) +
                                               ", ticks of " + format_duration(tick) +
                                               "): it never acts, and its ground truth is silent");
    else if (first >= end)
      diags_.warning(r.value_pos("duration"),
                     "fault '" + fault.name + "' lasts from " + format_duration(*start) + " to " +
                         format_duration(end) + ", between two ticks (" + format_duration(first) +
                         " is the next; ticks of " + format_duration(tick) +
                         "): it never acts, and its ground truth is silent; start it on a tick "
                         "or make it last a tick");
  }
  std::vector<SimTime> starts = {fault.start};
  if (auto schedule = r.value("schedule")) starts = read_schedule(*schedule, fault);
  if (scenario_.faults.size() + starts.size() > kMaxFaults) {
    if (!too_many_faults_)
      diags_.error(fault.pos, "more than " + std::to_string(kMaxFaults) +
                                  " faults in the scenario, counting each occurrence of a "
                                  "repeating one: " +
                                  std::to_string(scenario_.faults.size()) +
                                  " before this one, which adds " + std::to_string(starts.size()));
    too_many_faults_ = true;
    return;
  }
  if (starts.size() == 1) {  // its own name, at its one occurrence (a cron's may be later)
    fault.start = starts.front();
    scenario_.faults.push_back(std::move(fault));
    return;
  }
  for (std::size_t k = 0; k < starts.size(); ++k) {  // one fault per occurrence: name#1, ...
    FaultSpec occurrence = fault;
    occurrence.name = fault.name + "#" + std::to_string(k + 1);
    occurrence.start = starts[k];
    if (faults_.claim(occurrence.name, index, fault.pos) >= 0) {
      const SourcePos first = faults_.where(occurrence.name);
      diags_.error(fault.pos,
                   "the occurrence '" + occurrence.name +
                       "' of this repeating fault has the name of another fault" +
                       (first.line > 0 ? " (at line " + std::to_string(first.line) + ")" : ""));
    }
    scenario_.faults.push_back(std::move(occurrence));
  }
}

std::vector<SimTime> Loader::read_schedule(const YAML::Node& node, const FaultSpec& fault) {
  MapReader r(node, "schedule", {"every", "cron", "until", "count"}, diags_);
  if (!r.is_map()) return {fault.start};
  const SimTime end = duration_.value_or(0);
  const SimTime until = std::min(end, r.duration("until", Range::above(0)).value_or(end));
  constexpr std::int64_t kMostOccurrences = 100000;
  const std::optional<std::int64_t> counted =
      r.integer("count", Range::closed(1, kMostOccurrences));
  const auto count = static_cast<std::size_t>(counted.value_or(kMostOccurrences));
  if (r.has("every") == r.has("cron")) {
    diags_.error(r.pos(), "a schedule has exactly one of 'every' and 'cron'");
    return {fault.start};
  }
  std::vector<SimTime> starts;
  if (auto every = r.duration("every", Range::above(0))) {
    for (SimTime t = fault.start; t < until && starts.size() < count; t += *every)
      starts.push_back(t);
    if (starts.empty() && until < end)  // until at the end: the start is said
      diags_.error(r.value_pos("until"),
                   "'until' (" + format_duration(until) + ") is not after 'start' (" +
                       format_duration(fault.start) + "): the schedule never starts the fault");
    if (!counted && starts.size() == kMostOccurrences &&
        time_sum(fault.start, time_product(kMostOccurrences, *every)) < until)
      diags_.error(r.value_pos("every"), "the schedule repeats more than 100000 times");
    if (starts.size() > 1 && *every < fault.duration)
      diags_.warning(r.value_pos("every"),
                     "'every' (" + format_duration(*every) + ") is shorter than 'duration' (" +
                         format_duration(fault.duration) +
                         "): each occurrence starts before the one before ends, and they share "
                         "their impact (docs/ground-truth.md, Overlapping causes)");
  } else if (auto text = r.text("cron")) {
    std::string error;
    if (auto cron = CronExpression::parse(*text, error)) {
      // Without a count, one more than the most tells a schedule that would go on.
      starts = cron->times(fault.start, until, counted ? count : count + 1);
      if (starts.size() > count) {
        starts.resize(count);
        diags_.error(r.value_pos("cron"), "the schedule repeats more than 100000 times");
      }
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
  const bool pods = kind && ((acts_on_pods(*kind) && *kind != FaultKind::kOutage) ||
                             *kind == FaultKind::kLatency || *kind == FaultKind::kError);
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
  fault.mode_value = (percent ? r.percent("value", Range::closed(0, 100), need_value)
                              : r.number("value", Range::at_least(0), need_value))
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
    if (r.has("service") || r.has("endpoint") || r.has("caller") || r.has("callee") ||
        r.has("zone") || r.has("region") || r.has("zones") || r.has("regions")) {
      diags_.error(r.pos(), "a label selector target is {labels: {...}}, alone");
      return;
    }
    if (labels->IsMap() && labels->size() == 0) {
      diags_.error(r.value_pos("labels"), "a label selector names at least one label");
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
  if (r.has("zones") || r.has("regions")) {
    if (r.has("zones") + r.has("regions") + r.has("zone") + r.has("region") + r.has("service") +
            r.has("caller") >
        1) {
      diags_.error(r.pos(), "a partition target is {zones: [...]} or {regions: [...]}, alone");
      return;
    }
    const bool by_zone = r.has("zones");
    const char* key = by_zone ? "zones" : "regions";
    const NameIndex& known = by_zone ? zones_ : regions_;
    std::vector<std::string>& sides = by_zone ? fault.target.zones : fault.target.regions;
    bool twice = false;
    for (const YAML::Node& item : r.list(key)) {
      auto name = read_text(item, pos_of(item), by_zone ? "a zone name" : "a region name", diags_);
      if (!name) continue;
      if (known.find(*name) < 0)
        diags_.error(pos_of(item), std::string("unknown ") + (by_zone ? "zone '" : "region '") +
                                       *name + "'" + suggest(*name, [&] {
                                         return by_zone ? all_zones() : names_of(scenario_.regions);
                                       }));
      if (std::find(sides.begin(), sides.end(), *name) != sides.end()) {
        diags_.error(pos_of(item), "'" + *name + "' is a side twice");
        twice = true;
        continue;
      }
      sides.push_back(*name);
    }
    if (sides.size() < 2 && !twice)
      diags_.error(r.value_pos(key), std::string("'") + key + "' must name at least two sides");
    return;
  }
  if (r.has("zone") || r.has("region")) {
    if (r.has("zone") + r.has("region") + r.has("service") + r.has("caller") > 1) {
      diags_.error(r.pos(), "a place target is {zone: Z} or {region: R}, alone");
      return;
    }
    if (auto zone = r.text("zone")) {
      if (zones_.find(*zone) < 0)
        diags_.error(r.value_pos("zone"),
                     "unknown zone '" + *zone + "'" + suggest(*zone, [&] { return all_zones(); }));
      fault.target.zone = *zone;
    }
    if (auto region = r.text("region")) {
      if (regions_.find(*region) < 0)
        diags_.error(r.value_pos("region"),
                     "unknown region '" + *region + "'" +
                         suggest(*region, [&] { return names_of(scenario_.regions); }));
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
      const std::string name = *caller + " -> " + *callee;
      diags_.error(r.pos(), "no dependency '" + name + "' is declared" + suggest(name, [&] {
                              std::vector<std::string> edges;
                              // Not a self-call: that is an error of its own.
                              for (const DependencySpec& d : scenario_.dependencies)
                                if (d.caller >= 0 && d.callee >= 0 && d.caller != d.callee)
                                  edges.push_back(scenario_.services[d.caller].name + " -> " +
                                                  scenario_.services[d.callee].name);
                              return edges;
                            }));
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

}  // namespace dosim::loader
