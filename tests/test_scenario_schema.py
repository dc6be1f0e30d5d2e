"""scenarios/schema.json accepts every bundled scenario and rejects broken documents.

Validates scenarios/*.yaml and tests/data/scenarios/*.yaml against the schema with an
independent validator (python3-jsonschema), then checks that documents with known mistakes are
rejected, so the test cannot pass vacuously.
"""
import copy
import os
import pathlib
import sys

import jsonschema
import pytest
import yaml

SOURCE_DIR = pathlib.Path(
    os.environ.get("DOSIM_SOURCE_DIR", pathlib.Path(__file__).resolve().parent.parent))

MINIMAL = {"name": "t", "duration": "1h", "services": [{"name": "web"}]}


def with_changes(change):
    """MINIMAL with `change` (a function editing the document in place) applied."""
    document = copy.deepcopy(MINIMAL)
    change(document)
    return document


LATENCY_FAULT = {"kind": "latency", "target": {"service": "web"}, "start": "1m",
                 "duration": "1m", "fixedDelay": "1s"}

# Documents the schema must reject, each with the mistake it holds.
INVALID = {
    "unknown top-level key": with_changes(lambda d: d.update(colour="blue")),
    "unknown service key": with_changes(lambda d: d["services"][0].update(replica=3)),
    "missing services": {"name": "t", "duration": "1h"},
    "empty services": with_changes(lambda d: d.update(services=[])),
    "malformed duration": with_changes(lambda d: d.update(duration="5 parsecs")),
    "zero duration": with_changes(lambda d: d.update(duration="0s")),
    "negative replicas": with_changes(lambda d: d["services"][0].update(replicas=-1)),
    "percent above 100": with_changes(
        lambda d: d.update(faults=[dict(LATENCY_FAULT, percent=150)])),
    "latency fault without fixedDelay": with_changes(lambda d: d.update(
        faults=[{k: v for k, v in LATENCY_FAULT.items() if k != "fixedDelay"}])),
    "error fault with fixedDelay": with_changes(
        lambda d: d.update(faults=[dict(LATENCY_FAULT, kind="error")])),
    "target both service and edge": with_changes(lambda d: d.update(faults=[dict(
        LATENCY_FAULT, target={"service": "web", "caller": "web", "callee": "web"})])),
    "cpu-stress without load": with_changes(lambda d: d.update(faults=[{
        k: v for k, v in dict(LATENCY_FAULT, kind="cpu-stress").items() if k != "fixedDelay"}])),
    "packet-loss on a service": with_changes(lambda d: d.update(faults=[{
        k: v for k, v in dict(LATENCY_FAULT, kind="packet-loss").items() if k != "fixedDelay"}])),
    "jitter on an error fault": with_changes(lambda d: d.update(faults=[{
        k: v for k, v in dict(LATENCY_FAULT, kind="error", jitter="1s").items()
        if k != "fixedDelay"}])),
    "outage on a service": with_changes(lambda d: d.update(faults=[{
        "kind": "outage", "target": {"service": "web"}, "start": "1m", "duration": "1m"}])),
    "memory-leak without rate": with_changes(lambda d: d.update(faults=[{
        "kind": "memory-leak", "target": {"service": "web"}, "start": "1m", "duration": "1m"}])),
    "crashAfter on a pod-kill": with_changes(lambda d: d.update(faults=[{
        "kind": "pod-kill", "target": {"service": "web"}, "crashAfter": "5s", "start": "1m",
        "duration": "1m"}])),
    "traffic without base_rps or locust": with_changes(
        lambda d: d.update(traffic=[{"entry": "web"}])),
}


SCENARIO_FILES = sorted((SOURCE_DIR / "scenarios").glob("*.yaml")) + sorted(
    (SOURCE_DIR / "tests" / "data" / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator():
    schema = yaml.safe_load((SOURCE_DIR / "scenarios" / "schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_there_are_scenarios_to_validate():
    assert SCENARIO_FILES, f"no scenario files found under {SOURCE_DIR}"


@pytest.mark.parametrize("path", SCENARIO_FILES,
                         ids=[str(path.relative_to(SOURCE_DIR)) for path in SCENARIO_FILES])
def test_the_schema_accepts_the_scenario(validator, path):
    errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
    assert not errors, "\n".join(
        f"{path.relative_to(SOURCE_DIR)}: {'/'.join(str(part) for part in error.absolute_path)}:"
        f" {error.message}" for error in errors)


def test_the_schema_accepts_the_minimal_document(validator):
    assert validator.is_valid(MINIMAL), "the minimal document is rejected"


@pytest.mark.parametrize("mistake", list(INVALID))
def test_the_schema_rejects_a_document_with_a_mistake(validator, mistake):
    assert not validator.is_valid(INVALID[mistake]), f"accepted a document with a mistake: {mistake}"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
