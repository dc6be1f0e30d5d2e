"""Lab 5, "Root cause and remediation": the grader (HANDOUT.md says what is asked).

The student's playbook (playbook.yaml: one entry of `remediation: playbooks:`) runs in the
shop on hidden seeds; the ground truth says when the impact ended and the trace's
/remediation table what the responders did. Answers are about the run with the student's
seed (`--student`), else the scenario's own."""

import h5py
import yaml

from dosim.labs import Failed, Lab

lab = Lab("lab5", "Root cause and remediation", runs=3)

SCENARIO, PLAYBOOK = "shop.yaml", "playbook.yaml"
NS = 10**9


def playbook(g):
    try:
        entry = yaml.safe_load(g.submitted(PLAYBOOK).read_text())
    except yaml.YAMLError as error:
        raise Failed(f"{PLAYBOOK} is not valid YAML: {error}") from None
    if not isinstance(entry, dict):
        raise Failed(f"{PLAYBOOK} must be one playbook (a mapping: name, match, steps, ...)")
    return entry


def with_playbook(g, seed, out=None):
    remediation = yaml.safe_load(g.lab_file(SCENARIO).read_text())["remediation"]
    remediation["playbooks"] = [playbook(g)]
    options = {"out": str(out)} if out else {}
    return g.run(SCENARIO, seed=seed, overrides={"remediation": remediation}, **options)


def the_incident(report):
    return report.incidents.iloc[0]


def recovery_s(report):
    incident = the_incident(report)
    return (incident["impact_end_ns"] - incident["impact_start_ns"]) / NS


@lab.task("root-cause", "The root cause: which change, on which service",
          needs=["answers.yaml"])
def root_cause(g):
    answers = g.answers()
    for key, what in (("root_change", "change"), ("root_service", "service")):
        value = answers.get(key)
        g.expect(value is None or isinstance(value, str), None,
                 f"{key} must be one {what}'s name, as text (`{key}: name`), got "
                 f"{type(value).__name__} {value!r}")
    incident = the_incident(g.run(SCENARIO, seed=g.answer_seed()))
    g.expect(str(answers.get("root_change")) == incident["name"], None,
             "root_change is not the change that caused the incident. The latest change "
             "before the alert is not always the culprit: which service failed first?")
    g.expect(str(answers.get("root_service")) == incident["root_cause"], None,
             "root_service is not the service where the failure started")


@lab.task("rankers", "Which rankers are right five minutes in", needs=["answers.yaml"])
def rankers(g):
    answers = g.answers()
    report = g.run(SCENARIO, seed=g.answer_seed())
    right = sorted(s["ranker"] for s in report.rca_scores()
                   if s["delay_s"] == 300 and s["ac1"] == 1)
    said = g.answer(answers, "ac1_rankers_5m", list)
    g.expect(sorted(str(s) for s in said) == right, None,
             "ac1_rankers_5m is not the list of rankers whose first candidate, five minutes "
             "after detection, is the true cause (AC@1 at delay 5m in `dosim score`)")


@lab.task("recovers", "The playbook ends the incident within 15 minutes", needs=[PLAYBOOK])
def recovers(g):
    for run in g.hidden_runs():
        report = with_playbook(g, run.seed)
        incident = the_incident(report)
        g.expect(not incident["ongoing"], run,
                 "the incident still lasted at the end of the run: did your playbook trigger "
                 "(its match) and take back the right change?")
        minutes = recovery_s(report) / 60
        g.expect(minutes <= 15, run,
                 f"the impact lasted {minutes:.0f} minutes: a wrong guess costs a verify "
                 "window; which ranker blames the right change first?")


@lab.task("correct-actions", "Every action the playbook takes is a remedy", needs=[PLAYBOOK])
def correct_actions(g):
    for run in g.hidden_runs():
        trace = g.workdir / f"playbook-{run.index}.h5"
        report = with_playbook(g, run.seed, out=trace)
        root = f"change:{the_incident(report)['name']}"
        with h5py.File(trace, "r") as f:
            if "remediation" not in f:
                raise Failed(f"{run}: the playbook never acted")
            table = f["remediation"]
            actions = [(a.decode(), t.decode()) for a, t, acted in
                       zip(table["action"][()], table["target"][()], table["acted"][()])
                       if acted and a.decode() not in ("acknowledge", "approval", "verify")]
        wrong = [f"{a} {t}" for a, t in actions if (a, t) != ("rollback", root)]
        g.expect(not wrong, run,
                 f"{len(wrong)} of its actions did not remedy the incident (an innocent "
                 "change rolled back, or an action the cause does not call for)")
        g.expect(("rollback", root) in actions, run, "it never took back the bad change")


@lab.task("mttr", "Time to recover, without and with your playbook",
          needs=["answers.yaml", PLAYBOOK])
def mttr(g):
    answers = g.answers()
    without = recovery_s(g.run(SCENARIO, seed=g.answer_seed()))
    with_it = recovery_s(with_playbook(g, g.answer_seed()))
    for key, truth in [("mttr_without_s", without), ("mttr_with_s", with_it)]:
        g.expect(abs(g.answer(answers, key) - truth) <= 0.1 * truth, None,
                 f"{key} is not the incident's time to recover in that run (from the start "
                 "of its impact to its end, in the ground truth), within 10 %")
