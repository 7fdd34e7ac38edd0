// Indexing with NumPy's rules (x[index], x[index] = value) and the gather / scatter family.
//
// An index is applied in two steps. Its basic entries (slices, None, Ellipsis, and integers when
// no array is present) first become a strided view of x, "the view", with no copy. When the index
// also holds arrays, each array indexes one dim of the view (an "advanced dim"): an n-d bool mask
// stands for the n position arrays of its nonzero(), a bool scalar for a new size-1 dim indexed by
// [0] (True) or [] (False), and integers count as 0-d arrays, all as in NumPy. The arrays
// broadcast to one shape B and the result has shape  pre + B + post:  when the advanced dims are
// adjacent in the index (no slice, None or Ellipsis between them), pre / post are the view's dims
// before / after them; otherwise pre is empty and post holds every other dim in order (NumPy's
// "advanced dims go first").
//
// Result element (o, b, p) is view[pre_offsets[o] + adv_offsets[b] + post offset of p]. The post
// dims are coalesced and their innermost dim becomes a strided run (one memcpy when contiguous), so
// the gather and scatter kernels walk three offset tables and copy runs. They move bytes: any dtype
// with the same item size shares one instantiation.
#include "cpu/index.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>

#include "core/errors.h"
#include "core/iter.h"
#include "core/parallel.h"
#include "core/view.h"

