// Reading the Numenta Anomaly Benchmark's files: a NAB root (its data, labels and config) and
// a detector's results in NAB's own layout, into the inputs of analysis/nab_score.h.
//
// A NAB root holds
//   ROOT/data/<category>/<file>.csv          header with a `timestamp` column (NAB:
//   timestamp,value) ROOT/labels/combined_windows.json        {"<category>/<file>.csv": [[start,
//   end], ...], ...} ROOT/config/profiles.json                {"<profile>": {"CostMatrix":
//   {"tpWeight": ..,
//                                             "fpWeight": .., "fnWeight": ..}}, ...}
//   ROOT/config/thresholds.json              {"<detector>": {"<profile>": {"threshold": ..,
//                                             "score": ..}}, ...}
// and a detector's results are DIR/<NAME>/<category>/<NAME>_<file>.csv with a header naming
// at least `timestamp` and `anomaly_score` (any order; other columns are ignored), one row per
// data row.
//
// The CSV files are read by util/csv.h (quoted fields, `\r\n`, blank lines skipped).
// Timestamps are its ISO 8601 date-times, `YYYY-MM-DD[ HH:MM[:SS[.fraction]]]` (a `T` may
// separate date and time; a `Z` or `+hh:mm` zone is converted to UTC, none means UTC; Unix
// times are refused) and compare by value, so "2014-04-10 07:15:00.000000" matches a data row
// "2014-04-10 07:15:00".
// As in NAB's labeler, each window's start and end must each match exactly one data row's
// timestamp; the window is the rows between those two, both included. Windows must be in
// time order and must not overlap.
//
// The corpus is the files named in combined_windows.json, in that file's order; each must
// have its data file and, for read_nab_results, its results file, with the same timestamps
// row for row. Every problem (a missing directory or file, bad JSON, a missing column, a row
// that does not parse, a window that matches no row) throws dosim::InputError naming the
// file, and the line and column where there are some.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dosim/analysis/nab_score.h"

namespace dosim {

struct NabCorpusFile {
  std::string relative_path;             // "<category>/<file>.csv"
  std::vector<std::int64_t> timestamps;  // of the data rows, nanoseconds since 1970 (UTC)
  std::vector<NabWindow> windows;
};

struct NabCorpus {
  std::string root;
  std::vector<NabCorpusFile> files;  // combined_windows.json order
  std::vector<NabProfile> profiles;  // config/profiles.json order

  std::size_t window_count() const;
};

// One detector's optimized threshold for one profile (config/thresholds.json).
struct NabThreshold {
  std::string profile;
  double threshold = 0.0;
  double score = 0.0;  // the raw corpus score NAB's optimizer found at that threshold
};

// Parses a NAB timestamp (a date-time of util/csv.h's parse_timestamp) into nanoseconds since
// 1970-01-01 00:00:00 UTC; nullopt if malformed or a Unix time.
std::optional<std::int64_t> parse_nab_timestamp(std::string_view text);

// Reads ROOT/labels/combined_windows.json, the data file of every file it names that `keep`
// keeps (its path below data/: every file without `keep`) and ROOT/config/profiles.json.
// Throws InputError with the problems of every file read, each bad row of a data file.
NabCorpus read_nab_corpus(const std::string& root,
                          const std::function<bool(const std::string&)>& keep = {});

// Reads the detector's results for every corpus file: NabFile{relative_path, windows,
// anomaly scores}. `results_dir` is the folder that holds <detector>/ (NAB: ROOT/results).
std::vector<NabFile> read_nab_results(const NabCorpus& corpus, const std::string& results_dir,
                                      const std::string& detector);

// The detector's thresholds from ROOT/config/thresholds.json, in that file's order.
std::vector<NabThreshold> read_nab_thresholds(const std::string& root, const std::string& detector);

}  // namespace dosim
