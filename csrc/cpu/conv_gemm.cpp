// The column-buffer path of convolution: GEMMs over im2col buffers, natively in both memory layouts,
// and threads. It runs every convolution on CPUs without AVX2 (and is the reference the direct
// kernels are tested against), and the cases conv.cpp does not give to the direct kernels.
//
// Shapes (groups g, K = C_in / g * kh * kw, P = OH * OW output pixels of one image):
//   channels first: x (N, C_in, H, W), weight (C_out, C_in / g, kh, kw), out (N, C_out, OH, OW)
//   channels last:  x (N, H, W, C_in), weight (kh, kw, C_in / g, C_out), out (N, OH, OW, C_out)
// Per image and group, with cols the patches of conv_kernels.h:
//   channels first: out (C_out / g, P)   = W (C_out / g, K) @ cols (K, P)
//   channels last:  out (P, C_out / g)   = cols (P, K) @ W (K, C_out / g)
// so each layout's GEMM writes its own output layout directly. Backward, per image and group:
//   channels first: dW += dY (C_out / g, P) @ cols^T;   dcols (K, P) = W^T @ dY
//   channels last:  dW += cols^T @ dY (P, C_out / g);   dcols (P, K) = dY @ W^T
// then col2im scatter-adds dcols onto dx, and db sums dY over images and pixels.
//
// Column buffers are built for a tile of an image's output pixels at a time, sized to stay in the
// L2 cache next to the GEMM's packed panels; a 1x1 kernel with stride 1 and no padding needs no
// buffer, its input being the column matrix already. Threads take whole images while every
// thread has one; the images left over (and a batch smaller than the thread count) are computed by
// all threads together: each tile's im2col and col2im split by rows or channels, the GEMM by its
// blocks of the result.

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/allocator.h"
#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/conv_kernels.h"
#include "cpu/conv_threads.h"
#include "cpu/gemm_select.h"

