// `dosim sweep SWEEP.yaml` and `dosim sweep merge SHARD...` (cli/sweep_command.cc,
// docs/sweep.md): a grid (and random samples) over scenario parameters, detectors, seeds
// and modes, every run scored as `dosim bench` scores it, results as tables in JSON or HDF5
// that are the same bytes for any thread count, any number of MPI ranks, and shards merged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace dosim::cli {

struct SweepOptions {
  std::string sweep_path;
  int threads = 0;                     // 0: the machine's cores (one process), 1 per MPI rank
  std::vector<std::string> out_paths;  // .json or .h5; empty: <sweep stem>.json
  std::string checkpoint_dir;          // empty: beside the first output, OUT.ckpt
  bool resume = false;
  std::string shard;  // "I/N": only runs with index % N == I, to a shard file
  bool quiet = false;
  bool dry_run = false;             // check and expand the sweep, print its cells, run nothing
  std::int64_t show_scenario = -1;  // print this cell's scenario (its values written in)
  std::int64_t stop_after = 0;      // hidden, for tests: exit 75 after this many runs are saved
  std::size_t table_rows = 40;      // rows of the printed table
  // `dosim sweep merge SHARD... --out FILE`
  bool merge = false;
  std::vector<std::string> shard_paths;
};

// Adds `sweep` (with its `merge` subcommand) to `app`; returns it.
CLI::App* add_sweep_command(CLI::App& app, SweepOptions& options);
int sweep_command(SweepOptions options);

}  // namespace dosim::cli
