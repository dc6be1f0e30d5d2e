// `dosim sweep` (docs/sweep.md): loads and expands the sweep file (every problem reported
// before any run), opens the outputs and the checkpoint folder, hands the missing runs to
// this process's threads or to MPI ranks (cli/sweep_cluster.h), saves each result in the
// checkpoint folder as it arrives, then writes the results (or, with --shard, a shard file
// that `dosim sweep merge` joins with the others).
#include "sweep_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "commands.h"
#include "dosim/error.h"
#include "number_options.h"
#include "sweep_cluster.h"
#include "sweep_spec.h"
#include "sweep_table.h"
#include "util/cores.h"
#include "util/input_file.h"
#include "util/output_file.h"

namespace dosim::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kExitStopped = 75;  // --stop-after: stopped on purpose, checkpoint kept

// What a sweep stopped by SIGINT or SIGTERM says before it dies of the signal (as it would
// have): where its completed runs are. Written before the runs start; the handler only
// writes it (async-signal-safe).
char g_stopped_message[4096] = "";
std::size_t g_stopped_length = 0;

extern "C" void say_where_the_runs_are_and_die(int signal_number) {
  if (g_stopped_length > 0) {
    const ssize_t written = ::write(STDERR_FILENO, g_stopped_message, g_stopped_length);
    (void)written;
  }
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}
constexpr std::uintmax_t kMaxShardBytes = std::uintmax_t{4} << 30;

enum class OutputKind { kJson, kHdf5 };

std::optional<OutputKind> kind_of(const std::string& path) {
  std::string extension = fs::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".json") return OutputKind::kJson;
  if (extension == ".h5" || extension == ".hdf5") return OutputKind::kHdf5;
  return std::nullopt;
}

// Whether `inner` is `outer` or a path inside the folder `outer`.
bool is_within(const std::string& inner, const std::string& outer) {
  if (same_file(inner, outer)) return true;
  std::error_code error;
  const fs::path folder = fs::weakly_canonical(fs::absolute(outer, error), error);
  if (error) return false;
  for (fs::path path = fs::weakly_canonical(fs::absolute(inner, error), error);
       !error && path.has_relative_path(); path = path.parent_path())
    if (path == folder) return true;
  return false;
}

// Checks the outputs: a known kind, not an input, not the checkpoint folder (nor a folder
// that holds it), not twice, writable. Throws InputError.
void check_outputs(const std::vector<std::string>& outputs, const std::vector<std::string>& inputs,
                   bool shard, const std::string& checkpoint = "") {
  std::vector<Diagnostic> problems;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const std::string& out = outputs[i];
    const std::optional<OutputKind> kind = kind_of(out);
    if (!kind || (shard && kind != OutputKind::kJson)) {
      problems.push_back({out, 0, 0,
                          shard ? "a shard file is JSON: its name ends in .json"
                                : "a results file ends in .json (JSON), or .h5 or .hdf5 (HDF5)"});
      continue;
    }
    for (const std::string& input : inputs)
      if (same_file(out, input))
        problems.push_back({out, 0, 0, "cannot write the results: it is also " + input});
    if (!checkpoint.empty() && is_within(checkpoint, out)) {
      problems.push_back(
          {out, 0, 0,
           "cannot write the results: " +
               std::string(same_file(checkpoint, out) ? "it is also" : "it would hold") +
               " the checkpoint folder " + checkpoint + " (choose another --checkpoint)"});
      continue;
    }
    for (std::size_t j = 0; j < i; ++j)
      if (same_file(out, outputs[j])) problems.push_back({out, 0, 0, "given twice with --out"});
    if (const std::string reason = unwritable_reason(out); !reason.empty())
      problems.push_back({out, 0, 0, "cannot write the results: " + reason});
    else if (is_special_file(out))  // a FIFO would wait for a reader for ever, at the end
      problems.push_back({out, 0, 0, "cannot write the results: not a regular file"});
  }
  if (!problems.empty()) throw InputError(std::move(problems));
}

