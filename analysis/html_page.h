// One self-contained HTML page (the run report, the bench report, the live page): the
// embedded styles and scripts of analysis/report/ inlined, and the page's data as JSON in a
// <script type="application/json" id="dosim-data">, so the file opens without a network.
// Internal to analysis/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dosim {

struct HtmlPage {
  std::string title;
  std::vector<std::string> styles;   // names of files in analysis/report/ ("common.css")
  std::vector<std::string> scripts;  // in order ("charts.js", "run_report.js")
  std::string data_json;             // "" for none
  std::string body;                  // the markup before the scripts
};

// The page as HTML text. Throws std::logic_error for a file name not embedded (a bug).
std::string render_html_page(const HtmlPage& page);

// `text` safe inside HTML text and attribute values (& < > " ').
std::string html_escaped(std::string_view text);

}  // namespace dosim
