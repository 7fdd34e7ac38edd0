#include "core/tensor.h"

#include <cstring>

#include "core/allocator.h"
#include "core/errors.h"
#include "core/iter.h"
#include "cuda/cuda_backend.h"

namespace ember {

std::string Device::str() const {
  return type == CPU ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Device parse_device(const std::string& spec) {
  if (spec == "cpu") return Device{};
  if (spec == "cuda") return Device{Device::CUDA, 0};
  if (spec.rfind("cuda:", 0) == 0 && spec.size() > 5) {
    std::string num = spec.substr(5);
    bool digits = num.find_first_not_of("0123456789") == std::string::npos && num.size() < 6;
    if (digits) return Device{Device::CUDA, std::stoi(num)};
  }
  throw ValueError(str_cat("device: expected 'cpu', 'cuda' or 'cuda:<index>', got '", spec, "'"));
}

std::shared_ptr<Storage> allocate_storage(int64_t nbytes, Device device) {
  auto s = std::make_shared<Storage>();
  s->nbytes = nbytes;
  s->device = device;
  if (device.is_cpu()) {
    s->data = cpu_alloc(nbytes);
    s->release = [nbytes](void* p) { cpu_free(p, nbytes); };
  } else {
    int index = device.index;
    s->data = cuda::device_alloc(nbytes, index);
    s->release = [nbytes, index](void* p) { cuda::device_free(p, nbytes, index); };
  }
  return s;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  bool overflow = false;
  for (int64_t d : shape) {
    if (d == 0) return 0;  // (2**62, 2**62, 0) is a valid empty shape
    overflow |= __builtin_mul_overflow(n, d, &n);
  }
  // A wrapped count would size allocations and loops wrongly: refuse it rather than read garbage.
  EMBER_CHECK(!overflow, RuntimeError, "shape ", shape_str(shape), " has more than 2**63 - 1 elements");
  return n;
}

int64_t Tensor::numel() const { return shape_numel(shape); }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t d = ndim() - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    if (shape[d] == 0) return true;
    if (strides[d] != expected) return false;
    expected *= shape[d];
  }
  return true;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {
    strides[d] = s;
    s *= shape[d] > 0 ? shape[d] : 1;
  }
  return strides;
}

int64_t wrap_axis(int64_t axis, int64_t ndim, const char* op) {
  int64_t lo = ndim > 0 ? -ndim : -1, hi = ndim > 0 ? ndim - 1 : 0;
  EMBER_CHECK(axis >= lo && axis <= hi, IndexError, op, ": dimension ", axis,
              " is out of range for a tensor with ", ndim, " dimension(s) (expected ", lo, " to ", hi,
              ")");
  return axis < 0 ? axis + (ndim > 0 ? ndim : 1) : axis;
}

void check_shape(const Shape& shape, const char* op) {
  for (int64_t d : shape)
    EMBER_CHECK(d >= 0, ValueError, op, ": negative dimension ", d, " in shape ", shape_str(shape));
  int64_t n = 1;
  bool overflow = false, empty = false;
  for (int64_t d : shape) {
    overflow |= __builtin_mul_overflow(n, d, &n);
    empty |= d == 0;
  }
  EMBER_CHECK(empty || !overflow, RuntimeError, op, ": shape ", shape_str(shape),
              " has more than 2**63 - 1 elements, far beyond any memory");
}

Tensor empty(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "empty");
  Tensor t;
  t.shape = shape;
  t.strides = contiguous_strides(shape);
  t.dtype = dtype;
  int64_t nbytes = 0;
  EMBER_CHECK(!__builtin_mul_overflow(shape_numel(shape), itemsize(dtype), &nbytes), RuntimeError,
              "empty: shape ", shape_str(shape), " of ", dtype_name(dtype), " needs more than 2**63 - 1 bytes");
  t.storage = allocate_storage(nbytes, device);
  return t;
}

template <class T>
static void fill_contiguous(T* p, int64_t n, T v) {
  parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) p[i] = v;
  });
}

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (device.is_cuda()) {
    cuda::fill(t, value);
    return t;
  }
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_contiguous<T>(t.data<T>(), t.numel(), static_cast<T>(value));
  });
  return t;
}

Tensor full_int(const Shape& shape, int64_t value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_contiguous<T>(t.data<T>(), t.numel(), static_cast<T>(value));
  });
  return to_device(t, device);
}

