#include "traffic.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace dosim {

TrafficModel::TrafficModel(const Scenario& scenario, std::uint64_t seed)
    : scenario_(scenario),
      users_(scenario.traffic.size(), 0.0),
      last_rate_(scenario.traffic.size(), 0.0),
      open_rate_(scenario.traffic.size(), 0.0),
      answer_seconds_(scenario.traffic.size(), 0.0),
      looping_users_(scenario.traffic.size(), 0),
      closed_loop_(scenario.mode == WorldMode::kRequests) {
  for (const TrafficSpec& source : scenario.traffic) {
    noise_.emplace_back(seed, entity_id("traffic:" + source.name), Purpose::kTrafficNoise);
    noise_sigma_.push_back(std::sqrt(std::log1p(source.noise * source.noise)));
  }
}

namespace {

// A Locust user's mean time from one request to the next when an answer takes `answer`
// seconds (traffic.h).
double cycle_seconds(const WaitTime& wait, double answer) {
  switch (wait.kind) {
    case WaitTime::Kind::kConstantThroughput:
      return std::max(1.0 / wait.value, answer);
    case WaitTime::Kind::kConstantPacing:
      return std::max(wait.value, answer);
    case WaitTime::Kind::kConstant:
      return wait.value + answer;
    case WaitTime::Kind::kBetween:
      return 0.5 * (wait.value + wait.high) + answer;
  }
  return 1.0 / wait.value;
}

}  // namespace

double TrafficModel::shape(const TrafficSpec& source, SimTime mid) const {
  double factor = 1.0;
  if (source.daily) {
    const double hour = to_seconds(mid % kDay) / 3600.0;
    factor *= 1.0 + source.daily->amplitude *
                        std::cos(2.0 * std::numbers::pi * (hour - source.daily->peak_hour) / 24.0);
  }
  if (source.weekly) {
    const int weekday = static_cast<int>((source.weekly->start_weekday + mid / kDay) % 7);
    if (weekday >= 5) factor *= source.weekly->weekend_factor;
  }
  return factor;
}

void TrafficModel::add_arrivals(std::int64_t tick, SimTime start, SimTime length,
                                std::span<double> offered, std::span<double> variance) {
  const SimTime mid = start + length / 2;
  for (std::size_t i = 0; i < scenario_.traffic.size(); ++i) {
    const TrafficSpec& source = scenario_.traffic[i];
    double rate;
    if (source.locust) {
      const LocustShape& locust = *source.locust;
      const auto [target, spawn_rate] = locust.target(mid);
      const bool over = !locust.stages.empty() && mid >= locust.stages.back().end;
      const double step = spawn_rate * to_seconds(length);
      // After the last stage Locust stops the test: every user goes at once.
      users_[i] = over ? target : users_[i] + std::clamp(target - users_[i], -step, step);
      const double factor = shape(source, mid);
      rate = closed_loop_ || answer_seconds_[i] <= 0
                 ? users_[i] * locust.rps_per_user * factor
                 : users_[i] * factor / cycle_seconds(locust.wait, answer_seconds_[i]);
      // (At request level the run's limits keep users far below this bound.)
      if (closed_loop_)
        looping_users_[i] = static_cast<int>(std::lround(std::min(users_[i] * factor, 1e9)));
    } else if (source.recorded) {
      rate = source.recorded->rate_at(mid, source.base_rps);
    } else {
      rate = source.base_rps * shape(source, mid);
    }
    if (source.noise > 0) {
      const double sigma = noise_sigma_[i];
      rate *= std::exp(sigma * noise_[i].normal(static_cast<std::uint64_t>(tick)) -
                       0.5 * sigma * sigma);
    }
    last_rate_[i] = rate;
    if (closed_loop(static_cast<int>(i))) {
      open_rate_[i] = 0;
      continue;
    }
    open_rate_[i] = rate;
    const double spread = variance.empty() ? 1.0 : dispersion(static_cast<int>(i), length);
    for (std::size_t e = 0; e < source.entry.size(); ++e) {
      const double w = source.entry_weights[e];
      offered[source.entry[e]] += rate * w;
      // Split at random by weight: a share w of a count of dispersion D has w D + 1 - w.
      if (!variance.empty()) variance[source.entry[e]] += rate * w * (w * spread + 1.0 - w);
    }
  }
}

double TrafficModel::dispersion(int source, SimTime length) const {
  const TrafficSpec& spec = scenario_.traffic[source];
  if (!spec.locust) return 1.0;
  const WaitTime& wait = spec.locust->wait;
  const double answer = answer_seconds_[source];
  const double cycle = answer > 0 ? cycle_seconds(wait, answer) : 1.0 / spec.locust->rps_per_user;
  const double sends = to_seconds(length) / cycle;
  if (!(sends > 0)) return 1.0;
  const double f = sends - std::floor(sends);
  double cycle_variance = 0;
  switch (wait.kind) {
    case WaitTime::Kind::kConstantThroughput:
      cycle_variance = answer > 1.0 / wait.value ? answer * answer : 0.0;
      break;
    case WaitTime::Kind::kConstantPacing:
      cycle_variance = answer > wait.value ? answer * answer : 0.0;
      break;
    case WaitTime::Kind::kConstant:
      cycle_variance = answer * answer;
      break;
    case WaitTime::Kind::kBetween:
      cycle_variance = answer * answer + (wait.high - wait.value) * (wait.high - wait.value) / 12;
      break;
  }
  return std::min(1.0, f * (1.0 - f) / sends + cycle_variance / (cycle * cycle));
}

}  // namespace dosim