namespace ember {
namespace {

using cpu::ConvGeometry;
using cpu::ScratchPool;
using cpu::Team;
using cpu::Gemm;
using cpu::gemm_kernel;

// Bytes of one thread's column buffer: with the GEMM's packed panels it stays in a 2 MiB L2.
constexpr int64_t kColumnBufferBytes = 512 << 10;
// Fewest pixels per tile: the GEMM repacks the weight for each tile, which must be paid for by
// enough columns of work.
constexpr int64_t kMinTilePixels = 256;

// One thread's scratch memory: the GEMM's packing space and up to two column buffers.
template <class T>
struct Scratch {
  void* gemm = nullptr;
  T* cols = nullptr;
  T* dcols = nullptr;
};

// ---- one image ------------------------------------------------------------------------------------

// Offsets of image n, group grp's first element in the input, the weight and the output.
int64_t input_offset(const ConvGeometry& g, int64_t n, int64_t grp) {
  return g.channels_last ? n * g.in_pixels() * g.in_channels + grp * g.in_per_group()
                         : (n * g.in_channels + grp * g.in_per_group()) * g.in_pixels();
}
int64_t weight_offset(const ConvGeometry& g, int64_t grp) {
  return g.channels_last ? grp * g.out_per_group() : grp * g.out_per_group() * g.patch();
}
int64_t output_offset(const ConvGeometry& g, int64_t n, int64_t grp) {
  return g.channels_last ? n * g.out_pixels() * g.out_channels + grp * g.out_per_group()
                         : (n * g.out_channels + grp * g.out_per_group()) * g.out_pixels();
}

// Pixels per tile of the column buffer.
template <class T>
int64_t tile_pixels(const ConvGeometry& g) {
  if (g.is_pointwise()) return std::max<int64_t>(g.out_pixels(), 1);
  const int64_t budget = kColumnBufferBytes / (int64_t)sizeof(T) / std::max<int64_t>(g.patch(), 1);
  return std::max<int64_t>(1, std::min(g.out_pixels(), std::max(kMinTilePixels, budget)));
}

// The column matrix of pixels [p0, p1) of one image and group: built into `buffer` by the team,
// or, for a pointwise convolution, the input itself. Element (k, j) of a channels-first column
// matrix is at [k * ld + j] (at [j * ld + k] when built `pixel_major`), of a channels-last one at
// [j * ld + k].
template <class T>
const T* columns(const ConvGeometry& g, const T* x, int64_t p0, int64_t p1, T* buffer,
                 const Team& team, int64_t* ld, bool pixel_major = false) {
  if (g.is_pointwise()) {
    *ld = g.channels_last ? g.in_channels : g.in_pixels();
    return g.channels_last ? x + p0 * g.in_channels : x + p0;
  }
  int64_t b, e;
  if (g.channels_last) {
    *ld = g.patch();
    team.share(p1 - p0, &b, &e);
    cpu::im2col_nhwc<T>(g, x, p0 + b, p0 + e, buffer + b * g.patch());
  } else {
    *ld = pixel_major ? g.patch() : p1 - p0;
    team.share(g.patch(), &b, &e);
    cpu::im2col_nchw<T>(g, x, p0, p1, b, e, buffer, pixel_major ? 1 : p1 - p0,
                        pixel_major ? g.patch() : 1);
  }
  team.sync();
  return buffer;
}

template <class T>
void add_bias(const ConvGeometry& g, const T* bias, T* out, int64_t p0, int64_t p1,
              const Team& team) {
  const int64_t opg = g.out_per_group();
  int64_t b, e;
  if (g.channels_last) {
    team.share(p1 - p0, &b, &e);
    for (int64_t p = p0 + b; p < p0 + e; ++p) {
      T* row = out + p * g.out_channels;
      for (int64_t co = 0; co < opg; ++co) row[co] += bias[co];
    }
  } else {
    team.share(opg, &b, &e);
    for (int64_t co = b; co < e; ++co) {
      T* row = out + co * g.out_pixels();
      const T value = bias[co];
      for (int64_t p = p0; p < p1; ++p) row[p] += value;
    }
  }
}

template <class T>
void forward_image(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out, int64_t n,
                   const Scratch<T>& scratch, const Scratch<T>& own, const Team& team) {
  const Gemm<T>& gemm = gemm_kernel<T>();
  const int64_t opg = g.out_per_group(), K = g.patch(), P = g.out_pixels();
  const int64_t tile = tile_pixels<T>(g);
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    const T* xg = x + input_offset(g, n, grp);
    const T* wg = w + weight_offset(g, grp);
    T* yg = out + output_offset(g, n, grp);
    for (int64_t p0 = 0; p0 < P; p0 += tile) {
      const int64_t p1 = std::min(P, p0 + tile), np = p1 - p0;
      int64_t ld;
      const T* cols = columns(g, xg, p0, p1, scratch.cols, team, &ld);
      if (g.channels_last) {
        gemm.run(np, opg, K, cols, ld, 1, wg, g.out_channels, 1, yg + p0 * g.out_channels,
                 g.out_channels, 1, 0, own.gemm, team.rank, team.size, nullptr);
      } else {
        gemm.run(opg, np, K, wg, K, 1, cols, ld, 1, yg + p0, P, 1, 0, own.gemm, team.rank,
                 team.size, nullptr);
      }
      team.sync();  // the tile's output is complete, and the column buffer free again
      if (bias) add_bias(g, bias + grp * opg, yg, p0, p1, team);
    }
  }
}

// What a backward call computes: its inputs and the gradients it writes (null where not asked).
template <class T>
struct BackwardArgs {
  const T* grad;
  const T* x;
  const T* w;
  T* grad_x;  // zeroed beforehand unless the convolution is pointwise
};

// The weight gradient is accumulated as the GEMM computes it fastest. Channels last: in the
// weight's own (K, C_out) layout. Channels first, dW (C_out / g, K) = dY @ cols^T would pack
// cols^T, a strided gather of K x P elements; so it computes dW^T = cols @ dY^T into a (K, C_out / g)
// block per group (packing cols with vector transposes and gathering only dY^T), which
// weight_grad_to_layout transposes at the end. Except when K <= C_out / g (a first layer's
// K = 9): then it builds the column buffer pixel-major, (P, K), the cheaper gather, and dW =
// dY @ cols reads it with contiguous rows.
bool weight_grad_pixel_major(const ConvGeometry& g) {
  return !g.channels_last && !g.is_pointwise() && g.patch() <= g.out_per_group();
}

bool weight_grad_transposed(const ConvGeometry& g) {
  return !g.channels_last && !weight_grad_pixel_major(g);
}

template <class T>
T* weight_grad_at(const ConvGeometry& g, T* grad_w, int64_t grp) {
  return g.channels_last ? grad_w + grp * g.out_per_group()
                         : grad_w + grp * g.patch() * g.out_per_group();
}

template <class T>
void backward_image(const ConvGeometry& g, const BackwardArgs<T>& a, T* grad_w, int64_t n,
                    const Scratch<T>& scratch, const Scratch<T>& own, const Team& team) {
  const Gemm<T>& gemm = gemm_kernel<T>();
  const int64_t opg = g.out_per_group(), cpg = g.in_per_group(), K = g.patch();
  const int64_t P = g.out_pixels(), tile = tile_pixels<T>(g);
  const bool pointwise = g.is_pointwise();
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    const T* xg = a.x + input_offset(g, n, grp);
    const T* wg = a.w + weight_offset(g, grp);
    const T* dy = a.grad + output_offset(g, n, grp);
    T* gx = a.grad_x ? a.grad_x + input_offset(g, n, grp) : nullptr;
    for (int64_t p0 = 0; p0 < P; p0 += tile) {
      const int64_t p1 = std::min(P, p0 + tile), np = p1 - p0;
      if (grad_w) {
        int64_t ld;
        const bool pixel_major = weight_grad_pixel_major(g);
        const T* cols = columns(g, xg, p0, p1, scratch.cols, team, &ld, pixel_major);
        T* gw = weight_grad_at(g, grad_w, grp);
        if (g.channels_last) {
          gemm.run(K, opg, np, cols, 1, ld, dy + p0 * g.out_channels, g.out_channels, 1, gw,
                   g.out_channels, 1, 1, own.gemm, team.rank, team.size, nullptr);
        } else if (pixel_major) {
          gemm.run(opg, K, np, dy + p0, P, 1, cols, ld, 1, gw, K, 1, 1, own.gemm, team.rank,
                   team.size, nullptr);
        } else {
          gemm.run(K, opg, np, cols, ld, 1, dy + p0, 1, P, gw, opg, 1, 1, own.gemm, team.rank,
                   team.size, nullptr);
        }
      }
      if (gx) {
        // Pointwise: each input element has one output pixel, so its gradient is written at once.
        T* dcols = pointwise ? (g.channels_last ? gx + p0 * g.in_channels : gx + p0) : scratch.dcols;
        const int64_t ld = pointwise ? (g.channels_last ? g.in_channels : g.in_pixels())
                                     : (g.channels_last ? K : np);
        if (g.channels_last) {
          gemm.run(np, K, opg, dy + p0 * g.out_channels, g.out_channels, 1, wg, 1, g.out_channels,
                   dcols, ld, 1, 0, own.gemm, team.rank, team.size, nullptr);
        } else {
          gemm.run(K, np, opg, wg, 1, K, dy + p0, P, 1, dcols, ld, 1, 0, own.gemm, team.rank,
                   team.size, nullptr);
        }
        if (!pointwise) {
          team.sync();
          int64_t c0, c1;
          team.share(cpg, &c0, &c1);
          if (g.channels_last) {
            cpu::col2im_nhwc<T>(g, dcols, p0, p1, c0, c1, gx);
          } else {
            cpu::col2im_nchw<T>(g, dcols, p0, p1, c0, c1, gx, np, 1);
          }
        }
      }
      team.sync();  // buffers free again before the next tile overwrites them
    }
  }
}

