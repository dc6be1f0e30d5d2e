// Manifest files: documents, apiVersion and kind, metadata, names, and the pruning reader
// (manifests.h). The kinds' specs are read in manifest_istio.cc and manifest_chaos.cc.
#include "manifests.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace dosim::loader {
namespace {

// The group and versions each kind is served as, as kubectl checks `apiVersion`.
struct KindInfo {
  std::string kind;
  std::string group;
  std::vector<std::string> versions;
};

const std::vector<KindInfo>& kinds() {
  static const std::vector<KindInfo> all = [] {
    std::vector<KindInfo> list = {
        {"VirtualService", "networking.istio.io", {"v1alpha3", "v1beta1", "v1"}},
        {"DestinationRule", "networking.istio.io", {"v1alpha3", "v1beta1", "v1"}},
        {"Schedule", "chaos-mesh.org", {"v1alpha1"}}};
    for (const std::string& kind : chaos_kinds())
      list.push_back({kind, "chaos-mesh.org", {"v1alpha1"}});
    return list;
  }();
  return all;
}

const KindInfo* kind_info(const std::string& kind) {
  for (const KindInfo& info : kinds())
    if (kind == info.kind) return &info;
  return nullptr;
}

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (const KindInfo& info : kinds()) names.push_back(info.kind);
  return names;
}

// "VirtualService, DestinationRule, ...", for messages.
std::string listed_kinds() {
  std::string listed;
  for (const std::string& k : kind_names()) listed += (listed.empty() ? "" : ", ") + k;
  return listed;
}

