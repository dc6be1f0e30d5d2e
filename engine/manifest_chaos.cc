// Chaos Mesh experiments (manifests.h): NetworkChaos, PodChaos, StressChaos, HTTPChaos, and
// Schedule around any of them. Selectors pick services by label (`app: cartservice`: a service
// carries `app` = its name unless its labels say otherwise), `mode` and `value` pick replicas
// as Chaos Mesh does, `duration` bounds the experiment within the manifest's window.
#include <algorithm>
#include <cmath>

#include "byte_size.h"
#include "manifests.h"
#include "schedule.h"

namespace dosim::loader {
namespace {

// The services a `selector` picks; reports one that picks none.
std::vector<int> read_selector(const Fields& owner, const char* key, ManifestContext& c) {
  auto node = owner.get(key);
  if (!node) {
    c.diags.error(owner.pos(), "missing '" + owner.at(key) + "' (which pods the chaos acts on)");
    return {};
  }
  Fields f(*node, owner.at(key), {"namespaces", "labelSelectors", "expressionSelectors", "pods"},
           {"annotationSelectors", "fieldSelectors", "podPhaseSelectors", "nodes", "nodeSelectors"},
           c.diags);
  if (!f.is_map()) return {};
  const int n = static_cast<int>(c.scenario.services.size());
  std::vector<bool> picked(n, true);
  bool narrowed = false;
  if (auto labels = f.get("labelSelectors")) {
    narrowed = true;
    for (const MapEntry& label : read_entries(*labels, f.at("labelSelectors"), c.diags)) {
      auto value = read_text(label.value, label.value_pos(), "'" + label.key + "'", c.diags);
      for (int s = 0; s < n; ++s)
        picked[s] = picked[s] && value && c.names.has_label(s, label.key, *value);
    }
  }
  for (const YAML::Node& item : f.list("expressionSelectors")) {
    narrowed = true;
    Fields e(item, f.at("expressionSelectors") + "[]", {"key", "operator", "values"}, {}, c.diags);
    auto label = e.text("key");
    auto op = e.text("operator");
    std::vector<std::string> values;
    for (const YAML::Node& v : e.list("values"))
      if (auto text = read_text(v, pos_of(v), "a value", c.diags)) values.push_back(*text);
    if (!label || !op) {
      if (e.is_map() && (!e.has("key") || !e.has("operator")))
        c.diags.error(e.pos(), "an expression selector needs 'key' and 'operator'");
      continue;
    }
    if (*op != "In" && *op != "NotIn" && *op != "Exists" && *op != "DoesNotExist") {
      c.diags.error(e.value_pos("operator"),
                    "'operator' must be In, NotIn, Exists or DoesNotExist, got '" + *op + "'");
      continue;
    }
    // As Kubernetes validates a label selector requirement.
    const bool set_operator = *op == "In" || *op == "NotIn";
    if (set_operator == values.empty()) {
      c.diags.error(e.has("values") ? e.value_pos("values") : e.pos(),
                    set_operator
                        ? "operator " + *op + " needs 'values' (Kubernetes refuses it)"
                        : "operator " + *op + " takes no 'values' (Kubernetes refuses them)");
      continue;
    }
    for (int s = 0; s < n; ++s) {
      bool any = false;
      for (const std::string& v : values) any = any || c.names.has_label(s, *label, v);
      bool exists = *label == "app" || *label == "name";
      for (const auto& [k, v] : c.scenario.services[s].labels) exists = exists || k == *label;
      const bool keep = *op == "In"       ? any
                        : *op == "NotIn"  ? !any
                        : *op == "Exists" ? exists
                                          : !exists;
      picked[s] = picked[s] && keep;
    }
  }
  bool pod_unknown = false;  // said at the pod: "selects no service" would say it twice
  if (auto pods = f.get("pods")) {
    narrowed = true;
    std::vector<bool> named(n, false);
    std::vector<int> counted(n, 0);  // pods named per service
    for (const MapEntry& ns : read_entries(*pods, f.at("pods"), c.diags)) {
      if (!ns.value.IsSequence()) {
        c.diags.error(ns.value_pos(), "expected a list of pod names under '" + ns.key + "'");
        continue;
      }
      for (const YAML::Node& pod : ns.value) {
        auto name = read_text(pod, pos_of(pod), "a pod name", c.diags);
        if (!name) continue;
        // A Deployment's pod is <service>-<replicaset hash>-<suffix>: the longest service
        // name it starts with, followed by '-'.
        int best = -1;
        for (int s = 0; s < n; ++s) {
          const std::string& service = c.scenario.services[s].name;
          if ((*name == service || name->rfind(service + "-", 0) == 0) &&
              (best < 0 || service.size() > c.scenario.services[best].name.size()))
            best = s;
        }
        if (best < 0) {
          c.diags.error(pos_of(pod), "pod '" + *name + "' belongs to no service of the scenario");
          pod_unknown = true;
        } else {
          named[best] = true;
          ++counted[best];
        }
      }
    }
    for (int s = 0; s < n; ++s) picked[s] = picked[s] && named[s];
    c.named_pods = std::move(counted);
    c.named_pods_pos = pos_of(*pods);
  }
  std::vector<int> services;
  for (int s = 0; s < n; ++s)
    if (picked[s]) services.push_back(s);
  if (!narrowed)
    c.diags.warning(f.pos(), q(f.path()) + " selects every pod of the namespace: every service");
  if (services.empty() && !pod_unknown)
    c.diags.error(f.pos(), q(f.path()) + " selects no service of the scenario");
  return services;
}

// `mode` and `value` into `fault`.
void read_mode(const Fields& f, FaultSpec& fault, ManifestContext& c) {
  auto mode = f.text("mode");
  if (!mode) {
    if (!f.has("mode"))
      c.diags.error(f.pos(), "missing '" + f.at("mode") +
                                 "' (one, all, fixed, fixed-percent or random-max-percent)");
    return;
  }
  static constexpr PodMode kModes[] = {PodMode::kOne, PodMode::kAll, PodMode::kFixed,
                                       PodMode::kFixedPercent, PodMode::kRandomMaxPercent};
  bool known = false;
  for (PodMode m : kModes)
    if (*mode == pod_mode_name(m)) {
      fault.mode = m;
      known = true;
    }
  if (!known) {
    c.diags.error(f.value_pos("mode"), q(f.at("mode")) +
                                           " must be one, all, fixed, fixed-percent or "
                                           "random-max-percent, got '" +
                                           *mode + "'");
    return;
  }
  const bool counted = fault.mode == PodMode::kFixed;
  const bool percent =
      fault.mode == PodMode::kFixedPercent || fault.mode == PodMode::kRandomMaxPercent;
  if ((counted || percent) && !f.has("value")) {
    c.diags.error(f.pos(), "mode " + *mode + " needs '" + f.at("value") + "'");
    return;
  }
  if (counted) fault.mode_value = f.number("value", Range::at_least(0)).value_or(1);
  if (percent) fault.mode_value = f.number("value", Range::closed(0, 100)).value_or(100);
}

// What every Chaos Mesh experiment opens with: the services its selector picks, and the model
// of its faults: `kind`, the spec's mode, no duration yet. Its own `duration` goes to `own`.
struct ChaosOpening {
  std::vector<int> services;
  FaultSpec model;
};

ChaosOpening open_chaos(const Fields& f, FaultKind kind, ManifestContext& c,
                        std::optional<SimTime>& own) {
  ChaosOpening opening{read_selector(f, "selector", c), c.fault(kind, "")};
  opening.model.duration = 0;
  read_mode(f, opening.model, c);
  own = f.duration("duration");
  if (own && *own <= 0) {  // it would end as it starts, and a fault of no duration never ends
    c.diags.error(f.value_pos("duration"),
                  "'duration' must be > 0 (the experiment ends after it); leave it out for one "
                  "that lasts while the manifest is applied");
    own.reset();
  }
  return opening;
}

// A faults per service of `services`, of `model` (mode read from `f`).
std::vector<FaultSpec> per_service(const FaultSpec& model, const std::vector<int>& services,
                                   ManifestContext& c, const std::string& suffix = "") {
  std::vector<FaultSpec> faults;
  for (int s : services) {
    FaultSpec spec = model;
    spec.target.service = s;
    spec.name = c.name + suffix + (services.size() > 1 ? "@" + c.scenario.services[s].name : "");
    faults.push_back(std::move(spec));
  }
  return faults;
}

std::vector<FaultSpec> per_edge(const FaultSpec& model, const std::vector<int>& edges,
                                ManifestContext& c) {
  std::vector<FaultSpec> faults;
  for (int d : edges) {
    FaultSpec spec = model;
    spec.target.dependency = d;
    spec.mode = PodMode::kAll;
    spec.name = c.name + (edges.size() > 1 ? "@" + c.scenario.edge_name(d) : "");
    faults.push_back(std::move(spec));
  }
  return faults;
}

// The dependencies a network experiment acts on: between the selected services and its
// `target`'s, or (no target) every call to or from the selected ones.
std::vector<int> network_edges(const Fields& f, const std::vector<int>& services,
                               ManifestContext& c, bool need_target) {
  if (auto target = f.get("target")) {
    Fields t(*target, f.at("target"), {"mode", "value", "selector"}, {}, c.diags);
    if (!t.is_map()) return {};
    const std::vector<int> targets = read_selector(t, "selector", c);
    std::vector<int> edges = c.edges_between(services, targets);
    if (edges.empty() && !services.empty() && !targets.empty())
      c.diags.warning(t.pos(),
                      "no dependency is declared between the selected services and the "
                      "target's: the experiment touches no call");
    return edges;
  }
  if (need_target) {
    c.diags.error(f.pos(), "a partition needs '" + f.at("target") +
                               "' (the other side; 'externalTargets' are not simulated)");
    return {};
  }
  return c.edges_touching(services);
}

std::vector<FaultSpec> network_chaos(const YAML::Node& node, ManifestContext& c,
                                     std::optional<SimTime>& own) {
  Fields f(node, "spec",
           {"action", "mode", "value", "selector", "duration", "direction", "target", "delay",
            "loss", "externalTargets"},
           {"device", "duplicate", "corrupt", "bandwidth", "rate", "remoteCluster"}, c.diags);
  if (!f.is_map()) return {};
  auto [services, model] = open_chaos(f, FaultKind::kLatency, c, own);
  // Without a `target`, `externalTargets` makes it act on the traffic to those hosts only
  // (outside the cluster, not simulated): no fault, where the selected services' every call
  // was taken (a service-wide incident in the ground truth).
  if (f.has("externalTargets")) {
    if (!f.has("target")) {
      c.diags.warning(f.key_pos("externalTargets"),
                      "with 'externalTargets' and no 'target' the experiment acts only on "
                      "traffic to hosts outside the cluster, which dosim does not simulate: no "
                      "fault is made");
      return {};
    }
    c.diags.warning(f.key_pos("externalTargets"),
                    "'spec.externalTargets' is not simulated (hosts outside the cluster): left "
                    "aside; the calls to the target are");
  }
  if (auto direction = f.text("direction");
      direction && *direction != "to" && *direction != "from" && *direction != "both")
    c.diags.error(f.value_pos("direction"),
                  "'spec.direction' must be to, from or both, got '" + *direction + "'");
  auto action = f.text("action");
  if (!action) {
    if (!f.has("action")) c.diags.error(f.pos(), "missing 'spec.action' in the NetworkChaos");
    return {};
  }
  if (*action == "delay") {
    auto delay = f.get("delay");
    if (!delay) {
      c.diags.error(f.pos(), "action delay needs 'spec.delay' with a 'latency'");
      return {};
    }
    Fields d(*delay, f.at("delay"), {"latency", "jitter"}, {"correlation", "reorder"}, c.diags);
    if (!d.is_map()) return {};
    auto latency = d.duration("latency");
    if (!d.has("latency")) c.diags.error(d.pos(), "missing 'spec.delay.latency'");
    if (latency && *latency == 0)
      c.diags.warning(d.value_pos("latency"),
                      "a 'latency' of 0 delays nothing (netem's jitter needs one to vary about): "
                      "no fault is made");
    if (!latency || *latency <= 0) return {};
    model.fixed_delay = *latency;
    model.jitter = d.duration("jitter").value_or(0);
    if (!f.has("target")) return per_service(model, services, c);
    if (model.mode != PodMode::kAll)
      c.diags.warning(f.value_pos("mode"),
                      "with a 'target' dosim delays every call between the "
                      "services, whichever pods 'mode' picks");
    return per_edge(model, network_edges(f, services, c, false), c);
  }
  if (*action == "loss" || *action == "partition") {
    model.kind = FaultKind::kPacketLoss;
    model.fraction = 1.0;
    if (*action == "loss") {
      auto loss = f.get("loss");
      if (!loss) {
        c.diags.error(f.pos(), "action loss needs 'spec.loss' with a 'loss' percent");
        return {};
      }
      Fields l(*loss, f.at("loss"), {"loss"}, {"correlation"}, c.diags);
      if (!l.is_map()) return {};
      if (!l.has("loss")) c.diags.error(l.pos(), "missing 'spec.loss.loss' (a percent)");
      model.fraction = l.number("loss", Range::closed(0, 100)).value_or(0) / 100.0;
    }
    if (model.mode != PodMode::kAll)
      c.diags.warning(f.value_pos("mode"),
                      "dosim drops the packets of every call between the "
                      "services, whichever pods 'mode' picks");
    return per_edge(model, network_edges(f, services, c, *action == "partition"), c);
  }
  const std::vector<std::string> simulated = {"delay", "loss", "partition"};
  const std::vector<std::string> valid = {"netem", "duplicate", "corrupt", "bandwidth"};
  if (std::find(valid.begin(), valid.end(), *action) != valid.end())
    c.diags.warning(f.value_pos("action"), "NetworkChaos action '" + *action +
                                               "' is not simulated (delay, loss and partition "
                                               "are): left aside");
  else
    c.diags.error(f.value_pos("action"),
                  "'spec.action' must be delay, loss, partition, netem, "
                  "duplicate, corrupt or bandwidth, got '" +
                      *action + "'" + did_you_mean(*action, simulated));
  return {};
}

std::vector<FaultSpec> pod_chaos(const YAML::Node& node, ManifestContext& c,
                                 std::optional<SimTime>& own) {
  Fields f(node, "spec",
           {"action", "mode", "value", "selector", "duration", "gracePeriod", "containerNames"},
           {"remoteCluster"}, c.diags);
  if (!f.is_map()) return {};
  auto [services, model] = open_chaos(f, FaultKind::kPodKill, c, own);
  auto action = f.text("action");
  if (!action) {
    if (!f.has("action")) c.diags.error(f.pos(), "missing 'spec.action' in the PodChaos");
    return {};
  }
  if (*action == "pod-kill") {
    // Killed at once; its Deployment's replacement is ready a restart later.
    model.restart_time = 10 * kSecond;
    model.duration = model.restart_time;
  } else if (*action == "container-kill") {
    if (!f.has("containerNames"))
      c.diags.error(f.pos(), "action container-kill needs 'spec.containerNames'");
    model.restart_time = 5 * kSecond;  // the kubelet restarts the container in place
    model.duration = model.restart_time;
  } else if (*action == "pod-failure") {
    // Unavailable for the whole experiment, back at its end.
    const SimTime length =
        std::min(own.value_or(c.window.end - c.window.start), c.window.end - c.window.start);
    model.restart_time = length;
    model.duration = length;
  } else {
    c.diags.error(f.value_pos("action"),
                  "'spec.action' must be pod-kill, pod-failure or "
                  "container-kill, got '" +
                      *action + "'" +
                      did_you_mean(*action, {"pod-kill", "pod-failure", "container-kill"}));
    return {};
  }
  return per_service(model, services, c);
}

// A StressChaos memory stressor: `size` in all (Chaos Mesh: the stressor's workers occupy
// that much together), a percent of the container's memory limit or an absolute size that the
// service's `memory_limit` turns into one; `time` to reach it (linear growth).
std::vector<FaultSpec> memory_stress(const YAML::Node& node, const std::string& path,
                                     const FaultSpec& model, const std::vector<int>& services,
                                     ManifestContext& c, const std::string& suffix) {
  Fields m(node, path, {"workers", "size", "time"}, {"options", "oomScoreAdj"}, c.diags);
  if (!m.is_map()) return {};
  if (!m.has("workers")) c.diags.error(m.pos(), "missing '" + path + ".workers'");
  m.number("workers", Range::closed(1, 8192));
  const std::optional<std::string> size = m.text("size");
  if (!size) {
    if (!m.has("size")) c.diags.error(m.pos(), "missing '" + path + ".size' (as 256MB or 25%)");
    return {};
  }
  FaultSpec stress = model;
  stress.kind = FaultKind::kMemoryStress;
  if (m.has("time")) stress.memory_ramp = m.duration("time").value_or(0);
  std::optional<double> percent;
  std::optional<double> bytes;
  if (!size->empty() && size->back() == '%') {
    const std::string number = size->substr(0, size->size() - 1);  // a plain number: no unit
    const std::optional<double> value = number.find_first_not_of("0123456789.") == std::string::npos
                                            ? parse_byte_size(number)
                                            : std::nullopt;
    if (value && *value > 0 && *value <= 100) percent = *value;
  } else {
    bytes = parse_byte_size(*size);
    if (bytes && *bytes <= 0) bytes.reset();
  }
  if (!percent && !bytes) {
    c.diags.error(m.value_pos("size"), "'" + path +
                                           ".size' must be a memory size (256MB, "
                                           "128Mi, 1Gi) or a percent of the limit (25%), got '" +
                                           *size + "'");
    return {};
  }
  std::vector<FaultSpec> faults;
  for (FaultSpec& fault : per_service(stress, services, c, suffix)) {
    const ServiceSpec& service = c.scenario.services[fault.target.service];
    if (percent) {
      fault.memory_load = *percent / 100.0;
    } else if (service.memory_limit_bytes > 0) {
      fault.memory_load = std::min(1.0, *bytes / service.memory_limit_bytes);
    } else {
      c.diags.error(m.value_pos("size"),
                    "size '" + *size + "' is absolute: give service '" + service.name +
                        "' a 'memory_limit' (its container's limit, as 512Mi) to make it a "
                        "share of the limit, or write the size as a percent (25%)");
      continue;
    }
    faults.push_back(fault);
  }
  return faults;
}

std::vector<FaultSpec> stress_chaos(const YAML::Node& node, ManifestContext& c,
                                    std::optional<SimTime>& own) {
  Fields f(node, "spec", {"mode", "value", "selector", "duration", "stressors", "containerNames"},
           {"stressngStressors", "remoteCluster"}, c.diags);
  if (!f.is_map()) return {};
  auto [services, model] = open_chaos(f, FaultKind::kCpuStress, c, own);
  auto stressors = f.get("stressors");
  if (!stressors) {
    c.diags.error(f.pos(), "missing 'spec.stressors' (cpu, memory)");
    return {};
  }
  Fields s(*stressors, f.at("stressors"), {"cpu", "memory"}, {}, c.diags);
  if (!s.is_map()) return {};
  if (!s.has("cpu") && !s.has("memory"))
    c.diags.error(s.pos(), "'spec.stressors' needs a 'cpu' or a 'memory' stressor");
  std::vector<FaultSpec> faults;
  if (auto cpu = s.get("cpu")) {
    Fields k(*cpu, s.at("cpu"), {"workers", "load"}, {"options"}, c.diags);
    if (k.is_map()) {
      if (!k.has("workers")) c.diags.error(k.pos(), "missing 'spec.stressors.cpu.workers'");
      const double workers = k.number("workers", Range::closed(1, 8192)).value_or(1);
      const double load = k.number("load", Range::closed(0, 100)).value_or(100);
      FaultSpec stress = model;
      // Chaos Mesh: the stressor's CPU is workers x load percent of one CPU; a replica is one.
      stress.cpu_load = std::min(1.0, workers * load / 100.0);
      if (stress.mode != PodMode::kAll)
        c.diags.warning(f.value_pos("mode"),
                        "dosim's cpu-stress takes every replica's CPU, "
                        "whichever pods 'mode' picks");
      stress.mode = PodMode::kAll;
      const std::string suffix = s.has("memory") ? "/cpu" : "";
      for (FaultSpec& fault : per_service(stress, services, c, suffix)) faults.push_back(fault);
    }
  }
  if (auto memory = s.get("memory"))
    for (FaultSpec& fault :
         memory_stress(*memory, s.at("memory"), model, services, c, s.has("cpu") ? "/memory" : ""))
      faults.push_back(fault);
  return faults;
}

// Whether `path` matches a Chaos Mesh HTTPChaos path pattern (`*` any run of characters).
bool glob_matches(const std::string& pattern, const std::string& path) {
  std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < path.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == path[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<FaultSpec> http_chaos(const YAML::Node& node, ManifestContext& c,
                                  std::optional<SimTime>& own) {
  Fields f(
      node, "spec",
      {"mode", "value", "selector", "duration", "target", "port", "path", "method", "abort",
       "delay"},
      {"code", "request_headers", "response_headers", "replace", "patch", "remoteCluster", "tls"},
      c.diags);
  if (!f.is_map()) return {};
  auto [services, model] = open_chaos(f, FaultKind::kLatency, c, own);
  if (auto target = f.text("target"); target && *target != "Request" && *target != "Response")
    c.diags.error(f.value_pos("target"),
                  "'spec.target' must be Request or Response, got '" + *target + "'");
  else if (!f.has("target"))
    c.diags.error(f.pos(), "missing 'spec.target' (Request or Response)");
  if (f.has("method"))
    c.diags.warning(f.key_pos("method"),
                    "dosim's requests carry no method: 'spec.method' is "
                    "left aside and every request is taken");
  const std::string path = f.text("path").value_or("*");
  std::vector<FaultSpec> shapes;
  if (auto abort = f.get("abort")) {
    if (!abort->IsScalar() || (abort->Scalar() != "true" && abort->Scalar() != "false")) {
      c.diags.error(f.value_pos("abort"), "expected true or false for 'spec.abort'");
    } else if (abort->Scalar() == "true") {
      FaultSpec spec = model;
      spec.kind = FaultKind::kError;
      spec.http_status = 503;  // the connection is cut: the caller sees a failed call
      spec.name = "/abort";
      shapes.push_back(spec);
    }
  }
  if (f.has("delay")) {
    if (auto delay = f.duration("delay")) {
      FaultSpec spec = model;
      spec.fixed_delay = *delay;
      spec.name = "/delay";
      if (*delay > 0) shapes.push_back(spec);
    }
  }
  if (shapes.empty() && !f.has("abort") && !f.has("delay"))
    c.diags.warning(f.pos(), "the HTTPChaos neither aborts nor delays: nothing to simulate");
  std::vector<FaultSpec> faults;
  for (FaultSpec& shape : shapes) {
    const std::string suffix = shapes.size() > 1 ? shape.name : "";
    for (int s : services) {
      const ServiceSpec& service = c.scenario.services[s];
      std::vector<int> endpoints;
      if (path != "*") {
        for (std::size_t e = 0; e < service.endpoints.size(); ++e)
          if (glob_matches(path, service.endpoints[e].name))
            endpoints.push_back(static_cast<int>(e));
        if (endpoints.empty()) {
          c.diags.warning(f.value_pos("path"),
                          "'spec.path' " + path + " matches no endpoint declared on " +
                              service.name + ": the experiment takes none of its requests");
          continue;
        }
      }
      const std::string owner = services.size() > 1 ? "@" + service.name : "";
      if (endpoints.empty() || endpoints.size() == service.endpoints.size()) {
        FaultSpec spec = shape;
        spec.target.service = s;
        spec.name = c.name + suffix + owner;
        faults.push_back(std::move(spec));
        continue;
      }
      for (int e : endpoints) {
        FaultSpec spec = shape;
        spec.target.service = s;
        spec.target.endpoint = e;
        spec.name = c.name + suffix + owner + "@" + service.endpoints[e].name;
        faults.push_back(std::move(spec));
      }
    }
  }
  return faults;
}

}  // namespace

const std::vector<std::string>& chaos_kinds() {
  static const std::vector<std::string> kinds = {"NetworkChaos", "PodChaos", "StressChaos",
                                                 "HTTPChaos"};
  return kinds;
}

// A `pods` selector names some of a service's pods: a fault acting on chosen replicas
// (pod-kill and its kin, latency, errors) takes as many of its replicas as pods were named
// (which ones is not kept: dosim's replicas have no names), `mode` choosing among them as
// Chaos Mesh chooses among the selected pods. A stress takes every replica's CPU or memory
// whatever the selector names (said).
void keep_to_named_pods(std::vector<FaultSpec>& faults, ManifestContext& c) {
  if (c.named_pods.empty()) return;
  bool said_stress = false, said_random = false;
  for (FaultSpec& fault : faults) {
    if (fault.target.is_edge() || fault.target.service < 0) continue;
    const int named = c.named_pods[static_cast<std::size_t>(fault.target.service)];
    const int replicas = c.scenario.services[fault.target.service].replicas;
    if (named <= 0) continue;
    if (fault.kind == FaultKind::kCpuStress || fault.kind == FaultKind::kMemoryStress) {
      if (named < replicas && !said_stress)
        c.diags.warning(c.named_pods_pos, "dosim's stress takes every replica of " +
                                              c.scenario.services[fault.target.service].name +
                                              ", not only the pods named");
      said_stress = said_stress || named < replicas;
      continue;
    }
    switch (fault.mode) {
      case PodMode::kAll:
        fault.mode = PodMode::kFixed;
        fault.mode_value = named;
        break;
      case PodMode::kOne:
        break;
      case PodMode::kFixed:
        fault.mode_value = std::min<double>(fault.mode_value, named);
        break;
      case PodMode::kFixedPercent:
        fault.mode = PodMode::kFixed;
        fault.mode_value = std::floor(named * fault.mode_value / 100.0);
        break;
      case PodMode::kRandomMaxPercent:
        if (!said_random)
          c.diags.warning(c.named_pods_pos,
                          "with a 'pods' selector, random-max-percent picks among all of a "
                          "service's replicas, not only the pods named");
        said_random = true;
        break;
    }
  }
}

std::vector<FaultSpec> read_chaos(const std::string& kind, const YAML::Node& spec,
                                  ManifestContext& c, std::optional<SimTime>& own_duration) {
  c.named_pods.clear();
  std::vector<FaultSpec> faults = kind == "NetworkChaos"  ? network_chaos(spec, c, own_duration)
                                  : kind == "PodChaos"    ? pod_chaos(spec, c, own_duration)
                                  : kind == "StressChaos" ? stress_chaos(spec, c, own_duration)
                                                          : http_chaos(spec, c, own_duration);
  keep_to_named_pods(faults, c);
  return faults;
}

void read_schedule_chaos(const Fields& spec, ManifestContext& c) {
  if (!spec.is_map()) return;
  // Said first: the schedule's or the experiment's problems return early.
  const std::string policy = spec.text("concurrencyPolicy").value_or("Forbid");
  const bool policy_known = policy == "Forbid" || policy == "Allow";
  if (!policy_known)
    c.diags.error(spec.value_pos("concurrencyPolicy"),
                  "'concurrencyPolicy' is Forbid (the default) or Allow, as Chaos Mesh takes "
                  "it, got '" +
                      policy + "'" + did_you_mean(policy, {"Forbid", "Allow"}));
  auto type = spec.text("type");
  auto when = spec.text("schedule");
  if (!spec.has("schedule")) c.diags.error(spec.pos(), "missing 'spec.schedule' (cron or @every)");
  if (!type) {
    if (!spec.has("type")) c.diags.error(spec.pos(), "missing 'spec.type' (NetworkChaos, ...)");
    return;
  }
  const auto& kinds = chaos_kinds();
  if (std::find(kinds.begin(), kinds.end(), *type) == kinds.end()) {
    c.diags.error(spec.value_pos("type"),
                  "'spec.type' must be NetworkChaos, PodChaos, "
                  "StressChaos or HTTPChaos, got '" +
                      *type + "'" + did_you_mean(*type, kinds));
    return;
  }
  // Chaos Mesh's field for each type: its name with the leading capitals (an acronym's
  // too) in lower case but the last of several, so HTTPChaos's is httpChaos.
  std::string key = *type;
  std::size_t capitals = 0;
  while (capitals < key.size() && std::isupper(static_cast<unsigned char>(key[capitals])))
    ++capitals;
  const std::size_t lowered = capitals > 1 ? capitals - 1 : capitals;
  for (std::size_t i = 0; i < lowered; ++i)
    key[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[i])));
  auto inner = spec.get(key);
  if (!inner) {
    c.diags.error(spec.pos(),
                  "a Schedule of type " + *type + " needs its experiment under 'spec." + key + "'");
    return;
  }
  std::optional<SimTime> own;
  const std::vector<FaultSpec> faults = read_chaos(*type, *inner, c, own);
  if (!when) return;
  // Each run needs an end of its own: a pod or container kill ends as its replicas restart,
  // anything else after its `duration` (a pod-failure without one would last the whole
  // window, and every later time of the schedule be skipped).
  const YAML::Node action = inner->IsMap() ? (*inner)["action"] : YAML::Node();
  const bool ends_itself = *type == "PodChaos" && action.IsScalar() &&
                           (action.Scalar() == "pod-kill" || action.Scalar() == "container-kill");
  const bool duration_given = inner->IsMap() && (*inner)["duration"];  // said if bad
  // Said beside the schedule's own problems (checked below), not in place of them.
  const bool missing_duration = !own && !ends_itself && !duration_given && !faults.empty();
  if (missing_duration)
    c.diags.error(spec.value_pos(key),
                  "a scheduled " + *type +
                      " needs a 'duration' (each run would last until the "
                      "manifest ends, and the schedule's later times be skipped)");
  // Occurrence times in the manifest's window.
  const SimTime from = c.window.start, until = c.window.end;
  std::vector<SimTime> starts;
  constexpr std::size_t kMost = 100000;
  static const std::vector<std::pair<std::string, std::string>> kMacros = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  std::string cron_text = *when;
  for (const auto& [macro, expansion] : kMacros)
    if (*when == macro) cron_text = expansion;
  if (when->rfind("@every ", 0) == 0) {
    const std::string interval = when->substr(7);
    if (const std::string problem = go_duration_problem(interval); !problem.empty()) {
      c.diags.error(spec.value_pos("schedule"), "'@every': " + problem);
      return;
    }
    const std::optional<SimTime> every = go_duration(interval);
    if (!every) {
      c.diags.error(
          spec.value_pos("schedule"),
          "'@every' takes a duration with a unit (\"@every 5m\"), got '" + interval + "'");
      return;
    }
    if (*every <= 0) {
      c.diags.error(spec.value_pos("schedule"),
                    "'@every' takes a duration above 0, got '" + interval + "'");
      return;
    }
    for (SimTime t = from + *every; t < until && starts.size() < kMost; t += *every)
      starts.push_back(t);
  } else {
    std::string error;
    auto cron = CronExpression::parse(cron_text, error);
    if (!cron) {
      c.diags.error(spec.value_pos("schedule"), error);
      return;
    }
    starts = cron->times(from, until, kMost);
  }
  if (missing_duration) return;
  if (starts.empty()) {
    c.diags.warning(spec.value_pos("schedule"), "'" + *when +
                                                    "' fires no time while the manifest "
                                                    "is applied: the experiment never runs");
    return;
  }
  if (!policy_known) return;
  const bool forbid = policy == "Forbid";
  SimTime busy_until = 0;
  int k = 0;
  for (const SimTime start : starts) {
    if (forbid && start < busy_until) continue;  // the last run still goes on
    ++k;
    SimTime occurrence_end = start;
    for (const FaultSpec& model : faults) {
      FaultSpec fault = model;
      fault.name = model.name + "#" + std::to_string(k);
      fault.start = start;
      SimTime length = fault.duration > 0 ? fault.duration : own.value_or(0);
      if (length <= 0) {
        c.diags.error(spec.pos(),
                      "a scheduled " + *type + " needs a 'duration' (it would never end)");
        return;
      }
      fault.duration = std::min(length, until - start);
      occurrence_end = std::max(occurrence_end, start + fault.duration);
      c.out.faults.push_back(std::move(fault));
    }
    busy_until = occurrence_end;
  }
}

}  // namespace dosim::loader
