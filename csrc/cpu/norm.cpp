// Batch norm and layer norm on CPU tensors: forward and backward.
//
// Shapes. batch_norm: x (N, C, *) with the channels in dim 1 or, with channels_last, (*, C) with the
// channels in the last dim (NHWC); each channel's statistics run over all its count = numel / C values.
// weight, bias, running_mean, running_var: (C,). The forward returns save_mean and save_invstd, float64
// (C,): the batch statistics in training, the running ones as used in eval; the backward takes them
// back. layer_norm: x (*, normalized_shape); each row of prod(normalized_shape) values has its own
// statistics; weight and bias have normalized_shape; mean and rstd come back float64 with x's leading
// dims.
//
// The kernels (norm_kernels.h) see a batch norm input in one of two layouts: NCHW is N * C contiguous
// planes of H * W values, plane p belonging to channel p % C; channels-last (and NCHW with H * W == 1)
// is a (rows, C) matrix whose columns are the channels. Inputs are made contiguous once.
//
// Statistics: sums of x - shift in double, the shift a value of the data, and a second pass around the
// mean when a shift lands far from it (ops/norm_math.h). Reductions over many planes or rows go in
// fixed blocks whose partial sums are added in block order, so results do not depend on the thread
// count.
#include "cpu/norm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/elementwise.h"
#include "cpu/norm_kernels.h"
#include "ops/norm_math.h"

namespace ember {

namespace {

constexpr int64_t kNormGrain = 32768;          // values below which a loop stays on one thread
constexpr int64_t kColumnBlockValues = 32768;  // values per block of a column reduction

const NormKernels& norm_kernels() {
  static const NormKernels table = [] {
    NormKernels t{};
    switch (cpu_capability()) {
      case CpuCapability::AVX512: avx512::fill_norm_kernels(&t); break;
      case CpuCapability::AVX2: avx2::fill_norm_kernels(&t); break;
      default: generic::fill_norm_kernels(&t); break;
    }
    return t;
  }();
  return table;
}
template <class T> const NormKernelSet<T>& kernels();
template <> const NormKernelSet<float>& kernels<float>() { return norm_kernels().f32; }
template <> const NormKernelSet<double>& kernels<double>() { return norm_kernels().f64; }

// Rows of `row_len` values per thread chunk.
int64_t grain_rows(int64_t row_len) { return std::max<int64_t>(1, kNormGrain / std::max<int64_t>(row_len, 1)); }
// Rows per block of a column reduction over rows of `cols` values: fixed by the shape alone.
int64_t column_block_rows(int64_t cols) {
  return std::max<int64_t>(16, kColumnBlockValues / std::max<int64_t>(cols, 1));
}

// f(first_row, n_rows, partial) for each block of `block_rows` rows, in parallel, with `partial` a
// zeroed array of `width` doubles per block; returns the partials added in block order.
template <class F>
std::vector<double> reduce_row_blocks(int64_t rows, int64_t block_rows, int64_t width, const F& f) {
  const int64_t n_blocks = (rows + block_rows - 1) / block_rows;
  std::vector<double> partials(n_blocks * width, 0.0);
  parallel_for(0, n_blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t first = b * block_rows;
      f(first, std::min(block_rows, rows - first), partials.data() + b * width);
    }
  });
  std::vector<double> total(width, 0.0);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const double* part = partials.data() + b * width;
    for (int64_t k = 0; k < width; ++k) total[k] += part[k];
  }
  return total;
}

// A mean per channel or row, split for the kernels (ops/norm_math.h).
template <class T>
struct SplitMeans {
  std::vector<T> hi, lo;
  explicit SplitMeans(const std::vector<double>& mean) : hi(mean.size()), lo(mean.size()) {
    for (size_t c = 0; c < mean.size(); ++c) split_mean(mean[c], &hi[c], &lo[c]);
  }
};

template <class T>
std::vector<T> cast_values(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// The values of a 1-d tensor (any strides, float dtype) as doubles; `fill` when absent.
std::vector<double> vector_values(const std::optional<Tensor>& t, int64_t n, double fill) {
  std::vector<double> out(n, fill);
  if (!t) return out;
  dispatch_float(t->dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = t->data<T>();
    const int64_t stride = t->ndim() ? t->strides[0] : 0;
    for (int64_t i = 0; i < n; ++i) out[i] = (double)p[i * stride];
  });
  return out;
}