Tensor as_strided(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
  EMBER_CHECK(shape.size() == strides.size(), ValueError, "as_strided: shape ", shape_str(shape),
              " and strides ", shape_str(strides), " differ in length");
  check_shape(shape, "as_strided");
  Tensor v;
  v.storage = base.storage;
  v.shape = shape;
  v.strides = strides;
  v.offset = offset;
  v.dtype = base.dtype;
  if (v.numel() > 0) {
    int64_t lo = offset, hi = offset;
    bool overflow = false;  // a wrapped span could pass the bounds test below and address anything
    for (size_t d = 0; d < shape.size(); ++d) {
      int64_t span = 0;
      overflow |= __builtin_mul_overflow(strides[d], shape[d] - 1, &span);
      overflow |= __builtin_add_overflow(span < 0 ? lo : hi, span, span < 0 ? &lo : &hi);
    }
    int64_t capacity = base.storage->nbytes / itemsize(base.dtype);
    EMBER_CHECK(!overflow && lo >= 0 && hi < capacity, ValueError, "as_strided: a view of shape ", shape_str(shape),
                " with strides ", shape_str(strides), " and offset ", offset,
                " reaches outside its storage of ", capacity, " elements");
  }
  return v;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    EMBER_CHECK(da == db || da == 1 || db == 1, ValueError, op, ": shapes ", shape_str(a), " and ",
                shape_str(b), " cannot be broadcast together (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor broadcast_to(const Tensor& t, const Shape& out_shape, const char* op) {
  size_t n = out_shape.size();
  EMBER_CHECK(t.shape.size() <= n, ValueError, op, ": cannot broadcast shape ", shape_str(t.shape),
              " to ", shape_str(out_shape));
  if (t.shape == out_shape) return t;
  check_shape(out_shape, op);  // expanding size-1 dims must not wrap the element count
  Tensor v = t;
  v.shape = out_shape;
  v.strides.assign(n, 0);
  size_t lead = n - t.shape.size();
  for (size_t i = 0; i < t.shape.size(); ++i) {
    int64_t d = t.shape[i], want = out_shape[lead + i];
    EMBER_CHECK(d == want || d == 1, ValueError, op, ": cannot broadcast shape ", shape_str(t.shape),
                " to ", shape_str(out_shape));
    v.strides[lead + i] = d == 1 && want != 1 ? 0 : t.strides[i];
  }
  return v;
}

template <class D, class S>
static void convert_row(char* dst, int64_t ds, const char* src, int64_t ss, int64_t n) {
  if (std::is_same<D, S>::value && ds == (int64_t)sizeof(D) && ss == (int64_t)sizeof(S)) {
    std::memcpy(dst, src, n * sizeof(D));
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    S v = *reinterpret_cast<const S*>(src + i * ss);
    if constexpr (std::is_same<D, bool>::value)
      *reinterpret_cast<D*>(dst + i * ds) = v != S(0);
    else
      *reinterpret_cast<D*>(dst + i * ds) = static_cast<D>(v);
  }
}

void check_writable(const Tensor& t, const char* op) {
  if (t.numel() == 0) return;
  if (t.storage) t.storage->version++;
  for (int64_t d = 0; d < t.ndim(); ++d)
    EMBER_CHECK(t.strides[d] != 0 || t.shape[d] <= 1, RuntimeError, op,
                ": the tensor being written has several elements in one memory location (an expanded ",
                "or broadcast view, shape ", shape_str(t.shape), ", strides ", shape_str(t.strides),
                "); write to a copy made with .clone() instead");
}

// Address range [first, last byte + 1) that a tensor's elements occupy.
static std::pair<const char*, const char*> byte_range(const Tensor& t) {
  int64_t lo = 0, hi = 0;
  for (int64_t d = 0; d < t.ndim(); ++d) {
    int64_t span = t.strides[d] * (t.shape[d] - 1);
    (span < 0 ? lo : hi) += span;
  }
  const char* base = static_cast<const char*>(t.raw_data());
  int64_t isz = itemsize(t.dtype);
  return {base + lo * isz, base + (hi + 1) * isz};
}

// True when writing dst element by element could overwrite src elements not yet read
// (x.copy_(x.T), x[1:] = x[:-1]); an identical view is safe, as each element is read before written.
static bool overlaps_unsafely(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0 || src.numel() == 0 || dst.device() != src.device()) return false;
  if (dst.raw_data() == src.raw_data() && dst.dtype == src.dtype && dst.shape == src.shape &&
      dst.strides == src.strides)
    return false;
  auto [d_lo, d_hi] = byte_range(dst);
  auto [s_lo, s_hi] = byte_range(src);
  return d_lo < s_hi && s_lo < d_hi;
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_writable(dst, "copy_");
  Tensor s = broadcast_to(overlaps_unsafely(dst, src) ? clone(src) : src, dst.shape, "copy");
  if (!dst.device().is_cpu() || !src.device().is_cpu()) {
    cuda::copy_(dst, s);
    return;
  }
  RowLoop<2> loop(dst.shape, {&dst, &s});
  dispatch_all(dst.dtype, [&](auto dtag) {
    dispatch_all(src.dtype, [&](auto stag) {
      using D = decltype(dtag);
      using S = decltype(stag);
      loop.run(kElementwiseGrain, [](char* const* p, const int64_t* st, int64_t n) {
        convert_row<D, S>(p[0], st[0], p[1], st[1], n);
      });
    });
  });
}

Tensor contiguous(const Tensor& t) {
  if (t.is_contiguous()) return t;
  return clone(t);
}

Tensor clone(const Tensor& t) {
  Tensor out = empty(t.shape, t.dtype, t.device());
  copy_(out, t);
  return out;
}

Tensor to_dtype(const Tensor& t, DType dtype) {
  if (t.dtype == dtype) return t;
  Tensor out = empty(t.shape, dtype, t.device());
  copy_(out, t);
  return out;
}

Tensor to_device(const Tensor& t, Device device) {
  if (t.device() == device) return t;
  Tensor out = empty(t.shape, t.dtype, device);
  copy_(out, t);
  return out;
}

}  // namespace ember
