#include "dosim/analysis/bench_report.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "analysis/html_page.h"
#include "analysis/spread.h"

namespace dosim {
namespace {

using Json = nlohmann::ordered_json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

enum class Better { kNeither, kHigher, kLower };

// The columns of the bench's text table (cli/bench_command.cc), in its order and formats.
// `random`: the random baseline's key for the same metric, given in the cell's hover title.
struct Column {
  const char* key;
  const char* header;
  const char* format;
  Better better;  // which way the best median lies (shown in bold)
  const char* random;
  const char* about;
};

constexpr Column kColumns[] = {
    {"precision", "precision", "%.2f", Better::kHigher, "precision_random",
     "matched alerts / alerts (1 with no alerts)"},
    {"recall", "recall", "%.2f", Better::kHigher, "recall_random",
     "detected incidents / scored incidents"},
    {"f1", "F1", "%.2f", Better::kHigher, nullptr, "2PR / (P + R)"},
    {"f1_random", "F1 random", "%.2f", Better::kNeither, nullptr,
     "F1 of the random baseline: as many alerts as the detector, at random times"},
    {"ttd_median_s", "TTD p50 s", "%.0f", Better::kLower, nullptr,
     "median time to detect in seconds, over the runs that detected something"},
    {"false_alarms_per_hour", "false/h", "%.2f", Better::kLower, "false_alarms_per_hour_random",
     "false alarms per fault-free hour"},
    {"alerts", "alerts", "%.0f", Better::kNeither, nullptr, "alerts per run"},
    {"nab_standard", "NAB std", "%.1f", Better::kHigher, nullptr, "NAB score, standard profile"},
    {"range_f1", "range F1", "%.2f", Better::kHigher, nullptr,
     "range-based F1 (time overlap of alerts and impact windows)"},
};

double number_or_nan(const Json& value) { return value.is_number() ? value.get<double>() : kNaN; }

// A summary entry of the JSON, {median, min, max, runs}.
Spread spread_in(const Json& entry) {
  Spread s;
  if (!entry.is_object()) return s;
  s.median = number_or_nan(entry.value("median", Json()));
  s.min = number_or_nan(entry.value("min", Json()));
  s.max = number_or_nan(entry.value("max", Json()));
  const Json runs = entry.value("runs", Json());
  s.runs = runs.is_number_unsigned() ? runs.get<std::size_t>() : 0;
  // Runs with values but a null: the value is infinite (JSON has none; false alarms per hour
  // with no fault-free time), the text table's inf, not "no run has one".
  for (double* v : {&s.median, &s.min, &s.max})
    if (s.runs > 0 && std::isnan(*v)) *v = std::numeric_limits<double>::infinity();
  return s;
}

// The shortest text that reads back as `value` (as the JSON has it).
std::string exact(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";  // false alarms a fault-free hour
  return std::isfinite(value) ? Json(value).dump() : "none";
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string row_name(const std::string& row) { return row == "null" ? "null (no alerts)" : row; }

// The table of one set of runs: a row per detector, then the null baseline; `spread(row, key)`
// gives a cell. `attributes`: the table's own (data-overall or data-scenario).
std::string table_html(const std::vector<std::string>& rows, const std::string& attributes,
                       const std::function<Spread(const std::string&, const char*)>& spread,
                       std::size_t runs) {
  constexpr std::size_t kCount = std::size(kColumns);
  std::vector<std::array<Spread, kCount>> cells(rows.size()), randoms(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t k = 0; k < kCount; ++k) {
      cells[r][k] = spread(rows[r], kColumns[k].key);
      if (kColumns[k].random) randoms[r][k] = spread(rows[r], kColumns[k].random);
    }
  // The best median among the detectors (not the null row), per column where one is better.
  std::array<double, kCount> best;
  for (std::size_t k = 0; k < kCount; ++k) {
    std::vector<double> medians;
    for (std::size_t r = 0; r < rows.size(); ++r)
      if (rows[r] != "null" && std::isfinite(cells[r][k].median))
        medians.push_back(cells[r][k].median);
    best[k] = kNaN;
    if (kColumns[k].better == Better::kNeither || medians.size() < 2) continue;
    best[k] = kColumns[k].better == Better::kHigher
                  ? *std::max_element(medians.begin(), medians.end())
                  : *std::min_element(medians.begin(), medians.end());
  }

  std::string html = "<div class=\"table-wrap\"><table class=\"data bench-table\" " + attributes +
                     ">\n<thead><tr><th>detector</th>";
  for (const Column& c : kColumns)
    html += "<th title=\"" + html_escaped(c.about) + "\">" + c.header + "</th>";
  html += "</tr></thead>\n<tbody>\n";
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::string& row = rows[r];
    const std::string name = html_escaped(row);
    html += "<tr data-detector=\"" + name + "\"" + (row == "null" ? " class=\"baseline\"" : "") +
            "><td><span class=\"swatch\" data-detector=\"" + name + "\"></span>" +
            html_escaped(row_name(row)) + "</td>";
    for (std::size_t k = 0; k < kCount; ++k) {
      const Column& c = kColumns[k];
      const Spread& s = cells[r][k];
      std::string title = row_name(row) + ", " + c.header + ": ";
      std::string text = "-";
      // An infinite median is a value (false alarms per hour of a run with no fault-free
      // time: the text table's inf), not "no run has one".
      if (s.runs > 0 && !std::isnan(s.median)) {
        title += "median " + exact(s.median) + ", min " + exact(s.min) + ", max " + exact(s.max) +
                 " over " + plural(s.runs, "run");
        text = html_escaped(spread_text(s.median, c.format));
        const std::string low = spread_text(s.min, c.format), high = spread_text(s.max, c.format);
        if (low != high)
          text += "<span class=\"range\">" + html_escaped(low) + "&#8211;" + html_escaped(high) +
                  "</span>";
      } else {
        title += "no run has a value";
      }
      if (s.runs < runs) title += " (" + std::to_string(runs - s.runs) + " without one)";
      const Spread& random = randoms[r][k];
      if (c.random && row != "null" && random.runs > 0)
        title += "\nrandom baseline at the same alert rate: median " + exact(random.median) +
                 ", min " + exact(random.min) + ", max " + exact(random.max);
      const bool is_best = row != "null" && s.median == best[k];
      html += std::string("<td data-metric=\"") + c.key + "\"" +
              (is_best ? " class=\"best\"" : "") + " title=\"" + html_escaped(title) + "\">" +
              text + "</td>";
    }
    html += "</tr>\n";
  }
  html += "</tbody></table></div>\n";
  return html;
}

// Simulated seconds for people: "40 min", "2 h", "7 d", "1 h 30 min".
std::string duration_text(double seconds) {
  const auto whole = static_cast<long long>(std::llround(seconds));
  const std::pair<long long, const char*> units[] = {{86400, "d"}, {3600, "h"}, {60, "min"}};
  std::string text;
  long long rest = whole;
  for (const auto& [size, name] : units)
    if (rest >= size) {
      text += (text.empty() ? "" : " ") + std::to_string(rest / size) + " " + name;
      rest %= size;
    }
  if (rest > 0 || text.empty()) text += (text.empty() ? "" : " ") + std::to_string(rest) + " s";
  return text;
}

// The last part of a path ("scenarios/a.yaml" -> "a.yaml").
std::string base_name(const std::string& path) {
  const std::size_t slash = path.find_last_of("/\\");
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return base.empty() ? path : base;
}

// The strings of a JSON list, each once, in their order (one row or table per name).
void strings_of(const Json& list, std::vector<std::string>& out) {
  if (!list.is_array()) return;
  for (const Json& item : list)
    if (item.is_string() && std::find(out.begin(), out.end(), item.get<std::string>()) == out.end())
      out.push_back(item.get<std::string>());
}

}  // namespace

std::string render_bench_report(const std::string& results_json) {
  Json data = Json::parse(results_json, nullptr, /*allow_exceptions=*/false);
  if (data.is_discarded()) throw std::invalid_argument("render_bench_report: not JSON");
  if (!data.is_object()) data = Json::object();  // the page says it has no results
  std::vector<std::string> detectors, scenarios;
  strings_of(data.value("detectors", Json()), detectors);
  strings_of(data.value("scenarios", Json()), scenarios);
  std::vector<std::string> rows = detectors;
  rows.push_back("null");
  const Json runs = data.value("runs", Json::array());
  const Json summary = data.value("summary", Json::object());
  const Json seeds = data.value("seeds", Json());
  const std::size_t run_count = runs.is_array() ? runs.size() : 0;
  // As the bench counts them (a scenario listed twice runs twice; its runs share one table).
  const auto listed = [&](const char* key, std::size_t fallback) {
    const Json list = data.value(key, Json());
    return list.is_array() ? list.size() : fallback;
  };

  // A run's value of `key` for `row`; NaN where it has none.
  const auto value = [](const Json& run, const std::string& row, const char* key) {
    if (!run.is_object() || !run.contains("scores") || !run["scores"].is_object()) return kNaN;
    const Json& scores = run["scores"];
    if (!scores.contains(row) || !scores[row].is_object()) return kNaN;
    const Json& given = scores[row].value(key, Json());
    // JSON has no infinity: a run's false alarms per fault-free hour with no fault-free time
    // is written null (docs/scoring.md), and read back as the inf it is.
    if (given.is_null() && std::string_view(key) == "false_alarms_per_hour" &&
        scores[row].contains(key))
      return std::numeric_limits<double>::infinity();
    return number_or_nan(given);
  };

  std::string body = "<header class=\"page\"><h1>dosim bench</h1><span class=\"sub\">" +
                     plural(listed("detectors", 0), "detector") + " x " +
                     plural(listed("scenarios", 0), "scenario") + " x " +
                     plural(seeds.is_number_unsigned() ? seeds.get<std::size_t>() : 0, "seed") +
                     " = " + plural(run_count, "run") + "</span></header>\n<main id=\"bench\">\n";
  body +=
      "<section id=\"overall\"><h2>All runs</h2><p class=\"muted intro\">Medians over all runs, "
      "min&#8211;max under them where they differ: the bench's table. Bold: the best median "
      "among the detectors. Hover a cell for exact values and the random baseline's. The "
      "random baseline raises as many alerts as the detector in the same run, at random times "
      "on random services; the null baseline raises none.</p>\n";
  body += table_html(
      rows, "data-overall=\"true\"",
      [&](const std::string& row, const char* key) {
        if (summary.is_object() && summary.contains(row) && summary[row].is_object() &&
            summary[row].contains(key))
          return spread_in(summary[row][key]);  // the bench's own numbers
        std::vector<double> values;
        for (const Json& run : runs) values.push_back(value(run, row, key));
        return spread_of(std::move(values));
      },
      run_count);
  body +=
      "</section>\n<section id=\"scenarios\"><h2>Per scenario</h2><p class=\"muted intro\">The "
      "same table over each scenario's runs.</p>\n";
  std::vector<std::string> bases;
  for (const std::string& s : scenarios) bases.push_back(base_name(s));
  for (const std::string& scenario : scenarios) {
    std::vector<const Json*> own;
    for (const Json& run : runs)
      if (run.is_object() && run.value("scenario", Json()) == scenario) own.push_back(&run);
    std::vector<std::uint64_t> seed_values;
    std::vector<double> incidents, simulated;
    for (const Json* run : own) {
      const Json seed = run->value("seed", Json());
      if (seed.is_number_unsigned()) seed_values.push_back(seed.get<std::uint64_t>());
      incidents.push_back(number_or_nan(run->value("scored_incidents", Json())));
      simulated.push_back(number_or_nan(run->value("simulated_s", Json())));
    }
    const std::string base = base_name(scenario);
    const bool unique = std::count(bases.begin(), bases.end(), base) == 1;
    body += "<div class=\"scenario-block\"><h3>" + html_escaped(unique ? base : scenario);
    if (unique && base != scenario)
      body += " <span class=\"muted path\">" + html_escaped(scenario) + "</span>";
    std::string about = plural(own.size(), "run");
    if (!seed_values.empty()) {
      const auto [low, high] = std::minmax_element(seed_values.begin(), seed_values.end());
      about += ", seeds " + std::to_string(*low) +
               (*high > *low ? "-" + std::to_string(*high) : std::string());
    }
    const Spread incident = spread_of(incidents), span = spread_of(simulated);
    if (incident.runs > 0)
      about += "; scored incidents per run " + spread_text(incident.min, "%.0f") +
               (incident.max > incident.min ? "-" + spread_text(incident.max, "%.0f") : "");
    if (span.runs > 0) about += "; " + duration_text(span.median) + " simulated";
    body += "</h3><p class=\"muted\">" + html_escaped(about) + "</p>\n";
    body += table_html(
        rows, "data-scenario=\"" + html_escaped(scenario) + "\"",
        [&](const std::string& row, const char* key) {
          std::vector<double> values;
          for (const Json* run : own) values.push_back(value(*run, row, key));
          return spread_of(std::move(values));
        },
        own.size());
    body += "</div>\n";
  }
  body +=
      "</section>\n<div id=\"bench-charts\"><noscript>The charts are drawn with JavaScript; "
      "the results are in the JSON at the end of the file.</noscript></div>\n</main>";

  HtmlPage page;
  page.title = "dosim bench";
  page.styles = {"common.css", "bench_report.css"};
  page.scripts = {"charts.js", "bench_report.js"};
  page.data_json = results_json;
  page.body = std::move(body);
  return render_html_page(page);
}

}  // namespace dosim
