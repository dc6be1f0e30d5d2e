// The JSON form of scores, as nlohmann's ordered_json, for the library's own writers
// (score_table.cc, the bench's results); include/dosim/analysis/score_table.h has the text
// form for everyone else.
#pragma once

#include <nlohmann/json.hpp>

#include "dosim/analysis/scoring.h"

namespace dosim {

nlohmann::ordered_json to_json(const Scores& scores);

}  // namespace dosim
