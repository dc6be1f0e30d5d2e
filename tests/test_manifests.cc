// Kubernetes fault manifests in a scenario (`manifests:`, docs/manifests.md): Istio
// VirtualService routes (first match, sourceLabels, uri, pruned fields), DestinationRule
// policies, Chaos Mesh experiments and schedules become the faults and edge policies a real
// cluster would apply, with warnings and errors at their positions in the manifest file.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dosim/engine/scenario_loader.h"

namespace dosim {
namespace {

namespace fs = std::filesystem;

// web and batch call pay (endpoints /pay x3, /refund x1); web is the entry service.
const std::string kSystem =
    "name: t\n"
    "duration: 1h\n"
    "services:\n"
    "  - {name: web, replicas: 2}\n"
    "  - {name: batch}\n"
    "  - name: pay\n"
    "    replicas: 4\n"
    "    endpoints: [{name: /pay, weight: 3}, {name: /refund, weight: 1}]\n"
    "  - {name: cartservice, labels: {tier: backend}, memory_limit: 512Mi}\n"
    "dependencies:\n"
    "  - {caller: web, callee: pay}\n"
    "  - {caller: batch, callee: pay}\n"
    "  - {caller: web, callee: cartservice}\n"
    "  - {caller: batch, callee: cartservice}\n"
    "traffic:\n"
    "  - {entry: web, base_rps: 10}\n";

struct Loaded {
  Scenario scenario;
  std::vector<std::string> warnings;
};

// One folder per process: CTest runs each test case as its own process, in parallel.
fs::path folder() {
  const fs::path dir =
      fs::temp_directory_path() / ("dosim-manifest-tests-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

// Writes `manifest` to m.yaml beside a scenario of kSystem + `tail`, and loads it.
Loaded load(const std::string& manifest, const std::string& tail = "manifests: [m.yaml]\n") {
  const fs::path dir = folder();
  std::ofstream(dir / "m.yaml") << manifest;
  std::ofstream(dir / "s.yaml") << kSystem << tail;
  Loaded loaded{load_scenario_file((dir / "s.yaml").string()), {}};
  for (const Diagnostic& warning : loaded.scenario.warnings)
    loaded.warnings.push_back(fs::path(warning.file).filename().string() + ":" +
                              std::to_string(warning.line) + ":" + std::to_string(warning.column) +
                              ": " + warning.message);
  return loaded;
}

std::vector<std::string> errors_of(const std::string& manifest,
                                   const std::string& tail = "manifests: [m.yaml]\n") {
  std::vector<std::string> lines;
  try {
    load(manifest, tail);
  } catch (const InputError& error) {
    for (const Diagnostic& d : error.diagnostics())
      lines.push_back(fs::path(d.file).filename().string() + ":" + std::to_string(d.line) + ":" +
                      std::to_string(d.column) + ": " + d.message);
  }
  return lines;
}

bool has_warning(const Loaded& loaded, const std::string& start) {
  for (const std::string& w : loaded.warnings)
    if (w.rfind(start, 0) == 0) return true;
  return false;
}

const FaultSpec* fault_named(const Scenario& s, const std::string& name) {
  for (const FaultSpec& f : s.faults)
    if (f.name == name) return &f;
  return nullptr;
}

// The lab's first manifest (../shared/REFERENCE.md, Lab 7): no apiVersion, `match` nested in
// `fault`, the deprecated `percent`.
const std::string kLabCartDelay =
    "kind: VirtualService\n"                 // 1
    "metadata:\n"                            // 2
    "  name: cartservice-fault-injection\n"  // 3
    "spec:\n"                                // 4
    "  hosts:\n"                             // 5
    "  - cartservice\n"                      // 6
    "  http:\n"                              // 7
    "  - fault:\n"                           // 8
    "      delay:\n"                         // 9
    "        fixedDelay: .2s\n"              // 10
    "        percent: 100\n"                 // 11
    "      match:\n"                         // 12
    "      - sourceLabels:\n"                // 13
    "          app: web\n"                   // 14
    "    route:\n"                           // 15
    "    - destination:\n"                   // 16
    "        host: cartservice\n"            // 17
    "  - fault:\n"                           // 18
    "      delay:\n"                         // 19
    "        fixedDelay: .2s\n"              // 20
    "        percent: 100\n"                 // 21
    "      match:\n"                         // 22
    "      - uri:\n"                         // 23
    "          regex: \".*/GetQuote\"\n"     // 24
    "    route:\n"                           // 25
    "    - destination:\n"                   // 26
    "        host: cartservice\n"            // 27
    "  - route:\n"                           // 28
    "    - destination:\n"                   // 29
    "        host: cartservice\n";           // 30

TEST_CASE("a match nested in fault is pruned, so the delay takes every caller", "[manifests]") {
  const Loaded loaded =
      load(kLabCartDelay, "manifests: [{file: m.yaml, start: 15m, duration: 10m}]\n");
  REQUIRE(loaded.scenario.faults.size() == 1);
  const FaultSpec& fault = loaded.scenario.faults[0];
  CHECK(fault.name == "cartservice-fault-injection/http0");
  CHECK(fault.kind == FaultKind::kLatency);
  CHECK(fault.target.service == loaded.scenario.service_index("cartservice"));
  CHECK_FALSE(fault.target.is_edge());
  CHECK(fault.fixed_delay == 200 * kMillisecond);
  CHECK(fault.fraction == 1.0);
  CHECK(fault.start == 15 * kMinute);
  CHECK(fault.duration == 10 * kMinute);
  CHECK(has_warning(loaded, "m.yaml:1:7: no 'apiVersion': kubectl refuses"));
  CHECK(has_warning(loaded, "m.yaml:11:9: 'spec.http[0].fault.delay.percent' is deprecated"));
  CHECK(has_warning(loaded,
                    "m.yaml:12:7: unknown field 'spec.http[0].fault.match': a cluster "
                    "prunes it (kubectl warns: unknown field), and so does dosim; this "
                    "route then has no match and takes every request to the host"));
  CHECK(has_warning(loaded,
                    "m.yaml:18:5: 'cartservice-fault-injection' spec.http[1] takes no "
                    "request to cartservice (an earlier route takes every request it "
                    "matches)"));
}

TEST_CASE("a later route that matches no caller is said to match nothing, not to be shadowed",
          "[manifests]") {
  const Loaded loaded = load(
      "apiVersion: networking.istio.io/v1beta1\n"
      "kind: VirtualService\n"
      "metadata: {name: cart-delay, namespace: default}\n"
      "spec:\n"
      "  hosts: [cartservice]\n"
      "  http:\n"
      "  - match: [{sourceLabels: {app: web}}]\n"
      "    route: [{destination: {host: cartservice}}]\n"
      "  - match: [{sourceLabels: {app: nosuch}}]\n"
      "    fault: {delay: {fixedDelay: 150ms, percentage: {value: 40}}}\n"
      "    route: [{destination: {host: cartservice}}]\n"
      "  - route: [{destination: {host: cartservice}}]\n");
  CHECK(loaded.scenario.faults.empty());
  CHECK(has_warning(loaded,
                    "m.yaml:9:5: 'cart-delay' spec.http[1] takes no request to "
                    "cartservice (no caller or endpoint matches it): its fault never acts"));
}

TEST_CASE("a match beside fault restricts the delay to the matched caller's edge", "[manifests]") {
  const Loaded loaded = load(
      "apiVersion: networking.istio.io/v1beta1\n"
      "kind: VirtualService\n"
      "metadata: {name: cart-delay, namespace: default}\n"
      "spec:\n"
      "  hosts: [cartservice.default.svc.cluster.local]\n"
      "  http:\n"
      "  - match: [{sourceLabels: {app: web}}]\n"
      "    fault: {delay: {fixedDelay: 150ms, percentage: {value: 40}}}\n"
      "    route: [{destination: {host: cartservice}}]\n"
      "  - route: [{destination: {host: cartservice}}]\n");
  REQUIRE(loaded.scenario.faults.size() == 1);
  const FaultSpec& fault = loaded.scenario.faults[0];
  CHECK(loaded.scenario.edge_name(fault.target.dependency) == "web->cartservice");
  CHECK(fault.fraction == Approx(0.4));
  CHECK(fault.fixed_delay == 150 * kMillisecond);
  CHECK(loaded.warnings.empty());
}

TEST_CASE("routes split a host's requests by caller and endpoint, first match wins",
          "[manifests]") {
  // batch's calls: aborted by route 0. /pay from web: delayed by route 1 (web's /refund calls
  // are not: a share of web's calls). The external traffic goes to web, not pay.
  const Loaded loaded = load(
      "apiVersion: networking.istio.io/v1\n"
      "kind: VirtualService\n"
      "metadata: {name: pay-faults}\n"
      "spec:\n"
      "  hosts: [pay]\n"
      "  http:\n"
      "  - match: [{sourceLabels: {app: batch}}]\n"
      "    fault: {abort: {httpStatus: 500, percentage: {value: 50}}}\n"
      "  - match: [{uri: {prefix: /pay}}]\n"
      "    fault: {delay: {fixedDelay: 1s, percentage: {value: 100}}}\n"
      "  - route: [{destination: {host: pay}}]\n");
  const FaultSpec* abort = fault_named(loaded.scenario, "pay-faults/http0@batch->pay");
  REQUIRE(abort);
  CHECK(abort->kind == FaultKind::kError);
  CHECK(abort->http_status == 500);
  CHECK(abort->fraction == Approx(0.5));
  const FaultSpec* delay = fault_named(loaded.scenario, "pay-faults/http1@web->pay");
  REQUIRE(delay);
  CHECK(delay->kind == FaultKind::kLatency);
  CHECK(delay->fraction == Approx(0.75));  // /pay's weight 3 of 4
  CHECK(loaded.scenario.faults.size() == 2);
  CHECK(has_warning(loaded,
                    "m.yaml:9:5: 'pay-faults': dosim cannot restrict a fault to some "
                    "endpoints of one caller"));
}

TEST_CASE("a caller's route to an endpoint listed after another is partial too", "[manifests]") {
  // /refund is pay's second endpoint: web's calls to /pay (listed first) are not taken, so
  // the fault on web->pay is a share of every call, said so (it was said only for the first).
  const Loaded loaded = load(
      "apiVersion: networking.istio.io/v1\n"
      "kind: VirtualService\n"
      "metadata: {name: refund-faults}\n"
      "spec:\n"
      "  hosts: [pay]\n"
      "  http:\n"
      "  - match: [{sourceLabels: {app: web}, uri: {prefix: /refund}}]\n"
      "    fault: {abort: {httpStatus: 500, percentage: {value: 10}}}\n"
      "  - route: [{destination: {host: pay}}]\n");
  const FaultSpec* abort = fault_named(loaded.scenario, "refund-faults/http0@web->pay");
  REQUIRE(abort);
  CHECK(abort->fraction == Approx(0.1 * 0.25));  // /refund's weight 1 of 4
  CHECK(has_warning(loaded,
                    "m.yaml:7:5: 'refund-faults': dosim cannot restrict a fault to some "
                    "endpoints of one caller"));
}

TEST_CASE("a uri match on every caller becomes an endpoint fault", "[manifests]") {
  const Loaded loaded = load(
      "apiVersion: networking.istio.io/v1\n"
      "kind: VirtualService\n"
      "metadata: {name: refund-errors}\n"
      "spec:\n"
      "  hosts: [pay]\n"
      "  http:\n"
      "  - match: [{uri: {exact: /refund}}]\n"
      "    fault: {abort: {httpStatus: 503, percentage: {value: 100}}}\n");
  REQUIRE(loaded.scenario.faults.size() == 1);
  const FaultSpec& fault = loaded.scenario.faults[0];
  CHECK(fault.target.service == loaded.scenario.service_index("pay"));
  CHECK(fault.target.endpoint == 1);
}

TEST_CASE("manifest_names maps Kubernetes names that differ from the services'", "[manifests]") {
  const Loaded loaded = load(
      "apiVersion: networking.istio.io/v1alpha3\n"
      "kind: VirtualService\n"
      "metadata: {name: payment-service-fault-injection}\n"
      "spec:\n"
      "  hosts: [payment-service]\n"
      "  http:\n"
      "  - match: [{sourceLabels: {app: batch-job}}]\n"
      "    fault: {delay: {fixedDelay: .2s, percent: 100}}\n",
      "manifest_names: {payment-service: pay, batch-job: batch}\n"
      "manifests: [m.yaml]\n");
  REQUIRE(loaded.scenario.faults.size() == 1);
  CHECK(loaded.scenario.edge_name(loaded.scenario.faults[0].target.dependency) == "batch->pay");
  // A mapping to no service is one problem, at the mapping: its hosts were said again,
  // each told to map its name with manifest_names (which it does).
  CHECK(errors_of("apiVersion: networking.istio.io/v1alpha3\n"
                  "kind: VirtualService\n"
                  "metadata: {name: pay-slow}\n"
                  "spec:\n"
                  "  hosts: [payment-service]\n"
                  "  http:\n"
                  "  - fault: {delay: {fixedDelay: .2s, percent: 100}}\n"
                  "    route: [{destination: {host: payment-service}}]\n",
                  "manifest_names: {payment-service: paymentsvc}\nmanifests: [m.yaml]\n") ==
        std::vector<std::string>{"s.yaml:17:35: unknown service 'paymentsvc'"});
}

TEST_CASE("manifest problems are all reported at once with their positions", "[manifests]") {
  const std::vector<std::string> errors = errors_of(
      "apiVersion: networking.istio.io/v1\n"
      "kind: VirtualService\n"
      "metadata: {name: a}\n"
      "spec:\n"
      "  hosts: [cartservise]\n"
      "  http:\n"
      "  - fault: {delay: {fixedDelay: 200, percent: 100}}\n"
      "---\n"
      "apiVersion: networking.istio.io/v1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: b}\n"
      "spec: {action: delay}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: PodChaos\n"
      "metadata: {name: c}\n"
      "spec: {action: pod-kil, mode: some, selector: {labelSelectors: {app: web}}}\n"
      "---\n"
      "kind: Deployment\n"
      "metadata: {name: d}\n");
  const std::vector<std::string> expected = {
      "m.yaml:5:11: host 'cartservise' is no service of the scenario; did you mean "
      "'cartservice'? (map Kubernetes names with 'manifest_names:')",
      "m.yaml:7:33: expected a duration with a unit for 'spec.http[0].fault.delay.fixedDelay' "
      "(as \"200ms\", \".2s\", \"1m30s\"), got '200'",
      "m.yaml:9:13: kind NetworkChaos is served as chaos-mesh.org/v1alpha1, not "
      "'networking.istio.io/v1'",
      "m.yaml:12:7: missing 'spec.selector' (which pods the chaos acts on)",
      "m.yaml:12:7: missing 'spec.mode' (one, all, fixed, fixed-percent or random-max-percent)",
      "m.yaml:12:7: action delay needs 'spec.delay' with a 'latency'",
      "m.yaml:17:31: 'spec.mode' must be one, all, fixed, fixed-percent or random-max-percent, "
      "got 'some'",
      "m.yaml:17:16: 'spec.action' must be pod-kill, pod-failure or container-kill, got "
      "'pod-kil'; did you mean 'pod-kill'?",
      "m.yaml:19:7: kind 'Deployment' is not one dosim reads (VirtualService, DestinationRule, "
      "Schedule, NetworkChaos, PodChaos, StressChaos, HTTPChaos); the document has no "
      "'apiVersion' (a kind of another API than Istio's and Chaos Mesh's is left aside once it "
      "has one)"};
  std::vector<std::string> sorted = errors, wanted = expected;
  std::sort(sorted.begin(), sorted.end());
  std::sort(wanted.begin(), wanted.end());
  CHECK(sorted == wanted);
}

TEST_CASE("a manifest's name, a chaos duration and a schedule's policy are checked",
          "[manifests]") {
  // A document without metadata.name (kubectl refuses it) was named after its kind (its
  // other problems are said with it: here it has none); a
  // duration of 0s made a fault that never ended; a policy but Forbid and Allow was Forbid.
  const std::vector<std::string> errors = errors_of(
      "apiVersion: networking.istio.io/v1\n"
      "kind: VirtualService\n"
      "spec: {hosts: [web], http: [{fault: {abort: {httpStatus: 503, percentage: {value: 10}}}}]}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: b}\n"
      "spec: {action: delay, mode: all, selector: {labelSelectors: {app: web}}, duration: 0s,\n"
      "       delay: {latency: 100ms}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: Schedule\n"
      "metadata: {name: c}\n"
      "spec: {schedule: '@every 0s', type: PodChaos, concurrencyPolicy: Replace,\n"
      "       podChaos: {action: pod-kill, mode: one, selector: {labelSelectors: {app: web}}}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: Schedule\n"
      "metadata: {name: d}\n"
      "spec: {schedule: '@every 2m', type: PodChaos, concurrencyPolicy: allow,\n"
      "       podChaos: {action: pod-kill, mode: one, selector: {labelSelectors: {app: web}},\n"
      "                  duration: 1m}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: Schedule\n"
      "metadata: {name: e}\n"
      "spec: {schedule: '*/15 * * * *', type: PodChaos,\n"
      "       podChaos: {action: pod-failure, mode: one, selector: {labelSelectors: {app: "
      "web}}}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: Schedule\n"
      "metadata: {name: f}\n"
      "spec: {schedule: '@every 1d', type: NetworkChaos,\n"
      "       networkChaos: {action: delay, mode: all, selector: {labelSelectors: {app: web}},\n"
      "                      duration: 1d, delay: {latency: 100ms}}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: PodChaos\n"
      "metadata: {name: g}\n"
      "spec: {action: pod-kill, mode: one, selector: {expressionSelectors: [\n"
      "  {key: app, operator: Exists, values: [web]}, {key: app, operator: In}]}}\n");
  const std::vector<std::string> expected = {
      "m.yaml:1:1: missing 'metadata.name' in the VirtualService (a cluster refuses it)",
      "m.yaml:8:84: 'duration' must be > 0 (the experiment ends after it); leave it out for one "
      "that lasts while the manifest is applied",
      "m.yaml:14:18: '@every' takes a duration above 0, got '0s'",
      // Said with the schedule's problem (it was said only once that was fixed).
      "m.yaml:14:66: 'concurrencyPolicy' is Forbid (the default) or Allow, as Chaos Mesh takes "
      "it, got 'Replace'",
      "m.yaml:20:66: 'concurrencyPolicy' is Forbid (the default) or Allow, as Chaos Mesh takes "
      "it, got 'allow'; did you mean 'Allow'?",
      // A pod-failure has no end of its own: each run would last to the manifest's end.
      "m.yaml:28:18: a scheduled PodChaos needs a 'duration' (each run would last until the "
      "manifest ends, and the schedule's later times be skipped)",
      // Go's durations, which a cluster reads, have no days.
      "m.yaml:33:18: '@every': '1d' is no Go duration, which a cluster reads (units h, m, s, "
      "ms, us, ns; a day is 24h)",
      "m.yaml:35:33: 'spec.duration': '1d' is no Go duration, which a cluster reads (units h, "
      "m, s, ms, us, ns; a day is 24h)",
      // A label selector requirement as Kubernetes validates it.
      "m.yaml:41:40: operator Exists takes no 'values' (Kubernetes refuses them)",
      "m.yaml:41:48: operator In needs 'values' (Kubernetes refuses it)"};
  CHECK(errors == expected);
}

TEST_CASE("a manifest entry's keys and its file are all checked in one round", "[manifests]") {
  // A start past the end used to hide the entry's bad duration and every problem of its file.
  const std::vector<std::string> errors = errors_of(
      "apiVersion: networking.istio.io/v1\n"
      "kind: VirtualService\n"
      "metadata: {name: a}\n"
      "spec:\n"
      "  hosts: [cartservise]\n"
      "  http:\n"
      "  - fault: {delay: {fixedDelay: 200, percent: 100}}\n",
      "manifests: [{file: m.yaml, start: 2h, duration: 0s}]\n");
  CHECK(
      errors ==
      std::vector<std::string>{
          "s.yaml:17:35: 'start' (2h) must be before the end of the scenario (1h)",
          "s.yaml:17:49: 'duration' must be > 0, got 0s",
          "m.yaml:5:11: host 'cartservise' is no service of the scenario; did you mean "
          "'cartservice'? (map Kubernetes names with 'manifest_names:')",
          "m.yaml:7:33: expected a duration with a unit for 'spec.http[0].fault.delay.fixedDelay' "
          "(as \"200ms\", \".2s\", \"1m30s\"), got '200'"});
}

TEST_CASE("an unreadable manifest is an error at the scenario's entry", "[manifests]") {
  const std::vector<std::string> errors = errors_of("", "manifests:\n  - missing.yaml\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rfind("s.yaml:18:5: cannot read the manifest", 0) == 0);
}

TEST_CASE("NetworkChaos delay, loss and partition act on services and calls", "[manifests]") {
  const Loaded loaded = load(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: slow-pay}\n"
      "spec:\n"
      "  action: delay\n"
      "  mode: one\n"
      "  selector: {namespaces: [default], labelSelectors: {app: pay}}\n"
      "  delay: {latency: 50ms, jitter: 5ms}\n"
      "  duration: 2m\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: lossy}\n"
      "spec:\n"
      "  action: loss\n"
      "  mode: all\n"
      "  selector: {labelSelectors: {tier: backend}}\n"
      "  loss: {loss: \"25\"}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: split}\n"
      "spec:\n"
      "  action: partition\n"
      "  mode: all\n"
      "  selector: {labelSelectors: {app: web}}\n"
      "  direction: both\n"
      "  target: {mode: all, selector: {labelSelectors: {app: pay}}}\n"
      "  duration: 30s\n",
      "manifests: [{file: m.yaml, start: 10m}]\n");
  const Scenario& s = loaded.scenario;
  const FaultSpec* slow = fault_named(s, "slow-pay");
  REQUIRE(slow);
  CHECK(slow->kind == FaultKind::kLatency);
  CHECK(slow->target.service == s.service_index("pay"));
  CHECK(slow->mode == PodMode::kOne);
  CHECK(slow->fixed_delay == 50 * kMillisecond);
  CHECK(slow->jitter == 5 * kMillisecond);
  CHECK(slow->start == 10 * kMinute);
  CHECK(slow->duration == 2 * kMinute);
  const FaultSpec* lossy = fault_named(s, "lossy@batch->cartservice");
  REQUIRE(lossy);
  CHECK(lossy->kind == FaultKind::kPacketLoss);
  CHECK(lossy->fraction == Approx(0.25));
  CHECK(lossy->duration == 50 * kMinute);  // until the manifest is deleted: the end
  CHECK(fault_named(s, "lossy@web->cartservice"));
  const FaultSpec* split = fault_named(s, "split");
  REQUIRE(split);
  CHECK(s.edge_name(split->target.dependency) == "web->pay");
  CHECK(split->fraction == 1.0);
  CHECK(split->duration == 30 * kSecond);
  CHECK(s.faults.size() == 4);
}

TEST_CASE("NetworkChaos on externalTargets alone makes no fault, with a target the target's calls",
          "[manifests]") {
  // Chaos Mesh delays only the traffic to the external hosts: dosim has none, so no fault
  // (it delayed every answer of the selected service, a service-wide incident).
  const Loaded loaded = load(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: stripe-slow}\n"
      "spec:\n"
      "  action: delay\n"
      "  mode: all\n"
      "  selector: {labelSelectors: {app: pay}}\n"
      "  direction: to\n"
      "  externalTargets: [api.stripe.com]\n"
      "  delay: {latency: 100ms}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: both}\n"
      "spec:\n"
      "  action: partition\n"
      "  mode: all\n"
      "  selector: {labelSelectors: {app: web}}\n"
      "  externalTargets: [api.stripe.com]\n"
      "  target: {mode: all, selector: {labelSelectors: {app: pay}}}\n");
  const Scenario& s = loaded.scenario;
  CHECK(fault_named(s, "stripe-slow") == nullptr);
  REQUIRE(fault_named(s, "both"));
  CHECK(s.edge_name(fault_named(s, "both")->target.dependency) == "web->pay");
  CHECK(s.faults.size() == 1);
  CHECK(has_warning(loaded,
                    "m.yaml:9:3: with 'externalTargets' and no 'target' the experiment "
                    "acts only on traffic to hosts outside the cluster"));
  CHECK(has_warning(loaded, "m.yaml:19:3: 'spec.externalTargets' is not simulated"));
}

TEST_CASE("a Schedule without a duration has its schedule's problems said too", "[manifests]") {
  // The missing duration was said alone: the bad minute came only once it was fixed.
  CHECK(errors_of("apiVersion: chaos-mesh.org/v1alpha1\n"
                  "kind: Schedule\n"
                  "metadata: {name: nightly}\n"
                  "spec:\n"
                  "  schedule: '61 * * * *'\n"
                  "  type: NetworkChaos\n"
                  "  networkChaos:\n"
                  "    action: delay\n"
                  "    mode: all\n"
                  "    selector: {labelSelectors: {app: pay}}\n"
                  "    delay: {latency: 10ms}\n") ==
        std::vector<std::string>{
            "m.yaml:5:13: the minute field '61' must hold values in 0-59",
            "m.yaml:8:5: a scheduled NetworkChaos needs a 'duration' (each run would last until "
            "the manifest ends, and the schedule's later times be skipped)"});
}

TEST_CASE("a StressChaos memory stressor holds a share of the memory limit", "[manifests]") {
  const Loaded loaded = load(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: StressChaos\n"
      "metadata: {name: hog}\n"
      "spec:\n"
      "  mode: one\n"
      "  selector: {labelSelectors: {app: web}}\n"
      "  stressors:\n"
      "    memory: {workers: 4, size: 25%, time: 30s, oomScoreAdj: -1000}\n"
      "    cpu: {workers: 1, load: 20}\n"
      "  duration: 5m\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: StressChaos\n"
      "metadata: {name: cart-hog}\n"
      "spec:\n"
      "  mode: all\n"
      "  selector: {labelSelectors: {app: cartservice}}\n"
      "  stressors: {memory: {workers: 1, size: 128Mi}}\n"
      "  duration: 5m\n");
  const Scenario& s = loaded.scenario;
  const FaultSpec* memory = fault_named(s, "hog/memory");
  const FaultSpec* cpu = fault_named(s, "hog/cpu");
  REQUIRE(memory);
  REQUIRE(cpu);
  CHECK(memory->kind == FaultKind::kMemoryStress);
  CHECK(memory->memory_load == Approx(0.25));
  CHECK(memory->memory_ramp == 30 * kSecond);
  CHECK(memory->mode == PodMode::kOne);
  CHECK(cpu->kind == FaultKind::kCpuStress);
  CHECK(cpu->cpu_load == Approx(0.2));
  const FaultSpec* cart = fault_named(s, "cart-hog");
  REQUIRE(cart);
  CHECK(cart->memory_load == Approx(0.25));  // 128Mi of a 512Mi limit
  CHECK(has_warning(loaded, "m.yaml:8:48: 'spec.stressors.memory.oomScoreAdj' is not simulated"));

  // An absolute size needs the service's limit; a malformed size is reported where it is.
  const std::vector<std::string> errors = errors_of(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: StressChaos\n"
      "metadata: {name: hog}\n"
      "spec:\n"
      "  mode: all\n"
      "  selector: {labelSelectors: {app: pay}}\n"
      "  stressors: {memory: {workers: 1, size: 256MB}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: StressChaos\n"
      "metadata: {name: bad}\n"
      "spec:\n"
      "  mode: all\n"
      "  selector: {labelSelectors: {app: pay}}\n"
      "  stressors: {memory: {workers: 1, size: lots}}\n");
  CHECK(errors == std::vector<std::string>{
                      "m.yaml:7:42: size '256MB' is absolute: give service 'pay' a "
                      "'memory_limit' (its container's limit, as 512Mi) to make it a share of "
                      "the limit, or write the size as a percent (25%)",
                      "m.yaml:15:42: 'spec.stressors.memory.size' must be a memory size (256MB, "
                      "128Mi, 1Gi) or a percent of the limit (25%), got 'lots'"});
}

TEST_CASE("a pod of no service is one problem, at the pod", "[manifests]") {
  const std::vector<std::string> errors = errors_of(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: PodChaos\n"
      "metadata: {name: kill, namespace: default}\n"
      "spec:\n"
      "  action: pod-kill\n"
      "  mode: one\n"
      "  selector:\n"
      "    pods:\n"
      "      default: [nosuch-5d9c7-x2x]\n");
  CHECK(errors == std::vector<std::string>{
                      "m.yaml:9:17: pod 'nosuch-5d9c7-x2x' belongs to no service of the scenario"});
}

TEST_CASE("a pods selector acts on as many replicas as it names pods", "[manifests]") {
  // It killed every replica of each named pod's service (pay's 4 for one pod named).
  const Loaded loaded = load(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: PodChaos\n"
      "metadata: {name: kill}\n"
      "spec:\n"
      "  action: pod-kill\n"
      "  mode: all\n"
      "  selector: {pods: {default: [pay-7d9f8-abcde, web-5d9c7-x2x, web-5d9c7-y3y]}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: HTTPChaos\n"
      "metadata: {name: slow}\n"
      "spec:\n"
      "  mode: fixed-percent\n"
      "  value: \"50\"\n"
      "  target: Request\n"
      "  delay: 1s\n"
      "  selector: {pods: {default: [pay-7d9f8-abcde, pay-7d9f8-fghij]}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: StressChaos\n"
      "metadata: {name: burn}\n"
      "spec:\n"
      "  mode: all\n"
      "  stressors: {cpu: {workers: 1, load: 50}}\n"
      "  selector: {pods: {default: [pay-7d9f8-abcde]}}\n");
  REQUIRE(loaded.scenario.faults.size() == 4);
  const auto& faults = loaded.scenario.faults;
  CHECK(faults[0].name == "kill@web");
  CHECK(faults[0].mode == PodMode::kFixed);
  CHECK(faults[0].mode_value == 2);  // web's two pods named: both of its replicas
  CHECK(faults[1].name == "kill@pay");
  CHECK(faults[1].mode == PodMode::kFixed);
  CHECK(faults[1].mode_value == 1);  // one of pay's four
  CHECK(faults[2].mode == PodMode::kFixed);
  CHECK(faults[2].mode_value == 1);  // half of the two pods named
  CHECK(faults[3].mode == PodMode::kAll);
  CHECK(has_warning(loaded,
                    "m.yaml:25:20: dosim's stress takes every replica of pay, not only "
                    "the pods named"));
}

TEST_CASE("a document's status is the cluster's, its unknown keys named alone", "[manifests]") {
  // `kubectl get -o yaml` writes status: it was warned of as 'the manifest.status'.
  const Loaded loaded = load(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: PodChaos\n"
      "metadata: {name: kill}\n"
      "spec: {action: pod-kill, mode: one, selector: {labelSelectors: {app: web}}}\n"
      "status: {experiment: {desiredPhase: Run}}\n"
      "extra: 1\n");
  CHECK(loaded.warnings ==
        std::vector<std::string>{"m.yaml:6:1: unknown field 'extra': a cluster prunes it (kubectl "
                                 "warns: unknown field), and so does dosim"});
}

TEST_CASE("PodChaos, StressChaos and HTTPChaos become replica, CPU and request faults",
          "[manifests]") {
  const Loaded loaded = load(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: PodChaos\n"
      "metadata: {name: kill}\n"
      "spec: {action: pod-kill, mode: fixed, value: \"2\", selector: {labelSelectors: {app: "
      "pay}}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: PodChaos\n"
      "metadata: {name: fail}\n"
      "spec: {action: pod-failure, mode: fixed-percent, value: \"50\", duration: 90s,\n"
      "       selector: {labelSelectors: {app: web}}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: StressChaos\n"
      "metadata: {name: burn}\n"
      "spec:\n"
      "  mode: all\n"
      "  selector: {labelSelectors: {app: batch}}\n"
      "  stressors: {cpu: {workers: 2, load: 30}}\n"
      "  duration: 5m\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: HTTPChaos\n"
      "metadata: {name: refunds}\n"
      "spec: {mode: all, selector: {labelSelectors: {app: pay}}, target: Request, port: 8080,\n"
      "       path: /ref*, abort: true, delay: 2s, duration: 1m}\n");
  const Scenario& s = loaded.scenario;
  const FaultSpec* kill = fault_named(s, "kill");
  REQUIRE(kill);
  CHECK(kill->kind == FaultKind::kPodKill);
  CHECK(kill->mode == PodMode::kFixed);
  CHECK(kill->mode_value == 2);
  CHECK(kill->duration == kill->restart_time);
  const FaultSpec* fail = fault_named(s, "fail");
  REQUIRE(fail);
  CHECK(fail->kind == FaultKind::kPodKill);
  CHECK(fail->restart_time == 90 * kSecond);
  CHECK(fail->duration == 90 * kSecond);
  CHECK(fail->mode_value == 50);
  const FaultSpec* burn = fault_named(s, "burn");
  REQUIRE(burn);
  CHECK(burn->kind == FaultKind::kCpuStress);
  CHECK(burn->cpu_load == Approx(0.6));
  const FaultSpec* abort = fault_named(s, "refunds/abort@/refund");
  const FaultSpec* delay = fault_named(s, "refunds/delay@/refund");
  REQUIRE(abort);
  REQUIRE(delay);
  CHECK(abort->kind == FaultKind::kError);
  CHECK(abort->target.endpoint == 1);  // /refund (the only match, not all endpoints)
  CHECK(delay->fixed_delay == 2 * kSecond);
  CHECK(delay->target.service == s.service_index("pay"));
}

TEST_CASE("a Schedule repeats its experiment, one at a time under Forbid", "[manifests]") {
  const Loaded loaded = load(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: Schedule\n"
      "metadata: {name: flaky}\n"
      "spec:\n"
      "  schedule: \"@every 10m\"\n"
      "  type: NetworkChaos\n"
      "  historyLimit: 5\n"
      "  networkChaos:\n"
      "    action: delay\n"
      "    mode: all\n"
      "    selector: {labelSelectors: {app: pay}}\n"
      "    delay: {latency: 100ms}\n"
      "    duration: 15m\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: Schedule\n"
      "metadata: {name: hourly-kill}\n"
      "spec:\n"
      "  schedule: \"*/20 * * * *\"\n"
      "  type: PodChaos\n"
      "  concurrencyPolicy: Allow\n"
      "  podChaos: {action: pod-kill, mode: one, selector: {labelSelectors: {app: web}}}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: Schedule\n"
      "metadata: {name: aborts}\n"
      "spec:\n"
      "  schedule: \"@every 30m\"\n"
      "  type: HTTPChaos\n"
      "  httpChaos: {mode: all, selector: {labelSelectors: {app: pay}}, target: Request,\n"
      "              port: 8080, path: /ref*, abort: true, duration: 1m}\n");
  const Scenario& s = loaded.scenario;
  // HTTPChaos's field is httpChaos (Chaos Mesh's name; not hTTPChaos).
  std::vector<SimTime> aborts;
  for (const FaultSpec& f : s.faults)
    if (f.name.rfind("aborts", 0) == 0) aborts.push_back(f.start);
  REQUIRE_FALSE(aborts.empty());
  CHECK(aborts.front() == 30 * kMinute);
  // @every 10m from 0: 10, 20, 30, 40, 50 min; each lasts 15 min, so 20 and 40 are skipped.
  std::vector<SimTime> flaky, kills;
  for (const FaultSpec& f : s.faults) {
    if (f.name.rfind("flaky#", 0) == 0) flaky.push_back(f.start);
    if (f.name.rfind("hourly-kill#", 0) == 0) kills.push_back(f.start);
  }
  CHECK(flaky == std::vector<SimTime>{10 * kMinute, 30 * kMinute, 50 * kMinute});
  CHECK(fault_named(s, "flaky#3")->duration == 10 * kMinute);  // clipped at the end
  CHECK(kills == std::vector<SimTime>{0, 20 * kMinute, 40 * kMinute});
}

TEST_CASE("Go durations in any unit order, repeated or with a sign, read as a cluster reads them",
          "[manifests]") {
  // Go's time.ParseDuration takes "1s1m" (1m1s), "30s9m30s" (10m), "+1.5m" and "2\u03bcs"; the
  // scenario's own durations refuse the first two as typos, a manifest's are a cluster's.
  const Loaded loaded = load(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: Schedule\n"
      "metadata: {name: flaky}\n"
      "spec:\n"
      "  schedule: \"@every 30s9m30s\"\n"
      "  type: NetworkChaos\n"
      "  networkChaos:\n"
      "    action: delay\n"
      "    mode: all\n"
      "    selector: {labelSelectors: {app: pay}}\n"
      "    delay: {latency: 100ms50ms}\n"
      "    duration: +1.5m\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: slow}\n"
      "spec: {action: delay, mode: all, selector: {labelSelectors: {app: web}},\n"
      "       delay: {latency: 2\u03bcs}, duration: 1s1m}\n");
  const Scenario& s = loaded.scenario;
  const FaultSpec* slow = fault_named(s, "slow");
  REQUIRE(slow != nullptr);
  CHECK(slow->duration == kMinute + kSecond);
  CHECK(slow->fixed_delay == 2 * kMicrosecond);
  const FaultSpec* first = fault_named(s, "flaky#1");
  REQUIRE(first != nullptr);
  CHECK(first->start == 10 * kMinute);
  CHECK(first->duration == 90 * kSecond);
  CHECK(first->fixed_delay == 150 * kMillisecond);
  // What Go refuses stays refused: a number without its unit, a unit alone, a sign alone.
  const std::vector<std::string> errors = errors_of(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: a}\n"
      "spec: {action: delay, mode: all, selector: {labelSelectors: {app: web}},\n"
      "       delay: {latency: 1h30}, duration: m}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: b}\n"
      "spec: {action: delay, mode: all, selector: {labelSelectors: {app: web}},\n"
      "       delay: {latency: 10ms}, duration: '+'}\n");
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].rfind("m.yaml:5:25: expected a duration with a unit", 0) == 0);
  CHECK(errors[1].rfind("m.yaml:5:42: expected a duration with a unit", 0) == 0);
  CHECK(errors[2].rfind("m.yaml:11:42: expected a duration with a unit", 0) == 0);
}

