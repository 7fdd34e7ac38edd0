// Dropout on CPU tensors: the keep-mask and the scaled output in one pass, and its backward.
//
// Mapping of the global Philox stream (random.h) to the mask, like rand float32: element i takes
// word i % 4 of block i / 4 of a fresh reservation, and is kept when that word's top 24 bits as a
// uniform u = bits * 2^-24 satisfy u < 1 - p. So the mask equals `rand(shape) < 1 - p` drawn at the
// same point of the stream, each element depends on its block alone (not on the thread count), and
// every call advances the stream. p == 0 and p == 1 draw nothing (the mask is fixed), as in PyTorch.
// A caller that keeps its own stream (a Keras Dropout with a seed) passes it instead: the same
// mapping over blocks first_block, first_block + 1, ... of that seed, the global stream untouched.
#include <cmath>

#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/activation_backward.h"
#include "cpu/elementwise.h"
#include "cpu/random.h"
#include "ops/scalar_math.h"

namespace ember {

namespace {

constexpr int64_t kWordsPerBlock = 4;

void check_probability(double p, const char* op) {
  EMBER_CHECK(p >= 0.0 && p <= 1.0, ValueError, op, ": dropout probability p must lie in [0, 1], got p=", p);
}

void check_float(const Tensor& t, const char* op, const char* arg) {
  EMBER_CHECK(is_floating(t.dtype), TypeError, op, ": expected a float32 or float64 tensor for ", arg,
              ", got ", dtype_name(t.dtype), "; convert it first with .float()");
}

// u = bits * 2^-24 < keep_prob  <=>  bits < ceil(keep_prob * 2^24), exactly (the product is exact).
uint32_t keep_threshold(double keep_prob) { return (uint32_t)std::ceil(keep_prob * 16777216.0); }

template <class T>
void dropout_contiguous(const T* x, T* out, bool* mask, int64_t n, double p, const RandomBlocks* given) {
  const T keep_prob = (T)(1.0 - p);
  if (p == 0.0 || p == 1.0) {
    const bool keep = p == 0.0;
    parallel_for(0, n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        mask[i] = keep;
        out[i] = dropout_fwd(x[i], keep, keep_prob);
      }
    });
    return;
  }
  const uint32_t threshold = keep_threshold(1.0 - p);
  const int64_t n_blocks = (n + kWordsPerBlock - 1) / kWordsPerBlock;
  const RandomBlocks stream = given ? *given : reserve_random_blocks((uint64_t)n_blocks);
  parallel_for(0, n_blocks, kElementwiseGrain / kWordsPerBlock, [&](int64_t begin, int64_t end) {
    uint32_t words[kWordsPerBlock];
    for (int64_t block = begin; block < end; ++block) {
      philox_block(stream.seed, stream.first_block + (uint64_t)block, words);
      const int64_t first = block * kWordsPerBlock;
      const int64_t count = std::min(kWordsPerBlock, n - first);
      for (int64_t k = 0; k < count; ++k) {
        const bool keep = (words[k] >> 8) < threshold;
        mask[first + k] = keep;
        out[first + k] = dropout_fwd(x[first + k], keep, keep_prob);
      }
    }
  });
}

}  // namespace

std::pair<Tensor, Tensor> dropout(const Tensor& x, double p, const std::optional<RandomBlocks>& stream) {
  check_cpu("dropout", x);
  check_probability(p, "dropout");
  check_float(x, "dropout", "x");
  const Tensor input = contiguous(x);  // the mask follows x's logical (row-major) order
  Tensor out = empty(x.shape, x.dtype);
  Tensor mask = empty(x.shape, DType::Bool);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    dropout_contiguous<T>(input.data<T>(), out.data<T>(), mask.data<bool>(), x.numel(), p,
                          stream ? &*stream : nullptr);
  });
  return {out, mask};
}

Tensor dropout_backward(const Tensor& grad, const Tensor& mask, double p) {
  const char* op = "dropout_backward";
  check_same_device(op, grad, mask);
  check_cpu(op, grad);
  check_probability(p, op);
  check_float(grad, op, "grad");
  EMBER_CHECK(mask.dtype == DType::Bool, TypeError, op,
              ": mask must be a bool tensor (the one dropout returned), got ",
              dtype_name(mask.dtype));
  EMBER_CHECK(grad.shape == mask.shape, ValueError, op, ": grad and mask must have the same shape, got ",
              shape_str(grad.shape), " and ", shape_str(mask.shape));
  OpParams params;
  params.alpha = 1.0 - p;
  Tensor out = empty(grad.shape, grad.dtype);
  run_rows<3>(activation_backward_kernels().dropout_backward[(int)grad.dtype], grad.shape, {&out, &grad, &mask},
              &params, kElementwiseGrain, op);
  return out;
}

}  // namespace ember
