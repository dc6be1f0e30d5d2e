// promtool check rules' verdict as dosim's problems, each at its position in the rule file
// (the bad-input contract: FILE:LINE:COL, all at once). promtool says where for most
// problems ("PATH: LINE:COL: message"; a second position after the first, as for a rule
// with both alert and record, is dropped); for the rest it says less, and the position is
// found in the file (its text, and its structure as yaml-cpp reads it):
//  - a YAML syntax error ("yaml: line N: ..."): where yaml-cpp stops reading the file
//    (go-yaml's N is where the enclosing construct began, counted from 0 or from 1);
//  - its YAML decoder's "  line N: message" lines (after "yaml: unmarshal errors:", a
//    header left out): line N, at the field a "field X not found" names, else at the line's
//    first character;
//  - 'group "G", rule N, "NAME": ...' (with no position or "0:0:"): at that rule, or at what
//    in it the rest names (a label's or annotation's template, an invalid label name);
//  - a message that quotes the value it refused ('not a valid duration string: "1x"'): the
//    first "key: value" line whose value is that one, at the value, or the first scalar of
//    that text (flow style).
// Anything else stays at the file, without a line. "Checking" and "FAILED:" lines are left
// out and a problem said twice is kept once.
#pragma once

#include <string>
#include <vector>

#include "dosim/error.h"

namespace dosim::cli {

std::vector<Diagnostic> promtool_problems(const std::string& path, const std::string& output,
                                          const std::string& text);

}  // namespace dosim::cli
