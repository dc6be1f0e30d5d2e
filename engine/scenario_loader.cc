#include "dosim/engine/scenario_loader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include "byte_size.h"
#include "scenario_loader_internal.h"
#include "topology.h"
#include "util/input_file.h"

namespace dosim {
namespace {

// `measurement_noise: false` in a run at the request level; `why` says how it got there.
std::string measurement_noise_warning(const std::string& why) {
  return "'measurement_noise: false' is the fluid model's: the request level" + why +
         " measures its own requests (their noise is theirs), so it changes nothing here";
}

// What the fluid model leaves aside of its services' request-level shapes.
std::vector<Diagnostic> fluid_shape_warnings(const Scenario& scenario) {
  std::vector<Diagnostic> said;
  for (const ServiceSpec& service : scenario.services) {
    if (service.parallel_calls)
      said.push_back({scenario.file, service.calls_pos.line, service.calls_pos.column,
                      kParallelCallsInFluid, true});
    if (service.service_time != ServiceTimeKind::kExponential)
      said.push_back({scenario.file, service.service_time_pos.line, service.service_time_pos.column,
                      kServiceTimeInFluid, true});
  }
  return said;
}

}  // namespace

namespace loader {
namespace {

// A `rca: rankers:` entry written as a mapping: a ranker of the scenario's own, in Lua or
// Python (docs/rca.md). Its file is read when the run is planned (run/rankers.h), not here.
std::optional<RcaRankerSpec> read_rca_ranker(const YAML::Node& node,
                                             const std::string& scenario_file, Diagnostics& diags) {
  MapReader r(node, "ranker", {"name", "lua", "python", "function"}, diags);
  if (!r.is_map()) return std::nullopt;
  RcaRankerSpec spec;
  spec.pos = r.value_pos("name");  // the entry's own without a name
  spec.name = r.text("name", Need::kRequired).value_or("");
  if (r.has("name") && spec.name.empty())
    diags.error(r.value_pos("name"), "'name' must not be empty");
  if (has_control_character(spec.name))
    diags.error(r.value_pos("name"),
                "'name' must not hold control characters (a line break, a tab)");
  if (r.has("lua") == r.has("python"))
    diags.error(r.pos(), r.has("lua") ? "a ranker is written in Lua or in Python: give 'lua' or "
                                        "'python', not both"
                                      : "a ranker of your own needs 'lua: FILE.lua' or 'python: "
                                        "FILE.py' (docs/rca.md)");
  spec.python = r.has("python") && !r.has("lua");
  const char* key = spec.python ? "python" : "lua";
  if (auto file = r.text(key)) {
    spec.file_pos = r.value_pos(key);
    if (file->empty()) diags.error(spec.file_pos, "'" + std::string(key) + "' must name a file");
    spec.written = *file;
    // No file to read where it is ambiguous (both given) or empty: that is said above.
    if (!file->empty() && !(r.has("lua") && r.has("python")))
      spec.file = beside_scenario(scenario_file, *file);
  }
  if (auto function = r.text("function")) {
    if (function->empty())
      diags.error(r.value_pos("function"), "'function' must name a function of the file");
    else
      spec.function = *function;
  }
  return spec;
}

}  // namespace

void normalise(std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  if (total > 0)
    for (double& w : weights) w /= total;
}

std::string beside_scenario(const std::string& scenario_file, const std::string& written) {
  const std::filesystem::path path(written);
  return path.is_absolute() || scenario_file.empty()
             ? path.string()
             : (std::filesystem::path(scenario_file).parent_path() / path).string();
}

Scenario Loader::load(const YAML::Node& root) {
  std::vector<Diagnostic> errors;
  Scenario scenario = draft(root, errors);
  if (!errors.empty()) throw InputError(std::move(errors));
  return scenario;
}

Scenario Loader::draft(const YAML::Node& root, std::vector<Diagnostic>& errors) {
  if (!root.IsMap()) {
    diags_.error(pos_of(root),
                 "the top level must be a mapping of scenario keys (name, duration, services, "
                 "...), got " +
                     describe(root));
    diags_.throw_if_any();
  }
  MapReader top(root, "scenario",
                {"name",   "description", "duration",  "tick",           "record",
                 "seed",   "regions",     "services",  "dependencies",   "traffic",
                 "faults", "changes",     "detectors", "incident_rules", "alertmanager",
                 "script", "replay",      "mode",      "tracing",        "measurement_noise",
                 "rca",    "remediation", "manifests", "manifest_names"},
                diags_);
  scenario_.name = read_name(top, Need::kRequired);
  scenario_.description = top.text("description").value_or("");
  scenario_.script = top.text("script").value_or("");
  scenario_.script_pos = top.value_pos("script");
  if (top.has("script") && scenario_.script.empty() && root["script"].IsScalar())
    diags_.error(top.value_pos("script"), "'script' must name a Lua file");  // "" (not text: said)
  // With replayed series the timing's defaults come from their files, read further down.
  const bool replay_given = top.has("replay");
  if (!replay_given) read_timing(top);
  scenario_.seed =
      static_cast<std::uint64_t>(top.integer("seed", Range::closed(0, 1e18)).value_or(1));
  if (auto mode = top.text("mode")) {
    if (*mode == "requests")
      scenario_.mode = WorldMode::kRequests;
    else if (*mode != "fluid")
      diags_.error(top.value_pos("mode"), "'mode' must be fluid or requests, got '" + *mode + "'" +
                                              did_you_mean(*mode, {"fluid", "requests"}));
  }

  scenario_.measurement_noise =
      top.boolean("measurement_noise").value_or(scenario_.measurement_noise);
  scenario_.measurement_noise_pos = top.value_pos("measurement_noise");
  if (scenario_.mode == WorldMode::kRequests && !scenario_.measurement_noise)
    diags_.warning(scenario_.measurement_noise_pos, measurement_noise_warning(""));
  if (auto tracing = top.value("tracing")) {
    MapReader t(*tracing, "tracing",
                {"sample_percent", "keep_errors", "keep_slower_than", "logs_percent"}, diags_);
    TracingSpec& spec = scenario_.tracing;
    // Sampling percents below 1 are common (0.1 % of traces): no "did you mean" warning.
    spec.sample = t.number("sample_percent", Range::closed(0, 100)).value_or(0) / 100.0;
    spec.logs = t.number("logs_percent", Range::closed(0, 100)).value_or(0) / 100.0;
    spec.keep_slower_than = t.duration("keep_slower_than", Range::above(0));
    spec.keep_errors = t.boolean("keep_errors").value_or(spec.keep_errors);
  }
  if (auto rca = top.value("rca")) {
    MapReader r(*rca, "rca", {"rankers", "delays", "lookback"}, diags_);
    RcaSpec& spec = scenario_.rca;
    if (r.has("rankers")) {
      spec.rankers.clear();
      for (const YAML::Node& ranker : r.list("rankers")) {
        if (ranker.IsMap()) {  // {name, lua | python, function}: the scenario's own
          if (auto custom = read_rca_ranker(ranker, scenario_.file, diags_)) {
            spec.rankers.push_back(custom->name);
            spec.ranker_pos.push_back(custom->pos);
            spec.custom.push_back(std::move(*custom));
          }
          continue;
        }
        if (auto name = read_text(ranker, pos_of(ranker), "a ranker", diags_)) {
          spec.rankers.push_back(*name);
          spec.ranker_pos.push_back(pos_of(ranker));
        }
      }
    }
    std::vector<std::pair<SourcePos, SimTime>> late;  // delays not shorter than the run
    if (r.has("delays")) {
      spec.delays.clear();
      for (const YAML::Node& delay : r.list("delays")) {
        auto d = read_duration(delay, pos_of(delay), "a delay", Range::at_least(0), diags_);
        if (!d) continue;
        // Twice would rank every incident twice at that delay.
        if (std::find(spec.delays.begin(), spec.delays.end(), *d) != spec.delays.end())
          diags_.error(pos_of(delay), "the delay " + format_duration(*d) + " is listed twice");
        else if (duration_ && *d >= *duration_)
          late.emplace_back(pos_of(delay), *d);
        spec.delays.push_back(*d);
      }
    }
    spec.lookback = r.duration("lookback", Range::above(0)).value_or(spec.lookback);
    for (const auto& [pos, d] : late)
      diags_.warning(pos, "the delay " + format_duration(d) + " is not shorter than the run (" +
                              format_duration(*duration_) +
                              "): its rankings come after the end, and see only the alerts of "
                              "their lookback (" +
                              format_duration(spec.lookback) + ") before them: few or none");
  }
  for (const YAML::Node& region : top.list("regions")) read_region(region);
  const std::vector<YAML::Node> services = top.list("services", Need::kRequired);
  if (services.empty() && top.has("services") &&
      (top.value("services")->IsSequence() || top.value("services")->IsNull()))
    diags_.error(top.value_pos("services"), "'services' must list at least one service");
  for (const YAML::Node& service : services) read_service(service);
  // Request-level shapes the fluid model leaves aside (set_world_mode takes them back).
  if (scenario_.mode == WorldMode::kFluid)
    for (const ServiceSpec& service : scenario_.services) {
      if (service.parallel_calls) diags_.warning(service.calls_pos, kParallelCallsInFluid);
      if (service.service_time != ServiceTimeKind::kExponential)
        diags_.warning(service.service_time_pos, kServiceTimeInFluid);
    }
  for (const YAML::Node& dependency : top.list("dependencies")) read_dependency(dependency);
  resolve_fallbacks();
  check_cycles();
  const std::vector<YAML::Node> replay = top.list("replay");
  for (std::size_t i = 0; i < replay.size(); ++i) read_replay(replay[i], static_cast<int>(i));
  if (replay_given) {
    read_timing(top);
    warn_unreplayed();
  }
  const std::vector<YAML::Node> traffic = top.list("traffic");
  for (std::size_t i = 0; i < traffic.size(); ++i) read_traffic(traffic[i], static_cast<int>(i));
  const std::vector<YAML::Node> faults = top.list("faults");
  for (std::size_t i = 0; i < faults.size(); ++i) read_fault(faults[i], static_cast<int>(i));
  read_manifests(top);
  const std::vector<YAML::Node> changes = top.list("changes");
  for (std::size_t i = 0; i < changes.size(); ++i) read_change(changes[i], static_cast<int>(i));
  warn_overlapping_deployments();
  scenario_.detectors_given = top.has("detectors");
  const std::vector<YAML::Node> detectors = top.list("detectors");
  for (std::size_t i = 0; i < detectors.size(); ++i)
    read_detector(detectors[i], static_cast<int>(i));
  const std::vector<YAML::Node> rules = top.list("incident_rules");
  for (std::size_t i = 0; i < rules.size(); ++i) read_incident_rule(rules[i], static_cast<int>(i));
  if (auto alertmanager = top.value("alertmanager")) read_alertmanager(*alertmanager);
  if (auto remediation = top.value("remediation")) read_remediation(*remediation);

  errors = diags_.errors();
  scenario_.warnings = diags_.warnings();
  return std::move(scenario_);
}

void Loader::read_timing(MapReader& top) {
  // With replayed series, the tick defaults to their smallest time step and the duration to
  // the end of the last one: the ticks whose middle falls before it (each tick shows the
  // row its middle falls in).
  SimTime replay_step = 0, replay_end = 0;
  for (const ReplaySpec& replay : scenario_.replay) {
    if (replay.offsets.empty()) continue;
    replay_step = replay_step == 0 ? replay.step : std::min(replay_step, replay.step);
    replay_end = std::max(replay_end, replay.offsets.back() + replay.step);
  }
  const bool replayed = !scenario_.replay.empty();
  duration_ =
      top.duration("duration", Range::above(0), replayed ? Need::kOptional : Need::kRequired);
  auto tick = top.duration("tick", Range::above(0));
  auto record = top.duration("record", Range::above(0));
  scenario_.tick = tick.value_or(replay_step > 0 ? replay_step : kSecond);
  if (!duration_ && replay_end > 0)
    duration_ = std::max(scenario_.tick, first_tick_showing(replay_end, scenario_.tick));
  scenario_.duration = duration_.value_or(0);
  scenario_.record_interval = record.value_or(scenario_.tick);
  // A tick coarser than a replayed file's step takes one row of several: the others are
  // never seen (by the detectors or the trace).
  if (tick)
    for (const ReplaySpec& replay : scenario_.replay)
      if (!replay.offsets.empty() && replay.step < *tick)
        diags_.warning(top.value_pos("tick"),
                       "'tick' (" + format_duration(*tick) + ") is coarser than the step of " +
                           replay.file + " (" + format_duration(replay.step) +
                           "): each tick takes the row its middle falls in, the rows between are "
                           "not replayed; a tick of " +
                           format_duration(replay.step) + " replays each row");
  if (!duration_) return;
  // Said at the value given last: a default tick's problem is the duration's.
  const SourcePos tick_or_duration = tick ? top.value_pos("tick") : top.value_pos("duration");
  if (scenario_.tick > *duration_) {
    diags_.error(tick_or_duration, "'tick' (" + format_duration(scenario_.tick) +
                                       ") must not exceed 'duration' (" +
                                       format_duration(*duration_) + ")");
  } else if (*duration_ % scenario_.tick != 0) {
    diags_.error(tick_or_duration,
                 "'duration' (" + format_duration(*duration_) + ") must be a multiple of 'tick' (" +
                     format_duration(scenario_.tick) + "): the run would stop at " +
                     format_duration(*duration_ / scenario_.tick * scenario_.tick));
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
  } else if (record && *record > *duration_) {
    diags_.warning(top.value_pos("record"),
                   "'record' (" + format_duration(*record) + ") is longer than the run (" +
                       format_duration(*duration_) + "): the trace has one row, of the whole run");
  }
}

void Loader::read_region(const YAML::Node& node) {
  MapReader r(node, "region", {"name", "zones"}, diags_);
  if (!r.is_map()) return;
  RegionSpec region;
  region.pos = r.pos();
  region.name = read_name(r, Need::kRequired);
  check_no_arrow(region.name, r.value_pos("name"), "region");
  for (const YAML::Node& zone : r.list("zones")) {
    auto name = read_text(zone, pos_of(zone), "a zone name", diags_);
    if (!name) continue;
    // "" is no zone to the engine (a service placed nowhere): an outage of it crashed.
    if (name->empty()) {
      diags_.error(pos_of(zone), "a zone name must not be empty");
      continue;
    }
    check_no_arrow(*name, pos_of(zone), "zone");
    check_one_line(*name, pos_of(zone), "a zone name");
    const int holder = zones_.claim(*name, static_cast<int>(scenario_.regions.size()));
    if (holder >= 0 && holder < static_cast<int>(scenario_.regions.size()))
      diags_.error(pos_of(zone), "zone '" + *name + "' is already in region '" +
                                     scenario_.regions[holder].name +
                                     "'; zone names must be unique across regions");
    else if (holder >= 0)
      diags_.error(pos_of(zone), "duplicate zone '" + *name + "' in region '" + region.name + "'");
    region.zones.push_back(*name);
  }
  const int first = region.name.empty()
                        ? -1
                        : regions_.claim(region.name, static_cast<int>(scenario_.regions.size()));
  if (first >= 0)
    diags_.error(r.value_pos("name"), "duplicate region name '" + region.name +
                                          "' (first at line " +
                                          std::to_string(scenario_.regions[first].pos.line) + ")");
  scenario_.regions.push_back(std::move(region));
}

void Loader::read_service(const YAML::Node& node) {
  MapReader r(node, "service", {"name",          "replicas",     "capacity_rps",
                                "base_latency",  "cpu_baseline", "memory_baseline",
                                "memory_limit",  "region",       "zone",
                                "zones",         "failover",     "endpoints",
                                "autoscaling",   "sli",          "labels",
                                "workers",       "queue_limit",  "service_time",
                                "load_balancer", "calls"},
              diags_);
  if (!r.is_map()) return;
  ServiceSpec service;
  service.pos = r.pos();
  service.name = read_name(r, Need::kRequired);
  check_no_arrow(service.name, r.value_pos("name"), "service");
  service.replicas = static_cast<int>(
      r.integer("replicas", Range::closed(0, kMaxReplicas)).value_or(service.replicas));
  const std::optional<double> capacity = r.number("capacity_rps", Range::above(0));
  const std::optional<SimTime> base_latency = r.duration("base_latency", Range::above(0));
  service.base_latency = base_latency.value_or(service.base_latency);
  service.cpu_baseline =
      r.number("cpu_baseline", Range::closed(0, 1)).value_or(service.cpu_baseline);
  service.memory_baseline =
      r.number("memory_baseline", Range::closed(0, 1)).value_or(service.memory_baseline);
  if (auto limit = r.text("memory_limit")) {
    const std::optional<double> bytes = parse_byte_size(*limit);
    if (!bytes)
      diags_.error(
          r.value_pos("memory_limit"),
          "'memory_limit' must be a memory size such as 512Mi, 1Gi or 256MB, got '" + *limit + "'");
    else if (*bytes <= 0)  // a size, but no container runs in none
      diags_.error(r.value_pos("memory_limit"),
                   "'memory_limit' must be above 0, got '" + *limit + "'");
    else
      service.memory_limit_bytes = *bytes;
  }
  read_placement(r, service);
  read_endpoints(r, service);
  read_request_model(r, service);
  // A base_latency that did not read is said already: no warning about the default in its place.
  if (!r.has("base_latency") || base_latency)
    read_capacity(r, capacity, service);
  else if (capacity)
    service.capacity_rps = *capacity;
  if (auto autoscaling = r.value("autoscaling")) read_autoscaling(*autoscaling, service);
  if (auto sli = r.value("sli")) read_sli(*sli, service);
  if (auto labels = r.value("labels")) service.labels = read_labels(*labels);
  const int first =
      service.name.empty()
          ? -1
          : services_.claim(service.name, static_cast<int>(scenario_.services.size()));
  if (first >= 0)
    diags_.error(r.value_pos("name"), "duplicate service name '" + service.name +
                                          "' (first at line " +
                                          std::to_string(scenario_.services[first].pos.line) + ")");
  scenario_.services.push_back(std::move(service));
}

void Loader::read_capacity(MapReader& r, std::optional<double> capacity, ServiceSpec& service) {
  // A replica's workers each serve one request for a service time: capacity follows from
  // them unless given; given, it may contradict base_latency (whole workers).
  const double base = to_seconds(service.base_latency);
  if (!capacity) {
    service.capacity_rps = std::max(1, service.workers) / base;
    return;
  }
  service.capacity_rps = *capacity;
  const double used = service.service_seconds();
  // Without a base_latency of its own the service time is what the capacity gives its workers
  // (nothing to contradict: 150 rps a replica is 2 workers of 13.3 ms, not 10 ms's warning).
  if (!r.has("base_latency")) {
    service.base_latency = std::max<SimTime>(1, seconds(used));
    return;
  }
  if (std::abs(used - base) <= 0.1 * base) return;
  const int workers = service.concurrency();
  const auto ms = [](double seconds) {  // three significant digits, in ms below a second
    const bool below = seconds < 1.0;
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", below ? seconds * 1000 : seconds);
    return format_number(std::strtod(text, nullptr)) + (below ? "ms" : "s");
  };
  const std::string given = service.workers > 0 ? ""
                            : workers == 1'000'000
                                ? " (capacity_rps x base_latency, rounded, at most 1000000)"
                                : " (capacity_rps x base_latency, rounded)";
  diags_.warning(r.value_pos("capacity_rps"),
                 "'capacity_rps' " + format_number(*capacity) + " and 'base_latency' " + ms(base) +
                     " cannot both hold: " + std::to_string(workers) + " worker" +
                     (workers == 1 ? "" : "s") + given + " serving " + format_number(*capacity) +
                     " requests per second take " + ms(used) +
                     " each, the service time both world modes use; set 'base_latency' to " +
                     ms(used) + ", or 'workers' and 'capacity_rps' to match");
}

void Loader::read_request_model(MapReader& r, ServiceSpec& service) {
  service.workers = static_cast<int>(r.integer("workers", Range::closed(1, 1'000'000)).value_or(0));
  service.queue_limit =
      static_cast<int>(r.integer("queue_limit", Range::closed(1, 100'000'000)).value_or(0));
  if (auto node = r.value("service_time")) {
    service.service_time_pos = r.value_pos("service_time");
    std::optional<std::string> kind;
    if (node->IsScalar()) {
      kind = node->Scalar();
    } else {
      MapReader t(*node, "service_time", {"distribution", "cv"}, diags_);
      if (t.is_map()) {
        kind = t.text("distribution", Need::kRequired);
        if (auto cv = t.number("cv", Range::closed(1e-3, 100))) service.service_time_cv = *cv;
        if (t.has("cv") && kind && (*kind == "exponential" || *kind == "deterministic"))
          diags_.error(t.key_pos("cv"), "'cv' is for lognormal and gamma service times (" + *kind +
                                            " has a fixed one)");
      }
    }
    const std::vector<std::string> kinds = {"exponential", "lognormal", "gamma", "deterministic"};
    if (kind) {
      const auto found = std::find(kinds.begin(), kinds.end(), *kind);
      if (found == kinds.end())
        diags_.error(r.value_pos("service_time"),
                     "a service time distribution is exponential, lognormal, gamma or "
                     "deterministic, got '" +
                         *kind + "'" + did_you_mean(*kind, kinds));
      else
        service.service_time = static_cast<ServiceTimeKind>(found - kinds.begin());
    }
  }
  if (auto calls = r.text("calls")) {
    service.calls_pos = r.value_pos("calls");
    if (*calls != "sequential" && *calls != "parallel")
      diags_.error(r.value_pos("calls"), "'calls' must be sequential or parallel, got '" + *calls +
                                             "'" +
                                             did_you_mean(*calls, {"sequential", "parallel"}));
    service.parallel_calls = *calls == "parallel";
  }
  if (auto balancer = r.text("load_balancer")) {
    const std::vector<std::string> names = {"round-robin", "random", "least-request"};
    const auto found = std::find(names.begin(), names.end(), *balancer);
    if (found == names.end())
      diags_.error(r.value_pos("load_balancer"),
                   "'load_balancer' must be round-robin, random or least-request, got '" +
                       *balancer + "'" + did_you_mean(*balancer, names));
    else
      service.load_balancer = static_cast<LoadBalancer>(found - names.begin());
  }
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
  const auto min_given = r.integer("minReplicas", Range::closed(1, kMaxReplicas));
  const auto max_given = r.integer("maxReplicas", Range::closed(1, kMaxReplicas), Need::kRequired);
  spec.min_replicas = static_cast<int>(min_given.value_or(1));
  spec.max_replicas = static_cast<int>(max_given.value_or(1));
  spec.target_cpu = r.number("targetCPUPercent", Range::closed(1, 100)).value_or(70) / 100.0;
  spec.window = r.duration("stabilizationWindow", Range::at_least(0)).value_or(spec.window);
  spec.sync_period = r.duration("syncPeriod", Range::above(0)).value_or(spec.sync_period);
  spec.start_time = r.duration("startTime", Range::at_least(0)).value_or(spec.start_time);
  if (duration_ && r.has("syncPeriod") && spec.sync_period >= *duration_)
    diags_.warning(r.value_pos("syncPeriod"), "the autoscaler first decides after 'syncPeriod' (" +
                                                  format_duration(spec.sync_period) + ")" +
                                                  never_happens());
  // Comparisons with the values that are there (a bad one is said already), each said.
  const bool min_ok = !r.has("minReplicas") || min_given;
  if (!max_given)
    ;
  else if (min_ok && spec.min_replicas > spec.max_replicas)
    diags_.error(r.value_pos("minReplicas"), "'minReplicas' (" + std::to_string(spec.min_replicas) +
                                                 ") must not exceed 'maxReplicas' (" +
                                                 std::to_string(spec.max_replicas) + ")");
  else if (min_ok && (service.replicas < spec.min_replicas || service.replicas > spec.max_replicas))
    diags_.error(spec.pos, "'replicas' (" + std::to_string(service.replicas) +
                               ") must be within [minReplicas, maxReplicas] (" +
                               std::to_string(spec.min_replicas) + ", " +
                               std::to_string(spec.max_replicas) + ")");
  else if (!min_ok && service.replicas > spec.max_replicas)
    diags_.error(spec.pos, "'replicas' (" + std::to_string(service.replicas) +
                               ") must not exceed 'maxReplicas' (" +
                               std::to_string(spec.max_replicas) + ")");
  service.autoscaling = spec;
}

void Loader::read_placement(MapReader& r, ServiceSpec& service) {
  read_zone_placement(r, service);
  if (service.zones.empty() && !service.region.empty()) {  // one place: a zone, or a region
    service.zones = {service.zone};
    service.zone_regions = {service.region};
  }
  std::vector<std::string> regions;
  for (const std::string& region : service.zone_regions)
    if (std::find(regions.begin(), regions.end(), region) == regions.end())
      regions.push_back(region);
  service.failover = regions.size() <= 1;
  if (auto failover = r.boolean("failover")) service.failover = *failover;
}

void Loader::read_zone_placement(MapReader& r, ServiceSpec& service) {
  if (r.has("zones")) {
    const bool both = r.has("zone") || r.has("region");
    if (both)
      diags_.error(r.key_pos("zones"), "'zones' replaces 'zone' and 'region'; give one of them");
    for (const YAML::Node& item : r.list("zones")) {  // (their names are checked all the same)
      auto name = read_text(item, pos_of(item), "a zone name", diags_);
      if (!name) continue;
      const int zone_region = zones_.find(*name);
      if (zone_region < 0) {
        diags_.error(pos_of(item),
                     "unknown zone '" + *name + "'" + suggest(*name, [&] { return all_zones(); }));
        continue;
      }
      if (std::find(service.zones.begin(), service.zones.end(), *name) != service.zones.end()) {
        diags_.error(pos_of(item), "zone '" + *name + "' is listed twice in 'zones'");
        continue;
      }
      service.zones.push_back(*name);
      service.zone_regions.push_back(scenario_.regions[zone_region].name);
      service.zone += (service.zone.empty() ? "" : ",") + *name;
    }
    if (both) return;
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
    if (const int found = regions_.find(*name); found >= 0) region = &scenario_.regions[found];
    if (region) {
      service.region = *name;
    } else {
      diags_.error(r.value_pos("region"), "unknown region '" + *name + "'" + suggest(*name, [&] {
                                            return names_of(scenario_.regions);
                                          }));
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
  // (An unknown region was reported already: the zone is checked against every region's.)
  if (const int found = zones_.find(*zone); found < 0)
    diags_.error(r.value_pos("zone"),
                 "unknown zone '" + *zone + "'" + suggest(*zone, [&] { return all_zones(); }));
  else if (!r.has("region"))
    service.region = scenario_.regions[found].name;
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
    check_no_arrow(endpoint.name, e.value_pos("name"), "endpoint");
    endpoint.weight = e.number("weight", Range::above_to(0, kMostWeight)).value_or(1.0);
    endpoint.latency_factor =
        e.number("latency_factor", Range::above_to(0, kMostFactor)).value_or(1.0);
    for (const EndpointSpec& other : service.endpoints) {
      if (other.name == endpoint.name && !endpoint.name.empty())
        diags_.error(e.value_pos("name"),
                     "duplicate endpoint '" + endpoint.name + "' in service '" + service.name +
                         "' (first at line " + std::to_string(other.pos.line) + ")");
    }
    weights.push_back(endpoint.weight);
    service.endpoints.push_back(std::move(endpoint));
  }
  normalise(weights);
  for (std::size_t i = 0; i < weights.size(); ++i) service.endpoints[i].weight = weights[i];
}

void Loader::read_dependency(const YAML::Node& node) {
  MapReader r(node, "dependency",
              {"caller", "callee", "calls_per_request", "timeout", "retries", "optional",
               "fallback_latency", "fallback", "retry_backoff", "retry_budget", "max_pending",
               "outlier_detection"},
              diags_);
  if (!r.is_map()) return;
  DependencySpec dependency;
  dependency.pos = r.pos();
  if (auto caller = r.text("caller", Need::kRequired))
    dependency.caller = service_ref(*caller, r.value_pos("caller"));
  if (auto callee = r.text("callee", Need::kRequired))
    dependency.callee = service_ref(*callee, r.value_pos("callee"));
  dependency.calls_per_request =
      r.number("calls_per_request", Range::closed(0, kMostCallsPerRequest)).value_or(1.0);
  dependency.timeout = r.duration("timeout", Range::at_least(0)).value_or(0);
  dependency.retries =
      static_cast<int>(r.integer("retries", Range::closed(0, kMaxRetries)).value_or(0));
  dependency.retry_backoff =
      r.duration("retry_backoff", Range::at_least(0)).value_or(dependency.retry_backoff);
  if (auto budget = r.value("retry_budget")) {
    MapReader b(*budget, "retry_budget", {"percent", "min_concurrency"}, diags_);
    if (b.is_map()) {
      dependency.retry_budget =
          b.number("percent", Range::closed(0, 100), Need::kRequired).value_or(0) / 100.0;
      dependency.retry_min =
          static_cast<int>(b.integer("min_concurrency", Range::closed(0, 1'000'000)).value_or(3));
    }
  }
  dependency.max_pending =
      static_cast<int>(r.integer("max_pending", Range::closed(1, 100'000'000)).value_or(0));
  if (auto outlier = r.value("outlier_detection")) {
    DependencySpec::OutlierDetection policy;
    if (outlier->IsScalar()) {  // true: Envoy's defaults
      const std::optional<bool> on = yaml_boolean(outlier->Scalar());
      if (!on)
        diags_.error(r.value_pos("outlier_detection"),
                     "'outlier_detection' is true, false or a mapping of its settings, got '" +
                         outlier->Scalar() + "'");
      if (on && *on) dependency.outlier = policy;
    } else {
      MapReader o(
          *outlier, "outlier_detection",
          {"consecutive_5xx", "base_ejection_time", "max_ejection_time", "max_ejection_percent"},
          diags_);
      if (o.is_map()) {
        policy.consecutive_5xx =
            static_cast<int>(o.integer("consecutive_5xx", Range::closed(1, 1'000'000)).value_or(5));
        policy.base_ejection_time =
            o.duration("base_ejection_time", Range::above(0)).value_or(policy.base_ejection_time);
        policy.max_ejection_time =
            o.duration("max_ejection_time", Range::above(0)).value_or(policy.max_ejection_time);
        policy.max_ejection_percent =
            o.percent("max_ejection_percent", Range::closed(0, 100)).value_or(10);
        dependency.outlier = policy;
      }
    }
  }
  const std::optional<bool> optional = r.boolean("optional");
  dependency.optional = optional.value_or(false);
  dependency.fallback_latency = r.duration("fallback_latency", Range::at_least(0)).value_or(0);
  // (An 'optional' that is no bool is said already: not again at its fallbacks.)
  for (const char* key : {"fallback_latency", "fallback"})
    if (r.has(key) && !dependency.optional && (optional || !r.has("optional")))
      diags_.error(r.key_pos(key),
                   std::string("'") + key + "' is for an optional dependency (optional: true)");
  if (auto fallback = r.text("fallback"); fallback && dependency.optional)
    fallbacks_.push_back(
        {static_cast<int>(scenario_.dependencies.size()), *fallback, r.value_pos("fallback")});
  if (dependency.caller >= 0 && dependency.caller == dependency.callee) {
    diags_.error(dependency.pos, "service '" + scenario_.services[dependency.caller].name +
                                     "' cannot depend on itself");
  } else if (dependency.caller >= 0 && dependency.callee >= 0) {
    const auto [it, added] = dependencies_.emplace(std::pair(dependency.caller, dependency.callee),
                                                   static_cast<int>(scenario_.dependencies.size()));
    const int first = added ? -1 : it->second;
    if (first >= 0)
      diags_.error(dependency.pos,
                   "duplicate dependency '" + scenario_.services[dependency.caller].name + " -> " +
                       scenario_.services[dependency.callee].name + "' (first at line " +
                       std::to_string(scenario_.dependencies[first].pos.line) + ")");
  }
  scenario_.dependencies.push_back(dependency);
}

void Loader::resolve_fallbacks() {
  for (const PendingFallback& pending : fallbacks_) {
    DependencySpec& dependency = scenario_.dependencies[pending.dependency];
    const int service = service_ref(pending.service, pending.pos);
    if (service < 0 || dependency.caller < 0) continue;
    const int edge = dependency_index(dependency.caller, service);
    if (service == dependency.callee)
      diags_.error(pending.pos, "the fallback of a dependency is another service than its callee");
    else if (service == dependency.caller)
      diags_.error(pending.pos,
                   "the fallback '" + pending.service +
                       "' is the caller itself: a fallback is another service it calls when its "
                       "call to " +
                       (dependency.callee >= 0  // an unknown callee is said at its own key
                            ? "'" + scenario_.services[dependency.callee].name + "'"
                            : std::string("its callee")) +
                       " fails");
    else if (edge < 0)
      diags_.error(pending.pos, "the fallback '" + pending.service + "' needs a dependency '" +
                                    scenario_.services[dependency.caller].name + " -> " +
                                    pending.service + "' (its timeout and retries apply)");
    else if (scenario_.dependencies[edge].optional)
      diags_.error(pending.pos, "the fallback dependency '" +
                                    scenario_.services[dependency.caller].name + " -> " +
                                    pending.service + "' must not be optional itself");
    else
      dependency.fallback = edge;
  }
}

void Loader::check_cycles() {
  // Self-calls and duplicates are reported already; each pass names one cycle and drops the
  // edge it is reported at, so independent cycles are named, the first kMostCyclesNamed of
  // them (each pass costs a walk of the whole graph).
  constexpr int kMostCyclesNamed = 20;
  EdgeList edges;
  for (const DependencySpec& d : scenario_.dependencies)
    if (d.caller >= 0 && d.callee >= 0 && d.caller != d.callee)
      edges.emplace_back(d.caller, d.callee);
  const int service_count = static_cast<int>(scenario_.services.size());
  int named = 0;
  for (std::vector<int> cycle = find_cycle(service_count, edges); !cycle.empty();
       cycle = find_cycle(service_count, edges)) {
    const int at = dependency_index(cycle[0], cycle[1]);
    if (named++ == kMostCyclesNamed) {
      diags_.error(scenario_.dependencies[at].pos, "more dependency cycles (only the first " +
                                                       std::to_string(kMostCyclesNamed) +
                                                       " are named)");
      break;
    }
    std::string path;
    for (int service : cycle)
      path += (path.empty() ? "" : " -> ") + scenario_.services[service].name;
    diags_.error(scenario_.dependencies[at].pos, "dependency cycle: " + path);
    edges.erase(std::find(edges.begin(), edges.end(), std::pair(cycle[0], cycle[1])));
  }
}

void Loader::read_traffic(const YAML::Node& node, int index) {
  MapReader r(node, "traffic",
              {"name", "entry", "regions", "home", "weights", "failover", "base_rps", "daily",
               "weekly", "noise", "locust", "replay"},
              diags_);
  if (!r.is_map()) return;
  TrafficSpec traffic;
  traffic.pos = r.pos();
  traffic.name = r.has("name") ? read_name(r, Need::kOptional) : "traffic-" + std::to_string(index);
  const SourcePos name_pos = r.has("name") ? r.value_pos("name") : traffic.pos;
  if (!traffic.name.empty() && traffic_.claim(traffic.name, index, name_pos) >= 0)
    diags_.error(name_pos, duplicate_name("traffic", traffic.name, traffic_.where(traffic.name)));
  if (r.has("entry") && r.has("regions"))
    diags_.error(r.key_pos("regions"),
                 "'entry' and 'regions' exclude each other: a regional source names the entry "
                 "services of each region under 'regions'");
  else if (!r.has("entry") && !r.has("regions"))
    diags_.error(r.pos(),
                 "traffic needs 'entry' (the services receiving it) or 'regions' (the "
                 "entry services of each region)");
  if (auto entry = r.value("entry"))
    read_entry(*entry, r.value_pos("entry"), "entry", traffic.entry, traffic.entry_weights);
  if (auto regions = r.value("regions")) read_regional_entries(*regions, r, traffic);
  for (const char* key : {"home", "weights", "failover"})
    if (r.has(key) && !r.has("regions"))
      diags_.error(r.key_pos(key),
                   std::string("'") + key + "' is only used by regional traffic (with 'regions')");
  const bool replayed = r.has("replay");
  const Need base_need = r.has("locust") || replayed ? Need::kOptional : Need::kRequired;
  traffic.base_rps = r.number("base_rps", Range::closed(0, kMostRps), base_need).value_or(0);
  traffic.noise = r.number("noise", Range::closed(0, kMostNoise)).value_or(replayed ? 0.0 : 0.05);
  if (traffic.noise > 1)
    diags_.warning(
        r.value_pos("noise"),
        "'noise' is " + format_number(traffic.noise) +
            ": a coefficient of variation above 1 (the per-tick rate's standard "
            "deviation is " +
            format_number(traffic.noise) + " times its mean)" +
            // A percent read as a fraction: the fraction it meant.
            (traffic.noise <= 100 ? "; did you mean " + format_number(traffic.noise / 100) + "?"
                                  : std::string()));
  read_shapes(r, traffic);
  if (auto locust = r.value("locust")) {
    read_locust(*locust, traffic);
    // Users each run their own loop: their pacing is the source's noise, in both modes.
    if (r.has("noise"))
      diags_.warning(r.key_pos("noise"),
                     "'noise' does not apply to a Locust source: its users' own pacing is its "
                     "noise, in both modes (remove it)");
    traffic.noise = 0;
  }
  if (auto replay = r.value("replay")) {
    for (const char* shape : {"daily", "weekly", "locust"})
      if (r.has(shape))
        diags_.error(r.key_pos(shape), std::string("'") + shape +
                                           "' does not go with 'replay': the recorded rate "
                                           "already has its shape");
    read_recorded_rate(*replay, traffic);
  }
  scenario_.traffic.push_back(std::move(traffic));
}

void Loader::read_entry(const YAML::Node& node, SourcePos pos, const std::string& what,
                        std::vector<int>& entry, std::vector<double>& weights) {
  auto add = [&](const std::string& name, SourcePos at, double weight) {
    const int service = service_ref(name, at);
    if (service < 0) return;
    if (std::find(entry.begin(), entry.end(), service) != entry.end())
      diags_.error(at, "service '" + name + "' is listed twice in '" + what + "'");
    entry.push_back(service);
    weights.push_back(weight);
  };
  if (node.IsScalar()) {
    add(node.Scalar(), pos, 1.0);
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node)
      if (auto name = read_text(item, pos_of(item), "an entry service", diags_))
        add(*name, pos_of(item), 1.0);
  } else if (node.IsMap()) {
    for (const MapEntry& item : read_entries(node, what, diags_)) {
      auto weight = read_number(item.value, item.value_pos(), "the weight of '" + item.key + "'",
                                Range::above_to(0, kMostWeight), diags_);
      add(item.key, item.key_pos(), weight.value_or(1.0));
    }
  } else {
    diags_.error(pos,
                 "expected a service name, a list of services or a mapping {service: "
                 "weight} for '" +
                     what + "', got " + describe(node));
  }
  if (entry.empty() && (node.IsSequence() || node.IsMap()) && node.size() == 0)
    diags_.error(pos, "'" + what + "' must name at least one service");
  normalise(weights);
}

void Loader::read_regional_entries(const YAML::Node& node, MapReader& r, TrafficSpec& traffic) {
  if (!node.IsMap() || node.size() == 0) {
    diags_.error(
        r.value_pos("regions"),
        "expected a mapping {region: entry services} for 'regions', got " + describe(node));
    return;
  }
  for (const MapEntry& item : read_entries(node, "regions", diags_)) {
    RegionalEntry regional;
    regional.region = item.key;
    regional.pos = item.key_pos();
    if (regions_.find(item.key) < 0) {
      diags_.error(item.key_pos(), "unknown region '" + item.key + "'" + suggest(item.key, [&] {
                                     return names_of(scenario_.regions);
                                   }));
    }
    read_entry(item.value, item.value_pos(), "regions." + item.key, regional.entry,
               regional.entry_weights);
    for (int service : regional.entry) {  // a placed entry service must run in its region
      const ServiceSpec& spec = scenario_.services[service];
      if (!spec.zone_regions.empty() && regions_.find(item.key) >= 0 &&
          !spec.placed_in_region(item.key))
        diags_.error(item.value_pos(), "service '" + spec.name + "' is not placed in region '" +
                                           item.key + "' (it runs in " + spec.region + ")");
    }
    traffic.regions.push_back(std::move(regional));
  }
  if (traffic.regions.empty()) return;
  if (auto home = r.text("home")) {
    traffic.home = traffic.region_index(*home);
    if (traffic.home < 0) {
      std::vector<std::string> names;
      for (const RegionalEntry& regional : traffic.regions) names.push_back(regional.region);
      diags_.error(r.value_pos("home"), "'home' must be one of the source's regions, got '" +
                                            *home + "'" + did_you_mean(*home, names));
      traffic.home = 0;
    }
  }
  traffic.region_weights.assign(traffic.regions.size(), 0.0);
  traffic.region_weights[traffic.home] = 1.0;
  if (auto weights = r.value("weights"))
    traffic.region_weights = read_region_weights(*weights, r.value_pos("weights"), traffic);
  if (auto failover = r.value("failover")) {
    if (failover->IsScalar() && !failover->Scalar().empty()) {  // true: the defaults
      const std::optional<bool> on = yaml_boolean(failover->Scalar());
      if (!on)
        diags_.error(r.value_pos("failover"), "'failover' is true, false or a mapping of its "
                                              "settings, got '" + failover->Scalar() + "'");
      if (on && *on) {
        traffic.failover = FailoverPolicy{};
        traffic.failover->pos = r.value_pos("failover");
      }
    } else {
      MapReader f(*failover, "failover",
                  {"interval", "failures", "recoveries", "timeout", "shift", "failback"}, diags_);
      if (f.is_map()) {
        FailoverPolicy policy;
        policy.pos = f.pos();
        policy.interval = f.duration("interval", Range::above(0)).value_or(policy.interval);
        policy.failures = static_cast<int>(
            f.integer("failures", Range::closed(1, 1000)).value_or(policy.failures));
        policy.recoveries = static_cast<int>(
            f.integer("recoveries", Range::closed(1, 1000)).value_or(policy.recoveries));
        policy.timeout = f.duration("timeout", Range::above(0)).value_or(policy.timeout);
        policy.shift = f.duration("shift", Range::at_least(0)).value_or(policy.shift);
        policy.failback = f.boolean("failback").value_or(policy.failback);
        traffic.failover = policy;
      }
    }
    if (traffic.failover && traffic.regions.size() < 2)
      diags_.warning(r.key_pos("failover"),
                     "traffic '" + traffic.name +
                         "' has one region: its failover has nowhere to move the traffic");
  }
}

std::vector<double> Loader::read_region_weights(const YAML::Node& node, SourcePos pos,
                                                const TrafficSpec& traffic) {
  std::vector<double> weights(traffic.regions.size(), 0.0);
  if (!node.IsMap()) {
    diags_.error(pos, "expected a mapping {region: percent} for 'weights', got " + describe(node));
    return weights;
  }
  bool said = false;  // a weight or region already reported: the total says nothing more
  for (const MapEntry& item : read_entries(node, "weights", diags_)) {
    const int region = traffic.region_index(item.key);
    auto weight = read_number(item.value, item.value_pos(), "the weight of '" + item.key + "'",
                              Range::closed(0, 100), diags_);
    said = said || !weight || region < 0;
    if (region < 0) {
      std::vector<std::string> names;
      for (const RegionalEntry& regional : traffic.regions) names.push_back(regional.region);
      diags_.error(item.key_pos(), "'" + item.key + "' is not a region of traffic '" +
                                       traffic.name + "'" + did_you_mean(item.key, names));
      continue;
    }
    weights[region] = weight.value_or(0);
  }
  double total = 0;
  for (double w : weights) total += w;
  if (total <= 0) {
    if (!said) diags_.error(pos, "'weights' must give some region a share above 0");
    weights.assign(traffic.regions.size(), 0.0);
    weights[traffic.home] = 1.0;
  }
  normalise(weights);
  return weights;
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
  MapReader r(node, "locust",
              {"users", "spawn_rate", "rps_per_user", "wait_time", "surges", "stages"}, diags_);
  LocustShape locust;
  locust.users = r.number("users", Range::closed(0, kMostUsers)).value_or(0);
  locust.spawn_rate = r.number("spawn_rate", Range::above(0)).value_or(10);
  locust.rps_per_user = r.number("rps_per_user", Range::above(0)).value_or(1);
  locust.wait.value = locust.wait.high = locust.rps_per_user;
  if (auto wait = r.value("wait_time")) {
    if (r.has("rps_per_user"))
      diags_.error(r.key_pos("wait_time"),
                   "give 'rps_per_user' or 'wait_time', not both: 'rps_per_user' is "
                   "wait_time {constant_throughput: N}");
    else
      read_wait_time(*wait, locust);
  }
  for (const YAML::Node& item : r.list("surges")) {
    MapReader s(item, "surge", {"from", "to", "users"}, diags_);
    if (!s.is_map()) continue;
    SurgeSpec surge;
    surge.pos = s.pos();
    auto from = s.duration("from", Range::at_least(0), Need::kRequired);
    auto to = s.duration("to", Range::at_least(0), Need::kRequired);
    surge.users = s.number("users", Range::closed(0, kMostUsers), Need::kRequired).value_or(0);
    surge.from = from.value_or(0);
    surge.to = to.value_or(0);
    if (from && to && *to <= *from)
      diags_.error(s.value_pos("to"), "'to' (" + format_duration(*to) + ") must be after 'from' (" +
                                          format_duration(*from) + ")");
    else if (from && to && duration_ && *from >= *duration_)
      diags_.warning(s.value_pos("from"), "a surge of traffic '" + traffic.name + "' starts at " +
                                              format_duration(*from) + never_happens());
    else if (from && to && duration_ && *to > *duration_)
      diags_.warning(s.value_pos("to"), "a surge of traffic '" + traffic.name + "' ends at " +
                                            format_duration(*to) + clipped());
    locust.surges.push_back(surge);
  }
  if (r.has("stages") && r.has("users"))
    diags_.error(r.key_pos("stages"),
                 "give 'users' or 'stages', not both: the stages set the "
                 "users over time");
  SimTime last_end = 0;
  for (const YAML::Node& item : r.list("stages")) {
    MapReader s(item, "stage", {"duration", "users", "spawn_rate"}, diags_);
    if (!s.is_map()) continue;
    LocustStage stage;
    stage.pos = s.pos();
    auto end = s.duration("duration", Range::above(0), Need::kRequired);
    stage.users = s.number("users", Range::closed(0, kMostUsers), Need::kRequired).value_or(0);
    stage.spawn_rate = s.number("spawn_rate", Range::above(0)).value_or(locust.spawn_rate);
    stage.end = end.value_or(last_end);
    if (end && *end <= last_end)
      diags_.error(s.value_pos("duration"),
                   "'duration' (" + format_duration(*end) +
                       ") must be after the previous stage's (" + format_duration(last_end) +
                       "): as in Locust's StagesShape, it is the run time at which the stage ends");
    else if (end && duration_ && last_end >= *duration_)
      diags_.warning(s.value_pos("duration"), "a stage of traffic '" + traffic.name +
                                                  "' starts at " + format_duration(last_end) +
                                                  never_happens());
    last_end = std::max(last_end, stage.end);
    locust.stages.push_back(stage);
  }
  if (r.has("stages") && locust.stages.empty())
    diags_.error(r.value_pos("stages"), "'stages' must hold at least one stage");
  traffic.locust = locust;
}

void Loader::read_wait_time(const YAML::Node& node, LocustShape& locust) {
  MapReader r(node, "wait_time", {"constant_throughput", "constant_pacing", "constant", "between"},
              diags_);
  if (!r.is_map()) return;
  const char* kinds[] = {"constant_throughput", "constant_pacing", "constant", "between"};
  int given = 0;
  for (const char* kind : kinds) given += r.has(kind) ? 1 : 0;
  // None given but other keys: each was said to be unknown already.
  if (given == 0 && node.size() > 0) return;
  if (given != 1) {
    diags_.error(r.pos(),
                 "'wait_time' takes exactly one of constant_throughput (requests/s), "
                 "constant_pacing, constant or between ([min, max]); got " +
                     std::to_string(given));
    return;
  }
  WaitTime& wait = locust.wait;
  double mean = 0;
  if (auto rate = r.number("constant_throughput", Range::above(0))) {
    wait = {WaitTime::Kind::kConstantThroughput, *rate, *rate};
    locust.rps_per_user = *rate;
    return;
  }
  if (auto pacing = r.duration("constant_pacing", Range::above(0))) {
    wait = {WaitTime::Kind::kConstantPacing, to_seconds(*pacing), to_seconds(*pacing)};
    mean = wait.value;
  } else if (auto constant = r.duration("constant", Range::above(0))) {
    wait = {WaitTime::Kind::kConstant, to_seconds(*constant), to_seconds(*constant)};
    mean = wait.value;
  } else if (auto between = r.value("between")) {
    const SourcePos pos = r.value_pos("between");
    if (!between->IsSequence() || between->size() != 2) {
      diags_.error(pos, "'between' takes [min, max] (two durations), got " + describe(*between));
      return;
    }
    auto low = read_duration((*between)[0], pos_of((*between)[0]), "'between' min",
                             Range::at_least(0), diags_);
    auto high = read_duration((*between)[1], pos_of((*between)[1]), "'between' max",
                              Range::above(0), diags_);
    if (!low || !high) return;
    if (*high < *low) {
      diags_.error(pos_of((*between)[1]), "'between' max (" + format_duration(*high) +
                                              ") must be at least its min (" +
                                              format_duration(*low) + ")");
      return;
    }
    wait = {WaitTime::Kind::kBetween, to_seconds(*low), to_seconds(*high)};
    mean = 0.5 * (wait.value + wait.high);
  } else {
    return;  // reported
  }
  locust.rps_per_user = 1.0 / mean;
}

std::vector<std::pair<std::string, std::string>> Loader::read_labels(const YAML::Node& node) {
  std::vector<std::pair<std::string, std::string>> labels;
  if (!node.IsMap()) {
    diags_.error(pos_of(node), "expected a mapping of labels (key: value), got " + describe(node));
    return labels;
  }
  std::map<std::string, SourcePos> seen;
  for (const auto& entry : node) {
    auto key = read_text(entry.first, pos_of(entry.first), "a label name", diags_);
    auto value = read_text(entry.second, pos_of(entry.second), "a label value", diags_);
    if (key && key->empty()) diags_.error(pos_of(entry.first), "a label name must not be empty");
    if (key) check_one_line(*key, pos_of(entry.first), "a label name");
    if (value) check_one_line(*value, pos_of(entry.second), "a label value");
    if (key && !seen.emplace(*key, pos_of(entry.first)).second) {
      diags_.error(pos_of(entry.first), "label '" + *key + "' is given twice (first at line " +
                                            std::to_string(seen[*key].line) + ")");
      continue;
    }
    if (key && value) labels.emplace_back(*key, *value);
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

std::vector<int> Loader::read_services(MapReader& r, const char* key, Need need) {
  std::vector<int> services;
  const std::vector<YAML::Node> items = r.list(key, need);
  for (const YAML::Node& item : items) {
    auto name = read_text(item, pos_of(item), "a service name", diags_);
    if (!name) continue;
    const int service = service_ref(*name, pos_of(item));
    if (service < 0) continue;
    if (std::find(services.begin(), services.end(), service) != services.end())
      diags_.error(pos_of(item), "service '" + *name + "' is listed twice in '" + key + "'");
    else
      services.push_back(service);
  }
  // Only an empty list: items that name no service, or a value that is no list, are reported
  // as such already.
  const std::optional<YAML::Node> value = r.has(key) ? r.value(key) : std::nullopt;
  if (value && items.empty() && (value->IsNull() || value->IsSequence()) && need == Need::kRequired)
    diags_.error(r.value_pos(key), std::string("'") + key + "' must name at least one service");
  return services;
}

std::string Loader::read_name(MapReader& r, Need need) {
  auto name = r.text("name", need);
  if (name && name->empty()) diags_.error(r.value_pos("name"), "'name' must not be empty");
  // A name becomes a label, a trace column and a PromQL string: no line breaks or tabs in it.
  if (name && has_control_character(*name))
    diags_.error(r.value_pos("name"),
                 "'name' must not hold control characters (a line break, a tab)");
  return name.value_or("");
}

void Loader::check_one_line(const std::string& text, SourcePos pos, const std::string& what) {
  if (has_control_character(text))
    diags_.error(pos, what + " must not hold control characters (a line break, a tab)");
}

void Loader::check_no_arrow(const std::string& name, SourcePos pos, const std::string& what) {
  if (name.find("->") == std::string::npos) return;
  diags_.error(pos, what + " name '" + name +
                        "' must not hold '->': it joins a caller and its callee in edge names "
                        "('caller->callee')");
}

int Loader::service_ref(const std::string& name, SourcePos pos) {
  const int index = services_.find(name);
  if (index < 0)
    diags_.error(pos, "unknown service '" + name + "'" +
                          suggest(name, [&] { return names_of(scenario_.services); }));
  return index;
}

int Loader::edge_index(const std::string& name) const {
  // Service names never hold "->" in a scenario that loads (check_no_arrow); a draft's may,
  // so every split is tried.
  for (std::size_t at = name.find("->"); at != std::string::npos; at = name.find("->", at + 1)) {
    const int caller = services_.find(name.substr(0, at));
    const int callee = services_.find(name.substr(at + 2));
    if (caller < 0 || callee < 0) continue;
    if (const int edge = dependency_index(caller, callee); edge >= 0) return edge;
  }
  return -1;
}

std::vector<std::string> Loader::edge_names() const {
  std::vector<std::string> names;
  for (std::size_t d = 0; d < scenario_.dependencies.size(); ++d) {
    const DependencySpec& dependency = scenario_.dependencies[d];
    // An unknown end or a self-call is reported already: no name to suggest.
    const bool named =
        dependency.caller >= 0 && dependency.callee >= 0 && dependency.caller != dependency.callee;
    names.push_back(named ? scenario_.edge_name(static_cast<int>(d)) : std::string());
  }
  return names;
}

std::vector<std::string> Loader::all_zones() const {
  std::vector<std::string> zones;
  for (const RegionSpec& region : scenario_.regions)
    zones.insert(zones.end(), region.zones.begin(), region.zones.end());
  return zones;
}

void Loader::index_loaded() {
  for (std::size_t i = 0; i < scenario_.regions.size(); ++i) {
    regions_.claim(scenario_.regions[i].name, static_cast<int>(i));
    for (const std::string& zone : scenario_.regions[i].zones)
      zones_.claim(zone, static_cast<int>(i));
  }
  for (std::size_t i = 0; i < scenario_.services.size(); ++i)
    services_.claim(scenario_.services[i].name, static_cast<int>(i));
  for (std::size_t i = 0; i < scenario_.dependencies.size(); ++i)
    dependencies_.emplace(
        std::pair(scenario_.dependencies[i].caller, scenario_.dependencies[i].callee),
        static_cast<int>(i));
  for (std::size_t i = 0; i < scenario_.traffic.size(); ++i)
    traffic_.claim(scenario_.traffic[i].name, static_cast<int>(i), scenario_.traffic[i].pos);
  for (std::size_t i = 0; i < scenario_.faults.size(); ++i)
    faults_.claim(scenario_.faults[i].name, static_cast<int>(i), scenario_.faults[i].pos);
  for (std::size_t i = 0; i < scenario_.changes.size(); ++i)
    changes_.claim(scenario_.changes[i].name, static_cast<int>(i), scenario_.changes[i].pos);
  for (std::size_t i = 0; i < scenario_.detectors.size(); ++i)
    detectors_.claim(scenario_.detectors[i].name, static_cast<int>(i), scenario_.detectors[i].pos);
  for (std::size_t i = 0; i < scenario_.replay.size(); ++i)
    replays_.claim(scenario_.replay[i].name, static_cast<int>(i), scenario_.replay[i].pos);
}

std::string Loader::clipped() const {
  return ", after the scenario's end (" + format_duration(*duration_) + "): the run ends first";
}

std::string Loader::never_happens() const {
  return ", at or after the scenario's end (" + format_duration(*duration_) + "): it never happens";
}

int Loader::dependency_index(int caller, int callee) const {
  const auto it = dependencies_.find(std::pair(caller, callee));
  return it == dependencies_.end() ? -1 : it->second;
}

FaultSpec Loader::single_fault(const YAML::Node& node, std::vector<Diagnostic>* warnings) {
  const std::size_t before = scenario_.faults.size();
  if (node.IsMap()) {
    if (const YAML::Node schedule = node["schedule"])
      diags_.error(pos_of(schedule),
                   "'schedule' is not available here: add one fault per occurrence");
  }
  read_fault(node, static_cast<int>(before));
  if (diags_.empty() && scenario_.faults.size() != before + 1)
    diags_.error(pos_of(node), "expected one fault");
  diags_.throw_if_any();
  if (warnings != nullptr) *warnings = diags_.warnings();
  return std::move(scenario_.faults.back());
}

ChangeSpec Loader::single_change(const YAML::Node& node, std::vector<Diagnostic>* warnings) {
  const std::size_t before = scenario_.changes.size();
  read_change(node, static_cast<int>(before));
  if (diags_.empty() && scenario_.changes.size() != before + 1)
    diags_.error(pos_of(node), "expected one change");
  diags_.throw_if_any();
  // A deployment while another of its service still rolls out, as in a scenario.
  warn_overlapping_deployments(before);
  if (warnings != nullptr) *warnings = diags_.warnings();
  return std::move(scenario_.changes.back());
}

}  // namespace loader

FaultSpec parse_fault(const Scenario& scenario, const YAML::Node& node, const std::string& file,
                      std::vector<Diagnostic>* warnings) {
  try {
    return loader::Loader(scenario, file).single_fault(node, warnings);
  } catch (const YAML::Exception& e) {
    throw InputError(file, std::string("cannot read the YAML: ") + e.what());
  }
}

ChangeSpec parse_change(const Scenario& scenario, const YAML::Node& node, const std::string& file,
                        std::vector<Diagnostic>* warnings) {
  try {
    return loader::Loader(scenario, file).single_change(node, warnings);
  } catch (const YAML::Exception& e) {
    throw InputError(file, std::string("cannot read the YAML: ") + e.what());
  }
}

namespace {

// Where a second YAML document starts in `text` (its first content after a '---' or '...'
// marker at the start of a line that follows content), or line 0 for none. Found by text:
// yaml-cpp's LoadAll can loop without end on malformed input (a fuzzer's find).
SourcePos second_document(const std::string& text) {
  bool content = false, after_marker = false;
  int line = 0;
  for (std::size_t begin = 0; begin < text.size();) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string_view row(text.data() + begin, end - begin);
    begin = end + 1;
    ++line;
    const bool marker = (row.starts_with("---") || row.starts_with("...")) &&
                        (row.size() == 3 || row[3] == ' ' || row[3] == '\t' || row[3] == '\r');
    std::string_view rest = marker ? row.substr(3) : row;
    const std::size_t first = rest.find_first_not_of(" \t\r");
    const bool blank = first == std::string_view::npos || rest[first] == '#' ||
                       (!marker && !content && rest[first] == '%');  // a directive
    if (marker && content) after_marker = true;
    if (blank) continue;
    if (after_marker) return {line, static_cast<int>((marker ? 3 : 0) + first) + 1};
    content = true;
  }
  return {};
}

// A scenario's text read by `read` (a Loader's load or draft) once it is known to be YAML.
template <class Read>
Scenario read_scenario_text(const std::string& text, const std::string& file, Read read) {
  if (std::string reason = binary_reason(text); !reason.empty()) throw InputError(file, reason);
  YAML::Node root;
  try {
    root = YAML::Load(text);
    if (std::optional<Diagnostic> aliases = alias_expansion_problem(text, file))
      throw InputError({std::move(*aliases)});
    if (std::optional<Diagnostic> quote = unclosed_quote_problem(text, file))
      throw InputError({std::move(*quote)});
    if (const SourcePos second = second_document(text); second.line > 0)
      throw InputError({Diagnostic{file, second.line, second.column,
                                   "a second YAML document (after '---'): a scenario is one "
                                   "document"}});
  } catch (const YAML::Exception& e) {
    throw InputError({yaml_error(file, e, text)});
  }
  if (!root.IsDefined() || root.IsNull()) {
    const bool blank = text.find_first_not_of(" \t\r\n") == std::string::npos;
    throw InputError(file, blank ? "file is empty" : "file is empty (it holds no YAML content)");
  }
  // The empty values' positions are the document's: forgotten once it is read.
  struct Forget {
    ~Forget() { forget_empty_values(); }
  } forget;
  try {
    note_empty_items(root, text);
    loader::Loader loader(text, file);
    return read(loader, root);
  } catch (const YAML::Exception& e) {  // a yaml-cpp surprise must still not escape as a crash
    throw InputError(file, std::string("cannot read the YAML: ") + e.what());
  }
}

std::string scenario_text(const std::string& path) {
  std::string reason;
  std::optional<std::string> text = read_input_file(path, kMaxScenarioBytes, reason);
  if (!text) throw InputError(path, "cannot read file: " + reason);
  return std::move(*text);
}

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& file) {
  return read_scenario_text(
      text, file, [](loader::Loader& loader, const YAML::Node& root) { return loader.load(root); });
}

void set_world_mode(Scenario& scenario, WorldMode mode) {
  if (mode == WorldMode::kRequests && scenario.mode != WorldMode::kRequests &&
      !scenario.measurement_noise)
    scenario.warnings.push_back(
        {scenario.file, scenario.measurement_noise_pos.line, scenario.measurement_noise_pos.column,
         measurement_noise_warning(", asked for in place of the scenario's mode,"), true});
  if (mode == WorldMode::kRequests)  // they act there
    std::erase_if(scenario.warnings, [](const Diagnostic& d) {
      return d.message == kRequestLevelPolicies || d.message == kParallelCallsInFluid ||
             d.message == kServiceTimeInFluid;
    });
  if (mode == WorldMode::kFluid && scenario.mode == WorldMode::kRequests)
    for (const Diagnostic& d : fluid_shape_warnings(scenario)) scenario.warnings.push_back(d);
  scenario.mode = mode;
}

namespace {

// A Lua script given where the scenario goes (`dosim run game-day.lua`) fails as YAML; the
// problems end with what was meant.
bool named_as_script(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".lua") == 0;
}

void add_script_hint(const std::string& path, std::vector<Diagnostic>& problems) {
  if (problems.empty()) return;
  problems.front().message += "; " + path +
                              " looks like a Lua script: a scenario is YAML, and a script is "
                              "given after it with --script (dosim run SCENARIO.yaml --script " +
                              path + ")";
}

// `read()`, whose input errors end with the hint where `path` is named as a script.
template <typename Read>
auto with_script_hint(const std::string& path, const Read& read) {
  try {
    return read();
  } catch (const InputError& error) {
    if (!named_as_script(path)) throw;
    std::vector<Diagnostic> problems = error.diagnostics();
    add_script_hint(path, problems);
    throw InputError(std::move(problems));
  }
}

}  // namespace

ScenarioDraft draft_scenario_file(const std::string& path) {
  ScenarioDraft draft;
  draft.scenario = with_script_hint(path, [&] {
    return read_scenario_text(scenario_text(path), path,
                              [&](loader::Loader& loader, const YAML::Node& root) {
                                return loader.draft(root, draft.errors);
                              });
  });
  if (named_as_script(path)) add_script_hint(path, draft.errors);
  return draft;
}

Scenario load_scenario_file(const std::string& path) {
  return with_script_hint(path, [&] { return parse_scenario(scenario_text(path), path); });
}

}  // namespace dosim
