"""The scenario loader's error cases, as data: each tests/loader/*.yaml is checked against both
the C++ loader (`dosim validate`) and scenarios/schema.json, so the two cannot drift apart.

A case file is a scenario preceded by comment lines:
  # expect: LINE:COL: MESSAGE      one per diagnostic `dosim validate` must print (LINE counts
                                   the header too); a file with none must be valid
  # schema: cannot express (WHY)   the schema cannot see these mistakes (names that must
                                   resolve, cycles, comparisons of two values): it must accept
                                   the file, so that a schema that learns the rule shows up here
Any other leading comment line describes the case.
"""
import pathlib
import re
import subprocess
import sys

import jsonschema
import pytest
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import dosim_test_util  # noqa: E402 - beside this file, not an installed module

SOURCE_DIR = pathlib.Path(dosim_test_util.SOURCE_DIR)
CASE_DIR = SOURCE_DIR / "tests" / "loader"
CASES = sorted(CASE_DIR.glob("*.yaml"))
EXPECT = re.compile(r"#\s*expect:\s*(.*?)\s*$")
CANNOT_EXPRESS = re.compile(r"#\s*schema:\s*cannot express\b")
COUNT_LINE = re.compile(r"\d+ problems?(, \d+ warnings?)?")


def header(path):
    """The expected diagnostics and whether the schema is marked unable to express them."""
    expected, cannot_express = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if match := EXPECT.match(line):
            expected.append(match.group(1))
        elif CANNOT_EXPRESS.match(line):
            cannot_express = True
    return expected, cannot_express


def loader_diagnostics(path):
    """Exit status of `dosim validate PATH` and its problems as 'LINE:COL: message' (or just
    'message' for a problem with the whole file), without warnings and the count line."""
    result = subprocess.run([dosim_test_util.DOSIM, "validate", str(path)], capture_output=True,
                            text=True, timeout=60)
    prefix = f"{path}:"
    found = []
    for line in result.stderr.splitlines():
        if ": warning: " in line or COUNT_LINE.fullmatch(line.strip()):
            continue
        found.append(line[len(prefix):].strip() if line.startswith(prefix) else line)
    return result.returncode, found


@pytest.fixture(scope="module")
def validator():
    schema = yaml.safe_load((SOURCE_DIR / "scenarios" / "schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(validator, path):
    """The schema's complaints about the file; text that is not YAML is one complaint."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        return [f"not YAML: {error}"]
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


def test_there_are_cases():
    assert len(CASES) >= 40, f"expected the loader's cases under {CASE_DIR}"


@pytest.mark.parametrize("path", CASES, ids=[path.name for path in CASES])
def test_loader_reports_exactly_the_expected_problems(path):
    expected, _ = header(path)
    status, found = loader_diagnostics(path)
    if not expected:
        assert (status, found) == (0, []), "a case without '# expect:' lines must be valid"
        return
    assert status == 2, f"exit status {status}; stderr: {found}"
    assert sorted(found) == sorted(expected)


@pytest.mark.parametrize("path", CASES, ids=[path.name for path in CASES])
def test_schema_agrees_with_the_loader(validator, path):
    expected, cannot_express = header(path)
    errors = schema_errors(validator, path)
    if not expected:
        assert not cannot_express, "a valid case has nothing the schema could not express"
        assert errors == [], "the schema rejects a scenario the loader accepts"
    elif cannot_express:
        assert errors == [], ("the schema now rejects this file: drop its "
                              "'# schema: cannot express' line")
    else:
        assert errors, ("the schema accepts a file the loader rejects: teach the schema the "
                        "rule, or mark the file '# schema: cannot express (why)'")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
