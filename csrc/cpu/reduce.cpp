// Reductions over any set of axes: sum, mean, prod, amax, amin, all, any, var, std, and the
// index-returning max/min along one axis (max_dim, min_dim, argmax, argmin).
//
// Each op is a small struct (its accumulator, a contiguous `row` kernel, a `column` step and how
// partial results combine) run by the engine in reduce.h, which picks the memory layout, cuts the
// work into fixed tasks and threads them. Result dtypes follow PyTorch: sum/prod of bool or integers
// give int64, mean/var/std need floating input, all/any give bool, indices are int64.
//
// Accumulation: float32 and float64 sums run in the SIMD kernels of reduce_kernels.inc (float lanes
// over blocks of 1024 elements, widened to double lanes per block, folded pairwise), and the per-task
// results are added in double in a fixed order; a 16M-element float32 sum stays within about one
// rounding of the exact result. Column sums accumulate in double (four rows added pairwise per
// pass). Integer sums wrap in int64 as in PyTorch. var/std: per task an exact two-pass (mean, then squared deviations, while
// the chunk is in cache); tasks merge with Chan's pairwise update; columns use Welford's update.
#include "cpu/reduce.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "core/cpu_features.h"
#include "core/view.h"
#include "cpu/reduce_kernels.h"

namespace ember {

// ---- the SIMD kernels, one copy per CPU capability (reduce_{generic,avx2,avx512}.cpp) -----------
#define EMBER_DECLARE_REDUCE_KERNELS(NS)                                                             \
  namespace NS {                                                                                     \
  double sum_f32(const float* p, int64_t n);                                                         \
  double sum_f64(const double* p, int64_t n);                                                        \
  double squared_deviation_f32(const float* p, int64_t n, double mean);                              \
  double squared_deviation_f64(const double* p, int64_t n, double mean);                             \
  float max_f32(const float* p, int64_t n);                                                          \
  float min_f32(const float* p, int64_t n);                                                          \
  double max_f64(const double* p, int64_t n);                                                        \
  double min_f64(const double* p, int64_t n);                                                        \
  void column_sum_f32(double* acc, const float* seg, int64_t stride, int64_t n_rows, int64_t w);    \
  void column_sum_f64(double* acc, const double* seg, int64_t stride, int64_t n_rows, int64_t w);   \
  void column_max_f32(float* acc, const float* seg, int64_t stride, int64_t n_rows, int64_t w);     \
  void column_min_f32(float* acc, const float* seg, int64_t stride, int64_t n_rows, int64_t w);     \
  void column_max_f64(double* acc, const double* seg, int64_t stride, int64_t n_rows, int64_t w);   \
  void column_min_f64(double* acc, const double* seg, int64_t stride, int64_t n_rows, int64_t w);   \
  int64_t find_first_f32(const float* p, int64_t n, float target);                                  \
  int64_t find_first_f64(const double* p, int64_t n, double target);                                \
  double exp_sum_f32(const float* x, float* y, int64_t n, float shift);                             \
  void exp_shifted_f32(const float* x, const float* shift, float* y, int64_t w);                    \
  }
EMBER_DECLARE_REDUCE_KERNELS(reduce_generic)
EMBER_DECLARE_REDUCE_KERNELS(reduce_avx2)
EMBER_DECLARE_REDUCE_KERNELS(reduce_avx512)
#undef EMBER_DECLARE_REDUCE_KERNELS

namespace cpu {

#define EMBER_KERNEL_TABLE(NS)                                                                        \
  ReduceKernels {                                                                                     \
    NS::sum_f32, NS::sum_f64, NS::squared_deviation_f32, NS::squared_deviation_f64, NS::max_f32,     \
        NS::min_f32, NS::max_f64, NS::min_f64, NS::column_sum_f32, NS::column_sum_f64,               \
        NS::column_max_f32, NS::column_min_f32, NS::column_max_f64, NS::column_min_f64,              \
        NS::find_first_f32, NS::find_first_f64, NS::exp_sum_f32, NS::exp_shifted_f32                 \
  }

const ReduceKernels& reduce_kernels() {
  static const ReduceKernels table = [] {
    switch (cpu_capability()) {
      case CpuCapability::AVX512: return EMBER_KERNEL_TABLE(reduce_avx512);
      case CpuCapability::AVX2: return EMBER_KERNEL_TABLE(reduce_avx2);
      default: return EMBER_KERNEL_TABLE(reduce_generic);
    }
  }();
  return table;
}
#undef EMBER_KERNEL_TABLE

namespace {

const ReduceKernels& kernels() { return reduce_kernels(); }

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point<T>::value) return v != v;
  return false;
}


// ---- ops -----------------------------------------------------------------------------------------

// Floats accumulate in double; bool and integers in int64, wrapping like PyTorch (in unsigned
// arithmetic, where overflow is defined).
template <class T>
using WideAcc = std::conditional_t<std::is_floating_point<T>::value, double, uint64_t>;
template <class T>
using WideOut = std::conditional_t<std::is_floating_point<T>::value, T, int64_t>;
template <class T>
WideAcc<T> widen(T v) {
  if constexpr (std::is_floating_point<T>::value) return v;
  return (uint64_t)(int64_t)v;
}

// sum, and mean (which divides by the count; an empty mean is 0 / 0 = nan, as in PyTorch).
template <class T>
struct SumOp {
  using Acc = WideAcc<T>;
  WideOut<T>* out;
  bool is_mean = false;
  double count = 0;

