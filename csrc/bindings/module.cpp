// The extension module ember._C: exception translation, then one registration call per family.
#include <pybind11/pybind11.h>

#include "bindings/bindings.h"
#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"

namespace py = pybind11;

PYBIND11_MODULE(_C, m) {
  m.doc() = "ember's compiled core: tensors and hand-written CPU / CUDA kernels";

  // ValueError, IndexError and RuntimeError come through pybind11's std:: translations (the
  // classes derive from std::invalid_argument, std::out_of_range, std::runtime_error).
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ember::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const ember::ZeroDivisionError& e) {
      PyErr_SetString(PyExc_ZeroDivisionError, e.what());
    } catch (const ember::MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });

  m.def("cpu_capability", [] { return ember::cpu_capability_name(ember::cpu_capability()); },
        "The SIMD path in use: 'default', 'avx2' or 'avx512' (EMBER_CPU_CAPABILITY clamps it).");
  m.def("cpu_best_capability", [] { return ember::cpu_capability_name(ember::cpu_best_capability()); },
        "The best SIMD path this CPU supports.");
  m.def("set_default_float_dtype", &ember::set_default_float_dtype);
  m.def("get_num_threads", &ember::get_num_threads);
  m.def("set_num_threads", [](int n) {
    if (n < 1) throw ember::ValueError(ember::str_cat("set_num_threads: expected a positive count, got ", n));
    ember::set_num_threads(n);
  });
  m.def("set_flush_denormal", &ember::set_flush_denormal, py::arg("mode"),
        "set_flush_denormal(mode) -> bool: as torch.set_flush_denormal, treats denormal floats as zero\n"
        "(inputs and results) on the calling thread and ember's worker threads when mode is True, and\n"
        "restores IEEE denormals when False. Arithmetic on denormals is many times slower; an optimizer\n"
        "state decaying into them (Adam's moments on a long run) slows every step. Returns False when the\n"
        "processor has no such mode (nothing changes).");

  ember::bind_tensor(m);
  ember::bind_factory(m);
  ember::bind_unary(m);
  ember::bind_activation_backward(m);
  ember::bind_binary(m);
  ember::bind_reduce(m);
  ember::bind_matmul(m);
  ember::bind_index(m);
  ember::bind_random(m);
  ember::bind_optim(m);
  ember::bind_loss(m);
  ember::bind_autograd(m);
  ember::bind_norm(m);
  ember::bind_pool(m);
  ember::bind_conv(m);
  ember::bind_rnn(m);
  ember::bind_cuda(m);
}