void read_document(const YAML::Node& doc, const Scenario& scenario, const ManifestNames& names,
                   const ManifestWindow& window, SourcePos item_pos, Diagnostics& diags,
                   ManifestOutput& out) {
  // A kind of another API than Istio's and Chaos Mesh's (a Deployment, a Service: apps/v1,
  // v1, ...) in a file a team applies with kubectl is left aside, with a warning: the system
  // is the scenario's services. A kind dosim does not read in those APIs, or without an
  // apiVersion, is an error below (a misspelt experiment must not pass unnoticed).
  const auto scalar = [&](std::string_view key) -> std::optional<YAML::Node> {
    if (doc.IsMap())
      for (const auto& pair : doc)
        if (pair.first.IsScalar() && pair.first.Scalar() == key && pair.second.IsScalar())
          return pair.second;
    return std::nullopt;
  };
  const std::optional<YAML::Node> kind_node = scalar("kind"), api_node = scalar("apiVersion");
  if (kind_node && api_node && !kind_info(kind_node->Scalar())) {
    const std::string api = api_node->Scalar();
    if (kind_node->Scalar() == "List") {  // kubectl's output: items that may be experiments
      diags.error(pos_of(*kind_node),
                  "a List's items are not read: give each as a document of "
                  "its own (separated by '---')");
      return;
    }
    const std::string group =
        api.find('/') == std::string::npos ? "" : api.substr(0, api.find('/'));
    bool ours = false;
    for (const KindInfo& info : kinds()) ours = ours || info.group == group;
    // Real kinds of those APIs that dosim does not simulate travel in the same files (Online
    // Boutique's Istio manifests hold a Gateway and ServiceEntries beside the
    // VirtualServices): left aside too. A misspelt kind is still an error.
    static const std::vector<std::string> kUnread = {"Gateway",
                                                     "ServiceEntry",
                                                     "Sidecar",
                                                     "EnvoyFilter",
                                                     "WorkloadEntry",
                                                     "WorkloadGroup",
                                                     "ProxyConfig",
                                                     "IOChaos",
                                                     "TimeChaos",
                                                     "KernelChaos",
                                                     "DNSChaos",
                                                     "JVMChaos",
                                                     "AWSChaos",
                                                     "GCPChaos",
                                                     "AzureChaos",
                                                     "BlockChaos",
                                                     "PhysicalMachineChaos",
                                                     "PhysicalMachine",
                                                     "Workflow",
                                                     "WorkflowNode",
                                                     "StatusCheck",
                                                     "RemoteCluster",
                                                     "PodIOChaos",
                                                     "PodHttpChaos",
                                                     "PodNetworkChaos"};
    if (ours && std::find(kUnread.begin(), kUnread.end(), kind_node->Scalar()) != kUnread.end()) {
      diags.warning(pos_of(*kind_node), "kind '" + kind_node->Scalar() + "' (" + api +
                                            ") is not simulated: left aside (dosim reads " +
                                            listed_kinds() + ")");
      return;
    }
    if (!ours) {
      diags.warning(pos_of(*kind_node), "kind '" + kind_node->Scalar() + "' (" + api +
                                            ") is left aside: dosim reads Istio's and Chaos "
                                            "Mesh's fault manifests; the system itself is the "
                                            "scenario's services");
      return;
    }
  }
  // `status` is the cluster's (every `kubectl get -o yaml` holds it; an apply ignores it).
  Fields top(doc, std::string(Fields::kDocument),
             {"apiVersion", "kind", "metadata", "spec", "status"}, {}, diags);
  if (!top.is_map()) return;
  const std::optional<std::string> kind = top.text("kind");
  if (!kind) {
    if (!top.has("kind")) diags.error(top.pos(), "missing 'kind' in the manifest");
    return;
  }
  const KindInfo* info = kind_info(*kind);
  if (!info) {
    // Without an apiVersion the API cannot be told: a Deployment's is left aside once given.
    diags.error(top.value_pos("kind"),
                "kind '" + *kind + "' is not one dosim reads (" + listed_kinds() + ")" +
                    did_you_mean(*kind, kind_names()) +
                    (top.has("apiVersion")
                         ? ""
                         : "; the document has no 'apiVersion' (a kind of another API than "
                           "Istio's and Chaos Mesh's is left aside once it has one)"));
    return;
  }
  if (!top.has("apiVersion")) {
    diags.warning(top.value_pos("kind"),
                  "no 'apiVersion': kubectl refuses such a document (apiVersion not set); dosim "
                  "reads it as " +
                      info->group + "/" + info->versions.back() + " " + *kind);
  } else if (auto api = top.text("apiVersion")) {
    const std::size_t slash = api->find('/');
    const std::string group = slash == std::string::npos ? "" : api->substr(0, slash);
    const std::string version = slash == std::string::npos ? *api : api->substr(slash + 1);
    if (group != info->group ||
        std::find(info->versions.begin(), info->versions.end(), version) == info->versions.end()) {
      std::string known;
      for (const std::string& v : info->versions)
        known += (known.empty() ? "" : ", ") + info->group + "/" + v;
      diags.error(top.value_pos("apiVersion"),
                  "kind " + *kind + " is served as " + known + ", not '" + *api + "'");
    }
  }
  ManifestContext context{scenario, names, window, item_pos, diags, out, "", {}, {}};  // name later
  if (auto metadata = top.get("metadata")) {
    // Kubernetes' other metadata is read by the cluster and means nothing to the simulation.
    Fields meta(
        *metadata, "metadata",
        {"name", "namespace", "labels", "annotations", "generateName", "uid", "resourceVersion",
         "generation", "creationTimestamp", "finalizers", "ownerReferences", "managedFields",
         "deletionTimestamp", "deletionGracePeriodSeconds"},
        {}, diags);
    if (meta.is_map() && meta.has("name"))
      if (auto name = meta.text("name")) context.name = *name;
  }
  if (context.name.empty()) {
    const SourcePos at = top.has("metadata") ? top.value_pos("metadata") : top.pos();
    diags.error(at, "missing 'metadata.name' in the " + *kind + " (a cluster refuses it)");
    // Read on under a name of its place, so that the rest's problems are said with it.
    context.name = "(unnamed at " + std::to_string(at.line) + ":" + std::to_string(at.column) + ")";
  }
  const std::optional<YAML::Node> spec_node = top.get("spec");
  if (!spec_node) {
    diags.error(top.pos(), "missing 'spec' in the " + *kind + " '" + context.name + "'");
    return;
  }
  if (*kind == "VirtualService") {
    Fields spec(*spec_node, "spec", {"hosts", "http", "gateways"}, {"tcp", "tls", "exportTo"},
                diags);
    if (spec.is_map()) read_virtual_service(spec, context);
  } else if (*kind == "DestinationRule") {
    Fields spec(*spec_node, "spec", {"host", "trafficPolicy"},
                {"subsets", "exportTo", "workloadSelector"}, diags);
    if (spec.is_map()) read_destination_rule(spec, context);
  } else if (*kind == "Schedule") {
    read_schedule_chaos(
        Fields(*spec_node, "spec",
               {"schedule", "type", "historyLimit", "concurrencyPolicy", "startingDeadlineSeconds",
                "networkChaos", "podChaos", "stressChaos", "httpChaos"},
               {}, diags),
        context);
  } else {
    std::optional<SimTime> own;
    std::vector<FaultSpec> faults = read_chaos(*kind, *spec_node, context, own);
    const SimTime length = window.end - window.start;
    for (FaultSpec& fault : faults) {
      fault.start = window.start;
      if (fault.duration == 0) fault.duration = std::min(own.value_or(length), length);
      fault.duration = std::min(fault.duration, length);
      out.faults.push_back(std::move(fault));
    }
  }
}

}  // namespace

