"""The results of `dosim sweep` (docs/sweep.md) as pandas DataFrames.

    sweep = dosim.load_sweep("results.h5")          # or results.json: the same tables
    sweep.summary                                    # one row per cell and detector
    sweep.runs                                       # one row per run and detector
    sweep.cells                                      # one row per cell
    sweep.meta["parameters"]                         # the swept paths, in order

Columns keep the file's order: the cell, its scenario, mode and one column per swept path
(numbers where every value is one), then the detector and the metrics (`summary`: each
metric's `_median`, `_min`, `_max` and `_n` over the cell's seeds). A metric a run does not
have (`ttd_median_s` when nothing was detected) is NaN.
"""

import json

import pandas as _pd

TABLES = ("cells", "runs", "summary")


class SweepResults:
    """The three tables of a sweep's results file and what was swept (`meta`)."""

    def __init__(self, tables, meta):
        self.cells = tables["cells"]
        self.runs = tables["runs"]
        self.summary = tables["summary"]
        self.meta = meta

    def __repr__(self):
        return (f"<SweepResults {self.meta.get('name')!r}: {len(self.cells)} cells, "
                f"{len(self.runs)} run rows, {len(self.summary)} summary rows>")


class _NotSweep(Exception):
    """A readable file whose format is not dosim sweep's."""


def _from_json(path):
    with open(path, encoding="utf-8") as f:
        results = json.load(f)
    if results.get("format") != "dosim-sweep":
        raise _NotSweep()
    tables = {}
    for name in TABLES:
        rows = results[name]
        columns = list(rows[0].keys()) if rows else []
        tables[name] = _pd.DataFrame(rows, columns=columns)
    meta = {key: value for key, value in results.items() if key not in TABLES}
    meta["parameters"] = [p["path"] for p in meta["parameters"]]
    return tables, meta


def _from_hdf5(path):
    import h5py

    def text(value):
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    with h5py.File(path, "r") as f:
        if text(f.attrs.get("format", b"")) != "dosim-sweep":
            raise _NotSweep()
        tables = {}
        for name in TABLES:
            group = f[name]
            columns = text(group.attrs["columns"]).split("\n")
            data = {}
            for column in columns:
                dataset = group[column.replace("/", "%2F")]
                data[column] = (dataset.asstr()[()] if dataset.dtype.kind == "S"
                                else dataset[()])
            tables[name] = _pd.DataFrame(data, columns=columns)
        meta = {key: text(value) if isinstance(value, bytes) else value.item()
                if hasattr(value, "item") else value for key, value in f.attrs.items()}
        for key in ("scenarios", "parameters", "detectors", "rows", "modes", "metrics",
                    "seeds"):
            meta[key] = meta[key].split("\n") if meta.get(key) else []
        meta["seeds"] = [int(seed) for seed in meta["seeds"]]
    return tables, meta


def load_sweep(path):
    """The results of `dosim sweep --out PATH` (.json, or .h5 read with h5py). Raises
    dosim.InputError where the file is not such results or cannot be read."""
    from . import _dosim
    path = str(path)
    # A FIFO or a device first: json and h5py would wait on it for ever.
    if problem := _dosim._input_file_problem(path):
        _dosim._raise_input_error(path, f"cannot read the results: {problem}")
    try:
        if path.lower().endswith((".h5", ".hdf5")):
            tables, meta = _from_hdf5(path)
        else:
            tables, meta = _from_json(path)
    except _NotSweep:
        _dosim._raise_input_error(path, "not the results of dosim sweep")
    except (OSError, KeyError, ValueError, TypeError, IndexError) as error:
        _dosim._raise_input_error(path, f"cannot read the results: {error}")
    return SweepResults(tables, meta)
