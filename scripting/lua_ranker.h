// Root-cause rankers written in Lua (docs/rca.md, "Your own ranker"): a function of a Lua
// file, called once per case and delay with what was known at the ranking instant, returning
// the candidates best first.
//
//   function rank(case)   -- case.time, case.delay, case.lookback (seconds), case.incident,
//                         -- case.services, case.edges, case.places, case.alerts, case.changes
//     return {"service:db", {id = "edge:api->db", score = 0.5}}
//   end
//
// The file runs in a sandbox of its own (lua_sandbox.h: no io or os, the instruction budget
// and memory cap of chaos scripts, math.random from the run's seed), once, when the ranker is
// made; `print` writes to stderr. Deterministic: the same run calls it with the same cases in
// the same order. One ranker belongs to one run (one thread).
#pragma once

#include <cstdint>
#include <string>

#include "dosim/analysis/root_cause.h"
#include "scripting/lua_sandbox.h"

namespace dosim {

// Loads `path` and runs its main chunk, which must leave a global function named `function`.
// Throws InputError (the file cannot be read, is bytecode or defines no such function; the
// message names `path` and has no position) or ScriptError ("FILE:LINE: message": a syntax
// error, a main chunk that fails). The ranker throws ScriptError when the function fails or
// returns something other than a list of candidates (strings, or tables with `id` and an
// optional `score`); after a stop request (script_interrupt.h) it ranks nothing.
RcaRanker make_lua_ranker(const std::string& path, const std::string& function, std::uint64_t seed,
                          SandboxLimits limits);

}  // namespace dosim
