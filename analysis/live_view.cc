#include "dosim/analysis/live_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "analysis/html_page.h"
#include "analysis/json_number.h"

namespace dosim {
namespace {

using Json = nlohmann::ordered_json;

constexpr double kFailingErrors = 0.05, kDegradedErrors = 0.01, kDegradedLatency = 1.5;
// The p95 reference follows the p95 with these time constants (seconds): while the service
// looks healthy, while it does not (a fault is absorbed only slowly), and over the first
// five simulated minutes (traffic ramping up from nothing).
constexpr double kFollowHealthy = 300, kFollowDegraded = 3600, kFollowWarmUp = 30;
constexpr SimTime kWarmUp = 5 * 60 * kSecond;
// The p95 compared with it is itself smoothed over about 10 s: a service at a few requests a
// second has a noisy p95 (few samples a tick), which should not make it flicker.
constexpr double kSmoothing = 10;

// The fault kinds the page offers, with the keys each needs and their first values.
Json catalogue(const Scenario& scenario) {
  Json kinds = Json::array();
  const auto kind = [&](const char* name, const char* target, Json parameters, const char* what) {
    kinds.push_back({{"kind", name},
                     {"target", target},
                     {"parameters", std::move(parameters)},
                     {"does", what}});
  };
  kind("latency", "service", {{"fixedDelay", "300ms"}, {"percent", 100}},
       "adds a delay to a share of the requests (Istio fault.delay)");
  kind("error", "service", {{"percent", 50}, {"httpStatus", 503}},
       "fails a share of the requests at once (Istio fault.abort)");
  kind("cpu-stress", "service", {{"load", 80}}, "a stressor takes a share of every replica's CPU");
  kind("pod-kill", "service", {{"mode", "one"}, {"restartTime", "30s"}},
       "kills replicas; they are ready again after restartTime");
  kind("crash-loop", "service", {{"mode", "all"}, {"crashAfter", "20s"}},
       "replicas crash and restart with Kubernetes' back-off");
  kind("memory-leak", "service", {{"rate", 20}},
       "memory grows by rate % of the limit a minute until OOM kills");
  kind("memory-stress", "service", {{"size", 50}, {"ramp", "30s"}},
       "a stressor holds size % of each replica's memory limit");
  kind("maintenance", "service", {{"mode", "one"}}, "drains replicas for the window");
  bool zones = false;
  for (const RegionSpec& region : scenario.regions) zones = zones || !region.zones.empty();
  if (zones) kind("outage", "zone", Json::object(), "every replica placed in the zone is down");
  if (!scenario.regions.empty())
    kind("outage", "region", Json::object(), "every replica placed in the region is down");
  return kinds;
}

}  // namespace

LiveView::LiveView(const Scenario& scenario, std::size_t history)
    : scenario_(scenario), history_(std::max<std::size_t>(history, 2)) {
  const std::size_t services = scenario.services.size();
  // A sparkline covers about a tenth of the run, at least a tick a point.
  const SimTime tick = std::max<SimTime>(scenario.tick, 1);
  sample_ = std::max<SimTime>(
      tick, scenario.duration / 10 / static_cast<SimTime>(history_) / tick * tick);
  reference_p95_.assign(services, INFINITY);
  recent_p95_.assign(services, 0);
  health_.assign(services, "idle");
  rps_.assign(services, 0);
  errors_.assign(services, 0);
  p95_.assign(services, 0);
  sample_times_.assign(history_, 0);
  history_rps_.assign(history_ * services, 0);
  history_errors_.assign(history_ * services, 0);
  history_p95_.assign(history_ * services, 0);
}

void LiveView::on_frame(const Frame& frame) {
  const std::size_t services = scenario_.services.size();
  const auto rps = frame.service(ServiceMetric::kRps);
  const auto errors = frame.service(ServiceMetric::kErrorRatio);
  const auto p95 = frame.service(ServiceMetric::kLatencyP95);
  const auto ready = frame.service(ServiceMetric::kReadyReplicas);
  const double tick_s = static_cast<double>(scenario_.tick) / 1e9;
  // A point spans `sample_` from its first tick (its time is its last tick's: measured from
  // that, every tick was a tick after the last and the run was one point).
  const bool new_sample = samples_ == 0 || frame.time - span_start_ >= sample_;
  if (new_sample) span_start_ = frame.time;
  const std::size_t slot = (new_sample ? samples_ : samples_ - 1) % history_;
  for (std::size_t s = 0; s < services; ++s) {
    const bool down = ready[s] < 0.5f && scenario_.services[s].replicas > 0;
    float& reference = reference_p95_[s];
    float& recent = recent_p95_[s];
    if (p95[s] > 0 && std::isfinite(p95[s]))
      recent =
          recent > 0
              ? recent + static_cast<float>(std::min(1.0, tick_s / kSmoothing) * (p95[s] - recent))
              : p95[s];
    const bool slow = std::isfinite(reference) && recent >= kDegradedLatency * reference;
    health_[s] = errors[s] >= kFailingErrors || down    ? "failing"
                 : errors[s] >= kDegradedErrors || slow ? "degraded"
                                                        : "healthy";
    if (p95[s] > 0 && std::isfinite(p95[s])) {
      if (!std::isfinite(reference)) {
        reference = recent;
      } else {
        const double follow = frame.time <= kWarmUp     ? kFollowWarmUp
                              : health_[s] == "healthy" ? kFollowHealthy
                                                        : kFollowDegraded;
        reference += static_cast<float>(std::min(1.0, tick_s / follow) * (recent - reference));
      }
    }
    rps_[s] = rps[s];
    errors_[s] = errors[s];
    p95_[s] = p95[s];
    // A point holds the last rps and the highest errors and p95 over its span.
    const std::size_t at = slot * services + s;
    history_rps_[at] = rps[s];
    history_errors_[at] = new_sample ? errors[s] : std::max(history_errors_[at], errors[s]);
    history_p95_[at] = new_sample ? p95[s] : std::max(history_p95_[at], p95[s]);
  }
  if (new_sample) ++samples_;
  sample_times_[slot] = frame.time;
  now_ = frame.time;
  ++ticks_;
}

void LiveView::note(SimTime t, const std::string& kind, const std::string& text) {
  story_.push_back({t, kind, text});
}

std::string LiveView::state_json(std::size_t since, int selected, const Pacing& pacing) const {
  const std::size_t services = scenario_.services.size();
  Json state;
  state["t"] = json_number(static_cast<double>(now_) / 1e9);
  state["duration"] = json_number(static_cast<double>(scenario_.duration) / 1e9);
  state["ticks"] = ticks_;
  state["paused"] = pacing.paused;
  state["ended"] = pacing.ended;
  state["speed"] = pacing.speed;
  state["health"] = health_;
  Json latest;
  for (const auto& [name, values] :
       {std::pair<const char*, const std::vector<float>*>{"rps", &rps_},
        {"error_ratio", &errors_},
        {"latency_p95_s", &p95_}}) {
    Json column = Json::array();
    for (float v : *values) column.push_back(json_number(v));
    latest[name] = std::move(column);
  }
  state["latest"] = std::move(latest);
  Json story = Json::array();
  // The newest 200 lines at most: a page that fell behind skips the rest.
  for (std::size_t i = std::max(std::min(since, story_.size()),
                                story_.size() - std::min<std::size_t>(story_.size(), 200));
       i < story_.size(); ++i)
    story.push_back({{"i", i},
                     {"t", json_number(static_cast<double>(story_[i].t) / 1e9)},
                     {"kind", story_[i].kind},
                     {"text", story_[i].text}});
  state["story"] = std::move(story);
  state["story_size"] = story_.size();
  if (selected >= 0 && static_cast<std::size_t>(selected) < services) {
    const std::size_t count = std::min(samples_, history_);
    Json series = {{"service", selected}};
    Json t = Json::array(), rps = Json::array(), errors = Json::array(), p95 = Json::array();
    for (std::size_t k = samples_ - count; k < samples_; ++k) {
      const std::size_t slot = k % history_;
      const std::size_t at = slot * services + static_cast<std::size_t>(selected);
      t.push_back(json_number(static_cast<double>(sample_times_[slot]) / 1e9));
      rps.push_back(json_number(history_rps_[at]));
      errors.push_back(json_number(history_errors_[at]));
      p95.push_back(json_number(history_p95_[at]));
    }
    series["t"] = std::move(t);
    series["rps"] = std::move(rps);
    series["error_ratio"] = std::move(errors);
    series["latency_p95_s"] = std::move(p95);
    state["series"] = std::move(series);
  }
  return state.dump();
}

std::string LiveView::page_html() const {
  Json data;
  data["scenario"] = scenario_.name;
  data["duration"] = json_number(static_cast<double>(scenario_.duration) / 1e9);
  Json services = Json::array();
  for (const ServiceSpec& s : scenario_.services)
    services.push_back({{"name", s.name}, {"region", s.region}, {"zone", s.zone}});
  data["services"] = std::move(services);
  Json edges = Json::array();
  for (const DependencySpec& d : scenario_.dependencies) edges.push_back({d.caller, d.callee});
  data["edges"] = std::move(edges);
  Json zones = Json::array(), regions = Json::array();
  for (const RegionSpec& region : scenario_.regions) {
    regions.push_back(region.name);
    for (const std::string& zone : region.zones) zones.push_back(zone);
  }
  data["zones"] = std::move(zones);
  data["regions"] = std::move(regions);
  data["catalogue"] = catalogue(scenario_);
  HtmlPage page;
  page.title = "dosim live: " + scenario_.name;
  page.styles = {"common.css", "live.css"};
  page.scripts = {"charts.js", "service_map.js", "live.js"};
  page.data_json = data.dump();
  page.body =
      R"(<header class="page"><h1 id="title">dosim live</h1><span class="sub" id="clock"></span></header>
<main id="live"><noscript>The live page needs JavaScript; /metrics serves the same run to Prometheus.</noscript></main>)";
  return render_html_page(page);
}

}  // namespace dosim
