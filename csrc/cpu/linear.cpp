// The fully connected layer as two calls: forward y = x @ W^T + b, backward (dx, dW, db).
//
// Shapes: x (..., in), W (out, in), b (out) or none, y (..., out); the leading dims of x are
// flattened into `rows`. W^T and the transposed gradient are read through their strides by the GEMM
// (no copies), and the bias is added to the freshly computed rows in the same call instead of a
// second broadcast pass from Python. Backward computes only the gradients asked for:
//   dx = dy @ W          (rows, out) @ (out, in)
//   dW = dy^T @ x        (out, rows) @ (rows, in)
//   db = column sums of dy
// For the small layers of MLP training, one call instead of four or five is most of the win.
#include "cpu/linear.h"

#include "core/errors.h"
#include "core/parallel.h"
#include "core/view.h"
#include "cpu/matmul.h"
#include "cpu/reduce.h"

namespace ember {

namespace {

void check_linear(const Tensor& x, const Tensor& weight, const Tensor* bias) {
  EMBER_CHECK(weight.ndim() == 2, ValueError, "linear: weight must be 2-d (out_features, in_features), got shape ",
              shape_str(weight.shape));
  EMBER_CHECK(x.ndim() >= 1 && x.shape.back() == weight.shape[1], ValueError, "linear: input has ",
              x.ndim() ? x.shape.back() : 0, " features (shape ", shape_str(x.shape), ") but weight expects ",
              weight.shape[1], " (shape ", shape_str(weight.shape), ")");
  EMBER_CHECK(x.dtype == weight.dtype, TypeError, "linear: input is ", dtype_name(x.dtype), " but weight is ",
              dtype_name(weight.dtype), "; convert one of them (e.g. model.double() or x.float())");
  if (bias) {
    EMBER_CHECK(bias->ndim() == 1 && bias->shape[0] == weight.shape[0], ValueError, "linear: bias must have shape (",
                weight.shape[0], ",) to match weight ", shape_str(weight.shape), ", got ", shape_str(bias->shape));
    EMBER_CHECK(bias->dtype == x.dtype, TypeError, "linear: bias is ", dtype_name(bias->dtype), " but input is ",
                dtype_name(x.dtype));
  }
}

// y (rows x n, contiguous) += b (n, any stride), rows split over threads.
template <class T>
void add_bias_rows(T* y, const T* b, int64_t b_stride, int64_t rows, int64_t n) {
  parallel_for(0, rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(n, 1)),
               [&](int64_t begin, int64_t end) {
                 for (int64_t r = begin; r < end; ++r) {
                   T* row = y + r * n;
                   for (int64_t j = 0; j < n; ++j) row[j] += b[j * b_stride];
                 }
               });
}

// The rows x is read as: the product of its leading dims (explicit, so that size-0 dims reshape).
int64_t leading_rows(const Tensor& x) {
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < x.ndim(); ++d) rows *= x.shape[d];
  return rows;
}

Shape with_last(Shape shape, int64_t last) {
  shape.back() = last;
  return shape;
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias) {
  check_linear(x, weight, bias ? &*bias : nullptr);
  // Leading dims fold into the rows of one product: a batched product would repack W^T for every
  // leading index (a (B, T, H) input of a recurrent projection ran at half speed).
  Tensor out = x.ndim() <= 2 ? matmul(x, transpose(weight, 0, 1))
                             : reshape(matmul(reshape(x, {leading_rows(x), weight.shape[1]}), transpose(weight, 0, 1)),
                                       with_last(x.shape, weight.shape[0]));
  if (bias && out.numel() > 0) {
    const Tensor& b = *bias;
    EMBER_CHECK(b.device() == out.device(), RuntimeError, "linear: bias is on ", b.device().str(), " but input is on ",
                out.device().str(), "; move them to one device");
    EMBER_CHECK(out.device().is_cpu(), RuntimeError, "linear: no bias kernel for device ", out.device().str());
    const int64_t n = weight.shape[0];
    dispatch_float(out.dtype, [&](auto tag) {
      using T = decltype(tag);
      add_bias_rows<T>(out.data<T>(), b.data<T>(), b.strides[0], out.numel() / n, n);
    });
  }
  return out;
}

LinearGrads linear_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, bool need_input,
                            bool need_weight, bool need_bias) {
  check_linear(x, weight, nullptr);
  const int64_t out_features = weight.shape[0], in_features = weight.shape[1];
  Shape expected = x.shape;
  expected.back() = out_features;
  EMBER_CHECK(grad.shape == expected, ValueError, "linear_backward: grad has shape ", shape_str(grad.shape),
              " but the layer's output has shape ", shape_str(expected));
  const bool flat = x.ndim() == 2;
  const int64_t rows = leading_rows(x);
  const Tensor g2 = flat ? grad : reshape(grad, {rows, out_features});
  LinearGrads out;
  if (need_input) out.input = flat ? matmul(g2, weight) : reshape(matmul(g2, weight), x.shape);
  if (need_weight) out.weight = matmul(transpose(g2, 0, 1), flat ? x : reshape(x, {rows, in_features}));
  if (need_bias) out.bias = cpu::sum(g2, std::vector<int64_t>{0}, false);
  return out;
}

}  // namespace ember
