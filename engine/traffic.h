// External load: the requests per second that traffic sources send to entry services.
//
// Each source's rate for a tick is
//     base_rps x daily(t) x weekly(t) x noise            (a steady source), or
//     users(t) x rps_per_user x noise                    (a Locust step shape), or
//     recorded(t) x noise                                (a rate replayed from a file),
// evaluated at the middle of the tick, then split over the source's entry services by
// weight (a regional source's rate is split over its regions by TrafficSteering, steering.h,
// and only then over each region's entry services). daily(t) = 1 + amplitude cos(2 pi (hour(t) -
// peak_hour) / 24); weekly(t) is weekend_factor on Saturdays and Sundays, else 1. noise is
// log-normal with mean 1 and the source's coefficient of variation, drawn from the source's own
// random stream, so adding a source changes nobody else's draws. Locust users move toward their
// target (baseline plus active surges) by at most spawn_rate x tick per tick, starting from 0 as
// Locust does. At request level (Scenario::mode) Locust sources run a closed loop instead (every
// user sends, waits for the answer, waits its wait_time: engine/request_world.h): their rates are
// still computed and reported, but not added to `offered` nor routed; looping_users() says how many
// users loop (users(t) x daily(t) x weekly(t)). In the fluid model Locust sources close
// their loop on the mean: each user sends once per cycle, max(1 / rps_per_user, answer)
// under constant_throughput and constant_pacing, wait + answer under constant and between
// (their mean wait), where `answer` is the mean time the source's last tick's requests took
// to be answered (set_answer_seconds; 0 before any), so a saturated system gets fewer
// requests from its users, as at request level.
// Not thread-safe; call once per tick, in tick order.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "dosim/engine/scenario.h"
#include "rng.h"

namespace dosim {

class TrafficModel {
 public:
  TrafficModel(const Scenario& scenario, std::uint64_t seed);

  // Computes every source's rate for tick `tick` (which spans [start, start + length)) and
  // adds the arrivals of the sources that are not regional to `offered`, indexed by service,
  // and, when given, the variance per second of their count in a tick to `variance`: the
  // rate for a Poisson source, less for Locust users that pace themselves (dispersion).
  // REQUIRES: offered.size() == number of services, variance empty or of the same size.
  void add_arrivals(std::int64_t tick, SimTime start, SimTime length, std::span<double> offered,
                    std::span<double> variance = {});

  // Variance over mean of a source's count of requests in a tick of `length`, in the fluid
  // model: 1 (Poisson) but for Locust users, each of whom sends once per cycle at a phase
  // of their own: f (1 - f) / m for m = tick / cycle sends a tick (f its fraction), plus
  // the cycle's squared coefficient of variation where the answer (taken as exponential)
  // or a `between` wait sets it; at most 1.
  double dispersion(int source, SimTime length) const;

  // Fluid model: the mean answer time of the requests of source `source` in the last tick,
  // which its Locust users wait before they send again (0: none, the open-loop rate).
  void set_answer_seconds(int source, double seconds) { answer_seconds_[source] = seconds; }

  // Rate of source `source` in its last tick (before it is split over entry services).
  double last_rate(int source) const { return last_rate_[source]; }
  std::span<const double> last_rates() const { return last_rate_; }
  // Current Locust user count of a source (0 for steady sources).
  double users(int source) const { return users_[source]; }
  // Whether a source's users loop at request level, and how many do in the last tick.
  bool closed_loop(int source) const { return closed_loop_ && scenario_.traffic[source].locust; }
  int looping_users(int source) const { return looping_users_[source]; }
  // The last rates of the sources that `offered` gets (0 for the closed-loop ones): what a
  // regional source's router splits.
  std::span<const double> open_rates() const { return open_rate_; }

 private:
  double shape(const TrafficSpec& source, SimTime mid) const;

  const Scenario& scenario_;
  std::vector<RandomStream> noise_;
  std::vector<double> noise_sigma_;
  std::vector<double> users_;
  std::vector<double> last_rate_, open_rate_, answer_seconds_;
  std::vector<int> looping_users_;
  bool closed_loop_ = false;
};

}  // namespace dosim
