// One recurrent layer, one direction, through a whole sequence: forward and backward through time.
//
// Shapes (T steps, B batch rows, H hidden units, G gates: 1 Elman, 4 LSTM, 3 GRU):
//   x_proj  (T, B, G*H)  W_ih x_t + b_ih for every step, computed by the caller in one GEMM;
//                        any strides on the first two dims, the gate dim contiguous
//   w_hh    (G*H, H), b_hh (G*H) or none, h0 / c0 (B, H) or none (zeros)
//   states  (S, T + 1, B, H): plane 0 the hidden states, plane 1 (LSTM) the cell states. Slot 0
//           holds h0 (c0) and slot t + 1 the state after step t; a reverse layer runs from t = T - 1
//           down to 0 and keeps h0 in slot T, its state after step t in slot t. Either way the
//           layer's output is T consecutive slots and the states each step started from are the
//           other T: both contiguous, with no copy.
//   saved   (T, B, 4H) the gate activations backward needs (LSTM i f g o; GRU r z n, W_hn h + b_hn)
//   mask    (T, B) bool or none: where false, the step leaves that row's state unchanged (the
//           padding of a shorter sequence); its output slot then holds the carried state
// Backward takes the gradient of the whole states tensor (zeros where no output was used) and
// returns d x_proj (T, B, G*H), dh0, dc0, dW_hh and db_hh; the caller gets dx and dW_ih from d x_proj
// in one GEMM each.
//
// Per step, the recurrent product h_{t-1} W_hh^T runs on the GEMM of cpu/gemm.h, then one pass of
// the cell's elementwise kernel (cpu/rnn_kernels.inc) applies the gates. Batch rows never interact,
// so threads take disjoint row blocks and run the whole sequence without meeting. The products are
// cut into tiles that the GEMM computes straight from the weights (a copy of W_hh^T, or W_hh, made
// once per call with padded rows) instead of repacking all of W_hh at every step. Backward through
// time needs only d h_{t-1} = d_pre_t W_hh per step; dW_hh is one GEMM over all steps afterwards.
#include "cpu/rnn.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "core/allocator.h"
#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "core/view.h"
#include "cpu/gemm_select.h"
#include "cpu/matmul.h"
#include "cpu/reduce.h"
#include "cpu/rnn_kernels.h"
#include "ops/rnn_math.h"

