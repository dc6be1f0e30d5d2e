// The `changes:` section: deployments, config changes, secret rotations, feature flags.
#include <algorithm>

#include "scenario_loader_internal.h"

namespace dosim::loader {

void Loader::read_change(const YAML::Node& node, int index) {
  MapReader r(
      node, "change",
      {"name",     "kind",           "at",        "service",  "services",   "version",  "strategy",
       "maxSurge", "maxUnavailable", "startTime", "steps",    "switchBack", "rollback", "revert",
       "secret",   "consumers",      "reloaded",  "deadline", "fixedAt",    "flag",     "segment",
       "defect",   "region",         "traffic",   "weights",  "shift",      "restore"},
      diags_);
  if (!r.is_map()) return;
  ChangeSpec change;
  change.pos = r.pos();
  change.name = r.has("name") ? read_name(r, Need::kOptional) : "change-" + std::to_string(index);
  const SourcePos name_pos = r.has("name") ? r.value_pos("name") : change.pos;
  if (!change.name.empty() && changes_.claim(change.name, index, name_pos) >= 0)
    diags_.error(name_pos, duplicate_name("change", change.name, changes_.where(change.name)));
  std::optional<ChangeKind> kind;
  if (auto text = r.text("kind", Need::kRequired)) {
    std::vector<std::string> names;
    for (ChangeKind k : {ChangeKind::kDeployment, ChangeKind::kConfig, ChangeKind::kSecretRotation,
                         ChangeKind::kFeatureFlag, ChangeKind::kDrain, ChangeKind::kTrafficShift}) {
      names.push_back(change_kind_name(k));
      if (*text == change_kind_name(k)) kind = k;
    }
    if (!kind)
      diags_.error(r.value_pos("kind"),
                   "'kind' must be deployment, config, secret-rotation, feature-flag, drain or "
                   "traffic-shift, got '" +
                       *text + "'" + did_you_mean(*text, names));
  }
  change.kind = kind.value_or(ChangeKind::kDeployment);
  const bool flag = kind == ChangeKind::kFeatureFlag;
  // Without a known kind only what holds for every kind is checked: which keys a change
  // needs, and which it may have, follow from its kind.
  auto at = r.duration("at", Range::at_least(0), kind && !flag ? Need::kRequired : Need::kOptional);
  change.at = at.value_or(0);
  if (at && duration_ && *at >= *duration_)
    diags_.error(r.value_pos("at"), "'at' (" + format_duration(*at) +
                                        ") must be before the end of the scenario (" +
                                        format_duration(*duration_) + ")");
  if (!kind) {
    scenario_.changes.push_back(std::move(change));
    return;
  }
  // Keys each kind accepts, beyond name, kind, at and defect.
  std::vector<std::string> allowed;
  switch (change.kind) {
    case ChangeKind::kDeployment: {
      allowed = {"service",   "version", "strategy",   "maxSurge", "maxUnavailable",
                 "startTime", "steps",   "switchBack", "rollback"};
      if (auto service = r.text("service", Need::kRequired))
        change.services.push_back(service_ref(*service, r.value_pos("service")));
      change.version = r.text("version", Need::kRequired).value_or("");
      check_one_line(change.version, r.value_pos("version"), "'version'");
      if (r.has("version") && change.version.empty())
        diags_.error(r.value_pos("version"), "'version' must not be empty");
      read_rollout(r, change);
      change.rollback = r.duration("rollback", Range::above(0));
      if (change.rollback && at && *change.rollback <= *at)
        diags_.error(r.value_pos("rollback"), "'rollback' must come after 'at'");
      else if (change.rollback && duration_ && *change.rollback >= *duration_)
        diags_.warning(r.value_pos("rollback"), "change '" + change.name + "' rolls back at " +
                                                    format_duration(*change.rollback) +
                                                    never_happens());
      if (change.switch_back && at && duration_ &&
          time_after(*at, *change.switch_back) >= *duration_)
        diags_.warning(r.value_pos("switchBack"),
                       "change '" + change.name + "' switches back at " +
                           format_duration(time_after(*at, *change.switch_back)) + never_happens());
      break;
    }
    case ChangeKind::kConfig:
      allowed = {"services", "version", "revert"};
      change.services = read_services(r, "services", Need::kRequired);
      change.version = r.text("version", Need::kRequired).value_or("");
      check_one_line(change.version, r.value_pos("version"), "'version'");
      if (r.has("version") && change.version.empty())
        diags_.error(r.value_pos("version"), "'version' must not be empty");
      change.revert = r.duration("revert", Range::above(0));
      if (change.revert && at && *change.revert <= *at)
        diags_.error(r.value_pos("revert"), "'revert' must come after 'at'");
      else if (change.revert && duration_ && *change.revert >= *duration_)
        diags_.warning(r.value_pos("revert"), "change '" + change.name + "' reverts at " +
                                                  format_duration(*change.revert) +
                                                  never_happens());
      break;
    case ChangeKind::kSecretRotation:
      allowed = {"secret", "consumers", "reloaded", "deadline", "fixedAt"};
      change.subject = r.text("secret", Need::kRequired).value_or("");
      check_one_line(change.subject, r.value_pos("secret"), "'secret'");
      if (r.has("secret") && change.subject.empty())
        diags_.error(r.value_pos("secret"), "'secret' must not be empty");
      change.services = read_services(r, "consumers", Need::kRequired);
      change.reloaded = read_services(r, "reloaded", Need::kOptional);
      for (int service : change.reloaded)
        if (service >= 0 && std::find(change.services.begin(), change.services.end(), service) ==
                                change.services.end())
          diags_.error(r.value_pos("reloaded"),
                       "'" + scenario_.services[service].name + "' is reloaded but not a consumer");
      change.deadline = r.duration("deadline", Range::at_least(0)).value_or(10 * kMinute);
      change.fixed_at = r.duration("fixedAt", Range::above(0));
      // Before the old secret is revoked nothing fails: a revocation past the end is no rotation.
      if (at && duration_ && time_after(*at, change.deadline) >= *duration_)
        diags_.warning(r.has("deadline") ? r.value_pos("deadline") : r.value_pos("at"),
                       "change '" + change.name + "' revokes the old secret at " +
                           format_duration(time_after(*at, change.deadline)) + never_happens());
      if (change.fixed_at && at && *change.fixed_at < *at)
        diags_.error(r.value_pos("fixedAt"), "'fixedAt' (" + format_duration(*change.fixed_at) +
                                                 ") is before the rotation ('at', " +
                                                 format_duration(*at) + ")");
      else if (change.fixed_at && duration_ && *change.fixed_at >= *duration_)
        diags_.warning(r.value_pos("fixedAt"),
                       "change '" + change.name + "' restarts the consumers not reloaded at " +
                           format_duration(*change.fixed_at) + never_happens());
      else if (change.fixed_at && at && *change.fixed_at <= time_after(*at, change.deadline) &&
               !change.stragglers().empty())
        diags_.warning(r.value_pos("fixedAt"),
                       "change '" + change.name + "' restarts the consumers not reloaded at " +
                           format_duration(*change.fixed_at) +
                           ", by the time the old secret is revoked (" +
                           format_duration(time_after(*at, change.deadline)) +
                           "): nothing fails, the rotation is no incident");
      // A consumer that does not reload breaks when the old secret is revoked.
      change.defect.error = 1.0;
      break;
    case ChangeKind::kFeatureFlag: {
      allowed = {"flag", "services", "segment", "steps"};
      change.subject = r.text("flag", Need::kRequired).value_or("");
      check_one_line(change.subject, r.value_pos("flag"), "'flag'");
      if (r.has("flag") && change.subject.empty())
        diags_.error(r.value_pos("flag"), "'flag' must not be empty");
      change.services = read_services(r, "services", Need::kRequired);
      change.segment = r.percent("segment", Range::closed(0, 100)).value_or(100) / 100.0;
      const std::vector<YAML::Node> steps = r.list("steps", Need::kRequired);
      if (steps.empty() && r.has("steps") && r.value("steps")->IsSequence())
        diags_.error(r.value_pos("steps"), "a feature flag's 'steps' must list at least one step");
      if (steps.size() > kMaxChangeSteps)
        diags_.error(r.value_pos("steps"), "a feature flag has at most " +
                                               std::to_string(kMaxChangeSteps) + " steps, got " +
                                               std::to_string(steps.size()));
      for (const YAML::Node& step_node : steps) {
        if (steps.size() > kMaxChangeSteps) break;
        MapReader step(step_node, "flag step", {"at", "percent"}, diags_);
        if (!step.is_map()) continue;
        FlagStep flag_step;
        flag_step.at = step.duration("at", Range::at_least(0), Need::kRequired).value_or(0);
        flag_step.fraction =
            step.percent("percent", Range::closed(0, 100), Need::kRequired).value_or(0) / 100.0;
        if (step.has("at") && !change.flag_steps.empty() &&
            flag_step.at <= change.flag_steps.back().at)
          diags_.error(step.value_pos("at"), "flag steps must be in increasing time order");
        else if (step.has("at") && duration_ && flag_step.at >= *duration_)
          diags_.warning(step.value_pos("at"), "change '" + change.name + "' has a flag step at " +
                                                   format_duration(flag_step.at) + never_happens());
        change.flag_steps.push_back(flag_step);
      }
      if (!change.flag_steps.empty()) change.at = change.flag_steps.front().at;
      break;
    }
    case ChangeKind::kDrain:
    case ChangeKind::kTrafficShift:
      allowed = {"traffic", "shift"};
      allowed.push_back(change.kind == ChangeKind::kDrain ? "region" : "weights");
      if (change.kind == ChangeKind::kDrain) allowed.push_back("restore");
      read_steering(r, change);
      break;
  }
  allowed.insert(allowed.end(), {"name", "kind", "at", "defect"});
  for (const char* key :
       {"service",   "services", "version",    "strategy", "maxSurge", "maxUnavailable",
        "startTime", "steps",    "switchBack", "rollback", "revert",   "secret",
        "consumers", "reloaded", "deadline",   "fixedAt",  "flag",     "segment",
        "region",    "traffic",  "weights",    "shift",    "restore"})
    if (r.has(key) && std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      diags_.error(r.key_pos(key), std::string("'") + key + "' is not used by " +
                                       change_kind_name(change.kind) + " changes");
  if (flag && r.has("at"))
    diags_.error(r.key_pos("at"), "a feature-flag's times are its steps' 'at'");
  if (auto defect = r.value("defect")) {
    if (change.kind == ChangeKind::kSecretRotation)
      diags_.error(r.key_pos("defect"),
                   "a secret rotation's defect is implied: consumers that do not reload fail");
    else if (change.kind == ChangeKind::kDrain || change.kind == ChangeKind::kTrafficShift)
      diags_.error(r.key_pos("defect"),
                   std::string("a ") + change_kind_name(change.kind) +
                       " has no defect: it moves traffic, and what that does follows from the "
                       "capacity where it lands");
    else
      read_defect(*defect, change);
  }
  // As a fault between two ticks: a defective change taken back before the next tick begins
  // never acts (the world reads changes at each tick), and its ground truth is silent.
  const std::optional<SimTime> back = change.rollback ? change.rollback : change.revert;
  if (change.defect.any() && back && *back > change.at && scenario_.tick > 0 &&
      (!duration_ || *back < *duration_)) {
    const SimTime tick = scenario_.tick;
    const SimTime first = (change.at / tick + (change.at % tick != 0 ? 1 : 0)) * tick;
    if (first >= *back)
      diags_.warning(r.value_pos(change.rollback ? "rollback" : "revert"),
                     "change '" + change.name + "' is in effect from " +
                         format_duration(change.at) + " to " + format_duration(*back) +
                         ", between two ticks (" + format_duration(first) +
                         " is the next; ticks of " + format_duration(tick) +
                         "): its defect never acts, and its ground truth is silent");
  }
  scenario_.changes.push_back(std::move(change));
}

namespace {

// When a deployment's rollout as planned ends (its rollback, if sooner): a rolling one's
// steps, a canary's pauses; a blue-green switch is at once.
SimTime planned_rollout_end(const Scenario& scenario, const ChangeSpec& change) {
  SimTime end = change.at;
  switch (change.strategy) {
    case RolloutStrategy::kRolling: {
      const int batch = std::max(1, change.max_surge + change.max_unavailable);
      const int replicas = scenario.services[change.services.front()].replicas;
      end = time_sum(end, time_product((replicas + batch - 1) / batch, change.start_time));
      break;
    }
    case RolloutStrategy::kCanary:
      for (const CanaryStep& step : change.canary) end = time_sum(end, step.pause);
      break;
    case RolloutStrategy::kBlueGreen:
      break;
  }
  return change.rollback ? std::min(end, *change.rollback) : end;
}

}  // namespace

// The world keeps one rollout a service: a deployment that starts while another of its
// service is under way leaves the first's later steps logged as if they came and its
// incident open. A warning (the scenario runs), at the later one; of the changes from
// `from` on (a change added to a running world: that one alone).
void Loader::warn_overlapping_deployments(std::size_t from) {
  const std::vector<ChangeSpec>& changes = scenario_.changes;
  const auto deployment = [&](const ChangeSpec& c) {
    return c.kind == ChangeKind::kDeployment && c.services.size() == 1 && c.services[0] >= 0 &&
           c.services[0] < static_cast<int>(scenario_.services.size());
  };
  for (std::size_t b = from; b < changes.size(); ++b) {
    if (!deployment(changes[b])) continue;
    for (std::size_t a = 0; a < changes.size(); ++a) {
      if (a == b || !deployment(changes[a]) || changes[a].services != changes[b].services) continue;
      const bool earlier =
          changes[a].at < changes[b].at || (changes[a].at == changes[b].at && a < b);
      const SimTime end = planned_rollout_end(scenario_, changes[a]);
      if (!earlier || changes[b].at >= end) continue;
      diags_.warning(changes[b].pos,
                     "deployment '" + changes[b].name + "' of " +
                         scenario_.services[changes[b].services[0]].name + " starts at " +
                         format_duration(changes[b].at) + " while deployment '" + changes[a].name +
                         "' is still rolling out (until " + format_duration(end) +
                         "): one rollout a service at a time (the first's later steps would "
                         "be logged as if they came); " +
                         (duration_ && end >= *duration_
                              ? std::string("roll '") + changes[a].name +
                                    "' back first, or give it shorter steps (it outlasts the run)"
                              : "start it at " + format_duration(end) + " or later"));
      break;
    }
  }
}

void Loader::read_steering(MapReader& r, ChangeSpec& change) {
  const bool drain = change.kind == ChangeKind::kDrain;
  const TrafficSpec* source = nullptr;
  if (auto name = r.text("traffic", drain ? Need::kOptional : Need::kRequired)) {
    change.traffic = traffic_.find(*name);
    if (change.traffic < 0) {
      diags_.error(r.value_pos("traffic"),
                   "unknown traffic source '" + *name + "'" +
                       suggest(*name, [&] { return names_of(scenario_.traffic); }));
    } else {
      source = &scenario_.traffic[change.traffic];
      if (!source->regional())
        diags_.error(r.value_pos("traffic"), "traffic '" + *name +
                                                 "' is not regional: only a source with "
                                                 "'regions' can be steered");
    }
  }
  change.shift = r.duration("shift", Range::at_least(0)).value_or(0);
  if (drain) {
    if (auto region = r.text("region", Need::kRequired)) {
      change.region = *region;
      if (regions_.find(*region) < 0) {
        diags_.error(r.value_pos("region"),
                     "unknown region '" + *region + "'" +
                         suggest(*region, [&] { return names_of(scenario_.regions); }));
      } else if (source && source->regional() && source->region_index(*region) < 0) {
        diags_.error(r.value_pos("region"),
                     "traffic '" + source->name + "' is not served in region '" + *region + "'");
      } else if (!source) {
        bool served = false;
        for (const TrafficSpec& traffic : scenario_.traffic)
          served = served || traffic.region_index(*region) >= 0;
        if (!served && !r.has("traffic"))
          diags_.warning(r.value_pos("region"), "no regional traffic is served in region '" +
                                                    *region + "': draining it moves nothing");
      }
    }
    change.restore = r.duration("restore", Range::above(0));
    if (change.restore && r.has("at") && *change.restore <= change.at)
      diags_.error(r.value_pos("restore"), "'restore' must come after 'at'");
    else if (change.restore && duration_ && *change.restore >= *duration_)
      diags_.warning(r.value_pos("restore"), "change '" + change.name + "' restores at " +
                                                 format_duration(*change.restore) +
                                                 never_happens());
    return;
  }
  if (auto weights = r.value("weights", Need::kRequired); weights && source && source->regional())
    change.region_weights = read_region_weights(*weights, r.value_pos("weights"), *source);
}

void Loader::read_rollout(MapReader& r, ChangeSpec& change) {
  bool strategy_known = true;  // a strategy not read owns no key (said once, at it)
  if (auto strategy = r.text("strategy")) {
    const std::vector<std::string> names = {"rolling", "canary", "blue-green"};
    if (*strategy == "rolling")
      change.strategy = RolloutStrategy::kRolling;
    else if (*strategy == "canary")
      change.strategy = RolloutStrategy::kCanary;
    else if (*strategy == "blue-green")
      change.strategy = RolloutStrategy::kBlueGreen;
    else {
      strategy_known = false;
      diags_.error(r.value_pos("strategy"),
                   "'strategy' must be rolling, canary or blue-green, "
                   "got '" +
                       *strategy + "'" + did_you_mean(*strategy, names));
    }
  } else if (r.has("strategy")) {
    strategy_known = false;
  }
  const bool rolling = change.strategy == RolloutStrategy::kRolling;
  const bool canary = change.strategy == RolloutStrategy::kCanary;
  const bool blue_green = change.strategy == RolloutStrategy::kBlueGreen;
  // Beyond the replicas (at most kMaxReplicas) a bound means all of them: clamped so that it
  // fits an int and the sum of the two cannot overflow.
  const auto replicas_bound = [&r](std::string_view key, std::int64_t fallback) {
    return static_cast<int>(
        std::min(r.integer(key, Range::at_least(0)).value_or(fallback), kMaxReplicas));
  };
  change.max_surge = replicas_bound("maxSurge", 1);
  change.max_unavailable = replicas_bound("maxUnavailable", 0);
  if (rolling && change.max_surge + change.max_unavailable == 0)
    diags_.error(r.pos(), "'maxSurge' and 'maxUnavailable' cannot both be 0");
  change.start_time = r.duration("startTime", Range::at_least(0)).value_or(30 * kSecond);
  const std::vector<YAML::Node> steps = r.list("steps", canary ? Need::kRequired : Need::kOptional);
  if (canary && steps.empty() && r.has("steps") && r.value("steps")->IsSequence())
    diags_.error(r.value_pos("steps"), "a canary's 'steps' must list at least one step");
  if (steps.size() > kMaxChangeSteps)
    diags_.error(r.value_pos("steps"), "a canary has at most " + std::to_string(kMaxChangeSteps) +
                                           " steps, got " + std::to_string(steps.size()));
  for (const YAML::Node& step_node : steps) {
    if (steps.size() > kMaxChangeSteps) break;
    MapReader step(step_node, "canary step", {"weight", "pause"}, diags_);
    if (!step.is_map()) continue;
    CanaryStep canary_step;
    canary_step.weight =
        step.percent("weight", Range::closed(0, 100), Need::kRequired).value_or(0) / 100.0;
    canary_step.pause = step.duration("pause", Range::at_least(0)).value_or(0);
    // A canary widens: a step below the one before takes traffic back from the new version
    // (it runs so, but a rollback says that better).
    if (!change.canary.empty() && step.has("weight") &&
        canary_step.weight < change.canary.back().weight)
      diags_.warning(step.value_pos("weight"),
                     "canary step weight " + format_number(canary_step.weight * 100) +
                         " is below the step before (" +
                         format_number(change.canary.back().weight * 100) +
                         "): the canary shrinks; steps usually only grow (a rollback ends it)");
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
    if (strategy_known && r.has(key.key) && !key.used)
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
  auto flag_value = [&](const char* key) { return r.boolean(key).value_or(false); };
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
  // A defect that adds nothing ({}, errorPercent: 0, an incompatibility alone) is no
  // incident: the change runs as one without a defect, which a user who wrote it rarely
  // means.
  if (!change.defect.any())
    diags_.warning(r.pos(), std::string("this defect does nothing (no latency, errorPercent, "
                                        "crashOnStart, badImage or memory leak above 0") +
                                (change.defect.incompatible_service >= 0
                                     ? "; incompatibleWith only limits when one of them shows"
                                     : "") +
                                "): the change is no incident in the ground truth");
}

}  // namespace dosim::loader
