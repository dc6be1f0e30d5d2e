// The `sim` table: time, scheduling, coroutines, logging, reading the world, faults and
// changes, hooks, experiments and Lua detectors (docs/lua-api.md).
#include "scripting/script_api.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "detectors/runner.h"
#include "dosim/engine/inject.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/error.h"
#include "engine/yaml_reader.h"
#include "util/output_file.h"

namespace dosim {
namespace {

const char kSleepToken = 0;
const char kWaitToken = 0;
const char* const kHostKey = "dosim.host";
// Tables handed to the API nest at most this deep (YAML conversion).
constexpr int kMaxTableDepth = 64;

// The host, or an error once it is gone (unbind_script_api: the run has ended).
ScriptHost& host_of(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kHostKey);
  auto* host = static_cast<ScriptHost*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (host == nullptr) throw RunControlError("the run has ended: sim calls are no longer possible");
  return *host;
}

SimTime seconds_to_time(double seconds) {
  // kMaxDuration (100 years) either way: far past any run, and no overflow in SimTime sums.
  if (!std::isfinite(seconds) || std::fabs(seconds) > to_seconds(kMaxDuration))
    throw RunControlError(
        "a time must be a finite number of seconds within 3153600000 "
        "(100 years)");
  return static_cast<SimTime>(std::llround(seconds * 1e9));
}

// Runs `fn`, its RunControlError said as `call`'s ("sim.metric: unknown service 'x'").
template <typename Fn>
auto as_call(const char* call, Fn fn) {
  try {
    return fn();
  } catch (const RunControlError& error) {
    throw RunControlError(std::string(call) + ": " + error.what());
  }
}

// A time in seconds, argument `index` of `call` (sim.at's time, sim.wait_until's).
SimTime time_arg(lua_State* L, int index, const char* call) {
  const double seconds = luaL_checknumber(L, index);
  return as_call(call, [&] { return seconds_to_time(seconds); });
}

// Text a script wrote, every byte of it, with a NUL (valid UTF-8, but the end of a C string
// and of a trace's fixed-length string) as U+FFFD: a log line or a title reads the same on
// the terminal, in the trace and in JSON.
std::string script_text(const char* text, std::size_t size) {
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    if (text[i] == '\0')
      out += "\xEF\xBF\xBD";
    else
      out += text[i];
  }
  return out;
}

// A string argument as valid UTF-8 (it may reach JSON or the trace).
std::string text_arg(lua_State* L, int index) {
  std::size_t size = 0;
  const char* text = luaL_checklstring(L, index, &size);
  return to_valid_utf8(script_text(text, size));
}

// An optional string argument, "" when absent, as text_arg.
std::string optional_text_arg(lua_State* L, int index) {
  std::size_t size = 0;
  const char* text = luaL_optlstring(L, index, "", &size);
  return to_valid_utf8(script_text(text, size));
}

// Argument `index` of `call`, `what` (a service's name, a metric's), which must be a string:
// a number is not taken for one ("unknown service '5'" would not say what is wrong).
std::string name_arg(lua_State* L, int index, const char* call, const char* what) {
  if (lua_type(L, index) != LUA_TSTRING)
    throw RunControlError(std::string(call) + ": argument " + std::to_string(index) + " must be " +
                          what + " (a string), got " + luaL_typename(L, index));
  return lua_tostring(L, index);
}

// Argument `index` of `call`, which must be a table of its keys: the call's own error, not
// Lua's ("bad argument #1 to 'scale'" names no sim. and says little).
void table_arg(lua_State* L, int index, const char* call) {
  if (!lua_istable(L, index))
    throw RunControlError(std::string(call) + ": argument " + std::to_string(index) +
                          " must be a table of its keys ({key = value, ...}), got " +
                          luaL_typename(L, index));
}

// A duration argument: a number of seconds or a duration string ("30s", "5m").
SimTime duration_arg(lua_State* L, int index, const char* what) {
  if (lua_type(L, index) == LUA_TNUMBER)
    return as_call(what, [&] { return seconds_to_time(lua_tonumber(L, index)); });
  if (lua_type(L, index) == LUA_TSTRING) {
    bool too_long = false;
    if (auto parsed = parse_duration(lua_tostring(L, index), &too_long)) return *parsed;
    throw RunControlError(std::string(what) + ": '" + text_arg(L, index) + "' is " +
                          (too_long ? "longer than 100 years (36500d)"
                                    : "not a duration (a number of seconds, or like 30s, 5m)"));
  }
  throw RunControlError(std::string(what) + ": expected seconds or a duration string, got " +
                        luaL_typename(L, index));
}

// The most values (tables and scalars) one table handed to the API may hold: the YAML
// nodes made of them live outside the Lua memory cap (a canary of a million steps took GBs).
constexpr std::size_t kMaxTableValues = 100'000;

// A table is a list (keys exactly 1..n, n = `length`) or a mapping (names only): a list with
// a gap, or list items beside names, would lose the items past the gap or the names.
void check_list_or_mapping(lua_State* L, int index, lua_Integer length, const std::string& where) {
  lua_Integer keys = 0, integers = 0, largest = 0;
  std::string other;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    ++keys;
    if (lua_isinteger(L, -2)) {
      ++integers;
      largest = std::max(largest, lua_tointeger(L, -2));
      if (lua_tointeger(L, -2) < 1 && other.empty())
        other = "[" + std::to_string(lua_tointeger(L, -2)) + "]";
    } else if (lua_type(L, -2) != LUA_TSTRING && other.empty()) {
      other = std::string("a ") + luaL_typename(L, -2) + " key";
    }
    lua_pop(L, 1);
  }
  if (integers == 0 || keys == length) return;  // a mapping of names, or a list
  if (!other.empty())
    throw RunControlError(where + ": table keys must be names or a list's 1..n, got " + other);
  if (integers < keys)
    throw RunControlError(where + ": a table mixes list items ([1], [2], ...) and named keys");
  for (lua_Integer i = 1; i <= largest; ++i) {
    lua_rawgeti(L, index, i);
    const bool missing = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (missing)
      throw RunControlError(where + ": a list with a gap: no item [" + std::to_string(i) +
                            "] before [" + std::to_string(largest) + "]");
  }
}

