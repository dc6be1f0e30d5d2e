// dosim serve SCENARIO --listen HOST:PORT [--speed X] [--seed N] [--out TRACE]
// [--alertmanager URL] [--exit-at-end]: the run paced against the wall clock (X simulated
// seconds per second; 0: as fast as it goes), its latest tick served at /metrics in the
// Prometheus text format under the export's names (analysis/live_metrics.h), its alerts
// pushed to a real Alertmanager's API (/api/v2/alerts) as they fire and resolve, and
// re-sent while they fire. At / a live page (analysis/live_view.h, docs/report.md): the
// service map coloured by health, the selected service's sparklines, the story of the run,
// and controls to pause, change the speed and inject a fault (the path Lua's sim.inject
// takes, dosim/engine/inject.h). After the run: the trace and summary, then /metrics keeps
// the last tick until SIGINT/SIGTERM (or exits at once with --exit-at-end).
// docs/prometheus.md.
#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <tuple>

#include "commands.h"
#include "dosim/analysis/live_metrics.h"
#include "dosim/analysis/live_view.h"
#include "dosim/engine/inject.h"
#include "dosim/run.h"
#include "util/interrupt_hook.h"
#include "util/json_keys.h"
#include "util/process.h"

namespace dosim::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};  // the signal that stopped it
extern "C" void on_stop_signal(int signal) {
  g_signal.store(signal);
  g_stop.store(true);
  fire_interrupt_hook();  // Python code in a loop too (util/interrupt_hook.h)
}

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

// HOST:PORT or http://HOST:PORT[/], HOST an IPv4 address or localhost (what the server
// listens on and the Alertmanager client connects to); anything else is refused here, before
// the run, not at the first push.
Endpoint parse_host_port(const std::string& text, const std::string& what) {
  const auto refuse = [&](const std::string& why) {
    throw InputError("command line", what +
                                         " must be HOST:PORT or http://HOST:PORT (an IPv4 "
                                         "address or localhost), got '" +
                                         text + "'" + why);
  };
  std::string rest = text;
  std::string scheme_of = rest.substr(0, 7);  // a scheme is any case (HTTP:// as http://)
  for (char& c : scheme_of) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme_of == "http://") {
    rest = rest.substr(7);
  } else if (const std::size_t scheme = rest.find("://"); scheme != std::string::npos) {
    refuse(": dosim speaks plain HTTP (" + rest.substr(0, scheme) + ":// is not supported)");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const std::size_t colon = rest.rfind(':');
  char* end = nullptr;
  const long port =
      colon == std::string::npos ? 0 : std::strtol(rest.c_str() + colon + 1, &end, 10);
  if (colon == std::string::npos || colon == 0 || !end || *end != '\0' || port < 0 || port > 65535)
    refuse("");
  const std::string host = rest.substr(0, colon);
  in_addr address{};
  if (host != "localhost" && ::inet_pton(AF_INET, host.c_str(), &address) != 1)
    refuse(": '" + host + "' is not an IPv4 address");
  return {host, static_cast<int>(port)};
}

// The JSON Alertmanager's v2 API takes for one alert: startsAt `started`, and where it is
// `resolved` endsAt `ended` (wall-clock times).
nlohmann::json alertmanager_alert(const Alert& alert, const Scenario& scenario,
                                  std::chrono::system_clock::time_point started,
                                  std::chrono::system_clock::time_point ended, bool resolved) {
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
  if (resolved) json["endsAt"] = rfc3339(ended);
  return json;
}

// A JSON value as the YAML node the scenario loader reads (numbers and booleans as their
// text: the loader parses scalars itself). Nested at most kMaxDepth deep (a fault is a few
// levels; a deeper body would only cost stack).
constexpr int kMaxDepth = 64;
YAML::Node yaml_of(const nlohmann::json& value, int depth = 0) {
  if (depth > kMaxDepth)
    throw RunControlError("inject: the body is nested deeper than " + std::to_string(kMaxDepth) +
                          " levels");
  YAML::Node node;
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) node[key] = yaml_of(item, depth + 1);
  } else if (value.is_array()) {
    for (const auto& item : value) node.push_back(yaml_of(item, depth + 1));
  } else if (value.is_string()) {
    node = value.get<std::string>();
  } else if (!value.is_null()) {
    node = value.dump();
  }
  return node;
}

