// dosim routes CONFIG [LABEL=VALUE ...]: the receivers an alert with these labels reaches
// through an Alertmanager configuration, as dosim routes a run's alerts, printed as
// `amtool config routes test` prints them (comma-separated, in route order). CONFIG is an
// alertmanager.yml file, or with --scenario a scenario whose `alertmanager:` is used. Labels
// are read as amtool reads them (quotes stripped; a matcher other than `=` refused).
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <optional>

#include "commands.h"
#include "detectors/alertmanager.h"
#include "dosim/engine/scenario_loader.h"
#include "util/alertmanager_syntax.h"
#include "util/input_file.h"

namespace dosim::cli {
namespace {

// Go's \s, as Alertmanager's matcher pattern reads it.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

bool is_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

// One NAME=VALUE argument read as `amtool config routes test` reads it: Alertmanager's
// matcher syntax (labels.ParseMatcher: spaces around the name, the operator and the value
// ignored; the value optionally double-quoted, with \" \\ and \n escapes), then only `=`
// taken. The label, or nullopt with the reason in `why`.
std::optional<std::pair<std::string, std::string>> parse_label(const std::string& text,
                                                               std::string& why) {
  std::size_t i = 0;
  while (i < text.size() && is_space(text[i])) ++i;
  const std::size_t name_start = i;
  while (i < text.size() && is_name_char(text[i], i == name_start)) ++i;
  const std::string name = text.substr(name_start, i - name_start);
  while (i < text.size() && is_space(text[i])) ++i;
  std::string op;
  for (const char* candidate : {"=~", "=", "!=", "!~"})
    if (text.compare(i, std::string(candidate).size(), candidate) == 0) {
      op = candidate;
      break;
    }
  if (name.empty() || op.empty()) {
    why = "a label is NAME=VALUE, got '" + text + "'";
    return std::nullopt;
  }
  if (op != "=") {
    why = "a label is NAME=VALUE, got '" + text + "' (a matcher with " + op +
          " is not a label; amtool: labels must be specified as key=value pairs)";
    return std::nullopt;
  }
  i += op.size();
  while (i < text.size() && is_space(text[i])) ++i;
  std::size_t end = text.size();
  while (end > i && is_space(text[end - 1])) --end;
  // Unescaped as Alertmanager unescapes a matcher's value (amtool parses labels so).
  std::string unused;
  auto value = alertmanager_matcher_value(std::string_view(text).substr(i, end - i), unused);
  if (!value) {
    why = "the value of label '" + name + "' has an unescaped double quote, got '" + text +
          "' (write NAME=\"VALUE\", a quote inside as \\\")";
    return std::nullopt;
  }
  return std::pair{name, std::move(*value)};
}

}  // namespace

bool looks_like_scenario(const std::string& path) {
  std::string reason;
  const std::optional<std::string> text = read_input_file(path, kMaxScenarioBytes, reason);
  if (!text) return false;
  try {
    const YAML::Node root = YAML::Load(*text);
    return root.IsMap() && root["services"] && root["duration"];
  } catch (const YAML::Exception&) {
    return false;
  }
}

int routes_command(const RoutesOptions& options) {
  // The configuration's problems and every bad label, said at once.
  AlertmanagerSpec spec;
  std::vector<Diagnostic> problems;
  try {
    spec = options.scenario ? load_scenario_file(options.config_path).alertmanager
                            : load_alertmanager_file(options.config_path);
  } catch (const Error& error) {
    problems = error.diagnostics();
    if (!options.scenario && looks_like_scenario(options.config_path))
      problems.push_back({options.config_path, 0, 0,
                          "this is a scenario, not an alertmanager.yml: add --scenario to route "
                          "through its 'alertmanager:' section"});
  }
  AlertLabels labels;
  for (const std::string& argument : options.labels) {
    std::string why;
    auto label = parse_label(argument, why);
    if (!label) {
      problems.push_back({"command line", 0, 0, why});
      continue;
    }
    // A label given twice keeps its last value, as amtool's does.
    std::erase_if(labels, [&](const auto& other) { return other.first == label->first; });
    labels.push_back(std::move(*label));
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  const std::vector<std::string> receivers = receivers_for(spec, labels);
  for (std::size_t i = 0; i < receivers.size(); ++i)
    std::cout << (i == 0 ? "" : ",") << receivers[i];
  std::cout << "\n";
  return kExitOk;
}

}  // namespace dosim::cli
