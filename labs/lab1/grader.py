"""Lab 1, "From anomaly detection to incidents": the grader (HANDOUT.md says what is asked).

The delays are the student's VirtualService files, applied as the lab applies them: the
cart delay from 15m for 10 minutes, the payment delay from 20m for 5 minutes. Answers are
about the run with the student's seed (`--student`), else the scenario's own seed."""

import h5py
import yaml

from dosim.labs import Failed, Lab, first_opened_s, max_severity

lab = Lab("lab1", "From anomaly detection to incidents", runs=3)

SCENARIO = "boutique.yaml"
CART, PAYMENT = "frontend_cartservice_delay.yaml", "check_payment_delay.yaml"
RULE, MONITOR = "lab7", "lab7-streams"


def cart_delay(g):
    return {"file": g.submitted(CART), "start": "15m", "duration": "10m"}


def payment_delay(g):
    return {"file": g.submitted(PAYMENT), "start": "20m", "duration": "5m"}


def callers_of(g, service):
    data = yaml.safe_load(g.lab_file(SCENARIO).read_text())
    return {d["caller"] for d in data["dependencies"] if d["callee"] == service}


def delayed_callers(g, report, manifest_name):
    """The callers of cartservice whose calls a manifest's faults delay (ground truth)."""
    callers = set()
    for _, incident in report.incidents.iterrows():
        if not incident["name"].startswith(manifest_name):
            continue
        target = incident["root_cause"]
        if "->" in target:
            caller, callee = target.split("->")
            if callee == "cartservice":
                callers.add(caller)
        elif target.split(" ")[0] == "cartservice":  # the whole service, or an endpoint of it
            callers |= callers_of(g, "cartservice")
    return callers


SURGES = [(150, 250), (500, 550), (1250, 1350)]  # boutique.yaml's, in seconds


def gauge(g, seed, name):
    """A gauge of the lab7-streams monitor over a run without delays, and the row times (s)."""
    trace = g.workdir / f"surges-{seed}.h5"
    g.run(SCENARIO, seed=seed, out=str(trace))
    with h5py.File(trace, "r") as f:
        return f[f"detectors/{MONITOR}/gauges/{name}"][()], f["time_ns"][()] / 1e9


@lab.task("surges", "Task 1: the surges alone raise anomalies and no incident",
          needs=["answers.yaml"])
def surges(g):
    answers = g.answers()
    count, t = gauge(g, g.answer_seed(), "frontend_to_cartservice_anomaly_count")
    anomalous = [i + 1 for i, (lo, hi) in enumerate(SURGES)
                 if count[(t > lo) & (t <= hi + 60)].max() > 0]
    said = g.answer(answers, "t1_anomalous_surges", list)
    try:
        said = sorted(int(s) for s in said)
    except (TypeError, ValueError):
        raise Failed("t1_anomalous_surges must be a list of surge numbers (1, 2, 3), "
                     "as [1, 3]") from None
    g.expect(said == anomalous, None,
             "t1_anomalous_surges is not the list of surges (1, 2, 3) during which, or in the "
             "minute after, lab7_frontend_to_cartservice_anomaly_count was above 0 in the "
             "run without delays. Look at the gauge over the whole run: when does the "
             "monitor start judging?")
    report = g.run(SCENARIO, seed=g.answer_seed())
    said = str(answers.get("t1_incident", "")).strip().lower()
    g.expect(said in ("no", "false", "yes", "true"), None, "t1_incident must be yes or no")
    g.expect((said in ("yes", "true")) == (max_severity(report, RULE) != 0), None,
             "t1_incident does not match what the lab7 rule did in the run without delays")


def edge_shift(g, seed, caller, callee):
    """How much the cart delay moves the caller->callee calls' p50 and p95 latency (s): their
    median over 16m-24m (the delay applied from 15m) minus that over 10m-14m."""
    import numpy as np
    trace = g.workdir / f"cart-{seed}.h5"
    g.run(SCENARIO, seed=seed, manifests=[cart_delay(g)], out=str(trace))
    with h5py.File(trace, "r") as f:
        names = [n.decode() for n in f["services/name"][()]]
        pairs = list(zip(f["edges/src"][()], f["edges/dst"][()]))
        edge = pairs.index((names.index(caller), names.index(callee)))
        t = f["time_ns"][()] / 1e9
        during, before = (t > 16 * 60) & (t <= 24 * 60), (t > 10 * 60) & (t <= 14 * 60)
        return tuple(float(np.median(f[f"metrics/edge/{m}"][during, edge]) -
                           np.median(f[f"metrics/edge/{m}"][before, edge]))
                     for m in ("latency_p50_s", "latency_p95_s"))


