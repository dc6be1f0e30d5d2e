// The bench report's page (render_bench_report): one self-contained page that embeds the
// results as given, holds a table over all runs and one per scenario with a row per detector
// and the null baseline, and is drawn from whatever JSON it gets without throwing.
#include <catch2/catch.hpp>
#include <string>

#include "dosim/analysis/bench_report.h"

using dosim::render_bench_report;

namespace {

// The smallest bench results: one detector, one scenario, one run.
const char* const kResults = R"({"detectors":["mad"],"scenarios":["s/a.yaml"],"seeds":1,
"runs":[{"scenario":"s/a.yaml","seed":7,"simulated_s":3600.0,"scored_incidents":2,
"scores":{"mad":{"precision":0.5,"recall":1.0,"alerts":4,"ttd_median_s":70.5,"ttd_s":[70.5]},
"null":{"precision":1.0,"recall":0.0,"alerts":0,"ttd_median_s":null,"ttd_s":[]}}}],
"summary":{"mad":{"precision":{"median":0.5,"min":0.5,"max":0.5,"runs":1}}}})";

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("The bench report embeds the results and a table per scenario", "[bench_report]") {
  const std::string page = render_bench_report(kResults);
  CHECK(page.find(std::string("id=\"dosim-data\">") + kResults + "</script>") != std::string::npos);
  CHECK(count(page, "<table class=\"data bench-table\" data-overall=\"true\">") == 1);
  CHECK(count(page, "<table class=\"data bench-table\" data-scenario=\"s/a.yaml\">") == 1);
  CHECK(count(page, "<tr data-detector=\"mad\">") == 2);
  CHECK(count(page, "<tr data-detector=\"null\" class=\"baseline\">") == 2);
  // The overall cell is the summary's; a cell the summary lacks comes from the runs, printed
  // as the bench's text table prints it (a whole-number column keeps a half: 70.5).
  CHECK(page.find("data-metric=\"precision\" title=\"mad, precision: median 0.5, min 0.5, max "
                  "0.5 over 1 run\">0.50<") != std::string::npos);
  CHECK(page.find(">70.5</td>") != std::string::npos);
  CHECK(page.find("seeds 7; scored incidents per run 2; 1 h simulated") != std::string::npos);
  CHECK(page.find("<script src") == std::string::npos);
  CHECK(render_bench_report(kResults) == page);
}

TEST_CASE("An infinite false alarm rate reads inf, as the text table has it", "[bench_report]") {
  // A run with no fault-free time has false alarms per hour inf, JSON null: the page said
  // "-", "no run has a value", where the bench's table says inf.
  const std::string results = R"({"detectors":["d"],"scenarios":["s/a.yaml"],"seeds":1,
"runs":[{"scenario":"s/a.yaml","seed":7,"simulated_s":600.0,"scored_incidents":1,
"scores":{"d":{"false_alarms_per_hour":null,"alerts":2},
"null":{"false_alarms_per_hour":0.0,"alerts":0}}}],
"summary":{"d":{"false_alarms_per_hour":{"median":null,"min":null,"max":null,"runs":1}}}})";
  const std::string page = render_bench_report(results);
  CHECK(count(page, "title=\"d, false/h: median inf, min inf, max inf over 1 run\">inf</td>") == 2);
  CHECK(page.find("d, false/h: no run has a value") == std::string::npos);
}

TEST_CASE("The bench report takes any JSON without throwing, and rejects text that is not",
          "[bench_report]") {
  for (const char* json : {"{}", "[]", "null", "3", R"({"detectors":[1,"x<"],"runs":[null,2]})",
                           R"({"detectors":["m"],"scenarios":["a"],"runs":[{"scenario":"a",
                           "scores":{"m":{"precision":"high"}}}],"summary":{"m":[]}})"}) {
    INFO(json);
    const std::string page = render_bench_report(json);
    CHECK(page.find("</html>") != std::string::npos);
  }
  CHECK(render_bench_report(R"({"detectors":["x<"]})").find("data-detector=\"x&lt;\"") !=
        std::string::npos);
  CHECK_THROWS_AS(render_bench_report("{not json"), std::invalid_argument);
}
