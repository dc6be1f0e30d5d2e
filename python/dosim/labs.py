"""Teaching labs (docs/labs.md): the grader behind `dosim lab`.

A lab is a folder (labs/<name>/) with a handout, starter files and `grader.py`, which makes
a `Lab` and registers its tasks:

    lab = Lab("lab1", "From anomaly detection to incidents", runs=3)

    @lab.task("single-delay", "Your delay manifest opens a Sev2 incident",
              needs=["frontend_cartservice_delay.yaml"])
    def single_delay(g):
        for run in g.hidden_runs():
            report = g.run("boutique.yaml", seed=run.seed,
                           manifests=[g.submitted("frontend_cartservice_delay.yaml")])
            g.expect(max_severity(report, "lab7") == 2, run, "...feedback...")

`grade()` runs every task against a submission folder on hidden seeds and returns a
`Grade`; a task passes when none of its expectations failed. Feedback says what was seen,
never the expected answer. The seeds are drawn from the lab's name and a key: the
instructor's key (`--key`, or DOSIM_LAB_KEY) makes them hidden; without one they are the
public practice seeds, the same for everyone, so that a student can check their work.
"""

import argparse
import hashlib
import importlib.util
import json
import os
import re
import sys
import tempfile
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PRACTICE_KEY = "practice"


