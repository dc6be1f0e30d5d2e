"""Ground truth checked against a counterfactual computed outside dosim (issue 14).

For every fault kind, on a topology with services spread across regions (edge over eu-a and us-a, search over
us-a and eu-b), spread over the
zones of one region, placed in one zone and placed in a region without a zone, two runs of
the same scenario and seed: one with the fault, one without. Their recorded telemetry (one
row per tick, no traffic noise) is compared with h5py and numpy by the impact rule of
docs/ground-truth.md (p95 beyond p95Percent of the counterfactual, the error ratio beyond
errorPoints, arrivals beyond rpsPercent; every service's p95Margin is 0 so that the
latency test is relative and the measurement noise, the same factor in both runs, cancels),
on the ticks from the fault's start to the end of its impact window. The blast radius is
computed here from the documented table and the placement the trace records. Then:

- every service of the radius whose telemetry moved on one of those ticks is affected;
- every affected service is in the radius and moved;
- no service outside the radius is affected.
"""
import h5py
import numpy as np
import pytest

from dosim_test_util import TMP, dosim

WORK = TMP / "truth-counterfactual"
SLI = "sli: {p95Margin: 0s}"
TOPOLOGY = f"""\
duration: 15m
tick: 1s
seed: 3
regions:
  - {{name: eu, zones: [eu-a, eu-b]}}
  - {{name: us, zones: [us-a, us-b]}}
services:
  - {{name: edge, replicas: 4, capacity_rps: 150, base_latency: 2ms, zones: [eu-a, us-a], failover: true, {SLI}}}
  - {{name: api, replicas: 4, capacity_rps: 120, base_latency: 5ms, zones: [eu-a, eu-b], {SLI}}}
  - {{name: auth, replicas: 2, capacity_rps: 200, base_latency: 3ms, zone: eu-a, {SLI}}}
  - {{name: db, replicas: 3, capacity_rps: 150, base_latency: 4ms, zone: eu-b, {SLI}}}
  - {{name: cache, replicas: 2, capacity_rps: 400, base_latency: 1ms, region: us, {SLI}}}
  - {{name: search, replicas: 4, capacity_rps: 100, base_latency: 8ms, zones: [us-a, eu-b], {SLI}}}
dependencies:
  - {{caller: edge, callee: api, timeout: 1s, retries: 1}}
  - {{caller: edge, callee: search, calls_per_request: 0.5, timeout: 2s}}
  - {{caller: api, callee: auth}}
  - {{caller: api, callee: db, timeout: 500ms, retries: 2}}
  - {{caller: api, callee: cache, calls_per_request: 0.3, timeout: 200ms, optional: true, fallback_latency: 2ms}}
  - {{caller: search, callee: cache, calls_per_request: 0.5}}
traffic:
  - {{name: users, entry: edge, base_rps: 300, noise: 0}}
"""
WINDOW = "start: 3m, duration: 4m"
FAULTS = {
    "latency": "{kind: latency, target: {service: db}, fixedDelay: 30ms, %s}",
    "error": "{kind: error, target: {service: auth}, percent: 20, %s}",
    "cpu-stress": "{kind: cpu-stress, target: {service: api}, load: 50, %s}",
    "packet-loss": "{kind: packet-loss, target: {caller: api, callee: db}, percent: 30, %s}",
    "pod-kill": "{kind: pod-kill, target: {service: search}, mode: fixed, value: 2, restartTime: 1m, %s}",
    "crash-loop": "{kind: crash-loop, target: {service: db}, mode: one, crashAfter: 20s, %s}",
    "memory-leak": "{kind: memory-leak, target: {service: auth}, rate: 60, restartTime: 20s, %s}",
    "maintenance": "{kind: maintenance, target: {service: api}, mode: fixed, value: 2, %s}",
    "outage-zone": "{kind: outage, target: {zone: eu-b}, %s}",
    "outage-region": "{kind: outage, target: {region: us}, %s}",
    "partition-zones": "{kind: partition, target: {zones: [eu-a, eu-b]}, %s}",
    "partition-regions": "{kind: partition, target: {regions: [eu, us]}, %s}",
}


def run(name, fault):
    WORK.mkdir(parents=True, exist_ok=True)
    scenario = WORK / f"{name}.yaml"
    text = f"name: {name}\n" + TOPOLOGY
    if fault:
        text += "faults:\n  - " + fault.replace("{kind", "{name: f, kind") % WINDOW + "\n"
    scenario.write_text(text)
    trace = WORK / f"{name}.h5"
    result = dosim("run", "-q", scenario, "-o", trace)
    assert result.returncode == 0, result.stderr
    return trace


@pytest.fixture(scope="module")
def baseline():
    return run("baseline", None)


def callers_closure(src, dst, roots):
    found, frontier = set(roots), set(roots)
    while frontier:
        new = {int(a) for a, b in zip(src, dst) if int(b) in frontier} - found
        found |= new
        frontier = new
    return found


