// The request level (engine/request_world.h) against closed forms and hand computations:
// M/M/c response times (mean and percentiles from the textbook distribution, written out
// here), utilisation (Little's law on the workers), retry amplification, injected delays
// and aborts per request, replicas that go away, determinism, and the counterfactual.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"
#include "engine/world.h"
#include "queueing_reference.h"
#include "simulation_test_support.h"

using namespace dosim;
using namespace dosim::testing;

namespace {

// M/M/c response time W = Wq + S: Wq is 0 with probability 1 - C, else exponential of rate
// theta = c mu - lambda; S is exponential of rate mu. P(W > t):
double mmc_survival(int c, double lambda, double mu, double t) {
  const double C = textbook_erlang_c(c, lambda / mu);
  const double theta = c * mu - lambda;
  const double both = std::abs(theta - mu) < 1e-9
                          ? (1 + mu * t) * std::exp(-mu * t)
                          : (theta * std::exp(-mu * t) - mu * std::exp(-theta * t)) / (theta - mu);
  return (1 - C) * std::exp(-mu * t) + C * both;
}

double mmc_quantile(int c, double lambda, double mu, double p) {
  double lo = 0, hi = 1000 / mu;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (mmc_survival(c, lambda, mu, mid) > 1 - p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

struct Batches {  // per-batch (tick) values of one outcome, after the first (warm-up) tick
  std::vector<double> values;
  double mean() const {
    double sum = 0;
    for (double v : values) sum += v;
    return sum / static_cast<double>(values.size());
  }
  // Half-width of the 99.9 % confidence interval of the mean (batch means, normal).
  double half_width() const {
    const double m = mean();
    double squares = 0;
    for (double v : values) squares += (v - m) * (v - m);
    const double sd = std::sqrt(squares / static_cast<double>(values.size() - 1));
    return 3.29 * sd / std::sqrt(static_cast<double>(values.size()));
  }
};

std::string one_service(int workers, double mu, double lambda, const std::string& tick,
                        const std::string& duration) {
  return "name: mmc\nduration: " + duration + "\ntick: " + tick +
         "\nmode: requests\ndetectors: []\nservices:\n  - {name: s, replicas: 1, workers: " +
         std::to_string(workers) + ", capacity_rps: " + std::to_string(workers * mu) +
         ", base_latency: 10ms}\ntraffic:\n  - {name: t, entry: s, noise: 0, base_rps: " +
         std::to_string(lambda) + "}\n";
}

}  // namespace

TEST_CASE("one service at request level matches M/M/c: mean, percentiles, utilisation",
          "[requests]") {
  const double mu = 100;  // per worker: 10 ms mean service time
  struct Case {
    int c;
    double rho;
    const char* tick;
    const char* duration;
  };
  // Batches of one tick each; the busier, the longer a batch must be to be independent.
  const Case cases[] = {{1, 0.5, "2m", "22m"},   {1, 0.8, "5m", "55m"},  {1, 0.9, "10m", "110m"},
                        {4, 0.5, "1m", "11m"},   {4, 0.8, "2m", "22m"},  {4, 0.95, "10m", "110m"},
                        {16, 0.5, "30s", "330s"}, {16, 0.9, "2m", "22m"}, {16, 0.99, "20m", "220m"}};
  for (const Case& k : cases) {
    const double lambda = k.rho * k.c * mu;
    const Scenario scenario = scenario_from(one_service(k.c, mu, lambda, k.tick, k.duration));
    Simulation simulation(scenario, 3);
    Batches mean, p50, p95, p99, utilization;
    for (std::int64_t tick = 0; tick < scenario.tick_count(); ++tick) {
      simulation.run_ticks(1);
      if (tick == 0) continue;  // warm-up
      const TickOutcome& out = simulation.world().outcome();
      mean.values.push_back(out.latency[0].mean);
      p50.values.push_back(out.p50[0]);
      p95.values.push_back(out.p95[0]);
      p99.values.push_back(out.p99[0]);
      utilization.values.push_back(out.utilization[0]);
    }
    INFO("c = " << k.c << ", rho = " << k.rho);
    const double expected_mean = textbook_erlang_c(k.c, lambda / mu) / (k.c * mu - lambda) + 1 / mu;
    // Within the batch means' 99.9 % interval, plus 1 % for the percentiles' own bias.
    auto check_within = [](const char* what, const Batches& b, double expected, double slack) {
      INFO(what << ": measured " << b.mean() << " +- " << b.half_width() << ", expected "
                << expected);
      CHECK(std::abs(b.mean() - expected) <= b.half_width() + slack * expected);
    };
    check_within("mean", mean, expected_mean, 0.0);
    check_within("p50", p50, mmc_quantile(k.c, lambda, mu, 0.50), 0.01);
    check_within("p95", p95, mmc_quantile(k.c, lambda, mu, 0.95), 0.01);
    check_within("p99", p99, mmc_quantile(k.c, lambda, mu, 0.99), 0.01);
    // Little's law on the workers: busy workers = lambda x E[S].
    check_within("utilisation", utilization, k.rho, 0.0);
  }
}

TEST_CASE("retries amplify a callee's load by the expected attempts", "[requests]") {
  // The callee aborts half the attempts (an error fault on the edge's callee, per request).
  // With 2 retries a call makes 1 + 0.5 + 0.25 = 1.75 attempts on average and fails with
  // probability 0.125; at this low load nothing else fails.
  const Scenario scenario = scenario_from(R"(
name: retries
duration: 10m
tick: 1m
mode: requests
detectors: []
services:
  - {name: a, replicas: 2, capacity_rps: 400, base_latency: 5ms}
  - {name: b, replicas: 4, capacity_rps: 400, base_latency: 5ms}
dependencies:
  - {caller: a, callee: b, timeout: 1s, retries: 2, retry_backoff: 10ms}
traffic:
  - {name: t, entry: a, noise: 0, base_rps: 200}
faults:
  - {name: b-errors, kind: error, target: {service: b}, percent: 50, start: 0s, duration: 10m}
)");
  Simulation simulation(scenario, 5);
  double attempts = 0, arrivals = 0, failures = 0, ticks = 0;
  for (std::int64_t tick = 0; tick < scenario.tick_count(); ++tick) {
    simulation.run_ticks(1);
    if (tick == 0) continue;
    const TickOutcome& out = simulation.world().outcome();
    arrivals += out.arrivals[0];
    attempts += out.arrivals[1];
    failures += out.error_ratio[0];
    ticks += 1;
  }
  CHECK(attempts / arrivals == Approx(1.75).epsilon(0.02));
  CHECK(failures / ticks == Approx(0.125).margin(0.01));
}

TEST_CASE("a latency fault delays the share of requests it draws", "[requests]") {
  // 200 ms on 30 % of b's requests: b's mean latency rises by 60 ms, its p50 not at all
  // (fewer than half are delayed), its p95 by the full 200 ms.
  const std::string base = R"(
name: delay
duration: 11m
tick: 1m
mode: requests
detectors: []
services:
  - {name: b, replicas: 1, workers: 50, capacity_rps: 5000, base_latency: 10ms,
     service_time: deterministic}
traffic:
  - {name: t, entry: b, noise: 0, base_rps: 500}
)";
  const Scenario clean = scenario_from(base);
  const Scenario delayed = scenario_from(
      base + "faults:\n  - {name: slow, kind: latency, target: {service: b}, fixedDelay: 200ms, "
             "percent: 30, start: 0s, duration: 11m}\n");
  Simulation a(clean, 1), b(delayed, 1);
  a.run_ticks(6);
  b.run_ticks(6);
  const TickOutcome& x = a.world().outcome();
  const TickOutcome& y = b.world().outcome();
  CHECK(x.latency[0].mean == Approx(0.010).margin(0.0005));
  CHECK(y.latency[0].mean - x.latency[0].mean == Approx(0.060).margin(0.004));
  CHECK(y.p50[0] == Approx(x.p50[0]).margin(0.0005));
  CHECK(y.p95[0] == Approx(0.210).margin(0.001));
}

TEST_CASE("a killed replica fails its requests and the rest carry on", "[requests]") {
  const Scenario scenario = scenario_from(R"(
name: kill
duration: 10m
tick: 1s
mode: requests
detectors: []
services:
  - {name: s, replicas: 2, capacity_rps: 100, base_latency: 10ms}
traffic:
  - {name: t, entry: s, noise: 0, base_rps: 100}
faults:
  - {name: kill, kind: pod-kill, target: {service: s}, mode: one, start: 2m, duration: 1m,
     restartTime: 30s}
)");
  Simulation simulation(scenario, 1);
  simulation.run_ticks(120);
  const double before = simulation.world().outcome().utilization[0];
  simulation.run_ticks(1);  // the tick of the kill: in-flight requests on it fail
  const TickOutcome& at_kill = simulation.world().outcome();
  CHECK(at_kill.error_ratio[0] > 0);
  simulation.run_ticks(10);
  const TickOutcome& after = simulation.world().outcome();
  CHECK(simulation.world().frame().service(ServiceMetric::kReadyReplicas)[0] == 1.0f);
  CHECK(after.utilization[0] > before * 1.5);  // one replica serves the whole load
  CHECK(after.error_ratio[0] < 0.01);
}

TEST_CASE("request level runs are deterministic and the counterfactual is exact", "[requests]") {
  const Scenario scenario = scenario_from(R"(
name: det
duration: 6m
mode: requests
detectors: []
services:
  - {name: web, replicas: 2, capacity_rps: 100, base_latency: 5ms, load_balancer: least-request}
  - {name: db, replicas: 1, workers: 4, capacity_rps: 400, base_latency: 2ms,
     service_time: {distribution: lognormal, cv: 0.5}}
dependencies:
  - {caller: web, callee: db, calls_per_request: 1.5, timeout: 100ms, retries: 1}
traffic:
  - {name: t, entry: web, base_rps: 120}
faults:
  - {name: db-slow, kind: latency, target: {service: db}, fixedDelay: 50ms, percent: 20,
     start: 2m, duration: 1m}
)");
  const std::vector<Frame> first = run_frames(scenario, 9);
  const std::vector<Frame> second = run_frames(scenario, 9);
  REQUIRE(first.size() == second.size());
  for (std::size_t t = 0; t < first.size(); ++t) REQUIRE(same_frame(first[t], second[t]));
  // Before the fault the world equals its counterfactual: the fault changes nothing there.
  Scenario without = scenario;
  without.faults.clear();
  const std::vector<Frame> clean = run_frames(without, 9);
  for (std::size_t t = 0; t < 120; ++t) REQUIRE(same_frame(first[t], clean[t]));
  Simulation simulation(scenario, 9);
  simulation.run();
  const std::vector<IncidentRecord> truth = simulation.incidents();
  REQUIRE(truth.size() == 1);
  CHECK_FALSE(truth[0].silent);
  CHECK(truth[0].impact_start == 2 * kMinute);
}

TEST_CASE("a scenario's mode is read and --mode's override reaches the world", "[requests]") {
  Scenario scenario = scenario_from(one_service(1, 100, 50, "1s", "10s"));
  CHECK(scenario.mode == WorldMode::kRequests);
  CHECK(World(scenario, 1).requests() != nullptr);
  scenario.mode = WorldMode::kFluid;
  CHECK(World(scenario, 1).requests() == nullptr);
  CHECK_THROWS_WITH(scenario_from("name: x\nduration: 1m\nmode: request\nservices: [{name: a}]\n"),
                    Catch::Contains("'mode' must be fluid or requests, got 'request'; did you "
                                    "mean 'requests'?"));
}

TEST_CASE("a short overload starts a retry storm that outlives it only when retries exceed "
          "capacity",
          "[requests]") {
  // db at 60 % (60 of 100 requests/s); a CPU stressor halves it for 30 s. With three retries
  // the timed-out work comes back up to four times (240/s > 100/s): the storm goes on after
  // the stressor has gone. Without retries the backlog drains at 40/s and all is well.
  auto run = [](int retries) {
    const Scenario scenario = scenario_from(R"(
name: storm
duration: 10m
mode: requests
detectors: []
services:
  - {name: api, replicas: 4, capacity_rps: 400, base_latency: 5ms}
  - {name: db, replicas: 1, workers: 8, capacity_rps: 100, base_latency: 80ms, queue_limit: 2000}
dependencies:
  - {caller: api, callee: db, timeout: 500ms, retries: )" + std::to_string(retries) + R"(, retry_backoff: 10ms}
traffic:
  - {name: users, entry: api, base_rps: 60, noise: 0}
faults:
  - {name: db-stress, kind: cpu-stress, target: {service: db}, load: 50, start: 2m, duration: 30s}
)");
    Simulation simulation(scenario, 2);
    simulation.run();
    return std::pair(simulation.world().outcome(), simulation.incidents());
  };
  const auto [storm, storm_truth] = run(3);
  CHECK(storm.error_ratio[0] > 0.5);
  CHECK(storm.arrivals[1] > 2.5 * storm.arrivals[0]);  // db serves mostly retries
  REQUIRE(storm_truth.size() == 1);
  CHECK(storm_truth[0].ongoing);
  const auto [calm, calm_truth] = run(0);
  CHECK(calm.error_ratio[0] < 0.01);
  REQUIRE(calm_truth.size() == 1);
  CHECK_FALSE(calm_truth[0].ongoing);
  CHECK(calm_truth[0].impact_end < 4 * kMinute);
}

TEST_CASE("parallel calls take as long as the slowest, sequential ones as their sum",
          "[requests]") {
  // Deterministic service times at low load: front 10 ms, a 100 ms, b 50 ms (b twice).
  auto mean_latency = [](const char* calls) {
    const Scenario scenario = scenario_from(std::string(R"(
name: fanout
duration: 2m
tick: 1m
mode: requests
detectors: []
services:
  - {name: front, replicas: 1, workers: 100, capacity_rps: 10000, base_latency: 10ms,
     service_time: deterministic, calls: )") + calls + R"(}
  - {name: a, replicas: 1, workers: 100, capacity_rps: 1000, base_latency: 100ms,
     service_time: deterministic}
  - {name: b, replicas: 1, workers: 100, capacity_rps: 2000, base_latency: 50ms,
     service_time: deterministic}
dependencies:
  - {caller: front, callee: a}
  - {caller: front, callee: b, calls_per_request: 2}
traffic:
  - {name: t, entry: front, noise: 0, base_rps: 20}
)");
    Simulation simulation(scenario, 1);
    simulation.run_ticks(2);
    return simulation.world().outcome().latency[0].mean;
  };
  CHECK(mean_latency("sequential") == Approx(0.010 + 0.100 + 2 * 0.050).margin(1e-6));
  CHECK(mean_latency("parallel") == Approx(0.010 + 0.100).margin(1e-6));
}