namespace ember {
namespace {

constexpr const char* kCellNames[kRnnCellCount] = {"rnn", "lstm", "gru"};
constexpr int64_t kGates[kRnnCellCount] = {1, 4, 3};
constexpr int64_t kSavedGates[kRnnCellCount] = {0, 4, 4};
constexpr int64_t kStatePlanes[kRnnCellCount] = {1, 2, 1};
constexpr const char* kActivationNames[kRnnActivationCount] = {"tanh", "sigmoid", "relu", "hard_sigmoid",
                                                               "linear"};

// FLOPs a thread must get before another is worth waking (as in matmul.cpp), and the fewest batch
// rows worth a thread: one row block of the GEMM's unpacked kernel.
constexpr double kFlopsPerThread = double(1 << 21);
constexpr int64_t kMinRowsPerThread = 8;

// The largest product (multiply-adds) every SIMD path of the GEMM computes without packing its
// operands (gemm_avx2.cpp's kDirectMaxMacs; AVX-512's is larger). Recurrent products are cut into
// tiles no larger, so each step reads the weights in place: packing all of W_hh would cost about as
// much as the product itself, at every step.
constexpr int64_t kUnpackedMacs = 96 * 96 * 96;
constexpr int64_t kTileRows = 32;
constexpr int64_t kTileDepth = 256;
constexpr int64_t kTileColumnUnit = 16;  // whole vectors of the widest path

using cpu::Gemm;
using cpu::gemm_kernel;

const RnnKernels& rnn_kernels() {
  static const RnnKernels table = [] {
    RnnKernels t{};
    switch (cpu_capability()) {
      case CpuCapability::AVX512: avx512::fill_rnn_kernels(&t); break;
      case CpuCapability::AVX2: avx2::fill_rnn_kernels(&t); break;
      default: generic::fill_rnn_kernels(&t); break;
    }
    return t;
  }();
  return table;
}

template <class T>
const RnnKernelSet<T>& kernel_set() {
  if constexpr (std::is_same<T, float>::value) return rnn_kernels().f32;
  else return rnn_kernels().f64;
}

// ---- recurrent products ---------------------------------------------------------------------------

struct Tiles {
  int64_t rows = 1, cols = 1, depth = 1;
};

// Tiles of C (rows x cols) = A (rows x depth) @ B (depth x cols) within kUnpackedMacs, columns cut
// into equal whole-vector pieces.
Tiles product_tiles(int64_t rows, int64_t cols, int64_t depth) {
  Tiles t;
  t.rows = std::clamp<int64_t>(rows, 1, kTileRows);
  t.depth = std::clamp<int64_t>(depth, 1, kTileDepth);
  const int64_t widest =
      std::max(kTileColumnUnit, kUnpackedMacs / (t.rows * t.depth) / kTileColumnUnit * kTileColumnUnit);
  const int64_t pieces = std::max<int64_t>(1, (cols + widest - 1) / widest);
  const int64_t piece = (cols + pieces - 1) / pieces;
  t.cols = std::max<int64_t>(1, (piece + kTileColumnUnit - 1) / kTileColumnUnit * kTileColumnUnit);
  return t;
}

// C (rows x cols, row stride ldc) = A (rows x depth, row stride lda) @ B (depth x cols, row stride
// ldb), added to C's values when `accumulate`; on the calling thread only.
template <class T>
void recurrent_product(const Tiles& tiles, int64_t rows, int64_t cols, int64_t depth, const T* a, int64_t lda,
                       const T* b, int64_t ldb, T* c, int64_t ldc, bool accumulate, void* workspace) {
  const Gemm<T>& gemm = gemm_kernel<T>();
  if (depth == 0 && !accumulate) {
    for (int64_t i = 0; i < rows; ++i) std::fill(c + i * ldc, c + i * ldc + cols, T(0));
    return;
  }
  for (int64_t i = 0; i < rows; i += tiles.rows) {
    const int64_t m = std::min(tiles.rows, rows - i);
    for (int64_t j = 0; j < cols; j += tiles.cols) {
      const int64_t n = std::min(tiles.cols, cols - j);
      for (int64_t p = 0; p < depth; p += tiles.depth) {
        const int64_t k = std::min(tiles.depth, depth - p);
        gemm.run(m, n, k, a + i * lda + p, lda, 1, b + p * ldb + j, ldb, 1, c + i * ldc + j, ldc, 1,
                 accumulate || p > 0 ? 1 : 0, workspace, 0, 1, nullptr);
      }
    }
  }
}

// A copy of matrix m (or of its transpose) with contiguous rows, their stride a whole number of
// vectors but not a multiple of 4 KiB: a tile's column of rows would otherwise map to one L1 set.
template <class T>
Tensor padded_rows(const Tensor& m, bool transposed, int64_t* ld) {
  const int64_t rows = transposed ? m.shape[1] : m.shape[0], cols = transposed ? m.shape[0] : m.shape[1];
  const int64_t rs = transposed ? m.strides[1] : m.strides[0], cs = transposed ? m.strides[0] : m.strides[1];
  *ld = (cols + kTileColumnUnit - 1) / kTileColumnUnit * kTileColumnUnit;
  if ((*ld * (int64_t)sizeof(T)) % 4096 == 0) *ld += kTileColumnUnit;
  const int64_t stride = *ld;
  Tensor out = empty({rows, stride}, m.dtype);
  const T* src = m.data<T>();
  T* dst = out.data<T>();
  constexpr int64_t kBlock = 32;  // square blocks: both sides stay in L1 whatever the strides
  const int64_t blocks = (rows + kBlock - 1) / kBlock;
  parallel_for(0, blocks, std::max<int64_t>(1, kElementwiseGrain / (kBlock * std::max<int64_t>(cols, 1))),
               [&](int64_t begin, int64_t end) {
                 for (int64_t ib = begin * kBlock; ib < std::min(rows, end * kBlock); ib += kBlock) {
                   const int64_t ie = std::min(rows, ib + kBlock);
                   for (int64_t jb = 0; jb < cols; jb += kBlock) {
                     const int64_t je = std::min(cols, jb + kBlock);
                     for (int64_t i = ib; i < ie; ++i)
                       for (int64_t j = jb; j < je; ++j) dst[i * stride + j] = src[i * rs + j * cs];
                   }
                 }
               });
  return out;
}

// Asks for `rows` rows of `width` values (row stride `stride`) to be brought into the L2 cache.
// Issued before a step's recurrent product for what the step's elementwise pass reads next from
// memory (the input projections, the saved gates): the pass would otherwise stall on each miss, its
// loads too far apart for the hardware prefetchers to run ahead.
template <class T>
void prefetch_rows(const T* p, int64_t rows, int64_t width, int64_t stride) {
  constexpr int64_t kLine = 64 / (int64_t)sizeof(T);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < width; j += kLine) __builtin_prefetch(p + r * stride + j, 0, 2);
}

void* align64(void* p) { return reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63)); }

