// Binary elementwise ops and where() on CPU tensors: PyTorch's type promotion, NumPy broadcasting,
// the dtype checks of each op, then one row kernel over the broadcast operands (elementwise.h).
#include <atomic>

#include "cpu/elementwise.h"

namespace ember {

namespace {

// Indexed by BinaryOp.
const char* const kBinaryNames[kBinaryOpCount] = {
    "add", "sub", "mul", "div", "pow", "floor_divide", "remainder", "maximum", "minimum",
    "eq", "ne", "lt", "le", "gt", "ge"};

int category(DType d) { return d == DType::Bool ? 0 : is_floating(d) ? 2 : 1; }

bool is_comparison(BinaryOp op) { return (int)op >= (int)BinaryOp::Eq; }

bool is_integer_division(BinaryOp op, DType dtype) {
  return (op == BinaryOp::FloorDivide || op == BinaryOp::Remainder) && !is_floating(dtype);
}

// pow and the divisions cost tens of cycles per element: split over threads sooner.
int64_t binary_grain(BinaryOp op) {
  bool costly = op == BinaryOp::Pow || op == BinaryOp::FloorDivide || op == BinaryOp::Remainder;
  return costly ? kElementwiseGrain / 8 : kElementwiseGrain;
}

// The dtype `op` computes in once a and b promote to `promoted`; TypeError where PyTorch refuses.
DType compute_dtype(BinaryOp op, DType promoted, DType a, DType b) {
  const char* name = kBinaryNames[(int)op];
  if (op == BinaryOp::Sub && (a == DType::Bool || b == DType::Bool))
    throw TypeError("sub: subtraction, the `-` operator, with a bool tensor is not supported; use "
                    "`a != b` for the exclusive or of two masks, or convert first with .int()");
  if (op == BinaryOp::Div && !is_floating(promoted)) return default_float_dtype();  // true division
  if (promoted == DType::Bool &&
      (op == BinaryOp::Pow || op == BinaryOp::FloorDivide || op == BinaryOp::Remainder))
    throw TypeError(str_cat(name, ": not supported for bool tensors; convert first with .int() or .float()"));
  return promoted;
}

// ZeroDivisionError when an integer divisor holds a zero: C integer division by zero would trap.
void check_integer_divisor(BinaryOp op, const Tensor& divisor) {
  std::atomic<bool> found_zero{false};
  RowLoop<1> loop(divisor.shape, {&divisor});
  dispatch_all(divisor.dtype, [&](auto tag) {
    using T = decltype(tag);
    loop.run(kElementwiseGrain, [&](char* const* ptrs, const int64_t* strides, int64_t n) {
      for (int64_t i = 0; i < n; ++i)
        if (*reinterpret_cast<const T*>(ptrs[0] + i * strides[0]) == T(0)) {
          found_zero.store(true, std::memory_order_relaxed);
          return;
        }
    });
  });
  EMBER_CHECK(!found_zero.load(), ZeroDivisionError, kBinaryNames[(int)op], ": integer division by zero (",
              dtype_name(divisor.dtype), " divisor holds a 0); divide floats instead, e.g. a.float()");
}

RowKernel binary_kernel(BinaryOp op, DType dtype) {
  RowKernel kernel = elementwise_kernels().binary[(int)op][(int)dtype];
  EMBER_CHECK(kernel != nullptr, RuntimeError, kBinaryNames[(int)op], ": no kernel for ", dtype_name(dtype));
  return kernel;
}

// Whether the memory a and b address overlaps (then an in-place op must read b before writing a).
bool memory_overlaps(const Tensor& a, const Tensor& b) {
  if (a.numel() == 0 || b.numel() == 0) return false;
  auto span = [](const Tensor& t, const char*& lo, const char*& hi) {
    int64_t first = 0, last = 0;
    for (int64_t d = 0; d < t.ndim(); ++d) {
      int64_t reach = t.strides[d] * (t.shape[d] - 1);
      (reach < 0 ? first : last) += reach;
    }
    const char* p = static_cast<const char*>(t.raw_data());
    lo = p + first * itemsize(t.dtype);
    hi = p + (last + 1) * itemsize(t.dtype);
  };
  const char *a_lo, *a_hi, *b_lo, *b_hi;
  span(a, a_lo, a_hi);
  span(b, b_lo, b_hi);
  return a_lo < b_hi && b_lo < a_hi;
}

bool same_view(const Tensor& a, const Tensor& b) {
  return a.raw_data() == b.raw_data() && a.dtype == b.dtype && a.shape == b.shape && a.strides == b.strides;
}

}  // namespace

const char* binary_name(BinaryOp op) { return kBinaryNames[(int)op]; }

DType binary_result_type(const Tensor& a, const Tensor& b) {
  const bool a_0d = a.ndim() == 0, b_0d = b.ndim() == 0;
  if (a_0d == b_0d) return promote_types(a.dtype, b.dtype);
  const Tensor& dimensioned = a_0d ? b : a;
  const Tensor& zero_dim = a_0d ? a : b;
  return category(zero_dim.dtype) > category(dimensioned.dtype) ? zero_dim.dtype : dimensioned.dtype;
}

BinaryPlan plan_binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = kBinaryNames[(int)op];
  check_same_device(name, a, b);
  BinaryPlan plan;
  plan.compute = compute_dtype(op, binary_result_type(a, b), a.dtype, b.dtype);
  plan.out = is_comparison(op) ? DType::Bool : plan.compute;
  plan.shape = a.shape == b.shape ? a.shape : broadcast_shapes(a.shape, b.shape, name);
  return plan;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = kBinaryNames[(int)op];
  BinaryPlan plan = plan_binary(op, a, b);
  check_cpu(name, a);
  RowKernel kernel = binary_kernel(op, plan.compute);
  // References to the given tensors when no conversion is needed: no copies on the tiny-op path.
  Tensor a_converted, b_converted;
  const Tensor& a_in = a.dtype == plan.compute ? a : (a_converted = to_dtype(a, plan.compute));
  const Tensor& b_in = b.dtype == plan.compute ? b : (b_converted = to_dtype(b, plan.compute));
  if (is_integer_division(op, plan.compute)) check_integer_divisor(op, b_in);
  Tensor out = empty(plan.shape, plan.out);
  OpParams params;
  run_rows<3>(kernel, plan.shape, {&out, &a_in, &b_in}, &params, binary_grain(op), name);
  return out;
}

