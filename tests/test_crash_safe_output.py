"""`dosim run` never leaves a broken trace where a good one was (docs/trace-format.md,
"What survives a crash").

The trace is written to a temporary file beside the target and renamed over it only when it
is closed: complete, interrupted (SIGINT / SIGTERM) or ended by a failing script. So a run
killed outright (SIGKILL), a run refused while opening, and a run whose disk fills or whose
file size limit is reached all leave the earlier trace byte for byte, and the last two remove
their temporary file. A killed run's temporary file opens with h5py once its open-for-write
flag is cleared (h5clear -s, or the ctypes recipe below), with the whole chunks written so far.
Outputs that name an input (the scenario, the script) or cannot be written are refused with
exit code 2 before anything runs. CTest runs it with DOSIM_BIN and DOSIM_TEST_TMP.
"""

import ctypes
import glob
import os
import shutil
import signal
import subprocess
import sys
import time

import dosim_test_util
import h5py
import numpy as np
import pytest

from dosim_test_util import DOSIM, SOURCE_DIR, dosim

TMP = os.path.join(str(dosim_test_util.TMP), "crash-safe")
ECOMMERCE = str(SOURCE_DIR / "scenarios" / "ecommerce.yaml")
EARLIER = b"an earlier trace, whatever its bytes: they must survive\n" * 1000
SERVICES = 200


