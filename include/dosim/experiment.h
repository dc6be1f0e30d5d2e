// What a chaos script leaves besides its effects on the world: its log and the verdicts of
// its experiments (docs/lua-api.md; the trace's /script_log and /experiments).
#pragma once

#include <string>

#include "dosim/engine/sim_time.h"

namespace dosim {

struct ScriptLogLine {
  SimTime time = 0;
  std::string text;
};

// The verdict of one sim.experiment.
struct ExperimentRecord {
  std::string title;
  std::string verdict;  // pass, fail or error
  std::string probe;    // what failed: "hypothesis before", "method", "hypothesis after",
                        // "rollbacks"; "" on pass
  std::string message;  // the error or the hypothesis' explanation
  SimTime start = 0;
  SimTime end = 0;
  SimTime failed_at = -1;  // when the failing probe ran; -1 on pass
};

}  // namespace dosim
