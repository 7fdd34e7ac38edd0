// The fully connected layer as two calls: forward y = act(x @ W^T + b), backward (dx, dW, db).
//
// Shapes: x (..., in), W (out, in), b (out) or none, y (..., out); the leading dims of x are
// flattened into `rows`. W^T and the transposed gradient are read through their strides by the GEMM
// (no copies). The bias and the activation are the GEMM's epilogue (cpu/gemm.h): applied to each
// tile of y as its sums are final, while it is still in registers (bias, relu) or in L1 (tanh,
// sigmoid), instead of further passes over y. Backward computes only the gradients asked for:
//   g  = dy * act'(y)    (the activation's derivative from the saved output)
//   dx = g @ W           (rows, out) @ (out, in)
//   dW = g^T @ x         (out, rows) @ (rows, in), or added into an existing gradient in place
//   db = column sums of g
// For the small layers of MLP training, one call instead of four or five is most of the win.
#include "cpu/linear.h"

#include "core/errors.h"
#include "core/parallel.h"
#include "core/view.h"
#include "cpu/activation_backward.h"
#include "cpu/elementwise.h"
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
  EMBER_CHECK(is_floating(x.dtype), TypeError, "linear: expected float32 or float64 tensors, got ",
              dtype_name(x.dtype), "; convert the input with x.float()");
  EMBER_CHECK(x.device() == weight.device(), RuntimeError, "linear: input is on ", x.device().str(),
              " but weight is on ", weight.device().str(), "; move them to one device");
  EMBER_CHECK(x.device().is_cpu(), RuntimeError, "linear: no kernel for device ", x.device().str());
  if (bias) {
    EMBER_CHECK(bias->ndim() == 1 && bias->shape[0] == weight.shape[0], ValueError, "linear: bias must have shape (",
                weight.shape[0], ",) to match weight ", shape_str(weight.shape), ", got ", shape_str(bias->shape));
    EMBER_CHECK(bias->dtype == x.dtype, TypeError, "linear: bias is ", dtype_name(bias->dtype), " but input is ",
                dtype_name(x.dtype));
    EMBER_CHECK(bias->device() == x.device(), RuntimeError, "linear: bias is on ", bias->device().str(),
                " but input is on ", x.device().str(), "; move them to one device");
  }
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

// x as the (rows, in_features) matrix of one product.
Tensor as_matrix(const Tensor& x, int64_t rows) {
  return x.ndim() == 2 ? x : reshape(x, {rows, x.shape.back()});
}

const char* activation_str(LinearActivation act) {
  switch (act) {
    case LinearActivation::Relu: return "relu";
    case LinearActivation::Tanh: return "tanh";
    case LinearActivation::Sigmoid: return "sigmoid";
    default: return "none";
  }
}

}  // namespace

LinearActivation linear_activation(const std::string& name) {
  if (name.empty() || name == "none") return LinearActivation::None;
  if (name == "relu") return LinearActivation::Relu;
  if (name == "tanh") return LinearActivation::Tanh;
  if (name == "sigmoid") return LinearActivation::Sigmoid;
  throw ValueError("linear: unknown activation '" + name +
                   "'; the fused activations are None, 'relu', 'tanh' and 'sigmoid' (apply any other one "
                   "to the output)");
}

cpu::GemmEpilogue activation_epilogue(LinearActivation act, DType dtype, const void* bias, bool bias_per_row,
                                      OpParams* params) {
  cpu::GemmEpilogue epilogue{bias, bias_per_row ? 1 : 0, act == LinearActivation::Relu ? 1 : 0, nullptr, params};
  if (act == LinearActivation::Tanh || act == LinearActivation::Sigmoid) {
    const UnaryOp op = act == LinearActivation::Tanh ? UnaryOp::Tanh : UnaryOp::Sigmoid;
    epilogue.activation = elementwise_kernels().unary[(int)op][(int)dtype];
  }
  return epilogue;
}

Tensor linear(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias, const std::string& activation) {
  check_linear(x, weight, bias ? &*bias : nullptr);
  const LinearActivation act = linear_activation(activation);
  const int64_t rows = leading_rows(x), out_features = weight.shape[0];
  // Leading dims fold into the rows of one product: a batched product would repack W^T for every
  // leading index (a (B, T, H) input of a recurrent projection ran at half speed).
  Tensor out = empty({rows, out_features}, x.dtype);
  if (out.numel() > 0) {
    OpParams params;
    const Tensor b = bias ? contiguous(*bias) : Tensor();
    const cpu::GemmEpilogue epilogue = activation_epilogue(act, x.dtype, bias ? b.raw_data() : nullptr, false, &params);
    const bool any = bias || act != LinearActivation::None;
    matmul_into(as_matrix(x, rows), transpose(weight, 0, 1), out, false, any ? &epilogue : nullptr);
  }
  return x.ndim() == 2 ? out : reshape(out, with_last(x.shape, out_features));
}

LinearGrads linear_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, bool need_input,
                            bool need_weight, bool need_bias, const std::string& activation,
                            const std::optional<Tensor>& output, const std::optional<Tensor>& grad_weight) {
  check_linear(x, weight, nullptr);
  const LinearActivation act = linear_activation(activation);
  const int64_t out_features = weight.shape[0];
  const Shape expected = with_last(x.shape, out_features);
  EMBER_CHECK(grad.shape == expected, ValueError, "linear_backward: grad has shape ", shape_str(grad.shape),
              " but the layer's output has shape ", shape_str(expected));
  Tensor g = grad;
  if (act != LinearActivation::None) {
    EMBER_CHECK(output.has_value() && output->shape == expected, ValueError, "linear_backward: the '",
                activation_str(act), "' activation's gradient needs the forward's output, of shape ",
                shape_str(expected), output ? ", got " + shape_str(output->shape) : std::string(", got none"));
    const BackwardOp op = act == LinearActivation::Relu   ? BackwardOp::Relu
                          : act == LinearActivation::Tanh ? BackwardOp::Tanh
                                                          : BackwardOp::Sigmoid;
    g = activation_backward(op, grad, *output);
  }
  const int64_t rows = leading_rows(x);
  const Tensor g2 = as_matrix(g, rows);
  LinearGrads out;
  if (need_input) out.input = x.ndim() == 2 ? matmul(g2, weight) : reshape(matmul(g2, weight), x.shape);
  if (need_weight) {
    const Tensor x2 = as_matrix(x, rows);
    if (grad_weight) {
      Tensor target = *grad_weight;
      EMBER_CHECK(target.shape == weight.shape && target.dtype == weight.dtype && target.is_contiguous() &&
                      target.device() == weight.device(),
                  ValueError, "linear_backward: grad_weight must be a contiguous ", dtype_name(weight.dtype),
                  " tensor of the weight's shape ", shape_str(weight.shape), ", got a ",
                  target.is_contiguous() ? "" : "non-contiguous ", dtype_name(target.dtype), " tensor of shape ",
                  shape_str(target.shape));
      check_writable(target, "linear_backward");  // an in-place write: bumps its version
      matmul_into(transpose(g2, 0, 1), x2, target, true, nullptr);
      out.weight = target;
    } else {
      out.weight = matmul(transpose(g2, 0, 1), x2);
    }
  }
  if (need_bias) out.bias = cpu::sum(g2, std::vector<int64_t>{0}, false);
  return out;
}

}  // namespace ember