int ManifestNames::service(const std::string& name) const {
  std::string short_name = name.substr(0, name.find('.'));
  for (const std::string& key : {name, short_name}) {
    if (auto it = table_.find(key); it != table_.end()) return it->second;
    const int s = scenario_.service_index(key);
    if (s >= 0) return s;
  }
  return -1;
}

bool ManifestNames::has_label(int s, const std::string& key, const std::string& value) const {
  const auto& labels = scenario_.services[s].labels;
  for (const auto& [k, v] : labels)
    if (k == key) return v == value;
  return (key == "app" || key == "name" || key == "app.kubernetes.io/name") && service(value) == s;
}

std::vector<std::string> ManifestNames::candidates() const {
  std::vector<std::string> names;
  for (const ServiceSpec& service : scenario_.services) names.push_back(service.name);
  for (const auto& [name, s] : table_) names.push_back(name);
  return names;
}

Fields::Fields(const YAML::Node& node, std::string path,
               std::initializer_list<std::string_view> used,
               std::initializer_list<std::string_view> unsimulated, Diagnostics& diags,
               const std::string& prune_hint)
    : node_(node), path_(std::move(path)), diags_(diags) {
  if (!node.IsMap()) {
    diags.error(pos_of(node), "expected a mapping for '" + path_ + "', got " + describe(node));
    return;
  }
  is_map_ = true;
  for (MapEntry& entry : read_entries(node, path_, diags)) {
    const bool known = std::find(used.begin(), used.end(), entry.key) != used.end();
    const bool skipped =
        std::find(unsimulated.begin(), unsimulated.end(), entry.key) != unsimulated.end();
    if (skipped) {
      diags.warning(entry.key_pos(), q(at(entry.key)) + " is not simulated: left aside");
      continue;
    }
    if (!known) {
      std::vector<std::string> candidates(used.begin(), used.end());
      diags.warning(entry.key_pos(),
                    "unknown field '" + at(entry.key) +
                        "': a cluster prunes it (kubectl warns: unknown field), and so does "
                        "dosim" +
                        (prune_hint.empty() ? did_you_mean(entry.key, candidates) : prune_hint));
      continue;
    }
    entries_.push_back(std::move(entry));
  }
}

std::optional<YAML::Node> Fields::get(std::string_view key) const {
  for (const MapEntry& entry : entries_)
    if (entry.key == key) return entry.value;
  return std::nullopt;
}

