// Cross-entropy over classes fused with its log-softmax, and NLL on log-probabilities, forward and
// backward, with PyTorch's semantics (torch.nn.functional.cross_entropy / nll_loss).
//
// Shape convention: the input (N, C, d1, ...) is seen as [N, C, inner], inner = d1 * ...; (C,) is
// one unbatched sample. A row is the C values of one (n, d1, ...) position, `inner` elements apart
// (contiguous in the common (N, C) case). Targets hold one class index per row (int64, shape
// (N, d1, ...)) or class probabilities (the input's shape). Rows are processed in order (n, then
// position), so neighbouring strided rows share cache lines.
//
// Per row, with lse = max + log(sum exp(x - max)), weights w (all 1 when absent), smoothing eps:
//   class index t:     loss = (1 - eps) w[t] (lse - x[t]) + eps / C * sum_c w[c] (lse - x[c])
//                      (0 for t == ignore_index)
//   probabilities p:   loss = sum_c w[c] q[c] (lse - x[c]),   q = (1 - eps) p + eps / C
// 'mean' divides the total by the sum of w[t] over the rows not ignored (class indices; NaN when
// every row is ignored, as PyTorch) or by the number of rows (probabilities).
// Backward, with s = softmax(x) = exp(x - max) / sum and `scale` the incoming gradient (divided as
// the mean divided):
//   class index t:     dx = scale * (s ((1 - eps) w[t] + eps / C * sum w) - eps / C * w - (1 - eps) w[t] [c == t])
//   probabilities p:   dx = scale * (s sum_k w[k] q[k] - w q)
// which is (softmax - target distribution) * scale when unweighted. The forward keeps each row's
// maximum, so the backward gets exp(x - max) and its sum in one pass over the row and writes dx
// in a second while the row is in cache.
//
// Sums (the exponentials, the total loss) accumulate in double. Reductions add fixed blocks of rows
// in order, so results do not depend on the thread count. Argument checks, including every class
// index, run before any parallel region.
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/loss.h"
#include "cpu/reduce.h"
#include "cpu/reduce_kernels.h"

namespace ember {
namespace cpu {
namespace {

// ---- row kernels: n values `stride` apart --------------------------------------------------------

// The largest value; NaN when any is NaN.
template <class T>
T row_max(const T* x, int64_t n, int64_t stride) {
  if (stride == 1) {
    if constexpr (std::is_same<T, float>::value) return reduce_kernels().max_f32(x, n);
    else return reduce_kernels().max_f64(x, n);
  }
  T m = x[0];
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i * stride];
    if (v != v) return v;
    if (v > m) m = v;
  }
  return m;
}

// sum of exp(x - shift) for shift the row's maximum; each term is stored in y unless y is null.
template <class T>
double row_exp_sum(const T* x, T* y, int64_t n, int64_t stride, T shift) {
  if constexpr (std::is_same<T, float>::value)
    if (stride == 1) return reduce_kernels().exp_sum_f32(x, y, n, shift);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T e = std::exp(x[i * stride] - shift);
    if (y) y[i * stride] = e;
    sum += e;
  }
  return sum;
}

// One call's rows: logits (and probability targets, and dx) share the [N, C, inner] layout.
template <class T>
struct ClassRows {
  const T* logits;
  int64_t n_classes, inner;
  const int64_t* indices;  // class-index targets, one per row; null with probabilities
  const T* probs;          // class-probability targets; null with indices
  const T* weight;         // (C,); null: all 1
  double weight_sum;       // sum of weight (C when absent)
  int64_t ignore_index;
  double smoothing;

  int64_t offset(int64_t r) const { return (r / inner) * n_classes * inner + r % inner; }
  double w(int64_t c) const { return weight ? (double)weight[c] : 1.0; }
  bool ignored(int64_t r) const { return indices && indices[r] == ignore_index; }

  // The loss of row r; stores the row's maximum in *max_out.
  double loss(int64_t r, T* max_out) const {
    const int64_t off = offset(r), C = n_classes;
    const T* x = logits + off;
    const T m = row_max(x, C, inner);
    *max_out = m;
    if (ignored(r)) return 0;
    const double lse = (double)m + std::log(row_exp_sum<T>(x, nullptr, C, inner, m));
    const double uniform = smoothing / (double)C;
    if (indices) {
      const int64_t t = indices[r];
      double loss = (1 - smoothing) * w(t) * (lse - (double)x[t * inner]);
      if (smoothing > 0) {
        double smooth = 0;
        for (int64_t c = 0; c < C; ++c) smooth += w(c) * (lse - (double)x[c * inner]);
        loss += uniform * smooth;
      }
      return loss;
    }
    const T* p = probs + off;
    double loss = 0;
    for (int64_t c = 0; c < C; ++c) {
      const double q = (1 - smoothing) * (double)p[c * inner] + uniform;
      loss += w(c) * q * (lse - (double)x[c * inner]);
    }
    return loss;
  }