// ---- the batch --------------------------------------------------------------------------------------

int64_t gemm_workspace(const ConvGeometry& g, int64_t tile, bool is_double) {
  const int64_t opg = g.out_per_group(), K = g.patch();
  const auto ws = [&](int64_t m, int64_t n, int64_t k) {
    return is_double ? gemm_kernel<double>().workspace_bytes(m, n, k)
                     : gemm_kernel<float>().workspace_bytes(m, n, k);
  };
  // Every product of a tile: forward, dW and dcols (the bytes are symmetric in m and n).
  return std::max({ws(opg, tile, K), ws(opg, K, tile), ws(K, tile, opg)});
}

template <class T>
std::vector<Scratch<T>> carve_scratch(const ScratchPool& pool, int n_threads, int64_t gemm_bytes,
                                      int64_t buffer_elems, int n_buffers) {
  std::vector<Scratch<T>> out(n_threads);
  const int64_t gemm_aligned = (gemm_bytes + 63) / 64 * 64;
  const int64_t buffer_bytes = (buffer_elems * (int64_t)sizeof(T) + 63) / 64 * 64;
  for (int t = 0; t < n_threads; ++t) {
    char* base = pool.for_thread(t);
    out[t].gemm = base;
    if (n_buffers > 0) out[t].cols = reinterpret_cast<T*>(base + gemm_aligned);
    if (n_buffers > 1) out[t].dcols = reinterpret_cast<T*>(base + gemm_aligned + buffer_bytes);
  }
  return out;
}

