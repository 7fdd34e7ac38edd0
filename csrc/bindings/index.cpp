// Indexing and joining as Python sees them. getitem / setitem receive the raw index object of
// Tensor.__getitem__ / __setitem__ and turn it into IndexEntry values (ints, slices, None,
// Ellipsis, bools, tensors, lists, tuples and NumPy arrays) before calling cpu/index.h.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>

#include "bindings/bindings.h"
#include "core/errors.h"
#include "cpu/index.h"

namespace py = pybind11;

namespace ember {
namespace {

const char* const kValidIndices =
    "only integers, slices (`:`), ellipsis (`...`), None, bools and integer or boolean tensors, lists or "
    "arrays are valid indices";

std::string type_name(py::handle obj) { return py::str(py::type::of(obj).attr("__name__")); }

int64_t as_int64(py::handle obj) {
  Py_ssize_t v = PyNumber_AsSsize_t(obj.ptr(), nullptr);  // clips values beyond the int64 range
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

bool is_numpy_bool(py::handle obj) {
  static PyObject* numpy_bool = py::object(py::module_::import("numpy").attr("bool_")).release().ptr();
  return PyObject_TypeCheck(obj.ptr(), reinterpret_cast<PyTypeObject*>(numpy_bool));
}

// A contiguous copy of a NumPy array as a tensor of `dtype` (NumPy converts the values).
Tensor tensor_from_array(const py::array& arr, DType dtype) {
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  Tensor t = empty(shape, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    auto c = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(arr);
    if (!c) throw py::error_already_set();
    std::memcpy(t.raw_data(), c.data(), t.numel() * sizeof(T));
  });
  return t;
}

// A list, nested tuple or NumPy array used as an index: int64 positions or a bool mask.
Tensor array_index(py::handle obj) {
  py::array arr = py::array::ensure(obj);
  EMBER_CHECK(arr, IndexError, kValidIndices, " (NumPy cannot read the ", type_name(obj), " as an array)");
  char kind = arr.dtype().kind();
  EMBER_CHECK(kind != 'O', IndexError, kValidIndices, " (got a ", type_name(obj), " of ",
              std::string(py::str(py::reinterpret_borrow<py::object>(obj))), ")");
  if (arr.size() == 0 && kind != 'b') kind = 'i';  // NumPy reads [] as float64; it means "no positions"
  EMBER_CHECK(kind == 'b' || kind == 'i' || kind == 'u', IndexError,
              "arrays used as indices must be of integer or boolean type, got ", std::string(py::str(arr.dtype())));
  return tensor_from_array(arr, kind == 'b' ? DType::Bool : DType::Int64);
}

IndexEntry parse_entry(py::handle obj) {
  IndexEntry e;
  PyObject* o = obj.ptr();
  if (py::isinstance<Tensor>(obj)) {
    e.kind = IndexEntry::Array;
    e.array = obj.cast<Tensor>();
  } else if (obj.is_none()) {
    e.kind = IndexEntry::NewAxis;
  } else if (o == Py_Ellipsis) {
    e.kind = IndexEntry::Ellipsis;
  } else if (PyBool_Check(o) || is_numpy_bool(obj)) {
    e.kind = IndexEntry::BoolScalar;
    e.integer = PyObject_IsTrue(o);
  } else if (PySlice_Check(o)) {
    e.kind = IndexEntry::Slice;
    py::object start = obj.attr("start"), stop = obj.attr("stop"), step = obj.attr("step");
    if (!start.is_none()) e.start = as_int64(start);
    if (!stop.is_none()) e.stop = as_int64(stop);
    if (!step.is_none()) e.step = as_int64(step);
  } else if (PyList_Check(o) || PyTuple_Check(o) || py::isinstance<py::array>(obj) ||
             (PySequence_Check(o) && !PyUnicode_Check(o) && !PyBytes_Check(o))) {  // e.g. range(3)
    e.kind = IndexEntry::Array;
    e.array = array_index(obj);
  } else if (PyIndex_Check(o)) {
    e.kind = IndexEntry::Integer;
    e.integer = as_int64(obj);
  } else {
    throw IndexError(str_cat(kValidIndices, ", got ", type_name(obj)));
  }
  return e;
}

Index parse_index(py::handle index) {
  Index entries;
  if (PyTuple_Check(index.ptr())) {
    for (py::handle item : py::reinterpret_borrow<py::tuple>(index)) entries.push_back(parse_entry(item));
  } else {
    entries.push_back(parse_entry(index));
  }
  return entries;
}

// A Python bool / int / float as a 0-d tensor of its own kind (the op converts it), or nothing.
std::optional<Tensor> python_scalar(py::handle obj) {
  PyObject* o = obj.ptr();
  if (PyBool_Check(o)) return full({}, o == Py_True ? 1.0 : 0.0, DType::Bool);
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    EMBER_CHECK(!overflow, ValueError, "the integer ", std::string(py::str(obj)), " does not fit in int64");
    Tensor t = empty({}, DType::Int64);
    *t.data<int64_t>() = v;
    return t;
  }
  if (PyFloat_Check(o)) return full({}, PyFloat_AS_DOUBLE(o), DType::Float64);
  return std::nullopt;
}

// The right-hand side of x[index] = value: a tensor, a Python scalar, or anything NumPy reads.
Tensor value_tensor(py::handle value) {
  if (py::isinstance<Tensor>(value)) return value.cast<Tensor>();
  if (auto scalar = python_scalar(value)) return *scalar;
  py::array arr = py::array::ensure(value);
  char kind = arr ? arr.dtype().kind() : 'O';
  EMBER_CHECK(kind == 'b' || kind == 'i' || kind == 'u' || kind == 'f', TypeError,
              "setitem: the value must be a tensor, a Python number or an array-like of numbers, got ",
              type_name(value));
  DType dtype = kind == 'b' ? DType::Bool : kind == 'f' ? DType::Float64 : DType::Int64;
  return tensor_from_array(arr, dtype);
}

std::vector<Tensor> tensor_list(py::handle seq, const char* op) {
  EMBER_CHECK(PyList_Check(seq.ptr()) || PyTuple_Check(seq.ptr()), TypeError, op,
              ": expected a list or tuple of tensors, got ", type_name(seq));
  std::vector<Tensor> out;
  size_t i = 0;
  for (py::handle item : seq) {
    EMBER_CHECK(py::isinstance<Tensor>(item), TypeError, op, ": expected a list of tensors, but element ", i,
                " is a ", type_name(item));
    out.push_back(item.cast<Tensor>());
    ++i;
  }
  return out;
}

py::tuple to_tuple(const std::vector<Tensor>& parts) {
  py::tuple out(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) out[i] = py::cast(parts[i]);
  return out;
}

}  // namespace

