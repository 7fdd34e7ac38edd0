// Function.apply for ember's own differentiable ops, in C++ because it runs once per recorded op.
//
// python/ember/autograd.py holds the general Function.apply (user-defined Functions) and documents the
// protocol; this is its fast path for ember's own ops (`_builtin` Functions, whose forward calls `_C`
// only and returns a new tensor, so grad mode need not be switched off around it):
//   ctx = a new instance of cls;  ctx.needs_input_grad = (arg requires grad, ...)
//   out = cls.forward(ctx, *args)
//   when some tensor argument requires grad (and grad mode is on): ctx._edges = [its grad_fn, or the
//   leaf itself, or None per argument]; ctx._shape = out.shape; out._grad_fn = ctx;
//   out._requires_grad = True.
#include "bindings/bindings.h"

namespace py = pybind11;

namespace ember {

namespace {

// The Python class whose `enabled` attribute is the grad mode (autograd._Mode), set once at import.
PyObject* grad_mode_holder = nullptr;

struct Names {
  PyObject *enabled, *requires_grad, *grad_fn, *needs_input_grad, *edges, *node_shape, *shape, *forward;
  Names()
      : enabled(PyUnicode_InternFromString("enabled")),
        requires_grad(PyUnicode_InternFromString("_requires_grad")),
        grad_fn(PyUnicode_InternFromString("_grad_fn")),
        needs_input_grad(PyUnicode_InternFromString("needs_input_grad")),
        edges(PyUnicode_InternFromString("_edges")),
        node_shape(PyUnicode_InternFromString("_shape")),
        shape(PyUnicode_InternFromString("shape")),
        forward(PyUnicode_InternFromString("forward")) {}
};

const Names& names() {
  static const Names* n = new Names();  // never freed: used until interpreter shutdown
  return *n;
}

py::object steal_or_throw(PyObject* p) {
  if (!p) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(p);
}

void set_attr(PyObject* obj, PyObject* name, PyObject* value) {
  if (PyObject_SetAttr(obj, name, value) != 0) throw py::error_already_set();
}

py::object apply_builtin(py::handle cls, py::args args) {
  const Names& n = names();
  PyTypeObject* tensor_type = reinterpret_cast<PyTypeObject*>(py::type::of<Tensor>().ptr());
  const Py_ssize_t count = (Py_ssize_t)args.size();

  bool enabled = true;
  if (grad_mode_holder) {
    py::object mode = steal_or_throw(PyObject_GetAttr(grad_mode_holder, n.enabled));
    enabled = mode.ptr() == Py_True;
  }
  py::object edges;  // stays empty when nothing is recorded
  py::tuple needs(count);
  for (Py_ssize_t i = 0; i < count; ++i) {
    PyObject* a = PyTuple_GET_ITEM(args.ptr(), i);
    bool need = false;
    if (enabled && Py_TYPE(a) == tensor_type) {
      py::object rg = steal_or_throw(PyObject_GetAttr(a, n.requires_grad));
      need = rg.ptr() == Py_True;
    }
    if (need) {
      if (!edges) {
        edges = steal_or_throw(PyList_New(count));
        for (Py_ssize_t j = 0; j < count; ++j) {
          Py_INCREF(Py_None);
          PyList_SET_ITEM(edges.ptr(), j, Py_None);
        }
      }
      py::object fn = steal_or_throw(PyObject_GetAttr(a, n.grad_fn));
      PyObject* edge = fn.ptr() == Py_None ? a : fn.ptr();
      Py_INCREF(edge);
      PyList_SetItem(edges.ptr(), i, edge);  // steals the reference, drops the None
    }
    PyObject* flag = need ? Py_True : Py_False;
    Py_INCREF(flag);
    PyTuple_SET_ITEM(needs.ptr(), i, flag);
  }

  PyTypeObject* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  py::object ctx = steal_or_throw(type->tp_alloc(type, 0));
  set_attr(ctx.ptr(), n.needs_input_grad, needs.ptr());

  py::object forward = steal_or_throw(PyObject_GetAttr(cls.ptr(), n.forward));
  py::tuple call_args(count + 1);
  Py_INCREF(ctx.ptr());
  PyTuple_SET_ITEM(call_args.ptr(), 0, ctx.ptr());
  for (Py_ssize_t i = 0; i < count; ++i) {
    PyObject* a = PyTuple_GET_ITEM(args.ptr(), i);
    Py_INCREF(a);
    PyTuple_SET_ITEM(call_args.ptr(), i + 1, a);
  }
  py::object out = steal_or_throw(PyObject_Call(forward.ptr(), call_args.ptr(), nullptr));

  if (edges) {
    set_attr(ctx.ptr(), n.edges, edges.ptr());
    py::object shape = steal_or_throw(PyObject_GetAttr(out.ptr(), n.shape));
    set_attr(ctx.ptr(), n.node_shape, shape.ptr());
    set_attr(out.ptr(), n.grad_fn, ctx.ptr());
    set_attr(out.ptr(), n.requires_grad, Py_True);
  }
  return out;
}

}  // namespace

void bind_autograd(py::module_& m) {
  m.def("_set_grad_mode_holder", [](py::object holder) {
    Py_XDECREF(grad_mode_holder);
    grad_mode_holder = holder.release().ptr();
  }, "Tells the C++ fast path where the grad mode lives (autograd._Mode).");
  m.def("_apply_builtin", &apply_builtin,
        "Function.apply for ember's own ops: run forward, record the node when an input requires grad.");
}

}  // namespace ember
