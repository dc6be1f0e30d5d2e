// A number for a page's embedded JSON: four significant digits (what a chart can show, and
// short in the file), null when not finite. Internal to analysis/.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace dosim {

inline nlohmann::ordered_json json_number(double value) {
  if (!std::isfinite(value)) return nullptr;
  if (value == 0) return 0;
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return std::strtod(text, nullptr);
}

}  // namespace dosim
