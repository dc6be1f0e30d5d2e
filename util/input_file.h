// Reading a whole input file (a scenario, a script) with the limits that keep a mistake from
// hanging dosim or exhausting memory: only regular files (a device, a FIFO or a directory is
// refused: `script: /dev/zero` would otherwise be read for ever) and at most `max_bytes`.
// Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace dosim {

// 64 MiB: a system of 100,000 services and 160,000 dependencies, written one per line, is
// about 18 MiB (bench/synthetic_system.py).
inline constexpr std::uintmax_t kMaxScenarioBytes = std::uintmax_t{64} << 20;  // 64 MiB
inline constexpr std::uintmax_t kMaxScriptBytes = std::uintmax_t{16} << 20;    // 16 MiB
inline constexpr std::uintmax_t kMaxCsvBytes = std::uintmax_t{64} << 20;       // 64 MiB: CSV
                                                                               // and JSON data

// Why `path` cannot be an input file that a library opens itself (an HDF5 trace or model),
// or "" for a regular file: a FIFO would block the open for ever, a device never end. The
// reasons are read_input_file's.
std::string input_file_problem(const std::string& path);

// The file's bytes, or nullopt with `reason` set ("No such file or directory", "not a
// regular file", "larger than 64 MiB").
std::optional<std::string> read_input_file(const std::string& path, std::uintmax_t max_bytes,
                                           std::string& reason);

// The same for a data file (CSV, JSON): throws InputError(path, reason), with "no such file"
// when there is none.
std::string read_input_text(const std::string& path, std::uintmax_t max_bytes);

}  // namespace dosim
