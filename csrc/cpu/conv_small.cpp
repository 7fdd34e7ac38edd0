// Convolutions of small images (conv_kernels.h: conv_small_images): the batch as one GEMM per
// product instead of one per image. Shapes as in conv_gemm.cpp.
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <vector>

#include "core/allocator.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/gemm_select.h"
#include "cpu/conv_kernels.h"
#include "cpu/conv_threads.h"

namespace ember {
namespace {

using cpu::ConvGeometry;
using cpu::ScratchPool;
using cpu::Gemm;
using cpu::Team;
using cpu::gemm_kernel;

// Image n's first element: the images here are channels last, in one group.
int64_t image_offset(const ConvGeometry& g, int64_t n) {
  return n * g.in_pixels() * g.in_channels;
}

// ---- small images: the batch as one GEMM ---------------------------------------------------------
//
// A late layer's images have a few output pixels (3 x 3 after two poolings of 28 x 28), so the
// per-image GEMMs above would be 9 columns wide and spend their time packing. Here the patches of
// a chunk of images go into one (R, K) column buffer, R = images * P, and each product runs once
// over the chunk, channels last, with the weight as the (K, C_out) matrix W it is in that layout:
//   forward  Y (R, C_out) = cols @ W;   dW (K, C_out) += cols^T @ dY;   dcols (R, K) = dY @ W^T
// then col2im per image. Channels first runs the same on channels-last copies of the input, the
// weight and the gradient (small by the premise), and moves the results back.

// Most output pixels per image for the batched path, and bytes of one chunk's column buffer.
constexpr int64_t kSmallImagePixels = 16;
constexpr int64_t kSmallChunkBytes = 4 << 20;

struct SmallPlan {
  int64_t P, K, C_out, chunk;  // chunk: images per pass
  int n_threads;
};

template <class T>
SmallPlan small_plan(const ConvGeometry& g, int products) {
  SmallPlan s;
  s.P = g.out_pixels(), s.K = g.patch(), s.C_out = g.out_channels;
  s.chunk = std::max<int64_t>(1, std::min(g.batch, kSmallChunkBytes / (int64_t)sizeof(T) /
                                                        std::max<int64_t>(1, s.P * s.K)));
  s.n_threads = cpu::conv_threads(2.0 * products * g.batch * s.P * s.K * s.C_out);
  return s;
}

// Runs f(thread, n_threads) on every thread of the plan (inline for one).
template <class F>
void small_team(const SmallPlan& s, const F& f) {
  if (s.n_threads == 1) return f(0, 1);
#pragma omp parallel num_threads(s.n_threads)
  f(omp_get_thread_num(), omp_get_num_threads());
}

// This thread's share [*b, *e) of images [n0, n1).
void small_share(int64_t n0, int64_t n1, int t, int n_threads, int64_t* b, int64_t* e) {
  const Team team{t, n_threads};
  team.share(n1 - n0, b, e);
  *b += n0, *e += n0;
}

template <class T>
int64_t small_workspace(const SmallPlan& s) {
  const auto ws = gemm_kernel<T>().workspace_bytes;
  const int64_t R = s.chunk * s.P;
  return (std::max({ws(R, s.C_out, s.K), ws(s.K, s.C_out, R), ws(R, s.K, s.C_out)}) + 63) / 64 * 64;
}

// Scratch of one call: named byte sizes carved out of one allocation, 64-byte aligned each.
class SmallScratch {
 public:
  explicit SmallScratch(std::initializer_list<int64_t> bytes) {
    int64_t total = 0;
    for (int64_t b : bytes) offsets_.push_back(total), total += (b + 63) / 64 * 64;
    pool_ = std::make_unique<ScratchPool>(total, 1);
  }
  template <class T>
  T* at(int i) const { return reinterpret_cast<T*>(pool_->for_thread(0) + offsets_[i]); }

