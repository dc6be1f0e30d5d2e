"""What a chaos script's mistakes give (docs/lua-api.md): each an error at the calling line,
never a silent acceptance, a hang or a host file read:

- sim.sleep / sim.wait_until in a coroutine of coroutine.create are errors;
- an experiment still running at the end gets its rollbacks and the verdict error (exit 3);
- a table with a gap in its list, list items beside names or a key [0] is an error, not a
  list that loses what is past the gap;
- sim.apply reads no file outside the script's folder, never quotes a file that is not a
  manifest, and gives a manifest's problems with their positions;
- misspelt keys of sim.experiment, sim.detector (and watch), sim.scale, sim.shed,
  sim.set_timeout and sim.apply's options are errors, all of one call at once, in a fixed
  order, a long list cut short, in linear time;
- sim.detector's ranges, and sim.detector after the main chunk;
- sim.after with a negative delay; a canary of too many steps;
- runtime errors (the budget inside an experiment, a coroutine yielding by itself, a
  detector returning the wrong scores) name the script's line;
- a fault stopped before its start never starts (no story line, a silent cause);
- a change a scenario would warn of (a drain restored after the run ends) is logged with
  the warning at its call.
"""
import os
import tempfile
import time

import h5py

from dosim_test_util import SOURCE_DIR, TMP, dosim

SCENARIO = """\
name: lua-checks
duration: 5m
tick: 1s
seed: 4
services:
  - {name: web, replicas: 2, capacity_rps: 300, base_latency: 5ms}
  - {name: db, replicas: 2, capacity_rps: 600, base_latency: 3ms}
dependencies:
  - {caller: web, callee: db, timeout: 1s}
traffic:
  - {name: users, entry: web, base_rps: 100}
"""

# A short folder: Lua shortens chunk names of 60 characters or more.
# Its parent is a temporary folder too: the sim.apply test writes a file beside it.
SCRIPTS = os.path.join(tempfile.mkdtemp(prefix="dosim-ck-"), "s")
os.makedirs(SCRIPTS)
SCENARIO_PATH = os.path.join(SCRIPTS, "s.yaml")
with open(SCENARIO_PATH, "w") as _out:
    _out.write(SCENARIO)


