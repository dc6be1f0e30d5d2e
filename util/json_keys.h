// A JSON text parsed with nlohmann::json, noting a key an object gives twice: a parser keeps
// the last ({"time": 300, "time": 400} read 400 without a word), which a user's file or
// request should be told. Header-only: its users link nlohmann-json; util itself does not.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dosim {

// nlohmann::json::parse(text), with the first key that one object gives twice in `twice`
// ("" where none). Throws what nlohmann::json::parse throws.
inline nlohmann::json parse_json_noting_repeats(std::string_view text, std::string& twice) {
  std::vector<std::set<std::string>> keys;  // of each object open at this point
  twice.clear();
  const auto each = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::object_start) keys.emplace_back();
    if (event == nlohmann::json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == nlohmann::json::parse_event_t::key && !keys.empty() && twice.empty() &&
        !keys.back().insert(parsed.get<std::string>()).second)
      twice = parsed.get<std::string>();
    return true;
  };
  return nlohmann::json::parse(text, each);
}

}  // namespace dosim
