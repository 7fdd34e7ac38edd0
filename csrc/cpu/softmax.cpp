// softmax, log_softmax and logsumexp, all max-subtracted so that no exp overflows, and the
// backward kernels of softmax and log_softmax.
//
// Shape convention for softmax / log_softmax along `dim`: the (contiguous) input is viewed as
// [outer, n, inner] with n = shape[dim]; the result has the input's shape. With inner == 1 each
// softmax is a contiguous row; otherwise a tile of `inner` neighbours is processed together, one
// contiguous segment per position along dim. Sums of exponentials accumulate in double.
//
// Backward, from the forward's output y and the incoming gradient g, per softmax along dim:
//   softmax:     dx = y * (g - sum(g * y))
//   log_softmax: dx = g - exp(y) * sum(g)
// Each reads its row once for the sum and once for the result (the row is then in cache).
//
// Special values follow PyTorch: a row whose maximum is -inf (all -inf) or +inf gives nan (exp of
// -inf - -inf, inf - inf); NaN anywhere in a row makes the row NaN. logsumexp of an all -inf row
// is -inf, of a row holding +inf is +inf, of an empty row -inf.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "cpu/reduce.h"
#include "cpu/reduce_kernels.h"

namespace ember {
namespace cpu {
namespace {

// Largest of n >= 1 contiguous values; NaN when any is NaN.
template <class T>
T row_max(const T* p, int64_t n) {
  if constexpr (std::is_same<T, float>::value) return reduce_kernels().max_f32(p, n);
  else return reduce_kernels().max_f64(p, n);
}

// sum of exp(x[i] - shift) (shift the row's maximum), storing each term in y unless y is null.
// float32 uses the SIMD exponential; float64 the C library's.
template <class T>
double exp_sum(const T* x, T* y, int64_t n, T shift) {
  if constexpr (std::is_same<T, float>::value) {
    return reduce_kernels().exp_sum_f32(x, y, n, shift);
  } else {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      T e = std::exp(x[i] - shift);
      if (y) y[i] = e;
      sum += e;
    }
    return sum;
  }
}

// y[k] = exp(x[k] - shift[k]) for k < w.
template <class T>
void exp_shifted(const T* x, const T* shift, T* y, int64_t w) {
  if constexpr (std::is_same<T, float>::value)
    reduce_kernels().exp_shifted_f32(x, shift, y, w);
  else
    for (int64_t k = 0; k < w; ++k) y[k] = std::exp(x[k] - shift[k]);
}

// One softmax (log_softmax) row of n contiguous elements: y = exp(x - max) / sum, or
// y = (x - max) - log(sum).
template <class T, bool kLog>
void softmax_row(const T* x, T* y, int64_t n) {
  const T m = row_max(x, n);
  const double sum = exp_sum(x, kLog ? nullptr : y, n, m);
  if (kLog) {
    const T log_sum = (T)std::log(sum);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - log_sum;
  } else {
    const T inv_sum = (T)(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) y[i] *= inv_sum;
  }
}

// The same for w neighbouring softmaxes whose elements are `step` apart (a tile of the inner axis);
// max and sum are scratch of w elements. y holds the exponentials until the last pass.
template <class T, bool kLog>
void softmax_tile(const T* x, T* y, int64_t n, int64_t step, int64_t w, T* max, double* sum) {
  std::fill(max, max + w, -std::numeric_limits<T>::infinity());
  std::fill(sum, sum + w, 0.0);
  if constexpr (std::is_same<T, float>::value)
    reduce_kernels().column_max_f32(max, x, step, n, w);
  else
    reduce_kernels().column_max_f64(max, x, step, n, w);
  for (int64_t i = 0; i < n; ++i) {
    exp_shifted(x + i * step, max, y + i * step, w);
    for (int64_t k = 0; k < w; ++k) sum[k] += y[i * step + k];
  }
  // sum becomes the per-column term of the last pass: log(sum) or 1 / sum.
  for (int64_t k = 0; k < w; ++k) sum[k] = kLog ? std::log(sum[k]) : 1.0 / sum[k];
  for (int64_t i = 0; i < n; ++i) {
    const T* xi = x + i * step;
    T* yi = y + i * step;
    for (int64_t k = 0; k < w; ++k) yi[k] = kLog ? (xi[k] - max[k]) - (T)sum[k] : yi[k] * (T)sum[k];
  }
}

template <bool kLog>
Tensor softmax_impl(const Tensor& x_in, int64_t dim, const char* op) {
  EMBER_CHECK(is_floating(x_in.dtype), TypeError, op, "(): not implemented for ", dtype_name(x_in.dtype),
              " tensors; convert first, e.g. x.float()");
  int64_t axis = wrap_axis(dim, x_in.ndim(), op);
  Tensor x = contiguous(x_in);
  Tensor y = empty(x.shape, x.dtype);
  if (x.numel() == 0) return y;
  int64_t n = x.ndim() ? x.shape[axis] : 1, inner = 1;
  for (int64_t d = axis + 1; d < x.ndim(); ++d) inner *= x.shape[d];
  const int64_t outer = x.numel() / (n * inner);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    if (inner == 1) {
      parallel_for(0, outer, std::max<int64_t>(1, kElementwiseGrain / 8 / n), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) softmax_row<T, kLog>(xp + o * n, yp + o * n, n);
      });
      return;
    }
    const int64_t tile = std::min(inner, kColumnTile / 4), n_tiles = (inner + tile - 1) / tile;
    parallel_for(0, outer * n_tiles, std::max<int64_t>(1, kElementwiseGrain / 8 / (n * tile)), [&](int64_t b, int64_t e) {
      std::vector<T> max(tile);
      std::vector<double> sum(tile);
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / n_tiles, k0 = (t % n_tiles) * tile, w = std::min(tile, inner - k0);
        int64_t start = o * n * inner + k0;
        softmax_tile<T, kLog>(xp + start, yp + start, n, inner, w, max.data(), sum.data());
      }
    });
  });
  return y;
}

