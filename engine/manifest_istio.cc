// Istio VirtualService fault injection and DestinationRule policies (manifests.h).
//
// A VirtualService's HTTP routes are tried in order for every request to one of its hosts
// and the first that matches takes it (Istio's first-match rule). dosim knows each request
// to a service by its caller (a dependency, or the service's external traffic) and, when the
// service declares endpoints, by its endpoint, so the routes split those "cells"; a route's
// fault becomes dosim faults on the cells it takes: the whole service when it takes them all,
// else an edge per caller whose requests it takes, else an endpoint, else an edge with the
// taken endpoints' share of the requests (with a warning).
#include <algorithm>
#include <regex>

#include "dosim/engine/scenario_loader.h"
#include "manifests.h"

namespace dosim::loader {
namespace {

struct UriMatch {
  std::string how;  // exact, prefix or regex
  std::string value;
  std::optional<std::regex> regex;
};

struct MatchEntry {
  std::vector<std::pair<std::string, std::string>> source_labels;
  std::optional<UriMatch> uri;
  bool ignore_case = false;
  bool impossible = false;  // a condition on what dosim's requests do not carry
};

struct Route {
  std::string path;  // spec.http[i]
  SourcePos pos;
  std::vector<MatchEntry> matches;  // empty: every request
  std::optional<FaultSpec> delay, abort;
};

// The share of requests a fault percentage names: `percentage.value` (a double), else the
// deprecated integer `percent`; neither: none (Istio translates the missing percentage as 0).
double read_share(const Fields& f, Diagnostics& diags) {
  if (auto percentage = f.get("percentage")) {
    Fields p(*percentage, f.at("percentage"), {"value"}, {}, diags);
    if (p.is_map()) return p.number("value", Range::closed(0, 100)).value_or(0) / 100.0;
    return 0;
  }
  if (f.has("percent")) {
    diags.warning(f.key_pos("percent"), q(f.at("percent")) +
                                            " is deprecated in Istio (use percentage.value); "
                                            "read as a percent");
    return f.number("percent", Range::closed(0, 100)).value_or(0) / 100.0;
  }
  diags.warning(f.pos(), q(f.path()) + " has no percentage: Istio applies it to no request");
  return 0;
}

std::optional<MatchEntry> read_match(const YAML::Node& node, const std::string& path,
                                     Diagnostics& diags) {
  Fields m(node, path,
           {"sourceLabels", "uri", "headers", "ignoreUriCase", "name", "withoutHeaders"}, {},
           diags);
  if (!m.is_map()) return std::nullopt;
  MatchEntry entry;
  if (auto labels = m.get("sourceLabels")) {
    for (const MapEntry& label : read_entries(*labels, m.at("sourceLabels"), diags))
      if (auto value = read_text(label.value, label.value_pos(), "'" + label.key + "'", diags))
        entry.source_labels.emplace_back(label.key, *value);
  }
  if (auto ignore = m.get("ignoreUriCase"))
    entry.ignore_case = ignore->IsScalar() && ignore->Scalar() == "true";
  if (auto uri = m.get("uri")) {
    Fields u(*uri, m.at("uri"), {"exact", "prefix", "regex"}, {}, diags);
    if (u.is_map()) {
      int given = 0;
      for (const char* how : {"exact", "prefix", "regex"}) {
        if (!u.has(how)) continue;
        ++given;
        if (auto value = u.text(how)) {
          UriMatch match{how, *value, std::nullopt};
          if (match.how == "regex") {
            try {
              match.regex.emplace(*value, entry.ignore_case
                                              ? std::regex::ECMAScript | std::regex::icase
                                              : std::regex::ECMAScript);
            } catch (const std::regex_error&) {
              diags.error(u.value_pos(how), q(u.at(how)) + " is not a valid regular expression");
              continue;
            }
          }
          entry.uri = std::move(match);
        }
      }
      if (given != 1) diags.error(u.pos(), q(u.path()) + " takes one of exact, prefix or regex");
    }
  }
  if (m.has("headers")) {
    diags.warning(m.key_pos("headers"),
                  q(m.at("headers")) +
                      ": dosim's requests carry no headers, so this match entry matches none");
    entry.impossible = true;
  }
  return entry;
}

bool uri_matches(const UriMatch& uri, bool ignore_case, std::string path) {
  std::string value = uri.value;
  if (ignore_case) {
    for (char& c : path) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (uri.how == "exact") return path == value;
  if (uri.how == "prefix") return path.compare(0, value.size(), value) == 0;
  return uri.regex && std::regex_match(path, *uri.regex);
}

// One request class of a host: from `caller` (a service, -1: external traffic) through
// `dependency`, to `endpoint` (-1: the service declares none).
struct Cell {
  int caller = -1;
  int dependency = -1;
  int endpoint = -1;
};

void read_route_fault(const Fields& route, Route& out, ManifestContext& c) {
  auto node = route.get("fault");
  if (!node) return;
  // A `match` nested in `fault` is the lab's mistake: pruned, so the route matches everything.
  Fields fault(*node, route.at("fault"), {"delay", "abort"}, {}, c.diags,
               route.has("match") ? ""
                                  : "; this route then has no match and takes every request "
                                    "to the host");
  if (!fault.is_map()) return;
  if (!fault.has("delay") && !fault.has("abort"))
    c.diags.error(fault.pos(), q(fault.path()) + " needs a delay, an abort or both");
  if (auto delay = fault.get("delay")) {
    Fields d(*delay, fault.at("delay"), {"fixedDelay", "percentage", "percent"},
             {"exponentialDelay"}, c.diags);
    if (d.is_map()) {
      FaultSpec spec = c.fault(FaultKind::kLatency, "");
      auto fixed = d.duration("fixedDelay");
      if (!d.has("fixedDelay"))
        c.diags.error(d.pos(), "missing 'fixedDelay' in '" + d.path() + "'");
      if (fixed && *fixed < kMillisecond)
        c.diags.error(d.value_pos("fixedDelay"),
                      q(d.at("fixedDelay")) + " must be at least 1ms (Istio)");
      spec.fixed_delay = fixed.value_or(kMillisecond);
      spec.fraction = read_share(d, c.diags);
      out.delay = spec;
    }
  }
  if (auto abort = fault.get("abort")) {
    Fields a(*abort, fault.at("abort"), {"httpStatus", "grpcStatus", "percentage", "percent"},
             {"http2Error"}, c.diags);
    if (a.is_map()) {
      FaultSpec spec = c.fault(FaultKind::kError, "");
      if (a.has("httpStatus")) {
        spec.http_status =
            static_cast<int>(a.number("httpStatus", Range::closed(200, 599)).value_or(503));
        if (spec.http_status < 400) {
          c.diags.warning(a.value_pos("httpStatus"),
                          q(a.at("httpStatus")) + " is not an error status: no request fails");
        }
      } else if (a.has("grpcStatus")) {
        spec.http_status = 503;  // a gRPC error fails the call as a 5xx would
      } else {
        c.diags.error(a.pos(), q(a.path()) + " needs httpStatus or grpcStatus");
      }
      spec.fraction = spec.http_status < 400 ? 0 : read_share(a, c.diags);
      out.abort = spec;
    }
  }
}

// Whether `entry` takes requests of `cell` to `service`.
bool takes(const MatchEntry& entry, const Cell& cell, int service, const ManifestContext& c) {
  if (entry.impossible) return false;
  for (const auto& [key, value] : entry.source_labels)
    if (cell.caller < 0 || !c.names.has_label(cell.caller, key, value)) return false;
  if (!entry.uri) return true;
  const auto& endpoints = c.scenario.services[service].endpoints;
  if (cell.endpoint < 0)  // no endpoints declared: only a uri that takes every path
    return (entry.uri->how == "prefix" && (entry.uri->value.empty() || entry.uri->value == "/")) ||
           (entry.uri->how == "regex" && (entry.uri->value == ".*" || entry.uri->value == "/.*"));
  std::string path = endpoints[cell.endpoint].name;
  if (!path.empty() && path.front() != '/') path = "/" + path;
  return uri_matches(*entry.uri, entry.ignore_case, path) ||
         uri_matches(*entry.uri, entry.ignore_case, endpoints[cell.endpoint].name);
}

// The dosim faults that apply `model` to exactly `taken` of the host's `cells`.
void emit(const FaultSpec& model, SourcePos pos, const std::string& suffix, int service,
          const std::vector<Cell>& cells, const std::vector<bool>& taken, ManifestContext& c) {
  const ServiceSpec& host = c.scenario.services[service];
  const auto count = std::count(taken.begin(), taken.end(), true);
  if (count == 0 || model.fraction <= 0) return;
  auto add = [&](FaultTarget target, const std::string& where, double share) {
    FaultSpec spec = model;
    spec.name = c.name + suffix + (where.empty() ? "" : "@" + where);
    spec.target = std::move(target);
    spec.fraction = model.fraction * share;
    c.out.faults.push_back(std::move(spec));
  };
  if (count == static_cast<long>(cells.size())) {
    FaultTarget target;
    target.service = service;
    add(target, "", 1.0);
    return;
  }
  const bool has_endpoints = !host.endpoints.empty();
  double total_weight = 0;
  for (const EndpointSpec& e : host.endpoints) total_weight += e.weight;
  // Whole endpoints first (every caller's requests to them taken).
  std::vector<bool> done(cells.size(), false);
  if (has_endpoints) {
    for (std::size_t e = 0; e < host.endpoints.size(); ++e) {
      bool all = true;
      for (std::size_t i = 0; i < cells.size(); ++i)
        if (cells[i].endpoint == static_cast<int>(e) && !taken[i]) all = false;
      if (!all) continue;
      // Only when no caller is taken whole (that one becomes an edge below).
      bool whole_caller = false;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (cells[i].endpoint != static_cast<int>(e)) continue;
        bool row = true;
        for (std::size_t j = 0; j < cells.size(); ++j)
          if (cells[j].caller == cells[i].caller && cells[j].dependency == cells[i].dependency &&
              !taken[j])
            row = false;
        whole_caller = whole_caller || row;
      }
      if (whole_caller) continue;
      FaultTarget target;
      target.service = service;
      target.endpoint = static_cast<int>(e);
      add(target, host.endpoints[e].name, 1.0);
      for (std::size_t i = 0; i < cells.size(); ++i)
        if (cells[i].endpoint == static_cast<int>(e)) done[i] = true;
    }
  }
  // Then per caller: an edge with the share of its requests taken.
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (done[i] || !taken[i]) continue;
    double share = 0;
    bool partial = false;
    // From the first cell: an endpoint listed before the taken one and not taken makes the
    // edge partial too (those before it, taken, are done already).
    for (std::size_t j = 0; j < cells.size(); ++j) {
      if (cells[j].dependency != cells[i].dependency || cells[j].caller != cells[i].caller)
        continue;
      if (taken[j] && !done[j]) {
        share += has_endpoints ? host.endpoints[cells[j].endpoint].weight / total_weight : 1.0;
        done[j] = true;
      } else if (!taken[j]) {
        partial = true;
      }
    }
    if (cells[i].dependency < 0) {
      c.diags.warning(pos,
                      "the fault of '" + c.name + "' on part of " + host.name +
                          "'s external traffic is not simulated: dosim applies faults to a whole "
                          "service, an endpoint or a caller's calls");
      continue;
    }
    if (partial)
      c.diags.warning(pos, q(c.name) +
                               ": dosim cannot restrict a fault to some endpoints "
                               "of one caller; on " +
                               c.scenario.edge_name(cells[i].dependency) +
                               " it applies to that share of every call instead");
    FaultTarget target;
    target.dependency = cells[i].dependency;
    add(target, c.scenario.edge_name(cells[i].dependency), share);
  }
}

}  // namespace

