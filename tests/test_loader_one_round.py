"""Every problem of a scenario in one round, in file order (docs/scenario-format.md, Errors):
what the loader finds and what is found once it is read (a Python detector's module, the
rankers' files, a manifest's contents) are listed together by `dosim validate`, sorted by
position, and raised in the same order by the Python package's InputError."""
import sys

from dosim_test_util import TMP, dosim as dosim_cli

FOLDER = TMP / "loader-one-round"
FOLDER.mkdir(parents=True, exist_ok=True)


def write(name, text):
    path = FOLDER / name
    path.write_text(text)
    return path


def problems(path):
    """`dosim validate PATH`'s exit status and its problems as 'LINE:COL: message'."""
    result = dosim_cli("validate", path)
    prefix = f"{path}:"
    lines = [line[len(prefix):].strip() for line in result.stderr.splitlines()
             if line.startswith(prefix) and ": warning: " not in line]
    return result.returncode, lines


def test_a_missing_python_module_is_reported_with_the_other_problems_at_its_module():
    # It used to come only in a later round, once every other problem was fixed.
    scenario = write("phase.yaml", (
        "name: phase\n"
        "duration: 10m\n"
        "services:\n"
        "  - {name: a, replicas: many}\n"
        "detectors:\n"
        "  - {name: p, kind: python, metrics: [rps], module: nope.py, class: X}\n"
        "  - {name: l, kind: lstm, metrics: [rps], model: nope.h5}\n"
        "  - {name: t, kind: threshold, metrics: [rps]}\n"))
    status, lines = problems(scenario)
    assert status == 2, lines
    module = FOLDER / "nope.py"
    assert f"6:53: detector 'p': module '{module}': no such file" in lines, lines
    assert any(line.startswith("4:25: expected an integer for 'replicas'") for line in lines), lines
    assert any(line.startswith("7:5: ") and "nope.h5" in line for line in lines), lines
    assert any(line.startswith("8:5: ") and "'above'" in line for line in lines), lines
    assert len(lines) == 4, lines


def test_a_python_detector_without_module_or_class_is_reported_in_the_first_round():
    scenario = write("no-module.yaml", (
        "name: t\n"
        "duration: 10m\n"
        "services: [{name: a, replicas: many}]\n"
        "detectors:\n"
        "  - {name: p, kind: python, metrics: [rps]}\n"))
    status, lines = problems(scenario)
    assert status == 2, lines
    assert "5:5: detector 'p': kind python needs 'module:' (a .py file)" in lines, lines
    assert "5:5: detector 'p': kind python needs 'class:' (a class in the module)" in lines, lines


RANKERS = (
    "name: py-missing\n"
    "duration: 10m\n"
    "services: [{name: a}]\n"
    "traffic: [{entry: a, base_rps: 5}]\n"
    "detectors:\n"
    "  - {name: p, kind: python, metrics: [rps], module: here.py, class: X}\n"
    "rca: {rankers: [change, {name: mine, lua: r.lua}, {name: py, python: r.py}]}\n")


def test_problems_found_after_loading_are_printed_in_file_order():
    # The rankers' files were checked before the detectors: 7:43 and 7:70 came before 6:5.
    write("here.py", "class Y:\n    pass\n")
    scenario = write("py-missing.yaml", RANKERS)
    status, lines = problems(scenario)
    assert status == 2, lines
    positions = [tuple(map(int, line.split(":")[:2])) for line in lines]
    assert len(positions) == 3, lines
    assert positions == sorted(positions), lines
    assert positions[0][0] == 6 and "no class 'X'" in lines[0], lines


def test_the_python_packages_input_error_lists_them_in_file_order_too():
    import dosim  # the package built beside dosim (PYTHONPATH)
    write("here.py", "class Y:\n    pass\n")
    scenario = write("py-missing-package.yaml", RANKERS)
    try:
        dosim.validate(str(scenario))
    except dosim.InputError as error:
        positions = [(d.line, d.column) for d in error.diagnostics]
    else:
        raise AssertionError("the scenario validated")
    assert len(positions) == 3 and positions == sorted(positions), positions


if __name__ == "__main__":
    import pytest
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


def test_the_loaders_warnings_come_with_its_errors():
    # A warning used to show only once the scenario's errors were fixed: one more round.
    scenario = write("warned.yaml", (
        "name: t\n"
        "duration: 1h\n"
        "services: [{name: web}]\n"
        "traffic:\n"
        "  - {name: u, entry: web, base_rps: 10, noise: 5}\n"
        "dependencies:\n"
        "  - {caller: web, callee: nope}\n"))
    for command in ("validate", "run"):
        result = dosim_cli(command, scenario, *(["-o", FOLDER / "warned.h5"] if command == "run" else []))
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.startswith(f"{scenario}:")]
        assert lines[0] == f"{scenario}:5:48: warning: 'noise' is 5: a coefficient of variation " \
            "above 1 (the per-tick rate's standard deviation is 5 times its mean); did you mean 0.05?", lines
        assert lines[1] == f"{scenario}:7:27: unknown service 'nope'", lines
        assert "1 problem, 1 warning" in result.stderr, result.stderr
        assert not (FOLDER / "warned.h5").exists()
