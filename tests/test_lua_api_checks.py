"""What a chaos script's mistakes give (docs/lua-api.md): each an error at the calling line,
never a silent acceptance, a hang or a host file read:

- sim.sleep / sim.wait_until in a coroutine of coroutine.create are errors;
- an experiment still running at the end gets its rollbacks and the verdict error (exit 3);
- sim.apply reads no file outside the script's folder, never quotes a file that is not a
  manifest, and gives a manifest's problems with their positions;
- misspelt keys of sim.experiment, sim.detector (and watch), sim.scale, sim.shed,
  sim.set_timeout and sim.apply's options are errors, all of one call at once, in a fixed
  order, a long list cut short, in linear time;
- sim.detector's ranges, and sim.detector after the main chunk;
- sim.after with a negative delay; a canary of too many steps.
"""
import os
import tempfile
import time

import h5py

from dosim_test_util import TMP, dosim

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
SCRIPTS = tempfile.mkdtemp(prefix="dosim-ck-")
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


def test_a_negative_delay_is_an_error():
    after, _, path = run("after-negative", "\nsim.after(-5, function() end)\n")
    assert after.returncode == 2, after.stderr
    assert f"{path}:2: sim.after: a duration must be >= 0" in after.stderr, after.stderr
