// A sandboxed, deterministic Lua 5.4 state for chaos scripts (docs/lua-api.md).
//
// - Libraries: base, table, string, math, utf8 and coroutine only. Removed: io, os,
//   package, require, debug, dofile, loadfile, string.dump. `load` accepts text chunks only
//   and requires an explicit environment (its 4th argument).
// - math.random / math.randomseed draw from the engine's counter-based stream
//   (seed, entity_id("lua-script"), Purpose::kScenario), so a script is reproducible;
//   randomseed(x) restarts the stream under key x. sorted_pairs(t) iterates a table in a
//   fixed order (numbers ascending, then strings ascending).
// - Nothing a script can see depends on memory addresses (which differ from run to run):
//   tostring of a table, function, userdata or thread reads "table: N" with N a number the
//   state gives that object the first time (deterministic_tolstring()), string.format
//   refuses %p, and pairs and next visit keys in a fixed order (numbers ascending, strings
//   ascending, false, true, then other keys), not Lua's hash order, whose string hashes
//   depend on a seed the system Lua randomizes per state.
// - An instruction budget: each callback or coroutine resume (begin_callback()) may run at
//   most `instruction_budget` VM instructions (counted in steps of kHookEvery); past it the
//   script fails with a clear error. A memory cap through the allocator: an allocation that
//   would take the state past `memory_limit` bytes fails. Neither depends on the wall clock.
//   Once either is exceeded (or a stop is requested, below) the hook raises an error at every
//   instruction, so no pcall, coroutine or error handler can carry on.
// - Library calls that the hook cannot interrupt are bounded up front: string.find, match,
//   gmatch and gsub refuse a pattern whose worst-case work (pattern_work()) exceeds
//   kPatternWorkLimit, and setmetatable refuses a metatable with __gc, so no finalizer runs
//   outside a budget (at lua_close, say).
// - A stop request (set_script_interrupt(), SIGINT / SIGTERM in `dosim run`) is seen by the
//   hook: the running code fails with kInterrupted and interrupt_requested() tells callers
//   to run no more script code. Only a signal sets it, so determinism is unaffected.
// - No Lua error reaches lua_atpanic's abort(): the panic function throws ScriptError (the
//   C++-built Lua unwinds), and the state is then leaked instead of closed.
// - The state is the C++-built Lua (lua5.4-c++): a Lua error unwinds C++ destructors.
//   Functions bound with guarded() translate C++ exceptions into Lua errors, so none crosses
//   a Lua frame untranslated.
// Not thread-safe: one state per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "dosim/error.h"  // ScriptError
#include "scripting/script_interrupt.h"

// The C++-built Lua's headers: included without extern "C", to match its C++ linkage.
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

namespace dosim {

struct SandboxLimits {
  std::int64_t instruction_budget = 50'000'000;  // per callback or resume
  std::size_t memory_limit = 256u << 20;         // bytes held by the state
  // Callbacks and coroutine resumes between two ticks (script_host.h): past it the run stops
  // ("a zero-time loop?").
  std::int64_t callbacks_per_instant = 100'000;
};

// The most worst-case work one pattern call may take (pattern_work()): about a second.
constexpr double kPatternWorkLimit = 3e8;
// The worst-case work of Lua's matcher for `pattern` on a subject of `subject_size` bytes:
// m * (n + 1)^k / k! * 2^o, with m the pattern's length, k = q + 1 (q when the pattern is
// anchored by ^ or `anchored`), q the number of `*`, `+`, `-`, `%b` and back-references
// (%1-%9), o the number of `?`. A plain search (`plain`, or no special character): m * (n + 1).
double pattern_work(std::size_t subject_size, const char* pattern, std::size_t pattern_size,
                    bool plain, bool anchored);

// luaL_tolstring without addresses: pushes the value at `index` as text and returns it. A
// table, function, userdata or thread without __tostring reads "table: N" (or its __name),
// N a number given to that object the first time one is asked for: the same in every run.
const char* deterministic_tolstring(lua_State* L, int index, std::size_t* size);

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string to_valid_utf8(const std::string& text);

class LuaSandbox {
 public:
  static constexpr int kHookEvery = 1000;  // instructions between budget checks
  // The error of code stopped by a stop request (interrupt_requested()).
  static constexpr const char* kInterrupted = "interrupted (SIGINT or SIGTERM)";

  // Throws ScriptError if the state cannot be made.
  LuaSandbox(std::uint64_t seed, SandboxLimits limits);
  ~LuaSandbox();
  LuaSandbox(const LuaSandbox&) = delete;
  LuaSandbox& operator=(const LuaSandbox&) = delete;

