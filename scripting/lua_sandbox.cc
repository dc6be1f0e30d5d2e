#include "scripting/lua_sandbox.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "engine/rng.h"
#include "util/input_file.h"

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

// math.random([m [, n]]), as Lua's: a float in [0, 1), an integer in [1, m] / [m, n], or
// with m = 0 an integer of 64 random bits.
int math_random(lua_State* L) {
  ScriptRandom& random = script_random(L);
  const std::uint64_t index = random.next++;
  const double u = random.stream.uniform(index);
  lua_Integer low = 1, high = 0;
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, u);
      return 1;
    case 1:
      high = luaL_checkinteger(L, 1);
      if (high == 0) {  // the draw's bits, of which u is the top 53
        lua_pushinteger(L, static_cast<lua_Integer>(random.stream.bits(index)));
        return 1;
      }
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

// --- no addresses: tostring, string.format, pairs and next ------------------------------

const char* const kObjectIdsKey = "dosim.object_ids";  // object -> its number (weak keys)

// Whether Lua would show a value of this type by its address.
bool shown_by_address(int type) {
  return type == LUA_TTABLE || type == LUA_TFUNCTION || type == LUA_TUSERDATA ||
         type == LUA_TTHREAD || type == LUA_TLIGHTUSERDATA;
}

// tostring(v) through deterministic_tolstring.
int sandboxed_tostring(lua_State* L) {
  luaL_checkany(L, 1);
  deterministic_tolstring(L, 1, nullptr);
  return 1;
}

// Calls the library's function (upvalue 1) with the arguments a wrapper was given, returning
// its one result. Its own problems (a bad argument, a bad conversion) would name no place and
// call it '?', since it is called from here: they are said at the script's line and with
// `name`, as Lua says them. An error of the script's own (a __tostring) keeps its place.
int call_library(lua_State* L, const char* name) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  const int status = lua_pcall(L, lua_gettop(L) - 1, 1, 0);
  if (status == LUA_OK) return 1;
  const char* message = lua_tostring(L, -1);
  const bool own = message != nullptr && status == LUA_ERRRUN &&
                   (std::strncmp(message, "bad argument", 12) == 0 ||
                    std::strncmp(message, "invalid ", 8) == 0 ||
                    std::strncmp(message, "value has no literal form", 25) == 0 ||
                    std::strncmp(message, "cannot change a protected metatable", 35) == 0);
  if (own) {
    luaL_where(L, 1);
    lua_pushfstring(L, "to '%s'", name);
    luaL_gsub(L, message, "to '?'", lua_tostring(L, -1));
    lua_remove(L, -2);  // the replacement text
    lua_concat(L, 2);
  }
  return lua_error(L);
}

// string.format refusing %p and formatting a table (function, ...) for %s as tostring does.
// Upvalue 1: the library's string.format.
int sandboxed_format(lua_State* L) {
  std::size_t size = 0;
  const char* format = luaL_checklstring(L, 1, &size);
  int argument = 1;
  for (std::size_t i = 0; i < size; ++i) {
    if (format[i] != '%') continue;
    if (++i < size && format[i] == '%') continue;
    while (i < size && format[i] != '\0' && std::strchr("-+ #0123456789.", format[i]) != nullptr)
      ++i;
    if (i >= size) break;
    ++argument;
    if (format[i] == 'p')
      return luaL_error(L,
                        "string.format: '%%p' is not available in a dosim script (an address "
                        "differs from run to run)");
    if (format[i] == 's' && argument <= lua_gettop(L) && shown_by_address(lua_type(L, argument))) {
      deterministic_tolstring(L, argument, nullptr);
      lua_replace(L, argument);
    }
  }
  return call_library(L, "format");
}

// The order in which pairs and next visit a table's keys: numbers ascending, strings
// ascending (bytes), false, true, then other keys (tables, functions, ...) in the table's
// own order, which depends on addresses.
struct KeyRank {
  int group = 0;  // 0 number, 1 string, 2 boolean, 3 other
  bool is_integer = false;
  lua_Integer integer = 0;
  double number = 0;
  const char* text = nullptr;  // valid while the key is on the stack or in the table
  std::size_t size = 0;
  int position = 0;  // in the table's own order
};

