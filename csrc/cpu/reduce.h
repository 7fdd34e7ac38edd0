// Reductions on the CPU: the entry points of reduce.cpp and softmax.cpp, and the engine they share.
//
// Shape convention: a reduction maps x (any shape, any strides) to one result per position of the
// kept axes; the result is contiguous, its axes are the kept axes in order (reduced axes become
// size 1 with keepdim). The engine sees the input in one of two layouts:
//   rows:    the reduced elements of each result are contiguous runs (stride 1); each result is
//            computed by the op's contiguous `row` kernel, e.g. sum over the last axis or all axes;
//   columns: the innermost kept axis has stride 1; a tile of neighbouring results is accumulated
//            together, one contiguous segment per reduced position (`column`), e.g. sum over axis 0.
// Any other layout (a strided view, interleaved reduced and kept axes) is first copied into
// (kept axes..., reduced axes...) order, which is always a rows layout.
//
// Determinism: work is cut into tasks of a fixed size that depends only on the shapes (kChunk
// elements); partial results of a task are combined in a fixed order. The thread count only decides
// who runs which task, so results are bit-identical for any number of threads.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/parallel.h"
#include "core/tensor.h"

namespace ember {
namespace cpu {

using Dims = std::optional<std::vector<int64_t>>;  // None: all axes

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim);
Tensor mean(const Tensor& x, const Dims& dims, bool keepdim);
Tensor prod(const Tensor& x, const Dims& dims, bool keepdim);
Tensor amax(const Tensor& x, const Dims& dims, bool keepdim);
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim);
Tensor all(const Tensor& x, const Dims& dims, bool keepdim);
Tensor any(const Tensor& x, const Dims& dims, bool keepdim);
Tensor var(const Tensor& x, const Dims& dims, double correction, bool keepdim);
Tensor std_dev(const Tensor& x, const Dims& dims, double correction, bool keepdim);
std::pair<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim);  // (values, indices)
std::pair<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim);
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim);  // None: flattened
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim);

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// Gradients of softmax / log_softmax along dim from their output and the output's gradient.
Tensor softmax_backward(const Tensor& grad, const Tensor& out, int64_t dim);
Tensor log_softmax_backward(const Tensor& grad, const Tensor& out, int64_t dim);
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim);

// ---- the engine --------------------------------------------------------------------------------

// Elements per task. Fixed (never derived from the thread count) so that results are reproducible.
constexpr int64_t kChunk = 32768;
// Results accumulated together in the columns layout: wide enough that each reduced position is a
// long contiguous read (hardware prefetchers follow it), small enough that the accumulators stay
// in L2.
constexpr int64_t kColumnTile = 8192;
// Column tasks below which the reduced positions are split too, so that a few wide results (e.g.
// axis 0 of a tall matrix) still give every thread work.
constexpr int64_t kMinColumnTasks = 16;

struct ReducePlan {
  Tensor input;          // x, or a copy of it in (kept..., reduced...) order
  Shape out_shape;       // the result's shape, keepdim applied
  int64_t n_out = 1;     // results
  int64_t n_reduce = 1;  // elements reduced into each result
  bool columns = false;  // layout: columns (true) or rows (false)
  Shape kept_shape, kept_strides;  // kept axes, size-1 axes dropped and neighbours merged
  Shape red_shape, red_strides;    // reduced axes, outermost first, merged likewise
};

// Which axes `dims` names (None or an empty list: all, as PyTorch); IndexError when out of range,
// ValueError for a repeated axis. A 0-d tensor accepts axis 0 / -1.
std::vector<bool> reduced_axes(const Tensor& x, const Dims& dims, const char* op);
// The layout for reducing `reduced` axes of x; rows_only forces the rows layout.
ReducePlan plan_reduction(const Tensor& x, const std::vector<bool>& reduced, bool keepdim, bool rows_only);

// Walks a multi-dimensional index in row-major order, tracking its offset in elements.
struct Odometer {
  const Shape* shape;
  const Shape* strides;
  int64_t n_dims;  // leading dims of shape/strides that it walks
  Shape index;
  int64_t offset = 0;

