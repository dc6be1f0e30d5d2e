"""A chaos script's runtime mistakes are errors at its line, once (docs/lua-api.md):

- a Lua detector's observe returning NaN, an infinite or beyond-float32 score, or more or
  fewer scores than values is an error at the line of observe, as a Python detector's is;
- coroutine.yield outside sim.spawn (a callback, the main chunk, a hook, observe, a
  sim.wait_until predicate) is an error at the line of the yield;
- a yield in an experiment's method or hypothesis is the experiment's `error` verdict;
- the instruction budget inside a load()ed chunk and a C stack overflow say FILE:LINE once;
- the sim calls name themselves in their errors;
- the memory cap says its message alone;
- a --lua-instructions / --lua-memory that is no number is said to be one.
"""
import os
import tempfile

import h5py

from dosim_test_util import TMP, dosim

SCENARIO = """\
name: lua-errors
duration: 2m
tick: 1s
seed: 4
services:
  - {name: web, replicas: 2, capacity_rps: 400, base_latency: 5ms}
  - {name: db, replicas: 2, capacity_rps: 1000, base_latency: 2ms}
dependencies:
  - {caller: web, callee: db, timeout: 1s}
traffic:
  - {name: users, entry: web, base_rps: 100}
"""

# A short folder (a long one is named whole too: test_a_long_path_is_named_whole).
SCRIPTS = tempfile.mkdtemp(prefix="dosim-le-")
SCENARIO_PATH = os.path.join(SCRIPTS, "s.yaml")
with open(SCENARIO_PATH, "w") as _out:
    _out.write(SCENARIO)


def run(name, script, *options):
    path = os.path.join(SCRIPTS, f"{name}.lua")
    with open(path, "w") as out:
        out.write(script)
    trace = os.path.join(TMP, f"le-{name}.h5")
    result = dosim("run", SCENARIO_PATH, "--script", path, "--out", trace, "--quiet",
                   *options, timeout=60)
    return result, trace, path


def first_line(result):
    return result.stderr.splitlines()[0] if result.stderr else ""


# --- Lua detectors' scores -------------------------------------------------------------------

def detector(returns):
    return f"""local n = 0
sim.detector{{name = "d", watch = {{metrics = {{"rps"}}}},
             observe = function(values)
               n = n + 1
               if n < 3 then return {{0, 0}} end
               return {returns}
             end}}
"""


def test_a_lua_detector_returning_a_score_that_is_not_finite_is_an_error_at_observe():
    for returns, shown in (("{0, 0/0}", "nan"), ("{1/0, 0}", "inf"), ("{0, -1e39}", "-1e+39")):
        result, _, path = run("observe-nan", detector(returns))
        assert result.returncode == 2, (returns, result.stderr)
        series = 2 if returns.startswith("{0,") else 1
        assert first_line(result) == (
            f"{path}:3: detector 'd': observe returned a score that is not a finite 32-bit "
            f"number ({shown}) for series {series} of 2"), (returns, result.stderr)


def test_a_lua_detectors_own_error_names_the_detector_and_when():
    # An error in observe named neither the detector nor the time (a Python detector's does);
    # one in init was printed with its traceback's line breaks escaped (\n, \t).
    result, _, path = run("observe-raises", """sim.detector{name = "d", watch = {metrics = {"rps"}},
  observe = function(values, t)
    if t > 7 then error("obs boom") end
    return {0, 0}
  end}
""")
    assert result.returncode == 2, result.stderr
    assert first_line(result) == (f"{path}:3: obs boom (lua detector 'd' at simulated time 8s)")
    assert "stack traceback:" in result.stderr
    result, _, path = run("init-raises", """sim.detector{name = "d", watch = {metrics = {"rps"}},
  init = function(n, params) error("init boom") end,
  observe = function(values, t) return {0, 0} end}
""")
    assert result.returncode == 2, result.stderr
    assert first_line(result) == f"{path}:2: init boom (lua detector 'd', in init)", result.stderr
    assert "\\n" not in result.stderr


