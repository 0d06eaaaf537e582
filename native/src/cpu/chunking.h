// Effective tiling of the chunk kernels. A chunk (or block) longer than the sequence is one chunk of
// the whole sequence, so chunk = min(chunk, T) gives the same result as chunk = T and keeps every
// scratch buffer sized by the real tile: a valid chunkSize of 1e5 or 1e9 on 4 tokens used to size
// C x C scratch by the requested chunk (std::bad_alloc / length_error, process abort).
#pragma once
#include <algorithm>
#include <cstdint>

namespace nl {

inline int64_t effective_tile(int64_t tile, int64_t seq) { return std::max<int64_t>(1, std::min(tile, seq)); }

// Dims with .chunk and .seq (delta rule, Titans linear, Titans MLP).
template <typename Dims>
inline Dims with_effective_chunk(Dims d) {
  d.chunk = effective_tile(d.chunk, d.seq);
  return d;
}

}  // namespace nl
