#include "yaml_reader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include "util/whole_number.h"

namespace dosim {
namespace {

// A number as written in YAML, or nullopt. Accepts a leading '+'; rejects trailing text.
std::optional<double> parse_double(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || end != text.data() + text.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) return HUGE_VAL;  // reported as not finite
  if (ec != std::errc()) return std::nullopt;
  return value;
}

// Reports the shared problems of scalar readers: returns the scalar text, or nullopt.
std::optional<std::string> scalar_of(const YAML::Node& node, SourcePos pos,
                                     const std::string& expected, const std::string& label,
                                     Diagnostics& diags) {
  if (node.IsScalar()) return node.Scalar();
  diags.error(pos, "expected " + expected + " for " + label + ", got " + describe(node));
  return std::nullopt;
}

}  // namespace

std::string format_number(double value) {
  if (value == std::floor(value) && std::fabs(value) <= 1e18)
    return std::to_string(static_cast<std::int64_t>(value));
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

void Diagnostics::error(SourcePos pos, std::string message) {
  list_.push_back(Diagnostic{file_, pos.line, pos.column, std::move(message)});
}

void Diagnostics::warning(SourcePos pos, std::string message) {
  warnings_.push_back(Diagnostic{file_, pos.line, pos.column, std::move(message), true});
}

void Diagnostics::add(Diagnostic diagnostic) { list_.push_back(std::move(diagnostic)); }

void Diagnostics::merge(const Diagnostics& other) {
  list_.insert(list_.end(), other.list_.begin(), other.list_.end());
  warnings_.insert(warnings_.end(), other.warnings_.begin(), other.warnings_.end());
}

void Diagnostics::throw_if_any() const {
  if (list_.empty()) return;
  throw InputError(by_position(list_, file_));
}

std::vector<Diagnostic> Diagnostics::warnings() const { return by_position(warnings_, file_); }

std::vector<Diagnostic> Diagnostics::errors() const { return by_position(list_, file_); }

namespace {

// The empty values read as entries of a mapping, with their keys' positions: yaml-cpp marks
// an empty value where the next token starts (lines below it, past blank lines and
// comments), so pos_of says a problem with one at its key, as a reader expects.
thread_local std::vector<std::pair<YAML::Node, SourcePos>> g_empty_values;

}  // namespace

void forget_empty_values() { g_empty_values.clear(); }

namespace {

// The `-` of an empty block list item marked at `mark` (the next token): back over blank
// lines and comments to the `-` that ends the text before it; {0, 0} if there is none.
SourcePos dash_before(const YAML::Mark& mark, const std::vector<std::size_t>& line_starts,
                      std::string_view text) {
  if (mark.is_null() || mark.line < 0) return {};
  int line = std::min<int>(mark.line, static_cast<int>(line_starts.size()) - 1);
  std::size_t end = mark.line < static_cast<int>(line_starts.size())
                        ? line_starts[mark.line] + static_cast<std::size_t>(mark.column)
                        : text.size();
  for (int steps = 0; line >= 0 && steps < 10000; --line, ++steps) {
    const std::size_t begin = line_starts[line];
    std::string_view part = text.substr(begin, std::min(end, text.size()) - begin);
    // A comment: from a `#` at the start or after a space (an empty item's line holds no
    // quotes), to the end.
    for (std::size_t i = 0; i < part.size(); ++i)
      if (part[i] == '#' && (i == 0 || part[i - 1] == ' ' || part[i - 1] == '\t')) {
        part = part.substr(0, i);
        break;
      }
    const std::size_t last = part.find_last_not_of(" \t\r\n");
    if (last != std::string_view::npos) {
      if (part[last] != '-') return {};
      return {line + 1, static_cast<int>(last) + 1};
    }
    end = begin;  // the whole line before
    if (line > 0) end = line_starts[line];
  }
  return {};
}

void note_items(const YAML::Node& node, const std::vector<std::size_t>& line_starts,
                std::string_view text, int depth) {
  if (depth > 1000) return;
  if (node.IsMap()) {
    for (const auto& pair : node) note_items(pair.second, line_starts, text, depth + 1);
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (item.IsNull()) {
        if (const SourcePos dash = dash_before(item.Mark(), line_starts, text); dash.line > 0)
          g_empty_values.emplace_back(item, dash);
      } else {
        note_items(item, line_starts, text, depth + 1);
      }
    }
  }
}

}  // namespace