  // d(loss)/d(row r) times `scale`, written to the same row of dx.
  void grad(int64_t r, T max, double scale, T* dx_base) const {
    const int64_t off = offset(r), C = n_classes, step = inner;
    const T* x = logits + off;
    T* dx = dx_base + off;
    if (ignored(r)) {
      for (int64_t c = 0; c < C; ++c) dx[c * step] = T(0);
      return;
    }
    const double inv_sum = 1.0 / row_exp_sum<T>(x, dx, C, step, max);  // dx = exp(x - max)
    const double uniform = smoothing / (double)C;
    if (indices) {
      const int64_t t = indices[r];
      const double target_weight = (1 - smoothing) * w(t);
      const T softmax_coef = (T)(scale * (target_weight + uniform * weight_sum) * inv_sum);
      const T uniform_coef = (T)(scale * uniform);
      if (weight)
        for (int64_t c = 0; c < C; ++c) dx[c * step] = softmax_coef * dx[c * step] - uniform_coef * weight[c];
      else
        for (int64_t c = 0; c < C; ++c) dx[c * step] = softmax_coef * dx[c * step] - uniform_coef;
      dx[t * step] -= (T)(scale * target_weight);
      return;
    }
    const T* p = probs + off;
    double weighted_mass = 0;  // sum_k w[k] q[k]
    for (int64_t c = 0; c < C; ++c) weighted_mass += w(c) * ((1 - smoothing) * (double)p[c * step] + uniform);
    const T softmax_coef = (T)(scale * weighted_mass * inv_sum);
    const T keep = (T)(1 - smoothing), spread = (T)uniform, s = (T)scale;
    for (int64_t c = 0; c < C; ++c) {
      const T q = keep * p[c * step] + spread;
      dx[c * step] = softmax_coef * dx[c * step] - s * (weight ? weight[c] : T(1)) * q;
    }
  }
};

// Rows per thread below which the row loop stays on one thread: about kElementwiseGrain / 4
// logits (each costs an exp and a few passes).
int64_t row_grain(int64_t n_classes) { return std::max<int64_t>(1, kElementwiseGrain / 4 / n_classes); }

// ---- argument checking ----------------------------------------------------------------------------

struct ClassLayout {
  int64_t n_batch = 1, n_classes = 0, inner = 1;
  Shape row_shape;  // (N, d1, ...), or () for an unbatched (C,) input
  int64_t rows() const { return n_batch * inner; }
};

ClassLayout class_layout(const Tensor& input, const char* op) {
  EMBER_CHECK(input.ndim() >= 1, ValueError, op,
              ": input must have a class dimension: (C,), (N, C) or (N, C, d1, ...); got a 0-d tensor");
  ClassLayout l;
  l.n_classes = input.ndim() == 1 ? input.shape[0] : input.shape[1];
  EMBER_CHECK(l.n_classes > 0, ValueError, op, ": input of shape ", shape_str(input.shape),
              " has no classes (its class dimension is 0)");
  if (input.ndim() >= 2) {
    l.n_batch = input.shape[0];
    l.row_shape.push_back(input.shape[0]);
    for (int64_t d = 2; d < input.ndim(); ++d) {
      l.inner *= input.shape[d];
      l.row_shape.push_back(input.shape[d]);
    }
  }
  return l;
}

// The class-index target as contiguous int64 of the row shape.
Tensor index_target(const Tensor& target, const Tensor& input, const ClassLayout& l, const char* op) {
  EMBER_CHECK(target.dtype == DType::Int64 || target.dtype == DType::Int32, TypeError, op,
              ": class-index targets must be int64, got ", dtype_name(target.dtype));
  EMBER_CHECK(target.shape == l.row_shape, ValueError, op, ": target has shape ", shape_str(target.shape),
              " but input ", shape_str(input.shape), " needs class indices of shape ", shape_str(l.row_shape));
  return contiguous(to_dtype(target, DType::Int64));
}