Tensor vector_tensor(const std::vector<double>& values, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  dispatch_float(dtype, [&](auto tag) {
    using T = decltype(tag);
    std::copy(values.begin(), values.end(), t.data<T>());
  });
  return t;
}

// ---- checks ---------------------------------------------------------------------------------------------

void check_float_input(const Tensor& t, const char* op, const char* what) {
  check_cpu(op, t);
  EMBER_CHECK(is_floating(t.dtype), TypeError, op, ": expected a float32 or float64 ", what, ", got ",
              dtype_name(t.dtype), "; convert it with .float()");
}

// An optional parameter of `shape` (weight, bias, running statistics): x's dtype and device.
void check_param(const std::optional<Tensor>& t, const char* name, const Shape& shape, const char* what,
                 const Tensor& x, const char* op) {
  if (!t) return;
  EMBER_CHECK(t->shape == shape, ValueError, op, ": ", name, " must have shape ", shape_str(shape), " to match ",
              what, " of the input (shape ", shape_str(x.shape), "), got ", shape_str(t->shape));
  EMBER_CHECK(t->dtype == x.dtype, TypeError, op, ": ", name, " is ", dtype_name(t->dtype), " but the input is ",
              dtype_name(x.dtype), "; convert one of them (e.g. model.double() or x.float())");
  check_same_device(op, x, *t);
}

// ---- batch norm: layouts and statistics -----------------------------------------------------------------

struct ChannelLayout {
  bool columns;      // channels are the fastest dim: a (rows, channels) matrix
  int64_t channels;
  int64_t rows;      // columns: rows of `channels` values; otherwise N * C planes
  int64_t plane;     // values per plane (H * W); 1 for columns
  int64_t count;     // values per channel
};

ChannelLayout channel_layout(const Shape& shape, bool channels_last) {
  const int64_t numel = shape_numel(shape);
  const int64_t channels = channels_last ? shape.back() : shape[1];
  int64_t plane = 1;
  for (size_t d = 2; d < shape.size() && !channels_last; ++d) plane *= shape[d];
  const int64_t count = channels ? numel / channels : 0;
  if (channels_last || plane == 1) return {true, channels, count, 1, count};
  return {false, channels, shape[0] * channels, plane, count};
}

void check_batch_norm_input(const Tensor& x, const char* op) {
  check_float_input(x, op, "input");
  EMBER_CHECK(x.ndim() >= 2, ValueError, op, ": expected an input of at least 2 dims (N, C, ...), got shape ",
              shape_str(x.shape));
}

// Per-channel sums over every value of each channel: plane_sums(plane, channel, sums[2]) adds one
// plane's pair; column_sums(first_row, n_rows, s1, s2) adds a block of rows' pairs.
template <class PlaneSums, class ColumnSums>
void channel_sums(const ChannelLayout& layout, std::vector<double>& s1, std::vector<double>& s2,
                  const PlaneSums& plane_sums, const ColumnSums& column_sums) {
  const int64_t C = layout.channels;
  if (layout.columns) {
    const std::vector<double> total = reduce_row_blocks(
        layout.rows, column_block_rows(C), 2 * C,
        [&](int64_t first, int64_t n_rows, double* part) { column_sums(first, n_rows, part, part + C); });
    std::copy(total.begin(), total.begin() + C, s1.begin());
    std::copy(total.begin() + C, total.end(), s2.begin());
    return;
  }
  std::vector<double> parts(2 * layout.rows, 0.0);
  parallel_for(0, layout.rows, grain_rows(layout.plane), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) plane_sums(p, p % C, parts.data() + 2 * p);
  });
  std::fill(s1.begin(), s1.end(), 0.0);
  std::fill(s2.begin(), s2.end(), 0.0);
  for (int64_t p = 0; p < layout.rows; ++p) {
    s1[p % C] += parts[2 * p];
    s2[p % C] += parts[2 * p + 1];
  }
}

