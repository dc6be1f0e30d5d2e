"""A Lua script never hangs or crashes dosim (issue 13; docs/lua-api.md, Sandbox).

Each case runs `dosim run` on a tiny scenario with a hostile script and expects it to end
within seconds: exit 2 with a clear message (or 130 / 143 when a signal stops it), never a
crash, a hang or a sanitizer report:

- invalid UTF-8 in sim.log / print reaches --events and the trace as U+FFFD;
- a misused handle (another self, a metatable that raises on every read) is an error or
  harmless, never an abort;
- setmetatable refuses __gc (finalizers would run outside the budget, and after the run);
- zero-time loops (sim.at, sim.spawn with sim.sleep(0)) stop at the callback bound;
- a catastrophic pattern is refused before it runs;
- a table nested hundreds deep, or containing itself, is an error;
- SIGINT / SIGTERM stop a script that loops at one instant;
- an error caught by pcall after the budget is exceeded cannot carry on;
- a memory bomb and an error value that is not a string are reported at the script's line.
"""
import json
import os
import signal
import subprocess
import tempfile
import time

import h5py

from dosim_test_util import DOSIM, TMP, dosim

SCENARIO = """\
name: lua-robust
duration: 2m
tick: 1s
seed: 3
services:
  - {name: web, replicas: 2, capacity_rps: 300, base_latency: 5ms}
  - {name: db, replicas: 2, capacity_rps: 600, base_latency: 3ms}
dependencies:
  - {caller: web, callee: db, timeout: 1s}
traffic:
  - {name: users, entry: web, base_rps: 100}
"""

# Short paths: Lua shortens chunk names of 60 characters or more.
SCRIPTS = tempfile.mkdtemp(prefix="dosim-rb-")
SCENARIO_PATH = os.path.join(SCRIPTS, "s.yaml")
with open(SCENARIO_PATH, "w") as _out:
    _out.write(SCENARIO)


def write_script(name, text, binary=False):
    path = os.path.join(SCRIPTS, name)
    with open(path, "wb" if binary else "w") as out:
        out.write(text)
    return path


def run(name, script, extra=(), timeout=30):
    path = write_script(f"{name}.lua", script, binary=isinstance(script, bytes))
    trace = os.path.join(TMP, f"rb-{name}.h5")
    result = dosim("run", SCENARIO_PATH, "--script", path, "--out", trace, "--quiet", *extra,
                   timeout=timeout)
    assert "Sanitizer" not in result.stderr, result.stderr
    assert result.returncode in (0, 2, 3, 130, 143), (result.returncode, result.stderr)
    return result, trace


def failed_with(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stderr)
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


def test_invalid_utf8_in_a_log_line_is_replaced_before_json_and_the_trace():
    events = os.path.join(TMP, "rb-utf8-events.jsonl")
    result, trace = run("utf8", b'sim.log("\\xff\\xfe")\nprint("ok \\xc3")\n',
                        extra=["--events", events])
    assert result.returncode == 0, result.stderr
    with open(events, encoding="utf-8") as lines:  # strict: valid UTF-8 throughout
        texts = [json.dumps(json.loads(line)) for line in lines if line.strip()]
    assert any("\\ufffd\\ufffd" in text for text in texts), texts
    with h5py.File(trace, "r") as f:
        logged = list(f["script_log/text"].asstr()[()])
    assert logged == ["\ufffd\ufffd", "ok \ufffd"], logged


def test_a_handle_called_with_another_self_is_an_error():
    result, _ = run("handle_self", 'local h = sim.at(5, function() end)\nh.cancel({})\n')
    failed_with(result, "handle_self.lua:2:", "cancel: call it on its own handle")
    result, _ = run("fault_self", """
local f = sim.inject{kind = "latency", target = {service = "db"}, fixedDelay = "50ms"}
f.stop(42)
""")
    failed_with(result, "fault_self.lua:3:", "stop: call it on its own handle")