namespace ember {
namespace {

const Device kHost{};

Tensor to_host(const Tensor& t) { return to_device(t, kHost); }

bool is_index_dtype(DType d) { return d == DType::Int64 || d == DType::Int32; }

// Calls f(W{}) with W an unsigned integer as wide as one element of `dtype`.
template <class F>
void dispatch_word(DType dtype, const F& f) {
  switch (itemsize(dtype)) {
    case 1: f(uint8_t{}); break;
    case 4: f(uint32_t{}); break;
    default: f(uint64_t{}); break;
  }
}

// Records the first bad index seen by any thread; kernels check it after their parallel loop
// (an exception must not leave an OpenMP region).
struct BadIndex {
  std::atomic<bool> found{false};
  int64_t value = 0;
  void report(int64_t v) {
    if (!found.exchange(true)) value = v;
  }
};

// Walks positions [begin, end) of `shape` in C order with the element offset of N operands and the
// position itself: f(offsets, position).
template <size_t N, class F>
void walk_positions(const Shape& shape, const std::array<Shape, N>& strides, int64_t begin, int64_t end,
                    const F& f) {
  if (begin >= end) return;  // also keeps the decomposition below away from size-0 dims
  const int64_t nd = (int64_t)shape.size();
  Shape pos(nd, 0);
  std::array<int64_t, N> off{};
  for (int64_t d = nd - 1, rem = begin; d >= 0; --d) {
    pos[d] = rem % shape[d];
    rem /= shape[d];
    for (size_t k = 0; k < N; ++k) off[k] += pos[d] * strides[k][d];
  }
  for (int64_t i = begin; i < end; ++i) {
    f(off, pos);
    for (int64_t d = nd - 1; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
      if (++pos[d] < shape[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * shape[d];
      pos[d] = 0;
    }
  }
}

// ---- resolving an index into a view plus advanced dims -----------------------------------------

struct ResolvedIndex {
  Tensor view;
  std::vector<int64_t> adv_dims;     // ascending dims of `view` indexed by arrays
  std::vector<Tensor> adv_arrays;    // int64 host positions, one per advanced dim
  std::vector<int64_t> source_dims;  // x's dim behind each advanced dim (for messages)
  bool adjacent = true;              // no slice, None or Ellipsis between the advanced entries
};

Tensor positions_of(int64_t value) {
  Tensor t = empty({}, DType::Int64);
  *t.data<int64_t>() = value;
  return t;
}

// Python's slice bounds for a positive step, clamped into [0, size].
int64_t clamp_bound(std::optional<int64_t> bound, int64_t size, int64_t if_none) {
  if (!bound) return if_none;
  if (*bound < 0) return *bound < -size ? 0 : *bound + size;
  return std::min(*bound, size);
}

ResolvedIndex resolve(const Tensor& x, const Index& index, const char* op) {
  int64_t consumed = 0, ellipses = 0;
  bool has_arrays = false;
  for (const IndexEntry& e : index) {
    if (e.kind == IndexEntry::Integer || e.kind == IndexEntry::Slice) ++consumed;
    if (e.kind == IndexEntry::Ellipsis) ++ellipses;
    if (e.kind == IndexEntry::BoolScalar) has_arrays = true;
    if (e.kind == IndexEntry::Array) {
      EMBER_CHECK(is_index_dtype(e.array.dtype) || e.array.dtype == DType::Bool, IndexError, op,
                  ": tensors used as indices must be int64, int32 or bool, got ", dtype_name(e.array.dtype));
      consumed += e.array.dtype == DType::Bool ? e.array.ndim() : 1;
      has_arrays = true;
    }
  }
  EMBER_CHECK(ellipses <= 1, IndexError, op, ": an index can only have a single ellipsis ('...')");
  EMBER_CHECK(consumed <= x.ndim(), IndexError, "too many indices for tensor of dimension ", x.ndim(),
              " (the index addresses ", consumed, " dimensions of shape ", shape_str(x.shape), ")");

  ResolvedIndex r;
  Shape shape, strides;
  int64_t offset = x.offset, d = 0;
  auto keep = [&](int64_t size, int64_t stride) {
    shape.push_back(size);
    strides.push_back(stride);
  };
  auto advanced = [&](int64_t size, int64_t stride, const Tensor& positions, int64_t source_dim) {
    r.adv_dims.push_back((int64_t)shape.size());
    r.adv_arrays.push_back(positions);
    r.source_dims.push_back(source_dim);
    keep(size, stride);
  };
  for (const IndexEntry& e : index) {
    switch (e.kind) {
      case IndexEntry::Integer: {
        int64_t size = x.shape[d];
        EMBER_CHECK(e.integer >= -size && e.integer < size, IndexError, "index ", e.integer,
                    " is out of bounds for dimension ", d, " with size ", size);
        int64_t i = e.integer < 0 ? e.integer + size : e.integer;
        if (has_arrays)
          advanced(size, x.strides[d], positions_of(i), d);
        else
          offset += i * x.strides[d];
        ++d;
        break;
      }
      case IndexEntry::Slice: {
        EMBER_CHECK(e.step > 0, ValueError, op, ": step must be greater than zero, got ", e.step);
        int64_t size = x.shape[d];
        int64_t start = clamp_bound(e.start, size, 0), stop = clamp_bound(e.stop, size, size);
        int64_t n = stop > start ? 1 + (stop - start - 1) / e.step : 0;
        if (n > 0) offset += start * x.strides[d];
        keep(n, x.strides[d] * e.step);
        ++d;
        break;
      }
      case IndexEntry::NewAxis: keep(1, 0); break;
      case IndexEntry::Ellipsis:
        for (int64_t k = consumed; k < x.ndim(); ++k, ++d) keep(x.shape[d], x.strides[d]);
        break;
      case IndexEntry::BoolScalar: advanced(1, 0, full({e.integer ? 1 : 0}, 0.0, DType::Int64), -1); break;
      case IndexEntry::Array: {
        Tensor a = to_host(e.array);
        if (a.dtype != DType::Bool) {
          advanced(x.shape[d], x.strides[d], to_dtype(a, DType::Int64), d);
          ++d;
          break;
        }
        if (a.ndim() == 0) {  // a 0-d mask acts like a bool scalar
          advanced(1, 0, full({*a.data<bool>() ? 1 : 0}, 0.0, DType::Int64), -1);
          break;
        }
        for (int64_t j = 0; j < a.ndim(); ++j)
          EMBER_CHECK(a.shape[j] == x.shape[d + j], IndexError, op, ": the boolean mask of shape ",
                      shape_str(a.shape), " does not match dimensions ", d, " to ", d + a.ndim() - 1,
                      " of the tensor of shape ", shape_str(x.shape), " (size ", x.shape[d + j],
                      " vs ", a.shape[j], " in dimension ", d + j, ")");
        Tensor found = nonzero(a);  // (count, mask ndim): one position array per masked dim
        for (int64_t j = 0; j < a.ndim(); ++j, ++d) advanced(x.shape[d], x.strides[d], select(found, 1, j), d);
        break;
      }
    }
  }
  for (; d < x.ndim(); ++d) keep(x.shape[d], x.strides[d]);
  // NumPy decides placement on the entries, not the dims: an Ellipsis between two arrays
  // separates them even when it stands for no dims.
  auto is_advanced = [&](const IndexEntry& e) {
    return e.kind == IndexEntry::Array || e.kind == IndexEntry::BoolScalar ||
           (e.kind == IndexEntry::Integer && has_arrays);
  };
  auto first = std::find_if(index.begin(), index.end(), is_advanced);
  auto last = std::find_if(index.rbegin(), index.rend(), is_advanced).base();
  r.adjacent = first == index.end() || std::all_of(first, last, is_advanced);
  r.view = x;
  r.view.shape = shape;
  r.view.strides = strides;
  r.view.offset = offset;
  return r;
}

// ---- the gather / scatter plan -----------------------------------------------------------------

struct GatherPlan {
  Shape out_shape;
  std::vector<int64_t> pre_offsets;  // one per position of the dims before the advanced block
  Tensor adv_offsets;                // int64, one per position of the broadcast index shape
  std::vector<int64_t> row_offsets;  // one per row of the dims after it (all but the innermost)
  int64_t run_length = 1, run_stride = 1;  // the innermost dim after it
  int64_t rows() const { return (int64_t)pre_offsets.size() * adv_offsets.numel() * (int64_t)row_offsets.size(); }
};

// Element offsets of every position of (shape, strides), in C order.
std::vector<int64_t> offset_table(const Shape& shape, const Shape& strides) {
  std::vector<int64_t> table{0};
  for (size_t d = 0; d < shape.size(); ++d) {
    std::vector<int64_t> next;
    next.reserve(table.size() * shape[d]);
    for (int64_t base : table)
      for (int64_t i = 0; i < shape[d]; ++i) next.push_back(base + i * strides[d]);
    table.swap(next);
  }
  return table;
}

// Drops size-1 dims and merges neighbours that are contiguous with each other.
void coalesce(Shape& shape, Shape& strides) {
  Shape s, st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!s.empty() && st.back() == strides[d] * shape[d]) {
      s.back() *= shape[d];
      st.back() = strides[d];
    } else {
      s.push_back(shape[d]);
      st.push_back(strides[d]);
    }
  }
  shape = s;
  strides = st;
}

Shape broadcast_index_shapes(const std::vector<Tensor>& arrays) {
  Shape out = arrays[0].shape;
  for (size_t j = 1; j < arrays.size(); ++j) {
    try {
      out = broadcast_shapes(out, arrays[j].shape, "index");
    } catch (const ValueError&) {
      std::string shapes;
      for (const Tensor& a : arrays) shapes += shape_str(a.shape) + " ";
      throw IndexError(str_cat("shape mismatch: indexing arrays could not be broadcast together with shapes ",
                               shapes));
    }
  }
  return out;
}

// Sum over the advanced dims of position * stride, for every position of the broadcast shape.
Tensor advanced_offsets(const ResolvedIndex& r, const Shape& bshape) {
  Tensor acc = full(bshape, 0.0, DType::Int64);
  for (size_t j = 0; j < r.adv_arrays.size(); ++j) {
    Tensor positions = broadcast_to(r.adv_arrays[j], bshape, "index");
    const int64_t size = r.view.shape[r.adv_dims[j]], stride = r.view.strides[r.adv_dims[j]];
    BadIndex bad;
    RowLoop<2> loop(bshape, {&acc, &positions});
    loop.run(kElementwiseGrain, [&](char* const* p, const int64_t* st, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = *reinterpret_cast<const int64_t*>(p[1] + i * st[1]);
        if (v < -size || v >= size) {
          bad.report(v);
          continue;
        }
        *reinterpret_cast<int64_t*>(p[0] + i * st[0]) += (v < 0 ? v + size : v) * stride;
      }
    });
    EMBER_CHECK(!bad.found, IndexError, "index ", bad.value, " is out of bounds for dimension ",
                r.source_dims[j], " with size ", size);
  }
  return acc;
}

GatherPlan plan_gather(const ResolvedIndex& r) {
  const Tensor& v = r.view;
  const std::vector<int64_t>& adv = r.adv_dims;
  Shape pre_shape, pre_strides, post_shape, post_strides;
  for (int64_t d = 0, j = 0; d < v.ndim(); ++d) {
    if (j < (int64_t)adv.size() && adv[j] == d) {
      ++j;
      continue;
    }
    bool before = r.adjacent && d < adv.front();
    (before ? pre_shape : post_shape).push_back(v.shape[d]);
    (before ? pre_strides : post_strides).push_back(v.strides[d]);
  }
  GatherPlan p;
  Shape bshape = broadcast_index_shapes(r.adv_arrays);
  p.out_shape = pre_shape;
  p.out_shape.insert(p.out_shape.end(), bshape.begin(), bshape.end());
  p.out_shape.insert(p.out_shape.end(), post_shape.begin(), post_shape.end());
  p.pre_offsets = offset_table(pre_shape, pre_strides);
  p.adv_offsets = advanced_offsets(r, bshape);
  if (shape_numel(post_shape) == 0) {
    p.row_offsets.clear();
    return p;
  }
  coalesce(post_shape, post_strides);
  if (!post_shape.empty()) {
    p.run_length = post_shape.back();
    p.run_stride = post_strides.back();
    post_shape.pop_back();
    post_strides.pop_back();
  }
  p.row_offsets = offset_table(post_shape, post_strides);
  return p;
}

// Position (pre, adv, row) of consecutive output rows, stepped without divisions.
struct RowCursor {
  int64_t pre, adv, row, n_adv, n_rows;
  RowCursor(int64_t r, int64_t n_adv, int64_t n_rows)
      : pre(r / (n_adv * n_rows)), adv(r / n_rows % n_adv), row(r % n_rows), n_adv(n_adv), n_rows(n_rows) {}
  void next() {
    if (++row < n_rows) return;
    row = 0;
    if (++adv < n_adv) return;
    adv = 0;
    ++pre;
  }
};

template <class W>
void copy_run(W* dst, int64_t dst_stride, const W* src, int64_t src_stride, int64_t n) {
  if (dst_stride == 1 && src_stride == 1) {
    std::memcpy(dst, src, n * sizeof(W));
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i * dst_stride] = src[i * src_stride];
}

int64_t row_grain(const GatherPlan& p) { return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(p.run_length, 1)); }