// The Lua value at `index` as a YAML node: tables with keys 1..n are sequences, other
// tables mappings (string keys), numbers and booleans scalars. Tables nest at most
// kMaxTableDepth deep and may not contain themselves; `path` holds the enclosing tables,
// `values` counts the values converted (at most kMaxTableValues).
YAML::Node to_yaml(lua_State* L, int index, const std::string& where,
                   std::vector<const void*>& path, std::size_t& values) {
  index = lua_absindex(L, index);
  if (++values > kMaxTableValues)
    throw RunControlError(where + ": the table holds more than " + std::to_string(kMaxTableValues) +
                          " values");
  switch (lua_type(L, index)) {
    case LUA_TSTRING:
      return YAML::Node(to_valid_utf8(lua_tostring(L, index)));
    case LUA_TBOOLEAN:
      return YAML::Node(lua_toboolean(L, index) ? "true" : "false");
    case LUA_TNUMBER: {
      // A number where a duration goes is seconds (docs/lua-api.md), not a bare number to
      // warn of: the tag says so to the loader (yaml_reader.h, read_duration).
      char text[40];
      const double value = lua_tonumber(L, index);
      if (lua_isinteger(L, index))
        std::snprintf(text, sizeof text, "%lld", static_cast<long long>(lua_tointeger(L, index)));
      else if (!std::isfinite(value))  // as YAML writes them, not printf's "-nan"
        std::snprintf(text, sizeof text, "%s",
                      std::isnan(value) ? ".nan"
                      : value > 0       ? ".inf"
                                        : "-.inf");
      else
        std::snprintf(text, sizeof text, "%.17g", value);
      YAML::Node number{std::string(text)};
      number.SetTag(kSecondsTag);
      return number;
    }
    case LUA_TTABLE: {
      const void* table = lua_topointer(L, index);
      if (std::find(path.begin(), path.end(), table) != path.end())
        throw RunControlError(where + ": a table contains itself");
      if (path.size() >= static_cast<std::size_t>(kMaxTableDepth))
        throw RunControlError(where + ": tables nested more than " +
                              std::to_string(kMaxTableDepth) + " deep");
      if (!lua_checkstack(L, 4)) throw RunControlError(where + ": tables nested too deep");
      path.push_back(table);
      const lua_Integer length = static_cast<lua_Integer>(lua_rawlen(L, index));
      YAML::Node node;
      check_list_or_mapping(L, index, length, where);
      if (length > 0) {
        for (lua_Integer i = 1; i <= length; ++i) {
          lua_rawgeti(L, index, i);
          node.push_back(to_yaml(L, -1, where, path, values));
          lua_pop(L, 1);
        }
        path.pop_back();
        return node;
      }
      // Keys in byte order, not Lua's hash order: the loader reports problems in the order
      // it meets them, and that order must not change from run to run.
      std::vector<std::string> keys;
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING)
          throw RunControlError(where + ": table keys must be names");
        std::size_t size = 0;
        const char* key = lua_tolstring(L, -2, &size);
        keys.emplace_back(key, size);
        lua_pop(L, 1);
      }
      std::sort(keys.begin(), keys.end());
      node = YAML::Node(YAML::NodeType::Map);
      for (const std::string& key : keys) {
        lua_pushlstring(L, key.data(), key.size());
        lua_rawget(L, index);
        // Keys of a Lua table are distinct: force_insert skips yaml-cpp's linear search for
        // an existing key (quadratic over a table with many keys).
        node.force_insert(to_valid_utf8(key), to_yaml(L, -1, where, path, values));
        lua_pop(L, 1);
      }
      path.pop_back();
      return node;
    }
    default:
      throw RunControlError(where + ": cannot use a " + std::string(luaL_typename(L, index)) +
                            " here");
  }
}

YAML::Node to_yaml(lua_State* L, int index, const std::string& where) {
  std::vector<const void*> path;
  std::size_t values = 0;
  return to_yaml(L, index, where, path, values);
}

// The messages of an InputError, without positions (the Lua call site is the position).
std::string messages_of(const InputError& error) {
  std::string text;
  for (const Diagnostic& d : error.diagnostics()) text += (text.empty() ? "" : "; ") + d.message;
  return text;
}

// At most this many unknown keys are listed one by one, then how many more there are (as
// the scenario loader's MapReader does).
constexpr std::size_t kMaxListedKeys = kMaxUnknownKeys;

// The problems with the keys of the table at `index` that are not in `known`: "unknown key
// 'K'<in>; did you mean 'X'?", in byte order (not Lua's hash order), at most kMaxListedKeys
// of them and then "and N more unknown keys". Linear in the table's size.
std::vector<std::string> unknown_keys(lua_State* L, int index,
                                      const std::vector<std::string>& known,
                                      const std::string& in = "") {
  index = lua_absindex(L, index);
  std::vector<std::string> unknown;
  std::size_t not_names = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {  // lua_tostring would convert the key in place
      ++not_names;
      continue;
    }
    std::size_t size = 0;
    const char* key = lua_tolstring(L, -1, &size);
    std::string name(key, size);
    if (std::find(known.begin(), known.end(), name) == known.end())
      unknown.push_back(std::move(name));
  }
  std::sort(unknown.begin(), unknown.end());
  std::vector<std::string> problems;
  if (not_names > 0)
    problems.push_back("keys must be names" + in + " (" + std::to_string(not_names) + " are not)");
  for (std::size_t k = 0; k < unknown.size() && k < kMaxListedKeys; ++k) {
    const std::string& key = unknown[k];
    problems.push_back("unknown key '" +
                       to_valid_utf8(key.size() > 60 ? key.substr(0, 60) + "..." : key) + "'" + in +
                       did_you_mean(key, known));
  }
  if (unknown.size() > kMaxListedKeys)
    problems.push_back("and " + std::to_string(unknown.size() - kMaxListedKeys) +
                       " more unknown keys" + in);
  return problems;
}

// Throws RunControlError "<call>: problem; problem" when there is any.
void throw_if_any(const std::string& call, const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  std::string text;
  for (const std::string& problem : problems) text += (text.empty() ? "" : "; ") + problem;
  throw RunControlError(call + ": " + text);
}

std::string time_text(SimTime t) { return std::to_string(t) + "ns"; }

// --- time and scheduling ---------------------------------------------------------------

int sim_now(lua_State* L) {
  lua_pushnumber(L, exact_seconds(host_of(L).clock()));
  return 1;
}

// A handle's method called with another `self` (h.cancel(x), h.stop(x)) is an error.
void check_self(lua_State* L, const char* method) {
  if (!lua_isnoneornil(L, 1) && !lua_rawequal(L, 1, lua_upvalueindex(1)))
    luaL_error(L, "%s: call it on its own handle (handle:%s())", method, method);
}

// handle:cancel(). Upvalues: the handle, its flag (a userdata holding a bool).
int handle_cancel(lua_State* L) {
  check_self(L, "cancel");
  *static_cast<bool*>(lua_touserdata(L, lua_upvalueindex(2))) = true;
  lua_pushboolean(L, 1);
  lua_setfield(L, lua_upvalueindex(1), "cancelled");
  return 0;
}

// A handle {cancelled = false, cancel = function(self) ... end}; leaves the handle on the
// stack and returns a registry reference to its flag, which the host reads (a script
// cannot get at the flag, and reading it runs no metamethod).
int push_handle(lua_State* L) {
  lua_createtable(L, 0, 2);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "cancelled");
  auto* flag = static_cast<bool*>(lua_newuserdatauv(L, sizeof(bool), 0));
  *flag = false;
  lua_pushvalue(L, -1);
  const int flag_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, -2);  // the handle
  lua_insert(L, -2);     // handle, flag
  lua_pushcclosure(L, handle_cancel, 2);
  lua_setfield(L, -2, "cancel");
  return flag_ref;
}

bool handle_cancelled(lua_State* L, int flag_ref) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, flag_ref);
  const auto* flag = static_cast<const bool*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return flag == nullptr || *flag;
}

// Schedules fn (registry ref) at t, with its handle; `period` > 0 repeats it.
void schedule(ScriptHost& host, SimTime t, int fn_ref, int handle_ref, SimTime period,
              std::string where) {
  host.at(
      t,
      [&host, fn_ref, handle_ref, period, where] {
        lua_State* S = host.sandbox().state();
        if (!handle_cancelled(S, handle_ref)) {
          host.run_callback(fn_ref);
          if (period > 0 && !handle_cancelled(S, handle_ref)) {
            schedule(host, host.clock() + period, fn_ref, handle_ref, period, where);
            return;
          }
        }
        luaL_unref(S, LUA_REGISTRYINDEX, fn_ref);
        luaL_unref(S, LUA_REGISTRYINDEX, handle_ref);
      },
      where);
}

int schedule_call(lua_State* L, SimTime t, SimTime period) {
  luaL_checktype(L, 2, LUA_TFUNCTION);
  ScriptHost& host = host_of(L);
  lua_pushvalue(L, 2);
  const int fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  const int handle_ref = push_handle(L);
  schedule(host, t, fn_ref, handle_ref, period, LuaSandbox::script_position(L));
  return 1;  // the handle
}

