// The `alertmanager:` section (docs/detectors.md, "Notifications"): the real Alertmanager
// configuration syntax for what dosim simulates (the `route` tree, `inhibit_rules`,
// `receivers` by name), written inline or in an alertmanager.yml file the section names, so
// that the same file passes `amtool check-config` and runs in dosim. Keys Alertmanager has
// but dosim does not simulate (global, templates, time intervals, receivers' *_configs but
// their `send_resolved`) are accepted and left aside, though the names routes give time
// intervals must resolve. dosim's first form (group_by and the intervals at the top, matchers
// as label: value maps) still loads, with a deprecation warning.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <string_view>

#include "scenario_loader_internal.h"
#include "util/alertmanager_syntax.h"
#include "util/input_file.h"
#include "util/prometheus_duration.h"

namespace dosim::loader {
namespace {

// The labels every alert dosim raises carries (detectors/alertmanager.h); detectors add
// their own with `labels:`.
const std::vector<std::string> kAlertLabels = {"alertname", "detector", "metric",
                                               "service",   "severity", "target"};

const std::vector<std::string> kOldKeys = {"group_by", "group_wait", "group_interval",
                                           "repeat_interval"};

// A receiver's keys: its name and Alertmanager's integrations (up to 0.28), each a list.
const std::initializer_list<std::string_view> kReceiverKeys = {
    "name",           "discord_configs",    "email_configs",    "incidentio_configs",
    "jira_configs",   "msteams_configs",    "msteamsv2_configs", "opsgenie_configs",
    "pagerduty_configs", "pushover_configs", "rocketchat_configs", "slack_configs",
    "sns_configs",    "telegram_configs",   "victorops_configs", "webex_configs",
    "webhook_configs", "wechat_configs"};

bool is_label_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// Reads the Alertmanager configuration into an AlertmanagerSpec, reporting to `diags` (the
// scenario's, or those of the file it names).
class AlertmanagerReader {
 public:
  AlertmanagerReader(Diagnostics& diags, std::vector<std::string> labels, SimTime tick)
      : diags_(diags), labels_(std::move(labels)), tick_(tick) {}

  void read(const YAML::Node& node, AlertmanagerSpec& spec) {
    MapReader r(
        node, "alertmanager",
        {"route", "inhibit_rules", "receivers", "global", "templates", "time_intervals",
         "mute_time_intervals", "group_by", "group_wait", "group_interval", "repeat_interval"},
        diags_);
    if (!r.is_map()) return;
    bool old_form = false;
    for (const std::string& key : kOldKeys) {
      if (!r.has(key)) continue;
      if (r.has("route"))
        diags_.error(r.key_pos(key), "'" + key + "' belongs under 'route:' (Alertmanager's form)");
      old_form = true;
    }
    if (!r.has("route")) {
      // dosim's first form: one route whose keys sit at the top, every alert to one receiver.
      // Neither form (`{}`, or only `global:`): as a file's, amtool's missing root route.
      if (!old_form && !r.has("inhibit_rules") && !r.has("receivers")) {
        diags_.error(r.pos(),
                     "missing required key 'route' (the root route, with its "
                     "'receiver') in the Alertmanager configuration");
        return;
      }
      diags_.warning(r.pos(),
                     "deprecated: dosim's first 'alertmanager:' form; write Alertmanager's "
                     "'route:' (with a receiver) and 'receivers:', which amtool check-config "
                     "accepts (docs/detectors.md)");
      RouteSpec root = spec.route;
      read_route_keys(r, root);
      spec.route = std::move(root);
      if (!r.has("receivers")) spec.receivers = {spec.route.receiver};
    } else if (auto route = r.value("route")) {
      spec.route = RouteSpec{};
      read_route(*route, nullptr, spec.route);
    }
    if (r.has("receivers")) read_receivers(r, spec);
    check_receivers(spec.receivers);
    read_time_intervals(r, spec);
    spec.inhibit_rules.clear();
    for (const YAML::Node& item : r.list("inhibit_rules")) read_inhibit_rule(item, spec);
  }

