"""dosim's Alertmanager configuration is Alertmanager's: checked with the real tools
(Debian's prometheus-alertmanager, installed by tools/install-deps.sh).

- Every alerting configuration in the repository (scenarios/*alertmanager*.yml, tests/alertmanager/*.yml,
  the `alertmanager:` sections of the bundled scenarios and of the docs' examples) passes
  `amtool check-config`.
- For many label sets, `dosim routes` reaches the receivers `amtool config routes test`
  prints, through a tree with every matcher kind, `continue`, nesting and match/match_re;
  it reads its label arguments as amtool does, and refuses those amtool refuses.
- Configurations `amtool check-config` rejects (a label twice in group_by, time intervals
  undefined, duplicated or on the root route) are refused at their place.
"""
import itertools
import json
import pathlib
import re
import shutil
import subprocess

import h5py
import pytest
import yaml

from dosim_test_util import SOURCE_DIR, TMP, Checks, dosim

AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"
ROUTES = SOURCE_DIR / "tests" / "alertmanager" / "routes.yml"


def amtool(*args):
    return subprocess.run([AMTOOL, *map(str, args)], capture_output=True, text=True)


def alerting_configurations():
    """(name, path of a file holding only an Alertmanager configuration) for every one."""
    found = []
    for path in sorted((SOURCE_DIR / "scenarios").glob("*alertmanager*.yml")):
        found.append((path.name, path))
    for path in sorted((SOURCE_DIR / "tests" / "alertmanager").glob("*.yml")):
        found.append((path.name, path))
    inline = []
    for path in sorted((SOURCE_DIR / "scenarios").glob("*.yaml")):
        inline.append((path.name, yaml.safe_load(path.read_text()).get("alertmanager")))
    for path in sorted((SOURCE_DIR / "docs").glob("*.md")):
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", path.read_text(), re.S)):
            try:
                document = yaml.safe_load(block)
            except yaml.YAMLError:
                continue
            if isinstance(document, dict) and "alertmanager" in document:
                inline.append((f"{path.name} example {i}", document["alertmanager"]))
    for name, section in inline:
        if section is None or isinstance(section, str):
            continue  # none, or a file listed above
        out = TMP / ("inline-" + re.sub(r"[^A-Za-z0-9.]+", "-", name) + ".yml")
        out.write_text(yaml.safe_dump(section))
        found.append((name, out))
    return found


def test_every_alerting_configuration_passes_amtool_check_config():
    configurations = alerting_configurations()
    assert len(configurations) >= 3, configurations  # the files and the docs' example
    checks = Checks()
    for name, path in configurations:
        result = amtool("check-config", path)
        checks(result.returncode == 0, f"{name}: amtool check-config: {result.stdout}{result.stderr}")
        ours = dosim("routes", path, "severity=critical")
        checks(ours.returncode == 0, f"{name}: dosim routes: {ours.stderr}")
    checks.assert_passed()


LABEL_VALUES = {
    "severity": [None, "critical", "warning", "crit"],
    "service": [None, "db", "web", "cache", "api"],
    "metric": [None, "latency_p95_s", "error_ratio", "rps"],
    "team": [None, "payments"],
    "alertname": [None, "lab7", "mad-services"],
    "detector": [None, "mad", "ewma"],
}


def label_sets():
    """Every combination of severity, service and metric, with the rest varied alongside."""
    others = list(itertools.product(LABEL_VALUES["team"], LABEL_VALUES["alertname"],
                                    LABEL_VALUES["detector"]))
    sets = []
    for k, (severity, service, metric) in enumerate(itertools.product(
            LABEL_VALUES["severity"], LABEL_VALUES["service"], LABEL_VALUES["metric"])):
        team, alertname, detector = others[k % len(others)]
        labels = {"severity": severity, "service": service, "metric": metric, "team": team,
                  "alertname": alertname, "detector": detector}
        sets.append([f"{key}={value}" for key, value in labels.items() if value is not None])
    return sets


@pytest.mark.parametrize("config", [ROUTES, SOURCE_DIR / "scenarios" / "payments-alertmanager.yml"],
                         ids=lambda p: p.name)
