// A sweep file (docs/sweep.md) and its expansion into runs, for `dosim sweep`.
//
// load_sweep_file() reads SWEEP.yaml: the scenarios, a grid of parameter values and random
// samples addressed by path into a scenario's YAML (`services[name=api].capacity_rps`,
// `faults[0].percent`, `dependencies[caller=web,callee=api].timeout`), detectors as
// `dosim bench --detectors` takes them, seeds and modes. plan_sweep() expands it into cells
// (scenario x grid point x random sample x mode, in that order, the last parameter varying
// fastest) and resolves each cell into a RunPlan: the parameter values are written into the
// scenario's text in place of the values they address (or as a new key of the mapping that
// a last path segment names), and the text is loaded as any scenario is, so every check of
// the loader and of a run applies to every cell. Both throw one InputError holding every
// problem: a path that addresses nothing at its position in the sweep file, a value that the
// loader rejects at the value's position in the sweep file (with the scenario's position in
// the message). Runs are numbered cell * seeds_per_cell + seed index: the canonical order of
// every output. Not thread-safe; a SweepPlan is read-only once made and may be shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dosim/engine/scenario.h"
#include "dosim/run.h"
#include "sweep_paths.h"

namespace dosim::cli {

// One value of a parameter as it goes into a scenario's text.
struct SweepValue {
  std::string text;      // YAML, ready to write into a scenario (quoted where it must be)
  std::string display;   // the value itself (unquoted), for tables
  bool numeric = false;  // a number (a column of numbers when every value of it is one) ...
  double number = 0;     // ... this one
  SourcePos pos;         // where the sweep file wrote it ({0, 0} for a random sample)
};

struct SweepParameter {
  std::string path;
  SourcePos pos;                   // of the path in the sweep file
  std::vector<SweepValue> values;  // grid values; empty for a random range
  // A random range: samples uniform in [min, max] (in log space with `log`), rounded with
  // `integer`, written with `unit` appended.
  bool random = false;
  double min = 0, max = 0;
  bool log = false, integer = false;
  std::string unit;
};

struct SweepSpec {
  std::string file;  // the sweep file, as given
  std::string name;
  std::vector<std::string> scenarios;       // as written (relative to the sweep file's folder)
  std::vector<std::string> scenario_paths;  // resolved
  std::vector<SourcePos> scenario_pos;
  std::vector<SweepParameter> parameters;  // grid parameters, then random ranges
  int samples = 0;                         // random samples (0: none)
  std::uint64_t random_seed = 1;
  std::vector<std::string> detectors;
  SourcePos detectors_pos;
  std::vector<SourcePos> detector_pos;  // per detector
  int seed_count = 1;                   // seeds s, s+1, ... (s: each scenario's seed) ...
  std::vector<std::uint64_t> seeds;     // ... or these, for every scenario
  std::vector<std::string> modes;       // "fluid", "requests"; empty: each scenario's own
  std::string script;                   // as written; "" for none
  std::string script_path;              // resolved
  SourcePos script_pos;                 // of its value in the sweep file
  // Where the values of `samples`, `seeds` and `modes` are written ({0, 0}: absent).
  SourcePos samples_pos, seeds_pos, modes_pos;
  // The sweep file's own problems, kept for plan_sweep to report with the cells' (every
  // problem at once); the file's structure being unreadable is thrown at once instead.
  std::vector<Diagnostic> problems;
};

// Throws InputError with every problem of the file.
SweepSpec load_sweep_file(const std::string& path);

struct SweepCell {
  std::size_t scenario = 0;
  std::string mode;                 // as run: "fluid" or "requests"
  std::vector<std::size_t> values;  // per parameter: the index of its value (grid) ...
  std::vector<SweepValue> sampled;  // ... and the random parameters' values, in order
  std::uint64_t base_seed = 0;      // the plan's seed (the scenario's)
};

struct SweepPlan {
  SweepSpec spec;
  std::vector<SweepCell> cells;
  // The options every cell's run starts from (its mode set where the sweep sets modes).
  RunOptions run_options;
  int seeds_per_cell = 1;
  // Every file the runs read (the scenarios, the script, manifests, replayed and recorded
  // CSV files, models, Python detectors' modules, rankers), each once, in the order found.
  std::vector<std::string> inputs;
  // A hash of everything a run's result depends on: dosim's version, the sweep's expansion,
  // the bytes of the scenarios, the script and every other input. Shards and checkpoints of
  // another sweep differ.
  std::string hash;
  // The scenarios' warnings, each once, at the sweep file's value where a swept value
  // causes it (as its problems are said).
  std::vector<Diagnostic> warnings;

  // Each scenario's text and, per parameter, the edit that writes its value there.
  std::vector<std::string> scenario_texts;
  std::vector<std::vector<TextEdit>> edits;

  std::size_t run_count() const { return cells.size() * seeds_per_cell; }
  // The scenario a cell runs, as YAML text (its values written in).
  std::string cell_text(std::size_t cell) const;
  // A cell's run, planned again from its text as plan_sweep planned it to check it (a plan
  // holds a whole scenario: a million cells' plans kept took 8 GB).
  RunPlan plan_of(std::size_t cell) const;
  std::uint64_t seed_of(std::size_t run) const;
  // A cell's value of parameter p.
  const SweepValue& value(std::size_t cell, std::size_t p) const;
};

// Expands and resolves the sweep; throws InputError with every problem.
SweepPlan plan_sweep(SweepSpec spec);

// The most cells and runs a sweep may have.
inline constexpr std::size_t kMaxSweepCells = 1'000'000;
inline constexpr std::size_t kMaxSweepRuns = 10'000'000;

}  // namespace dosim::cli