def write(name, text):
    path = os.path.join(SCRIPTS, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        out.write(text)
    return path


def run(name, script, timeout=60):
    path = write(f"{name}.lua", script)
    trace = os.path.join(TMP, f"ck-{name}.h5")
    result = dosim("run", SCENARIO_PATH, "--script", path, "--out", trace, "--quiet",
                   timeout=timeout)
    return result, trace, path


def logged(trace):
    with h5py.File(trace, "r") as f:
        return list(f["script_log/text"].asstr()[()])


def test_sleep_in_a_plain_coroutine_is_an_error_at_its_line():
    result, trace, path = run("plain-co", """
local co = coroutine.create(function()
  sim.sleep(5)
end)
sim.log(coroutine.resume(co))
""")
    assert result.returncode == 0, result.stderr
    text = logged(trace)[0]
    assert text.startswith(f"false\t{path}:3: sim.sleep suspends a coroutine of sim.spawn"), text
    wait, _, path = run("plain-wrap", "sim.spawn(function() coroutine.wrap(function()\n"
                                      "  sim.wait_until(60) end)() end)\n")
    assert wait.returncode == 2 and f"{path}:2: sim.wait_until suspends a coroutine of sim.spawn" \
        in wait.stderr, wait.stderr


def test_an_experiment_running_at_the_end_gets_its_rollbacks_and_an_error():
    result, trace, _ = run("past-end", """
sim.experiment{title = "runs past the end", method = function() sim.sleep("1h") end,
               rollbacks = function() sim.log("rolled back", sim.now()) end}
""")
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert "rolled back\t300.0" in logged(trace)
    with h5py.File(trace, "r") as f:
        e = f["experiments"]
        row = (e["title"].asstr()[0], e["verdict"].asstr()[0], e["probe"].asstr()[0],
               e["message"].asstr()[0], int(e["end_ns"][0]) // 10**9)
    assert row == ("runs past the end", "error", "method",
                   "the run ended before the method finished", 300), row


def test_apply_reads_only_manifests_in_the_scripts_folder():
    secret = write("../ck-secret.txt", "PASSWORD=hunter2\n")
    write("notes.txt", "PASSWORD=hunter2\n")
    link = os.path.join(SCRIPTS, "link.yaml")
    if not os.path.lexists(link):
        os.symlink(secret, link)
    result, trace, _ = run("apply-outside", f"""
for _, p in ipairs({{"{secret}", "../ck-secret.txt", "sub/../../ck-secret.txt", "link.yaml",
                    "nosuchdir/../link.yaml", "notes.txt"}}) do
  local ok, e = pcall(sim.apply, p)
  sim.log(e)
end
""")
    assert result.returncode == 0, result.stderr
    texts = logged(trace)
    assert "is an absolute path" in texts[0], texts
    # A missing folder before '..' once left the link after it unresolved.
    for text in texts[1:5]:
        assert "is not inside the script's folder" in text, texts
    assert "not a Kubernetes manifest" in texts[5], texts
    assert not any("hunter2" in text for text in texts), texts


def test_apply_gives_a_manifests_problems_with_their_positions():
    write("bad.yaml", """\
apiVersion: chaos-mesh.org/v1alpha1
kind: NetworkChaos
metadata: {name: bad}
spec:
  action: delay
  mode: all
  selector:
    labelSelectors: {app: nosuch}
  delay:
    latency: -300ms
""")
    result, _, path = run("apply-bad", "sim.apply('bad.yaml')")
    assert result.returncode == 2, result.stderr
    bad = os.path.join(SCRIPTS, "bad.yaml")
    assert f"{path}:1: sim.apply: 2 problems in the manifest:" in result.stderr, result.stderr
    assert f"{bad}:8:5: " in result.stderr and f"{bad}:10:14: " in result.stderr, result.stderr


def test_a_manifest_applies_again_once_deleted_and_not_while_applied():
    # kubectl apply after kubectl delete makes the experiment anew: new faults, names with
    # the first free suffix; while it is still applied, applying it again is an error.
    write("kill.yaml", """\
apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: kill-db}
spec:
  action: pod-failure
  mode: one
  selector:
    labelSelectors: {app: db}
  duration: 30s
""")
    result, trace, path = run("apply-again", """
sim.spawn(function()
  local first = sim.apply("kill.yaml")
  local ok, e = pcall(sim.apply, "kill.yaml")
  sim.log(e)
  sim.sleep(40)  -- its 30 s are over: applied again
  local second = sim.apply("kill.yaml")
  local ok2, e2 = pcall(sim.apply, "kill.yaml")  -- kill-db-2 is still applied
  sim.log(e2)
  sim.sleep(10)
  second:stop()  -- deleted: applied a third time
  local third = sim.apply("kill.yaml", {duration = "10s"})
  sim.log(#first.faults, #second.faults, #third.faults)
end)
""")
    assert result.returncode == 0, result.stderr
    texts = logged(trace)
    assert "sim.apply: the manifest makes fault 'kill-db', and a fault of that name has " \
        "not ended" in texts[0], texts
    assert "sim.apply: the manifest makes fault 'kill-db', and its application 'kill-db-2' " \
        "has not ended" in texts[1], texts
    assert texts[2] == "1\t1\t1", texts
    with h5py.File(trace, "r") as f:
        inc = f["truth/incidents"]
        names = [n.decode() for n in inc["name"][:]]
        assert names == ["kill-db", "kill-db-2", "kill-db-3"], names
        starts = [int(t) // 10**9 for t in inc["start_ns"][:]]
        ends = [int(t) // 10**9 for t in inc["end_ns"][:]]
        assert starts == [0, 40, 50] and ends == [30, 50, 60], (starts, ends)


def test_misspelt_keys_are_errors():
    result, trace, path = run("keys", """
for _, f in ipairs({
  function() sim.experiment{title = "x", method = function() end, rollback = function() end} end,
  function() sim.experiment{title = "x", method = 5, bogus = true} end,
  function() sim.scale{service = "web", replicas = 2, bogus = 1} end,
  function() sim.shed{service = "web", percent = 5, bogus = 1} end,
  function() sim.set_timeout{caller = "web", callee = "db", timeout = "1s", bogus = 1} end,
  function() sim.apply("bad.yaml", {dur = "5m"}) end,
  function() sim.detector{name = "d", watch = {metrics = {"rps"}, bogus = 2},
                          observe = function(v) return v end, treshold = 5} end,
  function() sim.inject{kind = "latency", target = {service = "db"}, fixedDelay = "1s",
                        ff = 1, aa = 2, cc = 3, bb = 4} end,
}) do
  local ok, e = pcall(f)
  sim.log(e)
end
""")
    assert result.returncode == 0, result.stderr
    texts = logged(trace)
    assert texts[0] == f"{path}:3: sim.experiment: unknown key 'rollback'; did you mean 'rollbacks'?"
    assert texts[1] == f"{path}:4: sim.experiment: unknown key 'bogus'; 'method' must be a function"
    assert texts[2] == f"{path}:5: sim.scale: unknown key 'bogus'"
    assert texts[3] == f"{path}:6: sim.shed: unknown key 'bogus'"
    assert texts[4] == f"{path}:7: sim.set_timeout: unknown key 'bogus'"
    assert texts[5] == f"{path}:8: sim.apply: unknown key 'dur' in its options; did you mean 'duration'?"
    assert texts[6] == (f"{path}:9: sim.detector: unknown key 'treshold'; did you mean "
                        "'threshold'?; unknown key 'bogus' in watch"), texts[6]
    # In byte order, not Lua's hash order: the same message in every run.
    assert texts[7].endswith("unknown key 'aa' in fault; unknown key 'bb' in fault; "
                             "unknown key 'cc' in fault; unknown key 'ff' in fault"), texts[7]


def test_many_unknown_keys_are_listed_briefly_and_quickly():
    began = time.monotonic()
    result, trace, _ = run("many-keys", """
local t = {kind = "latency", target = {service = "db"}, fixedDelay = "1s"}
for i = 1, 40000 do t["k" .. i] = i end
local ok, e = pcall(sim.inject, t)
sim.log(e)
t = {service = "web", replicas = 2}
for i = 1, 40000 do t["k" .. i] = i end
ok, e = pcall(sim.scale, t)
sim.log(e)
""")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - began < 20
    for text in logged(trace):
        assert text.count("unknown key '") == 20 and "and 39980 more unknown keys" in text, text


def test_times_past_tiny_and_not_a_number_are_said_in_words():
    """Found by a new-user audit: sim.at(-1e300) was refused where the docs say a past time
    runs now; sim.every(1e-12) said "the period must be > 0" of a positive period (under a
    nanosecond); a NaN duration was quoted as printf's '-nan' (its sign depends on the
    platform)."""
    result, trace, _ = run("past-times", """
sim.at(-1e300, function() sim.log("far past", sim.now()) end)
sim.at(math.mininteger, function() sim.log("min int", sim.now()) end)
""")
    assert result.returncode == 0, result.stderr
    assert logged(trace) == ["far past\t0.0", "min int\t0.0"], logged(trace)
    for script, said in (
            ("sim.every(1e-12, function() end)",
             "sim.every: the period must be at least 1 ns (times are whole nanoseconds)"),
            ('sim.inject{kind = "latency", target = {service = "db"}, fixedDelay = 0/0}',
             "for 'fixedDelay', got '.nan'"),
            ('sim.inject{kind = "error", target = {service = "db"}, percent = -1/0}',
             "expected a finite number for 'percent', got '-.inf'")):
        result, _, path = run("tiny-times", script + "\n")
        assert result.returncode == 2 and f"{path}:1: " in result.stderr and said in result.stderr, \
            (script, result.stderr)


def test_an_experiment_title_is_one_line():
    """A title with a line break split the printed verdict line; "" was accepted."""
    for title in ('"a\\nb"', '""'):
        result, _, path = run("title", f"sim.experiment{{title = {title}, method = function() end}}\n")
        assert result.returncode == 2, result.stderr
        assert (f"{path}:1: sim.experiment: 'title' must not be empty nor hold control "
                "characters") in result.stderr, result.stderr


def test_detector_ranges_and_place():
    result, _, path = run("detector-range", """
sim.detector{name = "d", threshold = -1, ["for"] = -5, observe = function(v) return v end,
             watch = {family = "nope", metrics = {"rps"}, services = {"zzz"}}}
""")
    assert result.returncode == 2, result.stderr
    assert (f"{path}:2: sim.detector: 'threshold' must be a number > 0; 'for' must be >= 0; "
            "'family' must be service, edge or endpoint; unknown service 'zzz'") \
        in result.stderr, result.stderr
    # Without watch, `for` is still checked, and said not to apply: a scenario's detector of
    # the kind gives its own `for:` (a negative one loaded silently before).
    kind, _, path = run("detector-for-kind", """
sim.detector{name = "k", ["for"] = -1, observe = function(v) return v end}
""")
    assert kind.returncode == 2, kind.stderr
    assert (f"{path}:2: sim.detector: 'for' must be >= 0; 'for' applies with 'watch'; a "
            "scenario's detector of this kind gives its own 'for:'") in kind.stderr, kind.stderr
    late, _, path = run("detector-late", """
sim.at(10, function()
  sim.detector{name = "late", watch = {metrics = {"rps"}}, observe = function(v) return v end}
end)
""")
    assert late.returncode == 2, late.stderr
    assert f"{path}:3: sim.detector: detectors are declared in the script's main chunk" \
        in late.stderr, late.stderr


def test_a_watching_detector_named_as_the_scenarios_is_an_error_at_its_line():
    """validate said ok and run failed at the trace (`cannot write trace: NAME: name already
    exists`, no line) for a Lua detector with watch named as a scenario's detector, of its
    default set too (found by a new-user audit). Without watch the name is a kind: allowed."""
    for name in ("errors-above-10pct", "cpu-above-80pct"):
        path = write("detector-taken.lua", f"""
sim.detector{{name = "{name}", watch = {{metrics = {{"rps"}}}}, observe = function(v) return v end}}
""")
        checked = dosim("validate", SCENARIO_PATH, "--script", path)
        assert checked.returncode == 2, checked.stderr
        assert (f"{path}:2: sim.detector: '{name}' is a detector of the scenario (of its default "
                "set): a detector that watches needs a name of its own") in checked.stderr, \
            checked.stderr
    kind = write("detector-kind.lua",
                 'sim.detector{name = "errors-above-10pct", observe = function(v) return v end}\n')
    checked = dosim("validate", SCENARIO_PATH, "--script", kind)
    assert checked.returncode == 0, checked.stderr


def test_a_detector_name_the_trace_cannot_hold_is_an_error_of_validate_too():
    # /detectors/name is a dataset and /detectors/<name> a group: "name", "." and "a/b"
    # cannot be a detector's group, as in a scenario's detectors:.
    for name in ("name", ".", "a/b"):
        path = write("detector-name.lua", f"""
sim.detector{{name = "{name}", watch = {{metrics = {{"rps"}}}}, observe = function(v) return v end}}
""")
        for command in ("validate", "run"):
            args = [command, SCENARIO_PATH, "--script", path]
            if command == "run":
                args += ["--out", os.path.join(TMP, "ck-detector-name.h5"), "--quiet"]
            result = dosim(*args)
            assert result.returncode == 2, (name, command, result.stderr)
            assert f"{path}:2: sim.detector: detector name '{name}' is not allowed" \
                in result.stderr, (name, command, result.stderr)


def test_an_outage_names_one_place():
    for args in ("duration = 1", "region = 'r', zone = 'z', duration = 1"):
        result, _, path = run("outage-place", f"\nsim.outage{{{args}}}\n")
        assert result.returncode == 2, result.stderr
        assert f"{path}:2: sim.outage: give one of 'region' and 'zone'" in result.stderr, \
            result.stderr


def test_a_negative_delay_is_an_error():
    after, _, path = run("after-negative", "\nsim.after(-5, function() end)\n")
    assert after.returncode == 2, after.stderr
    assert f"{path}:2: sim.after: a duration must be >= 0" in after.stderr, after.stderr


def test_a_canary_of_too_many_steps_is_an_error():
    canary, _, path = run("canary-steps", """
local steps = {}
for i = 1, 1001 do steps[i] = {weight = 1, pause = 1} end
sim.deploy{service = "web", version = "v2", strategy = "canary", steps = steps}
""")
    assert canary.returncode == 2 and "a canary has at most 1000 steps, got 1001" in canary.stderr
    huge, _, path = run("canary-huge", """
local steps = {}
for i = 1, 200000 do steps[i] = {weight = 1, pause = 1} end
sim.deploy{service = "web", version = "v2", strategy = "canary", steps = steps}
""")
    assert huge.returncode == 2, huge.stderr
    assert "sim.deploy: the table holds more than 100000 values" in huge.stderr, huge.stderr


def test_runtime_errors_name_the_scripts_line():
    budget, _, path = run("budget-in-method", """
sim.experiment{title = "runaway", method = function()
  while true do end
end}
""")
    assert budget.returncode == 2, budget.stderr
    assert f"{path}:3: instruction budget of 50000000 exceeded" in budget.stderr, budget.stderr
    yielded, _, path = run("yields", "sim.spawn(function()\n  coroutine.yield()\nend)\n")
    assert yielded.returncode == 2, yielded.stderr
    assert f"{path}:2: coroutine.yield suspends a coroutine of coroutine.create or " \
        "coroutine.wrap, not one of sim.spawn or an experiment" in yielded.stderr, yielded.stderr
    observe, _, path = run("observe-wrong", """
sim.detector{name = "d1", watch = {metrics = {"rps"}},
             observe = function(values)
               return {}
             end}
""")
    assert observe.returncode == 2, observe.stderr
    assert f"{path}:3: detector 'd1': observe returned no number for series 1 of 2" \
        in observe.stderr, observe.stderr


def test_an_injected_fault_without_duration_lasts_from_its_start_to_the_end():
    # docs/lua-api.md: `duration` defaults to the rest of the run (it was counted from the
    # injection, so a fault starting later ran past the end of the run).
    result, trace, _ = run("inject-later", """
sim.inject{name = "later", kind = "error", target = {service = "db"}, percent = 50,
           start = "2m"}
""")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace, "r") as f:
        inc = f["truth/incidents"]
        assert int(inc["start_ns"][0]) == 120 * 10**9
        assert int(inc["end_ns"][0]) == 300 * 10**9  # the scenario's 5m


def test_a_drain_restored_after_the_end_is_logged_with_the_scenarios_warning():
    # The YAML `changes:` entry warns that its restore never happens; the same from Lua
    # loaded silently (docs/lua-api.md, sim.drain).
    path = write("drain-late.lua", "sim.at(600, function()\n"
                 "  sim.drain{region = 'eu-west', shift = '2m', restore = '5h'}\nend)\n")
    trace = os.path.join(TMP, "ck-drain-late.h5")
    result = dosim("run", SOURCE_DIR / "scenarios" / "regional-failover.yaml", "--script", path,
                   "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    lines = logged(trace)
    assert any(line.startswith(f"{path}:2: sim.drain: warning: change ") and
               "restores at 5h" in line and "never happens" in line for line in lines), lines
    # --strict makes it the call's error, in a run and in validate (it was logged, exit 0).
    strict = dosim("run", SOURCE_DIR / "scenarios" / "regional-failover.yaml", "--script", path,
                   "--out", trace, "--quiet", "--strict")
    assert strict.returncode == 2, strict.stderr
    assert f"{path}:2: sim.drain: change " in strict.stderr and "--strict" in strict.stderr
    validated = dosim("validate", SOURCE_DIR / "scenarios" / "regional-failover.yaml",
                      "--script", path, "--strict")
    assert validated.returncode == 0, validated.stderr  # the call is in a callback: not run
    main_chunk = write("drain-late-main.lua",
                       "sim.drain{region = 'eu-west', shift = '2m', restore = '5h'}\n")
    validated = dosim("validate", SOURCE_DIR / "scenarios" / "regional-failover.yaml",
                      "--script", main_chunk, "--strict")
    assert validated.returncode == 2, validated.stderr
    assert f"{main_chunk}:1: sim.drain: change " in validated.stderr
    # Without --strict, validate lists the main chunk's warning with the scenario's (it said
    # "ok" and nothing else: the warning was only in a log that validate does not show).
    validated = dosim("validate", SOURCE_DIR / "scenarios" / "regional-failover.yaml",
                      "--script", main_chunk)
    assert validated.returncode == 0, validated.stderr
    assert f"{main_chunk}:1: warning: sim.drain: change " in validated.stderr, validated.stderr


def test_a_main_chunk_that_fails_shows_what_it_logged_first():
    # The probe that runs the main chunk before the run kept its log lines to itself: a
    # user debugging the error with sim.log saw only the error.
    path = write("log-then-fail.lua", 'sim.log("before the error")\nerror("boom")\n')
    result = dosim("run", SCENARIO_PATH, "--script", path, "--out",
                   os.path.join(TMP, "ck-log-then-fail.h5"))
    assert result.returncode == 2, result.stderr
    assert "LOG    before the error" in result.stderr, result.stderr
    assert result.stderr.index("before the error") < result.stderr.index(f"{path}:2: boom")


def test_a_list_with_a_gap_or_named_keys_beside_its_items_is_an_error():
    cases = {
        'services = {[1] = "web", [3] = "db"}': "a list with a gap: no item [2] before [3]",
        'services = {"db", x = 1}': "a table mixes list items ([1], [2], ...) and named keys",
        'services = {[0] = "web", "db"}': "table keys must be names or a list's 1..n, got [0]",
    }
    for number, (services, message) in enumerate(cases.items()):
        result, _, path = run(f"gap-{number}",
                              f'sim.config{{name = "c", version = "v", {services}}}\n')
        assert result.returncode == 2, result.stderr
        assert f"{path}:1: sim.config: {message}" in result.stderr, result.stderr
    result, trace, _ = run("no-gap", 'sim.config{name = "c", version = "v", services = {"web", "db"}}')
    assert result.returncode == 0, result.stderr


def test_a_fault_stopped_before_its_start_never_starts():
    path = write("early-stop.lua", """
local f = sim.inject{name = "future", kind = "error", target = {service = "web"}, start = 100,
                     duration = 60, percent = 50}
sim.at(50, function() f:stop() end)
""")
    trace = os.path.join(TMP, "ck-early-stop.h5")
    result = dosim("run", SCENARIO_PATH, "--script", path, "--out", trace)
    assert result.returncode == 0, result.stderr
    assert "FAULT  error on web (future)" not in result.stdout, result.stdout
    with h5py.File(trace, "r") as f:
        i = f["truth/incidents"]
        assert i["name"].asstr()[0] == "future"
        assert i["silent"][0] == 1 and i["start_ns"][0] == i["end_ns"][0] == 100 * 10**9
        errors = f["metrics/service/error_ratio"][()]
    assert errors.max() == 0, errors.max()


def test_a_scripts_numbers_are_seconds_without_a_bare_number_warning():
    # docs/lua-api.md: times are seconds; a share in percent below 1 is still warned of.
    result, trace, _ = run("seconds", """
sim.config{services = {"web"}, version = "c1", at = 200, revert = 250.5}
sim.flag{flag = "f", services = {"web"}, steps = {{at = 100, percent = 0.5}}}
""")
    assert result.returncode == 0, result.stderr
    texts = logged(trace)
    assert not any("bare number" in text for text in texts), texts
    assert any("'percent' is 0.5: that is half of one percent" in text for text in texts), texts


def test_a_change_the_run_refuses_is_an_error_of_its_call():
    # docs/lua-api.md: every sim call's own error starts with its name.
    result, _, path = run("deploy-past", 'sim.at(100, function()\n'
                                         '  sim.deploy{service = "web", version = "v2", at = 50}\n'
                                         'end)\n')
    assert result.returncode == 2, result.stderr
    assert f"{path}:2: sim.deploy: change 'change-0': it starts (50s) before now (1m40s)" \
        in result.stderr, result.stderr


def test_validate_takes_the_scripts_limits_as_run_does():
    # A main chunk of about 90 million instructions: past validate's default budget as past
    # run's, within both given a larger one.
    path = write("heavy.lua", "local x = 0\nfor i = 1, 30000000 do x = x + i end\n")
    default = dosim("validate", SCENARIO_PATH, "--script", path)
    assert default.returncode == 2 and "instruction budget of 50000000 exceeded" in default.stderr, \
        default.stderr
    larger = dosim("validate", SCENARIO_PATH, "--script", path, "--lua-instructions", "200000000")
    assert larger.returncode == 0, larger.stderr
    assert dosim("validate", SCENARIO_PATH, "--lua-memory", "0").returncode == 2


def test_a_script_that_fails_mid_run_leaves_its_log_in_the_trace():
    # docs/trace-format.md: the rows so far, the script's log and source up to its error.
    result, trace, _ = run("late-error", 'sim.log("hello")\n'
                                         'sim.at(100, function() sim.log("about to fail");'
                                         ' error("late") end)\n')
    assert result.returncode == 2, result.stderr
    with h5py.File(trace, "r") as f:
        assert f.attrs["complete"] == 0
        assert list(f["script_log/text"].asstr()[()]) == ["hello", "about to fail"]
        assert "meta/script_lua" in f and "truth" not in f


def test_sleep_under_a_library_call_in_sim_spawn_says_why_it_cannot_suspend():
    result, _, path = run("sleep-in-sort", "sim.spawn(function()\n"
                                           "  table.sort({3, 2, 1}, function(a, b)\n"
                                           "    sim.sleep(1) return a < b end)\n"
                                           "end)\n")
    assert result.returncode == 2, result.stderr
    assert f"{path}:3: sim.sleep cannot suspend inside a function that Lua's library calls " \
           "(table.sort's comparator" in result.stderr, result.stderr
    top, _, path = run("sleep-top", "sim.sleep(1)\n")
    assert f"{path}:1: sim.sleep suspends a coroutine: call it inside sim.spawn" in top.stderr, \
        top.stderr


def test_an_experiments_error_value_is_said_as_outside_an_experiment():
    result, trace, _ = run("error-values", """
sim.experiment{title = "table", method = function() error({code = 1}) end}
sim.experiment{title = "custom", method = function()
  error(setmetatable({}, {__tostring = function() return "custom text" end})) end}
""")
    assert result.returncode == 3, result.stderr
    with h5py.File(trace, "r") as f:
        messages = list(f["experiments/message"].asstr()[()])
    assert messages == ["(error object is a table value)", "custom text"], messages


def test_a_nul_in_script_text_is_one_replacement_character_everywhere():
    # The terminal's line stopped at the NUL, /script_log kept it inside a NUL-padded string
    # (C readers cut it short) and an experiment's title was cut at it.
    path = write("nul.lua", 'sim.log("a", "b\\0c", "after")\n'
                 'sim.experiment{title = "t\\0itle", method = function() end}\n')
    trace = os.path.join(TMP, "ck-nul.h5")
    result = dosim("run", SCENARIO_PATH, "--script", path, "--out", trace)
    assert result.returncode == 0, result.stderr
    assert "a\tb\ufffdc\tafter" in result.stderr, result.stderr  # the LOG line
    assert "a\tb\ufffdc\tafter" in logged(trace)
    with h5py.File(trace, "r") as f:
        assert f["experiments/title"].asstr()[0] == "t\ufffditle"


def test_an_injected_fault_is_logged_with_the_scenarios_warnings_and_strict_refuses_it():
    # A fault in `faults:` that ends after the scenario warns so; from sim.inject it was
    # taken silently (docs/lua-api.md: checked as the scenario's entry). (A number is seconds
    # in Lua, not a bare number to warn of.)
    path = write("inject-bare.lua", "sim.at(60, function()\n"
                 "  sim.inject{kind = 'error', target = {service = 'db'}, percent = 50,"
                 " duration = '1h'}\nend)\n")
    trace = os.path.join(TMP, "ck-inject-bare.h5")
    # A scenario without warnings of its own, which --strict would make errors first.
    clean = write("inject-clean.yaml", "name: clean\nduration: 5m\nservices:\n"
                  "  - {name: db, replicas: 2, capacity_rps: 200, base_latency: 10ms}\n"
                  "traffic:\n  - {entry: db, base_rps: 50}\n")
    result = dosim("run", clean, "--script", path, "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    lines = logged(trace)
    assert any(line.startswith(f"{path}:2: sim.inject: warning: fault ") and
               "after the scenario's end (5m)" in line for line in lines), lines
    strict = dosim("run", clean, "--script", path, "--out", trace, "--quiet", "--strict")
    assert strict.returncode == 2, strict.stderr
    assert f"{path}:2: sim.inject: " in strict.stderr and "after the scenario's end" in \
        strict.stderr, strict.stderr


def test_a_missing_name_or_a_wrong_argument_is_the_calls_own_error():
    # They were Lua's "bad argument #-1 to 'scale' (string expected, got nil)": no sim., an
    # argument number of -1, and no word of the missing key (docs/lua-api.md: every sim call's
    # own error starts with its name).
    cases = {
        "sim.scale{replicas = 2}": "sim.scale: missing key 'service' (a service's name)",
        "sim.shed{percent = 1}": "sim.shed: missing key 'service' (a service's name)",
        "sim.set_timeout{callee = 'db', timeout = 1}":
            "sim.set_timeout: missing key 'caller' (a service's name)",
        "sim.scale{service = 5, replicas = 1}":
            "sim.scale: 'service' must be a service's name (a string), got number",
        "sim.scale(5)": "sim.scale: argument 1 must be a table of its keys ({key = value, ...}), "
                        "got number",
        "sim.deploy()": "sim.deploy: argument 1 must be a table of its keys",
        "sim.revert()": "sim.revert: argument 1 must be a change's name (a string), got no value",
        "sim.apply()": "sim.apply: argument 1 must be a manifest's path (a string), got no value",
        "sim.deploy{service = 'db', version = 'v2', kind = 'feature-flag'}":
            "sim.deploy: unknown key 'kind' (sim.deploy makes a deployment change",
        "sim.config{services = {'db'}, version = 'c2', kind = 'deployment'}":
            "sim.config: unknown key 'kind'",
    }
    for i, (line, expected) in enumerate(cases.items()):
        result, _, path = run(f"own-error-{i}", line + "\n")
        assert result.returncode == 2, (line, result.stderr)
        assert f"{path}:1: {expected}" in result.stderr, (line, result.stderr)
        assert "bad argument" not in result.stderr, result.stderr


def test_a_number_raised_is_said_as_its_value():
    # lua.c says a number error object as its text; it read "(error object is a number value)".
    result, _, path = run("error-number", "sim.at(10, function() error(5) end)\n")
    assert result.returncode == 2, result.stderr
    assert f"{path}:1: 5\n" in result.stderr, result.stderr


def test_a_script_detectors_watch_is_checked_as_a_scenarios():
    result, _, path = run("watch-typo", """sim.detector{name = 'd', observe = function() return 0 end,
  watch = {family = 'service', metrics = {'rps'}, services = {'wbe'}}}
""")
    assert result.returncode == 2, result.stderr
    assert f"{path}:1: sim.detector: unknown service 'wbe'; did you mean 'web'?" in result.stderr
    # No endpoint declared: it watches no series, as the scenario's detector is told.
    script = """sim.detector{name = 'ep', observe = function() return 0 end,
  watch = {family = 'endpoint', metrics = {'rps'}}}
"""
    result, trace, path = run("watch-nothing", script)
    assert result.returncode == 0, result.stderr
    assert any(f"{path}:1: sim.detector: warning: detector 'ep' watches no series" in line
               for line in logged(trace)), logged(trace)
    strict = dosim("run", SCENARIO_PATH, "--script", path, "--out", trace, "--quiet", "--strict")
    assert strict.returncode == 2 and "watches no series" in strict.stderr, strict.stderr


def test_a_deployment_over_a_rollout_warns_as_in_a_scenario():
    # The scenario's `changes:` warns of a second rollout of a service while one is under way;
    # sim.deploy did not (and --strict let it through).
    consistent = SCENARIO.replace("capacity_rps: 300, base_latency: 5ms",
                                  "capacity_rps: 200, base_latency: 5ms").replace(
        "capacity_rps: 600, base_latency: 3ms", "capacity_rps: 1000, base_latency: 3ms")
    scenario = write("rolling.yaml", consistent + "changes:\n"
                     "  - {kind: deployment, service: web, version: v2, at: 0s}\n")
    path = write("over.lua", "sim.at(1, function() sim.deploy{service = 'web', version = 'v3'} end)\n")
    trace = os.path.join(TMP, "ck-over.h5")
    result = dosim("run", scenario, "--script", path, "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    assert any(f"{path}:1: sim.deploy: warning: deployment 'change-1' of web starts at 1s while "
               "deployment 'change-0' is still rolling out" in line for line in logged(trace)), \
        logged(trace)
    strict = dosim("run", scenario, "--script", path, "--out", trace, "--quiet", "--strict")
    assert strict.returncode == 2 and "still rolling out" in strict.stderr, strict.stderr


def test_lua_instructions_take_the_limit_as_the_docs_write_it():
    path = write("tiny.lua", "sim.log('hi')\n")
    trace = os.path.join(TMP, "ck-tiny.h5")
    result = dosim("run", SCENARIO_PATH, "--script", path, "--out", trace, "--quiet",
                   "--lua-instructions", "1e12")
    assert result.returncode == 0, result.stderr
    for bad in ("1.5e3x", "2e12", "1e3.5"):
        result = dosim("run", SCENARIO_PATH, "--script", path, "--out", trace, "--quiet",
                       "--lua-instructions", bad)
        assert result.returncode == 2, (bad, result.stderr)


def test_a_manifest_that_is_the_runs_trace_is_never_replaced():
    """--out naming the file sim.apply reads: the run stops at that line, pcall or not, and
    writes no trace (the trace replaced the manifest, exit 0)."""
    manifest = write("go.yaml", """\
apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: kill-web}
spec: {action: pod-kill, mode: one, selector: {labelSelectors: {app: web}}}
""")
    original = open(manifest, "rb").read()
    script = write("claims.lua", 'sim.at(60, function()\n  pcall(sim.apply, "go.yaml")\nend)\n')
    result = dosim("run", SCENARIO_PATH, "--script", script, "--out", manifest, "--quiet",
                   timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"{script}:2: sim.apply: 'go.yaml' is the run's trace (--out)" in result.stderr, \
        result.stderr
    assert "the trace up to the error" not in result.stderr, result.stderr
    assert open(manifest, "rb").read() == original
    assert not [f for f in os.listdir(SCRIPTS) if f.startswith(".go.yaml")]