void binary_(BinaryOp op, const Tensor& a, const Tensor& b) {
  std::string name = str_cat(kBinaryNames[(int)op], "_");
  check_same_device(name.c_str(), a, b);
  check_cpu(name.c_str(), a);
  DType dtype = compute_dtype(op, binary_result_type(a, b), a.dtype, b.dtype);
  EMBER_CHECK(can_cast(dtype, a.dtype), RuntimeError, name, ": result type ", torch_type_name(dtype),
              " can't be cast to the desired output type ", torch_type_name(a.dtype), " (", dtype_name(a.dtype),
              " ", name, " ", dtype_name(b.dtype), " gives ", dtype_name(dtype), "); use the out-of-place ",
              kBinaryNames[(int)op], "(), or convert the tensor first, e.g. a = a.float()");
  Shape shape = a.shape == b.shape ? a.shape : broadcast_shapes(a.shape, b.shape, name.c_str());
  EMBER_CHECK(shape == a.shape, RuntimeError, name, ": output with shape ", shape_str(a.shape),
              " doesn't match the broadcast shape ", shape_str(shape), " (the other operand has shape ",
              shape_str(b.shape), "; only it may broadcast in an in-place op)");
  check_writable(a, name.c_str());
  if (dtype != a.dtype) {  // compute in the wider dtype, then cast back into a
    copy_(a, binary(op, a, b));
    return;
  }
  Tensor b_in = to_dtype(b, dtype);
  if (!same_view(a, b_in) && memory_overlaps(a, b_in)) b_in = clone(b_in);
  if (is_integer_division(op, dtype)) check_integer_divisor(op, b_in);
  OpParams params;
  run_rows<3>(binary_kernel(op, dtype), a.shape, {&a, &a, &b_in}, &params, binary_grain(op), name.c_str());
}

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  check_same_device("where", condition, a);
  check_same_device("where", condition, b);
  check_cpu("where", condition);
  EMBER_CHECK(condition.dtype == DType::Bool, TypeError, "where: expected a bool condition tensor, got ",
              dtype_name(condition.dtype), "; build one with a comparison, e.g. x > 0, or .bool()");
  DType dtype = binary_result_type(a, b);
  Shape shape = broadcast_shapes(broadcast_shapes(condition.shape, a.shape, "where"), b.shape, "where");
  Tensor a_in = to_dtype(a, dtype), b_in = to_dtype(b, dtype);
  Tensor out = empty(shape, dtype);
  OpParams params;
  run_rows<4>(elementwise_kernels().where[(int)dtype], shape, {&out, &condition, &a_in, &b_in}, &params,
              kElementwiseGrain, "where");
  return out;
}

}  // namespace ember
