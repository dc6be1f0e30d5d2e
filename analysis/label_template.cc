#include "dosim/analysis/label_template.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace dosim {
namespace {

// What an operand is, and its type in Go's terms (comparisons across types fail there).
struct Operand {
  enum class Kind { kLabel, kExternalLabel, kValue, kString, kInteger, kFloat };
  Kind kind = Kind::kString;
  std::string text;  // the label's name, or the string
  double number = 0;
  long long integer = 0;
};

enum class Type { kString, kFloat, kInteger };

Type type_of(const Operand& operand) {
  switch (operand.kind) {
    case Operand::Kind::kValue:
    case Operand::Kind::kFloat:
      return Type::kFloat;
    case Operand::Kind::kInteger:
      return Type::kInteger;
    default:
      return Type::kString;
  }
}

const char* type_name(Type type) {
  return type == Type::kString ? "a string" : type == Type::kFloat ? "a float" : "an integer";
}

// `op` empty: the truth of args[0]; else eq, ne, lt, le, gt or ge over args.
struct Condition {
  std::string op;
  std::vector<Operand> args;
};

// A token of an action: its text (a string's without quotes and escapes) and where it starts.
struct Token {
  enum class Kind { kWord, kVariable, kField, kString, kNumber, kOpen, kClose, kOther };
  Kind kind = Kind::kOther;
  std::string text;
  std::size_t offset = 0;
};

bool is_trim_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

constexpr const char* kSubset =
    " (dosim expands $labels.NAME, $value, $externalLabels.NAME, their .Labels/.Value forms, "
    "strings, numbers, if/else if/else/end with eq, ne, lt, le, gt, ge, comments and trim "
    "markers: docs/prometheus.md)";

class Parser {
 public:
  Parser(std::string_view text, LabelTemplateError& error) : text_(text), error_(error) {}

  // The nodes of the whole text; false when it is refused.
  bool parse(std::vector<LabelTemplate::Node>& nodes, bool& uses_value, bool& literal);

 private:
  // One piece of the text: text, or an action's tokens.
  struct Item {
    bool action = false;
    std::string text;
    std::vector<Token> tokens;
    std::size_t offset = 0;
  };

  bool fail(std::size_t offset, std::string message) {
    error_ = {offset, std::move(message)};
    return false;
  }
  bool split();
  bool tokenize(std::size_t begin, std::size_t end, std::vector<Token>& tokens);
  // Nodes up to an `else` or `end` (or the end of the text), which it leaves at items_[next_].
  bool parse_list(std::vector<LabelTemplate::Node>& nodes);
  bool parse_if(const Item& item, std::size_t first, LabelTemplate::Node& node);
  bool parse_condition(const std::vector<Token>& tokens, std::size_t first, std::size_t last,
                       Condition& condition);
  bool parse_operand(const Token& token, Operand& operand);

  std::string_view text_;
  LabelTemplateError& error_;
  std::vector<Item> items_;
  std::size_t next_ = 0;
  bool uses_value_ = false;
};

}  // namespace

struct LabelTemplate::Node {
  enum class Kind { kText, kPrint, kIf };
  Kind kind = Kind::kText;
  std::string text;
  Operand operand;
  std::vector<std::pair<Condition, std::vector<Node>>> branches;  // if, else if ...
  std::vector<Node> otherwise;
};

