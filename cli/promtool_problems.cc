#include "promtool_problems.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string_view>
#include <tuple>
#include <utility>
#include <yaml-cpp/yaml.h>

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

// 1-based line and column of a node, {0, 0} where it has none.
std::pair<int, int> position_of(const YAML::Node& node) {
  if (!node.IsDefined() || node.Mark().is_null() || node.Mark().line < 0) return {0, 0};
  return {node.Mark().line + 1, node.Mark().column + 1};
}

// The first scalar in `node`'s tree whose text is `value` (keys before their values), or an
// undefined node.
YAML::Node scalar_named(const YAML::Node& node, std::string_view value) {
  if (node.IsScalar()) return node.Scalar() == value ? node : YAML::Node(YAML::NodeType::Undefined);
  if (node.IsSequence())
    for (const YAML::Node& item : node)
      if (YAML::Node found = scalar_named(item, value); found.IsDefined()) return found;
  if (node.IsMap())
    for (const auto& entry : node) {
      if (YAML::Node found = scalar_named(entry.first, value); found.IsDefined()) return found;
      if (YAML::Node found = scalar_named(entry.second, value); found.IsDefined()) return found;
    }
  return YAML::Node(YAML::NodeType::Undefined);
}

// The key `key` of map `node` (its key node, not its value), or an undefined node.
YAML::Node key_of(const YAML::Node& node, std::string_view key) {
  if (node.IsDefined() && node.IsMap())  // (a key the rule lacks is a node of no use else)
    for (const auto& entry : node)
      if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.first;
  return YAML::Node(YAML::NodeType::Undefined);
}

// Whether rule `index` (1-based) of group `g` is named `name` (its alert or record).
bool rule_named(const YAML::Node& g, int index, std::string_view name) {
  const YAML::Node rules = g["rules"];
  if (!rules.IsDefined() || !rules.IsSequence() || index < 1 ||
      static_cast<std::size_t>(index) > rules.size())
    return false;
  const YAML::Node rule = rules[static_cast<std::size_t>(index - 1)];
  if (!rule.IsMap()) return false;
  for (const char* key : {"alert", "record"}) {
    const YAML::Node value = rule[key];
    if (value.IsDefined() && value.IsScalar() && value.Scalar() == name) return true;
  }
  return false;
}

