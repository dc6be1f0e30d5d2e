#include "promtool_problems.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string_view>
#include <tuple>
#include <utility>

namespace dosim::cli {
namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    lines.push_back(line);
    begin = end + 1;
  }
  return lines;
}

// The 1-based column of `word` on `line` as a whole word (a YAML key), else of the line's
// first character that is not a space; 1 for an empty line.
int column_on(std::string_view line, std::string_view word) {
  const auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  for (std::size_t at = word.empty() ? std::string_view::npos : line.find(word);
       at != std::string_view::npos; at = line.find(word, at + 1)) {
    const std::size_t after = at + word.size();
    if ((at == 0 || !is_word(line[at - 1])) && (after == line.size() || !is_word(line[after])))
      return static_cast<int>(at) + 1;
  }
  const std::size_t first = line.find_first_not_of(" -");
  return first == std::string_view::npos ? 1 : static_cast<int>(first) + 1;
}

// The first line of `file` holding "key: VALUE" (VALUE plain or quoted) and the column of
// the value there; {0, 0} if none does.
std::pair<int, int> value_position(const std::vector<std::string_view>& file,
                                   std::string_view value) {
  for (std::size_t i = 0; i < file.size(); ++i) {
    const std::string_view line = file[i];
    const std::size_t colon = line.find(": ");
    if (colon == std::string_view::npos ||
        line.substr(0, colon).find('#') != std::string_view::npos)
      continue;
    const std::size_t start = line.find_first_not_of(' ', colon + 1);
    if (start == std::string_view::npos) continue;
    std::string_view scalar = line.substr(start);
    if (const std::size_t comment = scalar.find(" #"); comment != std::string_view::npos)
      scalar = scalar.substr(0, comment);
    while (!scalar.empty() && scalar.back() == ' ') scalar.remove_suffix(1);
    if (scalar.size() >= 2 && (scalar.front() == '"' || scalar.front() == '\'') &&
        scalar.back() == scalar.front())
      scalar = scalar.substr(1, scalar.size() - 2);
    if (scalar == value) return {static_cast<int>(i) + 1, static_cast<int>(start) + 1};
  }
  return {0, 0};
}

// The value a message quotes last ('... string: "1x"'), or "" if it quotes none.
std::string_view quoted_value(std::string_view message) {
  const std::size_t close = message.rfind('"');
  if (close == std::string_view::npos || close == 0) return {};
  const std::size_t open = message.rfind('"', close - 1);
  if (open == std::string_view::npos) return {};
  return message.substr(open + 1, close - open - 1);
}

}  // namespace

std::vector<Diagnostic> promtool_problems(const std::string& path, const std::string& output,
                                          const std::string& text) {
  const std::vector<std::string_view> file = lines_of(text);
  std::vector<Diagnostic> problems;
  for (const std::string_view raw : lines_of(output)) {
    const std::size_t first = raw.find_first_not_of(' ');
    if (first == std::string_view::npos) continue;
    const std::string_view line = raw.substr(first);
    if (line.starts_with("Checking") || line.starts_with("FAILED:")) continue;
    Diagnostic d{path, 0, 0, std::string(line)};
    std::string_view message = line;
    if (line.starts_with(path + ": ")) message = line.substr(path.size() + 2);
    if (message == "yaml: unmarshal errors:") continue;  // its "line N:" entries follow
    int row = 0, column = 0, used = 0;
    const std::string owned(message);
    if (std::sscanf(owned.c_str(), "%d:%d: %n", &row, &column, &used) == 2 && used > 0) {
      d = {path, row, column, owned.substr(static_cast<std::size_t>(used))};
    } else if (std::sscanf(owned.c_str(), "line %d: %n", &row, &used) == 1 && used > 0) {
      d.message = owned.substr(static_cast<std::size_t>(used));
      d.line = row;
      std::string_view field;
      if (d.message.starts_with("field ")) {
        field = std::string_view(d.message).substr(6);
        field = field.substr(0, field.find(' '));
      }
      d.column = row >= 1 && row <= static_cast<int>(file.size())
                     ? column_on(file[static_cast<std::size_t>(row - 1)], field)
                     : 0;
    } else {
      d.message = owned;
      if (const std::string_view value = quoted_value(message); !value.empty())
        std::tie(d.line, d.column) = value_position(file, value);
    }
    const bool seen = std::any_of(problems.begin(), problems.end(), [&](const Diagnostic& p) {
      return p.line == d.line && p.column == d.column && p.message == d.message;
    });
    if (!seen) problems.push_back(std::move(d));
  }
  return problems;
}

}  // namespace dosim::cli
