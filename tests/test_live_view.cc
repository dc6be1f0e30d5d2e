// The live page's state (analysis/live_view.h): each service's sparkline holds a point per
// span of simulated time, about a tenth of the run over its points, with the last rps and
// the highest error ratio and p95 of its span.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dosim/analysis/live_view.h"

using dosim::Frame;
using dosim::LiveView;
using dosim::Scenario;
using dosim::ServiceMetric;

TEST_CASE("Live view: a sparkline has a point per span, each the worst of its span",
          "[live_view]") {
  Scenario scenario;
  scenario.name = "live";
  scenario.tick = dosim::kSecond;
  scenario.duration = 2 * dosim::kHour;  // a tenth over 300 points: 2.4 s, 2 whole ticks
  scenario.services.emplace_back().name = "web";
  scenario.services[0].replicas = 1;
  LiveView view(scenario);
  Frame frame;
  frame.resize(1, 0, 0);
  for (std::int64_t tick = 0; tick < 7200; ++tick) {
    frame.tick = tick;
    frame.time = (tick + 1) * scenario.tick;
    frame.service(ServiceMetric::kRps)[0] = static_cast<float>(tick);
    frame.service(ServiceMetric::kErrorRatio)[0] = tick == 7000 ? 0.5f : 0.0f;
    frame.service(ServiceMetric::kLatencyP95)[0] = 0.1f;
    frame.service(ServiceMetric::kReadyReplicas)[0] = 1;
    view.on_frame(frame);
  }
  const auto state = nlohmann::json::parse(view.state_json(0, 0, LiveView::Pacing{}));
  const auto& series = state["series"];
  // 300 points of 2 ticks: the last 600 s. It was one point for the whole run, at its end,
  // with the run's worst error ratio (every tick was measured from the one before).
  REQUIRE(series["t"].size() == 300);
  CHECK(series["t"].front().get<double>() == 6602.0);
  CHECK(series["t"].back().get<double>() == 7200.0);
  CHECK(series["rps"].back().get<double>() == 7199.0);  // the last of its span
  // Tick 7000 ends at 7001 s: the point of ticks 7000 and 7001, at 7002 s, holds its errors.
  for (std::size_t i = 0; i < series["t"].size(); ++i)
    CHECK(series["error_ratio"][i].get<double>() ==
          (series["t"][i].get<double>() == 7002.0 ? 0.5 : 0.0));
}
