// A request's latency at one queue (engine/queue_latency.h), checked against closed forms
// computed here independently: M/M/1's response time is exponential of rate mu - lambda;
// M/M/c's is the service plus Erlang C times an exponential of rate c mu (1 - rho); and the
// truncated moments against a fine numerical integral of the survival function.
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/queue_latency.h"
#include "queueing_reference.h"

using dosim::Moments;
using dosim::queue_latency;
using dosim::QueueLatency;
using dosim::testing::textbook_erlang_c;

namespace {

// The stationary M/M/c latency: service 1 / mu and the Erlang C wait's two moments.
QueueLatency mmc(int c, double mu, double rho) {
  const double p = textbook_erlang_c(c, c * rho);
  const double theta = c * mu * (1 - rho);
  return queue_latency(1 / mu, Moments{p / theta, p * (2 - p) / (theta * theta)});
}

// E[min(L, T)] and E[min(L, T)^2] by the trapezoid rule on the survival function.
Moments integrated(const QueueLatency& d, double timeout) {
  constexpr int kSteps = 200000;
  const double h = timeout / kSteps;
  double first = 0, second = 0;
  for (int i = 0; i <= kSteps; ++i) {
    const double t = i * h, w = (i == 0 || i == kSteps) ? 0.5 : 1.0;
    const double s = dosim::survival(d, t);
    first += w * s * h;
    second += w * 2 * t * s * h;
  }
  return {first, second - first * first};
}

}  // namespace

TEST_CASE("Queue latency: the stationary M/M/c wait is matched exactly", "[queue_latency]") {
  for (const int c : {1, 4, 16}) {
    for (const double rho : {0.5, 0.8, 0.9, 0.99}) {
      const double mu = 10;
      const QueueLatency d = mmc(c, mu, rho);
      INFO("c " << c << ", rho " << rho);
      CHECK(d.p_wait == Approx(textbook_erlang_c(c, c * rho)).epsilon(1e-12));
      CHECK(d.tail == Approx(1 / (c * mu * (1 - rho))).epsilon(1e-12));
      CHECK(d.shift == 0);
    }
  }
}

TEST_CASE("Queue latency: M/M/1's response time is exponential of rate mu - lambda",
          "[queue_latency]") {
  for (const double rho : {0.3, 0.5, 0.8, 0.95, 0.99}) {
    const double mu = 10, rate = mu * (1 - rho);
    const QueueLatency d = mmc(1, mu, rho);
    INFO("rho " << rho);
    for (const double x : {0.01, 0.1, 0.5, 2.0, 10.0})
      CHECK(dosim::survival(d, x) == Approx(std::exp(-rate * x)).epsilon(1e-9));
    for (const double q : {0.5, 0.95, 0.99, 0.999})
      CHECK(dosim::quantile(d, q) == Approx(-std::log(1 - q) / rate).epsilon(1e-9));
  }
}

TEST_CASE("Queue latency: M/M/c percentiles from its closed form", "[queue_latency]") {
  // P(R > x) = (1 - C) e^-mu x + C (theta e^-mu x - mu e^-theta x) / (theta - mu).
  for (const int c : {4, 16}) {
    for (const double rho : {0.5, 0.9, 0.97}) {
      const double mu = 10, theta = c * mu * (1 - rho), p = textbook_erlang_c(c, c * rho);
      const QueueLatency d = mmc(c, mu, rho);
      const auto closed = [&](double x) {
        return (1 - p) * std::exp(-mu * x) +
               p * (theta * std::exp(-mu * x) - mu * std::exp(-theta * x)) / (theta - mu);
      };
      INFO("c " << c << ", rho " << rho);
      for (const double q : {0.5, 0.95, 0.99}) {
        const double x = dosim::quantile(d, q);
        CHECK(closed(x) == Approx(1 - q).epsilon(1e-8));
      }
    }
  }
  // M/M/4 of 100 ms at 90 %: p50, p95, p99 in seconds.
  const QueueLatency d = mmc(4, 10, 0.9);
  CHECK(dosim::quantile(d, 0.50) == Approx(0.2255).epsilon(2e-3));
  CHECK(dosim::quantile(d, 0.95) == Approx(0.8166).epsilon(2e-3));
  CHECK(dosim::quantile(d, 0.99) == Approx(1.2193).epsilon(2e-3));
}

TEST_CASE("Queue latency: a wait less variable than an exponential waits surely",
          "[queue_latency]") {
  const Moments wait{0.3, 0.01};
  const QueueLatency d = queue_latency(0.05, wait);
  CHECK(d.p_wait == 1);
  CHECK(d.shift == Approx(0.2));
  CHECK(d.tail == Approx(0.1));
  CHECK(dosim::mean_of(d) == Approx(0.35));
  CHECK(dosim::survival(d, 0.19) > 0.999);  // nobody is faster than the shift
  const dosim::Truncated whole = dosim::truncate_at(d, 1e4);
  CHECK(whole.moments.mean == Approx(0.35).epsilon(1e-9));
  CHECK(whole.moments.var == Approx(0.05 * 0.05 + 0.01).epsilon(1e-9));
  CHECK(whole.p_timeout == Approx(0).margin(1e-12));
}

TEST_CASE("Queue latency: a full queue's wait of seconds has finite percentiles",
          "[queue_latency]") {
  // Behind a queue full with 10 s of work (a tick spread of a few ms), served in 10 ms: the
  // tail's asymptote once overflowed (e^(100 x 10)) and gave +inf for every percentile.
  const QueueLatency d = queue_latency(0.01, Moments{10.0, 3.3e-5});
  for (const double q : {0.5, 0.95, 0.99}) {
    const double x = dosim::quantile(d, q);
    REQUIRE(std::isfinite(x));
    CHECK(dosim::survival(d, x) == Approx(1 - q).epsilon(1e-6));
    // Between the shift and the shift plus a generous tail: about 10 s.
    CHECK(x > d.shift);
    CHECK(x < d.shift + 0.1);
  }
}

TEST_CASE("Queue latency: moments cut at a timeout", "[queue_latency]") {
  const QueueLatency cases[] = {
      mmc(1, 10, 0.8),                         // an atom and close rates
      mmc(8, 12.5, 0.7),                       // a wait much faster than the service
      queue_latency(0.1, {0.1, 0.01 + 1e-7}),  // the tail's rate within 1e-3 of service's
      queue_latency(0.05, {0.3, 0.01}),        // shifted
      queue_latency(0.0, {0.2, 0.1}),          // no service time
      queue_latency(0.08, {0, 0}),             // no wait
  };
  for (const QueueLatency& d : cases) {
    for (const double timeout : {0.01, 0.25, 0.5, 2.0}) {
      const dosim::Truncated cut = dosim::truncate_at(d, timeout);
      const Moments reference = integrated(d, timeout);
      INFO("service " << d.service << ", p " << d.p_wait << ", shift " << d.shift << ", tail "
                      << d.tail << ", timeout " << timeout);
      CHECK(cut.moments.mean == Approx(reference.mean).epsilon(1e-6));
      CHECK(cut.moments.var == Approx(reference.var).epsilon(1e-4).margin(1e-10));
      CHECK(cut.p_timeout == Approx(dosim::survival(d, timeout)));
    }
  }
}
