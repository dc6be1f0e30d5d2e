#include "util/alertmanager_syntax.h"

#include <re2/re2.h>

#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

namespace dosim {

std::optional<std::string> alertmanager_matcher_value(std::string_view raw, std::string& why) {
  const std::string written(raw);
  bool expect_quote = false;
  if (!raw.empty() && raw.front() == '"') {
    raw.remove_prefix(1);
    expect_quote = true;
  }
  const auto unescaped_quote = [&]() -> std::optional<std::string> {
    why = "matcher value contains unescaped double quote: " + written;
    return std::nullopt;
  };
  std::string value;
  for (std::size_t k = 0; k < raw.size(); ++k) {
    const char c = raw[k];
    if (c == '\\' && k + 1 < raw.size()) {
      const char escaped = raw[++k];
      if (escaped == 'n')
        value += '\n';
      else if (escaped == '"' || escaped == '\\')
        value += escaped;
      else
        value +=
            std::string("\\") + escaped;  // a spurious escape is kept, as Alertmanager keeps it
    } else if (c == '"') {
      if (!expect_quote || k + 1 < raw.size()) return unescaped_quote();
      expect_quote = false;
    } else {
      value += c;
    }
  }
  if (expect_quote) return unescaped_quote();
  return value;
}

namespace {

struct Flags {
  bool fold = false;       // i
  bool dot_nl = false;     // s
  bool multiline = false;  // m
  bool ungreedy = false;   // U
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

std::string hex_byte(unsigned char c) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "\\x%02X", c);
  return buffer;
}

// A byte inside an ECMAScript class, escaped where it could mean something there.
std::string class_char(unsigned char c) {
  return is_alnum(static_cast<char>(c)) ? std::string(1, static_cast<char>(c)) : hex_byte(c);
}

std::string utf8(std::uint32_t rune) {
  std::string out;
  if (rune < 0x80) {
    out += static_cast<char>(rune);
  } else if (rune < 0x800) {
    out += static_cast<char>(0xC0 | (rune >> 6));
    out += static_cast<char>(0x80 | (rune & 0x3F));
  } else if (rune < 0x10000) {
    out += static_cast<char>(0xE0 | (rune >> 12));
    out += static_cast<char>(0x80 | ((rune >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (rune & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (rune >> 18));
    out += static_cast<char>(0x80 | ((rune >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((rune >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (rune & 0x3F));
  }
  return out;
}

// The POSIX classes Go knows ([[:alpha:]]), as ASCII ranges.
const char* posix_class(std::string_view name) {
  static const std::pair<const char*, const char*> kClasses[] = {{"alnum", "09AZaz"},
                                                                 {"alpha", "AZaz"},
                                                                 {"ascii", "\x01\x7F"},
                                                                 {"blank", "\t\t  "},
                                                                 {"cntrl", "\x01\x1F\x7F\x7F"},
                                                                 {"digit", "09"},
                                                                 {"graph", "!~"},
                                                                 {"lower", "az"},
                                                                 {"print", " ~"},
                                                                 {"punct", "!/:@[`{~"},
                                                                 {"space", "\t\r  "},
                                                                 {"upper", "AZ"},
                                                                 {"word", "09AZaz__"},
                                                                 {"xdigit", "09AFaf"}};
  for (const auto& [n, ranges] : kClasses)
    if (name == n) return ranges;
  return nullptr;
}

class Translator {
 public:
  explicit Translator(std::string_view pattern) : p_(pattern) {}

  // Whether the pattern stopped at what Go accepts but the translation has no ECMAScript for
  // (a Unicode class, ...): no refusal of Go's.
  bool only_untranslated() const { return only_untranslated_; }

  std::optional<std::string> run(std::string& why) {
    while (i_ < p_.size()) {
      if (!step()) {
        why = why_;
        return std::nullopt;
      }
    }
    if (!open_.empty()) {
      why = "missing closing ): `" + std::string(p_) + "`";
      return std::nullopt;
    }
    return out_;
  }

 private:
  struct Open {
    Flags flags;  // at the group's start: restored at its end
  };

  std::string_view p_;
  std::size_t i_ = 0;
  std::string out_;
  std::string why_;
  Flags flags_;
  std::vector<Open> open_;
  bool operand_ = false;  // something a repetition operator can repeat precedes
  std::size_t last_repeat_ = std::string::npos;  // where the operator just before began
  bool consumed_ = false;                        // an atom that consumes input was written
  bool only_untranslated_ = false;               // stopped by unsupported(), not by Go's rules

  bool fail(std::string why) {
    why_ = std::move(why);
    return false;
  }
  bool unsupported(const std::string& what) {
    only_untranslated_ = true;
    return fail(what + " is not supported by dosim (Go's RE2 accepts it)");
  }
  std::string text(std::size_t from, std::size_t to) const {
    return std::string(p_.substr(from, to - from));
  }

  void atom(const std::string& ecmascript) {
    out_ += ecmascript;
    operand_ = true;
    consumed_ = true;
  }
  // An assertion, grouped: Go lets a repetition operator follow one (^*), ECMAScript a group.
  void zero_width(const std::string& ecmascript) {
    out_ += "(?:" + ecmascript + ")";
    operand_ = true;
  }

  // One literal character (a byte of ASCII, or a UTF-8 sequence kept whole).
  void literal(std::uint32_t rune) {
    if (rune < 0x80) {
      const char c = static_cast<char>(rune);
      const bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
      if (flags_.fold && (upper || lower)) {
        const char other = static_cast<char>(upper ? c + 32 : c - 32);
        atom(std::string("[") + c + other + "]");
      } else if (is_alnum(c) || c == '_' || c == ' ') {
        atom(std::string(1, c));
      } else {
        atom(hex_byte(static_cast<unsigned char>(c)));
      }
      return;
    }
    atom("(?:" + utf8(rune) + ")");
  }

  // The rune at i_ (UTF-8), advancing past it.
  std::uint32_t next_rune() {
    const unsigned char c = static_cast<unsigned char>(p_[i_]);
    std::size_t length = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i_ + length > p_.size()) length = p_.size() - i_;
    std::uint32_t rune = length == 1   ? c
                         : length == 2 ? (c & 0x1F)
                         : length == 3 ? (c & 0x0F)
                                       : (c & 0x07);
    for (std::size_t k = 1; k < length; ++k)
      rune = (rune << 6) | (static_cast<unsigned char>(p_[i_ + k]) & 0x3F);
    i_ += length;
    return rune;
  }

  bool step() {
    const std::size_t start = i_;
    const char c = p_[i_];
    std::size_t repeat_before = last_repeat_;
    last_repeat_ = std::string::npos;
    switch (c) {
      case '(':
        return open_group();
      case '|':
        ++i_;
        out_ += '|';
        operand_ = false;
        return true;
      case ')':
        ++i_;
        if (open_.empty()) return fail("unexpected ): `" + std::string(p_) + "`");
        flags_ = open_.back().flags;
        open_.pop_back();
        out_ += ')';
        operand_ = true;
        return true;
      case '^':
        ++i_;
        if (flags_.multiline && consumed_)
          return unsupported("'^' after the start of the expression in (?m) mode");
        zero_width("^");
        return true;
      case '$':
        ++i_;
        zero_width(flags_.multiline ? "(?=\\n|$)" : "$");
        return true;
      case '.':
        ++i_;
        atom(flags_.dot_nl ? "[\\s\\S]" : "[^\\n]");
        return true;
      case '[':
        return char_class();
      case '*':
      case '+':
      case '?': {
        ++i_;
        return repeat(start, repeat_before, std::string(1, c));
      }
      case '{': {
        int min = -1, max = -1;
        std::size_t end = i_;
        if (!parse_repeat(end, min, max)) {  // not a repetition: a literal {
          ++i_;
          literal('{');
          return true;
        }
        i_ = end;
        if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max))
          return fail("invalid repeat count: `" + text(start, end) + "`");
        std::string op = "{" + std::to_string(min);
        if (max != min) op += max < 0 ? "," : "," + std::to_string(max);
        return repeat(start, repeat_before, op + "}");
      }
      case '\\':
        return escape();
      default:
        literal(next_rune());
        return true;
    }
  }

  bool repeat(std::size_t start, std::size_t repeat_before, const std::string& op) {
    bool lazy = flags_.ungreedy;
    if (i_ < p_.size() && p_[i_] == '?') {
      ++i_;
      lazy = !lazy;
    }
    if (repeat_before != std::string::npos)
      return fail("invalid nested repetition operator: `" + text(repeat_before, i_) + "`");
    if (!operand_)
      return fail("missing argument to repetition operator: `" + text(start, i_) + "`");
    out_ += op;
    if (lazy) out_ += '?';
    last_repeat_ = start;
    return true;
  }

  // {n}, {n,} or {n,m} at `end` (at its {), as Go reads one: digits without a leading zero.
  bool parse_repeat(std::size_t& end, int& min, int& max) const {
    std::size_t k = end + 1;
    const auto number = [&](int& n) {
      const std::size_t from = k;
      while (k < p_.size() && is_digit(p_[k])) ++k;
      if (k == from || (k - from >= 2 && p_[from] == '0')) return false;
      n = k - from > 8 ? 100000000 : std::stoi(std::string(p_.substr(from, k - from)));
      return true;
    };
    if (!number(min)) return false;
    if (k < p_.size() && p_[k] == ',') {
      ++k;
      if (k < p_.size() && p_[k] == '}')
        max = -1;
      else if (!number(max))
        return false;
    } else {
      max = min;
    }
    if (k >= p_.size() || p_[k] != '}') return false;
    end = k + 1;
    return true;
  }

  bool open_group() {
    const std::size_t start = i_;
    ++i_;
    if (i_ >= p_.size() || p_[i_] != '?') {
      open_.push_back({flags_});
      out_ += '(';
      operand_ = false;
      return true;
    }
    ++i_;
    if (p_.substr(i_).starts_with("P<")) {  // (?P<name>re): a capture, named
      const std::size_t close = p_.find('>', i_);
      if (close == std::string_view::npos)
        return fail("invalid named capture: `" + text(start, p_.size()) + "`");
      const std::string_view name = p_.substr(i_ + 2, close - i_ - 2);
      bool valid = !name.empty();
      for (char n : name) valid = valid && is_word(n);
      if (!valid) return fail("invalid named capture: `" + text(start, close + 1) + "`");
      i_ = close + 1;
      open_.push_back({flags_});
      out_ += '(';
      operand_ = false;
      return true;
    }
    // Flags: (?flags) or (?flags:re), flags [imsU]* with at most one '-'.
    Flags flags = flags_;
    bool negated = false, saw_flag = false;
    while (i_ < p_.size()) {
      const char f = p_[i_++];
      bool* target = f == 'i'   ? &flags.fold
                     : f == 's' ? &flags.dot_nl
                     : f == 'm' ? &flags.multiline
                     : f == 'U' ? &flags.ungreedy
                                : nullptr;
      if (target) {
        *target = !negated;
        saw_flag = true;
        continue;
      }
      if (f == '-' && !negated) {
        negated = true;
        saw_flag = false;
        continue;
      }
      if ((f == ':' || f == ')') && !(negated && !saw_flag)) {
        if (f == ':') {
          open_.push_back({flags_});
          out_ += "(?:";
          operand_ = false;
        }
        flags_ = flags;
        return true;
      }
      break;
    }
    return fail("invalid or unsupported Perl syntax: `" + text(start, i_) + "`");
  }

  // The escape at i_ (its backslash) that stands for one character, Go's parseEscape:
  // nullopt (with why_ set) when it is not one.
  std::optional<std::uint32_t> single_escape() {
    const std::size_t start = i_;
    ++i_;
    if (i_ >= p_.size()) {
      fail("trailing backslash at end of expression: ``");
      return std::nullopt;
    }
    const char c = p_[i_];
    const auto invalid = [&]() -> std::optional<std::uint32_t> {
      if (i_ < p_.size()) next_rune();
      fail("invalid escape sequence: `" + text(start, i_) + "`");
      return std::nullopt;
    };
    if (c >= '1' && c <= '7' && !(i_ + 1 < p_.size() && p_[i_ + 1] >= '0' && p_[i_ + 1] <= '7'))
      return invalid();  // \1 to \7 alone: a backreference
    if (c >= '0' && c <= '7') {
      std::uint32_t value = 0;
      for (int digits = 0; digits < 3 && i_ < p_.size() && p_[i_] >= '0' && p_[i_] <= '7'; ++digits)
        value = value * 8 + static_cast<std::uint32_t>(p_[i_++] - '0');
      return value;
    }
    if (c == 'x') {
      ++i_;
      const auto hex = [](char h) {
        return is_digit(h)              ? h - '0'
               : (h >= 'a' && h <= 'f') ? h - 'a' + 10
               : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                        : -1;
      };
      if (i_ < p_.size() && p_[i_] == '{') {
        ++i_;
        std::uint32_t value = 0;
        int digits = 0;
        while (i_ < p_.size() && hex(p_[i_]) >= 0) {
          value = value * 16 + static_cast<std::uint32_t>(hex(p_[i_++]));
          if (value > 0x10FFFF) return invalid();
          ++digits;
        }
        if (digits == 0 || i_ >= p_.size() || p_[i_] != '}') return invalid();
        ++i_;
        return value;
      }
      if (i_ + 1 < p_.size() && hex(p_[i_]) >= 0 && hex(p_[i_ + 1]) >= 0) {
        const std::uint32_t value = static_cast<std::uint32_t>(hex(p_[i_]) * 16 + hex(p_[i_ + 1]));
        i_ += 2;
        return value;
      }
      return invalid();
    }
    const char* named = "a\af\fn\nr\rt\tv\v";
    for (const char* n = named; *n; n += 2)
      if (c == n[0]) {
        ++i_;
        return static_cast<unsigned char>(n[1]);
      }
    if (static_cast<unsigned char>(c) < 0x80 && !is_alnum(c)) {
      ++i_;
      return static_cast<unsigned char>(c);
    }
    return invalid();
  }

  bool escape() {
    const std::size_t start = i_;
    if (i_ + 1 < p_.size()) {
      const char c = p_[i_ + 1];
      switch (c) {
        case 'A':
          i_ += 2;
          zero_width("^");
          return true;
        case 'z':
          i_ += 2;
          zero_width("$");
          return true;
        case 'b':
        case 'B':
          i_ += 2;
          zero_width(std::string("\\") + c);
          return true;
        case 'Q': {  // literal text up to \E
          i_ += 2;
          std::size_t end = p_.find("\\E", i_);
          if (end == std::string_view::npos) end = p_.size();
          while (i_ < end) literal(next_rune());
          if (i_ < p_.size()) i_ += 2;
          return true;
        }
        case 'd':
          i_ += 2;
          atom("[0-9]");
          return true;
        case 'D':
          i_ += 2;
          atom("[^0-9]");
          return true;
        case 'w':
          i_ += 2;
          atom("[0-9A-Za-z_]");
          return true;
        case 'W':
          i_ += 2;
          atom("[^0-9A-Za-z_]");
          return true;
        case 's':
          i_ += 2;
          atom("[\\t\\n\\f\\r ]");
          return true;
        case 'S':
          i_ += 2;
          atom("[^\\t\\n\\f\\r ]");
          return true;
        case 'p':
        case 'P':
          return unsupported("the Unicode class `" + text(start, std::min(p_.size(), i_ + 3)) +
                             "`");
        default:
          break;
      }
    }
    const auto rune = single_escape();
    if (!rune) return false;
    literal(*rune);
    return true;
  }

  // [...]: as ECMAScript ranges of ASCII bytes (\d, \w, \s spelled out), folded under (?i).
  bool char_class() {
    const std::size_t start = i_;
    ++i_;
    bool negated = false;
    if (i_ < p_.size() && p_[i_] == '^') {
      negated = true;
      ++i_;
    }
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
    std::string extra;  // \D, \W, \S inside a class: ECMAScript's own
    bool first = true;
    const auto missing = [&] {
      return fail("missing closing ]: `" + text(start, p_.size()) + "`");
    };
    while (true) {
      if (i_ >= p_.size()) return missing();
      if (p_[i_] == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      // [:name:] and [:^name:]
      if (p_[i_] == '[' && i_ + 1 < p_.size() && p_[i_ + 1] == ':') {
        const std::size_t close = p_.find(":]", i_ + 2);
        if (close != std::string_view::npos) {
          std::string_view name = p_.substr(i_ + 2, close - i_ - 2);
          const bool not_in = !name.empty() && name.front() == '^';
          if (not_in) name.remove_prefix(1);
          const char* posix = posix_class(name);
          if (!posix) return fail("invalid character class range: `" + text(i_, close + 2) + "`");
          if (not_in) return unsupported("the negated class `" + text(i_, close + 2) + "`");
          for (const char* r = posix; *r; r += 2)
            ranges.emplace_back(static_cast<unsigned char>(r[0]), static_cast<unsigned char>(r[1]));
          if (name == "ascii") ranges.emplace_back(0, 0);
          i_ = close + 2;
          continue;
        }
      }
      // \d \w \s and their negations
      if (p_[i_] == '\\' && i_ + 1 < p_.size()) {
        const char e = p_[i_ + 1];
        if (e == 'd' || e == 'w' || e == 's') {
          const char* r = e == 'd' ? "09" : e == 'w' ? "09AZaz__" : "\t\n\f\f\r\r  ";
          for (; *r; r += 2)
            ranges.emplace_back(static_cast<unsigned char>(r[0]), static_cast<unsigned char>(r[1]));
          i_ += 2;
          continue;
        }
        if (e == 'D' || e == 'W' || e == 'S') {
          extra += std::string("\\") + e;
          i_ += 2;
          continue;
        }
        if (e == 'p' || e == 'P')
          return unsupported("the Unicode class `" + text(i_, std::min(p_.size(), i_ + 3)) + "`");
      }
      const std::size_t item = i_;
      const auto lo = class_char_at();
      if (!lo) return false;
      std::uint32_t hi = *lo;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        const auto end = class_char_at();
        if (!end) return false;
        hi = *end;
        if (hi < *lo) return fail("invalid character class range: `" + text(item, i_) + "`");
      }
      if (hi >= 0x80)
        return unsupported("a non-ASCII character in a class (`" + text(item, i_) + "`)");
      ranges.emplace_back(*lo, hi);
    }
    if (flags_.fold) {
      const std::size_t n = ranges.size();
      for (std::size_t k = 0; k < n; ++k) {
        const auto [lo, hi] = ranges[k];
        const std::uint32_t a = std::max<std::uint32_t>(lo, 'a'),
                            b = std::min<std::uint32_t>(hi, 'z');
        if (a <= b) ranges.emplace_back(a - 32, b - 32);
        const std::uint32_t c = std::max<std::uint32_t>(lo, 'A'),
                            d = std::min<std::uint32_t>(hi, 'Z');
        if (c <= d) ranges.emplace_back(c + 32, d + 32);
      }
    }
    std::string out = negated ? "[^" : "[";
    for (const auto& range : ranges) {
      out += class_char(static_cast<unsigned char>(range.first));
      if (range.second != range.first)
        out += "-" + class_char(static_cast<unsigned char>(range.second));
    }
    out += extra;
    out += "]";
    if (out == "[]") out = "(?!)";  // nothing: cannot happen from Go's syntax, kept safe
    atom(out);
    return true;
  }

  // One character of a class at i_ (literal or escaped), advancing past it.
  std::optional<std::uint32_t> class_char_at() {
    if (p_[i_] != '\\') return next_rune();
    if (i_ + 1 < p_.size() && p_[i_ + 1] == 'b') {  // Go has no \b in a class
      fail("invalid escape sequence: `\\b`");
      return std::nullopt;
    }
    return single_escape();
  }
};

}  // namespace

std::optional<std::string> go_regex_to_ecmascript(std::string_view pattern, std::string& why) {
  return Translator(pattern).run(why);
}

std::optional<GoRegex> compile_go_regex_anchored(std::string_view pattern, std::string& why) {
  // Anchored first, as Alertmanager anchors it, then read as Go reads the whole: Go's errors
  // name the anchored text, and parentheses balance across the anchors as they do in Go.
  const std::string anchored = "^(?:" + std::string(pattern) + ")$";
  Translator go(anchored);
  if (!go.run(why) && !go.only_untranslated()) return std::nullopt;  // Go refuses it
  // RE2 runs it: Go's regexp is RE2's syntax and semantics (UTF-8, leftmost-first), in time
  // linear in the value, with no recursion that a long value could overflow.
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(anchored, options);
  if (!re->ok()) {
    // RE2 says "CODE: TEXT" where Go says "CODE: `TEXT`" (the same codes: Go's parser is RE2's).
    why = re->error();
    if (const std::size_t colon = why.find(": "); colon != std::string::npos)
      why = why.substr(0, colon + 2) + "`" + why.substr(colon + 2) + "`";
    return std::nullopt;
  }
  why.clear();
  GoRegex compiled;
  compiled.re_ = std::move(re);
  return compiled;
}

bool GoRegex::matches(std::string_view value) const {
  return re2::RE2::PartialMatch(re2::StringPiece(value.data(), value.size()), *re_);
}

}  // namespace dosim
