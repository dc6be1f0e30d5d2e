#include "dosim/engine/operations.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <utility>

namespace dosim {
namespace {

int replicas_of(const Scenario& scenario, const ChangeSpec& change) {
  return scenario.services[change.services.front()].replicas;
}

int rolling_batch(const ChangeSpec& change) {
  return std::max(1, change.max_surge + change.max_unavailable);
}

// A share as a percent: whole where it is whole, else to the hundredth ("0.5%", not "1%").
std::string percent(double share) {
  const long hundredths = std::lround(share * 10000);
  if (hundredths % 100 == 0) return std::to_string(hundredths / 100) + "%";
  std::string text = std::to_string(hundredths / 100) + "." +
                     std::to_string(std::labs(hundredths) % 100 / 10) +
                     std::to_string(std::labs(hundredths) % 10);
  if (text.back() == '0') text.pop_back();
  return text + "%";
}

std::string joined_names(const Scenario& scenario, const std::vector<int>& services) {
  std::string names;
  for (int s : services) names += (names.empty() ? "" : ",") + scenario.services[s].name;
  return names;
}

}  // namespace

Operations::Operations(const Scenario& scenario) : scenario_(scenario) { record_events(); }

void Operations::refresh() {
  events_.clear();
  record_events();
}

SimTime Operations::rollout_end(const ChangeSpec& change) const {
  switch (change.strategy) {
    case RolloutStrategy::kRolling: {
      const int replicas = replicas_of(scenario_, change);
      const int steps = (replicas + rolling_batch(change) - 1) / rolling_batch(change);
      return time_sum(change.at, time_product(steps, change.start_time));
    }
    case RolloutStrategy::kCanary: {
      SimTime end = change.at;
      for (const CanaryStep& step : change.canary) end = time_sum(end, step.pause);
      return end;
    }
    case RolloutStrategy::kBlueGreen:
      return change.at;
  }
  return change.at;
}

int Operations::latest_deployment(int service, SimTime t) const {
  int latest = -1;
  for (const int c : deployments_of_[static_cast<std::size_t>(service)]) {
    const SimTime at = scenario_.changes[static_cast<std::size_t>(c)].at;
    if (at <= t && (latest < 0 || at >= scenario_.changes[static_cast<std::size_t>(latest)].at))
      latest = c;
  }
  return latest;
}

bool Operations::config_superseded(int index, SimTime t) const {
  const ChangeSpec& config = scenario_.changes[index];
  for (const int c : configs_) {
    const ChangeSpec& later = scenario_.changes[static_cast<std::size_t>(c)];
    if (c == index || later.at > t || later.at < config.at ||
        (later.at == config.at && c < index) || (later.revert && t >= *later.revert))
      continue;
    const bool covers = std::all_of(config.services.begin(), config.services.end(), [&](int s) {
      return std::find(later.services.begin(), later.services.end(), s) != later.services.end();
    });
    if (covers) return true;
  }
  return false;
}

double Operations::version_share(int service, const std::string& version, SimTime t) const {
  // The latest deployment of the service started by t decides: its version serves its
  // exposure, the version it replaces the rest.
  const int latest = latest_deployment(service, t);
  if (latest < 0) return version == "v1" ? 1.0 : 0.0;
  const double exposure = raw_state(latest, t).exposure;
  return (scenario_.changes[latest].version == version ? exposure : 0.0) +
         (replaced_version_[latest] == version ? 1.0 - exposure : 0.0);
}

ChangeState Operations::state(int index, SimTime t) const {
  ChangeState state = raw_state(index, t);
  const DefectProfile& defect = scenario_.changes[index].defect;
  if (defect.incompatible_service >= 0 && state.exposure > 0)
    state.exposure *= version_share(defect.incompatible_service, defect.incompatible_version, t);
  return state;
}

ChangeState Operations::raw_state(int index, SimTime t) const {
  const ChangeSpec& change = scenario_.changes[index];
  ChangeState state;
  switch (change.kind) {
    case ChangeKind::kDeployment: {
      if (t < change.at || (change.rollback && t >= *change.rollback)) return state;
      // A later deployment of the service decides from its start: this one's version serves
      // what that one leaves it (nothing once it is rolled out; all again if it is rolled
      // back), and this one's rollout holds no replicas any more.
      if (latest_deployment(change.services.front(), t) != index) {
        if (!change.defect.blocks_start())
          state.exposure = version_share(change.services.front(), change.version, t);
        return state;
      }
      const SimTime elapsed = t - change.at;
      switch (change.strategy) {
        case RolloutStrategy::kRolling: {
          const int replicas = replicas_of(scenario_, change);
          const int batch = rolling_batch(change);
          if (change.defect.blocks_start()) {  // stalled at the first step
            state.stuck = std::min(change.max_unavailable, replicas);
            state.stalled = true;
            return state;
          }
          const std::int64_t step = change.start_time > 0 ? elapsed / change.start_time : 1 << 30;
          const std::int64_t replaced = std::min<std::int64_t>(replicas, step * batch);
          state.exposure = replicas > 0 ? static_cast<double>(replaced) / replicas : 1.0;
          if (replaced < replicas)
            state.unavailable = static_cast<int>(
                std::min<std::int64_t>(change.max_unavailable, replicas - replaced));
          break;
        }
        case RolloutStrategy::kCanary: {
          state.exposure = 1.0;  // promoted once the last step's pause is over
          SimTime step_start = change.at;
          for (const CanaryStep& step : change.canary) {
            if (t < time_sum(step_start, step.pause)) {
              state.exposure = step.weight;
              break;
            }
            step_start = time_sum(step_start, step.pause);
          }
          break;
        }
        case RolloutStrategy::kBlueGreen:
          state.exposure = change.switch_back && elapsed >= *change.switch_back ? 0.0 : 1.0;
          break;
      }
      if (change.defect.blocks_start()) {  // the new replicas never serve
        state.exposure = 0;
        state.stalled = true;
      }
      break;
    }
    case ChangeKind::kConfig:
      // Until reverted, or replaced by a later config of its services (until that one is
      // reverted: the services are back on this one).
      if (t >= change.at && !(change.revert && t >= *change.revert) && !config_superseded(index, t))
        state.exposure = 1.0;
      break;
    case ChangeKind::kSecretRotation:
      if (t >= time_sum(change.at, change.deadline) && !(change.fixed_at && t >= *change.fixed_at))
        state.exposure = 1.0;  // applies to the consumers that did not reload
      break;
    case ChangeKind::kFeatureFlag:
      for (const FlagStep& step : change.flag_steps)
        if (t >= step.at) state.exposure = step.fraction * change.segment;
      break;
    case ChangeKind::kDrain:
    case ChangeKind::kTrafficShift:
      break;  // they move traffic (steering.h); nothing is exposed to a defect
  }
  return state;
}

void Operations::add_instants(const ChangeSpec& change, std::vector<SimTime>& instants) const {
  instants.push_back(change.at);
  instants.push_back(time_sum(change.at, change.deadline));
  for (auto time : {change.rollback, change.revert, change.fixed_at})
    if (time) instants.push_back(*time);
  if (change.switch_back) instants.push_back(time_sum(change.at, *change.switch_back));
  for (const FlagStep& step : change.flag_steps) instants.push_back(step.at);
  SimTime step_time = change.at;
  for (const CanaryStep& step : change.canary)
    instants.push_back(step_time = time_sum(step_time, step.pause));
  if (change.strategy == RolloutStrategy::kRolling && change.start_time > 0) {
    const int replicas = replicas_of(scenario_, change);
    const int steps = (replicas + rolling_batch(change) - 1) / rolling_batch(change);
    for (int k = 1; k <= steps; ++k)
      instants.push_back(time_sum(change.at, time_product(k, change.start_time)));
  }
}

std::pair<SimTime, SimTime> Operations::defect_window(int index) const {
  const ChangeSpec& change = scenario_.changes[index];
  if (!change.defect.any()) return {-1, -1};
  // Exposure only changes at a few known instants (its own, and those of the deployments
  // of a service it is incompatible with); scan them.
  std::vector<SimTime> instants;
  add_instants(change, instants);
  for (const ChangeSpec& other : scenario_.changes) {
    const bool deployment = other.kind == ChangeKind::kDeployment;
    // Of a service it is incompatible with; a later deployment or config of its own.
    if (deployment && other.services.front() == change.defect.incompatible_service)
      add_instants(other, instants);
    else if (other.kind == change.kind && &other != &change &&
             (deployment || other.kind == ChangeKind::kConfig) &&
             (!deployment || other.services.front() == change.services.front()))
      add_instants(other, instants);
  }
  std::sort(instants.begin(), instants.end());
  SimTime first = -1, end = -1;
  bool was_exposed = false;
  for (SimTime t : instants) {
    if (t >= scenario_.duration) break;
    const ChangeState now = state(index, t);
    const bool exposed = now.in_effect();
    if (exposed && first < 0) first = t;
    if (exposed) end = scenario_.duration;  // open until something takes it back
    if (!exposed && was_exposed) end = t;
    was_exposed = exposed;
  }
  return {first, end};
}

void Operations::record_events() {
  struct Keyed {
    ChangeEvent event;
    std::size_t order;
    bool dropped = false;  // a return a later deployment came before (below)
  };
  std::vector<Keyed> log;
  SimTime cut = 0;  // a rolled-back rollout makes no further steps
  // `opening`: a change's own start, said even when it is taken back at that instant (a
  // script's sim.rollback right after its sim.deploy).
  auto add = [&](SimTime time, std::string kind, std::string target, std::string from,
                 std::string to, bool opening = false) {
    if (time < scenario_.duration && (time < cut || opening))
      log.push_back({{time, std::move(kind), std::move(target), std::move(from), std::move(to), ""},
                     log.size()});
  };
  // Versions per service and config per service as the changes go, in time order.
  std::vector<std::size_t> by_time(scenario_.changes.size());
  for (std::size_t i = 0; i < by_time.size(); ++i) by_time[i] = i;
  std::stable_sort(by_time.begin(), by_time.end(), [&](std::size_t a, std::size_t b) {
    return scenario_.changes[a].at < scenario_.changes[b].at;
  });
  // Each service's deployments so far, in time order: its version, from when it serves
  // (`at`) until it returns to the version before it (rolled back or switched back; never:
  // the end), and that return's event in the log. The version serving just before a time
  // is that of the latest deployment not returned by then (a later one rolled back hands
  // the service back to the one before it), else v1. A return is logged only where its
  // deployment serves when it comes: a later deployment still serving then replaced it (a
  // rollback of v2 at 8m logged `v2 -> v1` while v3 had served since 5m, and the version v3
  // replaced read v1).
  constexpr SimTime kForever = std::numeric_limits<SimTime>::max();
  struct Serving {
    SimTime at, returns;
    std::string version;
    std::optional<std::size_t> event;  // in `log`
  };
  std::vector<std::vector<Serving>> served(scenario_.services.size());
  const auto version_before = [&](int service, SimTime t) -> std::string {
    const std::vector<Serving>& history = served[static_cast<std::size_t>(service)];
    for (auto it = history.rbegin(); it != history.rend(); ++it)
      if (it->returns > t) return it->version;
    return "v1";
  };
  const auto logged = [&](std::size_t before) -> std::optional<std::size_t> {
    if (log.size() == before) return std::nullopt;  // past the end or cut: not logged
    return log.size() - 1;
  };
  replaced_version_.assign(scenario_.changes.size(), "v1");
  deployments_of_.assign(scenario_.services.size(), {});
  configs_.clear();
  for (std::size_t c = 0; c < scenario_.changes.size(); ++c) {
    const ChangeSpec& change = scenario_.changes[c];
    if (change.kind == ChangeKind::kDeployment)
      deployments_of_[static_cast<std::size_t>(change.services.front())].push_back(
          static_cast<int>(c));
    else if (change.kind == ChangeKind::kConfig)
      configs_.push_back(static_cast<int>(c));
  }
  std::vector<std::string> config(scenario_.services.size(), "initial");
  // Each region's (and regional source's) drains, [at, restore) (restore: the end if none).
  std::map<std::string, std::vector<std::pair<SimTime, SimTime>>> drains;
  std::vector<std::vector<double>> admin_weights;  // per traffic source, as shifts set them
  for (const TrafficSpec& source : scenario_.traffic)
    admin_weights.push_back(source.region_weights);
  for (std::size_t index : by_time) {
    const ChangeSpec& change = scenario_.changes[index];
    const std::string target = joined_names(scenario_, change.services);
    cut = change.rollback.value_or(scenario_.duration);
    switch (change.kind) {
      case ChangeKind::kDeployment: {
        const int service = change.services.front();
        const std::string from = version_before(service, change.at);
        replaced_version_[index] = from;
        Serving serving{change.at, kForever, change.version, std::nullopt};
        // A version that cannot start stalls at the first step whatever the strategy: no
        // traffic reaches it, no canary step or switch happens (the world's exposure is 0).
        const bool stalled = change.defect.blocks_start();
        switch (stalled ? RolloutStrategy::kRolling : change.strategy) {
          case RolloutStrategy::kRolling:
            add(change.at, "deployment", target, from, change.version, true);
            if (stalled)
              add(change.at + change.start_time, "rollout-stalled", target, from, change.version);
            else
              add(rollout_end(change), "rollout-complete", target, from, change.version);
            break;
          case RolloutStrategy::kCanary: {
            add(change.at, "deployment", target, from, change.version, true);
            double weight = 0;
            SimTime step_start = change.at;
            for (const CanaryStep& step : change.canary) {
              add(step_start, "canary-step", target, percent(weight), percent(step.weight));
              weight = step.weight;
              step_start = time_sum(step_start, step.pause);
            }
            add(step_start, "canary-step", target, percent(weight), "100%");
            break;
          }
          case RolloutStrategy::kBlueGreen:
            add(change.at, "blue-green-switch", target, from, change.version, true);
            if (change.switch_back) {
              const std::size_t before = log.size();
              add(change.at + *change.switch_back, "blue-green-switch", target, change.version,
                  from);
              serving.returns = time_sum(change.at, *change.switch_back);
              serving.event = logged(before);
            }
            break;
        }
        // A blue-green switched back by then has nothing left to roll back.
        const bool back_already = !stalled && change.strategy == RolloutStrategy::kBlueGreen &&
                                  change.switch_back && change.rollback &&
                                  *change.rollback >= time_sum(change.at, *change.switch_back);
        if (change.rollback) {
          cut = scenario_.duration;
          if (!back_already) {
            const std::size_t before = log.size();
            add(*change.rollback, "rollback", target, change.version, from);
            if (*change.rollback < serving.returns) {  // before a switch-back, if any
              serving.returns = *change.rollback;
              serving.event = logged(before);
            }
          }
        }
        served[static_cast<std::size_t>(service)].push_back(std::move(serving));
        break;
      }
      case ChangeKind::kConfig: {
        const std::string from = config[change.services.front()];
        add(change.at, "config", target, from, change.version);
        if (change.revert)
          add(*change.revert, "config", target, change.version, from);
        else
          for (int s : change.services) config[s] = change.version;
        break;
      }
      case ChangeKind::kSecretRotation:
        add(change.at, "secret-rotation", change.subject, "old", "new");
        add(change.at + change.deadline, "secret-revoked", change.subject, "old", "");
        // The stragglers restarted: those that had not reloaded.
        if (change.fixed_at && !change.stragglers().empty())
          add(*change.fixed_at, "secret-reload", joined_names(scenario_, change.stragglers()),
              "old", "new");
        break;
      case ChangeKind::kFeatureFlag: {
        double previous = 0;
        for (const FlagStep& step : change.flag_steps) {
          add(step.at, "feature-flag", change.subject, percent(previous), percent(step.fraction));
          previous = step.fraction;
        }
        break;
      }
      case ChangeKind::kDrain: {
        const std::string region =
            change.traffic >= 0
                ? change.region + " (" + scenario_.traffic[change.traffic].name + ")"
                : change.region;
        drains[region].push_back({change.at, change.restore.value_or(scenario_.duration)});
        break;
      }
      case ChangeKind::kTrafficShift: {
        const TrafficSpec& source = scenario_.traffic[change.traffic];
        auto text = [&](const std::vector<double>& weights) {
          std::string split;
          for (std::size_t r = 0; r < source.regions.size(); ++r)
            split += (r ? ", " : "") + source.regions[r].region + " " + percent(weights[r]);
          return split;
        };
        std::vector<double>& before = admin_weights[change.traffic];
        add(change.at, "traffic-shift", source.name, text(before), text(change.region_weights));
        before = change.region_weights;
        break;
      }
    }
  }
  // A return comes where its deployment serves: not where a later one still serves then.
  for (const std::vector<Serving>& history : served)
    for (std::size_t e = 0; e < history.size(); ++e) {
      if (!history[e].event) continue;
      const SimTime back = history[e].returns;
      for (std::size_t l = e + 1; l < history.size(); ++l)
        if (history[l].at < back && history[l].returns > back)
          log[*history[e].event].dropped = true;
    }
  // A region is drained while any of its drains is (steering.h): overlapping drains log
  // one drain and one restore, when the last of them ends (each logged its own, so the log
  // said `serving -> drained` of a drained region and `drained -> serving` of one that
  // stayed drained).
  for (auto& [region, spans] : drains) {
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 0; i < spans.size();) {
      const SimTime start = spans[i].first;
      SimTime end = spans[i].second;
      for (++i; i < spans.size() && spans[i].first <= end; ++i)
        end = std::max(end, spans[i].second);
      add(start, "drain", region, "serving", "drained");
      add(end, "drain-restore", region, "drained", "serving");
    }
  }
  std::stable_sort(log.begin(), log.end(), [](const Keyed& a, const Keyed& b) {
    return a.event.time != b.event.time ? a.event.time < b.event.time : a.order < b.order;
  });
  for (Keyed& keyed : log)
    if (!keyed.dropped) events_.push_back(std::move(keyed.event));
}

}  // namespace dosim
