#include "sweep_table.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>

#include "analysis/spread.h"
#include "dosim/version.h"
#include "util/hdf5.h"

namespace dosim::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A column of one of the tables.
struct Column {
  std::string name;
  enum class Kind { kInteger, kNumber, kText } kind;
  std::vector<std::int64_t> integers;
  std::vector<double> numbers;
  std::vector<std::string> texts;
};

struct Table {
  std::string name;
  std::vector<Column> columns;
  std::size_t rows = 0;

  Column& add(std::string column_name, Column::Kind kind) {
    columns.push_back(Column{std::move(column_name), kind, {}, {}, {}});
    return columns.back();
  }
};

// Metrics that count (alerts, false alarms, detected incidents): whole numbers in a run row.
bool is_count(const std::string& metric) {
  return metric == "alerts" || metric == "false_alarms" || metric == "detected_incidents";
}

double number_or_nan(const SweepJson& value) {
  return value.is_number() ? value.get<double>() : kNaN;
}

// The three tables, from the header and the runs in run order.
std::vector<Table> build_tables(const SweepJson& header, const std::vector<SweepJson>& runs) {
  const SweepJson& cells = header.at("cells");
  const SweepJson& parameters = header.at("parameters");
  const SweepJson& rows = header.at("rows");
  const std::vector<std::string>& metrics = sweep_metrics();
  const std::size_t seeds = header.at("seeds_per_cell").get<std::size_t>();

  // The columns every table starts with: the cell and what it holds.
  auto add_cell_columns = [&](Table& table) {
    table.add("cell", Column::Kind::kInteger);
    table.add("scenario", Column::Kind::kText);
    table.add("mode", Column::Kind::kText);
    for (const SweepJson& parameter : parameters)
      table.add(parameter.at("path").get<std::string>(),
                parameter.at("numeric").get<bool>() ? Column::Kind::kNumber : Column::Kind::kText);
  };
  auto push_cell = [&](Table& table, std::size_t cell) {
    const SweepJson& c = cells.at(cell);
    table.columns[0].integers.push_back(static_cast<std::int64_t>(cell));
    table.columns[1].texts.push_back(c.at("scenario").get<std::string>());
    table.columns[2].texts.push_back(c.at("mode").get<std::string>());
    for (std::size_t p = 0; p < parameters.size(); ++p) {
      Column& column = table.columns[3 + p];
      const SweepJson& value = c.at(column.name);
      if (column.kind == Column::Kind::kNumber)
        column.numbers.push_back(value.get<double>());
      else
        column.texts.push_back(value.get<std::string>());
    }
  };
  const std::size_t first_free = 3 + parameters.size();

  Table cell_table{"cells", {}, 0};
  add_cell_columns(cell_table);
  for (std::size_t c = 0; c < cells.size(); ++c) push_cell(cell_table, c);
  cell_table.rows = cells.size();

  Table run_table{"runs", {}, 0};
  add_cell_columns(run_table);
  run_table.add("run", Column::Kind::kInteger);
  run_table.add("seed", Column::Kind::kInteger);
  run_table.add("detector", Column::Kind::kText);
  run_table.add("simulated_s", Column::Kind::kNumber);
  run_table.add("scored_incidents", Column::Kind::kInteger);
  for (const std::string& metric : metrics)
    run_table.add(metric, is_count(metric) ? Column::Kind::kInteger : Column::Kind::kNumber);
  for (std::size_t run = 0; run < runs.size(); ++run) {
    const SweepJson& result = runs[run];
    for (std::size_t d = 0; d < rows.size(); ++d) {
      push_cell(run_table, run / seeds);
      auto column = run_table.columns.begin() + static_cast<std::ptrdiff_t>(first_free);
      (column++)->integers.push_back(static_cast<std::int64_t>(run));
      (column++)->integers.push_back(result.at("seed").get<std::int64_t>());
      (column++)->texts.push_back(rows.at(d).get<std::string>());
      (column++)->numbers.push_back(result.at("simulated_s").get<double>());
      (column++)->integers.push_back(result.at("scored_incidents").get<std::int64_t>());
      const SweepJson& values = result.at("metrics").at(d);
      for (std::size_t m = 0; m < metrics.size(); ++m, ++column) {
        if (column->kind == Column::Kind::kInteger)
          column->integers.push_back(values.at(m).is_number() ? values.at(m).get<std::int64_t>()
                                                              : 0);
        else
          column->numbers.push_back(number_or_nan(values.at(m)));
      }
      ++run_table.rows;
    }
  }

  Table summary{"summary", {}, 0};
  add_cell_columns(summary);
  summary.add("detector", Column::Kind::kText);
  summary.add("seeds", Column::Kind::kInteger);
  for (const std::string& metric : metrics) {
    summary.add(metric + "_median", Column::Kind::kNumber);
    summary.add(metric + "_min", Column::Kind::kNumber);
    summary.add(metric + "_max", Column::Kind::kNumber);
    summary.add(metric + "_n", Column::Kind::kInteger);
  }
  for (std::size_t c = 0; c < cells.size() && !runs.empty(); ++c) {
    for (std::size_t d = 0; d < rows.size(); ++d) {
      push_cell(summary, c);
      auto column = summary.columns.begin() + static_cast<std::ptrdiff_t>(first_free);
      (column++)->texts.push_back(rows.at(d).get<std::string>());
      (column++)->integers.push_back(static_cast<std::int64_t>(seeds));
      for (std::size_t m = 0; m < metrics.size(); ++m) {
        std::vector<double> values;
        for (std::size_t k = 0; k < seeds; ++k)
          values.push_back(number_or_nan(runs[c * seeds + k].at("metrics").at(d).at(m)));
        const Spread s = spread_of(std::move(values));
        (column++)->numbers.push_back(s.median);
        (column++)->numbers.push_back(s.min);
        (column++)->numbers.push_back(s.max);
        (column++)->integers.push_back(static_cast<std::int64_t>(s.runs));
      }
      ++summary.rows;
    }
  }
  std::vector<Table> tables;
  tables.push_back(std::move(cell_table));
  tables.push_back(std::move(run_table));
  tables.push_back(std::move(summary));
  return tables;
}

