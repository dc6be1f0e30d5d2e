// Aliases that multiply (engine/yaml_reader.h, alias_expansion_past): a few lines of anchors
// each listing the one before ten times stand for 10^10 nodes, which reading walked (a
// 602-byte scenario took a minute to say one wrong type); they are refused at the alias that
// crosses the limit, in time linear in the text.
#include <catch2/catch.hpp>
#include <string>

#include "dosim/engine/scenario_loader.h"
#include "dosim/error.h"
#include "engine/yaml_reader.h"

namespace dosim {
namespace {

// A scenario whose `description` holds `levels` anchors, each a list of ten aliases of the
// one before: 10^levels nodes once expanded.
std::string multiplying(int levels) {
  std::string text = "name: t\nduration: 1h\nservices: [{name: a}]\ndescription:\n  - &a0 {k: v}\n";
  for (int level = 1; level <= levels; ++level) {
    text += "  - &a" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) text += (i ? ", *a" : "*a") + std::to_string(level - 1);
    text += "]\n";
  }
  return text;
}

}  // namespace

TEST_CASE("an alias adds the nodes of its anchor, counted once", "[yaml][aliases]") {
  // [1, 2, 3] is four nodes: each alias of it adds three beyond the one it writes.
  const std::string text = "a: &x [1, 2, 3]\nb: *x\nc: *x\n";
  CHECK_FALSE(alias_expansion_past(text, 6).has_value());
  const auto past = alias_expansion_past(text, 5);
  REQUIRE(past.has_value());
  CHECK(past->line == 3);
  CHECK(past->column == 4);
  // Anchors of anchors: the count follows the expansion, not the text. {k: v} is 3 nodes,
  // a1 adds 10 x 2, a2 (31 nodes each) 10 x 30, a3 (311 each) 10 x 310: 3,420 in all.
  CHECK_FALSE(alias_expansion_past(multiplying(3), 3'420).has_value());
  const auto third = alias_expansion_past(multiplying(3), 3'419);
  REQUIRE(third.has_value());
  CHECK(third->line == 8);
  CHECK(third->column == 55);                                               // the last alias of a3
  CHECK_FALSE(alias_expansion_past("a: [1, 2]\nb: '*'\n", 0).has_value());  // no alias
}

TEST_CASE("a scenario whose aliases multiply is refused at once, at the alias", "[yaml][aliases]") {
  for (const int levels : {7, 10, 30}) {
    try {
      parse_scenario(multiplying(levels), "bomb.yaml");
      FAIL("accepted");
    } catch (const InputError& error) {
      REQUIRE(error.diagnostics().size() == 1);
      const Diagnostic& d = error.diagnostics().front();
      CHECK(d.line == 11);  // a6's third alias: 345,620 + 3 x 311,110 nodes
      CHECK(d.column == 20);
      CHECK(d.message.find("more than a million nodes") != std::string::npos);
    }
  }
  // A few aliases that repeat a block are fine (what anchors are for).
  const std::string reuse =
      "name: t\nduration: 1h\nservices:\n  - {name: a, replicas: 2}\n  - {name: b, replicas: 2}\n"
      "dependencies:\n  - {caller: a, callee: b, timeout: &t 2s}\nfaults:\n"
      "  - {kind: latency, target: {service: b}, fixedDelay: *t, start: 1m, duration: *t}\n";
  CHECK_NOTHROW(parse_scenario(reuse, "reuse.yaml"));
}

}  // namespace dosim