  Acc identity() const { return 0; }
  Acc row(const T* p, int64_t n, int64_t) const {
    if constexpr (std::is_same<T, float>::value) {
      return kernels().sum_f32(p, n);
    } else if constexpr (std::is_same<T, double>::value) {
      return kernels().sum_f64(p, n);
    } else {
      Acc acc = 0;
      for (int64_t i = 0; i < n; ++i) acc += widen(p[i]);
      return acc;
    }
  }
  Acc combine(Acc a, Acc b) const { return a + b; }
  void column(Acc* acc, const T* seg, int64_t stride, int64_t n_rows, int64_t w, int64_t first) const {
    if constexpr (std::is_same<T, float>::value)
      kernels().column_sum_f32(acc, seg, stride, n_rows, w);
    else if constexpr (std::is_same<T, double>::value)
      kernels().column_sum_f64(acc, seg, stride, n_rows, w);
    else
      column_by_rows(*this, acc, seg, stride, n_rows, w, first);
  }
  void column_row(Acc* acc, const T* seg, int64_t w, int64_t) const {
    for (int64_t k = 0; k < w; ++k) acc[k] += widen(seg[k]);
  }
  void emit(int64_t o, Acc acc) const {
    if constexpr (std::is_floating_point<T>::value)
      out[o] = (T)(is_mean ? acc / count : acc);
    else
      out[o] = (int64_t)acc;
  }
};

template <class T>
struct ProdOp {
  using Acc = WideAcc<T>;
  WideOut<T>* out;

  Acc identity() const { return 1; }
  Acc row(const T* p, int64_t n, int64_t) const {
    Acc acc = 1;
    for (int64_t i = 0; i < n; ++i) acc *= widen(p[i]);
    return acc;
  }
  Acc combine(Acc a, Acc b) const { return a * b; }
  void column(Acc* acc, const T* seg, int64_t stride, int64_t n_rows, int64_t w, int64_t first) const {
    column_by_rows(*this, acc, seg, stride, n_rows, w, first);
  }
  void column_row(Acc* acc, const T* seg, int64_t w, int64_t) const {
    for (int64_t k = 0; k < w; ++k) acc[k] *= widen(seg[k]);
  }
  void emit(int64_t o, Acc acc) const { out[o] = (WideOut<T>)acc; }
};

// amax (kMax) and amin; NaN wins over every number, as in PyTorch.
template <class T, bool kMax>
struct ExtremeOp {
  using Acc = T;
  T* out;

  static bool better(T x, T best) { return kMax ? x > best : x < best; }
  // x replaces best when it is larger (smaller) or NaN; a NaN best stays.
  static T pick(T best, T x) { return better(x, best) || is_nan(x) ? x : best; }