namespace {

bool Parser::parse(std::vector<LabelTemplate::Node>& nodes, bool& uses_value, bool& literal) {
  if (!split()) return false;
  literal = text_.find("{{") == std::string_view::npos;
  if (!parse_list(nodes)) return false;
  if (next_ < items_.size()) {
    const Item& item = items_[next_];
    return fail(item.offset, "'{{ " + item.tokens[0].text + " }}' without an '{{ if }}'");
  }
  uses_value = uses_value_;
  return true;
}

// The text as text and actions, comments dropped, trim markers applied (Go's lexer).
bool Parser::split() {
  constexpr std::string_view kSpaces = " \t\r\n";
  std::size_t at = 0;
  bool trim_next = false;  // the previous action ended with " -}}"
  while (true) {
    const std::size_t open = text_.find("{{", at);
    std::string_view text =
        text_.substr(at, open == std::string_view::npos ? text_.npos : open - at);
    if (trim_next) text.remove_prefix(std::min(text.find_first_not_of(kSpaces), text.size()));
    std::size_t begin = open == std::string_view::npos ? text_.size() : open + 2;
    const bool trim_left =
        begin + 1 < text_.size() && text_[begin] == '-' && is_trim_space(text_[begin + 1]);
    if (trim_left) {
      const std::size_t keep = text.find_last_not_of(kSpaces);
      text = text.substr(0, keep == std::string_view::npos ? 0 : keep + 1);
      begin += 2;
    }
    if (!text.empty()) items_.push_back({false, std::string(text), {}, at});
    if (open == std::string_view::npos) return true;
    // The action's end: "}}" or " -}}", outside strings; a comment ends right after "*/".
    std::size_t end = begin;
    const bool comment = text_.compare(begin, 2, "/*") == 0;
    if (comment) {
      const std::size_t close = text_.find("*/", begin + 2);
      if (close == std::string_view::npos) return fail(open, "an unclosed comment");
      end = close + 2;
      if (text_.compare(end, 2, "}}") != 0 && text_.compare(end, 4, " -}}") != 0)
        return fail(open, "a comment must end its action ('*/}}')");
    } else {
      char quote = 0;
      for (; end < text_.size(); ++end) {
        const char c = text_[end];
        if (quote) {
          if (c == '\\' && quote == '"')
            ++end;
          else if (c == quote)
            quote = 0;
        } else if (c == '"' || c == '`') {
          quote = c;
        } else if (text_.compare(end, 2, "}}") == 0 ||
                   (is_trim_space(c) && text_.compare(end + 1, 3, "-}}") == 0)) {
          break;
        }
      }
      if (end >= text_.size()) return fail(open, "an unclosed action: '{{' without '}}'");
    }
    trim_next = text_.compare(end, 2, "}}") != 0;
    if (!comment) {
      Item item{true, "", {}, open};
      if (!tokenize(begin, end, item.tokens)) return false;
      if (item.tokens.empty()) return fail(open, "an empty action '{{ }}'");
      items_.push_back(std::move(item));
    }
    at = end + (trim_next ? 4 : 2);
  }
}

bool Parser::tokenize(std::size_t begin, std::size_t end, std::vector<Token>& tokens) {
  std::size_t at = begin;
  while (at < end) {
    const char c = text_[at];
    if (is_trim_space(c)) {
      ++at;
      continue;
    }
    Token token;
    token.offset = at;
    if (c == '(' || c == ')') {
      token.kind = c == '(' ? Token::Kind::kOpen : Token::Kind::kClose;
      token.text = std::string(1, c);
      ++at;
    } else if (c == '"') {
      token.kind = Token::Kind::kString;
      ++at;
      for (; at < end && text_[at] != '"'; ++at) {
        if (text_[at] != '\\') {
          token.text += text_[at];
          continue;
        }
        if (++at >= end) break;
        switch (text_[at]) {
          case 'n':
            token.text += '\n';
            break;
          case 't':
            token.text += '\t';
            break;
          case 'r':
            token.text += '\r';
            break;
          case '\\':
          case '"':
            token.text += text_[at];
            break;
          default:
            return fail(at - 1,
                        std::string("the escape '\\") + text_[at] + "' in a string" + kSubset);
        }
      }
      if (at >= end) return fail(token.offset, "an unterminated string");
      ++at;
    } else if (c == '`') {
      token.kind = Token::Kind::kString;
      const std::size_t close = text_.find('`', at + 1);
      if (close == std::string_view::npos || close >= end)
        return fail(at, "an unterminated raw string");
      token.text = std::string(text_.substr(at + 1, close - at - 1));
      at = close + 1;
    } else if (is_digit(c) ||
               ((c == '-' || c == '+' || c == '.') && at + 1 < end &&
                (is_digit(text_[at + 1]) ||
                 (c != '.' && text_[at + 1] == '.' && at + 2 < end && is_digit(text_[at + 2]))))) {
      token.kind = Token::Kind::kNumber;
      std::size_t stop = at + 1;
      while (stop < end && (is_word_char(text_[stop]) || text_[stop] == '.' ||
                            ((text_[stop] == '+' || text_[stop] == '-') &&
                             (text_[stop - 1] == 'e' || text_[stop - 1] == 'E'))))
        ++stop;
      token.text = std::string(text_.substr(at, stop - at));
      at = stop;
    } else if (c == '$' || c == '.') {
      // A variable or field with its chain of fields: $labels.callee, .Labels.callee.
      token.kind = c == '$' ? Token::Kind::kVariable : Token::Kind::kField;
      std::size_t stop = at + 1;
      while (stop < end && (is_word_char(text_[stop]) || text_[stop] == '.')) ++stop;
      token.text = std::string(text_.substr(at, stop - at));
      at = stop;
    } else if (is_word_start(c)) {
      token.kind = Token::Kind::kWord;
      std::size_t stop = at + 1;
      while (stop < end && is_word_char(text_[stop])) ++stop;
      token.text = std::string(text_.substr(at, stop - at));
      at = stop;
    } else {  // punctuation outside the subset: | , := = ...
      const std::size_t length = text_.compare(at, 2, ":=") == 0 ? 2 : 1;
      token.text = std::string(text_.substr(at, length));
      at += length;
    }
    tokens.push_back(std::move(token));
  }
  return true;
}

bool is_comparison(const std::string& word) {
  return word == "eq" || word == "ne" || word == "lt" || word == "le" || word == "gt" ||
         word == "ge";
}

bool Parser::parse_list(std::vector<LabelTemplate::Node>& nodes) {
  while (next_ < items_.size()) {
    const Item& item = items_[next_];
    if (!item.action) {
      nodes.push_back({LabelTemplate::Node::Kind::kText, item.text, {}, {}, {}});
      ++next_;
      continue;
    }
    const Token& first = item.tokens[0];
    if (first.kind == Token::Kind::kWord && (first.text == "else" || first.text == "end"))
      return true;  // the caller's
    ++next_;
    if (first.kind == Token::Kind::kWord && first.text == "if") {
      LabelTemplate::Node node;
      node.kind = LabelTemplate::Node::Kind::kIf;
      if (!parse_if(item, 1, node)) return false;
      nodes.push_back(std::move(node));
      continue;
    }
    LabelTemplate::Node node;
    node.kind = LabelTemplate::Node::Kind::kPrint;
    if (item.tokens.size() != 1) {
      for (const Token& token : item.tokens) {
        if (token.text == "|")
          return fail(token.offset, std::string("a pipeline ('|') is outside the subset of Go ") +
                                        "templates dosim expands" + kSubset);
        if (token.text == ":=" || token.text == "=")
          return fail(token.offset, std::string("a template variable ('") + token.text +
                                        "') is outside the subset of Go templates dosim " +
                                        "expands" + kSubset);
      }
      if (first.kind == Token::Kind::kWord)
        return fail(first.offset,
                    "'" + first.text + "'" + (is_comparison(first.text) ? " outside an 'if'" : "") +
                        " is outside the subset of Go templates dosim expands" + kSubset);
      return fail(item.tokens[1].offset, "'" + item.tokens[1].text +
                                             "' here: dosim prints one value per action" + kSubset);
    }
    if (!parse_operand(first, node.operand)) return false;
    nodes.push_back(std::move(node));
  }
  return true;
}

// `{{ if C }}` (its tokens from `first`), its branches and its `{{ end }}`.
bool Parser::parse_if(const Item& item, std::size_t first, LabelTemplate::Node& node) {
  const std::size_t opened = item.offset;
  const Item* head = &item;
  std::size_t from = first;
  while (true) {
    Condition condition;
    if (from >= head->tokens.size()) return fail(head->offset, "'if' without a condition");
    if (!parse_condition(head->tokens, from, head->tokens.size(), condition)) return false;
    node.branches.emplace_back(std::move(condition), std::vector<LabelTemplate::Node>{});
    if (!parse_list(node.branches.back().second)) return false;
    if (next_ >= items_.size()) return fail(opened, "'{{ if }}' without its '{{ end }}'");
    const Item& stop = items_[next_++];
    if (stop.tokens[0].text == "end") {
      if (stop.tokens.size() > 1)
        return fail(stop.tokens[1].offset, "'end' takes nothing after it");
      return true;
    }
    // else, or else if
    if (stop.tokens.size() > 1) {
      if (stop.tokens[1].kind != Token::Kind::kWord || stop.tokens[1].text != "if")
        return fail(stop.tokens[1].offset,
                    "'else' takes nothing after it but 'if'" + std::string(kSubset));
      head = &stop;
      from = 2;
      continue;
    }
    if (!parse_list(node.otherwise)) return false;
    if (next_ >= items_.size()) return fail(opened, "'{{ if }}' without its '{{ end }}'");
    const Item& end = items_[next_++];
    if (end.tokens[0].text != "end")
      return fail(end.offset, "a second '{{ else }}' in one '{{ if }}'");
    if (end.tokens.size() > 1) return fail(end.tokens[1].offset, "'end' takes nothing after it");
    return true;
  }
}

bool Parser::parse_condition(const std::vector<Token>& tokens, std::size_t first, std::size_t last,
                             Condition& condition) {
  if (last - first >= 2 && tokens[first].kind == Token::Kind::kOpen &&
      tokens[last - 1].kind == Token::Kind::kClose)
    return parse_condition(tokens, first + 1, last - 1, condition);
  const Token& head = tokens[first];
  if (head.kind == Token::Kind::kWord && is_comparison(head.text)) {
    condition.op = head.text;
    for (std::size_t k = first + 1; k < last; ++k) {
      Operand operand;
      if (tokens[k].kind == Token::Kind::kOpen || tokens[k].kind == Token::Kind::kClose)
        return fail(tokens[k].offset, "a nested expression in '" + head.text + "'" + kSubset);
      if (!parse_operand(tokens[k], operand)) return false;
      condition.args.push_back(std::move(operand));
    }
    const std::size_t count = condition.args.size();
    if (count < 2 || (head.text != "eq" && count != 2))
      return fail(head.offset,
                  "'" + head.text + "' compares " +
                      (head.text == "eq" ? "a value with one or more others" : "two values") +
                      ", got " + std::to_string(count));
    const Type type = type_of(condition.args[0]);
    for (std::size_t k = 1; k < count; ++k)
      if (type_of(condition.args[k]) != type) {
        const Token& at = tokens[first + 1 + k];
        std::string hint;
        if (type == Type::kFloat && type_of(condition.args[k]) == Type::kInteger)
          hint = "; write " + at.text + ".0";
        else if (type == Type::kInteger && type_of(condition.args[k]) == Type::kFloat)
          hint = "; write " + tokens[first + 1].text + ".0";
        return fail(at.offset, "'" + head.text + "' compares " + type_name(type) + " with " +
                                   type_name(type_of(condition.args[k])) + " ('" + at.text +
                                   "'), which Prometheus's templates refuse (incompatible " +
                                   "types for comparison)" + hint);
      }
    return true;
  }
  if (last - first != 1) {
    const Token& at = head.kind == Token::Kind::kWord ? head : tokens[first + 1];
    return fail(at.offset, "'" + at.text + "' in a condition is outside the subset" + kSubset);
  }
  Operand operand;
  if (!parse_operand(head, operand)) return false;
  condition.args.push_back(std::move(operand));
  return true;
}

bool Parser::parse_operand(const Token& token, Operand& operand) {
  const auto outside = [&] {
    return fail(token.offset, "'" + token.text + "' is outside the subset of Go templates " +
                                  "dosim expands" + kSubset);
  };
  switch (token.kind) {
    case Token::Kind::kString:
      operand.kind = Operand::Kind::kString;
      operand.text = token.text;
      return true;
    case Token::Kind::kNumber: {
      const std::string& text = token.text;
      if (text.find_first_of("xXoObB_") != std::string::npos) return outside();
      const bool is_float = text.find_first_of(".eE") != std::string::npos;
      char* stop = nullptr;
      if (is_float) {
        operand.kind = Operand::Kind::kFloat;
        operand.number = std::strtod(text.c_str(), &stop);
      } else {
        operand.kind = Operand::Kind::kInteger;
        errno = 0;
        operand.integer = std::strtoll(text.c_str(), &stop, 10);
        if (errno != 0) return fail(token.offset, "the integer '" + text + "' is too large");
      }
      if (stop != text.c_str() + text.size())
        return fail(token.offset, "'" + text + "' is not a number");
      return true;
    }
    case Token::Kind::kVariable:
    case Token::Kind::kField: {
      // $labels.NAME / .Labels.NAME, $externalLabels.NAME / .ExternalLabels.NAME,
      // $value / .Value.
      const bool variable = token.kind == Token::Kind::kVariable;
      const std::string& text = token.text;
      const std::size_t dot = text.find('.', 1);
      const std::string base = text.substr(0, dot);
      const std::string rest = dot == std::string::npos ? "" : text.substr(dot + 1);
      if (base == (variable ? "$value" : ".Value")) {
        if (!rest.empty()) return outside();
        operand.kind = Operand::Kind::kValue;
        uses_value_ = true;
        return true;
      }
      const bool labels = base == (variable ? "$labels" : ".Labels");
      const bool external = base == (variable ? "$externalLabels" : ".ExternalLabels");
      if (!labels && !external) return outside();
      if (rest.empty() || rest.find('.') != std::string::npos || !is_word_start(rest[0]))
        return fail(token.offset,
                    "'" + text + "': name one label, as in " + base + ".service" + kSubset);
      operand.kind = labels ? Operand::Kind::kLabel : Operand::Kind::kExternalLabel;
      operand.text = rest;
      return true;
    }
    default:
      return outside();
  }
}

std::string label_value(const RuleLabels& labels, const std::string& name) {
  for (const auto& [key, value] : labels)
    if (key == name) return value;
  return "";
}

struct Expander {
  const RuleLabels& labels;
  double value;

