"""scenarios/schema.json accepts every bundled scenario and rejects broken documents.

Validates scenarios/*.yaml and tests/data/scenarios/*.yaml against the schema with an
independent validator (python3-jsonschema), then checks that documents with known mistakes are
rejected, so the test cannot pass vacuously. Prints "N passed, M failed"; exits 1 on failure.
"""
import copy
import os
import pathlib
import sys

import jsonschema
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


def main():
    schema = yaml.safe_load((SOURCE_DIR / "scenarios" / "schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    passed, failed = 0, 0
    files = sorted((SOURCE_DIR / "scenarios").glob("*.yaml")) + sorted(
        (SOURCE_DIR / "tests" / "data" / "scenarios").glob("*.yaml"))
    if not files:
        print("no scenario files found under", SOURCE_DIR)
        failed += 1
    for path in files:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        if errors:
            failed += 1
            for error in errors:
                location = "/".join(str(part) for part in error.absolute_path)
                print(f"FAIL {path.relative_to(SOURCE_DIR)}: {location}: {error.message}")
        else:
            passed += 1
    if validator.is_valid(MINIMAL):
        passed += 1
    else:
        failed += 1
        print("FAIL the minimal document is rejected")
    for mistake, document in INVALID.items():
        if validator.is_valid(document):
            failed += 1
            print(f"FAIL accepted a document with a mistake: {mistake}")
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