  Acc identity() const {
    if constexpr (std::is_floating_point<T>::value)
      return kMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    return kMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  static T row_extreme(const T* p, int64_t n) {
    if constexpr (std::is_same<T, float>::value) {
      return kMax ? kernels().max_f32(p, n) : kernels().min_f32(p, n);
    } else if constexpr (std::is_same<T, double>::value) {
      return kMax ? kernels().max_f64(p, n) : kernels().min_f64(p, n);
    } else {
      T best = p[0];
      for (int64_t i = 1; i < n; ++i) best = pick(best, p[i]);
      return best;
    }
  }
  Acc row(const T* p, int64_t n, int64_t) const { return row_extreme(p, n); }
  Acc combine(Acc a, Acc b) const { return pick(a, b); }
  void column(Acc* acc, const T* seg, int64_t stride, int64_t n_rows, int64_t w, int64_t first) const {
    if constexpr (std::is_same<T, float>::value)
      (kMax ? kernels().column_max_f32 : kernels().column_min_f32)(acc, seg, stride, n_rows, w);
    else if constexpr (std::is_same<T, double>::value)
      (kMax ? kernels().column_max_f64 : kernels().column_min_f64)(acc, seg, stride, n_rows, w);
    else
      column_by_rows(*this, acc, seg, stride, n_rows, w, first);
  }
  void column_row(Acc* acc, const T* seg, int64_t w, int64_t) const {
    for (int64_t k = 0; k < w; ++k) acc[k] = pick(acc[k], seg[k]);
  }
  void emit(int64_t o, Acc acc) const { out[o] = acc; }
};

// all (kAll) and any: nonzero is true; NaN is nonzero.
template <class T, bool kAll>
struct LogicalOp {
  using Acc = uint8_t;
  bool* out;

  Acc identity() const { return kAll; }
  Acc row(const T* p, int64_t n, int64_t) const {
    for (int64_t i = 0; i < n; ++i)
      if ((p[i] != T(0)) != kAll) return !kAll;
    return kAll;
  }
  Acc combine(Acc a, Acc b) const { return kAll ? (a && b) : (a || b); }
  void column(Acc* acc, const T* seg, int64_t stride, int64_t n_rows, int64_t w, int64_t first) const {
    column_by_rows(*this, acc, seg, stride, n_rows, w, first);
  }
  void column_row(Acc* acc, const T* seg, int64_t w, int64_t) const {
    for (int64_t k = 0; k < w; ++k) acc[k] = kAll ? (acc[k] && seg[k] != T(0)) : (acc[k] || seg[k] != T(0));
  }
  void emit(int64_t o, Acc acc) const { out[o] = acc != 0; }
};

// var / std: count, mean and sum of squared deviations.
struct Moments {
  double n = 0, mean = 0, m2 = 0;
};

template <class T>
struct MomentsOp {
  using Acc = Moments;
  T* out;
  double correction;
  bool take_sqrt;

  Acc identity() const { return {}; }
  Acc row(const T* p, int64_t n, int64_t) const {
    Moments m;
    m.n = (double)n;
    if constexpr (std::is_same<T, float>::value) {
      m.mean = kernels().sum_f32(p, n) / m.n;
      m.m2 = kernels().squared_deviation_f32(p, n, m.mean);
    } else {
      m.mean = kernels().sum_f64(p, n) / m.n;
      m.m2 = kernels().squared_deviation_f64(p, n, m.mean);
    }
    return m;
  }
  // Chan, Golub and LeVeque's pairwise update.
  Acc combine(const Acc& a, const Acc& b) const {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    Moments m;
    m.n = a.n + b.n;
    double delta = b.mean - a.mean;
    m.mean = a.mean + delta * (b.n / m.n);
    m.m2 = a.m2 + b.m2 + delta * delta * (a.n * b.n / m.n);
    return m;
  }
  void column(Acc* acc, const T* seg, int64_t stride, int64_t n_rows, int64_t w, int64_t first) const {
    column_by_rows(*this, acc, seg, stride, n_rows, w, first);
  }
  // Welford's update. Every column has seen the same number of rows, so one reciprocal serves all.
  void column_row(Acc* acc, const T* seg, int64_t w, int64_t) const {
    if (w == 0) return;
    const double n = acc[0].n + 1, inv_n = 1.0 / n;
    for (int64_t k = 0; k < w; ++k) {
      Moments& m = acc[k];
      double x = seg[k];
      m.n = n;
      double delta = x - m.mean;
      m.mean += delta * inv_n;
      m.m2 += delta * (x - m.mean);
    }
  }
  void emit(int64_t o, const Acc& acc) const {
    // N - correction <= 0 divides by zero: inf, or nan when m2 is 0 (PyTorch does the same).
    double v = acc.m2 / std::max(0.0, acc.n - correction);
    out[o] = (T)(take_sqrt ? std::sqrt(v) : v);
  }
};

// max_dim / min_dim / argmax / argmin: value and index of the first largest (smallest) element;
// the first NaN wins, as in PyTorch.
template <class T>
struct ValueIndex {
  T value{};
  int64_t index = -1;
};

template <class T, bool kMax>
struct ArgExtremeOp {
  using Acc = ValueIndex<T>;
  T* values;  // may be null (argmax / argmin)
  int64_t* indices;

