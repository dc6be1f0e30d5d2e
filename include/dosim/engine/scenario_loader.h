// Reads a scenario YAML file into a validated Scenario (format: docs/scenario-format.md,
// schema: scenarios/schema.json).
//
// Every problem is collected, not just the first: YAML syntax errors, unknown keys (with a
// "did you mean" when one is close), wrong types, out-of-range values, references to
// services, zones, endpoints or dependencies that do not exist, duplicate names, dependency
// cycles (named). If there is any, InputError is thrown with all of them, each with the
// file, line and column of the offending node. Empty, binary, truncated and missing files
// are reported the same way. Never crashes on input.
//
// parse_fault() and parse_change() read one entry of the `faults:` / `changes:` lists against
// a scenario already loaded (for faults and changes added while a run goes on, Simulation's
// add_fault() and add_change()): the same keys, defaults and checks, names checked for
// uniqueness against the scenario's (a run's scenario() includes what was added so far).
#pragma once

#include <string>
#include <vector>

#include "dosim/engine/scenario.h"
#include "dosim/error.h"

namespace YAML {
class Node;
}

namespace dosim {

// Throws InputError.
Scenario load_scenario_file(const std::string& path);

// A scenario file read as far as it can be, for a check that says every problem at once:
// `errors` holds its problems (by position; none: `scenario` is load_scenario_file's), and
// `scenario` what could be read in spite of them, to be checked further (its detectors'
// parameters, which the engine does not know) but never run. Throws InputError where
// nothing could be read: the file, its YAML syntax, a top level that is no mapping.
struct ScenarioDraft {
  Scenario scenario;
  std::vector<Diagnostic> errors;
};
ScenarioDraft draft_scenario_file(const std::string& path);

// An Alertmanager configuration file on its own (alertmanager.yml), read as a scenario's
// `alertmanager:` reads it, any alert labels allowed. Throws InputError with every problem.
AlertmanagerSpec load_alertmanager_file(const std::string& path);

// `file` is the name used in messages. Throws InputError.
Scenario parse_scenario(const std::string& text, const std::string& file);

// Runs `scenario` in `mode` (a front end's --mode in place of its `mode:`), with the
// loader's warning of what does not hold there (measurement_noise: false at the request
// level) added to its warnings.
void set_world_mode(Scenario& scenario, WorldMode mode);

// The warning a fluid scenario's DestinationRule with outlier detection or connection-pool
// limits gets; set_world_mode(kRequests) takes it back (they act there).
inline constexpr const char* kRequestLevelPolicies =
    "outlier detection and connection-pool limits act at request level only (mode: requests); "
    "the fluid model leaves them aside";

// The warnings of a fluid scenario's request-level service shapes (`calls: parallel`, a
// `service_time` other than exponential); set_world_mode(kRequests) takes them back, and
// set_world_mode(kFluid) of a request-level scenario gives them.
inline constexpr const char* kParallelCallsInFluid =
    "'calls: parallel' acts at the request level only (mode: requests): the fluid model makes "
    "a request's calls one after the other";
inline constexpr const char* kServiceTimeInFluid =
    "'service_time' acts at the request level only (mode: requests): the fluid model's service "
    "times are exponential";

// Reads one fault / change entry as the scenario's `faults:` / `changes:` lists are read,
// against an already loaded scenario (its services, dependencies, zones, duration...). `file`
// names the source in messages. A name left out becomes fault-<i> / change-<i>, i being the
// entry's index in the scenario's list; a name already taken is an error. A fault's
// `schedule` is refused (it would make several faults: add one per occurrence). The start is
// checked against the scenario's end, not against the run's now(). Throws InputError with
// every problem. A change's warnings (a drain restored after the run ends) go to `warnings`
// where it is given.
FaultSpec parse_fault(const Scenario& scenario, const YAML::Node& node, const std::string& file,
                      std::vector<Diagnostic>* warnings = nullptr);
ChangeSpec parse_change(const Scenario& scenario, const YAML::Node& node, const std::string& file,
                        std::vector<Diagnostic>* warnings = nullptr);
// The faults a Kubernetes manifest file makes (docs/manifests.md) when it is applied at
// `start` and deleted at `end` (start < end <= the scenario's end), named as `manifests:`
// names them; the scenario's `manifest_names` apply (names the scenario's faults have are
// the caller's to settle). A DestinationRule (a policy for the whole run) is an error here. Warnings are dropped. Throws InputError with every problem,
// at its position in the file.
std::vector<FaultSpec> parse_manifest(const Scenario& scenario, const std::string& path,
                                      SimTime start, SimTime end);
// One entry of `remediation: playbooks:` (a playbook a script adds, sim.playbook), its name
// unique among the scenario's playbooks.
PlaybookSpec parse_playbook(const Scenario& scenario, const YAML::Node& node,
                            const std::string& file);

}  // namespace dosim
