// Cross-entropy over classes fused with its log-softmax, and NLL on log-probabilities, forward and
// backward, with PyTorch's semantics (torch.nn.functional.cross_entropy / nll_loss).
//
// Shape convention: the input (N, C, d1, ...) is seen as [N, C, inner], inner = d1 * ...; (C,) is
// one unbatched sample. A row is the C values of one (n, d1, ...) position, `inner` elements apart
// (contiguous in the common (N, C) case). Targets hold one class index per row (int64, shape
// (N, d1, ...)) or class probabilities (the input's shape). Strided rows are processed in tiles of
// neighbouring positions, so that every pass reads contiguous segments.
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
#include <algorithm>
#include <cmath>
#include <limits>
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

// ---- row and tile kernels -------------------------------------------------------------------------
// A contiguous row (inner == 1) runs on the SIMD max / exp-sum kernels; strided rows (inner > 1) go
// in tiles of w neighbouring rows of one sample, each class a contiguous segment of w values, so the
// same kernels work column-wise.

// The largest of n >= 1 contiguous values; NaN when any is NaN.
template <class T>
T row_max(const T* x, int64_t n) {
  if constexpr (std::is_same<T, float>::value) return reduce_kernels().max_f32(x, n);
  else return reduce_kernels().max_f64(x, n);
}

// sum of exp(x - shift) for shift the row's maximum; each term is stored in y unless y is null.
template <class T>
double row_exp_sum(const T* x, T* y, int64_t n, T shift) {
  if constexpr (std::is_same<T, float>::value) {
    return reduce_kernels().exp_sum_f32(x, y, n, shift);
  } else {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      const T e = std::exp(x[i] - shift);
      if (y) y[i] = e;
      sum += e;
    }
    return sum;
  }
}

// max[k] = the largest of x[c * step + k] over classes c < n, for k < w; NaN sticks.
template <class T>
void column_max(T* max, const T* x, int64_t step, int64_t n, int64_t w) {
  std::fill(max, max + w, -std::numeric_limits<T>::infinity());
  if constexpr (std::is_same<T, float>::value) reduce_kernels().column_max_f32(max, x, step, n, w);
  else reduce_kernels().column_max_f64(max, x, step, n, w);
}

// y[k] = exp(x[k] - shift[k]) for k < w, and sum[k] += y[k].
template <class T>
void exp_shifted_add(const T* x, const T* shift, T* y, double* sum, int64_t w) {
  if constexpr (std::is_same<T, float>::value)
    reduce_kernels().exp_shifted_f32(x, shift, y, w);
  else
    for (int64_t k = 0; k < w; ++k) y[k] = std::exp(x[k] - shift[k]);
  for (int64_t k = 0; k < w; ++k) sum[k] += y[k];
}

