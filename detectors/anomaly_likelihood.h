// HTM's anomaly likelihood, per series (NAB's anomaly_likelihood.py in streaming form): the
// recent average a of a raw score r in [0, 1] (an EWMA over about `average` ticks) against the
// long-run mean and variance of that average (EWMAs over about `history` ticks, the variance at
// least 3e-4): z = (a - max(mean, 0)) / sd, and the likelihood score
// log(1 - Phi(z) + 1e-10) / log(1e-10) in [0, 1] (0.5 at z of about 4.3, 1 beyond about 6.4).
// Every EWMA is the plain mean until it has seen about its span, so that it starts unbiased.
// Used by kind surprise, one per view. (As a stage after mad, ewma or threshold it did not
// help them on NAB: bench/RESULTS.md.)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace dosim {

// The likelihood score of z; monotonic, so the largest of several z's has the largest score.
inline double likelihood_score(double z) {
  constexpr double kLogEpsilon = -23.025850929940457;  // log(1e-10)
  const double tail = 0.5 * std::erfc(z * 0.70710678118654752);
  return std::log(tail + 1e-10) / kLogEpsilon;
}

// An EWMA over about n samples: alpha = 2 / (n + 1).
inline double ewma_alpha(double n) { return 2.0 / (n + 1.0); }

class AnomalyLikelihood {
 public:
  // clip > 0: the history learns an average at most `clip` deviations from its mean, so
  // that a long excursion widens it slowly; 0: as it comes.
  AnomalyLikelihood(std::size_t series, double average_alpha, double history_alpha, double clip = 0)
      : average_alpha_(average_alpha),
        history_alpha_(history_alpha),
        clip_(clip),
        average_(series),
        mean_(series),
        variance_(series) {}

  // The z of series i's average once raw score r (clamped to at most 1) joins it, against the
  // history before; then learns it. start = 1 / (the series' values learnt before + 1).
  double z_and_learn(std::size_t i, double r, double start) {
    constexpr double kMinVariance = 3e-4;  // HTM's floor: perfect predictability is not infinite
    average_[i] += std::max(average_alpha_, start) * (std::min(r, 1.0) - average_[i]);
    const double sd = std::sqrt(std::max(variance_[i], kMinVariance));
    const double z = (average_[i] - std::max(mean_[i], 0.0)) / sd;
    double deviation = average_[i] - mean_[i];
    if (clip_ > 0) deviation = std::clamp(deviation, -clip_ * sd, clip_ * sd);
    const double alpha = std::max(history_alpha_, start);
    mean_[i] += alpha * deviation;
    variance_[i] = (1.0 - alpha) * (variance_[i] + alpha * deviation * deviation);
    return z;
  }

 private:
  double average_alpha_, history_alpha_, clip_;
  std::vector<double> average_, mean_, variance_;
};

}  // namespace dosim