std::string target_text(const FaultTarget& target, const Scenario& scenario) {
  if (target.is_edge()) {
    const DependencySpec& d = scenario.dependencies[target.dependency];
    return scenario.services[d.caller].name + "->" + scenario.services[d.callee].name;
  }
  if (!target.zone.empty()) return "zone " + target.zone;
  if (!target.region.empty()) return "region " + target.region;
  std::string text;
  for (int s : target.services()) text += (text.empty() ? "" : ",") + scenario.services[s].name;
  return text.empty() ? "the system" : text;
}

// What the server holds for its handlers: the run between steps, its pacing, the page.
struct Session {
  Run* run = nullptr;
  const LiveMetrics* metrics = nullptr;
  LiveView* view = nullptr;
  std::string page;
  LiveView::Pacing pacing;
  // The story's sources, as far as told: faults started / ended, changes, alerts, incidents.
  std::vector<char> fault_started, fault_ended;
  std::size_t alerts = 0, remediation = 0;
  std::vector<char> change_told;       // per change of the log: told (the log holds future ones)
  std::vector<int> incident_severity;  // per detected incident: the severity told, 0 closed
};

// Tells the story what happened since it was last told.
void tell(Session& session) {
  Simulation& simulation = session.run->simulation();
  const Scenario& scenario = simulation.scenario();
  const SimTime now = simulation.now();
  // This telling's lines, put in time order before they join the story.
  std::vector<std::tuple<SimTime, std::string, std::string>> lines;
  const auto note = [&](SimTime t, const char* kind, std::string text) {
    lines.emplace_back(t, kind, std::move(text));
  };
  session.fault_started.resize(scenario.faults.size(), 0);
  session.fault_ended.resize(scenario.faults.size(), 0);
  for (std::size_t f = 0; f < scenario.faults.size(); ++f) {
    const FaultSpec& fault = scenario.faults[f];
    const std::string what = fault.name + ": " + fault_kind_name(fault.kind) + " on " +
                             target_text(fault.target, scenario);
    if (!session.fault_started[f] && fault.duration > 0 && now >= fault.start) {
      session.fault_started[f] = 1;
      note(fault.start, "fault", what + " started, for " + format_duration(fault.duration));
    }
    if (session.fault_started[f] && !session.fault_ended[f] &&
        now >= fault.start + fault.duration) {
      session.fault_ended[f] = 1;
      note(fault.start + fault.duration, "fault", what + " ended");
    }
  }
  // The change log holds the scenario's changes to come too: each is told once it happened.
  const std::vector<ChangeEvent> changes = simulation.changes();
  session.change_told.resize(changes.size(), 0);
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const ChangeEvent& c = changes[i];
    if (session.change_told[i] || c.time > now) continue;
    session.change_told[i] = 1;
    note(c.time, "change",
         c.kind + " " + c.target +
             (c.from.empty() && c.to.empty() ? "" : " " + c.from + " -> " + c.to));
  }
  const std::vector<Alert>& alerts = session.run->alerts();
  for (; session.alerts < alerts.size(); ++session.alerts) {
    const Alert& a = alerts[session.alerts];
    note(a.time, "alert",
         a.detector + " fired on " + (a.target.empty() ? a.metric : a.target + " " + a.metric) +
             (a.severity.empty() ? "" : " (" + a.severity + ")"));
  }
  const std::vector<RemediationAction>& remedies = session.run->remediation();
  for (; session.remediation < remedies.size(); ++session.remediation) {
    const RemediationAction& r = remedies[session.remediation];
    note(r.time, "remediation",
         r.playbook + ": " + r.action + " " + scenario.services[r.service].name + ": " + r.outcome);
  }
  const std::vector<DetectedIncident> detected = session.run->detected();
  session.incident_severity.resize(detected.size(), -1);
  for (std::size_t i = 0; i < detected.size(); ++i) {
    const DetectedIncident& d = detected[i];
    int& told = session.incident_severity[i];
    const std::string sev = "Sev" + std::to_string(d.severity);
    if (told < 0) {
      note(d.start, "incident", sev + " incident opened by " + d.rule);
      told = d.severity;
    } else if (told > 0 && d.severity < told) {
      note(now, "incident", "incident of " + d.rule + " escalated to " + sev);
      told = d.severity;
    }
    if (told > 0 && d.end >= 0) {
      note(d.end, "incident", "incident of " + d.rule + " closed (" + sev + ")");
      told = 0;
    }
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  for (auto& [t, kind, text] : lines) session.view->note(t, kind, text);
}