// ---- kernels -----------------------------------------------------------------------------------

// out (contiguous, p.out_shape) <- view at the planned offsets.
template <class W>
void gather_kernel(const GatherPlan& p, const W* view, W* out) {
  const int64_t n_adv = p.adv_offsets.numel(), n_rows = (int64_t)p.row_offsets.size(), len = p.run_length;
  const int64_t* adv = p.adv_offsets.data<int64_t>();
  parallel_for(0, p.rows(), row_grain(p), [&](int64_t begin, int64_t end) {
    RowCursor c(begin, n_adv, n_rows);
    for (int64_t r = begin; r < end; ++r, c.next()) {
      const W* from = view + p.pre_offsets[c.pre] + adv[c.adv] + p.row_offsets[c.row];
      copy_run(out + r * len, 1, from, p.run_stride, len);
    }
  });
}

// view at the planned offsets <- values (contiguous p.out_shape, or one value for all). With
// repeated positions the rows are written in order on one thread, so the last write wins.
template <class W>
void scatter_kernel(const GatherPlan& p, W* view, const W* values, bool one_value, bool in_order) {
  const int64_t n_adv = p.adv_offsets.numel(), n_rows = (int64_t)p.row_offsets.size(), len = p.run_length;
  const int64_t* adv = p.adv_offsets.data<int64_t>();
  const int64_t grain = in_order ? std::max<int64_t>(p.rows(), 1) : row_grain(p);
  parallel_for(0, p.rows(), grain, [&](int64_t begin, int64_t end) {
    RowCursor c(begin, n_adv, n_rows);
    for (int64_t r = begin; r < end; ++r, c.next()) {
      W* to = view + p.pre_offsets[c.pre] + adv[c.adv] + p.row_offsets[c.row];
      copy_run(to, p.run_stride, one_value ? values : values + r * len, one_value ? 0 : 1, len);
    }
  });
}