TEST_CASE("a negative or overlong Go duration says what is wrong with it", "[manifests]") {
  // Both were "expected a duration with a unit", which they have.
  const std::vector<std::string> errors = errors_of(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: a}\n"
      "spec: {action: delay, mode: all, selector: {labelSelectors: {app: web}},\n"
      "       delay: {latency: 10ms}, duration: '-1s'}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: b}\n"
      "spec: {action: delay, mode: all, selector: {labelSelectors: {app: web}},\n"
      "       delay: {latency: 10ms}, duration: 2562047h}\n");
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] == "m.yaml:5:42: 'spec.duration' must be > 0, got '-1s'");
  CHECK(errors[1] ==
        "m.yaml:11:42: 'spec.duration' is longer than 100 years (36500d), got '2562047h'");
}

TEST_CASE("a NetworkChaos delay of 0s makes no fault, and says so", "[manifests]") {
  const Loaded loaded = load(
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: NetworkChaos\n"
      "metadata: {name: zero}\n"
      "spec: {action: delay, mode: all, selector: {labelSelectors: {app: web}},\n"
      "       delay: {latency: 0s, jitter: 5ms}}\n");
  CHECK(fault_named(loaded.scenario, "zero") == nullptr);
  CHECK(has_warning(loaded, "m.yaml:5:25: a 'latency' of 0 delays nothing"));
}