// The weight as a contiguous (C,) array of dtype.
std::optional<Tensor> class_weight(const std::optional<Tensor>& weight, const ClassLayout& l, DType dtype,
                                   const char* op) {
  if (!weight) return std::nullopt;
  EMBER_CHECK(weight->shape == Shape{l.n_classes}, ValueError, op, ": weight must hold one value per class, shape (",
              l.n_classes, ",), got ", shape_str(weight->shape));
  EMBER_CHECK(is_floating(weight->dtype), TypeError, op, ": weight must be a float tensor, got ",
              dtype_name(weight->dtype));
  EMBER_CHECK(weight->device().is_cpu(), RuntimeError, op, ": weight is on ", weight->device().str(),
              ", the input on cpu");
  return contiguous(to_dtype(*weight, dtype));
}

// Checks every class index (IndexError naming the first bad one) and returns the sum of the
// target weights of the rows not ignored: the divisor of 'mean'. Sequential, so the sum is
// reproducible and no exception is thrown inside a parallel region.
template <class T>
double check_indices(const int64_t* t, int64_t rows, int64_t n_classes, const T* weight, int64_t ignore_index,
                     const char* op) {
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t c = t[r];
    if (c == ignore_index) continue;
    EMBER_CHECK(c >= 0 && c < n_classes, IndexError, op, ": target ", c, " is out of bounds for ", n_classes,
                " classes (valid: 0 to ", n_classes - 1, ", or ignore_index=", ignore_index, ")");
    total += weight ? (double)weight[c] : 1.0;
  }
  return total;
}

// Everything a cross-entropy call needs, checked and converted once; shared by forward and backward.
struct CrossEntropyCall {
  ClassLayout layout;
  DType dtype;
  Tensor logits, target;  // contiguous; target int64 indices or dtype probabilities
  bool probabilities;
  std::optional<Tensor> weight;
  double mean_divisor;  // sum of target weights (indices) or number of rows (probabilities)

  template <class T>
  ClassRows<T> rows(int64_t ignore_index, double smoothing) const {
    const T* w = weight ? weight->data<T>() : nullptr;
    double weight_sum = (double)layout.n_classes;
    if (w) {
      weight_sum = 0;
      for (int64_t c = 0; c < layout.n_classes; ++c) weight_sum += (double)w[c];
    }
    return {logits.data<T>(), layout.n_classes, layout.inner,
            probabilities ? nullptr : target.data<int64_t>(), probabilities ? target.data<T>() : nullptr,
            w, weight_sum, ignore_index, smoothing};
  }
};

CrossEntropyCall prepare_cross_entropy(const Tensor& logits, const Tensor& target, const std::optional<Tensor>& weight,
                                       int64_t ignore_index, double label_smoothing) {
  const char* op = "cross_entropy";
  EMBER_CHECK(is_floating(logits.dtype), TypeError, op, ": input (logits) must be a float tensor, got ",
              dtype_name(logits.dtype));
  EMBER_CHECK(label_smoothing >= 0 && label_smoothing <= 1, ValueError, op,
              ": label_smoothing must be in [0, 1], got ", label_smoothing);
  EMBER_CHECK(logits.device() == target.device(), RuntimeError, op, ": input is on ", logits.device().str(),
              " but target on ", target.device().str());
  CrossEntropyCall call;
  call.layout = class_layout(logits, op);
  call.probabilities = is_floating(target.dtype);
  if (call.probabilities) {
    EMBER_CHECK(target.shape == logits.shape, ValueError, op, ": class-probability target has shape ",
                shape_str(target.shape), " but the input has shape ", shape_str(logits.shape),
                "; they must match (or pass int64 class indices of shape ", shape_str(call.layout.row_shape), ")");
    EMBER_CHECK(ignore_index < 0, ValueError, op, ": ignore_index (", ignore_index,
                ") is not supported with class-probability targets");
    call.dtype = promote_types(logits.dtype, target.dtype);
    call.target = contiguous(to_dtype(target, call.dtype));
  } else {
    EMBER_CHECK(target.dtype != DType::Bool, TypeError, op,
                ": target is bool; pass int64 class indices or float class probabilities");
    call.dtype = logits.dtype;
    call.target = index_target(target, logits, call.layout, op);
  }
  call.logits = contiguous(to_dtype(logits, call.dtype));
  call.weight = class_weight(weight, call.layout, call.dtype, op);
  dispatch_float(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    call.mean_divisor = call.probabilities
        ? (double)call.layout.rows()
        : check_indices<T>(call.target.data<int64_t>(), call.layout.rows(), call.layout.n_classes,
                           call.weight ? call.weight->data<T>() : nullptr, ignore_index, op);
  });
  return call;
}

