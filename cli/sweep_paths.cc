#include "sweep_paths.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "dosim/error.h"

namespace dosim::cli {
namespace {

bool is_key_char(char c) { return c != '.' && c != '[' && c != ']' && c != '=' && c != ','; }

std::string trimmed(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// The path up to (not including) step `count`, for messages.
std::string prefix_of(const std::vector<PathStep>& steps, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i) out += '.';
    out += steps[i].key;
    if (steps[i].select == PathStep::Select::kIndex) {
      out += '[' + std::to_string(steps[i].index) + ']';
    } else if (steps[i].select == PathStep::Select::kMatch) {
      out += '[';
      for (std::size_t m = 0; m < steps[i].match.size(); ++m)
        out += (m ? "," : "") + steps[i].match[m].first + '=' + steps[i].match[m].second;
      out += ']';
    }
  }
  return out;
}

// The value of key `key` in mapping `map`, or an undefined node; never inserts.
YAML::Node child_of(const YAML::Node& map, const std::string& key, YAML::Node* key_node = nullptr) {
  for (const auto& pair : map) {
    if (pair.first.IsScalar() && pair.first.Scalar() == key) {
      if (key_node) *key_node = pair.first;
      return pair.second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::vector<std::string> keys_of(const YAML::Node& map) {
  std::vector<std::string> keys;
  for (const auto& pair : map)
    if (pair.first.IsScalar()) keys.push_back(pair.first.Scalar());
  return keys;
}

std::size_t mark_pos(const YAML::Node& node, const std::string& text) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= text.size())
    return std::string::npos;
  return static_cast<std::size_t>(mark.pos);
}

// The end of the scalar that starts at `begin` (one past its last byte), or npos when it is
// not on one line. `flow`: inside a flow collection, where ',', ']' and '}' end it.
std::size_t scalar_end(const std::string& text, std::size_t begin, bool flow) {
  const std::size_t n = text.size();
  const char first = text[begin];
  if (first == '"') {
    for (std::size_t i = begin + 1; i < n; ++i) {
      if (text[i] == '\\')
        ++i;
      else if (text[i] == '"')
        return i + 1;
      else if (text[i] == '\n')
        return std::string::npos;
    }
    return std::string::npos;
  }
  if (first == '\'') {
    for (std::size_t i = begin + 1; i < n; ++i) {
      if (text[i] == '\'') {
        if (i + 1 < n && text[i + 1] == '\'')
          ++i;
        else
          return i + 1;
      } else if (text[i] == '\n') {
        return std::string::npos;
      }
    }
    return std::string::npos;
  }
  if (first == '|' || first == '>') return std::string::npos;  // a block scalar
  std::size_t i = begin;
  for (; i < n; ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r') break;
    if (flow && (c == ',' || c == ']' || c == '}')) break;
    if (c == '#' && i > begin && (text[i - 1] == ' ' || text[i - 1] == '\t')) break;
  }
  while (i > begin && (text[i - 1] == ' ' || text[i - 1] == '\t')) --i;
  return i;
}

const char* kind_of(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return "a value";
}

}  // namespace

bool parse_path(const std::string& path, std::vector<PathStep>& steps, PathProblem& problem) {
  steps.clear();
  const std::size_t n = path.size();
  std::size_t i = 0;
  if (trimmed(path).empty()) {
    problem = {"a path must name a key (like services[name=api].capacity_rps)", 0};
    return false;
  }
  while (true) {
    PathStep step;
    step.offset = i;
    while (i < n && is_key_char(path[i])) ++i;
    step.key = path.substr(step.offset, i - step.offset);
    if (step.key.empty()) {
      problem = {"expected a key at offset " + std::to_string(step.offset) + " of the path",
                 step.offset};
      return false;
    }
    if (trimmed(step.key) != step.key) {  // said at the space
      const bool leading = step.key.front() == ' ' || step.key.front() == '\t';
      const std::size_t at = leading ? step.offset : i - 1;
      problem = {std::string("the key '") + step.key + "' " + (leading ? "starts" : "ends") +
                     " with a space (offset " + std::to_string(at) + " of the path)",
                 at};
      return false;
    }
    if (i < n && path[i] == '[') {
      step.select_offset = i;
      const std::size_t close = path.find(']', i);
      if (close == std::string::npos) {
        problem = {"'[' without its ']'", i};
        return false;
      }
      const std::string inside = path.substr(i + 1, close - i - 1);
      if (!inside.empty() && std::all_of(inside.begin(), inside.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
          })) {
        step.select = PathStep::Select::kIndex;
        step.index = inside.size() > 9 ? 999999999 : std::stoul(inside);
      } else {
        step.select = PathStep::Select::kMatch;
        std::size_t from = 0;
        while (true) {
          const std::size_t comma = inside.find(',', from);
          const std::string pair =
              inside.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
          const std::size_t equals = pair.find('=');
          const std::string field =
              equals == std::string::npos ? "" : trimmed(pair.substr(0, equals));
          const std::string value =
              equals == std::string::npos ? "" : trimmed(pair.substr(equals + 1));
          if (field.empty() || value.empty()) {
            problem = {
                "expected an index ([0]) or FIELD=VALUE pairs ([name=api], "
                "[caller=web,callee=api]) in '[" +
                    inside + "]'",
                i + 1 + from};
            return false;
          }
          step.match.emplace_back(field, value);
          step.match_offsets.push_back(i + 1 + from + pair.find_first_not_of(" \t"));
          if (comma == std::string::npos) break;
          from = comma + 1;
        }
      }
      i = close + 1;
    }
    steps.push_back(std::move(step));
    if (i == n) return true;
    if (path[i] != '.') {
      problem = {std::string("expected '.' or the end of the path, got '") + path[i] + "'", i};
      return false;
    }
    if (++i == n) {
      problem = {"the path ends with '.'", i - 1};
      return false;
    }
  }
}

