#include "dosim/engine/sim_time.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace dosim {
namespace {

std::optional<SimTime> unit_scale(std::string_view unit) {
  if (unit == "ns") return kNanosecond;
  if (unit == "us" || unit == "µs") return kMicrosecond;
  if (unit == "ms") return kMillisecond;
  if (unit == "s" || unit.empty()) return kSecond;
  if (unit == "m" || unit == "min") return kMinute;
  if (unit == "h") return kHour;
  if (unit == "d") return kDay;
  if (unit == "w") return kWeek;
  return std::nullopt;
}

}  // namespace

std::optional<SimTime> parse_duration(std::string_view text, bool* too_long) {
  if (too_long) *too_long = false;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.empty()) return std::nullopt;

  long double total = 0;
  bool bare_number_allowed = true;
  // Units from the largest down, each once (`1h30m`): `1h1h` or `30m1h` is a typo.
  std::optional<std::int64_t> previous_scale;
  while (!text.empty()) {
    double value = 0;
    const char* begin = text.data();
    auto [end, ec] = std::from_chars(begin, begin + text.size(), value);
    if (ec != std::errc() || end == begin || value < 0 || !std::isfinite(value))
      return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - begin));
    std::size_t unit_len = 0;
    while (unit_len < text.size() && !std::isdigit(static_cast<unsigned char>(text[unit_len])) &&
           text[unit_len] != '.')
      ++unit_len;
    std::string_view unit = text.substr(0, unit_len);
    text.remove_prefix(unit_len);
    if (unit.empty() && (!text.empty() || !bare_number_allowed)) return std::nullopt;
    auto scale = unit_scale(unit);
    if (!scale || (previous_scale && *scale >= *previous_scale)) return std::nullopt;
    previous_scale = *scale;
    total += static_cast<long double>(value) * static_cast<long double>(*scale);
    bare_number_allowed = false;
  }
  if (total > static_cast<long double>(kMaxDuration)) {
    if (too_long) *too_long = true;
    return std::nullopt;
  }
  return static_cast<SimTime>(std::llroundl(total));
}

std::string format_duration(SimTime t) {
  if (t == 0) return "0s";
  std::string out;
  if (t < 0) {
    out = "-";
    t = -t;
  }
  // Under a minute, a whole number of one small unit reads best alone (1500ms, 250us).
  if (t % kSecond != 0 && t < kMinute) {
    if (t % kMillisecond == 0) return out + std::to_string(t / kMillisecond) + "ms";
    if (t % kMicrosecond == 0) return out + std::to_string(t / kMicrosecond) + "us";
  }
  const struct {
    SimTime scale;
    const char* unit;
  } parts[] = {{kDay, "d"},          {kHour, "h"},         {kMinute, "m"}, {kSecond, "s"},
               {kMillisecond, "ms"}, {kMicrosecond, "us"}, {1, "ns"}};
  for (const auto& part : parts) {
    if (t >= part.scale) {
      out += std::to_string(t / part.scale) + part.unit;
      t %= part.scale;
    }
  }
  return out;
}

}  // namespace dosim
