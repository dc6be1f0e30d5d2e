// The pieces of Prometheus's text formats (exposition 0.0.4 and OpenMetrics) that the
// exporters share (metrics_export.cc, live_metrics.cc): numbers, label values, label sets.
// Internal to analysis/.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dosim::exposition {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A double in its shortest round-trip form; NaN, +Inf, -Inf as Prometheus spells them.
inline std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

// A float32 sample exactly as stored (its shortest round-trip form as a float).
inline std::string sample(float value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

// A label value with \, " and newline escaped.
inline std::string escaped(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// {name="value",...}; an empty value is no label (as Prometheus reads it); "" for none.
inline std::string label_text(const Labels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (value.empty()) continue;
    out += (out.empty() ? "{" : ",") + name + "=\"" + escaped(value) + "\"";
  }
  return out.empty() ? out : out + "}";
}

}  // namespace dosim::exposition
