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

}  // namespace

Responder::Responder(Simulation& simulation, const DetectorRunner& detectors, std::uint64_t seed)
    : simulation_(simulation), detectors_(detectors), seed_(seed) {
  triggers_.assign(simulation.scenario().playbooks.size(), 0);
}

void Responder::on_frame(const Frame& frame) {
  latest_.assign(frame.service_values.begin(), frame.service_values.end());
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
  // A person: log-normal acknowledgement with the given median and p90.
  const RandomStream stream(seed_, entity_id("oncall/" + pb.name), Purpose::kScenario);
  const double mu = std::log(static_cast<double>(pb.ack_median));
  const double sigma =
      std::log(static_cast<double>(pb.ack_p90) / static_cast<double>(pb.ack_median)) / kZ90;
  const auto ack = static_cast<SimTime>(std::exp(mu + sigma * stream.normal(triggers_[p]++)));
  simulation_.at(alerted + ack, [=, this] {
    record(p, service, alerted, "acknowledge",
           "after " + format_duration(simulation_.now() - alerted));
    simulation_.at(simulation_.now() + pb.investigate,
                   [=, this] { run_step(p, service, 0, alerted); });
  });
}

void Responder::run_step(std::size_t p, int service, std::size_t step, SimTime alerted) {
  const PlaybookSpec& pb = simulation_.scenario().playbooks[p];
  if (step >= pb.steps.size()) {
    record(p, service, alerted, "escalate", "no step left");
    return;
  }
  int undo_to = -1;  // a scale's replica count before it
  if (pb.steps[step].action == PlaybookStep::Action::kRollback) {
    if (!simulation_.rollback(service)) {
      record(p, service, alerted, "rollback", "nothing to roll back");
      run_step(p, service, step + 1, alerted);
      return;
    }
    record(p, service, alerted, "rollback", "rolled back");
  } else {
    const int before = replicas_of(service);
    const int after = std::clamp(before + pb.steps[step].by, 0, 1'000'000);
    simulation_.set_replicas(service, after);
    undo_to = before;
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
  const double value = m >= 0 && latest_.size() == kServiceMetricNames.size() * services
                           ? latest_[static_cast<std::size_t>(m) * services + service]
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
