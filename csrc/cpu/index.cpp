// Indexing with NumPy's rules: x[index], x[index] = value, and index_select.
//
// An index is applied in two steps. Its basic entries (slices, None, Ellipsis, and integers when
// no array is present) first become a strided view of x, "the view", with no copy. When the index
// also holds arrays, each array indexes one dim of the view (an "advanced dim"): an n-d bool mask
// stands for the n position arrays of its nonzero() (used directly as the element offsets of its
// true entries), a bool scalar for a new size-1 dim indexed by
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
#include <cstring>
#include <type_traits>

#include "core/errors.h"
#include "core/iter.h"
#include "core/parallel.h"
#include "core/view.h"
#include "cpu/elementwise.h"
#include "cpu/index_common.h"

namespace ember {
namespace {

// ---- resolving an index into a view plus advanced dims -----------------------------------------

// One array of an index: positions along one dim of the view (checked against its size), or, for
// a mask, the element offsets of its true entries (in range by construction).
struct AdvancedPart {
  Tensor values;  // int64 on the host, any shape (broadcast with the other parts)
  bool are_offsets = false;
  int64_t size = 0, stride = 0, source_dim = 0;  // the indexed dim, for positions
};

struct ResolvedIndex {
  Tensor view;
  std::vector<int64_t> adv_dims;  // ascending dims of `view` consumed by the parts
  std::vector<AdvancedPart> parts;
  bool adjacent = true;           // no slice, None or Ellipsis between the advanced entries
  bool may_repeat = false;        // a part of positions may name one element twice
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
  auto by_positions = [&](const Tensor& positions) {  // consumes dim d of x
    r.adv_dims.push_back((int64_t)shape.size());
    r.parts.push_back({positions, false, x.shape[d], x.strides[d], d});
    r.may_repeat = r.may_repeat || positions.numel() > 1;
    keep(x.shape[d], x.strides[d]);
    ++d;
  };
  auto by_mask = [&](const Tensor& mask) {  // consumes mask.ndim() dims of x from d on
    Shape mask_strides(x.strides.begin() + d, x.strides.begin() + d + mask.ndim());
    r.parts.push_back({mask_offsets(mask, mask_strides), true});
    for (int64_t j = 0; j < mask.ndim(); ++j, ++d) {
      r.adv_dims.push_back((int64_t)shape.size());
      keep(x.shape[d], x.strides[d]);
    }
  };
  auto by_bool_scalar = [&](bool value) {  // a new size-1 dim, indexed by [0] or []
    r.adv_dims.push_back((int64_t)shape.size());
    r.parts.push_back({full({value ? 1 : 0}, 0.0, DType::Int64), true});
    keep(1, 0);
  };
  for (const IndexEntry& e : index) {
    switch (e.kind) {
      case IndexEntry::Integer: {
        int64_t size = x.shape[d];
        EMBER_CHECK(e.integer >= -size && e.integer < size, IndexError, "index ", e.integer,
                    " is out of bounds for dimension ", d, " with size ", size);
        int64_t i = e.integer < 0 ? e.integer + size : e.integer;
        if (has_arrays) {
          by_positions(positions_of(i));
        } else {
          offset += i * x.strides[d];
          ++d;
        }
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
      case IndexEntry::BoolScalar: by_bool_scalar(e.integer != 0); break;
      case IndexEntry::Array: {
        Tensor a = to_host(e.array);
        if (a.dtype != DType::Bool) {
          by_positions(to_dtype(a, DType::Int64));
          break;
        }
        if (a.ndim() == 0) {  // a 0-d mask acts like a bool scalar
          by_bool_scalar(*a.data<bool>());
          break;
        }
        for (int64_t j = 0; j < a.ndim(); ++j)
          EMBER_CHECK(a.shape[j] == x.shape[d + j], IndexError, op, ": the boolean mask of shape ",
                      shape_str(a.shape), " does not match dimensions ", d, " to ", d + a.ndim() - 1,
                      " of the tensor of shape ", shape_str(x.shape), " (size ", x.shape[d + j],
                      " vs ", a.shape[j], " in dimension ", d + j, ")");
        by_mask(a);
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

Shape broadcast_index_shapes(const std::vector<AdvancedPart>& parts) {
  Shape out = parts[0].values.shape;
  for (size_t j = 1; j < parts.size(); ++j) {
    try {
      out = broadcast_shapes(out, parts[j].values.shape, "index");
    } catch (const ValueError&) {
      std::string shapes;
      for (const AdvancedPart& part : parts) shapes += shape_str(part.values.shape) + " ";
      throw IndexError(str_cat("shape mismatch: indexing arrays could not be broadcast together with shapes ",
                               shapes));
    }
  }
  return out;
}

// One row of advanced_offsets: out[i] = (or +=) the element offset that in[i] names. Positions
// are checked with an unsigned compare instead of a branch so that the loop vectorises; the
// return value says whether one was out of range.
template <bool kFirst, bool kAreOffsets>
bool add_offsets_row(int64_t* out, int64_t out_step, const int64_t* in, int64_t in_step, int64_t n, int64_t size,
                     int64_t stride) {
  bool bad = false;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = in[i * in_step];
    int64_t term = v;
    if constexpr (!kAreOffsets) {
      bad |= (uint64_t)v + (uint64_t)size >= 2 * (uint64_t)size;  // v outside [-size, size)
      term = (v < 0 ? v + size : v) * stride;
    }
    out[i * out_step] = kFirst ? term : out[i * out_step] + term;
  }
  return bad;
}

// The element offset of every position of the broadcast shape: the sum over the parts of
// position * stride (positions checked and wrapped) or of the mask offsets.
Tensor advanced_offsets(const ResolvedIndex& r, const Shape& bshape) {
  Tensor acc = empty(bshape, DType::Int64);
  for (size_t k = 0; k < r.parts.size(); ++k) {
    const AdvancedPart& part = r.parts[k];
    Tensor values = broadcast_to(part.values, bshape, "index");
    BadIndex bad;
    RowLoop<2> loop(bshape, {&acc, &values});
    auto run = [&](auto first, auto are_offsets) {
      constexpr bool kFirst = decltype(first)::value, kAreOffsets = decltype(are_offsets)::value;
      loop.run(kElementwiseGrain, [&](char* const* p, const int64_t* st, int64_t n) {
        auto* out = reinterpret_cast<int64_t*>(p[0]);
        auto* in = reinterpret_cast<const int64_t*>(p[1]);
        const int64_t out_step = st[0] / 8, in_step = st[1] / 8;
        bool row_bad = out_step == 1 && in_step == 1
                           ? add_offsets_row<kFirst, kAreOffsets>(out, 1, in, 1, n, part.size, part.stride)
                           : add_offsets_row<kFirst, kAreOffsets>(out, out_step, in, in_step, n, part.size, part.stride);
        for (int64_t i = 0; row_bad && i < n; ++i) {
          const int64_t v = in[i * in_step];
          if (v < -part.size || v >= part.size) bad.report(v);
        }
      });
    };
    if (k == 0)  // the first part sets acc, the others add to it
      part.are_offsets ? run(std::true_type{}, std::true_type{}) : run(std::true_type{}, std::false_type{});
    else
      part.are_offsets ? run(std::false_type{}, std::true_type{}) : run(std::false_type{}, std::false_type{});
    EMBER_CHECK(!bad.found, IndexError, "index ", bad.value, " is out of bounds for dimension ",
                part.source_dim, " with size ", part.size);
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
  Shape bshape = broadcast_index_shapes(r.parts);
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
  if (n == 1) {
    *dst = *src;
    return;
  }
  if (dst_stride == 1 && src_stride == 1) {
    std::memcpy(dst, src, n * sizeof(W));
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i * dst_stride] = src[i * src_stride];
}

// dst[i] += src[i]: index_put with accumulate=True (the backward of indexing), typed elements.
template <class T>
void add_run(T* dst, int64_t dst_stride, const T* src, int64_t src_stride, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i * dst_stride] += src[i * src_stride];
}

int64_t row_grain(const GatherPlan& p) { return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(p.run_length, 1)); }

// ---- kernels -----------------------------------------------------------------------------------

// out (contiguous, p.out_shape) <- view at the planned offsets.
template <class W>
void gather_kernel(const GatherPlan& p, const W* view, W* out) {
  const int64_t n_adv = p.adv_offsets.numel(), n_rows = (int64_t)p.row_offsets.size(), len = p.run_length;
  const int64_t* adv = p.adv_offsets.data<int64_t>();
  if (p.pre_offsets.size() == 1 && n_rows == 1) {  // x[idx], x[idx, j:k]: one run per position
    const W* base = view + p.pre_offsets[0] + p.row_offsets[0];
    parallel_for(0, n_adv, row_grain(p), [&](int64_t begin, int64_t end) {
      for (int64_t a = begin; a < end; ++a) copy_run(out + a * len, 1, base + adv[a], p.run_stride, len);
    });
    return;
  }
  parallel_for(0, p.rows(), row_grain(p), [&](int64_t begin, int64_t end) {
    RowCursor c(begin, n_adv, n_rows);
    for (int64_t r = begin; r < end; ++r, c.next()) {
      const W* from = view + p.pre_offsets[c.pre] + adv[c.adv] + p.row_offsets[c.row];
      copy_run(out + r * len, 1, from, p.run_stride, len);
    }
  });
}

// view at the planned offsets <- values (contiguous p.out_shape, or one value for all). When the
// positions may repeat, threads split the (pre, row) pairs and each walks the broadcast positions
// in order: writes to one element then come from one thread in index order, so the last wins.
// With Accumulate, W is the element type and rows are added instead of copied.
template <class W, bool Accumulate = false>
void scatter_kernel(const GatherPlan& p, W* view, const W* values, bool one_value, bool in_order) {
  const int64_t n_adv = p.adv_offsets.numel(), n_rows = (int64_t)p.row_offsets.size(), len = p.run_length;
  const int64_t* adv = p.adv_offsets.data<int64_t>();
  auto write_row = [&](int64_t r, int64_t pre, int64_t a, int64_t row) {
    W* to = view + p.pre_offsets[pre] + adv[a] + p.row_offsets[row];
    if constexpr (Accumulate)
      add_run(to, p.run_stride, one_value ? values : values + r * len, one_value ? 0 : 1, len);
    else
      copy_run(to, p.run_stride, one_value ? values : values + r * len, one_value ? 0 : 1, len);
  };
  if (!in_order) {
    parallel_for(0, p.rows(), row_grain(p), [&](int64_t begin, int64_t end) {
      RowCursor c(begin, n_adv, n_rows);
      for (int64_t r = begin; r < end; ++r, c.next()) write_row(r, c.pre, c.adv, c.row);
    });
    return;
  }
  const int64_t pairs = (int64_t)p.pre_offsets.size() * n_rows;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(n_adv * len, 1));
  parallel_for(0, pairs, grain, [&](int64_t begin, int64_t end) {
    for (int64_t pair = begin; pair < end; ++pair) {
      const int64_t pre = pair / n_rows, row = pair % n_rows;
      for (int64_t a = 0; a < n_adv; ++a) write_row((pre * n_adv + a) * n_rows + row, pre, a, row);
    }
  });
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

void scatter_resolved(const ResolvedIndex& r, const Tensor& value, bool accumulate) {
  GatherPlan p = plan_gather(r);
  Tensor v = fit_value(value, p.out_shape);
  bool one_value = v.numel() == 1;
  Tensor values = empty(one_value ? Shape{} : p.out_shape, r.view.dtype);
  copy_(values, one_value ? reshape(v, {}) : v);  // also converts, and decouples from x's memory
  if (accumulate) {
    // Repeated positions must each add once: the in-order walk gives every element one writer.
    dispatch_all(values.dtype, [&](auto tag) {
      using T = decltype(tag);
      scatter_kernel<T, true>(p, static_cast<T*>(r.view.raw_data()), values.data<T>(), one_value, r.may_repeat);
    });
    return;
  }
  bool in_order = !one_value && r.may_repeat;
  dispatch_word(values.dtype, [&](auto tag) {
    using W = decltype(tag);
    scatter_kernel<W>(p, static_cast<W*>(r.view.raw_data()), values.data<W>(), one_value, in_order);
  });
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

void index_put(const Tensor& x, const Index& index, const Tensor& value, bool accumulate) {
  check_writable(x, "setitem");
  ResolvedIndex r = resolve(x, index, "setitem");
  if (r.adv_dims.empty()) {
    Tensor v = fit_value(value, r.view.shape);
    if (accumulate) {
      EMBER_CHECK(x.dtype != DType::Bool, TypeError, "index_put_: accumulate=True needs a numeric tensor, got bool");
      copy_(r.view, binary(BinaryOp::Add, r.view, v));
    } else {
      copy_(r.view, v.storage == x.storage ? clone(v) : v);
    }
    return;
  }
  if (x.device().is_cpu()) {
    scatter_resolved(r, value, accumulate);
    return;
  }
  Tensor target = r.view;
  r.view = to_host(target);
  scatter_resolved(r, to_host(value), accumulate);
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

}  // namespace ember