 private:
  // A route and its children; `parent` (nullptr at the root) lends what it does not set.
  void read_route(const YAML::Node& node, const RouteSpec* parent, RouteSpec& route) {
    MapReader r(
        node, parent ? "route" : "root route",
        {"receiver", "group_by", "group_wait", "group_interval", "repeat_interval", "matchers",
         "match", "match_re", "continue", "routes", "mute_time_intervals", "active_time_intervals"},
        diags_);
    if (!r.is_map()) return;
    if (parent) {
      route.receiver = parent->receiver;
      route.group_by = parent->group_by;
      route.group_by_all = parent->group_by_all;
      route.group_wait = parent->group_wait;
      route.group_interval = parent->group_interval;
      route.repeat_interval = parent->repeat_interval;
    } else {
      route.group_by.clear();  // Alertmanager groups by nothing unless told
      if (!r.has("receiver")) diags_.error(r.pos(), "the root route needs a 'receiver'");
      for (const char* key : {"matchers", "match", "match_re", "continue"})
        if (r.has(key))
          diags_.error(
              r.key_pos(key),
              std::string("the root route matches every alert: it cannot have '") + key + "'");
    }
    read_route_keys(r, route);
    if (parent) {
      read_matchers(r, "matchers", route.matchers);
      read_match_map(r, "match", LabelMatcherSpec::Op::kEqual, route.matchers);
      read_match_map(r, "match_re", LabelMatcherSpec::Op::kMatches, route.matchers);
      if (r.has("continue"))
        route.continue_matching = go_boolean(*r.value("continue"), "continue").value_or(false);
    }
    // Alertmanager refuses a time interval on the root route, or one no top-level
    // `time_intervals` / `mute_time_intervals` defines (checked once they are read).
    for (const char* key : {"mute_time_intervals", "active_time_intervals"}) {
      if (!r.has(key)) continue;
      if (!parent) {
        diags_.error(r.key_pos(key),
                     std::string("the root route cannot have '") + key + "' (Alertmanager's rule)");
        continue;
      }
      auto& names = key[0] == 'm' ? route.mute_time_intervals : route.active_time_intervals;
      for (const YAML::Node& item : r.list(key))
        if (auto name = read_text(item, pos_of(item), "a time interval name", diags_)) {
          interval_uses_.emplace_back(*name, pos_of(item));
          names.push_back(*name);
        }
    }
    for (const YAML::Node& child : r.list("routes"))
      read_route(child, &route, route.routes.emplace_back());
  }

  // receiver, group_by and the three intervals of one route (or of the first form's top).
  void read_route_keys(MapReader& r, RouteSpec& route) {
    if (r.has("receiver")) {
      receiver_positions_.emplace_back(r.text("receiver").value_or(""), r.value_pos("receiver"));
      route.receiver = receiver_positions_.back().first;
    }
    if (r.has("group_by")) {
      route.group_by.clear();
      route.group_by_all = false;
      for (const YAML::Node& item : r.list("group_by")) {
        auto name = read_text(item, pos_of(item), "a label name", diags_);
        if (!name) continue;
        if (*name == "...") {
          route.group_by_all = true;
        } else if (std::find(route.group_by.begin(), route.group_by.end(), *name) !=
                   route.group_by.end()) {
          diags_.error(pos_of(item), "duplicated label '" + *name + "' in group_by");
        } else {
          check_label(*name, pos_of(item));
          route.group_by.push_back(*name);
        }
      }
      if (route.group_by_all && !route.group_by.empty())
        diags_.error(r.value_pos("group_by"), "'...' in group_by stands alone (every label)");
    }
    route.group_wait = am_duration(r, "group_wait", true).value_or(route.group_wait);
    route.group_interval = am_duration(r, "group_interval", false).value_or(route.group_interval);
    route.repeat_interval =
        am_duration(r, "repeat_interval", false).value_or(route.repeat_interval);
    // Alerts fire and resolve on ticks: flushes closer together only repeat notifications
    // (and a run's notifications would grow without bound).
    for (const char* key : {"group_interval", "repeat_interval"}) {
      const SimTime value = key[0] == 'g' ? route.group_interval : route.repeat_interval;
      if (r.has(key) && value > 0 && value < tick_)
        diags_.error(r.value_pos(key), std::string("'") + key + "' (" + format_duration(value) +
                                           ") is shorter than the tick (" + format_duration(tick_) +
                                           "): alerts fire and resolve on ticks");
    }
  }