  static bool better(T x, T best) { return kMax ? x > best : x < best; }

  Acc identity() const { return {}; }
  Acc row(const T* p, int64_t n, int64_t first) const {
    if constexpr (std::is_floating_point<T>::value) {
      // The extreme value from the SIMD kernel, then a scan for its first position (or the first
      // NaN); -0.0 == 0.0, so ties between zeros still resolve to the first one.
      const T target = ExtremeOp<T, kMax>::row_extreme(p, n);
      int64_t i;
      if constexpr (std::is_same<T, float>::value)
        i = kernels().find_first_f32(p, n, target);
      else
        i = kernels().find_first_f64(p, n, target);
      return {p[i], first + i};
    } else {
      Acc best{p[0], first};
      for (int64_t i = 1; i < n; ++i)
        if (better(p[i], best.value)) best = {p[i], first + i};
      return best;
    }
  }
  Acc combine(const Acc& a, const Acc& b) const {
    if (a.index < 0 || (!is_nan(a.value) && (is_nan(b.value) || better(b.value, a.value)))) return b;
    return a;
  }
  void column(Acc* acc, const T* seg, int64_t stride, int64_t n_rows, int64_t w, int64_t first) const {
    column_by_rows(*this, acc, seg, stride, n_rows, w, first);
  }
  void column_row(Acc* acc, const T* seg, int64_t w, int64_t position) const {
    for (int64_t k = 0; k < w; ++k) acc[k] = combine(acc[k], Acc{seg[k], position});
  }
  void emit(int64_t o, const Acc& acc) const {
    if (values) values[o] = acc.value;
    indices[o] = acc.index;
  }
};

// ---- layout planning -------------------------------------------------------------------------------

void append_merged(Shape& shape, Shape& strides, int64_t size, int64_t stride) {
  if (size == 1) return;
  if (!shape.empty() && strides.back() == stride * size) {
    shape.back() *= size;
    strides.back() = stride;
  } else {
    shape.push_back(size);
    strides.push_back(stride);
  }
}

// Kept axes in order; reduced axes sorted outermost (largest stride) first so that they merge.
void describe_layout(ReducePlan& plan, const Tensor& t, const std::vector<bool>& reduced) {
  plan.kept_shape.clear(), plan.kept_strides.clear(), plan.red_shape.clear(), plan.red_strides.clear();
  std::vector<std::pair<int64_t, int64_t>> red;  // (stride, size)
  for (int64_t d = 0; d < t.ndim(); ++d) {
    if (reduced[d])
      red.push_back({t.strides[d], t.shape[d]});
    else
      append_merged(plan.kept_shape, plan.kept_strides, t.shape[d], t.strides[d]);
  }
  std::stable_sort(red.begin(), red.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (auto& [stride, size] : red) append_merged(plan.red_shape, plan.red_strides, size, stride);
}

}  // namespace

std::vector<bool> reduced_axes(const Tensor& x, const Dims& dims, const char* op) {
  std::vector<bool> reduced(x.ndim(), dims == std::nullopt || dims->empty());
  if (!dims) return reduced;
  std::vector<bool> seen(std::max<int64_t>(x.ndim(), 1), false);
  for (int64_t d : *dims) {
    int64_t axis = wrap_axis(d, x.ndim(), op);
    EMBER_CHECK(!seen[axis], ValueError, op, ": dim ", axis, " appears more than once in the list of dims ",
                shape_str(*dims));
    seen[axis] = true;
    if (x.ndim() > 0) reduced[axis] = true;
  }
  return reduced;
}

ReducePlan plan_reduction(const Tensor& x, const std::vector<bool>& reduced, bool keepdim, bool rows_only) {
  ReducePlan plan;
  plan.input = x;
  for (int64_t d = 0; d < x.ndim(); ++d) {
    if (reduced[d]) {
      plan.n_reduce *= x.shape[d];
      if (keepdim) plan.out_shape.push_back(1);
    } else {
      plan.n_out *= x.shape[d];
      plan.out_shape.push_back(x.shape[d]);
    }
  }
  if (plan.n_out == 0 || plan.n_reduce == 0) return plan;
  describe_layout(plan, x, reduced);
  bool rows = plan.red_shape.empty() || plan.red_strides.back() == 1;
  // Several reduced axes around a short innermost run (e.g. axes 0 and 2 of shape (n, m, 3)) would
  // call the row kernel every few elements: the reordered copy below is faster.
  if (rows && plan.red_shape.size() > 1 && plan.red_shape.back() < 64) rows = false;
  plan.columns = !rows && !rows_only && !plan.kept_shape.empty() && plan.kept_strides.back() == 1;
  if (rows || plan.columns) return plan;

  // Copy into (kept..., reduced...) order: the reduced elements of each result become one
  // contiguous row, and the results keep their order.
  std::vector<int64_t> order;
  for (int64_t d = 0; d < x.ndim(); ++d)
    if (!reduced[d]) order.push_back(d);
  for (int64_t d = 0; d < x.ndim(); ++d)
    if (reduced[d]) order.push_back(d);
  plan.input = clone(permute(x, order));
  std::vector<bool> trailing(x.ndim(), false);
  for (size_t i = order.size() - std::count(reduced.begin(), reduced.end(), true); i < order.size(); ++i)
    trailing[i] = true;
  describe_layout(plan, plan.input, trailing);
  plan.columns = false;
  return plan;
}

// ---- entry points ----------------------------------------------------------------------------------
namespace {

void check_floating(const Tensor& x, const char* op) {
  EMBER_CHECK(is_floating(x.dtype), TypeError, op, "(): could not infer output dtype. Input dtype must be ",
              "either a floating point or complex dtype. Got: ", torch_type_name(x.dtype),
              " (convert first, e.g. x.float())");
}

// Runs an op for x's dtype T into a fresh result of `out_dtype`; make_op(T{}, out, plan) builds it.
template <class MakeOp>
Tensor reduce_into(const Tensor& x, const Dims& dims, bool keepdim, const char* op, DType out_dtype,
                   const MakeOp& make_op) {
  ReducePlan plan = plan_reduction(x, reduced_axes(x, dims, op), keepdim, false);
  Tensor out = empty(plan.out_shape, out_dtype);
  dispatch_all(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    run_reduction<T>(plan, make_op(tag, out, plan));
  });
  return out;
}

DType sum_dtype(DType d) { return is_floating(d) ? d : DType::Int64; }

template <bool kMax>
Tensor extreme(const Tensor& x, const Dims& dims, bool keepdim, const char* op) {
  std::vector<bool> reduced = reduced_axes(x, dims, op);
  // Like PyTorch: RuntimeError for a whole empty tensor, IndexError naming the axis otherwise.
  EMBER_CHECK(x.numel() > 0 || (dims && !dims->empty()), RuntimeError, op, "(): cannot reduce over a zero-size ",
              "dimension: the input of shape ", shape_str(x.shape), " has no elements; specify the reduction dims");
  for (int64_t d = 0; d < x.ndim(); ++d)
    EMBER_CHECK(!reduced[d] || x.shape[d] != 0, IndexError, op, "(): cannot reduce over a zero-size dimension (",
                "dim ", d, " of shape ", shape_str(x.shape), "); give dims that exclude it");
  ReducePlan plan = plan_reduction(x, reduced, keepdim, false);
  Tensor out = empty(plan.out_shape, x.dtype);
  dispatch_all(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    run_reduction<T>(plan, ExtremeOp<T, kMax>{out.data<T>()});
  });
  return out;
}

template <bool kAll>
Tensor logical(const Tensor& x, const Dims& dims, bool keepdim, const char* op) {
  return reduce_into(x, dims, keepdim, op, DType::Bool, [](auto tag, Tensor& out, const ReducePlan&) {
    return LogicalOp<decltype(tag), kAll>{out.data<bool>()};
  });
}

Tensor moments(const Tensor& x, const Dims& dims, double correction, bool keepdim, bool take_sqrt, const char* op) {
  EMBER_CHECK(is_floating(x.dtype), TypeError, op, "(): only floating point dtypes are supported, got ",
              dtype_name(x.dtype), " (convert first, e.g. x.float())");
  ReducePlan plan = plan_reduction(x, reduced_axes(x, dims, op), keepdim, false);
  Tensor out = empty(plan.out_shape, x.dtype);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    run_reduction<T>(plan, MomentsOp<T>{out.data<T>(), correction, take_sqrt});
  });
  return out;
}

