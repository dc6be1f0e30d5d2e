// TickPool (util/tick_pool.h): every index of a loop runs exactly once on any number of
// threads, the parts of for_parts are the documented ones, loops follow each other (also
// after the workers have gone to sleep), and an exception in a block reaches the caller.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "util/tick_pool.h"

namespace dosim {
namespace {

TEST_CASE("for_blocks runs every index once, in blocks of the grain", "[tick_pool]") {
  for (int threads : {1, 2, 3, 8}) {
    TickPool pool(threads);
    REQUIRE(pool.threads() == threads);
    for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
      for (std::size_t grain : {std::size_t{1}, std::size_t{16}, std::size_t{5000}}) {
        std::vector<std::atomic<int>> hits(count);
        std::mutex mutex;
        std::set<std::pair<std::size_t, std::size_t>> blocks;
        pool.for_blocks(count, grain, [&](std::size_t begin, std::size_t end) {
          {
            const std::lock_guard lock(mutex);
            blocks.insert({begin, end});
          }
          for (std::size_t i = begin; i < end; ++i) ++hits[i];
        });
        for (std::size_t i = 0; i < count; ++i) REQUIRE(hits[i] == 1);
        // The blocks are fixed by count and grain alone.
        std::size_t expected = 0;
        for (const auto& [begin, end] : blocks) {
          REQUIRE(begin == expected);
          REQUIRE(end - begin == std::min(grain, count - begin));
          expected = end;
        }
        REQUIRE(expected == count);
      }
    }
  }
}

TEST_CASE("for_parts runs the T parts, from count t / T up to count (t + 1) / T, each once",
          "[tick_pool]") {
  TickPool pool(3);
  std::mutex mutex;
  std::set<std::pair<std::size_t, std::size_t>> parts;
  std::vector<int> hits(10, 0);
  pool.for_parts(10, [&](std::size_t begin, std::size_t end) {
    const std::lock_guard lock(mutex);
    parts.insert({begin, end});
    for (std::size_t i = begin; i < end; ++i) ++hits[i];
  });
  REQUIRE(parts == std::set<std::pair<std::size_t, std::size_t>>{{0, 3}, {3, 6}, {6, 10}});
  for (int h : hits) REQUIRE(h == 1);
}

TEST_CASE("loops follow each other, also after the workers slept", "[tick_pool]") {
  TickPool pool(2);
  std::vector<double> values(64, 0.0);
  for (int round = 0; round < 2000; ++round)
    pool.for_parts(values.size(), [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) values[i] += 1.0;
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // workers go to sleep
  pool.for_blocks(values.size(), 8, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) values[i] += 1.0;
  });
  for (double v : values) REQUIRE(v == 2001.0);
}

TEST_CASE("an exception in a block reaches the caller after the loop", "[tick_pool]") {
  TickPool pool(2);
  std::atomic<int> done{0};
  REQUIRE_THROWS_AS(pool.for_blocks(100, 10,
                                    [&](std::size_t begin, std::size_t) {
                                      if (begin == 50) throw std::runtime_error("block 5");
                                      ++done;
                                    }),
                    std::runtime_error);
  REQUIRE(done == 9);  // the other blocks ran
  // The pool is usable afterwards.
  std::atomic<int> after{0};
  pool.for_parts(4, [&](std::size_t begin, std::size_t end) { after += int(end - begin); });
  REQUIRE(after == 4);
}

}  // namespace
}  // namespace dosim
