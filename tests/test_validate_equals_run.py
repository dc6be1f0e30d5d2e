"""`dosim validate` reports exactly what `dosim run` would report before simulating.

- Every scenario we ship or test (scenarios/, tests/data/scenarios/, tests/loader/): validate
  exits 0 exactly when run does not exit 2, and when validate exits 2, run exits 2 with the
  same diagnostic lines on stderr (the closing "N problems" line aside). Every one of them
  is run in full: all together they take about 10 s (ecommerce and noop, a simulated week
  each, about 2.5 s apiece), well under a minute on 2 cores.
- Problems found only by resolving the run (an unknown detector kind, an unknown parameter,
  a missing lstm model, a missing script, a script whose main chunk fails): validate exits 2
  with the message at its position, run exits 2 with the same lines and leaves no complete
  trace.
- Warnings: validate and run print them and exit 0; --strict makes both exit 2.
- A failed experiment is not a validation problem: validate 0, run 3.
- --seed outside [0, 1e18] exits 2 naming the seed; 1e18 itself runs.
CTest runs it with DOSIM_BIN, DOSIM_SOURCE_DIR and DOSIM_TEST_TMP.
"""
import os
import re

import h5py
import pytest

import dosim_test_util
from dosim_test_util import SOURCE_DIR, dosim

TMP = dosim_test_util.TMP / "validate_equals_run"
TMP.mkdir(parents=True, exist_ok=True)

# validate's "2 problems, 1 warning" and run's "2 problems": counts, not diagnostics.
SUMMARY = re.compile(r"^\d+ problems?(, \d+ warnings?)?$")

SCENARIOS = sorted([*SOURCE_DIR.glob("scenarios/*.yaml"),
                    *SOURCE_DIR.glob("tests/data/scenarios/*.yaml"),
                    *SOURCE_DIR.glob("tests/loader/*.yaml")])

MINIMAL = """\
name: t
duration: 10m
services: [{name: web}]
"""


def diagnostic_lines(stderr):
    """The diagnostics printed on stderr (a Lua traceback's lines included), in order."""
    return [line for line in stderr.splitlines() if line.strip() and not SUMMARY.match(line)]


def trace_is_complete(path):
    """Whether `path` is a trace marked complete (a missing or unreadable file is not)."""
    if not os.path.exists(path):
        return False
    try:
        with h5py.File(path, "r") as f:
            return int(f.attrs.get("complete", 0)) == 1
    except OSError:
        return False


def write(name, text):
    path = TMP / name
    path.write_text(text)
    return path


def validate_and_run(name, scenario, *extra, cwd=None):
    """Runs validate and run (quiet, into a fresh trace) with the same extra arguments."""
    out = TMP / (name + ".h5")
    if out.exists():
        out.unlink()
    validated = dosim("validate", scenario, *extra, cwd=cwd)
    ran = dosim("run", "--quiet", "--out", out, scenario, *extra, cwd=cwd)
    return validated, ran, out


def assert_agree(validated, ran):
    assert validated.returncode in (0, 2), validated.stderr
    if validated.returncode == 0:
        assert ran.returncode != 2, f"validate passed, run failed:\n{ran.stderr}"
    else:
        assert ran.returncode == 2, (
            f"validate failed, run exited {ran.returncode}:\n{validated.stderr}")
    assert diagnostic_lines(ran.stderr) == diagnostic_lines(validated.stderr), (
        f"validate said:\n{validated.stderr}\nrun said:\n{ran.stderr}")


@pytest.mark.parametrize("scenario", SCENARIOS,
                         ids=[str(s.relative_to(SOURCE_DIR)) for s in SCENARIOS])
def test_validate_agrees_with_run(scenario):
    name = str(scenario.relative_to(SOURCE_DIR)).replace("/", "_")
    validated, ran, _ = validate_and_run(name, scenario)
    assert_agree(validated, ran)


# --- problems only a resolved run finds --------------------------------------------------