// mean and M2 = sum (x - mean)^2 of every channel (count > 0).
template <class T>
void batch_moments(const T* x, const ChannelLayout& layout, std::vector<double>& mean, std::vector<double>& m2) {
  const NormKernelSet<T>& k = kernels<T>();
  const int64_t C = layout.channels, plane = layout.plane;
  const double n = (double)layout.count;
  std::vector<double> shift(C), s1(C), s2(C);
  for (int64_t c = 0; c < C; ++c) shift[c] = (double)x[layout.columns ? c : c * plane];  // the first value
  for (int pass = 0; pass < 2; ++pass) {
    channel_sums(
        layout, s1, s2,
        [&](int64_t p, int64_t c, double* sums) { k.moments_row(x + p * plane, plane, shift[c], sums); },
        [&](int64_t first, int64_t rows, double* p1, double* p2) {
          k.moments_columns(x + first * C, rows, C, shift.data(), p1, p2);
        });
    bool again = false;
    for (int64_t c = 0; c < C; ++c) {
      const ShiftedSums sums{s1[c], s2[c]};
      mean[c] = moments_mean(shift[c], sums, n);
      m2[c] = moments_m2(sums, n);
      again = again || moments_need_second_pass(sums, n);
    }
    if (!again) break;
    shift = mean;
  }
}

// out = (in - mean) * scale + shift per channel (also eval-mode dx = dy * scale, with zero mean and shift).
template <class T>
void channel_affine(const T* in, T* out, const ChannelLayout& layout, const std::vector<double>& mean,
                    const std::vector<double>& scale, const std::vector<double>& shift) {
  const NormKernelSet<T>& k = kernels<T>();
  const int64_t C = layout.channels, plane = layout.plane;
  const SplitMeans<T> m(mean);
  const std::vector<T> a = cast_values<T>(scale), b = cast_values<T>(shift);
  if (layout.columns) {
    parallel_for(0, layout.rows, grain_rows(C), [&](int64_t begin, int64_t end) {
      k.batch_norm_columns(in + begin * C, out + begin * C, end - begin, C, m.hi.data(), m.lo.data(), a.data(),
                           b.data());
    });
    return;
  }
  parallel_for(0, layout.rows, grain_rows(plane), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t c = p % C;
      k.batch_norm_row(in + p * plane, out + p * plane, plane, m.hi[c], m.lo[c], a[c], b[c]);
    }
  });
}

template <class T>
void update_running_stats(const Tensor& running_mean, const Tensor& running_var, const std::vector<double>& mean,
                          const std::vector<double>& m2, double n, double momentum) {
  T* rm = running_mean.data<T>();
  T* rv = running_var.data<T>();
  const int64_t sm = running_mean.strides[0], sv = running_var.strides[0];
  for (size_t c = 0; c < mean.size(); ++c) {
    rm[c * sm] = (T)running_stat_update((double)rm[c * sm], mean[c], momentum);
    rv[c * sv] = (T)running_stat_update((double)rv[c * sv], m2[c] / (n - 1), momentum);
  }
}

}  // namespace

// ---- batch norm -----------------------------------------------------------------------------------------

BatchNormForward batch_norm(const Tensor& x, const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                            const std::optional<Tensor>& running_mean, const std::optional<Tensor>& running_var,
                            bool training, double momentum, double eps, bool channels_last) {
  const char* op = "batch_norm";
  check_batch_norm_input(x, op);
  const ChannelLayout layout = channel_layout(x.shape, channels_last);
  const int64_t C = layout.channels;
  const Shape param_shape{C};
  const std::string what = str_cat("the ", C, " channels");
  check_param(weight, "weight", param_shape, what.c_str(), x, op);
  check_param(bias, "bias", param_shape, what.c_str(), x, op);
  check_param(running_mean, "running_mean", param_shape, what.c_str(), x, op);
  check_param(running_var, "running_var", param_shape, what.c_str(), x, op);
  EMBER_CHECK(running_mean.has_value() == running_var.has_value(), ValueError, op,
              ": pass running_mean and running_var together (or neither)");
  EMBER_CHECK(training || running_mean, ValueError, op,
              ": running_mean and running_var are required in evaluation mode (training=False)");
  // PyTorch's wording, so that messages read the same in both
  EMBER_CHECK(!training || layout.count != 1, ValueError,
              "Expected more than 1 value per channel when training, got input size ", shape_str(x.shape));

  const Tensor input = contiguous(x);
  Tensor out = empty(x.shape, x.dtype);
  std::vector<double> mean(C, 0.0), invstd(C, 0.0);
  const std::vector<double> w = vector_values(weight, C, 1.0), b = vector_values(bias, C, 0.0);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (!training) {
      mean = vector_values(running_mean, C, 0.0);
      const std::vector<double> var = vector_values(running_var, C, 1.0);
      for (int64_t c = 0; c < C; ++c) invstd[c] = norm_invstd(var[c], eps);
    } else if (layout.count > 0) {  // an empty batch leaves the running statistics as they are
      std::vector<double> m2(C);
      batch_moments<T>(input.data<T>(), layout, mean, m2);
      for (int64_t c = 0; c < C; ++c) invstd[c] = norm_invstd(m2[c] / (double)layout.count, eps);
      if (running_mean) {
        check_writable(*running_mean, op);
        check_writable(*running_var, op);
        update_running_stats<T>(*running_mean, *running_var, mean, m2, (double)layout.count, momentum);
      }
    }
    std::vector<double> scale(C);
    for (int64_t c = 0; c < C; ++c) scale[c] = w[c] * invstd[c];
    channel_affine<T>(input.data<T>(), out.data<T>(), layout, mean, scale, b);
  });
  return {out, vector_tensor(mean, param_shape, DType::Float64), vector_tensor(invstd, param_shape, DType::Float64)};
}