// Per-tile scratch, allocated once per thread.
template <class T>
struct TileScratch {
  std::vector<T> values, coef, spread;
  std::vector<double> sum, acc;
  explicit TileScratch(int64_t w) : values(w), coef(w), spread(w), sum(w), acc(w) {}
};

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
  double uniform() const { return smoothing / (double)n_classes; }
  // q[c] of a probability target: (1 - eps) p + eps / C
  double smoothed(T p) const { return (1 - smoothing) * (double)p + uniform(); }

  // ---- contiguous rows (inner == 1) ----

  // The loss of row r; stores the row's maximum in *max_out.
  double loss(int64_t r, T* max_out) const {
    const int64_t C = n_classes;
    const T* x = logits + r * C;
    const T m = row_max(x, C);
    *max_out = m;
    if (ignored(r)) return 0;
    const double lse = (double)m + std::log(row_exp_sum<T>(x, nullptr, C, m));
    if (indices) {
      const int64_t t = indices[r];
      double loss = (1 - smoothing) * w(t) * (lse - (double)x[t]);
      if (smoothing > 0) {
        double smooth = 0;
        for (int64_t c = 0; c < C; ++c) smooth += w(c) * (lse - (double)x[c]);
        loss += uniform() * smooth;
      }
      return loss;
    }
    const T* p = probs + r * C;
    double loss = 0;
    for (int64_t c = 0; c < C; ++c) loss += w(c) * smoothed(p[c]) * (lse - (double)x[c]);
    return loss;
  }

  // d(loss)/d(row r) times `scale`, written to the same row of dx.
  void grad(int64_t r, T max, double scale, T* dx_base) const {
    const int64_t C = n_classes;
    const T* x = logits + r * C;
    T* dx = dx_base + r * C;
    if (ignored(r)) {
      std::fill(dx, dx + C, T(0));
      return;
    }
    const double inv_sum = 1.0 / row_exp_sum<T>(x, dx, C, max);  // dx = exp(x - max)
    if (indices) {
      const int64_t t = indices[r];
      const double target_weight = (1 - smoothing) * w(t);
      const T softmax_coef = (T)(scale * (target_weight + uniform() * weight_sum) * inv_sum);
      const T spread = (T)(scale * uniform());
      if (weight)
        for (int64_t c = 0; c < C; ++c) dx[c] = softmax_coef * dx[c] - spread * weight[c];
      else
        for (int64_t c = 0; c < C; ++c) dx[c] = softmax_coef * dx[c] - spread;
      dx[t] -= (T)(scale * target_weight);
      return;
    }
    const T* p = probs + r * C;
    double weighted_mass = 0;  // sum_k w[k] q[k]
    for (int64_t c = 0; c < C; ++c) weighted_mass += w(c) * smoothed(p[c]);
    const T softmax_coef = (T)(scale * weighted_mass * inv_sum);
    const T keep = (T)(1 - smoothing), spread = (T)uniform(), s = (T)scale;
    for (int64_t c = 0; c < C; ++c) dx[c] = softmax_coef * dx[c] - s * (weight ? weight[c] : T(1)) * (keep * p[c] + spread);
  }

  // ---- tiles of strided rows (inner > 1): rows r .. r + w - 1 of one sample ----

  // Their losses into loss[k] and maxima into max_out[k].
  void tile_loss(int64_t r, int64_t w_tile, T* max_out, double* loss, TileScratch<T>& s) const {
    const int64_t C = n_classes, step = inner, off = offset(r);
    const T* x = logits + off;
    column_max(max_out, x, step, C, w_tile);
    double* lse = s.sum.data();
    std::fill(lse, lse + w_tile, 0.0);
    for (int64_t c = 0; c < C; ++c) exp_shifted_add(x + c * step, max_out, s.values.data(), lse, w_tile);
    for (int64_t k = 0; k < w_tile; ++k) lse[k] = (double)max_out[k] + std::log(lse[k]);
    std::fill(loss, loss + w_tile, 0.0);
    if (indices) {
      for (int64_t k = 0; k < w_tile; ++k) {
        const int64_t t = indices[r + k];
        if (t != ignore_index) loss[k] = (1 - smoothing) * w(t) * (lse[k] - (double)x[t * step + k]);
      }
      if (smoothing > 0) {
        for (int64_t c = 0; c < C; ++c) {
          const double wc = uniform() * w(c);
          for (int64_t k = 0; k < w_tile; ++k) loss[k] += wc * (lse[k] - (double)x[c * step + k]);
        }
        for (int64_t k = 0; k < w_tile; ++k)
          if (ignored(r + k)) loss[k] = 0;
      }
      return;
    }
    const T* p = probs + off;
    for (int64_t c = 0; c < C; ++c) {
      const double wc = w(c);
      for (int64_t k = 0; k < w_tile; ++k) loss[k] += wc * smoothed(p[c * step + k]) * (lse[k] - (double)x[c * step + k]);
    }
  }

  // Their gradients times scale(r + k), written to the same rows of dx.
  template <class Scale>
  void tile_grad(int64_t r, int64_t w_tile, const T* maxima, const Scale& scale, T* dx_base, TileScratch<T>& s) const {
    const int64_t C = n_classes, step = inner, off = offset(r);
    const T* x = logits + off;
    T* dx = dx_base + off;
    double* sum = s.sum.data();
    std::fill(sum, sum + w_tile, 0.0);
    for (int64_t c = 0; c < C; ++c) exp_shifted_add(x + c * step, maxima, dx + c * step, sum, w_tile);
    const T* p = probs ? probs + off : nullptr;
    if (p) {  // s.acc: sum_k w[k] q[k] per row
      std::fill(s.acc.begin(), s.acc.begin() + w_tile, 0.0);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t k = 0; k < w_tile; ++k) s.acc[k] += w(c) * smoothed(p[c * step + k]);
    }
    for (int64_t k = 0; k < w_tile; ++k) {
      const double g = scale(r + k);
      const double mass = p ? s.acc[k] : (1 - smoothing) * w(indices[r + k]) + uniform() * weight_sum;
      s.coef[k] = ignored(r + k) ? T(0) : (T)(g * mass / sum[k]);
      s.spread[k] = (T)(g * (p ? 1.0 : uniform()));
    }
    for (int64_t c = 0; c < C; ++c) {
      T* d = dx + c * step;
      const T wc = weight ? weight[c] : T(1);
      if (p)
        for (int64_t k = 0; k < w_tile; ++k)
          d[k] = s.coef[k] * d[k] - s.spread[k] * wc * (T)smoothed(p[c * step + k]);
      else
        for (int64_t k = 0; k < w_tile; ++k) d[k] = s.coef[k] * d[k] - s.spread[k] * wc;
    }
    if (p) return;
    for (int64_t k = 0; k < w_tile; ++k) {
      const int64_t t = indices[r + k];
      if (t != ignore_index) {
        dx[t * step + k] -= (T)(scale(r + k) * (1 - smoothing) * w(t));
      } else {
        for (int64_t c = 0; c < C; ++c) dx[c * step + k] = T(0);
      }
    }
  }
};

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

