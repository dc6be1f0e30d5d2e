"""Lab 3, "Chaos engineering": the grader (HANDOUT.md says what is asked).

The student's gameday.lua runs on the shop with hidden seeds; its chaos must come from
their two Chaos Mesh manifests (sim.apply), its experiment must reach the verdict the
specified hypothesis gives, and its rollbacks must delete the chaos."""

import h5py
import yaml

from dosim.labs import Failed, Lab

lab = Lab("lab3", "Chaos engineering: a game day", runs=3)

SCENARIO, SCRIPT = "shop.yaml", "gameday.lua"
MANIFESTS = {"slow-payments.yaml": ("NetworkChaos", "checkout->payments"),
             "catalog-pods.yaml": ("PodChaos", "catalog")}
NS = 10**9


def game_day(g, run):
    return g.run(SCENARIO, seed=run.seed, script=str(g.submitted(SCRIPT)))


def manifest_name(g, file):
    try:
        documents = [d for d in yaml.safe_load_all(g.submitted(file).read_text()) if d]
    except yaml.YAMLError as error:
        raise Failed(f"{file} is not valid YAML: {error}") from None
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise Failed(f"{file} must hold one Chaos Mesh object")
    return documents[0], str((documents[0].get("metadata") or {}).get("name", ""))


def the_experiment(report, run, g):
    g.expect(len(report.experiments) == 1, run,
             f"the script ran {len(report.experiments)} experiments; the game day is one "
             "sim.experiment{...}")
    return report.experiments.iloc[0]


@lab.task("manifests", "Two Chaos Mesh manifests: slow payments, lost catalog pods",
          needs=list(MANIFESTS))
def manifests(g):
    import dosim
    for file, (kind, target) in MANIFESTS.items():
        document, name = manifest_name(g, file)
        g.expect(document.get("kind") == kind, None, f"{file} is not a {kind}")
        path = g.scenario(SCENARIO, manifests=[{"file": g.submitted(file), "start": "10m",
                                                "duration": "5m"}])
        try:
            warnings = [d for d in dosim.validate(str(path)) if d.file.endswith(file)]
        except dosim.InputError as error:
            raise Failed(f"{file} does not load:\n" +
                         "\n".join(str(d) for d in error.diagnostics)) from None
        g.expect(not warnings, None, f"{file} has warnings: " + "; ".join(
            w.message for w in warnings))
        report = g.run(SCENARIO, seed=None, manifests=[{"file": g.submitted(file),
                                                        "start": "10m", "duration": "5m"}])
        targets = set(report.incidents["root_cause"])
        g.expect(targets == {target}, None,
                 f"{file} acts on {sorted(targets) or 'nothing'}, not on what the handout "
                 "asks (check the selector, and the target for a NetworkChaos)")


@lab.task("experiment", "gameday.lua runs one experiment with a hypothesis, chaos from the "
          "manifests", needs=[SCRIPT] + list(MANIFESTS))
def experiment(g):
    names = {manifest_name(g, f)[1] for f in MANIFESTS}
    for run in g.hidden_runs():
        report = game_day(g, run)
        row = the_experiment(report, run, g)
        g.expect(row["verdict"] != "error", run,
                 f"the experiment ended in error: {row['message']}")
        g.expect(row["start_ns"] >= 10 * 60 * NS, run,
                 "the experiment starts before ten quiet minutes have passed")
        faults = set(report.incidents["name"].str.split("#").str[0])
        g.expect(faults == names, run,
                 f"the run's faults are {sorted(faults) or 'none'}: the chaos must be your two "
                 "manifests, applied with sim.apply inside the method")


def chaos_applied(g, run, report):
    """A verdict or a rollback means something only about the manifests' chaos: without it
    an empty method passes both (no chaos outlives it; a hypothesis may fail by itself)."""
    names = {manifest_name(g, f)[1] for f in MANIFESTS}
    faults = set(report.incidents["name"].str.split("#").str[0])
    g.expect(names <= faults, run,
             "the experiment applies none or only some of your manifests: its verdict and "
             "rollbacks are about that chaos (sim.apply inside the method)")


@lab.task("verdict", "The hypothesis catches what the chaos does", needs=[SCRIPT] + list(MANIFESTS))
def verdict(g):
    for run in g.hidden_runs():
        report = game_day(g, run)
        chaos_applied(g, run, report)
        row = the_experiment(report, run, g)
        g.expect(row["verdict"] == "fail", run,
                 f"the experiment's verdict is {row['verdict']}. Is the hypothesis checked "
                 "again while the chaos is still on? Are 200 ms and 1 % compared in the "
                 "units sim.metric returns (seconds, a ratio)?")
        g.expect(row["failed_at_ns"] > row["start_ns"], run,
                 "the hypothesis already fails before any chaos: the steady state must hold "
                 "on the quiet shop")


@lab.task("rollback", "The rollbacks delete the chaos", needs=[SCRIPT] + list(MANIFESTS))
def rollback(g):
    for run in g.hidden_runs():
        report = game_day(g, run)
        chaos_applied(g, run, report)
        row = the_experiment(report, run, g)
        late = report.incidents[(report.incidents["end_ns"] > row["end_ns"]) |
                                (report.incidents["ongoing"])]
        g.expect(len(late) == 0, run,
                 f"{len(late)} of the chaos outlived the experiment: the rollbacks must delete "
                 "what the method applied (sim.apply returns a handle with :stop())")


def gateway_p95_peak(g, file):
    trace = g.workdir / f"alone-{file}.h5"
    g.run(SCENARIO, seed=None, out=str(trace),
          manifests=[{"file": g.submitted(file), "start": "10m", "duration": "5m"}])
    with h5py.File(trace, "r") as f:
        services = [s.decode() for s in f["services/name"][()]]
        p95 = f["metrics/service/latency_p95_s"][()][:, services.index("gateway")]
        t = f["time_ns"][()]
    return float(p95[(t > 11 * 60 * NS) & (t <= 15 * 60 * NS)].max())


@lab.task("culprit", "Which fault breaks the steady state", needs=["answers.yaml"]
          + list(MANIFESTS))
def culprit(g):
    answers = g.answers()
    breaking = sorted(manifest_name(g, f)[1] for f in MANIFESTS
                      if gateway_p95_peak(g, f) > 0.200)
    said = g.answer(answers, "culprits", list)
    g.expect(sorted(str(s) for s in said) == breaking, None,
             "culprits is not the list of your manifests (by metadata.name) that alone, "
             "applied for five minutes, take the gateway's p95 above 200 ms: try each alone")