SourcePos Fields::key_pos(std::string_view key) const {
  for (const MapEntry& entry : entries_)
    if (entry.key == key) return entry.key_pos();
  return pos();
}

SourcePos Fields::value_pos(std::string_view key) const {
  for (const MapEntry& entry : entries_)
    if (entry.key == key) return entry.value_pos();
  return pos();
}

std::optional<std::string> Fields::text(std::string_view key) const {
  auto value = get(key);
  if (!value) return std::nullopt;
  return read_text(*value, value_pos(key), q(at(key)), diags_);
}

std::string go_duration_problem(const std::string& text) {
  // Go's time.ParseDuration, which Kubernetes, Chaos Mesh and Istio use, knows these units.
  static const std::vector<std::string> kUnits = {"ns", "us", "\u00b5s", "\u03bcs",
                                                  "ms", "s",  "m",       "h"};
  for (std::size_t i = 0; i < text.size();) {
    const auto letter = [&](std::size_t j) {
      const unsigned char c = static_cast<unsigned char>(text[j]);
      return std::isalpha(c) || c >= 0x80;  // µ
    };
    if (!letter(i)) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && letter(end)) ++end;
    const std::string unit = text.substr(i, end - i);
    if (std::find(kUnits.begin(), kUnits.end(), unit) == kUnits.end())
      return "'" + text + "' is no Go duration, which a cluster reads (units h, m, s, ms, us, ns" +
             std::string(unit == "d" ? "; a day is 24h" : "") + ")";
    i = end;
  }
  return "";
}

namespace {
// go_duration's reading, without its limit: 0 past it (1, and nullopt where not a duration).
std::optional<long double> go_duration_value(std::string_view text);
}  // namespace

// Whether `text` is a Go duration by its syntax, whatever its length.
bool go_duration_within_syntax(std::string_view text) {
  return go_duration_value(text).has_value();
}

std::optional<SimTime> go_duration(std::string_view text) {
  const std::optional<long double> total = go_duration_value(text);
  if (!total || *total > static_cast<long double>(kMaxDuration)) return std::nullopt;
  return static_cast<SimTime>(std::llroundl(*total));
}

namespace {
std::optional<long double> go_duration_value(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text == "0") return 0;
  if (text.empty()) return std::nullopt;
  const auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  long double total = 0;
  while (!text.empty()) {
    std::size_t end = 0;
    while (end < text.size() && digit(text[end])) ++end;
    bool digits = end > 0;
    if (end < text.size() && text[end] == '.') {
      ++end;
      while (end < text.size() && digit(text[end])) digits = true, ++end;
    }
    if (!digits) return std::nullopt;
    const long double value = std::strtold(std::string(text.substr(0, end)).c_str(), nullptr);
    text.remove_prefix(end);
    std::size_t unit_end = 0;
    while (unit_end < text.size() && !digit(text[unit_end]) && text[unit_end] != '.') ++unit_end;
    const std::string_view unit = text.substr(0, unit_end);
    text.remove_prefix(unit_end);
    SimTime scale = 0;
    if (unit == "ns")
      scale = kNanosecond;
    else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs")
      scale = kMicrosecond;
    else if (unit == "ms")
      scale = kMillisecond;
    else if (unit == "s")
      scale = kSecond;
    else if (unit == "m")
      scale = kMinute;
    else if (unit == "h")
      scale = kHour;
    else
      return std::nullopt;
    total += value * static_cast<long double>(scale);
  }
  return total;
}
}  // namespace