  lua_State* state() const { return state_; }
  const SandboxLimits& limits() const { return limits_; }

  // Loads a script file as a text chunk named after `path` (bytecode is refused) and leaves
  // the function on the stack. Throws ScriptError with the syntax error.
  void load_file(const std::string& path);
  // Loads `code` (a text chunk named `name`) and leaves the function on the stack.
  void load_text(const std::string& code, const std::string& name);

  // Resets the instruction count: call before each callback or resume.
  void begin_callback() { instructions_ = 0; }
  // The thread running script code (set around a call or resume, nullptr between them):
  // where a memory cap reached inside an allocation is reported.
  lua_State* running() const { return running_; }
  void set_running(lua_State* thread) { running_ = thread; }
  // Counts host work done for the script (a pairs snapshot, say) against the budget; the
  // next hook check sees it.
  void charge(std::int64_t instructions) { instructions_ += instructions; }
  // The number deterministic_tolstring() gives the next object.
  std::int64_t next_object_id() { return ++object_ids_; }
  // Calls the function below `nargs` arguments on the stack with a traceback handler;
  // returns with `nresults` results pushed, or throws ScriptError.
  void call(int nargs, int nresults);
  // A failure the state cannot recover from (budget or memory exceeded), "" if none: the
  // run must stop even if the script caught the error with pcall.
  const std::string& fatal() const { return fatal_; }
  // fatal() with the script's position where it was first raised ("FILE:LINE: ...").
  std::string fatal_message() const;
  // Turns an error value on `L`'s stack top (from a failed pcall/resume on thread `from`)
  // into a message with a traceback of `from`, and pops it.
  std::string error_message(lua_State* L, lua_State* from);
  // `message` (of an error caught after fatal() was set) with fatal_message() first, unless
  // it says it already; Lua's bare "not enough memory" is replaced by it.
  std::string with_fatal(const std::string& message) const;
  // `message` naming each loaded file by its whole path where Lua shortened it: Lua names a
  // file chunk by at most LUA_IDSIZE - 1 characters ("..." and the path's end), a file that
  // does not exist.
  std::string with_whole_paths(std::string message) const;
  // Whether code stopped because of a stop request (rather than failed).
  bool interrupted() const { return interrupted_; }
  // Whether an error escaped every protected call (lua_atpanic): the state must not be used.
  bool panicked() const { return panicked_; }

  // The sandbox owning `L` (any thread of the state).
  static LuaSandbox& of(lua_State* L);
  // "FILE:LINE" of the innermost frame of `thread`, from `level` up, that runs a chunk loaded
  // from a file (the script, not dosim's prelude or a C function); "" if there is none.
  // Allocates nothing in the state.
  static std::string script_position(lua_State* thread, int level = 0);

  // Stops the script with `message` at its current line: no pcall catches it, as the
  // instruction budget's (a mistake the run must not go on from).
  [[noreturn]] void fail(lua_State* L, const std::string& message) {
    if (fatal_.empty()) fatal_ = message;
    raise_fatal(L);
  }

 private:
  static void* allocate(void* ud, void* ptr, std::size_t old_size, std::size_t new_size);
  static void count_hook(lua_State* L, lua_Debug* ar);
  static int on_panic(lua_State* L);
  void open_libraries(std::uint64_t seed);
  // Raises fatal_ in L, and from now on at every instruction of any thread that runs.
  [[noreturn]] void raise_fatal(lua_State* L);

  SandboxLimits limits_;
  std::size_t memory_used_ = 0;
  bool memory_exceeded_ = false;
  std::int64_t instructions_ = 0;
  std::int64_t object_ids_ = 0;
  std::string fatal_;
  std::string fatal_where_;  // "FILE:LINE" where fatal_ was first raised
  // Lua's shortened name of each loaded file with a long path, and the path.
  std::vector<std::pair<std::string, std::string>> shortened_paths_;
  bool interrupted_ = false;
  bool panicked_ = false;  // the state may be inconsistent: never closed
  bool closing_ = false;
  bool formatting_ = false;  // formatting an error message: the memory cap has some slack
  lua_State* running_ = nullptr;
  lua_State* state_ = nullptr;
};

// A lua_CFunction that runs `F` and turns any C++ exception into a Lua error raised at the
// caller's position ("FILE:LINE: message").
template <int (*F)(lua_State*)>
int guarded(lua_State* L) {
  std::string message;
  try {
    return F(L);
  } catch (const std::exception& e) {
    message = e.what();
  }
  return luaL_error(L, "%s", message.c_str());
}

}  // namespace dosim