def test_dosim_routes_like_amtool(config):
    sets = label_sets()
    assert len(sets) == 80
    checks = Checks()
    receivers_seen = set()
    for labels in sets:
        expected = amtool("config", "routes", "test", f"--config.file={config}", *labels)
        assert expected.returncode == 0, expected.stderr
        ours = dosim("routes", config, *labels)
        assert ours.returncode == 0, ours.stderr
        checks(ours.stdout.strip() == expected.stdout.strip(),
               f"{' '.join(labels)}: dosim {ours.stdout.strip()!r}, amtool {expected.stdout.strip()!r}")
        receivers_seen.update(expected.stdout.strip().split(","))
    checks.assert_passed()
    if config == ROUTES:  # the label sets reach every branch of the tree
        assert receivers_seen == {"fallback", "dba-pager", "sre-pager", "sre-backend",
                                  "payments", "traffic", "lab"}, receivers_seen


def test_a_scenario_names_its_alertmanager_file_and_routes_through_it():
    scenario = SOURCE_DIR / "scenarios" / "payments-mad.yaml"
    assert yaml.safe_load(scenario.read_text())["alertmanager"] == "payments-alertmanager.yml"
    result = dosim("routes", "--scenario", scenario, "severity=critical", "service=payments")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "oncall-pager,team-payments"
    result = dosim("routes", "--scenario", scenario, "severity=warning", "service=payments")
    assert result.stdout.strip() == "team-payments"
    # Without --scenario, a scenario is not an alertmanager.yml: the flag is named.
    result = dosim("routes", scenario, "severity=critical")
    assert result.returncode == 2 and "add --scenario" in result.stderr, result.stderr


def test_every_bad_label_is_said_at_once():
    scenario = SOURCE_DIR / "scenarios" / "payments-mad.yaml"
    result = dosim("routes", "--scenario", scenario, "=y", "novalue", "service=payments")
    assert result.returncode == 2, result
    assert "got '=y'" in result.stderr and "got 'novalue'" in result.stderr, result.stderr
    assert "2 problems" in result.stderr, result.stderr


def test_the_first_form_loads_with_a_deprecation_warning():
    path = TMP / "first-form.yaml"
    path.write_text("""name: t
duration: 1h
services: [{name: web}]
alertmanager:
  group_by: [service]
  inhibit_rules:
    - {source_matchers: {severity: critical}, target_matchers: {severity: warning}, equal: [service]}
""")
    result = dosim("validate", path)
    assert result.returncode == 0, result.stderr
    assert "5:3: warning: deprecated: dosim's first 'alertmanager:' form" in result.stderr
    assert "7:25: warning: deprecated: 'source_matchers' as a label: value mapping" in result.stderr
    assert dosim("validate", "--strict", path).returncode == 2


def test_errors_in_a_named_file_point_into_it():
    config = TMP / "broken-alertmanager.yml"
    config.write_text("""route:
  receiver: team
  routes:
    - matchers: ['severity=~"(crit"']
      receiver: pager
receivers:
  - name: team
""")
    scenario = TMP / "names-broken.yaml"
    scenario.write_text(f"name: t\nduration: 1h\nservices: [{{name: web}}]\nalertmanager: {config}\n")
    result = dosim("validate", scenario)
    assert result.returncode == 2
    assert f"{config}:4:18: bad regular expression '(crit' for label 'severity'" in result.stderr
    assert f"{config}:5:17: undefined receiver 'pager'" in result.stderr


def test_a_configuration_file_without_a_route_is_refused_as_amtool_refuses_it():
    """An Alertmanager file needs its root route (amtool: "no routes provided"); without it
    `dosim routes` printed a receiver 'default' that the file never declared."""
    config = TMP / "no-route.yml"
    config.write_text("receivers:\n  - name: x\n")
    assert amtool("check-config", config).returncode != 0
    result = dosim("routes", config, "service=web")
    assert result.returncode == 2, result.stdout
    assert f"{config}:1:1: missing required key 'route'" in result.stderr, result.stderr


def test_a_label_given_twice_keeps_its_last_value_as_amtool_does():
    config = SOURCE_DIR / "scenarios" / "payments-alertmanager.yml"
    for labels in (["severity=critical", "severity=warning", "service=payments"],
                   ["severity=warning", "severity=critical", "service=payments"]):
        expected = amtool("config", "routes", "test", f"--config.file={config}", *labels)
        ours = dosim("routes", config, *labels)
        assert ours.returncode == 0 and ours.stdout.strip() == expected.stdout.strip(), (labels, ours)