def radius(f, fault_text):
    """The blast radius of docs/ground-truth.md, from the fault and the recorded placement."""
    names = f["services/name"].asstr()[()].tolist()
    src, dst = f["edges/src"][:], f["edges/dst"][:]
    place = f["services/placement"]
    rows = list(zip(place["service"][:].tolist(), place["zone"].asstr()[()].tolist(),
                    place["region"].asstr()[()].tolist(), place["replica_share"][:].tolist()))
    spec = fault_text
    if "{zone:" in spec or "{region:" in spec:
        column, where = (1, spec.split("{zone: ")[1]) if "{zone:" in spec else \
            (2, spec.split("{region: ")[1])
        where = where.split("}")[0]
        roots = {row[0] for row in rows if row[column] == where}
    elif "partition" in spec:
        by_zone = "{zones:" in spec
        sides = spec.split("[")[1].split("]")[0].split(", ")
        column = 1 if by_zone else 2
        side = lambda value: sides.index(value) if value in sides else -1  # noqa: E731
        roots = set()
        for caller, callee in zip(src, dst):
            callee_sides = {side(r[column]) for r in rows if r[0] == callee}
            if -1 in callee_sides:
                continue  # reachable from everywhere
            for r in rows:
                if r[0] == caller and side(r[column]) >= 0 and \
                        side(r[column]) not in callee_sides:
                    roots.add(int(caller))
    elif "{caller:" in spec:
        roots = {names.index(spec.split("{caller: ")[1].split(",")[0])}
    else:
        roots = {names.index(spec.split("{service: ")[1].split("}")[0])}
    return callers_closure(src, dst, roots)


def moved(real, cf, slack):
    """Per row and service: does `real` differ from `cf` by the impact rule, with the
    thresholds scaled by `slack` (above 1: clearly beyond; below 1: at all)?"""
    p95 = np.abs(real["p95"] - cf["p95"]) > 0.05 * slack * np.abs(cf["p95"])
    p95 &= np.isfinite(real["p95"]) & np.isfinite(cf["p95"])
    errors = np.abs(real["errors"] - cf["errors"]) > 0.005 * slack
    load = np.abs(real["rps"] - cf["rps"]) > np.maximum(0.05 * slack * np.abs(cf["rps"]), 1e-9)
    return p95 | errors | load


def telemetry(f):
    service = f["metrics/service"]
    return {"p95": service["latency_p95_s"][:].astype(np.float64),
            "errors": service["error_ratio"][:].astype(np.float64),
            "rps": service["rps"][:].astype(np.float64)}


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_affected_services_are_exactly_those_the_counterfactual_shows(baseline, kind):
    trace = run(kind, FAULTS[kind])
    with h5py.File(trace) as f, h5py.File(baseline) as b:
        names = f["services/name"].asstr()[()].tolist()
        incidents = f["truth/incidents"]
        assert incidents["silent"][0] == 0, f"{kind}: silent"
        affected = set(f["truth/affected/service"][:].tolist())
        t = f["time_ns"][:]
        tick = int(f.attrs["tick_ns"])
        # The rows of the ticks the cause was tracked on: from its start to its impact's end.
        rows = (t > incidents["start_ns"][0]) & (t <= incidents["impact_end_ns"][0] + tick)
        real, cf = telemetry(f), telemetry(b)
        strict = moved(real, cf, 1.001)[rows].any(axis=0)
        loose = moved(real, cf, 0.999)[rows].any(axis=0)
        in_radius = radius(f, FAULTS[kind])
        for s, name in enumerate(names):
            if s not in in_radius:
                assert s not in affected, f"{kind}: {name} is affected outside the radius"
            elif strict[s]:
                assert s in affected, f"{kind}: {name} moved but is not affected"
            elif s in affected:
                assert loose[s], f"{kind}: {name} is affected but did not move"
        assert affected, kind


def test_a_fault_on_a_service_without_traffic_is_silent():
    # Nobody calls `orphan`: its telemetry is 0 in both worlds (no request to measure), yet a
    # latency or cpu-stress fault on it was recorded with impact (the fluid model's latency of
    # a service without traffic, which no request shows), counting against every detector's
    # recall. An error fault there was silent already.
    WORK.mkdir(parents=True, exist_ok=True)
    scenario = WORK / "orphan.yaml"
    scenario.write_text("""\
name: orphan
duration: 3m
services: [{name: web}, {name: orphan}]
traffic: [{entry: web, base_rps: 20}]
faults:
  - {name: lat, kind: latency, target: {service: orphan}, start: 30s, duration: 30s,
     fixedDelay: 100ms}
  - {name: err, kind: error, target: {service: orphan}, start: 90s, duration: 30s}
  - {name: cpu, kind: cpu-stress, target: {service: orphan}, start: 130s, duration: 20s,
     load: 90}
""")
    for mode in ("fluid", "requests"):
        trace = WORK / f"orphan-{mode}.h5"
        result = dosim("run", scenario, "--mode", mode, "--out", trace, "--quiet")
        assert result.returncode == 0, result.stderr
        with h5py.File(trace) as f:
            assert list(f["truth/incidents/silent"][:]) == [1, 1, 1], mode
            orphan = list(f["services/name"].asstr()[()]).index("orphan")
            assert not np.any(f["metrics/service/rps"][:, orphan])
            assert len(f["truth/affected/incident_id"]) == 0, mode