std::optional<SimTime> Fields::duration(std::string_view key) const {
  auto written = text(key);
  if (!written) return std::nullopt;
  if (const std::string problem = go_duration_problem(*written); !problem.empty()) {
    diags_.error(value_pos(key), "'" + at(key) + "': " + problem);
    return std::nullopt;
  }
  std::optional<SimTime> parsed = go_duration(*written);
  // Go takes a '-' (a negative duration), which no chaos field means; say so, not "a unit".
  if (!parsed && written->starts_with('-') && go_duration(written->substr(1))) {
    diags_.error(value_pos(key), "'" + at(key) + "' must be > 0, got '" + *written + "'");
    return std::nullopt;
  }
  // Past the longest duration a run can hold (100 years), however it is written.
  if (!parsed && !written->empty() && go_duration_within_syntax(*written)) {
    diags_.error(value_pos(key),
                 "'" + at(key) + "' is longer than 100 years (36500d), got '" + *written + "'");
    return std::nullopt;
  }
  if (!parsed) {
    diags_.error(value_pos(key), "expected a duration with a unit for '" + at(key) +
                                     "' (as \"200ms\", \".2s\", \"1m30s\"), got '" + *written +
                                     "'");
    return std::nullopt;
  }
  return parsed;
}

std::optional<double> Fields::number(std::string_view key, Range range) const {
  auto value = get(key);
  if (!value) return std::nullopt;
  return read_number(*value, value_pos(key), q(at(key)), range, diags_);
}

std::vector<YAML::Node> Fields::list(std::string_view key) const {
  auto value = get(key);
  if (!value || value->IsNull()) return {};
  if (!value->IsSequence()) {
    diags_.error(value_pos(key), "expected a list for '" + at(key) + "', got " + describe(*value));
    return {};
  }
  return {value->begin(), value->end()};
}

FaultSpec ManifestContext::fault(FaultKind kind, const std::string& suffix) const {
  FaultSpec spec;
  spec.name = name + suffix;
  spec.kind = kind;
  spec.start = window.start;
  spec.duration = window.end - window.start;
  spec.pos = item_pos;
  return spec;
}

std::vector<int> ManifestContext::edges_between(const std::vector<int>& a,
                                                const std::vector<int>& b) const {
  std::vector<int> edges;
  const auto in = [](const std::vector<int>& set, int s) {
    return std::find(set.begin(), set.end(), s) != set.end();
  };
  for (std::size_t d = 0; d < scenario.dependencies.size(); ++d) {
    const DependencySpec& dep = scenario.dependencies[d];
    if ((in(a, dep.caller) && in(b, dep.callee)) || (in(b, dep.caller) && in(a, dep.callee)))
      edges.push_back(static_cast<int>(d));
  }
  return edges;
}

std::vector<int> ManifestContext::edges_touching(const std::vector<int>& services) const {
  std::vector<int> edges;
  for (std::size_t d = 0; d < scenario.dependencies.size(); ++d) {
    const DependencySpec& dep = scenario.dependencies[d];
    if (std::find(services.begin(), services.end(), dep.caller) != services.end() ||
        std::find(services.begin(), services.end(), dep.callee) != services.end())
      edges.push_back(static_cast<int>(d));
  }
  return edges;
}

void read_manifest_text(const std::string& text, const Scenario& scenario,
                        const ManifestNames& names, const ManifestWindow& window,
                        SourcePos item_pos, Diagnostics& diags, ManifestOutput& out) {
  if (std::string reason = binary_reason(text); !reason.empty()) {
    diags.error({}, reason);
    return;
  }
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    const Diagnostic problem = yaml_error("", e, text);
    diags.error({problem.line, problem.column}, problem.message);
    return;
  }
  bool any = false;
  for (const YAML::Node& doc : documents) {
    if (!doc.IsDefined() || doc.IsNull()) continue;  // `---` with nothing after it
    any = true;
    // Said without quoting the document: sim.apply may be handed any file a script names.
    if (!doc.IsMap() || !doc["kind"]) {
      diags.error(pos_of(doc),
                  std::string("not a Kubernetes manifest: a document must be a mapping with "
                              "apiVersion and kind, got ") +
                      (doc.IsMap()        ? "a mapping without kind"
                       : doc.IsSequence() ? "a list"
                                          : "text"));
      continue;
    }
    read_document(doc, scenario, names, window, item_pos, diags, out);
  }
  if (!any) diags.error({}, "the manifest file holds no document");
}

}  // namespace dosim::loader
