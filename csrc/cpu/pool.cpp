// 2-d pooling: argument checks, output sizes, window tables and threading around the per-ISA kernels
// of pool_kernels.inc (see pool.h for the shapes, pool_kernels.h for the work items).
//
// Each call checks its arguments once, makes the input contiguous in its own layout (a no-op in the
// usual call), computes the windows along H and along W once (a few hundred integers: the kernels
// then never clip a window or test for padding), and splits the work items over threads.
// Global average pooling (adaptive output 1 x 1) has kernels of its own: one pass over each plane
// (NCHW) or over each image's rows of channels (NHWC), and a fill backward.
#include "cpu/pool.h"

#include <algorithm>
#include <atomic>
#include <type_traits>
#include <vector>

#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/pool_kernels.h"
#include "ops/pool_math.h"

namespace ember {
namespace cpu {
namespace {

const PoolKernels& pool_kernels() {
  static const PoolKernels table = [] {
    PoolKernels t{};
    switch (cpu_capability()) {
      case CpuCapability::AVX512: avx512::fill_pool_kernels(&t); break;
      case CpuCapability::AVX2: avx2::fill_pool_kernels(&t); break;
      default: generic::fill_pool_kernels(&t); break;
    }
    return t;
  }();
  return table;
}

template <class T>
const PoolKernelSet<T>& kernels() {
  if constexpr (std::is_same<T, float>::value) return pool_kernels().f32;
  else return pool_kernels().f64;
}

// ---- shapes and arguments ------------------------------------------------------------------------

// A 3-d or 4-d shape read in its layout; a 3-d shape is one unbatched image.
struct Image {
  int64_t n, c, h, w;
  bool unbatched;
};

Image image_of(const Shape& shape, bool channels_last, const std::string& name, const char* what) {
  EMBER_CHECK(shape.size() == 3 || shape.size() == 4, ValueError, name, ": expected a 3-d ",
              channels_last ? "(H, W, C)" : "(C, H, W)", " or 4-d ", channels_last ? "(N, H, W, C)" : "(N, C, H, W)",
              " ", what, ", got shape ", shape_str(shape));
  const bool unbatched = shape.size() == 3;
  const int64_t lead = unbatched ? 0 : 1;
  Image im{unbatched ? 1 : shape[0], 0, 0, 0, unbatched};
  if (channels_last) {
    im.h = shape[lead], im.w = shape[lead + 1], im.c = shape[lead + 2];
  } else {
    im.c = shape[lead], im.h = shape[lead + 1], im.w = shape[lead + 2];
  }
  EMBER_CHECK(im.h > 0 && im.w > 0, ValueError, name, ": the ", what, " of shape ", shape_str(shape),
              " has an empty spatial dim (H = ", im.h, ", W = ", im.w, "); pooling needs H and W of at least 1");
  return im;
}

Shape image_shape(const Image& im, int64_t h, int64_t w, bool channels_last) {
  Shape s = channels_last ? Shape{im.n, h, w, im.c} : Shape{im.n, im.c, h, w};
  if (im.unbatched) s.erase(s.begin());
  return s;
}

void check_tensor(const Tensor& x, const std::string& name, const char* what) {
  EMBER_CHECK(x.dtype == DType::Float32 || x.dtype == DType::Float64, TypeError, name, ": expected a float32 or ",
              "float64 ", what, ", got ", dtype_name(x.dtype));
  EMBER_CHECK(x.device().is_cpu(), RuntimeError, name, ": the ", what, " is on ", x.device().str(),
              "; pooling runs on the CPU only so far: move it with .cpu()");
}

std::string pair_str(Pair p) { return str_cat("(", p[0], ", ", p[1], ")"); }

// Kernel, stride, padding and dilation as PyTorch accepts them: positive, padding non-negative and
// at most half the kernel (a wider padding would make windows of padding only).
void check_window(const std::string& name, Pair kernel, Pair stride, Pair padding, Pair dilation) {
  EMBER_CHECK(kernel[0] > 0 && kernel[1] > 0, ValueError, name, ": kernel_size must be positive, got ",
              pair_str(kernel));
  EMBER_CHECK(stride[0] > 0 && stride[1] > 0, ValueError, name, ": stride must be positive, got ", pair_str(stride));
  EMBER_CHECK(dilation[0] > 0 && dilation[1] > 0, ValueError, name, ": dilation must be positive, got ",
              pair_str(dilation));
  EMBER_CHECK(padding[0] >= 0 && padding[1] >= 0, ValueError, name, ": padding must be non-negative, got ",
              pair_str(padding));
  EMBER_CHECK(padding[0] <= kernel[0] / 2 && padding[1] <= kernel[1] / 2, ValueError, name, ": padding ",
              pair_str(padding), " must be at most half of kernel_size ", pair_str(kernel));
}

// (OH, OW) of a window sweep; ValueError when the (padded) input is smaller than one window.
Pair pooled_size(const std::string& name, const Image& im, Pair kernel, Pair stride, Pair padding, Pair dilation,
                 bool ceil_mode) {
  const Pair out{pool_output_size(im.h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode),
                 pool_output_size(im.w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)};
  const bool dilated = dilation[0] != 1 || dilation[1] != 1;
  EMBER_CHECK(out[0] >= 1 && out[1] >= 1, ValueError, name, ": the input's ", im.h, "x", im.w,
              " spatial size (padding ", pair_str(padding), ") is smaller than the window of kernel_size ",
              pair_str(kernel), dilated ? str_cat(" and dilation ", pair_str(dilation)) : std::string(),
              ": the output would be ", out[0], "x", out[1], "; use a smaller kernel or a larger input");
  return out;
}

// ---- window tables -------------------------------------------------------------------------------

struct Windows {
  std::vector<int64_t> first, end, size, tap_lo, tap_hi;
  int64_t step = 1, kernel = 0, stride = 0, pad = 0, in_size = 0;