// ---- backward ------------------------------------------------------------------------------------

// sum of a[i] * b[i] in double; four accumulators break the dependency chain of the additions.
template <class T>
double dot_row(const T* a, const T* b, int64_t n) {
  double acc[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) acc[k] += (double)a[i + k] * (double)b[i + k];
  for (; i < n; ++i) acc[0] += (double)a[i] * (double)b[i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

template <class T>
double sum_row(const T* p, int64_t n) {
  if constexpr (std::is_same<T, float>::value) return reduce_kernels().sum_f32(p, n);
  else return reduce_kernels().sum_f64(p, n);
}

// One row of n contiguous elements: dx from the output y and the gradient g.
template <class T, bool kLog>
void softmax_backward_row(const T* g, const T* y, T* dx, int64_t n) {
  if (kLog) {
    const T total = (T)sum_row(g, n);
    if constexpr (std::is_same<T, float>::value) {
      reduce_kernels().exp_sum_f32(y, dx, n, 0.0f);  // dx = exp(y); y <= 0, the kernel's domain
      for (int64_t i = 0; i < n; ++i) dx[i] = g[i] - dx[i] * total;
    } else {
      for (int64_t i = 0; i < n; ++i) dx[i] = g[i] - std::exp(y[i]) * total;
    }
  } else {
    const T dot = (T)dot_row(g, y, n);
    for (int64_t i = 0; i < n; ++i) dx[i] = y[i] * (g[i] - dot);
  }
}

// The same for w neighbouring softmaxes whose elements are `step` apart; acc is scratch of w.
template <class T, bool kLog>
void softmax_backward_tile(const T* g, const T* y, T* dx, int64_t n, int64_t step, int64_t w, double* acc) {
  std::fill(acc, acc + w, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const T* gi = g + i * step;
    const T* yi = y + i * step;
    for (int64_t k = 0; k < w; ++k) acc[k] += kLog ? (double)gi[k] : (double)gi[k] * (double)yi[k];
  }
  for (int64_t i = 0; i < n; ++i) {
    const T* gi = g + i * step;
    const T* yi = y + i * step;
    T* di = dx + i * step;
    for (int64_t k = 0; k < w; ++k)
      di[k] = kLog ? gi[k] - std::exp(yi[k]) * (T)acc[k] : yi[k] * (gi[k] - (T)acc[k]);
  }
}

template <bool kLog>
Tensor softmax_backward_impl(const Tensor& grad_in, const Tensor& out_in, int64_t dim, const char* op) {
  EMBER_CHECK(is_floating(grad_in.dtype) && grad_in.dtype == out_in.dtype, TypeError, op,
              ": grad and output must be float tensors of one dtype, got ", dtype_name(grad_in.dtype), " and ",
              dtype_name(out_in.dtype));
  EMBER_CHECK(grad_in.shape == out_in.shape, ValueError, op, ": grad has shape ", shape_str(grad_in.shape),
              " but the softmax output has shape ", shape_str(out_in.shape), "; they must match");
  int64_t axis = wrap_axis(dim, out_in.ndim(), op);
  Tensor g = contiguous(grad_in), y = contiguous(out_in);
  Tensor dx = empty(y.shape, y.dtype);
  if (y.numel() == 0) return dx;
  int64_t n = y.ndim() ? y.shape[axis] : 1, inner = 1;
  for (int64_t d = axis + 1; d < y.ndim(); ++d) inner *= y.shape[d];
  const int64_t outer = y.numel() / (n * inner);
  dispatch_float(y.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* gp = g.data<T>();
    const T* yp = y.data<T>();
    T* dp = dx.data<T>();
    if (inner == 1) {
      parallel_for(0, outer, std::max<int64_t>(1, kElementwiseGrain / 4 / n), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) softmax_backward_row<T, kLog>(gp + o * n, yp + o * n, dp + o * n, n);
      });
      return;
    }
    const int64_t tile = std::min(inner, kColumnTile / 4), n_tiles = (inner + tile - 1) / tile;
    parallel_for(0, outer * n_tiles, std::max<int64_t>(1, kElementwiseGrain / 4 / (n * tile)), [&](int64_t b, int64_t e) {
      std::vector<double> acc(tile);
      for (int64_t t = b; t < e; ++t) {
        int64_t o = t / n_tiles, k0 = (t % n_tiles) * tile, w = std::min(tile, inner - k0);
        int64_t start = o * n * inner + k0;
        softmax_backward_tile<T, kLog>(gp + start, yp + start, dp + start, n, inner, w, acc.data());
      }
    });
  });
  return dx;
}