LABEL_CONFIG = """route:
  receiver: root
  group_by: ['...']
  routes:
    - matchers: ['service=~"pay.*"', 'severity!="info"']
      receiver: pay
      routes:
        - match: {severity: critical}
          receiver: pay-crit
          continue: true
        - match_re: {metric: 'error.*'}
          receiver: pay-err
    - matchers: ['x=""']
      receiver: emptyx
      routes:
        - matchers: ['y!~"^a"']
          receiver: noty
receivers:
  - name: root
  - name: pay
  - name: pay-crit
  - name: pay-err
  - name: emptyx
  - name: noty
"""


def test_labels_are_read_as_amtool_reads_them():
    """amtool reads a label as a matcher (quotes stripped, spaces around ignored, escapes
    read) and takes only `=`: `service="payments"` is the label service=payments."""
    config = TMP / "label-forms.yml"
    config.write_text(LABEL_CONFIG)
    checks = Checks()
    for labels in (['service="payments"', "severity=critical"],
                   [' service = "pay ments" ', "severity=critical"],
                   ['service="pay\\"x"', 'metric="errors"'],
                   ["service=payments", 'severity=""'],
                   ["service==payments"], ["y=", "x=\"\""], ["y=a\\nb"], ["a:b=1"],
                   ['service="payments" ', "metric=error_ratio"], ['y="\\\\a"']):
        expected = amtool("config", "routes", "test", f"--config.file={config}", *labels)
        assert expected.returncode == 0, (labels, expected.stderr)
        ours = dosim("routes", config, *labels)
        checks(ours.returncode == 0 and ours.stdout.strip() == expected.stdout.strip(),
               f"{labels}: dosim {ours.stdout.strip()!r} {ours.stderr.strip()!r}, "
               f"amtool {expected.stdout.strip()!r}")
    checks.assert_passed()
    assert dosim("routes", config, 'service="payments"', "severity=critical").stdout.strip() \
        == "pay-crit"


def test_labels_amtool_refuses_are_refused():
    """A matcher that is not `=` ("labels must be specified as key=value pairs"), text that
    is no matcher, and a stray quote: amtool refuses each, dosim too (exit 2, said)."""
    config = TMP / "label-forms.yml"
    config.write_text(LABEL_CONFIG)
    refused = {"service!=pay": "a matcher with != is not a label",
               "service=~pay": "a matcher with =~ is not a label",
               "service!~pay": "a matcher with !~ is not a label",
               "=y": "got '=y'", "novalue": "got 'novalue'", "1a=b": "got '1a=b'",
               'service="pay': "unescaped double quote", 'service=pay"x': "unescaped double quote",
               'service="x"y"': "unescaped double quote"}
    for label, message in refused.items():
        assert amtool("config", "routes", "test", f"--config.file={config}", label).returncode != 0, label
        ours = dosim("routes", config, label, "severity=critical")
        assert ours.returncode == 2 and message in ours.stderr, (label, ours.stderr)
        assert ours.stdout == "", (label, ours.stdout)


