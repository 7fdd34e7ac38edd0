// The drivers of the direct convolution kernels (conv_direct_kernels.inc, channels last, and
// conv_direct_nchw_kernels.inc, channels first): weight packing, padding, bands of output rows,
// layout changes, threads.
//
// The kernels need every tap of every output pixel inside their input, so a padded convolution
// first copies the input rows one band of output rows needs into a zero-bordered buffer (one pass
// over the input, which the kernel then reads from cache); unpadded channels-last ones read the
// input in place. Bands are sized so that buffer stays in L2.
//
// Channels first runs the channels-first kernel (stride 1, few channels) or, when transposing pays
// (many channels, or a stride), the channels-last kernel on transposed bands of rows.
//
// The same kernels compute the input gradient of a stride-1 convolution: dx = conv(dY, W') with
// W'[ky][kx][co][c] = W[kh-1-ky][kw-1-kx][c][co] and padding d * (k - 1) - p on each side, so
// each element of dx is summed once, in registers, with no column buffer and no scatter-add. The
// weight gradient has a kernel of its own (channels last; channels first transposes bands).
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/allocator.h"
#include "core/cpu_features.h"
#include "cpu/conv_direct.h"
#include "cpu/conv_kernels.h"
#include "cpu/conv_threads.h"

namespace ember {
namespace cpu {
namespace {

// Bytes of one thread's padded band of input rows.
constexpr int64_t kBandBytes = 512 << 10;
// Bytes of output gradient rows per band of the weight gradient: every tile of dW streams the
// band's gradient and input rows, which should come from L2.
constexpr int64_t kWeightGradBandBytes = 64 << 10;
// Fewest input channels per group for the direct weight gradient: its tiles are MR channels tall.
constexpr int64_t kWeightGradMinChannels = 8;

template <class T>
struct DirectKernel {
  using Pack = void (*)(int64_t n_taps, int64_t channels, int64_t out_channels, const T* w,
                        const int64_t* tap_offsets, int64_t rs, int64_t cs, T* packed);
  using PackedSize = int64_t (*)(int64_t rows, int64_t out_channels);
  void (*run)(const ConvDirectArgs* args);
  void (*weight_grad)(const ConvDirectWeightGradArgs* args);
  Pack pack;
  PackedSize packed_size;
  void (*run_nchw)(const ConvDirectNchwArgs* args);
  Pack pack_nchw;
  PackedSize packed_size_nchw;
  void (*transpose)(const T* src, int64_t rows, int64_t cols, int64_t src_stride, T* dst,
                    int64_t dst_stride);
};

template <class T>
DirectKernel<T> select_direct();
template <>
DirectKernel<float> select_direct<float>() {
  if (cpu_capability() == CpuCapability::AVX512)
    return {conv_direct_f32_avx512,      conv_direct_weight_grad_f32_avx512,
            conv_direct_pack_f32_avx512, conv_direct_packed_size_f32_avx512,
            conv_direct_nchw_f32_avx512, conv_direct_nchw_pack_f32_avx512,
            conv_direct_nchw_packed_size_f32_avx512,
          conv_transpose_f32_avx512};
  return {conv_direct_f32_avx2,      conv_direct_weight_grad_f32_avx2,
          conv_direct_pack_f32_avx2, conv_direct_packed_size_f32_avx2,
          conv_direct_nchw_f32_avx2, conv_direct_nchw_pack_f32_avx2,
          conv_direct_nchw_packed_size_f32_avx2,
          conv_transpose_f32_avx2};
}
template <>
DirectKernel<double> select_direct<double>() {
  if (cpu_capability() == CpuCapability::AVX512)
    return {conv_direct_f64_avx512,      conv_direct_weight_grad_f64_avx512,
            conv_direct_pack_f64_avx512, conv_direct_packed_size_f64_avx512,
            conv_direct_nchw_f64_avx512, conv_direct_nchw_pack_f64_avx512,
            conv_direct_nchw_packed_size_f64_avx512,
          conv_transpose_f64_avx512};
  return {conv_direct_f64_avx2,      conv_direct_weight_grad_f64_avx2,
          conv_direct_pack_f64_avx2, conv_direct_packed_size_f64_avx2,
          conv_direct_nchw_f64_avx2, conv_direct_nchw_pack_f64_avx2,
          conv_direct_nchw_packed_size_f64_avx2,
          conv_transpose_f64_avx2};
}
template <class T>
const DirectKernel<T>& direct_kernel() {
  static const DirectKernel<T> kernel = select_direct<T>();
  return kernel;
}

// All groups' weights in a kernel's panels, one block per group, 64-byte aligned (the kernels
// load them with aligned loads), for the channels-last kernel or the channels-first one
// (`kernel_last`), from a weight stored in g's layout: (taps, C_in / g, C_out) channels last,
// (C_out, C_in / g, taps) channels first. The input gradient reads the weight flipped over the
// taps and with the channel roles swapped (see the header comment); then g is the transposed
// geometry, whose input channels are the forward's output channels.
template <class T>
class PackedWeights {
 public:
  PackedWeights(const ConvGeometry& g, const T* w, bool input_grad, bool kernel_last) {
    const DirectKernel<T>& kernel = direct_kernel<T>();
    const int64_t taps = g.taps(), cpg = g.in_per_group(), opg = g.out_per_group();
    // Where the kernel's weight (tap t, input channel c, output channel co) of group grp is stored:
    // w[base * grp + offsets[t] + c * in_stride + co * out_stride].
    int64_t base, in_stride, out_stride, tap_stride;
    if (g.channels_last && !input_grad) {
      base = opg, in_stride = g.out_channels, out_stride = 1, tap_stride = cpg * g.out_channels;
    } else if (g.channels_last) {  // stored (taps, opg, g.in_channels)
      base = cpg, in_stride = 1, out_stride = g.in_channels, tap_stride = opg * g.in_channels;
    } else if (!input_grad) {
      base = opg * cpg * taps, in_stride = taps, out_stride = cpg * taps, tap_stride = 1;
    } else {  // stored (g.in_channels, opg, taps)
      base = cpg * opg * taps, in_stride = opg * taps, out_stride = taps, tap_stride = 1;
    }
    std::vector<int64_t> offsets(taps);
    for (int64_t t = 0; t < taps; ++t) offsets[t] = (input_grad ? taps - 1 - t : t) * tap_stride;
    const auto packed_size = kernel_last ? kernel.packed_size : kernel.packed_size_nchw;
    group_stride_ = (packed_size(taps * cpg, opg) + 15) / 16 * 16;
    bytes_ = std::max<int64_t>(group_stride_ * g.groups * (int64_t)sizeof(T), 64);
    data_ = static_cast<T*>(cpu_alloc(bytes_));
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      T* dst = data_ + grp * group_stride_;
      if (kernel_last) {  // packs W[t][c][co] = src[offsets[t] + c * rs + co * cs]
        kernel.pack(taps, cpg, opg, w + grp * base, offsets.data(), in_stride, out_stride, dst);
      } else {  // packs W[co][c][t] = src[co * rs + c * cs + offsets[t]]
        kernel.pack_nchw(taps, cpg, opg, w + grp * base, offsets.data(), out_stride, in_stride, dst);
      }
    }
  }
  ~PackedWeights() { cpu_free(data_, bytes_); }
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;
  const T* group(int64_t grp) const { return data_ + grp * group_stride_; }