  explicit Windows(int64_t out) : first(out), end(out), size(out) {}

  // The output positions each tap falls inside the input for (a sweep of kernel, stride, pad).
  void set_taps() {
    tap_lo.resize(kernel), tap_hi.resize(kernel);
    for (int64_t k = 0; k < kernel; ++k)
      pool_tap_range(k * step - pad, stride, in_size, (int64_t)first.size(), &tap_lo[k], &tap_hi[k]);
  }

  PoolWindows view() const {
    PoolWindows v{first.data(), end.data(), size.data(), step, kernel, stride, pad, 0, 0, tap_lo.data(), tap_hi.data()};
    if (kernel > 0) {  // the positions where both the first and the last tap fall inside the input
      v.interior_lo = tap_lo.front();
      v.interior_hi = std::max(tap_lo.front(), tap_hi.back());
    }
    return v;
  }
};

Windows max_windows(int64_t out, int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  Windows w(out);
  w.step = dilation, w.kernel = kernel, w.stride = stride, w.pad = pad, w.in_size = in;
  for (int64_t o = 0; o < out; ++o) max_pool_window(o, kernel, stride, pad, dilation, in, &w.first[o], &w.end[o]);
  w.set_taps();
  return w;
}

Windows avg_windows(int64_t out, int64_t in, int64_t kernel, int64_t stride, int64_t pad, bool count_include_pad) {
  Windows w(out);
  w.kernel = kernel, w.stride = stride, w.pad = pad, w.in_size = in;
  for (int64_t o = 0; o < out; ++o)
    avg_pool_window(o, kernel, stride, pad, in, count_include_pad, &w.first[o], &w.end[o], &w.size[o]);
  w.set_taps();
  return w;
}

Windows adaptive_windows(int64_t out, int64_t in) {
  Windows w(out);
  for (int64_t o = 0; o < out; ++o) adaptive_pool_window(o, out, in, &w.first[o], &w.end[o], &w.size[o]);
  return w;
}

// Channels per NHWC backward work item: all of them when the batch alone keeps every thread busy,
// else blocks of whole cache lines, enough for the threads.
int64_t channel_block(const Image& im) {
  const int64_t per_image = (get_num_threads() + im.n - 1) / std::max<int64_t>(im.n, 1);
  int64_t block = (im.c + per_image - 1) / per_image;
  block = (block + 15) / 16 * 16;
  return std::max<int64_t>(1, std::min(block, im.c));
}

PoolGeometry geometry(const Image& im, int64_t out_h, int64_t out_w, const Windows* rows, const Windows* cols,
                      int64_t divisor_override) {
  PoolGeometry g{};
  g.batch = im.n, g.channels = im.c, g.in_h = im.h, g.in_w = im.w, g.out_h = out_h, g.out_w = out_w;
  if (rows) g.rows = rows->view();
  if (cols) g.cols = cols->view();
  g.divisor_override = divisor_override;
  g.channel_block = channel_block(im);
  if (rows && cols) {
    const int64_t extent = (rows->kernel - 1) * rows->step * im.w + (cols->kernel - 1) * cols->step;
    g.offsets_fit_int32 = extent < (int64_t(1) << 31);
  }
  return g;
}

// The work items of a forward (output rows) and a backward (planes or channel blocks), and a grain
// from the elements one item touches, so that small problems stay on one thread.
int64_t forward_items(const PoolGeometry& g, bool channels_last) {
  return channels_last ? g.batch * g.out_h : g.batch * g.channels * g.out_h;
}

int64_t backward_items(const PoolGeometry& g, bool channels_last) {
  if (!channels_last) return g.batch * g.channels;
  return g.batch * ((g.channels + g.channel_block - 1) / g.channel_block);
}

int64_t grain_for(int64_t elements_per_item) {
  return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, elements_per_item));
}

// ---- shared drivers ------------------------------------------------------------------------------

Tensor run_avg_forward(const Tensor& input, const Image& im, const PoolGeometry& g, bool channels_last) {
  const Tensor x = contiguous(input);
  Tensor out = empty(image_shape(im, g.out_h, g.out_w, channels_last), x.dtype);
  const int64_t row_elements = (im.h * im.w + g.out_h - 1) / g.out_h * (channels_last ? im.c : 1);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto kernel = kernels<T>().avg_forward[channels_last];
    parallel_for(0, forward_items(g, channels_last), grain_for(row_elements),
                 [&](int64_t b, int64_t e) { kernel(g, x.data<T>(), out.data<T>(), b, e); });
  });
  return out;
}