void note_empty_items(const YAML::Node& root, std::string_view text) {
  std::vector<std::size_t> line_starts = {0};
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') line_starts.push_back(i + 1);
  note_items(root, line_starts, text, 0);
}

namespace {

// Counts the nodes of a document as its aliases expand it: each anchored node's size is
// known when it ends, so an alias adds its anchor's size at once (no walk).
class ExpansionCounter : public YAML::EventHandler {
 public:
  explicit ExpansionCounter(std::uint64_t limit) : limit_(limit) {}
  struct Past {};  // thrown to stop the parse at the alias that crosses the limit

  std::optional<SourcePos> past() const { return past_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(anchor); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const std::uint64_t size = anchor < sizes_.size() && sizes_[anchor] > 0 ? sizes_[anchor] : 1;
    extra_ = saturated(extra_, size - 1);
    add(size);
    if (extra_ > limit_) {
      past_ = SourcePos{mark.line + 1, mark.column + 1};
      throw Past{};
    }
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open_.push_back({anchor, 1});
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open_.push_back({anchor, 1});
  }
  void OnMapEnd() override { close(); }

 private:
  static std::uint64_t saturated(std::uint64_t a, std::uint64_t b) {
    return a > std::numeric_limits<std::uint64_t>::max() - b
               ? std::numeric_limits<std::uint64_t>::max()
               : a + b;
  }
  void sized(YAML::anchor_t anchor, std::uint64_t size) {
    if (anchor == YAML::NullAnchor) return;
    if (sizes_.size() <= anchor) sizes_.resize(anchor + 1, 0);
    sizes_[anchor] = size;
  }
  void add(std::uint64_t size) {
    if (!open_.empty()) open_.back().second = saturated(open_.back().second, size);
  }
  void leaf(YAML::anchor_t anchor) {
    sized(anchor, 1);
    add(1);
  }
  void close() {
    const auto [anchor, size] = open_.back();
    open_.pop_back();
    sized(anchor, size);
    add(size);
  }

  std::uint64_t limit_;
  std::uint64_t extra_ = 0;  // nodes the aliases add
  std::vector<std::pair<YAML::anchor_t, std::uint64_t>> open_;
  std::vector<std::uint64_t> sizes_;
  std::optional<SourcePos> past_;
};

}  // namespace

std::string binary_reason(const std::string& text) {
  if (text.find('\0') != std::string::npos) return "not a text file (it contains NUL bytes)";
  // Strictly: a surrogate or an overlong form passed here and broke readers of the trace's
  // names (Python's decoder refuses them).
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence(text, i);
    if (length == 0) return "not a text file (invalid UTF-8)";
    i += length;
  }
  return "";
}

std::optional<SourcePos> alias_expansion_past(const std::string& text, std::uint64_t limit) {
  // No anchor or no alias: nothing to expand, and no second parse (a cron's '*' alone).
  if (text.find('&') == std::string::npos || text.find('*') == std::string::npos)
    return std::nullopt;
  std::istringstream stream(text);
  ExpansionCounter counter(limit);
  try {
    YAML::Parser parser(stream);
    parser.HandleNextDocument(counter);
  } catch (const ExpansionCounter::Past&) {
  } catch (const YAML::Exception&) {  // said by whoever loads it
  }
  return counter.past();
}

namespace {
// Finds a quoted scalar whose closing quote never comes: yaml-cpp reads the rest of the file
// into it (a `description: "oops` took the faults after it as its text, with no error).
class UnclosedQuote : public YAML::EventHandler {
 public:
  explicit UnclosedQuote(std::string_view text) : text_(text) {}
  std::optional<SourcePos> found;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    if (found || mark.is_null() || mark.pos < 0) return;
    const std::size_t at = static_cast<std::size_t>(mark.pos);
    if (at >= text_.size() || (text_[at] != '"' && text_[at] != '\'')) return;
    const char quote = text_[at];
    for (std::size_t i = at + 1; i < text_.size(); ++i) {
      if (quote == '"' && text_[i] == '\\') {
        ++i;  // an escape: the next character is not the end
      } else if (text_[i] == quote) {
        if (quote == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;  // '' is a quote inside a single-quoted scalar
          continue;
        }
        return;
      }
    }
    found = SourcePos{mark.line + 1, mark.column + 1};
  }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  std::string_view text_;
};
}  // namespace