NormGrads batch_norm_backward(const Tensor& grad, const Tensor& x, const std::optional<Tensor>& weight,
                              const Tensor& save_mean, const Tensor& save_invstd, bool training, bool channels_last,
                              bool need_input, bool need_weight, bool need_bias) {
  const char* op = "batch_norm_backward";
  check_batch_norm_input(x, op);
  check_float_input(grad, op, "grad");
  EMBER_CHECK(grad.shape == x.shape && grad.dtype == x.dtype, ValueError, op, ": grad (", shape_str(grad.shape), ", ",
              dtype_name(grad.dtype), ") must match the input (", shape_str(x.shape), ", ", dtype_name(x.dtype), ")");
  check_same_device(op, grad, x);
  const ChannelLayout layout = channel_layout(x.shape, channels_last);
  const int64_t C = layout.channels;
  const Shape param_shape{C};
  const std::string what = str_cat("the ", C, " channels");
  check_param(weight, "weight", param_shape, what.c_str(), x, op);
  for (const Tensor* t : {&save_mean, &save_invstd}) {
    check_float_input(*t, op, "saved statistic");
    EMBER_CHECK(t->shape == param_shape, ValueError, op, ": save_mean and save_invstd must have shape (", C,
                ",) (those batch_norm returned), got ", shape_str(t->shape));
  }
  need_weight = need_weight && weight.has_value();

  const std::vector<double> mean = vector_values(save_mean, C, 0.0), invstd = vector_values(save_invstd, C, 0.0);
  const std::vector<double> w = vector_values(weight, C, 1.0);
  const double n = (double)layout.count;
  const Tensor dy = contiguous(grad), input = contiguous(x);
  NormGrads out;
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const NormKernelSet<T>& k = kernels<T>();
    const T* g = dy.data<T>();
    const T* xv = input.data<T>();
    const int64_t plane = layout.plane;
    const SplitMeans<T> m(mean);
    std::vector<double> sum_dy(C, 0.0), sum_dy_xmu(C, 0.0);
    if ((need_weight || need_bias || (training && need_input)) && layout.count > 0) {
      channel_sums(
          layout, sum_dy, sum_dy_xmu,
          [&](int64_t p, int64_t c, double* sums) {
            k.grad_moments_row(g + p * plane, xv + p * plane, nullptr, plane, m.hi[c], m.lo[c], sums);
          },
          [&](int64_t first, int64_t rows, double* p1, double* p2) {
            k.grad_moments_columns(g + first * C, xv + first * C, rows, C, m.hi.data(), m.lo.data(), p1, p2);
          });
    }
    std::vector<double> scale(C);
    for (int64_t c = 0; c < C; ++c) scale[c] = w[c] * invstd[c];
    if (need_weight) {
      std::vector<double> gw(C);
      for (int64_t c = 0; c < C; ++c) gw[c] = sum_dy_xmu[c] * invstd[c];
      out.weight = vector_tensor(gw, param_shape, x.dtype);
    }
    if (need_bias) out.bias = vector_tensor(sum_dy, param_shape, x.dtype);
    if (!need_input) return;
    Tensor dx = empty(x.shape, x.dtype);
    out.input = dx;
    if (!training) {  // constant statistics: dx = dy * weight * invstd
      const std::vector<double> zeros(C, 0.0);
      channel_affine<T>(g, dx.data<T>(), layout, zeros, scale, zeros);
      return;
    }
    std::vector<T> mean_dy(C), proj(C);
    for (int64_t c = 0; c < C; ++c) {
      mean_dy[c] = (T)(sum_dy[c] / n);
      proj[c] = (T)(invstd[c] * invstd[c] * sum_dy_xmu[c] / n);
    }
    const std::vector<T> a = cast_values<T>(scale);
    T* d = dx.data<T>();
    if (layout.columns) {
      parallel_for(0, layout.rows, grain_rows(C), [&](int64_t begin, int64_t end) {
        k.input_grad_columns(g + begin * C, xv + begin * C, d + begin * C, end - begin, C, m.hi.data(), m.lo.data(),
                             mean_dy.data(), proj.data(), a.data());
      });
      return;
    }
    parallel_for(0, layout.rows, grain_rows(plane), [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const int64_t c = p % C;
        k.input_grad_row(g + p * plane, xv + p * plane, nullptr, d + p * plane, plane, m.hi[c], m.lo[c], mean_dy[c],
                         proj[c], a[c]);
      }
    });
  });
  return out;
}