  std::string text_of(const Operand& operand) const {
    switch (operand.kind) {
      case Operand::Kind::kLabel:
        return label_value(labels, operand.text);
      case Operand::Kind::kExternalLabel:
        return "";
      case Operand::Kind::kValue:
        return go_float_text(value);
      case Operand::Kind::kString:
        return operand.text;
      case Operand::Kind::kInteger:
        return std::to_string(operand.integer);
      case Operand::Kind::kFloat:
        return go_float_text(operand.number);
    }
    return "";
  }
  double number_of(const Operand& operand) const {
    return operand.kind == Operand::Kind::kValue ? value : operand.number;
  }
  // Go's truth: a non-empty string, a non-zero number.
  bool truth(const Operand& operand) const {
    switch (type_of(operand)) {
      case Type::kString:
        return !text_of(operand).empty();
      case Type::kFloat:
        return number_of(operand) != 0;
      case Type::kInteger:
        return operand.integer != 0;
    }
    return false;
  }
  // Go's comparisons: lt and eq, le is "lt or eq", gt "not le", ge "not lt", ne "not eq"
  // (so a NaN $value is gt and ge anything, and lt, le and eq nothing).
  bool holds(const std::string& op, const Operand& a, const Operand& b) const {
    bool less = false, equal = false;
    if (type_of(a) == Type::kString) {
      const int order = text_of(a).compare(text_of(b));
      less = order < 0;
      equal = order == 0;
    } else if (type_of(a) == Type::kInteger) {
      less = a.integer < b.integer;
      equal = a.integer == b.integer;
    } else {
      less = number_of(a) < number_of(b);
      equal = number_of(a) == number_of(b);
    }
    if (op == "eq") return equal;
    if (op == "ne") return !equal;
    if (op == "lt") return less;
    if (op == "le") return less || equal;
    if (op == "gt") return !(less || equal);
    return !less;  // ge
  }
  bool holds(const Condition& condition) const {
    if (condition.op.empty()) return truth(condition.args[0]);
    if (condition.op == "eq") {
      for (std::size_t k = 1; k < condition.args.size(); ++k)
        if (holds("eq", condition.args[0], condition.args[k])) return true;
      return false;
    }
    return holds(condition.op, condition.args[0], condition.args[1]);
  }
  void expand(const std::vector<LabelTemplate::Node>& nodes, std::string& out) const {
    for (const LabelTemplate::Node& node : nodes) {
      switch (node.kind) {
        case LabelTemplate::Node::Kind::kText:
          out += node.text;
          break;
        case LabelTemplate::Node::Kind::kPrint:
          out += text_of(node.operand);
          break;
        case LabelTemplate::Node::Kind::kIf: {
          const std::vector<LabelTemplate::Node>* taken = &node.otherwise;
          for (const auto& [condition, body] : node.branches)
            if (holds(condition)) {
              taken = &body;
              break;
            }
          expand(*taken, out);
          break;
        }
      }
    }
  }
};

}  // namespace

