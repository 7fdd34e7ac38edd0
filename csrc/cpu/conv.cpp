// conv1d / conv2d and their backward: argument checking, the geometry, the bias gradient, and the
// choice of kernel (shape conventions in conv.h and conv_gemm.cpp):
//   direct kernels (conv_direct.cpp; AVX2 / AVX-512)     forward; dx of stride-1 convolutions (a
//                                                       convolution of dY); channels-last dW, and
//                                                       channels-first dW with enough channels
//   one GEMM over the batch (conv_gemm.cpp; any CPU)     images of at most 16 output pixels, where
//                                                       per-image products are too thin
//   column buffers + GEMM (conv_gemm.cpp; any CPU)      everything on the baseline build; the
//                                                       channels-first 1x1 stride-1 forward (a
//                                                       GEMM on the input); dx of strided
//                                                       convolutions; dW with few input channels
//
// A 1-d convolution is the 2-d one at height 1: x (N, C, L) is read as (N, C, 1, L), channels last
// (N, L, C) as (N, 1, L, C), without a copy. Inputs that are not contiguous in the layout the call
// names are copied once, up front; the outputs are contiguous in that layout.
#include "cpu/conv.h"

#include <cstring>
#include <string>

#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/conv_kernels.h"

namespace ember {
namespace {

using cpu::ConvGeometry;

std::string tuple_str(const std::vector<int64_t>& values) {
  if (values.size() == 1) return str_cat("(", values[0], ",)");
  return shape_str(values);
}

// "(N, C_in, H, W)" and the like, for messages.
std::string layout_str(int spatial, bool channels_last, const char* channels) {
  const std::string dims = spatial == 1 ? "L" : "H, W";
  return channels_last ? str_cat("(N, ", dims, ", ", channels, ")")
                       : str_cat("(N, ", channels, ", ", dims, ")");
}

std::string weight_layout_str(int spatial, bool channels_last) {
  const std::string dims = spatial == 1 ? "k" : "kh, kw";
  return channels_last ? str_cat("(", dims, ", C_in / groups, C_out)")
                       : str_cat("(C_out, C_in / groups, ", dims, ")");
}

void check_dtypes(const char* op, const Tensor& x, const Tensor& weight, const Tensor* bias) {
  EMBER_CHECK(is_floating(x.dtype), TypeError, op, ": expected a float32 or float64 input, got ",
              dtype_name(x.dtype));
  EMBER_CHECK(weight.dtype == x.dtype, TypeError, op, ": input is ", dtype_name(x.dtype),
              " but weight is ", dtype_name(weight.dtype),
              "; convert one of them (e.g. model.double() or x.float())");
  EMBER_CHECK(!bias || bias->dtype == x.dtype, TypeError, op, ": input is ", dtype_name(x.dtype),
              " but bias is ", dtype_name(bias->dtype));
  for (const Tensor* t : {&x, &weight, bias}) {
    if (!t) continue;
    EMBER_CHECK(t->device().is_cpu(), RuntimeError, op, ": no kernel for device ",
                t->device().str(), " yet; move the tensors to the CPU");
  }
}

// params.<name> as `spatial` values: one per spatial dim (a single value repeats).
std::vector<int64_t> per_dim(const char* op, const char* name, const std::vector<int64_t>& values,
                             int spatial) {
  EMBER_CHECK((int)values.size() == spatial || values.size() == 1, ValueError, op, ": expected ",
              name, " to hold ", spatial, " value", spatial == 1 ? "" : "s", ", got ",
              tuple_str(values));
  return values.size() == 1 ? std::vector<int64_t>(spatial, values[0]) : values;
}

// Checks every argument and derives the geometry; `spatial` is 1 or 2.
ConvGeometry make_geometry(const char* op, int spatial, const Tensor& x, const Tensor& weight,
                           const Tensor* bias, const ConvParams& p) {
  check_dtypes(op, x, weight, bias);
  const bool last = p.channels_last;
  EMBER_CHECK(x.ndim() == spatial + 2, ValueError, op, ": expected a ", spatial + 2, "-d input ",
              layout_str(spatial, last, "C_in"), ", got shape ", shape_str(x.shape),
              x.ndim() == spatial + 1 ? "; add a batch dim with x.unsqueeze(0)" : "");
  EMBER_CHECK(weight.ndim() == spatial + 2, ValueError, op, ": expected a ", spatial + 2,
              "-d weight ", weight_layout_str(spatial, last), ", got shape ",
              shape_str(weight.shape));
  const std::vector<int64_t> stride = per_dim(op, "stride", p.stride, spatial);
  const std::vector<int64_t> dilation = per_dim(op, "dilation", p.dilation, spatial);
  EMBER_CHECK((int)p.padding.size() == spatial || (int)p.padding.size() == 2 * spatial ||
                  p.padding.size() == 1,
              ValueError, op, ": expected padding to hold ", spatial, " or ", 2 * spatial,
              " values, got ", tuple_str(p.padding));
  for (int64_t s : stride)
    EMBER_CHECK(s > 0, ValueError, op, ": stride must be positive, got ", tuple_str(p.stride));
  for (int64_t d : dilation)
    EMBER_CHECK(d > 0, ValueError, op, ": dilation must be positive, got ", tuple_str(p.dilation));
  for (int64_t q : p.padding)
    EMBER_CHECK(q >= 0, ValueError, op, ": padding must be non-negative, got ",
                tuple_str(p.padding));
  EMBER_CHECK(p.groups > 0, ValueError, op, ": groups must be positive, got ", p.groups);

  // Padding per side: (before, after) for each spatial dim.
  std::vector<int64_t> pad(2 * spatial);
  for (int d = 0; d < spatial; ++d) {
    if ((int)p.padding.size() == 2 * spatial) {
      pad[2 * d] = p.padding[2 * d], pad[2 * d + 1] = p.padding[2 * d + 1];
    } else {
      pad[2 * d] = pad[2 * d + 1] = p.padding[p.padding.size() == 1 ? 0 : d];
    }
  }

  ConvGeometry g;
  g.channels_last = last;
  g.groups = p.groups;
  g.batch = x.shape[0];
  g.in_channels = last ? x.shape.back() : x.shape[1];
  g.out_channels = last ? weight.shape.back() : weight.shape[0];
  const int64_t weight_in = last ? weight.shape[spatial] : weight.shape[1];
  const int64_t first = last ? 1 : 2;  // first spatial dim of x
  const int64_t wfirst = last ? 0 : 2;
  EMBER_CHECK(g.out_channels % p.groups == 0, ValueError, op, ": groups=", p.groups,
              " must divide the output channels, but weight ", shape_str(weight.shape), " has ",
              g.out_channels);
  EMBER_CHECK(weight_in * p.groups == g.in_channels, ValueError, op, ": weight ",
              shape_str(weight.shape), " with groups=", p.groups, " expects input ",
              layout_str(spatial, last, std::to_string(weight_in * p.groups).c_str()),
              " with ", weight_in * p.groups, " channels, got ", shape_str(x.shape));
  if (bias)
    EMBER_CHECK(bias->ndim() == 1 && bias->shape[0] == g.out_channels, ValueError, op,
                ": bias must have shape (", g.out_channels, ",) to match weight ",
                shape_str(weight.shape), ", got ", shape_str(bias->shape));

  int64_t in[2] = {1, 1}, kernel[2] = {1, 1}, out[2] = {1, 1};
  for (int d = 0; d < spatial; ++d) {
    const int slot = spatial == 1 ? 1 : d;
    in[slot] = x.shape[first + d];
    kernel[slot] = weight.shape[wfirst + d];
    const int64_t padded = in[slot] + pad[2 * d] + pad[2 * d + 1];
    const int64_t span = dilation[d] * (kernel[slot] - 1) + 1;
    EMBER_CHECK(kernel[slot] > 0, ValueError, op, ": weight ", shape_str(weight.shape),
                " has an empty kernel");
    EMBER_CHECK(span <= padded, ValueError, op, ": the kernel ",
                spatial == 1 ? str_cat("(", kernel[1], ",)")
                             : shape_str({weight.shape[wfirst], weight.shape[wfirst + 1]}),
                " with dilation ", tuple_str(dilation), " spans ", span,
                " positions but the padded input is only ", padded, " wide (input shape ",
                shape_str(x.shape), ", padding ", tuple_str(p.padding),
                "); pad the input or use a smaller kernel");
    out[slot] = (padded - span) / stride[d] + 1;
  }
  g.in_h = in[0], g.in_w = in[1];
  g.kernel_h = kernel[0], g.kernel_w = kernel[1];
  g.out_h = out[0], g.out_w = out[1];
  if (spatial == 2) {
    g.stride_h = stride[0], g.stride_w = stride[1];
    g.dilation_h = dilation[0], g.dilation_w = dilation[1];
    g.pad_top = pad[0], g.pad_bottom = pad[1], g.pad_left = pad[2], g.pad_right = pad[3];
  } else {
    g.stride_w = stride[0], g.dilation_w = dilation[0];
    g.pad_left = pad[0], g.pad_right = pad[1];
  }
  return g;
}

Shape output_shape(const ConvGeometry& g, int spatial) {
  if (spatial == 1)
    return g.channels_last ? Shape{g.batch, g.out_w, g.out_channels}
                           : Shape{g.batch, g.out_channels, g.out_w};
  return g.channels_last ? Shape{g.batch, g.out_h, g.out_w, g.out_channels}
                         : Shape{g.batch, g.out_channels, g.out_h, g.out_w};
}

void zero_fill(const Tensor& t) {
  if (t.numel() > 0) std::memset(t.raw_data(), 0, (size_t)(t.numel() * itemsize(t.dtype)));
}

Tensor conv_forward(const char* op, int spatial, const Tensor& x, const Tensor& weight,
                    const std::optional<Tensor>& bias, const ConvParams& params) {
  const ConvGeometry g = make_geometry(op, spatial, x, weight, bias ? &*bias : nullptr, params);
  Tensor out = empty(output_shape(g, spatial), x.dtype);
  if (out.numel() == 0) return out;
  const Tensor xc = contiguous(x), wc = contiguous(weight);
  const Tensor bc = bias ? contiguous(*bias) : Tensor{};
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* b = bias ? bc.data<T>() : nullptr;
    if (cpu::conv_small_images(g)) {
      cpu::conv_small_forward<T>(g, xc.data<T>(), wc.data<T>(), b, out.data<T>());
    } else if (cpu::conv_direct_available(g)) {
      cpu::conv_direct<T>(g, xc.data<T>(), wc.data<T>(), b, out.data<T>(), /*input_grad=*/false);
    } else {
      cpu::conv_forward<T>(g, xc.data<T>(), wc.data<T>(), b, out.data<T>());
    }
  });
  return out;
}

