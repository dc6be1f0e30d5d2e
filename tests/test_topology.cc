// The dependency graph: find_cycle() names a cycle for the loader's message, and Topology
// orders services so that callers come before their callees.
#include <catch2/catch.hpp>

#include "engine/topology.h"

namespace dosim {

TEST_CASE("an acyclic graph has no cycle", "[topology]") {
  CHECK(find_cycle(0, {}).empty());
  CHECK(find_cycle(3, {}).empty());
  CHECK(find_cycle(4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}).empty());
}

TEST_CASE("find_cycle names the cycle in call order, first service repeated", "[topology]") {
  CHECK(find_cycle(3, {{0, 1}, {1, 2}, {2, 0}}) == std::vector<int>{0, 1, 2, 0});
  CHECK(find_cycle(4, {{3, 1}, {1, 2}, {2, 3}}) == std::vector<int>{1, 2, 3, 1});
}

TEST_CASE("find_cycle ignores the acyclic part of the graph", "[topology]") {
  // 0 -> 1 -> 2 -> 3 -> 1, with 4 hanging off 0.
  const std::vector<int> cycle = find_cycle(5, {{0, 4}, {0, 1}, {1, 2}, {2, 3}, {3, 1}});
  CHECK(cycle == std::vector<int>{1, 2, 3, 1});
}

TEST_CASE("find_cycle finds a self-call", "[topology]") {
  CHECK(find_cycle(2, {{0, 1}, {1, 1}}) == std::vector<int>{1, 1});
}

TEST_CASE("find_cycle is deterministic", "[topology]") {
  const EdgeList edges{{0, 1}, {1, 0}, {2, 3}, {3, 2}};
  const std::vector<int> first = find_cycle(4, edges);
  CHECK(first == std::vector<int>{0, 1, 0});
  for (int run = 0; run < 5; ++run) CHECK(find_cycle(4, edges) == first);
}

TEST_CASE("topological order puts callers before callees, ties in service order", "[topology]") {
  // 3 calls 1 calls 0; 2 stands alone.
  const Topology topology(4, {{3, 1}, {1, 0}});
  CHECK(topology.service_count() == 4);
  CHECK(topology.order() == std::vector<int>{2, 3, 1, 0});
}

TEST_CASE("a diamond orders the shared callee last", "[topology]") {
  const Topology topology(4, {{0, 2}, {0, 1}, {1, 3}, {2, 3}});
  CHECK(topology.order() == std::vector<int>{0, 1, 2, 3});
  CHECK(topology.outgoing(0) == std::vector<int>{0, 1});
  CHECK(topology.incoming(3) == std::vector<int>{2, 3});
  CHECK(topology.incoming(0).empty());
}

TEST_CASE("upstream_of lists every transitive caller, sorted", "[topology]") {
  const Topology topology(5, {{0, 2}, {1, 2}, {2, 3}, {4, 0}});
  CHECK(topology.upstream_of(3) == std::vector<int>{0, 1, 2, 4});
  CHECK(topology.upstream_of(2) == std::vector<int>{0, 1, 4});
  CHECK(topology.upstream_of(4).empty());
}

}  // namespace dosim
