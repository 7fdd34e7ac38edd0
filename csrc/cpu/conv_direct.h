// Direct convolution in the channels-last layout, one entry set per instruction set (AVX2, AVX-512;
// the baseline build has none and uses the column-buffer path instead).
//
// out[pixel][co] = bias[co] + sum over taps t and channels c of in[pixel + tap t][c] * W[t][c][co]
//
// The kernel reads the input in place: for a tile of MR output pixels (neighbours in one row, or
// running on into the next rows when rows are short of a whole number of tiles) it
// broadcasts each pixel's input channels straight from memory, against packed panels of NR output
// channels of the weight, and keeps the MR x NR block of the output in registers over every tap and
// channel. No column buffer is built and nothing of the input is packed, which is where the
// column-buffer path spends its time when the channel counts are modest (K = taps * C_in of a few
// hundred). The input must have every tap of every output pixel in bounds: the caller pads it.
//
// This header stays plain C declarations and a plain struct on purpose: it is included by
// translation units compiled for AVX2 and AVX-512, which must not share inline code.
#pragma once
#include <cstdint>

namespace ember {
namespace cpu {

// One group of one band of output rows. Offsets and strides count elements.
struct ConvDirectArgs {
  const void* in;          // input of output pixel (0, 0) of the band, at the group's first channel
  int64_t in_pixel;        // from one output pixel's input to its right neighbour's (stride_w * C)
  int64_t in_row;          // from one output row's input to the next row's
  const int64_t* taps;     // n_taps offsets of the kernel taps from an output pixel's input
  int64_t n_taps;
  int64_t channels;        // input channels of the group
  const void* weights;     // packed by conv_direct_pack_*
  const void* bias;        // the group's out_channels values, or null
  void* out;               // output pixel (0, 0) of the band, at the group's first channel
  int64_t out_pixel;       // from one output pixel to its right neighbour (the output's C)
  int64_t out_row;         // from one output row to the next
  int64_t rows, cols;      // output rows in the band, output pixels per row
  int64_t out_channels;    // of the group
  // The taps are tap_rows x taps_per_row, row by row; output row r of the band reads input rows
  // r * row_stride + ky * tap_row_step. Input rows outside [live_row0, live_row1) are padding
  // (zeros): a tile skips the kernel rows that read only those (the input gradient's convolution
  // of a padded dY has many).
  int64_t tap_rows, taps_per_row, row_stride, tap_row_step, live_row0, live_row1;
};

// The weight gradient of one group over a band of output rows of one image:
//   dW[t][c][co] += sum over output pixels p of in[p + tap t][c] * grad[p][co]
// with the padding handled by visiting, for each tap, only the output pixels whose input lies
// inside the image. The kernel keeps an MR (channels) x NR (output channels) block of dW in
// registers while it runs over the pixels, broadcasting MR neighbouring channels of one input
// pixel against NR output-channel gradients of one output pixel, both read in place.
//
// With `mixed`, for few channels per group (a first layer's 1 or 3, where tiles of MR channels
// at one tap would be mostly empty), a tile's rows are instead MR consecutive rows k = t * C / g + c
// of dW, mixing taps, and `in` is a padded band (pad_top and pad_left 0, in_h and in_w those of
// the padded image): every tap of every output pixel lies inside it.
struct ConvDirectWeightGradArgs {
  const void* in;          // input rows (of an (H, W, C) image) at the group's first channel
  const void* grad;        // output gradient rows (of (OH, OW, C_out)) at the group's first channel
  int64_t in_row0, grad_row0;          // the image rows `in` and `grad` start with
  void* grad_w;            // dW (taps, C / groups, C_out) at the group's first output channel
  int64_t in_h, in_w, in_channels;     // in_channels: the input's C (its pixel stride)
  int64_t channels;                    // C / groups
  int64_t out_w, out_channels, grad_channels;  // out_channels of the group; grad_channels: C_out
  int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int64_t row0, row1;                  // the band of output rows
  bool mixed = false;
};

// Channels first (stride 1): the same sums with the vectors along the output pixels and the
// weights broadcast. The input is a padded band in planes of `plane` elements per channel, each a
// run of rows `width` pixels long; the kernel treats the band's output pixels as one "wide" run of
// rows * width pixels (the width - cols pixels past each row's end are computed and dropped at the
// store), so that a tile of NR pixels is NR contiguous input elements for every tap and channel.
struct ConvDirectNchwArgs {
  const void* in;          // the band's channel 0 plane (at the group's first channel)
  int64_t plane;           // elements between channel planes of the band
  int64_t width;           // pixels per padded row
  const int64_t* taps;     // n_taps offsets of the kernel taps within a plane
  int64_t n_taps;
  int64_t channels;        // input channels of the group
  const void* weights;     // packed by conv_direct_nchw_pack_*: panels of MR output channels
  const void* bias;        // the group's out_channels values, or null
  void* out;               // output plane of the group's first channel, at the band's first row
  int64_t out_plane;       // elements between output channel planes
  int64_t rows, cols;      // output rows in the band, output pixels per row (cols <= width)
  int64_t out_channels;    // of the group
};

// Packs W[co][c][t] = w[co * rs + c * cs + tap_offsets[t]] for co < out_channels, c < channels,
// t < n_taps into panels of MR output channels (zero past out_channels).
int64_t conv_direct_nchw_packed_size_f32_avx512(int64_t rows, int64_t out_channels);
int64_t conv_direct_nchw_packed_size_f64_avx512(int64_t rows, int64_t out_channels);
int64_t conv_direct_nchw_packed_size_f32_avx2(int64_t rows, int64_t out_channels);
int64_t conv_direct_nchw_packed_size_f64_avx2(int64_t rows, int64_t out_channels);
void conv_direct_nchw_pack_f32_avx512(int64_t n_taps, int64_t channels, int64_t out_channels,
                                      const float* w, const int64_t* tap_offsets, int64_t rs,
                                      int64_t cs, float* packed);
void conv_direct_nchw_pack_f64_avx512(int64_t n_taps, int64_t channels, int64_t out_channels,
                                      const double* w, const int64_t* tap_offsets, int64_t rs,
                                      int64_t cs, double* packed);
void conv_direct_nchw_pack_f32_avx2(int64_t n_taps, int64_t channels, int64_t out_channels,
                                    const float* w, const int64_t* tap_offsets, int64_t rs,
                                    int64_t cs, float* packed);
void conv_direct_nchw_pack_f64_avx2(int64_t n_taps, int64_t channels, int64_t out_channels,
                                    const double* w, const int64_t* tap_offsets, int64_t rs,
                                    int64_t cs, double* packed);
void conv_direct_nchw_f32_avx512(const ConvDirectNchwArgs* args);
void conv_direct_nchw_f64_avx512(const ConvDirectNchwArgs* args);
void conv_direct_nchw_f32_avx2(const ConvDirectNchwArgs* args);
void conv_direct_nchw_f64_avx2(const ConvDirectNchwArgs* args);
// Elements past the end of a band the kernel may read (the last tile's dropped pixels): at least
// NR of every instruction set.
constexpr int64_t kConvDirectNchwOverrun = 64;

// Elements of packed weights for n_taps * channels rows of out_channels columns.
int64_t conv_direct_packed_size_f32_avx512(int64_t rows, int64_t out_channels);
int64_t conv_direct_packed_size_f64_avx512(int64_t rows, int64_t out_channels);
int64_t conv_direct_packed_size_f32_avx2(int64_t rows, int64_t out_channels);
int64_t conv_direct_packed_size_f64_avx2(int64_t rows, int64_t out_channels);

// Packs W[t][c][co] = w[tap_offsets[t] + c * rs + co * cs] for t < n_taps, c < channels,
// co < out_channels into panels of NR output channels (zero past out_channels).
void conv_direct_pack_f32_avx512(int64_t n_taps, int64_t channels, int64_t out_channels,
                                 const float* w, const int64_t* tap_offsets, int64_t rs,
                                 int64_t cs, float* packed);
void conv_direct_pack_f64_avx512(int64_t n_taps, int64_t channels, int64_t out_channels,
                                 const double* w, const int64_t* tap_offsets, int64_t rs,
                                 int64_t cs, double* packed);
void conv_direct_pack_f32_avx2(int64_t n_taps, int64_t channels, int64_t out_channels,
                               const float* w, const int64_t* tap_offsets, int64_t rs, int64_t cs,
                               float* packed);
void conv_direct_pack_f64_avx2(int64_t n_taps, int64_t channels, int64_t out_channels,
                               const double* w, const int64_t* tap_offsets, int64_t rs,
                               int64_t cs, double* packed);

void conv_direct_weight_grad_f32_avx512(const ConvDirectWeightGradArgs* args);
void conv_direct_weight_grad_f64_avx512(const ConvDirectWeightGradArgs* args);
void conv_direct_weight_grad_f32_avx2(const ConvDirectWeightGradArgs* args);
void conv_direct_weight_grad_f64_avx2(const ConvDirectWeightGradArgs* args);

// dst[j * dst_stride + i] = src[i * src_stride + j] for i < rows, j < cols: the layout changes of
// channels-first convolutions that run on the channels-last kernels.
void conv_transpose_f32_avx512(const float* src, int64_t rows, int64_t cols, int64_t src_stride,
                               float* dst, int64_t dst_stride);
void conv_transpose_f64_avx512(const double* src, int64_t rows, int64_t cols, int64_t src_stride,
                               double* dst, int64_t dst_stride);
void conv_transpose_f32_avx2(const float* src, int64_t rows, int64_t cols, int64_t src_stride,
                             float* dst, int64_t dst_stride);
void conv_transpose_f64_avx2(const double* src, int64_t rows, int64_t cols, int64_t src_stride,
                             double* dst, int64_t dst_stride);

void conv_direct_f32_avx512(const ConvDirectArgs* args);
void conv_direct_f64_avx512(const ConvDirectArgs* args);
void conv_direct_f32_avx2(const ConvDirectArgs* args);
void conv_direct_f64_avx2(const ConvDirectArgs* args);

}  // namespace cpu
}  // namespace ember
