"""`dosim bench`: detectors x scenarios x seeds.

- the JSON is byte-identical for 1 and 2 threads;
- it holds one run per (scenario, seed), seeds counting up from the scenario's own;
- a detector named after a scenario's own detector scores exactly what `dosim run` and
  `dosim score --json` report for that detector on the same seed (a different code path:
  trace written, read back, scored);
- the summary's median, min and max are those of the runs, recomputed here;
- bad input (unknown detector, missing scenario, --seeds 0) exits 2 with a message.
"""
import json
import os
import statistics
import sys

import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim

SCENARIOS = [str(SOURCE_DIR / "scenarios" / "payments-mad.yaml"),
             str(SOURCE_DIR / "scenarios" / "crash-loop.yaml")]
DETECTORS = "mad,threshold,ewma,burn_rate"


def bench(threads, out, detectors=DETECTORS, scenarios=SCENARIOS, seeds=2):
    result = dosim("bench", "--detectors", detectors, "--scenarios", ",".join(scenarios),
                   "--seeds", seeds, "--threads", threads, "--out", out, "--quiet", timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def test_results_identical_for_any_thread_count():
    one, two = os.path.join(TMP, "bench-1.json"), os.path.join(TMP, "bench-2.json")
    table_one = bench(1, one).stdout
    table_two = bench(2, two).stdout
    with open(one, "rb") as a, open(two, "rb") as b:
        assert a.read() == b.read()
    def strip(text):  # what legitimately differs: the thread count, wall time, output path
        return [line for line in text.splitlines()
                if not any(word in line for word in ("threads", "wall time", "results"))]
    assert strip(table_one) == strip(table_two)
    results = json.load(open(one))
    assert results["detectors"] == DETECTORS.split(",")
    runs = results["runs"]
    assert [(os.path.basename(r["scenario"]), r["seed"]) for r in runs] == [
        ("payments-mad.yaml", 2024), ("payments-mad.yaml", 2025), ("crash-loop.yaml", 808),
        ("crash-loop.yaml", 809)], [(r["scenario"], r["seed"]) for r in runs]
    for name in DETECTORS.split(",") + ["null"]:
        for metric, s in results["summary"][name].items():
            values = [r["scores"][name][metric] for r in runs if r["scores"][name][metric] is not None]
            assert s["runs"] == len(values)
            if values:
                assert s["median"] == statistics.median(values), (name, metric)
                assert (s["min"], s["max"]) == (min(values), max(values)), (name, metric)
    null = results["summary"]["null"]
    assert null["recall"]["max"] == 0 and null["alerts"]["max"] == 0
    assert "mad" in table_one and "null" in table_one


def seed_of(path):
    for line in open(path):
        if line.startswith("seed:"):
            return int(line.split(":")[1])
    raise AssertionError(f"no seed in {path}")


def test_scenario_detector_scores_match_dosim_score():
    scenario = SCENARIOS[0]
    out = os.path.join(TMP, "bench-own.json")
    bench(1, out, detectors="mad-services", scenarios=[scenario], seeds=2)
    runs = json.load(open(out))["runs"]
    for run in runs:
        trace = os.path.join(TMP, f"bench-own-{run['seed']}.h5")
        result = dosim("run", scenario, "--seed", run["seed"], "--out", trace, "--quiet",
                       timeout=300)
        assert result.returncode == 0, result.stderr
        scored = dosim("score", trace, "--json", timeout=60)
        assert scored.returncode == 0, scored.stderr
        expected = json.loads(scored.stdout)["scores"]["mad-services"]
        got = run["scores"]["mad-services"]
        for metric in ("precision", "recall", "f1", "false_alarms_per_hour"):
            assert got[metric] == expected[metric], (run["seed"], metric, got, expected)
        assert got["alerts"] == expected["alerts"]
        assert got["ttd_median_s"] == expected["time_to_detect_median_ns"] / 1e9
    assert runs[0]["seed"] == seed_of(scenario)


def test_bad_input_exits_2():
    out = os.path.join(TMP, "bench-bad.json")
    unknown = dosim("bench", "--detectors", "mda", "--scenarios", SCENARIOS[0], "--out", out)
    assert unknown.returncode == 2
    assert "'mda' is neither a detector kind" in unknown.stderr and "did you mean 'mad'" in unknown.stderr
    missing = dosim("bench", "--detectors", "mad", "--scenarios", "no-such.yaml")
    assert missing.returncode == 2 and "no-such.yaml" in missing.stderr, missing.stderr
    zero = dosim("bench", "--detectors", "mad", "--scenarios", SCENARIOS[0], "--seeds", "0")
    assert zero.returncode == 2, zero.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