void read_virtual_service(const Fields& spec, ManifestContext& c) {
  if (auto gateways = spec.get("gateways")) {
    bool mesh = false;
    for (const YAML::Node& g : spec.list("gateways"))
      mesh = mesh || (g.IsScalar() && g.Scalar() == "mesh");
    if (!mesh) {
      c.diags.warning(spec.key_pos("gateways"),
                      "'spec.gateways' without 'mesh': these routes act at ingress gateways, which "
                      "dosim does not model; the VirtualService is left aside");
      return;
    }
  }
  std::vector<int> hosts;
  const std::vector<YAML::Node> host_nodes = spec.list("hosts");
  if (host_nodes.empty()) c.diags.error(spec.pos(), "'spec.hosts' must name at least one host");
  for (const YAML::Node& node : host_nodes) {
    auto host = read_text(node, pos_of(node), "a host", c.diags);
    if (!host) continue;
    const int s = c.names.service(*host);
    if (s == ManifestNames::kMisnamed) continue;
    if (s < 0)
      c.diags.error(pos_of(node),
                    "host '" + *host + "' is no service of the scenario" +
                        did_you_mean(host->substr(0, host->find('.')), c.names.candidates()) +
                        " (map Kubernetes names with 'manifest_names:')");
    else if (std::find(hosts.begin(), hosts.end(), s) == hosts.end())
      hosts.push_back(s);  // a service named twice (short and full DNS name) is one host
  }
  std::vector<Route> routes;
  const std::vector<YAML::Node> http = spec.list("http");
  for (std::size_t i = 0; i < http.size(); ++i) {
    Route route;
    route.path = "spec.http[" + std::to_string(i) + "]";
    route.pos = pos_of(http[i]);
    Fields r(http[i], route.path, {"match", "fault", "route", "name"},
             {"redirect", "rewrite", "timeout", "retries", "mirror", "mirrorPercentage",
              "mirror_percent", "corsPolicy", "headers", "delegate", "directResponse"},
             c.diags);
    if (!r.is_map()) continue;
    const std::vector<YAML::Node> matches = r.list("match");
    for (std::size_t m = 0; m < matches.size(); ++m)
      if (auto entry =
              read_match(matches[m], r.at("match") + "[" + std::to_string(m) + "]", c.diags))
        route.matches.push_back(std::move(*entry));
    if (!matches.empty() && route.matches.empty()) {
      MatchEntry none;
      none.impossible = true;
      route.matches.push_back(std::move(none));
    }
    for (const YAML::Node& destination : r.list("route")) {
      Fields d(destination, r.at("route") + "[]", {"destination", "weight", "headers"}, {},
               c.diags);
      if (!d.is_map()) continue;
      if (auto dest = d.get("destination")) {
        Fields target(*dest, "destination", {"host", "subset", "port"}, {}, c.diags);
        if (auto host = target.text("host")) {
          const int s = c.names.service(*host);
          // A destination elsewhere (a canary Deployment's own Service) changes nothing
          // dosim simulates: a warning, with the name meant if it is a misspelt service.
          if (s == ManifestNames::kMisnamed) {
            // manifest_names maps it to no service: said there
          } else if (s < 0) {
            c.diags.warning(target.value_pos("host"),
                            "destination host '" + *host +
                                "' is no service of the scenario; routing to another host is "
                                "not simulated: the requests stay with the host" +
                                did_you_mean(*host, c.names.candidates()));
          } else if (std::find(hosts.begin(), hosts.end(), s) == hosts.end()) {
            c.diags.warning(target.value_pos("host"), "routing to another service ('" + *host +
                                                          "') is not simulated: the "
                                                          "requests stay with the host");
          }
        }
        if (target.has("subset"))
          c.diags.warning(target.key_pos("subset"),
                          "routing to a subset is not simulated: the requests go to all of the "
                          "host's replicas (a version's share is a deployment's canary weight)");
      }
    }
    read_route_fault(r, route, c);
    routes.push_back(std::move(route));
  }
  for (const int s : hosts) {
    const ServiceSpec& host = c.scenario.services[s];
    std::vector<Cell> cells;
    auto add_caller = [&](int caller, int dependency) {
      if (host.endpoints.empty()) {
        cells.push_back({caller, dependency, -1});
        return;
      }
      for (std::size_t e = 0; e < host.endpoints.size(); ++e)
        cells.push_back({caller, dependency, static_cast<int>(e)});
    };
    bool external = false;
    for (const TrafficSpec& traffic : c.scenario.traffic) {
      for (int entry : traffic.entry) external = external || entry == s;
      for (const RegionalEntry& regional : traffic.regions)
        for (int entry : regional.entry) external = external || entry == s;
    }
    if (external) add_caller(-1, -1);
    for (std::size_t d = 0; d < c.scenario.dependencies.size(); ++d)
      if (c.scenario.dependencies[d].callee == s)
        add_caller(c.scenario.dependencies[d].caller, static_cast<int>(d));
    // First match: which route takes each cell; and which routes match any cell at all (a
    // route that takes nothing is shadowed by an earlier one, or matches nothing).
    std::vector<int> route_of(cells.size(), -1);
    std::vector<bool> matches_any(routes.size(), false);
    for (std::size_t i = 0; i < cells.size(); ++i)
      for (std::size_t r = 0; r < routes.size(); ++r) {
        bool match = routes[r].matches.empty();
        for (const MatchEntry& entry : routes[r].matches)
          match = match || takes(entry, cells[i], s, c);
        if (!match) continue;
        matches_any[r] = true;
        if (route_of[i] < 0) route_of[i] = static_cast<int>(r);
      }
    const bool several = routes.size() > 1 || hosts.size() > 1;
    for (std::size_t r = 0; r < routes.size(); ++r) {
      std::vector<bool> taken(cells.size());
      for (std::size_t i = 0; i < cells.size(); ++i) taken[i] = route_of[i] == static_cast<int>(r);
      const bool any = std::find(taken.begin(), taken.end(), true) != taken.end();
      std::string prefix;
      if (several) {
        prefix = "/";
        if (hosts.size() > 1) prefix.append(host.name).append("/");
        prefix.append("http").append(std::to_string(r));
      }
      if ((routes[r].delay || routes[r].abort) && !any)
        c.diags.warning(routes[r].pos,
                        q(c.name) + " " + routes[r].path + " takes no request to " + host.name +
                            (matches_any[r] ? " (an earlier route takes every request it matches)"
                                            : " (no caller or endpoint matches it)") +
                            ": its fault never acts");
      if (routes[r].delay)
        emit(*routes[r].delay, routes[r].pos, prefix + (routes[r].abort ? "/delay" : ""), s, cells,
             taken, c);
      if (routes[r].abort)
        emit(*routes[r].abort, routes[r].pos, prefix + (routes[r].delay ? "/abort" : ""), s, cells,
             taken, c);
    }
  }
}

