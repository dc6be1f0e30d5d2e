// The `manifests:` section: Kubernetes fault manifests (Istio, Chaos Mesh) named by the
// scenario, each applied over a window, read by engine/manifests.h into faults and edge
// policies; and `manifest_names:`, the table from Kubernetes names to services.
#include <filesystem>
#include <limits>

#include "dosim/engine/scenario_loader.h"
#include "manifests.h"
#include "scenario_loader_internal.h"
#include "util/input_file.h"

namespace dosim::loader {

void Loader::read_manifests(MapReader& top) {
  std::map<std::string, int> table;
  if (auto names = top.value("manifest_names")) {
    for (const MapEntry& entry : read_entries(*names, "manifest_names", diags_)) {
      auto value = read_text(entry.value, entry.value_pos(),
                             "the service that '" + entry.key + "' names", diags_);
      if (!value) continue;
      const int s = service_ref(*value, entry.value_pos());
      table[entry.key] = s >= 0 ? s : ManifestNames::kMisnamed;
    }
  }
  scenario_.manifest_names.assign(table.begin(), table.end());
  const std::vector<YAML::Node> items = top.list("manifests");
  if (items.empty()) return;
  // Without a duration (said already) the manifests are still read for their own problems,
  // over a run without end.
  const SimTime run_end = duration_.value_or(std::numeric_limits<SimTime>::max() / 4);
  const ManifestNames names(scenario_, std::move(table));
  for (const YAML::Node& item : items) {
    std::optional<std::string> file;
    ManifestWindow window{0, run_end};
    if (item.IsScalar()) {
      file = read_text(item, pos_of(item), "a manifest file", diags_);
    } else {
      MapReader r(item, "manifest", {"file", "start", "duration"}, diags_);
      if (!r.is_map()) continue;
      // Each key is checked on its own, and the file is read whatever the window's problems
      // (over the whole run then), so that one round says every problem of the entry.
      file = r.text("file", Need::kRequired);
      window.start = r.duration("start", Range::at_least(0)).value_or(0);
      if (window.start >= run_end) {
        diags_.error(r.value_pos("start"), "'start' (" + format_duration(window.start) +
                                               ") must be before the end of the scenario (" +
                                               format_duration(run_end) + ")");
        window.start = 0;
        r.duration("duration", Range::above(0));  // its own problems only
      } else if (auto length = r.duration("duration", Range::above(0))) {
        if (*length > run_end - window.start)
          diags_.warning(r.value_pos("duration"),
                         "the manifest is deleted at " +
                             format_duration(time_after(window.start, *length)) + clipped());
        window.end = time_after(window.start, std::min(*length, run_end - window.start));
      }
    }
    if (!file) continue;
    const std::string path = beside_scenario(scenario_.file, *file);
    scenario_.manifest_files.push_back(path);
    std::string reason;
    const std::optional<std::string> text = read_input_file(path, kMaxScenarioBytes, reason);
    if (!text) {
      diags_.error(pos_of(item), "cannot read the manifest '" + path + "': " + reason);
      continue;
    }
    Diagnostics file_diags(path);
    ManifestOutput out;
    read_manifest_text(*text, scenario_, names, window, pos_of(item), file_diags, out);
    diags_.merge(file_diags);
    if (!file_diags.empty()) continue;
    for (FaultSpec& fault : out.faults) {
      if (scenario_.faults.size() + 1 > kMaxFaults) {
        if (!too_many_faults_)
          diags_.error(pos_of(item), "more than " + std::to_string(kMaxFaults) +
                                         " faults in the scenario, counting the manifests'");
        too_many_faults_ = true;
        break;
      }
      if (faults_.claim(fault.name, static_cast<int>(scenario_.faults.size())) >= 0) {
        diags_.error(pos_of(item),
                     "the manifest '" + *file + "' makes a fault named '" + fault.name +
                         "', the name of another fault (the faults take their manifests' "
                         "metadata.name: give each experiment a name of its own, whatever its "
                         "kind, and apply a file once; a repeated experiment is a Schedule)");
        continue;
      }
      scenario_.faults.push_back(std::move(fault));
    }
    for (const ManifestOutput::EdgePolicy& policy : out.policies) {
      DependencySpec& dependency = scenario_.dependencies[policy.dependency];
      if (policy.outlier) dependency.outlier = policy.outlier;
      if (policy.max_pending > 0) dependency.max_pending = policy.max_pending;
    }
  }
}

}  // namespace dosim::loader

namespace dosim {

std::vector<FaultSpec> parse_manifest(const Scenario& scenario, const std::string& path,
                                      SimTime start, SimTime end) {
  std::string reason;
  const std::optional<std::string> text = read_input_file(path, kMaxScenarioBytes, reason);
  if (!text) throw InputError(path, "cannot read the manifest '" + path + "': " + reason);
  Diagnostics diags(path);
  loader::ManifestOutput out;
  const loader::ManifestNames names(
      scenario,
      std::map<std::string, int>(scenario.manifest_names.begin(), scenario.manifest_names.end()));
  loader::read_manifest_text(*text, scenario, names, {start, end}, {}, diags, out);
  if (!out.policies.empty())
    diags.error({},
                "a DestinationRule is a policy for the whole run: list it in the "
                "scenario's 'manifests:'");
  diags.throw_if_any();
  return out.faults;
}

}  // namespace dosim