def test_a_lua_detector_returning_more_or_fewer_scores_than_values_is_an_error_at_observe():
    more, _, path = run("observe-more", detector("{0, 0, 0}"))
    assert more.returncode == 2, more.stderr
    assert first_line(more) == f"{path}:3: detector 'd': observe returned 3 scores for 2 series"
    fewer, _, path = run("observe-fewer", detector("{0}"))
    assert fewer.returncode == 2, fewer.stderr
    assert first_line(fewer) == \
        f"{path}:3: detector 'd': observe returned no number for series 2 of 2"
    fine, trace, _ = run("observe-fine", detector("{0.5, 3.4e38}"))
    assert fine.returncode == 0, fine.stderr
    with h5py.File(trace, "r") as f:
        assert f.attrs["complete"] == 1


# --- coroutine.yield where none may be -------------------------------------------------------

def test_a_yield_outside_a_coroutine_is_an_error_at_its_line():
    cases = {
        "callback": "sim.at(5, function()\n  coroutine.yield()\nend)\n",
        "main-chunk": "local x = 1\ncoroutine.yield()\n",
        "tick-hook": "sim.on('tick', function()\n  coroutine.yield()\nend)\n",
        "observe": "sim.detector{name = 'y', watch = {metrics = {'rps'}},\n"
                   "  observe = function(v) coroutine.yield() end}\n",
        "predicate": "sim.spawn(function()\n  sim.wait_until(function()\n"
                     "    coroutine.yield()\n  end)\nend)\n",
    }
    lines = {"callback": 2, "main-chunk": 2, "tick-hook": 2, "observe": 2, "predicate": 3}
    for name, script in cases.items():
        result, _, path = run(f"yield-{name}", script)
        assert result.returncode == 2, (name, result.stderr)
        # An observe's error names its detector and when (test above).
        context = " (lua detector 'y' at simulated time 1s)" if name == "observe" else ""
        assert first_line(result) == \
            f"{path}:{lines[name]}: attempt to yield from outside a coroutine{context}", \
            (name, result.stderr)


def test_a_yield_in_a_coroutine_of_sim_spawn_is_an_error_at_its_line():
    result, _, path = run("yield-spawn", "sim.spawn(function()\n  sim.sleep(1)\n"
                                         "  coroutine.yield()\nend)\n")
    assert result.returncode == 2, result.stderr
    assert first_line(result).startswith(
        f"{path}:3: coroutine.yield suspends a coroutine of coroutine.create or coroutine.wrap,"
        " not one of sim.spawn or an experiment"), result.stderr
    # A coroutine of its own inside sim.spawn yields back to the script, as in Lua.
    fine, trace, _ = run("yield-own", """sim.spawn(function()
  local co = coroutine.wrap(function() coroutine.yield(1); coroutine.yield(2) end)
  sim.log(co(), co())
end)
""")
    assert fine.returncode == 0, fine.stderr
    with h5py.File(trace, "r") as f:
        assert list(f["script_log/text"].asstr()[()]) == ["1\t2"]


def test_a_yield_in_an_experiment_is_its_error_verdict():
    result, trace, path = run("yield-experiment", """sim.experiment{title = "yields",
  hypothesis = function() return true end,
  method = function()
    coroutine.yield()
  end,
  rollbacks = function() sim.log("rolled back") end}
sim.experiment{title = "yields in its hypothesis",
  hypothesis = function() coroutine.yield() return true end,
  method = function() end}
""")
    assert result.returncode == 3, result.stderr  # an experiment failed, the run completed
    with h5py.File(trace, "r") as f:
        assert f.attrs["complete"] == 1
        verdicts = list(f["experiments/verdict"].asstr()[()])
        probes = list(f["experiments/probe"].asstr()[()])
        messages = list(f["experiments/message"].asstr()[()])
        log = list(f["script_log/text"].asstr()[()])
    assert verdicts == ["error", "error"], verdicts
    assert probes == ["method", "hypothesis before"], probes
    assert messages[0].startswith(f"{path}:4: coroutine.yield suspends a coroutine"), messages
    assert messages[1].startswith(f"{path}:8: coroutine.yield suspends a coroutine"), messages
    assert "rolled back" in log, log


