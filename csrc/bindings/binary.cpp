// Python entry points of the binary elementwise ops and where(). Either operand may be a tensor or
// a Python number; a number becomes a 0-d tensor of the dtype PyTorch's promotion gives it, so the
// CPU drivers only ever see tensors. add also runs on CUDA tensors; the other ops say they do not.
#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "core/errors.h"
#include "cpu/elementwise.h"
#include "cuda/cuda_backend.h"

namespace py = pybind11;

namespace ember {

DType result_type(DType tensor_dtype, const Scalar& s) {
  if (is_floating(tensor_dtype)) return tensor_dtype;
  if (s.kind == Scalar::Float) return default_float_dtype();
  if (tensor_dtype == DType::Bool && s.kind == Scalar::Int) return DType::Int64;
  return tensor_dtype;
}

namespace {

const char* type_name(py::handle obj) { return Py_TYPE(obj.ptr())->tp_name; }

// One operand as given: a tensor, or a Python number.
struct Operand {
  const Tensor* tensor = nullptr;
  Scalar scalar;
};

Operand operand_arg(py::handle obj, const char* op) {
  if (py::isinstance<Tensor>(obj)) return {&obj.cast<const Tensor&>(), {}};
  py::detail::make_caster<Scalar> caster;
  if (caster.load(obj, true)) return {nullptr, static_cast<Scalar&>(caster)};
  throw TypeError(str_cat(op, ": expected a tensor or a Python number, got ", type_name(obj),
                          "; convert it with ember.tensor(...)"));
}

const Tensor& tensor_arg(py::handle obj, const char* op) {
  if (!py::isinstance<Tensor>(obj)) throw TypeError(str_cat(op, ": expected a tensor, got ", type_name(obj)));
  return obj.cast<const Tensor&>();
}

DType scalar_pair_type(const Scalar& a, const Scalar& b) {
  if (a.kind == Scalar::Float || b.kind == Scalar::Float) return default_float_dtype();
  if (a.kind == Scalar::Int || b.kind == Scalar::Int) return DType::Int64;
  return DType::Bool;
}

// Rules that only apply to Python numbers (PyTorch checks them on the number, not on tensors).
void check_scalar_operand(BinaryOp op, const Tensor& tensor, const Scalar& s, bool scalar_is_second) {
  const char* name = binary_name(op);
  EMBER_CHECK(op != BinaryOp::Maximum && op != BinaryOp::Minimum, TypeError, name,
              ": expected two tensors, got a Python number; use clamp(min=...) or clamp(max=...) for a bound");
  EMBER_CHECK(!(op == BinaryOp::Sub && s.kind == Scalar::Bool), TypeError,
              "sub: subtraction, the `-` operator, with a bool is not supported; use an int or a float");
  if (op == BinaryOp::Pow && scalar_is_second && s.kind != Scalar::Float && s.value < 0 &&
      !is_floating(result_type(tensor.dtype, s)))
    throw ValueError(str_cat("pow: integers to negative integer powers are not allowed (",
                             dtype_name(tensor.dtype), " tensor ** ", (int64_t)s.value, "); use a float tensor, e.g. x.float() ** ",
                             (int64_t)s.value));
}

// add on CUDA tensors: operands made contiguous, broadcast and converted on the device, then one
// kernel. A 0-d CPU tensor meets a CUDA tensor as a number does, as in PyTorch.
Tensor add_cuda(const Tensor& a_given, const Tensor& b_given) {
  Device device = a_given.device().is_cuda() ? a_given.device() : b_given.device();
  Tensor a = a_given.ndim() == 0 && a_given.device().is_cpu() ? to_device(a_given, device) : a_given;
  Tensor b = b_given.ndim() == 0 && b_given.device().is_cpu() ? to_device(b_given, device) : b_given;
  BinaryPlan plan = plan_binary(BinaryOp::Add, a, b);
  Tensor a_in = contiguous(broadcast_to(to_dtype(a, plan.compute), plan.shape, "add"));
  Tensor b_in = contiguous(broadcast_to(to_dtype(b, plan.compute), plan.shape, "add"));
  Tensor out = empty(plan.shape, plan.compute, device);
  if (out.numel() > 0) cuda::add(out, a_in, b_in);
  return out;
}

Tensor binary_on_device(BinaryOp op, const Tensor& a, const Tensor& b) {
  if (op == BinaryOp::Add && (a.device().is_cuda() || b.device().is_cuda())) return add_cuda(a, b);
  return binary(op, a, b);
}

Tensor binary_entry(BinaryOp op, py::handle a_obj, py::handle b_obj) {
  const char* name = binary_name(op);
  Operand a = operand_arg(a_obj, name), b = operand_arg(b_obj, name);
  if (a.tensor && b.tensor) return binary_on_device(op, *a.tensor, *b.tensor);
  EMBER_CHECK(a.tensor || b.tensor, TypeError, name, ": expected at least one tensor, got two Python numbers");
  const Tensor& t = a.tensor ? *a.tensor : *b.tensor;
  const Scalar& s = a.tensor ? b.scalar : a.scalar;
  check_scalar_operand(op, t, s, a.tensor != nullptr);
  Tensor number = full_from_scalar(name, {}, s, result_type(t.dtype, s), t.device());
  return a.tensor ? binary_on_device(op, t, number) : binary_on_device(op, number, t);
}

py::object binary_inplace_entry(BinaryOp op, const char* name, py::object a_obj, py::handle b_obj) {
  const Tensor& a = tensor_arg(a_obj, name);
  Operand b = operand_arg(b_obj, name);
  if (b.tensor) {
    binary_(op, a, *b.tensor);
  } else {
    check_scalar_operand(op, a, b.scalar, true);
    Device device = a.device();
    binary_(op, a, full_from_scalar(name, {}, b.scalar, result_type(a.dtype, b.scalar), device));
  }
  return a_obj;
}

Tensor where_entry(py::handle cond_obj, py::handle a_obj, py::handle b_obj) {
  const Tensor& cond = tensor_arg(cond_obj, "where");
  Operand a = operand_arg(a_obj, "where"), b = operand_arg(b_obj, "where");
  if (a.tensor && b.tensor) return where(cond, *a.tensor, *b.tensor);
  auto as_tensor = [&](const Operand& self, const Operand& other) {
    if (self.tensor) return *self.tensor;
    DType dtype = other.tensor ? result_type(other.tensor->dtype, self.scalar)
                               : scalar_pair_type(self.scalar, other.scalar);
    return full_from_scalar("where", {}, self.scalar, dtype, cond.device());
  };
  return where(cond, as_tensor(a, b), as_tensor(b, a));
}

struct BinaryEntry {
  const char* name;
  BinaryOp op;
  const char* doc;
};

const BinaryEntry kOps[] = {
    {"add", BinaryOp::Add, "a + b with broadcasting and PyTorch's type promotion (bool: logical or)."},
    {"sub", BinaryOp::Sub, "a - b (bool operands: TypeError)."},
    {"mul", BinaryOp::Mul, "a * b (bool: logical and)."},
    {"div", BinaryOp::Div, "True division a / b; integer operands give float32."},
    {"pow", BinaryOp::Pow, "a ** b; integer tensors to negative integer numbers: ValueError."},
    {"floor_divide", BinaryOp::FloorDivide, "floor(a / b) as Python's //; integers by zero: ZeroDivisionError."},
    {"remainder", BinaryOp::Remainder, "a % b with the sign of b, as Python's %."},
    {"maximum", BinaryOp::Maximum, "Elementwise maximum of two tensors (NaN propagates)."},
    {"minimum", BinaryOp::Minimum, "Elementwise minimum of two tensors (NaN propagates)."},
    {"eq", BinaryOp::Eq, "a == b as a bool tensor."},
    {"ne", BinaryOp::Ne, "a != b as a bool tensor."},
    {"lt", BinaryOp::Lt, "a < b as a bool tensor."},
    {"le", BinaryOp::Le, "a <= b as a bool tensor."},
    {"gt", BinaryOp::Gt, "a > b as a bool tensor."},
    {"ge", BinaryOp::Ge, "a >= b as a bool tensor."},
};

const BinaryEntry kInPlace[] = {
    {"add_", BinaryOp::Add, "a += b in place (b broadcasts to a); returns a."},
    {"sub_", BinaryOp::Sub, "a -= b in place; returns a."},
    {"mul_", BinaryOp::Mul, "a *= b in place; returns a."},
    {"div_", BinaryOp::Div, "a /= b in place (a must be a float tensor); returns a."},
    {"pow_", BinaryOp::Pow, "a **= b in place; returns a."},
};

}  // namespace

void bind_binary(py::module_& m) {
  for (const BinaryEntry& e : kOps) {
    const BinaryOp op = e.op;
    m.def(e.name, [op](py::handle a, py::handle b) { return binary_entry(op, a, b); }, py::arg("a"), py::arg("b"),
          e.doc);
  }
  for (const BinaryEntry& e : kInPlace) {
    const BinaryOp op = e.op;
    const char* name = e.name;
    m.def(e.name, [op, name](py::object a, py::handle b) { return binary_inplace_entry(op, name, a, b); },
          py::arg("a"), py::arg("b"), e.doc);
  }
  m.def("where", &where_entry, py::arg("condition"), py::arg("x"), py::arg("y"),
        "Elements of x where condition (a bool tensor) holds, else of y; tensors or numbers, broadcast.");
}

}  // namespace ember
