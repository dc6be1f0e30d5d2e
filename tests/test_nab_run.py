"""`dosim nab run`: dosim's detectors replayed over NAB's files and scored as NAB scores.

On a tiny NAB root written here: the JSON holds every detector's optimized threshold and
score per profile with per-file scores that add up to the corpus score, the null baseline
scores 0, the scoreboard carries the root's published entries and is sorted, and bad input
(an unknown kind, a bad parameter, --files matching nothing, a bad data file, no root, an
unwritable --out) exits 2 with a message.

On the NAB copy ($DOSIM_NAB, else ../shared/nab beside the checkout): a few files give
byte-identical JSON with 1 and 2 threads, the scoreboard shows NAB's published entries with
the numbers of results/final_results.json, and the whole run of the built-in CPU detectors
takes under a minute on one thread. Without the copy those checks are skipped."""
import json
import sys
import time

import pytest

from dosim_test_util import NAB, SOURCE_DIR, TMP, Checks, dosim, env_without_nab, has_nab

PROFILES = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"]


def make_tiny_root():
    """Two files of 200 rows (5-minute steps) with a jump inside each one's window."""
    root = TMP / "nab_run_tiny"
    files = {}
    windows = {}
    for name, jump in (("a/one.csv", 150), ("b/two.csv", 170)):
        stamps = [f"2015-01-{1 + i // 288:02d} {(i % 288) // 12:02d}:{(i % 12) * 5:02d}:00"
                  for i in range(200)]
        values = [10 + (i % 7) * 0.5 + (25 if jump <= i < jump + 3 else 0) for i in range(200)]
        files["data/" + name] = "timestamp,value\n" + "".join(
            f"{s},{v}\n" for s, v in zip(stamps, values))
        windows[name] = [[stamps[jump - 5] + ".000000", stamps[jump + 10] + ".000000"]]
    files["labels/combined_windows.json"] = json.dumps(windows)
    files["config/profiles.json"] = json.dumps({
        "standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11}},
        "reward_low_FP_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22}},
        "reward_low_FN_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11}}})
    files["results/final_results.json"] = json.dumps({
        "published": {"standard": 50.5, "reward_low_FP_rate": 40.25, "reward_low_FN_rate": 60.0},
        "null": {"standard": 0.0, "reward_low_FP_rate": 0.0, "reward_low_FN_rate": 0.0}})
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_tiny_root():
    check = Checks()
    root = make_tiny_root()
    out1, out2 = TMP / "tiny1.json", TMP / "tiny2.json"
    detectors = "threshold,mad,mad:window=32:meanad=1:scores=squash,ewma:alpha=0.02,random,null"
    run = dosim("nab", "run", "--nab", root, "--detectors", detectors, "-j", "1", "--out", out1)
    check(run.returncode == 0, f"tiny run: exit {run.returncode}: {run.stderr}")
    if run.returncode != 0:
        check.assert_passed()
    again = dosim("nab", "run", "--nab", root, "--detectors", detectors, "-j", "2", "--out", out2)
    check(again.returncode == 0 and out1.read_bytes() == out2.read_bytes(),
          "tiny run: the JSON differs between 1 and 2 threads")
    result = json.loads(out1.read_text())
    check(result["files"] == ["a/one.csv", "b/two.csv"], f"files {result['files']}")
    check(list(result["results"]) == detectors.split(","), f"detectors {list(result['results'])}")
    for name, detector in result["results"].items():
        for profile in PROFILES:
            p = detector["profiles"][profile]
            total = sum(f["raw_score"] for f in p["files"])
            check(abs(total - p["raw_score"]) < 1e-9,
                  f"{name} {profile}: files add up to {total}, the corpus says {p['raw_score']}")
            check(0.0 <= p["threshold"] <= 1.1, f"{name} {profile}: threshold {p['threshold']}")
            check([f["file"] for f in p["files"]] == result["files"], f"{name}: per-file names")
    null = result["results"]["null"]["profiles"]
    check(all(null[p]["score"] == 0.0 for p in PROFILES), f"null scores {null}")
    check(result["results"]["mad:window=32:meanad=1:scores=squash"]["scores"] == "squash",
          "scores=squash recorded")
    check(result["results"]["mad"]["scores"] == "rank", "rank is the default")
    # A jump of 25 over a 7-step saw-tooth: the threshold and MAD detectors find both windows.
    for name in ("threshold", "mad"):
        standard = result["results"][name]["profiles"]["standard"]
        check(standard["windows_detected"] == 2 and standard["score"] > 50,
              f"{name}: {standard['windows_detected']} windows, score {standard['score']}")
    board = result["scoreboard"]
    scores = [row["standard"] for row in board]
    check(scores == sorted(scores, reverse=True), f"scoreboard not sorted: {scores}")
    published = [row for row in board if row["source"] == "NAB"]
    check([row["detector"] for row in published] == ["published", "null"],
          f"published entries {published}")
    check(published[0]["reward_low_FP_rate"] == 40.25, f"published numbers {published[0]}")
    check("published" in run.stdout and "NAB" in run.stdout and "dosim" in run.stdout,
          f"stdout: {run.stdout}")
    check.assert_passed()


def test_lstm_with_a_one_metric_model():
    """lstm runs on NAB with a model of one metric (a random one, written here with the
    project's own model writer, or by default models/lstm-rps-5m.h5); a model of four
    metrics (models/lstm-noop.h5) is refused."""
    check = Checks()
    sys.path.insert(0, str(SOURCE_DIR / "analysis"))
    import numpy as np
    from lstm_model_file import LstmModel, write_model_file
    rng = np.random.default_rng(3)
    hidden = 4
    model = LstmModel(
        metrics=["value"], mean=np.array([5.0]), std=np.array([2.0]), err_std=np.array([0.5]),
        layers=[(rng.normal(0, 0.5, (4 * hidden, 1)), rng.normal(0, 0.5, (4 * hidden, hidden)),
                 rng.normal(0, 0.1, 4 * hidden), rng.normal(0, 0.1, 4 * hidden))],
        head_weight=rng.normal(0, 0.5, (1, hidden)), head_bias=np.zeros(1), trained_on="test")
    path = TMP / "one_metric.h5"
    write_model_file(path, model)
    root = make_tiny_root()
    out1, out2 = TMP / "lstm1.json", TMP / "lstm2.json"
    runs = [dosim("nab", "run", "--nab", root, "--detectors", f"lstm:model={path}:warmup=5", "-j",
                  threads, "--out", out) for threads, out in (("1", out1), ("2", out2))]
    check(all(r.returncode == 0 for r in runs), f"lstm: {[r.stderr for r in runs]}")
    if all(r.returncode == 0 for r in runs):
        check(out1.read_bytes() == out2.read_bytes(), "lstm: JSON differs between 1 and 2 threads")
        result = json.loads(out1.read_text())["results"][f"lstm:model={path}:warmup=5"]
        check(result["kind"] == "lstm" and result["params"] == {"warmup": 5.0, "adapt": 0.0}, f"lstm: {result}")
    noop = SOURCE_DIR / "models" / "lstm-noop.h5"
    four = dosim("nab", "run", "--nab", root, "--detectors", f"lstm:model={noop}")
    check(four.returncode == 2 and "needs a model of one metric" in four.stderr,
          f"lstm with a model of four metrics: exit {four.returncode}, {four.stderr!r}")
    default = dosim("nab", "run", "--nab", root, "--detectors", "lstm", "--out", out1)
    check(default.returncode == 0, f"lstm with models/lstm-rps-5m.h5: {default.stderr!r}")
    check.assert_passed()


def read_results(folder, name, relative):
    """One file's anomaly scores from --results DIR: (timestamps, scores)."""
    category, base = relative.split("/")
    rows = (folder / name / category / f"{name}_{base}").read_text().splitlines()
    assert rows[0] == "timestamp,anomaly_score", rows[0]
    return [r.split(",")[0] for r in rows[1:]], [float(r.split(",")[1]) for r in rows[1:]]


def test_group_and_results_layout():
    """--results writes every row's NAB anomaly score in NAB's layout (the data's timestamps,
    read back by `dosim nab score` to the run's own score); group=N zeroes the N rows after
    each row whose anomaly score reaches group_at, as a hand computation over the ungrouped
    scores says."""
    check = Checks()
    root = make_tiny_root()
    folder, out = TMP / "nab_results_layout", TMP / "grouped.json"
    detectors = "mad:window=32,mad:window=32:group=6:group_at=0.9,ewma:group=4"
    run = dosim("nab", "run", "--nab", root, "--detectors", detectors, "--results", folder,
                "--out", out)
    check(run.returncode == 0, f"exit {run.returncode}: {run.stderr}")
    if run.returncode != 0:
        check.assert_passed()
    result = json.loads(out.read_text())
    grouped_entry = result["results"]["mad:window=32:group=6:group_at=0.9"]
    check(grouped_entry["group"] == 6 and grouped_entry["group_at"] == 0.9, f"{grouped_entry}")
    check(result["results"]["ewma:group=4"]["group_at"] == 0.999, "group_at defaults to 0.999")
    zeroed = 0
    for relative in result["files"]:
        stamps, plain = read_results(folder, "mad_window_32", relative)
        data = (root / "data" / relative).read_text().splitlines()[1:]
        check(stamps == [line.split(",")[0] for line in data], f"{relative}: timestamps")
        _, grouped = read_results(folder, "mad_window_32_group_6_group_at_0.9", relative)
        expected, quiet = [], 0
        for score in plain:
            if quiet:
                expected.append(0.0)
                quiet -= 1
            else:
                expected.append(score)
                quiet = 6 if score >= 0.9 else 0
        check(grouped == expected, f"{relative}: grouped scores differ from the hand grouping")
        zeroed += sum(1 for a, b in zip(plain, grouped) if a != b)
    check(zeroed > 0, "group=6 zeroed no row: the test's series never reached 0.9")
    for name, entry in (("mad_window_32", "mad:window=32"),
                        ("mad_window_32_group_6_group_at_0.9", "mad:window=32:group=6:group_at=0.9")):
        score = dosim("nab", "score", "--nab", root, "--detector", name, "--results", folder,
                      "--optimize", "--json")
        check(score.returncode == 0, f"nab score {name}: {score.stderr}")
        if score.returncode == 0:
            read_back = json.loads(score.stdout)["profiles"]["standard"]["score"]
            ran = result["results"][entry]["profiles"]["standard"]["score"]
            check(read_back == ran, f"{name}: nab score reads {read_back}, the run said {ran}")
    # A run of some files (--files) is scored with the same --files; without, every missing
    # results file is said at once (the first alone was).
    part = TMP / "nab_results_part"
    run = dosim("nab", "run", "--nab", root, "--detectors", "mad", "--files", "a/*",
                "--results", part, "--out", TMP / "part.json")
    check(run.returncode == 0, run.stderr)
    score = dosim("nab", "score", "--nab", root, "--detector", "mad", "--results", part,
                  "--files", "a/*", "--optimize", "--json")
    check(score.returncode == 0, score.stderr)
    if score.returncode == 0:
        ran = json.loads((TMP / "part.json").read_text())["results"]["mad"]["profiles"]
        check(json.loads(score.stdout)["profiles"]["standard"]["score"] ==
              ran["standard"]["score"], "a --files run reads back to its score")
    for written in (part / "mad").rglob("*.csv"):
        written.unlink()  # a's results gone too: two files missing, both said
    whole = dosim("nab", "score", "--nab", root, "--detector", "mad", "--results", part,
                  "--optimize")
    check(whole.returncode == 2 and "results file for `a/one.csv`" in whole.stderr and
          "results file for `b/two.csv`" in whole.stderr and "2 problems" in whole.stderr,
          whole.stderr)
    check.assert_passed()


def test_bad_input():
    check = Checks()
    root = make_tiny_root()

    def fails(args, needle, env=None):
        result = dosim("nab", "run", *args, env=env)
        check(result.returncode == 2, f"{args}: exit {result.returncode}, stderr {result.stderr!r}")
        check(needle in result.stderr, f"{args}: {needle!r} not in stderr {result.stderr!r}")

    fails(["--nab", root, "--detectors", "mda"], "unknown detector kind 'mda'; did you mean 'mad'?")
    fails(["--nab", root, "--detectors", "mad:windw=10"],
          "unknown parameter 'windw' for kind mad; did you mean 'window'?")
    fails(["--nab", root, "--detectors", "mad:window=ten"], "expected a number for 'window'")
    fails(["--nab", root, "--detectors", "mad:window=64:window=20"],
          "parameter 'window' is given twice")
    fails(["--nab", root, "--detectors", "mad:for=10h"], "'for' does not apply")
    fails(["--nab", root, "--detectors", "mad:window=1000"], "'window' must be a whole number")
    fails(["--nab", root, "--detectors", "ewma:scores=best"], "'scores' must be squash or rank")
    fails(["--nab", root, "--detectors", "surprise:rest=soon"], "'rest' must be a number of rows or auto")
    fails(["--nab", root, "--detectors", "mad:rest=-2"], "'rest' must be a whole number of ticks")
    fails(["--nab", root, "--detectors", "mad:group=1.5"], "'group' must be a whole number of rows")
    fails(["--nab", root, "--detectors", "mad:group=-3"], "'group' must be a whole number of rows")
    fails(["--nab", root, "--detectors", "mad:group=5:group_at=1"], "'group_at' must be an anomaly score in (0, 1)")
    fails(["--nab", root, "--detectors", "mad:group_at=high"], "'group_at' must be an anomaly score")
    (TMP / "a-file").write_text("x")
    fails(["--nab", root, "--detectors", "mad", "--results", TMP / "a-file" / "r"],
          "cannot write the NAB results file")
    fails(["--nab", root, "--detectors", "random:seed=3"], "takes no parameters")
    fails(["--nab", root, "--detectors", "mad,mad"], "'mad' twice")
    fails(["--nab", root, "--detectors", "mad", "--files", "c/*"], "matches no NAB file")
    fails(["--nab", TMP / "no-such-nab", "--detectors", "mad"], "no NAB root")
    fails(["--detectors", "mad"], "--nab", env=env_without_nab())
    fails(["--nab", root, "--detectors", "mad", "--out", TMP / "no-such-dir" / "x.json"],
          "cannot write the results")
    data = root / "data" / "b" / "two.csv"
    lines = data.read_text().splitlines()
    lines[7] = lines[7].split(",")[0] + ",seven"
    data.write_text("\n".join(lines) + "\n")
    fails(["--nab", root, "--detectors", "mad"], f"{data}:8:21: bad value `seven`")
    # Every bad row of every file at once (a bad timestamp hid the bad value before it, and
    # the other file's problems), each said once.
    lines[9] = "2015-01-01 99:00:00," + lines[9].split(",")[1]
    lines[11] = lines[11].split(",")[0]  # a timestamp alone: said with the rest (it was not)
    data.write_text("\n".join(lines) + "\n")
    other = root / "data" / "a" / "one.csv"
    other_lines = other.read_text().splitlines()
    other_lines[3] = other_lines[3].split(",")[0] + ",x"
    other.write_text("\n".join(other_lines) + "\n")
    result = dosim("nab", "run", "--nab", root, "--detectors", "mad")
    check(result.returncode == 2 and result.stderr.count("bad value `seven`") == 1
          and f"{data}:10:1: bad timestamp `2015-01-01 99:00:00`" in result.stderr
          and f"{other}:4:21: bad value `x`" in result.stderr
          and f"{data}:12:1: 1 field, the header needs at least 2" in result.stderr, result.stderr)
    # --files reads only the files it keeps: the others may be broken or missing.
    data.unlink()
    other.write_text("\n".join(other_lines[:3] + other_lines[4:]) + "\n")
    result = dosim("nab", "run", "--nab", root, "--detectors", "mad", "--files", "a/*")
    check(result.returncode == 0, result.stderr)
    check.assert_passed()


def test_labels_and_rows_said_whole():
    """Found by a new-user audit: a file named twice in the windows file lost its first
    windows silently; `{}` scored nothing with exit 0; window problems stopped at the first and
    named no window; a header-only data file was blamed on the labels; 2,000 bad rows were
    counted as 101 problems; Unix time was said as a bad timestamp without why."""
    check = Checks()

    def fails(root, needles):
        result = dosim("nab", "run", "--nab", root, "--detectors", "mad")
        check(result.returncode == 2, f"exit {result.returncode}: {result.stderr!r}")
        for needle in needles:
            check(needle in result.stderr, f"{needle!r} not in {result.stderr!r}")
        return result

    root = make_tiny_root()
    labels = root / "labels" / "combined_windows.json"
    windows = json.loads(labels.read_text())
    one = windows["a/one.csv"][0]
    labels.write_text('{"a/one.csv": %s, "b/two.csv": [], "a/one.csv": []}' % json.dumps([one]))
    fails(root, [f"{labels}: key `a/one.csv` given twice in one object"])
    labels.write_text("{}")
    fails(root, [f"{labels}: names no data file"])
    labels.write_text(json.dumps({"a/one.csv": [[one[1], one[0]], ["2015-01-01 00:00:00", "x"],
                                                ["1999-01-01 00:00:00", one[1]]],
                                  "b/two.csv": windows["b/two.csv"]}))
    fails(root, ["`a/one.csv` window 1: ends before it starts",
                 "`a/one.csv` window 2: end: bad timestamp `x`",
                 "`a/one.csv` window 3: start `1999-01-01 00:00:00` matches no row"])
    labels.write_text(json.dumps(windows))
    data = root / "data" / "b" / "two.csv"
    data.write_text("timestamp,value\n")
    fails(root, [f"{data}: no rows (a header alone)"])
    data.write_text("timestamp,value\n" + "".join(f"{1420070400 + 300 * i},1\n" for i in range(200)))
    result = fails(root, ["bad timestamp `1420070400` (expected a date as NAB writes them",
                          "and 100 more bad rows from here"])
    check("200 problems" in result.stderr, result.stderr)
    check.assert_passed()


def test_score_names_the_results_folder_and_optimize():
    """nab score --detector ewma:alpha=1e-2 (the token nab run took) found no folder and said
    nothing of ewma_alpha_1e-2, the one nab run wrote; no thresholds said nothing of
    --optimize."""
    root = make_tiny_root()
    results = TMP / "nab_named_results"
    ran = dosim("nab", "run", "--nab", root, "--detectors", "ewma:alpha=1e-2", "--results", results)
    assert ran.returncode == 0, ran.stderr
    scored = dosim("nab", "score", "--nab", root, "--results", results,
                   "--detector", "ewma:alpha=1e-2", "--optimize")
    assert scored.returncode == 2 and "(did you mean `ewma_alpha_1e-2`?)" in scored.stderr, \
        scored.stderr
    (root / "config" / "thresholds.json").write_text(
        json.dumps({"numenta": {"standard": {"threshold": 0.5, "score": 1.0}}}))
    scored = dosim("nab", "score", "--nab", root, "--results", results,
                   "--detector", "ewma_alpha_1e-2")
    assert scored.returncode == 2 and "--optimize finds a detector's best" in scored.stderr, \
        scored.stderr


def test_real_nab():
    if not has_nab():
        pytest.skip(f"no NAB copy at {NAB} (set DOSIM_NAB): the real NAB run is not checked")
    check = Checks()
    final = json.loads((NAB / "results" / "final_results.json").read_text())
    files = "realKnownCause/nyc_taxi.csv,artificialWithAnomaly/*,realAWSCloudwatch/ec2_disk_write*"
    detectors = "threshold,mad,ewma,surprise,random,null"
    best_mad = "mad:window=256:meanad=1:group=100"  # mad's best documented configuration
    outputs = []
    for threads in ("1", "2"):
        out = TMP / f"nab_run_{threads}.json"
        run = dosim("nab", "run", "--nab", NAB, "--detectors", detectors, "--files", files,
                    "--threads", threads, "--out", out)
        check(run.returncode == 0, f"-j {threads}: exit {run.returncode}: {run.stderr}")
        outputs.append((out.read_bytes() if out.exists() else b"", run.stdout))
    check(outputs[0][0] == outputs[1][0] and outputs[0][0], "JSON differs between 1 and 2 threads")
    def strip(text):  # the thread count, the wall time and the --out path differ
        return [line for line in text.splitlines()
                if not line.startswith(("dosim nab run:", "  wall time", "  results"))]
    check(strip(outputs[0][1]) == strip(outputs[1][1]), "scoreboard differs between 1 and 2 threads")
    result = json.loads(outputs[0][0] or b"{}")
    check(len(result.get("files", [])) == 9, f"--files picked {result.get('files')}")

    # The whole corpus, one thread: under a minute; the published entries as NAB gives them.
    start = time.monotonic()
    out = TMP / "nab_run_all.json"
    run = dosim("nab", "run", "--nab", NAB, "--detectors", detectors + "," + best_mad, "-j", "1",
                "--out", out)
    elapsed = time.monotonic() - start
    print(run.stdout)
    check(run.returncode == 0, f"full run: exit {run.returncode}: {run.stderr}")
    check(elapsed < 60, f"full run took {elapsed:.1f} s")
    if run.returncode != 0:
        check.assert_passed()
    result = json.loads(out.read_text())
    check(len(result["files"]) == 58 and result["windows"] == 116,
          f"{len(result['files'])} files, {result['windows']} windows")
    board = {(row["detector"], row["source"]): row for row in result["scoreboard"]}
    for name, profiles in final.items():
        row = board.get((name, "NAB"))
        check(row is not None and all(row[p] == profiles[p] for p in PROFILES),
              f"published {name}: {row} vs {profiles}")
        check(name in run.stdout, f"{name} not on the printed scoreboard")
    for name in detectors.split(","):
        check((name, "dosim") in board, f"{name} not on the scoreboard")
    check(board[("null", "dosim")]["standard"] == 0.0, "null baseline")
    scores = [row["standard"] for row in result["scoreboard"]]
    check(scores == sorted(scores, reverse=True), "scoreboard not sorted")
    for name in ("mad", "ewma", "threshold"):  # a real detector beats chance on NAB
        check(board[(name, "dosim")]["standard"] > board[("random", "dosim")]["standard"],
              f"{name} {board[(name, 'dosim')]} not above random {board[('random', 'dosim')]}")
    # surprise, the kind built for such data, maps its calibrated scores by squash and leads
    # dosim's kinds (bench/RESULTS.md).
    surprise = result["results"]["surprise"]
    check(surprise["scores"] == "squash", f"surprise mapped by {surprise['scores']}")
    for name in ("mad", "ewma", "threshold"):
        check(board[("surprise", "dosim")]["standard"] > board[(name, "dosim")]["standard"] + 10,
              f"surprise {board[('surprise', 'dosim')]} not 10 points above {name}")
    check(surprise["rest"].startswith("auto"), f"surprise rests {surprise.get('rest')}")
    # Issue 21's target, HTM's level (71.1 when written).
    check(board[("surprise", "dosim")]["standard"] >= 70.0, f"surprise {board[('surprise', 'dosim')]}")
    # and mad's, 45 (47.7 when written: the hackathon README's |z| > 3.5 calibrated per file,
    # consecutive anomalies grouped for 100 rows; chosen on split A, bench/RESULTS.md).
    check(board[(best_mad, "dosim")]["standard"] >= 45.0, f"{best_mad} {board[(best_mad, 'dosim')]}")
    check.assert_passed()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
