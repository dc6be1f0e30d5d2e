// The one CSV reader of dosim: replayed series (engine/replay.h) and the Numenta Anomaly
// Benchmark's files (analysis/nab_corpus.h) are read by it, timestamps included.
//
// The dialect is RFC 4180 as Grafana, Prometheus and NAB write it: fields separated by commas;
// a field may be enclosed in double quotes, and then holds commas, line breaks and doubled
// quotes (`""` reads as one `"`); `\r\n` or `\n` line ends. Leniencies: a UTF-8 byte-order
// mark at the start; spaces and tabs around a field (outside its quotes) are dropped; blank
// lines (only spaces, tabs, `\r`) are skipped anywhere, trailing ones included; a `"` inside
// an unquoted field is kept as text. The first non-blank row is the header; rows may have any
// number of fields (the caller says how many it needs, and no text past the header's:
// require_fields).
//
// Timestamps (parse_timestamp), in nanoseconds since 1970-01-01 00:00:00 UTC:
//   - ISO 8601 date-times: `YYYY-MM-DD`, optionally followed by ` HH:MM` (or `THH:MM`),
//     `:SS` and `.fraction` (up to 9 digits), then optionally a zone: `Z`, `+hh:mm`, `-hh:mm`,
//     `+hhmm`, `-hhmm` or `+hh`/`-hh`, converted to UTC. No zone means UTC.
//   - Unix time: `[-]INTEGER[.FRACTION]`. A value below 1e11 is seconds (at most 9e9: up to
//     year 2255; up to 9 fraction digits). A value of 1e11 or more is milliseconds (13-digit
//     exports such as Grafana's; 1e11 ms is 1973-03-03, 1e11 s would be year 5138), at most
//     9e12, with up to 6 fraction digits. Exact: no floating point.
//   Anything else (exponents, a leading `+`, 24:00, 30 February, a leap second) is refused.
//
// Errors are InputError with one Diagnostic: FILE:LINE:COL of the offending field (its line
// and 1-based byte column where it starts, its opening quote for a quoted field), FILE:LINE:1
// for a row, FILE for the file as a whole. Thread-safe (pure functions, no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dosim/error.h"

namespace dosim {

struct CsvField {
  std::string text;  // blanks around it and enclosing quotes removed, `""` unescaped
  int line = 1;      // where it starts (a quoted field may span lines)
  int column = 1;
};

struct CsvRow {
  int line = 1;  // where it starts
  std::vector<CsvField> fields;
};

struct CsvTable {
  std::string file;  // the path, as given; names the file in messages
  CsvRow header;
  std::vector<CsvRow> rows;  // the data rows after the header, blank lines skipped
};

// Reads the file at `path`. Throws InputError: no such file, not a regular file, unreadable,
// or any error of parse_csv.
CsvTable read_csv_file(const std::string& path, std::vector<Diagnostic>* problems = nullptr);

// Parses `text` (`file` names it in messages). Throws InputError at the field for an
// unterminated quoted field or text after a closing quote; at the file when it has no header.
// With `problems`, such a field in a data row is added there instead, in file order, and its
// row left out: text after a closing quote ends the row (the next line is read on), an
// unterminated quote the table (it runs to the end of the file). The rows before it are kept,
// so a caller that reports every bad row can report theirs too. The header's is thrown still.
CsvTable parse_csv(std::string_view text, const std::string& file,
                   std::vector<Diagnostic>* problems = nullptr);

// Throws InputError at FILE:LINE:1 when `row` has fewer than `count` fields ("1 field, the
// header needs at least 2"), and at the field when a field beyond the header's holds text
// ("3 fields, the header names 2: ...": an unquoted `1,234`; empty ones, a trailing comma,
// pass).
void require_fields(const CsvTable& table, const CsvRow& row, std::size_t count);

// Field `index` of `row` as a finite number; throws InputError at the field ("bad value `x`
// in column `NAME` (expected a finite number)", NAME the header's field `index`).
// REQUIRES: index < row.fields.size() (require_fields).
double number_field(const CsvTable& table, const CsvRow& row, std::size_t index);

// Field `index` of `row` as a timestamp (parse_timestamp); throws InputError at the field
// ("bad timestamp `x` (expected ...)"). REQUIRES: index < row.fields.size().
std::int64_t timestamp_field(const CsvTable& table, const CsvRow& row, std::size_t index);

// `text` (blanks around it ignored) as a finite decimal number, a leading `+` allowed;
// nullopt otherwise.
std::optional<double> parse_number(std::string_view text);

// `text` (blanks around it ignored) as a timestamp of one of the forms above, in nanoseconds
// since 1970 UTC; nullopt when it is none of them.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

// The bad rows of a file, said as every reader of it says them: the first kMost, then
// `FILE:LINE:COL: and N more bad rows from here` at the first not said.
class RowProblems {
 public:
  static constexpr std::size_t kMost = 100;
  void add(Diagnostic problem);
  // Those added, with the count of the rest; empty when none were.
  std::vector<Diagnostic> take();

 private:
  std::vector<Diagnostic> said_;
  std::size_t unsaid_ = 0;
  Diagnostic first_unsaid_;
};

// The accepted timestamp forms in a few words, for messages.
inline constexpr std::string_view kTimestampForms =
    "YYYY-MM-DD[ HH:MM[:SS[.fraction]]][Z|+hh:mm|-hh:mm], seconds or milliseconds since 1970";

}  // namespace dosim