// Invalid UTF-8 (a parse error quotes the body's bytes) is written as U+FFFD: dump() threw
// on it, and the server stopped with an internal error.
HttpServer::Response json_answer(int status, const nlohmann::json& body) {
  return {status, "application/json",
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", ""};
}

// `text` with its %XX escapes decoded (a browser's or curl's --data-urlencode); "+" is a
// space. A malformed escape stays as written.
std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

// The value of `key` in a target's query ("/api/state?since=3&service=2") as a whole
// number >= 0 (percent-encoded or not): nullopt if the key is absent; `problem` says why
// when it is given twice or is anything else (the number is then -1).
std::optional<long> query_number(std::string_view target, std::string_view key,
                                 std::string& problem) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  std::optional<long> found;
  while (!query.empty()) {
    const std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    const std::size_t equals = pair.find('=');
    if (percent_decoded(pair.substr(0, equals)) != key) continue;
    if (found) {
      problem = std::string(key) + " is given twice";
      return -1;
    }
    const std::string value =
        equals == std::string_view::npos ? "" : percent_decoded(pair.substr(equals + 1));
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos) {
      problem = std::string(key) + " must be a whole number >= 0";
      return -1;
    }
    if (value.size() > 9) {
      problem = std::string(key) + " must be below 1e9";
      return -1;
    }
    found = std::stol(value);
  }
  return found;
}

HttpServer::Response control(Session& session, const nlohmann::json& request) {
  const auto given = request.find("action");
  const std::string action =
      given != request.end() && given->is_string() ? given->get<std::string>() : "";
  // Nothing but the action and, for speed, the speed.
  for (const auto& [key, value] : request.items())
    if (key != "action" && !(key == "speed" && action == "speed"))
      return json_answer(400, {{"ok", false}, {"error", "unknown key '" + key + "'"}});
  // What happened before it joins the story first: a control's line comes after them.
  tell(session);
  if (action == "pause" || action == "resume") {
    session.pacing.paused = action == "pause";
    session.view->note(session.run->simulation().now(), "control",
                       session.pacing.paused ? "paused" : "resumed");
  } else if (action == "speed" && request.contains("speed") && request["speed"].is_number() &&
             request["speed"].get<double>() >= 0 && std::isfinite(request["speed"].get<double>())) {
    session.pacing.speed = request["speed"].get<double>();
    session.view->note(session.run->simulation().now(), "control",
                       session.pacing.speed > 0
                           ? "speed " + speed_text(session.pacing.speed) + " simulated s per s"
                           : "speed: as fast as it goes");
  } else {
    return json_answer(
        400, {{"ok", false}, {"error", "action must be pause, resume or speed (with speed >= 0)"}});
  }
  return json_answer(
      200, {{"ok", true}, {"paused", session.pacing.paused}, {"speed", session.pacing.speed}});
}

