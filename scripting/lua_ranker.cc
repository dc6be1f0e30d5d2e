#include "scripting/lua_ranker.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "dosim/error.h"
#include "scripting/script_interrupt.h"
#include "util/input_file.h"

namespace dosim {
namespace {

struct LuaRankerState {
  std::unique_ptr<LuaSandbox> sandbox;
  int function_ref = LUA_NOREF;
  std::string path, function;
};

// print(...): the values, tab-separated, on stderr after the file's name (upvalue 1).
int ranker_print(lua_State* L) {
  const int count = lua_gettop(L);
  std::string line = std::string("[") + lua_tostring(L, lua_upvalueindex(1)) + "]";
  for (int i = 1; i <= count; ++i) {
    std::size_t size = 0;
    const char* text = deterministic_tolstring(L, i, &size);
    line += i == 1 ? ' ' : '\t';
    line.append(text, size);
    lua_pop(L, 1);
  }
  std::fprintf(stderr, "%s\n", to_valid_utf8(line).c_str());
  return 0;
}

void set_string(lua_State* L, const char* key, const std::string& value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, key);
}

void set_seconds(lua_State* L, const char* key, SimTime t) {
  lua_pushnumber(L, exact_seconds(t));
  lua_setfield(L, -2, key);
}

// A list of strings: names[i] for each i of `indices` (or all of `names`).
void push_names(lua_State* L, const std::vector<std::string>& names,
                const std::vector<int>* indices = nullptr) {
  const std::size_t count = indices ? indices->size() : names.size();
  lua_createtable(L, static_cast<int>(count), 0);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& name = names[indices ? static_cast<std::size_t>((*indices)[i]) : i];
    lua_pushlstring(L, name.data(), name.size());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
}

// The case table (lua_ranker.h; docs/rca.md lists its fields).
void push_case(lua_State* L, const RcaContext& context) {
  const RcaSystem& system = context.system;
  lua_createtable(L, 0, 9);
  lua_pushinteger(L, static_cast<lua_Integer>(context.incident));
  lua_setfield(L, -2, "incident");
  set_seconds(L, "time", context.at);
  set_seconds(L, "delay", context.delay);
  set_seconds(L, "lookback", context.lookback);
  push_names(L, system.services);
  lua_setfield(L, -2, "services");
  lua_createtable(L, static_cast<int>(system.edges.size()), 0);
  for (std::size_t e = 0; e < system.edges.size(); ++e) {
    lua_createtable(L, 0, 2);
    set_string(L, "caller", system.services[system.edges[e].first]);
    set_string(L, "callee", system.services[system.edges[e].second]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(e + 1));
  }
  lua_setfield(L, -2, "edges");
  lua_createtable(L, 0, static_cast<int>(system.services.size()));
  for (std::size_t s = 0; s < system.services.size() && s < system.places.size(); ++s) {
    push_names(L, system.places[s]);
    lua_setfield(L, -2, system.services[s].c_str());
  }
  lua_setfield(L, -2, "places");
  lua_createtable(L, static_cast<int>(context.alerts.size()), 0);
  for (std::size_t a = 0; a < context.alerts.size(); ++a) {
    const Alert& alert = context.alerts[a];
    lua_createtable(L, 0, 7);
    set_seconds(L, "time", alert.time);
    if (alert.service >= 0 && static_cast<std::size_t>(alert.service) < system.services.size())
      set_string(L, "service", system.services[alert.service]);
    set_string(L, "detector", alert.detector);
    set_string(L, "metric", alert.metric);
    set_string(L, "severity", alert.severity);
    set_string(L, "target", alert.target);
    if (alert.resolved >= 0) set_seconds(L, "resolved", alert.resolved);
    lua_rawseti(L, -2, static_cast<lua_Integer>(a + 1));
  }
  lua_setfield(L, -2, "alerts");
  lua_createtable(L, static_cast<int>(system.changes.size()), 0);
  for (std::size_t c = 0; c < system.changes.size(); ++c) {
    const RcaSystem::Change& change = system.changes[c];
    lua_createtable(L, 0, 3);
    set_string(L, "name", change.name);
    lua_createtable(L, static_cast<int>(change.times.size()), 0);
    for (std::size_t t = 0; t < change.times.size(); ++t) {
      lua_pushnumber(L, exact_seconds(change.times[t]));
      lua_rawseti(L, -2, static_cast<lua_Integer>(t + 1));
    }
    lua_setfield(L, -2, "times");
    push_names(L, system.services, &change.services);
    lua_setfield(L, -2, "services");
    lua_rawseti(L, -2, static_cast<lua_Integer>(c + 1));
  }
  lua_setfield(L, -2, "changes");
}

// The candidates in the table on the stack's top (popped), read without metamethods.
std::vector<RcaCandidate> pop_candidates(lua_State* L, const std::string& where) {
  if (!lua_istable(L, -1)) {
    const std::string type = luaL_typename(L, -1);
    lua_pop(L, 1);
    throw ScriptError(where + " must return a list of candidates, got a " + type);
  }
  const auto count = static_cast<lua_Integer>(lua_rawlen(L, -1));
  std::vector<RcaCandidate> out;
  std::optional<std::string> problem;
  // What the length does not see: a candidate after a nil (a hole cuts the list where Lua
  // says it ends), or one candidate's table returned unwrapped (a list of none).
  lua_Integer after_hole = 0;
  bool keyed = false;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);  // the value
    if (lua_isinteger(L, -1)) {
      const lua_Integer key = lua_tointeger(L, -1);
      if (key > count && (after_hole == 0 || key < after_hole)) after_hole = key;
    } else if (lua_type(L, -1) == LUA_TSTRING) {
      keyed = true;
    }
  }
  if (after_hole > 0)
    problem = "candidate " + std::to_string(count + 1) + " is nil and candidate " +
              std::to_string(after_hole) +
              " follows it: Lua's list ends at a nil, and the candidates after it would be lost";
  else if (count == 0 && keyed)
    problem =
        "entries are named, not numbered: one candidate is returned in a list, "
        "{{id = ...}}";
  for (lua_Integer i = 1; i <= count && !problem; ++i) {
    const double rank_score = static_cast<double>(count - i + 1);
    const std::string item = "candidate " + std::to_string(i);
    lua_rawgeti(L, -1, i);
    if (lua_type(L, -1) == LUA_TSTRING) {
      out.push_back({to_valid_utf8(lua_tostring(L, -1)), rank_score});
    } else if (lua_type(L, -1) == LUA_TTABLE) {
      lua_pushliteral(L, "id");
      lua_rawget(L, -2);
      lua_pushliteral(L, "score");
      lua_rawget(L, -3);
      int is_number = 0;
      const double score = lua_tonumberx(L, -1, &is_number);
      if (lua_type(L, -2) != LUA_TSTRING)
        problem = item + " has no id = \"service:NAME\" (a string)";
      else if (!lua_isnil(L, -1) && (!is_number || !std::isfinite(score)))
        problem = item + "'s score is not a finite number";
      else
        out.push_back({to_valid_utf8(lua_tostring(L, -2)), lua_isnil(L, -1) ? rank_score : score});
      lua_pop(L, 2);
    } else {
      problem = item + " is a " + std::string(luaL_typename(L, -1)) +
                ": give a string (\"service:db\") or a table {id = ..., score = ...}";
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (problem) throw ScriptError(where + " returned a list whose " + *problem);
  return out;
}

std::vector<RcaCandidate> rank(LuaRankerState& state, const RcaContext& context) {
  // After a stop request no more Lua runs (the run is ending): nothing ranked.
  if (interrupt_requested()) return {};
  LuaSandbox& sandbox = *state.sandbox;
  if (sandbox.panicked() || !sandbox.fatal().empty())
    throw ScriptError(state.path + ": the ranker's Lua state failed in an earlier call");
  lua_State* L = sandbox.state();
  const int top = lua_gettop(L);
  try {
    lua_rawgeti(L, LUA_REGISTRYINDEX, state.function_ref);
    push_case(L, context);
    sandbox.call(1, 1);
  } catch (const ScriptError&) {
    if (!sandbox.panicked()) lua_settop(L, top);
    if (sandbox.interrupted()) return {};
    throw;
  }
  return pop_candidates(L, state.path + ": " + state.function + "()");
}

}  // namespace