bool has_repeats(const Tensor& offsets) {
  const int64_t* p = offsets.data<int64_t>();
  std::vector<int64_t> sorted(p, p + offsets.numel());
  std::sort(sorted.begin(), sorted.end());
  return std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
}

Tensor gather_resolved(const ResolvedIndex& r) {
  GatherPlan p = plan_gather(r);
  Tensor out = empty(p.out_shape, r.view.dtype);
  dispatch_word(out.dtype, [&](auto tag) {
    using W = decltype(tag);
    gather_kernel<W>(p, static_cast<const W*>(r.view.raw_data()), out.data<W>());
  });
  return out;
}

// Drops leading size-1 dims of a value with more dims than its target, as NumPy and PyTorch do.
Tensor fit_value(const Tensor& value, const Shape& target) {
  Tensor v = value;
  while (v.ndim() > (int64_t)target.size() && v.shape[0] == 1) v = select(v, 0, 0);
  size_t lead = target.size() - std::min(target.size(), v.shape.size());
  bool fits = v.ndim() <= (int64_t)target.size();
  for (size_t i = 0; fits && i < v.shape.size(); ++i) fits = v.shape[i] == 1 || v.shape[i] == target[lead + i];
  EMBER_CHECK(fits, ValueError, "setitem: cannot broadcast a value of shape ", shape_str(value.shape),
              " to the indexed shape ", shape_str(target));
  return v;
}

