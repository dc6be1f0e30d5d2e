// Where dosim's data (the lstm models, the scenario schema, the bundled scenarios and
// scripts) lives at run time. No path of the source tree is compiled into any binary, so a
// moved build tree or an installed prefix works:
//   1. $DOSIM_DATA_DIR, when set (it must hold the data: models/, scenarios/);
//   2. <prefix>/share/dosim, for a binary installed as <prefix>/bin/...;
//   3. the source tree around a build tree: the first folder above the running binary
//      that holds models/ and scenarios/schema.json (build/cli/dosim -> the checkout).
// Thread-safe.
#pragma once

#include <string>

namespace dosim {

// The data folder, or "" when none of the above has it.
std::string data_dir();

// `relative` (such as "models/lstm-noop.h5") inside data_dir(). Throws InputError naming
// DOSIM_DATA_DIR when the data folder cannot be found.
std::string data_path(const std::string& relative);

}  // namespace dosim
