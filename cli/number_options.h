// Checks of numbers given on the command line, said in words before CLI11's range check
// (which says "Value abc not in range 1 to 1024" of a word): a whole number, and a seed (the
// same range as a scenario's `seed:`, a whole number in [0, 1e18], never wrapped, as CLI11
// alone would read -1 as 2^64 - 1, nor clamped).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "util/whole_number.h"

namespace dosim::cli {

// A whole number (digits, an optional sign), or one written as a scenario may write it
// (`1e12`, `2.0`: the docs write ranges so) given to CLI11 in digits; put before a
// CLI::Range, with transform() (check() would keep the text as written).
inline CLI::Validator whole_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::size_t digits = text.find_first_not_of("+-") == 1 ? 1 : 0;
        const bool whole = text.size() > digits &&
                           text.find_first_not_of("0123456789", digits) == std::string::npos;
        if (whole) return "";
        // Digit by digit (util/whole_number.h), as a scenario's integers are read.
        const WholeNumber value = exact_whole_number(text);
        if (value.kind != WholeNumber::Kind::kWhole) return "'" + text + "' is not a whole number";
        text = std::to_string(value.value);
        return "";
      },
      "");  // no words in --help: the option's own INT says it (it read "INT:INT:INT")
}

// An item of a comma-separated list without the spaces around it: `--detectors "mad, ewma"`
// names mad and ewma (CLI11 splits at the comma alone and kept " ewma").
inline CLI::Validator trimmed() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::size_t first = text.find_first_not_of(" \t");
        text = first == std::string::npos
                   ? std::string()
                   : text.substr(first, text.find_last_not_of(" \t") + 1 - first);
        return "";
      },
      "");
}

// CLI11's range check without its words in --help ("INT:INT in [1 - 256]" repeated the
// type): each option's help says its range.
template <class T>
CLI::Validator in_range(T low, T high) {
  CLI::Validator range = CLI::Range(low, high);
  range.description("");
  return range;
}

// A whole number written as a scenario may write it (`1e18`, `2.0`) is given to CLI11 in
// digits.
inline CLI::Validator seed_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::string bad = "the seed must be a whole number in [0, 1e18], got '" + text + "'";
        // Digit by digit, as a scenario's seed: 123456789012345678.9 is no whole number (a
        // double made it 123456789012345680), nor is " 5".
        const WholeNumber value = exact_whole_number(text);
        if (value.kind != WholeNumber::Kind::kWhole || value.value < 0 ||
            value.value > 1'000'000'000'000'000'000LL)
          return bad;
        text = std::to_string(value.value);
        return "";
      },
      "");  // no words in --help: "UINT" and the option's help say it
}

}  // namespace dosim::cli
