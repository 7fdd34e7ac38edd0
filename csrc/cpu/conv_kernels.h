// The data movement of convolution by GEMM: im2col (gather the input patches one output pixel
// needs into a column buffer) and col2im (scatter-add a column buffer's gradient back onto the
// input), the geometry every conv file shares, and the drivers' entry points. Included by the
// baseline-ISA conv files only (it has inline code); plain loops, since they copy memory and the
// GEMM does the arithmetic.
//
// One call handles one image and one group, and a range of output pixels [p0, p1) (pixel
// p = oh * out_w + ow), so the driver can tile an image into buffers that stay in cache.
//
// The patch index k of a weight column is laid out as the weight stores it:
//   channels first (NCHW):  k = (c * kernel_h + ky) * kernel_w + kx; the column buffer is
//                           (K, P) row-major, one row per k, P = p1 - p0 pixels per row;
//   channels last (NHWC):   k = (ky * kernel_w + kx) * in_per_group + c; the column buffer is
//                           (P, K) row-major, one row per pixel.
// Input position of output pixel (oh, ow) and kernel tap (ky, kx):
//   ih = oh * stride_h - pad_top + ky * dilation_h,  iw = ow * stride_w - pad_left + kx * dilation_w;
// positions outside the input read as zero (and receive no gradient).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ember {
namespace cpu {

struct ConvGeometry {
  int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  bool channels_last = false;

  int64_t in_per_group() const { return in_channels / groups; }
  int64_t out_per_group() const { return out_channels / groups; }
  int64_t taps() const { return kernel_h * kernel_w; }
  int64_t patch() const { return in_per_group() * taps(); }  // K of the GEMM
  int64_t out_pixels() const { return out_h * out_w; }
  int64_t in_pixels() const { return in_h * in_w; }
  // A 1x1 kernel with stride 1 and no padding reads each input pixel once, in order: the input
  // itself is the column matrix.
  bool is_pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 &&
           pad_left == 0 && out_h == in_h && out_w == in_w;
  }
};

// Output columns [lo, hi) of one row whose input column ow * stride + offset lies in [0, width).
inline void valid_columns(int64_t out_w, int64_t stride, int64_t offset, int64_t width,
                          int64_t* lo, int64_t* hi) {
  *lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  *hi = width - 1 - offset < 0 ? 0 : (width - 1 - offset) / stride + 1;
  *lo = std::min(*lo, out_w);
  *hi = std::max(*lo, std::min(*hi, out_w));
}

// Calls f(oh, ow_begin, ow_end, column) for the pieces of output rows that make up pixels
// [p0, p1); `column` counts pixels from p0.
template <class F>
void for_each_row_piece(const ConvGeometry& g, int64_t p0, int64_t p1, const F& f) {
  int64_t oh = p0 / g.out_w, ow = p0 % g.out_w, column = 0;
  for (int64_t p = p0; p < p1; ++oh, ow = 0) {
    const int64_t ow_end = std::min(g.out_w, ow + (p1 - p));
    f(oh, ow, ow_end, column);
    column += ow_end - ow;
    p += ow_end - ow;
  }
}

// ---- channels first ---------------------------------------------------------------------------

// Rows [k0, k1) of the column matrix for pixels [p0, p1); `image` is (C_in / groups, H, W) of one
// image and group, contiguous. Element (k, j) goes to cols[k * k_stride + j * pixel_stride]:
// (K, P) row-major with (P, 1), or pixel-major (P, K) with (1, K) for a weight gradient that wants
// the buffer as a GEMM operand with contiguous rows.
template <class T>
void im2col_nchw(const ConvGeometry& g, const T* image, int64_t p0, int64_t p1, int64_t k0,
                 int64_t k1, T* cols, int64_t k_stride, int64_t pixel_stride) {
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t c = k / g.taps(), ky = k / g.kernel_w % g.kernel_h, kx = k % g.kernel_w;
    const T* plane = image + c * g.in_pixels();
    T* dst = cols + k * k_stride;
    const int64_t col_offset = kx * g.dilation_w - g.pad_left;
    int64_t lo, hi;
    valid_columns(g.out_w, g.stride_w, col_offset, g.in_w, &lo, &hi);
    for_each_row_piece(g, p0, p1, [&](int64_t oh, int64_t ow0, int64_t ow1, int64_t column) {
      T* out = dst + (column - ow0) * pixel_stride;  // out[ow * pixel_stride] is pixel (oh, ow)
      const int64_t ih = oh * g.stride_h - g.pad_top + ky * g.dilation_h;
      const bool row_inside = ih >= 0 && ih < g.in_h;
      const int64_t a = row_inside ? std::max(ow0, lo) : ow1;
      const int64_t b = row_inside ? std::max(a, std::min(ow1, hi)) : ow1;
      const T* src = plane + ih * g.in_w + col_offset;
      if (pixel_stride == 1) {
        std::fill(out + ow0, out + a, T(0));
        if (g.stride_w == 1) {
          std::memcpy(out + a, src + a, (size_t)(b - a) * sizeof(T));
        } else {
          for (int64_t ow = a; ow < b; ++ow) out[ow] = src[ow * g.stride_w];
        }
        std::fill(out + b, out + ow1, T(0));
      } else {
        for (int64_t ow = ow0; ow < a; ++ow) out[ow * pixel_stride] = T(0);
        for (int64_t ow = a; ow < b; ++ow) out[ow * pixel_stride] = src[ow * g.stride_w];
        for (int64_t ow = b; ow < ow1; ++ow) out[ow * pixel_stride] = T(0);
      }
    });
  }
}

