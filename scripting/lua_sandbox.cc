#include "scripting/lua_sandbox.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "engine/rng.h"

namespace dosim {
namespace {

// The script's random stream and its position, kept in the registry as a full userdata.
struct ScriptRandom {
  std::uint64_t seed = 0;
  RandomStream stream;
  std::uint64_t next = 0;
};

const char* const kRandomKey = "dosim.random";

ScriptRandom& script_random(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kRandomKey);
  auto* random = static_cast<ScriptRandom*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return *random;
}

// math.random([m [, n]]), as Lua's: a float in [0, 1), or an integer in [1, m] / [m, n].
int math_random(lua_State* L) {
  ScriptRandom& random = script_random(L);
  const double u = random.stream.uniform(random.next++);
  lua_Integer low = 1, high = 0;
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, u);
      return 1;
    case 1:
      high = luaL_checkinteger(L, 1);
      break;
    case 2:
      low = luaL_checkinteger(L, 1);
      high = luaL_checkinteger(L, 2);
      break;
    default:
      return luaL_error(L, "wrong number of arguments to 'random'");
  }
  luaL_argcheck(L, low <= high, lua_gettop(L), "interval is empty");
  const auto span = static_cast<double>(high) - static_cast<double>(low) + 1.0;
  const auto offset = static_cast<lua_Integer>(std::min(std::floor(u * span), span - 1.0));
  lua_pushinteger(L, low + offset);
  return 1;
}

// math.randomseed(x): the stream restarts under key x (the run's seed stays part of it).
int math_randomseed(lua_State* L) {
  ScriptRandom& random = script_random(L);
  const lua_Integer key = luaL_optinteger(L, 1, 0);
  random.stream = RandomStream(random.seed ^ static_cast<std::uint64_t>(key),
                               entity_id("lua-script"), Purpose::kScenario);
  random.next = 0;
  return 0;
}

// load(chunk [, name [, mode [, env]]]): text only, and only with an explicit environment.
int sandboxed_load(lua_State* L) {
  if (lua_gettop(L) < 4 || lua_isnil(L, 4))
    return luaL_error(L, "load needs an explicit environment (its 4th argument) in a dosim script");
  const char* mode = luaL_optstring(L, 3, "t");
  if (std::strcmp(mode, "t") != 0) return luaL_error(L, "load accepts text chunks only (mode 't')");
  std::size_t size = 0;
  const char* code = luaL_checklstring(L, 1, &size);
  const char* name = luaL_optstring(L, 2, code);
  if (luaL_loadbufferx(L, code, size, name, "t") != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;  // nil, message
  }
  lua_pushvalue(L, 4);
  if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  return 1;
}

// sorted_pairs(t): an iterator over t's keys in a fixed order: numbers ascending, then
// strings ascending; other key types are an error.
int sorted_pairs_next(lua_State* L) {
  // upvalue 1: the table, 2: the sorted key array, 3: the position
  const lua_Integer position = lua_tointeger(L, lua_upvalueindex(3)) + 1;
  lua_pushinteger(L, position);
  lua_replace(L, lua_upvalueindex(3));
  if (lua_rawgeti(L, lua_upvalueindex(2), position) == LUA_TNIL) return 1;
  lua_pushvalue(L, -1);
  lua_gettable(L, lua_upvalueindex(1));
  return 2;
}

int sorted_pairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  struct Key {
    bool is_number;
    double number;
    std::string text;
  };
  std::vector<Key> keys;
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TNUMBER)
      keys.push_back({true, lua_tonumber(L, -1), {}});
    else if (lua_type(L, -1) == LUA_TSTRING)
      keys.push_back({false, 0, lua_tostring(L, -1)});
    else
      return luaL_error(L, "sorted_pairs: keys must be numbers or strings, got a %s",
                        luaL_typename(L, -1));
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.is_number != b.is_number) return a.is_number;
    return a.is_number ? a.number < b.number : a.text < b.text;
  });
  lua_pushvalue(L, 1);
  lua_createtable(L, static_cast<int>(keys.size()), 0);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Key& key = keys[i];
    if (!key.is_number)
      lua_pushlstring(L, key.text.data(), key.text.size());
    else if (key.number == std::floor(key.number) && std::fabs(key.number) < 9.2e18)
      lua_pushinteger(L, static_cast<lua_Integer>(key.number));
    else
      lua_pushnumber(L, key.number);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, sorted_pairs_next, 3);
  return 1;
}

int traceback_handler(lua_State* L) {
  const char* message = lua_tostring(L, 1);
  if (message == nullptr) message = luaL_typename(L, 1);
  luaL_traceback(L, L, message, 1);
  return 1;
}

}  // namespace

LuaSandbox& LuaSandbox::of(lua_State* L) {
  return **static_cast<LuaSandbox**>(lua_getextraspace(L));
}

