// Unary elementwise ops on CPU tensors: which dtypes each op takes and computes in (PyTorch's
// rules), then one row kernel over the input (see elementwise.h for the runner).
#include "cpu/elementwise.h"

namespace ember {

namespace {

enum class UnaryKind {
  KeepsDType,  // integers stay integers (neg, abs, sign, relu, clamp)
  Math,        // integer and bool inputs compute in float32 (exp, log, sigmoid, ...)
  FloatOnly,   // activations PyTorch defines for floats only (gelu, silu, elu, ...)
};

struct UnaryInfo {
  const char* name;
  UnaryKind kind;
  bool takes_bool;     // for KeepsDType ops
  bool transcendental; // costly enough per element to split over threads sooner
};

// Indexed by UnaryOp.
const UnaryInfo kUnaryInfo[kUnaryOpCount] = {
    {"neg", UnaryKind::KeepsDType, false, false},
    {"abs", UnaryKind::KeepsDType, false, false},
    {"sign", UnaryKind::KeepsDType, true, false},
    {"exp", UnaryKind::Math, true, true},
    {"log", UnaryKind::Math, true, true},
    {"log1p", UnaryKind::Math, true, true},
    {"sqrt", UnaryKind::Math, true, false},
    {"rsqrt", UnaryKind::Math, true, false},
    {"sin", UnaryKind::Math, true, true},
    {"cos", UnaryKind::Math, true, true},
    {"tanh", UnaryKind::Math, true, true},
    {"sigmoid", UnaryKind::Math, true, true},
    {"relu", UnaryKind::KeepsDType, false, false},
    {"silu", UnaryKind::FloatOnly, false, true},
    {"leaky_relu", UnaryKind::FloatOnly, false, false},
    {"elu", UnaryKind::FloatOnly, false, true},
    {"gelu", UnaryKind::FloatOnly, false, true},
    {"gelu", UnaryKind::FloatOnly, false, true},  // approximate='tanh'
    {"softplus", UnaryKind::FloatOnly, false, true},
    {"clamp", UnaryKind::KeepsDType, false, false},
};

const UnaryInfo& info(UnaryOp op) { return kUnaryInfo[(int)op]; }

// Elements per thread below which splitting does not pay: memory-bound ops move a few bytes per
// element, transcendental ones spend tens of cycles, so they split eight times sooner.
int64_t unary_grain(UnaryOp op) {
  return info(op).transcendental ? kElementwiseGrain / 8 : kElementwiseGrain;
}

RowKernel unary_kernel(UnaryOp op, DType dtype) {
  RowKernel kernel = elementwise_kernels().unary[(int)op][(int)dtype];
  EMBER_CHECK(kernel != nullptr, RuntimeError, unary_name(op), ": no kernel for ", dtype_name(dtype));
  return kernel;
}

}  // namespace

const char* unary_name(UnaryOp op) { return info(op).name; }

DType unary_result_type(UnaryOp op, DType dtype, const char* name) {
  const UnaryInfo& i = info(op);
  if (is_floating(dtype)) return dtype;
  switch (i.kind) {
    case UnaryKind::Math:
      return default_float_dtype();
    case UnaryKind::FloatOnly:
      throw TypeError(str_cat(name, ": expected a float32 or float64 tensor, got ", dtype_name(dtype),
                              "; convert it first with .float()"));
    case UnaryKind::KeepsDType:
      break;
  }
  if (dtype == DType::Bool && !i.takes_bool) {
    if (op == UnaryOp::Neg)
      throw TypeError(str_cat(name, ": negation, the `-` operator, on a bool tensor is not supported; "
                              "invert a mask with `mask == False`, or convert it first with .int()"));
    throw TypeError(str_cat(name, ": not supported for bool tensors; convert first with .int() or .float()"));
  }
  return dtype;
}

Tensor unary(UnaryOp op, const Tensor& x, OpParams params) {
  check_cpu(unary_name(op), x);
  DType dtype = unary_result_type(op, x.dtype, unary_name(op));
  RowKernel kernel = unary_kernel(op, dtype);
  Tensor converted;
  const Tensor& input = x.dtype == dtype ? x : (converted = to_dtype(x, dtype));
  Tensor out = empty(x.shape, dtype);
  run_rows<2>(kernel, x.shape, {&out, &input}, &params, unary_grain(op), unary_name(op));
  return out;
}

void unary_(UnaryOp op, const Tensor& x, OpParams params) {
  std::string name = str_cat(unary_name(op), "_");
  check_cpu(name.c_str(), x);
  DType dtype = unary_result_type(op, x.dtype, name.c_str());
  EMBER_CHECK(dtype == x.dtype, RuntimeError, name, ": result type ", torch_type_name(dtype),
              " can't be cast to the desired output type ", torch_type_name(x.dtype), " (", name,
              " on a ", dtype_name(x.dtype), " tensor); use the out-of-place ", unary_name(op),
              "(), or convert first with .float()");
  check_writable(x, name.c_str());
  run_rows<2>(unary_kernel(op, dtype), x.shape, {&x, &x}, &params, unary_grain(op), name.c_str());
}

Tensor clamp(const Tensor& x, DType dtype, double lo, double hi) {
  check_cpu("clamp", x);
  EMBER_CHECK(dtype != DType::Bool, TypeError,
              "clamp: not supported for bool tensors; convert first with .int() or .float()");
  OpParams params;
  params.alpha = lo;
  params.beta = hi;
  Tensor input = to_dtype(x, dtype);
  Tensor out = empty(x.shape, dtype);
  run_rows<2>(unary_kernel(UnaryOp::Clamp, dtype), x.shape, {&out, &input}, &params, kElementwiseGrain,
              "clamp");
  return out;
}

}  // namespace ember