int sim_at(lua_State* L) {
  // A time before the run's start of any size is past: now (as the docs say of past times).
  const double seconds = luaL_checknumber(L, 1);
  if (std::isfinite(seconds) && seconds < 0) return schedule_call(L, host_of(L).clock(), 0);
  return schedule_call(L, time_arg(L, 1, "sim.at"), 0);
}

int sim_after(lua_State* L) {
  const SimTime dt = duration_arg(L, 1, "sim.after");
  if (dt < 0) throw RunControlError("sim.after: a duration must be >= 0");
  return schedule_call(L, host_of(L).clock() + dt, 0);
}

int sim_every(lua_State* L) {
  const SimTime period = duration_arg(L, 1, "sim.every");
  if (period <= 0)
    throw RunControlError(
        period == 0 && lua_type(L, 1) == LUA_TNUMBER && lua_tonumber(L, 1) > 0
            ? "sim.every: the period must be at least 1 ns (times are whole nanoseconds)"
            : "sim.every: the period must be > 0");
  return schedule_call(L, host_of(L).clock() + period, period);
}

int sim_spawn(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  ScriptHost& host = host_of(L);
  lua_State* co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  const int ref = luaL_ref(L, LUA_REGISTRYINDEX);  // pops the thread
  host.at(
      host.clock(), [&host, ref] { host.resume(ref); }, LuaSandbox::script_position(L));
  return 0;
}

// Only a coroutine of sim.spawn, resumed by the host, may yield a request to it: one of
// coroutine.create would hand the request (a host token) back to the script instead.
void check_spawned(lua_State* L, const char* what) {
  if (!lua_isyieldable(L)) {
    // In a coroutine (of sim.spawn too) but under a function the library calls: a
    // comparator of table.sort, a metamethod such as __pairs, a gsub replacement.
    const bool main_thread = lua_pushthread(L) == 1;
    lua_pop(L, 1);
    throw RunControlError(std::string(what) +
                          (main_thread ? " suspends a coroutine: call it inside sim.spawn"
                                       : " cannot suspend inside a function that Lua's library "
                                         "calls (table.sort's comparator, a metamethod such as "
                                         "__pairs, string.gsub's replacement): call it outside "
                                         "that function"));
  }
  if (host_of(L).resuming() != L)
    throw RunControlError(std::string(what) +
                          " suspends a coroutine of sim.spawn, not one of coroutine.create or "
                          "coroutine.wrap: call it in the function sim.spawn runs");
}

// coroutine.yield, refusing what would not go back to the script: outside a coroutine (a
// callback, the main chunk, a hook, a detector, a predicate), across a C call, or from a
// coroutine of sim.spawn or an experiment (whose yields go to the host, which knows only
// sim.sleep's and sim.wait_until's). An error at the yield's line, raised inside the script,
// so that an experiment's pcall makes it the verdict error.
int script_yield(lua_State* L) {
  const char* problem = nullptr;
  if (!lua_isyieldable(L)) {
    problem = lua_pushthread(L) == 1 ? "attempt to yield from outside a coroutine"
                                     : "attempt to yield across a C-call boundary";
    lua_pop(L, 1);
  } else {
    lua_getfield(L, LUA_REGISTRYINDEX, kHostKey);
    const auto* host = static_cast<const ScriptHost*>(lua_touserdata(L, -1));
    lua_pop(L, 1);
    if (host != nullptr && host->resuming() == L)
      problem =
          "coroutine.yield suspends a coroutine of coroutine.create or coroutine.wrap, not one of "
          "sim.spawn or an experiment: suspend it with sim.sleep or sim.wait_until";
  }
  if (problem == nullptr) return lua_yield(L, lua_gettop(L));
  // The script's line (that of the yield; for a chunk of `load`, the line calling into it).
  const std::string where = LuaSandbox::script_position(L, 1);
  lua_pushfstring(L, "%s%s%s", where.c_str(), where.empty() ? "" : ": ", problem);
  return lua_error(L);
}

int sim_sleep(lua_State* L) {
  const SimTime dt = duration_arg(L, 1, "sim.sleep");
  if (dt < 0) throw RunControlError("sim.sleep: a duration must be >= 0");
  check_spawned(L, "sim.sleep");
  const SimTime until = host_of(L).clock() + dt;
  lua_pushlightuserdata(L, const_cast<char*>(&kSleepToken));
  lua_pushinteger(L, until);
  return lua_yield(L, 2);
}

int sim_wait_until(lua_State* L) {
  check_spawned(L, "sim.wait_until");
  if (lua_type(L, 1) == LUA_TNUMBER) {
    const SimTime until = time_arg(L, 1, "sim.wait_until");
    if (until <= host_of(L).clock()) return 0;
    lua_pushlightuserdata(L, const_cast<char*>(&kSleepToken));
    lua_pushinteger(L, until);
    return lua_yield(L, 2);
  }
  if (lua_type(L, 1) != LUA_TFUNCTION)
    throw RunControlError("sim.wait_until: expected a time (seconds) or a predicate function");
  lua_pushlightuserdata(L, const_cast<char*>(&kWaitToken));
  lua_pushvalue(L, 1);
  return lua_yield(L, 2);
}

// --- logging ---------------------------------------------------------------------------

int sim_log(lua_State* L) {
  std::string line;
  const int n = lua_gettop(L);
  for (int i = 1; i <= n; ++i) {
    std::size_t size = 0;
    const char* text = deterministic_tolstring(L, i, &size);
    if (i > 1) line += '\t';
    line += script_text(text, size);
    lua_pop(L, 1);
  }
  host_of(L).add_log(line);
  return 0;
}

// --- reading the world -----------------------------------------------------------------

template <typename Names>
int metric_index(const Names& names, const std::string& name, const char* family) {
  std::vector<std::string> all(names.begin(), names.end());
  for (std::size_t m = 0; m < all.size(); ++m)
    if (all[m] == name) return static_cast<int>(m);
  throw RunControlError("unknown " + std::string(family) + " metric '" + name + "'" +
                        did_you_mean(name, all));
}

// A service's name at `index`: a table's field `key` where given (its value pushed at -1),
// else an argument (checked by name_arg first where a number could be given).
int service_arg(lua_State* L, int index, const Scenario& scenario, const char* key = nullptr) {
  if (key != nullptr && lua_type(L, index) != LUA_TSTRING)
    throw RunControlError(lua_isnil(L, index)
                              ? "missing key '" + std::string(key) + "' (a service's name)"
                              : "'" + std::string(key) +
                                    "' must be a service's name (a string), got " +
                                    luaL_typename(L, index));
  const std::string name = luaL_checkstring(L, index);
  const int service = scenario.service_index(name);
  if (service < 0) {
    std::vector<std::string> names;
    for (const ServiceSpec& s : scenario.services) names.push_back(s.name);
    throw RunControlError("unknown service '" + name + "'" + did_you_mean(name, names));
  }
  return service;
}

int sim_metric(lua_State* L) {
  Simulation& simulation = host_of(L).simulation();
  const char* const call = "sim.metric";
  name_arg(L, 1, call, "a service's name");
  const std::string metric_name = name_arg(L, 2, call, "a service metric's name");
  const int service = as_call(call, [&] { return service_arg(L, 1, simulation.scenario()); });
  const int metric =
      as_call(call, [&] { return metric_index(kServiceMetricNames, metric_name, "service"); });
  lua_pushnumber(L,
                 simulation.world().frame().service(static_cast<ServiceMetric>(metric))[service]);
  return 1;
}