// ---- layer norm ------------------------------------------------------------------------------------------

namespace {

struct RowLayout {
  int64_t rows, cols;
  Shape leading;  // x's dims before normalized_shape
};

RowLayout check_layer_norm(const Tensor& x, const Shape& normalized_shape, const std::optional<Tensor>& weight,
                           const std::optional<Tensor>& bias, const char* op) {
  check_float_input(x, op, "input");
  EMBER_CHECK(!normalized_shape.empty(), ValueError, op,
              ": normalized_shape must have at least one dim (the trailing dims to normalise over), got ()");
  const int64_t k = (int64_t)normalized_shape.size();
  const bool fits = x.ndim() >= k && std::equal(normalized_shape.begin(), normalized_shape.end(), x.shape.end() - k);
  std::string pattern = "(*";
  for (int64_t d : normalized_shape) pattern += str_cat(", ", d);
  EMBER_CHECK(fits, ValueError, op, ": normalized_shape=", shape_str(normalized_shape), " expects an input of shape ",
              pattern, "), got ", shape_str(x.shape));
  const std::string what = str_cat("normalized_shape=", shape_str(normalized_shape));
  check_param(weight, "weight", normalized_shape, what.c_str(), x, op);
  check_param(bias, "bias", normalized_shape, what.c_str(), x, op);
  RowLayout layout{0, shape_numel(normalized_shape), Shape(x.shape.begin(), x.shape.end() - k)};
  layout.rows = shape_numel(layout.leading);
  return layout;
}

const void* optional_data(const std::optional<Tensor>& t, Tensor& holder) {
  if (!t) return nullptr;
  holder = contiguous(*t);
  return holder.raw_data();
}

}  // namespace

LayerNormForward layer_norm(const Tensor& x, const Shape& normalized_shape, const std::optional<Tensor>& weight,
                            const std::optional<Tensor>& bias, double eps) {
  const char* op = "layer_norm";
  const RowLayout layout = check_layer_norm(x, normalized_shape, weight, bias, op);
  const int64_t rows = layout.rows, cols = layout.cols;
  Tensor out = empty(x.shape, x.dtype);
  Tensor mean = full(layout.leading, std::numeric_limits<double>::quiet_NaN(), DType::Float64);
  Tensor rstd = full(layout.leading, std::numeric_limits<double>::quiet_NaN(), DType::Float64);
  if (cols == 0) return {out, mean, rstd};  // no values: the statistics are NaN, the output empty
  const Tensor input = contiguous(x);
  Tensor w_holder, b_holder;
  const void* w_data = optional_data(weight, w_holder);
  const void* b_data = optional_data(bias, b_holder);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const NormKernelSet<T>& k = kernels<T>();
    const T* xv = input.data<T>();
    T* y = out.data<T>();
    double* mean_out = mean.data<double>();
    double* rstd_out = rstd.data<double>();
    parallel_for(0, rows, grain_rows(cols), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* row = xv + r * cols;
        double shift = (double)row[0];
        ShiftedSums sums{0, 0};
        for (int pass = 0; pass < 2; ++pass) {
          double s[2] = {0, 0};
          k.moments_row(row, cols, shift, s);
          sums = {s[0], s[1]};
          if (!moments_need_second_pass(sums, (double)cols)) break;
          shift = moments_mean(shift, sums, (double)cols);
        }
        const double mu = moments_mean(shift, sums, (double)cols);
        const double rs = norm_invstd(moments_m2(sums, (double)cols) / (double)cols, eps);
        mean_out[r] = mu;
        rstd_out[r] = rs;
        T hi, lo;
        split_mean(mu, &hi, &lo);
        k.layer_norm_row(row, y + r * cols, cols, hi, lo, (T)rs, static_cast<const T*>(w_data),
                         static_cast<const T*>(b_data));
      }
    });
  });
  return {out, mean, rstd};
}