  // `key: ["name=value", 'name=~"regex"', ...]`; dosim's first form, a label: value mapping,
  // loads with a deprecation warning.
  void read_matchers(MapReader& r, const char* key, std::vector<LabelMatcherSpec>& out) {
    auto node = r.value(key);
    if (!node || node->IsNull()) return;
    if (node->IsMap()) {
      diags_.warning(r.value_pos(key), std::string("deprecated: '") + key +
                                           "' as a label: value mapping; Alertmanager (and "
                                           "amtool check-config) wants a list of matchers like "
                                           "[\"severity=critical\"]");
      read_map_entries(*node, key, LabelMatcherSpec::Op::kEqual, out);
      return;
    }
    for (const YAML::Node& item : r.list(key)) {
      auto text = read_text(item, pos_of(item), "a matcher", diags_);
      if (text) parse_matchers(*text, pos_of(item), out);
    }
  }

  // Alertmanager's older `match` / `match_re`: label: value mappings.
  void read_match_map(MapReader& r, const char* key, LabelMatcherSpec::Op op,
                      std::vector<LabelMatcherSpec>& out) {
    auto node = r.value(key);
    if (node && !node->IsNull()) read_map_entries(*node, key, op, out);
  }

  void read_map_entries(const YAML::Node& node, const std::string& what, LabelMatcherSpec::Op op,
                        std::vector<LabelMatcherSpec>& out) {
    for (const MapEntry& entry : read_entries(node, "'" + what + "'", diags_)) {
      // `n: ~` (or `n:` alone) is the empty value to Alertmanager's YAML (Go's string zero):
      // it matches an alert without the label, as amtool routes it.
      auto value = entry.value.IsNull()
                       ? std::optional<std::string>(std::string())
                       : read_text(entry.value, entry.value_pos(), "a label value", diags_);
      if (!value) continue;
      check_label(entry.key, entry.key_pos());
      LabelMatcherSpec matcher{entry.key, op, *value};
      if (check_regex(matcher, entry.value_pos())) out.push_back(std::move(matcher));
    }
  }

  // One list item: a matcher, or several separated by commas, optionally in braces
  // ("{service=\"db\", severity=~\"crit.*\"}"), as Alertmanager's ParseMatchers reads them:
  // a leading '{' and a trailing '}' are dropped each on its own ('{a=b' and 'a=b}' are a=b),
  // and nothing left ('{}', '') is no matcher.
  void parse_matchers(std::string_view text, SourcePos pos, std::vector<LabelMatcherSpec>& out) {
    text = trimmed(text);
    if (text.starts_with('{')) text.remove_prefix(1);
    if (text.ends_with('}')) text.remove_suffix(1);
    text = trimmed(text);
    if (text.empty()) return;
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (i < text.size()) {
        if (text[i] == '\\' && quoted) {
          ++i;
          continue;
        }
        if (text[i] == '"') quoted = !quoted;
        if (text[i] != ',' || quoted) continue;
      }
      const std::string_view piece = trimmed(text.substr(start, i - start));
      start = i + 1;
      if (piece.empty() && i == text.size()) break;  // a trailing comma
      if (auto matcher = parse_matcher(piece, pos)) out.push_back(std::move(*matcher));
    }
  }

  std::optional<LabelMatcherSpec> parse_matcher(std::string_view text, SourcePos pos) {
    const auto bad = [&](const std::string& why) {
      diags_.error(pos, "bad matcher '" + std::string(text) + "': " + why +
                            " (a label name, =, !=, =~ or !~, and a value: severity=\"critical\")");
      return std::nullopt;
    };
    std::size_t i = 0;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_'))
      ++i;
    LabelMatcherSpec matcher;
    matcher.name = std::string(text.substr(0, i));
    if (!is_label_name(matcher.name)) return bad("no label name");
    std::string_view rest = trimmed(text.substr(i));
    using Op = LabelMatcherSpec::Op;
    if (rest.starts_with("=~"))
      matcher.op = Op::kMatches;
    else if (rest.starts_with("!~"))
      matcher.op = Op::kNotMatches;
    else if (rest.starts_with("!="))
      matcher.op = Op::kNotEqual;
    else if (rest.starts_with("="))
      matcher.op = Op::kEqual;
    else
      return bad("no operator");
    rest = trimmed(rest.substr(matcher.op == Op::kEqual ? 1 : 2));
    std::string why;
    auto value = alertmanager_matcher_value(rest, why);
    if (!value) return bad(why);
    matcher.value = std::move(*value);
    check_label(matcher.name, pos);
    if (!check_regex(matcher, pos)) return std::nullopt;
    return matcher;
  }

