"""Root-cause ranking in a run's trace: /rca read with h5py (rankings consecutive, ranks
1..n, at most ten candidates, each ranked at detection + delay with detection the incident's
first matching alert), AC@k recomputed here by hand from /rca and /truth and compared with
`dosim score --json`; `dosim score --rca` on rankings written here (CSV and JSON lines) and
its errors (exit 2, at their lines)."""
import json
from collections import defaultdict

import h5py

from dosim_test_util import SOURCE_DIR, TMP, dosim


def run(name):
    TMP.mkdir(parents=True, exist_ok=True)
    trace = TMP / f"rca-{name}.h5"
    result = dosim("run", SOURCE_DIR / "scenarios" / f"{name}.yaml", "-q", "-o", trace)
    assert result.returncode == 0, result.stderr
    assert "root cause" in result.stdout
    return trace


def text(values):
    return [v.decode() for v in values]


def truth_of(f):
    t = f["truth/incidents"]
    services = text(f["services/name"][()])
    out = {}
    for i in range(len(t["id"])):
        root = int(t["root_service"][i])
        out[int(t["id"][i])] = {
            "silent": bool(t["silent"][i]), "name": t["name"][i].decode(), "cause": t["cause"][i].decode(),
            "root": services[root] if root >= 0 else None, "impact_start": int(t["impact_start_ns"][i]),
            "impact_end": int(t["impact_end_ns"][i]),
            "roots": set(t["root_cause"][i].decode().split(",")),
        }
    return out


def rankings_of(f):
    r = f["rca"]
    groups = defaultdict(list)
    for i in range(len(r["rank"])):
        key = (int(r["incident_id"][i]), r["ranker"][i].decode(), int(r["delay_ns"][i]), int(r["t_ns"][i]))
        groups[key].append((int(r["rank"][i]), r["candidate"][i].decode()))
    return groups


def correct(candidate, incident):
    if candidate.startswith("change:"):
        return incident["cause"] in ("deployment", "config", "feature-flag", "secret-rotation") and \
            candidate[7:] == incident["name"]
    if candidate.startswith("service:"):
        return candidate[8:] == incident["root"] or candidate[8:] in incident["roots"]
    return False


def hand_scores(trace):
    with h5py.File(trace) as f:
        truth = truth_of(f)
        groups = rankings_of(f)
    acc = defaultdict(lambda: [0, [0] * 5])
    for (incident, ranker, delay, _), candidates in groups.items():
        if truth[incident]["silent"]:
            continue
        row = acc[(ranker, delay / 1e9)]
        row[0] += 1
        hits = [correct(c, truth[incident]) for _, c in sorted(candidates)[:5]]
        for k in range(5):
            row[1][k] += any(hits[:k + 1])
    return {key: (n, [h / n for h in hits]) for key, (n, hits) in acc.items()}


def test_rankings_in_the_trace_are_well_formed_and_ranked_at_detection():
    trace = run("ecommerce")
    with h5py.File(trace) as f:
        truth = truth_of(f)
        groups = rankings_of(f)
        alerts_t = f["alerts/t_ns"][()]
        alert_incident = f["alerts/incident_id"][()]
    assert groups
    rankers = {ranker for _, ranker, _, _ in groups}
    assert rankers == {"change", "pagerank", "deepest", "random"}
    for (incident, ranker, delay, at), candidates in groups.items():
        assert [rank for rank, _ in candidates] == list(range(1, len(candidates) + 1))
        assert 0 < len(candidates) <= 10
        assert not truth[incident]["silent"]
        # Detection: the first alert that matched it (both incidents here are apart in time).
        first = alerts_t[alert_incident == incident].min()
        assert at == first + delay, (incident, ranker)
        assert all(c.split(":", 1)[0] in ("service", "edge", "change") for _, c in candidates)


def test_ac_at_k_recomputed_by_hand_matches_dosim_score():
    for name in ("ecommerce", "flag-rollout", "retry-storm"):
        trace = run(name)
        result = dosim("score", trace, "--json")
        assert result.returncode == 0, result.stderr
        reported = {(row["ranker"], row["delay_s"]): row for row in json.loads(result.stdout)["rca"]}
        expected = hand_scores(trace)
        assert set(reported) == set(expected), name
        for key, (cases, ac) in expected.items():
            row = reported[key]
            assert row["cases"] == cases
            assert [row["ac1"], row["ac3"], row["ac5"]] == [ac[0], ac[2], ac[4]], (name, key)
            assert abs(row["avg5"] - sum(ac) / 5) < 1e-12