// ---- threads ----------------------------------------------------------------------------------------

int rnn_threads(int64_t batch, double flops) {
  if (in_parallel_region()) return 1;
  const double by_rows = (double)std::max<int64_t>(1, batch / kMinRowsPerThread);
  return (int)std::max(1.0, std::min({(double)get_num_threads(), by_rows, flops / kFlopsPerThread}));
}

// Calls rows_fn(b0, b1, scratch) for disjoint blocks of the batch on n_threads threads, each with
// its own `scratch_bytes` of 64-byte aligned memory.
template <class RowsFn>
void for_row_blocks(int64_t batch, int n_threads, int64_t scratch_bytes, const RowsFn& rows_fn) {
  const int64_t per_thread = (scratch_bytes + 63) / 64 * 64, total = per_thread * n_threads;
  char* scratch = total > 0 ? static_cast<char*>(cpu_alloc(total)) : nullptr;
  const int64_t block = (batch + n_threads - 1) / n_threads;
  if (n_threads == 1) {
    rows_fn(0, batch, scratch);
  } else {
#pragma omp parallel num_threads(n_threads)
    {
      const int t = omp_get_thread_num();
      const int64_t b0 = std::min(batch, t * block), b1 = std::min(batch, b0 + block);
      if (b0 < b1) rows_fn(b0, b1, scratch + t * per_thread);
    }
  }
  if (scratch) cpu_free(scratch, total);
}

// ---- the layer's geometry -------------------------------------------------------------------------

struct Layout {
  int64_t steps, batch, hidden, gates, saved_gates, planes;
  int64_t slot() const { return batch * hidden; }                // one time slot of a plane
  int64_t plane() const { return (steps + 1) * slot(); }          // one plane of the states
  int64_t gate_width() const { return gates * hidden; }
  int64_t saved_width() const { return saved_gates * hidden; }
};

// Slots of step t: the state it starts from and the one it produces.
struct StepSlots {
  int64_t t, prev, out;
};
StepSlots step_slots(const RnnSpec& spec, const Layout& l, int64_t s, bool backward) {
  const bool descending = spec.reverse != backward;
  const int64_t t = descending ? l.steps - 1 - s : s;
  return spec.reverse ? StepSlots{t, t + 1, t} : StepSlots{t, t, t + 1};
}

template <class T>
void fill_gate_offsets(const RnnSpec& spec, int64_t hidden, T* step) {
  for (int q = 0; q < 4; ++q) step->gate_offset[q] = q < (int)spec.gate_order.size() ? spec.gate_order[q] * hidden : 0;
}

// ---- forward ----------------------------------------------------------------------------------------

template <class T>
struct ForwardArgs {
  const T* x_proj;
  int64_t x_step_stride, x_row_stride;
  const T* w_t;  // W_hh^T (H x G*H), row stride ld_w
  int64_t ld_w;
  const T* bias;
  T* states;
  T* saved;  // null: not kept (a scratch row block per step instead)
  const bool* mask;  // (T, B) or null
};

