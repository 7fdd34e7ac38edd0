// Elementwise losses: mse, l1, huber, smooth_l1, binary_cross_entropy (on probabilities) and
// binary_cross_entropy_with_logits, forward with the reduction fused, and their backward.
//
// Shape convention: input and target broadcast to one shape S (the regression losses; PyTorch
// warns about it, which the Python layer does) or must be equal (the BCE pair); weight and
// pos_weight broadcast to S. Each operand is made a contiguous S-shaped array of the compute dtype
// once, which is free in the usual call (contiguous, equal shapes, one dtype), so the kernels are
// flat loops over the per-element formulas of ops/loss_math.h.
//
// Reductions sum fixed chunks of kChunk elements in double and add the chunks in order, so the
// result does not depend on the thread count. 'mean' of no elements is NaN (0 / 0), as in PyTorch.
#include "cpu/loss.h"

#include <cmath>
#include <vector>

#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/reduce.h"
#include "ops/loss_math.h"

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
    case PointwiseLoss::BinaryCrossEntropyWithLogits: break;
  }
  return "binary_cross_entropy_with_logits";
}

namespace {

// ---- the formulas, selected at compile time ----------------------------------------------------
// fwd / bwd(x, y, aux): aux is delta or beta (a constant), pos_weight (per element) or unused.
template <PointwiseLoss L> struct Formula;
template <> struct Formula<PointwiseLoss::Mse> {
  template <class T> static T fwd(T x, T y, T) { return mse_loss_fwd(x, y); }
  template <class T> static T bwd(T x, T y, T) { return mse_loss_bwd(x, y); }
};
template <> struct Formula<PointwiseLoss::L1> {
  template <class T> static T fwd(T x, T y, T) { return l1_loss_fwd(x, y); }
  template <class T> static T bwd(T x, T y, T) { return l1_loss_bwd(x, y); }
};
template <> struct Formula<PointwiseLoss::Huber> {
  template <class T> static T fwd(T x, T y, T delta) { return huber_loss_fwd(x, y, delta); }
  template <class T> static T bwd(T x, T y, T delta) { return huber_loss_bwd(x, y, delta); }
};
template <> struct Formula<PointwiseLoss::SmoothL1> {
  template <class T> static T fwd(T x, T y, T beta) { return smooth_l1_loss_fwd(x, y, beta); }
  template <class T> static T bwd(T x, T y, T beta) { return smooth_l1_loss_bwd(x, y, beta); }
};
template <> struct Formula<PointwiseLoss::BinaryCrossEntropy> {
  template <class T> static T fwd(T x, T y, T) { return binary_cross_entropy_fwd(x, y); }
  template <class T> static T bwd(T x, T y, T) { return binary_cross_entropy_bwd(x, y); }
};
template <> struct Formula<PointwiseLoss::BinaryCrossEntropyWithLogits> {
  template <class T> static T fwd(T x, T y, T pos_weight) { return binary_cross_entropy_with_logits_fwd(x, y, pos_weight); }
  template <class T> static T bwd(T x, T y, T pos_weight) { return binary_cross_entropy_with_logits_bwd(x, y, pos_weight); }
};

template <class F>
decltype(auto) dispatch_loss(PointwiseLoss loss, F&& f) {
  switch (loss) {
    case PointwiseLoss::Mse: return f(Formula<PointwiseLoss::Mse>{});
    case PointwiseLoss::L1: return f(Formula<PointwiseLoss::L1>{});
    case PointwiseLoss::Huber: return f(Formula<PointwiseLoss::Huber>{});
    case PointwiseLoss::SmoothL1: return f(Formula<PointwiseLoss::SmoothL1>{});
    case PointwiseLoss::BinaryCrossEntropy: return f(Formula<PointwiseLoss::BinaryCrossEntropy>{});
    case PointwiseLoss::BinaryCrossEntropyWithLogits: break;
  }
  return f(Formula<PointwiseLoss::BinaryCrossEntropyWithLogits>{});
}

// The elements of one call: contiguous arrays of n values (weight and pos_weight may be absent).
template <class T, class F>
struct Elements {
  const T* x;
  const T* y;
  const T* weight;      // null: 1
  const T* pos_weight;  // null: `param` for every element
  T param;

