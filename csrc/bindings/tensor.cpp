// The Tensor class as Python sees it (ember.Tensor): metadata, views, conversion, the buffer
// protocol for NumPy, and dtype / device objects. Math methods are attached in python/ember/tensor.py.
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "core/errors.h"
#include "core/view.h"

namespace py = pybind11;

namespace ember {

static py::tuple to_tuple(const Shape& s) {
  py::tuple t(s.size());
  for (size_t i = 0; i < s.size(); ++i) t[i] = py::int_(s[i]);
  return t;
}

static const char* buffer_format(DType d) {
  switch (d) {
    case DType::Float32: return "f";
    case DType::Float64: return "d";
    case DType::Int64: return "q";
    case DType::Int32: return "i";
    case DType::Bool: return "?";
  }
  return "B";
}

static void bind_dtype_device(py::module_& m) {
  py::enum_<DType> dt(m, "dtype", "Element type of a tensor (ember.float32, ember.int64, ...).");
  dt.value("float32", DType::Float32)
      .value("float64", DType::Float64)
      .value("int64", DType::Int64)
      .value("int32", DType::Int32)
      .value("bool", DType::Bool);
  dt.def("__repr__", [](DType d) { return std::string("ember.") + dtype_name(d); })
      .def("__str__", [](DType d) { return std::string("ember.") + dtype_name(d); })
      .def_property_readonly("itemsize", [](DType d) { return itemsize(d); })
      .def_property_readonly("is_floating_point", [](DType d) { return is_floating(d); })
      .def_property_readonly("name", [](DType d) { return dtype_name(d); });

  py::class_<Device>(m, "device", "A device: ember.device('cpu'), ember.device('cuda:0').")
      .def(py::init([](const std::string& spec) { return parse_device(spec); }), py::arg("spec"))
      .def(py::init([](const std::string& type, int index) {
             Device d = parse_device(type);
             EMBER_CHECK(index >= 0, ValueError, "device: index must be non-negative, got ", index);
             if (d.is_cuda()) d.index = index;
             return d;
           }),
           py::arg("type"), py::arg("index"))
      .def_property_readonly("type", [](const Device& d) { return d.is_cpu() ? "cpu" : "cuda"; })
      .def_property_readonly("index", [](const Device& d) -> py::object {
        return d.is_cpu() ? py::object(py::none()) : py::object(py::int_(d.index));
      })
      .def("__eq__", [](const Device& d, py::handle other) {
        if (py::isinstance<py::str>(other)) {
          try {
            return d == parse_device(other.cast<std::string>());
          } catch (const ValueError&) {
            return false;
          }
        }
        if (py::isinstance<Device>(other)) return d == other.cast<Device>();
        return false;
      })
      .def("__hash__", [](const Device& d) { return (int)d.type * 1024 + d.index; })
      .def("__str__", &Device::str)
      .def("__repr__", [](const Device& d) {
        return d.is_cpu() ? std::string("device(type='cpu')")
                          : "device(type='cuda', index=" + std::to_string(d.index) + ")";
      });
}

static void bind_views(py::module_& m) {
  m.def("reshape", [](const Tensor& t, const Shape& s) { return reshape(t, s); });
  m.def("view", [](const Tensor& t, const Shape& s) { return view(t, s); });
  m.def("transpose", &transpose);
  m.def("permute", &permute);
  m.def("squeeze", [](const Tensor& t, std::optional<std::vector<int64_t>> dims) {
    return dims ? squeeze(t, *dims) : squeeze(t);
  });
  m.def("unsqueeze", &unsqueeze);
  m.def("expand", &expand);
  m.def("broadcast_to", [](const Tensor& t, const Shape& s) {
    check_shape(s, "broadcast_to");
    return broadcast_to(t, s, "broadcast_to");
  });
  m.def("broadcast_shapes", [](const Shape& a, const Shape& b) { return broadcast_shapes(a, b, "broadcast_shapes"); });
  m.def("flatten", &flatten);
  m.def("as_strided", [](const Tensor& t, const Shape& shape, const Shape& strides, std::optional<int64_t> off) {
    return as_strided(t, shape, strides, off ? *off : t.offset);
  });
  // A second Python object over the same elements (autograd's detach and saved outputs).
  m.def("alias", [](const Tensor& t) { return t; });
  m.def("contiguous", &contiguous);
  m.def("clone", &clone);
  m.def("copy_", [](const Tensor& dst, const Tensor& src) {
    copy_(dst, src);
    return dst;
  });
  m.def("to_dtype", &to_dtype);
  m.def("to_device", [](const Tensor& t, py::handle device) { return to_device(t, device_arg(device)); });
}

// The Python dtype objects (ember.float32, ...), one per DType, so that t.dtype returns the same object
// every time: `is` comparisons work and reading it allocates nothing. Never freed: they must
// outlive every tensor, up to interpreter shutdown.
static py::object* dtype_objects = nullptr;

void bind_tensor(py::module_& m) {
  bind_dtype_device(m);
  dtype_objects = new py::object[5];
  for (DType d : {DType::Float32, DType::Float64, DType::Int64, DType::Int32, DType::Bool})
    dtype_objects[(int)d] = m.attr("dtype").attr(dtype_name(d));
  py::class_<Tensor>(m, "Tensor", py::dynamic_attr(), py::buffer_protocol())
      .def_buffer([](const Tensor& t) -> py::buffer_info {
        EMBER_CHECK(t.device().is_cpu(), TypeError, "numpy: cannot view a tensor on ", t.device().str(),
                    " as a NumPy array; copy it to the host first with .cpu()");
        Shape bytes_strides(t.strides);
        for (auto& s : bytes_strides) s *= itemsize(t.dtype);
        return py::buffer_info(t.raw_data(), itemsize(t.dtype), buffer_format(t.dtype), t.ndim(), t.shape,
                               bytes_strides, false);
      })
      .def_property_readonly_static("_is_ember_tensor", [](py::handle) { return true; })
      .def_property_readonly("shape", [](const Tensor& t) { return to_tuple(t.shape); })
      .def_property_readonly("_strides", [](const Tensor& t) { return to_tuple(t.strides); })
      .def_property_readonly("dtype", [](const Tensor& t) { return dtype_objects[(int)t.dtype]; })
      .def_property_readonly("device", [](const Tensor& t) { return t.device(); })
      .def_property_readonly("ndim", [](const Tensor& t) { return t.ndim(); })
      .def_property_readonly("is_cuda", [](const Tensor& t) { return t.device().is_cuda(); })
      .def("dim", [](const Tensor& t) { return t.ndim(); })
      .def("numel", [](const Tensor& t) { return t.numel(); })
      .def("__len__", [](const Tensor& t) {
        EMBER_CHECK(t.ndim() > 0, TypeError, "len() of a 0-d tensor");
        return t.shape[0];
      })
      .def("element_size", [](const Tensor& t) { return itemsize(t.dtype); })
      .def("storage_offset", [](const Tensor& t) { return t.offset; })
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()); })
      .def("_shares_storage", [](const Tensor& a, const Tensor& b) { return a.storage == b.storage; })
      .def_property_readonly("_storage_refs", [](const Tensor& t) { return t.storage ? t.storage.use_count() : 0; })
      .def_property_readonly("_version", [](const Tensor& t) { return t.storage ? t.storage->version : 0; })
      .def("_storage_nbytes", [](const Tensor& t) { return t.storage->nbytes; })
      .def("item", [](const Tensor& t) -> py::object {
        EMBER_CHECK(t.numel() == 1, ValueError, "item: only a tensor with one element can be converted ",
                    "to a Python scalar, got shape ", shape_str(t.shape));
        Tensor c = to_device(t, Device{});
        return dispatch_all(c.dtype, [&](auto tag) -> py::object {
          using T = decltype(tag);
          return py::cast(*c.data<T>());
        });
      });
  bind_views(m);
  bind_interop(m);
}

}  // namespace ember