def expect_problem(name, scenario, expected_line, *extra, cwd=None):
    """validate and run both exit 2 printing `expected_line` (and the same other lines); run
    leaves no complete trace."""
    validated, ran, out = validate_and_run(name, scenario, *extra, cwd=cwd)
    assert validated.returncode == 2, validated.stderr
    assert expected_line in diagnostic_lines(validated.stderr), validated.stderr
    assert_agree(validated, ran)
    assert not trace_is_complete(out)


def test_unknown_detector_kind_with_did_you_mean():
    scenario = write("kind.yaml",
                     MINIMAL + "detectors:\n  - {name: d1, kind: mda, metrics: [rps]}\n")
    expect_problem("kind", scenario,
                   f"{scenario}:5:22: unknown detector kind 'mda'; did you mean 'mad'?")


def test_unknown_detector_parameter():
    # Said at the parameter's name.
    scenario = write("param.yaml", MINIMAL + "detectors:\n"
                     "  - {name: d1, kind: mad, metrics: [rps], params: {windw: 64}}\n")
    expect_problem("param", scenario,
                   f"{scenario}:5:52: detector 'd1': unknown parameter 'windw' for kind mad; "
                   "did you mean 'window'?")


def test_missing_lstm_model_names_the_path():
    scenario = write("model.yaml", MINIMAL + "detectors:\n"
                     "  - {name: f, kind: lstm, metrics: [rps], model: no-such-model.h5}\n")
    model = TMP / "no-such-model.h5"  # relative to the scenario's folder
    expect_problem("model", scenario,
                   f"{scenario}:5:5: detector 'f': {model}: cannot open the LSTM model: "
                   "No such file or directory")


def test_missing_script_of_the_scenario_gives_the_os_reason():
    """Said at the scenario's script: key (line:column), with the OS's reason."""
    scenario = write("noscript.yaml", MINIMAL + "script: no-such.lua\n")
    line = len(MINIMAL.splitlines()) + 1
    expect_problem("noscript", scenario,
                   f"{scenario}:{line}:9: cannot read the script '{TMP / 'no-such.lua'}': "
                   "No such file or directory")


def test_a_script_syntax_error_is_said_beside_the_scenario_problems():
    """Every problem at once: a scenario that does not load (a bad tick) still has its
    script's syntax error said."""
    write("syntax.lua", "sim.log(\n")
    scenario = write("bad-tick-and-script.yaml", MINIMAL + "tick: 0s\nscript: syntax.lua\n")
    validated, ran, _ = validate_and_run("bad-tick-and-script", scenario)
    assert validated.returncode == 2, validated.stderr
    lines = diagnostic_lines(validated.stderr)
    assert f"{scenario}:4:7: 'tick' must be > 0, got 0s" in lines, lines
    assert any("syntax.lua:2: unexpected symbol near <eof>" in line for line in lines), lines
    assert_agree(validated, ran)


def test_missing_script_on_the_command_line_gives_the_os_reason():
    scenario = write("noscript-cli.yaml", MINIMAL)
    script = TMP / "nowhere" / "missing.lua"
    expect_problem("noscript-cli", scenario,
                   f"{script}: cannot read the script: No such file or directory",
                   "--script", script)


def test_script_whose_main_chunk_fails():
    # Run from the scenario's folder: Lua shortens a chunk name past 60 characters to
    # ".../tail", so a long absolute path would not appear whole in the message.
    write("fails.lua", "local x = 1\nerror('boom while starting')\n")
    write("fails.yaml", MINIMAL + "script: fails.lua\n")
    expect_problem("fails", "fails.yaml", "fails.lua:2: boom while starting", cwd=TMP)


# --- warnings ----------------------------------------------------------------------------

WARNING_SCENARIO = MINIMAL.replace("{name: web}", "{name: web, base_latency: 5}")