# --- positions said once ---------------------------------------------------------------------

def test_the_budget_in_a_loaded_chunk_is_said_once_at_the_line_calling_it():
    result, _, path = run("budget-load", """sim.after(5, function()
  local f = load("while true do end", "inner", "t", {})
  f()
end)
""", "--lua-instructions", "100000")
    assert result.returncode == 2, result.stderr
    assert first_line(result) == (f"{path}:3: instruction budget of 100000 exceeded before "
                                  "the script returned (a runaway loop?)"), result.stderr


def test_a_c_stack_overflow_says_its_position_once():
    result, _, path = run("c-stack", "local function f() return coroutine.wrap(f)() end\nf()\n")
    assert result.returncode == 2, result.stderr
    line = first_line(result)
    assert line.startswith(f"{path}:1: "), result.stderr
    assert line.count(f"{path}:") == 1, line
    assert "stack overflow" in line, line


def test_an_error_across_nested_wraps_is_said_where_it_was_raised():
    """Each coroutine.wrap an error crosses puts its caller's position before the message:
    "s.lua:7: s.lua:5: s.lua:3: deep" reads "s.lua:3: deep", the line that raised it."""
    result, _, path = run("nested-wraps", """local a = coroutine.wrap(function()
  local b = coroutine.wrap(function()
    error("deep")
  end)
  b()
end)
a()
""")
    assert result.returncode == 2, result.stderr
    assert first_line(result) == f"{path}:3: deep", result.stderr


# --- the sim calls name themselves -----------------------------------------------------------

def test_sim_calls_name_themselves_in_their_errors():
    cases = {
        'sim.metric("nosuch", "rps")': "sim.metric: unknown service 'nosuch'",
        'sim.metric("we", "rps")': "sim.metric: unknown service 'we'; did you mean 'web'?",
        'sim.metric(5)': "sim.metric: argument 1 must be a service's name (a string), got number",
        'sim.metric("web", "rpz")': "sim.metric: unknown service metric 'rpz'; did you mean 'rps'?",
        'sim.edge_metric("web", "nope", "rps")': "sim.edge_metric: unknown service 'nope'",
        'sim.rollback("nosvc")': "sim.rollback: unknown service 'nosvc'",
        'sim.after(1e300, function() end)': "sim.after: a time must be a finite number",
        'sim.at(1/0, function() end)': "sim.at: a time must be a finite number",
        'sim.set_timeout{caller = "web", callee = "db", timeout = -1}':
            "sim.set_timeout: 'timeout' must be >= 0 (0 for none)",
    }
    for call, message in cases.items():
        result, _, path = run("call-names", f"sim.at(1, function()\n  {call}\nend)\n")
        assert result.returncode == 2, (call, result.stderr)
        assert first_line(result).startswith(f"{path}:2: {message}"), (call, result.stderr)


# --- the memory cap --------------------------------------------------------------------------

def test_the_memory_cap_is_said_alone():
    result, _, path = run("memory", "local t = {}\nfor i = 1, 1e9 do\n"
                                    "  t[i] = string.rep('x', 1024) .. i\nend\n",
                          "--lua-memory", "16")
    assert result.returncode == 2, result.stderr
    assert f"{path}:3: memory cap of 16 MiB exceeded" in first_line(result), result.stderr
    assert "not enough memory" not in result.stderr, result.stderr


# --- the options ---------------------------------------------------------------------------

def test_lua_options_that_are_no_number_are_said_to_be_none():
    for option in ("--lua-instructions", "--lua-memory"):
        result, _, _ = run("options", "sim.log('x')\n", option, "abc")
        assert result.returncode == 2, (option, result.stderr)
        assert "'abc' is not a whole number" in result.stderr, (option, result.stderr)
        assert "not in range" not in result.stderr, (option, result.stderr)


# --- string.format's own errors --------------------------------------------------------------