// image[c] += the gradient in rows of channels [c0, c1) of the buffer for pixels [p0, p1), whose
// element (k, j) is at cols[k * k_stride + j * pixel_stride] as in im2col_nchw.
// Different channels never touch the same input element, so threads may split the channels.
template <class T>
void col2im_nchw(const ConvGeometry& g, const T* cols, int64_t p0, int64_t p1, int64_t c0,
                 int64_t c1, T* image, int64_t k_stride, int64_t pixel_stride) {
  for (int64_t k = c0 * g.taps(); k < c1 * g.taps(); ++k) {
    const int64_t c = k / g.taps(), ky = k / g.kernel_w % g.kernel_h, kx = k % g.kernel_w;
    T* plane = image + c * g.in_pixels();
    const T* src = cols + k * k_stride;
    const int64_t col_offset = kx * g.dilation_w - g.pad_left;
    int64_t lo, hi;
    valid_columns(g.out_w, g.stride_w, col_offset, g.in_w, &lo, &hi);
    for_each_row_piece(g, p0, p1, [&](int64_t oh, int64_t ow0, int64_t ow1, int64_t column) {
      const int64_t ih = oh * g.stride_h - g.pad_top + ky * g.dilation_h;
      if (ih < 0 || ih >= g.in_h) return;
      const int64_t a = std::max(ow0, lo), b = std::max(a, std::min(ow1, hi));
      const T* in = src + (column - ow0) * pixel_stride;
      T* dst = plane + ih * g.in_w + col_offset;
      if (g.stride_w == 1 && pixel_stride == 1) {
        for (int64_t ow = a; ow < b; ++ow) dst[ow] += in[ow];
      } else {
        for (int64_t ow = a; ow < b; ++ow) dst[ow * g.stride_w] += in[ow * pixel_stride];
      }
    });
  }
}

// ---- channels last ----------------------------------------------------------------------------

// Rows of the (P, K) column buffer for pixels [p0, p1); `image` points at channel
// group * C_in / groups of pixel (0, 0) of one (H, W, C_in) image, contiguous. Each tap copies its
// run of C_in / groups channels for the pixels of a row piece at a time (zeros where the tap falls
// outside the input); runs of a few channels (a first layer's one) are copied inline, since a
// library call per pixel would cost more than the copy.
template <class T>
void im2col_nhwc(const ConvGeometry& g, const T* image, int64_t p0, int64_t p1, T* cols) {
  const int64_t cpg = g.in_per_group(), k_len = g.patch(), C = g.in_channels;
  const int64_t step = g.stride_w * C;  // between the inputs of neighbouring output pixels
  // The output columns whose tap kx falls inside the input, the same for every row.
  std::vector<int64_t> lo(g.kernel_w), hi(g.kernel_w);
  for (int64_t kx = 0; kx < g.kernel_w; ++kx)
    valid_columns(g.out_w, g.stride_w, kx * g.dilation_w - g.pad_left, g.in_w, &lo[kx], &hi[kx]);
  const auto copy_run = [cpg](T* dst, const T* src) {
    if (cpg >= 16) {
      if (src) {
        std::memcpy(dst, src, (size_t)cpg * sizeof(T));
      } else {
        std::memset(dst, 0, (size_t)cpg * sizeof(T));
      }
    } else {
      for (int64_t c = 0; c < cpg; ++c) dst[c] = src ? src[c] : T(0);
    }
  };
  for_each_row_piece(g, p0, p1, [&](int64_t oh, int64_t ow0, int64_t ow1, int64_t column) {
    T* rows = cols + (column - ow0) * k_len;  // rows + ow * k_len is pixel (oh, ow)
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
      const int64_t ih = oh * g.stride_h - g.pad_top + ky * g.dilation_h;
      const bool row_inside = ih >= 0 && ih < g.in_h;
      for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
        const int64_t a = row_inside ? std::max(ow0, lo[kx]) : ow1;
        const int64_t b = row_inside ? std::max(a, std::min(ow1, hi[kx])) : ow1;
        T* dst = rows + (ky * g.kernel_w + kx) * cpg;
        const T* src = image + (ih * g.in_w + kx * g.dilation_w - g.pad_left) * C;
        if (cpg == 1) {  // one value per pixel: a strided copy
          for (int64_t ow = ow0; ow < a; ++ow) dst[ow * k_len] = T(0);
          for (int64_t ow = a; ow < b; ++ow) dst[ow * k_len] = src[ow * step];
          for (int64_t ow = b; ow < ow1; ++ow) dst[ow * k_len] = T(0);
          continue;
        }
        for (int64_t ow = ow0; ow < a; ++ow) copy_run(dst + ow * k_len, nullptr);
        for (int64_t ow = a; ow < b; ++ow) copy_run(dst + ow * k_len, src + ow * step);
        for (int64_t ow = b; ow < ow1; ++ow) copy_run(dst + ow * k_len, nullptr);
      }
    }
  });
}