// Writes every output; throws InputError naming the one that failed.
void write_outputs(const std::vector<std::string>& outputs, const SweepJson& header,
                   const std::vector<SweepJson>& runs) {
  std::optional<std::string> json;
  for (const std::string& out : outputs) {
    std::string problem;
    if (kind_of(out) == OutputKind::kHdf5) {
      problem = write_sweep_hdf5(out, header, runs);
    } else {
      if (!json) json = render_sweep_json(header, runs);
      problem = write_file_replacing(out, *json);
    }
    if (!problem.empty()) throw InputError(out, "cannot write the results: " + problem);
  }
}

// "3, 7-9, 12" for sorted indices.
std::string ranges_text(const std::vector<std::size_t>& indices, std::size_t most = 20) {
  std::string out;
  std::size_t shown = 0;
  for (std::size_t i = 0; i < indices.size();) {
    std::size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (shown++ == most) return out + ", ...";
    out += (out.empty() ? "" : ", ") + std::to_string(indices[i]);
    if (j > i) out += "-" + std::to_string(indices[j]);
    i = j + 1;
  }
  return out;
}

bool is_run_file(const fs::path& path, std::size_t& index) {
  const std::string name = path.filename().string();
  if (name.size() < 10 || name.compare(0, 4, "run-") != 0 ||
      name.compare(name.size() - 5, 5, ".json") != 0)
    return false;
  const std::string digits = name.substr(4, name.size() - 9);
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  index = std::stoull(digits);
  return true;
}

// The checkpoint folder: made if missing; with `resume`, the results it holds go into
// `results`. Returns how many it held. Throws InputError. `only_check` (--dry-run): the same
// problems, and nothing made or removed.
std::size_t open_checkpoint(const std::string& dir, bool resume, const SweepPlan& plan,
                            const SweepJson& header, std::vector<std::optional<SweepJson>>& results,
                            bool only_check = false) {
  std::error_code error;
  if (fs::exists(dir, error) && !fs::is_directory(dir, error))
    throw InputError(dir, "the checkpoint folder is a file");
  if (only_check && !fs::exists(dir, error)) {
    // Whether the run could make it (`--out /proc/x.json` passed a dry run, and the run
    // failed): made and removed again, the folders above it too, so nothing is left.
    std::vector<fs::path> made;
    for (fs::path p = fs::absolute(dir, error); !p.empty() && !fs::exists(p, error);
         p = p.parent_path()) {
      made.push_back(p);
      if (p == p.parent_path()) break;
    }
    fs::create_directories(dir, error);
    const std::error_code failed = error;
    for (const fs::path& p : made) fs::remove(p, error);  // the deepest first
    if (failed) throw InputError(dir, "cannot make the checkpoint folder: " + failed.message());
    return 0;
  }
  if (!only_check) fs::create_directories(dir, error);
  if (error) throw InputError(dir, "cannot make the checkpoint folder: " + error.message());
  std::size_t held = 0, foreign = 0;
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    std::size_t index = 0;
    if (is_run_file(entry.path(), index)) {
      files.push_back(entry.path());
    } else if (!only_check && name.rfind("run-", 0) == 0 &&
               name.find(".json.tmp-") != std::string::npos) {
      fs::remove(entry.path(), error);  // a write that a kill interrupted
    }
  }
  if (error) throw InputError(dir, "cannot read the checkpoint folder: " + error.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::size_t index = 0;
    is_run_file(file, index);
    std::string reason;
    const std::optional<std::string> text =
        read_input_file(file.string(), kMaxScenarioBytes, reason);
    try {
      if (!text) throw std::runtime_error(reason);
      const SweepJson saved = SweepJson::parse(*text);
      // Not one (no hash, no result: a file damaged or not ours) is run again; another
      // sweep's is refused below.
      if (!saved.is_object() || !saved.contains("sweep_hash") || !saved.contains("result"))
        throw std::runtime_error("no 'sweep_hash' and 'result'");
      if (saved.value("sweep_hash", "") != plan.hash) {
        ++foreign;
        continue;
      }
      SweepJson result = parse_run_result(saved.at("result").dump(), header);
      if (result.at("run").get<std::size_t>() != index)
        throw std::runtime_error("it holds run " + result.at("run").dump());
      if (!results[index]) ++held;
      results[index] = std::move(result);
    } catch (const std::exception& e) {
      if (resume)
        std::fprintf(stderr, "%s: not a checkpointed run (%s): running it again\n",
                     file.string().c_str(), e.what());
    }
  }
  // Another sweep's runs first: --resume would not take them (it was advised, and then
  // refused with this).
  if (foreign > 0)
    throw InputError(dir, "holds " + std::to_string(foreign) +
                              " runs of another sweep (the sweep file, a scenario, the script, a "
                              "file the runs read or dosim changed since): remove the folder or "
                              "choose another --checkpoint");
  if (!files.empty() && !resume)
    throw InputError(dir, "holds " + std::to_string(files.size()) + " completed run" +
                              (files.size() == 1 ? "" : "s") +
                              " of this sweep: add --resume to go on with "
                              "them, or remove the folder");
  return held;
}

