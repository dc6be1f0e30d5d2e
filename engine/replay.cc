#include "replay.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "dosim/error.h"
#include "util/csv.h"

namespace dosim {
namespace {

// |a - b|, exact (in unsigned arithmetic the difference of two int64 cannot overflow).
std::uint64_t distance(SimTime a, SimTime b) {
  const auto ua = static_cast<std::uint64_t>(a), ub = static_cast<std::uint64_t>(b);
  return a >= b ? ua - ub : ub - ua;
}

[[noreturn]] void fail(const std::string& file, int line, int column, const std::string& message) {
  throw InputError(std::vector<Diagnostic>{{file, line, column, message}});
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// The most frequent difference between consecutive increasing timestamps, where differences
// within a hundredth of their order of magnitude count as one (a scrape's timestamps lag by
// a few milliseconds: 60.004 s and 59.999 s are a 60 s step): the mean of those, rounded to
// a ten-thousandth of the order of magnitude when they differ (exact when they do not).
// 0 without an increasing pair.
SimTime time_step(const std::vector<SimTime>& times) {
  std::vector<SimTime> differences;
  for (std::size_t i = 1; i < times.size(); ++i)
    if (times[i] > times[i - 1]) differences.push_back(times[i] - times[i - 1]);
  if (differences.empty()) return 0;
  std::vector<SimTime> sorted = differences;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2),
                   sorted.end());
  SimTime magnitude = 1;  // 10^floor(log10(median))
  while (magnitude <= sorted[sorted.size() / 2] / 10) magnitude *= 10;
  const SimTime width = std::max<SimTime>(1, magnitude / 100);
  struct Group {
    std::size_t count = 0;
    long double sum = 0;
    SimTime low = 0, high = 0;
  };
  std::map<SimTime, Group> groups;  // by difference / width, rounded
  for (const SimTime d : differences) {
    Group& group = groups[(d + width / 2) / width];
    group.low = group.count == 0 ? d : std::min(group.low, d);
    group.high = group.count == 0 ? d : std::max(group.high, d);
    ++group.count;
    group.sum += static_cast<long double>(d);
  }
  const Group* best = nullptr;
  for (const auto& [key, group] : groups)  // ascending: the shorter step of a tie
    if (best == nullptr || group.count > best->count) best = &group;
  if (best->low == best->high) return best->low;
  const SimTime unit = std::max<SimTime>(1, magnitude / 10000);
  const auto mean = static_cast<SimTime>(best->sum / static_cast<long double>(best->count));
  return std::max<SimTime>(unit, (mean + unit / 2) / unit * unit);
}

// The series of a table read by util/csv.h: its header picks the columns, its rows the values.
// `broken`: the rows parse_csv left out (a quote not closed), in file order.
ReplaySeries series_of(const CsvTable& table, const std::vector<Diagnostic>& broken,
                       const std::string& value_column, ReplayOrder order) {
  ReplaySeries series;
  series.file = table.file;
  const std::string& path = table.file;
  const std::vector<CsvField>& header = table.header.fields;
  const int header_line = table.header.line;
  std::size_t time_index = header.size();
  for (std::size_t i = 0; i < header.size() && time_index == header.size(); ++i)
    if (iequals(header[i].text, "timestamp") || iequals(header[i].text, "time")) time_index = i;
  if (time_index == header.size()) time_index = 0;
  // A file without a header line: its first row would be read as one and lost.
  if (parse_timestamp(header[time_index].text))
    fail(path, header_line, header[time_index].column,
         "the first line is data (`" + header[time_index].text +
             "` is a timestamp), not a header: the file needs a header line naming its columns "
             "first (timestamp,value)");
  std::size_t value_index = header.size();
  if (!value_column.empty()) {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i].text == value_column && i != time_index) value_index = i;
    if (value_index == header.size()) {
      std::vector<std::string> names;
      for (const CsvField& field : header) names.push_back(field.text);
      const std::string close = closest_match(value_column, names);
      fail(path, header_line, 1,
           "no column `" + value_column + "` in the header" +
               (close.empty() ? std::string() : " (did you mean `" + close + "`?)"));
    }
  } else {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (i != time_index && iequals(header[i].text, "value")) value_index = i;
    if (value_index == header.size() && header.size() == 2) value_index = 1 - time_index;
    if (value_index == header.size())
      fail(path, header_line, 1,
           header.size() < 2 ? std::string("the header names one column; a value column is "
                                           "needed besides the timestamp")
                             : "no `value` column and " + std::to_string(header.size() - 1) +
                                   " columns besides the timestamp: name the one to replay");
  }
  series.column = header[value_index].text;
  // Two columns of the name replayed: which one was meant is not for dosim to guess.
  for (std::size_t i = 0; i < header.size(); ++i)
    if (i != value_index && i != time_index && header[i].text == series.column)
      fail(path, header_line, header[std::max(i, value_index)].column,
           "two columns are named `" + series.column + "` (columns " +
               std::to_string(std::min(i, value_index) + 1) + " and " +
               std::to_string(std::max(i, value_index) + 1) + "): rename one");
  const std::size_t needed = std::max(time_index, value_index) + 1;

  // Every bad row is reported (RowProblems), not just the first: a row with a problem is
  // left out and the next is read on.
  RowProblems bad_rows;
  std::optional<SimTime> first_time, last_time;  // of the rows whose timestamps read
  int first_line = 0, last_line = 0;
  const auto report = [&bad_rows](const Diagnostic& d) { bad_rows.add(d); };
  std::size_t next_broken = 0;  // the first of `broken` not yet reported
  for (const CsvRow& row : table.rows) {
    for (; next_broken < broken.size() && broken[next_broken].line < row.line; ++next_broken)
      report(broken[next_broken]);
    try {
      require_fields(table, row, needed);
      const SimTime time = timestamp_field(table, row, time_index);
      const CsvField& stamp = row.fields[time_index];
      const std::optional<SimTime> previous = last_time;
      const int previous_line = last_line;
      // Offsets from the first row stay within kMaxDuration, so time arithmetic cannot
      // overflow.
      if (first_time && distance(time, *first_time) > kMaxDuration)
        fail(path, stamp.line, stamp.column,
             "timestamp `" + stamp.text + "` is more than 100 years from the first row's (line " +
                 std::to_string(first_line) + ")");
      if (!first_time) {
        first_time = time;
        first_line = row.line;
      }
      last_time = time;
      last_line = row.line;
      if (order == ReplayOrder::kIncreasing && previous && time <= *previous)
        fail(path, stamp.line, stamp.column,
             "timestamp `" + stamp.text + "` does not come after the previous row's (line " +
                 std::to_string(previous_line) + ")");
      const double value = number_field(table, row, value_index);
      series.values.push_back(value);
      series.times.push_back(time);
      series.lines.push_back(row.fields[value_index].line);
      series.columns.push_back(row.fields[value_index].column);
    } catch (const InputError& error) {
      for (const Diagnostic& d : error.diagnostics()) report(d);
    }
  }
  for (; next_broken < broken.size(); ++next_broken) report(broken[next_broken]);
  if (std::vector<Diagnostic> problems = bad_rows.take(); !problems.empty())
    throw InputError(std::move(problems));
  if (series.rows() < 2)
    fail(path, 0, 0,
         std::to_string(series.rows()) + " row" + (series.rows() == 1 ? "" : "s") +
             " of data; at least 2 are needed (the time step comes from them)");
  series.step = time_step(series.times);
  if (series.step == 0) fail(path, 0, 0, "no two rows with increasing timestamps: no time step");
  return series;
}

}  // namespace

ReplaySeries read_replay_csv(const std::string& path, const std::string& value_column,
                             ReplayOrder order) {
  std::vector<Diagnostic> broken;
  const CsvTable table = read_csv_file(path, &broken);
  return series_of(table, broken, value_column, order);
}

ReplaySeries parse_replay_csv(std::string_view text, const std::string& path,
                              const std::string& value_column, ReplayOrder order) {
  std::vector<Diagnostic> broken;
  const CsvTable table = parse_csv(text, path, &broken);
  return series_of(table, broken, value_column, order);
}

}  // namespace dosim
