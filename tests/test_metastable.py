"""scenarios/metastable.yaml: a retry storm that starts by chance, with no fault, near
saturation at request level, and never recovers. Over seeds 1 to 8, read back with h5py:
where api's error ratio goes above its 5 % objective and stays there, the ground truth has
exactly one incident, `emergent`, rooted at db, starting when the breach started and still
open at the end; db then receives several times api's rate (retries of abandoned work); a
seed that rides out the run has no incident at all."""
import h5py
import numpy as np
import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim

SCENARIO = SOURCE_DIR / "scenarios" / "metastable.yaml"


@pytest.mark.parametrize("seed", range(1, 9))
def test_a_chance_collapse_is_an_emergent_incident(seed):
    trace = TMP / f"metastable-{seed}.h5"
    result = dosim("run", SCENARIO, "--seed", str(seed), "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        t = f["time_ns"][:] / 1e9  # end of each 10 s row
        names = f["services/name"].asstr()[()].tolist()
        api, db = names.index("api"), names.index("db")
        errors = f["metrics/service/error_ratio"][:, api]
        rps = f["metrics/service/rps"][:]
        incidents = f["truth/incidents"]
        causes = incidents["cause"].asstr()[()].tolist()
        broken = np.where(errors > 0.05)[0]
        if len(broken) == 0:  # rode it out
            assert causes == []
            return
        first = broken[0]
        # Metastable: once it breaks, it stays broken to the end of the run.
        assert (errors[first + 6:] > 0.5).all()
        assert rps[first + 6:, db].mean() > 3 * rps[first + 6:, api].mean()  # retried work
        assert causes == ["emergent"]
        assert incidents["root_service"][0] == db
        assert incidents["ongoing"][0] == 1
        assert incidents["impact_end_ns"][0] == f["time_ns"][-1]
        # It opens where the breach began (within a 10 s row and the objective's 1 min rule).
        start = incidents["impact_start_ns"][0] / 1e9
        assert t[first] - 10 - 60 <= start <= t[first], (start, t[first])
        affected = {names[s] for s in f["truth/affected/service"][:]}
        assert affected == {"api", "db"}


def test_some_seeds_collapse_and_some_do_not():
    outcomes = []
    for seed in range(1, 9):
        with h5py.File(TMP / f"metastable-{seed}.h5") as f:
            outcomes.append(len(f["truth/incidents/cause"]) > 0)
    assert any(outcomes) and not all(outcomes), outcomes


def variant(text, name):
    """The scenario with its dependency line changed to `text`."""
    source = SCENARIO.read_text()
    line = "  - {caller: api, callee: db, timeout: 500ms, retries: 3, retry_backoff: 10ms}"
    assert line in source
    path = TMP / f"{name}.yaml"
    path.write_text(source.replace(line, text))
    return path


@pytest.mark.parametrize("seed", [2, 5, 6, 8])
def test_a_retry_budget_lets_the_storm_end_and_a_circuit_breaker_prevents_it(seed):
    budget = variant("  - {caller: api, callee: db, timeout: 500ms, retries: 3, "
                     "retry_backoff: 10ms, retry_budget: {percent: 20}}", "metastable-budget")
    breaker = variant("  - {caller: api, callee: db, timeout: 500ms, retries: 3, "
                      "retry_backoff: 10ms, max_pending: 40}", "metastable-breaker")
    for path, name in ((budget, "budget"), (breaker, "breaker")):
        trace = TMP / f"metastable-{name}-{seed}.h5"
        result = dosim("run", path, "--seed", str(seed), "--out", trace, "--quiet")
        assert result.returncode == 0, result.stderr
        with h5py.File(trace) as f:
            errors = f["metrics/service/error_ratio"][:, 0]
            ongoing = f["truth/incidents/ongoing"][:]
            assert errors[-30:].max() < 0.05, name  # healthy for the last 5 minutes
            assert not ongoing.any(), name          # whatever broke recovered
            if name == "breaker":  # shedding at 40 in flight: no breach at all
                assert len(ongoing) == 0 and errors.max() < 0.05


def test_the_fluid_model_collapses_too_by_chance_near_saturation():
    # The same scenario in the fluid mode: where a tick's requests find the queue moves by
    # chance (docs/world-model.md, Chance), so a burst can time requests out and the retries
    # keep the storm going to the end, as at the request level, at comparable times (first
    # broken row over seeds 1-8: 18 to 357 here, 10 to 222 and one never at the request
    # level). Without the chance (the mean-field model) the same seed never breaks.
    runs = {}
    for name, extra in (("fluid", []), ("mean-field", ["measurement_noise: false"])):
        source = SCENARIO.read_text().replace("mode: requests", "\n".join(["mode: fluid"] + extra))
        path = TMP / f"metastable-{name}.yaml"
        path.write_text(source)
        trace = TMP / f"metastable-{name}.h5"
        result = dosim("run", path, "--seed", "2", "--out", trace, "--quiet")
        assert result.returncode == 0, result.stderr
        with h5py.File(trace) as f:
            names = f["services/name"].asstr()[()].tolist()
            runs[name] = (f["metrics/service/error_ratio"][:, names.index("api")],
                          f["metrics/service/rps"][:], names.index("db"), names.index("api"),
                          f["truth/incidents/cause"].asstr()[()].tolist())
    errors, rps, db, api, causes = runs["fluid"]
    broken = np.where(errors > 0.05)[0]
    assert len(broken) > 0
    first = broken[0]
    assert (errors[first + 6:] > 0.5).all()  # it never recovers
    assert rps[first + 6:, db].mean() > 3 * rps[first + 6:, api].mean()  # retried work
    assert causes == ["emergent"]
    assert runs["mean-field"][0].max() < 0.05 and runs["mean-field"][4] == []
