// The whole number a decimal text writes exactly: "42", "+7", "1e3", "2.0", "1.5e1" (15),
// "1e18". A double would round "123456789012345678.9" to the whole 123456789012345680 and
// "999999999999999999.4" to 1e18: read digit by digit, they are no whole numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dosim {

struct WholeNumber {
  enum class Kind { kNone, kWhole, kTooLarge } kind = Kind::kNone;
  std::int64_t value = 0;  // kWhole only
};

// `text` (no spaces): an optional sign, digits with an optional '.' and fraction, an optional
// exponent (e or E, a sign, at most 4 digits). kTooLarge: whole, but beyond int64.
inline WholeNumber exact_whole_number(std::string_view text) {
  WholeNumber out;
  std::size_t i = 0;
  const bool negative = i < text.size() && text[i] == '-';
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  std::string digits;
  std::size_t fraction = 0, mantissa = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      digits += c;
      fraction += point ? 1 : 0;
      ++mantissa;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (mantissa == 0) return out;
  long exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    const bool down = i < text.size() && text[i] == '-';
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    std::size_t count = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && count < 5; ++i, ++count)
      exponent = exponent * 10 + (text[i] - '0');
    if (count == 0 || count > 4) return out;
    if (down) exponent = -exponent;
  }
  if (i != text.size()) return out;
  exponent -= static_cast<long>(fraction);
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  if (digits.empty()) {  // zero, however written
    out.kind = WholeNumber::Kind::kWhole;
    return out;
  }
  if (exponent < 0) {
    const std::size_t drop = static_cast<std::size_t>(-exponent);
    if (drop >= digits.size() ||
        digits.find_first_not_of('0', digits.size() - drop) != std::string::npos)
      return out;  // a fraction is left
    digits.resize(digits.size() - drop);
  } else if (digits.size() + static_cast<std::size_t>(exponent) > 19) {
    out.kind = WholeNumber::Kind::kTooLarge;
    return out;
  } else {
    digits.append(static_cast<std::size_t>(exponent), '0');
  }
  if (digits.size() > 19) {
    out.kind = WholeNumber::Kind::kTooLarge;
    return out;
  }
  const std::uint64_t magnitude = std::stoull(digits);
  if (magnitude > static_cast<std::uint64_t>(INT64_MAX)) {
    out.kind = WholeNumber::Kind::kTooLarge;
    return out;
  }
  out.kind = WholeNumber::Kind::kWhole;
  out.value =
      negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
  return out;
}

}  // namespace dosim
