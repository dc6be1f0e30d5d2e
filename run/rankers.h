// The root-cause rankers of a run besides the built-in ones (docs/rca.md, "Your own ranker"):
// the scenario's own, written in Lua or Python (`rca: rankers:` entries {name, lua | python,
// function}), and the program's (RunOptions::rankers). The plan checks them (every problem
// at its place); each Run makes its own (a Lua state belongs to one thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dosim/analysis/root_cause.h"
#include "dosim/error.h"
#include "dosim/run.h"

namespace dosim {

// The rankers a run ranks with, by name, in order: the scenario's `rca: rankers:`, then the
// program's own that the scenario does not list.
std::vector<std::string> run_ranker_names(const Scenario& scenario, const RunOptions& options);

// Checks the names (each listed one known, no custom one named twice or after a built-in
// one) and makes the scenario's Lua and Python rankers, then appends the program's own.
// Problems go to `problems`: about an entry at its place in the scenario; a Lua or Python
// error inside a ranker's file at its line there. `seed` seeds the Lua rankers' math.random.
NamedRcaRankers make_run_rankers(const Scenario& scenario, const RunOptions& options,
                                 std::uint64_t seed, std::vector<Diagnostic>& problems);

// What Simulation::add_playbook() checks for a run of `scenario`: every step's ranker is
// one the run has (built-in, the scenario's own, the program's).
std::function<std::string(const PlaybookSpec&)> playbook_ranker_check(const Scenario& scenario,
                                                                      const RunOptions& options);

// The names, of a scenario that did not load (ScenarioDraft), and the rankers' files: each
// read, the Lua ones made (their syntax, their function); no Python code runs.
void check_rca_names(const Scenario& draft, const RunOptions& options,
                     std::vector<Diagnostic>& problems);

}  // namespace dosim
