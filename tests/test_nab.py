"""`dosim nab score` against NAB's published scoreboard: for the detectors whose results are
in the NAB copy (numenta, twitterADVec), every profile's normalized score must equal
results/final_results.json within 0.01, with the thresholds of config/thresholds.json. The
optimizer (--optimize) must do at least as well as those thresholds, and an independent
Python transcription of NAB's scoring rules must give the raw score it reports at the
threshold it chose. Bad input (a missing results folder, an unknown detector, no NAB root)
exits 2 with a message; those checks run on a tiny NAB root written here.

The NAB copy is $DOSIM_NAB, else ../shared/nab beside the checkout; without it the
published-number checks are skipped."""
import json
import math
import sys

import pytest

from dosim_test_util import NAB, TMP, Checks, dosim, env_without_nab, has_nab

DETECTORS = ["numenta", "twitterADVec"]


def make_tiny_root():
    """A one-file NAB root: 20 rows, windows rows 5..8 and 14..16, detector `det`."""
    root = TMP / "nab_tiny"
    stamps = [f"2015-01-01 00:{i:02d}:00" for i in range(20)]
    files = {
        "data/cat/series.csv": "timestamp,value\n" + "".join(f"{s},{i}\n" for i, s in enumerate(stamps)),
        "labels/combined_windows.json": json.dumps(
            {"cat/series.csv": [[stamps[5] + ".000000", stamps[8] + ".000000"],
                                [stamps[14] + ".000000", stamps[16] + ".000000"]]}),
        "config/profiles.json": json.dumps(
            {"standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11}}}),
        "config/thresholds.json": json.dumps({"det": {"standard": {"score": 0.0, "threshold": 0.5}}}),
        "results/det/cat/det_series.csv": "timestamp,anomaly_score\n" + "".join(
            f"{s},{0.9 if i in (1, 4, 6, 7, 10, 19) else 0.1}\n" for i, s in enumerate(stamps)),
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_bad_input():
    check = Checks()
    root = make_tiny_root()
    ok = dosim("nab", "score", "--nab", root, "--detector", "det", "--json")
    check(ok.returncode == 0, f"tiny root: exit {ok.returncode}: {ok.stderr}")
    if ok.returncode == 0:
        standard = json.loads(ok.stdout)["profiles"]["standard"]
        # The hand-worked file of tests/test_nab_score.cc: raw -0.35531136, 41.117216 normalized.
        check(abs(standard["raw_score"] - -0.3553113578532498) < 1e-12, f"tiny raw {standard}")
        check(abs(standard["score"] - 41.117216053668756) < 1e-9, f"tiny score {standard}")
    missing = TMP / "no-such-results"
    bad = dosim("nab", "score", "--nab", root, "--detector", "det", "--results", missing)
    check(bad.returncode == 2, f"missing --results dir: exit {bad.returncode}")
    check(str(missing) in bad.stderr and "no results directory" in bad.stderr,
          f"missing --results dir: stderr {bad.stderr!r}")
    unknown = dosim("nab", "score", "--nab", root, "--detector", "dte")
    check(unknown.returncode == 2, f"unknown detector: exit {unknown.returncode}")
    check("did you mean `det`" in unknown.stderr, f"unknown detector: stderr {unknown.stderr!r}")
    no_root = dosim("nab", "score", "--detector", "det", env=env_without_nab())
    check(no_root.returncode == 2, f"no --nab and no DOSIM_NAB: exit {no_root.returncode}")
    by_env = dosim("nab", "score", "--detector", "det", env={**env_without_nab(), "DOSIM_NAB": str(root)})
    check(by_env.returncode == 0 and "41.12" in by_env.stdout,
          f"DOSIM_NAB: exit {by_env.returncode}: {by_env.stdout} {by_env.stderr}")
    not_root = dosim("nab", "score", "--nab", TMP / "no-such-nab", "--detector", "det")
    check(not_root.returncode == 2 and "no NAB root" in not_root.stderr,
          f"missing NAB root: exit {not_root.returncode}: {not_root.stderr!r}")
    check.assert_passed()


# An independent transcription of NAB's scoring rules (nab/sweeper.py), file by file.
def read_column(path, name):
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    header = [h.strip() for h in lines[0].split(",")]
    index = header.index(name)
    return [line.split(",")[index].strip() for line in lines[1:]]


def scaled_sigmoid(x):
    return -1.0 if x > 3.0 else 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def reference_raw_score(detector, profile, threshold):
    windows = json.loads((NAB / "labels" / "combined_windows.json").read_text())
    total = 0.0
    for relative, limits in windows.items():
        category, name = relative.split("/")
        stamps = [s.split(".")[0] for s in read_column(NAB / "data" / relative, "timestamp")]
        scores = [float(s) for s in read_column(
            NAB / "results" / detector / category / f"{detector}_{name}", "anomaly_score")]
        n = len(stamps)
        probation = min(math.floor(0.15 * n), 0.15 * 5000)
        spans = [(stamps.index(a.split(".")[0]), stamps.index(b.split(".")[0])) for a, b in limits]
        window_of = {}
        for k, (a, b) in enumerate(spans):
            for i in range(a, b + 1):
                window_of[i] = k
        best = {k: -profile["fnWeight"] for k, (a, b) in enumerate(spans) if b >= probation}
        previous = None
        for i in range(n):
            k = window_of.get(i)
            if k is not None:
                a, b = spans[k]
                weight = scaled_sigmoid(-(b - i + 1) / (b - a + 1)) * profile["tpWeight"] / scaled_sigmoid(-1.0)
            elif previous is None:
                weight = -profile["fpWeight"]
            else:
                a, b = previous
                distance = (i - b) / (b - a) if b > a else math.inf
                weight = scaled_sigmoid(distance) * profile["fpWeight"]
            if k is not None and i == spans[k][1]:
                previous = spans[k]
            if i < probation or scores[i] < threshold:
                continue
            if k is None:
                total += weight
            else:
                best[k] = max(best[k], weight)
        total += sum(best.values())
    return total


def test_published_scores():
    if not has_nab():
        pytest.skip(f"no NAB copy at {NAB} (set DOSIM_NAB): published scores not checked")
    check = Checks()
    final = json.loads((NAB / "results" / "final_results.json").read_text())
    profiles = json.loads((NAB / "config" / "profiles.json").read_text())
    for detector in DETECTORS:
        run = dosim("nab", "score", "--nab", NAB, "--detector", detector, "--json")
        check(run.returncode == 0, f"{detector}: exit {run.returncode}: {run.stderr}")
        if run.returncode != 0:
            continue
        ours = json.loads(run.stdout)["profiles"]
        for profile, published in final[detector].items():
            score = ours.get(profile, {}).get("score")
            ok = score is not None and abs(score - published) <= 0.01
            print(f"{detector:13} {profile:19} dosim {score!r:22} NAB {published!r:22}"
                  f" {'ok' if ok else 'DIFFERS'}")
            check(ok, f"{detector} {profile}: dosim {score}, final_results.json {published}")

        optimized = dosim("nab", "score", "--nab", NAB, "--detector", detector, "--json", "--optimize")
        check(optimized.returncode == 0, f"{detector} --optimize: exit {optimized.returncode}")
        if optimized.returncode != 0:
            continue
        best = json.loads(optimized.stdout)["profiles"]
        for profile, values in best.items():
            check(values["raw_score"] >= ours[profile]["raw_score"] - 1e-9,
                  f"{detector} {profile}: optimized {values['raw_score']} below the published "
                  f"threshold's {ours[profile]['raw_score']}")
            reference = reference_raw_score(detector, profiles[profile]["CostMatrix"], values["threshold"])
            check(abs(reference - values["raw_score"]) < 1e-9,
                  f"{detector} {profile}: optimizer says {values['raw_score']} at "
                  f"{values['threshold']}, the Python reference {reference}")
        # At the published threshold too.
        reference = reference_raw_score(detector, profiles["standard"]["CostMatrix"],
                                        ours["standard"]["threshold"])
        check(abs(reference - ours["standard"]["raw_score"]) < 1e-9,
              f"{detector} standard: dosim raw {ours['standard']['raw_score']}, reference {reference}")
    check.assert_passed()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