std::optional<Diagnostic> unclosed_quote_problem(const std::string& text, const std::string& file) {
  UnclosedQuote finder(text);
  try {
    std::stringstream stream(text);
    YAML::Parser parser(stream);
    parser.HandleNextDocument(finder);
  } catch (const YAML::Exception&) {  // said by whoever loads it
  }
  if (!finder.found) return std::nullopt;
  return Diagnostic{file, finder.found->line, finder.found->column,
                    "this quote is never closed: the rest of the file was read as its text"};
}

std::optional<Diagnostic> alias_expansion_problem(const std::string& text,
                                                  const std::string& file) {
  constexpr std::uint64_t kLimit = 1'000'000;
  const std::optional<SourcePos> at = alias_expansion_past(text, kLimit);
  if (!at) return std::nullopt;
  return Diagnostic{file, at->line, at->column,
                    "the aliases make this file stand for more than a million nodes beyond "
                    "those it writes (aliases of lists of aliases multiply): write the values "
                    "out"};
}

Diagnostic yaml_error(const std::string& file, const YAML::Exception& error,
                      std::string_view text) {
  const bool has_mark = !error.mark.is_null() && error.mark.line >= 0;
  std::string message =
      dynamic_cast<const YAML::DeepRecursion*>(&error) != nullptr
          ? "YAML nested too deep: more than " +
                std::to_string(static_cast<const YAML::DeepRecursion&>(error).depth() - 1) +
                " lists and mappings inside each other"
          : "YAML syntax error: " + error.msg;
  if (has_mark && message.find("tab") == std::string::npos) {
    // The line's indentation: a tab in it is the likely mistake.
    std::size_t begin = 0;
    for (int line = 0; line < error.mark.line && begin != std::string_view::npos; ++line) {
      begin = text.find('\n', begin);
      if (begin != std::string_view::npos) ++begin;
    }
    if (begin != std::string_view::npos && begin < text.size()) {
      const std::size_t end = text.find_first_not_of(" \t", begin);
      const std::string_view indent =
          text.substr(begin, end == std::string_view::npos ? text.npos : end - begin);
      if (indent.find('\t') != std::string_view::npos)
        message += " (the line is indented with a tab: YAML indents with spaces)";
    }
  }
  int line = has_mark ? error.mark.line + 1 : 0, column = has_mark ? error.mark.column + 1 : 0;
  // Line ends of CR alone (classic Mac OS) are no line ends to YAML: one long line fails.
  if (text.find('\r') != std::string_view::npos && text.find('\n') == std::string_view::npos)
    message += " (the file's line ends are CR alone: save it with LF line ends)";
  // yaml-cpp stops past the last line where a quote or a bracket is never closed ("7:1" of
  // a file of 6 lines): said at the last line's end.
  const std::size_t last = text.find_last_not_of(" \t\r\n");
  if (has_mark && last != std::string_view::npos &&
      static_cast<std::size_t>(error.mark.pos) > last) {
    const std::size_t line_begin = text.rfind('\n', last);
    line = static_cast<int>(
               std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(last), '\n')) +
           1;
    column =
        static_cast<int>(last - (line_begin == std::string_view::npos ? 0 : line_begin + 1)) + 2;
    message += " at the end of the file (a quote or a bracket opened above is not closed?)";
  }
  return {file, line, column, message};
}

SourcePos pos_of(const YAML::Node& node) {
  if (!node.IsDefined()) return {};
  if (node.IsNull())
    for (auto it = g_empty_values.rbegin(); it != g_empty_values.rend(); ++it)
      if (it->first.is(node)) return it->second;
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return node.size() == 0 ? "an empty mapping" : "a mapping";
  return "'" + node.Scalar() + "'";
}

bool Range::contains(double value) const {
  if (low_open ? value <= low : value < low) return false;
  if (high_open ? value >= high : value > high) return false;
  return true;
}

std::string Range::describe() const {
  const bool has_high = high < 1e308;
  if (!has_high) return (low_open ? "> " : ">= ") + format_number(low);
  return "in " + std::string(low_open ? "(" : "[") + format_number(low) + ", " +
         format_number(high) + (high_open ? ")" : "]");
}

std::optional<std::string> read_text(const YAML::Node& node, SourcePos pos,
                                     const std::string& label, Diagnostics& diags) {
  return scalar_of(node, pos, "a string", label, diags);
}