// Values (when wanted) and int64 indices of the extreme element along one axis.
template <bool kMax>
std::pair<Tensor, Tensor> arg_extreme(const Tensor& x, int64_t dim, bool keepdim, bool want_values, const char* op) {
  int64_t axis = wrap_axis(dim, x.ndim(), op);
  EMBER_CHECK(x.ndim() == 0 || x.shape[axis] != 0, IndexError, op, "(): expected reduction dim ", axis,
              " to have non-zero size (shape ", shape_str(x.shape), ")");
  ReducePlan plan = plan_reduction(x, reduced_axes(x, std::vector<int64_t>{dim}, op), keepdim, false);
  Tensor indices = empty(plan.out_shape, DType::Int64);
  Tensor values = want_values ? empty(plan.out_shape, x.dtype) : Tensor{};
  dispatch_all(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    run_reduction<T>(plan, ArgExtremeOp<T, kMax>{want_values ? values.data<T>() : nullptr, indices.data<int64_t>()});
  });
  return {values, indices};
}

template <bool kMax>
Tensor arg_only(const Tensor& x, std::optional<int64_t> dim, bool keepdim, const char* op) {
  EMBER_CHECK(x.dtype != DType::Bool, TypeError, op, "(): not implemented for 'Bool' tensors; convert first, ",
              "e.g. x.long()");
  if (dim) return arg_extreme<kMax>(x, *dim, keepdim, false, op).second;
  EMBER_CHECK(x.numel() > 0, IndexError, op, "(): expected reduction dim to be specified for an input with ",
              "no elements (shape ", shape_str(x.shape), ")");
  // Over the flattened tensor: the index counts elements in row-major order.
  Tensor flat = reshape(x, {-1});
  Tensor idx = arg_extreme<kMax>(flat, 0, false, false, op).second;
  return keepdim ? reshape(idx, Shape(x.ndim(), 1)) : idx;
}

}  // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce_into(x, dims, keepdim, "sum", sum_dtype(x.dtype), [](auto tag, Tensor& out, const ReducePlan&) {
    using T = decltype(tag);
    return SumOp<T>{static_cast<WideOut<T>*>(out.raw_data())};
  });
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  check_floating(x, "mean");
  return reduce_into(x, dims, keepdim, "mean", x.dtype, [](auto tag, Tensor& out, const ReducePlan& plan) {
    using T = decltype(tag);
    return SumOp<T>{static_cast<WideOut<T>*>(out.raw_data()), true, (double)plan.n_reduce};
  });
}

Tensor prod(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce_into(x, dims, keepdim, "prod", sum_dtype(x.dtype), [](auto tag, Tensor& out, const ReducePlan&) {
    using T = decltype(tag);
    return ProdOp<T>{static_cast<WideOut<T>*>(out.raw_data())};
  });
}

Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) { return extreme<true>(x, dims, keepdim, "amax"); }
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) { return extreme<false>(x, dims, keepdim, "amin"); }
Tensor all(const Tensor& x, const Dims& dims, bool keepdim) { return logical<true>(x, dims, keepdim, "all"); }
Tensor any(const Tensor& x, const Dims& dims, bool keepdim) { return logical<false>(x, dims, keepdim, "any"); }

Tensor var(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return moments(x, dims, correction, keepdim, false, "var");
}
Tensor std_dev(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return moments(x, dims, correction, keepdim, true, "std");
}

std::pair<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extreme<true>(x, dim, keepdim, true, "max");
}
std::pair<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extreme<false>(x, dim, keepdim, true, "min");
}
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_only<true>(x, dim, keepdim, "argmax"); }
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_only<false>(x, dim, keepdim, "argmin"); }

}  // namespace cpu
}  // namespace ember
