// dosim serve SCENARIO --listen HOST:PORT [--speed X] [--seed N] [--out TRACE]
// [--alertmanager URL] [--exit-at-end]: the run paced against the wall clock (X simulated
// seconds per second; 0: as fast as it goes), its latest tick served at /metrics in the
// Prometheus text format under the export's names (analysis/live_metrics.h), its alerts
// pushed to a real Alertmanager's API (/api/v2/alerts) as they fire and resolve, and
// re-sent while they fire. After the run: the trace and summary, then /metrics keeps the
// last tick until SIGINT/SIGTERM (or exits at once with --exit-at-end). docs/prometheus.md.
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "commands.h"
#include "dosim/analysis/live_metrics.h"
#include "dosim/run.h"
#include "util/process.h"

namespace dosim::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }

std::string rfc3339(std::chrono::system_clock::time_point at) {
  const std::time_t whole = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string speed_text(double speed) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", speed);
  return buffer;
}

struct Endpoint {
  std::string host;
  int port = 0;
};

Endpoint parse_host_port(const std::string& text, const std::string& what) {
  std::string rest = text;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const std::size_t colon = rest.rfind(':');
  char* end = nullptr;
  const long port =
      colon == std::string::npos ? 0 : std::strtol(rest.c_str() + colon + 1, &end, 10);
  if (colon == std::string::npos || colon == 0 || !end || *end != '\0' || port < 0 || port > 65535)
    throw InputError(
        "command line",
        what + " must be HOST:PORT (an IPv4 address or localhost), got '" + text + "'");
  return {rest.substr(0, colon), static_cast<int>(port)};
}

// The JSON Alertmanager's v2 API takes for one alert.
nlohmann::json alertmanager_alert(const Alert& alert, const Scenario& scenario,
                                  std::chrono::system_clock::time_point started,
                                  std::chrono::system_clock::time_point now, bool resolved) {
  nlohmann::json labels = {{"alertname", alert.detector}, {"detector", alert.detector}};
  if (alert.service >= 0 && static_cast<std::size_t>(alert.service) < scenario.services.size())
    labels["service"] = scenario.services[alert.service].name;
  if (!alert.metric.empty()) labels["metric"] = alert.metric;
  if (!alert.severity.empty()) labels["severity"] = alert.severity;
  if (!alert.target.empty()) labels["target"] = alert.target;
  for (const DetectorSpec& detector : scenario.detectors)
    if (detector.name == alert.detector)
      for (const auto& [name, value] : detector.labels) labels[name] = value;
  nlohmann::json json = {
      {"labels", labels},
      {"annotations",
       {{"simulated_time", format_duration(alert.time)}, {"scenario", scenario.name}}},
      {"startsAt", rfc3339(started)},
      {"generatorURL", "dosim://" + scenario.name}};
  if (resolved) json["endsAt"] = rfc3339(now);
  return json;
}

HttpServer::Response answer(void* context, const std::string& method, const std::string& path) {
  const auto* metrics = static_cast<const LiveMetrics*>(context);
  if (method != "GET") return {405, "text/plain; charset=utf-8", "GET only\n"};
  if (path == "/metrics" || path.rfind("/metrics?", 0) == 0)
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics->text()};
  if (path == "/" || path == "/-/ready")
    return {200, "text/plain; charset=utf-8", "dosim serve: /metrics\n"};
  return {404, "text/plain; charset=utf-8", "not found: /metrics\n"};
}

}  // namespace

