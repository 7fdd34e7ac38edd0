// The gather / scatter family along one dim (gather, scatter_add_), nonzero, masked_fill, and the
// mask offsets that x[mask] uses.
//
// gather / scatter_add_ take an index with the input's ndim: element i of the index (a position
// tuple) names x at i with coordinate `dim` replaced by index[i]. nonzero and the mask offsets make
// two passes over chunks of the (contiguous) input, counting then writing, without branching on
// the values so that random masks cost no mispredictions.
#include <algorithm>
#include <array>

#include "core/errors.h"
#include "core/iter.h"
#include "core/parallel.h"
#include "core/view.h"
#include "cpu/index.h"
#include "cpu/index_common.h"

namespace ember {
namespace {

// Walks positions [begin, end) of `shape` in C order with the element offset of N operands:
// f(offsets).
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
    f(off);
    for (int64_t d = nd - 1; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
      if (++pos[d] < shape[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * shape[d];
      pos[d] = 0;
    }
  }
}

// Calls f(flat, pos, n) for the runs of the C-order positions [begin, end) of `shape` that lie
// along its last dim: elements flat .. flat + n - 1 sit at pos with last coordinate + 0 .. n - 1.
template <class F>
void for_each_run(const Shape& shape, int64_t begin, int64_t end, const F& f) {
  if (begin >= end) return;
  const int64_t nd = (int64_t)shape.size();
  Shape pos(nd, 0);
  if (nd == 0) {
    f(begin, pos, end - begin);
    return;
  }
  for (int64_t d = nd - 1, rem = begin; d >= 0; --d) {
    pos[d] = rem % shape[d];
    rem /= shape[d];
  }
  while (begin < end) {
    const int64_t n = std::min(shape[nd - 1] - pos[nd - 1], end - begin);
    f(begin, pos, n);
    begin += n;
    pos[nd - 1] += n;
    for (int64_t d = nd - 1; d > 0 && pos[d] == shape[d]; --d) {
      pos[d] = 0;
      ++pos[d - 1];
    }
  }
}

// The nonzero elements of a contiguous host array, in two parallel passes over chunks: count them,
// then visit them, each chunk numbering its own from where the previous chunks stop.
struct NonzeroChunks {
  int64_t size = 0;            // elements per chunk
  std::vector<int64_t> first;  // rank of each chunk's first nonzero; back() is the total
};

template <class T>
NonzeroChunks count_nonzero(const T* p, int64_t n) {
  NonzeroChunks c;
  const int64_t n_chunks = std::clamp<int64_t>(n / kElementwiseGrain, 1, get_num_threads());
  c.size = (n + n_chunks - 1) / n_chunks;
  c.first.assign(n_chunks + 1, 0);
  parallel_for(0, n_chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t count = 0;
      for (int64_t i = k * c.size; i < std::min(n, (k + 1) * c.size); ++i) count += p[i] != T(0);
      c.first[k + 1] = count;
    }
  });
  for (int64_t k = 0; k < n_chunks; ++k) c.first[k + 1] += c.first[k];
  return c;
}

// Calls f(slot, pos, j) for every element (at pos with last coordinate + j), without branching
// on its value: slot is the rank of the next nonzero, so a nonzero element lands in its own slot
// and a zero one in a slot a later nonzero overwrites, or, after the chunk's last nonzero, in the
// chunk's spare slot (total + chunk). Random masks would otherwise mispredict every other branch.
template <class T, class F>
void visit_ranked(const T* p, const Shape& shape, const NonzeroChunks& c, const F& f) {
  const int64_t n = shape_numel(shape), n_chunks = (int64_t)c.first.size() - 1, total = c.first.back();
  parallel_for(0, n_chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      int64_t rank = c.first[k];
      const int64_t end = c.first[k + 1], spare = total + k;
      for_each_run(shape, k * c.size, std::min(n, (k + 1) * c.size), [&](int64_t flat, const Shape& pos, int64_t len) {
        for (int64_t j = 0; j < len; ++j) {
          f(rank < end ? rank : spare, pos, j);
          rank += p[flat + j] != T(0);
        }
      });
    }
  });
}

// A (total + spare slots, width) int64 result for visit_ranked, and its view without the spares.
Tensor ranked_output(const NonzeroChunks& c, int64_t width) {
  return empty({c.first.back() + (int64_t)c.first.size() - 1, width}, DType::Int64);
}
Tensor without_spares(const Tensor& out, const NonzeroChunks& c) { return slice(out, 0, 0, c.first.back(), 1); }

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

// ---- mask offsets / nonzero / masked_fill --------------------------------------------------------

Tensor mask_offsets(const Tensor& mask_in, const Shape& strides) {
  Tensor mask = contiguous(mask_in);
  const bool* p = mask.data<bool>();
  NonzeroChunks chunks = count_nonzero(p, mask.numel());
  Tensor out = ranked_output(chunks, 1);
  int64_t* o = out.data<int64_t>();
  const int64_t nd = mask.ndim();
  visit_ranked(p, mask.shape, chunks, [&](int64_t slot, const Shape& pos, int64_t j) {
    int64_t offset = j * strides[nd - 1];
    for (int64_t d = 0; d < nd; ++d) offset += pos[d] * strides[d];
    o[slot] = offset;
  });
  return select(without_spares(out, chunks), 1, 0);
}

Tensor nonzero(const Tensor& x_in) {
  if (!x_in.device().is_cpu()) return to_device(nonzero(to_host(x_in)), x_in.device());
  Tensor x = contiguous(x_in);
  const int64_t nd = x.ndim();
  Tensor out;
  dispatch_all(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    NonzeroChunks chunks = count_nonzero(p, x.numel());
    out = ranked_output(chunks, nd);
    int64_t* o = out.data<int64_t>();
    visit_ranked(p, x.shape, chunks, [&](int64_t slot, const Shape& pos, int64_t j) {
      int64_t* row = o + slot * nd;
      std::copy(pos.begin(), pos.end(), row);
      if (nd > 0) row[nd - 1] += j;
    });
    out = without_spares(out, chunks);
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

// ---- gather / scatter_add_ along one dim ---------------------------------------------------------

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
  check_writable(x, "scatter_add_");
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
      walk_positions<3>(outer, strides, begin, end, [&](const std::array<int64_t, 3>& off) {
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

}  // namespace ember
