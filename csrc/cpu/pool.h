// 2-d pooling on the CPU: max, average and adaptive average pooling, each forward beside its
// backward, with PyTorch's semantics (output sizes, ceil_mode, divisors, the index max pooling picks).
//
// Shape convention: an input is 4-d, (N, C, H, W), or with channels_last (N, H, W, C); a 3-d input
// is one unbatched image, (C, H, W) or (H, W, C). Outputs have the input's layout and batchedness.
// `name` is the op or layer the error messages name ("max_pool2d", "MaxPool2d", ...).
#pragma once
#include <array>
#include <optional>
#include <string>
#include <utility>

#include "core/tensor.h"

namespace ember {
namespace cpu {

using Pair = std::array<int64_t, 2>;  // (along H, along W)

// (out, indices): indices are int64 flat positions ih * W + iw inside each input plane.
std::pair<Tensor, Tensor> max_pool2d(const Tensor& input, Pair kernel, Pair stride, Pair padding, Pair dilation,
                                     bool ceil_mode, bool channels_last, const std::string& name);
// Routes each gradient to the input element its index names, adding where windows overlap.
Tensor max_pool2d_backward(const Tensor& grad, const Tensor& indices, const Shape& input_shape, bool channels_last);

// divisor_override: 0 or absent for the default divisor.
Tensor avg_pool2d(const Tensor& input, Pair kernel, Pair stride, Pair padding, bool ceil_mode, bool count_include_pad,
                  std::optional<int64_t> divisor_override, bool channels_last, const std::string& name);
Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, Pair kernel, Pair stride, Pair padding,
                           bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override,
                           bool channels_last);

// output_size (OH, OW), both positive; (1, 1) is global average pooling.
Tensor adaptive_avg_pool2d(const Tensor& input, Pair output_size, bool channels_last, const std::string& name);
Tensor adaptive_avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, bool channels_last);

}  // namespace cpu
}  // namespace ember