def fresh_folder(name):
    folder = os.path.join(TMP, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


def with_earlier_trace(folder, name="t.h5"):
    target = os.path.join(folder, name)
    with open(target, "wb") as out:
        out.write(EARLIER)
    return target


def temporaries(target):
    """The temporary files of runs writing `target` (.NAME.dosim-PID-N beside it)."""
    folder, name = os.path.split(target)
    return sorted(glob.glob(os.path.join(folder, f".{name}.dosim-*")))


def clear_open_for_write_flag(path):
    """The recovery step of docs/trace-format.md without hdf5-tools: open the file once for
    writing with HDF5's `clear_status_flags` file-access property (what `h5clear -s` does)."""
    lib = ctypes.CDLL("libhdf5_serial.so.103")  # Debian's HDF5 1.10, which h5py uses
    lib.H5open()
    lib.H5Pcreate.restype = ctypes.c_int64
    lib.H5Fopen.restype = ctypes.c_int64
    fapl = lib.H5Pcreate(ctypes.c_int64(ctypes.c_int64.in_dll(lib, "H5P_CLS_FILE_ACCESS_ID_g").value))
    clear = ctypes.c_bool(True)
    assert lib.H5Pset(ctypes.c_int64(fapl), b"clear_status_flags", ctypes.byref(clear)) >= 0
    file_id = lib.H5Fopen(path.encode(), ctypes.c_uint(1), ctypes.c_int64(fapl))  # H5F_ACC_RDWR
    assert file_id >= 0, f"HDF5 cannot open {path} to clear its flags"
    lib.H5Fclose(ctypes.c_int64(file_id))
    lib.H5Pclose(ctypes.c_int64(fapl))


def wide_scenario(folder):
    """30 days of 200 services (a binary tree of calls): a metric row is 800 bytes, so a
    chunk (256 KiB) holds 327 rows and whole chunks reach the file within seconds."""
    lines = ["name: wide", "duration: 30d", "record: 1m", "services:"]
    lines += [f"  - {{name: s{i:03d}, replicas: 2, capacity_rps: 500}}" for i in range(SERVICES)]
    lines.append("dependencies:")
    lines += [f"  - {{caller: s{(i - 1) // 2:03d}, callee: s{i:03d}, calls_per_request: 0.5}}"
              for i in range(1, SERVICES)]
    lines += ["traffic:", "  - {name: users, entry: s000, base_rps: 300}"]
    path = os.path.join(folder, "wide.yaml")
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")
    return path


def start(scenario, target, *extra):
    return subprocess.Popen([DOSIM, "run", scenario, "--out", target, "--quiet", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_killed(path):
    """Opens a copy of a killed run's temporary file (flag cleared); returns a summary."""
    copy = path + ".recovered"
    shutil.copyfile(path, copy)
    with pytest.raises(OSError, match="already open for write"):
        h5py.File(copy, "r").close()
    clear_open_for_write_flag(copy)
    with h5py.File(copy, "r") as f:
        assert f.attrs["format"] == b"dosim-trace"
        assert f.attrs["complete"] == 0
        assert "truth" not in f
        rps = f["metrics/service/rps"][()]
        assert bool(np.all(np.isfinite(rps)))
        return {"rows": rps.shape[0], "time_rows": f["time_ns"].shape[0], "rps": rps}


@pytest.mark.parametrize("after", [0.3, 0.8])
def test_sigkill_keeps_the_earlier_trace_and_leaves_an_openable_temporary_file(after):
    folder = fresh_folder(f"kill-{after}")
    target = with_earlier_trace(folder)
    process = start(ECOMMERCE, target)
    # The moments count from the temporary file's creation (after the plan is loaded, which
    # a loaded machine may slow down): the header is flushed within milliseconds of it.
    deadline = time.monotonic() + 30
    while not temporaries(target) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(after)
    assert process.poll() is None, "the ecommerce week must still be running"
    process.kill()
    process.wait()
    with open(target, "rb") as f:
        assert f.read() == EARLIER
    left = temporaries(target)
    assert len(left) == 1, left
    summary = read_killed(left[0])
    assert summary["rows"] == 0  # a week of 11 services fills no chunk (5,957 rows)


def test_sigkill_after_whole_chunks_leaves_their_rows_readable():
    folder = fresh_folder("kill-wide")
    scenario = wide_scenario(folder)
    target = with_earlier_trace(folder)
    process = start(scenario, target)
    deadline = time.monotonic() + 120
    # The first chunks (13 service metrics of 327 rows) make the file grow past 1 MB.
    while process.poll() is None and time.monotonic() < deadline:
        left = temporaries(target)
        if left and os.path.getsize(left[0]) > 1_000_000:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    assert process.poll() is None, "the wide run must still be running"
    process.kill()
    process.wait()
    with open(target, "rb") as f:
        assert f.read() == EARLIER
    left = temporaries(target)
    assert len(left) == 1, left
    summary = read_killed(left[0])
    # Rows up to the last flush: whole chunks of each dataset (time_ns, 8 bytes a row, fills
    # its first chunk only after 32,768 rows).
    assert summary["rows"] >= 327 and summary["rows"] % 327 == 0, summary["rows"]
    assert summary["time_rows"] == 0
    assert bool(np.all(summary["rps"][:, 0] > 0)), "the entry service has traffic in every row"
    if shutil.which("h5clear"):  # the documented tool (Debian: hdf5-tools) does the same
        copy = left[0] + ".h5clear"
        shutil.copyfile(left[0], copy)
        subprocess.run(["h5clear", "-s", copy], check=True)
        with h5py.File(copy, "r") as f:
            assert f["metrics/service/rps"].shape[0] == summary["rows"]


def test_sigint_replaces_the_target_with_an_incomplete_readable_trace():
    folder = fresh_folder("sigint")
    target = with_earlier_trace(folder)
    process = start(wide_scenario(folder), target)
    deadline = time.monotonic() + 30
    while not temporaries(target) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.8)
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    with h5py.File(target, "r") as f:
        assert f.attrs["complete"] == 0
        assert f["time_ns"].shape[0] > 0
        assert f["metrics/service/rps"].shape[0] == f["time_ns"].shape[0]
        assert "truth" in f and "alerts" in f
    assert temporaries(target) == []


def test_sigint_in_the_scripts_main_chunk_stops_the_run_before_its_first_tick():
    # A loop in the main chunk ran before any handler was installed: SIGINT killed the
    # process silently, or did nothing where the parent ignores it (a background job).
    folder = fresh_folder("sigint-chunk")
    target = with_earlier_trace(folder)
    script = os.path.join(folder, "loop.lua")
    with open(script, "w") as out:
        out.write("while true do end\n")
    process = start(ECOMMERCE, target, "--script", script, "--lua-instructions", "1000000000000")
    time.sleep(1.5)
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted before the first tick" in stderr, stderr
    with open(target, "rb") as f:
        assert f.read() == EARLIER
    assert temporaries(target) == []


def test_a_script_failing_at_run_time_replaces_the_target_incomplete():
    folder = fresh_folder("script")
    target = with_earlier_trace(folder)
    script = os.path.join(folder, "fails.lua")
    with open(script, "w") as out:
        out.write("sim.at(3600, function()\n  local t = nil\n  return t.field\nend)\n")
    result = dosim("run", ECOMMERCE, "--out", target, "--script", script, "--quiet", timeout=120)
    assert result.returncode == 2, result.stderr
    assert "fails.lua:3: attempt to index a nil value" in result.stderr, result.stderr
    with h5py.File(target, "r") as f:
        assert f.attrs["complete"] == 0
        assert f["time_ns"].shape[0] == 12  # an hour of 5-minute rows
        assert "truth" not in f  # closed by the writer's destructor: the rows it had
    assert temporaries(target) == []


def test_a_run_refused_while_opening_keeps_the_earlier_trace():
    folder = fresh_folder("refused")
    target = with_earlier_trace(folder)
    scenario = os.path.join(folder, "bad.yaml")
    with open(scenario, "w") as out:
        out.write("name: bad\nduration: forever\nservices:\n  - {name: a}\n")
    result = dosim("run", scenario, "--out", target, "--quiet")
    assert result.returncode == 2, result.stderr
    script = os.path.join(folder, "starts-badly.lua")
    with open(script, "w") as out:
        out.write('error("the main chunk fails")\n')
    result = dosim("run", ECOMMERCE, "--out", target, "--script", script, "--quiet")
    assert result.returncode == 2 and "the main chunk fails" in result.stderr, result.stderr
    with open(target, "rb") as f:
        assert f.read() == EARLIER
    assert temporaries(target) == []


def test_a_file_size_limit_fails_the_run_and_keeps_the_earlier_trace():
    folder = fresh_folder("ulimit")
    target = with_earlier_trace(folder)
    # 100 KiB: the header fits, the ecommerce week's trace (about 1 MB) does not. Without
    # SIGXFSZ ignored the kernel would kill dosim (exit 153) and leave its temporary file.
    result = subprocess.run(["bash", "-c", f'ulimit -f 100; exec "$0" run "$1" --out "$2" --quiet',
                             DOSIM, ECOMMERCE, target], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "cannot write trace" in result.stderr and "File too large" in result.stderr, result.stderr
    # ... and does not call the earlier trace (another run's) this run's (it did).
    assert "the trace up to the error" not in result.stderr, result.stderr
    with open(target, "rb") as f:
        assert f.read() == EARLIER
    assert temporaries(target) == []


def mounted(args, folder):
    """Mounts (as root); False where mounting is not permitted."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *args, folder], capture_output=True).returncode == 0


def test_a_full_disk_fails_the_run_and_keeps_the_earlier_trace():
    folder = fresh_folder("tmpfs")
    if not mounted(["-t", "tmpfs", "-o", "size=300k", "tmpfs"], folder):
        pytest.skip("cannot mount a tmpfs here (needs root and the permission to mount)")
    try:
        target = with_earlier_trace(folder)
        result = dosim("run", ECOMMERCE, "--out", target, "--quiet", timeout=120)
        assert result.returncode == 2, (result.returncode, result.stderr)
        assert "No space left on device" in result.stderr, result.stderr
        assert "the trace up to the error" not in result.stderr, result.stderr
        with open(target, "rb") as f:
            assert f.read() == EARLIER
        assert temporaries(target) == []
    finally:
        subprocess.run(["umount", folder], check=True)


def test_a_read_only_folder_is_refused_before_the_run():
    folder = fresh_folder("source")
    target = with_earlier_trace(folder)
    read_only = fresh_folder("read-only")
    # Root ignores permission bits: a read-only bind mount of the folder is read-only for all.
    if os.geteuid() == 0:
        if not mounted(["--bind", folder], read_only):
            pytest.skip("cannot bind-mount here (needs the permission to mount)")
        if subprocess.run(["mount", "-o", "remount,ro,bind", read_only]).returncode != 0:
            subprocess.run(["umount", read_only])
            pytest.skip("cannot remount read-only here")
    else:
        os.rmdir(read_only)
        read_only = folder
        os.chmod(folder, 0o555)
    try:
        result = dosim("run", ECOMMERCE, "--out", os.path.join(read_only, "t.h5"), "--quiet")
        assert result.returncode == 2, result.stderr
        assert "cannot create trace" in result.stderr, result.stderr
        assert "simulated" not in result.stdout  # refused before the run
        with open(target, "rb") as f:
            assert f.read() == EARLIER
    finally:
        if read_only == folder:
            os.chmod(folder, 0o755)
        else:
            subprocess.run(["umount", read_only], check=True)


def test_outputs_naming_an_input_are_refused_before_the_run():
    folder = fresh_folder("inputs")
    scenario = os.path.join(folder, "shop.yaml")
    shutil.copyfile(ECOMMERCE, scenario)
    script = os.path.join(folder, "calm.lua")
    with open(script, "w") as out:
        out.write('sim.log("calm")\n')
    with open(scenario, "rb") as f:
        scenario_bytes = f.read()
    cases = [
        (["--out", scenario], "--out names the scenario"),
        (["--out", os.path.join(folder, "..", "inputs", "shop.yaml")], "--out names the scenario"),
        (["--out", script, "--script", script], "--out names the script"),
        (["--out", os.path.join(folder, "t.h5"), "--events", scenario], "--events names the scenario"),
        (["--out", os.path.join(folder, "t.h5"), "--events", os.path.join(folder, "t.h5")],
         "--events names the trace"),
    ]
    for args, message in cases:
        result = dosim("run", scenario, "--quiet", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
    with open(scenario, "rb") as f:
        assert f.read() == scenario_bytes
    with open(script) as f:
        assert f.read() == 'sim.log("calm")\n'
    assert not os.path.exists(os.path.join(folder, "t.h5"))
    assert glob.glob(os.path.join(folder, ".*")) == []


def test_every_front_end_refuses_an_output_that_names_any_input():
    """A manifest, a recorded-rate CSV, an lstm model, NAB's labels: run, serve, bench, sweep
    and nab run each refuse to write over them (they wrote HDF5 or JSON over the file)."""
    folder = fresh_folder("all-inputs")
    man = os.path.join(folder, "man.yaml")
    shutil.copyfile(SOURCE_DIR / "labs" / "lab1" / "lab-manifests" / "frontend_cartservice_delay.yaml", man)
    scenario = os.path.join(folder, "bm.yaml")
    with open(SOURCE_DIR / "labs" / "lab1" / "boutique.yaml") as f:
        text = f.read()
    with open(scenario, "w") as out:
        out.write(text + "manifests: [{file: man.yaml, start: 15m, duration: 10m}]\n")
    rates = os.path.join(folder, "rps.csv")
    with open(rates, "w") as out:
        out.write("timestamp,rps\n0,10\n60,20\n")
    recorded = os.path.join(folder, "rec.yaml")
    with open(recorded, "w") as out:
        out.write("name: rec\nduration: 10m\nservices: [{name: a}]\n"
                  "traffic: [{name: u, entry: a, replay: {file: rps.csv, column: rps}}]\n")
    model = os.path.join(folder, "m.h5")
    shutil.copyfile(SOURCE_DIR / "models" / "lstm-noop.h5", model)
    sweep = os.path.join(folder, "sl.yaml")
    with open(sweep, "w") as out:
        out.write("scenario: rec.yaml\ndetectors: ['lstm:model=m.h5']\nseeds: 1\n")
    before = {path: open(path, "rb").read() for path in (man, rates, model)}
    cases = [
        ("run", scenario, "--out", man),
        ("run", recorded, "--out", rates),
        ("run", scenario, "--out", os.path.join(folder, "t.h5"), "--report", man),
        ("serve", scenario, "--out", man, "--listen", "127.0.0.1:0", "--speed", "0", "--exit-at-end"),
        ("bench", "--detectors", "mad", "--scenarios", scenario, "--seeds", "1", "--out", man),
        ("bench", "--detectors", "mad", "--scenarios", recorded, "--seeds", "1", "--out", rates),
        ("sweep", sweep, "--out", model),
    ]
    for args in cases:
        result = dosim(*args)
        assert result.returncode == 2, (args, result.stderr)
    if dosim_test_util.has_nab():
        nab = os.path.join(folder, "nab")
        shutil.copytree(dosim_test_util.NAB, nab)
        labels = os.path.join(nab, "labels", "combined_windows.json")
        before[labels] = open(labels, "rb").read()
        result = dosim("nab", "run", "--nab", nab, "--detectors", "mad", "--files",
                       "realKnownCause/ambient*", "--out", labels)
        assert result.returncode == 2 and "NAB's own folders" in result.stderr, result.stderr
    for path, data in before.items():
        assert open(path, "rb").read() == data, path


def test_a_device_or_a_symbolic_link_is_never_replaced():
    payments = str(SOURCE_DIR / "scenarios" / "payments-mad.yaml")
    result = dosim("run", payments, "--out", "/dev/null", "--quiet")
    assert result.returncode == 2, result.stderr
    assert "/dev/null: cannot create trace: not a regular file" in result.stderr, result.stderr
    assert not os.path.isfile("/dev/null")  # still the device a rename would have replaced
    folder = fresh_folder("link")
    link = os.path.join(folder, "link.h5")
    os.symlink("real.h5", link)  # dangling: the run creates the file it names
    result = dosim("run", payments, "--out", link, "--quiet")
    assert result.returncode == 0, result.stderr
    assert os.path.islink(link) and os.readlink(link) == "real.h5"
    with h5py.File(os.path.join(folder, "real.h5"), "r") as f:
        assert f.attrs["complete"] == 1


def test_events_that_cannot_be_written_exit_2():
    folder = fresh_folder("events")
    payments = str(SOURCE_DIR / "scenarios" / "payments-mad.yaml")
    target = os.path.join(folder, "t.h5")
    result = dosim("run", payments, "--out", target, "--events", "/dev/full", "--quiet")
    assert result.returncode == 2, result.stderr
    assert "/dev/full: cannot write the events: No space left on device" in result.stderr
    assert "1 problem" in result.stderr and "null baseline" in result.stdout
    # The summary and the report still come (they were left out: the run stopped at once).
    page = os.path.join(folder, "page.html")
    result = dosim("run", payments, "--out", target, "--events", "/dev/full", "--report", page)
    assert result.returncode == 2, result.stderr
    assert "dosim run: payments-mad" in result.stdout and f"report      {page}" in result.stdout
    assert os.path.getsize(page) > 0
    missing = os.path.join(folder, "no-such-folder", "events.jsonl")
    os.remove(target)
    result = dosim("run", payments, "--out", target, "--events", missing, "--quiet")
    assert result.returncode == 2, result.stderr
    assert "cannot write the events: No such file or directory" in result.stderr, result.stderr
    assert not os.path.exists(target)  # refused before the run


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


def test_a_file_size_limit_fails_a_report_and_keeps_the_earlier_page():
    """SIGXFSZ is ignored for every command (cli/main.cc), so `dosim report` past a file size
    limit says so (exit 2) and leaves no temporary file, as run and export do (it was killed,
    exit 153, leaving PAGE.tmp-PID)."""
    folder = fresh_folder("ulimit-report")
    trace = os.path.join(folder, "t.h5")
    assert dosim("run", ECOMMERCE, "--out", trace, "--quiet").returncode == 0
    page = with_earlier_trace(folder, "page.html")
    result = subprocess.run(["bash", "-c", 'ulimit -f 50; exec "$0" report "$1" -o "$2"',
                             DOSIM, trace, page], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "File too large" in result.stderr, result.stderr
    with open(page, "rb") as f:
        assert f.read() == EARLIER
    assert sorted(os.listdir(folder)) == ["page.html", "t.h5"], os.listdir(folder)