// The work split: tasks of consecutive rows, fixed by the shape (never by the thread count) so that
// reductions add the same partial sums in the same order. Contiguous rows go in blocks of about
// kChunk logits, strided rows in tiles of up to kColumnTile / 4 neighbours of one sample.
struct RowTasks {
  const ClassLayout& l;
  bool tiled;
  int64_t rows_per_task, tiles_per_sample = 1, n_tasks;

  explicit RowTasks(const ClassLayout& layout) : l(layout), tiled(layout.inner > 1) {
    if (tiled) {
      rows_per_task = std::min(l.inner, kColumnTile / 4);
      tiles_per_sample = (l.inner + rows_per_task - 1) / rows_per_task;
      n_tasks = l.n_batch * tiles_per_sample;
    } else {
      rows_per_task = std::max<int64_t>(1, kChunk / l.n_classes);
      n_tasks = (l.rows() + rows_per_task - 1) / rows_per_task;
    }
  }
  // [first row, end row) of task t
  std::pair<int64_t, int64_t> range(int64_t t) const {
    if (!tiled) return {t * rows_per_task, std::min(l.rows(), (t + 1) * rows_per_task)};
    const int64_t sample = t / tiles_per_sample, k0 = (t % tiles_per_sample) * rows_per_task;
    return {sample * l.inner + k0, sample * l.inner + std::min(l.inner, k0 + rows_per_task)};
  }
  // Tasks per thread below which the work stays on one thread: about kElementwiseGrain / 4 logits
  // (each costs an exponential and a few passes).
  int64_t grain() const { return std::max<int64_t>(1, kElementwiseGrain / 4 / (rows_per_task * l.n_classes)); }

  // f(first_row, end_row, scratch) for every task, in parallel.
  template <class T, class F>
  void run(const F& f) const {
    parallel_for(0, n_tasks, grain(), [&](int64_t b, int64_t e) {
      TileScratch<T> scratch(tiled ? rows_per_task : 0);
      std::vector<double> losses(rows_per_task);
      for (int64_t t = b; t < e; ++t) {
        auto [r0, r1] = range(t);
        f(t, r0, r1, scratch, losses.data());
      }
    });
  }
};

Tensor reduced_loss(double total, double mean_divisor, Reduction reduction, DType dtype) {
  return full({}, reduction == Reduction::Mean ? total / mean_divisor : total, dtype);
}

}  // namespace

// ---- cross-entropy -----------------------------------------------------------------------------

std::pair<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& target, const std::optional<Tensor>& weight,
                                        int64_t ignore_index, Reduction reduction, double label_smoothing) {
  CrossEntropyCall call = prepare_cross_entropy(logits, target, weight, ignore_index, label_smoothing);
  const ClassLayout& l = call.layout;
  const RowTasks tasks(l);
  Tensor row_max = empty(l.row_shape, call.dtype);
  Tensor loss = empty(reduction == Reduction::None ? l.row_shape : Shape{}, call.dtype);
  dispatch_float(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    const ClassRows<T> rows = call.rows<T>(ignore_index, label_smoothing);
    T* max_out = row_max.data<T>();
    T* per_row = reduction == Reduction::None ? loss.data<T>() : nullptr;
    std::vector<double> partial(tasks.n_tasks);
    tasks.run<T>([&](int64_t t, int64_t r0, int64_t r1, TileScratch<T>& scratch, double* losses) {
      if (tasks.tiled)
        rows.tile_loss(r0, r1 - r0, max_out + r0, losses, scratch);
      else
        for (int64_t r = r0; r < r1; ++r) losses[r - r0] = rows.loss(r, max_out + r);
      double sum = 0;
      for (int64_t r = r0; r < r1; ++r) {
        sum += losses[r - r0];
        if (per_row) per_row[r] = (T)losses[r - r0];
      }
      partial[t] = sum;
    });
    if (per_row) return;
    double total = 0;
    for (double p : partial) total += p;
    *loss.data<T>() = (T)(reduction == Reduction::Mean ? total / call.mean_divisor : total);
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
  const RowTasks tasks(l);
  Tensor row_max = contiguous(row_max_in);
  Tensor dx = empty(call.logits.shape, call.dtype);
  dispatch_float(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    const ClassRows<T> rows = call.rows<T>(ignore_index, label_smoothing);
    const T* maxima = row_max.data<T>();
    T* out = dx.data<T>();
    tasks.run<T>([&](int64_t, int64_t r0, int64_t r1, TileScratch<T>& scratch, double*) {
      if (tasks.tiled)
        rows.tile_grad(r0, r1 - r0, maxima + r0, scale, out, scratch);
      else
        for (int64_t r = r0; r < r1; ++r) rows.grad(r, maxima[r], scale(r), out);
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