TEST_CASE("a DestinationRule sets outlier detection and circuit breaking on calls to its host",
          "[manifests]") {
  const Loaded loaded = load(
      "apiVersion: networking.istio.io/v1\n"
      "kind: DestinationRule\n"
      "metadata: {name: pay-cb}\n"
      "spec:\n"
      "  host: pay\n"
      "  trafficPolicy:\n"
      "    connectionPool:\n"
      "      tcp: {maxConnections: 10}\n"
      "      http: {http1MaxPendingRequests: 5, maxRequestsPerConnection: 1}\n"
      "    outlierDetection: {consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 1m,\n"
      "                       maxEjectionPercent: 50}\n",
      "mode: requests\nmanifests: [m.yaml]\n");
  const Scenario& s = loaded.scenario;
  for (const DependencySpec& d : s.dependencies) {
    const bool to_pay = d.callee == s.service_index("pay");
    CHECK(d.max_pending == (to_pay ? 15 : 0));
    CHECK(d.outlier.has_value() == to_pay);
    if (to_pay) {
      CHECK(d.outlier->consecutive_5xx == 3);
      CHECK(d.outlier->base_ejection_time == kMinute);
      CHECK(d.outlier->max_ejection_percent == 50);
    }
  }
  CHECK(has_warning(loaded,
                    "m.yaml:9:42: 'spec.trafficPolicy.connectionPool.http."
                    "maxRequestsPerConnection' is not simulated"));
  CHECK(has_warning(loaded,
                    "m.yaml:10:49: 'spec.trafficPolicy.outlierDetection.interval' is "
                    "not simulated"));
}