def test_configurations_amtool_rejects_are_refused_at_their_place():
    """A label twice in group_by; a route naming a time interval nothing defines, or the
    root route naming one; a time interval defined twice, or without a name; a receiver's
    integration misspelt or not a list: amtool
    check-config fails each, and dosim, read alone (`dosim routes`) or named by a scenario,
    says where."""
    base = "route:\n  receiver: a\n{route}receivers:\n  - name: a\n{top}"
    nights = "  - name: nights\n    time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]\n"
    cases = {
        "group-by-twice": ("  group_by: [service, severity, service]\n", "",
                           "3:33: duplicated label 'service' in group_by"),
        "undefined-interval": ("  routes:\n    - receiver: a\n      mute_time_intervals: [nights]\n", "",
                               "5:29: undefined time interval 'nights'"),
        "undefined-active": ("  routes:\n    - receiver: a\n      active_time_intervals: [night]\n",
                             "time_intervals:\n" + nights,
                             "5:31: undefined time interval 'night'; did you mean 'nights'?"),
        "root-interval": ("  mute_time_intervals: [nights]\n", "time_intervals:\n" + nights,
                          "3:3: the root route cannot have 'mute_time_intervals'"),
        "defined-twice": ("", "mute_time_intervals:\n" + nights + "time_intervals:\n" + nights,
                          "9:5: time interval 'nights' is defined twice"),
        "no-name": ("", "time_intervals:\n  - time_intervals: []\n",
                    "6:5: a time interval needs a 'name'"),
        # A receiver's integrations: Alertmanager's keys, each a list.
        "receiver-key": ("", "    slack_config: [{api_url: 'http://x', channel: '#a'}]\n",
                         "5:5: unknown key 'slack_config' in receiver; did you mean 'slack_configs'?"),
        "receiver-map": ("", "    webhook_configs: {url: 'http://x'}\n",
                         "5:22: expected a list for 'webhook_configs', got a mapping"),
        "send-resolved": ("", "    webhook_configs: [{url: 'http://x', send_resolved: maybe}]\n",
                          "5:56: 'send_resolved' must be true or false"),
        # A webhook's own key misspelt (it was said as a missing url only).
        "webhook-key": ("", "    webhook_configs: [{url: 'http://x', max_alert: 3}]\n",
                        "5:41: unknown key 'max_alert' in a webhook_configs item; did you mean "
                        "'max_alerts'?"),
        # A time interval's fields, read as Alertmanager reads them.
        "weekday": ("", "time_intervals:\n  - name: w\n    time_intervals: [{weekdays: ['mon']}]\n",
                    "7:34: mon is not a valid weekday"),
        "days-of-month": ("", "time_intervals:\n  - name: w\n    time_intervals: [{days_of_month: ['-1:5']}]\n",
                          "7:39: end day must be negative if start day is negative"),
        "years": ("", "time_intervals:\n  - name: w\n    time_intervals: [{years: ['2025:2024']}]\n",
                  "7:31: the range 2025:2024 ends before it starts"),
        "interval-key": ("", "time_intervals:\n  - name: w\n    time_intervals: [{weekday: [monday]}]\n",
                         "7:23: unknown key 'weekday' in time interval entry"),
    }
    for name, (route, top, message) in cases.items():
        config = TMP / f"refused-{name}.yml"
        config.write_text(base.format(route=route, top=top))
        assert amtool("check-config", config).returncode != 0, name
        alone = dosim("routes", config, "service=web")
        assert alone.returncode == 2 and f"{config}:{message}" in alone.stderr, (name, alone.stderr)
        scenario = TMP / f"names-refused-{name}.yaml"
        scenario.write_text(f"name: t\nduration: 1h\nservices: [{{name: web}}]\nalertmanager: {config}\n")
        named = dosim("validate", scenario)
        assert named.returncode == 2 and f"{config}:{message}" in named.stderr, (name, named.stderr)
    # Defined ones, by either top-level key, on any route but the root: both accept.
    config = TMP / "intervals-defined.yml"
    config.write_text(base.format(
        route="  routes:\n    - receiver: a\n      mute_time_intervals: [nights, days]\n"
              "      active_time_intervals: [nights]\n",
        top="time_intervals:\n" + nights + "mute_time_intervals:\n" + nights.replace("nights", "days")
            + "  - name: all-fields\n    time_intervals: [{weekdays: ['Monday:friday', sunday], "
              "days_of_month: ['1:7', '-3:-1', 15, '+20'], months: ['may:August', '12', '13'], "
              "years: ['2024:2025'], location: UTC}, {times: []}]\n"))
    assert amtool("check-config", config).returncode == 0
    result = dosim("routes", config, "service=web")
    assert result.returncode == 0 and result.stdout.strip() == "a", result.stderr
    # A receiver with integrations amtool accepts (what they send is left aside).
    config = TMP / "receiver-integrations.yml"
    config.write_text(base.format(route="", top="    webhook_configs: [{url: 'http://127.0.0.1:1/'}]\n"
                                  "    email_configs: [{to: 'a@example.org', from: 'b@example.org', "
                                  "smarthost: 'localhost:25'}]\n"))
    assert amtool("check-config", config).returncode == 0
    result = dosim("routes", config, "service=web")
    assert result.returncode == 0 and result.stdout.strip() == "a", result.stderr