KeyRank rank_of(lua_State* L, int index, int position) {
  KeyRank rank;
  rank.position = position;
  switch (lua_type(L, index)) {
    case LUA_TNUMBER:
      rank.group = 0;
      rank.is_integer = lua_isinteger(L, index);
      rank.integer = lua_tointeger(L, index);
      rank.number = lua_tonumber(L, index);
      break;
    case LUA_TSTRING:
      rank.group = 1;
      rank.text = lua_tolstring(L, index, &rank.size);
      break;
    case LUA_TBOOLEAN:
      rank.group = 2;
      rank.integer = lua_toboolean(L, index);
      break;
    default:
      rank.group = 3;
  }
  return rank;
}

bool comes_before(const KeyRank& a, const KeyRank& b) {
  if (a.group != b.group) return a.group < b.group;
  switch (a.group) {
    case 0:
      if (a.is_integer && b.is_integer) return a.integer < b.integer;
      if (a.number != b.number) return a.number < b.number;
      return a.is_integer && !b.is_integer;
    case 1: {
      const int order = std::memcmp(a.text, b.text, std::min(a.size, b.size));
      return order != 0 ? order < 0 : a.size < b.size;
    }
    case 2:
      return a.integer < b.integer;
    default:
      return a.position < b.position;
  }
}

// The iterator pairs returns. Upvalues: the table, its keys in order, the position. A key
// whose value is nil by now (removed during the traversal) is skipped.
int ordered_pairs_next(lua_State* L) {
  lua_Integer position = lua_tointeger(L, lua_upvalueindex(3));
  for (;;) {
    ++position;
    if (lua_rawgeti(L, lua_upvalueindex(2), position) == LUA_TNIL) break;
    lua_pushvalue(L, -1);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) {
      lua_pushinteger(L, position);
      lua_replace(L, lua_upvalueindex(3));
      return 2;
    }
    lua_pop(L, 2);
  }
  lua_pushinteger(L, position);
  lua_replace(L, lua_upvalueindex(3));
  return 1;  // nil
}

// pairs(t): __pairs as Lua's; otherwise a snapshot of t's keys in the order above.
int ordered_pairs(lua_State* L) {
  if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
    lua_pushvalue(L, 1);
    lua_call(L, 1, 3);
    return 3;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_newtable(L);  // 2: the keys in the table's own order
  std::vector<KeyRank> ranks;
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    const int position = static_cast<int>(ranks.size());
    lua_pushvalue(L, -1);
    lua_rawseti(L, 2, position + 1);
    ranks.push_back(rank_of(L, -1, position));
  }
  LuaSandbox::of(L).charge(static_cast<std::int64_t>(ranks.size()));
  std::sort(ranks.begin(), ranks.end(), comes_before);
  lua_pushvalue(L, 1);
  lua_createtable(L, static_cast<int>(ranks.size()), 0);
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    lua_rawgeti(L, 2, ranks[i].position + 1);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, ordered_pairs_next, 3);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

// next(t [, k]) in the order of pairs. It looks at every key of t (and counts them against
// the budget), so a whole traversal with next is quadratic: pairs is the way to walk a table.
int ordered_next(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  lua_pushnil(L);  // 3: the best key so far
  const bool from_start = lua_isnil(L, 2);
  const KeyRank current = from_start ? KeyRank{} : rank_of(L, 2, 0);
  if (!from_start && current.group == 3) {
    // Other keys come last, in the table's own order: the next one after k.
    lua_pushvalue(L, 2);
    while (lua_next(L, 1) != 0) {
      LuaSandbox::of(L).charge(1);
      if (rank_of(L, -2, 0).group == 3) return 2;
      lua_pop(L, 1);
    }
    lua_pushnil(L);
    return 1;
  }
  bool found = false;
  KeyRank best;
  std::int64_t looked_at = 0;
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    ++looked_at;
    const KeyRank rank = rank_of(L, -1, 0);
    if (rank.group == 3) continue;
    if (!from_start && !comes_before(current, rank)) continue;
    if (found && !comes_before(rank, best)) continue;
    lua_copy(L, -1, 3);
    best = rank_of(L, 3, 0);
    found = true;
  }
  LuaSandbox::of(L).charge(looked_at);
  if (!found) {  // past the numbers, strings and booleans: the first other key
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
      if (rank_of(L, -2, 0).group == 3) return 2;
      lua_pop(L, 1);
    }
    lua_pushnil(L);
    return 1;
  }
  lua_pushvalue(L, 3);
  lua_pushvalue(L, 3);
  lua_rawget(L, 1);
  return 2;
}