bool locate_path(const YAML::Node& root, const std::string& text,
                 const std::vector<PathStep>& steps, TextEdit& edit, PathProblem& problem) {
  YAML::Node current(root);
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const PathStep& step = steps[k];
    const bool last = k + 1 == steps.size();
    const std::string where = k == 0 ? "the scenario" : "'" + prefix_of(steps, k) + "'";
    if (!current.IsMap()) {
      problem = {where + " is " + kind_of(current) + ", not a mapping with key '" + step.key + "'",
                 step.offset};
      return false;
    }
    YAML::Node key_node;
    YAML::Node child = child_of(current, step.key, &key_node);
    if (!child.IsDefined()) {
      if (!last || step.select != PathStep::Select::kNone) {
        problem = {
            "no key '" + step.key + "' in " + where + did_you_mean(step.key, keys_of(current)),
            step.offset};
        return false;
      }
      // A new key of this mapping, written before its first key (or after its '{').
      const std::size_t at = mark_pos(current, text);
      if (at == std::string::npos) {
        problem = {"cannot find " + where + " in the scenario's text", step.offset};
        return false;
      }
      edit.prefix = step.key + ": ";
      if (current.Style() == YAML::EmitterStyle::Flow) {
        if (text[at] != '{') {
          problem = {"cannot find " + where + " in the scenario's text", step.offset};
          return false;
        }
        edit.begin = edit.end = at + 1;
        edit.suffix = current.size() > 0 ? ", " : "";
      } else {
        const YAML::Mark first = current.begin()->first.Mark();
        edit.begin = edit.end = at;
        edit.suffix = "\n" + std::string(static_cast<std::size_t>(std::max(0, first.column)), ' ');
      }
      return true;
    }
    YAML::Node container(current);  // what holds the value the path ends at
    if (step.select != PathStep::Select::kNone) {
      const std::string listed = "'" + prefix_of(steps, k) + (k ? "." : "") + step.key + "'";
      if (!child.IsSequence()) {
        problem = {listed + " is " + kind_of(child) + ", not a list", step.select_offset};
        return false;
      }
      if (step.select == PathStep::Select::kIndex) {
        if (step.index >= child.size()) {
          problem = {listed + " has " + std::to_string(child.size()) + " entries: no [" +
                         std::to_string(step.index) + "]",
                     step.select_offset};
          return false;
        }
        container.reset(child);
        child.reset(child[step.index]);
      } else {
        // A field no entry has is a typo of the field, not of its value.
        std::vector<std::string> fields;
        for (const YAML::Node& entry : child)
          if (entry.IsMap())
            for (const std::string& field : keys_of(entry))
              if (std::find(fields.begin(), fields.end(), field) == fields.end())
                fields.push_back(field);
        for (std::size_t f = 0; f < step.match.size(); ++f) {
          const std::string& field = step.match[f].first;
          if (std::find(fields.begin(), fields.end(), field) != fields.end()) continue;
          problem = {"no entry of " + listed + " has a field '" + field + "'" +
                         did_you_mean(field, fields),
                     step.match_offsets[f]};
          return false;
        }
        std::vector<YAML::Node> matches;
        std::vector<std::string> seen;  // the first field's values, for "did you mean"
        for (const YAML::Node& entry : child) {
          if (!entry.IsMap()) continue;
          bool all = true;
          for (const auto& [field, value] : step.match) {
            const YAML::Node got = child_of(entry, field);
            if (field == step.match.front().first && got.IsDefined() && got.IsScalar())
              seen.push_back(got.Scalar());
            if (!got.IsDefined() || !got.IsScalar() || got.Scalar() != value) all = false;
          }
          if (all) matches.push_back(entry);
        }
        std::string wanted;
        for (const auto& [field, value] : step.match)
          wanted += (wanted.empty() ? "" : ",") + field + "=" + value;
        if (matches.empty()) {
          problem = {"no entry of " + listed + " with " + wanted +
                         did_you_mean(step.match.front().second, seen),
                     step.select_offset + 1};
          return false;
        }
        if (matches.size() > 1) {
          problem = {std::to_string(matches.size()) + " entries of " + listed + " have " + wanted +
                         ": add a field to tell them apart",
                     step.select_offset + 1};
          return false;
        }
        container.reset(child);
        child.reset(matches.front());
      }
    }
    if (!last) {
      current.reset(child);
      continue;
    }
    const std::string full = "'" + prefix_of(steps, steps.size()) + "'";
    if (child.IsMap() || child.IsSequence()) {
      problem = {full + " is " + kind_of(child) + ", not a value: a path ends at a value",
                 step.offset};
      return false;
    }
    const std::size_t at = mark_pos(child, text);
    if (child.IsNull()) {
      // `key: ~` or `key: null` is replaced like any value; `key:` with nothing after it gets
      // the value after its colon.
      const std::size_t key_at = mark_pos(key_node, text);
      const bool literal = at != std::string::npos && key_at != std::string::npos && at > key_at &&
                           text.find('\n', key_at) >= at &&
                           (text[at] == '~' || text.compare(at, 4, "null") == 0 ||
                            text.compare(at, 4, "Null") == 0 || text.compare(at, 4, "NULL") == 0);
      if (!literal) {
        const std::size_t colon = key_at == std::string::npos ? key_at : text.find(':', key_at);
        if (step.select != PathStep::Select::kNone || colon == std::string::npos) {
          problem = {"cannot find " + full + " in the scenario's text", step.offset};
          return false;
        }
        edit.begin = edit.end = colon + 1;
        edit.prefix = " ";
        edit.suffix.clear();
        return true;
      }
    }
    const std::size_t end =
        at == std::string::npos
            ? at
            : scalar_end(text, at, container.Style() == YAML::EmitterStyle::Flow);
    const char first = at == std::string::npos ? 0 : text[at];
    const bool plain = first != '"' && first != '\'';
    if (end == std::string::npos || end <= at ||
        (plain && child.IsScalar() && text.compare(at, end - at, child.Scalar()) != 0)) {
      // An anchor (`&cap 200`) or an alias (`*cap`) stands where the value's text would:
      // the value is shared with another place, which a sweep would not change.
      const bool shared = first == '&' || first == '*';
      problem = {full + (shared ? " is a YAML anchor or alias in the scenario (&NAME, *NAME): a "
                                  "shared value cannot be swept; write the value itself there"
                                : " is not written on one line in the scenario: write it on one "
                                  "line to sweep it"),
                 step.offset};
      return false;
    }
    edit.begin = at;
    edit.end = end;
    edit.prefix.clear();
    edit.suffix.clear();
    return true;
  }
  problem = {"empty path", 0};
  return false;
}