// Where a promtool message about rule `index` (1-based) of group `group` belongs: at what
// `rest` names inside the rule (a label's or annotation's value, an invalid label name), else
// at the rule. {0, 0} when the file has no such rule. Of groups named alike (promtool says
// that too), the one whose rule `index` is `rule` (the message's name for it; "": the first).
std::pair<int, int> rule_position(const YAML::Node& root, std::string_view group, int index,
                                  std::string_view rule_name, std::string_view rest) {
  if (!root.IsMap() || !root["groups"] || !root["groups"].IsSequence()) return {0, 0};
  bool named_rule_found = false;
  if (!rule_name.empty())
    for (const YAML::Node& g : root["groups"])
      named_rule_found =
          named_rule_found || (g.IsMap() && g["name"] && g["name"].IsScalar() &&
                               g["name"].Scalar() == group && rule_named(g, index, rule_name));
  for (const YAML::Node& g : root["groups"]) {
    if (!g.IsMap() || !g["name"] || !g["name"].IsScalar() || g["name"].Scalar() != group)
      continue;
    if (named_rule_found && !rule_named(g, index, rule_name)) continue;
    const YAML::Node rules = g["rules"];
    if (!rules || !rules.IsSequence() || index < 1 || static_cast<std::size_t>(index) > rules.size())
      return position_of(g);
    const YAML::Node rule = rules[static_cast<std::size_t>(index - 1)];
    // `label "x": template: ...` and `annotation "x": ...`: at that template.
    for (const char* kind : {"label", "annotation"}) {
      const std::string prefix = std::string(kind) + " \"";
      if (!rest.starts_with(prefix)) continue;
      const std::string_view name = rest.substr(prefix.size(), rest.find('"', prefix.size()) -
                                                                   prefix.size());
      const YAML::Node map = rule.IsMap() ? rule[std::string(kind) + "s"] : YAML::Node();
      if (map && map.IsMap() && map[std::string(name)]) return position_of(map[std::string(name)]);
    }
    // `invalid label name: 0bad`: at that name among the rule's labels.
    constexpr std::string_view kInvalidName = "invalid label name: ";
    if (const std::size_t at = rest.find(kInvalidName); at != std::string_view::npos && rule.IsMap())
      for (const char* map : {"labels", "annotations"})
        if (YAML::Node key = key_of(rule[map], rest.substr(at + kInvalidName.size()));
            key.IsDefined())
          return position_of(key);
    return position_of(rule);
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

// One of promtool's messages (the file's name taken off) at its place in the rule file:
// `file` its lines, `root` its structure (undefined where it does not read as YAML),
// `syntax_error` where yaml-cpp stopped reading it ({0, 0}: it did not).
Diagnostic placed(const std::string& path, std::string_view message,
                  const std::vector<std::string_view>& file, const YAML::Node& root,
                  std::pair<int, int> syntax_error) {
  // A syntax error: go-yaml's "line N" is where the construct it was in began, counted from
  // 0 or 1 by the kind of error; yaml-cpp's mark is where the text goes wrong.
  if (message.starts_with("yaml: line ")) {
    message.remove_prefix(6);
    if (syntax_error.first > 0) {
      const std::size_t colon = message.find(": ");
      return {path, syntax_error.first, syntax_error.second,
              std::string(message.substr(colon == std::string_view::npos ? 0 : colon + 2))};
    }
  }
  Diagnostic d{path, 0, 0, std::string(message)};
  int row = 0, column = 0, used = 0;
  std::string owned(message);
  // promtool's "0:0:" is no position; a second "L:C:" after the first says the same place
  // again (a rule with both alert and record: each key's): the first is kept.
  const bool positioned =
      std::sscanf(owned.c_str(), "%d:%d: %n", &row, &column, &used) == 2 && used > 0;
  if (positioned) {
    owned = owned.substr(static_cast<std::size_t>(used));
    int again_row = 0, again_column = 0, again = 0;
    if (std::sscanf(owned.c_str(), "%d:%d: %n", &again_row, &again_column, &again) == 2 &&
        again > 0)
      owned = owned.substr(static_cast<std::size_t>(again));
    if (row > 0) return {path, row, column, owned};
  }
  d.message = owned;
  char group[256] = {0};
  int index = 0, consumed = 0;
  if (std::sscanf(owned.c_str(), "group \"%255[^\"]\", rule %d, %n", group, &index, &consumed) ==
          2 &&
      consumed > 0) {
    // 'group "g", rule 1, "A": ...': at the rule, or what in it the rest names.
    std::string_view rest = std::string_view(owned).substr(static_cast<std::size_t>(consumed));
    std::string_view rule_name;
    if (const std::size_t named = rest.find("\": ");
        rest.starts_with('"') && named != std::string_view::npos) {
      rule_name = rest.substr(1, named - 1);
      rest.remove_prefix(named + 3);  // the rule's name
    }
    std::tie(d.line, d.column) = rule_position(root, group, index, rule_name, rest);
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
  } else if (const std::string_view value = quoted_value(owned); !value.empty()) {
    std::tie(d.line, d.column) = value_position(file, value);
    if (d.line == 0 && root.IsDefined())  // written in flow style ({for: 1x})
      std::tie(d.line, d.column) = position_of(scalar_named(root, value));
  }
  return d;
}

}  // namespace

std::vector<Diagnostic> promtool_problems(const std::string& path, const std::string& output,
                                          const std::string& text) {
  const std::vector<std::string_view> file = lines_of(text);
  YAML::Node root;
  std::pair<int, int> syntax_error{0, 0};
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    root = YAML::Node(YAML::NodeType::Undefined);
    if (!error.mark.is_null() && error.mark.line >= 0)
      syntax_error = {error.mark.line + 1, error.mark.column + 1};
  }
  std::vector<Diagnostic> problems;
  for (const std::string_view raw : lines_of(output)) {
    const std::size_t first = raw.find_first_not_of(' ');
    if (first == std::string_view::npos) continue;
    const std::string_view line = raw.substr(first);
    if (line.starts_with("Checking") || line.starts_with("FAILED:")) continue;
    std::string_view message = line;
    if (line.starts_with(path + ": ")) message = line.substr(path.size() + 2);
    if (message == "yaml: unmarshal errors:") continue;  // its "line N:" entries follow
    Diagnostic d = placed(path, message, file, root, syntax_error);
    const bool seen = std::any_of(problems.begin(), problems.end(), [&](const Diagnostic& p) {
      return p.line == d.line && p.column == d.column && p.message == d.message;
    });
    if (!seen) problems.push_back(std::move(d));
  }
  return problems;
}

}  // namespace dosim::cli