SweepJson rows_of(const Table& table) {
  SweepJson rows = SweepJson::array();
  for (std::size_t r = 0; r < table.rows; ++r) {
    SweepJson row = SweepJson::object();
    for (const Column& column : table.columns) {
      switch (column.kind) {
        case Column::Kind::kInteger:
          row[column.name] = column.integers[r];
          break;
        case Column::Kind::kNumber:
          row[column.name] =
              std::isfinite(column.numbers[r]) ? SweepJson(column.numbers[r]) : SweepJson(nullptr);
          break;
        case Column::Kind::kText:
          row[column.name] = column.texts[r];
          break;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string joined(const SweepJson& list, const char* key = nullptr) {
  std::string out;
  for (const SweepJson& item : list) {
    if (!out.empty()) out += '\n';
    out += key ? item.at(key).get<std::string>() : item.get<std::string>();
  }
  return out;
}

// An HDF5 link name for a column: '/' would make a path.
std::string link_name(const std::string& column) {
  std::string out;
  for (const char c : column) out += c == '/' ? std::string("%2F") : std::string(1, c);
  return out;
}

// "0.52 (0.40-0.61)": the median, with min-max where they differ.
}  // namespace

const std::vector<std::string>& sweep_metrics() {
  static const std::vector<std::string> metrics = {"precision",
                                                   "recall",
                                                   "f1",
                                                   "f1_random",
                                                   "precision_random",
                                                   "recall_random",
                                                   "ttd_median_s",
                                                   "false_alarms",
                                                   "false_alarms_per_hour",
                                                   "false_alarms_per_hour_random",
                                                   "alerts",
                                                   "detected_incidents",
                                                   "nab_standard",
                                                   "nab_reward_low_fp",
                                                   "nab_reward_low_fn",
                                                   "range_precision",
                                                   "range_recall",
                                                   "range_f1"};
  return metrics;
}

bool is_fixed_column(const std::string& name) {
  static const std::vector<std::string> fixed = {
      "cell",        "scenario",         "mode", "run", "seed", "detector",
      "simulated_s", "scored_incidents", "seeds"};
  if (std::find(fixed.begin(), fixed.end(), name) != fixed.end()) return true;
  for (const std::string& metric : sweep_metrics()) {
    if (name == metric) return true;
    for (const char* suffix : {"_median", "_min", "_max", "_n"})
      if (name == metric + suffix) return true;
  }
  return false;
}

SweepJson sweep_header(const SweepPlan& plan) {
  const SweepSpec& spec = plan.spec;
  SweepJson header;
  header["format"] = "dosim-sweep";
  header["format_version"] = kSweepFormatVersion;
  header["dosim_version"] = DOSIM_VERSION;
  header["sweep_hash"] = plan.hash;
  header["name"] = spec.name;
  header["scenarios"] = spec.scenarios;
  SweepJson parameters = SweepJson::array();
  for (const SweepParameter& parameter : spec.parameters) {
    bool numeric = parameter.random ? parameter.unit.empty() : true;
    for (const SweepValue& value : parameter.values) numeric = numeric && value.numeric;
    SweepJson p;
    p["path"] = parameter.path;
    p["numeric"] = numeric;
    p["kind"] = parameter.random ? "random" : "grid";
    parameters.push_back(std::move(p));
  }
  header["parameters"] = parameters;
  header["random_samples"] = spec.samples;
  header["random_seed"] = spec.random_seed;
  header["detectors"] = spec.detectors;
  SweepJson rows = spec.detectors;
  rows.push_back("null");
  header["rows"] = std::move(rows);
  header["modes"] = spec.modes;
  header["seeds_per_cell"] = plan.seeds_per_cell;
  header["seeds"] = spec.seeds;
  header["metrics"] = sweep_metrics();
  header["runs_total"] = plan.run_count();
  SweepJson cells = SweepJson::array();
  for (std::size_t c = 0; c < plan.cells.size(); ++c) {
    SweepJson cell;
    cell["cell"] = c;
    cell["scenario"] = spec.scenarios[plan.cells[c].scenario];
    cell["mode"] = plan.cells[c].mode;
    for (std::size_t p = 0; p < spec.parameters.size(); ++p) {
      const SweepValue& value = plan.value(c, p);
      if (parameters[p]["numeric"].get<bool>())
        cell[spec.parameters[p].path] = value.number;
      else
        cell[spec.parameters[p].path] = value.display;
    }
    cells.push_back(std::move(cell));
  }
  header["cells"] = std::move(cells);
  return header;
}

void check_sweep_header(const SweepJson& header) {
  auto fail = [](const std::string& what) { throw std::runtime_error("its header " + what); };
  if (!header.is_object()) fail("is not an object");
  auto get = [&](const std::string& key) -> const SweepJson& {
    if (!header.contains(key)) fail("has no '" + key + "'");
    return header.at(key);
  };
  auto is_whole = [](const SweepJson& value) {
    return value.is_number_unsigned() ||
           (value.is_number_integer() && value.get<std::int64_t>() >= 0);
  };
  auto whole = [&](const std::string& key, std::uint64_t low, std::uint64_t high) {
    const SweepJson& value = get(key);
    if (!is_whole(value) || value.get<std::uint64_t>() < low || value.get<std::uint64_t>() > high)
      fail("'" + key + "' is not a whole number in [" + std::to_string(low) + ", " +
           std::to_string(high) + "]: " + value.dump());
    return static_cast<std::size_t>(value.get<std::uint64_t>());
  };
  auto texts = [&](const std::string& key) {
    const SweepJson& value = get(key);
    std::vector<std::string> out;
    if (!value.is_array()) fail("'" + key + "' is not a list of texts");
    for (const SweepJson& item : value) {
      if (!item.is_string()) fail("'" + key + "' is not a list of texts");
      out.push_back(item.get<std::string>());
    }
    return out;
  };
  if (get("format") != "dosim-sweep") fail("is not a dosim sweep's (format 'dosim-sweep')");
  if (get("format_version") != kSweepFormatVersion)
    fail("is of another format version (" + get("format_version").dump() + ")");
  for (const char* key : {"dosim_version", "sweep_hash", "name"})
    if (!get(key).is_string()) fail("'" + std::string(key) + "' is not a text");
  const std::vector<std::string> scenarios = texts("scenarios");
  if (scenarios.empty()) fail("names no scenario");
  const SweepJson& parameters = get("parameters");
  if (!parameters.is_array()) fail("'parameters' is not a list");
  std::set<std::string> paths;
  for (const SweepJson& parameter : parameters) {
    if (!parameter.is_object() || !parameter.contains("path") || !parameter["path"].is_string() ||
        !parameter.contains("numeric") || !parameter["numeric"].is_boolean() ||
        !parameter.contains("kind") ||
        (parameter["kind"] != "grid" && parameter["kind"] != "random"))
      fail("has a parameter that is not {path: TEXT, numeric: BOOLEAN, kind: grid|random}: " +
           parameter.dump());
    const std::string path = parameter["path"].get<std::string>();
    if (path.empty() || is_fixed_column(path))
      fail("has a parameter named '" + path + "', a column of the results");
    if (!paths.insert(path).second) fail("has the parameter '" + path + "' twice");
  }
  whole("random_samples", 0, 1'000'000);
  whole("random_seed", 0, std::numeric_limits<std::uint64_t>::max());
  std::vector<std::string> rows = texts("detectors");
  rows.push_back("null");
  if (texts("rows") != rows) fail("has other 'rows' than its detectors and null");
  for (const std::string& mode : texts("modes"))
    if (mode != "fluid" && mode != "requests") fail("has the mode '" + mode + "'");
  const std::size_t seeds = whole("seeds_per_cell", 1, kMaxSweepRuns);
  const SweepJson& seed_list = get("seeds");
  if (!seed_list.is_array() || (!seed_list.empty() && seed_list.size() != seeds) ||
      !std::all_of(seed_list.begin(), seed_list.end(), is_whole))
    fail("'seeds' is not a list of seeds_per_cell seeds, nor empty");
  if (texts("metrics") != sweep_metrics()) fail("has other metrics than this dosim's");
  const SweepJson& cells = get("cells");
  if (!cells.is_array() || cells.size() > kMaxSweepCells)
    fail("'cells' is not a list of at most " + std::to_string(kMaxSweepCells) + " cells");
  const std::size_t total = whole("runs_total", 0, kMaxSweepRuns);
  if (total != cells.size() * seeds)
    fail("'runs_total' is " + std::to_string(total) + ", not its " + std::to_string(cells.size()) +
         " cells x " + std::to_string(seeds) + " seeds");
  for (std::size_t c = 0; c < cells.size(); ++c) {
    const SweepJson& cell = cells[c];
    const std::string which = "'cells' entry " + std::to_string(c);
    if (!cell.is_object() || !cell.contains("cell") || !is_whole(cell["cell"]) ||
        cell["cell"].get<std::uint64_t>() != c)
      fail("has a " + which + " that is not {cell: " + std::to_string(c) + ", ...}");
    if (!cell.contains("scenario") || !cell["scenario"].is_string() ||
        std::find(scenarios.begin(), scenarios.end(), cell["scenario"].get<std::string>()) ==
            scenarios.end())
      fail("has a " + which + " whose 'scenario' is not one of its scenarios");
    if (!cell.contains("mode") || (cell["mode"] != "fluid" && cell["mode"] != "requests"))
      fail("has a " + which + " whose 'mode' is not fluid or requests");
    for (const SweepJson& parameter : parameters) {
      const std::string path = parameter["path"].get<std::string>();
      const bool numeric = parameter["numeric"].get<bool>();
      if (!cell.contains(path) || (numeric ? !cell[path].is_number() : !cell[path].is_string()))
        fail("has a " + which + " without " + (numeric ? "a number" : "a text") + " for '" + path +
             "' (the parameter's 'numeric' is " + (numeric ? "true" : "false") + ")");
    }
  }
}

std::string run_result_text(const SweepPlan& plan, std::size_t run, const BenchRun& result) {
  SweepJson out;
  out["run"] = run;
  out["seed"] = plan.seed_of(run);
  out["simulated_s"] = exact_seconds(result.simulated);
  out["scored_incidents"] = result.scored_incidents;
  SweepJson metrics = SweepJson::array();
  for (const nlohmann::ordered_json& scores : result.detectors) {
    SweepJson values = SweepJson::array();
    for (const std::string& metric : sweep_metrics()) {
      const SweepJson& v = scores.at(metric);
      values.push_back(v.is_number() && std::isfinite(v.get<double>()) ? v : SweepJson(nullptr));
    }
    metrics.push_back(std::move(values));
  }
  out["metrics"] = std::move(metrics);
  return out.dump();
}

SweepJson parse_run_result(const std::string& text, const SweepJson& header) {
  SweepJson result;
  try {
    result = SweepJson::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("not JSON: ") + e.what());
  }
  const std::size_t total = header.at("runs_total").get<std::size_t>();
  const std::size_t rows = header.at("rows").size();
  const std::size_t metrics = header.at("metrics").size();
  auto fail = [](const std::string& what) { throw std::runtime_error(what); };
  if (!result.is_object() || !result.contains("run") || !result["run"].is_number_unsigned() ||
      result["run"].get<std::size_t>() >= total)
    fail("no run index within the sweep's " + std::to_string(total) + " runs");
  for (const char* key : {"seed", "scored_incidents"})
    if (!result.contains(key) || !result[key].is_number_integer()) fail(std::string("no ") + key);
  if (!result.contains("simulated_s") || !result["simulated_s"].is_number()) fail("no simulated_s");
  if (!result.contains("metrics") || !result["metrics"].is_array() ||
      result["metrics"].size() != rows)
    fail("not one list of metrics per detector");
  for (const SweepJson& values : result["metrics"]) {
    if (!values.is_array() || values.size() != metrics) fail("not every metric");
    for (const SweepJson& v : values)
      if (!v.is_number() && !v.is_null()) fail("a metric that is not a number");
  }
  return result;
}

std::string render_sweep_json(const SweepJson& header, const std::vector<SweepJson>& runs) {
  const std::vector<Table> tables = build_tables(header, runs);
  SweepJson out;
  for (const auto& [key, value] : header.items())
    if (key != "cells") out[key] = value;
  for (const Table& table : tables) out[table.name] = rows_of(table);
  return out.dump(1) + "\n";
}

std::string write_sweep_hdf5(const std::string& path, const SweepJson& header,
                             const std::vector<SweepJson>& runs) {
  using namespace hdf5;
  quiet_errors();
  const std::vector<Table> tables = build_tables(header, runs);
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  try {
    PropertyList fcpl(check(H5Pcreate(H5P_FILE_CREATE), "fcpl"));
    check(H5Pset_obj_track_times(fcpl.get(), 0), "root group times");
    PropertyList fapl(check(H5Pcreate(H5P_FILE_ACCESS), "fapl"));
    check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110), "libver");
    const hid_t id = H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
    if (id < 0) return error_reason();
    File file(id);
    write_string_attribute(file.get(), "format", header.at("format").get<std::string>());
    write_attribute<std::int64_t>(file.get(), "format_version", H5T_STD_I64LE,
                                  header.at("format_version").get<std::int64_t>());
    for (const char* key : {"dosim_version", "sweep_hash", "name"})
      write_string_attribute(file.get(), key, header.at(key).get<std::string>());
    write_string_attribute(file.get(), "scenarios", joined(header.at("scenarios")));
    write_string_attribute(file.get(), "parameters", joined(header.at("parameters"), "path"));
    write_string_attribute(file.get(), "detectors", joined(header.at("detectors")));
    write_attribute<std::int64_t>(file.get(), "seeds_per_cell", H5T_STD_I64LE,
                                  header.at("seeds_per_cell").get<std::int64_t>());
    // The rest of the JSON's header, so that both files say the same sweep.
    write_attribute<std::int64_t>(file.get(), "random_samples", H5T_STD_I64LE,
                                  header.at("random_samples").get<std::int64_t>());
    write_attribute<std::uint64_t>(file.get(), "random_seed", H5T_STD_U64LE,
                                   header.at("random_seed").get<std::uint64_t>());
    write_attribute<std::int64_t>(file.get(), "runs_total", H5T_STD_I64LE,
                                  header.at("runs_total").get<std::int64_t>());
    for (const char* key : {"rows", "modes", "metrics"})
      write_string_attribute(file.get(), key, joined(header.at(key)));
    std::string seeds;
    for (const SweepJson& seed : header.at("seeds"))
      seeds += (seeds.empty() ? "" : "\n") + std::to_string(seed.get<std::uint64_t>());
    write_string_attribute(file.get(), "seeds", seeds);
    for (const Table& table : tables) {
      Group group = make_group(file.get(), table.name);
      std::string order;
      for (const Column& column : table.columns) order += (order.empty() ? "" : "\n") + column.name;
      write_string_attribute(group.get(), "columns", order);
      for (const Column& column : table.columns) {
        const std::string name = link_name(column.name);
        switch (column.kind) {
          case Column::Kind::kInteger:
            write_numbers<std::int64_t>(group.get(), name, H5T_STD_I64LE, column.integers);
            break;
          case Column::Kind::kNumber:
            write_numbers<double>(group.get(), name, H5T_IEEE_F64LE, column.numbers);
            break;
          case Column::Kind::kText:
            write_strings(group.get(), name, column.texts);
            break;
        }
      }
    }
    if (!file.close()) {
      std::filesystem::remove(temporary);
      return "cannot write the file: " + error_reason();
    }
  } catch (const Failure& failure) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    return failure.what();
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    return "cannot rename " + temporary + ": " + error.message();
  }
  return "";
}