 private:
  std::vector<int64_t> offsets_;
  std::unique_ptr<ScratchPool> pool_;
};

// dst[j][i] = src[i][j] for `count` (rows x cols) matrices, src and dst `rows * cols` apart; the
// matrices shared among the threads.
template <class T>
void transpose_each(const T* src, int64_t count, int64_t rows, int64_t cols, T* dst) {
  // Strided moves run well below a copy's speed: worth a thread from a quarter of a copy's grain
  // (a late layer's 32 x 64 x 3 x 3 output, 18k elements, went on one thread).
  constexpr int64_t kTransposeGrain = kElementwiseGrain / 4;
  const int64_t size = rows * cols;
  parallel_for(0, count, std::max<int64_t>(1, kTransposeGrain / std::max<int64_t>(size, 1)),
               [&](int64_t m0, int64_t m1) {
                 for (int64_t m = m0; m < m1; ++m)
                   cpu::transpose_matrix(src + m * size, rows, cols, cols, dst + m * size, rows);
               });
}

ConvGeometry channels_last_twin(const ConvGeometry& g) {
  ConvGeometry last = g;
  last.channels_last = true;
  return last;
}

// (C_out, C_in, kh, kw) -> (kh, kw, C_in, C_out), or back with `to_first`: a transpose between
// (C_out, C_in * taps) and (C_in * taps, C_out), whose rows, C_out long, are then (or first)
// reordered from (C_in, taps) to (taps, C_in). `rows` holds the weight's size.
template <class T>
void move_weight(const ConvGeometry& g, const T* w, T* out, bool to_first, T* rows) {
  const int64_t taps = g.taps(), C = g.in_channels, O = g.out_channels;
  const auto reorder = [&](const T* from, T* to, bool taps_first) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t channel_major = (c * taps + t) * O, tap_major = (t * C + c) * O;
        std::memcpy(to + (taps_first ? tap_major : channel_major),
                    from + (taps_first ? channel_major : tap_major), (size_t)O * sizeof(T));
      }
  };
  if (to_first) {
    reorder(w, rows, /*taps_first=*/false);
    cpu::transpose_matrix(rows, C * taps, O, O, out, C * taps);
  } else {
    cpu::transpose_matrix(w, O, C * taps, C * taps, rows, O);
    reorder(rows, out, /*taps_first=*/true);
  }
}

// Calls pass(n0, n1, cols, workspace, ws) for each chunk [n0, n1) of images in turn, with one
// (R, K) column buffer and every thread's GEMM workspace (ws bytes each).
template <class T, class Pass>
void small_passes(const ConvGeometry& g, const SmallPlan& s, const Pass& pass) {
  const int64_t ws = small_workspace<T>(s);
  const SmallScratch scratch({s.chunk * s.P * s.K * (int64_t)sizeof(T), ws * s.n_threads});
  for (int64_t n0 = 0; n0 < g.batch; n0 += s.chunk)
    pass(n0, std::min(g.batch, n0 + s.chunk), scratch.at<T>(0), scratch.at<char>(1), ws);
}

// The column rows of images [b, e) of the pass that starts at image n0.
template <class T>
void small_im2col(const ConvGeometry& g, const SmallPlan& s, const T* x, int64_t n0, int64_t b,
                  int64_t e, T* cols) {
  for (int64_t n = b; n < e; ++n)
    cpu::im2col_nhwc<T>(g, x + image_offset(g, n), 0, s.P, cols + (n - n0) * s.P * s.K);
}

// Channels last (g.channels_last): the forward over the batch.
template <class T>
void small_forward_last(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out) {
  const SmallPlan s = small_plan<T>(g, 1);
  const Gemm<T>& gemm = gemm_kernel<T>();
  small_passes<T>(g, s, [&](int64_t n0, int64_t n1, T* cols, char* workspace, int64_t ws) {
    const int64_t R = (n1 - n0) * s.P;
    T* y = out + n0 * s.P * s.C_out;
    small_team(s, [&](int t, int nt) {
      int64_t b, e;
      small_share(n0, n1, t, nt, &b, &e);
      small_im2col(g, s, x, n0, b, e, cols);
#pragma omp barrier
      gemm.run(R, s.C_out, s.K, cols, s.K, 1, w, s.C_out, 1, y, s.C_out, 1, 0, workspace + t * ws,
               t, nt, nullptr);
      if (!bias) return;
#pragma omp barrier
      for (int64_t r = (b - n0) * s.P; r < (e - n0) * s.P; ++r)
        for (int64_t co = 0; co < s.C_out; ++co) y[r * s.C_out + co] += bias[co];
    });
  });
}

