// The bench report: `dosim bench --report FILE`, the results of detectors x scenarios x seeds
// as one self-contained HTML page (docs/scoring.md, "The report"). Its scripts, styles and
// data are inlined, so it opens without a network: per scenario and overall, the bench's
// table of medians with their min-max beside the null and the random baselines; the
// distribution of every detected incident's time to detect per detector; precision against
// recall, one point per run and detector, beside the random baseline at the same alert
// rate; false alarms per fault-free hour per detector. The tables are in the markup; the
// charts are drawn in the browser from the embedded data (analysis/report/bench_report.js).
//
// A pure function of its input: the same results give the same bytes. Thread-safe.
#pragma once

#include <string>

namespace dosim {

// The page for `results_json`, the bench's `--out` JSON (`detectors`, `scenarios`, `seeds`,
// `runs`, `summary`, as docs/scoring.md describes them), embedded as it is: the page's
// <script type="application/json" id="dosim-data"> holds the same JSON ("</" written "<\/",
// which reads back the same). The tables are in the page's markup; over all runs they show
// the JSON's `summary` where it has an entry. Other JSON gives a page without results
// (missing keys and values of the wrong type are left out, never a crash); text that is not
// JSON throws std::invalid_argument.
std::string render_bench_report(const std::string& results_json);

}  // namespace dosim