 private:
  T* data_ = nullptr;
  int64_t group_stride_ = 0, bytes_ = 0;
};

bool padded(const ConvGeometry& g) {
  return g.pad_top || g.pad_bottom || g.pad_left || g.pad_right;
}

// Input rows of a band of `rows` output rows, in padded coordinates.
int64_t band_input_rows(const ConvGeometry& g, int64_t rows) {
  return (rows - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
}

// Output rows per band: as many as keep the padded input rows within kBandBytes, at least one.
template <class T>
int64_t band_rows(const ConvGeometry& g) {
  const int64_t row_bytes = (g.in_w + g.pad_left + g.pad_right) * g.in_channels * (int64_t)sizeof(T);
  const int64_t fit = (kBandBytes / std::max<int64_t>(row_bytes, 1) - band_input_rows(g, 1)) /
                      g.stride_h + 1;
  return std::max<int64_t>(1, std::min(g.out_h, fit));
}

// Rows [row0, row1) of a (C, H, W) image into `dst`, the same rows channels last: (row1 - row0,
// W, C). The rows of one plane are contiguous, so this is one (C, rows * W) -> (rows * W, C)
// transpose (per-row transposes of short rows, 13 pixels, ran mostly in their tails).
template <class T>
void to_channels_last(const T* image, int64_t channels, int64_t height, int64_t width, int64_t row0,
                      int64_t row1, T* dst) {
  direct_kernel<T>().transpose(image + row0 * width, channels, (row1 - row0) * width, height * width,
                               dst, channels);
}

// `src`, rows [row0, row1) of an image channels last ((row1 - row0, W, C)), into those rows of a
// (C, H, W) image.
template <class T>
void to_channels_first(const T* src, int64_t channels, int64_t height, int64_t width, int64_t row0,
                       int64_t row1, T* image) {
  direct_kernel<T>().transpose(src, (row1 - row0) * width, channels, channels, image + row0 * width,
                               height * width);
}

// Input rows [first, last) that output rows [row0, row1) read (clamped to the image).
void input_rows(const ConvGeometry& g, int64_t row0, int64_t row1, int64_t* first, int64_t* last) {
  *first = std::max<int64_t>(0, row0 * g.stride_h - g.pad_top);
  *last = std::max(*first, std::min(g.in_h, (row1 - 1) * g.stride_h - g.pad_top +
                                                (g.kernel_h - 1) * g.dilation_h + 1));
}

// Copies padded input rows [row0, row0 + n_rows) of one (H, W, C) image into `buffer`, rows of
// W + pad_left + pad_right pixels; rows and columns outside the image are zeros. A channels-first
// image (`from_channels_first`) is transposed on the way.
template <class T>
void pad_rows(const ConvGeometry& g, const T* image, int64_t row0, int64_t n_rows, T* buffer,
              bool from_channels_first = false) {
  const int64_t C = g.in_channels, padded_w = g.in_w + g.pad_left + g.pad_right;
  if (from_channels_first && g.pad_left == 0 && g.pad_right == 0) {
    // Rows without side padding lie back to back: the image rows among them in one transpose.
    const int64_t first = std::max<int64_t>(0, g.pad_top - row0);
    const int64_t last = std::max(first, std::min(n_rows, g.in_h + g.pad_top - row0));
    std::memset(buffer, 0, (size_t)(first * padded_w * C) * sizeof(T));
    if (last > first)
      to_channels_last(image, C, g.in_h, g.in_w, row0 + first - g.pad_top, row0 + last - g.pad_top,
                       buffer + first * padded_w * C);
    std::memset(buffer + last * padded_w * C, 0, (size_t)((n_rows - last) * padded_w * C) * sizeof(T));
    return;
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    T* dst = buffer + r * padded_w * C;
    const int64_t ih = row0 + r - g.pad_top;
    if (ih < 0 || ih >= g.in_h) {
      std::memset(dst, 0, (size_t)(padded_w * C) * sizeof(T));
      continue;
    }
    std::memset(dst, 0, (size_t)(g.pad_left * C) * sizeof(T));
    if (from_channels_first) {  // (C, W) of row ih -> (W, C)
      direct_kernel<T>().transpose(image + ih * g.in_w, C, g.in_w, g.in_h * g.in_w,
                                   dst + g.pad_left * C, C);
    } else {
      std::memcpy(dst + g.pad_left * C, image + ih * g.in_w * C, (size_t)(g.in_w * C) * sizeof(T));
    }
    std::memset(dst + (g.pad_left + g.in_w) * C, 0, (size_t)(g.pad_right * C) * sizeof(T));
  }
}

// Channels last: `rows` output rows into `out` from `in`, the input rows they read (the first
// output row's first input row first), each `in_w` pixels long and holding every tap in bounds;
// with `padded_row0` >= 0, `in` is a padded band whose first row is that row of the padded image.
template <class T>
void run_band(const ConvGeometry& g, const T* in, int64_t in_w, const PackedWeights<T>& packed,
              const T* bias, T* out, int64_t rows, int64_t padded_row0 = -1) {
  const int64_t C = g.in_channels, cpg = g.in_per_group(), opg = g.out_per_group();
  std::vector<int64_t> taps(g.taps());
  for (int64_t ky = 0; ky < g.kernel_h; ++ky)
    for (int64_t kx = 0; kx < g.kernel_w; ++kx)
      taps[ky * g.kernel_w + kx] = (ky * g.dilation_h * in_w + kx * g.dilation_w) * C;
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    ConvDirectArgs a;
    a.in = in + grp * cpg;
    a.in_pixel = g.stride_w * C;
    a.in_row = g.stride_h * in_w * C;
    a.taps = taps.data();
    a.n_taps = g.taps();
    a.channels = cpg;
    a.weights = packed.group(grp);
    a.bias = bias ? bias + grp * opg : nullptr;
    a.out = out + grp * opg;
    a.out_pixel = g.out_channels;
    a.out_row = g.out_w * g.out_channels;
    a.rows = rows;
    a.cols = g.out_w;
    a.out_channels = opg;
    a.tap_rows = g.kernel_h, a.taps_per_row = g.kernel_w;
    a.row_stride = g.stride_h, a.tap_row_step = g.dilation_h;
    a.live_row0 = padded_row0 < 0 ? 0 : g.pad_top - padded_row0;
    a.live_row1 = padded_row0 < 0 ? band_input_rows(g, rows) : g.pad_top + g.in_h - padded_row0;
    direct_kernel<T>().run(&a);
  }
}

// Channels last: output rows [row0, row1) of one (H, W, C) image into `out` (its row row0), a band
// at a time; `buffer` holds a padded band when the convolution pads.
template <class T>
void direct_rows(const ConvGeometry& g, const T* image, const PackedWeights<T>& packed,
                 const T* bias, T* out, int64_t row0, int64_t row1, T* buffer) {
  const bool pad = padded(g);
  const int64_t in_w = pad ? g.in_w + g.pad_left + g.pad_right : g.in_w;
  const int64_t band = band_rows<T>(g);
  for (int64_t b0 = row0; b0 < row1; b0 += band) {
    const int64_t rows = std::min(band, row1 - b0);
    const T* in = image + b0 * g.stride_h * in_w * g.in_channels;
    if (pad) {
      pad_rows<T>(g, image, b0 * g.stride_h, band_input_rows(g, rows), buffer);
      in = buffer;
    }
    run_band<T>(g, in, in_w, packed, bias, out + (b0 - row0) * g.out_w * g.out_channels, rows,
                pad ? b0 * g.stride_h : -1);
  }
}

// Channels first: copies padded rows [row0, row0 + n_rows) of every channel plane of one
// (C, H, W) image into `buffer`, planes `plane` elements apart, rows W + pad_left + pad_right
// long; zeros outside the image and in the kernel's overrun past the last plane.
template <class T>
void pad_planes(const ConvGeometry& g, const T* image, int64_t row0, int64_t n_rows, int64_t plane,
                T* buffer) {
  const int64_t width = g.in_w + g.pad_left + g.pad_right;
  for (int64_t c = 0; c < g.in_channels; ++c) {
    for (int64_t r = 0; r < n_rows; ++r) {
      T* dst = buffer + c * plane + r * width;
      const int64_t ih = row0 + r - g.pad_top;
      if (ih < 0 || ih >= g.in_h) {
        std::memset(dst, 0, (size_t)width * sizeof(T));
        continue;
      }
      std::memset(dst, 0, (size_t)g.pad_left * sizeof(T));
      std::memcpy(dst + g.pad_left, image + (c * g.in_h + ih) * g.in_w, (size_t)g.in_w * sizeof(T));
      std::memset(dst + g.pad_left + g.in_w, 0, (size_t)g.pad_right * sizeof(T));
    }
  }
  std::memset(buffer + g.in_channels * plane, 0, (size_t)kConvDirectNchwOverrun * sizeof(T));
}

// Channels first (stride 1): output rows [row0, row1) of image n, a band at a time.
template <class T>
void direct_rows_nchw(const ConvGeometry& g, const T* x, const PackedWeights<T>& packed,
                      const T* bias, T* out, int64_t n, int64_t row0, int64_t row1, T* buffer) {
  const DirectKernel<T>& kernel = direct_kernel<T>();
  const int64_t cpg = g.in_per_group(), opg = g.out_per_group();
  const int64_t width = g.in_w + g.pad_left + g.pad_right;
  std::vector<int64_t> taps(g.taps());
  for (int64_t ky = 0; ky < g.kernel_h; ++ky)
    for (int64_t kx = 0; kx < g.kernel_w; ++kx)
      taps[ky * g.kernel_w + kx] = ky * g.dilation_h * width + kx * g.dilation_w;
  const int64_t band = band_rows<T>(g);
  for (int64_t b0 = row0; b0 < row1; b0 += band) {
    const int64_t rows = std::min(band, row1 - b0);
    const int64_t plane = band_input_rows(g, rows) * width;
    pad_planes<T>(g, x + n * g.in_channels * g.in_pixels(), b0, band_input_rows(g, rows), plane,
                  buffer);
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      ConvDirectNchwArgs a;
      a.in = buffer + grp * cpg * plane;
      a.plane = plane;
      a.width = width;
      a.taps = taps.data();
      a.n_taps = g.taps();
      a.channels = cpg;
      a.weights = packed.group(grp);
      a.bias = bias ? bias + grp * opg : nullptr;
      a.out = out + (n * g.out_channels + grp * opg) * g.out_pixels() + b0 * g.out_w;
      a.out_plane = g.out_pixels();
      a.rows = rows;
      a.cols = g.out_w;
      a.out_channels = opg;
      kernel.run_nchw(&a);
    }
  }
}

// Channels first through the channels-last kernel, a band of output rows at a time: the input
// rows the band reads are transposed into a padded channels-last band, convolved there, and the
// output rows transposed back. `scratch` holds transposed_scratch() elements.
template <class T>
void direct_rows_transposed(const ConvGeometry& g, const T* x, const PackedWeights<T>& packed,
                            const T* bias, T* out, int64_t n, int64_t row0, int64_t row1,
                            T* scratch) {
  ConvGeometry last = g;
  last.channels_last = true;
  const int64_t band = band_rows<T>(g), in_w = g.in_w + g.pad_left + g.pad_right;
  T* in_band = scratch;
  T* out_band = in_band + band_input_rows(g, band) * in_w * g.in_channels;
  const T* image = x + n * g.in_channels * g.in_pixels();
  for (int64_t b0 = row0; b0 < row1; b0 += band) {
    const int64_t rows = std::min(band, row1 - b0);
    pad_rows<T>(g, image, b0 * g.stride_h, band_input_rows(g, rows), in_band,
                /*from_channels_first=*/true);
    run_band<T>(last, in_band, in_w, packed, bias, out_band, rows, b0 * g.stride_h);
    to_channels_first(out_band, g.out_channels, g.out_h, g.out_w, b0, b0 + rows,
                      out + n * g.out_channels * g.out_pixels());
  }
}

template <class T>
int64_t transposed_scratch(const ConvGeometry& g) {
  const int64_t band = band_rows<T>(g);
  return band_input_rows(g, band) * (g.in_w + g.pad_left + g.pad_right) * g.in_channels +
         band * g.out_w * g.out_channels;
}

// Channels first: whether to go through the channels-last kernel. The channels-first kernel takes
// stride 1 only, and it vectorises along output pixels, which wastes lanes on short rows (a 7 x 7
// image fills half of them) and reads its input unaligned. The transposes cost a pass over the
// input and one over the output: they pay when each transposed element carries enough work,
// C_in / g * C_out / g * taps multiply-adds per pixel against C_in + C_out elements moved.
// Measured (1 thread, AVX-512, 3x3, forward and input gradient alike): from 100 multiply-adds per
// element moved the transposed path wins (32 -> 64 channels on 13 x 13: 1.16 ms against 1.27 ms;
// 16 -> 16 on 56 x 56: 0.85 against 1.04 ms); at 50 (8 -> 16 channels) the two are even.
bool through_channels_last(const ConvGeometry& g) {
  if (g.channels_last) return false;
  const double work = (double)g.in_per_group() * g.out_per_group() * g.taps();
  return g.stride_h != 1 || g.stride_w != 1 || work >= 100.0 * (g.in_channels + g.out_channels);
}

}  // namespace