// What an error value that is not a string says, as lua.c words it: a number as its text
// (error(5) says 5), its __tostring's string (where `call_tostring`: L must be able to make
// calls), else "(error object is a T value)". Lua adds no position to such a value: it is put
// before, from `thread`'s stack at `level`.
std::string error_object_text(lua_State* L, int index, lua_State* thread, int level,
                              bool call_tostring) {
  std::string text;
  if (lua_type(L, index) == LUA_TNUMBER) {
    text = luaL_tolstring(L, index, nullptr);  // a copy converted: the value stays a number
    lua_pop(L, 1);
  } else if (call_tostring && luaL_callmeta(L, index, "__tostring") != 0) {
    if (lua_type(L, -1) == LUA_TSTRING) text = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  if (text.empty()) text = std::string("(error object is a ") + luaL_typename(L, index) + " value)";
  const std::string where = LuaSandbox::script_position(thread, level);
  return where.empty() ? text : where + ": " + text;
}

// The length of the "FILE:LINE: " that `text` starts with at `at` (FILE without a newline,
// LINE digits), or 0.
std::size_t position_prefix(const std::string& text, std::size_t at) {
  const std::size_t colon = text.find(": ", at);
  if (colon == std::string::npos || text.find('\n', at) < colon) return 0;
  const std::size_t line_colon = text.rfind(':', colon - 1);
  if (line_colon == std::string::npos || line_colon < at || line_colon + 1 == colon) return 0;
  for (std::size_t k = line_colon + 1; k < colon; ++k)
    if (text[k] < '0' || text[k] > '9') return 0;
  return colon + 2 - at;
}

// `text` with a position said once: "F:7: F:5: F:3: message" (each coroutine.wrap an error
// crosses adds its caller's position, as does an error raised inside a chunk of `load`)
// becomes "F:3: message", the innermost: where the error was raised.
std::string without_repeated_position(std::string text) {
  for (;;) {
    const std::size_t first = position_prefix(text, 0);
    if (first == 0 || position_prefix(text, first) == 0) return text;
    text.erase(0, first);
  }
}

int traceback_handler(lua_State* L) {
  // lua_tostring only on strings: it converts numbers in place, and allocates.
  if (lua_type(L, 1) == LUA_TSTRING) {
    std::string message = without_repeated_position(lua_tostring(L, 1));
    // A message without a place (error("...", 0)) is given the script's, as an error object
    // is: every error says FILE:LINE.
    if (position_prefix(message, 0) == 0) {
      const std::string where = LuaSandbox::script_position(L, 1);
      if (!where.empty()) message = where + ": " + message;
    }
    luaL_traceback(L, L, message.c_str(), 1);
    return 1;
  }
  const std::string message = error_object_text(L, 1, L, 1, true);
  luaL_traceback(L, L, message.c_str(), 1);
  return 1;
}

// setmetatable(t, mt) refusing a metatable with __gc: Lua runs finalizers with hooks off,
// so a finalizer would run outside the instruction budget (and at lua_close, after the run).
int sandboxed_setmetatable(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    const bool has_gc = lua_rawget(L, 2) != LUA_TNIL;
    lua_pop(L, 1);
    if (has_gc)
      return luaL_error(L,
                        "setmetatable: a metatable with __gc is not accepted in a dosim script "
                        "(finalizers would run outside the instruction budget)");
  }
  return call_library(L, "setmetatable");
}

// string.find / match / gmatch / gsub, refusing a call whose worst case exceeds
// kPatternWorkLimit (one library call runs to its end before the hook can stop it).
enum class PatternCall { kFind, kMatch, kGmatch, kGsub };

// string.find of a plain text (`plain` true, or a pattern without Lua's specials), as Lua
// finds it, but through memmem: linear in the subject (glibc's two-way search), where Lua's
// own search is m·n at worst and had to be refused as too costly on a long subject.
int plain_find(lua_State* L, const char* subject, std::size_t subject_size, const char* text,
               std::size_t text_size) {
  // Lua 5.4's posrelatI: 1-based, negative from the end, before the start is the start.
  const lua_Integer at = luaL_optinteger(L, 3, 1);
  const auto size = static_cast<lua_Integer>(subject_size);
  const lua_Integer from = at > 0 ? at : at == 0 || at < -size ? 1 : size + at + 1;
  if (from - 1 > size) {
    luaL_pushfail(L);
    return 1;
  }
  const auto start = static_cast<std::size_t>(from - 1);
  const void* found = ::memmem(subject + start, subject_size - start, text, text_size);
  if (found == nullptr) {
    luaL_pushfail(L);
    return 1;
  }
  const auto offset = static_cast<lua_Integer>(static_cast<const char*>(found) - subject);
  lua_pushinteger(L, offset + 1);
  lua_pushinteger(L, offset + static_cast<lua_Integer>(text_size));
  return 2;
}