  bool check_regex(const LabelMatcherSpec& matcher, SourcePos pos) {
    using Op = LabelMatcherSpec::Op;
    if (matcher.op != Op::kMatches && matcher.op != Op::kNotMatches) return true;
    std::string why;
    if (compile_go_regex_anchored(matcher.value, why)) return true;
    diags_.error(pos, "bad regular expression '" + matcher.value + "' for label '" + matcher.name +
                          "': " + why);
    return false;
  }

  // A label no alert of this run carries: legal, but a matcher on it never matches (or
  // always, negated), likely a typo. Not checked for a file read on its own (no labels).
  void check_label(const std::string& name, SourcePos pos) {
    if (!is_label_name(name)) {
      diags_.error(pos, "'" + name + "' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
      return;
    }
    if (!labels_.empty() && std::find(labels_.begin(), labels_.end(), name) == labels_.end())
      diags_.warning(pos, "no alert of this scenario carries the label '" + name + "'" +
                              did_you_mean(name, labels_) +
                              " (labels: alertname, detector, "
                              "metric, service, severity, target "
                              "and the detectors' own)");
  }

  void read_inhibit_rule(const YAML::Node& node, AlertmanagerSpec& spec) {
    MapReader rule(node, "inhibit rule",
                   {"source_matchers", "target_matchers", "source_match", "source_match_re",
                    "target_match", "target_match_re", "equal"},
                   diags_);
    if (!rule.is_map()) return;
    InhibitRuleSpec inhibit;
    read_matchers(rule, "source_matchers", inhibit.source);
    read_match_map(rule, "source_match", LabelMatcherSpec::Op::kEqual, inhibit.source);
    read_match_map(rule, "source_match_re", LabelMatcherSpec::Op::kMatches, inhibit.source);
    read_matchers(rule, "target_matchers", inhibit.target);
    read_match_map(rule, "target_match", LabelMatcherSpec::Op::kEqual, inhibit.target);
    read_match_map(rule, "target_match_re", LabelMatcherSpec::Op::kMatches, inhibit.target);
    for (const YAML::Node& label : rule.list("equal")) {
      auto name = read_text(label, pos_of(label), "a label name", diags_);
      if (!name) continue;
      check_label(*name, pos_of(label));
      inhibit.equal.push_back(*name);
    }
    spec.inhibit_rules.push_back(std::move(inhibit));
  }

  // Whether an integration (an item of `key`, say webhook_configs) notifies when alerts
  // resolve: its `send_resolved`, else Alertmanager's default for its kind.
  bool sends_resolved(const YAML::Node& integration, std::string_view key) {
    const bool by_default = key != "email_configs" && key != "slack_configs" &&
                            key != "wechat_configs" && key != "rocketchat_configs";
    if (!integration.IsMap() || !integration["send_resolved"]) return by_default;
    return go_boolean(integration["send_resolved"], "send_resolved").value_or(by_default);
  }

  // What amtool check-config requires of every integration dosim does not send through: a
  // mapping; a webhook's url (or url_file), an email's `to`. The rest of each is left aside.
  void check_integration(const YAML::Node& integration, std::string_view key) {
    if (!integration.IsMap()) {
      diags_.error(pos_of(integration),
                   "an item of '" + std::string(key) +
                       "' must be a mapping (an integration's settings), got " +
                       describe(integration));
      return;
    }
    if (key == "webhook_configs" && !integration["url"] && !integration["url_file"])
      diags_.error(pos_of(integration),
                   "a webhook_configs item needs 'url' (or 'url_file'), as Alertmanager requires");
    // A webhook's keys (Alertmanager's, up to 0.28): a misspelt one is refused as amtool
    // refuses it ("field urll not found"), where it was said as a missing url.
    if (key == "webhook_configs") {
      static const std::vector<std::string> kWebhookKeys = {
          "url", "url_file", "send_resolved", "http_config", "max_alerts", "timeout"};
      for (const auto& entry : integration) {
        if (!entry.first.IsScalar()) continue;
        const std::string& name = entry.first.Scalar();
        if (std::find(kWebhookKeys.begin(), kWebhookKeys.end(), name) == kWebhookKeys.end())
          diags_.error(pos_of(entry.first), "unknown key '" + name + "' in a webhook_configs item" +
                                                did_you_mean(name, kWebhookKeys) +
                                                " (amtool: field " + name + " not found)");
      }
    }
    if (key == "email_configs" && !integration["to"])
      diags_.error(pos_of(integration),
                   "an email_configs item needs 'to' (missing to address in email config)");
  }

  // A boolean as Alertmanager's YAML library (Go's yaml.v2, YAML 1.1) reads one: an unquoted
  // true/false, yes/no, on/off, y/n (any of their usual cases); a quoted "true" is text, which
  // amtool refuses for a bool.
  std::optional<bool> go_boolean(const YAML::Node& value, const char* key) {
    if (value.IsScalar() && value.Tag() != "!") {
      const std::string& t = value.Scalar();
      for (const char* yes :
           {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})
        if (t == yes) return true;
      for (const char* no :
           {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})
        if (t == no) return false;
    }
    diags_.error(
        pos_of(value),
        std::string("'") + key + "' must be true or false (unquoted), got " +
            (value.IsScalar() && value.Tag() == "!" ? "the quoted text \"" + value.Scalar() + "\""
                                                    : describe(value)));
    return std::nullopt;
  }

  // A duration as Alertmanager reads one (Prometheus's model.Duration: 5m, 1h30m, 250ms, 1d,
  // 1w, 1y, a bare 0; whole numbers, no µs): what amtool check-config refuses (1.5h, 500us,
  // 90), refused. group_interval and repeat_interval cannot be zero, as Alertmanager says.
  std::optional<SimTime> am_duration(MapReader& r, const char* key, bool zero_allowed) {
    const std::optional<YAML::Node> node = r.value(key);
    if (!node) return std::nullopt;
    const SimTime value = node->IsScalar() ? prometheus_duration_ns(node->Scalar()) : -1;
    if (value < 0) {
      diags_.error(r.value_pos(key),
                   std::string("'") + key + "' must be a duration as Alertmanager reads it (5m, " +
                       "1h30m, 250ms, 1d, 1y: whole numbers with units), got " + describe(*node));
      return std::nullopt;
    }
    if (value == 0 && !zero_allowed) {
      diags_.error(r.value_pos(key), std::string("'") + key + "' cannot be zero");
      return std::nullopt;
    }
    return value;
  }

  // receivers: names, and what each would send to (*_configs) checked to be Alertmanager's
  // keys and lists (`slack_config:` fails amtool check-config; a receiver that silently
  // sends nothing would too), of which dosim reads `send_resolved` only.
  void read_receivers(MapReader& r, AlertmanagerSpec& spec) {
    spec.receivers.clear();
    spec.resolved_notices.clear();
    for (const YAML::Node& item : r.list("receivers")) {
      MapReader receiver(item, "receiver", kReceiverKeys, diags_);
      if (!receiver.is_map()) continue;
      const std::optional<std::string> name = receiver.text("name");
      int integrations = 0, resolving = 0;
      for (std::string_view key : kReceiverKeys) {
        if (key == "name") continue;
        for (const YAML::Node& integration : receiver.list(key)) {
          ++integrations;
          check_integration(integration, key);
          resolving += sends_resolved(integration, key);
        }
      }
      if (name && resolving > 0)
        spec.resolved_notices[*name] = resolving == integrations
                                           ? AlertmanagerSpec::ResolvedNotices::kAll
                                           : AlertmanagerSpec::ResolvedNotices::kSome;
      if (!name || name->empty()) {  // amtool: "missing name in receiver"
        diags_.error(name ? receiver.value_pos("name") : pos_of(item),
                     name ? "a receiver's 'name' must not be empty" : "a receiver needs a 'name'");
        continue;
      }
      if (std::find(spec.receivers.begin(), spec.receivers.end(), *name) != spec.receivers.end())
        diags_.error(pos_of(item), "receiver '" + *name + "' is defined twice");
      spec.receivers.push_back(*name);
    }
  }

  // The time intervals the top level defines (`time_intervals`, and Alertmanager's older
  // `mute_time_intervals`, one namespace), read as Alertmanager reads them (what amtool
  // check-config refuses, refused with its reason), and the names the routes give.
  void read_time_intervals(MapReader& r, AlertmanagerSpec& spec) {
    spec.time_intervals.clear();
    std::vector<std::pair<SourcePos, std::string>> definitions;
    for (const char* key : {"mute_time_intervals", "time_intervals"}) {
      for (const YAML::Node& item : r.list(key)) {
        MapReader interval(item, "time interval", {"name", "time_intervals"}, diags_);
        if (!interval.is_map()) continue;
        std::vector<TimeIntervalSpec> entries;
        for (const YAML::Node& entry : interval.list("time_intervals"))
          if (auto read = read_time_interval(entry)) entries.push_back(std::move(*read));
        const std::optional<std::string> name = interval.text("name");
        if (!name) {
          if (!interval.has("name")) diags_.error(pos_of(item), "a time interval needs a 'name'");
          continue;
        }
        definitions.emplace_back(pos_of(item), *name);
        spec.time_intervals.emplace(*name, std::move(entries));
      }
    }
    std::sort(definitions.begin(), definitions.end(), [](const auto& a, const auto& b) {
      return std::pair(a.first.line, a.first.column) < std::pair(b.first.line, b.first.column);
    });
    std::vector<std::string> defined;
    for (const auto& [pos, name] : definitions) {
      if (std::find(defined.begin(), defined.end(), name) != defined.end())
        diags_.error(pos, "time interval '" + name + "' is defined twice");
      else
        defined.push_back(name);
    }
    for (const auto& [name, pos] : interval_uses_)
      if (std::find(defined.begin(), defined.end(), name) == defined.end())
        diags_.error(pos, "undefined time interval '" + name + "'" + did_you_mean(name, defined) +
                              " (define it under 'time_intervals:')");
  }

  // One entry of a time interval (Alertmanager's timeinterval.TimeInterval).
  std::optional<TimeIntervalSpec> read_time_interval(const YAML::Node& node) {
    MapReader r(node, "time interval entry",
                {"times", "weekdays", "days_of_month", "months", "years", "location"}, diags_);
    if (!r.is_map()) return std::nullopt;
    TimeIntervalSpec out;
    const std::size_t errors = diags_.error_count();
    const auto given = [&](const char* key) {
      const auto value = r.value(key);
      return value && !value->IsNull();  // `key:` with nothing is Go's nil: not given
    };
    if (given("times")) {
      out.times.emplace();
      for (const YAML::Node& times : r.list("times"))
        if (auto range = read_times(times)) out.times->push_back(*range);
    }
    const std::pair<const char*, TimeIntervalSpec::Ranges*> fields[] = {
        {"weekdays", &out.weekdays},
        {"days_of_month", &out.days_of_month},
        {"months", &out.months},
        {"years", &out.years}};
    for (const auto& [key, ranges] : fields) {
      if (!given(key)) continue;
      ranges->emplace();
      for (const YAML::Node& item : r.list(key))
        if (auto range = read_calendar_range(key, item)) (*ranges)->push_back(*range);
    }
    if (auto location = r.text("location")) {
      if (*location != "UTC" && *location != "Etc/UTC")
        diags_.error(r.value_pos("location"),
                     "location '" + *location +
                         "' is not taken: the simulated calendar is UTC (t = 0 is Monday 1 "
                         "January 2024, 00:00 UTC); write the interval in UTC, without "
                         "'location' or with 'location: UTC'");
    }
    if (diags_.error_count() != errors) return std::nullopt;
    return out;
  }

  // A time range as Alertmanager reads it (HH:MM, 00:00 to 24:00, the start before the
  // end): minutes of the day, [start, end).
  std::optional<std::pair<int, int>> read_times(const YAML::Node& times) {
    MapReader r(times, "time range", {"start_time", "end_time"}, diags_);
    if (!r.is_map()) return std::nullopt;
    const auto minutes = [](const YAML::Node& value) -> std::optional<int> {
      if (!value.IsScalar()) return std::nullopt;
      const std::string& t = value.Scalar();
      const auto digit = [&](std::size_t i) { return t[i] >= '0' && t[i] <= '9'; };
      if (t.size() != 5 || t[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4))
        return std::nullopt;
      const int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
      if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
      return h * 60 + m;
    };
    std::optional<int> ends[2];
    for (int e = 0; e < 2; ++e) {
      const char* key = e == 0 ? "start_time" : "end_time";
      const auto value = r.value(key);
      if (!value) {
        diags_.error(r.pos(), std::string("a time range needs '") + key + "'");
        continue;
      }
      ends[e] = minutes(*value);
      if (!ends[e])
        diags_.error(r.value_pos(key), std::string("'") + key + "' must be HH:MM from 00:00 to " +
                                           "24:00 (as Alertmanager reads it), got " +
                                           describe(*value));
    }
    if (!ends[0] || !ends[1]) return std::nullopt;
    if (*ends[0] >= *ends[1]) {
      diags_.error(r.pos(), "a time range's start_time must be before its end_time");
      return std::nullopt;
    }
    return std::pair(*ends[0], *ends[1]);
  }

  // One item of `weekdays`, `days_of_month`, `months` or `years`: a member or `a:b`, names
  // in any case, checked as Alertmanager checks them.
  std::optional<std::pair<int, int>> read_calendar_range(std::string_view key,
                                                         const YAML::Node& item) {
    const SourcePos pos = pos_of(item);
    if (!item.IsScalar()) {
      diags_.error(pos, "an item of '" + std::string(key) + "' is text such as " +
                            (key == "weekdays"        ? "'monday:friday'"
                             : key == "days_of_month" ? "'1:7' or '-1'"
                             : key == "months"        ? "'january:march' or '12'"
                                                      : "'2024' or '2024:2025'") +
                            ", got " + describe(item));
      return std::nullopt;
    }
    std::string text = item.Scalar();
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static const char* const kWeekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                            "thursday", "friday", "saturday"};
    static const char* const kMonths[] = {"january",   "february", "march",    "april",
                                          "may",       "june",     "july",     "august",
                                          "september", "october",  "november", "december"};
    const auto member = [&](const std::string& word) -> std::optional<int> {
      if (key == "weekdays") {
        for (int d = 0; d < 7; ++d)
          if (word == kWeekdays[d]) return d;
        diags_.error(pos, word + " is not a valid weekday (sunday ... saturday)");
        return std::nullopt;
      }
      if (key == "months")
        for (int m = 0; m < 12; ++m)
          if (word == kMonths[m]) return m + 1;
      // Go's strconv.Atoi: an optional sign, then decimal digits.
      int value = 0;
      const char* first = word.data() + (word.size() > 1 && word[0] == '+' ? 1 : 0);
      const auto [end, ec] = std::from_chars(first, word.data() + word.size(), value);
      if (word.empty() || ec != std::errc() || end != word.data() + word.size()) {
        diags_.error(
            pos, "'" + word + "' is not a valid " +
                     (key == "months" ? "month (january ... december, or 1 ... 12)" : "number"));
        return std::nullopt;
      }
      return value;
    };
    const std::size_t colon = text.find(':');
    if (colon != std::string::npos && text.find(':', colon + 1) != std::string::npos) {
      diags_.error(pos, "couldn't parse range " + text + ", invalid format (one ':' at most)");
      return std::nullopt;
    }
    const auto begin = member(text.substr(0, colon));
    const auto end = colon == std::string::npos ? begin : member(text.substr(colon + 1));
    if (!begin || !end) return std::nullopt;
    const int b = *begin, e = *end;
    if (key == "days_of_month") {
      for (int d : {b, e})
        if (d == 0 || d < -31 || d > 31) {
          diags_.error(pos, std::to_string(d) +
                                " is not a valid day of the month: out of range (1 to 31, or "
                                "-31 to -1 from the month's end)");
          return std::nullopt;
        }
      if (b < 0 && e > 0) {
        diags_.error(pos, "end day must be negative if start day is negative");
        return std::nullopt;
      }
      // As Alertmanager: a range that is empty in every month (counting from a 28-day one).
      if ((b < 0 ? 28 + b : b) > (e < 0 ? 28 + e : e)) {
        diags_.error(pos, "end day " + std::to_string(e) + " is always before start day " +
                              std::to_string(b));
        return std::nullopt;
      }
    } else if (b > e) {
      diags_.error(pos, "the range " + text + " ends before it starts");
      return std::nullopt;
    }
    if (key == "months" && (b < 1 || e > 12))
      diags_.warning(pos, "month " + std::to_string(b < 1 ? b : e) +
                              " is no month (1 to 12): Alertmanager accepts it, and it never "
                              "holds");
    return std::pair(b, e);
  }