int serve_command(const ServeOptions& options) {
  const Endpoint listen = parse_host_port(options.listen, "--listen");
  std::optional<Endpoint> alertmanager;
  if (!options.alertmanager.empty())
    alertmanager = parse_host_port(options.alertmanager, "--alertmanager");
  if (!(options.speed >= 0) || !std::isfinite(options.speed))
    throw InputError("command line", "--speed must be a number >= 0 (0: as fast as it goes)");
  RunOptions run_options;
  run_options.seed = options.seed;
  run_options.trace_path = options.out_path;
  const RunPlan plan = RunPlan::load(options.scenario_path, run_options);
  const Scenario& scenario = plan.scenario();
  std::unique_ptr<HttpServer> server;
  try {
    server = std::make_unique<HttpServer>(listen.host, listen.port);
  } catch (const std::runtime_error& e) {
    throw InputError("command line", "cannot listen on " + options.listen + ": " + e.what());
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  Run run(plan);
  LiveMetrics metrics(scenario);
  run.add_sink(&metrics);
  std::printf("dosim serve: %s on http://%s:%d/metrics, %s\n", scenario.name.c_str(),
              listen.host.c_str(), listen.port,
              options.speed > 0 ? (speed_text(options.speed) + " simulated s per s").c_str()
                                : "as fast as it goes");
  std::fflush(stdout);

  const auto wall_start = std::chrono::steady_clock::now();
  const double tick_s = static_cast<double>(scenario.tick) / 1e9;
  const std::int64_t total = scenario.tick_count();
  std::int64_t ticked = 0;
  // Alerts pushed: when each started on the wall clock, and whether its end was sent.
  std::vector<std::chrono::system_clock::time_point> pushed_at;
  std::vector<bool> ended;
  auto last_resend = std::chrono::steady_clock::now();
  std::size_t push_failures = 0;
  const auto push = [&](bool resend_all) {
    if (!alertmanager) return;
    const std::vector<Alert>& alerts = run.alerts();
    const auto now = std::chrono::system_clock::now();
    nlohmann::json batch = nlohmann::json::array();
    for (std::size_t a = 0; a < alerts.size(); ++a) {
      const bool is_new = a >= pushed_at.size();
      if (is_new) {
        pushed_at.push_back(now);
        ended.push_back(false);
      }
      const bool resolved = alerts[a].resolved >= 0;
      if (is_new || (resolved && !ended[a]) || (resend_all && !ended[a])) {
        batch.push_back(alertmanager_alert(alerts[a], scenario, pushed_at[a], now, resolved));
        if (resolved) ended[a] = true;
      }
    }
    if (batch.empty()) return;
    const HttpResponse response =
        http_request(alertmanager->host, alertmanager->port, "POST", "/api/v2/alerts", batch.dump(),
                     "application/json", 5000);
    if (!response.ok && push_failures++ == 0)
      std::fprintf(stderr, "dosim serve: warning: Alertmanager at %s refused alerts (%d): %s\n",
                   options.alertmanager.c_str(), response.status, response.body.c_str());
  };

  while (ticked < total && !g_stop.load()) {
    std::int64_t due = total;
    if (options.speed > 0) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
      due = std::min<std::int64_t>(total,
                                   static_cast<std::int64_t>(elapsed * options.speed / tick_s));
    }
    // As fast as it goes: a tick at a time, answering scrapes in between.
    const std::int64_t step = options.speed > 0 ? due - ticked : 1;
    if (step > 0) {
      run.step(step);
      ticked += step;
      push(false);
    }
    const auto now = std::chrono::steady_clock::now();
    const bool resend = now - last_resend > std::chrono::seconds(30);
    if (resend) {
      push(true);
      last_resend = now;
    }
    int wait_ms = 0;
    if (options.speed > 0 && ticked < total) {
      const double next = static_cast<double>(ticked + 1) * tick_s / options.speed;
      const double elapsed = std::chrono::duration<double>(now - wall_start).count();
      wait_ms = static_cast<int>(std::clamp((next - elapsed) * 1000.0, 0.0, 1000.0));
    }
    server->serve_for(wait_ms, answer, &metrics);
  }
  const RunReport report = run.run(&g_stop);
  push(false);
  std::printf("dosim serve: %s simulated, %zu alerts, %zu incidents%s\n",
              format_duration(report.result.simulated).c_str(), report.alerts.size(),
              report.incidents.size(), report.result.completed ? "" : " (stopped)");
  if (!report.trace_path.empty()) std::printf("  trace %s\n", report.trace_path.c_str());
  std::fflush(stdout);
  if (!options.exit_at_end) {
    std::printf("dosim serve: the last tick stays at /metrics until interrupted\n");
    std::fflush(stdout);
    while (!g_stop.load()) {
      server->serve_for(500, answer, &metrics);
      const auto now = std::chrono::steady_clock::now();
      if (now - last_resend > std::chrono::seconds(30)) {
        push(true);
        last_resend = now;
      }
    }
  }
  return kExitOk;
}

}  // namespace dosim::cli