Tensor run_avg_backward(const Tensor& grad, const Shape& input_shape, const PoolGeometry& g, bool channels_last) {
  const Tensor go = contiguous(grad);
  Tensor gi = empty(input_shape, go.dtype);
  const int64_t item_elements = g.in_h * g.in_w * (channels_last ? g.channel_block : 1);
  dispatch_float(go.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto kernel = kernels<T>().avg_backward[channels_last];
    parallel_for(0, backward_items(g, channels_last), grain_for(item_elements),
                 [&](int64_t b, int64_t e) { kernel(g, go.data<T>(), gi.data<T>(), b, e); });
  });
  return gi;
}

// The gradient's image, checked against the forward input's: same batch and channels, and the
// output's spatial size when known (out_size).
Image check_grad(const Tensor& grad, const Shape& input_shape, bool channels_last, const char* op,
                 const Pair* out_size) {
  check_tensor(grad, op, "grad");
  const Image im = image_of(input_shape, channels_last, op, "input_shape");
  EMBER_CHECK(grad.ndim() == (int64_t)input_shape.size(), ValueError, op, ": grad of shape ", shape_str(grad.shape),
              " does not match the input of shape ", shape_str(input_shape));
  const Image gi = image_of(grad.shape, channels_last, op, "grad");
  const bool fits = gi.n == im.n && gi.c == im.c && (!out_size || (gi.h == (*out_size)[0] && gi.w == (*out_size)[1]));
  EMBER_CHECK(fits, ValueError, op, ": grad of shape ", shape_str(grad.shape), " does not match the input of shape ",
              shape_str(input_shape), ": ",
              out_size ? str_cat("expected the output's shape ",
                                 shape_str(image_shape(im, (*out_size)[0], (*out_size)[1], channels_last)))
                       : std::string("the batch and channel sizes must agree"));
  return im;
}

}  // namespace

// ---- max pooling ---------------------------------------------------------------------------------