// image += the (P, K) buffer's gradient for pixels [p0, p1), channels [c0, c1) of the group
// only, so that threads may split the channels.
template <class T>
void col2im_nhwc(const ConvGeometry& g, const T* cols, int64_t p0, int64_t p1, int64_t c0,
                 int64_t c1, T* image) {
  const int64_t cpg = g.in_per_group(), k_len = g.patch();
  for_each_row_piece(g, p0, p1, [&](int64_t oh, int64_t ow0, int64_t ow1, int64_t column) {
    for (int64_t ow = ow0; ow < ow1; ++ow) {
      const T* src = cols + (column + ow - ow0) * k_len;
      for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
        const int64_t ih = oh * g.stride_h - g.pad_top + ky * g.dilation_h;
        if (ih < 0 || ih >= g.in_h) continue;
        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
          const int64_t iw = ow * g.stride_w - g.pad_left + kx * g.dilation_w;
          if (iw < 0 || iw >= g.in_w) continue;
          const T* in = src + (ky * g.kernel_w + kx) * cpg;
          T* dst = image + (ih * g.in_w + iw) * g.in_channels;
          for (int64_t c = c0; c < c1; ++c) dst[c] += in[c];
        }
      }
    }
  });
}

// ---- the GEMM driver (conv_gemm.cpp; float and double) ------------------------------------------

// out = conv(x, w) + bias (bias may be null); every array contiguous in g's layout.
template <class T>
void conv_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out);
// grad_x (zeroed by the caller) += dL/dx and grad_w (zeroed) += dL/dw from grad = dL/dout; either
// may be null when not wanted.
template <class T>
void conv_backward(const ConvGeometry& g, const T* grad, const T* x, const T* w, T* grad_x,
                   T* grad_w);

// Small images (conv_gemm.cpp): whether g's images have so few output pixels that per-image GEMMs
// would be a few columns wide, and the forward / backward that instead run each product once over
// the batch (same contracts as conv_forward / conv_backward, except that the backward writes every
// element of grad_x and grad_w: they need no zeroing).
bool conv_small_images(const ConvGeometry& g);
template <class T>
void conv_small_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out);
template <class T>
void conv_small_backward(const ConvGeometry& g, const T* grad, const T* x, const T* w, T* grad_x,
                         T* grad_w);

// ---- the direct channels-last driver (conv_direct.cpp; float and double) -------------------------

// Whether this CPU has a direct kernel (AVX2 or AVX-512) and g is channels last.
bool conv_direct_available(const ConvGeometry& g);
// The geometry of dx = conv(dY, W flipped) for a stride-1 convolution g, or false when that
// convolution would need negative padding (padding beyond the kernel's span).
bool conv_input_grad_geometry(const ConvGeometry& g, ConvGeometry* transposed);
// out = conv(x, w) + bias, g channels last; with `input_grad`, g is the transposed geometry and
// w the forward weight, read flipped and transposed (computing dx from x = dY).
template <class T>
void conv_direct(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out,
                 bool input_grad);
// Whether the direct weight-gradient kernel applies: channels last on AVX2 / AVX-512, with enough
// input channels per group to fill its tile rows (otherwise the column-buffer path is faster).
bool conv_direct_weight_grad_available(const ConvGeometry& g);
// grad_w (zeroed, the weight's (kh, kw, C_in / groups, C_out) layout) += dL/dW from grad = dL/dout.
template <class T>
void conv_direct_weight_grad(const ConvGeometry& g, const T* x, const T* grad, T* grad_w);

// dst[j * dst_stride + i] = src[i * src_stride + j] for i < rows, j < cols, in registers on
// AVX2 / AVX-512 (element by element on the baseline build): the layout changes between channels
// first and channels last.
template <class T>
void transpose_matrix(const T* src, int64_t rows, int64_t cols, int64_t src_stride, T* dst,
                      int64_t dst_stride);

}  // namespace cpu
}  // namespace ember
