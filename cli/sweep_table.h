// The results of a sweep (docs/sweep.md, "Results"): what one run contributes, and the
// output files made of all of them.
//
// Every output is a function of two things only: the sweep's header (what was swept:
// scenarios, parameters, detectors, cells; sweep_header()) and the results of its runs in run
// order. Both travel as JSON text (checkpoint files, shard files, MPI messages) and are
// always read back from that text before an output is made, whichever way the runs were
// computed, so one process, any thread count, MPI ranks and merged shards write the same
// bytes. Nothing in them depends on the wall clock, the machine or the paths given on the
// command line.
//
// The tables: `cells` (one row per cell), `runs` (one row per run and detector, the null
// detector included), `summary` (one row per cell and detector: each metric's median, min,
// max and count over the cell's seeds). JSON (.json): the header's keys, then each table as
// a list of objects. HDF5 (.h5): a group per table, a 1-D dataset per column, the column
// order in the group's `columns` attribute (names joined by newlines).
#pragma once

#include <cstddef>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_runs.h"
#include "sweep_spec.h"

namespace dosim::cli {

using SweepJson = nlohmann::ordered_json;

inline constexpr int kSweepFormatVersion = 1;

// The metrics of a run row, in column order (keys of the bench's metrics).
const std::vector<std::string>& sweep_metrics();

// Column names that a parameter path may not take.
bool is_fixed_column(const std::string& name);

// The sweep's description that every output and shard holds.
SweepJson sweep_header(const SweepPlan& plan);

// Checks a header read from a file (a shard) is one that sweep_header() makes: every key of
// its type and in its range, the rows the detectors and `null`, this dosim's metrics, a cell
// per `cells` entry holding each parameter's value, `runs_total` = cells x seeds_per_cell.
// Throws std::runtime_error naming what is wrong.
void check_sweep_header(const SweepJson& header);

// One run's result as JSON text.
std::string run_result_text(const SweepPlan& plan, std::size_t run, const BenchRun& result);

// A run's result read back from text (a checkpoint, a shard, a message), checked against the
// header: throws std::runtime_error naming what is wrong.
SweepJson parse_run_result(const std::string& text, const SweepJson& header);

// The output files. REQUIRES: `runs` holds every run of the header, in run order.
std::string render_sweep_json(const SweepJson& header, const std::vector<SweepJson>& runs);
// Writes the HDF5 file through a temporary file and a rename; returns "" or why it failed.
std::string write_sweep_hdf5(const std::string& path, const SweepJson& header,
                             const std::vector<SweepJson>& runs);

// The summary as a text table (medians, with min-max where they differ), the null detector
// left out, at most `max_rows` rows (then a line saying how many more).
void print_sweep_table(std::FILE* out, const SweepJson& header, const std::vector<SweepJson>& runs,
                       std::size_t max_rows);

// The cells (scenario, mode, parameter values) as a text table, at most `max_rows` rows.
void print_sweep_cells(std::FILE* out, const SweepJson& header, std::size_t max_rows);

}  // namespace dosim::cli