std::pair<Tensor, Tensor> max_pool2d(const Tensor& input, Pair kernel, Pair stride, Pair padding, Pair dilation,
                                     bool ceil_mode, bool channels_last, const std::string& name) {
  check_tensor(input, name, "input");
  const Image im = image_of(input.shape, channels_last, name, "input");
  check_window(name, kernel, stride, padding, dilation);
  const Pair out_size = pooled_size(name, im, kernel, stride, padding, dilation, ceil_mode);
  const Windows rows = max_windows(out_size[0], im.h, kernel[0], stride[0], padding[0], dilation[0]);
  const Windows cols = max_windows(out_size[1], im.w, kernel[1], stride[1], padding[1], dilation[1]);
  const PoolGeometry g = geometry(im, out_size[0], out_size[1], &rows, &cols, 0);

  const Tensor x = contiguous(input);
  const Shape shape = image_shape(im, out_size[0], out_size[1], channels_last);
  Tensor out = empty(shape, x.dtype), indices = empty(shape, DType::Int64);
  const int64_t row_elements = out_size[1] * kernel[0] * kernel[1] * (channels_last ? im.c : 1);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto k = kernels<T>().max_forward[channels_last];
    parallel_for(0, forward_items(g, channels_last), grain_for(row_elements), [&](int64_t b, int64_t e) {
      k(g, x.data<T>(), out.data<T>(), indices.data<int64_t>(), b, e);
    });
  });
  return {out, indices};
}

Tensor max_pool2d_backward(const Tensor& grad, const Tensor& indices, const Shape& input_shape, bool channels_last) {
  const char* op = "max_pool2d_backward";
  EMBER_CHECK(indices.dtype == DType::Int64 && indices.device().is_cpu(), TypeError, op,
              ": indices must be an int64 CPU tensor (the second result of max_pool2d), got ",
              dtype_name(indices.dtype), " on ", indices.device().str());
  EMBER_CHECK(grad.shape == indices.shape, ValueError, op, ": grad of shape ", shape_str(grad.shape),
              " and indices of shape ", shape_str(indices.shape), " must have one shape (the output's)");
  const Image im = check_grad(grad, input_shape, channels_last, op, nullptr);
  const Image out = image_of(grad.shape, channels_last, op, "grad");
  const PoolGeometry g = geometry(im, out.h, out.w, nullptr, nullptr, 0);

  const Tensor go = contiguous(grad), idx = contiguous(indices);
  Tensor gi = empty(input_shape, go.dtype);
  std::atomic<bool> valid{true};
  const int64_t item_elements = im.h * im.w * (channels_last ? g.channel_block : 1);
  dispatch_float(go.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto k = kernels<T>().max_backward[channels_last];
    parallel_for(0, backward_items(g, channels_last), grain_for(item_elements), [&](int64_t b, int64_t e) {
      if (!k(g, go.data<T>(), idx.data<int64_t>(), gi.data<T>(), b, e)) valid = false;
    });
  });
  EMBER_CHECK(valid, IndexError, op, ": an index lies outside the ", im.h, "x", im.w,
              " input plane; pass the indices max_pool2d returned for an input of shape ", shape_str(input_shape));
  return gi;
}

// ---- average pooling -----------------------------------------------------------------------------

namespace {

int64_t checked_divisor(const std::string& name, std::optional<int64_t> divisor_override) {
  EMBER_CHECK(!divisor_override || *divisor_override != 0, ValueError, name,
              ": divisor_override must be non-zero (None for the window's size)");
  return divisor_override.value_or(0);
}

}  // namespace

Tensor avg_pool2d(const Tensor& input, Pair kernel, Pair stride, Pair padding, bool ceil_mode, bool count_include_pad,
                  std::optional<int64_t> divisor_override, bool channels_last, const std::string& name) {
  check_tensor(input, name, "input");
  const Image im = image_of(input.shape, channels_last, name, "input");
  check_window(name, kernel, stride, padding, {1, 1});
  const int64_t divisor = checked_divisor(name, divisor_override);
  const Pair out_size = pooled_size(name, im, kernel, stride, padding, {1, 1}, ceil_mode);
  const Windows rows = avg_windows(out_size[0], im.h, kernel[0], stride[0], padding[0], count_include_pad);
  const Windows cols = avg_windows(out_size[1], im.w, kernel[1], stride[1], padding[1], count_include_pad);
  return run_avg_forward(input, im, geometry(im, out_size[0], out_size[1], &rows, &cols, divisor), channels_last);
}

Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, Pair kernel, Pair stride, Pair padding,
                           bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override,
                           bool channels_last) {
  const char* op = "avg_pool2d_backward";
  const Image in = image_of(input_shape, channels_last, op, "input_shape");
  check_window(op, kernel, stride, padding, {1, 1});
  const int64_t divisor = checked_divisor(op, divisor_override);
  const Pair out_size = pooled_size(op, in, kernel, stride, padding, {1, 1}, ceil_mode);
  const Image im = check_grad(grad, input_shape, channels_last, op, &out_size);
  const Windows rows = avg_windows(out_size[0], im.h, kernel[0], stride[0], padding[0], count_include_pad);
  const Windows cols = avg_windows(out_size[1], im.w, kernel[1], stride[1], padding[1], count_include_pad);
  return run_avg_backward(grad, input_shape, geometry(im, out_size[0], out_size[1], &rows, &cols, divisor),
                          channels_last);
}