template <PatternCall kCall>
int bounded_pattern(lua_State* L) {
  constexpr const char* kNames[] = {"string.find", "string.match", "string.gmatch", "string.gsub"};
  std::size_t subject_size = 0, pattern_size = 0;
  const char* subject = luaL_checklstring(L, 1, &subject_size);
  const char* pattern = luaL_checklstring(L, 2, &pattern_size);
  const bool plain = kCall == PatternCall::kFind && lua_toboolean(L, 4);
  if constexpr (kCall == PatternCall::kFind) {
    // Lua's test (lstrlib.c, nospecials): none of ^$*+?.([%- anywhere in the pattern.
    const std::string_view text(pattern, pattern_size);
    if (plain || text.find_first_of("^$*+?.([%-") == std::string_view::npos)
      return plain_find(L, subject, subject_size, pattern, pattern_size);
  }
  // gmatch takes a leading ^ literally: it does not anchor there.
  const bool literal_caret = kCall == PatternCall::kGmatch && pattern_size > 0 && *pattern == '^';
  const double work = literal_caret
                          ? pattern_work(subject_size, pattern + 1, pattern_size - 1, false, false)
                          : pattern_work(subject_size, pattern, pattern_size, plain, false);
  if (work > kPatternWorkLimit) {
    // lua_pushfstring knows no %g: format here (a Lua error unwinds this frame).
    char costs[80];
    std::snprintf(costs, sizeof costs, "worst case %.3g steps, the limit is %.3g", work,
                  kPatternWorkLimit);
    return luaL_error(L,
                      "%s: pattern '%s' on a subject of %I bytes is too costly (%s): use fewer "
                      "'*', '+', '-' and '?' or a shorter subject (docs/lua-api.md, Sandbox)",
                      kNames[static_cast<int>(kCall)],
                      pattern_size > 60 ? "(long pattern)" : pattern,
                      static_cast<lua_Integer>(subject_size), costs);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

std::atomic<const std::atomic<bool>*> g_interrupt{nullptr};

// Formats a traceback inside a protected call (it allocates; a failure is not a panic).
struct TracebackRequest {
  lua_State* from;
  const char* message;
  std::string text;
};

int protected_traceback(lua_State* L) {
  auto* request = static_cast<TracebackRequest*>(lua_touserdata(L, 1));
  luaL_traceback(L, request->from, request->message, 0);
  request->text = lua_tostring(L, -1);
  return 0;
}

}  // namespace

const char* deterministic_tolstring(lua_State* L, int index, std::size_t* size) {
  index = lua_absindex(L, index);
  if (!shown_by_address(lua_type(L, index))) return luaL_tolstring(L, index, size);
  if (luaL_getmetafield(L, index, "__tostring") != LUA_TNIL) {
    lua_pop(L, 1);
    return luaL_tolstring(L, index, size);  // calls it
  }
  const int name_type = luaL_getmetafield(L, index, "__name");
  const char* name = name_type == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, index);
  lua_getfield(L, LUA_REGISTRYINDEX, kObjectIdsKey);
  lua_pushvalue(L, index);
  lua_Integer id = 0;
  if (lua_rawget(L, -2) == LUA_TNUMBER) {
    id = lua_tointeger(L, -1);
  } else {
    id = LuaSandbox::of(L).next_object_id();
    lua_pushvalue(L, index);
    lua_pushinteger(L, id);
    lua_rawset(L, -4);
  }
  lua_pop(L, 2);
  lua_pushfstring(L, "%s: %I", name, id);
  if (name_type != LUA_TNIL) lua_remove(L, -2);
  return lua_tolstring(L, -1, size);
}

