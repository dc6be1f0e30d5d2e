// Queueing laws written out for the tests, independently of engine/queueing.h (which uses a
// closed form above 256 servers), to check the engine against.
#pragma once

namespace dosim::testing {

// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load
// a = lambda / mu < c, from the Erlang B recurrence B_k = a B_{k-1} / (k + a B_{k-1})
// (stable for any c, where the textbook sum of a^k / k! overflows) and
// C = B / (1 - rho (1 - B)).
inline double textbook_erlang_c(int c, double a) {
  double b = 1.0;
  for (int k = 1; k <= c; ++k) b = a * b / (k + a * b);
  const double rho = a / c;
  return b / (1 - rho + rho * b);
}

}  // namespace dosim::testing