void warn_if_quoted_number(const YAML::Node& node, SourcePos pos, const std::string& label,
                           Diagnostics& diags) {
  // yaml-cpp tags a quoted scalar "!" (a plain one "?"; a node a program built, "").
  if (!node.IsScalar() || node.Tag() != "!" || !parse_double(node.Scalar())) return;
  diags.warning(pos, label + " is quoted (\"" + node.Scalar() +
                         "\"): YAML reads that as text; dosim takes it as the number " +
                         node.Scalar() + ", write it without quotes");
}

std::optional<double> read_number(const YAML::Node& node, SourcePos pos, const std::string& label,
                                  Range range, Diagnostics& diags) {
  auto text = scalar_of(node, pos, "a number", label, diags);
  if (!text) return std::nullopt;
  auto value = parse_double(*text);
  // YAML's own infinities and NaN (.inf, -.Inf, .NAN) are numbers too, not finite ones: said
  // as `inf` is.
  static const char* const kYamlSpecials[] = {".inf", "+.inf", "-.inf", ".Inf", "+.Inf", "-.Inf",
                                              ".INF", "+.INF", "-.INF", ".nan", ".NaN",  ".NAN"};
  const bool special = std::any_of(std::begin(kYamlSpecials), std::end(kYamlSpecials),
                                   [&](const char* s) { return *text == s; });
  if (!value && !special) {
    diags.error(pos, "expected a number for " + label + ", got '" + *text + "'");
    return std::nullopt;
  }
  if (special || !std::isfinite(*value)) {
    diags.error(pos, "expected a finite number for " + label + ", got '" + *text + "'");
    return std::nullopt;
  }
  if (!range.contains(*value)) {
    diags.error(pos, label + " must be " + range.describe() + ", got " + *text);
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> read_integer(const YAML::Node& node, SourcePos pos,
                                         const std::string& label, Range range,
                                         Diagnostics& diags) {
  auto text = scalar_of(node, pos, "an integer", label, diags);
  if (!text) return std::nullopt;
  std::string_view digits = *text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  const bool whole = !digits.empty() && end == digits.data() + digits.size();
  // Against the bounds as integers where they are (a double rounds 1e18 + 1 to 1e18).
  const auto within = [&](std::int64_t v) {
    const auto bound = [](double b) { return std::fabs(b) <= 9e18 && b == std::floor(b); };
    if (!range.contains(static_cast<double>(v))) return false;
    if (bound(range.high) && v > static_cast<std::int64_t>(range.high)) return false;
    if (bound(range.low) && v < static_cast<std::int64_t>(range.low)) return false;
    return true;
  };
  if (whole && ec == std::errc() && within(value)) return value;
  if (whole && ec != std::errc::invalid_argument) {  // an integer, but out of range
    diags.error(pos, label + " must be " + range.describe() + ", got " + *text);
    return std::nullopt;
  }
  // Also accept integral numbers written as such ("1e3", "2.0").
  // Read digit by digit: a double rounds 123456789012345678.9 to a whole number.
  const WholeNumber number = exact_whole_number(*text);
  if (number.kind == WholeNumber::Kind::kTooLarge ||
      (number.kind == WholeNumber::Kind::kWhole && !within(number.value))) {
    diags.error(pos, label + " must be " + range.describe() + ", got " + *text);
    return std::nullopt;
  }
  if (number.kind == WholeNumber::Kind::kWhole) return number.value;
  diags.error(pos, "expected an integer for " + label + ", got '" + *text + "'");
  return std::nullopt;
}

std::optional<SimTime> read_duration(const YAML::Node& node, SourcePos pos,
                                     const std::string& label, Range range, Diagnostics& diags) {
  const std::string expected = "a duration (like 250ms, 90s, 1h30m)";
  auto text = scalar_of(node, pos, expected, label, diags);
  if (!text) return std::nullopt;
  bool too_long = false;
  auto value = parse_duration(*text, &too_long);
  if (too_long) {
    diags.error(pos, label +
                         " is longer than 36500d (100 years), the longest duration dosim "
                         "takes, got " +
                         *text);
    return std::nullopt;
  }
  std::string_view trimmed = *text;
  while (!trimmed.empty() && trimmed.front() == ' ') trimmed.remove_prefix(1);
  if (!value && !trimmed.empty() && trimmed.front() == '-' && parse_duration(trimmed.substr(1))) {
    diags.error(pos, label + " must be " + range.describe() + ", got " + *text);
    return std::nullopt;
  }
  if (!value) {
    diags.error(pos, "expected " + expected + " for " + label + ", got '" + *text + "'");
    return std::nullopt;
  }
  if (!range.contains(static_cast<double>(*value))) {
    // 0.4ns is read as 0 (time is whole nanoseconds): "must be > 0, got 0.4ns" said why not.
    const bool rounded = *value == 0 && text->find_first_of("123456789") != std::string::npos;
    diags.error(pos, label + " must be " + range.describe() + ", got " + *text +
                         (rounded ? " (under half a nanosecond: time is whole nanoseconds, "
                                    "so it reads as 0)"
                                  : ""));
    return std::nullopt;
  }
  // A bare number is seconds, a trap for latencies meant as milliseconds; 0 is 0 in any unit.
  std::string_view written = *text;
  while (!written.empty() && std::isspace(static_cast<unsigned char>(written.front())))
    written.remove_prefix(1);
  while (!written.empty() && std::isspace(static_cast<unsigned char>(written.back())))
    written.remove_suffix(1);
  if (parse_double(written) && *value != 0 && node.Tag() != kSecondsTag) {
    const std::string number(written);
    diags.warning(pos, label + " is a bare number: read as " + number + " s; write " + number +
                           "s or " + number + "ms to be explicit");
  }
  return value;
}

std::vector<MapEntry> read_entries(const YAML::Node& node, const std::string& what,
                                   Diagnostics& diags) {
  std::vector<MapEntry> entries;
  if (!node.IsMap()) {
    diags.error(pos_of(node), "expected a mapping for " + what + ", got " + describe(node));
    return entries;
  }
  std::unordered_map<std::string, std::size_t> seen;  // key -> its entry: linear in the keys
  for (const auto& pair : node) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      diags.error(pos_of(key), "keys in " + what + " must be plain names, got " + describe(key));
      continue;
    }
    const auto [first, added] = seen.emplace(key.Scalar(), entries.size());
    if (!added) {
      diags.error(pos_of(key), "duplicate key '" + key.Scalar() + "' in " + what +
                                   " (first at line " +
                                   std::to_string(entries[first->second].key_pos().line) + ")");
      continue;
    }
    entries.push_back(MapEntry{key.Scalar(), key, pair.second});
    if (pair.second.IsNull()) g_empty_values.emplace_back(pair.second, pos_of(key));
  }
  return entries;
}

