// Elementwise losses: mse, l1, huber, smooth_l1, binary_cross_entropy (on probabilities) and
// binary_cross_entropy_with_logits, forward with the reduction fused, and their backward.
//
// Shape convention: input and target broadcast to one shape S (the regression losses; PyTorch
// warns about it, which the Python layer does) or must be equal (the BCE pair); weight and
// pos_weight broadcast to S. Each operand is made a contiguous S-shaped array of the compute dtype
// once, which is free in the usual call (contiguous, equal shapes, one dtype), so the kernels
// (loss_kernels.inc, per ISA: SIMD for float32) are flat loops over the formulas of ops/loss_math.h.
//
// Work goes in fixed chunks of kChunk elements; reductions sum each chunk in double and add the
// chunks in order, so the result does not depend on the thread count. 'mean' of no elements is NaN
// (0 / 0), as in PyTorch.
#include "cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/loss_kernels.h"
#include "cpu/reduce.h"

namespace ember {
namespace cpu {

Reduction parse_reduction(const std::string& name, const char* op) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  if (name == "none") return Reduction::None;
  throw ValueError(str_cat(op, ": reduction must be 'mean', 'sum' or 'none', got '", name, "'"));
}

const char* pointwise_loss_name(PointwiseLoss loss) {
  switch (loss) {
    case PointwiseLoss::Mse: return "mse_loss";
    case PointwiseLoss::L1: return "l1_loss";
    case PointwiseLoss::Huber: return "huber_loss";
    case PointwiseLoss::SmoothL1: return "smooth_l1_loss";
    case PointwiseLoss::BinaryCrossEntropy: return "binary_cross_entropy";
    default: break;
  }
  return "binary_cross_entropy_with_logits";
}

namespace {

const LossKernels& loss_kernels() {
  static const LossKernels table = [] {
    LossKernels t{};
    switch (cpu_capability()) {
      case CpuCapability::AVX512: avx512::fill_loss_kernels(&t); break;
      case CpuCapability::AVX2: avx2::fill_loss_kernels(&t); break;
      default: generic::fill_loss_kernels(&t); break;
    }
    return t;
  }();
  return table;
}

template <class T>
LossForwardKernel<T> forward_kernel(PointwiseLoss loss) {
  if constexpr (std::is_same<T, float>::value) return loss_kernels().forward_f32[(int)loss];
  else return loss_kernels().forward_f64[(int)loss];
}

template <class T>
LossBackwardKernel<T> backward_kernel(PointwiseLoss loss) {
  if constexpr (std::is_same<T, float>::value) return loss_kernels().backward_f32[(int)loss];
  else return loss_kernels().backward_f64[(int)loss];
}

// Chunks per thread below which the work stays on one thread (a log or exp per element costs more
// than a copy).
int64_t chunk_grain() { return std::max<int64_t>(1, kElementwiseGrain / 4 / kChunk); }
int64_t chunk_count(int64_t n) { return (n + kChunk - 1) / kChunk; }

template <class T>
Tensor run_forward(PointwiseLoss loss, const LossArrays<T>& arrays, const Shape& shape, Reduction reduction) {
  const LossForwardKernel<T> kernel = forward_kernel<T>(loss);
  const int64_t n = shape_numel(shape), n_chunks = chunk_count(n);
  Tensor out = empty(reduction == Reduction::None ? shape : Shape{}, dtype_of<T>::value);
  T* per_element = reduction == Reduction::None ? out.data<T>() : nullptr;
  std::vector<double> partial(n_chunks);
  parallel_for(0, n_chunks, chunk_grain(), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) partial[c] = kernel(arrays, per_element, c * kChunk, std::min(n, (c + 1) * kChunk));
  });
  if (per_element) return out;
  double total = 0;
  for (double p : partial) total += p;
  *out.data<T>() = (T)(reduction == Reduction::Mean ? total / (double)n : total);
  return out;
}