TEST_CASE(
    "a fluid scenario's DestinationRule warns that it acts at request level, unless asked for",
    "[manifests]") {
  // dosim validate --mode requests (RunOptions::mode) kept the fluid model's warning.
  Loaded loaded = load(
      "apiVersion: networking.istio.io/v1\n"
      "kind: DestinationRule\n"
      "metadata: {name: pay-cb}\n"
      "spec:\n"
      "  host: pay\n"
      "  trafficPolicy:\n"
      "    outlierDetection: {consecutive5xxErrors: 3, baseEjectionTime: 1m}\n");
  CHECK(has_warning(loaded, std::string("m.yaml:7:5: ") + kRequestLevelPolicies));
  set_world_mode(loaded.scenario, WorldMode::kRequests);
  for (const Diagnostic& warning : loaded.scenario.warnings)
    CHECK(warning.message != kRequestLevelPolicies);
}

TEST_CASE("a Locust stage table sets the users over time, as LoadTestShape does",
          "[manifests][locust]") {
  const Scenario s = parse_scenario(
      "name: t\nduration: 10m\nservices: [{name: web}]\n"
      "traffic:\n"
      "  - entry: web\n"
      "    locust:\n"
      "      spawn_rate: 4\n"
      "      stages:\n"
      "        - {duration: 60s, users: 10}\n"
      "        - {duration: 2m, users: 50, spawn_rate: 20}\n"
      "      surges: [{from: 90s, to: 100s, users: 5}]\n",
      "t.yaml");
  const LocustShape& locust = *s.traffic[0].locust;
  CHECK(locust.target(30 * kSecond) == std::pair<double, double>{10, 4});
  CHECK(locust.target(95 * kSecond) == std::pair<double, double>{55, 20});
  CHECK(locust.target(2 * kMinute).first == 0);  // the test is over
  std::vector<std::string> errors;
  try {
    parse_scenario(
        "name: t\nduration: 10m\nservices: [{name: web}]\n"
        "traffic:\n"
        "  - entry: web\n"
        "    locust:\n"
        "      users: 3\n"
        "      stages:\n"
        "        - {duration: 60s, users: 10}\n"
        "        - {duration: 30s, users: 50}\n",
        "t.yaml");
  } catch (const InputError& error) {
    for (const Diagnostic& d : error.diagnostics()) errors.push_back(d.format());
  }
  CHECK(errors == std::vector<std::string>{
                      "t.yaml:8:7: give 'users' or 'stages', not both: the stages set the users "
                      "over time",
                      "t.yaml:10:22: 'duration' (30s) must be after the previous stage's (1m): as "
                      "in Locust's StagesShape, it is the run time at which the stage ends"});
}