// logsumexp as a reduction: the running maximum and the sum of exp(x - maximum).
struct MaxSumExp {
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;
};

template <class T>
struct LogSumExpOp {
  using Acc = MaxSumExp;
  T* out;

  Acc identity() const { return {}; }
  Acc row(const T* p, int64_t n, int64_t) const {
    const T m = row_max(p, n);
    if (!std::isfinite(m)) return {(double)m, 0};  // nan, +inf or all -inf decide the result
    return {(double)m, exp_sum<T>(p, nullptr, n, m)};
  }
  Acc combine(const Acc& a, const Acc& b) const {
    if (a.max != a.max || b.max != b.max) return {std::numeric_limits<double>::quiet_NaN(), 0};
    double m = std::max(a.max, b.max);
    if (!std::isfinite(m)) return {m, 0};
    return {m, a.sum * std::exp(a.max - m) + b.sum * std::exp(b.max - m)};
  }
  void column(Acc* acc, const T* seg, int64_t stride, int64_t n_rows, int64_t w, int64_t first) const {
    column_by_rows(*this, acc, seg, stride, n_rows, w, first);
  }
  void column_row(Acc* acc, const T* seg, int64_t w, int64_t) const {
    for (int64_t k = 0; k < w; ++k) acc[k] = combine(acc[k], {(double)seg[k], 1});
  }
  void emit(int64_t o, const Acc& acc) const {
    out[o] = (T)(std::isfinite(acc.max) ? acc.max + std::log(acc.sum) : acc.max);
  }
};

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl<false>(x, dim, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl<true>(x, dim, "log_softmax"); }
Tensor softmax_backward(const Tensor& grad, const Tensor& out, int64_t dim) {
  return softmax_backward_impl<false>(grad, out, dim, "softmax_backward");
}
Tensor log_softmax_backward(const Tensor& grad, const Tensor& out, int64_t dim) {
  return softmax_backward_impl<true>(grad, out, dim, "log_softmax_backward");
}

Tensor logsumexp(const Tensor& x_in, const Dims& dims, bool keepdim) {
  // Integer and bool inputs are computed in the default float dtype, as PyTorch does.
  Tensor x = is_floating(x_in.dtype) ? x_in : to_dtype(x_in, default_float_dtype());
  // Rows layout only: its two passes over a cached chunk need one exp per element, the column
  // update two.
  ReducePlan plan = plan_reduction(x, reduced_axes(x, dims, "logsumexp"), keepdim, true);
  Tensor out = empty(plan.out_shape, x.dtype);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    run_reduction<T>(plan, LogSumExpOp<T>{out.data<T>()});
  });
  return out;
}

}  // namespace cpu
}  // namespace ember