  void check_receivers(const std::vector<std::string>& receivers) {
    for (const auto& [name, pos] : receiver_positions_)
      if (std::find(receivers.begin(), receivers.end(), name) == receivers.end())
        diags_.error(pos, "undefined receiver '" + name + "'" + did_you_mean(name, receivers) +
                              " (declare it under 'receivers:')");
  }

  Diagnostics& diags_;
  std::vector<std::string> labels_;
  SimTime tick_;
  std::vector<std::pair<std::string, SourcePos>> receiver_positions_;
  std::vector<std::pair<std::string, SourcePos>> interval_uses_;  // named by routes
};

}  // namespace

// Reads `path` into `spec` with `diags` (the file's own), any alert labels allowed.
void read_alertmanager_text(const std::string& text, AlertmanagerSpec& spec, Diagnostics& diags,
                            const std::vector<std::string>& labels, SimTime tick) {
  if (std::string reason = binary_reason(text); !reason.empty()) {
    diags.error({}, reason);
    return;
  }
  try {
    const YAML::Node root = YAML::Load(text);
    if (std::optional<Diagnostic> aliases = alias_expansion_problem(text, "")) {
      diags.error({aliases->line, aliases->column}, aliases->message);
      return;
    }
    if (!root.IsDefined() || root.IsNull()) {
      diags.error({}, "the Alertmanager configuration is empty (it needs a 'route')");
      return;
    }
    // A file is Alertmanager's own configuration, whose root route amtool requires (dosim's
    // first form, with the route's keys at the top, is a scenario's section only).
    if (root.IsMap() && !root["route"]) {
      const YAML::Mark mark = root.Mark();
      diags.error({mark.line + 1, mark.column + 1},
                  "missing required key 'route' (the root route, with its 'receiver') in the "
                  "Alertmanager configuration");
      return;
    }
    AlertmanagerReader(diags, labels, tick).read(root, spec);
  } catch (const YAML::Exception& e) {
    const Diagnostic problem = yaml_error("", e, text);
    diags.error({problem.line, problem.column}, problem.message);
  }
}