def test_a_handle_whose_metatable_raises_on_reads_does_not_abort():
    result, _ = run("handle_meta", """
local h = sim.at(5, function() sim.log("ran") end)
h.cancelled = nil
setmetatable(h, {__index = function() error("boom") end})
local f = sim.inject{kind = "latency", target = {service = "db"}, fixedDelay = "50ms"}
setmetatable(f, {__index = function() error("boom") end})
f:stop()
f:stop()
""")
    assert result.returncode == 0, result.stderr


def test_setmetatable_refuses_a_finalizer():
    result, _ = run("gc", """
setmetatable({}, {__gc = function() while true do end end})
""")
    failed_with(result, "gc.lua:2:", "__gc is not accepted")
    # A finalizer that would call the host after the run: refused the same way.
    result, _ = run("gc_late", """
local ok, err = pcall(setmetatable, {}, {__gc = function() sim.log("late") end})
sim.log(tostring(ok))
""")
    assert result.returncode == 0, result.stderr


def test_zero_time_loops_stop_at_the_callback_bound():
    for name, script in {
        "zero_at": "local function again() sim.at(sim.now(), again) end\nsim.at(10, again)\n",
        "zero_spawn": "sim.spawn(function()\n  while true do\n    sim.sleep(0)\n  end\nend)\n",
        "zero_after": "local function again() sim.after(0, again) end\nagain()\n",
    }.items():
        started = time.monotonic()
        result, _ = run(name, script)
        # At the line that scheduled the looping callback (the sim.at, sim.sleep, sim.after).
        line = {"zero_at": 1, "zero_spawn": 3, "zero_after": 1}[name]
        failed_with(result, f"{name}.lua:{line}: more than 100000 callbacks at simulated time",
                    "a zero-time loop?")
        assert time.monotonic() - started < 20, name


def test_a_catastrophic_pattern_is_refused_before_it_runs():
    for call in ['s:find(".-.-.-.-.-b")', 's:match("(.*)(.*)(.*)(.*)x")',
                 'for _ in s:gmatch("a*a*a*a*b") do end', 's:gsub(".-.-.-.-$b", "")']:
        started = time.monotonic()
        result, _ = run("pattern", f'local s = string.rep("a", 20000)\n{call}\n')
        failed_with(result, "pattern.lua:2:", "too costly")
        assert time.monotonic() - started < 10, call
    # Ordinary patterns on ordinary text are not affected.
    result, _ = run("pattern_ok", """
local line = string.rep("key=value ", 50)
local n = 0
for k, v in line:gmatch("(%w+)=(%w+)") do n = n + 1 end
assert(n == 50)
assert(line:gsub("%s+", " "):find("value", 1, true))
assert(("  x  "):match("^%s*(.-)%s*$") == "x")
""")
    assert result.returncode == 0, result.stderr
    # A plain find, the way out the message and the docs give, is linear: a 40-byte text in
    # 10 MiB was refused as too costly (Lua's own search is m·n at worst). Lua's results, init
    # and all, as lstrlib.c's str_find_aux gives them.
    result, _ = run("plain_find", """
local s = string.rep("x", 10 * 1024 * 1024) .. string.rep("y", 40)
local a, b = string.find(s, string.rep("y", 40), 1, true)
assert(a == 10 * 1024 * 1024 + 1 and b == 10 * 1024 * 1024 + 40, tostring(a))
assert(s:find(string.rep("x", 40) .. "y") == 10 * 1024 * 1024 - 39)  -- no specials: plain
local function all(...) return table.concat({...}, ",") end
assert(all(("hello"):find("l")) == "3,3")
assert(all(("hello"):find("", 10)) == "")
assert(all(("hello"):find("", 6)) == "6,5")
assert(all(("hello"):find("lo", -100, true)) == "4,5")
assert(all(("hello"):find("", -2)) == "4,3")
assert(all(("hello"):find("l", 0)) == "3,3")
assert(all(("a.b"):find(".", 1, true)) == "2,2")
assert(all(("a.b"):find(".")) == "1,1")  -- a pattern: any character
assert(("hello"):find("xyz") == nil and string.find(12345, 3) == 3)
""")
    assert result.returncode == 0, result.stderr