template <class T>
Tensor run_backward(PointwiseLoss loss, const LossArrays<T>& arrays, const Tensor& grad, const Shape& shape,
                    Reduction reduction) {
  const LossBackwardKernel<T> kernel = backward_kernel<T>(loss);
  const int64_t n = shape_numel(shape);
  Tensor dx = empty(shape, dtype_of<T>::value);
  Tensor g = contiguous(to_dtype(grad, dtype_of<T>::value));
  const T* per_element = reduction == Reduction::None ? g.data<T>() : nullptr;
  T scale = 0;
  if (!per_element) scale = (T)(reduction == Reduction::Mean ? (double)*g.data<T>() / (double)n : *g.data<T>());
  T* d = dx.data<T>();
  parallel_for(0, chunk_count(n), chunk_grain(), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) kernel(arrays, per_element, scale, d, c * kChunk, std::min(n, (c + 1) * kChunk));
  });
  return dx;
}

// ---- argument checking ---------------------------------------------------------------------------

bool is_binary_cross_entropy(PointwiseLoss loss) {
  return loss == PointwiseLoss::BinaryCrossEntropy || loss == PointwiseLoss::BinaryCrossEntropyWithLogits;
}

// The checked operands of one call, each a contiguous array of `shape` and `dtype`.
struct Operands {
  Shape shape;
  DType dtype;
  Tensor input, target;
  std::optional<Tensor> weight, pos_weight;
};

// weight / pos_weight seen with `shape`: it must broadcast to it without growing it.
Tensor broadcast_factor(const Tensor& t, const Shape& shape, DType dtype, const char* what, const char* op) {
  EMBER_CHECK(t.device().is_cpu(), RuntimeError, op, ": ", what, " is on ", t.device().str(), ", the input on cpu");
  bool fits = t.shape.size() <= shape.size();
  for (size_t i = 0; fits && i < t.shape.size(); ++i) {
    int64_t d = t.shape[t.shape.size() - 1 - i], want = shape[shape.size() - 1 - i];
    fits = d == want || d == 1;
  }
  EMBER_CHECK(fits, ValueError, op, ": ", what, " of shape ", shape_str(t.shape),
              " does not broadcast to the input's shape ", shape_str(shape));
  return contiguous(broadcast_to(to_dtype(t, dtype), shape, op));
}

Operands prepare(PointwiseLoss loss, const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                 const std::optional<Tensor>& pos_weight, double param) {
  const char* op = pointwise_loss_name(loss);
  EMBER_CHECK(is_floating(input.dtype), TypeError, op, ": input must be a float tensor, got ", dtype_name(input.dtype));
  const bool exact_target = loss == PointwiseLoss::Mse || is_binary_cross_entropy(loss);
  EMBER_CHECK(is_floating(target.dtype) || !exact_target, TypeError, op, ": target is ", dtype_name(target.dtype),
              "; cast targets to float (e.g. target.float()) to match the input's ", dtype_name(input.dtype));
  EMBER_CHECK(input.device() == target.device(), RuntimeError, op, ": input is on ", input.device().str(),
              " but target on ", target.device().str());
  if (loss == PointwiseLoss::Huber)
    EMBER_CHECK(param > 0, ValueError, "huber_loss: delta must be positive, got ", param);
  if (loss == PointwiseLoss::SmoothL1)
    EMBER_CHECK(param >= 0, ValueError, "smooth_l1_loss: beta must be non-negative, got ", param);

  Operands ops;
  // An integer target of L1 / Huber / smooth L1 is promoted to the input's dtype, as in PyTorch.
  ops.dtype = is_floating(target.dtype) ? promote_types(input.dtype, target.dtype) : input.dtype;
  if (is_binary_cross_entropy(loss)) {
    EMBER_CHECK(input.shape == target.shape, ValueError, op, ": target shape ", shape_str(target.shape),
                " differs from input shape ", shape_str(input.shape), "; they must be equal");
    ops.shape = input.shape;
  } else {
    ops.shape = broadcast_shapes(input.shape, target.shape, op);
  }
  ops.input = contiguous(broadcast_to(to_dtype(input, ops.dtype), ops.shape, op));
  ops.target = contiguous(broadcast_to(to_dtype(target, ops.dtype), ops.shape, op));
  if (weight) ops.weight = broadcast_factor(*weight, ops.shape, ops.dtype, "weight", op);
  if (pos_weight) ops.pos_weight = broadcast_factor(*pos_weight, ops.shape, ops.dtype, "pos_weight", op);
  return ops;
}