template <class T>
void forward_rows(const RnnSpec& spec, const Layout& l, const ForwardArgs<T>& a, const Tiles& tiles, int64_t b0,
                  int64_t b1, char* scratch) {
  const int64_t rows = b1 - b0, H = l.hidden, GH = l.gate_width();
  T* h_proj = reinterpret_cast<T*>(scratch);
  T* saved_scratch = h_proj + rows * GH;
  void* workspace = align64(saved_scratch + rows * l.saved_width());
  const bool lstm = spec.cell == kRnnCellLstm;
  auto kernel = kernel_set<T>().forward[spec.cell];
  RnnStepForward<T> step{};
  step.rows = rows;
  step.hidden = H;
  fill_gate_offsets(spec, H, &step);
  step.h_proj = h_proj;
  step.h_proj_stride = GH;
  step.x_proj_stride = a.x_row_stride;
  step.bias_hh = a.bias;
  step.saved_stride = l.saved_width();
  step.activation = spec.activation;
  step.recurrent_activation = spec.recurrent_activation;
  for (int64_t s = 0; s < l.steps; ++s) {
    const StepSlots at = step_slots(spec, l, s, false);
    step.h_prev = a.states + at.prev * l.slot() + b0 * H;
    step.h = a.states + at.out * l.slot() + b0 * H;
    if (lstm) {
      step.c_prev = step.h_prev + l.plane();
      step.c = step.h + l.plane();
    }
    step.x_proj = a.x_proj + at.t * a.x_step_stride + b0 * a.x_row_stride;
    step.saved = a.saved ? a.saved + (at.t * l.batch + b0) * l.saved_width() : saved_scratch;
    step.keep = a.mask ? a.mask + at.t * l.batch + b0 : nullptr;
    prefetch_rows(step.x_proj, rows, GH, a.x_row_stride);
    recurrent_product<T>(tiles, rows, GH, H, step.h_prev, H, a.w_t, a.ld_w, h_proj, GH, false, workspace);
    kernel(step);
  }
}

// ---- backward through time ----------------------------------------------------------------------

template <class T>
struct BackwardArgs {
  const T* grad;  // of the states, same layout
  const T* states;
  const T* saved;
  const T* w;  // W_hh (G*H x H), row stride ld_w
  int64_t ld_w;
  T* d_x_proj;
  T* d_h_proj;  // d_x_proj itself unless GRU
  T* d_h0;      // zeros on entry; the recurrent carries while the steps run
  T* d_c0;
  const bool* mask;
};