void Loader::read_alertmanager(const YAML::Node& node) {
  std::vector<std::string> labels = kAlertLabels;
  for (const DetectorSpec& detector : scenario_.detectors)
    for (const auto& [name, value] : detector.labels)
      if (std::find(labels.begin(), labels.end(), name) == labels.end()) labels.push_back(name);
  AlertmanagerSpec& spec = scenario_.alertmanager;
  if (!node.IsScalar()) {
    AlertmanagerReader(diags_, labels, scenario_.tick).read(node, spec);
    return;
  }
  // `alertmanager: alertmanager.yml`: a real configuration file, next to the scenario.
  const std::string path = beside_scenario(scenario_.file, node.Scalar());
  std::string reason;
  const std::optional<std::string> text = read_input_file(path, kMaxScenarioBytes, reason);
  if (!text) {
    diags_.error(pos_of(node),
                 "cannot read the Alertmanager configuration '" + path + "': " + reason);
    return;
  }
  spec.file = path;
  Diagnostics file_diags(path);
  read_alertmanager_text(*text, spec, file_diags, labels, scenario_.tick);
  diags_.merge(file_diags);
}

}  // namespace dosim::loader

namespace dosim {

AlertmanagerSpec load_alertmanager_file(const std::string& path) {
  std::string reason;
  const std::optional<std::string> text = read_input_file(path, kMaxScenarioBytes, reason);
  if (!text) throw InputError(path, "cannot read file: " + reason);
  AlertmanagerSpec spec;
  spec.file = path;
  Diagnostics diags(path);
  loader::read_alertmanager_text(*text, spec, diags, {}, 0);
  diags.throw_if_any();
  return spec;
}

}  // namespace dosim