ONE_ROUTE = {"route": {"receiver": "default", "routes": [{"receiver": "pager", "matchers": None}]},
             "receivers": [{"name": "default"}, {"name": "pager"}]}


def one_route(name, matcher):
    """A configuration whose one child route (receiver pager) holds `matcher`."""
    config = TMP / f"one-route-{name}.yml"
    document = json.loads(json.dumps(ONE_ROUTE))
    document["route"]["routes"][0]["matchers"] = [matcher]
    config.write_text(yaml.safe_dump(document))
    return config


def at_matcher(config, message, stderr):
    """stderr says `message` at the line and column of the matcher in `config`."""
    line = next(n for n, text in enumerate(config.read_text().splitlines(), 1) if "- severity" in text
                or "- team" in text)
    return re.search(re.escape(f"{config}:{line}:") + r"\d+: " + message, stderr) is not None


def regex_matcher(regex):
    """severity=~"REGEX", the regex escaped for a quoted matcher value."""
    return 'severity=~"' + regex.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Go's syntax (RE2) that Alertmanager accepts, with values each routes or not.
GO_REGEXES = {
    "(?i)CRIT.*": ["critical", "CRIT", "Crit-1", "warning"],
    "(?i:crit)ical": ["CRITical", "CRITICAL", "critical"],
    "(?P<level>crit|warn)(ical|ing)": ["critical", "warning", "critning", "info"],
    "(?i)[a-c]+": ["AbC", "abd"],
    "[[:upper:]]+": ["ABC", "abc"],
    "\\d+\\.\\d": ["1.5", "1x5"],
    "\\Qa.b\\E": ["a.b", "axb"],
    "[]a]+": ["]a", "b"],
    "a{": ["a{", "a"],
    "a{,2}": ["a{,2}", "aa"],
    "a.c": ["abc", "a\\nc"],
    "(?s)a.c": ["abc", "a\\nc"],
    "(?U)a+?b": ["aab"],
    "x*?y??": ["xxy", "x"],
    "\\x41\\101": ["AA", "A"],
    "^*crit": ["crit"],
    "a)|(b": ["ax", "xb", "x"],  # ^(?:a)|(b)$: Alertmanager anchors the text, Go reads the whole
    # Unicode classes, negated POSIX classes, non-ASCII in a class, `.` as one character,
    # Unicode folding, ^ inside (?m): run by RE2 as Go runs them (dosim refused them while it
    # translated for std::regex).
    "\\pL+": ["h\u00e9llo", "h1"],
    "\\p{Greek}+": ["\u03b1\u03b2", "ab"],
    "[[:^alpha:]]+": ["12", "a1"],
    "[\u00e9]": ["\u00e9", "e"],
    "h.llo": ["h\u00e9llo", "hllo"],
    "(?i)k": ["\u212a", "K", "x"],
    "(?m)a\\n^b": ["a\\nb", "ab"],
    # Exponential for a backtracking engine (std::regex took 12 s on the first value).
    "([a-z]+-?)+db": ["recommendationservice-primary", "ab-db"],
    "(a*)*b": ["a" * 40, "aab"],
}


def test_go_regular_expressions_route_as_amtool_routes_them():
    """Flag groups, named groups, \\Q...\\E, POSIX classes, a literal {: amtool check-config
    accepts each, and for each value dosim routes to the receivers amtool config routes test
    prints."""
    checks = Checks()
    for k, (regex, values) in enumerate(GO_REGEXES.items()):
        config = one_route(f"go-{k}", regex_matcher(regex))
        checked = amtool("check-config", config)
        assert checked.returncode == 0, (regex, checked.stdout)
        for value in values:
            label = f'severity="{value}"'
            expected = amtool("config", "routes", "test", f"--config.file={config}", label)
            assert expected.returncode == 0, (regex, value, expected.stderr)
            ours = dosim("routes", config, label)
            checks(ours.returncode == 0 and ours.stdout.strip() == expected.stdout.strip(),
                   f"{regex} {value!r}: dosim {ours.stdout.strip()!r} {ours.stderr}, "
                   f"amtool {expected.stdout.strip()!r}")
    checks.assert_passed()