HttpServer::Response inject(Session& session, const nlohmann::json& request) {
  if (session.pacing.ended)
    return json_answer(409, {{"ok", false}, {"error", "the run has ended"}});
  Simulation& simulation = session.run->simulation();
  try {
    tell(session);  // what happened before it joins the story first
    std::vector<Diagnostic> warnings;
    const int index = inject_fault(simulation, yaml_of(request), "inject", "inject", &warnings);
    const FaultSpec& fault = simulation.scenario().faults[static_cast<std::size_t>(index)];
    session.view->note(simulation.now(), "control",
                       std::string("injected ") + fault.name + ": " + fault_kind_name(fault.kind) +
                           " on " + target_text(fault.target, simulation.scenario()));
    nlohmann::json answer = {{"ok", true}, {"index", index}, {"name", fault.name}};
    // What the scenario's `faults:` would warn of in the same entry (taken all the same).
    if (!warnings.empty()) {
      answer["warnings"] = nlohmann::json::array();
      for (const Diagnostic& warning : warnings) answer["warnings"].push_back(warning.message);
    }
    return json_answer(200, answer);
  } catch (const Error& error) {
    return json_answer(400, {{"ok", false}, {"error", error.what()}});
  }
}

HttpServer::Response answer(void* context, const HttpServer::Request& request) {
  auto& session = *static_cast<Session*>(context);
  const std::string path = request.path.substr(0, request.path.find('?'));
  if (request.method == "POST" && (path == "/api/control" || path == "/api/inject")) {
    // A key given twice is said (a JSON parser keeps the last: {"action": "pause", "action":
    // "resume"} resumed), and what is no JSON says where (1e999 was "not a JSON object").
    std::string twice;
    nlohmann::json body;
    try {
      body = parse_json_noting_repeats(request.body, twice);
    } catch (const nlohmann::json::exception& error) {
      std::string why = error.what();  // "[json.exception.parse_error.101] parse error at ..."
      if (const std::size_t end = why.find("] ");
          why.rfind("[json.exception", 0) == 0 && end != std::string::npos)
        why = why.substr(end + 2);
      return json_answer(400, {{"ok", false}, {"error", "the body is no JSON: " + why}});
    }
    if (!body.is_object())
      return json_answer(400, {{"ok", false}, {"error", "the body must be a JSON object"}});
    if (!twice.empty())
      return json_answer(400, {{"ok", false}, {"error", "key '" + twice + "' is given twice"}});
    return path == "/api/control" ? control(session, body) : inject(session, body);
  }
  const bool posted_to = path == "/api/control" || path == "/api/inject";
  const bool known = posted_to || path == "/metrics" || path == "/" || path == "/index.html" ||
                     path == "/-/ready" || path == "/api/state";
  if (known && (request.method != "GET" || posted_to))  // a path a method it does not take
    return {405, "text/plain; charset=utf-8",
            path + (posted_to ? " takes POST with a JSON object\n" : " takes GET\n"),
            posted_to ? "POST" : "GET"};
  if (path == "/metrics")
    return {200, "text/plain; version=0.0.4; charset=utf-8", session.metrics->text(), ""};
  if (path == "/" || path == "/index.html")
    return {200, "text/html; charset=utf-8", session.page, ""};
  if (path == "/-/ready") return {200, "text/plain; charset=utf-8", "dosim serve: ready\n", ""};
  if (path == "/api/state") {
    std::string since_problem, service_problem;
    const std::optional<long> since = query_number(request.path, "since", since_problem);
    const std::optional<long> service = query_number(request.path, "service", service_problem);
    const long services = static_cast<long>(session.run->simulation().scenario().services.size());
    if (!since_problem.empty()) return json_answer(400, {{"ok", false}, {"error", since_problem}});
    if (service_problem.find("twice") != std::string::npos)
      return json_answer(400, {{"ok", false}, {"error", service_problem}});
    if (service && !(*service >= 0 && *service < services))
      return json_answer(400, {{"ok", false},
                               {"error", "service must be a service's index, 0 to " +
                                             std::to_string(services - 1)}});
    return {200, "application/json",
            session.view->state_json(static_cast<std::size_t>(since.value_or(0)),
                                     static_cast<int>(service.value_or(-1)), session.pacing),
            ""};
  }
  return {404, "text/plain; charset=utf-8",
          "not found: GET / (the live page), GET /metrics, GET /api/state, POST /api/control, "
          "POST /api/inject\n",
          ""};
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
  auto run = std::make_unique<Run>(plan);
  LiveMetrics metrics(scenario);
  run->add_sink(&metrics);
  LiveView view(scenario);
  run->add_sink(&view);
  Session session;
  session.run = run.get();
  session.metrics = &metrics;
  session.view = &view;
  session.page = view.page_html();
  session.pacing.speed = options.speed;
  std::printf("dosim serve: %s on http://%s:%d/ (live page) and /metrics, %s\n",
              scenario.name.c_str(), listen.host.c_str(), server->port(),  // port 0's chosen one
              options.speed > 0 ? (speed_text(options.speed) + " simulated s per s").c_str()
                                : "as fast as it goes");
  std::fflush(stdout);

  const double tick_s = static_cast<double>(scenario.tick) / 1e9;
  const std::int64_t total = scenario.tick_count();
  std::int64_t ticked = 0;
  // Ticks owed by the wall clock at the current speed (a pause or a new speed starts afresh).
  double owed = 0;
  auto last_wall = std::chrono::steady_clock::now();
  auto last_told = last_wall;
  // Alerts pushed: when each was first seen and seen resolved on the wall clock (its
  // startsAt and endsAt, also when a push held back sends it later), whether it was sent,
  // and whether its end was.
  std::vector<std::chrono::system_clock::time_point> seen_at, resolved_at;
  std::vector<bool> sent, ended;
  auto last_resend = std::chrono::steady_clock::now();
  std::size_t push_failures = 0;
  // After a push that got no answer, none for kPushBackoff: an Alertmanager that takes
  // connections and never answers held the run (and every client) 5 s a push.
  constexpr auto kPushBackoff = std::chrono::seconds(30);
  auto next_push = std::chrono::steady_clock::now();
  const auto push = [&](bool resend_all) {
    if (!alertmanager) return;
    const std::vector<Alert>& alerts = run->alerts();
    const auto now = std::chrono::system_clock::now();
    for (std::size_t a = 0; a < alerts.size(); ++a) {
      if (a >= seen_at.size()) {
        seen_at.push_back(now);
        resolved_at.emplace_back();
        sent.push_back(false);
        ended.push_back(false);
      }
      if (alerts[a].resolved >= 0 && resolved_at[a] == std::chrono::system_clock::time_point{})
        resolved_at[a] = now;
    }
    if (std::chrono::steady_clock::now() < next_push) return;
    nlohmann::json batch = nlohmann::json::array();
    std::vector<std::size_t> in_batch;
    for (std::size_t a = 0; a < alerts.size(); ++a) {
      const bool resolved = resolved_at[a] != std::chrono::system_clock::time_point{};
      if (!sent[a] || (resolved && !ended[a]) || (resend_all && !ended[a])) {
        batch.push_back(alertmanager_alert(alerts[a], scenario, seen_at[a],
                                           resolved ? resolved_at[a] : now, resolved));
        in_batch.push_back(a);
      }
    }
    if (batch.empty()) return;
    const HttpResponse response =
        http_request(alertmanager->host, alertmanager->port, "POST", "/api/v2/alerts", batch.dump(),
                     "application/json", 2000);
    if (response.status == 0) {
      // What this batch said goes with the next push that is tried, as it was dated.
      next_push = std::chrono::steady_clock::now() + kPushBackoff;
    } else {
      for (std::size_t a : in_batch) {
        sent[a] = true;
        if (resolved_at[a] != std::chrono::system_clock::time_point{}) ended[a] = true;
      }
    }
    if (!response.ok && push_failures++ == 0) {
      const std::string said = response.body.empty() ? "" : ": " + response.body;
      if (response.status == 0)  // no answer: the body is the system's reason
        std::fprintf(stderr, "dosim serve: warning: cannot reach Alertmanager at %s%s\n",
                     options.alertmanager.c_str(), said.c_str());
      else
        std::fprintf(stderr,
                     "dosim serve: warning: Alertmanager at %s refused alerts (HTTP %d)%s\n",
                     options.alertmanager.c_str(), response.status, said.c_str());
    }
  };

  RunReport report;
  try {
    while (ticked < total && !g_stop.load()) {
      const auto now = std::chrono::steady_clock::now();
      const double speed = session.pacing.speed;
      if (!session.pacing.paused && speed > 0)
        owed =
            std::min(owed + std::chrono::duration<double>(now - last_wall).count() * speed / tick_s,
                     static_cast<double>(total - ticked));
      last_wall = now;
      // As fast as it goes: a tick at a time, answering requests in between.
      const std::int64_t step = session.pacing.paused ? 0
                                : speed > 0           ? static_cast<std::int64_t>(owed)
                                                      : 1;
      if (step > 0) {
        // A few ticks at a time for at most kStepWall, then requests are answered: a speed
        // faster than the machine leaves the rest owed for the next turns instead of keeping
        // the server deaf until it has caught up (the ticks are the same either way).
        constexpr auto kStepWall = std::chrono::milliseconds(50);
        constexpr std::int64_t kChunk = 16;
        std::int64_t done = 0;
        while (done < step) {
          const std::int64_t chunk = std::min(kChunk, step - done);
          run->step(chunk);
          done += chunk;
          if (std::chrono::steady_clock::now() - now >= kStepWall) break;
        }
        ticked += done;
        if (speed > 0) owed -= static_cast<double>(done);
        push(false);
      }
      // The story at most ten times a wall second (a change log is copied to read it).
      if (now - last_told > std::chrono::milliseconds(100) || ticked == total) {
        tell(session);
        last_told = now;
      }
      const bool resend = now - last_resend > std::chrono::seconds(30);
      if (resend) {
        push(true);
        last_resend = now;
      }
      int wait_ms = 0;
      if (session.pacing.paused) {
        wait_ms = 100;
      } else if (speed > 0 && ticked < total) {
        wait_ms = static_cast<int>(std::clamp((1.0 - owed) * tick_s / speed * 1000.0, 0.0, 100.0));
      }
      server->serve_for(wait_ms, answer, &session);
    }
    report = run->run(&g_stop);
  } catch (const Error& error) {
    // A failing script or detector: said, and the trace, incomplete, is where dosim run
    // leaves it.
    print_error(error);
    run.reset();
    if (!options.out_path.empty() && std::filesystem::exists(options.out_path))
      std::fprintf(stderr,
                   "dosim serve: the trace up to the error is in %s (incomplete, without its "
                   "ground truth: dosim report and dosim export read it)\n",
                   options.out_path.c_str());
    std::fflush(nullptr);
    return 2;
  }
  push(false);
  tell(session);
  session.pacing.ended = true;
  // Stopped early, the incidents whose cause had not begun are not counted (the trace keeps
  // them, silent).
  const std::size_t begun = static_cast<std::size_t>(
      std::count_if(report.incidents.begin(), report.incidents.end(),
                    [&](const IncidentRecord& i) { return i.start < report.result.simulated; }));
  std::printf("dosim serve: %s simulated, %zu alerts, %zu incident%s%s\n",
              format_duration(report.result.simulated).c_str(), report.alerts.size(), begun,
              begun == 1 ? "" : "s", report.result.completed ? "" : " (stopped)");
  if (!report.trace_path.empty()) std::printf("  trace %s\n", report.trace_path.c_str());
  std::fflush(stdout);
  // Stopped before its end, as `dosim run` is: 128 + the signal (the trace closed,
  // complete = 0). After it, a signal is how a server is ended: 0.
  if (!report.result.completed && g_signal.load() != 0) return 128 + g_signal.load();
  if (!options.exit_at_end) {
    std::printf("dosim serve: the last tick stays at /metrics until interrupted\n");
    std::fflush(stdout);
    while (!g_stop.load()) {
      server->serve_for(500, answer, &session);
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