bool conv_direct_available(const ConvGeometry& g) {
  // A channels-first 1x1 stride-1 convolution is a GEMM on the input as it lies (conv_gemm.cpp).
  return cpu_capability() != CpuCapability::Default && (g.channels_last || !g.is_pointwise());
}

bool conv_input_grad_geometry(const ConvGeometry& g, ConvGeometry* t) {
  if (g.stride_h != 1 || g.stride_w != 1) return false;
  const int64_t span_h = g.dilation_h * (g.kernel_h - 1), span_w = g.dilation_w * (g.kernel_w - 1);
  *t = g;
  t->in_h = g.out_h, t->in_w = g.out_w, t->out_h = g.in_h, t->out_w = g.in_w;
  t->in_channels = g.out_channels, t->out_channels = g.in_channels;
  t->pad_top = span_h - g.pad_top, t->pad_bottom = span_h - g.pad_bottom;
  t->pad_left = span_w - g.pad_left, t->pad_right = span_w - g.pad_right;
  return t->pad_top >= 0 && t->pad_bottom >= 0 && t->pad_left >= 0 && t->pad_right >= 0;
}

template <class T>
void conv_direct(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out,
                 bool input_grad) {
  const bool transposed = through_channels_last(g);
  const bool kernel_last = g.channels_last || transposed;
  const PackedWeights<T> packed(g, w, input_grad, kernel_last);
  const double flops = 2.0 * g.batch * g.out_channels * g.out_pixels() * g.patch();
  const int n_threads = conv_threads(flops);
  const int64_t band_elems = band_input_rows(g, band_rows<T>(g)) *
                            (g.in_w + g.pad_left + g.pad_right) * g.in_channels;
  // The channels-first kernel always copies its band (it reads past rows' ends); the
  // channels-last one only when it pads.
  int64_t buffer_elems = !kernel_last ? band_elems + kConvDirectNchwOverrun
                         : padded(g)  ? band_elems
                                      : 0;
  if (transposed) buffer_elems = transposed_scratch<T>(g);
  ScratchPool pool(buffer_elems * (int64_t)sizeof(T), n_threads);
  for_each_image(g.batch, n_threads, [&](int64_t n, int t, const Team& team) {
    int64_t row0, row1;
    team.share(g.out_h, &row0, &row1);  // a team splits the image's output rows
    if (row0 >= row1) return;
    T* buffer = reinterpret_cast<T*>(pool.for_thread(t));
    if (g.channels_last) {
      direct_rows<T>(g, x + n * g.in_pixels() * g.in_channels, packed, bias,
                     out + (n * g.out_h + row0) * g.out_w * g.out_channels, row0, row1, buffer);
    } else if (transposed) {
      direct_rows_transposed<T>(g, x, packed, bias, out, n, row0, row1, buffer);
    } else {
      direct_rows_nchw<T>(g, x, packed, bias, out, n, row0, row1, buffer);
    }
  });
}