// Removes the checkpoint's files of the runs written (those of shard `index` of `count`),
// then the folder if nothing else is in it: a shard resumed from another split's checkpoint
// (0/3 from 0/2's) leaves the runs it did not write.
void remove_checkpoint(const std::string& dir, std::size_t index, std::size_t count) {
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    std::size_t run = 0;
    if (is_run_file(entry.path(), run) && run % count == index) fs::remove(entry.path(), error);
  }
  fs::remove(dir, error);  // only when empty
}

// "dosim sweep: NAME: 12 cells x 10 seeds = 120 runs, 3 detectors each" (no newline).
void print_plan(const SweepPlan& plan, std::size_t total) {
  const auto plural = [](std::size_t n) { return n == 1 ? "" : "s"; };
  const std::size_t seeds = static_cast<std::size_t>(plan.seeds_per_cell);
  std::printf("dosim sweep: %s: %zu cell%s x %zu seed%s = %zu run%s, %zu detector%s each",
              plan.spec.name.c_str(), plan.cells.size(), plural(plan.cells.size()), seeds,
              plural(seeds), total, plural(total), plan.spec.detectors.size(),
              plural(plan.spec.detectors.size()));
}

std::string describe_cell(const SweepPlan& plan, std::size_t cell) {
  std::string out = plan.spec.scenarios[plan.cells[cell].scenario];
  if (!plan.spec.modes.empty()) out += ", mode " + plan.cells[cell].mode;
  for (std::size_t p = 0; p < plan.spec.parameters.size(); ++p)
    out += ", " + plan.spec.parameters[p].path + " = " + plan.value(cell, p).display;
  return out;
}

// A shard's header's sweep hash, for messages.
std::string hash_of(const SweepJson& header) {
  if (!header.is_object() || !header.contains("sweep_hash") || !header["sweep_hash"].is_string())
    return "?";
  return header["sweep_hash"].get<std::string>();
}