// binary_cross_entropy takes probabilities: the first input value outside [0, 1] is an error
// (NaN passes: it propagates to the loss instead). Chunks are scanned in parallel, the first bad
// value of the earliest chunk reported.
template <class T>
void check_probabilities(const T* x, int64_t n) {
  const int64_t n_chunks = (n + kChunk - 1) / kChunk;
  std::vector<int64_t> first_bad(n_chunks, -1);
  parallel_for(0, n_chunks, std::max<int64_t>(1, kElementwiseGrain / kChunk), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      for (int64_t i = c * kChunk, end = std::min(n, (c + 1) * kChunk); i < end; ++i)
        if (x[i] < T(0) || x[i] > T(1)) {
          first_bad[c] = i;
          break;
        }
    }
  });
  for (int64_t i : first_bad)
    EMBER_CHECK(i < 0, ValueError, "binary_cross_entropy: input values must be in [0, 1] (got ", x[i],
                "); apply sigmoid first or use binary_cross_entropy_with_logits");
}

template <class T>
LossArrays<T> arrays_of(PointwiseLoss loss, const Operands& ops, double param) {
  // pos_weight defaults to 1; delta and beta come as `param`
  const double aux = loss == PointwiseLoss::BinaryCrossEntropyWithLogits ? 1.0 : param;
  return {ops.input.data<T>(), ops.target.data<T>(), ops.weight ? ops.weight->data<T>() : nullptr,
          ops.pos_weight ? ops.pos_weight->data<T>() : nullptr, (T)aux};
}

// smooth_l1 with beta = 0 is the L1 loss, as PyTorch computes it (its formula would divide by 0).
PointwiseLoss formula_for(PointwiseLoss loss, double param) {
  return loss == PointwiseLoss::SmoothL1 && param == 0 ? PointwiseLoss::L1 : loss;
}

}  // namespace

Tensor pointwise_loss(PointwiseLoss loss, const Tensor& input, const Tensor& target,
                      const std::optional<Tensor>& weight, const std::optional<Tensor>& pos_weight, double param,
                      Reduction reduction) {
  Operands ops = prepare(loss, input, target, weight, pos_weight, param);
  return dispatch_float(ops.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (loss == PointwiseLoss::BinaryCrossEntropy) check_probabilities(ops.input.data<T>(), ops.input.numel());
    return run_forward<T>(formula_for(loss, param), arrays_of<T>(loss, ops, param), ops.shape, reduction);
  });
}

Tensor pointwise_loss_backward(PointwiseLoss loss, const Tensor& grad, const Tensor& input, const Tensor& target,
                               const std::optional<Tensor>& weight, const std::optional<Tensor>& pos_weight,
                               double param, Reduction reduction) {
  const char* op = pointwise_loss_name(loss);
  Operands ops = prepare(loss, input, target, weight, pos_weight, param);
  EMBER_CHECK(is_floating(grad.dtype), TypeError, op, "_backward: grad must be a float tensor, got ",
              dtype_name(grad.dtype));
  const Shape& want = reduction == Reduction::None ? ops.shape : Shape{};
  EMBER_CHECK(grad.shape == want, ValueError, op, "_backward: grad has shape ", shape_str(grad.shape),
              " but the loss has shape ", shape_str(want));
  return dispatch_float(ops.dtype, [&](auto tag) {
    using T = decltype(tag);
    return run_backward<T>(formula_for(loss, param), arrays_of<T>(loss, ops, param), grad, ops.shape, reduction);
  });
}

}  // namespace cpu
}  // namespace ember
