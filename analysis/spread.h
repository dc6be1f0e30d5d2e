// The spread of a metric over runs, as `dosim bench` summarises it (its table, its JSON and
// its report): median (the mean of the two middle values for an even count), min and max of
// the values that are numbers (NaN, a run without one, skipped). Internal to dosim.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace dosim {

struct Spread {
  double median = std::numeric_limits<double>::quiet_NaN();
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
  std::size_t runs = 0;  // values that were numbers
};

inline Spread spread_of(std::vector<double> values) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  Spread s;
  s.runs = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.min = values.front();
  s.max = values.back();
  return s;
}

// A spread's value in the column's printf `format`; a whole-number column ("%.0f": alerts,
// seconds) shows a value that is not whole with one decimal (an even count's median 5.5,
// not 6).
inline std::string spread_text(double value, const char* format) {
  char text[48];
  // Whole within rounding (a median of seconds summed from nanoseconds: 123.00000000000001).
  const bool half = std::string_view(format) == "%.0f" &&
                    std::abs(value - std::round(value)) > 1e-9 * std::max(1.0, std::abs(value));
  std::snprintf(text, sizeof text, half ? "%.1f" : format, value);
  return text;
}

// A table's cell: the median, then (min-max) where they read differently; "-" without a median.
inline std::string spread_cell(double median, double low, double high, const char* format) {
  if (std::isnan(median)) return "-";
  const std::string m = spread_text(median, format), a = spread_text(low, format),
                    b = spread_text(high, format);
  // "(-229.6..-169.5)", not "(-229.6--169.5)", where a bound is negative (one word still).
  const char* between = low < 0 || high < 0 ? ".." : "-";
  return a == b ? m : m + " (" + a + between + b + ")";
}

}  // namespace dosim