template <class T>
void backward_rows(const RnnSpec& spec, const Layout& l, const BackwardArgs<T>& a, const Tiles& tiles, int64_t b0,
                   int64_t b1, char* scratch) {
  const int64_t rows = b1 - b0, H = l.hidden, GH = l.gate_width();
  const bool lstm = spec.cell == kRnnCellLstm;
  auto kernel = kernel_set<T>().backward[spec.cell];
  RnnStepBackward<T> step{};
  step.rows = rows;
  step.hidden = H;
  fill_gate_offsets(spec, H, &step);
  step.saved_stride = l.saved_width();
  step.dh_carry = a.d_h0 + b0 * H;
  step.dc_carry = lstm ? a.d_c0 + b0 * H : nullptr;
  step.d_x_proj_stride = GH;
  step.d_h_proj_stride = GH;
  step.gate_width = GH;
  step.activation = spec.activation;
  step.recurrent_activation = spec.recurrent_activation;
  for (int64_t s = 0; s < l.steps; ++s) {
    const StepSlots at = step_slots(spec, l, s, true);
    step.h_prev = a.states + at.prev * l.slot() + b0 * H;
    step.h = a.states + at.out * l.slot() + b0 * H;
    step.grad_h = a.grad + at.out * l.slot() + b0 * H;
    if (lstm) {
      step.c_prev = step.h_prev + l.plane();
      step.c = step.h + l.plane();
      step.grad_c = step.grad_h + l.plane();
    }
    step.saved = a.saved ? a.saved + (at.t * l.batch + b0) * l.saved_width() : nullptr;
    step.d_x_proj = a.d_x_proj + (at.t * l.batch + b0) * GH;
    step.d_h_proj = a.d_h_proj + (at.t * l.batch + b0) * GH;
    step.keep = a.mask ? a.mask + at.t * l.batch + b0 : nullptr;
    kernel(step);
    if (s + 1 < l.steps) {  // what the next step's elementwise pass reads, while this product runs
      const StepSlots next = step_slots(spec, l, s + 1, true);
      const int64_t width = l.saved_width();
      if (a.saved) prefetch_rows(a.saved + (next.t * l.batch + b0) * width, rows, width, width);
      for (int64_t p = 0; p < l.planes; ++p) {
        prefetch_rows(a.grad + p * l.plane() + next.out * l.slot() + b0 * H, rows, H, H);
        prefetch_rows(a.states + p * l.plane() + next.prev * l.slot() + b0 * H, rows, H, H);
      }
      if (spec.cell == kRnnCellElman) prefetch_rows(a.states + next.out * l.slot() + b0 * H, rows, H, H);
    }
    // d h_prev = (the direct share: GRU's z dh, a skipped row's dh) + d_pre W_hh
    recurrent_product<T>(tiles, rows, H, GH, step.d_h_proj, GH, a.w, a.ld_w, step.dh_carry, H,
                         spec.cell == kRnnCellGru || a.mask != nullptr, scratch);
  }
}

// The mask as a contiguous bool (T, B) tensor.
std::optional<Tensor> checked_mask(const char* op, const std::optional<Tensor>& mask, int64_t steps, int64_t batch) {
  if (!mask) return std::nullopt;
  EMBER_CHECK(mask->dtype == DType::Bool, TypeError, op, ": mask must be a bool tensor, got ", dtype_name(mask->dtype));
  EMBER_CHECK(mask->device().is_cpu(), RuntimeError, op, ": mask is on ", mask->device().str(), "; expected cpu");
  EMBER_CHECK(mask->ndim() == 2 && mask->shape[0] == steps && mask->shape[1] == batch, ValueError, op,
              ": expected a mask of shape (", steps, ", ", batch, ") (steps, batch), got ", shape_str(mask->shape));
  return contiguous(*mask);
}

void check_state(const char* op, const char* name, const Tensor& s, const Tensor& x, int64_t batch, int64_t hidden) {
  EMBER_CHECK(s.dtype == x.dtype, TypeError, op, ": ", name, " is ", dtype_name(s.dtype), " but the input is ",
              dtype_name(x.dtype));
  EMBER_CHECK(s.device().is_cpu(), RuntimeError, op, ": ", name, " is on ", s.device().str(), "; expected cpu");
  EMBER_CHECK(s.ndim() == 2 && s.shape[0] == batch && s.shape[1] == hidden, ValueError, op, ": expected ", name,
              " of shape (", batch, ", ", hidden, ") (batch, hidden_size), got ", shape_str(s.shape));
}

}  // namespace

RnnSpec rnn_spec(const std::string& cell, const std::string& activation, const std::string& recurrent_activation,
                 const std::optional<std::vector<int64_t>>& gate_order, bool reverse, const char* op) {
  RnnSpec spec;
  spec.cell = -1;
  for (int c = 0; c < kRnnCellCount; ++c)
    if (cell == kCellNames[c]) spec.cell = c;
  EMBER_CHECK(spec.cell >= 0, ValueError, op, ": unknown cell '", cell, "'; expected 'rnn', 'lstm' or 'gru'");
  auto parse = [&](const std::string& name, const char* what) {
    for (int a = 0; a < kRnnActivationCount; ++a)
      if (name == kActivationNames[a]) return a;
    throw ValueError(str_cat(op, ": unknown ", what, " '", name,
                             "'; expected 'tanh', 'sigmoid', 'relu', 'hard_sigmoid' or 'linear'"));
  };
  spec.activation = parse(activation, "activation");
  spec.recurrent_activation = parse(recurrent_activation, "recurrent_activation");
  const int64_t gates = kGates[spec.cell];
  if (gate_order) {
    std::vector<int64_t> sorted = *gate_order;
    std::sort(sorted.begin(), sorted.end());
    bool permutation = (int64_t)sorted.size() == gates;
    for (int64_t q = 0; permutation && q < gates; ++q) permutation = sorted[q] == q;
    EMBER_CHECK(permutation, ValueError, op, ": gate_order must be a permutation of 0..", gates - 1, " for a ",
                cell, " cell (", gates, " gates), got ", shape_str(*gate_order));
    spec.gate_order = *gate_order;
  } else {
    for (int64_t q = 0; q < gates; ++q) spec.gate_order.push_back(q);
  }
  spec.reverse = reverse;
  return spec;
}