def test_string_format_problems_are_said_at_the_scripts_line_as_lua_says_them():
    # dosim's string.format (which refuses %p) and setmetatable (which refuses __gc) called
    # the library's from C: their errors had no FILE:LINE and named the function '?'. An
    # error of the script's own keeps its place.
    cases = {
        "fmt-int": ('sim.at(5, function()\n  local s = ("%d"):format(1.5)\nend)\n',
                    "fmt-int.lua:2: bad argument #2 to 'format' (number has no integer "
                    "representation)"),
        "fmt-spec": ('sim.at(5, function()\n  local s = string.format("%99999d", 1)\nend)\n',
                     "fmt-spec.lua:2: invalid conversion specification: '%99999d'"),
        "fmt-own": ('local t = setmetatable({}, {__tostring = function() error("boom") end})\n'
                    'sim.at(5, function()\n  local s = string.format("%s", t)\nend)\n',
                    "fmt-own.lua:1: boom"),
        # setmetatable is wrapped too (it refuses __gc)
        "setmt": ('sim.at(5, function()\n  setmetatable(1, {})\nend)\n',
                  "setmt.lua:2: bad argument #1 to 'setmetatable' (table expected, got number)"),
        "setmt-locked": ('local t = setmetatable({}, {__metatable = "locked"})\n'
                         'sim.at(5, function()\n  setmetatable(t, {})\nend)\n',
                         "setmt-locked.lua:3: cannot change a protected metatable"),
    }
    for name, (script, expected) in cases.items():
        result, _, _ = run(name, script)
        assert result.returncode == 2, result.stderr
        assert first_line(result) == os.path.join(SCRIPTS, expected), result.stderr


def test_slips_a_new_user_makes_are_named():
    # sim.on("alerts") said only the list of events; a script given as the scenario said only
    # that its text is no YAML mapping.
    result, _, _ = run("on-alerts", 'sim.on("alerts", function() end)\n')
    assert result.returncode == 2, result.stderr
    assert first_line(result).endswith("(alert, incident, escalation, change or tick); did you "
                                       "mean 'alert'?"), result.stderr
    script = os.path.join(SCRIPTS, "on-alerts.lua")
    for command in ("run", "validate"):
        given = dosim(command, script)
        assert given.returncode == 2, given.stderr
        assert (f"{script} looks like a Lua script: a scenario is YAML, and a script is given "
                f"after it with --script (dosim run SCENARIO.yaml --script {script})"
                in given.stderr), given.stderr


# --- a script in a deep folder ---------------------------------------------------------------

def test_a_long_path_is_named_whole():
    """Lua names a chunk by at most 59 characters ("..." and the path's end, a file that does
    not exist): the errors of a script in a deep folder name its whole path, in the message
    and in the traceback, for a syntax error (validate) and a callback's error (run)."""
    folder = os.path.join(SCRIPTS, "a-folder-deep-enough-for-lua-to-shorten-its-name", "scripts")
    os.makedirs(folder, exist_ok=True)
    syntax = os.path.join(folder, "syntax.lua")
    with open(syntax, "w") as out:
        out.write("local x = = 3\n")
    assert len(syntax) >= 60
    result = dosim("validate", SCENARIO_PATH, "--script", syntax)
    assert result.returncode == 2, result.stderr
    assert first_line(result) == f"{syntax}:1: unexpected symbol near '='", result.stderr
    failing = os.path.join(folder, "callback.lua")
    with open(failing, "w") as out:
        out.write("sim.at(5, function()\n  local t = nil\n  return t.x\nend)\n")
    result = dosim("run", SCENARIO_PATH, "--script", failing, "--out",
                   os.path.join(TMP, "le-long.h5"), "--quiet", timeout=60)
    assert result.returncode == 2, result.stderr
    assert first_line(result) == f"{failing}:3: attempt to index a nil value (local 't')"
    assert f"\t{failing}:3: in function <{failing}:1>" in result.stderr, result.stderr
    assert "..." not in result.stderr, result.stderr
