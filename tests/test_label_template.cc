// Alerting-rule label templates: the subset dosim expands gives what Prometheus gives
// (tests/data/label_templates.yml, whose expectations tests/test_rules_score.py checks with
// promtool), everything else is refused at its position when the rule file is read, and an
// alert's labels are built as Prometheus builds them.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "dosim/analysis/prometheus_rules.h"
#include "dosim/error.h"

using namespace dosim;

namespace {

const YAML::Node& cases() {
  static const YAML::Node root =
      YAML::LoadFile(std::string(DOSIM_SOURCE_DIR) + "/tests/data/label_templates.yml");
  return root;
}

const RuleLabels kSeries = {{"__name__", "m"}, {"callee", "b"}, {"job", "api"}};

std::string write_rules(const std::string& name, const std::string& text) {
  const std::filesystem::path dir = DOSIM_TEST_TMP;
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("label templates expand as Prometheus expands them", "[label_template]") {
  const YAML::Node& expanded = cases()["expanded"];
  REQUIRE(expanded.size() >= 40);
  for (const YAML::Node& c : expanded) {
    const std::string text = c["template"].as<std::string>();
    INFO(text << " at " << c["value"].as<std::string>());
    LabelTemplateError error;
    const auto parsed = LabelTemplate::parse(text, error);
    REQUIRE(parsed);
    CHECK(parsed->expand(kSeries, c["value"].as<double>()) == c["expect"].as<std::string>());
  }
}

TEST_CASE("label templates outside the subset are refused at the construct", "[label_template]") {
  const YAML::Node& refused = cases()["refused"];
  REQUIRE(refused.size() >= 10);
  for (const YAML::Node& c : refused) {
    const std::string text = c["template"].as<std::string>();
    INFO(text);
    LabelTemplateError error;
    CHECK_FALSE(LabelTemplate::parse(text, error));
    CHECK(error.offset == c["offset"].as<std::size_t>());
    CHECK_THAT(error.message, Catch::Contains(c["message"].as<std::string>()));
  }
  for (const char* broken : {"{{ if gt $value 0.2 }}x", "{{ end }}", "{{ else }}x", "{{ $value",
                             "{{ }}", "{{ if gt $value 0.2 }}a{{ else }}b{{ else }}c{{ end }}"}) {
    INFO(broken);
    LabelTemplateError error;
    CHECK_FALSE(LabelTemplate::parse(broken, error));
  }
}

TEST_CASE("only a template that reads the value depends on it", "[label_template]") {
  LabelTemplateError error;
  CHECK(LabelTemplate::parse("critical", error)->is_literal());
  CHECK_FALSE(LabelTemplate::parse("{{ $labels.callee }}", error)->uses_value());
  CHECK(LabelTemplate::parse("{{ if gt .Value 0.2 }}x{{ end }}", error)->uses_value());
  // Text that only looks like an action's end is text.
  CHECK(LabelTemplate::parse("a }} b", error)->is_literal());
}

TEST_CASE("an alert's labels: the series' without __name__, the rule's expanded over them",
          "[label_template]") {
  const std::string path = write_rules("templated-rules.yml", R"(groups:
  - name: g
    rules:
      - alert: EdgeErrors
        expr: dosim_edge_error_ratio > 0.1
        labels:
          service: '{{ $labels.callee }}'
          severity: '{{ if gt $value 0.2 }}critical{{ else }}warning{{ end }}'
          team: '{{ if eq $labels.callee "payments" }}payments{{ end }}'
          job: ''
)");
  const RuleFile file = read_rule_file(path);
  REQUIRE(file.alerts.size() == 1);
  const AlertingRule& rule = file.alerts[0];
  CHECK(rule.labels_use_value());
  const RuleLabels series = {{"__name__", "dosim_edge_error_ratio"},
                             {"callee", "payments"},
                             {"caller", "checkout"},
                             {"job", "dosim"}};
  // The callee names the service (over the series' own `service`, were there one), the
  // value picks the severity, an empty expansion removes a label (job).
  CHECK(alert_labels(rule, series, 0.3) == RuleLabels{{"callee", "payments"},
                                                      {"caller", "checkout"},
                                                      {"service", "payments"},
                                                      {"severity", "critical"},
                                                      {"team", "payments"}});
  CHECK(alert_labels(rule, series, 0.15) == RuleLabels{{"callee", "payments"},
                                                       {"caller", "checkout"},
                                                       {"service", "payments"},
                                                       {"severity", "warning"},
                                                       {"team", "payments"}});
}

TEST_CASE("a refused label template is an error at its line and column", "[label_template]") {
  const std::string path = write_rules("refused-template.yml", R"(groups:
  - name: g
    rules:
      - alert: A
        expr: up == 0
        labels:
          summary_value: '{{ $value }}'
          severity: '{{ if gt $value 1 }}critical{{ end }}'
          plain: x-{{ humanize $value }}
          quoted: "{{ \"a\" }}{{ $value | humanize }}"
          block: |
            {{ printf "%.2f" $value }}
)");
  try {
    read_rule_file(path);
    FAIL("the file was read");
  } catch (const InputError& e) {
    const auto& d = e.diagnostics();
    REQUIRE(d.size() == 4);
    CHECK(d[0].line == 8);
    CHECK(d[0].column == 38);  // the 1 of `gt $value 1`
    CHECK_THAT(d[0].message, Catch::StartsWith("label 'severity': 'gt' compares a float with an "
                                               "integer ('1')"));
    CHECK(d[1].line == 9);
    CHECK(d[1].column == 23);  // humanize
    CHECK(d[2].line == 10);
    CHECK(d[2].column == 41);  // the |, past the escaped quotes
    CHECK(d[3].line == 11);
    CHECK(d[3].column == 18);  // a block scalar: its indicator
    CHECK_THAT(d[3].message, Catch::Contains("'printf' is outside the subset"));
  }
}

TEST_CASE("Go's float formatting of $value", "[label_template]") {
  CHECK(go_float_text(0.25) == "0.25");
  CHECK(go_float_text(100000) == "100000");
  CHECK(go_float_text(1e6) == "1e+06");
  CHECK(go_float_text(1234567) == "1.234567e+06");
  CHECK(go_float_text(0.0001) == "0.0001");
  CHECK(go_float_text(0.00001234) == "1.234e-05");
  CHECK(go_float_text(-3) == "-3");
  CHECK(go_float_text(1e21) == "1e+21");
  CHECK(go_float_text(1.0 / 3) == "0.3333333333333333");
}