void* LuaSandbox::allocate(void* ud, void* ptr, std::size_t old_size, std::size_t new_size) {
  auto* self = static_cast<LuaSandbox*>(ud);
  const std::size_t held = ptr == nullptr ? 0 : old_size;
  if (new_size == 0) {
    std::free(ptr);
    self->memory_used_ -= held;
    return nullptr;
  }
  if (self->memory_used_ - held + new_size > self->limits_.memory_limit) {
    self->memory_exceeded_ = true;
    if (self->fatal_.empty())
      self->fatal_ = "memory cap of " + std::to_string(self->limits_.memory_limit >> 20) +
                     " MiB exceeded (a memory bomb?)";
    return nullptr;
  }
  void* grown = std::realloc(ptr, new_size);
  if (grown != nullptr) self->memory_used_ = self->memory_used_ - held + new_size;
  return grown;
}

void LuaSandbox::count_hook(lua_State* L, lua_Debug*) {
  LuaSandbox& self = of(L);
  self.instructions_ += kHookEvery;
  if (self.instructions_ <= self.limits_.instruction_budget) return;
  if (self.fatal_.empty())
    self.fatal_ = "instruction budget of " + std::to_string(self.limits_.instruction_budget) +
                  " exceeded in one callback (a runaway loop?)";
  luaL_error(L, "%s", self.fatal_.c_str());
}

LuaSandbox::LuaSandbox(std::uint64_t seed, SandboxLimits limits) : limits_(limits) {
  state_ = lua_newstate(&LuaSandbox::allocate, this);
  if (state_ == nullptr) throw ScriptError("cannot create a Lua state");
  *static_cast<LuaSandbox**>(lua_getextraspace(state_)) = this;  // threads inherit it
  open_libraries(seed);
  // Threads created later inherit the hook from the thread that creates them.
  lua_sethook(state_, &LuaSandbox::count_hook, LUA_MASKCOUNT, kHookEvery);
}

LuaSandbox::~LuaSandbox() {
  if (state_ != nullptr) lua_close(state_);
}

void LuaSandbox::open_libraries(std::uint64_t seed) {
  lua_State* L = state_;
  const luaL_Reg libraries[] = {
      {LUA_GNAME, luaopen_base},        {LUA_TABLIBNAME, luaopen_table},
      {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine}};
  for (const luaL_Reg& library : libraries) {
    luaL_requiref(L, library.name, library.func, 1);
    lua_pop(L, 1);
  }
  for (const char* name : {"dofile", "loadfile", "require"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_pushcfunction(L, sandboxed_load);
  lua_setglobal(L, "load");
  lua_pushcfunction(L, sorted_pairs);
  lua_setglobal(L, "sorted_pairs");
  lua_getglobal(L, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);

  auto* random = static_cast<ScriptRandom*>(lua_newuserdatauv(L, sizeof(ScriptRandom), 0));
  new (random)
      ScriptRandom{seed, RandomStream(seed, entity_id("lua-script"), Purpose::kScenario), 0};
  lua_setfield(L, LUA_REGISTRYINDEX, kRandomKey);
  lua_getglobal(L, LUA_MATHLIBNAME);
  lua_pushcfunction(L, math_random);
  lua_setfield(L, -2, "random");
  lua_pushcfunction(L, math_randomseed);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);
}

void LuaSandbox::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScriptError(path + ": cannot read the script: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  const std::string code = text.str();
  if (!code.empty() && code[0] == LUA_SIGNATURE[0])
    throw ScriptError(path + ": precompiled Lua (bytecode) is not accepted; give the source");
  load_text(code, "@" + path);
}

void LuaSandbox::load_text(const std::string& code, const std::string& name) {
  if (luaL_loadbufferx(state_, code.data(), code.size(), name.c_str(), "t") != LUA_OK) {
    std::string message = lua_tostring(state_, -1) ? lua_tostring(state_, -1) : "syntax error";
    lua_pop(state_, 1);
    throw ScriptError(message);
  }
}

void LuaSandbox::call(int nargs, int nresults) {
  lua_State* L = state_;
  const int base = lua_gettop(L) - nargs;  // the function's slot
  lua_pushcfunction(L, traceback_handler);
  lua_insert(L, base);
  begin_callback();
  const int status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  if (status != LUA_OK) {
    std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error";
    lua_pop(L, 1);
    if (!fatal_.empty() && message.find(fatal_) == std::string::npos)
      message = fatal_ + "\n" + message;
    throw ScriptError(message);
  }
  if (!fatal_.empty()) throw ScriptError(fatal_);  // caught by the script's own pcall
}

std::string LuaSandbox::error_message(lua_State* L, lua_State* from) const {
  const char* text = lua_tostring(L, -1);
  std::string message = text ? text : luaL_typename(L, -1);
  luaL_traceback(L, from, message.c_str(), 0);
  message = lua_tostring(L, -1);
  lua_pop(L, 1);
  if (!fatal_.empty() && message.find(fatal_) == std::string::npos)
    message = fatal_ + "\n" + message;
  return message;
}

}  // namespace dosim
