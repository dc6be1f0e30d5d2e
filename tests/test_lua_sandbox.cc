// The Lua sandbox of chaos scripts (scripting/lua_sandbox.h): only the allowed libraries,
// no io/os/require/dofile/loadfile/debug, text-only `load` with an explicit environment,
// bytecode refused, math.random from the seeded stream, sorted_pairs' order, the
// instruction budget and the memory cap with their messages, errors with file and line.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "scripting/lua_sandbox.h"

using dosim::LuaSandbox;
using dosim::SandboxLimits;
using dosim::ScriptError;

namespace {

// Runs `code` as a chunk named "test.lua"; returns the error message, or "" on success.
std::string run(LuaSandbox& sandbox, const std::string& code) {
  try {
    sandbox.load_text(code, "@test.lua");
    sandbox.call(0, 0);
  } catch (const ScriptError& error) {
    return error.what();
  }
  return "";
}

std::string run(const std::string& code, SandboxLimits limits = {}) {
  LuaSandbox sandbox(42, limits);
  return run(sandbox, code);
}

// The value of global `name` after running `code`, as a string.
std::string global_after(LuaSandbox& sandbox, const std::string& code, const char* name) {
  REQUIRE(run(sandbox, code) == "");
  lua_getglobal(sandbox.state(), name);
  std::string value = luaL_tolstring(sandbox.state(), -1, nullptr);
  lua_pop(sandbox.state(), 2);
  return value;
}

}  // namespace

TEST_CASE("the sandbox offers base, table, string, math, utf8 and coroutine only", "[lua]") {
  LuaSandbox sandbox(1, {});
  CHECK(global_after(sandbox,
                     "r = table.concat({type(string.format), type(math.floor), type(utf8.char), "
                     "type(coroutine.create), type(table.insert), type(pcall)}, ',')",
                     "r") == "function,function,function,function,function,function");
  for (const char* name : {"io", "os", "package", "require", "dofile", "loadfile", "debug"}) {
    INFO(name);
    CHECK(global_after(sandbox, std::string("r = type(") + name + ")", "r") == "nil");
  }
  CHECK(global_after(sandbox, "r = type(string.dump)", "r") == "nil");
}

TEST_CASE("io, os, require and dofile are errors with the script's line", "[lua]") {
  CHECK_THAT(run("local x = 1\nio.open('/etc/passwd')"),
             Catch::StartsWith("test.lua:2: attempt to index a nil value (global 'io')"));
  CHECK_THAT(run("os.exit(1)"), Catch::StartsWith("test.lua:1: attempt to index a nil value"));
  CHECK_THAT(run("require('socket')"), Catch::StartsWith("test.lua:1: attempt to call a nil"));
  CHECK_THAT(run("\n\ndofile('x.lua')"), Catch::StartsWith("test.lua:3: attempt to call a nil"));
  // A traceback follows the message.
  CHECK_THAT(run("local function f() error('boom') end\nf()"),
             Catch::Contains("test.lua:1: boom") && Catch::Contains("stack traceback:"));
}

TEST_CASE("load takes text chunks with an explicit environment only", "[lua]") {
  LuaSandbox sandbox(1, {});
  CHECK(global_after(sandbox, "r = load('return x + 1', 'c', 't', {x = 41})()", "r") == "42");
  CHECK_THAT(run("load('return 1')"), Catch::Contains("explicit environment"));
  CHECK_THAT(run("load('return 1', 'c', 'b', {})"), Catch::Contains("text chunks only"));
  CHECK_THAT(run("load('\\27Lua', 'c', 'bt', {})"), Catch::Contains("text chunks only"));
  // A chunk loaded with its own environment cannot reach the globals.
  CHECK(global_after(sandbox, "r = load('return print', 'c', 't', {})()", "r") == "nil");
}

TEST_CASE("a precompiled script file is refused", "[lua]") {
  const auto path = std::filesystem::path(DOSIM_TEST_TMP) / "bytecode.lua";
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << "\x1bLua\x54\x00";
  LuaSandbox sandbox(1, {});
  CHECK_THROWS_WITH(sandbox.load_file(path.string()), Catch::Contains("bytecode"));
}

TEST_CASE("math.random follows the seed and randomseed restarts it", "[lua]") {
  const char* draw =
      "r = table.concat({math.random(1, 1000), math.random(1, 1000), "
      "string.format('%.6f', math.random())}, ',')";
  LuaSandbox a(7, {}), b(7, {}), c(8, {});
  const std::string first = global_after(a, draw, "r");
  CHECK(global_after(b, draw, "r") == first);
  CHECK(global_after(c, draw, "r") != first);
  LuaSandbox d(7, {});
  const std::string again = global_after(
      d, "math.randomseed(3)\n" + std::string(draw) + "\nx = r\nmath.randomseed(3)\n" + draw, "r");
  CHECK(again == global_after(d, "", "x"));
  CHECK(again != first);
  CHECK_THAT(run("math.random(5, 1)"), Catch::Contains("interval is empty"));
  LuaSandbox e(7, {});
  CHECK(global_after(e,
                     "local ok = true for i = 1, 1000 do local x = math.random(3) "
                     "ok = ok and x >= 1 and x <= 3 end r = tostring(ok)",
                     "r") == "true");
}

TEST_CASE("sorted_pairs visits numbers ascending, then strings ascending", "[lua]") {
  LuaSandbox sandbox(1, {});
  CHECK(global_after(sandbox,
                     "local t = {zeta = 1, alpha = 2, [10] = 3, [2] = 4, mid = 5}\n"
                     "local keys = {} for k, v in sorted_pairs(t) do keys[#keys + 1] = "
                     "tostring(k) .. '=' .. v end r = table.concat(keys, ' ')",
                     "r") == "2=4 10=3 alpha=2 mid=5 zeta=1");
  CHECK_THAT(run("for k in sorted_pairs({[true] = 1}) do end"),
             Catch::Contains("keys must be numbers or strings"));
}

TEST_CASE("a runaway loop exhausts the instruction budget", "[lua]") {
  SandboxLimits limits;
  limits.instruction_budget = 100'000;
  CHECK_THAT(run("while true do end", limits),
             Catch::StartsWith("instruction budget of 100000 exceeded in one callback"));
  // pcall cannot swallow it: the state is done.
  CHECK_THAT(run("pcall(function() while true do end end) x = 1", limits),
             Catch::Contains("instruction budget of 100000 exceeded"));
  // Coroutines count too.
  CHECK_THAT(run("coroutine.wrap(function() while true do end end)()", limits),
             Catch::Contains("instruction budget of 100000 exceeded"));
  // A callback under budget passes, and each callback has its own budget.
  LuaSandbox sandbox(1, limits);
  CHECK(run(sandbox, "for i = 1, 10000 do end") == "");
  CHECK(run(sandbox, "for i = 1, 10000 do end") == "");
}

TEST_CASE("a memory bomb hits the memory cap", "[lua]") {
  SandboxLimits limits;
  limits.memory_limit = 8u << 20;
  CHECK_THAT(run("local t = {} for i = 1, 1e8 do t[i] = string.rep('x', 100) .. i end", limits),
             Catch::StartsWith("memory cap of 8 MiB exceeded"));
  CHECK_THAT(run("local s = 'x' while true do s = s .. s end", limits),
             Catch::StartsWith("memory cap of 8 MiB exceeded"));
}
