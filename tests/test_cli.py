"""The command line contract: exit codes and messages for good and bad input."""
import os
import stat
import sys
import time

import pytest

from dosim_test_util import DOSIM, SOURCE_DIR, TMP, dosim

ECOMMERCE = SOURCE_DIR / "scenarios" / "ecommerce.yaml"


def test_validate_accepts_every_bundled_scenario():
    for scenario in sorted((SOURCE_DIR / "scenarios").glob("*.yaml")):
        result = dosim("validate", scenario)
        assert result.returncode == 0, (scenario, result.stderr)


def test_validate_counts_what_it_checked_in_words_that_agree():
    path = TMP / "one-of-each.yaml"
    path.write_text("""name: one
duration: 10m
services:
  - {name: web, replicas: 1, capacity_rps: 100, base_latency: 10ms}
  - {name: db, replicas: 1, capacity_rps: 100, base_latency: 10ms}
dependencies:
  - {caller: web, callee: db}
traffic:
  - {entry: web, base_rps: 10}
faults:
  - {kind: latency, target: {service: db}, start: 1m, duration: 1m, fixedDelay: 100ms}
""")
    result = dosim("validate", path)
    assert result.returncode == 0, result.stderr
    assert f"{path}: ok (2 services, 1 dependency, 1 fault)" in result.stdout, result.stdout


def test_validate_reports_every_problem_with_position_and_exit_2():
    bad = TMP / "bad.yaml"
    bad.write_text(
        "name: bad\n"
        "duration: 1h\n"
        "services:\n"
        "  - {name: a, replicas: -1}\n"
        "  - {name: b, capacity_rps: 0}\n"
        "dependencies:\n"
        "  - {caller: a, callee: nobody}\n"
    )
    result = dosim("validate", bad)
    assert result.returncode == 2, result
    lines = [l for l in result.stderr.splitlines() if l.startswith(str(bad) + ":")]
    assert len(lines) >= 3, result.stderr
    assert any(l.startswith(f"{bad}:4:") and "replicas" in l for l in lines), lines
    assert any(l.startswith(f"{bad}:5:") and "capacity_rps" in l for l in lines), lines
    assert any(l.startswith(f"{bad}:7:") and "nobody" in l for l in lines), lines


def test_detector_problems_are_said_with_the_scenario_s_other_problems():
    # The detectors' own parameters are checked outside the loader: they must still show up
    # beside the loader's problems, each at its value, not only once those are fixed.
    bad = TMP / "bad-detectors.yaml"
    bad.write_text(
        "name: bad\n"
        "duration: 10m\n"
        "services:\n"
        "  - {name: a, replicas: -1}\n"
        "detectors:\n"
        "  - name: m1\n"
        "    kind: mad\n"
        "    metrics: [latency_p95_s]\n"
        "    params: {window: 300, threshold: 3}\n"
        "  - {name: m2, kind: madd, metrics: [error_ratio]}\n"
        "  - {name: fine, kind: regression, family: edge, metrics: [rps, latency_p95_s]}\n"
        f"  - {{name: fine-too, kind: lstm, model: {SOURCE_DIR}/models/lstm-noop.h5,\n"
        "     metrics: [rps, error_ratio, latency_p95_s, cpu_ratio]}\n"
        "  - {name: gone, kind: lstm, model: no-such-model.h5, metrics: [latency_p95_s]}\n"
    )
    for command in ["validate", "run"]:
        result = dosim(command, bad, cwd=SOURCE_DIR)
        assert result.returncode == 2, result
        lines = [l for l in result.stderr.splitlines()
                 if l.startswith(str(bad) + ":") and ": warning: " not in l]
        # Valid detectors: no false problems; 'fine' watches edges of a scenario without any,
        # a warning that comes with the errors.
        assert not any("fine" in l for l in lines), result.stderr
        assert f"{bad}:11:5: warning: detector 'fine' watches no series" in result.stderr
        assert [l.split(":")[1:3] for l in lines] == [
            ["4", "25"], ["9", "22"], ["10", "22"], ["14", "5"]], lines
        assert "'window' must be a whole number in [3, 256]" in lines[1], lines
        assert "unknown detector kind 'madd'" in lines[2], lines
        assert "detector 'gone'" in lines[3] and "cannot open the LSTM model" in lines[3], lines
        assert "4 problems" in result.stderr, result.stderr