double pattern_work(std::size_t subject_size, const char* pattern, std::size_t pattern_size,
                    bool plain, bool anchored) {
  const double starts = static_cast<double>(subject_size) + 1.0;
  const double length = static_cast<double>(std::max<std::size_t>(pattern_size, 1));
  if (plain) return length * starts;
  std::size_t i = 0;
  if (pattern_size > 0 && pattern[0] == '^') {
    anchored = true;
    i = 1;
  }
  int repeats = 0, optionals = 0;
  bool specials = false;
  while (i < pattern_size) {
    const char c = pattern[i];
    bool single = true;  // a single-character class, which a quantifier may follow
    if (c == '(' || c == ')' || (c == '$' && i + 1 == pattern_size)) {
      specials = true;
      ++i;
      continue;
    }
    if (c == '%' && i + 1 < pattern_size) {
      specials = true;
      const char d = pattern[i + 1];
      if (d == 'b') {  // %bxy: a scan to the balancing y
        ++repeats;
        i += 4;
        continue;
      }
      if (d >= '1' && d <= '9') {  // a back-reference compares a capture's length
        ++repeats;
        i += 2;
        continue;
      }
      if (d == 'f') {  // %f[set]: a frontier, followed by its set
        i += 2;
        single = false;
      } else {
        i += 2;
      }
    } else if (c == '[') {
      specials = true;
      ++i;
      if (i < pattern_size && pattern[i] == '^') ++i;
      if (i < pattern_size && pattern[i] == ']') ++i;  // a leading ] is literal
      while (i < pattern_size && pattern[i] != ']') i += pattern[i] == '%' ? 2 : 1;
      ++i;
    } else {
      if (c == '.') specials = true;
      ++i;
    }
    if (!single || i >= pattern_size) continue;
    const char quantifier = pattern[i];
    if (quantifier == '*' || quantifier == '+' || quantifier == '-') {
      specials = true;
      ++repeats;
      ++i;
    } else if (quantifier == '?') {
      specials = true;
      ++optionals;
      ++i;
    }
  }
  if (!specials && !anchored) return length * starts;  // a plain search
  // k free positions (the start, where each repetition ends) chosen in order among n + 1:
  // about (n + 1)^k / k! tries, each comparing up to m pattern bytes.
  const int free_positions = (anchored ? 0 : 1) + repeats;
  return length * std::pow(starts, free_positions) / std::tgamma(free_positions + 1.0) *
         std::pow(2.0, optionals);
}

std::string to_valid_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    out.append(text, i, length);
    i += length;
  }
  return out;
}

void set_script_interrupt(const std::atomic<bool>* flag) { g_interrupt.store(flag); }

bool interrupt_requested() {
  const std::atomic<bool>* flag = g_interrupt.load(std::memory_order_relaxed);
  return flag != nullptr && flag->load(std::memory_order_relaxed);
}

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
  // Formatting an error message may take a little past the cap.
  const std::size_t limit = self->limits_.memory_limit + (self->formatting_ ? (1u << 20) : 0);
  if (self->memory_used_ - held + new_size > limit) {
    self->memory_exceeded_ = true;
    if (self->fatal_.empty()) {
      self->fatal_ = "memory cap of " + std::to_string(self->limits_.memory_limit >> 20) +
                     " MiB exceeded (a memory bomb?)";
      // Lua calls no message handler for a memory error: the position is taken now, from
      // the running thread's frames (reading them allocates nothing).
      if (self->fatal_where_.empty() && self->running_ != nullptr)
        self->fatal_where_ = script_position(self->running_);
    }
    // The memory error itself a pcall may catch: the running thread's next instruction
    // raises the cap's (lua_sethook may be called at any point), so that nothing runs after
    // it, not even the handler's next line (other threads within kHookEvery of theirs).
    if (self->running_ != nullptr)
      lua_sethook(self->running_, &LuaSandbox::count_hook, LUA_MASKCOUNT, 1);
    return nullptr;
  }
  void* grown = std::realloc(ptr, new_size);
  if (grown != nullptr) self->memory_used_ = self->memory_used_ - held + new_size;
  return grown;
}

void LuaSandbox::count_hook(lua_State* L, lua_Debug*) {
  LuaSandbox& self = of(L);
  self.instructions_ += kHookEvery;
  if (self.fatal_.empty()) {
    if (self.closing_) {
      self.fatal_ = "the run has ended";
    } else if (interrupt_requested()) {
      self.interrupted_ = true;
      self.fatal_ = kInterrupted;
    } else if (self.instructions_ > self.limits_.instruction_budget) {
      self.fatal_ = "instruction budget of " + std::to_string(self.limits_.instruction_budget) +
                    " exceeded before the script returned (a runaway loop?)";
    } else {
      return;
    }
  }
  self.raise_fatal(L);
}

