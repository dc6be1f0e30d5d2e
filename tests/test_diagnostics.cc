// Diagnostics as printed (include/dosim/error.h): one line each, whatever user text they
// quote, and a problem found twice at one place said once.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dosim/error.h"

namespace dosim {

TEST_CASE("a diagnostic's quoted control characters are escaped: one problem, one line",
          "[diagnostics]") {
  const Diagnostic d{"s.yaml", 3, 5, "unknown service 'b\nc\rX\t\x1b[2J\x7f'"};
  CHECK(d.format() == "s.yaml:3:5: unknown service 'b\\nc\\rX\\t\\x1b[2J\\x7f'");
  // C1 controls (NEL) and the Unicode line and paragraph separators break lines too.
  const Diagnostic unicode{"s.yaml", 1, 1, "bad 'a\u0085b\u2028c\u2029d\u0080' but 'é→ü' stays"};
  CHECK(unicode.format() == "s.yaml:1:1: bad 'a\\u0085b\\u2028c\\u2029d\\u0080' but 'é→ü' stays");
  const Diagnostic warning{"s.yaml", 2, 0, "odd 'x\ny'", true};
  CHECK(warning.format() == "s.yaml:2: warning: odd 'x\\ny'");
  // A message without a file is complete as written (a Lua error and its traceback).
  const Diagnostic script{"", 0, 0, "x.lua:3: boom\nstack traceback:"};
  CHECK(script.format() == "x.lua:3: boom\nstack traceback:");
  const InputError error({d});
  CHECK(std::string(error.what()).find('\n') == std::string::npos);

  CHECK(has_control_character("a\u0085b"));
  CHECK(has_control_character("c\u2028d"));
  CHECK(has_control_character("tab\t"));
  CHECK(has_control_character("\x7f"));
  CHECK_FALSE(has_control_character("café ü \u2027 \u00a0"));
}

TEST_CASE("identical diagnostics at one position are reported once", "[diagnostics]") {
  // A dependency reused through a YAML alias is checked twice at the anchor's position.
  const std::vector<Diagnostic> list = {
      {"s.yaml", 6, 3, "unknown service 'zz'"},
      {"s.yaml", 4, 1, "first"},
      {"s.yaml", 6, 3, "another problem there"},
      {"s.yaml", 6, 3, "unknown service 'zz'"},
      {"s.yaml", 6, 3, "unknown service 'zz'", true},  // a warning is a different diagnostic
      {"other.csv", 6, 3, "unknown service 'zz'"},
  };
  std::vector<std::string> said;
  for (const Diagnostic& d : by_position(list, "s.yaml")) said.push_back(d.format());
  CHECK(said == std::vector<std::string>{"s.yaml:4:1: first",
                                         "s.yaml:6:3: unknown service 'zz'",
                                         "s.yaml:6:3: another problem there",
                                         "s.yaml:6:3: warning: unknown service 'zz'",
                                         "other.csv:6:3: unknown service 'zz'"});
}

}  // namespace dosim
