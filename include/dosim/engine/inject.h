// A fault injected while a run goes on, from any front end (Lua's sim.inject, Python's
// Simulation.inject, the live page of `dosim serve`): one description, one set of checks, one
// path into the simulation, so the three behave alike.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dosim/engine/simulation.h"

namespace YAML {
class Node;
}

namespace dosim {

// Adds the fault `node` describes (an entry of a scenario's `faults:` list, parsed with every
// check of parse_fault()); `start` defaults to now(), `duration` to the rest of the run from
// its start.
// Returns its index in simulation.scenario().faults. Throws InputError with every problem
// of the description (parse_fault(), `file` naming its source), RunControlError
// "<where>: ..." when the start is in the past or the run is over.
// `warnings`, when given, receives what the scenario's loader would warn of in that entry
// (a bare number of seconds, an end after the scenario's); `strict`: those are the
// InputError's problems instead, and nothing is added (--strict). `before_adding`, when
// given, gets those warnings once every check has passed and before the fault is added: what
// it throws leaves the simulation as it was (Python's warnings made errors).
int inject_fault(
    Simulation& simulation, YAML::Node node, const std::string& where, const std::string& file,
    std::vector<Diagnostic>* warnings = nullptr, bool strict = false,
    const std::function<void(const std::vector<Diagnostic>&)>& before_adding = nullptr);

// Applies a Kubernetes manifest file now (docs/manifests.md: its faults, kubectl apply),
// deleted `duration` later (nullopt: at the end of the run). Returns the faults' indices.
// Applied again once the faults it made before have all ended (deleted, or their duration
// over), as kubectl apply after a delete: the new faults' names take the first suffix
// "-2", "-3", ... that no fault has. Throws InputError with every problem of the file,
// RunControlError "<where>: ..." when the run is over or a fault of the same name has not
// ended (the manifest is still applied).
std::vector<int> apply_manifest(Simulation& simulation, const std::string& path,
                                std::optional<SimTime> duration, const std::string& where);

}  // namespace dosim