std::optional<LabelTemplate> LabelTemplate::parse(std::string_view text,
                                                  LabelTemplateError& error) {
  LabelTemplate parsed;
  parsed.text_ = std::string(text);
  auto nodes = std::make_shared<std::vector<Node>>();
  Parser parser(text, error);
  if (!parser.parse(*nodes, parsed.uses_value_, parsed.literal_)) return std::nullopt;
  parsed.nodes_ = std::move(nodes);
  return parsed;
}

std::string LabelTemplate::expand(const RuleLabels& series, double value) const {
  if (literal_ || !nodes_) return text_;
  std::string out;
  Expander{series, value}.expand(*nodes_, out);
  return out;
}

std::string go_float_text(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == 0) return std::signbit(value) ? "-0" : "0";
  char buffer[64];
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  std::string scientific(buffer, result.ptr);  // shortest digits: "-1.234567e+06"
  std::string out;
  if (scientific[0] == '-') {
    out = "-";
    scientific.erase(0, 1);
  }
  const std::size_t e = scientific.find('e');
  const int exponent = std::atoi(scientific.c_str() + e + 1);
  std::string digits;
  for (std::size_t k = 0; k < e; ++k)
    if (scientific[k] != '.') digits += scientific[k];
  const int count = static_cast<int>(digits.size());
  if (exponent < -4 || exponent >= 6) {  // Go's %g with the shortest digits
    out += digits[0];
    if (count > 1) out += "." + digits.substr(1);
    const int magnitude = std::abs(exponent);
    out += exponent < 0 ? "e-" : "e+";
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
    return out;
  }
  const int point = exponent + 1;  // digits before the decimal point
  if (point <= 0) return out + "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  if (point >= count)
    return out + digits + std::string(static_cast<std::size_t>(point - count), '0');
  return out + digits.substr(0, static_cast<std::size_t>(point)) + "." +
         digits.substr(static_cast<std::size_t>(point));
}

}  // namespace dosim
