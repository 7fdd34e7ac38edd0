// Random tensors from the global Philox4x32-10 stream (see random.h).
//
// Mapping of stream words to elements (each draw starts at a fresh block):
//   rand float32:      element i <- word i (4 elements per block), top 24 bits
//   rand float64:      element i <- words 2i, 2i+1 (2 per block), top 53 of 64 bits
//   randn:             elements 2j, 2j+1 <- block j: two 53-bit uniforms, one Box-Muller pair
//                      (float32 is the rounded float64 value, so both dtypes see the same numbers)
//   randint:           element i <- words 2i, 2i+1: a 64-bit x, scaled to the range by the high
//                      half of x * range (bias below range / 2^64)
// Tensors for a CUDA device are generated here and copied over.
#include "cpu/random.h"

#include <cmath>
#include <limits>
#include <mutex>

#include "core/errors.h"
#include "core/parallel.h"

namespace ember {

// ---- Philox4x32-10 --------------------------------------------------------------------------------
namespace {

constexpr uint32_t kPhiloxM0 = 0xD2511F53, kPhiloxM1 = 0xCD9E8D57;  // round multipliers
constexpr uint32_t kPhiloxW0 = 0x9E3779B9, kPhiloxW1 = 0xBB67AE85;  // key increments (Weyl)
// Any fixed constant gives reproducible runs before the first manual_seed.
constexpr uint64_t kDefaultSeed = 0x5eed2024c0ffee00ull;

inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  uint64_t p = (uint64_t)a * b;
  hi = (uint32_t)(p >> 32);
  lo = (uint32_t)p;
}

std::mutex g_mutex;
uint64_t g_seed = kDefaultSeed;
uint64_t g_next_block = 0;

}  // namespace

void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kPhiloxM0, c0, hi0, lo0);
    mulhilo(kPhiloxM1, c2, hi1, lo1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

void philox_block(uint64_t seed, uint64_t block, uint32_t out[4]) {
  const uint32_t counter[4] = {(uint32_t)block, (uint32_t)(block >> 32), 0, 0};
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  philox4x32_10(counter, key, out);
}

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_seed = seed;
  g_next_block = 0;
}

uint64_t initial_seed() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_seed;
}

RandomBlocks reserve_random_blocks(uint64_t n_blocks) {
  std::lock_guard<std::mutex> lock(g_mutex);
  RandomBlocks r{g_seed, g_next_block};
  g_next_block += n_blocks;
  return r;
}

// ---- tensors ----------------------------------------------------------------------------------------
namespace cpu {
namespace {

inline double uniform53(uint32_t hi, uint32_t lo) {
  return (double)((((uint64_t)hi << 32) | lo) >> 11) * 0x1.0p-53;
}

// Fills n elements, `per_block` of them from each block of a fresh reservation:
// fill_block(block_words, first_element, count) writes elements [first, first + count).
template <class FillBlock>
void generate(int64_t n, int64_t per_block, const FillBlock& fill_block) {
  const int64_t n_blocks = (n + per_block - 1) / per_block;
  const RandomBlocks stream = reserve_random_blocks((uint64_t)n_blocks);
  parallel_for(0, n_blocks, kElementwiseGrain / per_block, [&](int64_t b, int64_t e) {
    uint32_t words[4];
    for (int64_t j = b; j < e; ++j) {
      philox_block(stream.seed, stream.first_block + (uint64_t)j, words);
      fill_block(words, j * per_block, std::min(per_block, n - j * per_block));
    }
  });
}

const char* torch_name(DType d) {
  switch (d) {
    case DType::Int64: return "Long";
    case DType::Int32: return "Int";
    case DType::Bool: return "Bool";
    default: return dtype_name(d);
  }
}

void check_float_dtype(DType dtype, const char* op) {
  EMBER_CHECK(is_floating(dtype), TypeError, op, ": random floats need a floating dtype (float32 or float64), ",
              "got ", dtype_name(dtype), " ('", torch_name(dtype), "'); use randint for integers");
}

}  // namespace

Tensor rand(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "rand");
  check_float_dtype(dtype, "rand");
  Tensor t = empty(shape, dtype);
  const int64_t n = t.numel();
  if (dtype == DType::Float32) {
    float* p = t.data<float>();
    generate(n, 4, [&](const uint32_t* w, int64_t first, int64_t count) {
      for (int64_t k = 0; k < count; ++k) p[first + k] = (float)(w[k] >> 8) * 0x1.0p-24f;
    });
  } else {
    double* p = t.data<double>();
    generate(n, 2, [&](const uint32_t* w, int64_t first, int64_t count) {
      for (int64_t k = 0; k < count; ++k) p[first + k] = uniform53(w[2 * k], w[2 * k + 1]);
    });
  }
  return to_device(t, device);
}

Tensor randn(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "randn");
  check_float_dtype(dtype, "randn");
  Tensor t = empty(shape, dtype);
  dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    generate(t.numel(), 2, [&](const uint32_t* w, int64_t first, int64_t count) {
      // 1 - u lies in (0, 1], so the logarithm is finite.
      const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform53(w[0], w[1])));
      const double angle = 2.0 * M_PI * uniform53(w[2], w[3]);
      p[first] = (T)(radius * std::cos(angle));
      if (count > 1) p[first + 1] = (T)(radius * std::sin(angle));
    });
  });
  return to_device(t, device);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "randint");
  EMBER_CHECK(high > low, ValueError, "randint: expected low < high, got low=", low, ", high=", high);
  // The largest magnitude each dtype holds exactly (PyTorch checks the same bounds).
  double limit_lo = -9.2233720368547758e18, limit_hi = 9.2233720368547758e18;
  switch (dtype) {
    case DType::Int32: limit_lo = std::numeric_limits<int32_t>::min(), limit_hi = std::numeric_limits<int32_t>::max(); break;
    case DType::Float32: limit_lo = -0x1.0p24, limit_hi = 0x1.0p24; break;
    case DType::Float64: limit_lo = -0x1.0p53, limit_hi = 0x1.0p53; break;
    case DType::Bool: limit_lo = 0, limit_hi = 1; break;
    case DType::Int64: break;
  }
  EMBER_CHECK((double)low >= limit_lo && (double)(high - 1) <= limit_hi, ValueError, "randint: the range [", low,
              ", ", high, ") does not fit in ", dtype_name(dtype), " (whose values are exact in [",
              (int64_t)limit_lo, ", ", (int64_t)limit_hi, "]); use int64 or a smaller range");
  const uint64_t range = (uint64_t)high - (uint64_t)low;
  Tensor t = empty(shape, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    generate(t.numel(), 2, [&](const uint32_t* w, int64_t first, int64_t count) {
      for (int64_t k = 0; k < count; ++k) {
        uint64_t x = ((uint64_t)w[2 * k] << 32) | w[2 * k + 1];
        uint64_t offset = (uint64_t)(((unsigned __int128)x * range) >> 64);
        p[first + k] = (T)(int64_t)((uint64_t)low + offset);
      }
    });
  });
  return to_device(t, device);
}

}  // namespace cpu
}  // namespace ember