// ---- adaptive average pooling --------------------------------------------------------------------

namespace {

// Every input element receives grad / (H * W) of its plane's (or its image's channel's) one output.
template <class T>
void global_avg_backward(const Image& im, const T* grad, T* grad_input, bool channels_last) {
  const int64_t plane = im.h * im.w;
  const T count = (T)plane;
  if (!channels_last) {
    parallel_for(0, im.n * im.c, grain_for(plane), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        const T share = grad[p] / count;
        std::fill(grad_input + p * plane, grad_input + (p + 1) * plane, share);
      }
    });
    return;
  }
  // rows (n, ih) of W x C elements, each a copy of the image's shares
  parallel_for(0, im.n * im.h, grain_for(im.w * im.c), [&](int64_t b, int64_t e) {
    std::vector<T> share(im.c);
    for (int64_t r = b; r < e; ++r) {
      const T* g = grad + (r / im.h) * im.c;
      for (int64_t c = 0; c < im.c; ++c) share[c] = g[c] / count;
      T* dst = grad_input + r * im.w * im.c;
      for (int64_t iw = 0; iw < im.w; ++iw) std::copy(share.begin(), share.end(), dst + iw * im.c);
    }
  });
}

}  // namespace

Tensor adaptive_avg_pool2d(const Tensor& input, Pair output_size, bool channels_last, const std::string& name) {
  check_tensor(input, name, "input");
  const Image im = image_of(input.shape, channels_last, name, "input");
  EMBER_CHECK(output_size[0] > 0 && output_size[1] > 0, ValueError, name, ": output_size must be positive, got ",
              pair_str(output_size));
  if (output_size[0] == 1 && output_size[1] == 1) {
    const Tensor x = contiguous(input);
    Tensor out = empty(image_shape(im, 1, 1, channels_last), x.dtype);
    const PoolGeometry g = geometry(im, 1, 1, nullptr, nullptr, 0);
    const int64_t item_elements = im.h * im.w * (channels_last ? g.channel_block : 1);
    dispatch_float(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      const auto kernel = kernels<T>().global_avg_forward[channels_last];
      parallel_for(0, backward_items(g, channels_last), grain_for(item_elements),
                   [&](int64_t b, int64_t e) { kernel(g, x.data<T>(), out.data<T>(), b, e); });
    });
    return out;
  }
  const Windows rows = adaptive_windows(output_size[0], im.h), cols = adaptive_windows(output_size[1], im.w);
  return run_avg_forward(input, im, geometry(im, output_size[0], output_size[1], &rows, &cols, 0), channels_last);
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, bool channels_last) {
  const char* op = "adaptive_avg_pool2d_backward";
  const Image im = check_grad(grad, input_shape, channels_last, op, nullptr);
  const Image out = image_of(grad.shape, channels_last, op, "grad");
  if (out.h == 1 && out.w == 1) {
    const Tensor go = contiguous(grad);
    Tensor gi = empty(input_shape, go.dtype);
    dispatch_float(go.dtype, [&](auto tag) {
      using T = decltype(tag);
      global_avg_backward<T>(im, go.data<T>(), gi.data<T>(), channels_last);
    });
    return gi;
  }
  const Windows rows = adaptive_windows(out.h, im.h), cols = adaptive_windows(out.w, im.w);
  return run_avg_backward(grad, input_shape, geometry(im, out.h, out.w, &rows, &cols, 0), channels_last);
}

}  // namespace cpu
}  // namespace ember