void read_destination_rule(const Fields& spec, ManifestContext& c) {
  auto host = spec.text("host");
  if (!host) {
    if (!spec.has("host")) c.diags.error(spec.pos(), "missing 'spec.host' in the DestinationRule");
    return;
  }
  const int s = c.names.service(*host);
  if (s < 0) {
    if (s == ManifestNames::kMisnamed) return;
    c.diags.error(spec.value_pos("host"), "host '" + *host + "' is no service of the scenario" +
                                              did_you_mean(*host, c.names.candidates()));
    return;
  }
  auto policy_node = spec.get("trafficPolicy");
  if (!policy_node) return;
  Fields policy(*policy_node, "spec.trafficPolicy", {"outlierDetection", "connectionPool"},
                {"loadBalancer", "tls", "portLevelSettings", "tunnel", "proxyProtocol"}, c.diags);
  if (!policy.is_map()) return;
  if (c.window.start > 0)
    c.diags.warning(policy.pos(),
                    "the DestinationRule '" + c.name +
                        "' is a policy, not a fault: dosim applies it for the whole run");
  ManifestOutput::EdgePolicy edge;
  if (auto outlier = policy.get("outlierDetection")) {
    Fields o(
        *outlier, policy.at("outlierDetection"),
        {"consecutive5xxErrors", "consecutiveErrors", "baseEjectionTime", "maxEjectionPercent"},
        {"consecutiveGatewayErrors", "interval", "minHealthPercent",
         "splitExternalLocalOriginErrors", "consecutiveLocalOriginFailures"},
        c.diags);
    if (o.is_map()) {
      DependencySpec::OutlierDetection od;
      if (o.has("consecutive5xxErrors"))
        od.consecutive_5xx =
            static_cast<int>(o.number("consecutive5xxErrors", Range::closed(0, 1e6)).value_or(5));
      else if (o.has("consecutiveErrors"))
        od.consecutive_5xx =
            static_cast<int>(o.number("consecutiveErrors", Range::closed(0, 1e6)).value_or(5));
      od.base_ejection_time = o.duration("baseEjectionTime").value_or(od.base_ejection_time);
      od.max_ejection_percent = o.number("maxEjectionPercent", Range::closed(0, 100)).value_or(10);
      if (od.consecutive_5xx > 0) edge.outlier = od;  // 0 turns the detection off (Istio)
    }
  }
  if (auto pool = policy.get("connectionPool")) {
    Fields p(*pool, policy.at("connectionPool"), {"tcp", "http"}, {}, c.diags);
    // Envoy's circuit breaker: HTTP/1.1 holds maxConnections requests in flight plus
    // http1MaxPendingRequests waiting; HTTP/2 at most http2MaxRequests. dosim's max_pending
    // caps the attempts in flight on the edge: the smaller bound given.
    double connections = 0, pending = 0, requests = 0;
    if (auto tcp = p.get("tcp")) {
      Fields t(*tcp, p.at("tcp"), {"maxConnections"},
               {"connectTimeout", "tcpKeepalive", "maxConnectionDuration", "idleTimeout"}, c.diags);
      connections = t.number("maxConnections", Range::closed(1, 1e8)).value_or(0);
    }
    if (auto http_pool = p.get("http")) {
      Fields h(*http_pool, p.at("http"), {"http1MaxPendingRequests", "http2MaxRequests"},
               {"maxRequestsPerConnection", "maxRetries", "idleTimeout", "h2UpgradePolicy",
                "useClientProtocol", "maxConcurrentStreams"},
               c.diags);
      pending = h.number("http1MaxPendingRequests", Range::closed(1, 1e8)).value_or(0);
      requests = h.number("http2MaxRequests", Range::closed(1, 1e8)).value_or(0);
    }
    double limit = 0;
    if (connections > 0 || pending > 0)
      limit = (connections > 0 ? connections : 1e8) + (pending > 0 ? pending : 1e8);
    if (requests > 0) limit = limit > 0 ? std::min(limit, requests) : requests;
    if (limit > 0) edge.max_pending = static_cast<int>(std::min(limit, 1e8));
  }
  if (c.scenario.mode != WorldMode::kRequests && (edge.outlier || edge.max_pending > 0))
    c.diags.warning(policy.pos(), kRequestLevelPolicies);
  for (std::size_t d = 0; d < c.scenario.dependencies.size(); ++d) {
    if (c.scenario.dependencies[d].callee != s) continue;
    edge.dependency = static_cast<int>(d);
    c.out.policies.push_back(edge);
  }
}

}  // namespace dosim::loader