def test_rankings_from_elsewhere_are_scored_and_bad_ones_refused():
    trace = run("flag-rollout")  # one incident, id 0: the new-ranking flag's defect on search
    good = TMP / "mine.csv"
    good.write_text("incident_id,rank,candidate,ranker\n0,2,service:search,mine\n0,1,web,mine\n"
                    "0,1,change:new-ranking,right\n")
    result = dosim("score", trace, "--rca", good, "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["ranker"]: row for row in json.loads(result.stdout)["rca"]}
    assert (rows["mine"]["ac1"], rows["mine"]["ac3"]) == (0.0, 1.0)
    assert rows["right"]["ac1"] == 1.0
    lines = TMP / "mine.jsonl"
    lines.write_text('{"incident_id": 0, "candidates": ["search"], "delay_s": 60}\n')
    result = dosim("score", trace, "--rca", lines)
    assert result.returncode == 0 and "external" in result.stdout and "1m" in result.stdout
    bad = TMP / "bad.csv"
    bad.write_text("incident_id,candidate\nzero,search\n0,\n")
    result = dosim("score", trace, "--rca", bad)
    assert result.returncode == 2
    assert f"{bad}:2:" in result.stderr and f"{bad}:3:" in result.stderr
    unknown = TMP / "unknown.csv"
    unknown.write_text("incident_id,candidate\n7,search\n")
    result = dosim("score", trace, "--rca", unknown)
    assert result.returncode == 2 and "incident_id 7 is not an incident" in result.stderr
    # Every problem of a row at once: a rank that is no number hides neither the unknown
    # candidate beside it, nor does an unknown key in a JSON line hide the rest of its line.
    several = TMP / "several.csv"
    several.write_text("incident_id,rank,candidate\n0,x,service:serch\n")
    result = dosim("score", trace, "--rca", several)
    assert result.returncode == 2
    assert f"{several}:2:3: bad value `x` in column `rank`" in result.stderr, result.stderr
    assert f"{several}:2:5: candidate 'service:serch'" in result.stderr, result.stderr
    json_line = TMP / "several.jsonl"
    json_line.write_text('{"incident_id": 0, "candidates": ["service:serch"], "extra": 1}\n')
    result = dosim("score", trace, "--rca", json_line)
    assert result.returncode == 2
    assert "unknown key `extra`" in result.stderr and "candidate 'service:serch'" in result.stderr, result.stderr
    # ... each at its column (the key's, the candidate's), and a line that is not JSON where
    # the parser stopped.
    assert f"{json_line}:1:35: candidate 'service:serch'" in result.stderr, result.stderr
    assert f"{json_line}:1:53: unknown key `extra`" in result.stderr, result.stderr
    broken = TMP / "broken.jsonl"
    broken.write_text('{"incident_id": 0, "candidates": ["search"]}\n{"incident_id": 1, "candidates": [}\n')
    result = dosim("score", trace, "--rca", broken)
    assert result.returncode == 2
    assert f"{broken}:2:35: not JSON" in result.stderr, result.stderr


def test_written_ranks_are_positions_without_gaps():
    # Ranks 4 and 5 alone were read as first and second (AC@1 = 1 for a cause the user ranked
    # fifth); a ranking's written ranks are 1 to its number of candidates, each row one.
    trace = run("flag-rollout")
    gap = TMP / "gap.csv"
    gap.write_text("incident_id,rank,candidate\n0,5,change:new-ranking\n0,1,web\n")
    result = dosim("score", trace, "--rca", gap)
    assert result.returncode == 2, result.stdout
    assert (f"{gap}:2:3: rank 5 of incident 0 by external leaves a gap: its 2 candidates take "
            "ranks 1 to 2") in result.stderr, result.stderr
    mixed = TMP / "mixed.csv"
    mixed.write_text("incident_id,rank,candidate\n0,2,web\n0,,change:new-ranking\n")
    result = dosim("score", trace, "--rca", mixed)
    assert result.returncode == 2
    assert f"{mixed}:3:3: no rank, where other rows of incident 0 by external give one" \
        in result.stderr, result.stderr
    # A candidate twice in a ranking (a bare name is a service's) would take two places, as a
    # ranker's is refused; it was accepted.
    twice = TMP / "twice.csv"
    twice.write_text("incident_id,candidate\n0,search\n0,service:search\n")
    result = dosim("score", trace, "--rca", twice)
    assert result.returncode == 2
    assert (f"{twice}:3:3: 'service:search' is ranked twice in incident 0 by external (line 2 "
            "too)") in result.stderr, result.stderr
    twice_json = TMP / "twice.jsonl"
    twice_json.write_text('{"incident_id": 0, "candidates": ["search", "service:search"]}\n')
    result = dosim("score", trace, "--rca", twice_json)
    assert result.returncode == 2
    assert f"{twice_json}:1:45: 'service:search' is ranked twice in incident 0 by external " \
        "(candidates 1 and 2)" in result.stderr, result.stderr
    # All at once (from a new-user audit): an unreadable incident_id hid a bad delay_s beside
    # it; a rank given twice hid its ranking's gap; a ranking repeated on a later JSON line
    # hid the candidate named twice in the first.
    together = TMP / "together.csv"
    together.write_text("incident_id,rank,candidate,delay_s\nx,1,web,abc\n0,1,web,0\n"
                        "0,1,search,0\n0,4,change:new-ranking,0\n")
    result = dosim("score", trace, "--rca", together)
    assert result.returncode == 2
    for said in (f"{together}:2:1: bad value `x` in column `incident_id`",
                 f"{together}:2:9: bad value `abc` in column `delay_s`"):
        assert said in result.stderr, result.stderr
    assert f"{together}:4:3: rank 1 of incident 0 by external is given twice" in result.stderr
    assert f"{together}:5:3: rank 4 of incident 0 by external leaves a gap" not in result.stderr, \
        "a row without a known ranking: ranks not checked"
    gap_too = TMP / "gap-too.csv"
    gap_too.write_text("incident_id,rank,candidate\n0,1,web\n0,1,search\n0,4,change:new-ranking\n")
    result = dosim("score", trace, "--rca", gap_too)
    assert (f"{gap_too}:3:3: rank 1 of incident 0 by external is given twice" in result.stderr
            and f"{gap_too}:4:3: rank 4 of incident 0 by external leaves a gap" in result.stderr), \
        result.stderr
    repeat_json = TMP / "repeat.jsonl"
    repeat_json.write_text('{"incident_id": 0, "candidates": ["search", "service:search"]}\n'
                           '{"incident_id": 0, "candidates": ["web"]}\n')
    result = dosim("score", trace, "--rca", repeat_json)
    assert (f"{repeat_json}:1:45: 'service:search' is ranked twice" in result.stderr
            and f"{repeat_json}:2:2: a second ranking of incident 0" in result.stderr), result.stderr
    header = TMP / "header-twice.csv"
    header.write_text("incident_id,candidate,candidate\n0,search,web\n")
    result = dosim("score", trace, "--rca", header)
    assert result.returncode == 2
    assert f"{header}:1:23: the header names `candidate` twice (columns 2 and 3)" \
        in result.stderr, result.stderr
    repeated = TMP / "repeated.jsonl"
    repeated.write_text('{"incident_id": 0, "candidates": ["search"], "incident_id": 1}\n')
    result = dosim("score", trace, "--rca", repeated)
    assert result.returncode == 2
    assert f"{repeated}:1:46: key `incident_id` is given twice" in result.stderr, result.stderr
    # A list where a JSON line's object belongs is said to be one (it was read as CSV).
    listed = TMP / "listed.jsonl"
    listed.write_text('[{"incident_id": 0, "candidates": ["search"]}]\n')
    result = dosim("score", trace, "--rca", listed)
    assert result.returncode == 2 and f"{listed}:1:1: not a JSON object" in result.stderr, \
        result.stderr


def test_the_scenario_chooses_rankers_delays_and_lookback():
    # ecommerce names no other file, so a copy runs from anywhere.
    scenario = (SOURCE_DIR / "scenarios" / "ecommerce.yaml").read_text()
    TMP.mkdir(parents=True, exist_ok=True)
    for name, section, rankers, delays in [
            ("rca-chosen", "rca: {rankers: [deepest], delays: [2m], lookback: 30m}\n", {"deepest"}, {120e9}),
            ("rca-off", "rca: {rankers: []}\n", set(), set())]:
        path = TMP / f"{name}.yaml"
        path.write_text(scenario + "\n" + section)
        trace = TMP / f"{name}.h5"
        result = dosim("run", path, "-q", "-o", trace)
        assert result.returncode == 0, result.stderr
        assert ("root cause" in result.stdout) == bool(rankers)
        with h5py.File(trace) as f:
            assert set(text(f["rca/ranker"][()])) == rankers
            assert set(f["rca/delay_ns"][()]) == delays


def test_an_incident_the_file_does_not_rank_is_a_miss():
    trace = run("ecommerce")  # two detected incidents
    cases = json.loads(dosim("score", trace, "--json").stdout)["rca"][0]["cases"]
    assert cases == 2
    one = TMP / "one.csv"
    one.write_text("incident_id,candidate\n0,database\n")  # incident 0's root: ranked first
    result = dosim("score", trace, "--rca", one, "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)["rca"][0]
    assert (row["cases"], row["ac1"], row["avg5"]) == (2, 0.5, 0.5), row