void scatter_resolved(const ResolvedIndex& r, const Tensor& value) {
  GatherPlan p = plan_gather(r);
  Tensor v = fit_value(value, p.out_shape);
  bool one_value = v.numel() == 1;
  Tensor values = empty(one_value ? Shape{} : p.out_shape, r.view.dtype);
  copy_(values, one_value ? reshape(v, {}) : v);  // also converts, and decouples from x's memory
  bool in_order = !one_value && p.adv_offsets.numel() > 1 && has_repeats(p.adv_offsets);
  dispatch_word(values.dtype, [&](auto tag) {
    using W = decltype(tag);
    scatter_kernel<W>(p, static_cast<W*>(r.view.raw_data()), values.data<W>(), one_value, in_order);
  });
}

void check_index_tensor(const Tensor& index, const char* op) {
  EMBER_CHECK(is_index_dtype(index.dtype), TypeError, op, ": the index must be an int64 or int32 tensor, got ",
              dtype_name(index.dtype));
}

}  // namespace

// ---- getitem / setitem / index_select ----------------------------------------------------------

Tensor index_get(const Tensor& x, const Index& index) {
  ResolvedIndex r = resolve(x, index, "getitem");
  if (r.adv_dims.empty()) return r.view;
  if (x.device().is_cpu()) return gather_resolved(r);
  r.view = to_host(r.view);
  return to_device(gather_resolved(r), x.device());
}

void index_put(const Tensor& x, const Index& index, const Tensor& value) {
  ResolvedIndex r = resolve(x, index, "setitem");
  if (r.adv_dims.empty()) {
    Tensor v = fit_value(value, r.view.shape);
    copy_(r.view, v.storage == x.storage ? clone(v) : v);
    return;
  }
  if (x.device().is_cpu()) {
    scatter_resolved(r, value);
    return;
  }
  Tensor target = r.view;
  r.view = to_host(target);
  scatter_resolved(r, to_host(value));
  copy_(target, r.view);
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_index_tensor(index, "index_select");
  EMBER_CHECK(index.ndim() <= 1, ValueError, "index_select: the index must be 0-d or 1-d, got shape ",
              shape_str(index.shape));
  if (x.ndim() == 0) {
    wrap_axis(dim, 0, "index_select");
    EMBER_CHECK(index.numel() == 1, ValueError, "index_select: a 0-d input takes an index of one element, got ",
                index.numel());
    return reshape(index_select(reshape(x, {1}), 0, index), {});
  }
  int64_t d = wrap_axis(dim, x.ndim(), "index_select");
  Index entries(d + 1);
  entries[d].kind = IndexEntry::Array;
  entries[d].array = reshape(index, {-1});
  return index_get(x, entries);
}

// ---- gather / scatter_add_ along one dim ---------------------------------------------------------

