#include "dosim/error.h"

#include <algorithm>
#include <numeric>
#include <tuple>

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
  return list;
}

std::string Diagnostic::format() const {
  const std::string text = warning ? "warning: " + message : message;
  if (file.empty()) return text;
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
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
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
