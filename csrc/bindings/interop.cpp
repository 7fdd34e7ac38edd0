// Zero-copy exchange with NumPy (from_numpy; the other way is the buffer protocol) and DLPack
// (export with __dlpack__, import of any producer's capsule). Imported memory stays owned by its
// producer: our Storage holds a reference and hands it back when the last view dies.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "core/dlpack.h"
#include "core/errors.h"

namespace py = pybind11;

namespace ember {

Device device_arg(py::handle obj) {
  if (obj.is_none()) return Device{};
  if (py::isinstance<Device>(obj)) return obj.cast<Device>();
  if (py::isinstance<py::str>(obj)) return parse_device(obj.cast<std::string>());
  throw TypeError(str_cat("device: expected a string like 'cpu' or 'cuda:0' or an ember.device, got ",
                          std::string(py::str(py::type::of(obj).attr("__name__")))));
}

// Storage whose memory belongs to a Python object; released (under the GIL) with the storage.
static std::shared_ptr<Storage> borrowed_storage(void* data, int64_t nbytes, Device device, PyObject* owner) {
  auto s = std::make_shared<Storage>();
  s->data = data;
  s->nbytes = nbytes;
  s->device = device;
  Py_INCREF(owner);
  s->release = [owner](void*) {
    py::gil_scoped_acquire gil;
    Py_DECREF(owner);
  };
  return s;
}

// Lowest and highest element offsets addressed by (shape, strides): views with negative strides
// start their storage at the lowest address.
static void extent(const Shape& shape, const Shape& strides, int64_t& lo, int64_t& hi) {
  lo = hi = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) { lo = hi = 0; return; }
    int64_t span = strides[d] * (shape[d] - 1);
    (span < 0 ? lo : hi) += span;
  }
}

static DType numpy_dtype(const py::array& a) {
  py::dtype dt = a.dtype();
  char kind = dt.kind();
  int64_t size = dt.itemsize();
  EMBER_CHECK(dt.byteorder() != '>', TypeError, "from_numpy: big-endian arrays are not supported; ",
              "convert with arr.astype(arr.dtype.newbyteorder('='))");
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'b') return DType::Bool;
  throw TypeError(str_cat("from_numpy: NumPy dtype ", std::string(py::str(dt)),
                          " is not supported (supported: float32, float64, int64, int32, bool); ",
                          "convert first, e.g. arr.astype(numpy.float32)"));
}

static Tensor from_numpy(py::array a) {
  DType dtype = numpy_dtype(a);
  int64_t isz = itemsize(dtype);
  Tensor t;
  t.dtype = dtype;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    t.shape.push_back(a.shape(d));
    EMBER_CHECK(a.strides(d) % isz == 0, ValueError, "from_numpy: stride ", a.strides(d),
                " bytes of dimension ", d, " is not a multiple of the item size ", isz,
                "; pass numpy.ascontiguousarray(arr)");
    t.strides.push_back(a.strides(d) / isz);
  }
  int64_t lo, hi;
  extent(t.shape, t.strides, lo, hi);
  char* base = static_cast<char*>(const_cast<void*>(a.data())) + lo * isz;
  t.storage = borrowed_storage(base, (hi - lo + 1) * isz, Device{}, a.ptr());
  t.offset = -lo;
  return t;
}

// ---- DLPack export --------------------------------------------------------------------------

struct DLPackContext {
  Tensor tensor;  // keeps the storage alive
  Shape shape, strides;
};

