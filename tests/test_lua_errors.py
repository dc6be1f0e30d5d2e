"""A chaos script's runtime mistakes are errors at its line, once (docs/lua-api.md):

- a Lua detector's observe returning NaN, an infinite or beyond-float32 score, or more or
  fewer scores than values is an error at the line of observe, as a Python detector's is.
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

# A short folder: Lua shortens chunk names of 60 characters or more.
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
