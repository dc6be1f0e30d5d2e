// Prometheus's templates in alerting-rule labels, for `dosim rules score`
// (docs/prometheus.md, "Templates in labels"): `severity: '{{ if gt $value 0.2 }}critical
// {{ else }}warning{{ end }}'`, `service: '{{ $labels.callee }}'`. Prometheus expands a
// rule's labels with Go's text/template for each series the expression returns, at every
// evaluation; dosim parses the common subset once and expands it the same way:
//
// - text, and `{{ X }}` printing X, where X is `$labels.NAME` or `.Labels.NAME` (the
//   series' label, `__name__` included; "" when it has none), `$value` or `.Value` (the
//   sample, printed as Go prints a float64: 0.25, 1e-05, 1.234567e+06, +Inf),
//   `$externalLabels.NAME` or `.ExternalLabels.NAME` (always "": the Prometheus dosim runs
//   has no external labels), a "string" or `raw string`, or a number;
// - `{{ if C }}...{{ else if C }}...{{ else }}...{{ end }}`, nested at will, where C is X
//   (true when not empty, not zero) or `eq|ne|lt|le|gt|ge X Y` (`eq X Y Z...`: X equals any),
//   optionally in parentheses; the two sides are both strings, both floats ($value, 0.2,
//   1e3) or both integers (1), since Go's comparison fails across types (`gt $value 1` is
//   refused: write 1.0);
// - comments `{{/* ... */}}`, and the trim markers `{{- ` and ` -}}`.
//
// Anything else (functions such as humanize, pipelines, range, with, variables) is refused
// when the file is read, never kept literal. Expansion is a pure function.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dosim {

using RuleLabels = std::vector<std::pair<std::string, std::string>>;

// Why a template is refused: the byte offset in the template text of the construct, and
// what is wrong with it.
struct LabelTemplateError {
  std::size_t offset = 0;
  std::string message;
};

class LabelTemplate {
 public:
  struct Node;

  // The template in `text`; nullopt, with `error` set, when it is outside the subset.
  static std::optional<LabelTemplate> parse(std::string_view text, LabelTemplateError& error);

  // The label's value for one sample: the series' labels and the sample's value.
  std::string expand(const RuleLabels& series, double value) const;

  // True when the text has no action: it expands to itself.
  bool is_literal() const { return literal_; }
  // True when the expansion depends on the sample's value.
  bool uses_value() const { return uses_value_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::shared_ptr<const std::vector<Node>> nodes_;
  bool literal_ = true;
  bool uses_value_ = false;
};

// A float64 as Go's fmt prints it with %v (what `{{ $value }}` gives): the shortest digits
// that read back the same, in exponent form when the exponent is below -4 or at least 6
// (0.25, 100000, 1e-05, 1.234567e+06), "+Inf", "-Inf", "NaN".
std::string go_float_text(double value);

}  // namespace dosim
