// Memory sizes as Kubernetes and Chaos Mesh write them: a number and a unit, "256MB",
// "128Mi", "1.5Gi", "512M", "1048576" (bytes). Binary units Ki, Mi, Gi, Ti (also KiB, MiB,
// GiB, TiB) are powers of 1024; decimal units k/K, M, G, T (also KB, MB, GB, TB) powers of
// 1000, as in a Kubernetes quantity; B or no unit is bytes. Pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace dosim {

// The size in bytes, or nullopt when `text` is not a non-negative number with one of the
// units above.
std::optional<double> parse_byte_size(std::string_view text);

}  // namespace dosim
