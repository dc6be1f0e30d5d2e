// The CSV reader shared by replay and NAB (util/csv.h): RFC 4180 quoting as Grafana and
// Prometheus export it, line ends, the timestamp forms (with hand-computed epoch values) and
// every error at FILE:LINE:COL.
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dosim/error.h"
#include "util/csv.h"

using Catch::Matchers::Contains;

namespace dosim {
namespace {

constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::int64_t kMillisecondNs = 1'000'000;
// 2015-09-01 13:45:00 UTC: 16679 days (45 years with 11 leap days, then 243 days of 2015)
// times 86400 s, plus 13 h 45 min.
constexpr std::int64_t kSept1 = 1'441'115'100;

std::vector<std::string> texts(const CsvRow& row) {
  std::vector<std::string> result;
  for (const CsvField& field : row.fields) result.push_back(field.text);
  return result;
}

// The one diagnostic `action` throws, formatted.
template <typename Action>
std::string problem(Action action) {
  try {
    action();
  } catch (const InputError& error) {
    REQUIRE(error.diagnostics().size() == 1);
    return error.diagnostics().front().format();
  }
  FAIL("no error");
  return "";
}

}  // namespace

TEST_CASE("csv: quoted fields hold commas, doubled quotes and line breaks", "[csv]") {
  const CsvTable table = parse_csv(
      "Time,\"p95, ms\",note\n"
      "\"2015-09-01 13:45:00\",\"1,5\",\"say \"\"hi\"\"\"\n"
      "  \"x\" , plain  ,\"two\nlines\"\n"
      "last,\"\",\n",
      "g.csv");
  CHECK(table.file == "g.csv");
  CHECK(texts(table.header) == std::vector<std::string>{"Time", "p95, ms", "note"});
  REQUIRE(table.rows.size() == 3);
  CHECK(texts(table.rows[0]) ==
        std::vector<std::string>{"2015-09-01 13:45:00", "1,5", "say \"hi\""});
  CHECK(table.rows[0].line == 2);
  CHECK(table.rows[0].fields[1].column == 23);  // its opening quote
  CHECK(texts(table.rows[1]) == std::vector<std::string>{"x", "plain", "two\nlines"});
  CHECK(table.rows[1].fields[0].column == 3);  // blanks before the quote are not the field
  CHECK(table.rows[1].fields[1].column == 9);
  CHECK(table.rows[2].line == 5);  // after the field that spans lines 3 and 4
  CHECK(texts(table.rows[2]) == std::vector<std::string>{"last", "", ""});
}

TEST_CASE("csv: CRLF, a byte-order mark and blank lines", "[csv]") {
  const CsvTable table =
      parse_csv("\xEF\xBB\xBFtimestamp,value\r\n1,2\r\n\r\n\"3\",\"4\"\r\n\r\n  \n", "w.csv");
  CHECK(texts(table.header) == std::vector<std::string>{"timestamp", "value"});
  CHECK(table.header.fields[0].column == 1);  // counted after the mark
  REQUIRE(table.rows.size() == 2);
  CHECK(texts(table.rows[0]) == std::vector<std::string>{"1", "2"});
  CHECK(texts(table.rows[1]) == std::vector<std::string>{"3", "4"});
  CHECK(table.rows[1].line == 4);
  CHECK(number_field(table, table.rows[1], 1) == 4.0);
}

TEST_CASE("csv timestamps: Unix seconds and milliseconds", "[csv]") {
  CHECK(parse_timestamp("1441115100") == kSept1 * kSecondNs);
  CHECK(parse_timestamp(" 1441115100.5 ") == kSept1 * kSecondNs + 500 * kMillisecondNs);
  CHECK(parse_timestamp("0") == 0);
  CHECK(parse_timestamp("-1.5") == -1'500'000'000);
  // 1e11 and up: milliseconds (13-digit exports); below: seconds.
  CHECK(parse_timestamp("1441115100250") == kSept1 * kSecondNs + 250 * kMillisecondNs);
  CHECK(parse_timestamp("1441115100250.5") == kSept1 * kSecondNs + 250'500'000);
  CHECK(parse_timestamp("100000000000") == 100'000'000LL * kSecondNs);  // 1973-03-03 09:46:40
  CHECK(parse_timestamp("9000000000") == 9'000'000'000LL * kSecondNs);
  for (const char* bad : {"99999999999", "9000000001", "9000000000001", "1e9", "+5", "1.",
                          "1.1234567890", "1441115100250.1234567", "", "-", "12:00"})
    CHECK_FALSE(parse_timestamp(bad).has_value());
}

TEST_CASE("csv timestamps: ISO 8601, UTC unless a zone says otherwise", "[csv]") {
  const std::int64_t sept1 = kSept1 * kSecondNs;
  CHECK(parse_timestamp("2015-09-01 13:45:00") == sept1);
  CHECK(parse_timestamp("2015-09-01T13:45:00") == sept1);
  CHECK(parse_timestamp("2015-09-01T13:45") == sept1);
  CHECK(parse_timestamp("2015-09-01T13:45:00Z") == sept1);
  CHECK(parse_timestamp("2015-09-01T15:45:00+02:00") == sept1);
  CHECK(parse_timestamp("2015-09-01T08:45:00-05:00") == sept1);
  CHECK(parse_timestamp("2015-09-01T19:15:00+0530") == sept1);
  CHECK(parse_timestamp("2015-09-01 10:45:00-03") == sept1);
  CHECK(parse_timestamp("2015-09-01 13:45:00.250") == sept1 + 250 * kMillisecondNs);
  CHECK(parse_timestamp("2015-09-01T15:45:00.000000001+02:00") == sept1 + 1);
  CHECK(parse_timestamp("2015-09-01") == 16679 * 86400 * kSecondNs);
  // A zone that moves the date: 2015-08-31 23:00 UTC, 2016-01-01 00:30 UTC.
  CHECK(parse_timestamp("2015-09-01T01:00:00+02:00") == 1'441'062'000 * kSecondNs);
  CHECK(parse_timestamp("2015-12-31T23:30:00-01:00") == 1'451'608'200 * kSecondNs);
  CHECK(parse_timestamp("2000-02-29 12:00:00") == 951'825'600 * kSecondNs);  // a leap day
  for (const char* bad :
       {"2015-02-29", "2015-13-01", "2015-09-01 24:00", "2015-09-01 13:60", "2015-09-01 13:45:60",
        "2015-09-01T13:45:00+24:00", "2015-09-01T13:45:00+02:0", "2015-09-01T13:45:00 +02:00",
        "2015-09-01T13:45:00ZZ", "2015-09-01x", "2015-09-01 13:45:00.", "01/09/2015",
        "2015-09-01 13:45:00.1234567890"})
    CHECK_FALSE(parse_timestamp(bad).has_value());
}

TEST_CASE("csv numbers: finite decimals only", "[csv]") {
  CHECK(parse_number("1.5") == 1.5);
  CHECK(parse_number(" +2e3 ") == 2000.0);
  CHECK(parse_number("-0.25") == -0.25);
  for (const char* bad : {"", "abc", "1,5", "nan", "inf", "+-1", "1e999", "0x10"})
    CHECK_FALSE(parse_number(bad).has_value());
}

TEST_CASE("csv: every error at FILE:LINE:COL", "[csv]") {
  CHECK(problem([] { parse_csv("time,value\n1,\"abc\n2,3\n", "f.csv"); }) ==
        "f.csv:2:3: quoted field not closed (a `\"` is missing)");
  CHECK(problem([] { parse_csv("time,value\n1, \"a\"b\n", "f.csv"); }) ==
        "f.csv:2:4: text after the closing quote of a quoted field (a `\"` inside it must be "
        "doubled)");
  CHECK(problem([] { parse_csv("\n \r\n", "f.csv"); }) == "f.csv: empty file (no header line)");

  const CsvTable table = parse_csv(
      "time,value,extra\n"
      "2015-09-01 25:00:00,1,x\n"
      "1441115100,\"1.5e\",x\n"
      "1441115100,2\n",
      "f.csv");
  CHECK(problem([&] { timestamp_field(table, table.rows[0], 0); }) ==
        "f.csv:2:1: bad timestamp `2015-09-01 25:00:00` (expected "
        "YYYY-MM-DD[ HH:MM[:SS[.fraction]]][Z|+hh:mm|-hh:mm], seconds or milliseconds since "
        "1970)");
  CHECK(problem([&] { number_field(table, table.rows[1], 1); }) ==
        "f.csv:3:12: bad value `1.5e` in column `value` (expected a finite number)");
  CHECK(problem([&] { require_fields(table, table.rows[2], 3); }) ==
        "f.csv:4:1: 2 fields, the header needs at least 3");
  require_fields(table, table.rows[2], 2);  // enough: no error
  // A field beyond the header's holding text: a value split by an unquoted comma.
  const CsvTable split = parse_csv("time,value\n1441115100,1,234\n1441115160,2,\n", "g.csv");
  CHECK(problem([&] { require_fields(split, split.rows[0], 2); }) ==
        "g.csv:2:14: 3 fields, the header names 2: a value holding a comma is quoted "
        "(\"1,234\")");
  require_fields(split, split.rows[1], 2);  // a trailing comma: an empty field, no error

  const std::string missing =
      (std::filesystem::path(DOSIM_TEST_TMP) / "csv" / "missing.csv").string();
  CHECK(problem([&] { read_csv_file(missing); }) == missing + ": no such file");
}

}  // namespace dosim
