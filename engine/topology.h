// The dependency graph of a scenario, held in Boost.Graph.
//
// Vertices are services (by index), edges are caller -> callee dependencies (by index into
// Scenario::dependencies). The graph must be acyclic: load flows from callers to callees in
// topological order and latency flows back in reverse. find_cycle() names a cycle for the
// loader's error message; Topology's constructor requires that there is none.
#pragma once

#include <utility>
#include <vector>

namespace dosim {

// (caller, callee) service indices, one per dependency.
using EdgeList = std::vector<std::pair<int, int>>;

// A cycle as the sequence of services a -> b -> ... -> a (first repeated at the end), or
// an empty vector when the graph is acyclic. Deterministic: the cycle found first in
// service order.
std::vector<int> find_cycle(int service_count, const EdgeList& edges);

class Topology {
 public:
  // REQUIRES: find_cycle(service_count, edges) is empty.
  Topology(int service_count, const EdgeList& edges);

  int service_count() const { return service_count_; }
  // Callers before callees; ties in service order (deterministic).
  const std::vector<int>& order() const { return order_; }
  // Indices of the dependencies each service calls / is called by, in scenario order.
  const std::vector<int>& outgoing(int service) const { return outgoing_[service]; }
  const std::vector<int>& incoming(int service) const { return incoming_[service]; }
  // Services that reach `service` through calls (its transitive callers), sorted.
  std::vector<int> upstream_of(int service) const;
  // Services that `service` reaches through calls (its transitive callees), sorted.
  std::vector<int> downstream_of(int service) const;

 private:
  // Services reachable from `service` along `adjacency` (incoming_ or outgoing_), sorted.
  std::vector<int> reachable(int service, const std::vector<std::vector<int>>& adjacency,
                             bool to_callers) const;

  int service_count_;
  EdgeList edges_;
  std::vector<int> order_;
  std::vector<std::vector<int>> outgoing_;
  std::vector<std::vector<int>> incoming_;
};

}  // namespace dosim