RnnForward rnn_forward(const RnnSpec& spec, const Tensor& x_proj_in, const Tensor& w_hh_in,
                       const std::optional<Tensor>& b_hh, const std::optional<Tensor>& h0,
                       const std::optional<Tensor>& c0, const std::optional<Tensor>& mask_in, bool keep_saved) {
  const char* op = "rnn_forward";
  const char* cell = kCellNames[spec.cell];
  const int64_t gates = kGates[spec.cell];
  EMBER_CHECK(is_floating(x_proj_in.dtype), TypeError, op, ": expected a float32 or float64 input, got ",
              dtype_name(x_proj_in.dtype));
  EMBER_CHECK(x_proj_in.device().is_cpu() && w_hh_in.device().is_cpu(), RuntimeError, op,
              ": expected cpu tensors, got the input on ", x_proj_in.device().str(), " and w_hh on ",
              w_hh_in.device().str());
  EMBER_CHECK(w_hh_in.ndim() == 2 && w_hh_in.shape[0] == gates * w_hh_in.shape[1], ValueError, op, ": a ", cell,
              " cell's w_hh must have shape (", gates, " * hidden_size, hidden_size), got ", shape_str(w_hh_in.shape));
  EMBER_CHECK(w_hh_in.dtype == x_proj_in.dtype, TypeError, op, ": w_hh is ", dtype_name(w_hh_in.dtype),
              " but the input is ", dtype_name(x_proj_in.dtype));
  const int64_t H = w_hh_in.shape[1], GH = gates * H;
  EMBER_CHECK(x_proj_in.ndim() == 3 && x_proj_in.shape[2] == GH, ValueError, op,
              ": expected input projections of shape (steps, batch, ", GH, ") for w_hh of shape ",
              shape_str(w_hh_in.shape), ", got ", shape_str(x_proj_in.shape));
  const Layout l{x_proj_in.shape[0], x_proj_in.shape[1], H, gates, kSavedGates[spec.cell], kStatePlanes[spec.cell]};
  if (b_hh) {
    EMBER_CHECK(b_hh->ndim() == 1 && b_hh->shape[0] == GH, ValueError, op, ": expected b_hh of shape (", GH,
                ",), got ", shape_str(b_hh->shape));
    EMBER_CHECK(b_hh->dtype == x_proj_in.dtype && b_hh->device().is_cpu(), TypeError, op, ": b_hh is ",
                dtype_name(b_hh->dtype), " on ", b_hh->device().str(), " but the input is ",
                dtype_name(x_proj_in.dtype), " on cpu");
  }
  if (h0) check_state(op, "h0", *h0, x_proj_in, l.batch, H);
  EMBER_CHECK(!c0 || spec.cell == kRnnCellLstm, ValueError, op, ": c0 is given but a ", cell,
              " cell has no cell state");
  if (c0) check_state(op, "c0", *c0, x_proj_in, l.batch, H);
  const std::optional<Tensor> mask = checked_mask(op, mask_in, l.steps, l.batch);

  const Tensor x_proj = x_proj_in.strides[2] == 1 ? x_proj_in : contiguous(x_proj_in);
  RnnForward result;
  result.states = empty({l.planes, l.steps + 1, l.batch, H}, x_proj.dtype);
  if (keep_saved && l.saved_gates > 0) result.saved = empty({l.steps, l.batch, l.saved_width()}, x_proj.dtype);
  const int64_t first = spec.reverse ? l.steps : 0;
  const Tensor& states = result.states;
  for (int64_t p = 0; p < l.planes; ++p) {
    const Tensor initial = select(select(states, 0, p), 0, first);
    const std::optional<Tensor>& given = p == 0 ? h0 : c0;
    if (given) copy_(initial, *given);
    else std::memset(initial.raw_data(), 0, (size_t)(l.slot() * itemsize(states.dtype)));
  }
  if (l.steps == 0 || l.batch == 0 || H == 0) return result;

  dispatch_float(x_proj.dtype, [&](auto tag) {
    using T = decltype(tag);
    ForwardArgs<T> a{};
    Tensor w_t = padded_rows<T>(w_hh_in, /*transposed=*/true, &a.ld_w);
    a.x_proj = x_proj.data<T>();
    a.x_step_stride = x_proj.strides[0];
    a.x_row_stride = x_proj.strides[1];
    a.w_t = w_t.data<T>();
    Tensor bias_keep = b_hh ? contiguous(*b_hh) : Tensor{};
    if (b_hh) a.bias = bias_keep.data<T>();
    a.states = states.data<T>();
    a.saved = result.saved ? result.saved->data<T>() : nullptr;
    a.mask = mask ? mask->data<bool>() : nullptr;
    const int n_threads = rnn_threads(l.batch, 2.0 * l.steps * l.batch * GH * H);
    const int64_t block = (l.batch + n_threads - 1) / n_threads;
    const Tiles tiles = product_tiles(block, GH, H);
    const int64_t scratch = (block * (GH + l.saved_width())) * (int64_t)sizeof(T) + 64 +
                            gemm_kernel<T>().workspace_bytes(tiles.rows, tiles.cols, tiles.depth);
    for_row_blocks(l.batch, n_threads, scratch, [&](int64_t b0, int64_t b1, char* mem) {
      forward_rows<T>(spec, l, a, tiles, b0, b1, mem);
    });
  });
  return result;
}