int64_t scratch_bytes(int64_t gemm_bytes, int64_t buffer_elems, int64_t elem_size, int n_buffers) {
  return (gemm_bytes + 63) / 64 * 64 + n_buffers * ((buffer_elems * elem_size + 63) / 64 * 64);
}

// grad_w = the sum of the threads' partial weight gradients, in the weight's layout.
template <class T>
void weight_grad_to_layout(const ConvGeometry& g, const T* partial, int n_partial, T* grad_w) {
  const int64_t w_elems = g.out_channels * g.patch(), K = g.patch(), opg = g.out_per_group();
  for (int64_t i = 0; i < w_elems; ++i) {
    T total = partial[i];
    for (int t = 1; t < n_partial; ++t) total += partial[t * w_elems + i];
    if (!weight_grad_transposed(g)) {
      grad_w[i] = total;
    } else {  // element (grp, k, co) of the per-group transposed blocks
      const int64_t grp = i / (K * opg), k = i / opg % K, co = i % opg;
      grad_w[(grp * opg + co) * K + k] = total;
    }
  }
}

}  // namespace

namespace cpu {

template <class T>
void conv_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out) {
  const double flops = 2.0 * g.batch * g.out_channels * g.out_pixels() * g.patch();
  const int n_threads = cpu::conv_threads(flops);
  const int64_t tile = tile_pixels<T>(g);
  const int64_t gemm_bytes = gemm_workspace(g, tile, sizeof(T) == 8);
  const int n_buffers = g.is_pointwise() ? 0 : 1;
  const int64_t buffer_elems = g.patch() * tile;
  ScratchPool pool(scratch_bytes(gemm_bytes, buffer_elems, sizeof(T), n_buffers), n_threads);
  const auto scratch = carve_scratch<T>(pool, n_threads, gemm_bytes, buffer_elems, n_buffers);
  for_each_image(g.batch, n_threads, [&](int64_t n, int t, const Team& team) {
    forward_image<T>(g, x, w, bias, out, n, scratch[team.size > 1 ? 0 : t], scratch[t], team);
  });
}

template <class T>
void conv_backward(const ConvGeometry& g, const T* grad, const T* x, const T* w, T* grad_x,
                   T* grad_w) {
  const BackwardArgs<T> a{grad, x, w, grad_x};
  const double flops = 2.0 * g.batch * g.out_channels * g.out_pixels() * g.patch() *
                       ((a.grad_x ? 1 : 0) + (grad_w ? 1 : 0));
  const int n_threads = cpu::conv_threads(flops);
  const int64_t tile = tile_pixels<T>(g);
  const int64_t gemm_bytes = gemm_workspace(g, tile, sizeof(T) == 8);
  const int n_buffers = g.is_pointwise() ? 0 : 2;
  const int64_t buffer_elems = g.patch() * tile;
  const int64_t w_elems = g.out_channels * g.patch();
  ScratchPool pool(scratch_bytes(gemm_bytes, buffer_elems, sizeof(T), n_buffers), n_threads);
  const auto scratch = carve_scratch<T>(pool, n_threads, gemm_bytes, buffer_elems, n_buffers);
  // Each thread adds its images' dW into its own copy (those sharing images use the first).
  std::vector<T> partial_w(grad_w ? (size_t)(w_elems * n_threads) : 0, T(0));
  for_each_image(g.batch, n_threads, [&](int64_t n, int t, const Team& team) {
    const int shared = team.size > 1 ? 0 : t;  // whose buffers the team uses
    T* gw = grad_w ? partial_w.data() + shared * w_elems : nullptr;
    backward_image<T>(g, a, gw, n, scratch[shared], scratch[t], team);
  });
  if (grad_w) weight_grad_to_layout(g, partial_w.data(), n_threads, grad_w);
}

template void conv_forward<float>(const ConvGeometry&, const float*, const float*, const float*,
                                  float*);
template void conv_forward<double>(const ConvGeometry&, const double*, const double*,
                                   const double*, double*);
template void conv_backward<float>(const ConvGeometry&, const float*, const float*, const float*,
                                   float*, float*);
template void conv_backward<double>(const ConvGeometry&, const double*, const double*,
                                    const double*, double*, double*);

}  // namespace cpu
}  // namespace ember