def derive_seed(key, lab, label):
    """A seed in [1, 2^31) from the key, the lab's name and a label, the same everywhere."""
    digest = hashlib.sha256(f"{key}\0{lab}\0{label}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % (2**31 - 1) + 1


def student_seed(lab, student, key=None):
    """The seed a student runs their lab with (`dosim lab seed LAB --student ID`)."""
    return derive_seed(key or PRACTICE_KEY, lab, f"student:{student}")


class Missing(Exception):
    """A file the task needs is not in the submission."""


class Failed(Exception):
    """An expectation of a task did not hold; the message is the feedback."""


@dataclass
class HiddenRun:
    index: int  # 1-based: "hidden run 2"
    seed: int

    def __str__(self):
        return f"hidden run {self.index}"


@dataclass
class TaskResult:
    id: str
    title: str
    passed: bool
    feedback: str = ""
    points: int = 1


@dataclass
class Grade:
    lab: str
    title: str
    practice: bool
    tasks: list = field(default_factory=list)

    @property
    def passed(self):
        return all(t.passed for t in self.tasks)

    def points(self):
        return sum(t.points for t in self.tasks if t.passed), sum(t.points for t in self.tasks)

    def to_json(self):
        got, total = self.points()
        return {"lab": self.lab, "title": self.title, "passed": self.passed,
                "points": got, "total": total,
                "seeds": "practice" if self.practice else "hidden",
                "tasks": [{"id": t.id, "title": t.title, "passed": t.passed,
                           "points": t.points if t.passed else 0, "feedback": t.feedback}
                          for t in self.tasks]}

    def text(self):
        got, total = self.points()
        lines = [f"{self.lab}: {self.title}", ""]
        for t in self.tasks:
            lines.append(f"  {'PASS' if t.passed else 'FAIL'}  {t.id}: {t.title}")
            for line in t.feedback.splitlines() if not t.passed else []:
                lines.append(f"        {line}")
        lines.append("")
        seeds = ("practice seeds (public; the instructor grades with a key)" if self.practice
                 else "hidden seeds")
        lines.append(f"{got}/{total} points, {sum(t.passed for t in self.tasks)}/"
                     f"{len(self.tasks)} tasks passed, on {seeds}")
        return "\n".join(lines)


class Grader:
    """What a task sees: the lab and submission folders, the hidden runs, and runs that
    plug the submission's files into the lab's scenarios. Runs are cached per grading."""

    def __init__(self, lab, lab_dir, submission, key, student, workdir):
        self.lab = lab
        self.lab_dir = Path(lab_dir).resolve()
        self.submission = Path(submission).resolve()
        self.key = key or PRACTICE_KEY
        self.student = student
        self.workdir = Path(workdir)
        self._cache = {}
        self._counter = 0

    def memo(self, key, compute):
        """compute() once per grading for `key` (work several tasks share); a Failed is
        remembered too, so that each task that needs the work reports it."""
        key = ("memo", key)
        if key not in self._cache:
            try:
                self._cache[key] = (compute(), None)
            except Failed as failure:
                self._cache[key] = (None, failure)
        value, failure = self._cache[key]
        if failure is not None:
            raise failure
        return value

    # --- seeds ---
    def hidden_runs(self):
        return [HiddenRun(i + 1, derive_seed(self.key, self.lab.name, f"run:{i}"))
                for i in range(self.lab.runs)]

    def answer_seed(self):
        """The seed the student's answers are about: theirs with --student, else the
        seed of the lab's scenario (the handout's default run)."""
        if self.student:
            return student_seed(self.lab.name, self.student, None if
                                self.key == PRACTICE_KEY else self.key)
        return None

    # --- files ---
    def lab_file(self, name):
        return self.lab_dir / name

    def submitted(self, name):
        path = self.submission / name
        if not path.is_file():
            raise Missing(name)
        return path

    def answers(self, name="answers.yaml"):
        """The submission's answers file as a dict (a clear failure when it does not parse,
        or answers a question twice: which answer counts is not said)."""
        path = self.submitted(name)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
        except UnicodeDecodeError:
            raise Failed(f"{name} is not UTF-8 text") from None
        except yaml.YAMLError as error:
            raise Failed(f"{name} is not valid YAML: {error}") from None
        if not isinstance(data, dict):
            raise Failed(f"{name} must be a mapping of question: answer")
        return data

    def answer(self, answers, key, kind=float):
        if key not in answers or answers[key] is None:
            raise Failed(f"{key} is not answered in answers.yaml")
        if kind is list:
            if not isinstance(answers[key], list):
                raise Failed(f"{key} must be a list, as [a, b]")
            return answers[key]
        try:
            return kind(answers[key])
        except (TypeError, ValueError):
            raise Failed(f"{key}: cannot read '{answers[key]}' as a {kind.__name__}") from None

    # --- runs ---
    def scenario(self, name, overrides=None, manifests=None):
        """The lab's scenario `name` with top-level keys replaced by `overrides` and the
        manifest files appended to its `manifests:`, written to the work folder; the path."""
        source = self.lab_file(name)
        if not overrides and not manifests:
            return source
        data = yaml.safe_load(source.read_text())
        data.update(overrides or {})
        # Written to the work folder: the scenario's own manifests keep their files.
        own = []
        for m in data.get("manifests") or []:
            m = dict(m) if isinstance(m, dict) else {"file": m}
            if isinstance(m.get("file"), str):
                m["file"] = str((source.parent / m["file"]).resolve())
            own.append(m)
        if own:
            data["manifests"] = own
        if manifests:
            entries = list(data.get("manifests") or [])
            for m in manifests:
                m = dict(m) if isinstance(m, dict) else {"file": m}
                m["file"] = str(Path(m["file"]).resolve())
                entries.append(m)
            data["manifests"] = entries
        self._counter += 1
        path = self.workdir / f"{Path(name).stem}-{self._counter}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def run(self, name, seed, overrides=None, manifests=None, **options):
        """dosim.run of the lab's scenario with the submission's pieces; a Failed with the
        problems when the submission does not load or its script fails."""
        import dosim
        key = json.dumps([name, seed, overrides, [str(m) for m in manifests or []],
                          {k: str(v) for k, v in sorted(options.items())}], sort_keys=True,
                         default=str)
        if key in self._cache:
            return self._cache[key]
        path = self.scenario(name, overrides, manifests)
        try:
            # The lab's scenarios warn on purpose (lab 1's manifests are read with the
            # cluster's eyes): the grade's feedback is the tasks', not those warnings.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                try:
                    report = dosim.run(str(path), seed=seed, **options)
                finally:
                    # The hidden run's scenario (its shifted faults) is no file a submission
                    # run later in the work folder may read.
                    if Path(path) != self.lab_file(name):
                        Path(path).unlink(missing_ok=True)
        except dosim.Error as error:
            def said(d):
                # A place in the grader's own copy of the scenario (a scratch file, gone once
                # graded) is no place a student can open: the lab's scenario is named instead.
                text = str(d)
                if Path(path) != self.lab_file(name):
                    text = re.sub(rf"^{re.escape(str(path))}(:\d+)*: ",
                                  f"{name} (as the grader runs it with your files): ", text)
                return text
            problems = "\n".join(said(d) for d in getattr(error, "diagnostics", [])) or str(error)
            raise Failed(f"the run did not start or stopped with an error:\n{problems}") \
                from None
        self._cache[key] = report
        return report

    def expect(self, condition, run, feedback):
        if not condition:
            where = f"{run}: " if run is not None else ""
            raise Failed(where + feedback)


class Lab:
    def __init__(self, name, title, runs=3):
        self.name = name
        self.title = title
        self.runs = runs
        self.tasks = []

    def task(self, id, title, needs=(), points=1):
        def register(function):
            self.tasks.append((id, title, tuple(needs), points, function))
            return function
        return register

    def grade(self, lab_dir, submission, key=None, student=None, only=None):
        submission = Path(submission)
        grade = Grade(self.name, self.title, practice=not key)
        with tempfile.TemporaryDirectory(prefix=f"dosim-{self.name}-") as workdir:
            g = Grader(self, lab_dir, submission, key, student, workdir)
            for id, title, needs, points, function in self.tasks:
                if only and id not in only:
                    continue
                missing = [n for n in needs if not (submission / n).is_file()]
                if missing:
                    verb = "is" if len(missing) == 1 else "are"
                    grade.tasks.append(TaskResult(
                        id, title, False, f"not handed in: {', '.join(missing)} {verb} missing "
                        f"from {submission}", points))
                    continue
                try:
                    function(g)
                    grade.tasks.append(TaskResult(id, title, True, "", points))
                except Missing as missing_file:
                    grade.tasks.append(TaskResult(
                        id, title, False, f"not handed in: {missing_file} is missing", points))
                except Failed as failure:
                    grade.tasks.append(TaskResult(id, title, False, str(failure), points))
                except UnicodeDecodeError:
                    grade.tasks.append(TaskResult(
                        id, title, False, "a file handed in is not UTF-8 text", points))
                except dosim_error() as error:  # a file of the submission dosim refused
                    problems = "\n".join(str(d) for d in getattr(error, "diagnostics", []))
                    grade.tasks.append(TaskResult(
                        id, title, False, "dosim refused a file handed in:\n" +
                        (problems or str(error)), points))
                except Exception:  # a bug in the submission's code, not in the grader's use
                    grade.tasks.append(TaskResult(
                        id, title, False, "the task raised an error:\n" +
                        traceback.format_exc(limit=-3).rstrip(), points))
        return grade


def dosim_error():
    """dosim's error class (the package's own module loads lazily: labs imports without it)."""
    import dosim
    return dosim.Error


# --- helpers graders share ---
NS = 10**9


def max_severity(report, rule):
    """The most severe Sev level the rule reached (1 is the most severe); 0: no incident."""
    rows = report.detected[report.detected["rule"] == rule]
    return int(rows["severity"].min()) if len(rows) else 0


def first_opened_s(report, rule, severity=None):
    """When the rule first declared an incident (of at most that Sev level): seconds; None."""
    rows = report.detected[report.detected["rule"] == rule]
    if severity is not None:
        rows = rows[rows["severity"] <= severity]
    return float(rows["start_ns"].min()) / NS if len(rows) else None


# --- the command line: python3 -m dosim.labs (what `dosim lab` runs) ---
def lab_roots():
    roots = []
    if os.environ.get("DOSIM_LABS"):
        roots.append(Path(os.environ["DOSIM_LABS"]))
    roots.append(Path.cwd() / "labs")
    if os.environ.get("DOSIM_DATA_DIR"):
        roots.append(Path(os.environ["DOSIM_DATA_DIR"]) / "labs")
    return roots


def find_lab(name):
    """LAB as a lab's name under the labs folders, or a folder holding grader.py. A bare
    name (lab1) is the labs folders' lab first: a student's copy of it beside their work,
    whose scenario the handout has them edit, must not become the lab they are graded
    against; a path (./lab1, course/lab1) is that folder."""
    path = Path(name)
    looked = ", ".join(str(r) for r in lab_roots())
    if os.sep not in name and "/" not in name and name not in (".", ".."):
        for root in lab_roots():
            if (root / name / "grader.py").is_file():
                return root / name
        # A bare name is never a folder beside the work (it graded with a student's copy
        # where no labs folder had the lab): that folder is given by its path.
        if (path / "grader.py").is_file():
            print(f"dosim lab: no lab '{name}' in the labs folders ({looked}); the folder "
                  f"./{name} has a grader.py: give it as a path (./{name}) to use it",
                  file=sys.stderr)
            sys.exit(2)
    if (path / "grader.py").is_file():
        return path
    print(f"dosim lab: no lab '{name}' (a folder with grader.py, or a name under {looked}); "
          "`dosim lab list` shows them", file=sys.stderr)
    sys.exit(2)


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                continue  # said by the base class
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"'{key}' is answered twice (line {seen[key]} and line "
                    f"{key_node.start_mark.line + 1}): keep one", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


class BrokenLab(Exception):
    """A lab folder whose grader.py does not load or defines no `lab`."""


def load_lab(lab_dir):
    spec = importlib.util.spec_from_file_location(f"dosim_lab_{lab_dir.name}",
                                                  lab_dir / "grader.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the lab's own code: said, not a traceback
        raise BrokenLab(f"{lab_dir / 'grader.py'} does not load: "
                        f"{type(error).__name__}: {error}") from None
    if not isinstance(getattr(module, "lab", None), Lab):
        raise BrokenLab(f"{lab_dir / 'grader.py'} defines no `lab` (a dosim.labs.Lab)")
    return module.lab


def written_inputs(target, folders):
    """The file among `folders`' files (a submission's, a lab's) that `target` names, or None."""
    if not Path(target).exists():
        return None
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file() and os.path.samefile(path, target):
                return path
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="dosim lab", description=(
        "Teaching labs: list them, give a student their seed, grade a submission "
        "(docs/labs.md)"))
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the labs and where they are")
    seed = commands.add_parser("seed", help="a student's seed for a lab")
    seed.add_argument("lab")
    seed.add_argument("--student", required=True, help="the student's id")
    seed.add_argument("--key", default=os.environ.get("DOSIM_LAB_KEY"),
                      help="the instructor's secret (default: DOSIM_LAB_KEY; without one, the "
                      "public practice seed, with a warning)")
    grade = commands.add_parser("grade", help="grade a submission folder on hidden seeds")
    grade.add_argument("lab", help="a lab's name (lab1 ... lab5) or folder")
    grade.add_argument("submission", help="the student's folder")
    grade.add_argument("--key", default=os.environ.get("DOSIM_LAB_KEY"),
                       help="the instructor's secret: hidden seeds (default: DOSIM_LAB_KEY; "
                       "without one, the public practice seeds)")
    grade.add_argument("--student", help="the student's id: their answers are about the run "
                       "with their seed (`dosim lab seed`)")
    grade.add_argument("--json", metavar="FILE", help="also write the grade as JSON ('-': "
                       "standard output, instead of the text)")
    grade.add_argument("--task", action="append", help="grade only this task (repeatable)")
    args = parser.parse_args(argv)

    if args.command == "list":
        seen, listed = set(), 0
        for root in lab_roots():
            for grader in sorted(root.glob("*/grader.py")) if root.is_dir() else []:
                if grader.parent.name in seen:
                    continue
                seen.add(grader.parent.name)
                try:
                    lab = load_lab(grader.parent)
                except BrokenLab as broken:  # the others are still listed
                    print(f"dosim lab list: {broken}", file=sys.stderr)
                    continue
                print(f"{lab.name:6} {lab.title}  ({grader.parent})")
                listed += 1
        if not listed:  # say where it looked, not nothing (broken labs were said above)
            looked = ", ".join(str(r) for r in lab_roots())
            found = "no labs found" if not seen else "no lab that loads found"
            print(f"dosim lab list: {found} (looked in {looked}; set DOSIM_DATA_DIR to "
                  "the folder that holds labs/, or DOSIM_LABS to the labs folder)",
                  file=sys.stderr)
            return 2
        return 0
    lab_dir = find_lab(args.lab)
    try:
        lab = load_lab(lab_dir)
    except BrokenLab as broken:
        print(f"dosim lab: {broken}", file=sys.stderr)
        return 2
    if args.command == "seed":
        if not args.student.strip():
            print("dosim lab seed: --student must name the student (an id, not empty)",
                  file=sys.stderr)
            return 2
        if not args.key:
            print("dosim lab seed: warning: no --key nor DOSIM_LAB_KEY: this is the student's "
                  "practice seed, which anyone can compute; give the instructor's key for a "
                  "hidden one", file=sys.stderr)
        print(student_seed(lab.name, args.student, args.key))
        return 0
    if not Path(args.submission).is_dir():
        print(f"dosim lab grade: the submission '{args.submission}' is not a folder",
              file=sys.stderr)
        return 2
    if args.student is not None and not args.student.strip():
        print("dosim lab grade: --student must name the student (an id, not empty)",
              file=sys.stderr)
        return 2
    ids = [task[0] for task in lab.tasks]
    unknown = [t for t in (args.task or []) if t not in ids]
    if unknown:  # grading nothing must not pass
        print(f"dosim lab grade: {lab.name} has no task {', '.join(map(repr, unknown))} "
              f"(its tasks: {', '.join(ids)})", file=sys.stderr)
        return 2
    if args.json is not None and not args.json:  # as every command's empty output path
        print("dosim lab grade: --json is given an empty path (a file, or '-' for standard "
              "output)", file=sys.stderr)
        return 2
    if args.json and args.json != "-":  # checked before grading: a grade is not lost at the end
        target = Path(args.json)
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.exists():  # grades/s1234.json: its folder made, as the docs show it
            try:
                folder.mkdir(parents=True)
            except OSError as error:
                print(f"dosim lab grade: cannot write the grade to '{args.json}': cannot make "
                      f"its folder ({error.strerror})", file=sys.stderr)
                return 2
        why = ("it is a folder" if target.is_dir() else
               f"'{folder}' is not a folder" if not folder.is_dir() else
               f"its folder '{folder}' is not writable" if not os.access(folder, os.W_OK) else
               "it is not writable" if target.exists() and not os.access(target, os.W_OK) else
               None)
        if why:
            print(f"dosim lab grade: cannot write the grade to '{args.json}': {why}",
                  file=sys.stderr)
            return 2
        taken = written_inputs(target, [args.submission, lab_dir])
        if taken is not None:  # the grade must not replace what it grades
            print(f"dosim lab grade: --json names {taken}, a file of the submission or the lab",
                  file=sys.stderr)
            return 2
        # ... nor add to it: a new file inside either folder is handed in by no one.
        for inside, what in ((args.submission, "the submission"), (lab_dir, "the lab")):
            if folder.resolve().is_relative_to(Path(inside).resolve()):
                print(f"dosim lab grade: --json names a file inside {what} ({inside}): "
                      "write the grade elsewhere", file=sys.stderr)
                return 2
    result = lab.grade(lab_dir, args.submission, key=args.key, student=args.student,
                       only=args.task)
    if args.json == "-":
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(result.text())
        if args.json:  # whole or not at all: through a temporary file beside it
            text = json.dumps(result.to_json(), indent=2) + "\n"
            target = Path(args.json)
            if target.exists() and not target.is_file():  # a device or a pipe: in place
                with open(target, "w") as out:
                    out.write(text)
            else:
                temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
                try:
                    temporary.write_text(text)
                    os.replace(temporary, target)
                finally:
                    temporary.unlink(missing_ok=True)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