# Go refuses these (amtool check-config: "error parsing regexp: ..."): dosim too, in Go's words.
GO_REFUSES = ["a**", "a???", "a+?+", "a{2}*", "x{2}{3}", "a{1001}", "a{2,1}", "(?=a)", "(?!a)",
              "(?<=a)", "(?<!a)", "(a)\\1", "(?#c)a", "\\e", "\\Z", "*a", "a|*", "[z-a]", "(a",
              "a)", "[a", "(?i-)a", "(?P<>a)", "[\\b]", "\\pX", "\\p{Nope}"]


def test_regular_expressions_go_refuses_are_refused_in_gos_words():
    checks = Checks()
    for k, regex in enumerate(GO_REFUSES):
        config = one_route(f"refused-{k}", regex_matcher(regex))
        checked = amtool("check-config", config)
        assert checked.returncode != 0, regex
        said = re.search(r"error parsing regexp: (.*)", checked.stdout + checked.stderr)
        assert said, (regex, checked.stdout)
        ours = dosim("routes", config, "severity=critical")
        checks(ours.returncode == 2 and at_matcher(config, "bad regular expression", ours.stderr)
               and said.group(1).strip() in ours.stderr,
               f"{regex}: amtool {said.group(1)!r}; dosim {ours.returncode} {ours.stderr!r}")
    checks.assert_passed()


def test_matcher_values_amtool_refuses_are_refused():
    """A double quote that is not a quoted value's closing one: amtool check-config fails
    ("matcher value contains unescaped double quote"), so does dosim, read alone or inline
    in a scenario; escapes other than \\n \\" \\\\ are kept as written, as Alertmanager keeps
    them."""
    for k, matcher in enumerate(['severity=="critical"', 'team=a"b', 'severity="crit',
                                 'severity="a"b"']):
        config = one_route(f"quote-{k}", matcher)
        checked = amtool("check-config", config)
        assert checked.returncode != 0 and "unescaped double quote" in checked.stdout, matcher
        ours = dosim("routes", config, "severity=critical")
        assert ours.returncode == 2, (matcher, ours.stdout)
        assert at_matcher(config, "bad matcher", ours.stderr), ours.stderr
        assert "unescaped double quote" in ours.stderr, ours.stderr
        scenario = TMP / f"inline-quote-{k}.yaml"
        document = {"name": "t", "duration": "1h", "services": [{"name": "web"}],
                    "alertmanager": yaml.safe_load(config.read_text())}
        scenario.write_text(yaml.safe_dump(document))
        named = dosim("validate", scenario)
        assert named.returncode == 2 and "unescaped double quote" in named.stderr, named.stderr
    config = one_route("kept-escape", 'severity="a\\tb"')
    assert amtool("check-config", config).returncode == 0
    for label in ['severity=a\\tb', 'severity=a\tb']:
        expected = amtool("config", "routes", "test", f"--config.file={config}", label)
        ours = dosim("routes", config, label)
        assert ours.stdout.strip() == expected.stdout.strip(), (label, ours.stdout, expected.stdout)