static DLDataType dl_dtype(DType d) {
  switch (d) {
    case DType::Float32: return {kDLFloat, 32, 1};
    case DType::Float64: return {kDLFloat, 64, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Int32: return {kDLInt, 32, 1};
    case DType::Bool: return {kDLBool, 8, 1};
  }
  return {kDLFloat, 32, 1};
}

static void fill_dltensor(DLTensor& dl, DLPackContext* ctx) {
  const Tensor& t = ctx->tensor;
  dl.data = t.storage->data;
  dl.byte_offset = t.offset * itemsize(t.dtype);
  dl.device = {t.device().is_cpu() ? kDLCPU : kDLCUDA, t.device().is_cpu() ? 0 : t.device().index};
  dl.ndim = (int32_t)t.ndim();
  dl.dtype = dl_dtype(t.dtype);
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
}

template <class Managed>
static void delete_managed(Managed* m) {
  delete static_cast<DLPackContext*>(m->manager_ctx);
  delete m;
}

template <class Managed>
static void capsule_destructor(PyObject* capsule, const char* name) {
  // Only an unconsumed capsule still owns its tensor; a consumer renames it "used_...".
  if (PyCapsule_IsValid(capsule, name)) {
    auto* m = static_cast<Managed*>(PyCapsule_GetPointer(capsule, name));
    if (m && m->deleter) m->deleter(m);
  } else {
    PyErr_Clear();
  }
}

static py::object to_dlpack(const Tensor& t, bool versioned) {
  auto* ctx = new DLPackContext{t, t.shape, t.strides};
  if (versioned) {
    auto* m = new DLManagedTensorVersioned{};
    m->version = {1, 0};
    m->manager_ctx = ctx;
    m->deleter = &delete_managed<DLManagedTensorVersioned>;
    fill_dltensor(m->dl_tensor, ctx);
    PyObject* cap = PyCapsule_New(m, "dltensor_versioned", [](PyObject* c) {
      capsule_destructor<DLManagedTensorVersioned>(c, "dltensor_versioned");
    });
    if (!cap) { delete_managed(m); throw py::error_already_set(); }
    return py::reinterpret_steal<py::object>(cap);
  }
  auto* m = new DLManagedTensor{};
  m->manager_ctx = ctx;
  m->deleter = &delete_managed<DLManagedTensor>;
  fill_dltensor(m->dl_tensor, ctx);
  PyObject* cap = PyCapsule_New(m, "dltensor", [](PyObject* c) { capsule_destructor<DLManagedTensor>(c, "dltensor"); });
  if (!cap) { delete_managed(m); throw py::error_already_set(); }
  return py::reinterpret_steal<py::object>(cap);
}

// ---- DLPack import --------------------------------------------------------------------------

static DType dtype_from_dl(DLDataType d) {
  if (d.lanes == 1) {
    if (d.code == kDLFloat && d.bits == 32) return DType::Float32;
    if (d.code == kDLFloat && d.bits == 64) return DType::Float64;
    if (d.code == kDLInt && d.bits == 64) return DType::Int64;
    if (d.code == kDLInt && d.bits == 32) return DType::Int32;
    if (d.code == kDLBool && d.bits == 8) return DType::Bool;
  }
  throw TypeError(str_cat("from_dlpack: DLPack dtype (code ", (int)d.code, ", bits ", (int)d.bits, ", lanes ",
                          d.lanes, ") is not supported (supported: float32, float64, int64, int32, bool)"));
}

template <class Managed>
static Tensor tensor_from_dl(Managed* m, py::handle capsule, const char* used_name) {
  const DLTensor& dl = m->dl_tensor;
  EMBER_CHECK(dl.device.device_type == kDLCPU || dl.device.device_type == kDLCUDA, TypeError,
              "from_dlpack: DLPack device type ", dl.device.device_type, " is not supported (cpu and cuda are)");
  Tensor t;
  t.dtype = dtype_from_dl(dl.dtype);
  t.shape.assign(dl.shape, dl.shape + dl.ndim);
  t.strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : contiguous_strides(t.shape);
  Device device = dl.device.device_type == kDLCPU ? Device{} : Device{Device::CUDA, dl.device.device_id};
  int64_t isz = itemsize(t.dtype), lo, hi;
  extent(t.shape, t.strides, lo, hi);
  char* base = static_cast<char*>(dl.data) + dl.byte_offset + lo * isz;
  auto s = std::make_shared<Storage>();
  s->data = base;
  s->nbytes = (hi - lo + 1) * isz;
  s->device = device;
  s->release = [m](void*) {
    py::gil_scoped_acquire gil;  // producers' deleters may touch Python objects
    if (m->deleter) m->deleter(m);
  };
  t.storage = s;
  t.offset = -lo;
  PyCapsule_SetName(capsule.ptr(), used_name);
  return t;
}

static Tensor from_dlpack_capsule(py::capsule cap) {
  PyObject* c = cap.ptr();
  if (PyCapsule_IsValid(c, "dltensor_versioned")) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(c, "dltensor_versioned"));
    EMBER_CHECK(m->version.major == 1, TypeError, "from_dlpack: DLPack version ", m->version.major, ".",
                m->version.minor, " is not supported (1.x is)");
    return tensor_from_dl(m, cap, "used_dltensor_versioned");
  }
  if (PyCapsule_IsValid(c, "dltensor")) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(c, "dltensor"));
    return tensor_from_dl(m, cap, "used_dltensor");
  }
  PyErr_Clear();
  throw ValueError("from_dlpack: expected an unconsumed DLPack capsule ('dltensor' or 'dltensor_versioned')");
}

void bind_interop(py::module_& m) {
  m.def("from_numpy", &from_numpy, py::arg("array"), "Zero-copy view of a NumPy array.");
  m.def("to_dlpack", &to_dlpack, py::arg("tensor"), py::arg("versioned"));
  m.def("from_dlpack_capsule", &from_dlpack_capsule, py::arg("capsule"));
}

}  // namespace ember