RnnGrads rnn_backward(const RnnSpec& spec, const Tensor& grad_states_in, const Tensor& states_in,
                      const std::optional<Tensor>& saved_in, const Tensor& w_hh_in,
                      const std::optional<Tensor>& mask_in, bool need_w_hh, bool need_b_hh) {
  const char* op = "rnn_backward";
  const int64_t gates = kGates[spec.cell];
  EMBER_CHECK(states_in.ndim() == 4 && states_in.shape[0] == kStatePlanes[spec.cell] && states_in.shape[1] >= 1,
              ValueError, op, ": expected states of shape (", kStatePlanes[spec.cell],
              ", steps + 1, batch, hidden) from rnn_forward, got ", shape_str(states_in.shape));
  EMBER_CHECK(is_floating(states_in.dtype) && states_in.device().is_cpu(), TypeError, op,
              ": expected float32 or float64 cpu states, got ", dtype_name(states_in.dtype), " on ",
              states_in.device().str());
  const Layout l{states_in.shape[1] - 1, states_in.shape[2], states_in.shape[3], gates, kSavedGates[spec.cell],
                 kStatePlanes[spec.cell]};
  const int64_t H = l.hidden, GH = l.gate_width();
  EMBER_CHECK(grad_states_in.shape == states_in.shape && grad_states_in.dtype == states_in.dtype, ValueError, op,
              ": the gradient (", dtype_name(grad_states_in.dtype), ", shape ", shape_str(grad_states_in.shape),
              ") must match the states (", dtype_name(states_in.dtype), ", shape ", shape_str(states_in.shape), ")");
  EMBER_CHECK(w_hh_in.ndim() == 2 && w_hh_in.shape[0] == GH && w_hh_in.shape[1] == H &&
                  w_hh_in.dtype == states_in.dtype,
              ValueError, op, ": expected ", dtype_name(states_in.dtype), " w_hh of shape (", GH, ", ", H, "), got ",
              dtype_name(w_hh_in.dtype), " ", shape_str(w_hh_in.shape));
  if (l.saved_gates > 0) {
    EMBER_CHECK(saved_in && saved_in->shape == Shape({l.steps, l.batch, l.saved_width()}) &&
                    saved_in->dtype == states_in.dtype,
                ValueError, op, ": expected the saved gates of rnn_forward, shape (", l.steps, ", ", l.batch, ", ",
                l.saved_width(), ")", saved_in ? ", got " + shape_str(saved_in->shape) : std::string(", got None"));
  }
  const std::optional<Tensor> mask = checked_mask(op, mask_in, l.steps, l.batch);
  const Tensor grad = contiguous(grad_states_in), states = contiguous(states_in);
  const std::optional<Tensor> saved = saved_in && l.saved_gates > 0 ? std::optional<Tensor>(contiguous(*saved_in))
                                                                    : std::nullopt;
  const DType dtype = states.dtype;
  RnnGrads g;
  g.x_proj = empty({l.steps, l.batch, GH}, dtype);
  g.h0 = full({l.batch, H}, 0.0, dtype);
  if (spec.cell == kRnnCellLstm) g.c0 = full({l.batch, H}, 0.0, dtype);
  const Tensor d_h_proj = spec.cell == kRnnCellGru ? empty({l.steps, l.batch, GH}, dtype) : g.x_proj;

  if (l.steps > 0 && l.batch > 0 && H > 0) {
    dispatch_float(dtype, [&](auto tag) {
      using T = decltype(tag);
      BackwardArgs<T> a{};
      // W_hh is read in place when its rows are contiguous and do not alias in L1 (measured: no
      // slower than reading a padded copy, which costs a pass over the weights)
      const bool in_place = w_hh_in.strides[1] == 1 && w_hh_in.strides[0] >= H &&
                            (w_hh_in.strides[0] * (int64_t)sizeof(T)) % 4096 != 0;
      a.ld_w = w_hh_in.strides[0];
      Tensor w = in_place ? w_hh_in : padded_rows<T>(w_hh_in, /*transposed=*/false, &a.ld_w);
      a.grad = grad.data<T>();
      a.states = states.data<T>();
      a.saved = saved ? saved->data<T>() : nullptr;
      a.w = w.data<T>();
      a.d_x_proj = g.x_proj.data<T>();
      a.d_h_proj = d_h_proj.data<T>();
      a.d_h0 = g.h0.data<T>();
      a.d_c0 = g.c0 ? g.c0->data<T>() : nullptr;
      a.mask = mask ? mask->data<bool>() : nullptr;
      const int n_threads = rnn_threads(l.batch, 2.0 * l.steps * l.batch * GH * H);
      const int64_t block = (l.batch + n_threads - 1) / n_threads;
      const Tiles tiles = product_tiles(block, H, GH);
      const int64_t scratch = gemm_kernel<T>().workspace_bytes(tiles.rows, tiles.cols, tiles.depth) + 64;
      for_row_blocks(l.batch, n_threads, scratch, [&](int64_t b0, int64_t b1, char* mem) {
        backward_rows<T>(spec, l, a, tiles, b0, b1, static_cast<char*>(align64(mem)));
      });
    });
  }
  // Over all steps at once: dW_hh = sum_t d_pre_t^T h_{t-1}, db_hh = sum_t d_pre_t.
  const Tensor d_pre = reshape(d_h_proj, {l.steps * l.batch, GH});
  if (need_w_hh) {
    const int64_t first_prev_slot = spec.reverse ? 1 : 0;
    const Tensor h_prev =
        as_strided(states, {l.steps * l.batch, H}, {H, 1}, states.offset + first_prev_slot * l.slot());
    g.w_hh = matmul(transpose(d_pre, 0, 1), h_prev);
  }
  if (need_b_hh) g.b_hh = cpu::sum(d_pre, std::vector<int64_t>{0}, false);
  return g;
}

}  // namespace ember