  Odometer(const Shape& sh, const Shape& st, int64_t dims) : shape(&sh), strides(&st), n_dims(dims), index(dims, 0) {}
  void seek(int64_t flat) {
    offset = 0;
    for (int64_t d = n_dims - 1; d >= 0; --d) {
      index[d] = flat % (*shape)[d];
      flat /= (*shape)[d];
      offset += index[d] * (*strides)[d];
    }
  }
  void next() {
    for (int64_t d = n_dims - 1; d >= 0; --d) {
      offset += (*strides)[d];
      if (++index[d] < (*shape)[d]) return;
      offset -= (*strides)[d] * (*shape)[d];
      index[d] = 0;
    }
  }
};

// An Op<T> provides:
//   using Acc;                       the running state of one result
//   Acc identity() const;            the state of an empty reduction
//   Acc row(const T* p, int64_t n, int64_t first) const;   state of p[0..n), contiguous; `first`
//                                    is the position of p[0] among the reduced elements (its index
//                                    along the axis when one axis is reduced, as for argmax)
//   Acc combine(const Acc& earlier, const Acc& later) const;
//   void column(Acc* acc, const T* seg, int64_t stride, int64_t n_rows, int64_t w, int64_t first) const;
//                                    acc[k] <- seg[r * stride + k] for rows r < n_rows in order;
//                                    row r is reduced position first + r
//   void emit(int64_t out_index, const Acc& acc) const;   writes the result

// The `column` of an op whose step is written for one row, column_row(acc, seg, w, position).
template <class Op, class Acc, class T>
void column_by_rows(const Op& op, Acc* acc, const T* seg, int64_t stride, int64_t n_rows, int64_t w, int64_t first) {
  for (int64_t r = 0; r < n_rows; ++r) op.column_row(acc, seg + r * stride, w, first + r);
}

template <class T, class Op>
void run_rows(const ReducePlan& plan, const Op& op) {
  using Acc = typename Op::Acc;
  const T* base = plan.input.data<T>();
  const int64_t n_out = plan.n_out, n_red = plan.n_reduce;
  const int64_t n_red_dims = (int64_t)plan.red_shape.size();
  const int64_t run = n_red_dims ? plan.red_shape.back() : 1;
  const int64_t n_chunks = (n_red + kChunk - 1) / kChunk;

  // Reduced positions [f0, f1) of the result whose elements start at `row`, run by run.
  auto reduce_range = [&](Odometer& runs, const T* row, int64_t f0, int64_t f1) {
    if (n_red_dims <= 1) return op.row(row + f0, f1 - f0, f0);
    Acc acc = op.identity();
    for (int64_t f = f0; f < f1;) {
      int64_t within = f % run, len = std::min(run - within, f1 - f);
      runs.seek(f / run);
      acc = op.combine(acc, op.row(row + runs.offset + within, len, f));
      f += len;
    }
    return acc;
  };
  const int64_t n_run_dims = std::max<int64_t>(n_red_dims - 1, 0);
  auto for_rows = [&](int64_t o_begin, int64_t o_end, auto&& body) {
    Odometer kept(plan.kept_shape, plan.kept_strides, (int64_t)plan.kept_shape.size());
    kept.seek(o_begin);
    for (int64_t o = o_begin; o < o_end; ++o, kept.next()) body(o, base + kept.offset);
  };

  if (n_chunks <= 1) {
    int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(n_red, 1));
    parallel_for(0, n_out, grain, [&](int64_t b, int64_t e) {
      Odometer runs(plan.red_shape, plan.red_strides, n_run_dims);
      for_rows(b, e, [&](int64_t o, const T* row) { op.emit(o, reduce_range(runs, row, 0, n_red)); });
    });
    return;
  }
  // Long rows: fixed chunks of each row in parallel, then each row's chunks combined in order.
  std::vector<Acc> partial(n_out * n_chunks);
  parallel_for(0, n_out * n_chunks, 1, [&](int64_t b, int64_t e) {
    Odometer runs(plan.red_shape, plan.red_strides, n_run_dims);
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / n_chunks, c = t % n_chunks;
      for_rows(o, o + 1, [&](int64_t, const T* row) {
        partial[t] = reduce_range(runs, row, c * kChunk, std::min(n_red, (c + 1) * kChunk));
      });
    }
  });
  parallel_for(0, n_out, std::max<int64_t>(1, kElementwiseGrain / n_chunks), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      Acc acc = partial[o * n_chunks];
      for (int64_t c = 1; c < n_chunks; ++c) acc = op.combine(acc, partial[o * n_chunks + c]);
      op.emit(o, acc);
    }
  });
}