int sim_edge_metric(lua_State* L) {
  Simulation& simulation = host_of(L).simulation();
  const Scenario& scenario = simulation.scenario();
  const char* const call = "sim.edge_metric";
  name_arg(L, 1, call, "the caller's name");
  name_arg(L, 2, call, "the callee's name");
  const std::string metric_name = name_arg(L, 3, call, "an edge metric's name");
  const int caller = as_call(call, [&] { return service_arg(L, 1, scenario); });
  const int callee = as_call(call, [&] { return service_arg(L, 2, scenario); });
  const int metric =
      as_call(call, [&] { return metric_index(kEdgeMetricNames, metric_name, "edge"); });
  for (std::size_t d = 0; d < scenario.dependencies.size(); ++d) {
    if (scenario.dependencies[d].caller != caller || scenario.dependencies[d].callee != callee)
      continue;
    lua_pushnumber(L, simulation.world().frame().edge(static_cast<EdgeMetric>(metric))[d]);
    return 1;
  }
  throw RunControlError(std::string(call) + ": no dependency " + scenario.services[caller].name +
                        "->" + scenario.services[callee].name);
}

int sim_services(lua_State* L) {
  const Scenario& scenario = host_of(L).simulation().scenario();
  lua_createtable(L, static_cast<int>(scenario.services.size()), 0);
  for (std::size_t s = 0; s < scenario.services.size(); ++s) {
    lua_pushstring(L, scenario.services[s].name.c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(s + 1));
  }
  return 1;
}

int sim_topology(lua_State* L) {
  const Scenario& scenario = host_of(L).simulation().scenario();
  lua_createtable(L, 0, 2);
  sim_services(L);
  lua_setfield(L, -2, "services");
  lua_createtable(L, static_cast<int>(scenario.dependencies.size()), 0);
  for (std::size_t d = 0; d < scenario.dependencies.size(); ++d) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, scenario.services[scenario.dependencies[d].caller].name.c_str());
    lua_setfield(L, -2, "caller");
    lua_pushstring(L, scenario.services[scenario.dependencies[d].callee].name.c_str());
    lua_setfield(L, -2, "callee");
    lua_rawseti(L, -2, static_cast<lua_Integer>(d + 1));
  }
  lua_setfield(L, -2, "edges");
  return 1;
}

// --- faults and changes ----------------------------------------------------------------

// fault:stop(). Upvalues: the handle, the fault's index.
int sim_end_fault(lua_State* L) {
  check_self(L, "stop");
  host_of(L).simulation().end_fault(static_cast<int>(lua_tointeger(L, lua_upvalueindex(2))));
  return 0;
}

// What a call's entry would warn of in a scenario, in the script's log at the call with its
// line (and, from the main chunk, among validate's warnings).
void log_call_warnings(lua_State* L, ScriptHost& host, const char* where,
                       const std::vector<Diagnostic>& warnings) {
  if (warnings.empty()) return;
  luaL_where(L, 1);  // "FILE:LINE: " of the call
  const std::string at = lua_tostring(L, -1);
  lua_pop(L, 1);
  lua_Debug call;
  const int line = lua_getstack(L, 1, &call) && lua_getinfo(L, "l", &call) ? call.currentline : 0;
  for (const Diagnostic& warning : warnings) host.add_warning(at, line, where, warning.message);
}

// Injects the fault described by the table at `index` (with `kind` forced when given).
int inject(lua_State* L, int index, const char* where, const char* kind) {
  luaL_checktype(L, index, LUA_TTABLE);
  ScriptHost& host = host_of(L);
  YAML::Node node = to_yaml(L, index, where);
  if (kind != nullptr) node["kind"] = kind;
  int fault = -1;
  std::vector<Diagnostic> warnings;
  try {
    fault = inject_fault(host.simulation(), node, where, host.path(), &warnings, host.strict());
  } catch (const InputError& error) {
    throw RunControlError(std::string(where) + ": " + messages_of(error));
  }
  // What a scenario's fault would warn of, as a change's warnings are said: with --strict
  // the call's error (above), else logged at the call, with its line.
  log_call_warnings(L, host, where, warnings);
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, fault);
  lua_setfield(L, -2, "index");
  lua_pushvalue(L, -1);
  lua_pushinteger(L, fault);
  lua_pushcclosure(L, guarded<sim_end_fault>, 2);
  lua_setfield(L, -2, "stop");
  return 1;
}

int sim_inject(lua_State* L) { return inject(L, 1, "sim.inject", nullptr); }

// handle:stop() of sim.apply: ends every fault of the manifest (kubectl delete). Upvalues:
// the handle (its `faults` list).
int sim_delete_manifest(lua_State* L) {
  check_self(L, "stop");
  lua_getfield(L, lua_upvalueindex(1), "faults");
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, -1, i);
    host_of(L).simulation().end_fault(static_cast<int>(lua_tointeger(L, -1)));
    lua_pop(L, 1);
  }
  return 0;
}

// sim.apply(path [, {duration = D}]): a Kubernetes manifest file applied now
// (docs/manifests.md), relative to the script's folder; returns {faults = {indices}, stop}.
//
// A script reads no other file of the host: an absolute path, or one that leaves the script's
// folder once `..` and symbolic links are resolved, is an error. Returns the path to read,
// as written beside the script's own path (messages name the file so).
std::string manifest_path(const std::string& script, const std::string& written) {
  namespace fs = std::filesystem;
  const fs::path given(written);
  if (given.is_absolute() || given.has_root_name())
    throw RunControlError("sim.apply: '" + written +
                          "' is an absolute path; give a path relative to the script's folder");
  const fs::path parent = fs::path(script).parent_path();
  std::error_code error;
  const fs::path folder = fs::canonical(parent.empty() ? fs::path(".") : parent, error);
  if (error)
    throw RunControlError("sim.apply: cannot find the script's folder: " + error.message());
  // `..` is taken lexically first, as the path returned is (a missing folder before `..` left
  // weakly_canonical to resolve nothing after it, not a link to elsewhere either); then the
  // links of what is left are resolved.
  const auto within = [&](const fs::path& p) {
    return std::mismatch(folder.begin(), folder.end(), p.begin(), p.end()).first == folder.end();
  };
  const fs::path normal = (folder / given).lexically_normal();
  const fs::path resolved = fs::weakly_canonical(normal, error);
  const bool inside = !error && within(normal) && within(resolved);
  if (!inside)
    throw RunControlError("sim.apply: '" + written +
                          "' is not inside the script's folder (after '..' and symbolic links); "
                          "a manifest must be in that folder or below it");
  return (parent / given).lexically_normal().string();
}

