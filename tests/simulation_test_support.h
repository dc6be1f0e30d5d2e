// Helpers shared by the simulation tests: a scenario from inline YAML, every frame of a run,
// where two runs become identical (the test of exact undo), and an input file written whole.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dosim/engine/frame.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"

namespace dosim::testing {

// Writes `bytes` to `path` through a temporary file and a rename: CTest runs each test case
// as its own process, in parallel, and two cases writing the same input file must never
// let a third read it half written. Returns the path.
inline std::string write_whole_file(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  const std::filesystem::path temporary =
      path.string() + ".tmp-" + std::to_string(static_cast<long long>(::getpid()));
  std::ofstream(temporary, std::ios::binary) << bytes;
  std::filesystem::rename(temporary, path);
  return path.string();
}

inline Scenario scenario_from(const std::string& yaml) { return parse_scenario(yaml, "test.yaml"); }

// Every problem reported when loading `yaml` as test.yaml (none: empty).
inline std::vector<Diagnostic> scenario_problems(const std::string& yaml) {
  try {
    parse_scenario(yaml, "test.yaml");
  } catch (const InputError& error) {
    return error.diagnostics();
  }
  return {};
}

// Every frame of a whole run of `scenario` with `seed`.
inline std::vector<Frame> run_frames(const Scenario& scenario, std::uint64_t seed) {
  struct Capture : FrameSink {
    std::vector<Frame> frames;
    void on_frame(const Frame& frame) override { frames.push_back(frame); }
  } capture;
  Simulation simulation(scenario, seed);
  simulation.add_sink(&capture);
  simulation.run();
  return capture.frames;
}

inline bool same_frame(const Frame& a, const Frame& b) {
  return a.service_values == b.service_values && a.edge_values == b.edge_values &&
         a.endpoint_values == b.endpoint_values;
}

// The first tick from which every frame of `a` equals `b`'s, bit for bit, to the end.
inline std::size_t identical_from(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  std::size_t from = 0;
  for (std::size_t t = 0; t < a.size() && t < b.size(); ++t)
    if (!same_frame(a[t], b[t])) from = t + 1;
  return from;
}

}  // namespace dosim::testing
