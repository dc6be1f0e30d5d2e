#include "util/prometheus_duration.h"

#include <cctype>
#include <string>

namespace dosim {

std::int64_t prometheus_duration_ns(std::string_view text) {
  constexpr std::int64_t kMs = 1'000'000, kS = 1000 * kMs, kM = 60 * kS, kH = 60 * kM, kD = 24 * kH;
  if (text.empty()) return -1;
  if (text == "0") return 0;  // model.ParseDuration takes a bare 0 (promtool, amtool too)
  std::int64_t total = 0, last_scale = 0;  // units from the largest down, each once
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t digits = i;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    if (digits == i || digits - i > 12) return -1;
    const std::int64_t value = std::stoll(std::string(text.substr(i, digits - i)));
    std::size_t unit_end = digits;
    while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end])))
      ++unit_end;
    const std::string_view unit = text.substr(digits, unit_end - digits);
    std::int64_t scale = 0;
    if (unit == "ms")
      scale = kMs;
    else if (unit == "s")
      scale = kS;
    else if (unit == "m")
      scale = kM;
    else if (unit == "h")
      scale = kH;
    else if (unit == "d")
      scale = kD;
    else if (unit == "w")
      scale = 7 * kD;
    else if (unit == "y")
      scale = 365 * kD;
    else
      return -1;
    if (last_scale != 0 && scale >= last_scale) return -1;  // 1m1h, 1h1h: Prometheus refuses
    last_scale = scale;
    total += value * scale;
    i = unit_end;
  }
  return total;
}

}  // namespace dosim