def test_a_scripts_globals_do_not_break_dosims_own_lua():
    """`type = "latency"` (a forgotten local), `ipairs = nil` or `pcall = nil` broke every
    hook and experiment with errors at `dosim prelude:38`, a line of no file of the user's
    (found by a new-user audit): the prelude keeps the library it was loaded with."""
    result, _ = run("globals", """
type = "latency"
ipairs = nil
pcall = nil
error = nil
local seen = 0
sim.on("tick", function() seen = seen + 1 end)
sim.experiment{title = "e", hypothesis = function() return seen >= 0 end,
               method = function() sim.sleep(5) end}
""")
    assert result.returncode == 0, result.stderr
    assert "PASS  e" in result.stdout, result.stdout
    assert "prelude" not in result.stderr


def test_deep_and_self_containing_tables_are_errors():
    result, _ = run("deep", """
local t = {service = "db"}
for i = 1, 500 do t = {t} end
sim.inject{kind = "latency", target = {service = "db"}, fixedDelay = "50ms", extra = t}
""")
    failed_with(result, "deep.lua:4:", "nested more than 64 deep")
    result, _ = run("cycle", """
local t = {service = "db"}
t.self = t
sim.inject{kind = "latency", target = t, fixedDelay = "50ms"}
""")
    failed_with(result, "cycle.lua:4:", "a table contains itself")
    result, _ = run("cycle_list", "local t = {}\nt[1] = t\nsim.deploy{service = 'web', version = 'v2', steps = t}\n")
    failed_with(result, "cycle_list.lua:3:", "a table contains itself")


def test_pcall_cannot_carry_on_after_the_budget():
    started = time.monotonic()
    result, _ = run("budget_pcall", """
sim.at(1, function()
  while true do pcall(function() while true do end end) end
end)
""", extra=["--lua-instructions", "100000"])
    failed_with(result, "instruction budget of 100000 exceeded")
    assert time.monotonic() - started < 20


def test_a_memory_bomb_and_an_error_table_in_a_coroutine_name_their_line():
    # Lua runs no message handler for a memory error, and adds no position to an error value
    # that is not a string: dosim puts the script's line before both.
    path = write_script("bomb.lua", """
sim.spawn(function()
  sim.sleep(3)
  local s = "x"
  while true do s = s .. s end
end)
""")
    result, _ = run("bomb", open(path).read(), extra=["--lua-memory", "16"])
    failed_with(result, "bomb.lua:5: memory cap of 16 MiB exceeded")
    result, _ = run("error_table", """
sim.spawn(function()
  sim.sleep(3)
  error({code = 1})
end)
""")
    failed_with(result, "error_table.lua:4: (error object is a table value)")


def interrupt(signal_number, expected):
    path = write_script("spin.lua", "sim.at(5, function() while true do end end)\n")
    trace = os.path.join(TMP, f"rb-spin-{expected}.h5")
    process = subprocess.Popen(
        [DOSIM, "run", SCENARIO_PATH, "--script", path, "--out", trace, "--quiet",
         "--lua-instructions", "1000000000000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # in the loop by then: the run itself takes milliseconds
    assert process.poll() is None, process.communicate()
    process.send_signal(signal_number)
    try:
        _, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("the signal did not stop the Lua loop")
    assert process.returncode == expected, (process.returncode, stderr)
    assert "Sanitizer" not in stderr, stderr
    with h5py.File(trace, "r") as f:  # closed, readable, marked incomplete
        assert f.attrs.get("complete") == 0, dict(f.attrs)


def test_sigint_stops_a_script_looping_at_one_instant():
    interrupt(signal.SIGINT, 130)


def test_sigterm_stops_a_script_looping_at_one_instant():
    interrupt(signal.SIGTERM, 143)
