#include "dosim/error.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <tuple>
#include <unordered_set>

namespace dosim {
namespace {

std::string join(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const auto& d : diagnostics) {
    if (!text.empty()) text += '\n';
    text += d.format();
  }
  return text;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

namespace {

// The length of the control character at text[i] (see has_control_character), or 0.
std::size_t control_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0;
  };
  if (byte(0) < 0x20 && i < text.size()) return 1;
  if (byte(0) == 0x7f) return 1;
  if (byte(0) == 0xC2 && byte(1) >= 0x80 && byte(1) <= 0x9F) return 2;
  if (byte(0) == 0xE2 && byte(1) == 0x80 && (byte(2) == 0xA8 || byte(2) == 0xA9)) return 3;
  return 0;
}

}  // namespace

std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;  // at most U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return length;
}

bool has_control_character(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i)
    if (control_length(text, i) > 0) return true;
  return false;
}

std::string escape_control_characters(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = control_length(text, i);
    if (length == 0) {
      out += text[i++];
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    char buffer[8];
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (length == 1)
      out.append(buffer,
                 static_cast<std::size_t>(std::snprintf(buffer, sizeof buffer, "\\x%02x", c)));
    else if (length == 2)
      out.append(buffer, static_cast<std::size_t>(std::snprintf(
                             buffer, sizeof buffer, "\\u%04x",
                             static_cast<unsigned>(static_cast<unsigned char>(text[i + 1])))));
    else
      out += static_cast<unsigned char>(text[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
    i += length;
  }
  return out;
}

std::vector<Diagnostic> by_position(std::vector<Diagnostic> list, const std::string& file) {
  std::vector<std::string> files = {file};
  for (const Diagnostic& d : list)
    if (std::find(files.begin(), files.end(), d.file) == files.end()) files.push_back(d.file);
  const auto rank = [&](const Diagnostic& d) {
    return std::find(files.begin(), files.end(), d.file) - files.begin();
  };
  std::stable_sort(list.begin(), list.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    return std::make_tuple(rank(a), a.line, a.column) < std::make_tuple(rank(b), b.line, b.column);
  });
  std::vector<Diagnostic> kept;
  kept.reserve(list.size());
  // Identical ones share a position; many distinct ones may too (a node reused through
  // 100,000 aliases): a set of those at the current position, not a look back through them.
  std::unordered_set<std::string> at_position;
  for (Diagnostic& d : list) {
    if (kept.empty() || kept.back().file != d.file || kept.back().line != d.line ||
        kept.back().column != d.column)
      at_position.clear();
    if (at_position.insert((d.warning ? "w" : "e") + d.message).second)
      kept.push_back(std::move(d));
  }
  return kept;
}

std::string Diagnostic::format() const {
  if (file.empty()) return warning ? "warning: " + message : message;
  const std::string text = (warning ? "warning: " : "") + escape_control_characters(message);
  if (line <= 0) return file + ": " + text;
  if (column <= 0) return file + ":" + std::to_string(line) + ": " + text;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + text;
}

Error::Error(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

InputError::InputError(std::string file, std::string message)
    : InputError(std::vector<Diagnostic>{Diagnostic{std::move(file), 0, 0, std::move(message)}}) {}

ScriptError::ScriptError(const std::string& message) : Error({Diagnostic{"", 0, 0, message}}) {}

RunControlError::RunControlError(const std::string& message)
    : Error({Diagnostic{"", 0, 0, message}}) {}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    std::size_t distance = edit_distance(word, candidate);
    // Not a word that shares nothing with it ('zz' is not a slip for 'a').
    if (distance >= std::max(word.size(), candidate.size())) continue;
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  // A word that is a whole part of a name ("cpu" of cpu_ratio, "replicas" of
  // ready_replicas) means that name before one two letters off ("cpu" is two from "rps").
  if (word.size() >= 3 && (best.empty() || best_distance >= 2)) {
    std::string part_of;
    for (const auto& candidate : candidates) {
      const std::string padded = "_" + candidate + "_";
      if (padded.find("_" + word + "_") != std::string::npos &&
          (part_of.empty() || candidate.size() < part_of.size()))
        part_of = candidate;
    }
    if (!part_of.empty()) return part_of;
  }
  if (!best.empty() || word.size() < 3) return best;
  // An abbreviation ("deploy" for "deployment") is a likely slip too.
  for (const auto& candidate : candidates)
    if (candidate.rfind(word, 0) == 0 && (best.empty() || candidate.size() < best.size()))
      best = candidate;
  return best;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string match = closest_match(word, candidates);
  return match.empty() ? "" : "; did you mean '" + match + "'?";
}

}  // namespace dosim