int sim_apply(lua_State* L) {
  ScriptHost& host = host_of(L);
  name_arg(L, 1, "sim.apply", "a manifest's path");
  const std::string path = manifest_path(host.path(), text_arg(L, 1));
  if (!host.output_path().empty() && same_file(path, host.output_path())) {
    // Not catchable, and the run keeps no trace: it would replace the manifest.
    host.claim_output();
    host.sandbox().fail(L, "sim.apply: '" + text_arg(L, 1) +
                               "' is the run's trace (--out), which would replace the manifest: "
                               "the run stops and writes no trace; write the trace elsewhere");
  }
  std::optional<SimTime> duration;
  if (!lua_isnoneornil(L, 2)) {
    table_arg(L, 2, "sim.apply");
    throw_if_any("sim.apply", unknown_keys(L, 2, {"duration"}, " in its options"));
    lua_getfield(L, 2, "duration");
    if (!lua_isnil(L, -1)) duration = duration_arg(L, -1, "sim.apply");
    lua_pop(L, 1);
  }
  std::vector<int> faults;
  try {
    faults = apply_manifest(host.simulation(), path, duration, "sim.apply");
  } catch (const InputError& error) {
    // Each problem at its place in the file (FILE:LINE:COL), as the scenario's manifests: says.
    const std::vector<Diagnostic>& problems = error.diagnostics();
    std::string text = problems.size() == 1
                           ? std::string()
                           : std::to_string(problems.size()) + " problems in the manifest:";
    for (const Diagnostic& d : problems)
      text += (problems.size() == 1 ? "" : "\n  ") + (d.line > 0 ? d.format() : d.message);
    throw RunControlError("sim.apply: " + text);
  }
  lua_createtable(L, 0, 2);
  lua_createtable(L, static_cast<int>(faults.size()), 0);
  for (std::size_t i = 0; i < faults.size(); ++i) {
    lua_pushinteger(L, faults[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "faults");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, guarded<sim_delete_manifest>, 1);
  lua_setfield(L, -2, "stop");
  return 1;
}

int sim_outage(lua_State* L) {
  table_arg(L, 1, "sim.outage");
  // {region = R | zone = Z, duration = ..., start = ...} -> an outage fault on that place.
  lua_createtable(L, 0, 4);
  lua_createtable(L, 0, 1);
  for (const char* place : {"region", "zone"}) {
    lua_getfield(L, 1, place);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    lua_setfield(L, -2, place);
  }
  lua_setfield(L, -2, "target");
  for (const char* key : {"duration", "start", "name"}) {
    lua_getfield(L, 1, key);
    lua_setfield(L, -2, key);
  }
  std::vector<std::string> problems =
      unknown_keys(L, 1, {"region", "zone", "duration", "start", "name"});
  const bool region = lua_getfield(L, 1, "region") != LUA_TNIL;
  const bool zone = lua_getfield(L, 1, "zone") != LUA_TNIL;
  lua_pop(L, 2);
  if (region == zone) problems.push_back("give one of 'region' and 'zone'");
  throw_if_any("sim.outage", std::move(problems));
  return inject(L, lua_gettop(L), "sim.outage", "outage");
}

int change(lua_State* L, const char* kind, const char* where) {
  table_arg(L, 1, where);
  ScriptHost& host = host_of(L);
  Simulation& simulation = host.simulation();
  // The call says the kind: a `kind` of the table's would be taken over silently.
  if (lua_getfield(L, 1, "kind") != LUA_TNIL)
    throw RunControlError(std::string(where) + ": unknown key 'kind' (" + where + " makes a " +
                          kind + " change; a key the call does not take is an error)");
  lua_pop(L, 1);
  YAML::Node node = to_yaml(L, 1, where);
  node["kind"] = kind;
  // A feature flag's times are its steps' `at` (times in the run, as in a scenario).
  if (!node["at"] && std::string(kind) != "feature-flag")
    node["at"] = time_text(simulation.current_time());
  ChangeSpec spec;
  std::vector<Diagnostic> warnings;
  try {
    spec = parse_change(simulation.scenario(), node, host.path(), &warnings);
  } catch (const InputError& error) {
    throw RunControlError(std::string(where) + ": " + messages_of(error));
  }
  // What a scenario's change would warn of (a drain restored after the run ends): with
  // --strict the call's error, else in the script's log at the call, with its line.
  std::string warned;
  for (const Diagnostic& warning : warnings)
    warned += (warned.empty() ? "" : "; ") + warning.message;
  if (!warned.empty() && host.strict())
    throw RunControlError(std::string(where) + ": " + warned + " (an error with --strict)");
  int index = -1;
  try {
    index = simulation.add_change(std::move(spec));
  } catch (const RunControlError& error) {  // the run's own checks (it starts before now)
    throw RunControlError(std::string(where) + ": " + error.what());
  }
  log_call_warnings(L, host, where, warnings);
  lua_pushinteger(L, index);
  return 1;
}

int sim_deploy(lua_State* L) { return change(L, "deployment", "sim.deploy"); }
int sim_config(lua_State* L) { return change(L, "config", "sim.config"); }
int sim_flag(lua_State* L) { return change(L, "feature-flag", "sim.flag"); }
int sim_rotate_secret(lua_State* L) { return change(L, "secret-rotation", "sim.rotate_secret"); }
int sim_steer(lua_State* L) { return change(L, "traffic-shift", "sim.steer"); }
int sim_drain(lua_State* L) { return change(L, "drain", "sim.drain"); }

int sim_rollback(lua_State* L) {
  Simulation& simulation = host_of(L).simulation();
  const char* const call = "sim.rollback";
  name_arg(L, 1, call, "a service's name");
  const int service = as_call(call, [&] { return service_arg(L, 1, simulation.scenario()); });
  lua_pushboolean(L, as_call(call, [&] { return simulation.rollback(service); }));
  return 1;
}

// Runs `check` (which throws RunControlError) and adds its message to `problems` instead.
template <typename Check>
void collect(std::vector<std::string>& problems, Check check) {
  try {
    check();
  } catch (const RunControlError& error) {
    problems.emplace_back(error.what());
  }
}

int sim_scale(lua_State* L) {
  table_arg(L, 1, "sim.scale");
  Simulation& simulation = host_of(L).simulation();
  std::vector<std::string> problems = unknown_keys(L, 1, {"service", "replicas"});
  int service = -1;
  lua_getfield(L, 1, "service");
  collect(problems, [&] { service = service_arg(L, -1, simulation.scenario(), "service"); });
  lua_getfield(L, 1, "replicas");
  if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 || lua_tointeger(L, -1) > 1'000'000)
    problems.push_back("'replicas' must be a whole number in [0, 1000000]");
  throw_if_any("sim.scale", problems);
  simulation.set_replicas(service, static_cast<int>(lua_tointeger(L, -1)));
  return 0;
}

// sim.revert(change): takes the named change back now (Simulation::revert_change).
int sim_revert(lua_State* L) {
  Simulation& simulation = host_of(L).simulation();
  name_arg(L, 1, "sim.revert", "a change's name");
  const std::string name = text_arg(L, 1);
  const std::vector<ChangeSpec>& changes = simulation.scenario().changes;
  for (std::size_t c = 0; c < changes.size(); ++c)
    if (changes[c].name == name) {
      lua_pushboolean(L, simulation.revert_change(static_cast<int>(c)));
      return 1;
    }
  std::vector<std::string> names;
  for (const ChangeSpec& c : changes) names.push_back(c.name);
  throw RunControlError("sim.revert: no change named '" + name + "'" + did_you_mean(name, names));
}

// sim.set_timeout{caller = ..., callee = ..., timeout = ...}: 0 (or "0s") for none.
int sim_set_timeout(lua_State* L) {
  table_arg(L, 1, "sim.set_timeout");
  Simulation& simulation = host_of(L).simulation();
  const Scenario& scenario = simulation.scenario();
  std::vector<std::string> problems = unknown_keys(L, 1, {"caller", "callee", "timeout"});
  int caller = -1, callee = -1;
  SimTime timeout = 0;
  lua_getfield(L, 1, "caller");
  collect(problems, [&] { caller = service_arg(L, -1, scenario, "caller"); });
  lua_getfield(L, 1, "callee");
  collect(problems, [&] { callee = service_arg(L, -1, scenario, "callee"); });
  lua_getfield(L, 1, "timeout");
  collect(problems, [&] { timeout = duration_arg(L, -1, "'timeout'"); });
  if (timeout < 0) problems.push_back("'timeout' must be >= 0 (0 for none)");
  throw_if_any("sim.set_timeout", problems);
  for (std::size_t d = 0; d < scenario.dependencies.size(); ++d)
    if (scenario.dependencies[d].caller == caller && scenario.dependencies[d].callee == callee) {
      simulation.set_timeout(static_cast<int>(d), timeout);
      return 0;
    }
  throw RunControlError("sim.set_timeout: " + scenario.services[caller].name + " does not call " +
                        scenario.services[callee].name);
}