std::string yaml_scalar(const std::string& value, bool quoted) {
  auto safe_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' ||
           c == '-' || c == '/';
  };
  const bool safe = !quoted && !value.empty() &&
                    std::all_of(value.begin(), value.end(), safe_char) &&
                    (value[0] != '-' || (value.size() > 1 && value[1] != '-' && value[1] != ' '));
  if (safe) return value;
  std::string out = "\"";
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

EditedText::EditedText(const std::string& original,
                       std::vector<std::pair<TextEdit, std::string>> edits) {
  std::vector<std::size_t> order(edits.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return edits[a].first.begin < edits[b].first.begin;
  });
  std::size_t copied = 0;
  for (const std::size_t i : order) {
    const TextEdit& edit = edits[i].first;
    text_.append(original, copied, edit.begin - copied);
    Span span{edit.begin, edit.end, text_.size(), 0, static_cast<int>(i), edit.prefix.size()};
    text_ += edit.prefix + edits[i].second + edit.suffix;
    span.edited_end = text_.size();
    spans_.push_back(span);
    copied = edit.end;
  }
  text_.append(original, copied, std::string::npos);
  original_lines_ = line_starts(original);
  edited_lines_ = line_starts(text_);
}

std::vector<std::size_t> EditedText::line_starts(const std::string& text) {
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts.push_back(i + 1);
  return starts;
}

EditedText::Origin EditedText::origin(int line, int column) const {
  if (line < 1 || static_cast<std::size_t>(line) > edited_lines_.size())
    return {-1, false, line, column};
  const std::size_t offset =
      edited_lines_[line - 1] + static_cast<std::size_t>(std::max(column, 1) - 1);
  std::size_t original = offset;
  for (const Span& span : spans_) {
    if (offset < span.edited_begin) break;
    if (offset < span.edited_end)
      return {span.edit, span.prefix > 1 && offset - span.edited_begin < span.prefix, 0, 0};
    original = offset - span.edited_end + span.original_end;
  }
  const auto after = std::upper_bound(original_lines_.begin(), original_lines_.end(), original);
  const std::size_t line_index = static_cast<std::size_t>(after - original_lines_.begin()) - 1;
  return {-1, false, static_cast<int>(line_index) + 1,
          column == 0 ? 0 : static_cast<int>(original - original_lines_[line_index]) + 1};
}

}  // namespace dosim::cli