def test_receivers_that_send_resolved_are_notified_of_resolutions():
    """Alertmanager's send_resolved, with its defaults: a webhook receiver (on by default),
    or Slack with `send_resolved: true`, also gets a notification when a group's alerts
    resolve; email (off by default), or a webhook with `send_resolved: false`, does not.
    payments-mad's two incidents, one group each: two firing notifications to the team and
    one to the pager, and as many resolutions where they are sent. Alert reduction counts
    the firing ones."""
    template = (SOURCE_DIR / "scenarios" / "payments-alertmanager.yml").read_text()
    webhook = "    webhook_configs:\n      - url: http://127.0.0.1:9095/{name}\n"
    kinds = {
        "webhook": (webhook, 5),
        "webhook-off": (webhook + "        send_resolved: false\n", 0),
        "email": ("    email_configs:\n      - to: '{name}@example.org'\n"
                  "        from: 'am@example.org'\n        smarthost: 'localhost:25'\n", 0),
        "slack-on": ("    slack_configs:\n      - api_url: 'http://127.0.0.1:1/'\n"
                     "        channel: '#{name}'\n        send_resolved: true\n", 5),
    }
    counts = {}
    for kind, (integration, resolutions) in kinds.items():
        config = TMP / f"resolved-{kind}.yml"
        head = template[:template.index("receivers:")]
        config.write_text(head + "receivers:\n" + "".join(
            f"  - name: {name}\n" + integration.format(name=name) for name in ("team-payments", "oncall-pager")))
        assert amtool("check-config", config).returncode == 0, (kind, amtool("check-config", config).stdout)
        scenario = TMP / f"resolved-{kind}.yaml"
        scenario.write_text((SOURCE_DIR / "scenarios" / "payments-mad.yaml").read_text()
                            .replace("alertmanager: payments-alertmanager.yml", f"alertmanager: {config}"))
        trace = TMP / f"resolved-{kind}.h5"
        run = dosim("run", scenario, "-o", trace)
        assert run.returncode == 0, run.stderr
        line = next(l for l in run.stdout.splitlines() if "raw alerts ->" in l)
        scored = json.loads(dosim("score", trace, "--json").stdout)["alertmanager"]
        assert scored["resolutions"] == resolutions, (kind, line)
        assert scored["notifications"] == 5 + resolutions, (kind, line)
        assert (f"{resolutions} of them resolutions" in line) == (resolutions > 0), line
        assert "(alert reduction 44%)" in line, line  # 9 raw alerts, 5 firing notifications
        with h5py.File(trace) as f:
            flags = list(f["notifications/resolution"][:])
            carried = list(f["notifications/alerts"][:])
        # A resolution closing a group carries no firing alert.
        assert sum(flags) == resolutions and all(c == 0 for c, r in zip(carried, flags) if r), kind
        counts[kind] = scored["receivers"]
    assert counts["webhook"] == {"team-payments": 8, "oncall-pager": 2}, counts
    assert counts["email"] == counts["webhook-off"] == {"team-payments": 4, "oncall-pager": 1}, counts


def test_matcher_braces_and_empty_matchers_read_as_amtool_reads_them():
    """Alertmanager's ParseMatchers drops a leading '{' and a trailing '}' each on its own and
    reads nothing left as no matcher: '{severity="critical"' and 'severity=critical}' are
    severity=critical (dosim refused the first and read 'critical}' in the second), '{}' and
    '' match every alert (dosim refused them). Routed as amtool config routes test routes."""
    checks = Checks()
    for k, matcher in enumerate(['{severity="critical"', 'severity=critical}', '{}', '',
                                 '{severity="critical",}']):
        config = one_route(f"braces-{k}", matcher)
        checked = amtool("check-config", config)
        assert checked.returncode == 0, (matcher, checked.stdout)
        for label in ('severity="critical"', 'severity="warning"'):
            routes_as_amtool(checks, config, label, repr(matcher))
    checks.assert_passed()


def test_a_match_value_left_empty_is_the_empty_value_as_amtool_reads_it():
    """`match: {n: ~}` (or `n:` alone) is "" to Alertmanager: it matches an alert without the
    label; dosim refused it ("expected a string for a label value, got nothing")."""
    checks = Checks()
    for k, written in enumerate(["{n: ~}", "{n: }", "{n: null}"]):
        config = TMP / f"match-empty-{k}.yml"
        config.write_text("route:\n  receiver: a\n  routes:\n    - receiver: b\n"
                          f"      match: {written}\nreceivers:\n  - name: a\n  - name: b\n")
        assert amtool("check-config", config).returncode == 0, written
        for label in ("x=1", "n=1", 'n=""'):
            routes_as_amtool(checks, config, label, written)
    checks.assert_passed()


def routes_as_amtool(checks, config, label, what):
    """Checks that `dosim routes CONFIG LABEL` names the receivers amtool's routes test does."""
    expected = amtool("config", "routes", "test", f"--config.file={config}", label)
    ours = dosim("routes", config, label)
    checks(ours.returncode == 0 and ours.stdout.strip() == expected.stdout.strip(),
           f"{what} {label}: dosim {ours.stdout.strip()!r} {ours.stderr.strip()!r}, "
           f"amtool {expected.stdout.strip()!r}")
