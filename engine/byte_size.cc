#include "byte_size.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>

namespace dosim {

std::optional<double> parse_byte_size(std::string_view text) {
  std::size_t end = 0;
  while (end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[end])) != 0 || text[end] == '.'))
    ++end;
  if (end == 0) return std::nullopt;
  double value = 0;
  const std::string number(text.substr(0, end));
  const auto [ptr, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (error != std::errc() || ptr != number.data() + number.size() || !std::isfinite(value))
    return std::nullopt;
  static constexpr double kKi = 1024.0;
  static constexpr std::array<std::pair<std::string_view, double>, 19> kUnits = {{
      {"", 1.0},
      {"B", 1.0},
      {"k", 1e3},
      {"K", 1e3},
      {"KB", 1e3},
      {"M", 1e6},
      {"MB", 1e6},
      {"G", 1e9},
      {"GB", 1e9},
      {"T", 1e12},
      {"TB", 1e12},
      {"Ki", kKi},
      {"KiB", kKi},
      {"Mi", kKi * kKi},
      {"MiB", kKi * kKi},
      {"Gi", kKi * kKi * kKi},
      {"GiB", kKi * kKi * kKi},
      {"Ti", kKi * kKi * kKi * kKi},
      {"TiB", kKi * kKi * kKi * kKi},
  }};
  const std::string_view unit = text.substr(end);
  for (const auto& [name, factor] : kUnits)
    if (unit == name) return value * factor;
  return std::nullopt;
}

}  // namespace dosim