// sim.shed{service = ..., percent = ...}: rejects that share of its arrivals from now on.
int sim_shed(lua_State* L) {
  table_arg(L, 1, "sim.shed");
  Simulation& simulation = host_of(L).simulation();
  std::vector<std::string> problems = unknown_keys(L, 1, {"service", "percent"});
  int service = -1;
  lua_getfield(L, 1, "service");
  collect(problems, [&] { service = service_arg(L, -1, simulation.scenario(), "service"); });
  lua_getfield(L, 1, "percent");
  if (!lua_isnumber(L, -1) || !(lua_tonumber(L, -1) >= 0 && lua_tonumber(L, -1) <= 100))
    problems.push_back("'percent' must be a number in [0, 100]");
  throw_if_any("sim.shed", problems);
  simulation.set_shed(service, lua_tonumber(L, -1) / 100);
  return 0;
}

// sim.playbook{...}: a playbook as a `remediation: playbooks:` entry, for the run's responders.
int sim_playbook(lua_State* L) {
  table_arg(L, 1, "sim.playbook");
  ScriptHost& host = host_of(L);
  Simulation& simulation = host.simulation();
  const YAML::Node node = to_yaml(L, 1, "sim.playbook");
  PlaybookSpec spec;
  try {
    spec = parse_playbook(simulation.scenario(), node, host.path());
  } catch (const InputError& error) {
    throw RunControlError(std::string("sim.playbook: ") + messages_of(error));
  }
  try {
    simulation.add_playbook(std::move(spec));
  } catch (const RunControlError& error) {
    throw RunControlError(std::string("sim.playbook: ") + error.what());
  }
  return 0;
}

// --- hooks, experiments, detectors -------------------------------------------------------

int sim_want(lua_State* L) {
  host_of(L).wanted()[luaL_checkstring(L, 1)] = true;
  return 0;
}

// sim._unknown_keys(t, key...): the problems with t's other keys ("unknown key ..."), joined
// by "; ", or nothing (for the prelude's sim.experiment).
int sim_unknown_keys(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  std::vector<std::string> known;
  for (int i = 2; i <= lua_gettop(L); ++i) known.emplace_back(luaL_checkstring(L, i));
  std::string text;
  for (const std::string& problem : unknown_keys(L, 1, known))
    text += (text.empty() ? "" : "; ") + problem;
  if (text.empty()) return 0;
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int sim_record_experiment(lua_State* L) {
  ScriptHost& host = host_of(L);
  ExperimentRecord record;
  record.title = text_arg(L, 1);
  record.verdict = text_arg(L, 2);
  record.probe = optional_text_arg(L, 3);
  record.message = optional_text_arg(L, 4);
  record.start = seconds_to_time(luaL_checknumber(L, 5));
  record.end = host.clock();
  const double failed_at = luaL_optnumber(L, 6, -1);
  record.failed_at = failed_at < 0 ? -1 : seconds_to_time(failed_at);
  host.add_log("experiment '" + record.title + "': " + record.verdict +
               (record.probe.empty() ? "" : " (" + record.probe + ")") +
               (record.message.empty() ? "" : ": " + record.message));
  host.add_experiment(std::move(record));
  return 0;
}

std::vector<std::string> string_list(lua_State* L, int index, const char* what) {
  std::vector<std::string> out;
  if (lua_isnil(L, index)) return out;
  if (lua_type(L, index) == LUA_TSTRING) return {lua_tostring(L, index)};
  if (!lua_istable(L, index)) throw RunControlError(std::string(what) + ": expected a list");
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, index));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      throw RunControlError(std::string(what) + ": expected names");
    out.emplace_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return out;
}

// sim.detector{...}: every problem of the call at once. Only in the main chunk: the run's
// detectors are made once, before the first tick.
int sim_detector(lua_State* L) {
  table_arg(L, 1, "sim.detector");
  ScriptHost& host = host_of(L);
  if (host.started())
    throw RunControlError(
        "sim.detector: detectors are declared in the script's main chunk, not in a callback or "
        "coroutine (the run's detectors are made before the first tick)");
  std::vector<std::string> problems =
      unknown_keys(L, 1, {"name", "observe", "init", "threshold", "watch", "for", "severity"});
  ScriptHost::LuaDetectorDef def;
  lua_getfield(L, 1, "name");
  if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0) {
    problems.push_back("'name' must be a non-empty string");
  } else {
    def.name = to_valid_utf8(lua_tostring(L, -1));
    if (const std::string problem = detector_name_problem(def.name); !problem.empty())
      problems.push_back(problem);
    for (const std::string& kind : detector_kinds())
      if (kind == def.name) problems.push_back("'" + def.name + "' is a built-in kind");
    for (const auto& other : host.lua_detectors())
      if (other.name == def.name) problems.push_back("'" + def.name + "' is already defined");
  }
  lua_getfield(L, 1, "observe");
  if (!lua_isfunction(L, -1)) problems.push_back("'observe' must be a function(values, t)");
  lua_getfield(L, 1, "init");
  if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
    problems.push_back("'init' must be a function(n, params)");
  lua_getfield(L, 1, "threshold");
  if (!lua_isnil(L, -1)) {
    // As the built-in kinds' 'threshold' param.
    if (lua_type(L, -1) != LUA_TNUMBER || !std::isfinite(lua_tonumber(L, -1)) ||
        lua_tonumber(L, -1) <= 0)
      problems.push_back("'threshold' must be a number > 0");
    else
      def.threshold = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  // `for` is checked whether or not it applies: without `watch` the scenario's detectors of
  // this kind give their own `for:`.
  SimTime for_duration = 0;
  lua_getfield(L, 1, "for");
  const bool has_for = !lua_isnil(L, -1);
  if (has_for)
    collect(problems, [&] {
      for_duration = duration_arg(L, -1, "'for'");
      if (for_duration < 0) throw RunControlError("'for' must be >= 0");
    });
  lua_pop(L, 1);
  std::optional<DetectorSpec> watched;
  lua_getfield(L, 1, "watch");
  if (has_for && lua_isnil(L, -1))
    problems.push_back(
        "'for' applies with 'watch'; a scenario's detector of this kind gives its own 'for:'");
  if (!lua_isnil(L, -1) && !lua_istable(L, -1)) {
    problems.push_back("'watch' must be a table {family = ..., metrics = {...}}");
  } else if (lua_istable(L, -1)) {
    const int watch = lua_gettop(L);
    for (std::string& problem :
         unknown_keys(L, watch, {"family", "metrics", "services", "edges"}, " in watch"))
      problems.push_back(std::move(problem));
    DetectorSpec spec;
    spec.name = def.name;
    spec.kind = def.name;
    lua_getfield(L, watch, "family");
    spec.family = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    if (lua_isnil(L, -1)) spec.family = "service";
    std::vector<std::string> known;
    if (spec.family == "service")
      known.assign(kServiceMetricNames.begin(), kServiceMetricNames.end());
    else if (spec.family == "edge")
      known.assign(kEdgeMetricNames.begin(), kEdgeMetricNames.end());
    else if (spec.family == "endpoint")
      known.assign(kEndpointMetricNames.begin(), kEndpointMetricNames.end());
    else
      problems.push_back("'family' must be service, edge or endpoint");
    lua_getfield(L, watch, "metrics");
    const std::size_t before = problems.size();
    collect(problems, [&] { spec.metrics = string_list(L, -1, "watch.metrics"); });
    if (spec.metrics.empty() && problems.size() == before)
      problems.push_back("watch.metrics names no metric");
    for (const std::string& metric : spec.metrics)
      if (!known.empty() && std::find(known.begin(), known.end(), metric) == known.end())
        problems.push_back("unknown " + spec.family + " metric '" + to_valid_utf8(metric) + "'" +
                           did_you_mean(metric, known));
    const Scenario& scenario = host.simulation().scenario();
    lua_getfield(L, watch, "services");
    std::vector<std::string> services;
    collect(problems, [&] { services = string_list(L, -1, "watch.services"); });
    for (const std::string& name : services) {
      const int s = scenario.service_index(name);
      if (s >= 0) {
        spec.services.push_back(s);
        continue;
      }
      std::vector<std::string> names;
      for (const ServiceSpec& service : scenario.services) names.push_back(service.name);
      problems.push_back("unknown service '" + to_valid_utf8(name) + "'" +
                         did_you_mean(name, names));
    }
    lua_getfield(L, watch, "edges");
    std::vector<std::string> edges;
    collect(problems, [&] { edges = string_list(L, -1, "watch.edges"); });
    for (const std::string& name : edges) {
      int found = -1;
      for (std::size_t d = 0; d < scenario.dependencies.size(); ++d)
        if (scenario.edge_name(static_cast<int>(d)) == name) found = static_cast<int>(d);
      if (found >= 0) {
        spec.edges.push_back(found);
        continue;
      }
      std::vector<std::string> names;
      for (std::size_t d = 0; d < scenario.dependencies.size(); ++d)
        names.push_back(scenario.edge_name(static_cast<int>(d)));
      problems.push_back("unknown edge '" + to_valid_utf8(name) + "'" + did_you_mean(name, names));
    }
    spec.for_duration = for_duration;
    lua_getfield(L, 1, "severity");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
      problems.push_back("'severity' must be a string");
    spec.severity = lua_type(L, -1) == LUA_TSTRING ? to_valid_utf8(lua_tostring(L, -1)) : "warning";
    watched = std::move(spec);
  }
  // With `watch` the script runs a detector of that name, and the trace holds every detector's
  // scores under its name: one of the scenario's own detectors' names is taken (the run
  // failed at the trace, with no line). Without, it is a kind those detectors may use.
  if (watched) {
    const Scenario& scenario = host.simulation().scenario();
    const std::vector<DetectorSpec> own =
        scenario.detectors_given ? scenario.detectors : DetectorRunner::default_specs();
    const std::vector<std::string> kinds = detector_kinds();  // a kind's name is said above
    for (const DetectorSpec& other : own)
      if (other.name == def.name && std::find(kinds.begin(), kinds.end(), def.name) == kinds.end())
        problems.push_back("'" + def.name + "' is a detector of the scenario" +
                           (scenario.detectors_given ? "" : " (of its default set)") +
                           ": a detector that watches needs a name of its own");
  }
  // Edge and endpoint series exist only for declared dependencies and endpoints, as a
  // scenario's detector is told: with --strict the call's error, else logged at the call.
  std::vector<Diagnostic> warnings;
  if (watched && !watched->metrics.empty())
    if (std::string why =
            watches_no_series(host.simulation().scenario(), watched->family, def.name);
        !why.empty())
      warnings.push_back({"", 0, 0, std::move(why), true});
  if (!warnings.empty() && host.strict())
    problems.push_back(warnings.front().message + " (an error with --strict)");
  throw_if_any("sim.detector", problems);
  log_call_warnings(L, host, "sim.detector", warnings);
  lua_getfield(L, 1, "observe");
  def.observe_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_getfield(L, 1, "init");
  def.init_ref = lua_isnil(L, -1) ? (lua_pop(L, 1), LUA_NOREF) : luaL_ref(L, LUA_REGISTRYINDEX);
  if (watched) host.watched_specs().push_back(std::move(*watched));
  host.lua_detectors().push_back(std::move(def));
  return 0;
}

