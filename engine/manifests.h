// Kubernetes fault manifests as written for real clusters (a scenario's `manifests:`,
// docs/manifests.md), read into dosim's faults and edge policies. Internal to the scenario
// loader.
//
// A manifest file holds one or more YAML documents; each is read as the cluster would read
// it: a field its schema does not know is pruned with a warning at its position (Istio's and
// Chaos Mesh's CRDs are structural, so the API server drops unknown fields and kubectl warns),
// a document without `apiVersion` is read with a warning (kubectl refuses it), and fields
// the cluster knows but dosim does not simulate are left aside with a warning. Hosts, label
// values and selectors name services by their Kubernetes names (`cartservice`,
// `cartservice.default.svc.cluster.local`), through the scenario's `manifest_names:` table
// when the names differ.
//
// Kinds: Istio VirtualService (HTTP fault injection, first-match routes) and DestinationRule
// (outlier detection, connection-pool limits); Chaos Mesh NetworkChaos (delay, loss,
// partition), PodChaos (pod-kill, pod-failure, container-kill), StressChaos (cpu, memory),
// HTTPChaos (abort, delay) and Schedule (cron or @every around any of them).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dosim/engine/scenario.h"
#include "yaml_reader.h"

namespace dosim::loader {

// When a manifest is in force: applied at `start` (kubectl apply), deleted at `end`.
struct ManifestWindow {
  SimTime start = 0;
  SimTime end = 0;  // > start
};

// Kubernetes names to services: a host (`cartservice`, `cartservice.default`,
// `cartservice.default.svc.cluster.local`) or an `app` label value is stripped to its first
// DNS label, then looked up in `table` (manifest_names:), then among the services.
class ManifestNames {
 public:
  ManifestNames(const Scenario& scenario, std::map<std::string, int> table)
      : scenario_(scenario), table_(std::move(table)) {}
  // The service a host or name means, or -1; kMisnamed where `manifest_names:` maps it to no
  // service (said there: its hosts are not said again).
  static constexpr int kMisnamed = -2;
  int service(const std::string& name) const;
  // Whether service `s` carries label `key` = `value`: its own labels, and `app` (or `name`)
  // = its name (or a name that `table` maps to it) unless it sets that label itself.
  bool has_label(int s, const std::string& key, const std::string& value) const;
  // Candidate names for "did you mean".
  std::vector<std::string> candidates() const;

 private:
  const Scenario& scenario_;
  std::map<std::string, int> table_;
};

// What the manifests of one file make.
struct ManifestOutput {
  std::vector<FaultSpec> faults;  // in document order; pos: the scenario's `manifests:` item
  // DestinationRule policies per dependency (index into Scenario::dependencies).
  struct EdgePolicy {
    int dependency = -1;
    std::optional<DependencySpec::OutlierDetection> outlier;
    int max_pending = 0;  // 0: unchanged
  };
  std::vector<EdgePolicy> policies;
};

// Reads every document of one manifest file. Problems go to `diags` (the file's own), with
// positions in the file; faults get `item_pos` (the scenario's entry that names the file).
void read_manifest_text(const std::string& text, const Scenario& scenario,
                        const ManifestNames& names, const ManifestWindow& window,
                        SourcePos item_pos, Diagnostics& diags, ManifestOutput& out);

// ---- shared by the readers of each kind (manifest_*.cc) ----

// `text` in single quotes, for messages.
inline std::string q(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  return out;
}

// One mapping of a Kubernetes object, read as an API server with a structural schema reads
// it: `path` names it in messages ("spec.http[0].fault"); keys in `used` are read by dosim,
// keys in `unsimulated` are valid but not simulated (a warning each), any other key is pruned
// (a warning, with `prune_hint` appended when given, else a "did you mean").
class Fields {
 public:
  Fields(const YAML::Node& node, std::string path, std::initializer_list<std::string_view> used,
         std::initializer_list<std::string_view> unsimulated, Diagnostics& diags,
         const std::string& prune_hint = "");
  bool is_map() const { return is_map_; }
  const std::string& path() const { return path_; }
  SourcePos pos() const { return pos_of(node_); }
  // The value of a used key, or nullopt.
  std::optional<YAML::Node> get(std::string_view key) const;
  SourcePos key_pos(std::string_view key) const;
  SourcePos value_pos(std::string_view key) const;
  bool has(std::string_view key) const { return get(key).has_value(); }
  // `path.key`, for messages; a document's own keys alone (`status`, not `the manifest.status`).
  std::string at(std::string_view key) const {
    return path_ == kDocument ? std::string(key) : path_ + "." + std::string(key);
  }
  // The path of a whole document's Fields.
  static constexpr std::string_view kDocument = "the manifest";
  // Typed readers; a wrong value is an error and gives nullopt.
  std::optional<std::string> text(std::string_view key) const;
  // A Go duration with a unit ("200ms", ".2s", "1m30s").
  std::optional<SimTime> duration(std::string_view key) const;
  // A number written as a number or a string ("25", as Chaos Mesh writes percents), in range.
  std::optional<double> number(std::string_view key, Range range) const;
  std::vector<YAML::Node> list(std::string_view key) const;