// The gradient of a loss with respect to one row: `grad` (0-d for 'mean' / 'sum', one per row for
// 'none') as a function of the row, after checking its shape.
struct RowScale {
  const double* per_row = nullptr;
  double constant = 0;
  std::vector<double> values;
  double operator()(int64_t r) const { return per_row ? per_row[r] : constant; }
};

RowScale row_scale(const Tensor& grad, const Shape& row_shape, Reduction reduction, double mean_divisor,
                   const char* op) {
  EMBER_CHECK(is_floating(grad.dtype), TypeError, op, "_backward: grad must be a float tensor, got ",
              dtype_name(grad.dtype));
  const Shape want = reduction == Reduction::None ? row_shape : Shape{};
  EMBER_CHECK(grad.shape == want, ValueError, op, "_backward: grad has shape ", shape_str(grad.shape),
              " but the loss has shape ", shape_str(want));
  RowScale scale;
  Tensor g = contiguous(to_dtype(grad, DType::Float64));
  if (reduction == Reduction::None) {
    scale.values.assign(g.data<double>(), g.data<double>() + g.numel());
    scale.per_row = scale.values.data();
  } else {
    scale.constant = *g.data<double>() / (reduction == Reduction::Mean ? mean_divisor : 1.0);
  }
  return scale;
}

// Adds per-row losses: blocks of rows whose total size is about kChunk logits, summed in order.
template <class F>
double sum_rows(int64_t rows, int64_t n_classes, const F& row_loss) {
  const int64_t block = std::max<int64_t>(1, kChunk / n_classes), n_blocks = (rows + block - 1) / block;
  std::vector<double> partial(n_blocks);
  parallel_for(0, n_blocks, std::max<int64_t>(1, row_grain(n_classes) / block), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      double sum = 0;
      for (int64_t r = k * block, end = std::min(rows, (k + 1) * block); r < end; ++r) sum += row_loss(r);
      partial[k] = sum;
    }
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

Tensor reduced_loss(double total, double mean_divisor, Reduction reduction, DType dtype) {
  return full({}, reduction == Reduction::Mean ? total / mean_divisor : total, dtype);
}

}  // namespace

// ---- cross-entropy -----------------------------------------------------------------------------

std::pair<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& target, const std::optional<Tensor>& weight,
                                        int64_t ignore_index, Reduction reduction, double label_smoothing) {
  CrossEntropyCall call = prepare_cross_entropy(logits, target, weight, ignore_index, label_smoothing);
  const ClassLayout& l = call.layout;
  Tensor row_max = empty(l.row_shape, call.dtype);
  Tensor loss;
  dispatch_float(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    const ClassRows<T> rows = call.rows<T>(ignore_index, label_smoothing);
    T* max_out = row_max.data<T>();
    if (reduction == Reduction::None) {
      loss = empty(l.row_shape, call.dtype);
      T* out = loss.data<T>();
      parallel_for(0, l.rows(), row_grain(l.n_classes), [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) out[r] = (T)rows.loss(r, max_out + r);
      });
      return;
    }
    double total = sum_rows(l.rows(), l.n_classes, [&](int64_t r) { return rows.loss(r, max_out + r); });
    loss = reduced_loss(total, call.mean_divisor, reduction, call.dtype);
  });
  return {loss, row_max};
}

Tensor cross_entropy_backward(const Tensor& grad, const Tensor& logits, const Tensor& target, const Tensor& row_max_in,
                              const std::optional<Tensor>& weight, int64_t ignore_index, Reduction reduction,
                              double label_smoothing) {
  CrossEntropyCall call = prepare_cross_entropy(logits, target, weight, ignore_index, label_smoothing);
  const ClassLayout& l = call.layout;
  EMBER_CHECK(row_max_in.shape == l.row_shape && row_max_in.dtype == call.dtype, ValueError,
              "cross_entropy_backward: row_max must be the forward's second result, of shape ",
              shape_str(l.row_shape), " and dtype ", dtype_name(call.dtype), "; got ", shape_str(row_max_in.shape),
              " ", dtype_name(row_max_in.dtype));
  const RowScale scale = row_scale(grad, l.row_shape, reduction, call.mean_divisor, "cross_entropy");
  Tensor row_max = contiguous(row_max_in);
  Tensor dx = empty(call.logits.shape, call.dtype);
  dispatch_float(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    const ClassRows<T> rows = call.rows<T>(ignore_index, label_smoothing);
    const T* maxima = row_max.data<T>();
    T* out = dx.data<T>();
    parallel_for(0, l.rows(), row_grain(l.n_classes), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) rows.grad(r, maxima[r], scale(r), out);
    });
  });
  return dx;
}