// The Lua side of the API: hooks and experiments, which are most naturally Lua.
const char* const kPrelude = R"lua(
local sim = ...
-- The library as it is now: a script's global of the same name (type = "latency", a
-- forgotten local) must not break the hooks and experiments from here.
local type, ipairs, pcall, error, tostring, getmetatable =
      type, ipairs, pcall, error, tostring, getmetatable
local concat = table.concat
local hooks = {alert = {}, incident = {}, escalation = {}, change = {}, tick = {}}

function sim.on(event, fn)
  local list = hooks[event]
  if list == nil then
    -- A plural or a prefix ('alerts', 'esc') of one event is a slip for it.
    local hint = ""
    if type(event) == "string" and event ~= "" then
      for _, name in ipairs({"alert", "incident", "escalation", "change", "tick"}) do
        if event:sub(1, #name) == name or name:sub(1, #event) == event then
          hint = "; did you mean '" .. name .. "'?"
          break
        end
      end
    end
    error("sim.on: unknown event '" .. tostring(event) ..
          "' (alert, incident, escalation, change or tick)" .. hint, 2)
  end
  if type(fn) ~= "function" then error("sim.on: expected a function", 2) end
  list[#list + 1] = fn
  sim._want(event)
end

local function dispatch(event, payload)
  for _, fn in ipairs(hooks[event]) do fn(payload) end
end
sim._dispatch = dispatch

-- Chaos Toolkit's shape: the steady-state hypothesis before and after the method,
-- rollbacks always; the verdict is recorded when the experiment ends.
local experiments = {}  -- every experiment started, in order: {e, start, probe, done}

local unknown_keys = sim._unknown_keys

function sim.experiment(e)
  if type(e) ~= "table" then error("sim.experiment: expected a table", 2) end
  -- Every problem at once; a misspelt key (rollback) would silently drop what it holds.
  local problems = {unknown_keys(e, "title", "hypothesis", "method", "rollbacks")}
  if type(e.title) ~= "string" then
    problems[#problems + 1] = "'title' must be a string"
  elseif e.title == "" or e.title:find("[\1-\31\127]") then  -- NUL reads as U+FFFD
    -- Printed in the run's verdict lines: a line break would split one.
    problems[#problems + 1] = "'title' must not be empty nor hold control characters"
  end
  if type(e.method) ~= "function" then problems[#problems + 1] = "'method' must be a function" end
  for _, key in ipairs({"hypothesis", "rollbacks"}) do
    if e[key] ~= nil and type(e[key]) ~= "function" then
      problems[#problems + 1] = "'" .. key .. "' must be a function"
    end
  end
  if #problems > 0 then error("sim.experiment: " .. concat(problems, "; "), 2) end
  local run = {e = e, start = sim.now(), probe = "hypothesis before", done = false}
  experiments[#experiments + 1] = run
  -- An error value in words, as outside an experiment (lua.c's): a string or number as it
  -- is, a value with __tostring through it, else "(error object is a T value)".
  local function error_text(err)
    if type(err) == "string" or type(err) == "number" then return tostring(err) end
    local mt = getmetatable(err)
    if type(mt) == "table" and mt.__tostring ~= nil then return tostring(err) end
    return "(error object is a " .. type(err) .. " value)"
  end
  local function holds(when)
    if e.hypothesis == nil then return "pass" end
    run.probe = "hypothesis " .. when
    local ok, result, why = pcall(e.hypothesis)
    if not ok then return "error", "hypothesis " .. when, error_text(result) end
    if not result then return "fail", "hypothesis " .. when, why and tostring(why) or "" end
    return "pass"
  end
  sim.spawn(function()
    local verdict, probe, message = holds("before")
    local failed_at = verdict ~= "pass" and sim.now() or -1
    if verdict == "pass" then
      run.probe = "method"
      local ok, err = pcall(e.method)
      if not ok then
        verdict, probe, message = "error", "method", error_text(err)
      else
        verdict, probe, message = holds("after")
      end
      if verdict ~= "pass" then failed_at = sim.now() end
    end
    if e.rollbacks ~= nil then
      run.probe = "rollbacks"
      local ok, err = pcall(e.rollbacks)
      if not ok and verdict ~= "error" then
        verdict, probe, message = "error", "rollbacks", error_text(err)
        failed_at = sim.now()
      end
    end
    run.done = true
    sim._record_experiment(e.title, verdict, probe or "", message or "", run.start, failed_at)
  end)
end

-- When the run has ended: an experiment still going (asleep past the end, say) gets its
-- rollbacks, unless it was in them, and the verdict error, so that it is never lost.
local function finish()
  for _, run in ipairs(experiments) do
    if not run.done then
      run.done = true
      local message = "the run ended before the " .. run.probe .. " finished"
      if run.probe ~= "rollbacks" and run.e.rollbacks ~= nil then
        local ok, err = pcall(run.e.rollbacks)
        if not ok then message = message .. "; then the rollbacks failed: " .. tostring(err) end
      end
      sim._record_experiment(run.e.title, "error", run.probe, message, run.start, sim.now())
    end
  end
end

-- The host keeps both: a script that replaces sim or sim._dispatch breaks only itself.
return dispatch, finish
)lua";
const char* const kDispatchKey = "dosim.dispatch";
const char* const kFinishKey = "dosim.finish";

}  // namespace

const void* sleep_token() { return &kSleepToken; }
const void* wait_token() { return &kWaitToken; }

void bind_script_api(ScriptHost& host) {
  lua_State* L = host.sandbox().state();
  lua_pushlightuserdata(L, &host);
  lua_setfield(L, LUA_REGISTRYINDEX, kHostKey);
  const luaL_Reg functions[] = {
      {"now", guarded<sim_now>},
      {"at", guarded<sim_at>},
      {"after", guarded<sim_after>},
      {"every", guarded<sim_every>},
      {"spawn", guarded<sim_spawn>},
      {"sleep", guarded<sim_sleep>},
      {"wait_until", guarded<sim_wait_until>},
      {"log", guarded<sim_log>},
      {"metric", guarded<sim_metric>},
      {"edge_metric", guarded<sim_edge_metric>},
      {"services", guarded<sim_services>},
      {"topology", guarded<sim_topology>},
      {"inject", guarded<sim_inject>},
      {"apply", guarded<sim_apply>},
      {"outage", guarded<sim_outage>},
      {"deploy", guarded<sim_deploy>},
      {"config", guarded<sim_config>},
      {"flag", guarded<sim_flag>},
      {"rotate_secret", guarded<sim_rotate_secret>},
      {"rollback", guarded<sim_rollback>},
      {"scale", guarded<sim_scale>},
      {"revert", guarded<sim_revert>},
      {"set_timeout", guarded<sim_set_timeout>},
      {"shed", guarded<sim_shed>},
      {"playbook", guarded<sim_playbook>},
      {"steer", guarded<sim_steer>},
      {"drain", guarded<sim_drain>},
      {"detector", guarded<sim_detector>},
      {"_want", guarded<sim_want>},
      {"_record_experiment", guarded<sim_record_experiment>},
      {"_unknown_keys", guarded<sim_unknown_keys>},
      {nullptr, nullptr},
  };
  luaL_newlib(L, functions);
  lua_getglobal(L, "sorted_pairs");  // lua_sandbox.h; offered as sim.sorted_pairs too
  lua_setfield(L, -2, "sorted_pairs");
  lua_pushvalue(L, -1);
  lua_setglobal(L, "sim");
  lua_pushcfunction(L, guarded<sim_log>);
  lua_setglobal(L, "print");
  lua_getglobal(L, "coroutine");
  lua_pushcfunction(L, script_yield);
  lua_setfield(L, -2, "yield");
  lua_pop(L, 1);
  host.sandbox().load_text(kPrelude, "=dosim prelude");
  lua_insert(L, -2);  // prelude function, then sim as its argument
  host.sandbox().call(1, 2);
  lua_setfield(L, LUA_REGISTRYINDEX, kFinishKey);
  lua_setfield(L, LUA_REGISTRYINDEX, kDispatchKey);
}

void unbind_script_api(ScriptHost& host) {
  lua_State* L = host.sandbox().state();
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kHostKey);
}

void push_finisher(ScriptHost& host) {
  lua_getfield(host.sandbox().state(), LUA_REGISTRYINDEX, kFinishKey);
}

void push_dispatcher(ScriptHost& host) {
  lua_getfield(host.sandbox().state(), LUA_REGISTRYINDEX, kDispatchKey);
}

void push_alert(ScriptHost& host, const Alert& alert) {
  lua_State* L = host.sandbox().state();
  const Scenario& scenario = host.simulation().scenario();
  lua_createtable(L, 0, 5);
  lua_pushnumber(L, exact_seconds(alert.time));
  lua_setfield(L, -2, "t");
  lua_pushstring(L, alert.detector.c_str());
  lua_setfield(L, -2, "detector");
  lua_pushstring(L, alert.service >= 0 ? scenario.services[alert.service].name.c_str() : "");
  lua_setfield(L, -2, "service");
  lua_pushstring(L, alert.metric.c_str());
  lua_setfield(L, -2, "metric");
  lua_pushstring(L, alert.severity.c_str());
  lua_setfield(L, -2, "severity");
  lua_pushstring(L, alert.target.c_str());
  lua_setfield(L, -2, "target");
}

namespace {

// A new table {t, rule, severity, temperature}, with room for `more` fields.
void push_incident_fields(lua_State* L, SimTime t, const std::string& rule, int severity,
                          double temperature, int more) {
  lua_createtable(L, 0, 4 + more);
  lua_pushnumber(L, exact_seconds(t));
  lua_setfield(L, -2, "t");
  lua_pushstring(L, rule.c_str());
  lua_setfield(L, -2, "rule");
  lua_pushinteger(L, severity);
  lua_setfield(L, -2, "severity");
  lua_pushnumber(L, temperature);
  lua_setfield(L, -2, "temperature");
}

}  // namespace

void push_incident(ScriptHost& host, const DetectedIncident& incident) {
  push_incident_fields(host.sandbox().state(), incident.start, incident.rule, incident.severity,
                       incident.peak_temperature, 0);
}

void push_escalation(ScriptHost& host, const DetectedIncident& incident,
                     const IncidentChange& change) {
  lua_State* L = host.sandbox().state();
  push_incident_fields(L, change.time, incident.rule, change.severity, change.temperature, 2);
  lua_pushinteger(L, change.previous);
  lua_setfield(L, -2, "previous");
  lua_createtable(L, 0, static_cast<int>(change.accumulators.size()));
  for (std::size_t k = 0; k < change.accumulators.size() && k < incident.streams.size(); ++k) {
    lua_pushnumber(L, change.accumulators[k]);
    lua_setfield(L, -2, incident.streams[k].c_str());
  }
  lua_setfield(L, -2, "accumulators");
}

void push_change(ScriptHost& host, const ChangeEvent& change) {
  lua_State* L = host.sandbox().state();
  lua_createtable(L, 0, 5);
  lua_pushnumber(L, exact_seconds(change.time));
  lua_setfield(L, -2, "t");
  lua_pushstring(L, change.kind.c_str());
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, change.target.c_str());
  lua_setfield(L, -2, "target");
  lua_pushstring(L, change.from.c_str());
  lua_setfield(L, -2, "from");
  lua_pushstring(L, change.to.c_str());
  lua_setfield(L, -2, "to");
}

}  // namespace dosim