bool conv_direct_weight_grad_available(const ConvGeometry& g) {
  return cpu_capability() != CpuCapability::Default &&
         (g.in_per_group() >= kWeightGradMinChannels || g.out_per_group() >= kWeightGradMinChannels);
}

// The weight gradient's kernel is channels last. Channels first copies each image's input and
// output gradient rows into channels-last scratch first (a transpose: about a tenth of the
// kernel's time for 64 channels) and the result back into (C_out, C_in / g, kh, kw) at the end.
// With fewer than kWeightGradMinChannels input channels per group the kernel's tiles mix taps
// (ConvDirectWeightGradArgs::mixed) and read a padded channels-last copy of the band's input rows.
template <class T>
void conv_direct_weight_grad(const ConvGeometry& g, const T* x, const T* grad, T* grad_w) {
  const DirectKernel<T>& kernel = direct_kernel<T>();
  const bool transpose = !g.channels_last;
  const bool mixed = g.in_per_group() < kWeightGradMinChannels;
  const double flops = 2.0 * g.batch * g.out_channels * g.out_pixels() * g.patch();
  const int n_threads = conv_threads(flops);
  const int64_t w_elems = g.out_channels * g.patch();
  // Each thread adds into its own copy (channels last, thread 0 into grad_w itself).
  const int n_partial = transpose ? n_threads : n_threads - 1;
  std::vector<T> partial((size_t)(w_elems * n_partial), T(0));
  const int64_t row_bytes = g.out_w * g.out_channels * (int64_t)sizeof(T);
  const int64_t band = std::max<int64_t>(1, kWeightGradBandBytes / std::max<int64_t>(row_bytes, 1));
  // Channels first: one band's input rows and output gradient rows, transposed; mixed tiles: the
  // band's padded input rows.
  const int64_t padded_w = g.in_w + g.pad_left + g.pad_right;
  const int64_t in_band = mixed ? band_input_rows(g, band) * padded_w * g.in_channels
                                : std::min(g.in_h, band_input_rows(g, band)) * g.in_w * g.in_channels;
  const int64_t scratch = transpose ? in_band + band * g.out_w * g.out_channels : mixed ? in_band : 0;
  ScratchPool pool(scratch * (int64_t)sizeof(T), n_threads);
  for_each_image(g.batch, n_threads, [&](int64_t n, int t, const Team& team) {
    T* gw = transpose ? partial.data() + t * w_elems
            : t == 0  ? grad_w
                      : partial.data() + (t - 1) * w_elems;
    int64_t row0, row1;
    team.share(g.out_h, &row0, &row1);  // a team splits the image's output rows
    const T* image = x + n * g.in_pixels() * g.in_channels;
    const T* image_grad = grad + n * g.out_pixels() * g.out_channels;
    ConvDirectWeightGradArgs a;
    a.in_h = g.in_h, a.in_w = g.in_w, a.in_channels = g.in_channels;
    a.channels = g.in_per_group();
    a.out_w = g.out_w, a.out_channels = g.out_per_group(), a.grad_channels = g.out_channels;
    a.kernel_h = g.kernel_h, a.kernel_w = g.kernel_w;
    a.stride_h = g.stride_h, a.stride_w = g.stride_w;
    a.dilation_h = g.dilation_h, a.dilation_w = g.dilation_w;
    a.pad_top = g.pad_top, a.pad_left = g.pad_left;
    a.mixed = mixed;
    if (mixed) {  // coordinates in the padded image
      a.in_h = g.in_h + g.pad_top + g.pad_bottom, a.in_w = padded_w;
      a.pad_top = a.pad_left = 0;
    }
    for (int64_t b0 = row0; b0 < row1; b0 += band) {
      a.row0 = b0, a.row1 = std::min(row1, b0 + band);
      const T* rows_in = image;
      const T* rows_grad = image_grad;
      a.in_row0 = a.grad_row0 = 0;
      T* x_last = reinterpret_cast<T*>(pool.for_thread(t));
      if (mixed) {
        pad_rows<T>(g, image, b0 * g.stride_h, band_input_rows(g, a.row1 - b0), x_last, transpose);
        rows_in = x_last, a.in_row0 = b0 * g.stride_h;
      } else if (transpose) {
        int64_t in0, in1;
        input_rows(g, a.row0, a.row1, &in0, &in1);
        to_channels_last(image, g.in_channels, g.in_h, g.in_w, in0, in1, x_last);
        rows_in = x_last, a.in_row0 = in0;
      }
      if (transpose) {
        T* grad_last = x_last + in_band;
        to_channels_last(image_grad, g.out_channels, g.out_h, g.out_w, a.row0, a.row1, grad_last);
        rows_grad = grad_last, a.grad_row0 = a.row0;
      }
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        a.in = rows_in + grp * g.in_per_group();
        a.grad = rows_grad + grp * g.out_per_group();
        a.grad_w = gw + grp * g.out_per_group();
        kernel.weight_grad(&a);
      }
    }
  });
  // The partial sums, element (tap, c, co) of the channels-last layout at i, added in order.
  const int64_t taps = g.taps(), cpg = g.in_per_group(), C_out = g.out_channels;
  for (int64_t tap = 0, i = 0; tap < taps; ++tap)
    for (int64_t c = 0; c < cpg; ++c)
      for (int64_t co = 0; co < C_out; ++co, ++i) {
        T total = transpose ? T(0) : grad_w[i];
        for (int p = 0; p < n_partial; ++p) total += partial[p * w_elems + i];
        grad_w[transpose ? (co * cpg + c) * taps + tap : i] = total;
      }
}

template <class T>
void transpose_matrix(const T* src, int64_t rows, int64_t cols, int64_t src_stride, T* dst,
                      int64_t dst_stride) {
  if (cpu_capability() != CpuCapability::Default) {
    direct_kernel<T>().transpose(src, rows, cols, src_stride, dst, dst_stride);
    return;
  }
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) dst[j * dst_stride + i] = src[i * src_stride + j];
}

template void transpose_matrix<float>(const float*, int64_t, int64_t, int64_t, float*, int64_t);
template void transpose_matrix<double>(const double*, int64_t, int64_t, int64_t, double*, int64_t);
template void conv_direct_weight_grad<float>(const ConvGeometry&, const float*, const float*,
                                             float*);
template void conv_direct_weight_grad<double>(const ConvGeometry&, const double*, const double*,
                                              double*);
template void conv_direct<float>(const ConvGeometry&, const float*, const float*, const float*,
                                 float*, bool);
template void conv_direct<double>(const ConvGeometry&, const double*, const double*,
                                  const double*, double*, bool);

}  // namespace cpu
}  // namespace ember