RcaRanker make_lua_ranker(const std::string& path, const std::string& function, std::uint64_t seed,
                          SandboxLimits limits) {
  std::string reason;
  const std::optional<std::string> text = read_input_file(path, kMaxScriptBytes, reason);
  if (!text) throw InputError("", "cannot read " + path + ": " + reason);
  if (!text->empty() && (*text)[0] == LUA_SIGNATURE[0])
    throw InputError("", path + " is precompiled Lua (bytecode); give the source");
  auto state = std::make_shared<LuaRankerState>();
  state->path = path;
  state->function = function;
  state->sandbox = std::make_unique<LuaSandbox>(seed, limits);
  lua_State* L = state->sandbox->state();
  lua_pushlstring(L, path.data(), path.size());
  lua_pushcclosure(L, guarded<ranker_print>, 1);
  lua_setglobal(L, "print");
  state->sandbox->load_text(*text, "@" + path);
  state->sandbox->call(0, 0);
  lua_pushglobaltable(L);
  lua_pushlstring(L, function.data(), function.size());
  lua_rawget(L, -2);
  if (!lua_isfunction(L, -1)) {
    const std::string got =
        lua_isnil(L, -1) ? "" : std::string(" (it is a ") + luaL_typename(L, -1) + ")";
    lua_pop(L, 2);
    throw InputError("", path + " defines no global function '" + function + "'" + got +
                             " (the ranker's `function:`, rank by default)");
  }
  state->function_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);  // the globals
  return [state](const RcaContext& context) { return rank(*state, context); };
}

}  // namespace dosim
