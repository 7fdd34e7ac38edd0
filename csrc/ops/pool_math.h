// The index arithmetic of 2-d pooling along one spatial dim, and the max-pooling comparison, each
// written once: the CPU kernels of every ISA (cpu/pool_kernels.inc), the shape checks of
// cpu/pool.cpp and a CUDA twin call these. The rules are PyTorch's, so that output sizes, windows,
// divisors and the chosen indices agree with torch.nn.functional.
//
// Same rules as scalar_math.h: static inline functions of C headers only (per-ISA units include
// this file).
#pragma once
#include "ops/scalar_math.h"

namespace ember {

// Floor and ceiling of a / b for b > 0 and any sign of a (C++ division truncates toward zero).
EMBER_SCALAR int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
EMBER_SCALAR int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Windows of `kernel` taps, `dilation` apart, every `stride` positions over an input of `in_size`
// padded by `pad` on both sides. With ceil_mode a partial window at the end counts, but the last
// window must start inside the input or its left padding (otherwise it would read padding only).
EMBER_SCALAR int64_t pool_output_size(int64_t in_size, int64_t kernel, int64_t stride, int64_t pad,
                                      int64_t dilation, bool ceil_mode) {
  const int64_t span = in_size + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = floor_div(span, stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in_size + pad) --out;
  return out;
}

// Output position o of max pooling reads *first, *first + dilation, ... below *end: the taps of
// the window that fall inside the input (*first >= *end: none do).
EMBER_SCALAR void max_pool_window(int64_t o, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                                  int64_t in_size, int64_t* first, int64_t* end) {
  const int64_t start = o * stride - pad, stop = start + (kernel - 1) * dilation + 1;
  *first = start < 0 ? start + ceil_div(-start, dilation) * dilation : start;
  *end = stop < in_size ? stop : in_size;
}

// Output position o of average pooling reads [*first, *end) (clipped to the input) and divides by
// *divisor: the window's size clipped to the padded input when count_include_pad (a partial window
// of ceil_mode counts only what lies inside the padding), else the number of input elements read.
EMBER_SCALAR void avg_pool_window(int64_t o, int64_t kernel, int64_t stride, int64_t pad, int64_t in_size,
                                  bool count_include_pad, int64_t* first, int64_t* end, int64_t* divisor) {
  const int64_t start = o * stride - pad;
  const int64_t stop = start + kernel < in_size + pad ? start + kernel : in_size + pad;
  *first = start > 0 ? start : 0;
  *end = stop < in_size ? stop : in_size;
  *divisor = count_include_pad ? stop - start : *end - *first;
}

// Output position o of adaptive pooling from in_size to out_size reads [start, end):
// start = floor(o * in / out), end = ceil((o + 1) * in / out), and divides by the window's size.
EMBER_SCALAR void adaptive_pool_window(int64_t o, int64_t out_size, int64_t in_size, int64_t* first,
                                       int64_t* end, int64_t* divisor) {
  *first = (o / out_size) * in_size + ((o % out_size) * in_size) / out_size;  // no product overflows
  *end = 1 + ((o + 1) * in_size - 1) / out_size;
  *divisor = *end - *first;
}

// Max pooling visits a window's elements in row-major order and takes an element when it is
// larger than the running maximum or NaN: the first of equal maxima wins, and a NaN wins over every
// number (the last NaN over earlier ones), as in PyTorch.
template <class T>
EMBER_SCALAR bool max_pool_takes(T value, T running_max) {
  return value > running_max || value != value;
}

// The output positions [*lo, *hi) whose tap at offset `tap_offset` (= tap * dilation - pad) falls
// inside the input: 0 <= o * stride + tap_offset < in_size.
EMBER_SCALAR void pool_tap_range(int64_t tap_offset, int64_t stride, int64_t in_size, int64_t out_size,
                                 int64_t* lo, int64_t* hi) {
  int64_t first = ceil_div(-tap_offset, stride), last = floor_div(in_size - 1 - tap_offset, stride) + 1;
  *lo = first > 0 ? first : 0;
  *hi = last < out_size ? last : out_size;
  if (*hi < *lo) *hi = *lo;
}

}  // namespace ember