TEST_CASE("a manifest without a name has its other problems said with that one", "[manifests]") {
  // They were said only once a name was added: three rounds of validate for one file.
  const std::vector<std::string> errors = errors_of(
      "apiVersion: networking.istio.io/v1\n"
      "kind: VirtualService\n"
      "spec:\n"
      "  hosts: [nosuch]\n"
      "  http:\n"
      "  - fault: {delay: {fixedDelay: 0.5ms, percentage: {value: 150}}}\n");
  CHECK(errors == std::vector<std::string>{
                      "m.yaml:1:1: missing 'metadata.name' in the VirtualService (a cluster "
                      "refuses it)",
                      "m.yaml:4:11: host 'nosuch' is no service of the scenario (map Kubernetes "
                      "names with 'manifest_names:')",
                      "m.yaml:6:33: 'spec.http[0].fault.delay.fixedDelay' must be at least 1ms "
                      "(Istio)",
                      "m.yaml:6:60: 'spec.http[0].fault.delay.percentage.value' must be in [0, "
                      "100], got 150"});
}

TEST_CASE("a canary route to another host or a subset is not simulated: a warning, not an error",
          "[manifests]") {
  // A destination of the canary's own Service failed the load ("no service of the
  // scenario"), and subsets passed without a word; the route's fault still acts.
  const Loaded loaded = load(
      "apiVersion: networking.istio.io/v1beta1\n"
      "kind: VirtualService\n"
      "metadata: {name: pay-canary}\n"
      "spec:\n"
      "  hosts: [pay]\n"
      "  http:\n"
      "  - fault: {abort: {httpStatus: 503, percentage: {value: 10}}}\n"
      "    route:\n"
      "    - destination: {host: pay, subset: v1}\n"
      "      weight: 90\n"
      "    - destination: {host: pay-canary}\n"
      "      weight: 10\n");
  REQUIRE(fault_named(loaded.scenario, "pay-canary"));
  CHECK(loaded.warnings ==
        std::vector<std::string>{
            "m.yaml:9:32: routing to a subset is not simulated: the requests go to all of the "
            "host's replicas (a version's share is a deployment's canary weight)",
            "m.yaml:11:27: destination host 'pay-canary' is no service of the scenario; routing "
            "to another host is not simulated: the requests stay with the host"});
}