template <class T, class Op>
void run_columns(const ReducePlan& plan, const Op& op) {
  using Acc = typename Op::Acc;
  const T* base = plan.input.data<T>();
  const int64_t n_out = plan.n_out, n_red = plan.n_reduce;
  const int64_t width = plan.kept_shape.back(), n_outer = n_out / width;
  const int64_t tile = std::min(width, kColumnTile), n_tiles = (width + tile - 1) / tile;
  const int64_t run = plan.red_shape.back(), run_stride = plan.red_strides.back();
  // Few column tasks: also split the reduced positions (into at most kMinColumnTasks chunks of
  // at least 64 positions, so the partial results stay small).
  const int64_t n_col_tasks = n_outer * n_tiles;
  int64_t rows_per_chunk = n_red;
  if (n_col_tasks < kMinColumnTasks) {
    int64_t want_chunks = (kMinColumnTasks + n_col_tasks - 1) / n_col_tasks;
    rows_per_chunk = std::max<int64_t>(64, (n_red + want_chunks - 1) / want_chunks);
  }
  const int64_t n_rchunks = (n_red + rows_per_chunk - 1) / rows_per_chunk;
  const int64_t n_tasks = n_col_tasks * n_rchunks;
  std::vector<Acc> partial(n_rchunks > 1 ? n_rchunks * n_out : 0);

  const int64_t elems_per_task = tile * std::min(n_red, rows_per_chunk);
  parallel_for(0, n_tasks, std::max<int64_t>(1, kElementwiseGrain / elems_per_task), [&](int64_t b, int64_t e) {
    std::unique_ptr<Acc[]> acc(new Acc[tile]);  // not a vector: Acc may be bool
    Odometer outer(plan.kept_shape, plan.kept_strides, (int64_t)plan.kept_shape.size() - 1);
    Odometer runs(plan.red_shape, plan.red_strides, (int64_t)plan.red_shape.size() - 1);
    for (int64_t t = b; t < e; ++t) {
      int64_t rc = t % n_rchunks, tile_index = (t / n_rchunks) % n_tiles, o_outer = t / (n_rchunks * n_tiles);
      int64_t k0 = tile_index * tile, w = std::min(tile, width - k0);
      outer.seek(o_outer);
      const T* col = base + outer.offset + k0;
      std::fill(acc.get(), acc.get() + w, op.identity());
      int64_t r0 = rc * rows_per_chunk, r1 = std::min(n_red, r0 + rows_per_chunk);
      // Run by run along the innermost reduced axis, whose rows are evenly spaced.
      for (int64_t r = r0; r < r1;) {
        int64_t within = r % run, len = std::min(run - within, r1 - r);
        runs.seek(r / run);
        op.column(acc.get(), col + runs.offset + within * run_stride, run_stride, len, w, r);
        r += len;
      }
      int64_t o0 = o_outer * width + k0;
      for (int64_t k = 0; k < w; ++k) {
        if (n_rchunks == 1)
          op.emit(o0 + k, acc[k]);
        else
          partial[rc * n_out + o0 + k] = acc[k];
      }
    }
  });
  if (n_rchunks == 1) return;
  // Chunk by chunk (sequential reads), each result combining its chunks in order.
  for (int64_t rc = 1; rc < n_rchunks; ++rc)
    for (int64_t o = 0; o < n_out; ++o) partial[o] = op.combine(partial[o], partial[rc * n_out + o]);
  for (int64_t o = 0; o < n_out; ++o) op.emit(o, partial[o]);
}

// Runs `op` over the plan: empty results write nothing, empty reductions write the identity.
template <class T, class Op>
void run_reduction(const ReducePlan& plan, const Op& op) {
  if (plan.n_out == 0) return;
  if (plan.n_reduce == 0) {
    for (int64_t o = 0; o < plan.n_out; ++o) op.emit(o, op.identity());
    return;
  }
  if (plan.columns)
    run_columns<T>(plan, op);
  else
    run_rows<T>(plan, op);
}

}  // namespace cpu
}  // namespace ember