std::string LuaSandbox::script_position(lua_State* thread, int level) {
  lua_Debug frame;
  for (; lua_getstack(thread, level, &frame) != 0; ++level) {
    if (lua_getinfo(thread, "Sl", &frame) == 0) continue;
    if (frame.currentline > 0 && frame.source != nullptr && frame.source[0] == '@')
      return std::string(frame.short_src) + ":" + std::to_string(frame.currentline);
  }
  return "";
}

void LuaSandbox::raise_fatal(lua_State* L) {
  // Every instruction of this thread fails from now on: a pcall that catches the error
  // cannot go on (other threads fail within kHookEvery of their own instructions).
  lua_sethook(L, &LuaSandbox::count_hook, LUA_MASKCOUNT, 1);
  // At the script's innermost line (luaL_error's would be the caller's, or none when that
  // is a C function such as the pcall an experiment's method runs in).
  // Kept from the first raise: later ones may come after the looping function returned
  // into dosim's prelude (an experiment's pcall), where no line of the script runs.
  if (fatal_where_.empty()) fatal_where_ = script_position(L);
  // Not luaL_error: it would put the caller's position before this one (that of the line
  // calling a chunk of `load` that loops, say).
  lua_pushfstring(L, "%s%s%s", fatal_where_.c_str(), fatal_where_.empty() ? "" : ": ",
                  fatal_.c_str());
  lua_error(L);
  std::abort();  // lua_error does not return
}

int LuaSandbox::on_panic(lua_State* L) {
  // An error outside any protected call. Lua would abort() after this returns: throw
  // instead (the C++-built Lua unwinds), and never touch the state again.
  LuaSandbox& self = of(L);
  self.panicked_ = true;
  const std::string message =
      lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "a Lua error outside a call";
  throw ScriptError(self.with_fatal(message));
}

LuaSandbox::LuaSandbox(std::uint64_t seed, SandboxLimits limits) : limits_(limits) {
  state_ = lua_newstate(&LuaSandbox::allocate, this);
  if (state_ == nullptr) throw ScriptError("cannot create a Lua state");
  *static_cast<LuaSandbox**>(lua_getextraspace(state_)) = this;  // threads inherit it
  lua_atpanic(state_, &LuaSandbox::on_panic);
  open_libraries(seed);
  // Threads created later inherit the hook from the thread that creates them.
  lua_sethook(state_, &LuaSandbox::count_hook, LUA_MASKCOUNT, kHookEvery);
}

LuaSandbox::~LuaSandbox() {
  if (state_ == nullptr || panicked_) return;  // a panicked state is leaked, not closed
  // No finalizer can run (setmetatable refuses __gc); should Lua code run anyway (a __close),
  // it fails at its first instruction.
  closing_ = true;
  lua_sethook(state_, &LuaSandbox::count_hook, LUA_MASKCOUNT, 1);
  lua_close(state_);
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
  // No addresses reach the script (deterministic_tolstring()), nor Lua's hash order.
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, kObjectIdsKey);
  lua_pushcfunction(L, sandboxed_tostring);
  lua_setglobal(L, "tostring");
  lua_pushcfunction(L, ordered_pairs);
  lua_setglobal(L, "pairs");
  lua_pushcfunction(L, ordered_next);
  lua_setglobal(L, "next");
  lua_getglobal(L, "setmetatable");
  lua_pushcclosure(L, sandboxed_setmetatable, 1);
  lua_setglobal(L, "setmetatable");
  lua_getglobal(L, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_getfield(L, -1, "format");
  lua_pushcclosure(L, sandboxed_format, 1);
  lua_setfield(L, -2, "format");
  const std::pair<const char*, lua_CFunction> patterns[] = {
      {"find", bounded_pattern<PatternCall::kFind>},
      {"match", bounded_pattern<PatternCall::kMatch>},
      {"gmatch", bounded_pattern<PatternCall::kGmatch>},
      {"gsub", bounded_pattern<PatternCall::kGsub>}};
  for (const auto& [name, wrapper] : patterns) {
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, wrapper, 1);
    lua_setfield(L, -2, name);  // the string metatable's __index is this table: s:find too
  }
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
  std::string reason;
  const std::optional<std::string> text = read_input_file(path, kMaxScriptBytes, reason);
  if (!text) throw ScriptError(path + ": cannot read the script: " + reason);
  const std::string& code = *text;
  if (!code.empty() && code[0] == LUA_SIGNATURE[0])
    throw ScriptError(path + ": precompiled Lua (bytecode) is not accepted; give the source");
  load_text(code, "@" + path);
}