MapReader::MapReader(const YAML::Node& node, std::string what,
                     std::initializer_list<std::string_view> keys, Diagnostics& diags)
    : node_(node), what_(std::move(what)), diags_(diags), is_map_(node.IsMap()) {
  entries_ = read_entries(node, what_, diags_);
  const std::vector<std::string> known(keys.begin(), keys.end());
  std::vector<MapEntry> allowed;
  std::size_t unknown = 0;
  SourcePos unnamed;  // the first unknown key not named: the count of the rest is said there
  for (MapEntry& entry : entries_) {
    if (std::find(known.begin(), known.end(), entry.key) != known.end()) {
      allowed.push_back(std::move(entry));
    } else if (++unknown > kMaxUnknownKeys) {
      if (unknown == kMaxUnknownKeys + 1) unnamed = entry.key_pos();
    } else {
      const std::string meant = closest_match(entry.key, known);
      diags_.error(entry.key_pos(), "unknown key '" + entry.key + "' in " + what_ +
                                        (meant.empty() ? "" : "; did you mean '" + meant + "'?"));
      if (!meant.empty()) suggested_.push_back(meant);
    }
  }
  if (unknown > kMaxUnknownKeys)
    diags_.error(unnamed, "and " + std::to_string(unknown - kMaxUnknownKeys) +
                              " more unknown keys in " + what_ + " from here");
  entries_ = std::move(allowed);
}

const MapEntry* MapReader::find(std::string_view key) const {
  for (const MapEntry& entry : entries_)
    if (entry.key == key) return &entry;
  return nullptr;
}

const MapEntry* MapReader::lookup(std::string_view key, Need need) {
  const MapEntry* entry = find(key);
  if (!entry && need == Need::kRequired && is_map_ &&
      std::find(suggested_.begin(), suggested_.end(), key) == suggested_.end())
    diags_.error(pos(), "missing required key '" + std::string(key) + "' in " + what_);
  return entry;
}