// Sum of a contiguous row in kLanes independent partial sums, which the compiler keeps in vector
// registers (a single running sum is a chain of dependent adds it may not reorder).
template <class T>
T row_sum(const T* row, int64_t n) {
  constexpr int kLanes = 16;
  T partial[kLanes] = {};
  int64_t p = 0;
  for (; p + kLanes <= n; p += kLanes)
    for (int q = 0; q < kLanes; ++q) partial[q] += row[p + q];
  T total = T(0);
  for (; p < n; ++p) total += row[p];
  for (int q = 0; q < kLanes; ++q) total += partial[q];
  return total;
}

// db[co] = sum of grad over images and pixels.
template <class T>
void bias_grad(const ConvGeometry& g, const T* grad, T* db) {
  const int64_t C = g.out_channels, P = g.out_pixels();
  if (!g.channels_last) {
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, g.batch * P));
    parallel_for(0, C, grain, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        T total = T(0);
        for (int64_t n = 0; n < g.batch; ++n) total += row_sum(grad + (n * C + c) * P, P);
        db[c] = total;
      }
    });
    return;
  }
  // Channels last: blocks of kBlock rows summed into a vector each (in parallel), then the blocks'
  // vectors in order, so the result does not depend on the thread count.
  constexpr int64_t kBlock = 256;
  const int64_t rows = g.batch * P, n_blocks = (rows + kBlock - 1) / kBlock;
  std::vector<T> block_sums((size_t)(n_blocks * C), T(0));
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / (kBlock * std::max<int64_t>(C, 1)));
  parallel_for(0, n_blocks, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* sums = block_sums.data() + b * C;
      for (int64_t r = b * kBlock; r < std::min(rows, (b + 1) * kBlock); ++r) {
        const T* row = grad + r * C;
        for (int64_t c = 0; c < C; ++c) sums[c] += row[c];
      }
    }
  });
  for (int64_t c = 0; c < C; ++c) db[c] = T(0);
  for (int64_t b = 0; b < n_blocks; ++b)
    for (int64_t c = 0; c < C; ++c) db[c] += block_sums[b * C + c];
}

