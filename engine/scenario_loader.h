// Reads a scenario YAML file into a validated Scenario (format: docs/scenario-format.md,
// schema: scenarios/schema.json).
//
// Every problem is collected, not just the first: YAML syntax errors, unknown keys (with a
// "did you mean" when one is close), wrong types, out-of-range values, references to
// services, zones, endpoints or dependencies that do not exist, duplicate names, dependency
// cycles (named). If there is any, InputError is thrown with all of them, each with the
// file, line and column of the offending node. Empty, binary, truncated and missing files
// are reported the same way. Never crashes on input.
#pragma once

#include <string>

#include "diagnostics.h"
#include "scenario.h"

namespace dosim {

// Throws InputError.
Scenario load_scenario_file(const std::string& path);

// `file` is the name used in messages. Throws InputError.
Scenario parse_scenario(const std::string& text, const std::string& file);

}  // namespace dosim
