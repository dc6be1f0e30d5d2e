// The hold model in SimGrid s4u (Debian libsimgrid-dev 3.32): N actors on one host, each
// sleeping Exp(1) simulated seconds in a loop, so N sleeps are pending at any time.
// Benchmark-only peer of bench/bench_event_queue.cc; never part of dosim's build.
//
// Usage: simgrid_hold PENDING MEASURED [--cfg=contexts/factory:raw ...]
// The clock starts once PENDING holds have completed (every actor is in its loop) and stops
// after MEASURED more; the program prints one line and exits without tearing the
// simulation down.
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <simgrid/s4u.hpp>

namespace sg4 = simgrid::s4u;

namespace {

using Clock = std::chrono::steady_clock;

// The same kind of draw as the dosim benchmark: a 4096-entry table of Exp(1) variates
// indexed by a xorshift.
class ExponentialTable {
 public:
  ExponentialTable() {
    std::uint64_t lcg = 42;
    for (double& value : values_) {
      lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
      value = -std::log(1.0 - static_cast<double>(lcg >> 11) * 0x1.0p-53);
    }
  }
  double next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return values_[state_ >> 52];
  }

 private:
  std::array<double, 4096> values_;
  std::uint64_t state_ = 0x9E3779B97F4A7C15ull;
};

ExponentialTable exponential;
std::int64_t pending = 0;
std::int64_t measured = 0;
std::int64_t holds = 0;
Clock::time_point start;

void holder() {
  for (;;) {
    sg4::this_actor::sleep_for(exponential.next());
    ++holds;
    if (holds == pending) start = Clock::now();
    if (holds == pending + measured) {
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      std::printf("simgrid pending=%lld holds=%lld seconds=%.6f holds_per_s=%.1f\n",
                  static_cast<long long>(pending), static_cast<long long>(measured), seconds,
                  static_cast<double>(measured) / seconds);
      std::fflush(stdout);
      std::_Exit(0);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  sg4::Engine engine(&argc, argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PENDING MEASURED [--cfg=...]\n", argv[0]);
    return 2;
  }
  pending = std::atoll(argv[1]);
  measured = std::atoll(argv[2]);
  sg4::NetZone* zone = sg4::create_full_zone("world");
  sg4::Host* host = zone->create_host("host", 1e9);
  zone->seal();
  for (std::int64_t actor = 0; actor < pending; ++actor) sg4::Actor::create("holder", host, holder);
  engine.run();
  std::fprintf(stderr, "simulation ended before %lld holds\n", static_cast<long long>(measured));
  return 1;
}