  T loss(int64_t i) const {
    const T l = F::fwd(x[i], y[i], pos_weight ? pos_weight[i] : param);
    return weight ? l * weight[i] : l;
  }
  T grad(int64_t i) const {
    const T d = F::bwd(x[i], y[i], pos_weight ? pos_weight[i] : param);
    return weight ? d * weight[i] : d;
  }
};

// Elements per thread below which the loop stays on one thread (log / exp per element is slower
// than a copy).
constexpr int64_t kLossGrain = kElementwiseGrain / 4;

template <class T, class F>
double sum_losses(const Elements<T, F>& el, int64_t begin, int64_t end) {
  double acc[4] = {0, 0, 0, 0};
  int64_t i = begin;
  for (; i + 4 <= end; i += 4)
    for (int k = 0; k < 4; ++k) acc[k] += (double)el.loss(i + k);
  for (; i < end; ++i) acc[0] += (double)el.loss(i);
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

template <class T, class F>
Tensor forward_kernel(const Elements<T, F>& el, const Shape& shape, Reduction reduction) {
  const int64_t n = shape_numel(shape);
  if (reduction == Reduction::None) {
    Tensor out = empty(shape, dtype_of<T>::value);
    T* o = out.data<T>();
    parallel_for(0, n, kLossGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = el.loss(i);
    });
    return out;
  }
  const int64_t n_chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(n_chunks);
  parallel_for(0, n_chunks, std::max<int64_t>(1, kLossGrain / kChunk), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) partial[c] = sum_losses(el, c * kChunk, std::min(n, (c + 1) * kChunk));
  });
  double total = 0;
  for (double p : partial) total += p;
  if (reduction == Reduction::Mean) total /= (double)n;
  return full({}, total, dtype_of<T>::value);
}

template <class T, class F>
Tensor backward_kernel(const Elements<T, F>& el, const Tensor& grad, const Shape& shape, Reduction reduction) {
  const int64_t n = shape_numel(shape);
  Tensor dx = empty(shape, dtype_of<T>::value);
  T* d = dx.data<T>();
  if (reduction == Reduction::None) {
    Tensor g = contiguous(to_dtype(grad, dtype_of<T>::value));
    const T* gp = g.data<T>();
    parallel_for(0, n, kLossGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d[i] = gp[i] * el.grad(i);
    });
    return dx;
  }
  double g = 0;
  dispatch_float(grad.dtype, [&](auto tag) { g = (double)*grad.data<decltype(tag)>(); });
  const T scale = (T)(reduction == Reduction::Mean ? g / (double)n : g);
  parallel_for(0, n, kLossGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) d[i] = scale * el.grad(i);
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

// The constant third argument of the formulas: delta or beta, or pos_weight's default of 1.
double constant_aux(PointwiseLoss loss, double param) {
  return loss == PointwiseLoss::BinaryCrossEntropyWithLogits ? 1.0 : param;
}

template <class T, class F>
Elements<T, F> elements_of(const Operands& ops, double aux) {
  return {ops.input.data<T>(), ops.target.data<T>(), ops.weight ? ops.weight->data<T>() : nullptr,
          ops.pos_weight ? ops.pos_weight->data<T>() : nullptr, (T)aux};
}

}  // namespace

Tensor pointwise_loss(PointwiseLoss loss, const Tensor& input, const Tensor& target,
                      const std::optional<Tensor>& weight, const std::optional<Tensor>& pos_weight, double param,
                      Reduction reduction) {
  Operands ops = prepare(loss, input, target, weight, pos_weight, param);
  return dispatch_float(ops.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (loss == PointwiseLoss::BinaryCrossEntropy) check_probabilities(ops.input.data<T>(), ops.input.numel());
    return dispatch_loss(loss, [&](auto formula) {
      return forward_kernel(elements_of<T, decltype(formula)>(ops, constant_aux(loss, param)), ops.shape, reduction);
    });
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
    return dispatch_loss(loss, [&](auto formula) {
      return backward_kernel(elements_of<T, decltype(formula)>(ops, constant_aux(loss, param)), grad, ops.shape, reduction);
    });
  });
}

}  // namespace cpu
}  // namespace ember