def test_warning_is_printed_and_strict_makes_it_an_error():
    scenario = write("warning.yaml", WARNING_SCENARIO)
    warning = (f"{scenario}:3:38: warning: 'base_latency' is a bare number: read as 5 s; "
               "write 5s or 5ms to be explicit")
    validated, ran, out = validate_and_run("warning", scenario)
    assert validated.returncode == 0, validated.stderr
    assert diagnostic_lines(validated.stderr) == [warning]
    assert ran.returncode == 0, ran.stderr
    assert diagnostic_lines(ran.stderr) == [warning]
    assert trace_is_complete(out)

    validated, ran, out = validate_and_run("warning-strict", scenario, "--strict")
    assert validated.returncode == 2, validated.stderr
    assert diagnostic_lines(validated.stderr) == [warning.replace("warning: ", "")]
    assert_agree(validated, ran)
    assert not trace_is_complete(out)


def test_warnings_beside_an_error_are_printed_by_both():
    scenario = write("warning-and-error.yaml", WARNING_SCENARIO +
                     "detectors:\n  - {name: d1, kind: mda, metrics: [rps]}\n")
    validated, ran, _ = validate_and_run("warning-and-error", scenario)
    assert validated.returncode == 2
    assert len(diagnostic_lines(validated.stderr)) == 2, validated.stderr
    assert "1 problem, 1 warning" in validated.stderr
    assert_agree(validated, ran)


def test_warnings_beside_an_error_with_strict():
    scenario = write("warning-and-error-strict.yaml", WARNING_SCENARIO +
                     "detectors:\n  - {name: d1, kind: mda, metrics: [rps]}\n")
    validated, ran, _ = validate_and_run("warning-and-error-strict", scenario, "--strict")
    assert len(diagnostic_lines(validated.stderr)) == 2, validated.stderr
    assert_agree(validated, ran)


# --- what validation does not cover ------------------------------------------------------


def test_failed_experiment_validates_and_exits_3():
    write("experiment.lua", """\
sim.experiment{
  title = "never steady",
  hypothesis = function() return false, "by design" end,
  method = function() sim.sleep("1m") end,
}
""")
    scenario = write("experiment.yaml", MINIMAL + "script: experiment.lua\n")
    validated, ran, out = validate_and_run("experiment", scenario)
    assert validated.returncode == 0, validated.stderr
    assert ran.returncode == 3, ran.stderr
    assert trace_is_complete(out)


# --- --seed --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", "1000000000000000001", "18446744073709551615", "1.5"])
def test_seed_out_of_range_exits_2_naming_it(seed):
    scenario = write("seed.yaml", MINIMAL)
    ran = dosim("run", "--quiet", "--out", TMP / "seed-bad.h5", "--seed", seed, scenario)
    assert ran.returncode == 2, ran.stderr
    assert "--seed" in ran.stderr and f"'{seed}'" in ran.stderr, ran.stderr


def test_largest_seed_runs():
    scenario = write("seed.yaml", MINIMAL)
    out = TMP / "seed-max.h5"
    ran = dosim("run", "--quiet", "--out", out, "--seed", "1000000000000000000", scenario)
    assert ran.returncode == 0, ran.stderr
    with h5py.File(out, "r") as f:
        assert int(f.attrs["seed"]) == 10**18
        assert int(f.attrs["complete"]) == 1


def test_mode_on_the_command_line_is_checked_as_run_would_run_it():
    """dosim validate --mode requests checks a fluid scenario for `dosim run --mode
    requests` (the request level's limits): validate had no --mode, so it passed a scenario
    that run --mode requests refused (found by a new-user audit)."""
    scenario = write("mode-requests.yaml", """\
name: t
duration: 10s
services:
  - {name: a, replicas: 10000, capacity_rps: 1000}
traffic:
  - {entry: a, base_rps: 2e6}
""")
    validated, ran, _ = validate_and_run("mode-fluid", scenario)
    assert validated.returncode == 0 and ran.returncode == 0, (validated.stderr, ran.stderr)
    expect_problem("mode-requests", scenario,
                   f"{scenario}:6:5: at request level this scenario may serve up to 2.6e+06 "
                   "requests per simulated second (its traffic at its highest, every call "
                   "retried; most from traffic 'traffic-0'): the request level simulates at most "
                   "1e6 per second and 1e7 per tick; run it in the fluid mode, or with less "
                   "traffic", "--mode", "requests")