void bind_index(py::module_& m) {
  m.def("getitem", [](const Tensor& x, py::handle index) { return index_get(x, parse_index(index)); },
        "x[index] with NumPy's rules: a view for basic indices, a new tensor for arrays and masks.");
  m.def("setitem", [](const Tensor& x, py::handle index, py::handle value) {
    index_put(x, parse_index(index), value_tensor(value));
  }, "x[index] = value, writing through to x's memory.");
  m.def("index_put_", [](py::object x, py::handle index, py::handle value, bool accumulate) {
    index_put(x.cast<const Tensor&>(), parse_index(index), value_tensor(value), accumulate);
    return x;
  }, py::arg("x"), py::arg("indices"), py::arg("values"), py::arg("accumulate") = false,
     "x[indices] = values (accumulate=False) or x[indices] += values counting repeated positions once each.");
  m.def("index_select", &index_select, py::arg("x"), py::arg("dim"), py::arg("index"));
  m.def("gather", &gather, py::arg("x"), py::arg("dim"), py::arg("index"));
  m.def("scatter_add_", [](py::object x, int64_t dim, const Tensor& index, const Tensor& src) {
    scatter_add_(x.cast<const Tensor&>(), dim, index, src);
    return x;
  }, py::arg("x"), py::arg("dim"), py::arg("index"), py::arg("src"));
  m.def("nonzero", &nonzero, py::arg("x"));
  m.def("masked_fill", [](const Tensor& x, const Tensor& mask, py::handle value) {
    std::optional<Tensor> v = py::isinstance<Tensor>(value) ? value.cast<Tensor>() : python_scalar(value);
    if (!v && PyIndex_Check(value.ptr())) v = python_scalar(py::int_(py::reinterpret_borrow<py::object>(value)));
    if (!v && PyNumber_Check(value.ptr())) v = python_scalar(py::float_(py::reinterpret_borrow<py::object>(value)));
    EMBER_CHECK(v.has_value(), TypeError, "masked_fill: the value must be a Python number or a 0-d tensor, got ",
                type_name(value));
    return masked_fill(x, mask, *v);
  }, py::arg("x"), py::arg("mask"), py::arg("value"));

  m.def("cat", [](py::handle tensors, int64_t dim) { return cat(tensor_list(tensors, "cat"), dim); },
        py::arg("tensors"), py::arg("dim") = 0);
  m.def("stack", [](py::handle tensors, int64_t dim) { return stack(tensor_list(tensors, "stack"), dim); },
        py::arg("tensors"), py::arg("dim") = 0);
  m.def("split", [](const Tensor& x, py::handle split_size_or_sections, int64_t dim) {
    PyObject* s = split_size_or_sections.ptr();
    if (PyList_Check(s) || PyTuple_Check(s)) {
      std::vector<int64_t> sizes;
      for (py::handle item : split_size_or_sections) {
        EMBER_CHECK(PyIndex_Check(item.ptr()) && !PyBool_Check(item.ptr()), TypeError,
                    "split: split sizes must be integers, got ", type_name(item));
        sizes.push_back(as_int64(item));
      }
      return to_tuple(split_with_sizes(x, sizes, dim));
    }
    EMBER_CHECK(PyIndex_Check(s) && !PyBool_Check(s), TypeError,
                "split: split_size_or_sections must be an int or a list of ints, got ", type_name(split_size_or_sections));
    return to_tuple(split(x, as_int64(split_size_or_sections), dim));
  }, py::arg("x"), py::arg("split_size_or_sections"), py::arg("dim") = 0);
  m.def("chunk", [](const Tensor& x, int64_t chunks, int64_t dim) { return to_tuple(chunk(x, chunks, dim)); },
        py::arg("x"), py::arg("chunks"), py::arg("dim") = 0);
}

}  // namespace ember
