// 2-d (and 1-d) convolution, forward and backward, in both memory layouts (see conv.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "core/tensor.h"

namespace ember {

// The geometry a convolution call is given, before checking.
//   stride, dilation: (h, w); padding: (h, w) symmetric or (top, bottom, left, right).
struct ConvParams {
  std::vector<int64_t> stride, padding, dilation;
  int64_t groups = 1;
  bool channels_last = false;
};

// channels_last == false: x (N, C_in, H, W), weight (C_out, C_in / groups, kh, kw), out (N, C_out, OH, OW)
// channels_last == true:  x (N, H, W, C_in), weight (kh, kw, C_in / groups, C_out), out (N, OH, OW, C_out)
// bias (C_out) or none.
Tensor conv2d(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias,
              const ConvParams& params);

struct ConvGrads {
  std::optional<Tensor> input, weight, bias;  // empty where not asked for
};
ConvGrads conv2d_backward(const Tensor& grad, const Tensor& x, const Tensor& weight,
                          const ConvParams& params, bool need_input, bool need_weight,
                          bool need_bias);

// The same over one spatial dim, as a 2-d convolution of height 1:
//   channels_last == false: x (N, C_in, L), weight (C_out, C_in / groups, k)
//   channels_last == true:  x (N, L, C_in), weight (k, C_in / groups, C_out)
// stride and dilation hold one value, padding one (both sides) or two (left, right).
Tensor conv1d(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias,
              const ConvParams& params);
ConvGrads conv1d_backward(const Tensor& grad, const Tensor& x, const Tensor& weight,
                          const ConvParams& params, bool need_input, bool need_weight,
                          bool need_bias);

}  // namespace ember