TEST_CASE("a host named by its short and its full DNS name is one host", "[manifests]") {
  // It made the fault twice ('the name of another fault'): a common, valid Istio spelling.
  const Loaded loaded = load(
      "apiVersion: networking.istio.io/v1beta1\n"
      "kind: VirtualService\n"
      "metadata: {name: pay-slow}\n"
      "spec:\n"
      "  hosts: [pay, pay.default.svc.cluster.local]\n"
      "  http:\n"
      "  - fault: {delay: {fixedDelay: 1s, percentage: {value: 100}}}\n"
      "    route: [{destination: {host: pay}}]\n");
  REQUIRE(fault_named(loaded.scenario, "pay-slow"));
  CHECK(loaded.scenario.faults.size() == 1);
}

TEST_CASE("a file kubectl applies may hold other kinds: left aside with a warning", "[manifests]") {
  // A Deployment beside the experiments failed the whole file; a List (kubectl's output)
  // hides its items, and a misspelt kind of Chaos Mesh's API stays an error.
  const Loaded loaded = load(
      "apiVersion: apps/v1\n"
      "kind: Deployment\n"
      "metadata: {name: web}\n"
      "spec: {replicas: 5}\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata: {name: web}\n"
      "---\n"
      "apiVersion: chaos-mesh.org/v1alpha1\n"
      "kind: PodChaos\n"
      "metadata: {name: kill}\n"
      "spec: {action: pod-kill, mode: one, selector: {labelSelectors: {app: web}}}\n"
      "---\n"
      "apiVersion: networking.istio.io/v1beta1\n"
      "kind: Gateway\n"
      "metadata: {name: frontend-gateway}\n"
      "spec: {selector: {istio: ingressgateway}}\n");
  CHECK(loaded.scenario.faults.size() == 1);
  // Real kinds of Istio's and Chaos Mesh's APIs that dosim does not simulate (Online
  // Boutique ships a Gateway beside its VirtualServices): left aside, said so.
  CHECK(loaded.warnings ==
        std::vector<std::string>{
            "m.yaml:2:7: kind 'Deployment' (apps/v1) is left aside: dosim reads Istio's "
            "and Chaos Mesh's fault manifests; the system itself is the scenario's services",
            "m.yaml:7:7: kind 'Service' (v1) is left aside: dosim reads Istio's and "
            "Chaos Mesh's fault manifests; the system itself is the scenario's services",
            "m.yaml:16:7: kind 'Gateway' (networking.istio.io/v1beta1) is not simulated: left "
            "aside (dosim reads VirtualService, DestinationRule, Schedule, NetworkChaos, "
            "PodChaos, StressChaos, HTTPChaos)"});
  CHECK(errors_of("apiVersion: v1\n"
                  "kind: List\n"
                  "items: [{apiVersion: chaos-mesh.org/v1alpha1, kind: PodChaos}]\n"
                  "---\n"
                  "apiVersion: chaos-mesh.org/v1alpha1\n"
                  "kind: PodChaoss\n"
                  "metadata: {name: x}\n") ==
        std::vector<std::string>{
            "m.yaml:2:7: a List's items are not read: give each as a document of its own "
            "(separated by '---')",
            "m.yaml:6:7: kind 'PodChaoss' is not one dosim reads (VirtualService, "
            "DestinationRule, Schedule, NetworkChaos, PodChaos, StressChaos, HTTPChaos); did you "
            "mean 'PodChaos'?"});
}

}  // namespace
}  // namespace dosim
