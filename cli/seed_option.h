// The check of a seed given on the command line: the same range as a scenario's `seed:`, a
// whole number in [0, 1e18], never wrapped (CLI11 alone would read -1 as 2^64 - 1) nor
// clamped.
#pragma once

#include <CLI/CLI.hpp>

namespace dosim::cli {

inline CLI::Validator seed_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.size() <= 19 &&
                            text.find_first_not_of("0123456789") == std::string::npos;
        if (digits && std::stoull(text) <= 1'000'000'000'000'000'000ull) return "";
        return "the seed must be a whole number in [0, 1e18], got '" + text + "'";
      },
      "SEED");
}

}  // namespace dosim::cli
