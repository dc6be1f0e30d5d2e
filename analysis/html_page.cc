#include "analysis/html_page.h"

#include <stdexcept>

#include "dosim/report_assets.h"

namespace dosim {
namespace {

std::string_view embedded(const std::string& name) {
  for (const auto& [file, text] : report_assets::kFiles)
    if (file == name) return text;
  throw std::logic_error("no embedded page file " + name);
}

// "</" cannot appear inside a <script> element's text: "</script>" would end it.
std::string script_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::string html_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  return out;
}

std::string render_html_page(const HtmlPage& page) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"dosim\">\n"
      "<link rel=\"icon\" href=\"data:,\">\n<title>" +
      html_escaped(page.title) + "</title>\n";
  for (const std::string& style : page.styles)
    out += "<style>\n" + script_safe(embedded(style)) + "</style>\n";
  out += "</head>\n<body>\n" + page.body + "\n";
  if (!page.data_json.empty())
    out += "<script type=\"application/json\" id=\"dosim-data\">" + script_safe(page.data_json) +
           "</script>\n";
  for (const std::string& script : page.scripts)
    out += "<script>\n" + script_safe(embedded(script)) + "</script>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace dosim