// ---- NLL on log-probabilities ------------------------------------------------------------------------
// One value per row is read or written, so both directions are a sequential pass over the targets
// (besides zero-filling dx).

namespace {

struct NllCall {
  ClassLayout layout;
  Tensor log_probs, target;
  std::optional<Tensor> weight;
  double weight_total;
};

NllCall prepare_nll(const Tensor& log_probs, const Tensor& target, const std::optional<Tensor>& weight,
                    int64_t ignore_index) {
  const char* op = "nll_loss";
  EMBER_CHECK(is_floating(log_probs.dtype), TypeError, op, ": input (log-probabilities) must be a float tensor, got ",
              dtype_name(log_probs.dtype));
  EMBER_CHECK(!is_floating(target.dtype), TypeError, op, ": target must hold class indices (int64), got ",
              dtype_name(target.dtype), "; for class probabilities use cross_entropy on the logits");
  EMBER_CHECK(log_probs.device() == target.device(), RuntimeError, op, ": input is on ", log_probs.device().str(),
              " but target on ", target.device().str());
  NllCall call;
  call.layout = class_layout(log_probs, op);
  call.target = index_target(target, log_probs, call.layout, op);
  call.log_probs = contiguous(log_probs);
  call.weight = class_weight(weight, call.layout, log_probs.dtype, op);
  dispatch_float(log_probs.dtype, [&](auto tag) {
    using T = decltype(tag);
    call.weight_total = check_indices<T>(call.target.data<int64_t>(), call.layout.rows(), call.layout.n_classes,
                                         call.weight ? call.weight->data<T>() : nullptr, ignore_index, op);
  });
  return call;
}

}  // namespace

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const std::optional<Tensor>& weight,
                int64_t ignore_index, Reduction reduction) {
  NllCall call = prepare_nll(log_probs, target, weight, ignore_index);
  const ClassLayout& l = call.layout;
  const DType dtype = log_probs.dtype;
  return dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = call.log_probs.data<T>();
    const int64_t* t = call.target.data<int64_t>();
    const T* w = call.weight ? call.weight->data<T>() : nullptr;
    Tensor out = empty(reduction == Reduction::None ? l.row_shape : Shape{}, dtype);
    T* per_row = reduction == Reduction::None ? out.data<T>() : nullptr;
    double total = 0;
    for (int64_t r = 0; r < l.rows(); ++r) {
      const int64_t c = t[r];
      double loss = 0;
      if (c != ignore_index) {
        const int64_t off = (r / l.inner) * l.n_classes * l.inner + r % l.inner;
        loss = -(w ? (double)w[c] : 1.0) * (double)x[off + c * l.inner];
      }
      if (per_row) per_row[r] = (T)loss;
      total += loss;
    }
    return per_row ? out : reduced_loss(total, call.weight_total, reduction, dtype);
  });
}

Tensor nll_loss_backward(const Tensor& grad, const Tensor& log_probs, const Tensor& target,
                         const std::optional<Tensor>& weight, int64_t ignore_index, Reduction reduction) {
  NllCall call = prepare_nll(log_probs, target, weight, ignore_index);
  const ClassLayout& l = call.layout;
  const RowScale scale = row_scale(grad, l.row_shape, reduction, call.weight_total, "nll_loss");
  Tensor dx = full(log_probs.shape, 0.0, log_probs.dtype);
  dispatch_float(log_probs.dtype, [&](auto tag) {
    using T = decltype(tag);
    const int64_t* t = call.target.data<int64_t>();
    const T* w = call.weight ? call.weight->data<T>() : nullptr;
    T* out = dx.data<T>();
    for (int64_t r = 0; r < l.rows(); ++r) {
      const int64_t c = t[r];
      if (c == ignore_index) continue;
      const int64_t off = (r / l.inner) * l.n_classes * l.inner + r % l.inner;
      out[off + c * l.inner] = (T)(-(w ? (double)w[c] : 1.0) * scale(r));
    }
  });
  return dx;
}

}  // namespace cpu
}  // namespace ember
