// The one global random generator: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random
// numbers: as easy as 1, 2, 3", SC'11), a counter-based generator. Block b of the stream is
// philox(counter = b, key = seed): any block can be computed on its own, so a kernel fills element i
// from block (first_block + i / per_block) and the result never depends on the thread count.
// Every draw reserves its blocks by advancing the global offset.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace ember {

// The raw bijection: out = Philox4x32 with 10 rounds of (counter, key).
void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

// The 4 words of block `block` of the stream of `seed`.
void philox_block(uint64_t seed, uint64_t block, uint32_t out[4]);

void manual_seed(uint64_t seed);  // also rewinds the stream to its start
uint64_t initial_seed();

// Reserves n_blocks consecutive blocks of the global stream for one draw.
struct RandomBlocks {
  uint64_t seed;
  uint64_t first_block;
};
RandomBlocks reserve_random_blocks(uint64_t n_blocks);

namespace cpu {

// Uniform in [0, 1): float32 from 24 random bits, float64 from 53.
Tensor rand(const Shape& shape, DType dtype, Device device);
// Standard normal (Box-Muller on pairs of 53-bit uniforms).
Tensor randn(const Shape& shape, DType dtype, Device device);
// Integers uniform in [low, high), as int64 / int32 / float / bool.
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Device device);

}  // namespace cpu
}  // namespace ember
