// User-facing problems with an input file, with the position they come from.
//
// Loading never stops at the first problem: every check adds a Diagnostic and the loader
// throws one InputError holding all of them. The command line prints each as
// `FILE:LINE:COL: message` on stderr and exits with code 2. Line and column are 1-based;
// 0 means "the file as a whole" and is printed as `FILE: message`.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace dosim {

struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  // "FILE:LINE:COL: message", or "FILE: message" without a position.
  std::string format() const;
};

// Thrown for bad user input (scenario, script, command line, files). Never for bugs.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  InputError(std::string file, std::string message);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Closest candidate by edit distance when close enough to be a likely typo, else the
// shortest candidate that starts with `word` (an abbreviation); else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace dosim