namespace {

// Shapes for gather / scatter_add_: index has x's ndim and fits inside `bound` off `dim`.
int64_t check_along_dim(const Tensor& x, int64_t dim, const Tensor& index, const char* op) {
  check_index_tensor(index, op);
  EMBER_CHECK(index.ndim() == x.ndim(), ValueError, op, ": the index must have as many dimensions as the ",
              "input, got index of shape ", shape_str(index.shape), " for input of shape ", shape_str(x.shape));
  return x.ndim() == 0 ? wrap_axis(dim, 0, op) : wrap_axis(dim, x.ndim(), op);
}

void check_fits(const Tensor& index, const Tensor& bound, int64_t skip_dim, const char* op, const char* name) {
  for (int64_t k = 0; k < index.ndim(); ++k)
    EMBER_CHECK(k == skip_dim || index.shape[k] <= bound.shape[k], ValueError, op, ": the index of shape ",
                shape_str(index.shape), " is larger than ", name, " of shape ", shape_str(bound.shape),
                " in dimension ", k);
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index_in) {
  int64_t d = check_along_dim(x, dim, index_in, "gather");
  if (x.ndim() == 0) return reshape(gather(reshape(x, {1}), 0, reshape(index_in, {1})), {});
  check_fits(index_in, x, d, "gather", "the input");
  if (!x.device().is_cpu()) return to_device(gather(to_host(x), d, to_host(index_in)), x.device());
  Tensor index = to_dtype(to_host(index_in), DType::Int64);
  Tensor out = empty(index.shape, x.dtype);
  Tensor rows = x;  // x's rows seen with index's shape; the index moves them along d
  rows.shape = index.shape;
  rows.strides[d] = 0;
  const int64_t size = x.shape[d], step = x.strides[d] * itemsize(x.dtype);
  BadIndex bad;
  RowLoop<3> loop(index.shape, {&out, &rows, &index});
  dispatch_word(x.dtype, [&](auto tag) {
    using W = decltype(tag);
    loop.run(kElementwiseGrain, [&](char* const* p, const int64_t* st, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = *reinterpret_cast<const int64_t*>(p[2] + i * st[2]);
        if (v < 0 || v >= size) {
          bad.report(v);
          continue;
        }
        *reinterpret_cast<W*>(p[0] + i * st[0]) = *reinterpret_cast<const W*>(p[1] + i * st[1] + v * step);
      }
    });
  });
  EMBER_CHECK(!bad.found, IndexError, "gather: index ", bad.value, " is out of bounds for dimension ", d,
              " with size ", size);
  return out;
}

void scatter_add_(const Tensor& x, int64_t dim, const Tensor& index_in, const Tensor& src_in) {
  int64_t d = check_along_dim(x, dim, index_in, "scatter_add_");
  EMBER_CHECK(src_in.dtype == x.dtype, TypeError, "scatter_add_: src must have the dtype of the tensor (",
              dtype_name(x.dtype), "), got ", dtype_name(src_in.dtype), "; convert it with .to()");
  EMBER_CHECK(src_in.ndim() == x.ndim(), ValueError, "scatter_add_: src must have as many dimensions as the ",
              "tensor, got src of shape ", shape_str(src_in.shape), " for a tensor of shape ", shape_str(x.shape));
  if (x.ndim() == 0) {
    scatter_add_(reshape(x, {1}), 0, reshape(index_in, {1}), reshape(src_in, {1}));
    return;
  }
  check_fits(index_in, src_in, -1, "scatter_add_", "src");
  check_fits(index_in, x, d, "scatter_add_", "the tensor");
  if (!x.device().is_cpu()) {
    Tensor host = to_host(x);
    scatter_add_(host, d, to_host(index_in), to_host(src_in));
    copy_(x, host);
    return;
  }
  Tensor index = to_dtype(to_host(index_in), DType::Int64);
  Tensor src = src_in.storage == x.storage ? clone(src_in) : src_in;
  const int64_t size = x.shape[d];
  BadIndex bad;
  RowLoop<1> check(index.shape, {&index});
  check.run(kElementwiseGrain, [&](char* const* p, const int64_t* st, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = *reinterpret_cast<const int64_t*>(p[0] + i * st[0]);
      if (v < 0 || v >= size) bad.report(v);
    }
  });
  EMBER_CHECK(!bad.found, IndexError, "scatter_add_: index ", bad.value, " is out of bounds for dimension ", d,
              " with size ", size);
  // Threads split the positions off dim d; each walks its lines along d in order, so no two
  // threads ever add into the same element of x.
  Shape outer;
  std::array<Shape, 3> strides;  // x, index, src
  for (int64_t k = 0; k < index.ndim(); ++k) {
    if (k == d) continue;
    outer.push_back(index.shape[k]);
    strides[0].push_back(x.strides[k]);
    strides[1].push_back(index.strides[k]);
    strides[2].push_back(src.strides[k]);
  }
  const int64_t line = index.shape[d], x_step = x.strides[d], i_step = index.strides[d], s_step = src.strides[d];
  dispatch_all(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* xp = x.data<T>();
    const T* sp = src.data<T>();
    const int64_t* ip = index.data<int64_t>();
    int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(line, 1));
    parallel_for(0, shape_numel(outer), grain, [&](int64_t begin, int64_t end) {
      walk_positions<3>(outer, strides, begin, end, [&](const std::array<int64_t, 3>& off, const Shape&) {
        for (int64_t k = 0; k < line; ++k) {
          T& target = xp[off[0] + ip[off[1] + k * i_step] * x_step];
          T add = sp[off[2] + k * s_step];
          if constexpr (std::is_same<T, bool>::value)
            target = target || add;
          else
            target += add;
        }
      });
    });
  });
}

