// CSV and timestamps from the bytes (util/csv.h): parse_csv must throw InputError or return a
// table; every field then goes through parse_timestamp, parse_number and the field readers,
// which must return a value, nullopt or InputError, never crash (UBSan: no signed overflow in
// the exact timestamp arithmetic).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dosim/error.h"
#include "util/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The whole input as one timestamp and one number, as a field holding it would be read.
  (void)dosim::parse_timestamp(text.substr(0, 64));
  (void)dosim::parse_number(text.substr(0, 64));
  try {
    const dosim::CsvTable table = dosim::parse_csv(text, "fuzz.csv");
    for (const dosim::CsvRow& row : table.rows) {
      for (std::size_t index = 0; index < row.fields.size(); ++index) {
        (void)dosim::parse_timestamp(row.fields[index].text);
        try {
          (void)dosim::timestamp_field(table, row, index);
        } catch (const dosim::Error&) {
        }
        try {
          (void)dosim::number_field(table, row, index);
        } catch (const dosim::Error&) {
        }
      }
      try {
        dosim::require_fields(table, row, 2);
      } catch (const dosim::Error&) {
      }
    }
  } catch (const dosim::Error&) {
  }
  return 0;
}