ConvGrads conv_backward(const char* op, int spatial, const Tensor& grad, const Tensor& x,
                        const Tensor& weight, const ConvParams& params, bool need_input,
                        bool need_weight, bool need_bias) {
  const ConvGeometry g = make_geometry(op, spatial, x, weight, nullptr, params);
  const Shape expected = output_shape(g, spatial);
  EMBER_CHECK(grad.shape == expected, ValueError, op, "_backward: grad has shape ",
              shape_str(grad.shape), " but the convolution's output has shape ",
              shape_str(expected));
  EMBER_CHECK(grad.dtype == x.dtype, TypeError, op, "_backward: grad is ", dtype_name(grad.dtype),
              " but input is ", dtype_name(x.dtype));
  EMBER_CHECK(grad.device().is_cpu(), RuntimeError, op, "_backward: no kernel for device ",
              grad.device().str());
  ConvGrads out;
  if (need_input) out.input = empty(x.shape, x.dtype);
  if (need_weight) out.weight = empty(weight.shape, x.dtype);
  if (need_bias) out.bias = empty({g.out_channels}, x.dtype);
  // The direct kernel (a convolution of dY) and the GEMM of a pointwise convolution write every
  // element of the input gradient once; col2im adds to it (the small-image path zeroes each image
  // itself).
  ConvGeometry transposed;
  const bool small = cpu::conv_small_images(g);
  const bool direct_input_grad = !small && need_input && grad.numel() > 0 &&
                                 cpu::conv_direct_available(g) &&
                                 cpu::conv_input_grad_geometry(g, &transposed);
  if (need_input && !direct_input_grad && !((g.is_pointwise() || small) && grad.numel() > 0))
    zero_fill(*out.input);
  if (need_weight) zero_fill(*out.weight);
  const Tensor gc = contiguous(grad);
  dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (need_bias) bias_grad<T>(g, gc.data<T>(), out.bias->data<T>());
    if ((!need_input && !need_weight) || grad.numel() == 0) return;
    const Tensor xc = contiguous(x), wc = contiguous(weight);
    T* gx = need_input ? out.input->data<T>() : nullptr;
    T* gw = need_weight ? out.weight->data<T>() : nullptr;
    if (small) {
      cpu::conv_small_backward<T>(g, gc.data<T>(), xc.data<T>(), wc.data<T>(), gx, gw);
      return;
    }
    if (direct_input_grad) {
      cpu::conv_direct<T>(transposed, gc.data<T>(), wc.data<T>(), nullptr, gx, /*input_grad=*/true);
      gx = nullptr;
    }
    if (gw && cpu::conv_direct_weight_grad_available(g)) {
      cpu::conv_direct_weight_grad<T>(g, xc.data<T>(), gc.data<T>(), gw);
      gw = nullptr;
    }
    if (gx || gw) cpu::conv_backward<T>(g, gc.data<T>(), xc.data<T>(), wc.data<T>(), gx, gw);
  });
  return out;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias,
              const ConvParams& params) {
  return conv_forward("conv2d", 2, x, weight, bias, params);
}

ConvGrads conv2d_backward(const Tensor& grad, const Tensor& x, const Tensor& weight,
                          const ConvParams& params, bool need_input, bool need_weight,
                          bool need_bias) {
  return conv_backward("conv2d", 2, grad, x, weight, params, need_input, need_weight, need_bias);
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias,
              const ConvParams& params) {
  return conv_forward("conv1d", 1, x, weight, bias, params);
}

ConvGrads conv1d_backward(const Tensor& grad, const Tensor& x, const Tensor& weight,
                          const ConvParams& params, bool need_input, bool need_weight,
                          bool need_bias) {
  return conv_backward("conv1d", 1, grad, x, weight, params, need_input, need_weight, need_bias);
}

}  // namespace ember