int merge_command(const SweepOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  std::optional<SweepJson> header;
  std::string first;
  std::vector<std::optional<SweepJson>> results;
  std::size_t shard_count = 0;
  std::map<std::size_t, std::string> given_shards;  // shard index: its file
  std::vector<Diagnostic> problems;
  for (const std::string& path : options.shard_paths) {
    std::string reason;
    const std::optional<std::string> text = read_input_file(path, kMaxShardBytes, reason);
    if (!text) {
      problems.push_back({path, 0, 0, "cannot read the shard: " + reason});
      continue;
    }
    try {
      const SweepJson shard = SweepJson::parse(*text);
      if (!shard.is_object() || shard.value("format", "") != "dosim-sweep-shard")
        throw std::runtime_error("not a shard of dosim sweep (no format: dosim-sweep-shard)");
      if (shard.value("format_version", 0) != kSweepFormatVersion)
        throw std::runtime_error("a shard of another format version (" +
                                 shard.value("format_version", SweepJson(nullptr)).dump() + ")");
      const SweepJson& shards = shard.value("shards", SweepJson(nullptr));
      const SweepJson& index_in = shard.value("shard", SweepJson(nullptr));
      if (!shards.is_number_unsigned() || shards.get<std::uint64_t>() < 1 ||
          shards.get<std::uint64_t>() > kMaxSweepRuns || !index_in.is_number_unsigned() ||
          index_in.get<std::uint64_t>() >= shards.get<std::uint64_t>())
        throw std::runtime_error("no 'shard: I' and 'shards: N' with 0 <= I < N (--shard I/N)");
      const std::size_t its_count = shards.get<std::size_t>();
      const std::size_t its_index = index_in.get<std::size_t>();
      if (!shard.contains("header")) throw std::runtime_error("no 'header'");
      const SweepJson& its_header = shard.at("header");
      if (!shard.contains("results") || !shard.at("results").is_array())
        throw std::runtime_error("no list of 'results'");
      if (!header) {
        check_sweep_header(its_header);  // before it is kept: the shards after rely on it
        header = its_header;
        first = path;
        shard_count = its_count;
        results.assign(header->at("runs_total").get<std::size_t>(), std::nullopt);
      } else if (its_header.dump() != header->dump() && hash_of(its_header) != hash_of(*header)) {
        throw std::runtime_error(
            "a shard of another sweep than " + first + " (sweep hash " + hash_of(its_header) +
            " against " + hash_of(*header) +
            ": the sweep file, a scenario, a file the runs read or dosim differs)");
      } else if (its_header.dump() != header->dump()) {
        // The same runs, described otherwise (a `name:` changed between shards): the merged
        // file would have to pick one.
        std::string differ;
        for (const auto& [key, value] : its_header.items())
          if (!header->contains(key) || header->at(key) != value)
            differ += (differ.empty() ? "'" : ", '") + key + "' (" + value.dump() + " against " +
                      (header->contains(key) ? header->at(key).dump() : "none") + ")";
        throw std::runtime_error("the same runs as " + first + " but described otherwise: " +
                                 differ + "; run every shard from the same sweep file");
      } else if (its_count != shard_count) {
        throw std::runtime_error("one of " + std::to_string(its_count) + " shards, " + first +
                                 " one of " + std::to_string(shard_count));
      }
      // One file a shard (a stale glob gives one twice, or an old copy beside a new one).
      if (const auto given = given_shards.find(its_index); given != given_shards.end())
        throw std::runtime_error("shard " + std::to_string(its_index) + "/" +
                                 std::to_string(shard_count) + " again: " + given->second +
                                 " is that shard too");
      given_shards[its_index] = path;
      const SweepJson& seeds = header->at("seeds");
      const std::size_t per_cell = header->at("seeds_per_cell").get<std::size_t>();
      std::set<std::size_t> in_file;
      for (const SweepJson& saved : shard.at("results")) {
        SweepJson result = parse_run_result(saved.dump(), *header);
        const std::size_t index = result.at("run").get<std::size_t>();
        if (index % shard_count != its_index)
          throw std::runtime_error("run " + std::to_string(index) + " is not a run of shard " +
                                   std::to_string(its_index) + "/" + std::to_string(shard_count));
        if (!in_file.insert(index).second)
          throw std::runtime_error("run " + std::to_string(index) + " is in the shard twice");
        // Seeds listed by the sweep file: each run's is known (else it is its scenario's).
        if (seeds.is_array() && !seeds.empty() && per_cell == seeds.size() &&
            result.at("seed") != seeds.at(index % per_cell))
          throw std::runtime_error("run " + std::to_string(index) + " has seed " +
                                   result.at("seed").dump() + ", not the sweep's " +
                                   seeds.at(index % per_cell).dump());
        if (results[index] && results[index]->dump() != result.dump())
          throw std::runtime_error("run " + std::to_string(index) +
                                   " differs from the same run in another shard");
        results[index] = std::move(result);
      }
    } catch (const SweepJson::parse_error& e) {
      // Where the text stops being JSON (nlohmann's byte is 1-based), in the shard's words.
      const std::size_t at = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text->size());
      const std::size_t newline = at == 0 ? std::string::npos : text->rfind('\n', at - 1);
      const int line = 1 + static_cast<int>(std::count(text->begin(), text->begin() + at, '\n'));
      const int column = static_cast<int>(newline == std::string::npos ? at + 1 : at - newline);
      std::string reason = e.what();
      if (const std::size_t colon = reason.find(": ", reason.find("column"));
          colon != std::string::npos)
        reason = reason.substr(colon + 2);
      problems.push_back({path, line, column,
                          "not JSON, so not a shard of dosim sweep (" + reason + ")"});
    } catch (const std::exception& e) {
      problems.push_back({path, 0, 0, e.what()});
    }
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  if (!header) throw InputError("command line", "dosim sweep merge needs shard files");
  std::vector<std::size_t> missing;
  std::set<std::size_t> missing_shards;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i]) continue;
    missing.push_back(i);
    missing_shards.insert(i % std::max<std::size_t>(shard_count, 1));
  }
  if (!missing.empty()) {
    std::string why;
    for (const std::size_t s : missing_shards) {
      const auto given = given_shards.find(s);
      why += (why.empty() ? "" : "; ") + std::string("shard ") + std::to_string(s) + "/" +
             std::to_string(shard_count) +
             (given == given_shards.end() ? " not given"
                                          : " (" + given->second +
                                                ") lacks them: stopped before it finished, or "
                                                "edited");
    }
    throw InputError("command line", std::to_string(missing.size()) + " of " +
                                         std::to_string(results.size()) +
                                         " runs are missing: " + ranges_text(missing) + " (" +
                                         why + ")");
  }
  check_outputs(options.out_paths, options.shard_paths, false);
  std::vector<SweepJson> runs;
  for (std::optional<SweepJson>& result : results) runs.push_back(std::move(*result));
  write_outputs(options.out_paths, *header, runs);
  if (!options.quiet) {
    std::printf("dosim sweep merge: %zu shards, %zu runs\n", options.shard_paths.size(),
                runs.size());
    print_sweep_table(stdout, *header, runs, options.table_rows);
    for (const std::string& out : options.out_paths) std::printf("  results   %s\n", out.c_str());
    std::printf(
        "  wall time %.2f s\n",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
  }
  return kExitOk;
}