namespace {

// The lines as left-aligned columns, each as wide as its widest cell, indented by two.
void print_aligned(std::FILE* out, const std::vector<std::vector<std::string>>& lines,
                   std::size_t columns) {
  std::vector<std::size_t> widths(columns, 0);
  for (const auto& line : lines)
    for (std::size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  for (const auto& line : lines) {
    std::fprintf(out, " ");
    for (std::size_t i = 0; i < line.size(); ++i)
      std::fprintf(out, " %-*s", static_cast<int>(widths[i]), line[i].c_str());
    std::fprintf(out, "\n");
  }
}

}  // namespace

void print_sweep_table(std::FILE* out, const SweepJson& header, const std::vector<SweepJson>& runs,
                       std::size_t max_rows) {
  const std::vector<Table> tables = build_tables(header, runs);
  const Table& summary = tables[2];
  auto find = [&](const std::string& name) -> const Column& {
    for (const Column& column : summary.columns)
      if (column.name == name) return column;
    throw std::logic_error("no column " + name);
  };
  struct Shown {
    std::string header, key;
    const char* format;
  };
  const std::vector<Shown> shown = {{"F1", "f1", "%.2f"},
                                    {"precision", "precision", "%.2f"},
                                    {"recall", "recall", "%.2f"},
                                    {"TTD p50 s", "ttd_median_s", "%.0f"},
                                    {"false/h", "false_alarms_per_hour", "%.2f"}};
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> titles = {"cell"};
  const bool scenarios = header.at("scenarios").size() > 1;
  // The mode when cells differ in it: swept, or the scenarios' own modes differing.
  const std::vector<std::string>& cell_modes = find("mode").texts;
  const bool modes = std::any_of(cell_modes.begin(), cell_modes.end(),
                                 [&](const std::string& m) { return m != cell_modes.front(); });
  if (scenarios) titles.push_back("scenario");
  if (modes) titles.push_back("mode");
  for (const SweepJson& parameter : header.at("parameters"))
    titles.push_back(parameter.at("path").get<std::string>());
  titles.push_back("detector");
  for (const Shown& s : shown) titles.push_back(s.header);
  lines.push_back(titles);
  const Column& detector = find("detector");
  std::size_t hidden = 0;
  for (std::size_t r = 0; r < summary.rows; ++r) {
    if (detector.texts[r] == "null") continue;
    if (lines.size() > max_rows) {
      ++hidden;
      continue;
    }
    std::vector<std::string> line = {std::to_string(find("cell").integers[r])};
    if (scenarios) line.push_back(find("scenario").texts[r]);
    if (modes) line.push_back(find("mode").texts[r]);
    for (const SweepJson& parameter : header.at("parameters")) {
      const Column& column = find(parameter.at("path").get<std::string>());
      if (column.kind == Column::Kind::kText) {
        line.push_back(column.texts[r]);
      } else {
        char text[32];
        std::snprintf(text, sizeof text, "%.6g", column.numbers[r]);
        line.push_back(text);
      }
    }
    line.push_back(detector.texts[r]);
    for (const Shown& s : shown)
      line.push_back(spread_cell(find(s.key + "_median").numbers[r],
                                 find(s.key + "_min").numbers[r], find(s.key + "_max").numbers[r],
                                 s.format));
    lines.push_back(std::move(line));
  }
  if (max_rows > 0) print_aligned(out, lines, titles.size());  // 0: no table, not even a header
  if (hidden) std::fprintf(out, "  ... %zu more rows in the results file\n", hidden);
}

void print_sweep_cells(std::FILE* out, const SweepJson& header, std::size_t max_rows) {
  const std::vector<Table> tables = build_tables(header, {});
  const Table& cells = tables[0];
  std::vector<std::vector<std::string>> lines(1);
  for (const Column& column : cells.columns) lines[0].push_back(column.name);
  for (std::size_t r = 0; r < cells.rows && r < max_rows; ++r) {
    std::vector<std::string> line;
    for (const Column& column : cells.columns) {
      if (column.kind == Column::Kind::kText) {
        line.push_back(column.texts[r]);
      } else {
        char text[32];
        if (column.kind == Column::Kind::kInteger)
          std::snprintf(text, sizeof text, "%lld", static_cast<long long>(column.integers[r]));
        else
          std::snprintf(text, sizeof text, "%.6g", column.numbers[r]);
        line.push_back(text);
      }
    }
    lines.push_back(std::move(line));
  }
  if (max_rows > 0) print_aligned(out, lines, lines[0].size());
  if (cells.rows > max_rows) std::fprintf(out, "  ... %zu more cells\n", cells.rows - max_rows);
}

}  // namespace dosim::cli