 private:
  YAML::Node node_;
  std::string path_;
  Diagnostics& diags_;
  bool is_map_ = false;
  std::vector<MapEntry> entries_;
};

// "" when `text` is a duration as Go's time.ParseDuration reads it (Kubernetes, Chaos Mesh,
// Istio): units h, m, s, ms, us (µs), ns; else what is wrong ("'1d' is no Go duration ...").
std::string go_duration_problem(const std::string& text);
// Go's time.ParseDuration: an optional '+', then pairs of a decimal number and a unit in any
// order, a unit any number of times ("1m1h" is 1h1m, as a cluster reads it), or "0" alone.
// nullopt for what Go refuses, for a negative duration (no chaos lasts less than nothing)
// and past kMaxDuration.
std::optional<SimTime> go_duration(std::string_view text);
// Whether `text` is a non-negative Go duration by its syntax, however long (go_duration
// refuses those past kMaxDuration).
bool go_duration_within_syntax(std::string_view text);

// Per document, what every reader gets.
struct ManifestContext {
  const Scenario& scenario;
  const ManifestNames& names;
  ManifestWindow window;
  SourcePos item_pos;
  Diagnostics& diags;
  ManifestOutput& out;
  std::string name;  // metadata.name
  // A Chaos Mesh `pods` selector's count of named pods per service (empty: no such selector),
  // and where it stands (manifest_chaos.cc).
  std::vector<int> named_pods;
  SourcePos named_pods_pos;

  // A fault of this document named `name` + suffix, in force over the window.
  FaultSpec fault(FaultKind kind, const std::string& suffix) const;
  // Dependencies (indices) between any service of `a` and any of `b`, either way.
  std::vector<int> edges_between(const std::vector<int>& a, const std::vector<int>& b) const;
  // Dependencies that touch any service of `services`.
  std::vector<int> edges_touching(const std::vector<int>& services) const;
};

// A document's spec, by kind (manifest_istio.cc, manifest_chaos.cc); `duration_cap` is the
// occurrence's length for a Schedule's inner chaos (nullopt: the window's).
void read_virtual_service(const Fields& spec, ManifestContext& context);
void read_destination_rule(const Fields& spec, ManifestContext& context);
// A Chaos Mesh experiment's spec of `kind` (NetworkChaos, ...): the faults it makes, with
// duration 0 unless the experiment fixes it (a pod-kill lasts its restart), and its own
// `duration` (nullopt: until the manifest is deleted) in `own_duration`.
std::vector<FaultSpec> read_chaos(const std::string& kind, const YAML::Node& spec,
                                  ManifestContext& context, std::optional<SimTime>& own_duration);
// A Chaos Mesh Schedule: its experiment at every time `schedule` names within the window.
void read_schedule_chaos(const Fields& spec, ManifestContext& context);
// The Chaos Mesh kinds read_chaos() takes.
const std::vector<std::string>& chaos_kinds();

}  // namespace dosim::loader