NormGrads layer_norm_backward(const Tensor& grad, const Tensor& x, const Shape& normalized_shape,
                              const std::optional<Tensor>& weight, const Tensor& mean, const Tensor& rstd,
                              bool need_input, bool need_weight, bool need_bias) {
  const char* op = "layer_norm_backward";
  const RowLayout layout = check_layer_norm(x, normalized_shape, weight, std::nullopt, op);
  check_float_input(grad, op, "grad");
  EMBER_CHECK(grad.shape == x.shape && grad.dtype == x.dtype, ValueError, op, ": grad (", shape_str(grad.shape), ", ",
              dtype_name(grad.dtype), ") must match the input (", shape_str(x.shape), ", ", dtype_name(x.dtype), ")");
  check_same_device(op, grad, x);
  for (const Tensor* t : {&mean, &rstd}) {
    check_float_input(*t, op, "saved statistic");
    EMBER_CHECK(t->numel() == layout.rows, ValueError, op, ": mean and rstd must hold one value per row (",
                layout.rows, "), got shape ", shape_str(t->shape));
  }
  const int64_t rows = layout.rows, cols = layout.cols;
  const Tensor mean64 = contiguous(to_dtype(mean, DType::Float64)), rstd64 = contiguous(to_dtype(rstd, DType::Float64));
  const Tensor dy = contiguous(grad), input = contiguous(x);
  Tensor w_holder;
  const void* w_data = optional_data(weight, w_holder);
  NormGrads out;
  if (need_input) out.input = empty(x.shape, x.dtype);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const NormKernelSet<T>& k = kernels<T>();
    const T* g = dy.data<T>();
    const T* xv = input.data<T>();
    const T* w = static_cast<const T*>(w_data);
    T* dx = need_input ? out.input->data<T>() : nullptr;
    const double* mu = mean64.data<double>();
    const double* rs = rstd64.data<double>();
    auto row_grads = [&](int64_t r, double* grad_weight, double* grad_bias) {
      const T* gr = g + r * cols;
      const T* xr = xv + r * cols;
      T hi, lo;
      split_mean(mu[r], &hi, &lo);
      if (need_input) {
        double sums[2] = {0, 0};
        k.grad_moments_row(gr, xr, w, cols, hi, lo, sums);
        const T mean_g = (T)(sums[0] / (double)cols);
        const T proj = (T)(rs[r] * rs[r] * sums[1] / (double)cols);
        k.input_grad_row(gr, xr, w, dx + r * cols, cols, hi, lo, mean_g, proj, (T)rs[r]);
      }
      if (grad_weight || grad_bias) k.affine_grad_row(gr, xr, cols, hi, lo, (T)rs[r], grad_weight, grad_bias);
    };
    if (!need_weight && !need_bias) {
      parallel_for(0, rows, grain_rows(cols), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) row_grads(r, nullptr, nullptr);
      });
      return;
    }
    const int64_t width = (need_weight ? cols : 0) + (need_bias ? cols : 0);
    const std::vector<double> total =
        reduce_row_blocks(rows, column_block_rows(cols), width, [&](int64_t first, int64_t n_rows, double* part) {
          for (int64_t r = first; r < first + n_rows; ++r)
            row_grads(r, need_weight ? part : nullptr, need_bias ? part + (need_weight ? cols : 0) : nullptr);
        });
    if (need_weight)
      out.weight = vector_tensor(std::vector<double>(total.begin(), total.begin() + cols), normalized_shape, x.dtype);
    if (need_bias)
      out.bias = vector_tensor(std::vector<double>(total.end() - cols, total.end()), normalized_shape, x.dtype);
  });
  return out;
}

}  // namespace ember
