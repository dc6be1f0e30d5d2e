// Writing a detector's anomaly scores in NAB's results layout, so that NAB's own scorer (and
// `dosim nab score`) can read what `dosim nab run` computed:
//   DIR/<NAME>/<category>/<NAME>_<file>.csv   timestamp,anomaly_score
// one row per data row, in the data file's order. Timestamps are written as NAB writes them,
// `YYYY-MM-DD HH:MM:SS` in UTC (with a `.fraction` only where the data had one); scores with
// 17 significant digits, so that reading them back gives the same doubles.
#pragma once

#include <string>
#include <vector>

#include "analysis/nab_corpus.h"

namespace dosim {

// A detector's name as a file name: letters, digits, `.`, `-` and `_` kept, every other
// character `_` (`mad:window=256` -> `mad_window_256`).
std::string nab_results_name(const std::string& detector);

// Writes one file's scores (as many as `file.timestamps`) under DIR/<name>/, creating the
// folders. Throws dosim::InputError naming the path when it cannot be written.
void write_nab_results_file(const std::string& dir, const std::string& name,
                            const NabCorpusFile& file, const std::vector<double>& scores);

}  // namespace dosim