int run_sweep(const SweepOptions& options, SweepCluster& cluster) {
  const auto wall_start = std::chrono::steady_clock::now();
  const bool leader = cluster.leader();
  std::size_t shard_index = 0, shard_count = 1;
  const bool sharded = !options.shard.empty();
  // A bad --shard is said with the sweep file's problems (it hid them), all at once.
  std::vector<Diagnostic> problems;
  if (sharded) {
    unsigned long long i = 0, n = 0;
    char extra = 0;
    // Digits, a slash, digits: sscanf alone took " 1/3" and "0/ 3".
    const bool digits_only = std::count(options.shard.begin(), options.shard.end(), '/') == 1 &&
                             std::all_of(options.shard.begin(), options.shard.end(), [](char c) {
                               return c == '/' || std::isdigit(static_cast<unsigned char>(c));
                             });
    if (!digits_only || std::sscanf(options.shard.c_str(), "%llu/%llu%c", &i, &n, &extra) != 2 ||
        n < 1 || i >= n || n > 1'000'000)
      problems.push_back({"--shard", 0, 0,
                          "expected I/N with 0 <= I < N (like 0/4), got '" + options.shard + "'"});
    shard_index = i;
    shard_count = std::max<unsigned long long>(n, 1);
  }
  std::optional<SweepPlan> planned;
  try {
    planned.emplace(plan_sweep(load_sweep_file(options.sweep_path)));
  } catch (const Error& error) {
    problems.insert(problems.end(), error.diagnostics().begin(), error.diagnostics().end());
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  const SweepPlan& plan = *planned;
  // The scenarios' warnings, as dosim bench and validate say them (each once).
  if (leader && !options.quiet)
    for (const Diagnostic& warning : plan.warnings)
      std::fprintf(stderr, "%s\n", warning.format().c_str());
  const SweepJson header = SweepJson::parse(sweep_header(plan).dump());
  const std::size_t total = plan.run_count();
  const int threads =
      options.threads > 0 ? options.threads : (cluster.size() > 1 ? 1 : usable_cores());

  if (options.show_scenario >= 0) {
    if (static_cast<std::size_t>(options.show_scenario) >= plan.cells.size())
      throw InputError("--show-scenario",
                       "the sweep has cells 0 to " + std::to_string(plan.cells.size() - 1));
    if (leader)
      std::fputs(plan.cell_text(static_cast<std::size_t>(options.show_scenario)).c_str(), stdout);
    return kExitOk;
  }
  // The outputs and the checkpoint, on rank 0; every rank learns whether they are fine.
  std::vector<std::string> outputs = options.out_paths;
  std::string checkpoint = options.checkpoint_dir;
  std::vector<std::optional<SweepJson>> results(total);
  std::size_t resumed = 0;
  bool ready = true;
  if (leader) {
    try {
      const std::string stem = fs::path(options.sweep_path).stem().string();
      if (outputs.empty())
        outputs.push_back(sharded ? stem + ".shard-" + std::to_string(shard_index) + "-of-" +
                                        std::to_string(shard_count) + ".json"
                                  : stem + ".json");
      std::vector<std::string> inputs = {options.sweep_path};
      inputs.insert(inputs.end(), plan.spec.scenario_paths.begin(), plan.spec.scenario_paths.end());
      if (!plan.spec.script_path.empty()) inputs.push_back(plan.spec.script_path);
      for (const std::string& input : plan.inputs)  // manifests, replays, models, modules, ...
        if (std::find(inputs.begin(), inputs.end(), input) == inputs.end()) inputs.push_back(input);
      if (sharded && outputs.size() > 1)
        throw InputError("--out", "a shard is written to one file");
      if (checkpoint.empty()) {
        // The first output's; resuming, the first output's that exists (the same outputs
        // given in another order).
        checkpoint = outputs.front() + ".ckpt";
        std::error_code error;
        if (options.resume && !fs::exists(checkpoint, error))
          for (const std::string& out : outputs)
            if (fs::is_directory(out + ".ckpt", error)) {
              checkpoint = out + ".ckpt";
              break;
            }
      }
      check_outputs(outputs, inputs, sharded, checkpoint);
      resumed = open_checkpoint(checkpoint, options.resume, plan, header, results, options.dry_run);
    } catch (const Error& error) {
      print_error(error);
      ready = false;
    }
  }
  if (!cluster.all_ok(ready)) return kExitBadInput;
  if (options.dry_run) {  // checked like a run, outputs included; nothing run or written
    if (leader && !options.quiet) {
      print_plan(plan, total);
      std::printf("\n");
      print_sweep_cells(stdout, header, options.table_rows);
    }
    return kExitOk;
  }

  std::vector<std::size_t> todo;
  std::size_t in_shard = 0;
  for (std::size_t i = 0; i < total; ++i) {
    if (i % shard_count != shard_index) continue;
    ++in_shard;
    if (!results[i]) todo.push_back(i);
  }
  const bool show_progress = leader && !options.quiet && isatty(STDERR_FILENO);
  if (leader && !options.quiet) {
    print_plan(plan, total);
    if (sharded) std::printf("; shard %zu/%zu: %zu runs", shard_index, shard_count, in_shard);
    std::printf("\n  %zu to run", todo.size());
    if (resumed) std::printf(" (%zu from the checkpoint)", in_shard - todo.size());
    std::printf(" on %d process%s x %d thread%s\n", cluster.size(), cluster.size() > 1 ? "es" : "",
                threads, threads > 1 ? "s" : "");
    std::fflush(stdout);
  }

  if (leader && !options.dry_run) {
    const std::string message = "\ndosim sweep: stopped; the completed runs are kept in " +
                                checkpoint + ": run the same command with --resume to go on\n";
    if (message.size() < sizeof g_stopped_message) {
      std::memcpy(g_stopped_message, message.data(), message.size());
      g_stopped_length = message.size();
      std::signal(SIGINT, say_where_the_runs_are_and_die);
      std::signal(SIGTERM, say_where_the_runs_are_and_die);
    }
  }
  std::vector<std::pair<std::size_t, std::string>> failures;
  std::size_t delivered = 0;
  bool checkpoint_failed = false;
  const auto deliver = [&](std::size_t index, const std::string& text) {
    try {
      SweepJson result = parse_run_result(text, header);
      SweepJson saved;
      saved["sweep_hash"] = plan.hash;
      saved["result"] = result;
      const std::string problem = write_file_replacing(
          (fs::path(checkpoint) / ("run-" + std::to_string(index) + ".json")).string(),
          saved.dump() + "\n");
      if (!problem.empty() && !checkpoint_failed) {
        checkpoint_failed = true;
        std::fprintf(stderr, "%s: cannot save a run (%s): a stopped sweep will run it again\n",
                     checkpoint.c_str(), problem.c_str());
      }
      results[index] = std::move(result);
    } catch (const std::exception& e) {
      failures.emplace_back(index, std::string("a result that does not read back: ") + e.what());
      return;
    }
    ++delivered;
    if (show_progress) std::fprintf(stderr, "\rsweep: %zu/%zu runs", delivered, todo.size());
    if (options.stop_after > 0 && delivered >= static_cast<std::size_t>(options.stop_after)) {
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(kExitStopped);
    }
  };
  const auto fail = [&](std::size_t index, const std::string& message) {
    failures.emplace_back(index, message);
  };
  const auto compute = [&](std::size_t index) {
    const std::size_t cell = index / plan.seeds_per_cell;
    const BenchRun run =
        run_bench_once(plan.plan_of(cell), plan.cells[cell].scenario, plan.seed_of(index));
    return run_result_text(plan, index, run);
  };
  cluster.run(todo, threads, compute, deliver, fail);
  if (show_progress) std::fprintf(stderr, "\r\033[K");
  if (!leader) return kExitOk;

  if (!failures.empty()) {
    std::sort(failures.begin(), failures.end());
    constexpr std::size_t kShown = 5;  // the first few; the rest are counted
    for (std::size_t f = 0; f < failures.size() && f < kShown; ++f) {
      const auto& [index, message] = failures[f];
      const std::size_t cell = index / plan.seeds_per_cell;
      std::fprintf(stderr, "dosim sweep: run %zu (cell %zu: %s; seed %llu) failed: %s\n", index,
                   cell, describe_cell(plan, cell).c_str(),
                   static_cast<unsigned long long>(plan.seed_of(index)), message.c_str());
    }
    std::fprintf(stderr,
                 "%zu runs failed; the completed runs are kept in %s: a rerun with the same "
                 "inputs resumes from them with --resume; a changed input (the scenario, a "
                 "script or detector file, the sweep file) starts the sweep over\n",
                 failures.size(), checkpoint.c_str());
    return kExitBadInput;
  }

  if (sharded) {
    SweepJson shard;
    shard["format"] = "dosim-sweep-shard";
    shard["format_version"] = kSweepFormatVersion;
    shard["shard"] = shard_index;
    shard["shards"] = shard_count;
    shard["header"] = header;
    SweepJson list = SweepJson::array();
    for (std::size_t i = shard_index; i < total; i += shard_count) list.push_back(*results[i]);
    shard["results"] = std::move(list);
    if (const std::string problem = write_file_replacing(outputs.front(), shard.dump() + "\n");
        !problem.empty())
      throw InputError(outputs.front(), "cannot write the shard: " + problem);
  } else {
    std::vector<SweepJson> runs;
    runs.reserve(total);
    for (std::optional<SweepJson>& result : results) runs.push_back(std::move(*result));
    write_outputs(outputs, header, runs);
    if (!options.quiet) print_sweep_table(stdout, header, runs, options.table_rows);
  }
  g_stopped_length = 0;  // the results are whole: a signal now leaves nothing to resume
  remove_checkpoint(checkpoint, shard_index, shard_count);
  if (!options.quiet) {
    for (const std::string& out : outputs)
      std::printf("  %s   %s\n", sharded ? "shard  " : "results", out.c_str());
    std::printf(
        "  wall time %.2f s\n",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
    if (cluster.size() > 1) {
      std::printf("  runs by rank");
      for (const std::size_t count : cluster.runs_by_rank()) std::printf(" %zu", count);
      std::printf("\n");
    }
  }
  return kExitOk;
}

}  // namespace

CLI::App* add_sweep_command(CLI::App& app, SweepOptions& options) {
  auto* sweep = app.add_subcommand(
      "sweep",
      "Run a grid of scenario parameters x detectors x seeds x modes, every run scored as "
      "dosim bench scores it; results as tables (JSON, HDF5) the same for any threads, MPI "
      "ranks or shards (docs/sweep.md)");
  sweep->add_option("sweep", options.sweep_path, "Sweep file (docs/sweep.md)");
  sweep
      ->add_option(
          "--threads,-j", options.threads,
          "Runs in parallel in each process, 1 to 1024 (default: the cores; 1 per MPI rank)")
      ->transform(whole_number())
      ->check(dosim::cli::in_range(1, 1024));
  sweep
      ->add_option("--out,-o", options.out_paths,
                   "Results file: .json, .h5 or .hdf5 (may be given more than once; default: <sweep>.json)")
      ->allow_extra_args(false);
  sweep->add_option("--checkpoint", options.checkpoint_dir,
                    "Folder that keeps each completed run (default: the first output + .ckpt)");
  sweep->add_flag("--resume", options.resume,
                  "Go on with the runs saved in the checkpoint folder; run only the missing");
  sweep->add_option("--shard", options.shard,
                    "I/N: run only the runs whose index modulo N is I, into a shard file for "
                    "dosim sweep merge (Slurm job arrays)");
  sweep->add_flag("--quiet,-q", options.quiet, "Print nothing but problems");
  sweep->add_flag("--dry-run", options.dry_run,
                  "Check and expand the sweep and print its cells; run nothing");
  sweep
      ->add_option("--show-scenario", options.show_scenario,
                   "Print the scenario that cell CELL runs (its values written in; 0 to "
                   "1,000,000); run nothing")
      ->transform(whole_number())
      ->check(dosim::cli::in_range(std::int64_t{0},
                                   std::int64_t{1'000'000}));  // a sweep's cells at most
  sweep
      ->add_option("--table-rows", options.table_rows, "Rows of the printed table (0 to 1,000,000)")
      ->transform(whole_number())
      ->check(dosim::cli::in_range(std::size_t{0}, std::size_t{1'000'000}))
      ->capture_default_str();
  sweep->add_option("--stop-after", options.stop_after)->group("");  // tests: a kill, on cue
  auto* merge = sweep->add_subcommand(
      "merge", "Join the shard files of one sweep into its results, the bytes one process writes");
  merge->add_option("shards", options.shard_paths, "Shard files (dosim sweep --shard I/N)")
      ->required();
  merge
      ->add_option("--out,-o", options.out_paths, "Results file: .json, .h5 or .hdf5 (may be given more than once)")
      ->required()
      ->allow_extra_args(false);
  merge->add_flag("--quiet,-q", options.quiet, "Print nothing but problems");
  merge->callback([&options] { options.merge = true; });
  return sweep;
}

int sweep_command(SweepOptions options) {
  // A merge is one process's work: launched by mpirun, the other ranks leave it to rank 0
  // (each printed it and wrote the same files at once).
  if (options.merge) return launcher_rank() > 0 ? kExitOk : merge_command(options);
  const int launched = launcher_world_size();
  if (!built_with_mpi() && launched > 1) {
    if (launcher_rank() != 0) return kExitOk;
    std::fprintf(stderr,
                 "dosim sweep: launched as %d MPI ranks, but this dosim was built without MPI "
                 "(install libopenmpi-dev and rebuild; cmake -DDOSIM_MPI=ON): rank 0 runs the "
                 "whole sweep, the other ranks exit\n",
                 launched);
  }
  SweepCluster cluster;
  if (options.sweep_path.empty()) {
    if (cluster.leader())
      std::fprintf(stderr,
                   "dosim sweep: needs a sweep file (dosim sweep SWEEP.yaml), or: dosim sweep "
                   "merge SHARD... --out FILE\n");
    return kExitBadInput;
  }
  try {
    return run_sweep(options, cluster);
  } catch (const Error& error) {
    if (cluster.leader()) print_error(error);
    return kExitBadInput;
  }
}

}  // namespace dosim::cli