// Channels last: grad_x and grad_w over the batch; either may be null. Each image of grad_x is
// zeroed by the thread that adds its patches, just before.
template <class T>
void small_backward_last(const ConvGeometry& g, const T* grad, const T* x, const T* w, T* grad_x,
                         T* grad_w) {
  const SmallPlan s = small_plan<T>(g, (grad_x ? 1 : 0) + (grad_w ? 1 : 0));
  const Gemm<T>& gemm = gemm_kernel<T>();
  // The (R, K) buffer holds the columns for dW, then dcols for dx.
  small_passes<T>(g, s, [&](int64_t n0, int64_t n1, T* cols, char* workspace, int64_t ws) {
    const int64_t R = (n1 - n0) * s.P;
    const T* dy = grad + n0 * s.P * s.C_out;
    small_team(s, [&](int t, int nt) {
      int64_t b, e;
      small_share(n0, n1, t, nt, &b, &e);
      if (grad_w) {
        small_im2col(g, s, x, n0, b, e, cols);
#pragma omp barrier
        gemm.run(s.K, s.C_out, R, cols, 1, s.K, dy, s.C_out, 1, grad_w, s.C_out, 1, n0 > 0 ? 1 : 0,
                 workspace + t * ws, t, nt, nullptr);
#pragma omp barrier
      }
      if (!grad_x) return;
      gemm.run(R, s.K, s.C_out, dy, s.C_out, 1, w, 1, s.C_out, cols, s.K, 1, 0, workspace + t * ws,
               t, nt, nullptr);
#pragma omp barrier
      std::fill(grad_x + image_offset(g, b), grad_x + image_offset(g, e), T(0));
      for (int64_t n = b; n < e; ++n)
        cpu::col2im_nhwc<T>(g, cols + (n - n0) * s.P * s.K, 0, s.P, 0, g.in_channels,
                            grad_x + image_offset(g, n));
    });
  });
}

}  // namespace

namespace cpu {

bool conv_small_images(const ConvGeometry& g) {
  return g.groups == 1 && !g.is_pointwise() && g.out_pixels() <= kSmallImagePixels;
}

template <class T>
void conv_small_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out) {
  if (g.channels_last) return small_forward_last(g, x, w, bias, out);
  const ConvGeometry last = channels_last_twin(g);
  const int64_t x_elems = g.batch * g.in_channels * g.in_pixels();
  const int64_t y_elems = g.batch * g.out_channels * g.out_pixels();
  const int64_t w_elems = g.out_channels * g.patch();
  const SmallScratch scratch({x_elems * (int64_t)sizeof(T), y_elems * (int64_t)sizeof(T),
                              w_elems * (int64_t)sizeof(T), w_elems * (int64_t)sizeof(T)});
  T *x_last = scratch.at<T>(0), *y_last = scratch.at<T>(1), *w_last = scratch.at<T>(2);
  transpose_each(x, g.batch, g.in_channels, g.in_pixels(), x_last);
  move_weight(g, w, w_last, /*to_first=*/false, scratch.at<T>(3));
  small_forward_last(last, x_last, w_last, bias, y_last);
  transpose_each(y_last, g.batch, g.out_pixels(), g.out_channels, out);
}

template <class T>
void conv_small_backward(const ConvGeometry& g, const T* grad, const T* x, const T* w, T* grad_x,
                         T* grad_w) {
  if (g.channels_last) return small_backward_last(g, grad, x, w, grad_x, grad_w);
  const ConvGeometry last = channels_last_twin(g);
  const int64_t x_elems = g.batch * g.in_channels * g.in_pixels();
  const int64_t y_elems = g.batch * g.out_channels * g.out_pixels();
  const int64_t w_elems = g.out_channels * g.patch();
  const int64_t t = (int64_t)sizeof(T);
  // Channels-last copies: the input (for dW), the gradient, the weight (for dx), and the results.
  const SmallScratch scratch({grad_w ? x_elems * t : 0, y_elems * t, grad_x ? w_elems * t : 0,
                              grad_x ? x_elems * t : 0, grad_w ? w_elems * t : 0, w_elems * t});
  T *x_last = scratch.at<T>(0), *dy_last = scratch.at<T>(1), *w_last = scratch.at<T>(2);
  T *dx_last = scratch.at<T>(3), *dw_last = scratch.at<T>(4);
  transpose_each(grad, g.batch, g.out_channels, g.out_pixels(), dy_last);
  if (grad_w) transpose_each(x, g.batch, g.in_channels, g.in_pixels(), x_last);
  if (grad_x) move_weight(g, w, w_last, /*to_first=*/false, scratch.at<T>(5));
  small_backward_last(last, dy_last, x_last, w_last, grad_x ? dx_last : nullptr,
                      grad_w ? dw_last : nullptr);
  if (grad_x) transpose_each(dx_last, g.batch, g.in_pixels(), g.in_channels, grad_x);
  if (grad_w) move_weight(g, dw_last, grad_w, /*to_first=*/true, scratch.at<T>(5));
}

template void conv_small_forward<float>(const ConvGeometry&, const float*, const float*,
                                        const float*, float*);
template void conv_small_forward<double>(const ConvGeometry&, const double*, const double*,
                                         const double*, double*);
template void conv_small_backward<float>(const ConvGeometry&, const float*, const float*,
                                         const float*, float*, float*);
template void conv_small_backward<double>(const ConvGeometry&, const double*, const double*,
                                          const double*, double*, double*);

}  // namespace cpu
}  // namespace ember
