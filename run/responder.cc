#include "run/responder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/rng.h"

namespace dosim {
namespace {

constexpr double kZ90 = 1.2815515655446004;  // the standard normal's 90th percentile

int metric_index(const std::string& name) {
  for (std::size_t m = 0; m < kServiceMetricNames.size(); ++m)
    if (kServiceMetricNames[m] == name) return static_cast<int>(m);
  return -1;
}

// The simulated calendar starts on a Monday at 00:00: business hours are 09:00 to 18:00,
// Monday to Friday.
bool business_hours(SimTime t) {
  const SimTime day = t / kDay;
  const SimTime hour = (t % kDay) / kHour;
  return day % 7 < 5 && hour >= 9 && hour < 18;
}

}  // namespace

Responder::Responder(Simulation& simulation, const DetectorRunner& detectors, std::uint64_t seed)
    : simulation_(simulation), detectors_(detectors), seed_(seed) {
  triggers_.assign(simulation.scenario().playbooks.size(), 0);
}

void Responder::on_frame(const Frame&) {
  const std::vector<Alert>& alerts = detectors_.alerts();
  const std::vector<PlaybookSpec>& playbooks = simulation_.scenario().playbooks;
  for (; alerts_seen_ < alerts.size(); ++alerts_seen_) {
    const Alert& alert = alerts[alerts_seen_];
    if (alert.service < 0) continue;  // an incident rule's whole-system alert
    for (std::size_t p = 0; p < playbooks.size(); ++p) {
      const PlaybookSpec& pb = playbooks[p];
      if ((!pb.detector.empty() && pb.detector != alert.detector) ||
          (!pb.severity.empty() && pb.severity != alert.severity) ||
          (!pb.metric.empty() && pb.metric != alert.metric) ||
          (!pb.services.empty() &&
           std::find(pb.services.begin(), pb.services.end(), alert.service) == pb.services.end()))
        continue;
      const auto key = std::make_pair(p, alert.service);
      if (const auto found = cooldown_until_.find(key);
          found != cooldown_until_.end() && alert.time < found->second)
        continue;
      cooldown_until_[key] = alert.time + pb.cooldown;
      trigger(p, alert);
    }
  }
}

void Responder::trigger(std::size_t p, const Alert& alert) {
  const PlaybookSpec& pb = simulation_.scenario().playbooks[p];
  const int service = alert.service;
  const SimTime alerted = alert.time;
  if (!pb.oncall) {
    simulation_.at(alerted + pb.after, [=, this] { run_step(p, service, 0, alerted); });
    return;
  }
  // A person: log-normal acknowledgement with the given median and p90 (out of business
  // hours, the off-hours ones when given).
  const bool off = pb.off_hours_median && !business_hours(alerted);
  const double median = static_cast<double>(off ? *pb.off_hours_median : pb.ack_median);
  const double p90 = static_cast<double>(off ? *pb.off_hours_p90 : pb.ack_p90);
  const RandomStream stream(seed_, entity_id("oncall/" + pb.name), Purpose::kScenario);
  const double mu = std::log(median);
  const double sigma = std::log(p90 / median) / kZ90;
  const auto ack = static_cast<SimTime>(std::exp(mu + sigma * stream.normal(triggers_[p]++)));
  simulation_.at(alerted + ack, [=, this] {
    record(p, service, alerted, "acknowledge",
           "after " + format_duration(simulation_.now() - alerted));
    simulation_.at(simulation_.now() + pb.investigate,
                   [=, this] { run_step(p, service, 0, alerted); });
  });
}

void Responder::run_step(std::size_t p, int service, std::size_t step, SimTime alerted,
                         bool approved) {
  const PlaybookSpec& pb = simulation_.scenario().playbooks[p];
  if (step >= pb.steps.size()) {
    record(p, service, alerted, "escalate", "no step left");
    return;
  }
  if (pb.steps[step].approval > 0 && !approved) {
    record(p, service, alerted, "approval",
           "waiting " + format_duration(pb.steps[step].approval) + " for an approval");
    simulation_.at(simulation_.now() + pb.steps[step].approval,
                   [=, this] { run_step(p, service, step, alerted, true); });
    return;
  }
  // The rate limit: at most max_actions_per_hour actions in any hour; beyond, escalated.
  const int limit = simulation_.scenario().max_actions_per_hour;
  if (limit > 0) {
    const SimTime now = simulation_.now();
    const auto recent = std::count_if(acted_at_.begin(), acted_at_.end(),
                                      [&](SimTime t) { return t > now - kHour; });
    if (recent >= limit) {
      record(p, service, alerted, "escalate",
             "rate limit: " + std::to_string(limit) + " actions in the last hour");
      return;
    }
  }
  int undo_to = -1;  // a scale's replica count before it
  if (pb.steps[step].action == PlaybookStep::Action::kRollback) {
    if (!simulation_.rollback(service)) {
      record(p, service, alerted, "rollback", "nothing to roll back");
      run_step(p, service, step + 1, alerted);
      return;
    }
    record(p, service, alerted, "rollback", "rolled back");
    acted_at_.push_back(simulation_.now());
  } else {
    const int before = replicas_of(service);
    const int after = std::clamp(before + pb.steps[step].by, 0, 1'000'000);
    simulation_.set_replicas(service, after);
    undo_to = before;
    acted_at_.push_back(simulation_.now());
    record(p, service, alerted, "scale",
           std::to_string(before) + " -> " + std::to_string(after) + " replicas");
  }
  if (pb.verify_metric.empty()) return;
  simulation_.at(simulation_.now() + pb.verify_within,
                 [=, this] { verify(p, service, step, alerted, undo_to); });
}

void Responder::verify(std::size_t p, int service, std::size_t step, SimTime alerted, int undo_to) {
  const PlaybookSpec& pb = simulation_.scenario().playbooks[p];
  const int m = metric_index(pb.verify_metric);
  const std::size_t services = simulation_.scenario().services.size();
  // The last simulated tick's frame: a callback runs between ticks.
  const Frame& frame = simulation_.frame();
  const double value = m >= 0 && frame.services == services
                           ? frame.service(static_cast<ServiceMetric>(m))[service]
                           : 0.0;
  char text[96];
  std::snprintf(text, sizeof text, "%s %.4g %s %.4g", pb.verify_metric.c_str(), value,
                value < pb.verify_below ? "<" : ">=", pb.verify_below);
  if (value < pb.verify_below) {
    record(p, service, alerted, "verify", std::string("recovered: ") + text);
    return;
  }
  record(p, service, alerted, "verify", std::string("not recovered: ") + text);
  if (undo_to >= 0) {
    const int now = replicas_of(service);
    simulation_.set_replicas(service, undo_to);
    record(p, service, alerted, "undo",
           std::to_string(now) + " -> " + std::to_string(undo_to) + " replicas");
  }
  run_step(p, service, step + 1, alerted);
}

// The service's replica count now: the last `scale` of the change log, else as declared.
int Responder::replicas_of(int service) const {
  const Scenario& scenario = simulation_.scenario();
  int replicas = scenario.services[service].replicas;
  for (const ChangeEvent& change : simulation_.changes())
    if (change.kind == "scale" && change.target == scenario.services[service].name)
      replicas = std::atoi(change.to.c_str());
  return replicas;
}

void Responder::record(std::size_t p, int service, SimTime alerted, std::string action,
                       std::string outcome) {
  actions_.push_back({simulation_.now(), simulation_.scenario().playbooks[p].name, service, alerted,
                      std::move(action), std::move(outcome)});
}

}  // namespace dosim
