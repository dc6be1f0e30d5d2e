// Recorded series read back from CSV files: the replay source (NAB's data files, metrics
// exported from Prometheus or Grafana, anything laid out as `timestamp,value`).
//
// A file is CSV with a header line, read by util/csv.h (quoted fields, `\r\n`, blank lines,
// a byte-order mark; its timestamp forms: ISO 8601 date-times in UTC or with a zone, Unix
// seconds or milliseconds). The timestamp column is the one named `timestamp` or `time` (any
// case), else the first column. The value column is the one named by the caller, else the one
// named `value` (any case), else the only column besides the timestamp. With
// ReplayOrder::kIncreasing timestamps must increase strictly; with kAsWritten rows are taken
// in file order whatever their times (some of NAB's files repeat an hour or step back at a
// daylight-saving change). Values are finite numbers. A file needs at least two rows and one
// positive time difference (its step).
//
// Every problem throws InputError at FILE:LINE:COL (the field), FILE:LINE (the row) or FILE
// (the whole file): a missing or unreadable file, no header, an unknown or ambiguous value
// column, a row with too few fields, a bad timestamp or value, a timestamp that does not
// increase (kIncreasing), fewer than two rows, no positive time difference.
// Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dosim/engine/sim_time.h"

namespace dosim {

struct ReplaySeries {
  std::string file;            // the path it was read from
  std::string column;          // the value column's name, as in the header
  std::vector<SimTime> times;  // per row: nanoseconds since 1970-01-01 00:00:00 UTC
  std::vector<double> values;  // per row
  std::vector<int> lines;      // per row: its 1-based line in the file
  std::vector<int> columns;    // per row: the 1-based column of its value field
  SimTime step = 0;            // the most frequent positive difference of consecutive times
                               // (the smallest among equally frequent ones)

  std::size_t rows() const { return times.size(); }
};

enum class ReplayOrder {
  kIncreasing,  // timestamps must increase strictly (a series replayed on its own clock)
  kAsWritten,   // rows in file order, whatever their timestamps (a series replayed by rows)
};

// Reads a file. `value_column` empty: `value`, else the only column besides the timestamp.
ReplaySeries read_replay_csv(const std::string& path, const std::string& value_column = "",
                             ReplayOrder order = ReplayOrder::kIncreasing);

// The same from text already read (`path` names it in messages).
ReplaySeries parse_replay_csv(std::string_view text, const std::string& path,
                              const std::string& value_column = "",
                              ReplayOrder order = ReplayOrder::kIncreasing);

}  // namespace dosim
