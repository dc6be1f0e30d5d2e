"""The AIOps Lab 7 reproduced for the lab's reasons (../shared/REFERENCE.md, Lab 7; issue 14).

scenarios/online-boutique.yaml monitors three pairs and its incident rule reads the two the
lab delays (frontend->cartservice, checkoutservice->paymentservice). On every seed from 1 to
10:

- the single delay (the scenario: frontend->cartservice) gives Sev2, decided with the cart
  pair's streams hot and the payment pair's cold;
- the double delay (scripts/lab7-delays.lua adds checkoutservice->paymentservice once the
  incident opens) escalates to Sev1, decided with all four streams hot, while the second
  delay is on, not at a surge;
- the surges alone (the scenario without its fault) raise anomalies and no incident.

Which streams were hot is read back from the trace's incident timeline
(/incidents_detected/timeline and /accumulators) with h5py.
"""
import h5py
import numpy as np
import pytest
import yaml

from dosim_test_util import SOURCE_DIR, TMP, dosim

SCENARIO = SOURCE_DIR / "scenarios" / "online-boutique.yaml"
SCRIPT = SOURCE_DIR / "scripts" / "lab7-delays.lua"
WORK = TMP / "lab7"
SEEDS = range(1, 11)
CART, PAYMENT = "frontend->cartservice", "checkoutservice->paymentservice"


def stream_threshold():
    rules = yaml.safe_load(SCENARIO.read_text())["incident_rules"]
    return next(rule["stream_threshold"] for rule in rules if rule["name"] == "lab7")


def surges_only():
    """The scenario without its fault: only the Locust load with its surges."""
    document = yaml.safe_load(SCENARIO.read_text())
    del document["faults"]
    path = WORK / "surges-only.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def run(name, scenario, seed, *extra):
    WORK.mkdir(parents=True, exist_ok=True)
    trace = WORK / f"{name}-{seed}.h5"
    result = dosim("run", "-q", scenario, "--seed", seed, "-o", trace, *extra)
    assert result.returncode == 0, result.stderr
    return trace


def timeline(trace):
    """[(t_s, event, severity, {stream: accumulator})] of the first detected incident, and
    the number of detected incidents and alerts."""
    with h5py.File(trace) as f:
        detected = f["incidents_detected"]
        count = len(detected["rule"])
        alerts = len(f["alerts/t_ns"])
        changes = detected["timeline"]
        values = detected["accumulators"]
        rows = []
        for row in range(len(changes["t_ns"])):
            if changes["incident"][row] != 0:
                continue
            keep = values["change"][:] == row
            streams = dict(zip(values["stream"].asstr()[()][keep], values["value"][keep]))
            rows.append((changes["t_ns"][row] / 1e9, changes["event"].asstr()[row],
                         int(changes["severity"][row]), streams))
    return rows, count, alerts


def hot_pairs(streams, threshold):
    return sorted({name.split(":")[0] for name, value in streams.items() if value > threshold})


@pytest.mark.parametrize("seed", SEEDS)
def test_one_delay_is_sev2_because_the_cart_pair_is_hot(seed):
    rows, count, _ = timeline(run("single", SCENARIO, seed))
    threshold = stream_threshold()
    assert count == 1, rows
    t, event, severity, streams = rows[0]
    assert event == "opened" and severity == 2, rows[0]
    assert 15 * 60 < t < 25 * 60, t  # while the delay is on
    assert hot_pairs(streams, threshold) == [CART], streams
    assert max(s for _, _, s, _ in rows) == 2 and min(s for _, _, s, _ in rows) == 2, rows


@pytest.mark.parametrize("seed", SEEDS)
def test_two_delays_are_sev1_because_both_pairs_are_hot(seed):
    trace = run("double", SCENARIO, seed, "--script", SCRIPT)
    rows, count, _ = timeline(trace)
    # The ground truth's timeline says the detection at the severity it opened with (it
    # said sev1, the highest reached, at the opening at Sev2).
    with h5py.File(trace) as f:
        truth = f["truth/timeline"]
        details = [d for e, d in zip(truth["event"].asstr()[()], truth["detail"].asstr()[()])
                   if e == "first-alert" and d.startswith("incident rule")]
    assert details == ["incident rule lab7 sev2"], details
    threshold = stream_threshold()
    assert count == 1, rows
    opened = rows[0]
    assert opened[1] == "opened" and opened[2] == 2, opened
    assert hot_pairs(opened[3], threshold) == [CART], opened
    escalations = [row for row in rows if row[1] == "escalated"]
    assert len(escalations) == 1, rows
    t, _, severity, streams = escalations[0]
    assert severity == 1
    # The second delay starts when the incident opens and lasts 5 minutes; no surge then
    # (the third is at 1250-1350 s).
    assert opened[0] < t <= opened[0] + 5 * 60, (opened[0], t)
    assert t < 1250, t
    assert hot_pairs(streams, threshold) == sorted([CART, PAYMENT]), streams


@pytest.mark.parametrize("seed", SEEDS)
def test_surges_alone_raise_anomalies_and_no_incident(seed):
    trace = run("surges", surges_only(), seed)
    rows, count, alerts = timeline(trace)
    assert count == 0, rows
    # The transients are seen, as in the lab: the streams' monitor scores anomalous ticks
    # in the surge after its 600 s of training (1250-1350 s); whether five in a row make an
    # alert depends on the seed (at the request level too).
    with h5py.File(trace) as f:
        t = f["time_ns"][:] / 1e9
        scores = np.abs(f["detectors/lab7-streams/score"][:])
        threshold = next(d for d in yaml.safe_load(SCENARIO.read_text())["detectors"]
                         if d["name"] == "lab7-streams")["params"]["threshold"]
    surge = (t >= 1250) & (t < 1370)
    assert (scores[surge] > threshold).sum() > 0


def test_the_double_delays_fall_back_to_sev2_as_docs_detectors_md_says():
    # docs/detectors.md's Lab 7 table names the seeds that fall back to Sev2 after the delay
    # and when (from the trace: the story shows its first 40 events); it had gone stale
    # (3, 4, 5, 8 and 10, from 29m35s) while the model moved.
    fallen = {}
    for seed in SEEDS:
        rows, _, _ = timeline(run("double", SCENARIO, seed, "--script", SCRIPT))
        down = [t for t, event, severity, _ in rows if severity == 2 and event != "opened"]
        if down:
            fallen[seed] = down[0]
    assert sorted(fallen) == [1, 3, 4, 5, 7, 8, 10], fallen
    assert min(fallen.values()) == 29 * 60 + 25 and max(fallen.values()) == 30 * 60, fallen
    text = (SOURCE_DIR / "docs" / "detectors.md").read_text()
    said = ("on seeds 1, 3, 4, 5, 7, 8 and 10 of 1 to 10 it falls back to Sev2 between 29m25s "
            "and 30m00s")
    assert said in text
