#include "topology.h"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <cassert>
#include <functional>
#include <queue>

namespace dosim {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

Graph build_graph(int service_count, const EdgeList& edges) {
  Graph graph(static_cast<std::size_t>(service_count));
  for (const auto& [caller, callee] : edges) boost::add_edge(caller, callee, graph);
  return graph;
}

// Records the first back edge and the DFS tree path to it.
struct CycleRecorder : boost::default_dfs_visitor {
  std::vector<int>* parent;
  std::vector<int>* cycle;
  void tree_edge(Graph::edge_descriptor e, const Graph& g) const {
    (*parent)[boost::target(e, g)] = static_cast<int>(boost::source(e, g));
  }
  void back_edge(Graph::edge_descriptor e, const Graph& g) const {
    if (!cycle->empty()) return;
    const int from = static_cast<int>(boost::source(e, g));
    const int to = static_cast<int>(boost::target(e, g));
    std::vector<int> path{to};
    for (int v = from; v != to && v >= 0; v = (*parent)[v]) path.push_back(v);
    // path is to, from, parent(from), ..., child-of-to: reverse the tail to get call order.
    std::reverse(path.begin() + 1, path.end());
    path.push_back(to);
    *cycle = std::move(path);
  }
};

}  // namespace

std::vector<int> find_cycle(int service_count, const EdgeList& edges) {
  Graph graph = build_graph(service_count, edges);
  std::vector<int> parent(static_cast<std::size_t>(service_count), -1);
  std::vector<int> cycle;
  CycleRecorder recorder;
  recorder.parent = &parent;
  recorder.cycle = &cycle;
  boost::depth_first_search(graph, boost::visitor(recorder));
  return cycle;
}

Topology::Topology(int service_count, const EdgeList& edges)
    : service_count_(service_count),
      edges_(edges),
      outgoing_(static_cast<std::size_t>(service_count)),
      incoming_(static_cast<std::size_t>(service_count)) {
  assert(find_cycle(service_count, edges).empty());
  std::vector<int> indegree(static_cast<std::size_t>(service_count), 0);
  for (int d = 0; d < static_cast<int>(edges.size()); ++d) {
    outgoing_[edges[d].first].push_back(d);
    incoming_[edges[d].second].push_back(d);
    ++indegree[edges[d].second];
  }
  // Kahn's algorithm with a min-heap: among ready services the lowest index goes first.
  std::priority_queue<int, std::vector<int>, std::greater<>> ready;
  for (int s = 0; s < service_count; ++s)
    if (indegree[s] == 0) ready.push(s);
  while (!ready.empty()) {
    int s = ready.top();
    ready.pop();
    order_.push_back(s);
    for (int d : outgoing_[s])
      if (--indegree[edges[d].second] == 0) ready.push(edges[d].second);
  }
  assert(static_cast<int>(order_.size()) == service_count);
}

std::vector<int> Topology::reachable(int service, const std::vector<std::vector<int>>& adjacency,
                                     bool to_callers) const {
  std::vector<char> seen(static_cast<std::size_t>(service_count_), 0);
  std::vector<int> stack{service};
  std::vector<int> result;
  while (!stack.empty()) {
    int s = stack.back();
    stack.pop_back();
    for (int d : adjacency[s]) {
      const int next = to_callers ? edges_[d].first : edges_[d].second;
      if (!seen[next]) {
        seen[next] = 1;
        result.push_back(next);
        stack.push_back(next);
      }
    }
  }
  std::sort(result.begin(), result.end());
  return result;
}

std::vector<int> Topology::upstream_of(int service) const {
  return reachable(service, incoming_, true);
}

std::vector<int> Topology::downstream_of(int service) const {
  return reachable(service, outgoing_, false);
}

}  // namespace dosim
