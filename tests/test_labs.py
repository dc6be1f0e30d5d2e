"""The teaching labs (labs/, docs/labs.md) through `dosim lab`, as an instructor uses them.

Every lab's instructor solution passes its grader, on the public practice seeds and on
hidden ones (an instructor's key); a deliberately wrong submission per lab
(tests/data/labs/) fails exactly the tasks its mistake concerns. The JSON report, the exit
codes, the student seeds and the lab list are checked, and lab 4's notebook runs top to
bottom on the solution. Lab 4's NAB task needs the NAB copy ($DOSIM_NAB, else
../shared/nab): without it that task must fail and say why."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

from dosim_test_util import DOSIM, NAB, SOURCE_DIR, TMP, dosim, has_nab

LABS = SOURCE_DIR / "labs"
TASKS = {
    "lab1": ["surges", "single-delay", "double-delay", "pruned-fields", "gauges"],
    "lab2": ["runs", "finds-pay", "severity"],
    "lab3": ["manifests", "experiment", "verdict", "rollback", "culprit"],
    "lab4": ["runs", "detects", "beats-baselines", "nab"],
    "lab5": ["root-cause", "rankers", "recovers", "correct-actions", "mttr"],
}
# Each wrong submission: the instructor's solution with files replaced (from the lab folder)
# or edited (text replaced), and the tasks its mistake must fail.
MISTAKES = {
    # The lab report's own manifests (a pruned `match`), and surges counted as if the
    # monitors judged from the first second.
    "lab1": {"copy": {name: f"lab1/lab-manifests/{name}" for name in
                      ["frontend_cartservice_delay.yaml", "check_payment_delay.yaml"]},
             "edit": {"answers.yaml": ("t1_anomalous_surges: [3]",
                                       "t1_anomalous_surges: [1, 2, 3]")}},
    # Features per service instead of per (service, endpoint): /pay drowns in the others.
    "lab2": {"edit": {"mad_logs.py": ('logs = logs[logs["endpoint"].notna()]',
                                      'logs["endpoint"] = "*"')}},
    # The hypothesis compares seconds with 200 (ms), and the rollbacks delete nothing.
    "lab3": {"edit": {"gameday.lua": [("if p95 > 0.200 then", "if p95 > 200 then"),
                                      ("for _, applied in ipairs(chaos) do applied:stop() end",
                                       "sim.log('nothing to roll back')")]}},
    # The starter's detector, which scores 0 everywhere.
    "lab4": {"copy": {"detector.py": "lab4/submission/detector.py",
                      "detector.yaml": "lab4/submission/detector.yaml"}},
    # Blames the latest change, and lets the `change` ranker choose what to roll back.
    "lab5": {"edit": {"answers.yaml": ("root_change: pricing-v7", "root_change: search-cfg-12"),
                      "playbook.yaml": ("ranker: deepest}", "ranker: change}")}},
}
WRONG_FAILS = {
    "lab1": {"surges", "pruned-fields"},
    "lab2": {"finds-pay", "severity"},
    "lab3": {"verdict", "rollback"},
    "lab4": {"detects", "beats-baselines", "nab"},
    "lab5": {"root-cause", "recovers", "correct-actions", "mttr"},
}
ENV = dict(os.environ, DOSIM_NAB=str(NAB))
ENV.pop("DOSIM_LAB_KEY", None)


def grade(lab, submission, *options):
    """Grades from a scratch folder (the labs are found through dosim's data folder);
    returns (exit code, the JSON report, the text report)."""
    out = TMP / f"grade-{lab}-{submission.name}.json"
    run = dosim("lab", "grade", lab, submission, "--json", out, *options, cwd=TMP, env=ENV,
                timeout=600)
    assert out.is_file(), f"no JSON report: {run.stdout}\n{run.stderr}"
    return run.returncode, json.loads(out.read_text()), run.stdout


def wrong_submission(lab):
    """The solution of `lab` with its mistake (MISTAKES) made, in a scratch folder."""
    folder = TMP / f"{lab}-wrong"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(LABS / "solutions" / lab, folder)
    for name, source in MISTAKES[lab].get("copy", {}).items():
        shutil.copy(LABS / source, folder / name)
    for name, edits in MISTAKES[lab].get("edit", {}).items():
        text = (folder / name).read_text()
        for old, new in edits if isinstance(edits, list) else [edits]:
            assert old in text, f"{lab}: '{old}' is no longer in {name}"
            text = text.replace(old, new)
        (folder / name).write_text(text)
    return folder


def failed(report):
    return {t["id"] for t in report["tasks"] if not t["passed"]}


@pytest.mark.parametrize("lab", sorted(TASKS))
def test_the_instructor_solution_passes(lab):
    code, report, text = grade(lab, LABS / "solutions" / lab)
    assert [t["id"] for t in report["tasks"]] == TASKS[lab]
    expected = set() if lab != "lab4" or has_nab() else {"nab"}
    assert failed(report) == expected, text
    assert code == (0 if not expected else 1)
    assert report["seeds"] == "practice"
    assert report["points"] == report["total"] - len(expected)
    if expected:
        nab = next(t for t in report["tasks"] if t["id"] == "nab")
        assert "DOSIM_NAB" in nab["feedback"]


def test_the_solutions_pass_on_hidden_seeds():
    for lab in ["lab1", "lab3", "lab5"]:
        code, report, text = grade(lab, LABS / "solutions" / lab, "--key", "course-2026")
        assert code == 0 and report["passed"], text
        assert report["seeds"] == "hidden"
        assert "on hidden seeds" in text


@pytest.mark.parametrize("lab", sorted(TASKS))
def test_a_wrong_submission_fails_the_right_tasks(lab):
    code, report, text = grade(lab, wrong_submission(lab))
    assert code == 1
    assert failed(report) == WRONG_FAILS[lab], text
    for task in report["tasks"]:
        assert task["passed"] or task["feedback"], f"{task['id']} failed without feedback"
        assert ("FAIL" if not task["passed"] else "PASS") + f"  {task['id']}:" in text


def test_feedback_does_not_give_the_answer():
    _, report, _ = grade("lab1", wrong_submission("lab1"))
    surges = next(t for t in report["tasks"] if t["id"] == "surges")
    assert "[3]" not in surges["feedback"] and "3]" not in surges["feedback"]
    _, report, _ = grade("lab5", wrong_submission("lab5"))
    root = next(t for t in report["tasks"] if t["id"] == "root-cause")
    assert "pricing" not in root["feedback"]


def test_a_missing_file_is_reported_as_not_handed_in():
    empty = TMP / "lab3-empty"
    empty.mkdir(exist_ok=True)
    code, report, _ = grade("lab3", empty)
    assert code == 1 and report["points"] == 0
    assert all("not handed in" in t["feedback"] for t in report["tasks"])


def test_answers_follow_the_students_seed():
    seed = dosim("lab", "seed", "lab5", "--student", "ada", cwd=TMP, env=ENV)
    assert seed.returncode == 0 and int(seed.stdout) > 0
    again = dosim("lab", "seed", "lab5", "--student", "ada", cwd=TMP, env=ENV)
    other = dosim("lab", "seed", "lab5", "--student", "grace", cwd=TMP, env=ENV)
    keyed = dosim("lab", "seed", "lab5", "--student", "ada", "--key", "k", cwd=TMP, env=ENV)
    assert seed.stdout == again.stdout
    assert len({seed.stdout, other.stdout, keyed.stdout}) == 3
    # Without a key the seed is the public practice one: said on stderr, not in the seed.
    assert "practice seed, which anyone can compute" in seed.stderr, seed.stderr  # ENV: no key
    assert "warning" not in keyed.stderr, keyed.stderr
    # The solution's answers are about the scenario's own seed: with a student's seed some
    # answers that depend on the seed (rankings five minutes in, time to recover) no
    # longer hold, while the rest do.
    _, report, _ = grade("lab5", LABS / "solutions" / "lab5", "--student", "ada")
    assert failed(report) and failed(report) <= {"rankers", "mttr"}


def test_bad_command_lines_exit_2():
    unknown = dosim("lab", "grade", "lab9", TMP, cwd=TMP, env=ENV)
    assert unknown.returncode == 2 and "no lab 'lab9'" in unknown.stderr
    missing = dosim("lab", "grade", "lab1", TMP / "no-such-folder", cwd=TMP, env=ENV)
    assert missing.returncode == 2 and "is not a folder" in missing.stderr


def test_an_unknown_task_or_an_unwritable_json_is_a_bad_command_line():
    solution = SOURCE_DIR / "labs" / "solutions" / "lab5"
    unknown = dosim("lab", "grade", "lab5", solution, "--task", "nosuch", cwd=TMP, env=ENV)
    assert unknown.returncode == 2 and "has no task 'nosuch'" in unknown.stderr, unknown
    assert "root-cause" in unknown.stderr  # the tasks it has
    # A folder that is a file: said, with why, before grading.
    (TMP / "a-file").write_text("x")
    unwritable = dosim("lab", "grade", "lab5", solution, "--json", TMP / "a-file" / "g.json",
                       cwd=TMP, env=ENV)
    assert unwritable.returncode == 2 and "cannot write the grade" in unwritable.stderr, unwritable
    assert "is not a folder" in unwritable.stderr, unwritable.stderr
    assert "Traceback" not in unwritable.stderr


def test_the_grade_goes_to_a_folder_made_for_it_as_the_docs_show():
    # docs/labs.md: `--json grades/s1234.json` (it failed: no grades/ folder).
    shutil.rmtree(TMP / "grades", ignore_errors=True)
    solution = SOURCE_DIR / "labs" / "solutions" / "lab5"
    run = dosim("lab", "grade", "lab5", solution, "--task", "root-cause", "--json",
                "grades/s1234.json", cwd=TMP, env=ENV, timeout=600)
    assert run.returncode == 0, run.stderr
    assert json.loads((TMP / "grades" / "s1234.json").read_text())["lab"] == "lab5"


def test_a_students_edited_copy_of_the_lab_is_not_what_they_are_graded_against():
    # The handout has the student add their delays to their copy's boutique.yaml; graded
    # from the folder that holds that copy, `lab1` named it, and the run without delays the
    # surges task needs had the delays in it (0/5 for the instructor's solution). A bare
    # name is the labs folders' lab; a path (./lab1) is that folder.
    course = TMP / "course"
    shutil.rmtree(course, ignore_errors=True)
    shutil.copytree(LABS / "lab1", course / "lab1")
    solution = LABS / "solutions" / "lab1"
    scenario = course / "lab1" / "boutique.yaml"
    scenario.write_text(scenario.read_text() + "manifests:\n  - {file: " +
                        str(solution / "frontend_cartservice_delay.yaml") + ", start: 2m}\n")
    named = dosim("lab", "grade", "lab1", solution, "--task", "surges", cwd=course, env=ENV,
                  timeout=600)
    assert named.returncode == 0, named.stdout + named.stderr
    assert "UserWarning" not in named.stderr, named.stderr  # the lab's own warnings stay quiet
    folder = dosim("lab", "grade", "./lab1", solution, "--task", "surges", cwd=course, env=ENV,
                   timeout=600)
    assert folder.returncode == 1, folder.stdout + folder.stderr
    # Where no labs folder has the lab, the bare name is refused, not the student's copy (it
    # graded with ./lab1/grader.py, which a student can edit).
    env = {k: v for k, v in ENV.items() if k != "DOSIM_LABS"}
    env["DOSIM_DATA_DIR"] = str(TMP / "no-labs-here")
    alone = dosim("lab", "grade", "lab1", solution, "--task", "surges", cwd=course, env=env)
    assert alone.returncode == 2, alone.stdout + alone.stderr
    assert "no lab 'lab1' in the labs folders" in alone.stderr and "./lab1" in alone.stderr


def test_lab_list_shows_the_five_labs():
    listed = dosim("lab", "list", cwd=TMP, env=ENV)
    assert listed.returncode == 0
    for lab in TASKS:
        assert f"\n{lab} " in "\n" + listed.stdout


def test_lab_help_lists_the_graders_commands():
    # `--help` reaches the grader (the command's own parser would list only -h).
    for words in [("lab", "--help"), ("lab", "-h")]:
        shown = dosim(*words, cwd=TMP, env=ENV)
        assert shown.returncode == 0, shown
        assert all(command in shown.stdout for command in ["list", "seed", "grade"]), shown.stdout
    grade_help = dosim("lab", "grade", "--help", cwd=TMP, env=ENV)
    assert grade_help.returncode == 0 and "--student" in grade_help.stdout, grade_help


def test_lab_list_without_labs_says_where_it_looked_and_exits_2():
    empty = TMP / "no-labs-here"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in ENV.items() if k != "DOSIM_LABS"}
    env["DOSIM_DATA_DIR"] = str(empty)
    listed = dosim("lab", "list", cwd=empty, env=env)
    assert listed.returncode == 2, listed
    assert "no labs found" in listed.stderr and str(empty) in listed.stderr, listed.stderr
    # Only broken labs: each said, then that none loads, exit 2 (it exited 0 listing nothing).
    broken = TMP / "broken-labs"
    for name, code in (("bad", 'raise RuntimeError("oops")\n'), ("empty", "x = 1\n")):
        (broken / name).mkdir(parents=True, exist_ok=True)
        (broken / name / "grader.py").write_text(code)
    env["DOSIM_LABS"] = str(broken)
    listed = dosim("lab", "list", cwd=empty, env=env)
    assert listed.returncode == 2, listed
    assert "does not load" in listed.stderr and "defines no `lab`" in listed.stderr, listed.stderr
    assert "no lab that loads found" in listed.stderr and str(broken) in listed.stderr, listed.stderr


def test_a_python_package_that_cannot_be_imported_exits_2_not_1():
    """1 is an autograder's "a task failed": a grader whose Python cannot import dosim graded
    every student as failing (found by a new-user audit). Python started isolated and
    without its site folders stands for a machine without the package."""
    isolated = TMP / "python-without-dosim.sh"
    isolated.write_text("#!/bin/sh\nexec /usr/bin/python3 -I -S \"$@\"\n")
    isolated.chmod(0o755)
    env = dict(ENV, DOSIM_PYTHON=str(isolated))
    listed = dosim("lab", "list", env=env)
    assert listed.returncode == 2, listed
    assert "dosim lab: cannot import the dosim Python package" in listed.stderr, listed.stderr


NOTEBOOKS = {"lab1": ["no incident", "rule ", "severity"],
             "lab4": ["\nmad ", "\nyours ", "\nrandom baseline ", "\nnull baseline "]}
IMAGES = {"lab1": 3, "lab4": 1}


@pytest.mark.skipif(importlib.util.find_spec("nbconvert") is None
                    or importlib.util.find_spec("ipykernel") is None,
                    reason="nbconvert or ipykernel is not installed")
@pytest.mark.parametrize("lab", sorted(NOTEBOOKS))
def test_the_lab_notebook_runs_on_the_solution(lab):
    folder = TMP / f"{lab}-notebook"
    folder.mkdir(exist_ok=True)
    python_path = os.pathsep.join(filter(None, [str(SOURCE_DIR / "build" / "python"),
                                                os.environ.get("PYTHONPATH")]))
    prefix = lab.upper()
    env = dict(ENV, DOSIM_BIN=os.path.abspath(DOSIM), PYTHONPATH=python_path,
               **{f"{prefix}_DIR": str(LABS / lab),
                  f"{prefix}_SUBMISSION": str(LABS / "solutions" / lab),
                  f"{prefix}_WORK": str(folder / "work")})
    run = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=300", "--output-dir", str(folder), "--output",
         f"{lab}.ipynb", str(LABS / lab / f"{lab}.ipynb")],
        capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    notebook = json.loads((folder / f"{lab}.ipynb").read_text())
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                   for o in outputs)
    for expected in NOTEBOOKS[lab]:
        assert expected in text, f"{expected!r} missing from the notebook's output"
    assert sum("image/png" in o.get("data", {}) for o in outputs) == IMAGES[lab]
    if lab == "lab4":
        assert ("NAB standard" in text) == has_nab()


def test_a_students_answers_about_their_own_seed_pass():
    """A student with an id runs lab 5 with their seed and answers from their own runs, as
    the handout says (here with the dosim package, as a notebook would): graded with
    --student, every task passes."""
    import dosim
    import yaml
    seed = int(dosim_cli_seed("lab5", "ada"))
    report = dosim.run(str(LABS / "lab5" / "shop.yaml"), seed=seed)
    incident = report.incidents.iloc[0]
    scenario = yaml.safe_load((LABS / "lab5" / "shop.yaml").read_text())
    playbook = LABS / "solutions" / "lab5" / "playbook.yaml"
    scenario["remediation"]["playbooks"] = [yaml.safe_load(playbook.read_text())]
    folder = TMP / "lab5-ada"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "shop.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))
    with_playbook = dosim.run(str(folder / "shop.yaml"), seed=seed).incidents.iloc[0]
    shutil.copy(playbook, folder / "playbook.yaml")
    (folder / "shop.yaml").unlink()
    answers = {
        "root_change": str(incident["name"]), "root_service": str(incident["root_cause"]),
        "ac1_rankers_5m": sorted(s["ranker"] for s in report.rca_scores()
                                 if s["delay_s"] == 300 and s["ac1"] == 1),
        "mttr_without_s": recovery_s(incident), "mttr_with_s": recovery_s(with_playbook)}
    (folder / "answers.yaml").write_text(yaml.safe_dump(answers))
    code, report, text = grade("lab5", folder, "--student", "ada")
    assert code == 0 and report["passed"], text


def recovery_s(incident):
    return float(incident["impact_end_ns"] - incident["impact_start_ns"]) / 1e9


def dosim_cli_seed(lab, student):
    result = dosim("lab", "seed", lab, "--student", student, cwd=TMP, env=ENV)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_garbage_submissions_and_broken_labs_get_words_not_tracebacks():
    """Answers that are not UTF-8 or not numbers fail their task with a reason; a lab folder
    whose grader does not load is said and the others listed; --json may not replace a
    file of the submission; a full device is exit 2. None prints a traceback."""
    sub = TMP / "garbage-sub"
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir()
    (sub / "answers.yaml").write_bytes(b"\xff\xfe not text")
    code, report, _ = grade("lab1", sub, "--task", "surges")
    assert code == 1 and "answers.yaml is not UTF-8 text" in report["tasks"][0]["feedback"], report
    (sub / "answers.yaml").write_text("t1_anomalous_surges: [abc]\nt1_incident: no\n")
    code, report, _ = grade("lab1", sub, "--task", "surges")
    assert code == 1 and "must be a list of surge numbers" in report["tasks"][0]["feedback"], report
    replaced = dosim("lab", "grade", "lab1", sub, "--task", "surges", "--json",
                     sub / "answers.yaml", cwd=TMP, env=ENV)
    assert replaced.returncode == 2 and "a file of the submission" in replaced.stderr, replaced
    assert (sub / "answers.yaml").read_text().startswith("t1_anomalous_surges")
    # Nor a new file inside the submission or the lab (it was written there).
    for inside in (sub / "grade.json", LABS / "lab1" / "grade.json"):
        added = dosim("lab", "grade", "lab1", sub, "--task", "surges", "--json", inside,
                      cwd=TMP, env=ENV)
        assert added.returncode == 2 and "names a file inside" in added.stderr, added
        assert not inside.exists()
    # A question answered twice: which answer counts is not said (the last one was graded).
    (sub / "answers.yaml").write_text("t1_anomalous_surges: [1]\nt1_anomalous_surges: [2]\n")
    code, report, _ = grade("lab1", sub, "--task", "surges")
    assert code == 1 and "'t1_anomalous_surges' is answered twice (line 1 and line 2)" \
        in report["tasks"][0]["feedback"], report
    full = dosim("lab", "grade", "lab1", sub, "--task", "surges", "--json", "/dev/full",
                 cwd=TMP, env=ENV)
    assert full.returncode == 2 and "No space left" in full.stderr, full
    labs = TMP / "labs-with-a-broken-one"
    shutil.rmtree(labs, ignore_errors=True)
    (labs / "broken").mkdir(parents=True)
    (labs / "broken" / "grader.py").write_text("def x(:\n")
    shutil.copytree(LABS / "lab2", labs / "lab2")
    listed = dosim("lab", "list", cwd=TMP, env=dict(ENV, DOSIM_LABS=str(labs)))
    assert listed.returncode == 0 and "\nlab2 " in "\n" + listed.stdout, listed
    assert "broken/grader.py does not load: SyntaxError" in listed.stderr, listed.stderr
    for run in (replaced, full, listed):
        assert "Traceback" not in run.stderr, run.stderr


def test_feedback_says_what_is_wrong():
    """The graders' feedback names the mistake made: the right change in a list is an answer
    of the wrong type (it said the change was wrong); the starter's missing /pay incident is
    why it is not Critical (it said the incident was not Critical); a DOSIM_NAB set to a
    folder without NAB says so (it said to set DOSIM_NAB)."""
    def feedback(report, task):
        return next(t["feedback"] for t in report["tasks"] if t["id"] == task)

    folder = TMP / "lab5-listed"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(LABS / "solutions" / "lab5", folder)
    answers = folder / "answers.yaml"
    answers.write_text(answers.read_text().replace("root_change: pricing-v7",
                                                   "root_change: [pricing-v7]"))
    _, report, _ = grade("lab5", folder, "--task", "root-cause")
    assert "root_change must be one change's name, as text" in feedback(report, "root-cause")
    _, report, _ = grade("lab2", LABS / "lab2" / "submission", "--task", "severity")
    assert "no /pay incident was found" in feedback(report, "severity"), report
    env = dict(ENV, DOSIM_NAB=str(TMP / "no-nab-here"))
    out = TMP / "grade-lab4-nab.json"
    dosim("lab", "grade", "lab4", LABS / "solutions" / "lab4", "--task", "nab", "--json", out,
          cwd=TMP, env=env, timeout=600)
    said = feedback(json.loads(out.read_text()), "nab")
    assert "DOSIM_NAB is" in said and "holds no copy" in said, said


def test_a_run_problem_is_said_at_a_file_the_student_has():
    """A detector that fails to import, graded: the feedback names the lab's scenario and the
    student's own file, not the grader's scratch copy of the scenario (a /tmp/dosim-lab4-...
    path, deleted once grading ends)."""
    folder = TMP / "lab4-broken-import"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(LABS / "solutions" / "lab4", folder)
    code = folder / "detector.py"
    code.write_text("import nosuchmod\n" + code.read_text())
    _, report, _ = grade("lab4", folder)
    said = "\n".join(t["feedback"] for t in report["tasks"] if not t["passed"])
    assert "ModuleNotFoundError" in said and str(code) in said, said
    assert "dosim-lab4-" not in said and "shop.yaml (as the grader runs it with your files)" in said, said


def test_a_program_finds_no_answer_beside_the_logs():
    # Lab 2's program ran beside the hidden run's trace (and its scenario with the shifted
    # faults): one that copied /truth/incidents got 3/3 on hidden seeds with no MAD at all.
    folder = TMP / "lab2-peek"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "mad_logs.py").write_text(
        "import glob, os, sys\n"
        "import h5py\n"
        "rows = ['service,endpoint,start_minute,end_minute,severity']\n"
        "here, name = os.path.split(os.path.abspath(sys.argv[1]))\n"
        "for trace in glob.glob(os.path.join(here, 'run' + name[4:-6] + '.h5')):\n"
        "    with h5py.File(trace, 'r') as f:\n"
        "        t = f['truth/incidents']\n"
        "        for s, e in zip(t['impact_start_ns'][:], t['impact_end_ns'][:]):\n"
        "            rows.append(f'payments,/pay,{int(s // 60e9)},{int(-(-e // 60e9))},Critical')\n"
        "open(sys.argv[2], 'w').write('\\n'.join(rows) + '\\n')\n")
    code, report, _ = grade("lab2", folder, "--task", "finds-pay")
    assert code == 1, report
    # An empty --json path is refused, as every command's empty output path (it graded and
    # wrote nothing).
    empty = dosim("lab", "grade", "lab2", folder, "--json", "", cwd=TMP, env=ENV, timeout=600)
    assert empty.returncode == 2 and "--json is given an empty path" in empty.stderr, empty
