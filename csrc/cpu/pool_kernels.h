// The contract between pool.cpp (checks, window tables, threading) and the per-ISA kernel units of
// 2-d pooling (pool_{generic,avx2,avx512}.cpp, all from pool_kernels.inc). Declarations and plain
// data only: the ISA units include this file.
//
// Layouts: NCHW, the (N, C, H, W) of PyTorch, and channels-last NHWC, (N, H, W, C) of Keras, both
// contiguous. Indices of max pooling are flat positions ih * W + iw inside one H x W plane, int64,
// in either layout (PyTorch's convention).
//
// A kernel processes the work items [begin, end) of one call and never throws (it runs inside
// OpenMP regions). Work items:
//   forward,  NCHW: output rows (plane, oh), plane = n * C + c, in [0, N * C * OH)
//   forward,  NHWC: output rows (n, oh), in [0, N * OH), all channels at once
//   backward, NCHW: planes, in [0, N * C)
//   backward, NHWC: (n, channel block) pairs, in [0, N * ceil(C / channel_block))
// A backward work item owns its part of grad_input alone (overlapping windows accumulate into
// it), so it zeroes that part first.
#pragma once
#include <stdint.h>

namespace ember {

// The windows along one spatial dim, computed once per call: output position o reads the input
// positions first[o], first[o] + step, ... below end[o], all inside the input (first[o] >= end[o]:
// an empty window); size[o] is the window's factor of an average's divisor (average pooling only).
struct PoolWindows {
  const int64_t* first;
  const int64_t* end;
  const int64_t* size;
  int64_t step;                 // the dilation; 1 for average pooling
  int64_t kernel, stride, pad;  // the sweep that made the windows (max pooling's NCHW kernel uses them)
  // [interior_lo, interior_hi): the output positions whose every tap lies inside the input
  int64_t interior_lo, interior_hi;
  // [tap_lo[k], tap_hi[k]): the output positions whose tap k lies inside the input (kernel entries)
  const int64_t* tap_lo;
  const int64_t* tap_hi;
};

struct PoolGeometry {
  int64_t batch, channels, in_h, in_w, out_h, out_w;
  PoolWindows rows, cols;    // along H and along W
  int64_t divisor_override;  // 0: an average divides by rows.size[oh] * cols.size[ow]
  int64_t channel_block;     // channels per NHWC backward work item
  // a window's extent, (kernel_h - 1) * dilation_h * W + (kernel_w - 1) * dilation_w, fits in int32:
  // float32 max pooling then keeps per-lane tap offsets in int32 lanes
  bool offsets_fit_int32;
};

template <class T>
using MaxPoolForwardKernel = void (*)(const PoolGeometry& g, const T* input, T* out, int64_t* indices,
                                      int64_t begin, int64_t end);
// grad_input from the forward's indices; returns false when an index outside [-1, H * W) was met
// (and skipped): -1 marks an empty window.
template <class T>
using MaxPoolBackwardKernel = bool (*)(const PoolGeometry& g, const T* grad_out, const int64_t* indices,
                                       T* grad_input, int64_t begin, int64_t end);
template <class T>
using AvgPoolForwardKernel = void (*)(const PoolGeometry& g, const T* input, T* out, int64_t begin, int64_t end);
template <class T>
using AvgPoolBackwardKernel = void (*)(const PoolGeometry& g, const T* grad_out, T* grad_input, int64_t begin,
                                       int64_t end);

// Each kernel twice, indexed by channels_last (0: NCHW, 1: NHWC).
template <class T>
struct PoolKernelSet {
  MaxPoolForwardKernel<T> max_forward[2];
  MaxPoolBackwardKernel<T> max_backward[2];
  AvgPoolForwardKernel<T> avg_forward[2];
  AvgPoolBackwardKernel<T> avg_backward[2];
  AvgPoolForwardKernel<T> global_avg_forward[2];  // output 1 x 1; work items those of a backward
};

struct PoolKernels {
  PoolKernelSet<float> f32;
  PoolKernelSet<double> f64;
};

namespace generic { void fill_pool_kernels(PoolKernels* table); }
namespace avx2 { void fill_pool_kernels(PoolKernels* table); }
namespace avx512 { void fill_pool_kernels(PoolKernels* table); }

}  // namespace ember