// ---- nonzero / masked_fill -----------------------------------------------------------------------

Tensor nonzero(const Tensor& x_in) {
  if (!x_in.device().is_cpu()) return to_device(nonzero(to_host(x_in)), x_in.device());
  Tensor x = contiguous(x_in);
  const int64_t n = x.numel(), nd = x.ndim();
  const int64_t n_chunks = std::clamp<int64_t>(n / kElementwiseGrain, 1, get_num_threads());
  const int64_t chunk = (n + n_chunks - 1) / n_chunks;
  std::vector<int64_t> first(n_chunks + 1, 0);  // first output row of each chunk
  Tensor out;
  dispatch_all(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    parallel_for(0, n_chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        int64_t count = 0;
        for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) count += p[i] != T(0);
        first[c + 1] = count;
      }
    });
    for (int64_t c = 0; c < n_chunks; ++c) first[c + 1] += first[c];
    out = empty({first[n_chunks], nd}, DType::Int64);
    int64_t* o = out.data<int64_t>();
    const std::array<Shape, 1> strides{contiguous_strides(x.shape)};
    parallel_for(0, n_chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        int64_t* row = o + first[c] * nd;
        walk_positions<1>(x.shape, strides, c * chunk, std::min(n, (c + 1) * chunk),
                          [&](const std::array<int64_t, 1>& off, const Shape& pos) {
                            if (p[off[0]] == T(0)) return;
                            std::copy(pos.begin(), pos.end(), row);
                            row += nd;
                          });
      }
    });
  });
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value) {
  EMBER_CHECK(mask.dtype == DType::Bool, TypeError, "masked_fill: the mask must be a bool tensor, got ",
              dtype_name(mask.dtype), "; build it with a comparison, e.g. x > 0");
  EMBER_CHECK(value.ndim() == 0, ValueError, "masked_fill: the value must be a Python scalar or a 0-d tensor, ",
              "got a tensor of shape ", shape_str(value.shape));
  Shape shape = broadcast_shapes(x.shape, mask.shape, "masked_fill");
  if (!x.device().is_cpu() || !mask.device().is_cpu())
    return to_device(masked_fill(to_host(x), to_host(mask), value), x.device());
  Tensor xb = broadcast_to(x, shape, "masked_fill"), mb = broadcast_to(mask, shape, "masked_fill");
  Tensor out = empty(shape, x.dtype);
  Tensor fill = to_dtype(to_host(value), x.dtype);
  RowLoop<3> loop(shape, {&out, &xb, &mb});
  dispatch_all(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T v = *fill.data<T>();
    loop.run(kElementwiseGrain, [&](char* const* p, const int64_t* st, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        bool m = *reinterpret_cast<const bool*>(p[2] + i * st[2]);
        *reinterpret_cast<T*>(p[0] + i * st[0]) = m ? v : *reinterpret_cast<const T*>(p[1] + i * st[1]);
      }
    });
  });
  return out;
}

}  // namespace ember