// A key the file does not have (a check about a default value: `tick` defaults to 1 s and
// exceeds a `duration` of 1 ms) is reported at the mapping itself.
SourcePos MapReader::key_pos(std::string_view key) const {
  const MapEntry* entry = find(key);
  return entry ? entry->key_pos() : pos();
}

SourcePos MapReader::value_pos(std::string_view key) const {
  const MapEntry* entry = find(key);
  return entry ? entry->value_pos() : pos();
}

std::optional<YAML::Node> MapReader::value(std::string_view key, Need need) {
  const MapEntry* entry = lookup(key, need);
  if (!entry) return std::nullopt;
  return entry->value;
}

std::optional<std::string> MapReader::text(std::string_view key, Need need) {
  const MapEntry* entry = lookup(key, need);
  if (!entry) return std::nullopt;
  return read_text(entry->value, entry->value_pos(), "'" + entry->key + "'", diags_);
}

std::optional<bool> yaml_boolean(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

std::string not_a_boolean(std::string_view key, std::string_view text) {
  // Appended in place: GCC 12 warns of `"'" + std::string(...)` (a -Wrestrict false positive).
  std::string message = "'";
  message.append(key).append("' must be true or false, got '").append(text).append("'");
  return message;
}

std::optional<bool> MapReader::boolean(std::string_view key, Need need) {
  const MapEntry* entry = lookup(key, need);
  if (!entry) return std::nullopt;
  const std::optional<std::string> text =
      read_text(entry->value, entry->value_pos(), "'" + entry->key + "'", diags_);
  if (!text) return std::nullopt;
  const std::optional<bool> value = yaml_boolean(*text);
  if (!value) diags_.error(entry->value_pos(), not_a_boolean(entry->key, *text));
  // "true" quoted is text to YAML (a schema refuses it), as a quoted number is.
  if (value && entry->value.Tag() == "!")
    diags_.warning(entry->value_pos(), "'" + entry->key + "' is quoted (\"" + *text +
                                           "\"): YAML reads that as text; dosim takes it as " +
                                           (*value ? "true" : "false") +
                                           ", write it without quotes");
  return value;
}

std::optional<double> MapReader::number(std::string_view key, Range range, Need need) {
  const MapEntry* entry = lookup(key, need);
  if (!entry) return std::nullopt;
  warn_if_quoted_number(entry->value, entry->value_pos(), "'" + entry->key + "'", diags_);
  return read_number(entry->value, entry->value_pos(), "'" + entry->key + "'", range, diags_);
}

std::optional<std::int64_t> MapReader::integer(std::string_view key, Range range, Need need) {
  const MapEntry* entry = lookup(key, need);
  if (!entry) return std::nullopt;
  warn_if_quoted_number(entry->value, entry->value_pos(), "'" + entry->key + "'", diags_);
  return read_integer(entry->value, entry->value_pos(), "'" + entry->key + "'", range, diags_);
}

std::optional<SimTime> MapReader::duration(std::string_view key, Range range, Need need) {
  const MapEntry* entry = lookup(key, need);
  if (!entry) return std::nullopt;
  return read_duration(entry->value, entry->value_pos(), "'" + entry->key + "'", range, diags_);
}

std::optional<double> MapReader::percent(std::string_view key, Range range, Need need) {
  auto value = number(key, range, need);
  if (!value || *value <= 0 || *value >= 1) return value;
  const std::string written = format_number(*value);
  const std::string share = *value == 0.5 ? "half" : written;
  // Rounded so that 0.07 suggests 7, not 7.000000000000001.
  const double meant = std::round(*value * 100 * 1e9) / 1e9;
  std::string message = "'";
  message.append(key).append("' is ").append(written).append(": that is ").append(share);
  message.append(" of one percent; did you mean ").append(format_number(meant)).append("?");
  diags_.warning(value_pos(key), std::move(message));
  return value;
}

std::vector<YAML::Node> MapReader::list(std::string_view key, Need need) {
  std::vector<YAML::Node> items;
  const MapEntry* entry = lookup(key, need);
  if (!entry || entry->value.IsNull()) return items;
  if (!entry->value.IsSequence()) {
    diags_.error(entry->value_pos(),
                 "expected a list for '" + entry->key + "', got " + describe(entry->value));
    return items;
  }
  for (const YAML::Node& item : entry->value) items.push_back(item);
  return items;
}

}  // namespace dosim
