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
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bindings/bindings.h"
#include "cpu/elementwise.h"

namespace py = pybind11;

namespace ember {

namespace {

// The Python class whose `enabled` attribute is the grad mode (autograd._Mode), set once at import.
PyObject* grad_mode_holder = nullptr;

struct Names {
  PyObject *enabled, *requires_grad, *grad_fn, *needs_input_grad, *edges, *node_shape, *shape, *forward, *builtin;
  Names()
      : enabled(PyUnicode_InternFromString("enabled")),
        requires_grad(PyUnicode_InternFromString("_requires_grad")),
        grad_fn(PyUnicode_InternFromString("_grad_fn")),
        needs_input_grad(PyUnicode_InternFromString("needs_input_grad")),
        edges(PyUnicode_InternFromString("_edges")),
        node_shape(PyUnicode_InternFromString("_shape")),
        shape(PyUnicode_InternFromString("shape")),
        forward(PyUnicode_InternFromString("forward")),
        builtin(PyUnicode_InternFromString("_builtin")) {}
};

const Names& names() {
  static const Names* n = new Names();  // never freed: used until interpreter shutdown
  return *n;
}

// The Python type of ember.Tensor, looked up once (pybind11's lookup hashes on every call; types
// live until interpreter shutdown).
PyTypeObject* tensor_type_object() {
  static PyTypeObject* type = reinterpret_cast<PyTypeObject*>(py::type::of<Tensor>().ptr());
  return type;
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
  PyTypeObject* tensor_type = tensor_type_object();
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

// ---- the backward pass ---------------------------------------------------------------------------
//
// The C++ form of autograd._run for the common case (loss.backward(): gradients accumulate into the
// leaves' .grad). autograd._run is the reference and also serves autograd.grad(). Nodes are processed
// in reverse topological order (a node runs once every edge pointing at it has delivered); gradients
// reaching one node or leaf from several edges are summed; a leaf takes its gradient without a copy
// when nothing else references it (its Python object and its storage are ours alone).
//
// A node whose class sets `_accumulates_weight` (the linear layers) may add its weight gradient
// straight into the weight's existing .grad: when input 1 is a leaf that this graph reaches by that
// one edge only and whose .grad is a contiguous CPU tensor of its dtype and shape, the pass hands that
// .grad to the node as `_weight_grad_into`; a node that used it returns that very tensor, which is
// then already accumulated (the GEMM added into it: no temporary, no second pass).

// Sets the grad mode for the pass and restores it on every exit path.
class GradModeOff {
 public:
  GradModeOff() {
    if (!grad_mode_holder) return;
    prev_ = steal_or_throw(PyObject_GetAttr(grad_mode_holder, names().enabled));
    set_attr(grad_mode_holder, names().enabled, Py_False);
  }
  ~GradModeOff() {
    if (prev_) PyObject_SetAttr(grad_mode_holder, names().enabled, prev_.ptr());
  }

 private:
  py::object prev_;
};

PyObject* intern(const char* s) { return PyUnicode_InternFromString(s); }

py::object add_grads(py::handle a, py::handle b) {
  return py::cast(binary(BinaryOp::Add, a.cast<const Tensor&>(), b.cast<const Tensor&>()));
}

py::object run_backward(py::list outputs, py::list grads, bool retain_graph, py::handle freed, py::handle helpers) {
  static PyObject *s_backward = intern("backward"), *s_retained = intern("_retained"), *s_saved = intern("_saved"),
                  *s_grad = intern("grad"),
                  *s_accumulates = intern("_accumulates_weight"), *s_into = intern("_weight_grad_into");
  const Names& n = names();
  PyTypeObject* tensor_type = tensor_type_object();
  // The helpers module (autograd) is the same on every call: its functions are looked up once.
  static const py::handle retain_hook = py::object(helpers.attr("_retain_hook")).release(),
                          bad_shape = py::object(helpers.attr("_bad_grad_shape")).release(),
                          accumulate = py::object(helpers.attr("_accumulate_grad")).release(),
                          not_recorded = py::object(helpers.attr("_not_recorded")).release();

  // One record per node and per leaf reached, found by one hash lookup each (the pass is per training
  // step: its bookkeeping is part of every step's cost).
  struct NodeState {
    py::object buffer;  // gradient so far
    py::object edges;   // fn._edges
    int deps = 0;       // edges still to deliver into the node
    bool seen = false;  // reached by the walk from the roots
  };
  struct LeafState {
    int uses = 0;        // edges (and outputs) reaching the leaf
    int index = -1;      // its entry in `leaves` once a gradient arrived
  };
  std::unordered_map<PyObject*, NodeState> node_state;
  std::unordered_map<PyObject*, LeafState> leaf_state;
  node_state.reserve(32);
  leaf_state.reserve(32);
  std::vector<std::pair<py::object, py::object>> leaves;  // (leaf tensor, gradient so far)
  auto to_leaf = [&](py::handle t, py::handle g) {
    LeafState& state = leaf_state[t.ptr()];
    if (state.index < 0) {
      state.index = (int)leaves.size();
      leaves.emplace_back(py::reinterpret_borrow<py::object>(t), py::reinterpret_borrow<py::object>(g));
    } else {
      leaves[state.index].second = add_grads(leaves[state.index].second, g);
    }
  };
  auto to_node = [&](NodeState& state, py::handle g) {
    if (!state.buffer)
      state.buffer = py::reinterpret_borrow<py::object>(g);
    else
      state.buffer = add_grads(state.buffer, g);
  };

  std::vector<py::object> nodes;  // every node reached, kept alive for the pass
  std::vector<PyObject*> stack;
  for (size_t i = 0; i < outputs.size(); ++i) {
    py::object fn = steal_or_throw(PyObject_GetAttr(outputs[i].ptr(), n.grad_fn));
    if (fn.is_none()) {
      ++leaf_state[outputs[i].ptr()].uses;
      to_leaf(outputs[i], grads[i]);
      continue;
    }
    NodeState& state = node_state[fn.ptr()];
    to_node(state, grads[i]);
    if (!state.seen) {
      state.seen = true;
      stack.push_back(fn.ptr());
      nodes.push_back(fn);
    }
  }
  // Dependency counts over the nodes reachable from the roots: edges still to deliver into each.
  std::vector<PyObject*> walk_order;
  while (!stack.empty()) {
    PyObject* fn = stack.back();
    stack.pop_back();
    walk_order.push_back(fn);
    py::object edges = steal_or_throw(PyObject_GetAttr(fn, n.edges));
    if (!PyList_Check(edges.ptr()) && !PyTuple_Check(edges.ptr())) not_recorded(py::handle(fn));
    const Py_ssize_t count = PySequence_Fast_GET_SIZE(edges.ptr());
    for (Py_ssize_t i = 0; i < count; ++i) {
      PyObject* e = PySequence_Fast_GET_ITEM(edges.ptr(), i);
      if (e == Py_None) continue;
      if (Py_TYPE(e) == tensor_type) {
        ++leaf_state[e].uses;
        continue;
      }
      NodeState& state = node_state[e];
      ++state.deps;
      if (!state.seen) {
        state.seen = true;
        nodes.push_back(py::reinterpret_borrow<py::object>(e));
        stack.push_back(e);
      }
    }
    node_state[fn].edges = std::move(edges);
  }

  std::vector<PyObject*> ready;
  for (PyObject* r : walk_order) {
    const NodeState& state = node_state[r];
    if (state.deps == 0 && state.buffer) ready.push_back(r);
  }
  {
    GradModeOff grad_off;
    while (!ready.empty()) {
      PyObject* fn = ready.back();
      ready.pop_back();
      NodeState& fn_state = node_state[fn];
      py::object g = std::move(fn_state.buffer);
      fn_state.buffer = py::object();
      py::object edges = fn_state.edges;
      const Py_ssize_t n_edges = PySequence_Fast_GET_SIZE(edges.ptr());
      py::object grads_in;
      py::object into;  // the weight's .grad the node may add into
      if (g) {
        py::object retained = steal_or_throw(PyObject_GetAttr(fn, s_retained));
        if (!retained.is_none()) retain_hook(py::handle(fn), g);
        py::object flag = steal_or_throw(PyObject_GetAttr(fn, s_accumulates));
        if (flag.ptr() == Py_True) {
          PyObject* w = n_edges >= 2 ? PySequence_Fast_GET_ITEM(edges.ptr(), 1) : Py_None;
          if (Py_TYPE(w) == tensor_type && leaf_state[w].uses == 1) {
            py::object current = steal_or_throw(PyObject_GetAttr(w, s_grad));
            if (Py_TYPE(current.ptr()) == tensor_type) {
              const Tensor& gt = current.cast<const Tensor&>();
              const Tensor& wt = py::handle(w).cast<const Tensor&>();
              if (gt.is_contiguous() && gt.dtype == wt.dtype && gt.shape == wt.shape && gt.device().is_cpu() &&
                  wt.device().is_cpu())
                into = std::move(current);
            }
          }
          // always set (None when not eligible), so no stale target survives from an earlier pass
          set_attr(fn, s_into, into ? into.ptr() : Py_None);
        }
        py::object backward = steal_or_throw(PyObject_GetAttr(fn, s_backward));
        grads_in = steal_or_throw(PyObject_CallFunctionObjArgs(backward.ptr(), fn, g.ptr(), nullptr));
        if (!PyTuple_Check(grads_in.ptr())) grads_in = py::make_tuple(grads_in);
        if (PyTuple_GET_SIZE(grads_in.ptr()) != n_edges) {
          const std::string msg = std::string(Py_TYPE(fn)->tp_name) + ".backward returned " +
                                  std::to_string(PyTuple_GET_SIZE(grads_in.ptr())) + " gradient(s); its forward took " +
                                  std::to_string(n_edges) + " argument(s)";
          PyErr_SetString(PyExc_RuntimeError, msg.c_str());
          throw py::error_already_set();
        }
        if (!retain_graph) set_attr(fn, s_saved, freed.ptr());
        g = py::object();
      }
      py::object builtin = steal_or_throw(PyObject_GetAttr(fn, n.builtin));
      const bool check = !PyObject_IsTrue(builtin.ptr());
      for (Py_ssize_t i = 0; i < n_edges; ++i) {
        PyObject* e = PySequence_Fast_GET_ITEM(edges.ptr(), i);
        if (e == Py_None) continue;
        PyObject* gi = grads_in ? PyTuple_GET_ITEM(grads_in.ptr(), i) : Py_None;
        const bool leaf = Py_TYPE(e) == tensor_type;
        if (gi != Py_None && check) {
          py::object want = steal_or_throw(PyObject_GetAttr(e, leaf ? n.shape : n.node_shape));
          py::object have = steal_or_throw(PyObject_GetAttr(gi, n.shape));
          if (!want.equal(have)) bad_shape(py::handle(fn), py::handle(gi), want);
        }
        if (leaf) {
          if (gi != Py_None && !(into && gi == into.ptr())) to_leaf(e, gi);  // else added in place already
          continue;
        }
        NodeState& state = node_state[e];
        if (gi != Py_None) to_node(state, gi);
        if (--state.deps == 0) ready.push_back(e);
      }
    }
  }

  for (auto& [t, g] : leaves) {
    py::object current = steal_or_throw(PyObject_GetAttr(t.ptr(), s_grad));
    const Tensor& gt = g.cast<const Tensor&>();
    const bool own = current.is_none() && Py_REFCNT(g.ptr()) == 1 && gt.storage.use_count() == 1 &&
                     gt.is_contiguous() && gt.dtype == t.cast<const Tensor&>().dtype;
    if (own)
      set_attr(t.ptr(), s_grad, g.ptr());  // nothing else sees this memory: no copy needed
    else
      accumulate(t, g, true);
  }
  return py::none();
}

// ---- saved tensors ------------------------------------------------------------------------------
//
// ctx.save_for_backward(*tensors) and ctx.saved_tensors, run once per recorded op and once per node
// of a backward pass: ctx._saved = tensors, ctx._versions = their storages' version counters (0 for
// None); saved_tensors returns _saved after checking that no saved tensor was written in place since
// (and that a backward pass has not freed them). autograd.Function documents the protocol.

PyObject* freed_marker = nullptr;  // autograd._FREED, set once at import

int64_t version_of(PyObject* t, PyTypeObject* tensor_type) {
  if (!PyObject_TypeCheck(t, tensor_type)) return 0;
  return py::handle(t).cast<const Tensor&>().storage->version;
}

void save_for_backward(py::handle ctx, py::args tensors) {
  static PyObject *s_saved = intern("_saved"), *s_versions = intern("_versions");
  PyTypeObject* tensor_type = tensor_type_object();
  const Py_ssize_t count = PyTuple_GET_SIZE(tensors.ptr());
  for (Py_ssize_t i = 0; i < count; ++i) {
    PyObject* t = PyTuple_GET_ITEM(tensors.ptr(), i);
    if (t == Py_None || PyObject_TypeCheck(t, tensor_type)) continue;
    // ember's own ops (`_builtin`) save their inputs before their kernel checks them; a wrong
    // argument is left to that check, whose message names the op's own contract.
    py::object builtin = py::reinterpret_steal<py::object>(PyObject_GetAttr((PyObject*)Py_TYPE(ctx.ptr()), names().builtin));
    if (!builtin) PyErr_Clear();
    if (builtin && PyObject_IsTrue(builtin.ptr()) == 1) continue;
    throw py::type_error(std::string(Py_TYPE(ctx.ptr())->tp_name) +
                         ".save_for_backward can only save tensors (or None), but argument " + std::to_string(i) +
                         " is of type " + Py_TYPE(t)->tp_name + "; keep other values as attributes of ctx");
  }
  py::tuple versions(count);
  for (Py_ssize_t i = 0; i < count; ++i)
    PyTuple_SET_ITEM(versions.ptr(), i, PyLong_FromLongLong(version_of(PyTuple_GET_ITEM(tensors.ptr(), i), tensor_type)));
  set_attr(ctx.ptr(), s_saved, tensors.ptr());
  set_attr(ctx.ptr(), s_versions, versions.ptr());
}

py::object saved_tensors(py::handle ctx) {
  static PyObject *s_saved = intern("_saved"), *s_versions = intern("_versions");
  PyTypeObject* tensor_type = tensor_type_object();
  py::object saved = steal_or_throw(PyObject_GetAttr(ctx.ptr(), s_saved));
  const std::string name = Py_TYPE(ctx.ptr())->tp_name;
  if (saved.ptr() == freed_marker) {
    PyErr_SetString(PyExc_RuntimeError,
                    (name + ": trying to backward through the graph a second time (or to use saved tensors after "
                            "they were freed); pass retain_graph=True to the first backward() if you need to "
                            "backward twice").c_str());
    throw py::error_already_set();
  }
  py::object versions = steal_or_throw(PyObject_GetAttr(ctx.ptr(), s_versions));
  if (!PyTuple_Check(saved.ptr()) || !PyTuple_Check(versions.ptr()) ||
      PyTuple_GET_SIZE(saved.ptr()) != PyTuple_GET_SIZE(versions.ptr()))
    throw py::type_error(name + ": _saved and _versions do not match; save tensors with ctx.save_for_backward()");
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(saved.ptr()); ++i) {
    PyObject* t = PyTuple_GET_ITEM(saved.ptr(), i);
    if (!PyObject_TypeCheck(t, tensor_type)) continue;
    const int64_t want = PyLong_AsLongLong(PyTuple_GET_ITEM(versions.ptr(), i));
    const Tensor& tensor = py::handle(t).cast<const Tensor&>();
    if (tensor.storage->version != want) {
      const std::string shape = py::str(py::handle(t).attr("shape"));
      PyErr_SetString(PyExc_RuntimeError,
                      (name + ": one of the tensors needed for gradient computation has been modified by an in-place "
                              "operation: a tensor of shape " + shape + " is at version " +
                       std::to_string(tensor.storage->version) + "; expected version " + std::to_string(want) +
                       ". Use an out-of-place operation (e.g. y = y * 2 instead of y.mul_(2)) or .clone() the "
                       "tensor before changing it").c_str());
      throw py::error_already_set();
    }
  }
  return saved;
}

}  // namespace

void bind_autograd(py::module_& m) {
  m.def("_set_freed_marker", [](py::object marker) {
    Py_XDECREF(freed_marker);
    freed_marker = marker.release().ptr();
  }, "Tells saved_tensors which object marks tensors released by a backward pass (autograd._FREED).");
  // Instance methods (bound like Python functions) and a property getter, for autograd.Function.
  m.attr("_save_for_backward") = py::reinterpret_steal<py::object>(
      PyInstanceMethod_New(py::cpp_function(&save_for_backward, py::name("save_for_backward"),
                                            "Keeps tensors for backward; an in-place change to any of them before "
                                            "backward raises.").ptr()));
  m.def("_saved_tensors", &saved_tensors, "ctx.saved_tensors: the saved tensors, checked against in-place writes.");
  m.def("_set_grad_mode_holder", [](py::object holder) {
    Py_XDECREF(grad_mode_holder);
    grad_mode_holder = holder.release().ptr();
  }, "Tells the C++ fast path where the grad mode lives (autograd._Mode).");
  m.def("_run_backward", &run_backward, py::arg("outputs"), py::arg("grads"), py::arg("retain_graph"),
        py::arg("freed"), py::arg("helpers"),
        "The backward pass of loss.backward() (autograd._run is the reference, and serves autograd.grad()).");
  m.def("_apply_builtin", &apply_builtin,
        "Function.apply for ember's own ops: run forward, record the node when an input requires grad.");
}

}  // namespace ember