void LuaSandbox::load_text(const std::string& code, const std::string& name) {
  if (name.size() > 1 && name[0] == '@') {
    // What Lua calls the file in its messages: an empty chunk of the same name says.
    if (luaL_loadbufferx(state_, "", 0, name.c_str(), "t") == LUA_OK) {
      lua_Debug ar;
      lua_getinfo(state_, ">S", &ar);  // pops the chunk
      const std::string path = name.substr(1);
      if (path != ar.short_src) shortened_paths_.emplace_back(ar.short_src, path);
    } else {
      lua_pop(state_, 1);
    }
  }
  if (luaL_loadbufferx(state_, code.data(), code.size(), name.c_str(), "t") != LUA_OK) {
    std::string message = lua_tostring(state_, -1) ? lua_tostring(state_, -1) : "syntax error";
    lua_pop(state_, 1);
    throw ScriptError(with_whole_paths(message));
  }
}

void LuaSandbox::call(int nargs, int nresults) {
  lua_State* L = state_;
  const int base = lua_gettop(L) - nargs;  // the function's slot
  lua_pushcfunction(L, traceback_handler);
  lua_insert(L, base);
  begin_callback();
  lua_State* const outer = running_;
  running_ = L;
  const int status = lua_pcall(L, nargs, nresults, base);
  running_ = outer;
  lua_remove(L, base);
  if (status != LUA_OK) {
    // A string (the handler's traceback) but for a memory error, which skips the handler.
    const std::string message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error";
    lua_pop(L, 1);
    throw ScriptError(to_valid_utf8(with_fatal(message)));
  }
  if (!fatal_.empty()) throw ScriptError(fatal_message());  // caught by the script's own pcall
}

std::string LuaSandbox::error_message(lua_State* L, lua_State* from) {
  // No __tostring here: `L` may be a coroutine dead of the error, which makes no calls.
  std::string message = lua_type(L, -1) == LUA_TSTRING
                            ? without_repeated_position(lua_tostring(L, -1))
                            : error_object_text(L, -1, from, 0, false);
  // A message without a place (error("...", 0), or a level above the script) is given the
  // script's place, as an error object is: every error says FILE:LINE.
  if (lua_type(L, -1) == LUA_TSTRING && position_prefix(message, 0) == 0) {
    const std::string where = script_position(from, 0);
    if (!where.empty()) message = where + ": " + message;
  }
  lua_pop(L, 1);
  // The traceback in a protected call on the main thread (`from` may be a dead coroutine).
  TracebackRequest request{from, message.c_str(), {}};
  formatting_ = true;
  lua_pushcfunction(state_, protected_traceback);
  lua_pushlightuserdata(state_, &request);
  if (lua_pcall(state_, 1, 0, 0) == LUA_OK)
    message = request.text;
  else
    lua_pop(state_, 1);
  formatting_ = false;
  return to_valid_utf8(with_fatal(message));
}

std::string LuaSandbox::with_fatal(const std::string& message) const {
  if (fatal_.empty() || message.find(fatal_) != std::string::npos) return with_whole_paths(message);
  // Lua's own message for a failed allocation says nothing the cap's does not.
  if (memory_exceeded_ && message == "not enough memory") return fatal_message();
  return fatal_message() + "\n" + with_whole_paths(message);
}

std::string LuaSandbox::fatal_message() const {
  return with_whole_paths(fatal_where_.empty() ? fatal_ : fatal_where_ + ": " + fatal_);
}

std::string LuaSandbox::with_whole_paths(std::string message) const {
  for (const auto& [shortened, path] : shortened_paths_) {
    const std::string from = shortened + ":", to = path + ":";
    for (std::size_t at = message.find(from); at != std::string::npos;
         at = message.find(from, at + to.size()))
      message.replace(at, from.size(), to);
  }
  return message;
}

}  // namespace dosim
