// The detector kinds a run knows besides the registry's: the program's own
// (RunOptions::detector_factory) first, then the script's Lua detectors.
#pragma once

#include <utility>

#include "dosim/detectors/detector.h"

namespace dosim {

// A factory that asks `first`, then `second`; either may be empty.
inline DetectorFactory either_factory(DetectorFactory first, DetectorFactory second) {
  if (!first) return second;
  if (!second) return first;
  return [first = std::move(first), second = std::move(second)](const DetectorSpec& spec,
                                                                std::size_t series) {
    std::unique_ptr<Detector> made = first(spec, series);
    return made ? std::move(made) : second(spec, series);
  };
}

}  // namespace dosim