def test_an_output_that_is_the_input_trace_is_refused_and_the_trace_kept():
    trace = TMP / "kept.h5"
    assert dosim("run", ECOMMERCE, "--out", trace, "--quiet").returncode == 0
    before = trace.read_bytes()
    for command in [["export", trace, "--format", "csv", "-o", trace],
                    ["export", trace, "--format", "openmetrics", "-o", trace],
                    ["report", trace, "-o", trace]]:
        result = dosim(*command)
        assert result.returncode == 2, (command, result)
        assert "it is the trace" in result.stderr, result.stderr
        assert trace.read_bytes() == before, command
    # The same file spelled two ways, neither there yet: still the same file.
    fresh = TMP / "fresh"
    fresh.mkdir(exist_ok=True)
    for option in ["--report", "--events"]:
        result = dosim("run", ECOMMERCE, "--out", "./same.h5", option, "same.h5", "--quiet",
                       cwd=fresh)
        assert result.returncode == 2 and "names the trace" in result.stderr, (option, result)
        assert not (fresh / "same.h5").exists()
    # An export that fails (a trace that is not there) leaves an earlier export as it was.
    csv = TMP / "kept.csv"
    assert dosim("export", trace, "--format", "csv", "-o", csv).returncode == 0
    exported = csv.read_bytes()
    result = dosim("export", TMP / "no-such-trace.h5", "--format", "csv", "-o", csv)
    assert result.returncode == 2, result
    assert csv.read_bytes() == exported
    assert not [p for p in TMP.iterdir() if p.name.startswith("kept.csv.tmp")]
    # Past a file size limit (ulimit -f): exit 2 with the reason, not killed by SIGXFSZ
    # with its temporary file left; the earlier export kept.
    import resource
    import signal
    import subprocess

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (100 * 1024, resource.RLIM_INFINITY))
    result = subprocess.run([DOSIM, "export", trace, "--format", "csv", "-o", csv],
                            capture_output=True, text=True, preexec_fn=limited, timeout=300)
    assert result.returncode == 2 and "File too large" in result.stderr, result
    assert csv.read_bytes() == exported
    assert not [p for p in TMP.iterdir() if p.name.startswith("kept.csv.tmp")]
    # Stopped by a signal: its temporary file goes with it (it stayed, 25 MB).
    process = subprocess.Popen([DOSIM, "export", trace, "--format", "openmetrics", "--start", "0",
                                "-o", TMP / "stopped.om"], stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not [p for p in TMP.iterdir() if p.name.startswith("stopped.om.tmp")]:
        assert process.poll() is None and time.time() < deadline, "no temporary file"
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == -signal.SIGTERM
    assert not [p for p in TMP.iterdir() if p.name.startswith("stopped.om")]


def test_missing_empty_and_binary_files_exit_2_without_crashing():
    empty = TMP / "empty.yaml"
    empty.write_text("")
    binary = TMP / "binary.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    for path in [TMP / "does-not-exist.yaml", empty, binary]:
        for command in ["validate", "run"]:
            result = dosim(command, path, "--out", TMP / "never.h5") if command == "run" else dosim(command, path)
            assert result.returncode == 2, (command, path, result)
            assert str(path) in result.stderr, result.stderr
    assert not (TMP / "never.h5").exists()


def test_a_scenario_over_64_mib_is_refused_before_it_is_read():
    huge = TMP / "huge.yaml"
    with open(huge, "wb") as f:
        f.truncate((64 << 20) + 1)  # sparse: no disk, no time
    result = dosim("validate", huge)
    assert result.returncode == 2, result
    assert "larger than 64 MiB" in result.stderr, result.stderr
    huge.unlink()


def test_unwritable_output_fails_before_simulating():
    locked = TMP / "locked"
    locked.mkdir(exist_ok=True)
    os.chmod(locked, stat.S_IRUSR | stat.S_IXUSR)
    targets = [TMP / "no-such-dir" / "x.h5"]
    if os.geteuid() != 0:  # root writes anywhere
        targets.append(locked / "x.h5")
    for target in targets:
        result = dosim("run", ECOMMERCE, "--out", target, "--quiet")
        assert result.returncode == 2, result
        assert str(target) in result.stderr, result.stderr
        assert "simulated" not in result.stdout  # nothing ran
    os.chmod(locked, stat.S_IRWXU)


def test_bad_command_lines_exit_2_and_help_and_version_exit_0():
    assert dosim("run").returncode == 2
    assert dosim("frobnicate").returncode == 2
    assert dosim("run", ECOMMERCE, "--seed", "minus-one").returncode == 2
    assert dosim().returncode == 2
    help_result = dosim("--help")
    assert help_result.returncode == 0 and "validate" in help_result.stdout
    version = dosim("--version")
    assert version.returncode == 0 and version.stdout.startswith("dosim ")


def test_no_option_help_repeats_its_type():
    """A range check's words were joined to the type ("--threads INT:INT in [1 - 256]"): each
    option shows its type once, its help the range (a choice's set stays: TEXT:{a,b})."""
    import re
    commands = [[], ["run"], ["validate"], ["bench"], ["sweep"], ["sweep", "merge"],
                ["nab", "run"], ["score"], ["report"], ["serve"], ["export"], ["rules"]]
    for command in commands:
        text = dosim(*command, "--help").stdout
        assert not re.search(r"\b(INT|UINT|FLOAT|TEXT):(?!\{)", text), (command, text)


def test_the_registry_is_the_one_list_of_detector_kinds():
    """bench's help reads the registry; the scenario schema's enum must list the same kinds."""
    import json
    import re
    help_text = " ".join(dosim("bench", "--help").stdout.split())
    listed = re.search(r"Detector kinds \(([^)]*)\)", help_text)
    assert listed, help_text
    kinds = [k.strip() for k in listed.group(1).split(",")]
    assert "lstm" in kinds
    schema = json.load(open(SOURCE_DIR / "scenarios" / "schema.json"))
    enums = []

    def find(node):
        if isinstance(node, dict):
            if "kind" in node and isinstance(node["kind"], dict) and "threshold" in node["kind"].get("enum", []):
                enums.append(node["kind"]["enum"])
            for value in node.values():
                find(value)
        elif isinstance(node, list):
            for value in node:
                find(value)

    find(schema)
    assert enums and all(enum == kinds for enum in enums), (enums, kinds)


def test_seeds_are_checked_like_the_scenario_seed():
    """A whole number in [0, 1e18], written as a scenario's seed: may be (1e3, 1000.0), for
    run and serve alike (serve took -1 and 2^64 - 1)."""
    # Read digit by digit (a double made 123456789012345678.9 the whole 123456789012345680,
    # and 999999999999999999.4 1e18).
    for bad in ("-1", "1000000000000000001", "1.5", "1e19", "nan", "0x10", "18446744073709551615",
                "123456789012345678.9", "999999999999999999.4", "1.0000000000000000001e18",
                " 5"):
        for command in (["run", ECOMMERCE, "--quiet"],
                        ["serve", ECOMMERCE, "--listen", "127.0.0.1:0", "--speed", "0"]):
            result = dosim(*command, "--seed", bad)
            assert result.returncode == 2 and "seed" in result.stderr, (command, bad, result.stderr)
    payments = SOURCE_DIR / "scenarios" / "payments-mad.yaml"
    traces = []
    for seed in ("1e3", "1000", "1000.0"):
        trace = TMP / f"seed-{seed}.h5"
        assert dosim("run", payments, "--seed", seed, "--quiet", "-o", trace).returncode == 0
        traces.append(trace.read_bytes())
    assert traces[0] == traces[1] == traces[2]
    # The same whole number however written: 999999999999999999.0 is 999999999999999999 (a
    # double made it 1e18, another run).
    ran = dosim("run", payments, "--seed", "999999999999999999.0", "-o", TMP / "seed-big.h5")
    assert ran.returncode == 0 and "(seed 999999999999999999," in ran.stdout, ran.stdout


def test_an_unknown_simd_path_is_warned_about_and_the_scores_do_not_change():
    """DOSIM_SIMD forces the MAD kernel's path (docs/detectors.md); another value is said to
    be ignored, and the run goes on with the best path: the same alerts."""
    scenario = SOURCE_DIR / "scenarios" / "payments-mad.yaml"
    env = dict(os.environ, DOSIM_SIMD="sse9")
    warned = dosim("run", scenario, "-q", "-o", TMP / "simd-unknown.h5", env=env)
    assert warned.returncode == 0, warned.stderr
    assert "DOSIM_SIMD=sse9 is not scalar, avx2 or avx512: ignored" in warned.stderr
    scalar = dosim("run", scenario, "-q", "-o", TMP / "simd-scalar.h5",
                   env=dict(os.environ, DOSIM_SIMD="scalar"))
    assert scalar.returncode == 0 and "DOSIM_SIMD" not in scalar.stderr, scalar.stderr
    assert warned.stdout == scalar.stdout  # the same score table


def test_an_overloaded_service_records_finite_latencies():
    """110 rps into a service of 100: its queue fills (10 s of work) in about 90 s, and from
    then on its requests wait about 10 s. Every recorded latency is a finite number (h5py);
    the percentiles were +inf at the tick the queue filled."""
    import h5py
    import numpy as np
    scenario = TMP / "overload.yaml"
    scenario.write_text("name: overload\nduration: 3m\nservices: [{name: b}]\n"
                        "traffic: [{entry: b, base_rps: 110, noise: 0}]\n")
    trace = TMP / "overload.h5"
    result = dosim("run", scenario, "-q", "-o", trace)
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        for name in ("latency_mean_s", "latency_p50_s", "latency_p95_s", "latency_p99_s"):
            values = f["metrics/service"][name][()]
            assert np.isfinite(values).all(), (name, np.where(~np.isfinite(values)))
        assert 9 < f["metrics/service/latency_p99_s"][-1, 0] < 11  # behind the full queue


def test_manifests_are_read_whatever_the_duration():
    """A bad or missing duration is said with the manifests' own problems, all at once (the
    manifests were skipped until the duration was fixed)."""
    for duration in ("duration: abc\n", ""):
        scenario = TMP / "manifest-no-duration.yaml"
        scenario.write_text("name: t\n" + duration + "services: [{name: a}]\n"
                            "manifests: [{file: no-such-manifest.yaml, start: -1s}]\n")
        result = dosim("validate", scenario)
        assert result.returncode == 2, result.stderr
        assert "duration" in result.stderr, result.stderr
        assert "cannot read the manifest" in result.stderr and "no-such-manifest.yaml" in result.stderr
        assert "'start' must be >= 0, got -1s" in result.stderr, result.stderr
        assert "3 problems" in result.stderr, result.stderr


def test_yaml_nested_too_deep_is_said_as_such():
    """yaml-cpp stops reading lists nested thousands deep with "bad file": said as nesting."""
    scenario = TMP / "deep.yaml"
    scenario.write_text("name: t\nduration: 1h\nservices: " + "[" * 2000 + "]" * 2000 + "\n")
    result = dosim("validate", scenario)
    assert result.returncode == 2, result.stderr
    assert f"{scenario}:3:" in result.stderr and "YAML nested too deep" in result.stderr, result.stderr
    assert "bad file" not in result.stderr


def test_outputs_are_checked_before_the_script_main_chunk_runs():
    """An output that names the script or cannot be written is said before the script's main
    chunk runs (it may take long): here the main chunk fails, and that is not what is said."""
    script = TMP / "fails-at-once.lua"
    script.write_text('error("the main chunk ran")\n')
    scenario = SOURCE_DIR / "scenarios" / "payments-mad.yaml"
    for out, expected in ((script, "--out names the script, an input of the run"),
                          ("/dev/null", "cannot create trace: not a regular file"),
                          (TMP / "no-such-folder" / "x.h5", "cannot create trace: No such file")):
        result = dosim("run", scenario, "--script", script, "-o", out)
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr and "main chunk ran" not in result.stderr, result.stderr


def test_run_prints_the_summary():
    result = dosim("run", SOURCE_DIR / "scenarios" / "payments-mad.yaml", "--out", TMP / "p.h5")
    assert result.returncode == 0, result.stderr
    for needle in ["payments-mad (seed 2024, fluid mode)", "simulated   2h in 7200 ticks", "5 services", "2 injected", "pay-latency",
                   "trace       ", "(complete)", "simulated s per wall s", "scores",
                   "all detectors", "random baseline", "null baseline"]:
        assert needle in result.stdout, (needle, result.stdout)
    assert result.stderr == ""  # piped: no progress line
    quiet = dosim("run", SOURCE_DIR / "scenarios" / "payments-mad.yaml", "--out", TMP / "p.h5",
                  "--quiet")
    assert quiet.stdout.lstrip().startswith("alertmanager"), quiet.stdout  # the tables only
    assert "simulated   " not in quiet.stdout and "null baseline" in quiet.stdout


def test_alerts_land_in_the_trace_matched_to_incidents():
    import h5py
    trace = TMP / "alerts.h5"
    result = dosim("run", SOURCE_DIR / "scenarios" / "retry-storm.yaml", "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        alerts = f["alerts"]
        t = alerts["t_ns"][:]
        assert len(t) > 0 and (t[1:] >= t[:-1]).all()
        ids = alerts["incident_id"][:]
        assert set(ids.tolist()) <= {-1, 0}
        assert (ids == 0).any()  # the storm was detected
        truth = f["truth/incidents"]
        start, end = truth["impact_start_ns"][0], truth["impact_end_ns"][0]
        names = [n.decode() for n in f["services/name"][:]]
        affected = {names[s] for s in f["truth/affected/service"][:]}
        for i in range(len(t)):  # matched means: an affected service, inside the window
            service = alerts["service"][i].decode()
            if ids[i] == 0:
                assert start <= t[i] <= end and service in affected
        assert {d.decode() for d in alerts["detector"][:]} <= {"mad", "errors-above-10pct", "cpu-above-80pct"}


def test_score_recomputes_from_the_trace_what_run_printed():
    import json
    for name in ["payments-mad", "retry-storm", "online-boutique"]:
        trace = TMP / f"{name}-score.h5"
        run = dosim("run", SOURCE_DIR / "scenarios" / f"{name}.yaml", "--out", trace)
        assert run.returncode == 0, run.stderr
        first = "  alertmanager"  # the alert pipeline's line, the rules' and detectors' tables
        table = run.stdout[run.stdout.index(first):]
        assert "notifications" in table and "  scores" in table
        score = dosim("score", trace)
        assert score.returncode == 0, score.stderr
        assert score.stdout[score.stdout.index(first):] == table, (table, score.stdout)
        as_json = json.loads(dosim("score", trace, "--json").stdout)
        assert set(as_json["scores"]) >= {"all detectors", "random baseline", "null baseline"}
        assert as_json["scores"]["null baseline"]["alerts"] == 0
        pipeline = as_json["alertmanager"]
        assert f"{pipeline['raw_alerts']} raw alerts -> {pipeline['notifications']} notifications" in table
        assert pipeline["raw_alerts"] == as_json["alerts"] > 0
        # Times in seconds are the nanoseconds correctly rounded (31.0, not 31.000000000000004).
        delays = [pipeline["time_to_notify_p50_s"], pipeline["time_to_notify_p90_s"],
                  *(i["time_to_notify_s"] for i in pipeline["incidents"])]
        assert any(d > 0 for d in delays)
        assert all(d == round(d * 1e9) / 1e9 for d in delays), delays
    missing = dosim("score", TMP / "no-such-trace.h5")
    assert missing.returncode == 2 and "cannot open trace" in missing.stderr
    # A scenario given for its trace, or any file that is no HDF5, says so (it said HDF5's
    # "file signature not found").
    scenario = SOURCE_DIR / "scenarios" / "ecommerce.yaml"
    for command in (["score", scenario], ["report", scenario, "-o", TMP / "x.html"],
                    ["export", scenario, "-f", "csv"]):
        result = dosim(*command)
        assert result.returncode == 2, (command, result.stderr)
        assert f"{scenario}: cannot open trace: not an HDF5 file (a scenario? dosim run SCENARIO " \
               "writes its trace)" in result.stderr, (command, result.stderr)
    text = TMP / "text.h5"
    text.write_text("hello\n")
    result = dosim("score", text)
    assert result.returncode == 2 and "not an HDF5 file (a trace is what dosim run writes)" \
        in result.stderr, result.stderr


def test_a_fifo_for_a_trace_or_rule_file_is_refused_not_waited_on():
    # docs/reliability.md: hostile input costs bounded time; a FIFO with no writer blocked the
    # HDF5 open (and promtool's) for ever.
    fifo = TMP / "trace.fifo"
    if fifo.exists():
        fifo.unlink()
    os.mkfifo(fifo)
    trace = TMP / "fifo-check.h5"
    assert dosim("run", SOURCE_DIR / "scenarios" / "noop.yaml", "--out", trace,
                 "--quiet").returncode == 0
    for args in (("score", fifo), ("report", fifo, "-o", TMP / "fifo.html"),
                 ("export", fifo, "--format", "csv", "-o", TMP / "fifo.csv"),
                 ("rules", "score", trace, fifo)):
        result = dosim(*args, timeout=60)
        assert result.returncode == 2, (args, result.stderr)
        assert "not a regular file" in result.stderr, (args, result.stderr)


def test_the_story_is_told_in_simulated_time_and_written_as_json_lines():
    import json
    import h5py
    trace, events = TMP / "story.h5", TMP / "story.jsonl"
    result = dosim("run", SOURCE_DIR / "scenarios" / "payments-mad.yaml", "--out", trace,
                   "--events", events)
    assert result.returncode == 0, result.stderr
    assert "[00:45:00] FAULT  latency on payments /pay (pay-latency)" in result.stdout
    assert "[00:53:00] FAULT  ended: pay-errors" in result.stdout
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    times = [line["t_ns"] for line in lines]
    assert times == sorted(times)
    kinds = [line["kind"] for line in lines]
    assert kinds.count("fault-start") == 2 and kinds.count("fault-end") == 2
    with h5py.File(trace) as f:
        assert kinds.count("alert") == len(f["alerts/t_ns"])
    quiet = dosim("run", SOURCE_DIR / "scenarios" / "payments-mad.yaml", "--out", trace, "--quiet")
    assert "FAULT" not in quiet.stdout


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


def test_devices_fifos_and_directories_are_refused_not_read_for_ever():
    """A scenario or script that is not a regular file (/dev/zero would be read until memory
    runs out) is a clear error, exit 2, at once."""
    scenario = TMP / "zero-script.yaml"
    scenario.write_text("name: z\nduration: 1m\nservices: [{name: a}]\nscript: /dev/zero\n")
    for args in (["validate", "/dev/zero"], ["validate", scenario],
                 ["run", scenario, "--out", TMP / "zero.h5"],
                 ["validate", TMP]):
        result = dosim(*args, timeout=20)
        assert result.returncode == 2, (args, result.stderr)
        assert "not a regular file" in result.stderr or "Is a directory" in result.stderr, (
            args, result.stderr)


def test_output_lost_to_a_full_device_is_a_failure():
    """What a command prints must reach its reader: standard output on a full device was exit
    0 with the output lost."""
    import subprocess
    for args in (["validate", SOURCE_DIR / "scenarios" / "payments-mad.yaml"],
                 ["routes", SOURCE_DIR / "scenarios" / "payments-alertmanager.yml", "severity=critical"]):
        with open("/dev/full", "w") as full:
            result = subprocess.run([DOSIM, *map(str, args)], stdout=full, stderr=subprocess.PIPE, text=True)
        assert result.returncode == 2, (args, result.stderr)
        assert "cannot write the output: No space left on device" in result.stderr, result.stderr
    # An export to standard output says it once, with the reason (it said "stdout: cannot
    # write the export" without one, then "dosim: cannot write the output: ...").
    trace = TMP / "full-device.h5"
    assert dosim("run", "-q", SOURCE_DIR / "scenarios" / "payments-mad.yaml", "-o", trace).returncode == 0
    with open("/dev/full", "w") as full:
        result = subprocess.run([DOSIM, "export", str(trace), "--format", "csv"], stdout=full,
                                stderr=subprocess.PIPE, text=True)
    assert result.returncode == 2
    assert result.stderr == ("stdout: cannot write the export: No space left on device\n"
                             "1 problem\n"), result.stderr


def test_events_to_standard_output_redirected_to_a_file_keep_every_event():
    """`--events /dev/stdout` (docs/reliability.md) with standard output a file: opened anew,
    the file was truncated and written from its start, then overwritten by the summary; no
    event was left. Now the events go through the open standard output, after the story."""
    import subprocess
    out = TMP / "events-stdout.txt"
    with open(out, "w") as target:
        result = subprocess.run([DOSIM, "run", SOURCE_DIR / "scenarios" / "online-boutique.yaml",
                                 "-o", TMP / "events-stdout.h5", "--events", "/dev/stdout"],
                                stdout=target, stderr=subprocess.PIPE, text=True)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert text.count('"t_ns"') == 5, text
    assert "dosim run: online-boutique" in text and text.index('"t_ns"') < text.index("dosim run:")


def test_run_outputs_named_dash_or_nothing_are_refused():
    """`-o -` and `--events -` wrote files named '-' (report and export take '-' as standard
    output, which a run's summary holds); `--script ""` was taken as no script, silently."""
    scenario = SOURCE_DIR / "scenarios" / "payments-mad.yaml"
    for args, said in ((["-o", "-"], "--out -: a trace is an HDF5 file"),
                       (["--events", "-"], "--events -: the run prints its story and summary"),
                       (["--script", ""], "--script: must name a file (the path is empty)")):
        result = dosim("run", scenario, *args, cwd=TMP)
        assert result.returncode == 2 and said in result.stderr, (args, result.stderr)
    assert not (TMP / "-").exists()
    result = dosim("validate", scenario, "--script", "")
    assert result.returncode == 2 and "--script: must name a file" in result.stderr


def test_the_story_says_where_the_events_it_left_out_are():
    """"N more events (--events FILE writes them all)" was printed with --events given."""
    events = TMP / "more-events.jsonl"
    result = dosim("run", ECOMMERCE, "-o", TMP / "more-events.h5", "--events", events)
    assert result.returncode == 0, result.stderr
    assert f"more events (all of them in {events})" in result.stdout, result.stdout
    assert "--events FILE writes them all" not in result.stdout


def test_an_unknown_command_is_named():
    result = dosim("rnu", "x.yaml")
    assert result.returncode == 2
    assert "unknown command 'rnu'; did you mean 'run'?" in result.stderr, result.stderr
    # A command's own command by its word alone: the command that has it.
    result = dosim("merge", "a.shard-0-of-2.json")
    assert result.returncode == 2
    assert "unknown command 'merge'; did you mean 'sweep merge'?" in result.stderr, result.stderr
    # A command's commands too (CLI11 said "A subcommand is required" of a typo).
    for args, said in ((["rules", "scor", "a.h5", "r.yml"],
                        "dosim rules: unknown command 'scor'; did you mean 'score'? (its commands: score)"),
                       (["nab", "rn"], "dosim nab: unknown command 'rn'; did you mean 'run'?"),
                       (["rules"], "dosim rules: needs a command: score")):
        result = dosim(*args)
        assert result.returncode == 2 and said in result.stderr, (args, result.stderr)
    # Too many arguments for export, named (CLI11 said "trace: At Most 2 required but
    # received 3").
    result = dosim("export", "spans", "a.h5", "b.h5")
    assert result.returncode == 2
    assert "dosim export takes one trace" in result.stderr and "got 'spans', 'a.h5', 'b.h5'" \
        in result.stderr, result.stderr


def test_a_misspelt_option_names_the_one_meant():
    result = dosim("run", "x.yaml", "--sed", "3")
    assert result.returncode == 2
    assert "dosim run: unknown option '--sed'; did you mean '--seed'?" in result.stderr, result.stderr
    result = dosim("export", "x.h5", "--formt=csv")
    assert result.returncode == 2
    assert "unknown option '--formt'; did you mean '--format'?" in result.stderr, result.stderr
    # Nothing near: CLI11's own words alone.
    result = dosim("run", "x.yaml", "--zzzzzz")
    assert result.returncode == 2 and "did you mean" not in result.stderr, result.stderr


def test_a_number_option_given_a_word_says_it_is_not_a_whole_number():
    # CLI11's own range check said "Value x not in range 1 to 1024" of a word.
    for args in (["bench", "--threads", "x", "--scenarios", "scenarios/noop.yaml"],
                 ["bench", "--seeds", "1.5", "--scenarios", "scenarios/noop.yaml"],
                 ["sweep", "x.yaml", "--threads", "x"], ["run", "-j", "x", "scenarios/noop.yaml"]):
        result = dosim(*args, cwd=SOURCE_DIR)
        assert result.returncode == 2, (args, result.stderr)
        assert "is not a whole number" in result.stderr and "not in range" not in result.stderr, \
            (args, result.stderr)