@lab.task("single-delay", "Task 2: your cart delay opens a Sev2 incident", needs=[CART])
def single_delay(g):
    # What the handout asks: 200 ms on every call frontend makes to cartservice, so every
    # percentile of those calls moves by 200 ms (a longer delay on a share moves p50 little).
    p50, p95 = edge_shift(g, g.hidden_runs()[0].seed, "frontend", "cartservice")
    g.expect(0.15 <= p50 <= 0.3 and p95 <= 0.35, None,
             f"with your manifest the frontend->cartservice calls' median latency moved by "
             f"{p50 * 1000:.0f} ms and their p95 by {p95 * 1000:.0f} ms; the handout's delay "
             "(200 ms on every request) moves both by about 200 ms")
    for run in g.hidden_runs():
        report = g.run(SCENARIO, seed=run.seed, manifests=[cart_delay(g)])
        severity = max_severity(report, RULE)
        g.expect(severity != 0, run,
                 "the lab7 rule declared no incident with your manifest applied at 15m. Does "
                 "it delay the calls frontend makes to cartservice, by 200 ms, for every "
                 "request? (`dosim validate` shows how dosim read it)")
        g.expect(severity == 2, run,
                 f"the incident is Sev{severity}, not Sev2: one delayed pair should make only "
                 "one stream of the rule hot. Does your manifest delay more than the cart pair?")
    answers = g.answers() if (g.submission / "answers.yaml").is_file() else {}
    if "t2_opened_s" in answers:
        report = g.run(SCENARIO, seed=g.answer_seed(), manifests=[cart_delay(g)])
        opened = first_opened_s(report, RULE)
        g.expect(opened is not None and abs(g.answer(answers, "t2_opened_s") - opened) <= 5,
                 None, "t2_opened_s is not when the Sev2 incident opened in your run "
                 "(seconds since the start, from the INCIDENT line)")
    else:
        raise Failed("t2_opened_s is not answered in answers.yaml")


@lab.task("double-delay", "Task 3: both delays escalate the incident to Sev1",
          needs=[CART, PAYMENT])
def double_delay(g):
    for run in g.hidden_runs():
        only_payment = g.run(SCENARIO, seed=run.seed, manifests=[payment_delay(g)])
        g.expect(max_severity(only_payment, RULE) in (0, 2), run,
                 "the payment delay alone already makes a Sev1 incident: it should heat only "
                 "the payment pair's streams")
        report = g.run(SCENARIO, seed=run.seed, manifests=[cart_delay(g), payment_delay(g)])
        severity = max_severity(report, RULE)
        g.expect(severity == 1, run,
                 f"with both manifests the rule's worst incident is "
                 f"{'none' if severity == 0 else f'Sev{severity}'}, not Sev1. Does the second "
                 "manifest delay the calls checkoutservice makes to paymentservice? The lab's "
                 "names (payment-service, checkout-service) are mapped by the scenario's "
                 "manifest_names")
    answers = g.answers()
    report = g.run(SCENARIO, seed=g.answer_seed(), manifests=[cart_delay(g), payment_delay(g)])
    peak = float(report.detected[report.detected["rule"] == RULE]["peak_temperature"].max())
    g.expect(abs(g.answer(answers, "t3_peak_temperature") - peak) <= 0.02 * peak, None,
             "t3_peak_temperature is not the peak temperature of the incident in your run "
             "with both delays (the detected incidents' summary prints it)")


@lab.task("pruned-fields", "Task 4: what a cluster does with the lab's manifest, and yours",
          needs=["answers.yaml", CART])
def pruned_fields(g):
    import dosim
    path = g.scenario(SCENARIO, manifests=[cart_delay(g)])
    pruned = [d for d in dosim.validate(str(path))
              if "unknown field" in d.message and str(g.submitted(CART)) in d.file]
    g.expect(not pruned, None,
             f"your {CART} has fields a cluster prunes ({len(pruned)} warnings from "
             "`dosim validate`): as written, its delay does not do what its match says")
    report = g.run(SCENARIO, seed=g.answer_seed(), manifests=[cart_delay(g)])
    names = set(report.incidents["name"].str.split("/").str[0])
    callers = set()
    for name in names:
        callers |= delayed_callers(g, report, name)
    g.expect(callers == {"frontend"}, None,
             f"your manifest delays the calls to cartservice of {sorted(callers) or 'no one'};"
             " the lab means frontend's calls only")
    original = {"file": g.lab_file("lab-manifests/" + CART), "start": "15m", "duration": "10m"}
    truth = delayed_callers(g, g.run(SCENARIO, seed=g.answer_seed(), manifests=[original]),
                            "cartservice-fault-injection")
    said = g.answer(answers := g.answers(), "t4_delayed_callers", list)
    g.expect({str(s) for s in said} == truth, None,
             "t4_delayed_callers is not the set of services whose calls to cartservice the "
             "lab's original manifest delays once a cluster has pruned it")


@lab.task("gauges", "Task 5: read the monitors' Prometheus gauges", needs=["answers.yaml"])
def gauges(g):
    answers = g.answers()
    mae, _ = gauge(g, g.answer_seed(), "checkoutservice_to_paymentservice_mae")
    said = g.answer(answers, "t5_max_payment_mae")
    g.expect(abs(said - float(mae.max())) <= 1e-6 + 1e-3 * abs(float(mae.max())), None,
             "t5_max_payment_mae is not the largest value the gauge "
             "lab7_checkoutservice_to_paymentservice_mae took in the run without delays "
             "(max_over_time in Prometheus, or the trace's gauge)")
